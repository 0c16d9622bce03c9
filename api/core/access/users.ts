import type { Row } from '@libsql/client';
import type { Ctx } from '../context';
import { AppError, ConflictError, NotFoundError, ValidationError, isUniqueViolation } from '../errors';
import { isEmail, normalizeEmail } from '../contacts/values';
import { randomToken, sha256Hex } from '../util/crypto';
import { iso } from '../util/time';
import { after, toPage, type Page, type PageInput } from '../util/cursor';
import { hashPassword, needsRehash, verifyPassword } from './passwords';
import { isRole, type Role } from './permissions';
import { revokeUserSessions, type SessionUser } from './sessions';
import { ACCOUNT_POLICY, ADDRESS_POLICY, RESET_POLICY, clearFailures, lockedFor, recordFailure, refuseIfLocked, throttleKey } from './throttle';
import { forgetLinks, sendAuthEmail } from './auth-emails';

/**
 * The people who sign in to the dashboard, and the ways in: email and password, invitations,
 * password resets and the first admin's setup link. Tokens sent by email or printed are
 * single-use, expire, and are stored as SHA-256 only (user_tokens).
 */
export interface UserView {
  id: number;
  email: string;
  name: string;
  role: Role;
  created_at: string;
  last_login_at: string | null;
  /** Invited and not yet accepted: no password, cannot sign in. */
  invited: boolean;
}

export const INVITE_TTL_MS = 7 * 24 * 3_600_000;
export const RESET_TTL_MS = 3_600_000;
export const SETUP_TTL_MS = 7 * 24 * 3_600_000;

/** The dashboard pages the links lead to (the dashboard reads `token` from the query). */
export const LINK_PATHS = { setup: '/app/setup', invite: '/app/setup', reset: '/app/reset-password' } as const;

type Purpose = 'invite' | 'reset' | 'setup';

export const INVALID_CREDENTIALS = 'The email or password is not correct.';

const view = (r: Row): UserView => ({
  id: Number(r.id),
  email: String(r.email),
  name: String(r.name),
  role: String(r.role) as Role,
  created_at: iso(Number(r.created_at))!,
  last_login_at: r.last_login_at === null ? null : iso(Number(r.last_login_at)),
  invited: r.password_hash === null,
});

const sessionUser = (r: Row): SessionUser => ({ id: Number(r.id), email: String(r.email), name: String(r.name), role: String(r.role) as Role });

/** The address as stored: trimmed, lower-cased, checked. */
function cleanEmail(v: string, field = 'email'): string {
  const e = normalizeEmail(v);
  if (!isEmail(e)) throw new ValidationError([{ field, message: 'must be a valid email address' }]);
  return e;
}

async function loadUser(ctx: Ctx, id: number): Promise<Row> {
  const r = await ctx.client.execute({ sql: 'SELECT * FROM users WHERE id = ?', args: [id] });
  if (!r.rows[0]) throw new NotFoundError('User');
  return r.rows[0];
}

const linkTo = (base: string, purpose: Purpose, token: string) =>
  `${base.replace(/\/+$/, '')}${LINK_PATHS[purpose]}?token=${token}${purpose === 'setup' ? '&first=1' : ''}`;

/** A new single-use token; the older unused ones of the same purpose for the user stop working. */
async function issueToken(ctx: Ctx, purpose: Purpose, userId: number | null, ttlMs: number): Promise<{ token: string; id: number; expiresAt: number }> {
  const token = randomToken(43);
  const now = ctx.now();
  const stmts = [];
  if (userId !== null) {
    stmts.push({ sql: 'UPDATE user_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL', args: [now, userId, purpose] });
  }
  stmts.push({
    sql: 'INSERT INTO user_tokens (purpose, user_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?) RETURNING id',
    args: [purpose, userId, await sha256Hex(token), now, now + ttlMs],
  });
  const out = await ctx.client.batch(stmts, 'write');
  return { token, id: Number(out.at(-1)!.rows[0]!.id), expiresAt: now + ttlMs };
}

const badLink = (what: string) => new AppError('BAD_REQUEST', `This ${what} link is not valid: it was used already, replaced by a newer one, or it expired.`);

