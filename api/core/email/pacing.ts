import type { Client } from '@libsql/client';

/**
 * A token bucket in the database, shared by every sender of an installation: Node processes on
 * one file, Worker isolates, and the jobs Queue's consumers on one Turso database. Resend limits
 * requests per second per team (2 by default), so the pace must hold over all of them together,
 * not per process.
 *
 * Why the database and not a Durable Object: every sender already holds a database connection
 * and makes at least two writes per provider call (the claim and the completion, each carrying up
 * to 100 messages), so one more single-row write per call costs little at a few calls per second;
 * it works the same on Node and on Workers; and a Durable Object would add a binding, a class to
 * deploy and migrate, and a second thing to be down, for a rate the database handles easily.
 *
 * A take is one conditional upsert: the row's tokens refill at `rate` per second up to `burst`,
 * and one is taken only if there is one (the WHERE); SQLite runs each statement alone, so no two
 * takers get the same token whichever process or isolate they run in. A refusal says how long
 * until the next token. Clocks: each taker passes its own `now`; a clock behind the row's
 * `updated_at` refills nothing (never negative), so a skewed taker cannot mint tokens.
 */
export interface Bucket {
  name: string;
  /** Tokens per second. */
  rate: number;
  /** Most tokens held at once (1: calls evenly spaced, 1/rate seconds apart). */
  burst: number;
}

const EPSILON = 1e-9;

// The tokens the row holds at `now` (refilled since updated_at, at most burst); ?1 now, ?2 rate, ?3 burst.
const refilled = (t: string) => `min(?3, ${t}.tokens + max(0, ?1 - ${t}.updated_at) * ?2 / 1000.0)`;

/** Takes a token: `{ ok: true }`, or `{ ok: false, waitMs }` until one will be there. */
export async function takeToken(client: Client, bucket: Bucket, now: number): Promise<{ ok: true } | { ok: false; waitMs: number }> {
  const taken = await client.execute({
    sql: `INSERT INTO pacing_buckets (name, tokens, updated_at) VALUES (?4, ?3 - 1, ?1)
      ON CONFLICT(name) DO UPDATE SET tokens = ${refilled('pacing_buckets')} - 1, updated_at = max(pacing_buckets.updated_at, ?1)
      WHERE ${refilled('pacing_buckets')} >= 1 - ${EPSILON}
      RETURNING tokens`,
    args: [now, bucket.rate, bucket.burst, bucket.name],
  });
  if (taken.rows.length) return { ok: true };
  const row = await client.execute({ sql: `SELECT ${refilled('b')} AS tokens FROM pacing_buckets b WHERE name = ?4`, args: [now, bucket.rate, bucket.burst, bucket.name] });
  const tokens = row.rows.length ? Number(row.rows[0]!.tokens) : bucket.burst;
  return { ok: false, waitMs: Math.max(1, Math.ceil(((1 - tokens) * 1000) / bucket.rate)) };
}

/** The bucket pacing calls to Resend, from EMAIL_RATE_PER_SECOND. */
export const resendBucket = (ratePerSecond: number): Bucket => ({ name: 'email:resend', rate: ratePerSecond, burst: 1 });
