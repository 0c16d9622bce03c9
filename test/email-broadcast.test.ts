// Broadcasts (issue 10, point 2): an email of kind broadcast to the union of segments, rows
// written set-based in chunks with a resumable cursor, suppression as skipped rows, scheduling
// through the emails job, a second broadcast of the same email, cancel, the A/B subject test,
// and the API's validation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settleDeferred } from '../api/routes/defer';
import { makeApp, expectError, type TestApp } from './helpers';
import { startFakeResend, type FakeResend } from './fixtures/fake-resend';
import { upsertContacts } from '../api/core/contacts/upsert';
import { abDraw, runBroadcasts } from '../api/core/email/broadcast-run';
import { runSendLoop } from '../api/core/email/loop';

const API_KEY = 're_test_broadcast';
let fake: FakeResend;
beforeAll(async () => {
  fake = await startFakeResend({ apiKey: API_KEY });
});
afterAll(() => fake.close());

interface World {
  t: TestApp;
  tick: (ms: number) => void;
  now: () => number;
  ids: number[];
  emailId: number;
  segment: (members: number[]) => Promise<number>;
}

async function world(n: number, opts: { resend?: boolean; subject?: string } = {}): Promise<World> {
  let clock = Date.parse('2026-11-20T10:00:00Z');
  const env: Record<string, string> = opts.resend ? { RESEND_API_KEY: API_KEY, RESEND_BASE_URL: fake.url, PUBLIC_URL: 'https://leadline.example.com' } : {};
  const t = await makeApp({ env, now: () => clock });
  const ids: number[] = [];
  const rows = Array.from({ length: n }, (_, i) => ({ email: `m${i}@example.com`, first_name: `N${i}` }));
  for (let i = 0; i < rows.length; i += 500) {
    const out = await upsertContacts({ ctx: t.ctx, input: { rows: rows.slice(i, i + 500) } });
    ids.push(...out.results.map((r: any) => r.id));
  }
  const e = await t.json('POST', '/api/v1/emails', {
    name: 'Spring news',
    kind: 'broadcast',
    subject: opts.subject ?? 'News for {{ contact.first_name }}',
    html: '<p>Hi {{ contact.first_name }}</p>',
  });
  expect(e.status).toBe(201);
  let serial = 0;
  const segment = async (members: number[]) => {
    const s = await t.json('POST', '/api/v1/segments', { name: `S${++serial}`, kind: 'static' });
    expect(s.status).toBe(201);
    await t.client.execute({
      sql: "INSERT INTO segment_members (segment_id, contact_id, source, added_at) SELECT ?, value, 'manual', 0 FROM json_each(?)",
      args: [s.body.id, JSON.stringify(members)],
    });
    return s.body.id as number;
  };
  return { t, tick: (ms) => (clock += ms), now: () => clock, ids, emailId: e.body.id, segment };
}

const broadcast = (w: World, body: unknown, headers?: Record<string, string>) => w.t.json('POST', `/api/v1/emails/${w.emailId}/broadcast`, body, headers ? { headers } : undefined);
/** Due a second from now, so that no kick after the answer starts it: the test runs each step. */
async function held(w: World, body: Record<string, unknown>) {
  const r = await broadcast(w, { ...body, send_at: new Date(w.now() + 1000).toISOString() });
  expect(r.status).toBe(202);
  w.tick(1000);
  return r;
}
const get = async (w: World, id: number) => (await w.t.json('GET', `/api/v1/broadcasts/${id}`)).body;

/** Runs the emails job until the broadcast is finished (or `rounds` runs). */
async function drain(w: World, id: number, rounds = 20) {
  for (let i = 0; i < rounds; i++) {
    // The loop an API call kicked after its answer holds its claims until it ends (the clock is frozen).
    await settleDeferred();
    const r = await w.t.json('POST', '/api/v1/jobs/emails');
    expect(r.status).toBe(200);
    const b = await get(w, id);
    if (b.status === 'sent' || b.status === 'cancelled') return b;
  }
  return get(w, id);
}

async function rows(w: World, id: number) {
  const r = await w.t.client.execute({ sql: 'SELECT contact_id, to_email, status, skip_reason, variant, reason FROM email_sends WHERE broadcast_id = ? ORDER BY contact_id', args: [id] });
  return r.rows.map((x) => ({ ...x }) as any);
}

