import type { Ctx } from '../context';
import { AppError, BadRequestError } from '../errors';
import { randomToken } from '../util/crypto';

/**
 * Idempotency-Key on writes, with Stripe's semantics: the first response to a
 * key (per API key) is kept for 24 hours; the same request with the same key
 * gets that response again, marked Idempotent-Replayed; the same key with
 * another request is a 409, as is a key whose first request is still running.
 * Requests refused before they ran (authentication, validation, rate limits)
 * and server errors keep nothing, so they can be retried with the same key.
 */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
// A first request this old that never finished (its process died) no longer blocks its key.
const ABANDONED_MS = 60_000;
const MAX_STORED_BODY = 1_000_000;

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface IdempotencySlot {
  apiKeyId: number;
  key: string;
}

/** An Idempotency-Key as a client may send it: 1–255 visible ASCII characters. */
export function checkIdempotencyKey(key: string): string {
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new BadRequestError('Idempotency-Key must be 1–255 visible ASCII characters (a UUID is a good choice).');
  }
  return key;
}

/**
 * Claims the key for this request (`fingerprint` = what the request is), or
 * answers the response stored for it.
 */
export async function beginIdempotent(ctx: Ctx, slot: IdempotencySlot, fingerprint: string): Promise<StoredResponse | null> {
  const now = ctx.now();
  // While the first request runs, `headers` holds its claim: whoever finds their own claim there runs.
  const claim = `claim:${randomToken(16)}`;
  const [, row] = await ctx.client.batch(
    [
      {
        // A new key, or one that expired or was abandoned mid-flight, is (re)claimed.
        sql: `INSERT INTO idempotency_keys (api_key_id, key, fingerprint, status, headers, body, created_at) VALUES (?, ?, ?, NULL, ?, NULL, ?)
          ON CONFLICT(api_key_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, status = NULL, headers = excluded.headers, body = NULL, created_at = excluded.created_at
          WHERE idempotency_keys.created_at < ? OR (idempotency_keys.status IS NULL AND idempotency_keys.created_at < ?)`,
        args: [slot.apiKeyId, slot.key, fingerprint, claim, now, now - IDEMPOTENCY_TTL_MS, now - ABANDONED_MS],
      },
      { sql: 'SELECT fingerprint, status, headers, body, created_at FROM idempotency_keys WHERE api_key_id = ? AND key = ?', args: [slot.apiKeyId, slot.key] },
    ],
    'write',
  );
  const r = row!.rows[0]!;
  if (String(r.fingerprint) !== fingerprint) {
    throw new AppError('IDEMPOTENCY_CONFLICT', 'This Idempotency-Key was used with another request (method, path or body) in the last 24 hours; use a new key.');
  }
  if (r.status === null) {
    if (r.headers === claim) return null;
    throw new AppError('IDEMPOTENCY_CONFLICT', 'A request with this Idempotency-Key is still being processed; retry in a moment.');
  }
  return { status: Number(r.status), headers: JSON.parse(String(r.headers)) as Record<string, string>, body: String(r.body) };
}

/** Keeps the response for the key, or (null) forgets the key so the request can be retried with it. */
export async function finishIdempotent(ctx: Ctx, slot: IdempotencySlot, response: StoredResponse | null): Promise<void> {
  if (!response || response.body.length > MAX_STORED_BODY) {
    await ctx.client.execute({ sql: 'DELETE FROM idempotency_keys WHERE api_key_id = ? AND key = ? AND status IS NULL', args: [slot.apiKeyId, slot.key] });
    return;
  }
  await ctx.client.execute({
    sql: 'UPDATE idempotency_keys SET status = ?, headers = ?, body = ? WHERE api_key_id = ? AND key = ? AND status IS NULL',
    args: [response.status, JSON.stringify(response.headers), response.body, slot.apiKeyId, slot.key],
  });
}

/** Whether a response of this status is kept for its key: what ran, not what was refused before running. */
export function keepsResponse(status: number): boolean {
  return status < 500 && ![400, 401, 403, 413, 415, 422, 429].includes(status);
}

/** Deletes keys older than 24 hours (their stored responses may copy contact data). */
export async function expireIdempotencyKeys(ctx: Ctx): Promise<number> {
  const r = await ctx.client.execute({ sql: 'DELETE FROM idempotency_keys WHERE created_at < ?', args: [ctx.now() - IDEMPOTENCY_TTL_MS] });
  return r.rowsAffected;
}
