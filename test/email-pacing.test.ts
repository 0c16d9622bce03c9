// Pacing calls to Resend over every sender at once (issue 16): the token bucket lives in the
// database (api/core/email/pacing.ts), so senders that share nothing but the database — Node
// processes, Worker isolates, jobs Queue consumers — keep to EMAIL_RATE_PER_SECOND together.
// Each sender here has its own connection to one database file. The bucket is read with a clock
// the test moves (no wall-clock assertions); the send loops' test uses a rate so low that the
// seconds the test takes refill nothing.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from '@libsql/client';
import { makeApp } from './helpers';
import { createCtx } from '../api/core/context';
import { parseConfig } from '../api/env';
import { prepareDatabase } from '../api/db/open';
import { takeToken, type Bucket } from '../api/core/email/pacing';
import { runSendLoop } from '../api/core/email/loop';
import type { EmailDriver } from '../api/core/email/driver';
import { createEmail } from '../api/core/email/emails';
import { contactsSource, queueStatement } from '../api/core/email/queue';
import { getEmailSettings } from '../api/core/email/settings';
import { upsertContacts } from '../api/core/contacts/upsert';

const dirs: string[] = [];
const clients: Client[] = [];
afterAll(() => {
  for (const c of clients) c.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A migrated database file and `n` separate connections to it (the senders). */
async function senders(n: number): Promise<{ url: string; conns: Client[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'leadline-pacing-'));
  dirs.push(dir);
  const url = `file:${join(dir, 'db.sqlite')}`;
  const first = createClient({ url });
  await prepareDatabase(first, url);
  const conns = [first, ...Array.from({ length: n - 1 }, () => createClient({ url }))];
  for (const c of conns) await c.execute('PRAGMA busy_timeout = 5000');
  clients.push(...conns);
  return { url, conns };
}

/** A seeded shuffle, so a failure can be replayed. */
function shuffler(seed: number) {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return { rnd, shuffle: <T>(xs: T[]) => xs.map((x) => [rnd(), x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x) };
}

/**
 * `conns.length` senders on one clock, 10 ms steps for `ms`: a sender whose turn it is takes a
 * token (in a random order among those due at the step); granted, it calls the provider and is
 * due again 0–40 ms later; refused, it comes back when the bucket said. Returns the grant times.
 */
async function simulate(conns: Client[], bucket: Bucket, ms: number, seed: number): Promise<number[]> {
  const { rnd, shuffle } = shuffler(seed);
  const dueAt = conns.map(() => 0);
  const grants: number[] = [];
  for (let now = 0; now < ms; now += 10) {
    const ready = shuffle(conns.map((_, i) => i).filter((i) => dueAt[i]! <= now));
    // Those due at one step ask at once.
    const answers = await Promise.all(ready.map((i) => takeToken(conns[i]!, bucket, now)));
    answers.forEach((a, k) => {
      const i = ready[k]!;
      if (a.ok) {
        grants.push(now);
        dueAt[i] = now + Math.floor(rnd() * 40);
      } else {
        expect(a.waitMs).toBeGreaterThan(0);
        dueAt[i] = now + a.waitMs;
      }
    });
  }
  return grants;
}

/** The most grants in any window of `width` ms (starting at a grant, half-open). */
const busiestWindow = (grants: number[], width: number) => Math.max(...grants.map((t) => grants.filter((u) => u >= t && u < t + width).length));

describe('the shared token bucket', () => {
  it('eight senders on separate connections together get at most `rate` tokens in any second, and use the rate', async () => {
    const { conns } = await senders(8);
    const bucket: Bucket = { name: 'test:resend', rate: 5, burst: 1 };
    const grants = await simulate(conns, bucket, 10_000, 7);
    // Every second, wherever it starts: at most 5 calls.
    expect(busiestWindow(grants, 1000)).toBe(5);
    // Evenly spaced: never two calls closer than 1/rate.
    const gaps = grants.slice(1).map((t, i) => t - grants[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(200);
    // And the senders together do not fall far behind the rate (a refusal says how long to wait).
    expect(grants.length).toBeGreaterThanOrEqual(48);
    expect(grants.length).toBeLessThanOrEqual(50);
  }, 60_000);

  it('a burst lets that many calls out at once, never more, then the rate holds', async () => {
    const { conns } = await senders(4);
    const bucket: Bucket = { name: 'test:burst', rate: 2, burst: 3 };
    const grants = await simulate(conns, bucket, 5_000, 11);
    // The full bucket at the start: 3 at once.
    expect(grants.filter((t) => t === 0)).toHaveLength(3);
    // In any second, at most the burst plus the second's refill; over the whole run, burst + rate × time.
    expect(busiestWindow(grants, 1000)).toBeLessThanOrEqual(3 + 2);
    expect(grants.length).toBeLessThanOrEqual(3 + 2 * 5);
    expect(grants.length).toBeGreaterThanOrEqual(3 + 2 * 5 - 2);
  }, 60_000);

  it('a sender whose clock is behind refills nothing: it cannot mint tokens the others already took', async () => {
    const { conns } = await senders(2);
    const bucket: Bucket = { name: 'test:skew', rate: 1, burst: 1 };
    expect(await takeToken(conns[0]!, bucket, 10_000)).toEqual({ ok: true });
    // One second behind the sender that took the last token: the bucket is empty for it too.
    const behind = await takeToken(conns[1]!, bucket, 9_000);
    expect(behind.ok).toBe(false);
    expect(await takeToken(conns[1]!, bucket, 10_500)).toMatchObject({ ok: false, waitMs: 500 });
    expect(await takeToken(conns[1]!, bucket, 11_000)).toEqual({ ok: true });
  });
});

describe('the send loop takes a token before each call to Resend', () => {
  it('four send loops in four contexts (separate connections, nothing shared but the database) make one call between them when the bucket holds one', async () => {
    const { url, conns } = await senders(4);
    // One token, then one every 100 s: the test's seconds refill none.
    const env = { DATABASE_URL: url, LOG_LEVEL: 'silent', EMAIL_RATE_PER_SECOND: '0.01' };
    const ctxs = conns.map((client) => createCtx({ client, config: parseConfig(env) }));
    const ctx = ctxs[0]!;
    const rows = Array.from({ length: 40 }, (_, i) => ({ email: `p${i}@example.com` }));
    const ids = (await upsertContacts({ ctx, input: { rows } })).results.map((r: any) => r.id);
    const email = await createEmail({ ctx, input: { name: 'News', kind: 'template', subject: 'Hi', html: '<p>Hi</p>' } });
    await ctx.client.execute(
      queueStatement({ email: { id: email.id, kind: 'template', categoryId: email.category_id }, reason: 'pacing', recipients: contactsSource(ids), settings: await getEmailSettings({ ctx }), now: ctx.now() }),
    );
    // Resend as far as pacing is concerned (the name), taking 10 messages a call.
    let calls = 0;
    const driver: EmailDriver = {
      name: 'resend',
      maxBatch: 10,
      send: async ({ messages }) => {
        calls++;
        return { kind: 'done', results: messages.map((m) => ({ sendId: m.sendId, ok: true as const, providerId: `r-${m.sendId}` })) };
      },
    };
    const results = await Promise.all(ctxs.map((c) => runSendLoop(c, { driver, lanes: 2, budgetMs: 5_000 })));
    expect(calls).toBe(1);
    expect(results.reduce((n, r) => n + r.sent, 0)).toBe(10);
    const sent = await ctx.client.execute("SELECT count(*) AS n FROM email_sends WHERE status = 'sent'");
    expect(Number(sent.rows[0]!.n)).toBe(10);
    // The outbox is not paced: the rest goes out at once through a driver named so.
    const outbox = await runSendLoop(ctxs[1]!, { driver: { ...driver, name: 'outbox' }, budgetMs: 5_000 });
    expect(outbox).toMatchObject({ calls: 3, sent: 30 });
  }, 60_000);

  it('EMAIL_RATE_PER_SECOND is validated: a rate of 0 or a word is refused at start', async () => {
    expect(() => parseConfig({ EMAIL_RATE_PER_SECOND: '0' })).toThrow(/EMAIL_RATE_PER_SECOND/);
    expect(() => parseConfig({ EMAIL_RATE_PER_SECOND: 'fast' })).toThrow(/EMAIL_RATE_PER_SECOND/);
    expect(parseConfig({}).EMAIL_RATE_PER_SECOND).toBe(2);
    const t = await makeApp({ memory: true, env: { EMAIL_RATE_PER_SECOND: '10' } });
    expect(t.ctx.config.EMAIL_RATE_PER_SECOND).toBe(10);
  });
});