describe('broadcasts', () => {
  it('sends once to each contact of the union of segments, in chunks, through Resend', async () => {
    const w = await world(100, { resend: true });
    const a = await w.segment(w.ids.slice(0, 60));
    const b = await w.segment(w.ids.slice(40, 100));
    const created = await held(w, { segment_ids: [a, b] });
    expect(created.body).toMatchObject({ email_id: w.emailId, segment_ids: [a, b], status: 'scheduled', ab_test: null, started_at: null });
    const before = fake.delivered.length;
    // Small chunks: the union is walked by contact id ranges across both segments.
    let runs = 0;
    while ((await get(w, created.body.id)).status === 'scheduled' || (await rows(w, created.body.id)).length < 100) {
      const r = await runBroadcasts(w.t.ctx, { chunk: 7, maxChunks: 2 });
      expect(r.rows).toBeLessThanOrEqual(2 * 14);
      if (++runs > 40) throw new Error('no progress');
    }
    expect(runs).toBeGreaterThan(5);
    const sends = await rows(w, created.body.id);
    expect(sends.map((s) => s.contact_id)).toEqual(w.ids);
    expect(new Set(sends.map((s) => s.reason))).toEqual(new Set([`broadcast:${w.emailId}`]));
    expect((await get(w, created.body.id)).status).toBe('sending');
    const done = await drain(w, created.body.id);
    expect(done).toMatchObject({ status: 'sent' });
    expect(done.started_at).not.toBeNull();
    expect(done.finished_at).not.toBeNull();
    const delivered = fake.delivered.slice(before);
    expect(delivered).toHaveLength(100);
    expect(new Set(delivered.map((d) => d.to)).size).toBe(100);
    expect(delivered.find((d) => d.to === 'm42@example.com')!.subject).toBe('News for N42');
  });

  it('records suppressed members as skipped with the reason', async () => {
    const w = await world(6);
    const s = await w.segment(w.ids);
    await w.t.json('PUT', `/api/v1/contacts/${w.ids[0]}/do-not-contact/email`, { reason: 'manual' });
    const email = (await w.t.json('GET', `/api/v1/emails/${w.emailId}`)).body;
    await w.t.client.execute({ sql: 'INSERT INTO contact_subscriptions (contact_id, category_id, subscribed, updated_at) VALUES (?, ?, 0, 0)', args: [w.ids[1]!, email.category_id] });
    await w.t.client.execute({ sql: 'UPDATE contacts SET email = NULL, email_normalized = NULL WHERE id = ?', args: [w.ids[2]!] });
    await w.t.json('PATCH', '/api/v1/email-settings', { frequency_cap: { per_day: 1 } });
    const other = await w.t.json('POST', '/api/v1/emails', { name: 'Other', kind: 'template', subject: 'x', html: '<p>x</p>' });
    await w.t.json('POST', `/api/v1/emails/${other.body.id}/send`, { contact_id: w.ids[3] });
    const b = await broadcast(w, { segment_ids: [s] });
    const done = await drain(w, b.body.id);
    expect(done.status).toBe('sent');
    const byContact = Object.fromEntries((await rows(w, b.body.id)).map((r) => [r.contact_id, [r.status, r.skip_reason]]));
    expect(byContact).toEqual({
      [w.ids[0]!]: ['skipped', 'do_not_contact'],
      [w.ids[1]!]: ['skipped', 'unsubscribed'],
      [w.ids[2]!]: ['skipped', 'invalid_address'],
      [w.ids[3]!]: ['skipped', 'frequency_cap'],
      [w.ids[4]!]: ['sent', null],
      [w.ids[5]!]: ['sent', null],
    });
  });

  it('waits for send_at: the emails job starts it when due, not before', async () => {
    const w = await world(5);
    const s = await w.segment(w.ids);
    const sendAt = new Date(w.now() + 3_600_000).toISOString();
    const b = await broadcast(w, { segment_ids: [s], send_at: sendAt });
    expect(b.body).toMatchObject({ status: 'scheduled', send_at: sendAt });
    await w.t.json('POST', '/api/v1/jobs/emails');
    w.tick(3_599_000);
    await w.t.json('POST', '/api/v1/jobs/emails');
    expect((await get(w, b.body.id)).status).toBe('scheduled');
    expect(await rows(w, b.body.id)).toHaveLength(0);
    w.tick(1_000);
    const done = await drain(w, b.body.id);
    expect(done).toMatchObject({ status: 'sent', started_at: sendAt });
    expect((await rows(w, b.body.id)).every((r) => r.status === 'sent')).toBe(true);
    const outbox = await w.t.client.execute('SELECT count(*) AS n FROM email_outbox');
    expect(Number(outbox.rows[0]!.n)).toBe(5);
  });

  it('resumes after a crash mid-way from its cursor, and racing runs write each row once', async () => {
    const w = await world(120);
    const s = await w.segment(w.ids);
    const b = await held(w, { segment_ids: [s] });
    // A run that died after three chunks: its rows and its cursor were committed together.
    await runBroadcasts(w.t.ctx, { chunk: 10, maxChunks: 3 });
    expect(await rows(w, b.body.id)).toHaveLength(30);
    const cur = await w.t.client.execute({ sql: 'SELECT cursor, phase FROM email_broadcasts WHERE id = ?', args: [b.body.id] });
    expect(cur.rows[0]).toMatchObject({ cursor: w.ids[29], phase: 'queue' });
    // A cursor behind its rows (as if a chunk's rows had been written by a racing run) only rewrites nothing.
    await w.t.client.execute({ sql: 'UPDATE email_broadcasts SET cursor = ? WHERE id = ?', args: [w.ids[9]!, b.body.id] });
    await Promise.all([runBroadcasts(w.t.ctx, { chunk: 10 }), runBroadcasts(w.t.ctx, { chunk: 10 }), runBroadcasts(w.t.ctx, { chunk: 10 })]);
    for (let i = 0; i < 5; i++) await runBroadcasts(w.t.ctx, { chunk: 10 });
    const all = await rows(w, b.body.id);
    expect(all.map((r) => r.contact_id)).toEqual(w.ids);
    const phase = await w.t.client.execute({ sql: 'SELECT phase FROM email_broadcasts WHERE id = ?', args: [b.body.id] });
    expect(phase.rows[0]!.phase).toBe('sending');
    expect((await drain(w, b.body.id)).status).toBe('sent');
    const sent = await w.t.client.execute('SELECT count(*) AS n, count(DISTINCT send_id) AS d FROM email_outbox');
    expect(sent.rows[0]).toMatchObject({ n: 120, d: 120 });
  });

  it('a second broadcast of the same email waits for the first and reaches only contacts without a send', async () => {
    const w = await world(10);
    const s = await w.segment(w.ids.slice(0, 6));
    const first = await broadcast(w, { segment_ids: [s] });
    expectError(await broadcast(w, { segment_ids: [s] }), 409, 'CONFLICT');
    expect((await drain(w, first.body.id)).status).toBe('sent');
    await w.t.client.execute({
      sql: "INSERT INTO segment_members (segment_id, contact_id, source, added_at) SELECT ?, value, 'manual', 0 FROM json_each(?)",
      args: [s, JSON.stringify(w.ids.slice(6))],
    });
    const second = await broadcast(w, { segment_ids: [s] });
    expect(second.status).toBe(202);
    expect((await drain(w, second.body.id)).status).toBe('sent');
    expect((await rows(w, second.body.id)).map((r) => r.contact_id)).toEqual(w.ids.slice(6));
    const outbox = await w.t.client.execute('SELECT to_email, count(*) AS n FROM email_outbox GROUP BY to_email HAVING n > 1');
    expect(outbox.rows).toHaveLength(0);
    const list = await w.t.json('GET', `/api/v1/broadcasts?email_id=${w.emailId}&limit=1`);
    expect(list.body.data.map((x: any) => x.id)).toEqual([second.body.id]);
    expect(list.body.has_more).toBe(true);
    const next = await w.t.json('GET', `/api/v1/broadcasts?email_id=${w.emailId}&limit=1&cursor=${list.body.next_cursor}`);
    expect(next.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(next.body.data.map((x: any) => x.id)).toEqual([first.body.id]);
    expect((await w.t.json('GET', '/api/v1/broadcasts?status=sent')).body.data).toHaveLength(2);
  });

  it('cancel stops it: no more rows, unsent ones removed, sent ones stay; only before it finished', async () => {
    const w = await world(50);
    const s = await w.segment(w.ids);
    const b = await held(w, { segment_ids: [s] });
    await runBroadcasts(w.t.ctx, { chunk: 10, maxChunks: 2 });
    // Part of what was written goes out.
    await runSendLoop(w.t.ctx, { maxCalls: 1, driver: { name: 'outbox', maxBatch: 5, send: async ({ messages }) => ({ kind: 'done', results: messages.map((m) => ({ sendId: m.sendId, ok: true as const, providerId: `x-${m.sendId}` })) }) } });
    const c = await w.t.json('POST', `/api/v1/broadcasts/${b.body.id}/cancel`);
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ id: b.body.id, status: 'cancelled', cancelled_sends: 15 });
    expect(c.body.finished_at).not.toBeNull();
    await drain(w, b.body.id);
    await runBroadcasts(w.t.ctx);
    const left = await rows(w, b.body.id);
    expect(left).toHaveLength(5);
    expect(left.every((r) => r.status === 'sent')).toBe(true);
    expectError(await w.t.json('POST', `/api/v1/broadcasts/${b.body.id}/cancel`), 409, 'CONFLICT');
    expectError(await w.t.json('POST', '/api/v1/broadcasts/999999/cancel'), 404, 'NOT_FOUND');
    // A scheduled one cancels before it writes anything; a new broadcast reaches everyone not sent yet.
    const later = await broadcast(w, { segment_ids: [s], send_at: new Date(w.now() + 60_000).toISOString() });
    expect((await w.t.json('POST', `/api/v1/broadcasts/${later.body.id}/cancel`)).body).toMatchObject({ status: 'cancelled', cancelled_sends: 0 });
    w.tick(120_000);
    await w.t.json('POST', '/api/v1/jobs/emails');
    expect(await rows(w, later.body.id)).toHaveLength(0);
    const again = await broadcast(w, { segment_ids: [s] });
    expect((await drain(w, again.body.id)).status).toBe('sent');
    expect(await rows(w, again.body.id)).toHaveLength(45);
  });

  it('takes an Idempotency-Key: a retried request answers the same broadcast', async () => {
    const w = await world(3);
    const s = await w.segment(w.ids);
    const one = await w.t.call('POST', `/api/v1/emails/${w.emailId}/broadcast`, { segment_ids: [s] }, { headers: { 'idempotency-key': 'b-1' } });
    const two = await w.t.call('POST', `/api/v1/emails/${w.emailId}/broadcast`, { segment_ids: [s] }, { headers: { 'idempotency-key': 'b-1' } });
    expect(one.status).toBe(202);
    expect(two.status).toBe(202);
    expect(two.headers.get('idempotent-replayed')).toBe('true');
    expect((await two.json()).id).toBe((await one.json()).id);
  });
});

