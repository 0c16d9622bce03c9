// The webhook sender: Standard Webhooks signatures checked by the specification, retries with
// exponential backoff against a receiver that fails and then recovers, the subscription disabled
// after 24 hours of failures (the context's clock moves time), order per contact, idempotency
// when the reaction runs again, concurrent senders, replay, the test ping, secret rotation with
// an overlap, and the point-trigger webhook on the same machinery.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeApp, expectError, type TestApp } from './helpers';
import { count } from './tracking-helpers';
import { deliveries, settle, startReceiver, subscribe, verifies, type Receiver } from './webhooks-helpers';
import { kickWebhooks, RETRY_WINDOW_MS, runWebhooks } from '../api/core/webhooks/deliver';
import { runReactions } from '../api/core/spine/run';

let rx: Receiver;
beforeAll(async () => (rx = await startReceiver()));
afterAll(() => rx.close());
beforeEach(() => rx.clear());

const T0 = Date.UTC(2026, 10, 2, 9);
async function clocked() {
  const clock = { now: T0 };
  const t = await makeApp({ now: () => clock.now });
  return { t, clock };
}
async function contact(t: TestApp, email: string): Promise<number> {
  return (await t.json('POST', '/api/v1/contacts', { email })).body.id;
}
const addPoints = (t: TestApp, id: number, value: number) => t.json('POST', `/api/v1/contacts/${id}/points`, { op: 'add', value, reason: `+${value}` });
const pointsTo = (rs: { json: any }[]) => rs.map((r) => r.json.data.points.to);

describe('signing and retrying', () => {
  it('signs per Standard Webhooks and retries a failing receiver with exponential backoff until it answers 2xx', async () => {
    const { t, clock } = await clocked();
    const sub = await subscribe(t, { url: rx.url(), event_types: ['points.changed'] });
    const id = await contact(t, 'retry@example.com');
    rx.answer([503, 500]);
    await addPoints(t, id, 5);
    await settle(t);
    let [d] = await deliveries(t, 'subscription_id = ?', [sub.id]);
    expect(d).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 503, next_attempt_at: T0 + 10_000 });
    const log = (await t.json('GET', `/api/v1/webhooks/${sub.id}/deliveries`, undefined, { key: t.keys.read })).body.data[0];
    expect(log.last_attempt).toMatchObject({ response_status: 503, response_excerpt: 'refused by the receiver for retry@example.com', request_headers: { 'webhook-id': `msg_${d!.id}` } });
    expect((await t.json('GET', `/api/v1/webhooks/${sub.id}`)).body).toMatchObject({ status: 'active', last_error: 'HTTP 503: refused by the receiver for retry@example.com' });
    await kickWebhooks(t.ctx); // not due yet
    expect(rx.got).toHaveLength(1);
    clock.now += 10_000;
    await kickWebhooks(t.ctx);
    [d] = await deliveries(t, 'subscription_id = ?', [sub.id]);
    expect(d).toMatchObject({ status: 'pending', attempts: 2, next_attempt_at: clock.now + 20_000 });
    clock.now += 20_000;
    await kickWebhooks(t.ctx);
    [d] = await deliveries(t, 'subscription_id = ?', [sub.id]);
    expect(d).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 204, last_error: null });
    // Three attempts of one message: the same id and body, each signed at its own time.
    expect(rx.got).toHaveLength(3);
    expect(new Set(rx.got.map((r) => r.headers['webhook-id']))).toEqual(new Set([`msg_${d!.id}`]));
    expect(new Set(rx.got.map((r) => r.body)).size).toBe(1);
    expect(rx.got.map((r) => Number(r.headers['webhook-timestamp']))).toEqual([T0 / 1000, T0 / 1000 + 10, T0 / 1000 + 30]);
    for (const r of rx.got) expect(verifies(sub.secret, r)).toBe(true);
    // A changed body or another secret does not verify.
    expect(verifies(sub.secret, { ...rx.got[2]!, body: rx.got[2]!.body.replace('retry@', 'other@') })).toBe(false);
    expect(verifies('whsec_' + Buffer.from('another secret of 24 byte').toString('base64'), rx.got[2]!)).toBe(false);
    expect(rx.got[0]!.headers['content-type']).toBe('application/json');
  });

  it('after 24 hours of failures the delivery fails and the subscription is disabled, visibly; what waits behind it resumes on re-enabling', async () => {
    const { t, clock } = await clocked();
    const sub = await subscribe(t, { url: rx.url('/down'), event_types: ['points.changed'] });
    rx.answer((r) => (r.path === '/down' ? 500 : 204));
    const id = await contact(t, 'down@example.com');
    await addPoints(t, id, 1);
    await addPoints(t, id, 2);
    await settle(t);
    const [first, second] = await deliveries(t, 'subscription_id = ?', [sub.id]);
    const waits: number[] = [];
    for (let i = 0; i < 40; i++) {
      const [d] = await deliveries(t, 'id = ?', [first!.id]);
      if (d!.status !== 'pending') break;
      waits.push(Number(d!.next_attempt_at) - clock.now);
      clock.now = Number(d!.next_attempt_at);
      await kickWebhooks(t.ctx);
    }
    const [failed] = await deliveries(t, 'id = ?', [first!.id]);
    expect(failed).toMatchObject({ status: 'failed', last_status_code: 500 });
    expect(Number(failed!.last_attempt_at) - Number(failed!.first_attempt_at)).toBeLessThanOrEqual(RETRY_WINDOW_MS);
    expect(Number(failed!.last_attempt_at) - Number(failed!.first_attempt_at)).toBeGreaterThan(RETRY_WINDOW_MS - 5 * 3_600_000);
    // Exponential: each wait doubles, up to the cap.
    expect(waits.slice(0, 5)).toEqual([10_000, 20_000, 40_000, 80_000, 160_000]);
    expect(Math.max(...waits)).toBe(4 * 3_600_000);
    expect(rx.got.every((r) => r.headers['webhook-id'] === `msg_${first!.id}`)).toBe(true);
    const shown = (await t.json('GET', `/api/v1/webhooks/${sub.id}`)).body;
    expect(shown).toMatchObject({ status: 'disabled', disabled_reason: 'failures', last_error: 'HTTP 500: refused by the receiver for down@example.com' });
    expect(shown.disabled_at).toBe(new Date(clock.now).toISOString());
    // The later delivery waited, and waits; a disabled subscription queues nothing new, replays are refused.
    expect((await deliveries(t, 'id = ?', [second!.id]))[0]).toMatchObject({ status: 'pending', attempts: 0 });
    await addPoints(t, id, 3);
    await settle(t);
    expect(await count(t, 'SELECT count(*) AS n FROM webhook_deliveries WHERE subscription_id = ?', [sub.id])).toBe(2);
    expectError(await t.json('POST', `/api/v1/webhook-deliveries/${first!.id}/replay`), 409, 'CONFLICT');
    // Fixed and re-enabled: the waiting one goes out; the failed one only when replayed.
    rx.clear();
    rx.answer([]);
    expect((await t.json('PATCH', `/api/v1/webhooks/${sub.id}`, { status: 'active' })).body).toMatchObject({ status: 'active', disabled_reason: null });
    await kickWebhooks(t.ctx);
    expect(pointsTo(rx.got)).toEqual([3]);
    const replayed = await t.json('POST', `/api/v1/webhook-deliveries/${first!.id}/replay`);
    expect(replayed.body).toMatchObject({ status: 'delivered', last_status_code: 204 });
    expect(pointsTo(rx.got)).toEqual([3, 1]);
  });
});

