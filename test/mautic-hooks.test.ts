// Mautic's webhooks (/api/hooks) over Leadline's webhook subscriptions, driven over real HTTP on
// 127.0.0.1 by the npm library node-mautic (unmodified) and by requests shaped exactly as n8n's
// Mautic Trigger node sends them (MauticTrigger.node.ts: getEvents, checkExists, create, delete).
// A hook made that way is a subscription to the mapped event types, and a real event reaches a
// receiver on 127.0.0.1, signed per Standard Webhooks with the secret the create answered.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import MauticConnector from 'node-mautic';
import { makeApp, type TestApp } from './helpers';
import { expectMauticError, mautic } from './mautic-helpers';
import { settle, startReceiver, verifies, type Receiver } from './webhooks-helpers';
import { addUser, firstAdmin } from './auth-helpers';
import { can, resourceOf } from '../api/core/access/permissions';

let t: TestApp;
let base: string;
let server: ReturnType<typeof serve>;
let rx: Receiver;

beforeAll(async () => {
  t = await makeApp();
  rx = await startReceiver();
  server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1', createServer });
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await rx.close();
  await new Promise<void>((r) => server.close(() => r()));
});
beforeEach(() => rx.clear());

const v1 = (id: number) => t.json('GET', `/api/v1/webhooks/${id}`);
const subscriptionCount = async () => Number((await t.client.execute('SELECT count(*) AS n FROM webhook_subscriptions')).rows[0]!.n);

