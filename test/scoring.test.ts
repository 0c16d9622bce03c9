import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createHmac } from 'node:crypto';
import { makeApp, expectError, type TestApp } from './helpers';
import { makeSite, track, vid, sign, runJob, count } from './tracking-helpers';
import { runWebhooks } from '../api/core/scoring/webhooks';

const pv = (path: string) => ({ t: 'pv', u: `https://shop.example.com${path}` });

async function contact(t: TestApp, email: string) {
  return (await t.json('POST', '/api/v1/contacts', { email })).body as { id: number };
}
async function points(t: TestApp, id: number) {
  return (await t.json('GET', `/api/v1/contacts/${id}`)).body.points as number;
}
async function identify(t: TestApp, site: { public_key: string; secret: string }, n: number, email: string, events: unknown[] = []) {
  return track(t, { k: site.public_key, v: vid(n), e: events, id: { email, sig: sign(site.secret, email) } });
}

describe('stages', () => {
  it('a new installation has the sales funnel, editable', async () => {
    const t = await makeApp();
    const list = await t.json('GET', '/api/v1/stages');
    expect(list.body.data.map((s: any) => [s.name, s.is_mql])).toEqual([
      ['Attract', false],
      ['Engage', false],
      ['Convert', true],
      ['Close', false],
      ['Delight', false],
    ]);
    const created = await t.json('POST', '/api/v1/stages', { name: 'Negotiation', position: 4 });
    expect(created.status).toBe(201);
    expectError(await t.json('POST', '/api/v1/stages', { name: 'Negotiation', position: 9 }), 409, 'CONFLICT');
    const renamed = await t.json('PATCH', `/api/v1/stages/${created.body.id}`, { name: 'Proposal' });
    expect(renamed.body).toMatchObject({ name: 'Proposal', position: 4, is_mql: false });
    expect((await t.json('DELETE', `/api/v1/stages/${created.body.id}`)).status).toBe(200);
    expectError(await t.json('GET', `/api/v1/stages/${created.body.id}`), 404, 'NOT_FOUND');
  });

  it('stage changes are events naming the actor', async () => {
    const t = await makeApp();
    const c = await contact(t, 'stage@example.com');
    const stages = (await t.json('GET', '/api/v1/stages')).body.data;
    const engage = stages.find((s: any) => s.name === 'Engage');
    expect((await t.json('PUT', `/api/v1/contacts/${c.id}/stage`, { stage_id: engage.id, by: 'Maria (SDR)' })).status).toBe(200);
    await t.json('PUT', `/api/v1/contacts/${c.id}/stage`, { stage_id: engage.id }); // no change, no event
    const events = (await t.json('GET', `/api/v1/contacts/${c.id}/events?type=stage_changed`)).body.data;
    expect(events).toHaveLength(1);
    expect(events[0].props).toMatchObject({ from: null, to: engage.id, to_name: 'Engage', actor: { type: 'person', name: 'Maria (SDR)' } });
    expectError(await t.json('PUT', `/api/v1/contacts/${c.id}/stage`, { stage_id: 999 }), 404, 'NOT_FOUND');
    expect((await t.json('GET', `/api/v1/stages/${engage.id}`)).body.contacts).toBe(1);
  });
});

