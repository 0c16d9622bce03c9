import { sqliteTable, integer, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

// Dynamic web content (core/slots/): what fills `<div data-leadline-slot="NAME">` on a site's
// pages. A name is unique per site; the variants and the ordered rules choosing one are JSON.
export const slots = sqliteTable(
  'slots',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    siteId: integer('site_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    // JSON: { variants: [...], rules: [...] } (core/slots/schema.ts)
    definition: text('definition').notNull(),
    active: integer('active', { mode: 'boolean' }).notNull().default(true),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [uniqueIndex('slots_site_name_uq').on(t.siteId, t.name)],
);
