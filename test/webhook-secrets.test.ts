import { describe, it, expect } from 'vitest';
import { makeApp, expectError, type TestApp } from './helpers';
import { routeContract } from './route-contract';

const HOOK = 'https://crm.example.com/hooks/leadline';
const OTHER = 'https://crm.example.com/hooks/other';

const webhooks = (trigger: any) => trigger.actions.filter((a: any) => a.type === 'webhook');
/** What is stored, which the API no longer shows after create. */
async function storedSecrets(t: TestApp, id: number): Promise<Record<string, string>> {
  const r = await t.client.execute({ sql: 'SELECT actions FROM point_triggers WHERE id = ?', args: [id] });
  return Object.fromEntries(JSON.parse(String(r.rows[0]!.actions)).filter((a: any) => a.type === 'webhook').map((a: any) => [a.url, a.secret]));
}

describe('webhook signing secrets are shown on create and rotate only', () => {
  it('create shows the secret; get and list do not, for any key', async () => {
    const t = await makeApp();
    const created = await t.json('POST', '/api/v1/point-triggers', { name: 'Hot', threshold: 10, actions: [{ type: 'add_tags', tags: ['hot'] }, { type: 'webhook', url: HOOK }] });
    expect(created.status).toBe(201);
    const secret = webhooks(created.body)[0].secret;
    expect(secret).toMatch(/^whsec_/);
    for (const key of [t.keys.read, t.keys.admin]) {
      const one = await t.json('GET', `/api/v1/point-triggers/${created.body.id}`, undefined, { key });
      expect(one.status).toBe(200);
      expect(webhooks(one.body)).toEqual([{ type: 'webhook', url: HOOK }]);
      const list = await t.call('GET', '/api/v1/point-triggers', undefined, { key });
      const text = await list.text();
      expect(text).toContain(HOOK);
      expect(text).not.toContain(secret);
      expect(text).not.toContain('whsec_');
    }
  });

  it('a PATCH that resubmits a webhook action without its secret keeps the stored one, and shows only secrets it minted', async () => {
    const t = await makeApp();
    const created = await t.json('POST', '/api/v1/point-triggers', { name: 'Hot', threshold: 10, actions: [{ type: 'webhook', url: HOOK }] });
    const id = created.body.id;
    const before = await storedSecrets(t, id);
    expect(before[HOOK]).toBe(webhooks(created.body)[0].secret);

    // Round trip: what GET shows, sent back with a change elsewhere.
    const shown = (await t.json('GET', `/api/v1/point-triggers/${id}`)).body;
    const renamed = await t.json('PATCH', `/api/v1/point-triggers/${id}`, { name: 'Hotter', actions: shown.actions });
    expect(renamed.status).toBe(200);
    expect(webhooks(renamed.body)).toEqual([{ type: 'webhook', url: HOOK }]);
    expect(await storedSecrets(t, id)).toEqual(before);

    // A new endpoint gets a new secret, shown in this response only; the kept one stays hidden.
    const added = await t.json('PATCH', `/api/v1/point-triggers/${id}`, { actions: [{ type: 'webhook', url: HOOK }, { type: 'webhook', url: OTHER }] });
    const [kept, minted] = webhooks(added.body);
    expect(kept).toEqual({ type: 'webhook', url: HOOK });
    expect(minted.secret).toMatch(/^whsec_/);
    expect(await storedSecrets(t, id)).toEqual({ [HOOK]: before[HOOK], [OTHER]: minted.secret });

    // Only active changed: nothing is shown, nothing is minted.
    const paused = await t.json('PATCH', `/api/v1/point-triggers/${id}`, { active: false });
    expect(JSON.stringify(paused.body)).not.toContain('whsec_');
    expect(await storedSecrets(t, id)).toEqual({ [HOOK]: before[HOOK], [OTHER]: minted.secret });

    // A secret the client chooses is taken as given.
    await t.json('PATCH', `/api/v1/point-triggers/${id}`, { actions: [{ type: 'webhook', url: HOOK, secret: 'my-own-secret-0123456789' }] });
    expect(await storedSecrets(t, id)).toEqual({ [HOOK]: 'my-own-secret-0123456789' });
  });

  it('rotate-secret needs write scope, answers the new secrets once, and re-signs deliveries still waiting', async () => {
    const t = await makeApp();
    const created = await t.json('POST', '/api/v1/point-triggers', { name: 'Hook', threshold: 1, actions: [{ type: 'webhook', url: HOOK }, { type: 'webhook', url: OTHER }] });
    const id = created.body.id;
    const old = await storedSecrets(t, id);
    const c = await t.json('POST', '/api/v1/contacts', { email: 'rotate@example.com' });
    await t.json('POST', `/api/v1/contacts/${c.body.id}/points`, { op: 'add', value: 5, reason: 'x' });
    await t.json('POST', '/internal/jobs/reactions');
    const pending = await t.client.execute({ sql: 'SELECT url, secret FROM webhook_deliveries ORDER BY id', args: [] });
    expect(pending.rows.map((r) => r.secret)).toEqual([old[HOOK], old[OTHER]]);

    expectError(await t.json('POST', `/api/v1/point-triggers/${id}/rotate-secret`, undefined, { key: t.keys.read }), 403, 'FORBIDDEN');
    const rotated = await t.json('POST', `/api/v1/point-triggers/${id}/rotate-secret`, undefined, { key: t.keys.write });
    expect(rotated.status).toBe(200);
    const fresh = Object.fromEntries(webhooks(rotated.body).map((a: any) => [a.url, a.secret]));
    expect(fresh[HOOK]).toMatch(/^whsec_/);
    expect(fresh[HOOK]).not.toBe(old[HOOK]);
    expect(fresh[OTHER]).not.toBe(old[OTHER]);
    expect(await storedSecrets(t, id)).toEqual(fresh);
    expect(JSON.stringify((await t.json('GET', `/api/v1/point-triggers/${id}`)).body)).not.toContain('whsec_');
    // Retries sign with the secret the receiver now knows.
    const after = await t.client.execute('SELECT url, secret FROM webhook_deliveries ORDER BY id');
    expect(after.rows.map((r) => r.secret)).toEqual([fresh[HOOK], fresh[OTHER]]);

    const plain = await t.json('POST', '/api/v1/point-triggers', { name: 'Tags', threshold: 1, actions: [{ type: 'add_tags', tags: ['x'] }] });
    expectError(await t.json('POST', `/api/v1/point-triggers/${plain.body.id}/rotate-secret`), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/point-triggers/9999/rotate-secret'), 404, 'NOT_FOUND');
    const doc = (await t.json('GET', '/api/v1/openapi.json')).body;
    expect(doc.paths['/api/v1/point-triggers/{id}/rotate-secret'].post).toBeDefined();
  });
});

describe('rotate-secret keeps the route contract', () => {
  routeContract([{ method: 'POST', path: '/api/v1/point-triggers/1/rotate-secret', idTemplate: '/api/v1/point-triggers/{id}/rotate-secret' }]);
});
