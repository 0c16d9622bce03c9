import { sqliteTable, integer, text, index } from 'drizzle-orm/sqlite-core';

// Hits that reach the database through a Queue (Workers with TRACKING_QUEUE, core/tracking/queue.ts).
// Each hit gets an id when it is enqueued; the consumer writes the id in the same transaction as
// the hit's events, so a redelivered message finds its id and adds nothing. Ids are kept a day
// (the retention job), far longer than a message can be redelivered after its hit was written.
export const ingestHits = sqliteTable(
  'ingest_hits',
  {
    id: text('id').primaryKey(),
    storedAt: integer('stored_at').notNull(),
  },
  (t) => [index('ingest_hits_stored_idx').on(t.storedAt)],
);

// Hits the dead-letter queue handed over that still could not be written: the message as it
// was (site, browser id, events), why the last write failed, how often it was tried. Kept
// 7 days for an operator to see why (the retention job), counted on /health.
export const ingestDead = sqliteTable('ingest_dead', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  hitId: text('hit_id'),
  body: text('body').notNull(),
  attempts: integer('attempts').notNull(),
  error: text('error').notNull(),
  createdAt: integer('created_at').notNull(),
});

// Running totals of the Queue consumer (see core/tracking/consume.ts for each name), shown on /health.
export const ingestCounters = sqliteTable('ingest_counters', {
  name: text('name').primaryKey(),
  n: integer('n').notNull().default(0),
});
