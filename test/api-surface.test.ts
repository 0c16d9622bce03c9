import { describe, it, expect } from 'vitest';
import { makeApp, expectError, type TestApp } from './helpers';
import { runJob } from './tracking-helpers';

/** Walks a list with ?limit=2 and its cursors; answers every item and the number of pages. */
async function walk(t: TestApp, path: string) {
  const items: any[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const r: { status: number; body: any } = await t.json('GET', `${path}${sep}limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['data', 'has_more', 'next_cursor']);
    expect(r.body.data.length).toBeLessThanOrEqual(2);
    items.push(...r.body.data);
    cursor = r.body.next_cursor;
    expect(r.body.has_more).toBe(cursor !== null);
    pages++;
  } while (cursor && pages < 50);
  return { items, pages };
}

describe('lists paginate', () => {
  it('stages, point rules, point triggers, point log, a contact’s segments and webhook deliveries', async () => {
    const t = await makeApp();
    const c = (await t.json('POST', '/api/v1/contacts', { email: 'p@example.com', tags: ['a'] })).body.id;
    for (let i = 0; i < 5; i++) {
      await t.json('POST', '/api/v1/point-rules', { name: `Rule ${i}`, event_type: 'page_view', delta: 1 });
      await t.json('POST', '/api/v1/point-triggers', { name: `T${i}`, threshold: 1000 + i, actions: [{ type: 'add_tags', tags: ['x'] }] });
      await t.json('POST', `/api/v1/contacts/${c}/points`, { op: 'add', value: i + 1, reason: `r${i}` });
      await t.json('POST', '/api/v1/segments', { name: `Seg ${String.fromCharCode(69 - i)}`, filter: { tag: 'a' } });
    }
    await t.json('POST', '/api/v1/stages', { name: 'Extra', position: 2 });
    // Webhook deliveries come from a trigger firing.
    await t.json('POST', '/api/v1/point-triggers', { name: 'Hook', threshold: 20, actions: [{ type: 'webhook', url: 'http://127.0.0.1:9/h' }] });
    await t.json('POST', `/api/v1/contacts/${c}/points`, { op: 'add', value: 10, reason: 'cross' });
    await runJob(t);

    const stages = await walk(t, '/api/v1/stages');
    expect(stages.items.map((s) => s.name)).toEqual(['Attract', 'Engage', 'Extra', 'Convert', 'Close', 'Delight']);
    expect(stages.pages).toBe(3);
    expect((await walk(t, '/api/v1/point-rules')).items.map((r) => r.name)).toEqual(['Rule 0', 'Rule 1', 'Rule 2', 'Rule 3', 'Rule 4']);
    expect((await walk(t, '/api/v1/point-triggers')).items).toHaveLength(6);
    const log = await walk(t, `/api/v1/contacts/${c}/points`);
    expect(log.items.map((x) => x.reason)).toEqual(['cross', 'r4', 'r3', 'r2', 'r1', 'r0']);
    const segs = await walk(t, `/api/v1/contacts/${c}/segments`);
    expect(segs.items.map((s) => s.name)).toEqual(['Seg A', 'Seg B', 'Seg C', 'Seg D', 'Seg E']);
    expect((await walk(t, '/api/v1/webhook-deliveries')).items).toHaveLength(1);
    expectError(await t.json('GET', '/api/v1/stages?cursor=bogus'), 400, 'BAD_REQUEST');
    expectError(await t.json('GET', '/api/v1/point-rules?limit=101'), 422, 'VALIDATION_FAILED');
  });
});

describe('unknown query parameters', () => {
  it('are refused with 400 naming them, as unknown body fields are', async () => {
    const t = await makeApp();
    const r = await t.json('GET', '/api/v1/contacts?tags=vip');
    expectError(r, 400, 'BAD_REQUEST');
    expect(r.body.error.details).toEqual([{ field: 'query.tags', message: 'unknown query parameter' }]);
    expect(r.body.error.message).toContain('tag');
    expectError(await t.json('GET', '/api/v1/stages?page=2'), 400, 'BAD_REQUEST');
    // Operations without query parameters take none.
    const c = (await t.json('POST', '/api/v1/contacts', { email: 'q@example.com' })).body.id;
    expectError(await t.json('GET', `/api/v1/contacts/${c}?expand=all`), 400, 'BAD_REQUEST');
    expectError(await t.json('DELETE', `/api/v1/contacts/${c}?force=1`), 400, 'BAD_REQUEST');
    expect((await t.json('GET', `/api/v1/contacts/${c}`)).status).toBe(200);
    // Known ones still work, also on the CSV export sharing the contacts path.
    expect((await t.json('GET', '/api/v1/contacts?tag=vip&limit=5')).status).toBe(200);
    expect((await t.call('GET', '/api/v1/contacts/export.csv?tag=vip')).status).toBe(200);
  });
});

describe('a wrong method', () => {
  it('answers 405 with Allow, in the error shape; an unknown path stays 404', async () => {
    const t = await makeApp();
    const r = await t.call('PUT', '/api/v1/contacts');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, HEAD, POST');
    const body = await r.json();
    expectError({ status: 405, body }, 405, 'METHOD_NOT_ALLOWED');
    expect((await t.call('POST', '/api/v1/contacts/1/segments')).headers.get('allow')).toBe('GET, HEAD');
    expect((await t.call('DELETE', '/t')).headers.get('allow')).toContain('POST');
    expectError(await t.json('GET', '/api/v1/nothing-here'), 404, 'NOT_FOUND');
  });
});

describe('jobs', () => {
  it('run on demand under /api/v1/jobs/{name}, documented, admin only', async () => {
    const t = await makeApp();
    const r = await t.json('POST', '/api/v1/jobs/reactions');
    expect(r.status).toBe(200);
    expect(r.body.job).toBe('reactions');
    expectError(await t.json('POST', '/api/v1/jobs/reactions', undefined, { key: t.keys.write }), 403, 'FORBIDDEN');
    expectError(await t.json('POST', '/api/v1/jobs/nope'), 422, 'VALIDATION_FAILED');
    const doc = (await t.json('GET', '/api/v1/openapi.json')).body;
    expect(doc.paths['/api/v1/jobs/{name}'].post.parameters[0].schema.enum).toEqual(['reactions', 'webhooks', 'campaigns', 'emails', 'segments', 'retention', 'reports-rebuild']);
  });
});

describe('Idempotency-Key', () => {
  const post = (t: TestApp, path: string, body: unknown, key: string, apiKey?: string) =>
    t.call('POST', path, body, { headers: { 'idempotency-key': key }, key: apiKey });

  it('two POST /contacts/{id}/points with one key add points once; the second answers the stored response', async () => {
    const t = await makeApp();
    const c = (await t.json('POST', '/api/v1/contacts', { email: 'i@example.com' })).body.id;
    const first = await post(t, `/api/v1/contacts/${c}/points`, { op: 'add', value: 10, reason: 'webinar' }, 'key-1');
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await post(t, `/api/v1/contacts/${c}/points`, { op: 'add', value: 10, reason: 'webinar' }, 'key-1');
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(await first.json());
    expect((await t.json('GET', `/api/v1/contacts/${c}`)).body.points).toBe(10);
    // Concurrent retries of one request: still once.
    const burst = await Promise.all(Array.from({ length: 5 }, () => post(t, `/api/v1/contacts/${c}/points`, { op: 'add', value: 1, reason: 'burst' }, 'key-2')));
    expect(burst.map((r) => r.status).sort()).toEqual(expect.arrayContaining([200]));
    for (const r of burst) expect([200, 409]).toContain(r.status);
    expect((await t.json('GET', `/api/v1/contacts/${c}`)).body.points).toBe(11);
    // Another key is another request.
    await post(t, `/api/v1/contacts/${c}/points`, { op: 'add', value: 10, reason: 'webinar' }, 'key-3');
    expect((await t.json('GET', `/api/v1/contacts/${c}`)).body.points).toBe(21);
  });

  it('the same key with another body is 409; keys are per API key; refused requests keep no result', async () => {
    const t = await makeApp();
    const created = await post(t, '/api/v1/contacts', { email: 'a@example.com' }, 'k');
    expect(created.status).toBe(201);
    const other = await post(t, '/api/v1/contacts', { email: 'b@example.com' }, 'k');
    expect(other.status).toBe(409);
    expect((await other.json()).error.code).toBe('IDEMPOTENCY_CONFLICT');
    // Another API key's "k" is its own.
    expect((await post(t, '/api/v1/contacts', { email: 'b@example.com' }, 'k', t.keys.write)).status).toBe(201);
    // A validation failure is not kept: fixing the body and retrying with the same key works.
    const bad = await post(t, '/api/v1/contacts', { email: 'not an email' }, 'k2');
    expect(bad.status).toBe(422);
    expect((await post(t, '/api/v1/contacts', { email: 'c@example.com' }, 'k2')).status).toBe(201);
    expect((await t.call('POST', '/api/v1/contacts', { email: 'd@example.com' }, { headers: { 'idempotency-key': 'bad key with spaces' } })).status).toBe(400);
    expect((await t.json('GET', '/api/v1/contacts')).body.data.map((c: any) => c.email).sort()).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
  });

  it('keys expire after 24 hours, and erasing a contact erases the responses that show it', async () => {
    let now = Date.UTC(2026, 5, 1);
    const t = await makeApp({ now: () => now });
    const r = await post(t, '/api/v1/contacts', { email: 'gone@example.com' }, 'erase-me');
    const id = (await r.json()).id;
    expect(await t.client.execute("SELECT count(*) AS n FROM idempotency_keys").then((x) => Number(x.rows[0]!.n))).toBe(1);
    expect((await t.json('DELETE', `/api/v1/contacts/${id}`)).status).toBe(200);
    const left = await t.client.execute('SELECT body FROM idempotency_keys');
    expect(left.rows.map((x) => String(x.body)).join()).not.toContain('gone@example.com');
    await post(t, '/api/v1/contacts', { email: 'kept@example.com' }, 'k-old');
    now += 25 * 3_600_000;
    const run = await t.json('POST', '/api/v1/jobs/retention');
    expect(run.body.result.idempotency_keys).toBe(1);
  });
});

describe('per-key rate limit', () => {
  it('tells every answer its RateLimit-* figures and answers 429 in the error shape above the limit', async () => {
    const t = await makeApp({ env: { API_RATE_LIMIT: '3' } });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await t.call('GET', '/api/v1/contacts', undefined, { key: t.keys.read });
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers.get('ratelimit-limit')).toBe('3');
        expect(last.headers.get('ratelimit-remaining')).toBe('2');
        expect(Number(last.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expectError({ status: 429, body: await last!.json() }, 429, 'RATE_LIMITED');
    // Each key has its own budget.
    expect((await t.call('GET', '/api/v1/contacts', undefined, { key: t.keys.write })).status).toBe(200);
  });
});