describe('order, idempotency and concurrency', () => {
  it("delivers one contact's events in order, holding the later ones while an earlier one is retried; other contacts are not held up", async () => {
    const { t, clock } = await clocked();
    const sub = await subscribe(t, { url: rx.url('/order'), event_types: ['points.changed'] });
    const a = await contact(t, 'a@example.com');
    const b = await contact(t, 'b@example.com');
    let failedOnce = false;
    rx.answer((r) => (r.json.data.contact.id === a && !failedOnce ? ((failedOnce = true), 503) : 204));
    for (const v of [5, 5, 5]) {
      await addPoints(t, a, v);
      await addPoints(t, b, v);
    }
    await settle(t);
    const of = (id: number) => rx.got.filter((r) => r.json.data.contact.id === id);
    expect(pointsTo(of(b))).toEqual([5, 10, 15]);
    expect(pointsTo(of(a))).toEqual([5]);
    clock.now += 10_000;
    await kickWebhooks(t.ctx);
    expect(pointsTo(of(a))).toEqual([5, 5, 10, 15]);
    expect(rx.got.every((r) => verifies(sub.secret, r))).toBe(true);
  });

  it('a reaction run again over the same events, or the contact walk again, queues and sends nothing twice', async () => {
    const t = await makeApp();
    await subscribe(t, { url: rx.url(), event_types: ['points.changed', 'contact.created', 'contact.updated'] });
    const id = await contact(t, 'again@example.com');
    await addPoints(t, id, 2);
    await settle(t);
    const before = await deliveries(t);
    // The change came before the creation was told: the creation shows it, no separate update.
    expect(before.map((d) => d.event_type).sort()).toEqual(['contact.created', 'points.changed']);
    const sent = rx.got.length;
    // As after a crash between "deliveries queued" and "cursor moved", or a second runner.
    await t.client.execute("UPDATE reaction_cursors SET last_event_id = 0 WHERE name = 'webhooks'");
    await t.client.execute("DELETE FROM app_state WHERE key = 'webhooks_contacts_watermark'");
    await settle(t);
    await Promise.all([runReactions(t.ctx), runReactions(t.ctx)]);
    await settle(t);
    expect((await deliveries(t)).map((d) => d.id)).toEqual(before.map((d) => d.id));
    expect(rx.got).toHaveLength(sent);
  });

  it('senders racing each other deliver every message once', async () => {
    const t = await makeApp();
    await subscribe(t, { url: rx.url(), event_types: ['contact.created'] });
    await t.json('POST', '/api/v1/contacts/batch', { contacts: Array.from({ length: 60 }, (_, i) => ({ email: `race${i}@example.com` })) });
    await runReactions(t.ctx);
    await Promise.all([runWebhooks(t.ctx), runWebhooks(t.ctx), runWebhooks(t.ctx, { lanes: 2 }), kickWebhooks(t.ctx)]);
    await kickWebhooks(t.ctx);
    const ids = rx.got.map((r) => r.headers['webhook-id']);
    expect(ids).toHaveLength(60);
    expect(new Set(ids).size).toBe(60);
    expect(await count(t, "SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'delivered' AND attempts = 1")).toBe(60);
  });
});