describe('A/B subject test', () => {
  const SUBJECTS = ['Plain {{ contact.first_name }}', 'Bold {{ contact.first_name }}'];

  async function abWorld(metric: 'open' | 'click', n = 2000) {
    const w = await world(n);
    const s = await w.segment(w.ids);
    const b = await broadcast(w, { segment_ids: [s], ab_test: { subjects: SUBJECTS, sample_percent: 20, metric, decide_after: 3600 } });
    expect(b.status).toBe(202);
    expect(b.body.ab_test).toMatchObject({ subjects: SUBJECTS, sample_percent: 20, metric, decide_after: 3600, winner: null, decide_at: null });
    await settleDeferred();
    for (let i = 0; i < 5; i++) await w.t.json('POST', '/api/v1/jobs/emails');
    return { w, id: b.body.id as number };
  }

  async function outboxByVariant(w: World, id: number) {
    const r = await w.t.client.execute({
      sql: 'SELECT s.contact_id, s.variant, o.subject FROM email_sends s JOIN email_outbox o ON o.send_id = s.id WHERE s.broadcast_id = ? ORDER BY s.contact_id',
      args: [id],
    });
    return r.rows.map((x) => ({ ...x }) as any);
  }

  it('sends the sample its variants, decides by human opens after decide_after, and sends the rest the winning subject', async () => {
    const { w, id } = await abWorld('open');
    const b = await get(w, id);
    expect(b.status).toBe('sending');
    expect(b.ab_test.decide_at).toBe(new Date(w.now() + 3_600_000).toISOString());
    const sample = await rows(w, id);
    // Exactly the contacts the deterministic draw puts in the sample, each with its variant.
    const expected = w.ids.filter((c) => abDraw(c, id).bucket < 2000);
    expect(sample.map((r) => r.contact_id)).toEqual(expected);
    expect(sample.map((r) => r.variant)).toEqual(expected.map((c) => 'ab'[abDraw(c, id).variantIndex(2)]));
    expect(sample.length).toBeGreaterThan(2000 * 0.2 * 0.8);
    expect(sample.length).toBeLessThan(2000 * 0.2 * 1.2);
    const a = sample.filter((r) => r.variant === 'a').length;
    expect(Math.abs(a - sample.length / 2)).toBeLessThan(sample.length * 0.15);
    const sent = await outboxByVariant(w, id);
    expect(sent).toHaveLength(sample.length);
    for (const m of sent) expect(m.subject).toBe(`${m.variant === 'a' ? 'Plain' : 'Bold'} N${w.ids.indexOf(m.contact_id)}`);
    // b is opened more by humans (machine opens do not count).
    await w.t.client.execute({ sql: "UPDATE email_sends SET human_opened_at = 1, opened_at = 1 WHERE broadcast_id = ? AND variant = 'b' AND contact_id % 2 = 0", args: [id] });
    await w.t.client.execute({ sql: "UPDATE email_sends SET human_opened_at = 1, opened_at = 1 WHERE broadcast_id = ? AND variant = 'a' AND contact_id % 5 = 0", args: [id] });
    await w.t.client.execute({ sql: "UPDATE email_sends SET opened_at = 1 WHERE broadcast_id = ? AND variant = 'a'", args: [id] });
    w.tick(3_599_000);
    await w.t.json('POST', '/api/v1/jobs/emails');
    expect((await get(w, id)).ab_test.winner).toBeNull();
    expect(await rows(w, id)).toHaveLength(sample.length);
    w.tick(1_000);
    const done = await drain(w, id);
    expect(done).toMatchObject({ status: 'sent', ab_test: { winner: 'b', decided_at: new Date(w.now()).toISOString() } });
    expect(done.ab_test.results.map((x: any) => x.variant)).toEqual(['a', 'b']);
    expect(done.ab_test.results[1].rate).toBeGreaterThan(done.ab_test.results[0].rate);
    const all = await outboxByVariant(w, id);
    expect(all).toHaveLength(2000);
    const rest = all.filter((m) => m.variant === null);
    expect(rest).toHaveLength(2000 - sample.length);
    for (const m of rest) expect(m.subject).toBe(`Bold N${w.ids.indexOf(m.contact_id)}`);
    // The broadcast's report (reports.ts) counts every send, and the sample per variant; the rest has no variant.
    const report = await w.t.json('GET', `/api/v1/broadcasts/${id}/report`);
    expect(report.status).toBe(200);
    expect(report.body.sent).toBe(2000);
    expect(report.body.variants.map((v: any) => [v.variant, v.sent])).toEqual([
      ['a', sample.filter((r) => r.variant === 'a').length],
      ['b', sample.filter((r) => r.variant === 'b').length],
    ]);
  });

  it('decides only once the whole sample went out, however long after decide_after that is', async () => {
    const { w, id } = await abWorld('open', 600);
    // One sample message is still waiting (paced, or the provider is down) when the time comes.
    const held = (await rows(w, id))[0]!;
    await w.t.client.execute({
      sql: "UPDATE email_sends SET status = 'pending', sent_at = NULL, next_attempt_at = ? WHERE broadcast_id = ? AND contact_id = ?",
      args: [w.now() + 7_200_000, id, held.contact_id],
    });
    w.tick(3_600_000);
    for (let i = 0; i < 3; i++) await w.t.json('POST', '/api/v1/jobs/emails');
    const waiting = await get(w, id);
    expect(waiting.ab_test.winner).toBeNull();
    expect(waiting.status).toBe('sending');
    expect((await rows(w, id)).filter((r) => r.variant === null)).toHaveLength(0);
    // Once it went out, the next run decides and sends the rest.
    w.tick(3_600_000);
    const done = await drain(w, id);
    expect(done.status).toBe('sent');
    expect(done.ab_test.winner).toBe('a');
  });

  it('decides by human clicks with metric click; a tie goes to variant a', async () => {
    const clicked = await abWorld('click', 600);
    await clicked.w.t.client.execute({ sql: "UPDATE email_sends SET human_clicked_at = 1 WHERE broadcast_id = ? AND variant = 'b'", args: [clicked.id] });
    await clicked.w.t.client.execute({ sql: "UPDATE email_sends SET human_opened_at = 1 WHERE broadcast_id = ? AND variant = 'a'", args: [clicked.id] });
    clicked.w.tick(3_600_000);
    expect((await drain(clicked.w, clicked.id)).ab_test.winner).toBe('b');

    const tie = await abWorld('open', 600);
    tie.w.tick(3_600_000);
    const done = await drain(tie.w, tie.id);
    expect(done.ab_test.winner).toBe('a');
    const rest = (await outboxByVariant(tie.w, tie.id)).filter((m) => m.variant === null);
    expect(rest.length).toBeGreaterThan(0);
    for (const m of rest) expect(m.subject.startsWith('Plain ')).toBe(true);
  });

  it('splits the sample between up to four variants', async () => {
    const w = await world(1000);
    const s = await w.segment(w.ids);
    const b = await broadcast(w, { segment_ids: [s], ab_test: { subjects: ['A', 'B', 'C', 'D'], sample_percent: 50, metric: 'open', decide_after: 60 } });
    await runBroadcasts(w.t.ctx);
    const sample = await rows(w, b.body.id);
    const counts = Object.fromEntries(['a', 'b', 'c', 'd'].map((v) => [v, sample.filter((r) => r.variant === v).length]));
    for (const v of ['a', 'b', 'c', 'd']) expect(counts[v]).toBeGreaterThan(sample.length / 4 - 45);
    expect(sample.length).toBeGreaterThan(420);
    expect(sample.length).toBeLessThan(580);
  });
});

