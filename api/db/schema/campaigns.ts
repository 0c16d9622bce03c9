import { sqliteTable, integer, text, index, uniqueIndex, primaryKey } from 'drizzle-orm/sqlite-core';
import { sql } from 'drizzle-orm';

// A campaign and its working copy; what runs is a published version (campaign_versions).
export const campaigns = sqliteTable('campaigns', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  description: text('description'),
  // draft (never published) | active | paused | archived
  status: text('status').notNull().default('draft'),
  // The working copy (JSON, see core/campaigns/definition.ts); publishing freezes it as a version.
  definition: text('definition').notNull(),
  // The version new enrollments get; NULL until first published.
  version: integer('version'),
  // Signs its webhook actions' deliveries (Standard-Webhooks-style HMAC as the scoring webhooks);
  // shown on create and rotate only.
  secret: text('secret').notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  publishedAt: integer('published_at'),
  archivedAt: integer('archived_at'),
});

// Published definitions, never changed: contacts in flight stay on theirs.
export const campaignVersions = sqliteTable(
  'campaign_versions',
  {
    campaignId: integer('campaign_id').notNull(),
    version: integer('version').notNull(),
    definition: text('definition').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.version] })],
);

// One pass of one contact through one campaign (a rotation); at most one active per contact.
export const campaignEnrollments = sqliteTable(
  'campaign_enrollments',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    campaignId: integer('campaign_id').notNull(),
    contactId: integer('contact_id').notNull(),
    rotation: integer('rotation').notNull(),
    version: integer('version').notNull(),
    // active | completed | exited | converted
    status: text('status').notNull(),
    // What enrolled it: segment:<id> | form:<id> | event:<name> | manual | campaign:<id>
    source: text('source').notNull(),
    // Why it ended: exit_step, segment_left, archived, goal ids…
    endReason: text('end_reason'),
    goal: text('goal'),
    enteredAt: integer('entered_at').notNull(),
    endedAt: integer('ended_at'),
  },
  (t) => [
    uniqueIndex('campaign_enrollments_pass_uq').on(t.campaignId, t.contactId, t.rotation),
    uniqueIndex('campaign_enrollments_active_uq').on(t.campaignId, t.contactId).where(sql`status = 'active'`),
    index('campaign_enrollments_entered_idx').on(t.campaignId, t.enteredAt),
    index('campaign_enrollments_contact_idx').on(t.contactId),
    // Reports: passes ended in a period (the campaigns report; attribution's goal conversions).
    index('campaign_enrollments_ended_idx').on(t.endedAt, t.campaignId),
  ],
);

// Every step a contact reaches, exactly once per pass: UNIQUE(campaign, step, contact, rotation).
// pending (due at due_at) → waiting (a wait or a decision, until due_at or an event) → done |
// skipped | failed (parked after its retries) | cancelled (the pass ended first). A holder's
// lease is lease_owner + attempts; due_at doubles as the lease's end while it is held.
export const campaignSteps = sqliteTable(
  'campaign_steps',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    campaignId: integer('campaign_id').notNull(),
    version: integer('version').notNull(),
    contactId: integer('contact_id').notNull(),
    rotation: integer('rotation').notNull(),
    stepId: text('step_id').notNull(),
    status: text('status').notNull(),
    dueAt: integer('due_at').notNull(),
    // When a wait or decision began waiting, and (decisions) the outcome an event decided.
    waitingSince: integer('waiting_since'),
    branch: text('branch'),
    leaseOwner: text('lease_owner'),
    attempts: integer('attempts').notNull().default(0),
    failures: integer('failures').notNull().default(0),
    error: text('error'),
    skipReason: text('skip_reason'),
    createdAt: integer('created_at').notNull(),
    completedAt: integer('completed_at'),
  },
  (t) => [
    uniqueIndex('campaign_steps_uq').on(t.campaignId, t.stepId, t.contactId, t.rotation),
    index('campaign_steps_due_idx').on(t.dueAt).where(sql`status IN ('pending', 'waiting')`),
    index('campaign_steps_contact_idx').on(t.contactId, t.status),
    index('campaign_steps_report_idx').on(t.campaignId, t.stepId, t.status),
  ],
);
