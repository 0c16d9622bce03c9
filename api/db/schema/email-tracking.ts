import { sqliteTable, integer, text, index } from 'drizzle-orm/sqlite-core';

// Identify tokens (ll_t) a click-through handed to a landing page and the tracker brought back:
// each works once. Keyed by the token's signature; kept until the token would have expired
// anyway (redeeming one clears the expired rows). No contact data: the send is in the token.
export const emailIdentifyUses = sqliteTable(
  'email_identify_uses',
  {
    token: text('token').primaryKey(),
    usedAt: integer('used_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('email_identify_uses_expires_idx').on(t.expiresAt)],
);
