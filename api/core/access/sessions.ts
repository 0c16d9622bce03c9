import type { Ctx } from '../context';
import { randomToken, sha256Hex } from '../util/crypto';
import { isRole, type Role } from './permissions';

/**
 * Dashboard sessions, kept server-side (user_sessions): the browser's cookie holds a random
 * token (256 bits), the row only its SHA-256, so a copy of the database signs nobody in.
 * A session lasts SESSION_IDLE_MS after its last use, and never more than SESSION_MAX_MS;
 * signing out, a password reset, a role change or removing the user revokes it at once.
 *
 * The CSRF token is derived from the session token (SHA-256 of "csrf:" and the token): the
 * dashboard learns it from /auth/login or /auth/me and sends it back as X-CSRF-Token on every
 * write. A page on another origin can make the browser send the cookie, but cannot read the
 * token, and the Origin check (routes/middleware.ts) refuses it first anyway.
 */
export const SESSION_COOKIE = 'll_session';
export const SESSION_IDLE_MS = 7 * 24 * 3_600_000;
export const SESSION_MAX_MS = 30 * 24 * 3_600_000;
// last_seen_at (and with it the idle expiry) is written at most this often per session.
const TOUCH_MS = 5 * 60_000;

export interface SessionUser {
  id: number;
  email: string;
  name: string;
  role: Role;
}

export interface Session {
  id: number;
  user: SessionUser;
}

export const csrfTokenOf = (token: string): Promise<string> => sha256Hex(`csrf:${token}`);

/** A new session for the user: the token for the cookie and the CSRF token for the page. */
export async function createSession(ctx: Ctx, userId: number): Promise<{ token: string; csrf: string; maxAgeMs: number }> {
  const token = randomToken(43);
  const now = ctx.now();
  await ctx.client.execute({
    sql: 'INSERT INTO user_sessions (user_id, token_hash, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    args: [userId, await sha256Hex(token), now, now, now + SESSION_IDLE_MS],
  });
  return { token, csrf: await csrfTokenOf(token), maxAgeMs: SESSION_MAX_MS };
}

/** The session a cookie's token names, if it is live; its idle expiry moves on with use. */
export async function sessionFromToken(ctx: Ctx, token: string): Promise<Session | null> {
  if (!/^[A-Za-z0-9]{43}$/.test(token)) return null;
  const now = ctx.now();
  const r = await ctx.client.execute({
    sql: `SELECT s.id, s.created_at, s.last_seen_at, u.id AS user_id, u.email, u.name, u.role FROM user_sessions s JOIN users u ON u.id = s.user_id
      WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ? AND u.password_hash IS NOT NULL`,
    args: [await sha256Hex(token), now],
  });
  const row = r.rows[0];
  if (!row || !isRole(row.role)) return null;
  const id = Number(row.id);
  if (now - Number(row.last_seen_at) > TOUCH_MS) {
    await ctx.client.execute({
      sql: 'UPDATE user_sessions SET last_seen_at = ?, expires_at = min(?, created_at + ?) WHERE id = ?',
      args: [now, now + SESSION_IDLE_MS, SESSION_MAX_MS, id],
    });
  }
  return { id, user: { id: Number(row.user_id), email: String(row.email), name: String(row.name), role: row.role } };
}

export async function revokeSession(ctx: Ctx, id: number): Promise<void> {
  await ctx.client.execute({ sql: 'UPDATE user_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', args: [ctx.now(), id] });
}

export async function revokeUserSessions(ctx: Ctx, userId: number): Promise<void> {
  await ctx.client.execute({ sql: 'UPDATE user_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL', args: [ctx.now(), userId] });
}
