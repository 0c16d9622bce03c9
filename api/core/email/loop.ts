import type { Ctx } from '../context';
import { coalescedRunner } from '../util/kick';
import { randomToken } from '../util/crypto';
import type { EmailDriver } from './driver';
import { outboxDriver } from './outbox';
import { resendDriver } from './resend';
import { claimBatch, completeBatch } from './batch';
import { resendBucket, takeToken, type Bucket } from './pacing';

/**
 * The send loop: due send rows go out exactly once, however many loops race (Node's timer,
 * the Workers cron, POST /jobs/emails, several processes on one database).
 *
 * 1. Claim: one `UPDATE … RETURNING` leases up to a call's worth of due rows to this run
 *    (lease_owner, lease_until; attempts + 1). While a row is sending, next_attempt_at is its
 *    lease's end, so a crashed holder's rows fall due again by themselves.
 * 2. Check again: suppression and caps as of now (an unsubscribe may have come in since the row
 *    was written); those rows become skipped.
 * 3. Key: the call's Idempotency-Key is derived from this installation and the sorted ids of
 *    the rows in the call, and stored on the rows (batch_key) before the provider is called.
 *    From then on the rows are one call: whoever claims them next (after a crash, a timeout,
 *    a 5xx or a 429) claims them together and re-sends the same messages under the same key,
 *    which the provider answers without delivering again.
 * 4. Call the driver, outside any transaction.
 * 5. Complete, fenced: every write checks `id = ? AND lease_owner = ? AND attempts = ?`, so a
 *    holder whose lease ran out and was re-claimed writes nothing; the email_sent events are
 *    written in the same transaction, by the same fence, so there is exactly one per send.
 *
 * Steps 1–3 and 5 are batch.ts; this file runs them, with the driver and its pacing.
 */

// The longest a run sleeps for pacing before leaving the rest to the next run.
const MAX_SLEEP_MS = 2_000;

// One driver per context: the Resend client and the pacing it learnt live as long as the context.
const drivers = new WeakMap<Ctx, { driver: EmailDriver; notBefore: number }>();

function stateFor(ctx: Ctx) {
  let s = drivers.get(ctx);
  if (!s) {
    s = { driver: ctx.config.RESEND_API_KEY ? resendDriver(ctx.config) : outboxDriver(ctx), notBefore: 0 };
    drivers.set(ctx, s);
  }
  return s;
}

/** Where messages go in this context: Resend with RESEND_API_KEY, else the local outbox. */
export const driverFor = (ctx: Ctx): EmailDriver => stateFor(ctx).driver;

export interface LoopResult {
  calls: number;
  sent: number;
  skipped: number;
  failed: number;
  retried: number;
}

/**
 * Sends what is due, one provider call after another, for at most `maxCalls` calls and about
 * `budgetMs` of wall time; paced by what the provider said. Safe to run any number of times
 * at once, in any number of processes. With `lanes` > 1, that many claim-render-call loops run
 * side by side (each with its own lease owner), so the next call is claimed and rendered while
 * the provider answers the last one.
 */
/**
 * At most this many lanes per context, over all its loops (a kicked loop and the job's can
 * overlap): each holds a rendered call (100 messages, a few MB, and the JSON the provider gets)
 * while the provider answers, and more than two buy no speed on one event loop. A loop gets as
 * many as it asks for while the context has room; when none is free it waits for one to end,
 * so a kick is never dropped and the cap holds whichever loop started first.
 */
export const MAX_LANES = 2;

// Lanes running in a context, over all its loops.
const activeLanes = new WeakMap<Ctx, number>();
// How often a loop waiting for a lane looks again. It looks on a timer of its own rather than being
// woken by the loop that ends a lane: on Workers the two may be different invocations, and workerd
// cancels an invocation that waits on a promise another one resolves.
const LANE_POLL_MS = 50;

/** Takes up to `want` lanes: at once while there is room, else one as soon as one is free (0 if none was within `maxWaitMs`). */
async function takeLanes(ctx: Ctx, want: number, maxWaitMs: number): Promise<number> {
  const until = Date.now() + maxWaitMs;
  for (;;) {
    const active = activeLanes.get(ctx) ?? 0;
    if (active < MAX_LANES) {
      const n = Math.min(want, MAX_LANES - active);
      activeLanes.set(ctx, active + n);
      return n;
    }
    if (Date.now() >= until) return 0;
    await new Promise((r) => setTimeout(r, Math.min(LANE_POLL_MS, Math.max(1, until - Date.now()))));
  }
}