describe('validation', () => {
  it('refuses what it cannot send, with 4xx and the error shape', async () => {
    const w = await world(2);
    const s = await w.segment(w.ids);
    const bad = async (body: unknown, field: string) => {
      const r = await broadcast(w, body);
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details.map((d: any) => d.field)).toContain(field);
    };
    await bad({ segment_ids: [s, 999_999] }, 'segment_ids.1');
    await bad({ segment_ids: [] }, 'segment_ids');
    await bad({ segment_ids: [s, s] }, 'segment_ids');
    await bad({ segment_ids: [s], send_at: 'tomorrow' }, 'send_at');
    await bad({ segment_ids: [s], send_at: '2026-13-45T00:00:00Z' }, 'send_at');
    await bad({ segment_ids: [s], send_at: '2099-01-01T00:00:00Z' }, 'send_at');
    const ab = { subjects: ['a', 'b'], sample_percent: 10, metric: 'open', decide_after: 3600 };
    await bad({ segment_ids: [s], ab_test: { ...ab, sample_percent: 0 } }, 'ab_test.sample_percent');
    await bad({ segment_ids: [s], ab_test: { ...ab, sample_percent: 51 } }, 'ab_test.sample_percent');
    await bad({ segment_ids: [s], ab_test: { ...ab, subjects: ['only one'] } }, 'ab_test.subjects');
    await bad({ segment_ids: [s], ab_test: { ...ab, subjects: ['1', '2', '3', '4', '5'] } }, 'ab_test.subjects');
    await bad({ segment_ids: [s], ab_test: { ...ab, subjects: ['ok', 'bad {{ x | nope }}'] } }, 'ab_test.subjects.1');
    await bad({ segment_ids: [s], ab_test: { ...ab, metric: 'reply' } }, 'ab_test.metric');
    await bad({ segment_ids: [s], ab_test: { ...ab, decide_after: 'PT4H' } }, 'ab_test.decide_after');
    await bad({ segment_ids: [s], extra: 1 }, 'extra');
    const tpl = await w.t.json('POST', '/api/v1/emails', { name: 'T', kind: 'template', subject: 'x', html: '<p>x</p>' });
    const wrong = await w.t.json('POST', `/api/v1/emails/${tpl.body.id}/broadcast`, { segment_ids: [s] });
    expectError(wrong, 422, 'VALIDATION_FAILED');
    expect(wrong.body.error.details[0].field).toBe('kind');
    expectError(await w.t.json('POST', '/api/v1/emails/999999/broadcast', { segment_ids: [s] }), 404, 'NOT_FOUND');
    expectError(await w.t.json('GET', '/api/v1/broadcasts/999999'), 404, 'NOT_FOUND');
    expectError(await w.t.json('GET', '/api/v1/broadcasts?status=nope'), 422, 'VALIDATION_FAILED');
    expectError(await w.t.json('GET', '/api/v1/broadcasts?cursor=bogus'), 400, 'BAD_REQUEST');
    // A read key cannot broadcast.
    expect((await w.t.json('POST', `/api/v1/emails/${w.emailId}/broadcast`, { segment_ids: [s] }, { key: w.t.keys.read })).status).toBe(403);
    // A past send_at starts now.
    const past = await broadcast(w, { segment_ids: [s], send_at: '2020-01-01T00:00:00+02:00' });
    expect(past.status).toBe(202);
    expect(past.body.send_at).toBe(new Date(w.now()).toISOString());
  });
});
