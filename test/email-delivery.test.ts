// Delivery through Resend, against a fake Resend on 127.0.0.1 that keeps Resend's idempotency
// promises and counts what it delivered per Idempotency-Key: batching and headers, exactly once
// with two send loops racing on one database, a loop that dies after claiming (before or after
// the provider call), 429 and 5xx backoff, pacing from the rate-limit headers, refused messages.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { makeApp, type TestApp } from './helpers';
import { startFakeResend, type FakeResend } from './fixtures/fake-resend';
import { startHranaServer } from './fixtures/hrana-server';
import { createCtx, type Ctx } from '../api/core/context';
import { parseConfig } from '../api/env';
import { prepareDatabase } from '../api/db/open';
import { createEmail } from '../api/core/email/emails';
import { contactsSource, queueStatement } from '../api/core/email/queue';
import { getEmailSettings } from '../api/core/email/settings';
import { driverFor, MAX_LANES, runSendLoop } from '../api/core/email/loop';
import type { EmailDriver } from '../api/core/email/driver';
import { claimBatch, completeBatch, LEASE_MS, MAX_FAILURES } from '../api/core/email/batch';
import { resendDriver } from '../api/core/email/resend';
import { upsertContacts } from '../api/core/contacts/upsert';
import { setDoNotContact } from '../api/core/contacts/dnc';

const API_KEY = 're_test_0123456789';
let fake: FakeResend;
beforeAll(async () => {
  fake = await startFakeResend({ apiKey: API_KEY });
});
afterAll(() => fake.close());
afterEach(() => {
  fake.delivered.length = 0;
  fake.requestsByKey.clear();
  fake.deliveredByKey.clear();
  fake.requests = 0;
  fake.script.length = 0;
  fake.successHeaders = {};
  fake.delayMs = 0;
  fake.refuse.clear();
});

// The fake has no rate limit: the shared bucket (email-pacing.test.ts) is set out of the way.
const env = () => ({ RESEND_API_KEY: API_KEY, RESEND_BASE_URL: fake.url, EMAIL_FROM: 'Shop <news@shop.example.com>', PUBLIC_URL: 'https://leadline.example.com', EMAIL_RATE_PER_SECOND: '1000' });

/** Contacts and one email, and a send row per contact queued the way broadcasts will queue them. */
async function seed(ctx: Ctx, n: number, opts: { prefix?: string } = {}) {
  const rows = Array.from({ length: n }, (_, i) => ({ email: `${opts.prefix ?? 'r'}${i}@example.com`, first_name: `N${i}` }));
  const ids: number[] = [];
  for (let i = 0; i < rows.length; i += 500) {
    const out = await upsertContacts({ ctx, input: { rows: rows.slice(i, i + 500) } });
    ids.push(...out.results.map((r: any) => r.id));
  }
  const email = await createEmail({ ctx, input: { name: 'News', kind: 'template', subject: 'Hello {{ contact.first_name }}', html: '<p>Hi {{ contact.first_name }}</p>' } });
  await ctx.client.execute(
    queueStatement({
      email: { id: email.id, kind: 'template', categoryId: email.category_id },
      reason: 'test-run',
      recipients: contactsSource(ids),
      settings: await getEmailSettings({ ctx }),
      now: ctx.now(),
    }),
  );
  return { ids, emailId: email.id };
}

async function statuses(ctx: Ctx) {
  const r = await ctx.client.execute('SELECT status, count(*) AS n FROM email_sends GROUP BY status');
  return Object.fromEntries(r.rows.map((x) => [String(x.status), Number(x.n)]));
}

async function events(ctx: Ctx) {
  return Number((await ctx.client.execute("SELECT count(*) AS n FROM events WHERE type = 'email_sent'")).rows[0]!.n);
}

/** An app whose clock the test moves. */
async function clocked(): Promise<{ t: TestApp; tick: (ms: number) => void }> {
  let clock = Date.now();
  const t = await makeApp({ env: env(), now: () => clock });
  return { t, tick: (ms) => (clock += ms) };
}

