import { sqliteTable, integer, text, index, primaryKey, uniqueIndex } from 'drizzle-orm/sqlite-core';

// Landing pages served at /p/{slug} (core/pages/). host: the host name whose page set the page
// belongs to ('' = this server's own address); a slug is unique within one page set.
export const pages = sqliteTable(
  'pages',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    siteId: integer('site_id').notNull(),
    host: text('host').notNull().default(''),
    slug: text('slug').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    ogImage: text('og_image'),
    language: text('language').notNull(),
    // JSON: the sections (core/pages/schema.ts)
    sections: text('sections').notNull(),
    // JSON: the ids of the forms the sections embed (for the cache's freshness check)
    formIds: text('form_ids').notNull().default('[]'),
    status: text('status', { enum: ['draft', 'published'] }).notNull().default('draft'),
    // Bumped by every write: part of the rendered-page cache key.
    version: integer('version').notNull().default(1),
    publishedAt: integer('published_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [uniqueIndex('pages_host_slug_uq').on(t.host, t.slug), index('pages_site_idx').on(t.siteId), index('pages_status_idx').on(t.host, t.status)],
);

// Old slugs of pages whose slug changed: /p/{old} answers 301 to the page's current slug.
export const pageRedirects = sqliteTable(
  'page_redirects',
  {
    host: text('host').notNull(),
    slug: text('slug').notNull(),
    pageId: integer('page_id').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.host, t.slug] }), index('page_redirects_page_idx').on(t.pageId)],
);