describe('point rules', () => {
  it('scores matching events, logs each change with its reason and shows it on the timeline', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const rule = await t.json('POST', '/api/v1/point-rules', {
      name: 'Visited pricing',
      event_type: 'page_view',
      filter: { url: { op: 'contains', value: '/pricing' } },
      delta: 10,
    });
    expect(rule.status).toBe(201);
    await t.json('POST', '/api/v1/point-rules', { name: 'Signup started', event_type: 'custom', filter: { name: 'signup', prop: { key: 'plan', value: 'pro' } }, delta: 25 });
    await identify(t, site, 1, 'scored@example.com');
    await track(t, { k: site.public_key, v: vid(1), e: [pv('/pricing'), pv('/about'), pv('/pricing?x=1')] });
    await track(t, { k: site.public_key, v: vid(1), e: [{ t: 'ev', u: 'https://shop.example.com/', n: 'signup', p: { plan: 'free' } }, { t: 'ev', u: 'https://shop.example.com/', n: 'signup', p: { plan: 'pro' } }] });
    await runJob(t);
    const c = (await t.json('GET', '/api/v1/contacts')).body.data[0];
    expect(c.points).toBe(45);
    const log = (await t.json('GET', `/api/v1/contacts/${c.id}/points`)).body.data;
    expect(log.map((l: any) => [l.reason, l.delta]).sort()).toEqual([
      ['Signup started', 25],
      ['Visited pricing', 10],
      ['Visited pricing', 10],
    ]);
    const changes = (await t.json('GET', `/api/v1/contacts/${c.id}/events?type=points_changed`)).body.data;
    expect(changes.at(-1).props).toMatchObject({ from: 0 });
    expect(changes[0].props.to).toBe(45);
    // Replaying the log scores nothing twice.
    await t.client.execute('UPDATE reaction_cursors SET last_event_id = 0');
    await runJob(t);
    expect(await points(t, c.id)).toBe(45);
  });

  it('once-per-contact rules score once, and caps hold per period', async () => {
    let now = Date.UTC(2026, 10, 2, 9);
    const t = await makeApp({ now: () => now });
    const site = await makeSite(t);
    await t.json('POST', '/api/v1/point-rules', { name: 'First visit', event_type: 'page_view', delta: 5, repeatable: false });
    await t.json('POST', '/api/v1/point-rules', { name: 'Docs reader', event_type: 'page_view', filter: { url: { op: 'starts_with', value: 'https://shop.example.com/docs' } }, delta: 1, cap: { count: 2, period: 'day' } });
    await identify(t, site, 1, 'cap@example.com');
    for (let i = 0; i < 5; i++) await track(t, { k: site.public_key, v: vid(1), e: [pv(`/docs/${i}`)] });
    await runJob(t);
    const id = (await t.json('GET', '/api/v1/contacts')).body.data[0].id;
    expect(await points(t, id)).toBe(5 + 2);
    now += 86_400_000 + 1000; // next day: the cap window moved on
    await track(t, { k: site.public_key, v: vid(1), e: [pv('/docs/next-day')] });
    await runJob(t);
    expect(await points(t, id)).toBe(5 + 3);
  });

  it('points earned while anonymous move to the contact on identification', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    await t.json('POST', '/api/v1/point-rules', { name: 'Any page', event_type: 'page_view', delta: 3 });
    await t.json('POST', '/api/v1/point-rules', { name: 'Welcome', event_type: 'page_view', delta: 7, repeatable: false });
    await track(t, { k: site.public_key, v: vid(4), e: [pv('/a'), pv('/b')] });
    await runJob(t);
    expect(await count(t, 'SELECT points AS n FROM visitors')).toBe(3 + 3 + 7);
    expect(await count(t, 'SELECT count(*) AS n FROM contacts')).toBe(0);
    // The known contact already had the once-only welcome points: they are not doubled.
    const known = await contact(t, 'anon@example.com');
    await t.client.execute({ sql: "INSERT INTO point_log (contact_id, rule_id, once, delta, reason, created_at) VALUES (?, 2, 1, 7, 'Welcome', 0)", args: [known.id] });
    await t.json('POST', `/api/v1/contacts/${known.id}/points`, { op: 'add', value: 0 + 1, reason: 'sync' });
    expect(await points(t, known.id)).toBe(8);
    await identify(t, site, 4, 'anon@example.com');
    await runJob(t);
    expect(await points(t, known.id)).toBe(8 + 3 + 3);
    expect(await count(t, 'SELECT points AS n FROM visitors')).toBe(0);
  });

  it('manual adjustments add, subtract and set with a reason', async () => {
    const t = await makeApp();
    const c = await contact(t, 'manual@example.com');
    expect((await t.json('POST', `/api/v1/contacts/${c.id}/points`, { op: 'add', value: 30, reason: 'Webinar' })).body.points).toBe(30);
    expect((await t.json('POST', `/api/v1/contacts/${c.id}/points`, { op: 'subtract', value: 5, reason: 'Bounced' })).body.points).toBe(25);
    expect((await t.json('POST', `/api/v1/contacts/${c.id}/points`, { op: 'set', value: 100, reason: 'Imported score' })).body.points).toBe(100);
    const log = (await t.json('GET', `/api/v1/contacts/${c.id}/points`)).body.data.map((l: any) => [l.reason, l.delta]);
    expect(log).toEqual([
      ['Imported score', 75],
      ['Bounced', -5],
      ['Webinar', 30],
    ]);
    expectError(await t.json('POST', `/api/v1/contacts/${c.id}/points`, { op: 'multiply', value: 2, reason: 'x' }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', `/api/v1/contacts/${c.id}/points`, { op: 'add', value: 2 }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/contacts/9999/points', { op: 'add', value: 2, reason: 'x' }), 404, 'NOT_FOUND');
  });

  it('validates rules', async () => {
    const t = await makeApp();
    expectError(await t.json('POST', '/api/v1/point-rules', { name: 'x', event_type: 'page_view', delta: 0 }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/point-rules', { name: 'x', event_type: 'points_changed', delta: 1 }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/point-rules', { name: 'x', event_type: 'page_view', delta: 1, filter: { url: { op: 'regex', value: '(' } } }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/point-rules', { name: 'x', event_type: 'page_view', delta: 1, filter: { color: 'red' } }), 422, 'VALIDATION_FAILED');
    const r = await t.json('POST', '/api/v1/point-rules', { name: 'x', event_type: 'page_view', delta: 1 });
    expect((await t.json('PATCH', `/api/v1/point-rules/${r.body.id}`, { active: false })).body.active).toBe(false);
    expect((await t.json('DELETE', `/api/v1/point-rules/${r.body.id}`)).status).toBe(200);
    expectError(await t.json('GET', `/api/v1/point-rules/${r.body.id}`), 404, 'NOT_FOUND');
  });
});

