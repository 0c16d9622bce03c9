import { sqliteTable, integer, text, index } from 'drizzle-orm/sqlite-core';

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
