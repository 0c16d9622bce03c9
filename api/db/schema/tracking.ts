import { sqliteTable, integer, text, index, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { sql } from 'drizzle-orm';

export const sites = sqliteTable('sites', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  // Public key the script tag carries (data-site); not a secret.
  publicKey: text('public_key').notNull().unique(),
  // Signs identify calls from the site's backend (HMAC-SHA256 of the email).
  secret: text('secret').notNull(),
  allowedOrigins: text('allowed_origins').notNull().default('[]'), // JSON array
  consentRequired: integer('consent_required', { mode: 'boolean' }).notNull().default(false),
  respectDnt: integer('respect_dnt', { mode: 'boolean' }).notNull().default(false),
  anonymizeIp: integer('anonymize_ip', { mode: 'boolean' }).notNull().default(false),
  allowAutomation: integer('allow_automation', { mode: 'boolean' }).notNull().default(false),
  retentionDays: integer('retention_days').notNull().default(180),
  // IANA name: campaign waits for a time window use it for contacts without a `timezone` field.
  timezone: text('timezone'),
  // The sample site /demo uses, created on the first start (as forms and focus items mark theirs).
  isSample: integer('is_sample', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const visitors = sqliteTable(
  'visitors',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    siteId: integer('site_id').notNull(),
    // The random id the browser keeps (localStorage + first-party cookie).
    uid: text('uid').notNull(),
    contactId: integer('contact_id'),
    // When this browser proved it is its contact (signed identify, a signed email
    // link, a confirmed double opt-in). Linked but not proven = only claimed (it
    // typed an email into a form): it gets nothing derived from the contact.
    provenAt: integer('proven_at'),
    firstSeenAt: integer('first_seen_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
    pageViews: integer('page_views').notNull().default(0),
    // Points earned while anonymous; they move to the contact on identification.
    points: integer('points').notNull().default(0),
    // First-touch source: JSON {utm_source, utm_medium, utm_campaign, utm_term, utm_content, referrer, landing_url}.
    source: text('source'),
    browser: text('browser'),
    os: text('os'),
    device: text('device'),
    country: text('country'),
  },
  (t) => [
    uniqueIndex('visitors_site_uid_uq').on(t.siteId, t.uid),
    index('visitors_contact_idx').on(t.contactId),
    // Retention sweeps anonymous visitors by age.
    index('visitors_anon_last_seen_idx').on(t.lastSeenAt).where(sql`contact_id IS NULL`),
  ],
);

export const events = sqliteTable(
  'events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    siteId: integer('site_id'),
    visitorId: integer('visitor_id'),
    contactId: integer('contact_id'),
    type: text('type').notNull(),
    name: text('name'),
    url: text('url'),
    referrer: text('referrer'),
    title: text('title'),
    props: text('props'), // JSON object
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    index('events_contact_idx').on(t.contactId, t.id),
    // Behaviour filters: "did X at least N times in the last D days".
    index('events_contact_type_idx').on(t.contactId, t.type, t.createdAt),
    index('events_visitor_idx').on(t.visitorId, t.id),
    index('events_type_created_idx').on(t.type, t.createdAt),
    // Email reports: the opens and clicks of one email (total counts and the click map).
    index('events_email_idx')
      .on(sql`json_extract(props, '$.email_id')`, t.type)
      .where(sql`type IN ('email_opened', 'email_clicked')`),
  ],
);

// How far each reaction has consumed the event log.
export const reactionCursors = sqliteTable('reaction_cursors', {
  name: text('name').primaryKey(),
  lastEventId: integer('last_event_id').notNull().default(0),
  updatedAt: integer('updated_at').notNull(),
});

// A merged contact's old id keeps resolving to the survivor.
export const contactAliases = sqliteTable('contact_aliases', {
  oldId: integer('old_id').primaryKey(),
  contactId: integer('contact_id').notNull(),
  mergedAt: integer('merged_at').notNull(),
});

export const contactMerges = sqliteTable(
  'contact_merges',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    survivorId: integer('survivor_id').notNull(),
    mergedId: integer('merged_id').notNull(),
    reason: text('reason').notNull(),
    // The merged contact as it was, so the merge can be audited.
    snapshot: text('snapshot').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('contact_merges_survivor_idx').on(t.survivorId)],
);