describe('replay, ping and rotation', () => {
  it('replays a delivered message: the same webhook-id and body, newly signed', async () => {
    const { t, clock } = await clocked();
    const sub = await subscribe(t, { url: rx.url(), event_types: ['points.changed'] });
    const id = await contact(t, 'replay@example.com');
    await addPoints(t, id, 4);
    await settle(t);
    const [d] = await deliveries(t, 'subscription_id = ?', [sub.id]);
    clock.now += 60_000;
    const replayed = await t.json('POST', `/api/v1/webhook-deliveries/${d!.id}/replay`, undefined, { key: t.keys.write });
    expect(replayed.status).toBe(200);
    expect(replayed.body).toMatchObject({ id: d!.id, status: 'delivered', attempts: 2, message_id: `msg_${d!.id}` });
    expect(rx.got).toHaveLength(2);
    expect(rx.got[1]!.headers['webhook-id']).toBe(rx.got[0]!.headers['webhook-id']);
    expect(rx.got[1]!.body).toBe(rx.got[0]!.body);
    expect(rx.got[1]!.headers['webhook-signature']).not.toBe(rx.got[0]!.headers['webhook-signature']);
    expect(verifies(sub.secret, rx.got[1]!)).toBe(true);
    expectError(await t.json('POST', `/api/v1/webhook-deliveries/${d!.id}/replay`, undefined, { key: t.keys.read }), 403, 'FORBIDDEN');
  });

  it('pings now and once: a signed webhook.ping, its answer in the log; a failed ping is not retried and does not mark the subscription', async () => {
    const t = await makeApp();
    const sub = await subscribe(t, { url: rx.url('/ping'), event_types: ['contact.created'] });
    rx.answer([200]);
    const ok = await t.json('POST', `/api/v1/webhooks/${sub.id}/ping`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ event_type: 'webhook.ping', status: 'delivered', attempts: 1, last_status_code: 200, last_attempt: { response_excerpt: 'ok thanks' } });
    expect(rx.got).toHaveLength(1);
    expect(rx.got[0]!.json).toMatchObject({ type: 'webhook.ping', data: { webhook_id: sub.id } });
    expect(verifies(sub.secret, rx.got[0]!)).toBe(true);
    rx.answer([500]);
    const bad = await t.json('POST', `/api/v1/webhooks/${sub.id}/ping`);
    expect(bad.body).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 500, next_attempt_at: null });
    expect((await t.json('GET', `/api/v1/webhooks/${sub.id}`)).body).toMatchObject({ status: 'active', last_error: null });
    // A disabled subscription can still be pinged while its receiver is fixed.
    await t.json('PATCH', `/api/v1/webhooks/${sub.id}`, { status: 'disabled' });
    expect((await t.json('POST', `/api/v1/webhooks/${sub.id}/ping`)).body).toMatchObject({ status: 'delivered' });
  });

  it('rotation signs with both secrets during the overlap, then with the new one only', async () => {
    const { t, clock } = await clocked();
    const sub = await subscribe(t, { url: rx.url(), event_types: ['points.changed'] });
    const id = await contact(t, 'rotate@example.com');
    const rotated = await t.json('POST', `/api/v1/webhooks/${sub.id}/rotate-secret?overlap_seconds=3600`);
    expect(rotated.status).toBe(200);
    const fresh: string = rotated.body.secret;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(sub.secret);
    expect(rotated.body.previous_secret_expires_at).toBe(new Date(T0 + 3_600_000).toISOString());
    expect((await t.json('GET', `/api/v1/webhooks/${sub.id}`)).body.secret).toBeUndefined();
    await addPoints(t, id, 1);
    await settle(t);
    const during = rx.got[0]!;
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifies(sub.secret, during)).toBe(true);
    expect(verifies(fresh, during)).toBe(true);
    clock.now += 3_600_001;
    await addPoints(t, id, 1);
    await settle(t);
    const after = rx.got[1]!;
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifies(fresh, after)).toBe(true);
    expect(verifies(sub.secret, after)).toBe(false);
    expect((await t.json('GET', `/api/v1/webhooks/${sub.id}`)).body.previous_secret_expires_at).toBeNull();
    // Without an overlap the old secret stops at once.
    const now = await t.json('POST', `/api/v1/webhooks/${sub.id}/rotate-secret?overlap_seconds=0`);
    await addPoints(t, id, 1);
    await settle(t);
    expect(verifies(now.body.secret, rx.got[2]!)).toBe(true);
    expect(verifies(fresh, rx.got[2]!)).toBe(false);
  });
});

