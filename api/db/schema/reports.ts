import { sqliteTable, integer, text, index, uniqueIndex, primaryKey } from 'drizzle-orm/sqlite-core';
import { sql } from 'drizzle-orm';

// Sales opportunities: what closes the loop from first touch to revenue.
export const deals = sqliteTable(
  'deals',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    contactId: integer('contact_id').notNull(),
    companyId: integer('company_id'),
    name: text('name').notNull(),
    // Minor units (cents): sums of credits stay exact.
    amountCents: integer('amount_cents').notNull().default(0),
    currency: text('currency').notNull(),
    stage: text('stage').notNull().default('open'), // open | won | lost
    expectedCloseDate: text('expected_close_date'), // YYYY-MM-DD
    closedAt: integer('closed_at'),
    owner: text('owner'),
    // JSON object of free source fields from the CRM (lead_source, …).
    source: text('source'),
    lostReason: text('lost_reason'),
    // Set for deals a CRM pushed: (integration, external_id) is unique, so a redelivery updates.
    integrationId: integer('integration_id'),
    externalId: text('external_id'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('deals_contact_idx').on(t.contactId),
    index('deals_stage_closed_idx').on(t.stage, t.closedAt),
    // The revenue report's "deals created" figures; company deletion; `updated_since` lists.
    index('deals_created_idx').on(t.createdAt),
    index('deals_company_idx').on(t.companyId),
    index('deals_updated_idx').on(t.updatedAt),
    uniqueIndex('deals_external_uq').on(t.integrationId, t.externalId).where(sql`external_id IS NOT NULL`),
  ],
);

// A CRM that pushes deals to POST /webhooks/deals, signing with its own secret.
export const dealIntegrations = sqliteTable('deal_integrations', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  secret: text('secret').notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Additive counters per UTC hour (epoch ms / 3,600,000), kept current by the `rollups` reaction
 * and recomputable from events. `dim` '' with key '' is the total of a metric.
 */
export const rollups = sqliteTable(
  'rollups',
  {
    metric: text('metric').notNull(),
    dim: text('dim').notNull(),
    hour: integer('hour').notNull(),
    siteId: integer('site_id').notNull(), // 0: events of no site
    key: text('key').notNull(),
    value: integer('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.metric, t.dim, t.hour, t.siteId, t.key] })],
);

/**
 * Visits: a visitor's page views with less than 30 minutes between them. The id is the entry
 * page view's event id. Traffic reports and attribution's visit touches read these.
 */
export const sessions = sqliteTable(
  'sessions',
  {
    id: integer('id').primaryKey(),
    siteId: integer('site_id').notNull(),
    visitorId: integer('visitor_id').notNull(),
    contactId: integer('contact_id'),
    startedAt: integer('started_at').notNull(),
    lastAt: integer('last_at').notNull(),
    lastEventId: integer('last_event_id').notNull(),
    pageviews: integer('pageviews').notNull().default(1),
    entryPage: text('entry_page'),
    channel: text('channel').notNull(), // direct | organic_search | social | email | paid | referral | other
    source: text('source'), // utm_source, else the referrer's domain; NULL: direct
    medium: text('medium'),
    campaign: text('campaign'), // utm_campaign
    referrer: text('referrer'), // referrer domain
    country: text('country'),
    device: text('device'),
    /**
     * Start of the visitor's previous session (ordered by start, then id); NULL for its first. A
     * visitor has a session in [a, b) exactly when one of them there has prev_at NULL or < a, so
     * distinct visitors of any period are a count over the period's sessions (reports/visits.ts).
     * Visitors belong to one site, so this is also the previous session on the session's site.
     */
    prevAt: integer('prev_at'),
  },
  (t) => [
    // Covering the traffic figures (visitors through prev_at, visits, page views, bounces) of a period.
    index('sessions_site_started_idx').on(t.siteId, t.startedAt, t.prevAt, t.pageviews),
    index('sessions_started_idx').on(t.startedAt, t.prevAt, t.pageviews),
    index('sessions_visitor_idx').on(t.visitorId, t.id),
    // A visitor's sessions in time order: prev_at of a new session and of the one after it.
    index('sessions_visitor_started_idx').on(t.visitorId, t.startedAt),
    index('sessions_contact_idx').on(t.contactId, t.startedAt),
  ],
);

/**
 * Each contact's passage through the funnel: when it first entered a stage, when it left, its
 * score then, and the first sales feedback after it. Kept by the `funnel` reaction.
 */
export const stageEntries = sqliteTable(
  'stage_entries',
  {
    contactId: integer('contact_id').notNull(),
    stageId: integer('stage_id').notNull(),
    enteredAt: integer('entered_at').notNull(),
    leftAt: integer('left_at'),
    /** The stage that move out went to (the funnel report's "reached next" without a look-up when it is a later one). */
    leftTo: integer('left_to'),
    scoreAtEntry: integer('score_at_entry'),
    firstFeedbackAt: integer('first_feedback_at'),
    /** The first sales_accepted / sales_rejected event at or after entered_at (the lead-scoring report's verdicts). */
    acceptedAt: integer('accepted_at'),
    rejectedAt: integer('rejected_at'),
    /**
     * The contact's first touch (reports/funnel/cohorts.ts FIRST_TOUCH), copied from the contact:
     * set when the entry is written, and kept by the trigger `stage_entries_first_touch` (migration
     * 0013) when the contact's first_seen_at or created_at change. The cohorts report counts a
     * month's qualified contacts from it without a look-up per contact of the month.
     */
    firstTouchAt: integer('first_touch_at'),
    eventId: integer('event_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.contactId, t.stageId] }),
    // Covering: the funnel reports read entries of a stage in a period without the table.
    index('stage_entries_stage_entered_idx').on(t.stageId, t.enteredAt, t.leftAt, t.eventId, t.scoreAtEntry, t.firstFeedbackAt, t.acceptedAt, t.rejectedAt, t.leftTo),
    index('stage_entries_stage_left_idx').on(t.stageId, t.leftAt),
    index('stage_entries_stage_first_touch_idx').on(t.stageId, t.firstTouchAt),
  ],
);
