import { sqliteTable, integer, text, index, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { sql } from 'drizzle-orm';

// People who sign in to the dashboard (staff, not contacts). Email is stored trimmed and
// lower-cased; the database enforces one user per address.
export const users = sqliteTable('users', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  role: text('role').notNull(), // admin | marketer | sales | viewer
  // `pbkdf2-sha256$<iterations>$<round>$<salt b64url>$<hash b64url>` (core/access/passwords.ts);
  // NULL until an invitation is accepted.
  passwordHash: text('password_hash'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  lastLoginAt: integer('last_login_at'),
});

// Server-side sessions: the cookie holds a random token, this row its SHA-256. Revoked or
// expired rows stop working at once; the retention of old rows is the auth cleanup's.
export const userSessions = sqliteTable(
  'user_sessions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: integer('created_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('user_sessions_user_idx').on(t.userId)],
);

// Single-use, expiring tokens sent by email or printed at first start: invitations, password
// resets and the first admin's setup link. Only the SHA-256 of the token is stored.
export const userTokens = sqliteTable(
  'user_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    purpose: text('purpose').notNull(), // invite | reset | setup
    // NULL for the setup token (no user exists yet).
    userId: integer('user_id'),
    tokenHash: text('token_hash').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
  },
  (t) => [uniqueIndex('user_tokens_hash_uq').on(t.tokenHash), index('user_tokens_user_idx').on(t.userId, t.purpose).where(sql`used_at IS NULL`)],
);

// Failed sign-ins (and password-reset requests) per account and per client address, for the
// lockout with exponential backoff. Keys are SHA-256 of "scope:value", so no address is kept in
// the clear. In the database so that every process and every Worker isolate sees one count.
export const authThrottle = sqliteTable('auth_throttle', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull(),
  lastFailureAt: integer('last_failure_at').notNull(),
  lockedUntil: integer('locked_until').notNull(),
});
