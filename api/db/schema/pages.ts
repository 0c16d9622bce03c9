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
    // A/B testing (core/pages/variants.ts). JSON: goal, min_visitors, confidence, auto_winner (null: the defaults).
    abSettings: text('ab_settings'),
    // The running test (page_tests.id), null when none runs.
    abTestId: integer('ab_test_id'),
    // JSON: how the last test ended (its id, the winner, who picked it and when); null before any ended.
    abResult: text('ab_result'),
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

// A/B tests of landing pages (core/pages/variants.ts): one running test per page at most; an
// ended one keeps its variants and counts for the record. goal: JSON (type, form_id, cta_id, event_name).
export const pageTests = sqliteTable(
  'page_tests',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    pageId: integer('page_id').notNull(),
    status: text('status', { enum: ['running', 'ended'] }).notNull().default('running'),
    goal: text('goal').notNull(),
    startedAt: integer('started_at').notNull(),
    endedAt: integer('ended_at'),
    // 0: the original page (the control); else page_variants.id.
    winnerVariantId: integer('winner_variant_id'),
    winnerBy: text('winner_by', { enum: ['manual', 'auto'] }),
    // 1 when new views or conversions (or changed settings) wait for the automatic winner check.
    needsCheck: integer('needs_check').notNull().default(0),
  },
  (t) => [index('page_tests_page_idx').on(t.pageId), index('page_tests_status_idx').on(t.status)],
);

// The variants of a test: their own title and sections; weight: the percentage of visitors it
// gets (the original page gets the rest).
export const pageVariants = sqliteTable(
  'page_variants',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    pageId: integer('page_id').notNull(),
    testId: integer('test_id').notNull(),
    name: text('name').notNull(),
    title: text('title').notNull(),
    sections: text('sections').notNull(),
    formIds: text('form_ids').notNull().default('[]'),
    weight: integer('weight').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('page_variants_test_idx').on(t.testId), index('page_variants_page_idx').on(t.pageId)],
);

// Who is in a test: a visitor's first page view of the test's page names its variant (0: the
// original); converted_event_id is its first goal event after that view.
export const pageTestVisitors = sqliteTable(
  'page_test_visitors',
  {
    testId: integer('test_id').notNull(),
    visitorId: integer('visitor_id').notNull(),
    variantId: integer('variant_id').notNull(),
    firstEventId: integer('first_event_id').notNull(),
    firstSeenAt: integer('first_seen_at').notNull(),
    convertedEventId: integer('converted_event_id'),
  },
  (t) => [primaryKey({ columns: [t.testId, t.visitorId] }), index('page_test_visitors_visitor_idx').on(t.visitorId)],
);

// Page views per test and variant (every view, with or without a visitor id).
export const pageTestViews = sqliteTable(
  'page_test_views',
  {
    testId: integer('test_id').notNull(),
    variantId: integer('variant_id').notNull(),
    views: integer('views').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.testId, t.variantId] })],
);