/** Whether a token is live (cheap, before a password is hashed for it: a bad link costs no hashing). */
async function liveToken(ctx: Ctx, purpose: Purpose, token: string): Promise<boolean> {
  if (!/^[A-Za-z0-9]{43}$/.test(token)) return false;
  const r = await ctx.client.execute({
    sql: 'SELECT 1 FROM user_tokens WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?',
    args: [await sha256Hex(token), purpose, ctx.now()],
  });
  return r.rows.length > 0;
}

/** Uses a token once: answers its row (id, user_id) or null when unknown, used or expired. */
async function consumeToken(ctx: Ctx, purpose: Purpose, token: string): Promise<{ id: number; userId: number | null } | null> {
  if (!/^[A-Za-z0-9]{43}$/.test(token)) return null;
  const now = ctx.now();
  const r = await ctx.client.execute({
    sql: 'UPDATE user_tokens SET used_at = ? WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ? RETURNING id, user_id',
    args: [now, await sha256Hex(token), purpose, now],
  });
  const row = r.rows[0];
  return row ? { id: Number(row.id), userId: row.user_id === null ? null : Number(row.user_id) } : null;
}

const formatDate = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

// ---- users (admins) ----

export async function listUsers({ ctx, input }: { ctx: Ctx; input: PageInput }): Promise<Page<UserView>> {
  const a = after(input.cursor, null, 'id');
  const r = await ctx.client.execute({ sql: `SELECT * FROM users WHERE ${a.sql} ORDER BY id LIMIT ?`, args: [...a.args, input.limit + 1] });
  return toPage(r.rows, input.limit, (x) => [null, Number(x.id)], view);
}