describe('point-trigger webhooks on the same sender', () => {
  it('are delivered by it: Leadline-Signature as before, Standard Webhooks headers too, and the attempt in the log', async () => {
    const t = await makeApp();
    const trig = await t.json('POST', '/api/v1/point-triggers', { name: 'Hot', threshold: 5, actions: [{ type: 'webhook', url: rx.url('/trigger') }] });
    const secret = trig.body.actions[0].secret;
    const id = await contact(t, 'hot@example.com');
    await addPoints(t, id, 6);
    await runReactions(t.ctx);
    await runWebhooks(t.ctx);
    expect(rx.got).toHaveLength(1);
    const r = rx.got[0]!;
    expect(r.json).toMatchObject({ type: 'point_trigger.fired', data: { contact: { id, email: 'hot@example.com' } } });
    expect(String(r.headers['leadline-signature'])).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifies(secret, r)).toBe(true);
    const log = (await t.json('GET', `/api/v1/webhook-deliveries?source=trigger:${trig.body.id}`)).body.data[0];
    expect(log).toMatchObject({ status: 'delivered', subscription_id: null, last_attempt: { response_status: 204, request_headers: { 'webhook-id': `msg_${log.id}` } } });
    expect(JSON.stringify(log)).not.toContain(secret);
  });
});

describe('the delivery log keeps 30 days', () => {
  it('the retention job removes delivered and failed deliveries older than 30 days, never a pending one', async () => {
    const { t, clock } = await clocked();
    const sub = await subscribe(t, { url: rx.url(), event_types: ['points.changed'] });
    const id = await contact(t, 'log@example.com');
    // Day 0: one delivered, and one the receiver refuses until it fails for good (24 hours).
    await addPoints(t, id, 1);
    await settle(t);
    rx.answer(Array(40).fill(500));
    await addPoints(t, id, 2);
    await settle(t);
    for (let i = 0; i < 40 && (await deliveries(t, "status = 'pending'", [])).length; i++) {
      clock.now += 3_600_000;
      await kickWebhooks(t.ctx);
    }
    const old = (await deliveries(t, 'subscription_id = ?', [sub.id])).map((d) => d.status);
    expect(old.sort()).toEqual(['delivered', 'failed']);
    // Re-enabled, its next delivery waits on a receiver that refuses (pending, retried later).
    expect((await t.json('PATCH', `/api/v1/webhooks/${sub.id}`, { status: 'active' })).status).toBe(200);
    rx.answer(Array(5).fill(503));
    await addPoints(t, id, 3);
    await settle(t);
    const ids = async () => (await t.json('GET', '/api/v1/webhook-deliveries?limit=100')).body.data.map((d: any) => d.status).sort();
    expect(await ids()).toEqual(['delivered', 'failed', 'pending']);

    // 29 days later nothing goes; 31 days after day 0 the finished ones go, the pending one stays.
    clock.now = T0 + 29 * 86_400_000;
    expect((await t.json('POST', '/api/v1/jobs/retention')).body.result.webhook_deliveries).toBe(0);
    clock.now = T0 + 31 * 86_400_000;
    expect((await t.json('POST', '/api/v1/jobs/retention')).body.result.webhook_deliveries).toBe(2);
    expect(await ids()).toEqual(['pending']);
  });
});