describe('point triggers', () => {
  let server: Server;
  let url = '';
  const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  let failNext = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (failNext > 0) {
          failNext--;
          res.writeHead(503).end();
          return;
        }
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('fires once per contact when points cross the threshold upward, running every action', async () => {
    received.length = 0;
    const t = await makeApp();
    const stages = (await t.json('GET', '/api/v1/stages')).body.data;
    const convert = stages.find((s: any) => s.name === 'Convert');
    const seg = await t.json('POST', '/api/v1/segments', { name: 'Hot leads', kind: 'static' });
    const trig = await t.json('POST', '/api/v1/point-triggers', {
      name: 'Marketing qualified',
      threshold: 50,
      actions: [
        { type: 'change_stage', stage_id: convert.id },
        { type: 'add_tags', tags: ['MQL'] },
        { type: 'add_to_segment', segment_id: seg.body.id },
        { type: 'webhook', url },
      ],
    });
    expect(trig.status).toBe(201);
    const secret = trig.body.actions.find((a: any) => a.type === 'webhook').secret;
    expect(secret).toMatch(/^whsec_/);
    const c = await contact(t, 'hot@example.com');
    await t.json('POST', `/api/v1/contacts/${c.id}/points`, { op: 'add', value: 30, reason: 'a' });
    await runJob(t);
    expect((await t.json('GET', `/api/v1/contacts/${c.id}`)).body.tags).toEqual([]);
    await t.json('POST', `/api/v1/contacts/${c.id}/points`, { op: 'add', value: 30, reason: 'b' });
    await runJob(t);
    const hot = (await t.json('GET', `/api/v1/contacts/${c.id}`)).body;
    expect(hot.tags).toEqual(['mql']);
    expect((await t.json('GET', `/api/v1/contacts/${c.id}/segments`)).body.data.map((s: any) => s.name)).toEqual(['Hot leads']);
    const stageEvent = (await t.json('GET', `/api/v1/contacts/${c.id}/events?type=stage_changed`)).body.data[0];
    expect(stageEvent.props).toMatchObject({ to: convert.id, actor: { type: 'trigger', id: trig.body.id } });

    // Down and up again: still once.
    await t.json('POST', `/api/v1/contacts/${c.id}/points`, { op: 'set', value: 0, reason: 'reset' });
    await runJob(t);
    await t.json('POST', `/api/v1/contacts/${c.id}/points`, { op: 'set', value: 80, reason: 'again' });
    await runJob(t);
    expect((await t.json('GET', `/api/v1/point-triggers/${trig.body.id}`)).body.fired).toBe(1);

    // The webhook: signed, delivered once, logged.
    await runWebhooks(t.ctx);
    expect(received).toHaveLength(1);
    const { headers, body } = received[0]!;
    const sig = String(headers['leadline-signature']);
    const [, ts, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig)!;
    expect(v1).toBe(createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex'));
    const payload = JSON.parse(body);
    expect(payload).toMatchObject({ type: 'point_trigger.fired', data: { contact: { id: c.id, email: 'hot@example.com' }, about: { trigger: { id: trig.body.id, threshold: 50 } } } });
    await runWebhooks(t.ctx);
    expect(received).toHaveLength(1);
    const log = (await t.json('GET', `/api/v1/webhook-deliveries?source=trigger:${trig.body.id}`)).body.data;
    expect(log).toMatchObject([{ status: 'delivered', attempts: 1, last_status_code: 204 }]);
  });

  it('fires exactly once when events for one contact arrive concurrently', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    await t.json('POST', '/api/v1/point-rules', { name: 'Page', event_type: 'page_view', delta: 10 });
    const trig = await t.json('POST', '/api/v1/point-triggers', { name: 'Fifty', threshold: 50, actions: [{ type: 'add_tags', tags: ['fifty'] }] });
    await identify(t, site, 1, 'burst@example.com');
    await runJob(t);
    // Many hits at once, and several reaction runs racing each other.
    await Promise.all(Array.from({ length: 20 }, (_, i) => track(t, { k: site.public_key, v: vid(1), e: [pv(`/p${i}`)] })));
    await Promise.all([runJob(t), runJob(t), runJob(t)]);
    const c = (await t.json('GET', '/api/v1/contacts')).body.data[0];
    expect(c.points).toBe(200);
    expect(await count(t, 'SELECT count(*) AS n FROM trigger_fires WHERE trigger_id = ?', [trig.body.id])).toBe(1);
    expect(await count(t, "SELECT count(*) AS n FROM events WHERE type = 'points_changed'")).toBeGreaterThan(0);
  });

  it('retries failed deliveries with backoff and records each attempt', async () => {
    received.length = 0;
    let now = Date.UTC(2026, 10, 1);
    const t = await makeApp({ now: () => now });
    await t.json('POST', '/api/v1/point-triggers', { name: 'Hook', threshold: 1, actions: [{ type: 'webhook', url, secret: 'my-own-secret-0123456789' }] });
    const c = await contact(t, 'retry@example.com');
    await t.json('POST', `/api/v1/contacts/${c.id}/points`, { op: 'add', value: 5, reason: 'x' });
    await runJob(t);
    failNext = 2;
    await runWebhooks(t.ctx);
    let d = (await t.json('GET', '/api/v1/webhook-deliveries')).body.data[0];
    expect(d).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 503 });
    await runWebhooks(t.ctx); // not due yet
    expect((await t.json('GET', '/api/v1/webhook-deliveries')).body.data[0].attempts).toBe(1);
    now += 10_000;
    await runWebhooks(t.ctx);
    now += 60_000;
    await runWebhooks(t.ctx);
    d = (await t.json('GET', '/api/v1/webhook-deliveries')).body.data[0];
    expect(d).toMatchObject({ status: 'delivered', attempts: 3 });
    expect(received).toHaveLength(1);
    expectError(await t.json('POST', `/api/v1/webhook-deliveries/${d.id}/retry`), 404, 'NOT_FOUND');
  });

  it('validates actions', async () => {
    const t = await makeApp();
    for (const actions of [[], [{ type: 'launch_rocket' }], [{ type: 'webhook', url: 'ftp://x' }], [{ type: 'add_tags', tags: [] }], [{ type: 'change_stage' }]]) {
      expectError(await t.json('POST', '/api/v1/point-triggers', { name: 'x', threshold: 10, actions }), 422, 'VALIDATION_FAILED');
    }
  });
});

