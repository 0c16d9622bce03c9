// Hearing back from the provider and reporting it: POST /webhooks/resend against sends that went
// out through a fake Resend on 127.0.0.1 (signature valid, forged, stale, replayed; headers, type
// and size; out-of-order events; hard and soft bounces and complaints into do-not-contact and the
// next send skipped), then the reports (per email, per broadcast, per contact, the complaint alert)
// over a hand-made data set that includes machine opens and clicks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac, randomUUID } from 'node:crypto';
import { expectError, makeApp, type TestApp } from './helpers';
import { startFakeResend, type FakeResend } from './fixtures/fake-resend';
import { settleDeferred } from '../api/routes/defer';
import { runJob } from './tracking-helpers';

const API_KEY = 're_test_provider_0123456789';
// A Resend-style secret: whsec_ and base64 of the key bytes.
const SECRET = `whsec_${Buffer.from('provider-webhook-test-key-0123456789').toString('base64')}`;

let fake: FakeResend;
beforeAll(async () => {
  fake = await startFakeResend({ apiKey: API_KEY });
});
afterAll(() => fake.close());

const env = (extra: Record<string, string> = {}) => ({ RESEND_API_KEY: API_KEY, RESEND_BASE_URL: fake.url, RESEND_WEBHOOK_SECRET: SECRET, PUBLIC_URL: 'https://leadline.example.com', ...extra });

