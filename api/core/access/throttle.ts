import type { Ctx } from '../context';
import { AppError } from '../errors';
import { sha256Hex } from '../util/crypto';

/**
 * Lockout with exponential backoff for sign-ins (and password-reset requests), per account and
 * per client address, kept in the database (auth_throttle) so every process and Worker isolate
 * shares one count. A key may fail `free` times; each failure after that locks it for
 * base × 2^(extra failures), up to an hour. A success clears the account's count; a key with no
 * failure for a day starts afresh. While locked, attempts are refused before any password is
 * hashed (429 with Retry-After), so a flood costs the server nothing.
 */
export interface ThrottlePolicy {
  free: number;
  baseMs: number;
  maxMs: number;
}

export const ACCOUNT_POLICY: ThrottlePolicy = { free: 5, baseMs: 30_000, maxMs: 3_600_000 };
export const ADDRESS_POLICY: ThrottlePolicy = { free: 20, baseMs: 30_000, maxMs: 3_600_000 };
// Reset emails per account: a few, then spaced out (the answer stays 202 either way).
export const RESET_POLICY: ThrottlePolicy = { free: 3, baseMs: 60_000, maxMs: 3_600_000 };
const FORGET_AFTER_MS = 24 * 3_600_000;

export interface ThrottleKey {
  id: string;
  policy: ThrottlePolicy;
}

export const throttleKey = async (scope: string, value: string, policy: ThrottlePolicy): Promise<ThrottleKey> => ({
  id: await sha256Hex(`${scope}:${value}`),
  policy,
});

/** Milliseconds until the most locked of `keys` may try again; 0 when none is locked. */
export async function lockedFor(ctx: Ctx, keys: ThrottleKey[]): Promise<number> {
  const now = ctx.now();
  const r = await ctx.client.execute({
    sql: 'SELECT max(locked_until) AS until FROM auth_throttle WHERE key IN (SELECT value FROM json_each(?))',
    args: [JSON.stringify(keys.map((k) => k.id))],
  });
  const until = r.rows[0]?.until;
  return until === null || until === undefined ? 0 : Math.max(0, Number(until) - now);
}

/** Refuses with 429 and Retry-After (in `extra.retryAfter`, seconds) while any key is locked. */
export async function refuseIfLocked(ctx: Ctx, keys: ThrottleKey[]): Promise<void> {
  const wait = await lockedFor(ctx, keys);
  if (wait > 0) throw tooManyAttempts(wait);
}

export function tooManyAttempts(waitMs: number): AppError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new AppError('RATE_LIMITED', `Too many attempts; try again in ${seconds} s.`, undefined, { retryAfter: seconds });
}

/** Counts a failure for each key (one statement each, in one batch) and locks those over their allowance. */
export async function recordFailure(ctx: Ctx, keys: ThrottleKey[]): Promise<void> {
  const now = ctx.now();
  await ctx.client.batch(
    keys.map((k) => ({
      // failures restart at 1 after a quiet day; the lock is computed from the new count.
      sql: `INSERT INTO auth_throttle (key, failures, last_failure_at, locked_until) VALUES (?1, 1, ?2, ?2)
        ON CONFLICT(key) DO UPDATE SET
          failures = CASE WHEN last_failure_at < ?2 - ?3 THEN 1 ELSE failures + 1 END,
          last_failure_at = ?2`,
      args: [k.id, now, FORGET_AFTER_MS],
    })).concat(
      keys.map((k) => ({
        sql: `UPDATE auth_throttle SET locked_until = CASE WHEN failures <= ?2 THEN 0
            ELSE ?3 + min(?5, ?4 * (1 << min(failures - ?2 - 1, 20))) END
          WHERE key = ?1`,
        args: [k.id, k.policy.free, now, k.policy.baseMs, k.policy.maxMs],
      })),
    ),
    'write',
  );
}

/** A success: the account starts afresh (the address keeps its count: one address, many accounts). */
export async function clearFailures(ctx: Ctx, keys: ThrottleKey[]): Promise<void> {
  await ctx.client.execute({ sql: 'DELETE FROM auth_throttle WHERE key IN (SELECT value FROM json_each(?))', args: [JSON.stringify(keys.map((k) => k.id))] });
}

/** Rows with no failure for a day and no lock left: nothing to remember. */
export async function expireThrottle(ctx: Ctx): Promise<number> {
  const now = ctx.now();
  const r = await ctx.client.execute({ sql: 'DELETE FROM auth_throttle WHERE last_failure_at < ? AND locked_until < ?', args: [now - FORGET_AFTER_MS, now] });
  return r.rowsAffected;
}