/** n8n's mauticApiRequest: Basic auth, JSON body ({} by default, on every method), rejects on >= 400 or an `errors` key. */
function n8n(method: string, endpoint: string, body: unknown = {}): Promise<any> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}/api${endpoint}`,
      {
        method,
        headers: {
          authorization: `Basic ${Buffer.from(`n8n-user:${t.keys.admin}`).toString('base64')}`,
          accept: 'application/json',
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          const parsed = JSON.parse(text);
          if ((res.statusCode ?? 500) >= 400 || parsed.errors) reject(Object.assign(new Error(`${res.statusCode} ${text}`), { status: res.statusCode, body: parsed }));
          else resolve(parsed);
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('n8n’s Mautic Trigger node', () => {
  it('lists the events, creates its hook, finds it, gets real events delivered and signed, and deletes it', async () => {
    // getEvents: Object.entries(triggers) → { name: label, value: key, description }.
    const { triggers } = await n8n('GET', '/hooks/triggers');
    const options = Object.entries(triggers).map(([value, v]: [string, any]) => ({ name: v.label, value, description: v.description }));
    expect(options.map((o) => o.value)).toEqual(
      expect.arrayContaining(['mautic.lead_post_save_new', 'mautic.lead_post_save_update', 'mautic.lead_points_change', 'mautic.lead_post_delete', 'mautic.form_on_submit', 'mautic.email_on_open']),
    );
    expect(options.map((o) => o.value)).not.toContain('mautic.page_on_hit');
    expect(options.find((o) => o.value === 'mautic.lead_post_save_new')).toMatchObject({ name: 'Contact Identified Event', description: expect.stringContaining('contact.created') });

    // create: exactly the node's body.
    const webhookUrl = rx.url('/webhook/6f1c1f9e-58c5-4b5a-a1b8-0c5a2f0e9d11/webhook');
    const { hook } = await n8n('POST', '/hooks/new', {
      name: `n8n-webhook:${new URL(webhookUrl).pathname}`,
      description: 'n8n webhook',
      webhookUrl,
      triggers: ['mautic.lead_post_save_new', 'mautic.lead_points_change'],
      eventsOrderbyDir: 'ASC',
      isPublished: true,
    });
    expect(hook).toMatchObject({ name: 'n8n-webhook:/webhook/6f1c1f9e-58c5-4b5a-a1b8-0c5a2f0e9d11/webhook', webhookUrl, isPublished: true, eventsOrderbyDir: 'ASC' });
    expect(hook.triggers).toEqual(['mautic.lead_post_save_new', 'mautic.lead_points_change']);
    expect(hook.secret).toMatch(/^whsec_/);
    // The subscription behind it, as Leadline's own API shows it.
    expect((await v1(hook.id)).body).toMatchObject({ url: webhookUrl, event_types: ['contact.created', 'points.changed'], status: 'active', description: hook.name });

    // checkExists: GET /hooks/{id} with the body {}.
    expect((await n8n('GET', `/hooks/${hook.id}`)).hook).toMatchObject({ id: hook.id, secret: null, triggers: hook.triggers });

    // A real event through the Mautic API, delivered to the receiver and verifiable with the secret.
    const { contact } = await n8n('POST', '/contacts/new', { email: 'hooked@example.com', firstname: 'Hook' });
    await n8n('POST', `/contacts/${contact.id}/points/plus/5`);
    await settle(t);
    const got = rx.got.filter((r) => r.path.startsWith('/webhook/'));
    expect(got.map((r) => r.json.type)).toEqual(['contact.created', 'points.changed']);
    expect(got[0]!.json.data.contact).toMatchObject({ id: contact.id, email: 'hooked@example.com', first_name: 'Hook' });
    expect(got[1]!.json.data.points).toMatchObject({ from: 0, to: 5, delta: 5 });
    for (const r of got) expect(verifies(hook.secret, r)).toBe(true);

    // delete: DELETE /hooks/{id}/delete; then checkExists fails and nothing more is sent.
    expect((await n8n('DELETE', `/hooks/${hook.id}/delete`)).hook).toMatchObject({ id: null, webhookUrl });
    await expect(n8n('GET', `/hooks/${hook.id}`)).rejects.toMatchObject({ status: 404, body: { errors: [{ code: 404 }] } });
    expect((await v1(hook.id)).status).toBe(404);
    rx.clear();
    await n8n('POST', `/contacts/${contact.id}/points/plus/1`);
    await settle(t);
    expect(rx.got).toEqual([]);
  });
});

describe('node-mautic (npm), unmodified', () => {
  const connector = () => new MauticConnector({ apiUrl: base, username: 'someone', password: t.keys.admin, timeoutInSeconds: 10 });

  it('creates, lists, gets, edits (PATCH adds triggers, PUT replaces) and deletes hooks', async () => {
    const m = connector();
    expect(Object.keys((await m.webhooks.listAvailableWebhookTriggers()).triggers)).toContain('mautic.lead_list_change');
    const { hook } = await m.webhooks.createWebhook({ name: 'From the library', webhookUrl: rx.url('/lib'), triggers: ['mautic.lead_post_save_update'], isPublished: false });
    expect(hook).toMatchObject({ name: 'From the library', isPublished: false, triggers: ['mautic.lead_post_save_update', 'mautic.lead_company_change'] });
    expect((await v1(hook.id)).body).toMatchObject({ event_types: ['contact.updated'], status: 'disabled', disabled_reason: 'manual' });

    const listed = await m.webhooks.listWebhooks({ limit: 10 });
    expect(listed.total).toBe(await subscriptionCount());
    expect(listed.hooks.map((h: { id: number }) => h.id)).toContain(hook.id);
    expect((await m.webhooks.listWebhooks({ published: 1 })).hooks.map((h: { id: number }) => h.id)).not.toContain(hook.id);
    expect((await m.webhooks.getWebhook(hook.id)).hook.webhookUrl).toBe(rx.url('/lib'));

    const patched = (await m.webhooks.editWebhook('PATCH', { triggers: ['mautic.lead_list_change'], isPublished: true }, hook.id)).hook;
    expect(patched).toMatchObject({ name: 'From the library', isPublished: true });
    expect((await v1(hook.id)).body).toMatchObject({ event_types: ['contact.updated', 'segment.joined', 'segment.left'], status: 'active', disabled_reason: null });

    const put = (await m.webhooks.editWebhook('PUT', { name: 'Forms only', webhookUrl: rx.url('/forms'), triggers: ['mautic.form_on_submit'] }, hook.id)).hook;
    expect(put).toMatchObject({ id: hook.id, name: 'Forms only', triggers: ['mautic.form_on_submit'], webhookUrl: rx.url('/forms') });
    expect((await v1(hook.id)).body.event_types).toEqual(['form.submitted']);

    expect((await m.webhooks.deleteWebhook(hook.id)).hook.id).toBeNull();
    await expect(m.webhooks.getWebhook(hook.id)).rejects.toThrow(/404: .*not found/);
  });
});

describe('hooks and Leadline’s subscriptions', () => {
  it('a subscription made in Leadline reads with the triggers it serves; a PATCH keeps its filters, a PUT on an unknown id makes a new hook', async () => {
    const form = (await t.json('POST', '/api/v1/forms', { name: 'Hook form', fields: [{ key: 'email', label: 'Email', type: 'email' }] })).body;
    const sub = (await t.json('POST', '/api/v1/webhooks', { url: rx.url('/v1'), event_types: ['form.submitted', 'deal.won'], filters: { form_id: form.id } })).body;
    const hook = (await mautic(t, 'GET', `/api/hooks/${sub.id}`)).body.hook;
    expect(hook).toMatchObject({ id: sub.id, name: rx.url('/v1'), triggers: ['mautic.form_on_submit'], secret: null });
    expect((await mautic(t, 'PATCH', `/api/hooks/${sub.id}/edit`, { name: 'Renamed' })).body.hook.name).toBe('Renamed');
    expect((await v1(sub.id)).body).toMatchObject({ description: 'Renamed', event_types: ['form.submitted', 'deal.won'], filters: { form_id: form.id } });

    const made = await mautic(t, 'PUT', '/api/hooks/987654/edit', { name: 'Put-made', webhookUrl: rx.url('/put'), triggers: ['mautic.email_on_send'] });
    expect(made.status).toBe(201);
    expect(made.body.hook).toMatchObject({ name: 'Put-made', triggers: ['mautic.email_on_send'], secret: expect.stringMatching(/^whsec_/) });
    expect(made.body.hook.id).not.toBe(987654);
    for (const id of [sub.id, made.body.hook.id]) expect((await mautic(t, 'DELETE', `/api/hooks/${id}/delete`)).status).toBe(200);
  });
});

describe('refusals, in Mautic’s error shape, with nothing written', () => {
  it('refuses unknown and unsupported triggers and hostile input with a 4xx', async () => {
    const before = await subscriptionCount();
    const ok = { name: 'Bad', webhookUrl: rx.url('/bad'), triggers: ['mautic.lead_post_save_new'] };
    const unknown = await mautic(t, 'POST', '/api/hooks/new', { ...ok, triggers: ['mautic.lead_post_save_new', 'mautic.made_up'] });
    expectMauticError(unknown, 422, /unknown trigger "mautic\.made_up"/);
    expect(unknown.body.errors[0].details).toEqual({ triggers: [expect.stringContaining('/api/hooks/triggers')] });
    expectMauticError(await mautic(t, 'POST', '/api/hooks/new', { ...ok, triggers: ['mautic.page_on_hit'] }), 422, /page_on_hit is not supported/);
    const cases: [unknown, RegExp][] = [
      [{ ...ok, triggers: [] }, /triggers/],
      [{ ...ok, triggers: 'mautic.lead_post_save_new' }, /triggers/],
      [{ ...ok, triggers: [{ $ne: 1 }] }, /triggers/],
      [{ ...ok, triggers: Array.from({ length: 51 }, () => 'mautic.lead_post_save_new') }, /triggers/],
      [{ ...ok, name: undefined }, /name/],
      [{ ...ok, name: 'n'.repeat(201) }, /name/],
      [{ ...ok, name: { html: '<b>' } }, /name/],
      [{ ...ok, webhookUrl: undefined }, /webhookUrl/],
      [{ ...ok, webhookUrl: 'not a url' }, /webhookUrl/],
      [{ ...ok, webhookUrl: 'ftp://example.com/x' }, /webhookUrl/],
      [{ ...ok, webhookUrl: 'http://10.0.0.7/hook' }, /webhookUrl.*private/],
      [{ ...ok, webhookUrl: 'http://169.254.169.254/latest/meta-data' }, /webhookUrl/],
      [{ ...ok, webhookUrl: `https://example.com/${'x'.repeat(2100)}` }, /webhookUrl/],
      [{ ...ok, eventsOrderbyDir: 'sideways' }, /eventsOrderbyDir/],
      [{ ...ok, isPublished: 'maybe' }, /isPublished/],
    ];
    for (const [body, message] of cases) expectMauticError(await mautic(t, 'POST', '/api/hooks/new', body), 422, message);
    const json = { 'content-type': 'application/json' };
    expectMauticError(await mautic(t, 'POST', '/api/hooks/new', undefined, { raw: '{"name":"x",', headers: json }), 400);
    expectMauticError(await mautic(t, 'POST', '/api/hooks/new', undefined, { raw: '{"name":"x","__proto__":{"admin":true}}', headers: json }), 422, /__proto__/);
    expectMauticError(await mautic(t, 'POST', '/api/hooks/new', [ok]), 400, /object/);
    expectMauticError(await mautic(t, 'GET', '/api/hooks?limit=500'), 400);
    expectMauticError(await mautic(t, 'GET', '/api/hooks?search=x'), 400, /search/);
    for (const path of ['/api/hooks/abc', '/api/hooks/0', '/api/hooks/99999999999999999999', '/api/hooks/424242']) expectMauticError(await mautic(t, 'GET', path), 404);
    expectMauticError(await mautic(t, 'PATCH', '/api/hooks/424242/edit', { name: 'x' }), 404);
    expectMauticError(await mautic(t, 'DELETE', '/api/hooks/424242/delete'), 404);
    expectMauticError(await mautic(t, 'DELETE', '/api/hooks/triggers'), 405);
    expect(await subscriptionCount()).toBe(before);

    // On an existing hook: a bad edit changes nothing.
    const hook = (await mautic(t, 'POST', '/api/hooks/new', ok)).body.hook;
    expectMauticError(await mautic(t, 'PATCH', `/api/hooks/${hook.id}/edit`, { name: '' }), 422, /name/);
    expectMauticError(await mautic(t, 'PATCH', `/api/hooks/${hook.id}/edit`, { webhookUrl: 'http://192.168.1.1/' }), 422, /webhookUrl/);
    expectMauticError(await mautic(t, 'PATCH', `/api/hooks/${hook.id}/edit`, { triggers: ['mautic.sms_on_send'] }), 422, /sms_on_send/);
    expectMauticError(await mautic(t, 'PUT', `/api/hooks/${hook.id}/edit`, { name: 'No triggers', webhookUrl: rx.url('/x') }), 422, /triggers/);
    expect((await v1(hook.id)).body).toMatchObject({ description: 'Bad', url: rx.url('/bad'), event_types: ['contact.created'] });
    await mautic(t, 'DELETE', `/api/hooks/${hook.id}/delete`);
  });

  it('needs a key or a role that may change webhooks, as /api/v1/webhooks', async () => {
    expect(resourceOf('/api/hooks/new').label).toBe(resourceOf('/api/v1/webhooks').label);
    expect(resourceOf('/api/hooks/1/edit').listed).toBe(true);
    expect((await mautic(t, 'GET', '/api/hooks/triggers', undefined, { key: t.keys.read })).status).toBe(200);
    expectMauticError(await mautic(t, 'POST', '/api/hooks/new', { name: 'r', webhookUrl: rx.url(), triggers: ['mautic.form_on_submit'] }, { key: t.keys.read }), 403);
    expectMauticError(await mautic(t, 'GET', '/api/hooks', undefined, { key: null }), 401);
    expect(can('sales', 'POST', '/api/hooks/new').allowed).toBe(false);
    expect(can('marketer', 'DELETE', '/api/hooks/1/delete').allowed).toBe(true);

    const s = await makeApp();
    await firstAdmin(s);
    const sales = await addUser(s, 'sales', 'sam@example.com');
    const refused = await mautic(s, 'POST', '/api/hooks/new', { name: 's', webhookUrl: rx.url(), triggers: ['mautic.form_on_submit'] }, {
      key: null,
      headers: { cookie: sales.cookie, origin: 'http://localhost', 'x-csrf-token': sales.csrf },
    });
    expectMauticError(refused, 403, /sales.*webhooks/);
  });
});
