import { sqliteTable, integer, text, index, primaryKey } from 'drizzle-orm/sqlite-core';

export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    // First characters of the secret, shown in lists so people can tell keys apart.
    prefix: text('prefix').notNull(),
    // SHA-256 of the whole secret; the secret itself is never stored.
    hash: text('hash').notNull().unique(),
    scopes: text('scopes').notNull(), // comma-separated: read,write,admin
    createdAt: integer('created_at').notNull(),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('api_keys_created_idx').on(t.createdAt)],
);

// Idempotency-Key on writes (Stripe's semantics): the first response to a key is
// kept for 24 hours and replayed for the same request; another request with the
// same key is refused.
export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    apiKeyId: integer('api_key_id').notNull(),
    key: text('key').notNull(),
    // SHA-256 of method, path and body: a reused key must carry the same request.
    fingerprint: text('fingerprint').notNull(),
    // NULL while the first request is in flight.
    status: integer('status'),
    headers: text('headers'),
    body: text('body'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.apiKeyId, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);