describe('sales feedback and the lead-scoring report', () => {
  it('reports accepted and won shares, won revenue and median days for contacts qualified in a period', async () => {
    let now = Date.UTC(2026, 0, 10);
    const t = await makeApp({ now: () => now });
    const convert = (await t.json('GET', '/api/v1/stages')).body.data.find((s: any) => s.is_mql);
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await contact(t, `lead${i}@example.com`);
      ids.push(c.id);
      await t.json('PUT', `/api/v1/contacts/${c.id}/stage`, { stage_id: convert.id });
    }
    now = Date.UTC(2026, 0, 12);
    await t.json('POST', `/api/v1/contacts/${ids[0]}/sales-feedback`, { outcome: 'accepted' });
    await t.json('POST', `/api/v1/contacts/${ids[1]}/sales-feedback`, { outcome: 'accepted' });
    await t.json('POST', `/api/v1/contacts/${ids[2]}/sales-feedback`, { outcome: 'rejected', reason: 'Student' });
    await t.json('POST', `/api/v1/contacts/${ids[3]}/sales-feedback`, { outcome: 'lost' });
    // Won deals, as rows (revenue is read from deals): 1,000 EUR won on Jan 20 at noon, 500 EUR on Jan 30 at noon.
    for (const [id, cents, at] of [[ids[0], 100_000, Date.UTC(2026, 0, 20, 12)], [ids[1], 50_000, Date.UTC(2026, 0, 30, 12)]] as const) {
      await t.client.execute({
        sql: "INSERT INTO deals (contact_id, name, amount_cents, currency, stage, closed_at, created_at, updated_at) VALUES (?, 'Deal', ?, 'EUR', 'won', ?, ?, ?)",
        args: [id, cents, at, at, at],
      });
    }
    await runJob(t);
    const r = await t.json('GET', '/api/v1/reports/lead-scoring?from=2026-01-01&to=2026-01-31');
    // One month, one band: all four qualified with 0 points.
    expect(r.body.rows).toHaveLength(1);
    expect(r.body.rows[0]).toMatchObject({ bucket: '2026-01-01T00:00:00.000Z', band: '0-24', qualified: 4, accepted: 2, rejected: 1, won: 2 });
    expect(r.body.totals).toMatchObject({ qualified: 4, accepted: 2, rejected: 1, won: 2, accepted_rate: 0.5, won_rate: 0.5, revenue: 1500, currency: 'EUR' });
    // Qualified Jan 10 00:00; won Jan 20 12:00 (10.5 days) and Jan 30 12:00 (20.5 days): the nearest-rank median of two is the lower.
    expect(r.body.totals.median_days_to_won).toBe(10.5);
    const empty = await t.json('GET', '/api/v1/reports/lead-scoring?from=2025-01-01&to=2025-01-31');
    expect(empty.body.rows).toEqual([]);
    expect(empty.body.totals).toMatchObject({ qualified: 0, accepted_rate: null, median_days_to_won: null });
    expect((await t.json('GET', `/api/v1/contacts/${ids[2]}/events?type=sales_rejected`)).body.data[0].props).toMatchObject({ reason: 'Student' });
    expect((await t.json('POST', `/api/v1/contacts/${ids[0]}/sales-feedback`, { outcome: 'won', value: 1000, currency: 'EUR', date: '2026-01-20' })).status).toBe(201);
    expectError(await t.json('POST', `/api/v1/contacts/${ids[0]}/sales-feedback`, { outcome: 'won', value: 1, currency: 'euro' }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', `/api/v1/contacts/${ids[0]}/sales-feedback`, { outcome: 'rejected' }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('GET', '/api/v1/reports/lead-scoring?from=nope&to=2026-01-01'), 422, 'VALIDATION_FAILED');
  });
});

describe('points and merge', () => {
  it('a merge keeps the point log and the score is its sum', async () => {
    const t = await makeApp();
    const a = await contact(t, 'ma@example.com');
    const b = await contact(t, 'mb@example.com');
    await t.json('POST', `/api/v1/contacts/${a.id}/points`, { op: 'add', value: 10, reason: 'a' });
    await t.json('POST', `/api/v1/contacts/${b.id}/points`, { op: 'add', value: 15, reason: 'b' });
    const merged = await t.json('POST', `/api/v1/contacts/${a.id}/merge`, { contact_id: b.id });
    expect(merged.status).toBe(200);
    // The merge emits an event; the points reaction sums the moved log.
    await runJob(t);
    expect((await t.json('GET', `/api/v1/contacts/${a.id}`)).body.points).toBe(25);
    const last = await t.client.execute({ sql: "SELECT props FROM events WHERE type = 'points_changed' AND contact_id = ? ORDER BY id DESC LIMIT 1", args: [a.id] });
    expect(JSON.parse(String(last.rows[0]!.props))).toMatchObject({ from: 10, to: 25, reason: 'merge' });
    expect((await t.json('GET', `/api/v1/contacts/${a.id}/points`)).body.data).toHaveLength(2);
  });
});