export async function getUser({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<UserView> {
  return view(await loadUser(ctx, input.id));
}

/** Creates the user (invited: no password) and emails a link to accept; `sending` is the send loop's run. */
export async function inviteUser({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { email: string; name?: string; role: Role; inviter: string; base: string };
}): Promise<{ user: UserView; sending: Promise<void> }> {
  const email = cleanEmail(input.email);
  const now = ctx.now();
  let row: Row;
  try {
    const r = await ctx.client.execute({
      sql: 'INSERT INTO users (email, name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, NULL, ?, ?) RETURNING *',
      args: [email, input.name ?? '', input.role, now, now],
    });
    row = r.rows[0]!;
  } catch (e) {
    if (isUniqueViolation(e)) throw new ConflictError('A user with this email exists already.');
    throw e;
  }
  const { sending } = await sendInvitation(ctx, row, input.inviter, input.base);
  return { user: view(row), sending };
}

async function sendInvitation(ctx: Ctx, row: Row, inviter: string, base: string) {
  const { token, id, expiresAt } = await issueToken(ctx, 'invite', Number(row.id), INVITE_TTL_MS);
  return sendAuthEmail(ctx, {
    kind: 'invite',
    to: String(row.email),
    reason: `invite:${id}`,
    variables: { link: linkTo(base, 'invite', token), role: String(row.role), inviter, expires: formatDate(expiresAt) },
  });
}

/** A new invitation email (the previous link stops working); only for users who have not accepted yet. */
export async function resendInvitation({ ctx, input }: { ctx: Ctx; input: { id: number; inviter: string; base: string } }): Promise<{ user: UserView; sending: Promise<void> }> {
  const row = await loadUser(ctx, input.id);
  if (row.password_hash !== null) throw new ConflictError('This user accepted the invitation already; they can reset their password instead.');
  const { sending } = await sendInvitation(ctx, row, input.inviter, input.base);
  return { user: view(row), sending };
}

async function adminsOtherThan(ctx: Ctx, id: number): Promise<number> {
  const r = await ctx.client.execute({ sql: "SELECT count(*) AS n FROM users WHERE role = 'admin' AND id <> ? AND password_hash IS NOT NULL", args: [id] });
  return Number(r.rows[0]!.n);
}

export async function updateUser({ ctx, input }: { ctx: Ctx; input: { id: number; name?: string; role?: Role } }): Promise<UserView> {
  const cur = await loadUser(ctx, input.id);
  if (input.role !== undefined && input.role !== 'admin' && cur.role === 'admin' && (await adminsOtherThan(ctx, input.id)) === 0) {
    throw new ConflictError('This is the only admin who can sign in: make another user admin first.');
  }
  const r = await ctx.client.execute({
    sql: 'UPDATE users SET name = coalesce(?, name), role = coalesce(?, role), updated_at = ? WHERE id = ? RETURNING *',
    args: [input.name ?? null, input.role ?? null, ctx.now(), input.id],
  });
  return view(r.rows[0]!);
}

/** Removes the user, their sessions (signed out at once) and their links. */
export async function deleteUser({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  const cur = await loadUser(ctx, input.id);
  if (cur.role === 'admin' && (await adminsOtherThan(ctx, input.id)) === 0) {
    throw new ConflictError('This is the only admin who can sign in: make another user admin first.');
  }
  await ctx.client.batch(
    [
      { sql: 'DELETE FROM user_sessions WHERE user_id = ?', args: [input.id] },
      { sql: 'DELETE FROM user_tokens WHERE user_id = ?', args: [input.id] },
      { sql: 'DELETE FROM users WHERE id = ?', args: [input.id] },
    ],
    'write',
  );
}

// ---- signing in ----

const accountKey = (email: string) => throttleKey('login-account', email, ACCOUNT_POLICY);
const addressKey = (ip: string | null) => throttleKey('login-address', ip ?? 'unknown', ADDRESS_POLICY);

/**
 * Email and password. Unknown address and wrong password answer the same, in the same time (a
 * password is hashed either way). Locked accounts and addresses are refused before any hashing.
 */
export async function signIn({ ctx, input }: { ctx: Ctx; input: { email: string; password: string; ip: string | null } }): Promise<SessionUser> {
  const email = normalizeEmail(input.email);
  const keys = [await accountKey(email), await addressKey(input.ip)];
  await refuseIfLocked(ctx, keys);
  const r = await ctx.client.execute({ sql: 'SELECT * FROM users WHERE email = ?', args: [email] });
  const row = r.rows[0];
  const stored = row?.password_hash == null ? null : String(row.password_hash);
  const ok = await verifyPassword(input.password, stored);
  if (!ok || !row || !isRole(row.role)) {
    await recordFailure(ctx, keys);
    // The failure that locks says so now, with its wait, rather than at the next attempt.
    const wait = await lockedFor(ctx, keys);
    if (wait > 0) throw new AppError('RATE_LIMITED', `${INVALID_CREDENTIALS} Too many attempts; try again in ${Math.ceil(wait / 1000)} s.`, undefined, { retryAfter: Math.ceil(wait / 1000) });
    throw new AppError('INVALID_CREDENTIALS', INVALID_CREDENTIALS);
  }
  await clearFailures(ctx, [keys[0]!]);
  const now = ctx.now();
  const rehash = needsRehash(stored!) ? await hashPassword(input.password) : null;
  await ctx.client.execute({
    sql: 'UPDATE users SET last_login_at = ?, password_hash = coalesce(?, password_hash) WHERE id = ?',
    args: [now, rehash, row.id],
  });
  return sessionUser(row);
}

/** Sets the password and name of an invited user (the invitation is used up) and signs them in. */
export async function acceptInvitation({ ctx, input }: { ctx: Ctx; input: { token: string; name: string; password: string } }): Promise<SessionUser> {
  if (!(await liveToken(ctx, 'invite', input.token))) throw badLink('invitation');
  const hash = await hashPassword(input.password);
  const t = await consumeToken(ctx, 'invite', input.token);
  if (!t || t.userId === null) throw badLink('invitation');
  const now = ctx.now();
  const r = await ctx.client.execute({
    sql: 'UPDATE users SET name = ?, password_hash = ?, updated_at = ?, last_login_at = ? WHERE id = ? AND password_hash IS NULL RETURNING *',
    args: [input.name, hash, now, now, t.userId],
  });
  if (!r.rows[0]) throw badLink('invitation');
  await forgetLinks(ctx, [`invite:${t.id}`]);
  return sessionUser(r.rows[0]);
}

/**
 * The first admin: with the setup link printed at first start, while no user exists. The user
 * is written only if there is still none, so two people racing with two links make one admin.
 */
export async function setupFirstAdmin({ ctx, input }: { ctx: Ctx; input: { token: string; email: string; name: string; password: string } }): Promise<SessionUser> {
  const email = cleanEmail(input.email);
  if (!(await liveToken(ctx, 'setup', input.token))) throw badLink('setup');
  const hash = await hashPassword(input.password);
  const t = await consumeToken(ctx, 'setup', input.token);
  if (!t) throw badLink('setup');
  const now = ctx.now();
  const r = await ctx.client.execute({
    sql: `INSERT INTO users (email, name, role, password_hash, created_at, updated_at, last_login_at)
      SELECT ?, ?, 'admin', ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM users) RETURNING *`,
    args: [email, input.name, hash, now, now, now],
  });
  if (!r.rows[0]) throw badLink('setup');
  // The other setup links printed (one per start) are done with too.
  await ctx.client.execute({ sql: "UPDATE user_tokens SET used_at = ? WHERE purpose = 'setup' AND used_at IS NULL", args: [now] });
  return sessionUser(r.rows[0]);
}

/** Whether a token is a live setup link (the dashboard's setup page serves invitations too). */
export const isSetupToken = (ctx: Ctx, token: string): Promise<boolean> => liveToken(ctx, 'setup', token);

/**
 * Emails a reset link if the address is a user's who can sign in. The caller answers 202 either
 * way, so the answer tells nobody whether the address has an account; each account gets a few
 * emails, then they are spaced out (RESET_POLICY), and each address a few requests (429).
 */
export async function requestPasswordReset({ ctx, input }: { ctx: Ctx; input: { email: string; ip: string | null; base: string } }): Promise<{ sending: Promise<void> } | null> {
  const address = await throttleKey('reset-address', input.ip ?? 'unknown', ADDRESS_POLICY);
  await refuseIfLocked(ctx, [address]);
  await recordFailure(ctx, [address]);
  const email = normalizeEmail(input.email);
  if (!isEmail(email)) return null;
  const r = await ctx.client.execute({ sql: 'SELECT * FROM users WHERE email = ? AND password_hash IS NOT NULL', args: [email] });
  const row = r.rows[0];
  if (!row) return null;
  const account = await throttleKey('reset-account', email, RESET_POLICY);
  if ((await lockedFor(ctx, [account])) > 0) return null;
  await recordFailure(ctx, [account]);
  const { token, id, expiresAt } = await issueToken(ctx, 'reset', Number(row.id), RESET_TTL_MS);
  return sendAuthEmail(ctx, {
    kind: 'reset',
    to: email,
    reason: `reset:${id}`,
    variables: { link: linkTo(input.base, 'reset', token), name: String(row.name), expires: formatDate(expiresAt) },
  });
}

/** A new password with a reset link: the link is used up and every session of the user ends. */
export async function confirmPasswordReset({ ctx, input }: { ctx: Ctx; input: { token: string; password: string } }): Promise<void> {
  if (!(await liveToken(ctx, 'reset', input.token))) throw badLink('password reset');
  const hash = await hashPassword(input.password);
  const t = await consumeToken(ctx, 'reset', input.token);
  if (!t || t.userId === null) throw badLink('password reset');
  const r = await ctx.client.execute({
    sql: 'UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash IS NOT NULL RETURNING email',
    args: [hash, ctx.now(), t.userId],
  });
  if (!r.rows[0]) throw badLink('password reset');
  await revokeUserSessions(ctx, t.userId);
  // A locked account is unlocked by proving its mailbox.
  await clearFailures(ctx, [await accountKey(String(r.rows[0].email))]);
  await forgetLinks(ctx, [`reset:${t.id}`]);
}

/**
 * Start-up: while no user exists, a new one-time setup link for the first admin (each start
 * makes one; any of them works once, until a first admin exists or it expires).
 */
export async function bootstrapFirstAdmin({ ctx, input }: { ctx: Ctx; input: { base: string } }): Promise<{ link?: string }> {
  const r = await ctx.client.execute('SELECT EXISTS (SELECT 1 FROM users) AS any');
  if (Number(r.rows[0]!.any)) return {};
  const { token } = await issueToken(ctx, 'setup', null, SETUP_TTL_MS);
  return { link: linkTo(input.base, 'setup', token) };
}

/** Sessions and links past their end, and unused links of users gone: nothing to keep. */
export async function expireAuthRows(ctx: Ctx): Promise<number> {
  const now = ctx.now();
  const out = await ctx.client.batch(
    [
      { sql: 'DELETE FROM user_sessions WHERE expires_at < ? OR revoked_at < ?', args: [now - 86_400_000, now - 86_400_000] },
      { sql: 'DELETE FROM user_tokens WHERE expires_at < ? OR used_at < ?', args: [now - 86_400_000, now - 86_400_000] },
    ],
    'write',
  );
  return out.reduce((n, x) => n + x.rowsAffected, 0);
}