/** Signs as Svix does, with node:crypto (independent of the code under test). */
export function sign(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

interface PostOpts {
  id?: string;
  timestamp?: number;
  signature?: string;
  names?: 'svix' | 'webhook';
  contentType?: string;
  omit?: string[];
  secret?: string;
}

async function post(t: TestApp, payload: unknown, o: PostOpts = {}) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const id = o.id ?? `msg_${randomUUID()}`;
  const ts = o.timestamp ?? Math.floor(Date.now() / 1000);
  const p = o.names ?? 'svix';
  const headers: Record<string, string> = {
    'content-type': o.contentType ?? 'application/json',
    [`${p}-id`]: id,
    [`${p}-timestamp`]: String(ts),
    [`${p}-signature`]: o.signature ?? sign(o.secret ?? SECRET, id, ts, body),
  };
  for (const h of o.omit ?? []) delete headers[h];
  const res = await t.app.request('/webhooks/resend', { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, id };
}

const event = (type: string, providerId: string, data: Record<string, unknown> = {}) => ({
  type,
  created_at: new Date().toISOString(),
  data: { email_id: providerId, created_at: new Date().toISOString(), from: 'Shop <news@shop.example.com>', to: ['x@example.com'], subject: 'Hi', ...data },
});

let seq = 0;
/** A contact and a marketing email, and one send to it through the fake Resend: its row and Resend's id. */
async function sendOne(t: TestApp, opts: { contactId?: number; emailId?: number } = {}) {
  const n = ++seq;
  const contactId = opts.contactId ?? (await t.json('POST', '/api/v1/contacts', { email: `p${n}-${randomUUID().slice(0, 8)}@example.com`, first_name: 'Pat' })).body.id;
  const emailId = opts.emailId ?? (await t.json('POST', '/api/v1/emails', { name: `News ${n}`, subject: 'Hello', html: '<p>Hi {{ contact.first_name }}</p>' })).body.id;
  const send = await t.json('POST', `/api/v1/emails/${emailId}/send`, { contact_id: contactId });
  expect(send.status).toBe(202);
  const row = await settled(t, send.body.id);
  return { contactId, emailId, sendId: Number(row.id), status: String(row.status), providerId: row.provider_id === null ? null : String(row.provider_id), to: String(row.to_email) };
}

/** The send once the loop is done with it (the API's own kick of the loop may hold it while a job run finds nothing). */
async function settled(t: TestApp, id: number) {
  for (let i = 0; i < 100; i++) {
    await t.json('POST', '/api/v1/jobs/emails');
    const row = (await t.client.execute({ sql: 'SELECT * FROM email_sends WHERE id = ?', args: [id] })).rows[0]!;
    if (row.status !== 'pending' && row.status !== 'sending') return row;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`send ${id} never settled`);
}

const sendRow = async (t: TestApp, id: number) => (await t.client.execute({ sql: 'SELECT * FROM email_sends WHERE id = ?', args: [id] })).rows[0]!;
const eventsOf = async (t: TestApp, sendId: number) =>
  (await t.client.execute({ sql: "SELECT type, contact_id, props FROM events WHERE type LIKE 'email%' AND json_extract(props, '$.send_id') = ? ORDER BY id", args: [sendId] })).rows.map((r) => ({
    type: String(r.type),
    contact_id: Number(r.contact_id),
    props: JSON.parse(String(r.props)),
  }));
const dncOf = async (t: TestApp, contactId: number) =>
  (await t.client.execute({ sql: 'SELECT channel, reason, comment FROM do_not_contact WHERE contact_id = ?', args: [contactId] })).rows.map((r) => ({ channel: r.channel, reason: r.reason, comment: r.comment }));

describe('POST /webhooks/resend: who may speak', () => {
  let t: TestApp;
  let s: Awaited<ReturnType<typeof sendOne>>;
  beforeAll(async () => {
    t = await makeApp({ env: env() });
    s = await sendOne(t);
  });

  it('sent through the fake Resend: the row has its id, the message its leadline_send tag', async () => {
    expect(s.status).toBe('sent');
    expect(s.providerId).toBeTruthy();
    const msg = fake.delivered.find((d) => d.id === s.providerId)!;
    expect(msg.tags).toEqual([{ name: 'leadline_send', value: String(s.sendId) }]);
  });

  it('a validly signed delivery is applied: delivered_at once, one email_delivered event', async () => {
    const r = await post(t, event('email.delivered', s.providerId!));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true, result: 'applied', type: 'email.delivered' });
    expect((await sendRow(t, s.sendId)).delivered_at).not.toBeNull();
    const evs = (await eventsOf(t, s.sendId)).filter((e) => e.type === 'email_delivered');
    expect(evs).toEqual([{ type: 'email_delivered', contact_id: s.contactId, props: { email_id: s.emailId, send_id: s.sendId } }]);
  });

  it('replayed (same svix-id): acknowledged as a duplicate, no second effect', async () => {
    const other = await sendOne(t);
    const body = event('email.complained', other.providerId!);
    const first = await post(t, body, { id: 'msg_replayed_1' });
    expect(first.body.result).toBe('applied');
    const at = (await sendRow(t, other.sendId)).complained_at;
    for (let i = 0; i < 3; i++) {
      const again = await post(t, body, { id: 'msg_replayed_1' });
      expect(again.status).toBe(200);
      expect(again.body.result).toBe('duplicate');
    }
    // Concurrent redeliveries too.
    const burst = await Promise.all(Array.from({ length: 5 }, () => post(t, body, { id: 'msg_replayed_1' })));
    expect(burst.map((b) => b.body.result)).toEqual(Array(5).fill('duplicate'));
    expect((await sendRow(t, other.sendId)).complained_at).toBe(at);
    expect((await eventsOf(t, other.sendId)).filter((e) => e.type === 'email_complained')).toHaveLength(1);
    const receipts = await t.client.execute("SELECT count(*) AS n FROM email_webhook_receipts WHERE id = 'msg_replayed_1'");
    expect(Number(receipts.rows[0]!.n)).toBe(1);
  });

  it('the same event under a new delivery id changes nothing either (each column is set once)', async () => {
    const other = await sendOne(t);
    await post(t, event('email.delivered', other.providerId!));
    const at = (await sendRow(t, other.sendId)).delivered_at;
    const r = await post(t, event('email.delivered', other.providerId!));
    expect(r.body.result).toBe('applied');
    expect((await sendRow(t, other.sendId)).delivered_at).toBe(at);
    expect((await eventsOf(t, other.sendId)).filter((e) => e.type === 'email_delivered')).toHaveLength(1);
  });

  it('forged: 403 INVALID_SIGNATURE, nothing recorded', async () => {
    const other = await sendOne(t);
    const body = JSON.stringify(event('email.bounced', other.providerId!, { bounce: { type: 'Permanent', subType: 'General', message: 'x' } }));
    const ts = Math.floor(Date.now() / 1000);
    for (const signature of [
      sign(`whsec_${Buffer.from('another-secret-entirely-000').toString('base64')}`, 'msg_forged', ts, body),
      sign(SECRET, 'msg_forged', ts, body.replace('Permanent', 'Transient')),
      sign(SECRET, 'msg_other_id', ts, body),
      'v1,' + 'A'.repeat(44),
      'v2,' + sign(SECRET, 'msg_forged', ts, body).slice(3),
      'garbage',
    ]) {
      const r = await post(t, body, { id: 'msg_forged', timestamp: ts, signature });
      expectError(r, 403, 'INVALID_SIGNATURE');
    }
    expect((await sendRow(t, other.sendId)).bounced_at).toBeNull();
    expect(await dncOf(t, other.contactId)).toEqual([]);
    const receipts = await t.client.execute("SELECT count(*) AS n FROM email_webhook_receipts WHERE id = 'msg_forged'");
    expect(Number(receipts.rows[0]!.n)).toBe(0);
    // One good signature among several (a secret being rotated) is enough.
    const good = sign(SECRET, 'msg_forged', ts, body);
    const r = await post(t, body, { id: 'msg_forged', timestamp: ts, signature: `v1,${'B'.repeat(44)} ${good}` });
    expect(r.body.result).toBe('applied');
  });

  it('stale or from the future (more than 5 minutes off): 403; within 5 minutes: accepted', async () => {
    const other = await sendOne(t);
    const now = Math.floor(Date.now() / 1000);
    for (const ts of [now - 6 * 60, now + 6 * 60, now - 86_400]) {
      expectError(await post(t, event('email.delivered', other.providerId!), { timestamp: ts }), 403, 'INVALID_SIGNATURE');
    }
    expect((await sendRow(t, other.sendId)).delivered_at).toBeNull();
    expect((await post(t, event('email.delivered', other.providerId!), { timestamp: now - 4 * 60 })).status).toBe(200);
  });

  it('stale by the app clock (ctx.now), not the machine clock', async () => {
    let clock = Date.now();
    const c = await makeApp({ env: env(), now: () => clock });
    const ts = Math.floor(Date.now() / 1000);
    clock += 10 * 60_000;
    expectError(await post(c, event('email.delivered', 'whatever'), { timestamp: ts }), 403, 'INVALID_SIGNATURE');
    expect((await post(c, event('email.delivered', 'whatever'), { timestamp: Math.floor(clock / 1000) })).status).toBe(200);
  });

  it('the Standard Webhooks header names work as well as Svix ones', async () => {
    const other = await sendOne(t);
    const r = await post(t, event('email.delivered', other.providerId!), { names: 'webhook' });
    expect(r.body.result).toBe('applied');
  });

  it('missing headers: 400; wrong content type: 415; too big: 413; a signed body that is not an event: 400', async () => {
    for (const h of ['svix-id', 'svix-timestamp', 'svix-signature']) {
      expectError(await post(t, event('email.delivered', 'x'), { omit: [h] }), 400, 'BAD_REQUEST');
    }
    expectError(await post(t, event('email.delivered', 'x'), { omit: ['svix-id', 'svix-timestamp', 'svix-signature'] }), 400, 'BAD_REQUEST');
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx']) {
      expectError(await post(t, event('email.delivered', 'x'), { contentType: ct }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
    const big = event('email.delivered', 'x', { subject: 'x'.repeat(70 * 1024) });
    expectError(await post(t, big), 413, 'PAYLOAD_TOO_LARGE');
    for (const body of ['not json', '[]', '{"type": 5}', '{"type":"email.delivered"}', '{"type":"email.bounced","data":{"bounce":"hard"}}', '['.repeat(5000)]) {
      const r = await post(t, body);
      expect(r.status, body.slice(0, 40)).toBe(400);
    }
    // A malformed timestamp header.
    expectError(await post(t, event('email.delivered', 'x'), { signature: 'v1,x', timestamp: Number.NaN }), 403, 'INVALID_SIGNATURE');
  });

  it('not configured (no RESEND_WEBHOOK_SECRET): 404 saying so, whatever is sent', async () => {
    const bare = await makeApp({ env: { RESEND_API_KEY: API_KEY, RESEND_BASE_URL: fake.url, PUBLIC_URL: 'https://leadline.example.com' } });
    const r = await post(bare, event('email.delivered', 'x'));
    expectError(r, 404, 'NOT_FOUND');
    expect(r.body.error.message).toMatch(/RESEND_WEBHOOK_SECRET/);
    expectError(await post(bare, 'junk', { omit: ['svix-id'] }), 404, 'NOT_FOUND');
  });

  it('a per-IP limit of ten times PUBLIC_RATE_LIMIT: 429 with Retry-After past it', async () => {
    const limited = await makeApp({ env: env({ PUBLIC_RATE_LIMIT: '1' }) });
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await post(limited, event('email.delivered', 'x'))).status);
    expect(statuses).toEqual([...Array(10).fill(200), 429]);
  });

  it('other methods: 405 with Allow', async () => {
    const r = await t.app.request('/webhooks/resend', { method: 'GET' });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toMatch(/POST/);
  });

  it('an invalid secret is refused at start, naming the variable', async () => {
    await expect(makeApp({ env: { RESEND_WEBHOOK_SECRET: 'not a secret!' } })).rejects.toThrow(/RESEND_WEBHOOK_SECRET/);
    await expect(makeApp({ env: { RESEND_WEBHOOK_SECRET: 'whsec_abcdefghijklmnopq' } })).rejects.toThrow(/RESEND_WEBHOOK_SECRET/);
  });

  it('an unknown message, or a type Leadline does not act on: 2xx, nothing changes', async () => {
    const r = await post(t, event('email.bounced', 'not-a-known-id', { bounce: { type: 'Permanent' } }));
    expect(r.status).toBe(200);
    expect(r.body.result).toBe('unknown_message');
    for (const type of ['email.opened', 'email.clicked', 'contact.created', 'domain.updated', 'email.received']) {
      const x = await post(t, event(type, s.providerId!, { click: { link: 'https://x.example/', ipAddress: '1.2.3.4', timestamp: '', userAgent: '' } }));
      expect(x.status).toBe(200);
      expect(x.body.result).toBe('ignored');
    }
    expect((await eventsOf(t, s.sendId)).map((e) => e.type)).toEqual(['email_sent', 'email_delivered']);
  });

  it('delivery_delayed is acknowledged and recorded as a receipt only', async () => {
    const r = await post(t, event('email.delivery_delayed', s.providerId!));
    expect(r.body.result).toBe('applied');
  });
});

