import { sqliteTable, integer, text, index, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const forms = sqliteTable('forms', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  // JSON: fields, rules, progressive profiling, after-submit, actions, gating (core/forms/schema.ts)
  definition: text('definition').notNull(),
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  isSample: integer('is_sample', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const formSubmissions = sqliteTable(
  'form_submissions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    formId: integer('form_id').notNull(),
    contactId: integer('contact_id'),
    visitorId: integer('visitor_id'),
    // The browser's id for this submission: a double click stores one row.
    clientId: text('client_id'),
    values: text('values').notNull(), // JSON
    pageUrl: text('page_url'),
    referrer: text('referrer'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('form_submissions_client_uq').on(t.formId, t.clientId),
    index('form_submissions_form_idx').on(t.formId, t.id),
    index('form_submissions_contact_idx').on(t.contactId),
    index('form_submissions_visitor_idx').on(t.visitorId, t.formId),
  ],
);

export const focusItems = sqliteTable('focus_items', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  siteId: integer('site_id'), // null: every site
  // JSON: style, content, trigger, targeting, frequency, variants (core/focus/schema.ts)
  definition: text('definition').notNull(),
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  isSample: integer('is_sample', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const assets = sqliteTable('assets', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  slug: text('slug').notNull().unique(),
  title: text('title').notNull(),
  filename: text('filename').notNull(),
  contentType: text('content_type').notNull(),
  size: integer('size').notNull(),
  sha256: text('sha256').notNull(),
  // Key in the storage backend (local disk on Node, R2 on Workers).
  storageKey: text('storage_key').notNull(),
  // Download only after this form was submitted by the same visitor.
  gateFormId: integer('gate_form_id'),
  isSample: integer('is_sample', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});
