import type { Ctx } from '../context';
import { signToken, verifyToken } from './tokens';
import { originAllowed, type Site } from '../tracking/sites';

/**
 * The click-through handoff: a person who clicks a tracked link in an email to a contact lands on
 * the destination with `ll_t=<token>` in its query. If that page carries the tag, w.js sends the
 * page view with its URL as usual (w.js knows nothing of this and does not grow); POST /t sees
 * ll_t in the URL, strips it from everything it stores, and redeems the token: the browser's
 * visitor resolves to the send's contact, proven (contacts/resolve.ts, via 'email': a signed
 * email link proves the browser, DESIGN.md "Identity").
 *
 * The token (kind 'identify', payload [send id, expiry in seconds]) lives 15 minutes and works
 * once (email_identify_uses), so a landing URL that is forwarded, bookmarked or shows up in a
 * referrer or a log identifies nobody later.
 */

export const HANDOFF_TTL_MS = 15 * 60_000;
export const HANDOFF_PARAM = 'll_t';

export async function handoffToken(ctx: Ctx, sendId: number): Promise<string> {
  return signToken(ctx, 'identify', [sendId, Math.floor((ctx.now() + HANDOFF_TTL_MS) / 1000)]);
}

/**
 * Whether a destination is a page on one of the sites' allowed origins: only such a page can
 * carry the tag that brings ll_t back. Any other destination (a partner's site, a social
 * network) never gets one: its scripts, logs and referrers would hold a live token that turns
 * whoever redeems it into the contact.
 */
export async function destinationTracked(ctx: Ctx, url: string): Promise<boolean> {
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    return false;
  }
  const r = await ctx.client.execute('SELECT allowed_origins FROM sites');
  return r.rows.some((row) => {
    try {
      return originAllowed({ allowed_origins: JSON.parse(String(row.allowed_origins)) } as Site, origin);
    } catch {
      return false;
    }
  });
}

/** The destination with ll_t added to its query, the rest of the URL byte for byte as it was. */
export function withHandoff(url: string, token: string): string {
  const hash = url.indexOf('#');
  const head = hash < 0 ? url : url.slice(0, hash);
  const tail = hash < 0 ? '' : url.slice(hash);
  const sep = !head.includes('?') ? '?' : head.endsWith('?') || head.endsWith('&') ? '' : '&';
  return `${head}${sep}${HANDOFF_PARAM}=${token}${tail}`;
}

/**
 * A URL without its ll_t parameters, and the first token found. Only the query is looked at;
 * every other byte stays. Callers check `url.includes('ll_t=')` first, so URLs without one
 * cost nothing more.
 */
export function stripHandoff(url: string): { url: string; token: string | null } {
  const q = url.indexOf('?');
  if (q < 0) return { url, token: null };
  const hash = url.indexOf('#', q);
  const end = hash < 0 ? url.length : hash;
  let token: string | null = null;
  const kept = url
    .slice(q + 1, end)
    .split('&')
    .filter((part) => {
      if (!part.startsWith(`${HANDOFF_PARAM}=`) && part !== HANDOFF_PARAM) return true;
      token ??= part.slice(HANDOFF_PARAM.length + 1) || null;
      return false;
    });
  return { url: url.slice(0, q) + (kept.length ? `?${kept.join('&')}` : '') + url.slice(end), token };
}

/**
 * The send's contact if the token is genuine, unexpired, unused and names a send to a contact;
 * the token is used up by this call. Null for anything else (nothing is written for a bad token).
 */
export async function redeemHandoff(ctx: Ctx, token: string): Promise<number | null> {
  const payload = await verifyToken(ctx, 'identify', token);
  if (!payload) return null;
  const [sendId, exp] = payload;
  if (!Number.isSafeInteger(sendId) || !Number.isSafeInteger(exp)) return null;
  const now = ctx.now();
  const expiresAt = (exp as number) * 1000;
  if (expiresAt <= now) return null;
  const [, used, send] = await ctx.client.batch(
    [
      // Expired rows can go: their tokens are refused by the check above before the table is asked.
      { sql: 'DELETE FROM email_identify_uses WHERE expires_at <= ?', args: [now] },
      {
        sql: 'INSERT INTO email_identify_uses (token, used_at, expires_at) VALUES (?, ?, ?) ON CONFLICT (token) DO NOTHING RETURNING token',
        args: [token.slice(token.indexOf('.') + 1), now, expiresAt],
      },
      { sql: 'SELECT contact_id FROM email_sends WHERE id = ? AND is_test = 0', args: [sendId as number] },
    ],
    'write',
  );
  if (!used!.rows.length) return null;
  const contactId = send!.rows[0]?.contact_id;
  return contactId === null || contactId === undefined ? null : Number(contactId);
}