describe('POST /webhooks/resend: what it does', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp({ env: env() });
  });

  it('out of order: a bounce then a late "delivered" leaves it bounced; delivered then bounce ends bounced too', async () => {
    const a = await sendOne(t);
    await post(t, event('email.bounced', a.providerId!, { bounce: { type: 'Transient', subType: 'MailboxFull', message: 'full' } }));
    await post(t, event('email.delivered', a.providerId!));
    let row = await sendRow(t, a.sendId);
    expect(row.bounced_at).not.toBeNull();
    expect(row.bounce_type).toBe('soft');
    expect(row.delivered_at).toBeNull();
    expect((await eventsOf(t, a.sendId)).map((e) => e.type)).toEqual(['email_sent', 'email_bounced']);
    // A soft bounce may turn out hard, never back.
    await post(t, event('email.bounced', a.providerId!, { bounce: { type: 'Permanent', subType: 'General', message: 'gone' } }));
    await post(t, event('email.bounced', a.providerId!, { bounce: { type: 'Transient', subType: 'General', message: 'x' } }));
    row = await sendRow(t, a.sendId);
    expect(row.bounce_type).toBe('hard');
    expect((await eventsOf(t, a.sendId)).map((e) => [e.type, e.props.bounce_type ?? null])).toEqual([
      ['email_sent', null],
      ['email_bounced', 'soft'],
      ['email_bounced', 'hard'],
    ]);

    const b = await sendOne(t);
    await post(t, event('email.delivered', b.providerId!));
    await post(t, event('email.bounced', b.providerId!, { bounce: { type: 'Permanent', subType: 'General', message: 'late' } }));
    row = await sendRow(t, b.sendId);
    expect(row.delivered_at).not.toBeNull();
    expect(row.bounce_type).toBe('hard');
    const report = (await t.json('GET', `/api/v1/emails/${b.emailId}/report`)).body;
    expect(report.delivered).toBe(0);
    expect(report.bounced).toEqual({ total: 1, hard: 1, soft: 0 });
  });

  it('hard bounce: do-not-contact email (bounced) at once, an email_bounced event, the next send skipped as bounced', async () => {
    const a = await sendOne(t);
    const r = await post(t, event('email.bounced', a.providerId!, { bounce: { type: 'Permanent', subType: 'NoEmail', message: 'no such user' } }));
    expect(r.body.result).toBe('applied');
    expect(await dncOf(t, a.contactId)).toEqual([{ channel: 'email', reason: 'bounced', comment: 'Resend: hard bounce (Permanent/NoEmail)' }]);
    const contact = (await t.json('GET', `/api/v1/contacts/${a.contactId}`)).body;
    expect(contact.do_not_contact).toEqual([expect.objectContaining({ channel: 'email', reason: 'bounced' })]);
    expect((await eventsOf(t, a.sendId)).at(-1)).toEqual({ type: 'email_bounced', contact_id: a.contactId, props: { email_id: a.emailId, send_id: a.sendId, bounce_type: 'hard' } });
    const next = await t.json('POST', `/api/v1/emails/${a.emailId}/send`, { contact_id: a.contactId });
    expect(next.body).toMatchObject({ status: 'skipped', skip_reason: 'bounced' });
    // Transactional sends are not sent to a dead address either.
    const receipt = (await t.json('POST', '/api/v1/emails', { name: 'Receipt', kind: 'transactional', subject: 'R', html: '<p>r</p>' })).body.id;
    expect((await t.json('POST', `/api/v1/emails/${receipt}/send`, { contact_id: a.contactId })).body).toMatchObject({ status: 'skipped', skip_reason: 'bounced' });
  });

  it("a bounce or complaint replaces an unsubscribe's entry, never one a person made (manual, with its comment)", async () => {
    const a = await sendOne(t);
    expect((await t.json('PUT', `/api/v1/contacts/${a.contactId}/do-not-contact/email`, { reason: 'manual', comment: 'asked by phone' })).status).toBe(200);
    await post(t, event('email.bounced', a.providerId!, { bounce: { type: 'Permanent', subType: 'NoEmail', message: 'no such user' } }));
    expect(await dncOf(t, a.contactId)).toEqual([{ channel: 'email', reason: 'manual', comment: 'asked by phone' }]);
    const b = await sendOne(t);
    expect((await t.json('PUT', `/api/v1/contacts/${b.contactId}/do-not-contact/email`, { reason: 'unsubscribed' })).status).toBe(200);
    await post(t, event('email.complained', b.providerId!));
    expect(await dncOf(t, b.contactId)).toEqual([{ channel: 'email', reason: 'complained', comment: 'Resend: the recipient marked it as spam' }]);
  });

  it("Resend's own suppression counts as a hard bounce", async () => {
    const a = await sendOne(t);
    await post(t, event('email.suppressed', a.providerId!, { suppressed: { message: 'on the list', type: 'OnAccountSuppressionList' } }));
    expect(await dncOf(t, a.contactId)).toEqual([expect.objectContaining({ channel: 'email', reason: 'bounced' })]);
  });

  it('complaint: do-not-contact email (complained) at once, an event, the next send skipped as complained', async () => {
    const a = await sendOne(t);
    await post(t, event('email.delivered', a.providerId!));
    await post(t, event('email.complained', a.providerId!));
    expect(await dncOf(t, a.contactId)).toEqual([{ channel: 'email', reason: 'complained', comment: 'Resend: the recipient marked it as spam' }]);
    expect((await eventsOf(t, a.sendId)).map((e) => e.type)).toEqual(['email_sent', 'email_delivered', 'email_complained']);
    expect((await sendRow(t, a.sendId)).complained_at).not.toBeNull();
    expect((await t.json('POST', `/api/v1/emails/${a.emailId}/send`, { contact_id: a.contactId })).body).toMatchObject({ status: 'skipped', skip_reason: 'complained' });
  });

  it('soft bounces: recorded; the third within 30 days suppresses the address', async () => {
    const first = await sendOne(t);
    const sends = [first, await sendOne(t, { contactId: first.contactId, emailId: first.emailId }), await sendOne(t, { contactId: first.contactId, emailId: first.emailId })];
    expect(sends.map((x) => x.status)).toEqual(['sent', 'sent', 'sent']);
    for (const [i, x] of sends.entries()) {
      await post(t, event('email.bounced', x.providerId!, { bounce: { type: 'Transient', subType: 'MailboxFull', message: 'full' } }));
      if (i < 2) expect(await dncOf(t, first.contactId)).toEqual([]);
    }
    expect(await dncOf(t, first.contactId)).toEqual([{ channel: 'email', reason: 'bounced', comment: 'Resend: 3 soft bounces within 30 days' }]);
    expect((await t.json('POST', `/api/v1/emails/${first.emailId}/send`, { contact_id: first.contactId })).body).toMatchObject({ status: 'skipped', skip_reason: 'bounced' });
    const report = (await t.json('GET', `/api/v1/emails/${first.emailId}/report`)).body;
    expect(report.bounced).toEqual({ total: 3, hard: 0, soft: 3 });
    expect(report.skipped).toEqual({ total: 1, by_reason: { bounced: 1 } });
  });

  it('soft bounces older than 30 days do not count', async () => {
    const first = await sendOne(t);
    const more = [await sendOne(t, { contactId: first.contactId, emailId: first.emailId }), await sendOne(t, { contactId: first.contactId, emailId: first.emailId })];
    await post(t, event('email.bounced', first.providerId!, { bounce: { type: 'Transient' } }));
    await t.client.execute({ sql: 'UPDATE email_sends SET bounced_at = bounced_at - 31 * 86400000 WHERE id = ?', args: [first.sendId] });
    for (const x of more) await post(t, event('email.bounced', x.providerId!, { bounce: { type: 'Undetermined' } }));
    expect(await dncOf(t, first.contactId)).toEqual([]);
  });

  it('a bounce on a test send, or on an address the contact no longer has, puts no one on do-not-contact', async () => {
    const a = await sendOne(t);
    const test = await t.json('POST', `/api/v1/emails/${a.emailId}/test`, { to: 'someone-else@example.com', contact_id: a.contactId });
    const testRow = await settled(t, test.body.id);
    await post(t, event('email.bounced', String(testRow.provider_id), { bounce: { type: 'Permanent' } }));
    expect((await sendRow(t, test.body.id)).bounce_type).toBe('hard');
    expect(await dncOf(t, a.contactId)).toEqual([]);
    await t.json('PATCH', `/api/v1/contacts/${a.contactId}`, { email: `moved-${randomUUID().slice(0, 6)}@example.com` });
    await post(t, event('email.complained', a.providerId!));
    expect(await dncOf(t, a.contactId)).toEqual([]);
    expect((await sendRow(t, a.sendId)).complained_at).not.toBeNull();
  });

  it('found by the leadline_send tag when the provider id was never learnt, and only for the same address', async () => {
    const a = await sendOne(t);
    await t.client.execute({ sql: 'UPDATE email_sends SET provider_id = NULL WHERE id = ?', args: [a.sendId] });
    const other = await post(t, event('email.delivered', 'resend-id-unknown', { to: ['someone@else.example'], tags: { leadline_send: String(a.sendId) } }));
    expect(other.body.result).toBe('unknown_message');
    const sent = await post(t, event('email.sent', 'resend-id-learnt', { to: [`Pat <${a.to.toUpperCase()}>`], tags: [{ name: 'leadline_send', value: String(a.sendId) }] }));
    expect(sent.body.result).toBe('applied');
    expect((await sendRow(t, a.sendId)).provider_id).toBe('resend-id-learnt');
    // From then on Resend's id finds it.
    expect((await post(t, event('email.delivered', 'resend-id-learnt'))).body.result).toBe('applied');
    expect((await sendRow(t, a.sendId)).delivered_at).not.toBeNull();
  });

  it("a bounce that outruns the loop's record of the call (the row still sending, no provider id) lands by the tag", async () => {
    const a = await sendOne(t);
    await t.client.execute({ sql: "UPDATE email_sends SET status = 'sending', provider_id = NULL WHERE id = ?", args: [a.sendId] });
    const r = await post(t, event('email.bounced', 're_not_yet_recorded', { to: [a.to], tags: { leadline_send: String(a.sendId) }, bounce: { type: 'Permanent' } }));
    expect(r.body.result).toBe('applied');
    expect((await sendRow(t, a.sendId)).bounce_type).toBe('hard');
    expect(await dncOf(t, a.contactId)).toEqual([expect.objectContaining({ reason: 'bounced' })]);
  });

  it('the first deliveries of one event, racing: exactly one is applied', async () => {
    const a = await sendOne(t);
    const body = event('email.complained', a.providerId!);
    const results = await Promise.all(Array.from({ length: 6 }, () => post(t, body, { id: 'msg_race_first' })));
    expect(results.map((x) => x.status)).toEqual(Array(6).fill(200));
    expect(results.filter((x) => x.body.result === 'applied')).toHaveLength(1);
    expect((await eventsOf(t, a.sendId)).filter((e) => e.type === 'email_complained')).toHaveLength(1);
  });

  it('a send to an address without a contact: a hard bounce suppresses that address too', async () => {
    const receipt = (await t.json('POST', '/api/v1/emails', { name: 'Receipt', kind: 'transactional', subject: 'R', html: '<p>r</p>' })).body.id;
    const to = `nobody-${randomUUID().slice(0, 8)}@example.com`;
    const first = await t.json('POST', `/api/v1/emails/${receipt}/send`, { to });
    const row = await settled(t, first.body.id);
    expect(row.contact_id).toBeNull();
    await post(t, event('email.bounced', String(row.provider_id), { bounce: { type: 'Permanent' } }));
    expect((await t.json('POST', `/api/v1/emails/${receipt}/send`, { to })).body).toMatchObject({ status: 'skipped', skip_reason: 'bounced' });
    const elsewhere = await t.json('POST', `/api/v1/emails/${receipt}/send`, { to: `other-${to}` });
    expect(elsewhere.body.status).toBe('pending');
  });

  it('hostile signed bodies never get a 5xx', async () => {
    const a = await sendOne(t);
    const bodies: unknown[] = [
      { type: 'email.bounced', data: { email_id: a.providerId, bounce: { type: 'x'.repeat(1000) } } },
      { type: 'email.bounced', data: { email_id: ['a'], bounce: null } },
      { type: 'email.delivered', data: { email_id: 'x'.repeat(10_000) } },
      { type: 'email.delivered', data: { tags: { leadline_send: '1e3' }, to: [null, 5, {}] } },
      { type: 'email.delivered', data: { tags: { leadline_send: '99999999999999999999' } } },
      { type: 'email.delivered', data: { tags: [{ name: 'leadline_send', value: { toString: 1 } }] } },
      { type: 'email.delivered', data: { __proto__: { email_id: a.providerId }, email_id: a.providerId } },
      { type: 'email.delivered', created_at: '+275760-09-13T00:00:00Z', data: { email_id: a.providerId, created_at: 'yesterday' } },
      { type: '\u0000email.delivered', data: {} },
      { type: 'email.delivered', data: { email_id: '\ud800' } },
    ];
    for (const b of bodies) {
      const r = await post(t, b);
      expect(r.status, JSON.stringify(b).slice(0, 80)).toBeLessThan(500);
    }
    const r = await post(t, '{"type":"email.delivered","data":{"email_id":"\\ud800"}}');
    expect(r.status).toBeLessThan(500);
  });
});

