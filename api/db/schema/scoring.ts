import { sqliteTable, integer, text, index, uniqueIndex, primaryKey } from 'drizzle-orm/sqlite-core';
import { sql } from 'drizzle-orm';

export const stages = sqliteTable('stages', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  position: integer('position').notNull(),
  // The stage at which a lead counts as marketing-qualified (for the accuracy report).
  isMql: integer('is_mql', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at').notNull(),
});

// One-off facts about this installation (e.g. "default stages were seeded").
export const appState = sqliteTable('app_state', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

export const pointRules = sqliteTable('point_rules', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  eventType: text('event_type').notNull(),
  filter: text('filter').notNull().default('{}'), // JSON, see core/scoring/rules.ts
  delta: integer('delta').notNull(),
  repeatable: integer('repeatable', { mode: 'boolean' }).notNull().default(true),
  capCount: integer('cap_count'),
  capPeriod: text('cap_period'), // day | week | month
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  // Set for the rule a form's give_points action is scored by: the form owns it.
  formId: integer('form_id'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

// Every change of points, with its reason: the sum per contact is its score.
export const pointLog = sqliteTable(
  'point_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    contactId: integer('contact_id'),
    visitorId: integer('visitor_id'),
    ruleId: integer('rule_id'),
    eventId: integer('event_id'),
    // 1 for rules that score once per contact: enforced by the unique indexes below.
    once: integer('once').notNull().default(0),
    delta: integer('delta').notNull(),
    reason: text('reason').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('point_log_rule_event_uq').on(t.ruleId, t.eventId).where(sql`rule_id IS NOT NULL AND event_id IS NOT NULL`),
    uniqueIndex('point_log_once_contact_uq').on(t.ruleId, t.contactId).where(sql`once = 1 AND contact_id IS NOT NULL`),
    uniqueIndex('point_log_once_visitor_uq').on(t.ruleId, t.visitorId).where(sql`once = 1 AND contact_id IS NULL`),
    index('point_log_contact_idx').on(t.contactId, t.ruleId, t.createdAt),
    index('point_log_visitor_idx').on(t.visitorId),
  ],
);

export const pointTriggers = sqliteTable('point_triggers', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  threshold: integer('threshold').notNull(),
  actions: text('actions').notNull(), // JSON array, see core/scoring/actions.ts
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

// Exactly once per contact and trigger: the primary key is the guard.
export const triggerFires = sqliteTable(
  'trigger_fires',
  {
    triggerId: integer('trigger_id').notNull(),
    contactId: integer('contact_id').notNull(),
    eventId: integer('event_id').notNull(), // the points_changed event that fired it
    firedAt: integer('fired_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.triggerId, t.contactId] }), index('trigger_fires_contact_idx').on(t.contactId)],
);

export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    source: text('source').notNull(), // e.g. "trigger:3"
    // The action that queued it, so a replayed reaction queues nothing twice.
    dedupeKey: text('dedupe_key').notNull().unique(),
    url: text('url').notNull(),
    secret: text('secret').notNull(),
    body: text('body').notNull(),
    // The contact the body is about: erasing the contact erases its deliveries.
    contactId: integer('contact_id'),
    status: text('status').notNull().default('pending'), // pending | delivered | failed
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
    deliveredAt: integer('delivered_at'),
    // Deliveries of webhook subscriptions (db/schema/webhooks.ts); NULL for trigger and campaign actions.
    subscriptionId: integer('subscription_id'),
    // What it tells: the event type of the catalogue (contact.updated…) and the spine event, if one.
    eventType: text('event_type'),
    eventId: integer('event_id'),
    // An anonymous browser's event (no contact yet): erasure finds it through the visitor.
    visitorId: integer('visitor_id'),
    // The sender's lease (core/webhooks/deliver.ts): while held, next_attempt_at is its end.
    leaseOwner: text('lease_owner'),
    // The retry window (24 hours) counts from the first attempt.
    firstAttemptAt: integer('first_attempt_at'),
    lastAttemptAt: integer('last_attempt_at'),
    // The last attempt, bounded: the headers sent (JSON) and the start of the answer.
    requestHeaders: text('request_headers'),
    responseExcerpt: text('response_excerpt'),
    durationMs: integer('duration_ms'),
  },
  (t) => [
    // What the sender walks, in due order (core/webhooks/deliver.ts names it: INDEXED BY).
    index('webhook_deliveries_pending_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`),
    index('webhook_deliveries_contact_idx').on(t.contactId),
    index('webhook_deliveries_subscription_idx').on(t.subscriptionId, t.id),
    // In order per contact (or anonymous browser): the sender looks for an earlier pending delivery.
    index('webhook_deliveries_order_idx').on(t.subscriptionId, t.contactId, t.id).where(sql`status = 'pending'`),
    index('webhook_deliveries_visitor_idx').on(t.visitorId),
  ],
);

export const segments = sqliteTable('segments', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  description: text('description'),
  kind: text('kind').notNull(), // dynamic | static
  filter: text('filter'), // JSON, see core/segments/filter.ts
  builtAt: integer('built_at'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const segmentMembers = sqliteTable(
  'segment_members',
  {
    segmentId: integer('segment_id').notNull(),
    contactId: integer('contact_id').notNull(),
    // filter: matched the filter; manual: added by hand (stays regardless of the filter)
    source: text('source').notNull(),
    addedAt: integer('added_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.segmentId, t.contactId] }), index('segment_members_contact_idx').on(t.contactId)],
);

// Manual removal overrides the filter: the contact stays out until re-added by hand.
export const segmentExclusions = sqliteTable(
  'segment_exclusions',
  {
    segmentId: integer('segment_id').notNull(),
    contactId: integer('contact_id').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.segmentId, t.contactId] })],
);