const releaseLane = (ctx: Ctx) => activeLanes.set(ctx, (activeLanes.get(ctx) ?? 1) - 1);

export async function runSendLoop(
  ctx: Ctx,
  opts: { maxCalls?: number; budgetMs?: number; driver?: EmailDriver; lanes?: number; bucket?: Bucket | null } = {},
): Promise<LoopResult> {
  const state = stateFor(ctx);
  const driver = opts.driver ?? state.driver;
  // Calls to Resend take a token from the bucket every sender shares (pacing.ts), before they
  // claim (no lease is held while waiting); the local outbox is not paced. What the provider's
  // headers say (a window used up, a 429) still paces this process too (notBefore below).
  const bucket = opts.bucket !== undefined ? opts.bucket : driver.name === 'resend' ? resendBucket(ctx.config.EMAIL_RATE_PER_SECOND) : null;
  const out: LoopResult = { calls: 0, sent: 0, skipped: 0, failed: 0, retried: 0 };
  const started = Date.now();
  const budget = opts.budgetMs ?? 20_000;
  const maxCalls = opts.maxCalls ?? 50;
  // Calls made or being made: a lane reserves one before it claims.
  let reserved = 0;
  let stop = false;
  const lane = async () => {
    const owner = randomToken(16);
    while (!stop && reserved < maxCalls && Date.now() - started < budget) {
      const wait = state.notBefore - ctx.now();
      if (wait > 0) {
        if (wait > MAX_SLEEP_MS || Date.now() - started + wait > budget) break;
        await new Promise((r) => setTimeout(r, wait));
        if (state.notBefore - ctx.now() > 0) break;
      }
      // Nothing due is the common case: a read, no write lock.
      const due = await ctx.client.execute({
        sql: "SELECT 1 FROM email_sends WHERE status IN ('pending', 'sending') AND next_attempt_at <= ? LIMIT 1",
        args: [ctx.now()],
      });
      if (!due.rows.length || stop) break;
      if (bucket) {
        // On the wall clock, not ctx.now(): the provider counts real seconds, and every sender's
        // real clock agrees where business clocks may not (tests and benchmarks move theirs).
        const token = await takeToken(ctx.client, bucket, Date.now());
        if (!token.ok) {
          if (token.waitMs > MAX_SLEEP_MS || Date.now() - started + token.waitMs > budget) break;
          await new Promise((r) => setTimeout(r, token.waitMs));
          continue;
        }
      }
      reserved++;
      const batch = await claimBatch(ctx, { owner, limit: driver.maxBatch });
      if (!batch) {
        reserved--;
        break;
      }
      out.skipped += batch.dropped.skipped;
      out.failed += batch.dropped.failed;
      if (!batch.messages.length) {
        reserved--;
        continue;
      }
      const outcome = await driver.send({ idempotencyKey: batch.key, messages: batch.messages });
      // The messages are done with (a retry renders them again): free them before completing.
      batch.messages = [];
      out.calls++;
      const done = await completeBatch(ctx, batch, outcome);
      out.sent += done.sent;
      out.failed += done.failed;
      out.retried += done.retried;
      const pace = outcome.kind === 'failed' ? null : outcome.waitMs;
      if (pace) state.notBefore = Math.max(state.notBefore, ctx.now() + pace);
      if (outcome.kind === 'retry') stop = true;
    }
  };
  const lanes = await takeLanes(ctx, Math.max(1, opts.lanes ?? 1), budget);
  // Each lane gives its place back as it ends, so a loop waiting for one starts then.
  await Promise.all(Array.from({ length: lanes }, () => lane().finally(() => releaseLane(ctx))));
  return out;
}

/** Runs the send loop soon (after an API send), coalescing kicks: one loop per context at a time. */
export const kickSendLoop: (ctx: Ctx) => Promise<void> = coalescedRunner('send loop', (ctx) => runSendLoop(ctx)).kick;