describe('reports', () => {
  let t: TestApp;
  let emailId: number;
  let contacts: number[];
  const ids: number[] = [];
  const T0 = Date.parse('2026-11-20T10:00:00Z');

  /** A hand-made send row: any columns set directly. */
  async function row(cols: Record<string, unknown>) {
    const all = { email_id: emailId, reason: `hand:${ids.length}:${randomUUID()}`, marketing: 1, status: 'sent', sent_at: T0, created_at: T0, updated_at: T0, ...cols };
    const keys = Object.keys(all);
    const r = await t.client.execute({ sql: `INSERT INTO email_sends (${keys.join(', ')}) VALUES (${keys.map(() => '?').join(', ')}) RETURNING id`, args: Object.values(all) as any });
    const id = Number(r.rows[0]!.id);
    ids.push(id);
    return id;
  }
  async function ev(type: 'email_opened' | 'email_clicked', sendId: number, machine: boolean, url?: string, forEmail = emailId) {
    const props = type === 'email_clicked' ? { email_id: forEmail, send_id: sendId, link: 0, machine } : { email_id: forEmail, send_id: sendId, machine };
    await t.client.execute({ sql: 'INSERT INTO events (contact_id, type, url, props, created_at) VALUES (?, ?, ?, ?, ?)', args: [contacts[0]!, type, url ?? null, JSON.stringify(props), T0 + 1000] });
  }

  beforeAll(async () => {
    t = await makeApp({ env: env() });
    emailId = (await t.json('POST', '/api/v1/emails', { name: 'Report me', subject: 'Hello', html: '<p>Hi</p>' })).body.id;
    contacts = [];
    for (let i = 0; i < 12; i++) contacts.push((await t.json('POST', '/api/v1/contacts', { email: `rep${i}@example.com` })).body.id);
    const c = (i: number) => ({ contact_id: contacts[i], to_email: `rep${i}@example.com` });
    // 10 sent: 8 delivered (1 of them later bounced → not delivered), 2 hard + 1 soft bounced, 1 complained, 1 unsubscribed.
    const s1 = await row({ ...c(0), delivered_at: T0, opened_at: T0, human_opened_at: T0, clicked_at: T0, human_clicked_at: T0 });
    const s2 = await row({ ...c(1), delivered_at: T0, opened_at: T0, human_opened_at: T0, clicked_at: T0 }); // its click was a scanner's
    const s3 = await row({ ...c(2), delivered_at: T0, opened_at: T0 }); // an Apple MPP open only
    const s4 = await row({ ...c(3), delivered_at: T0, opened_at: T0, human_opened_at: T0, complained_at: T0 });
    const s5 = await row({ ...c(4), delivered_at: T0, opened_at: T0, human_opened_at: T0, unsubscribed_at: T0 });
    await row({ ...c(5), delivered_at: T0 });
    await row({ ...c(6), delivered_at: T0 });
    await row({ ...c(7), delivered_at: T0, bounced_at: T0, bounce_type: 'hard' });
    await row({ ...c(8), bounced_at: T0, bounce_type: 'hard' });
    await row({ ...c(9), bounced_at: T0, bounce_type: 'soft' });
    // Not sent: skipped twice (two reasons), failed once, one still pending; and a test send, left out.
    await row({ ...c(10), status: 'skipped', skip_reason: 'unsubscribed', sent_at: null });
    await row({ contact_id: contacts[11], to_email: null, status: 'skipped', skip_reason: 'invalid_address', sent_at: null });
    await row({ ...c(11), status: 'failed', sent_at: null, error: 'Resend refused it' });
    await row({ ...c(11), status: 'pending', sent_at: null, next_attempt_at: T0 });
    const test = await row({ ...c(0), is_test: 1, delivered_at: T0, opened_at: T0, human_opened_at: T0 });
    // Open events: s1 twice (human), s2 once human + once machine, s3 machine, s4 human, s5 human.
    await ev('email_opened', s1, false);
    await ev('email_opened', s1, false);
    await ev('email_opened', s2, false);
    await ev('email_opened', s2, true);
    await ev('email_opened', s3, true);
    await ev('email_opened', s4, false);
    await ev('email_opened', s5, false);
    await ev('email_opened', test, false);
    // Clicks: s1 on pricing twice and docs once (human); s2 a scanner on pricing and docs.
    await ev('email_clicked', s1, false, 'https://shop.example.com/pricing');
    await ev('email_clicked', s1, false, 'https://shop.example.com/pricing');
    await ev('email_clicked', s1, false, 'https://shop.example.com/docs');
    await ev('email_clicked', s2, true, 'https://shop.example.com/pricing');
    await ev('email_clicked', s2, true, 'https://shop.example.com/docs');
    await ev('email_clicked', test, false, 'https://shop.example.com/pricing');
  });

  it('per email: counts, unique and total opens and clicks (human and raw), click map, rates', async () => {
    const r = await t.json('GET', `/api/v1/emails/${emailId}/report`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      email_id: emailId,
      broadcast_id: null,
      sent: 10,
      queued: 1,
      failed: 1,
      skipped: { total: 2, by_reason: { invalid_address: 1, unsubscribed: 1 } },
      delivered: 7,
      bounced: { total: 3, hard: 2, soft: 1 },
      complained: 1,
      unsubscribed: 1,
      opens: { unique: { human: 4, raw: 5 }, total: { human: 5, raw: 7 } },
      clicks: { unique: { human: 1, raw: 2 }, total: { human: 3, raw: 5 } },
      rates: {
        base: 'delivered',
        delivery: 0.7,
        open: { human: 0.5714, raw: 0.7143 },
        click: { human: 0.1429, raw: 0.2857 },
        click_to_open: { human: 0.25, raw: 0.4 },
        bounce: 0.3,
        complaint: 0.1429,
        unsubscribe: 0.1429,
      },
      links: [
        { url: 'https://shop.example.com/pricing', clicks: { unique: { human: 1, raw: 2 }, total: { human: 2, raw: 3 } } },
        { url: 'https://shop.example.com/docs', clicks: { unique: { human: 1, raw: 2 }, total: { human: 1, raw: 2 } } },
      ],
      variants: [],
    });
  });

  it('reads the events through the email index, the sends through theirs', async () => {
    const plan = async (sql: string) => (await t.client.execute(`EXPLAIN QUERY PLAN ${sql}`)).rows.map((r) => String(r.detail)).join(' | ');
    expect(await plan(`SELECT count(*) FROM events e WHERE json_extract(e.props, '$.email_id') = 1 AND e.type IN ('email_opened', 'email_clicked')`)).toMatch(/events_email_idx/);
    expect(await plan(`SELECT count(*) FROM email_sends s WHERE s.email_id = 1 AND s.is_test = 0`)).toMatch(/email_sends_email_idx/);
    expect(await plan(`SELECT count(*) FROM (SELECT complained_at FROM email_sends WHERE status = 'sent' AND is_test = 0 ORDER BY sent_at DESC LIMIT 1000)`)).toMatch(/email_sends_sent_idx/);
  });

  it('before any delivery is reported, rates are over the sent messages; an email with no sends has null rates', async () => {
    const other = (await t.json('POST', '/api/v1/emails', { name: 'Outbox only', subject: 'Hi', html: '<p>x</p>' })).body.id;
    const empty = (await t.json('GET', `/api/v1/emails/${other}/report`)).body;
    expect(empty.sent).toBe(0);
    expect(empty.rates).toEqual({ base: 'sent', delivery: null, open: { human: null, raw: null }, click: { human: null, raw: null }, click_to_open: { human: null, raw: null }, bounce: null, complaint: null, unsubscribe: null });
    const s = await row({ email_id: other, contact_id: contacts[0], to_email: 'rep0@example.com', opened_at: T0, human_opened_at: T0 });
    await row({ email_id: other, contact_id: contacts[1], to_email: 'rep1@example.com' });
    await ev('email_opened', s, false, undefined, other);
    const r = (await t.json('GET', `/api/v1/emails/${other}/report`)).body;
    expect(r.rates.base).toBe('sent');
    expect(r.rates.open).toEqual({ human: 0.5, raw: 0.5 });
    expect(r.opens.total).toEqual({ human: 1, raw: 1 });
  });

  it('once deliveries are reported, rates count delivered messages only: never above 100 % while reports lag', async () => {
    const lag = (await t.json('POST', '/api/v1/emails', { name: 'Lagging', subject: 'Hi', html: '<p>x</p>' })).body.id;
    // Four sent and opened by people; only one delivery report has come in so far.
    for (let i = 0; i < 4; i++) {
      await row({ email_id: lag, contact_id: contacts[i % contacts.length], to_email: `lag${i}@example.com`, opened_at: T0, human_opened_at: T0, ...(i === 0 ? { delivered_at: T0 } : {}) });
    }
    const r = (await t.json('GET', `/api/v1/emails/${lag}/report`)).body;
    expect(r.rates.base).toBe('delivered');
    expect(r.rates.delivery).toBe(0.25);
    expect(r.rates.open).toEqual({ human: 1, raw: 1 });
    expect(r.opens.unique).toEqual({ human: 4, raw: 4 });
  });

  it('404 for an email that does not exist; validation for a bad id', async () => {
    expectError(await t.json('GET', '/api/v1/emails/999999/report'), 404, 'NOT_FOUND');
    expectError(await t.json('GET', '/api/v1/emails/abc/report'), 422, 'VALIDATION_FAILED');
  });

  it('per broadcast: only its sends, with A/B variants side by side; 404 without such a broadcast', async () => {
    expectError(await t.json('GET', '/api/v1/broadcasts/424242/report'), 404, 'NOT_FOUND');
    const b = await t.client.execute({
      sql: "INSERT INTO email_broadcasts (email_id, segment_ids, status, ab, created_at, updated_at) VALUES (?, '[1]', 'sent', '{}', ?, ?) RETURNING id",
      args: [emailId, T0, T0],
    });
    const bid = Number(b.rows[0]!.id);
    const c = (i: number) => ({ contact_id: contacts[i], to_email: `rep${i}@example.com`, broadcast_id: bid, reason: `broadcast:${bid}:${i}` });
    const a1 = await row({ ...c(0), variant: 'a', delivered_at: T0, opened_at: T0, human_opened_at: T0 });
    await row({ ...c(1), variant: 'a', delivered_at: T0 });
    const b1 = await row({ ...c(2), variant: 'b', delivered_at: T0, opened_at: T0, human_opened_at: T0, clicked_at: T0, human_clicked_at: T0 });
    await row({ ...c(3), variant: 'b', delivered_at: T0, opened_at: T0 });
    await row({ ...c(4), variant: 'b', status: 'skipped', skip_reason: 'frequency_cap', sent_at: null });
    await ev('email_opened', a1, false);
    await ev('email_opened', b1, false);
    await ev('email_clicked', b1, false, 'https://shop.example.com/sale');
    const r = (await t.json('GET', `/api/v1/broadcasts/${bid}/report`)).body;
    expect(r).toMatchObject({
      email_id: emailId,
      broadcast_id: bid,
      sent: 4,
      delivered: 4,
      skipped: { total: 1, by_reason: { frequency_cap: 1 } },
      opens: { unique: { human: 2, raw: 3 }, total: { human: 2, raw: 2 } },
      clicks: { unique: { human: 1, raw: 1 }, total: { human: 1, raw: 1 } },
      links: [{ url: 'https://shop.example.com/sale', clicks: { unique: { human: 1, raw: 1 }, total: { human: 1, raw: 1 } } }],
    });
    expect(r.variants.map((v: any) => [v.variant, v.sent, v.opens.unique, v.clicks.unique, v.rates.open, v.skipped.total])).toEqual([
      ['a', 2, { human: 1, raw: 1 }, { human: 0, raw: 0 }, { human: 0.5, raw: 0.5 }, 0],
      ['b', 2, { human: 1, raw: 2 }, { human: 1, raw: 1 }, { human: 0.5, raw: 1 }, 1],
    ]);
    // The email's own report counts the broadcast's sends too.
    expect((await t.json('GET', `/api/v1/emails/${emailId}/report`)).body.sent).toBe(14);
  });

  it("per contact: the email history with each send's timestamps, and email events named on the timeline", async () => {
    const u = await makeApp({ env: env() });
    const s = await sendOne(u);
    await post(u, event('email.delivered', s.providerId!));
    await u.json('POST', `/api/v1/emails/${s.emailId}/test`, { to: 'qa@example.com', contact_id: s.contactId });
    const second = await u.json('POST', `/api/v1/emails/${s.emailId}/send`, { contact_id: s.contactId });
    // The loop the send kicked delivers it before the do-not-contact entry below (otherwise a race).
    await settleDeferred();
    await runJob(u, 'emails');
    expect((await u.json('PUT', `/api/v1/contacts/${s.contactId}/do-not-contact/email`, { reason: 'manual' })).status).toBe(200);
    const third = await u.json('POST', `/api/v1/emails/${s.emailId}/send`, { contact_id: s.contactId });
    expect(third.body.status).toBe('skipped');
    const h = await u.json('GET', `/api/v1/contacts/${s.contactId}/emails?limit=2`);
    expect(h.status).toBe(200);
    expect(h.body.data.map((x: any) => [x.send_id, x.status, x.skip_reason])).toEqual([
      [third.body.id, 'skipped', 'do_not_contact'],
      [second.body.id, 'sent', null],
    ]);
    expect(h.body.has_more).toBe(true);
    const next = await u.json('GET', `/api/v1/contacts/${s.contactId}/emails?limit=2&cursor=${encodeURIComponent(h.body.next_cursor)}`);
    expect(next.body.data).toHaveLength(1);
    expect(next.body.data[0]).toMatchObject({ send_id: s.sendId, email_id: s.emailId, email_name: expect.stringMatching(/^News/), subject: 'Hello', status: 'sent', to: s.to, bounce_type: null });
    expect(next.body.data[0].sent_at).toMatch(/^\d{4}-/);
    expect(next.body.data[0].delivered_at).toMatch(/^\d{4}-/);
    expect(next.body.data[0].opened_at).toBeNull();
    expectError(await u.json('GET', '/api/v1/contacts/987654/emails'), 404, 'NOT_FOUND');
    const timeline = (await u.json('GET', `/api/v1/contacts/${s.contactId}/events`)).body.data;
    const email = timeline.filter((e: any) => e.type.startsWith('email_'));
    expect(email.map((e: any) => [e.type, e.name])).toEqual([
      ['email_sent', expect.stringMatching(/^News/)],
      ['email_delivered', expect.stringMatching(/^News/)],
      ['email_sent', expect.stringMatching(/^News/)],
    ]);
  });
});

