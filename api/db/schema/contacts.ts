import { sqliteTable, integer, text, index, uniqueIndex, primaryKey } from 'drizzle-orm/sqlite-core';
import { sql } from 'drizzle-orm';

export const fields = sqliteTable('fields', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  key: text('key').notNull().unique(),
  label: text('label').notNull(),
  type: text('type').notNull(),
  options: text('options'), // JSON array of allowed values for select / multiselect
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const contacts = sqliteTable(
  'contacts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    email: text('email'),
    // Trimmed, lower-cased email: the identity key. NULL for contacts known by other means.
    emailNormalized: text('email_normalized'),
    firstName: text('first_name'),
    lastName: text('last_name'),
    phone: text('phone'),
    jobTitle: text('job_title'),
    city: text('city'),
    country: text('country'),
    // Values of custom fields, keyed by field key; adding a field needs no migration.
    custom: text('custom').notNull().default('{}'),
    points: integer('points').notNull().default(0),
    stageId: integer('stage_id'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    lastActiveAt: integer('last_active_at'),
    firstSeenAt: integer('first_seen_at'),
    // First-touch source copied from the visitor that became this contact (JSON).
    firstSource: text('first_source'),
  },
  (t) => [
    uniqueIndex('contacts_email_uq').on(t.emailNormalized).where(sql`email_normalized IS NOT NULL`),
    index('contacts_created_idx').on(t.createdAt, t.id),
    index('contacts_updated_idx').on(t.updatedAt, t.id),
    index('contacts_last_active_idx').on(t.lastActiveAt, t.id),
    index('contacts_stage_idx').on(t.stageId),
    index('contacts_points_idx').on(t.points),
    index('contacts_first_name_idx').on(sql`lower(first_name)`),
    index('contacts_last_name_idx').on(sql`lower(last_name)`),
    // Reports: monthly cohorts by first touch, and the UTM filters on a contact's first touch.
    index('contacts_first_touch_idx').on(sql`min(coalesce(first_seen_at, created_at), created_at)`),
    index('contacts_utm_source_idx').on(sql`first_source ->> 'utm_source'`),
    index('contacts_utm_medium_idx').on(sql`first_source ->> 'utm_medium'`),
    index('contacts_utm_campaign_idx').on(sql`first_source ->> 'utm_campaign'`),
  ],
);

export const tags = sqliteTable('tags', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(), // stored lower-cased and trimmed
  createdAt: integer('created_at').notNull(),
});

export const contactTags = sqliteTable(
  'contact_tags',
  {
    contactId: integer('contact_id').notNull(),
    tagId: integer('tag_id').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.contactId, t.tagId] }), index('contact_tags_tag_idx').on(t.tagId, t.contactId)],
);

export const doNotContact = sqliteTable(
  'do_not_contact',
  {
    contactId: integer('contact_id').notNull(),
    channel: text('channel').notNull(), // email | sms | all
    reason: text('reason').notNull(), // unsubscribed | bounced | complained | manual
    comment: text('comment'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.contactId, t.channel] })],
);
