import { and, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Ctx } from '../context';
import { apiKeys } from '../../db/schema/index';
import { NotFoundError } from '../errors';
import { randomToken, sha256Hex } from '../util/crypto';
import { iso } from '../util/time';
import { encodeCursor, decodeCursor, type Page } from '../util/cursor';

export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKeyView {
  id: number;
  name: string;
  prefix: string;
  scopes: Scope[];
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface AuthenticatedKey {
  id: number;
  scopes: Scope[];
}

const KEY_PREFIX = 'll_';
const ENV_KEY_NAME = 'ADMIN_API_KEY (environment)';
// last_used_at is written at most this often per key, so reads stay reads.
const LAST_USED_RESOLUTION_MS = 60_000;

type Row = typeof apiKeys.$inferSelect;

function view(r: Row): ApiKeyView {
  return {
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    scopes: parseScopes(r.scopes),
    created_at: iso(r.createdAt)!,
    last_used_at: iso(r.lastUsedAt),
    revoked_at: iso(r.revokedAt),
  };
}

function parseScopes(s: string): Scope[] {
  return s.split(',').filter((x): x is Scope => (SCOPES as readonly string[]).includes(x));
}

// admin implies write implies read.
export function hasScope(granted: Scope[], needed: Scope): boolean {
  const rank = (s: Scope) => SCOPES.indexOf(s);
  return granted.some((g) => rank(g) >= rank(needed));
}

export function generateSecret(): string {
  return KEY_PREFIX + randomToken(40);
}

export async function createApiKey({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { name: string; scopes: Scope[]; secret?: string };
}): Promise<{ key: ApiKeyView; secret: string }> {
  const secret = input.secret ?? generateSecret();
  const scopes = [...new Set(input.scopes)].sort((a, b) => SCOPES.indexOf(a) - SCOPES.indexOf(b));
  const [row] = await ctx.db
    .insert(apiKeys)
    .values({
      name: input.name,
      prefix: secret.slice(0, KEY_PREFIX.length + 6),
      hash: await sha256Hex(secret),
      scopes: scopes.join(','),
      createdAt: ctx.now(),
    })
    .returning();
  return { key: view(row!), secret };
}

export async function listApiKeys({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { limit: number; cursor?: string };
}): Promise<Page<ApiKeyView>> {
  const after = input.cursor ? decodeCursor(input.cursor)[1] : undefined;
  const rows = await ctx.db
    .select()
    .from(apiKeys)
    .where(after === undefined ? undefined : lt(apiKeys.id, after))
    .orderBy(desc(apiKeys.id))
    .limit(input.limit + 1);
  const more = rows.length > input.limit;
  const data = rows.slice(0, input.limit);
  return {
    data: data.map(view),
    has_more: more,
    next_cursor: more ? encodeCursor([null, data[data.length - 1]!.id]) : null,
  };
}

export async function revokeApiKey({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<ApiKeyView> {
  const [row] = await ctx.db
    .update(apiKeys)
    .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, ${ctx.now()})` })
    .where(eq(apiKeys.id, input.id))
    .returning();
  if (!row) throw new NotFoundError('API key');
  return view(row);
}

// Returns the key's scopes, or null when the secret is unknown or revoked. Read from the database on
// every request, never cached: a revoke holds in every process and Worker isolate at once.
export async function authenticate({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { secret: string };
}): Promise<AuthenticatedKey | null> {
  if (input.secret.length < 8 || input.secret.length > 200) return null;
  const hash = await sha256Hex(input.secret);
  const [row] = await ctx.db
    .select({ id: apiKeys.id, scopes: apiKeys.scopes, lastUsedAt: apiKeys.lastUsedAt })
    .from(apiKeys)
    .where(and(eq(apiKeys.hash, hash), isNull(apiKeys.revokedAt)))
    .limit(1);
  if (!row) return null;
  const now = ctx.now();
  if (row.lastUsedAt === null || now - row.lastUsedAt > LAST_USED_RESOLUTION_MS) {
    await ctx.db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, row.id));
  }
  return { id: row.id, scopes: parseScopes(row.scopes) };
}

// Start-up: registers ADMIN_API_KEY (hashed) and, on a database with no keys at
// all, generates one admin key and hands its secret back to be printed once.
export async function bootstrapAdminKey({
  ctx,
  input = { generate: true },
}: {
  ctx: Ctx;
  input?: { generate: boolean };
}): Promise<{ generated?: string; missing?: boolean }> {
  const envKey = ctx.config.ADMIN_API_KEY;
  if (envKey) {
    const hash = await sha256Hex(envKey);
    await ctx.db
      .insert(apiKeys)
      .values({
        name: ENV_KEY_NAME,
        prefix: envKey.slice(0, KEY_PREFIX.length + 6),
        hash,
        scopes: 'admin',
        createdAt: ctx.now(),
      })
      .onConflictDoNothing();
    // A rotated ADMIN_API_KEY must stop the previous one from working.
    await ctx.db
      .update(apiKeys)
      .set({ revokedAt: ctx.now() })
      .where(and(eq(apiKeys.name, ENV_KEY_NAME), isNull(apiKeys.revokedAt), sql`${apiKeys.hash} <> ${hash}`));
    return {};
  }
  const [{ n }] = (await ctx.db.select({ n: sql<number>`count(*)` }).from(apiKeys)) as [{ n: number }];
  if (n > 0) return {};
  if (!input.generate) return { missing: true };
  const { secret } = await createApiKey({ ctx, input: { name: 'Initial admin key', scopes: ['admin'] } });
  return { generated: secret };
}
