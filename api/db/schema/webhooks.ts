import { sqliteTable, integer, text } from 'drizzle-orm/sqlite-core';

// Outbound webhook subscriptions (core/webhooks/): a URL, the event types of the catalogue it
// wants, optional filters, and its Standard Webhooks signing secret. Deliveries are rows of
// webhook_deliveries (db/schema/scoring.ts) with subscription_id set.
export const webhookSubscriptions = sqliteTable('webhook_subscriptions', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  url: text('url').notNull(),
  description: text('description'),
  eventTypes: text('event_types').notNull(), // JSON array of catalogue types
  filters: text('filters').notNull().default('{}'), // JSON object, see core/webhooks/catalogue.ts
  // The signing secret (whsec_…), and during a rotation's overlap the one before it, which signs
  // too until previous_secret_until. Kept as written: HMAC needs the key itself (see subscriptions.ts).
  secret: text('secret').notNull(),
  previousSecret: text('previous_secret'),
  previousSecretUntil: integer('previous_secret_until'),
  // Events up to this id happened before the subscription existed and are not delivered to it.
  startEventId: integer('start_event_id').notNull().default(0),
  status: text('status').notNull().default('active'), // active | disabled
  disabledReason: text('disabled_reason'), // failures | manual
  disabledAt: integer('disabled_at'),
  lastError: text('last_error'),
  lastErrorAt: integer('last_error_at'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});