describe('through Resend', () => {
  it('sends a call of up to 100 messages with its Idempotency-Key and records the provider ids', async () => {
    const { t } = await clocked();
    await seed(t.ctx, 130);
    expect(driverFor(t.ctx).name).toBe('resend');
    const out = await runSendLoop(t.ctx);
    expect(out).toMatchObject({ calls: 2, sent: 130, failed: 0, retried: 0 });
    expect(fake.requests).toBe(2);
    expect([...fake.deliveredByKey.values()].sort()).toEqual([100, 30].sort());
    for (const key of fake.requestsByKey.keys()) expect(key).toMatch(/^leadline\/[A-Za-z0-9]{16}\/[0-9a-f]{40}$/);
    const m = fake.delivered.find((d) => d.to === 'r7@example.com')!;
    expect(m).toMatchObject({ from: 'Shop <news@shop.example.com>', subject: 'Hello N7' });
    // The template has no unsubscribe link: the footer brings one.
    expect(m.html).toMatch(/^<p>Hi N7<\/p>\n<p [^>]*>Don't want these emails\? <a href="https:\/\/leadline\.example\.com\/u\/[\w.-]+"/);
    expect(m.headers).toMatchObject({ 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });
    expect(m.headers['List-Unsubscribe']).toMatch(/^<https:\/\/leadline\.example\.com\/u\/([\w.-]+)>, <mailto:news@shop\.example\.com\?subject=unsubscribe%20\1>$/);
    const row = await t.client.execute({ sql: "SELECT id, provider_id, status, attempts FROM email_sends WHERE to_email = 'r7@example.com'" });
    expect(row.rows[0]).toMatchObject({ provider_id: m.id, status: 'sent', attempts: 1 });
    expect(m.tags).toEqual([{ name: 'leadline_send', value: String(row.rows[0]!.id) }]);
    expect(await events(t.ctx)).toBe(130);
    // Nothing is due any more: the next run makes no call.
    expect(await runSendLoop(t.ctx)).toMatchObject({ calls: 0 });
    expect(fake.requests).toBe(2);
  });

  async function race(opts: { leasesRunOut: boolean }) {
    const dir = mkdtempSync(join(tmpdir(), 'leadline-race-'));
    const db = await startHranaServer({ path: join(dir, 'race.db') });
    const ctxs: Ctx[] = [];
    // One clock for both loops; when leases are to run out, it jumps past a lease now and then
    // while calls are in flight, so the other loop re-claims calls that are still being made.
    let skew = 0;
    try {
      for (let i = 0; i < 2; i++) {
        const client = createClient({ url: db.url });
        if (i === 0) await prepareDatabase(client, db.url);
        ctxs.push(createCtx({ client, config: parseConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent', ...env() }), now: () => Date.now() + skew }));
      }
      const N = 300;
      await seed(ctxs[0]!, N);
      // Small calls and a slow provider: many claims, each loop often claiming while the other calls.
      fake.delayMs = 15;
      const callsBy = [0, 0];
      const small = (ctx: Ctx, n: number) => {
        const d = resendDriver(ctx.config);
        return {
          ...d,
          maxBatch: 7,
          send: async (call: Parameters<typeof d.send>[0]) => {
            callsBy[n]!++;
            // Only the first loop stalls: two loops stalling together would just wait for each other.
            if (opts.leasesRunOut && n === 0 && callsBy[n]! % 3 === 0) {
              // This call's lease runs out before it reaches the provider; it waits (a second at
              // most) for the other loop to take the call over and make it first.
              skew += LEASE_MS + 1;
              for (let i = 0; i < 100 && !fake.requestsByKey.has(call.idempotencyKey); i++) await new Promise((r) => setTimeout(r, 10));
            }
            return d.send(call);
          },
        };
      };
      const loop = async (ctx: Ctx, n: number) => {
        const driver = small(ctx, n);
        for (let i = 0; i < 300; i++) {
          await runSendLoop(ctx, { driver, maxCalls: 2 });
          const left = await ctx.client.execute("SELECT count(*) AS n FROM email_sends WHERE status IN ('pending', 'sending')");
          if (Number(left.rows[0]!.n) === 0) return;
          // Released calls (a 409 for a key still in flight) are due a second later.
          if (opts.leasesRunOut) skew += 1000;
        }
      };
      await Promise.all(ctxs.map(loop));
      const to = fake.delivered.map((d) => d.to);
      console.log(`race${opts.leasesRunOut ? ' (leases running out)' : ''}: ${fake.requests} calls (${callsBy.join(' + ')}), ${to.length} delivered, ${new Set(to).size} distinct`);
      // Both loops did part of the work.
      expect(Math.min(...callsBy)).toBeGreaterThan(3);
      expect(new Set(to).size).toBe(N);
      expect(to.length).toBe(N);
      if (!opts.leasesRunOut) expect([...fake.requestsByKey.values()].every((n) => n === 1)).toBe(true);
      else expect([...fake.requestsByKey.values()].some((n) => n > 1)).toBe(true);
      expect(await statuses(ctxs[0]!)).toEqual({ sent: N });
      expect(await events(ctxs[0]!)).toBe(N);
    } finally {
      for (const c of ctxs) c.client.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('sends exactly once with two send loops racing on one database (0 duplicates, 0 lost)', () => race({ leasesRunOut: false }));

  it('sends exactly once when leases run out mid-call and the other loop re-sends those calls', () => race({ leasesRunOut: true }));

  it('re-sends the same call under the same key when a loop died after claiming, before calling', async () => {
    const { t, tick } = await clocked();
    await seed(t.ctx, 5);
    const dead = await claimBatch(t.ctx, { owner: 'dies-before-the-call', limit: 100 });
    expect(dead!.messages).toHaveLength(5);
    // Its lease holds: nobody else takes the rows.
    expect(await runSendLoop(t.ctx)).toMatchObject({ calls: 0 });
    tick(LEASE_MS + 1);
    expect(await runSendLoop(t.ctx)).toMatchObject({ calls: 1, sent: 5 });
    expect(fake.requestsByKey.get(dead!.key)).toBe(1);
    expect(fake.deliveredByKey.get(dead!.key)).toBe(5);
    const rows = await t.client.execute('SELECT attempts, status FROM email_sends');
    expect(rows.rows.every((r) => r.status === 'sent' && Number(r.attempts) === 2)).toBe(true);
    expect(await events(t.ctx)).toBe(5);
  });

  it('delivers once when a loop died after the provider call: the re-claim re-sends the key, the provider answers without sending', async () => {
    const { t, tick } = await clocked();
    await seed(t.ctx, 4);
    const driver = driverFor(t.ctx);
    const dead = (await claimBatch(t.ctx, { owner: 'dies-after-the-call', limit: 100 }))!;
    const first = await driver.send({ idempotencyKey: dead.key, messages: dead.messages });
    expect(first.kind).toBe('done');
    expect(fake.delivered).toHaveLength(4);
    tick(LEASE_MS + 1);
    expect(await runSendLoop(t.ctx)).toMatchObject({ calls: 1, sent: 4 });
    expect(fake.requestsByKey.get(dead.key)).toBe(2);
    expect(fake.deliveredByKey.get(dead.key)).toBe(4);
    expect(fake.delivered).toHaveLength(4);
    // The provider's ids from the first (and only) delivery.
    const ids = (await t.client.execute('SELECT provider_id FROM email_sends ORDER BY provider_id')).rows.map((r) => String(r.provider_id));
    expect(ids).toEqual(fake.delivered.map((d) => d.id).sort());
    // The dead loop wakes up and tries to record its call: its lease is gone, it writes nothing.
    expect(await completeBatch(t.ctx, dead, first)).toEqual({ sent: 0, failed: 0, retried: 0 });
    expect(await events(t.ctx)).toBe(4);
  });

  it('counts a re-sent call the provider took with another payload as sent (the contact changed meanwhile)', async () => {
    const { t, tick } = await clocked();
    const { ids } = await seed(t.ctx, 2);
    const dead = (await claimBatch(t.ctx, { owner: 'dies-after-the-call', limit: 100 }))!;
    await driverFor(t.ctx).send({ idempotencyKey: dead.key, messages: dead.messages });
    await t.json('PATCH', `/api/v1/contacts/${ids[0]}`, { first_name: 'Renamed' });
    tick(LEASE_MS + 1);
    expect(await runSendLoop(t.ctx)).toMatchObject({ sent: 2 });
    expect(fake.delivered).toHaveLength(2);
    expect(await statuses(t.ctx)).toEqual({ sent: 2 });
  });

  it('backs off on 429 as Retry-After says, without counting it as a failure, and checks the rows again', async () => {
    const { t, tick } = await clocked();
    const { ids } = await seed(t.ctx, 3);
    fake.script.push({ status: 429, headers: { 'retry-after': '7', 'ratelimit-remaining': '0', 'ratelimit-reset': '7' } });
    expect(await runSendLoop(t.ctx)).toMatchObject({ calls: 1, sent: 0, retried: 3 });
    // Resend took nothing: the rows leave the call (no key) and wait, with the reason.
    const rows = await t.client.execute('SELECT status, failures, next_attempt_at, batch_key, error FROM email_sends');
    const now = t.ctx.now();
    for (const r of rows.rows) expect(r).toMatchObject({ status: 'pending', failures: 0, next_attempt_at: now + 7000, batch_key: null });
    expect(String(rows.rows[0]!.error)).toMatch(/^Resend 429/);
    // Not yet: neither due nor allowed by the pacing.
    expect(await runSendLoop(t.ctx)).toMatchObject({ calls: 0 });
    // One recipient leaves while the call waits: that message is not sent.
    await setDoNotContact({ ctx: t.ctx, input: { id: ids[1]!, channel: 'email', reason: 'unsubscribed' } });
    tick(7000);
    expect(await runSendLoop(t.ctx)).toMatchObject({ calls: 1, sent: 2, skipped: 1 });
    expect(fake.delivered.map((d) => d.to).sort()).toEqual(['r0@example.com', 'r2@example.com']);
  });

  it('holds at most MAX_LANES calls at once over overlapping loops (the job first, a kick after), and the later loop still sends', async () => {
    const { t } = await clocked();
    await seed(t.ctx, 60);
    let inFlight = 0;
    let most = 0;
    const driver: EmailDriver = {
      name: 'outbox',
      maxBatch: 5,
      send: async ({ messages }) => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return { kind: 'done', results: messages.map((m) => ({ sendId: m.sendId, ok: true as const, providerId: null })) };
      },
    };
    // The job's loop takes both lanes; the kicked loop, started while they run, waits for one.
    const job = runSendLoop(t.ctx, { driver, lanes: 2, maxCalls: 4 });
    const kicked = runSendLoop(t.ctx, { driver });
    const [a, b] = await Promise.all([job, kicked]);
    expect(most).toBe(MAX_LANES);
    expect(a).toMatchObject({ calls: 4, sent: 20 });
    expect(b).toMatchObject({ calls: 8, sent: 40 });
    expect(await statuses(t.ctx)).toEqual({ sent: 60 });
  });

  it('paces calls by ratelimit-remaining and ratelimit-reset', async () => {
    const { t, tick } = await clocked();
    await seed(t.ctx, 250);
    fake.successHeaders = { 'ratelimit-limit': '2', 'ratelimit-remaining': '0', 'ratelimit-reset': '30' };
    // The window is used up after each call: one call per run until the clock moves on.
    expect(await runSendLoop(t.ctx)).toMatchObject({ calls: 1, sent: 100 });
    expect(await runSendLoop(t.ctx)).toMatchObject({ calls: 0 });
    tick(30_000);
    expect(await runSendLoop(t.ctx)).toMatchObject({ calls: 1, sent: 100 });
    fake.successHeaders = { 'ratelimit-remaining': '5' };
    tick(30_000);
    expect(await runSendLoop(t.ctx)).toMatchObject({ calls: 1, sent: 50 });
    expect(fake.delivered).toHaveLength(250);
  });

  it('backs off on 5xx and gives up after the last attempt, with the error', async () => {
    const { t, tick } = await clocked();
    await seed(t.ctx, 2);
    for (let i = 0; i < MAX_FAILURES; i++) fake.script.push({ status: 503, headers: { 'retry-after': '1' } });
    let waited = 0;
    for (let i = 0; i < MAX_FAILURES; i++) {
      const out = await runSendLoop(t.ctx);
      expect(out.calls, `attempt ${i + 1}`).toBe(1);
      const row = (await t.client.execute('SELECT status, failures, next_attempt_at, error FROM email_sends LIMIT 1')).rows[0]!;
      expect(row.failures).toBe(i + 1);
      expect(String(row.error)).toMatch(/^Resend 503: internal_server_error/);
      if (i < MAX_FAILURES - 1) {
        expect(row.status).toBe('pending');
        const wait = Number(row.next_attempt_at) - t.ctx.now();
        expect(wait).toBeGreaterThan(waited);
        waited = wait;
        tick(wait);
      } else {
        expect(row).toMatchObject({ status: 'failed', next_attempt_at: null });
      }
    }
    expect(fake.delivered).toHaveLength(0);
    expect(await statuses(t.ctx)).toEqual({ failed: 2 });
    expect(await events(t.ctx)).toBe(0);
  });

  it('does not deliver twice when the provider delivered and then answered 5xx or hung up', async () => {
    const { t, tick } = await clocked();
    await seed(t.ctx, 3);
    fake.script.push({ deliverThen: { status: 500 } });
    expect(await runSendLoop(t.ctx)).toMatchObject({ calls: 1, retried: 3 });
    tick(30_000);
    expect(await runSendLoop(t.ctx)).toMatchObject({ calls: 1, sent: 3 });
    expect(fake.delivered).toHaveLength(3);

    await seed(t.ctx, 3, { prefix: 'h' });
    fake.script.push({ deliverThenHangUp: true });
    const out = await runSendLoop(t.ctx);
    expect(out).toMatchObject({ calls: 1, retried: 3 });
    const err = (await t.client.execute("SELECT error FROM email_sends WHERE to_email = 'h0@example.com'")).rows[0]!.error;
    expect(String(err)).toMatch(/^Resend unreachable: application_error/);
    tick(30_000);
    expect(await runSendLoop(t.ctx)).toMatchObject({ sent: 3 });
    expect(fake.delivered).toHaveLength(6);
    expect(new Set(fake.delivered.map((d) => d.to)).size).toBe(6);
    expect(await events(t.ctx)).toBe(6);
  });

  it('fails only the messages the provider refused; a wrong API key is retried, not failed', async () => {
    const { t, tick } = await clocked();
    await seed(t.ctx, 3);
    fake.refuse.add('r1@example.com');
    expect(await runSendLoop(t.ctx)).toMatchObject({ calls: 1, sent: 2, failed: 1 });
    const refused = (await t.client.execute("SELECT status, error FROM email_sends WHERE to_email = 'r1@example.com'")).rows[0]!;
    expect(refused).toMatchObject({ status: 'failed' });
    expect(String(refused.error)).toMatch(/^Resend refused it: Invalid `to` field/);

    // A wrong key is the operator's to fix: the call waits (five minutes at a time), never counts as
    // a failure however long it takes, and goes out with the right key.
    let clock = Date.now();
    const wrong = await makeApp({ env: { ...env(), RESEND_API_KEY: 're_wrong_key_000000' }, now: () => clock });
    await seed(wrong.ctx, 1);
    for (let i = 0; i < 10; i++) {
      expect(await runSendLoop(wrong.ctx)).toMatchObject({ calls: 1, retried: 1, failed: 0 });
      const row = (await wrong.client.execute('SELECT status, error, failures, next_attempt_at FROM email_sends')).rows[0]!;
      expect(row).toMatchObject({ status: 'pending', failures: 0 });
      expect(Number(row.next_attempt_at)).toBeGreaterThanOrEqual(clock + 5 * 60_000);
      expect(String(row.error)).toMatch(/^Resend 401: invalid_api_key/);
      clock += 5 * 60_000;
    }
    const fixed = createCtx({ client: wrong.client, config: parseConfig({ ...env(), DATABASE_URL: 'file::memory:', LOG_LEVEL: 'silent' }), now: () => clock });
    expect(await runSendLoop(fixed)).toMatchObject({ calls: 1, sent: 1 });
    tick(0);
  });
});