describe('complaint-rate alert (GET /api/v1/email-settings)', () => {
  it('the last 1,000 sent: 1 complaint is 0.1% (no alert), 2 are 0.2% (alert); older messages do not count', async () => {
    const t = await makeApp({ memory: true });
    const email = (await t.json('POST', '/api/v1/emails', { name: 'Bulk', subject: 'Hi', html: '<p>x</p>' })).body.id;
    const base = Date.parse('2026-11-01T00:00:00Z');
    expect((await t.json('GET', '/api/v1/email-settings')).body.alerts).toEqual([]);
    // An old complaint, outside the window once 1,000 newer messages are sent.
    await t.client.execute({
      sql: "INSERT INTO email_sends (email_id, to_email, reason, marketing, status, sent_at, complained_at, created_at, updated_at) VALUES (?, 'old@example.com', 'old', 1, 'sent', ?, ?, ?, ?)",
      args: [email, base - 1000, base, base, base],
    });
    await t.client.execute({
      sql: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
        INSERT INTO email_sends (email_id, to_email, reason, marketing, status, sent_at, complained_at, created_at, updated_at)
        SELECT ?, 'c' || i || '@example.com', 'bulk:' || i, 1, 'sent', ? + i, CASE WHEN i = 500 THEN ? END, ?, ? FROM n`,
      args: [email, base, base + 600, base, base],
    });
    // Tests and skipped rows are not messages sent.
    await t.client.execute({
      sql: "INSERT INTO email_sends (email_id, to_email, reason, marketing, is_test, status, sent_at, complained_at, created_at, updated_at) VALUES (?, 'qa@example.com', 'test:x', 1, 1, 'sent', ?, ?, ?, ?)",
      args: [email, base + 5000, base + 5000, base, base],
    });
    let s = await t.json('GET', '/api/v1/email-settings');
    expect(s.status).toBe(200);
    expect(s.body).toEqual({ frequency_cap: { per_day: null, per_week: null }, alerts: [] });
    await t.client.execute({ sql: 'UPDATE email_sends SET complained_at = ? WHERE reason = ?', args: [base + 700, 'bulk:900'] });
    s = await t.json('GET', '/api/v1/email-settings');
    expect(s.body.alerts).toEqual([
      {
        code: 'complaint_rate',
        rate: 0.002,
        window: 1000,
        complaints: 2,
        threshold: 0.001,
        message: expect.stringMatching(/^2 of the last 1000 emails sent were marked as spam \(0\.20%/),
      },
    ]);
    // The PATCH answer carries them too.
    expect((await t.json('PATCH', '/api/v1/email-settings', { frequency_cap: { per_day: 2 } })).body.alerts).toHaveLength(1);
  });

  it('a complaint through the webhook raises it on a small installation', async () => {
    const t = await makeApp({ env: env() });
    const s = await sendOne(t);
    await post(t, event('email.complained', s.providerId!));
    const alerts = (await t.json('GET', '/api/v1/email-settings')).body.alerts;
    expect(alerts).toEqual([expect.objectContaining({ code: 'complaint_rate', rate: 1, window: 1, complaints: 1 })]);
  });
});
