import type { InStatement } from '@libsql/client';
import { deleteRow } from './writes';

/**
 * Every table that holds rows belonging to one contact, in one place, so that
 * erasure and merging never miss one. A test (test/privacy.test.ts) reads the
 * migrated schema and fails when a table is in none of the lists below, when a
 * listed column is gone, or when a column named like a contact or visitor
 * reference (or an email) is not covered: a new table or column that can hold
 * contact data has to be placed here before it lands.
 *
 * merge "move": rows are re-pointed to the survivor; rows that would collide
 * with one the survivor already has (same primary or unique key) are dropped,
 * the survivor's wins.
 */
export const CONTACT_DATA: { table: string; column: string; merge: 'move' | 'none'; by?: 'email' }[] = [
  { table: 'contact_tags', column: 'contact_id', merge: 'move' },
  { table: 'do_not_contact', column: 'contact_id', merge: 'move' },
  { table: 'company_contacts', column: 'contact_id', merge: 'move' },
  { table: 'events', column: 'contact_id', merge: 'move' },
  { table: 'visitors', column: 'contact_id', merge: 'move' },
  { table: 'point_log', column: 'contact_id', merge: 'move' },
  { table: 'segment_members', column: 'contact_id', merge: 'move' },
  { table: 'segment_exclusions', column: 'contact_id', merge: 'move' },
  { table: 'trigger_fires', column: 'contact_id', merge: 'move' },
  { table: 'form_submissions', column: 'contact_id', merge: 'move' },
  // Their bodies copy the contact (email, name) as it was when they were queued.
  { table: 'webhook_deliveries', column: 'contact_id', merge: 'move' },
  // Ids merged into this contact, and the snapshots of those merges.
  { table: 'contact_aliases', column: 'contact_id', merge: 'none' },
  { table: 'contact_merges', column: 'survivor_id', merge: 'none' },
  // Sends and what they rendered; a send keeps the address it was queued for.
  { table: 'email_sends', column: 'contact_id', merge: 'move' },
  { table: 'email_outbox', column: 'contact_id', merge: 'move' },
  { table: 'contact_subscriptions', column: 'contact_id', merge: 'move' },
  // Campaign passes and the steps they reached. A merge moves them, except in a campaign the
  // survivor was in too: there the survivor's passes stay and the other's go (moveStatements).
  { table: 'campaign_enrollments', column: 'contact_id', merge: 'move' },
  { table: 'campaign_steps', column: 'contact_id', merge: 'move' },
  // Closed-loop reporting: the contact's deals, its visits, its passage through the funnel.
  { table: 'deals', column: 'contact_id', merge: 'move' },
  { table: 'sessions', column: 'contact_id', merge: 'move' },
  { table: 'stage_entries', column: 'contact_id', merge: 'move' },
  // by: 'email' — matched on the contact's normalised address, for sends made to an address
  // (a transactional send without a contact) and for what was queued before an email change.
  { table: 'email_sends', column: 'to_email', merge: 'none', by: 'email' },
  { table: 'email_outbox', column: 'to_email', merge: 'none', by: 'email' },
];

/**
 * Rows a browser left while it was anonymous (not yet attributed to the
 * contact), found through the contact's visitors. Merging moves the visitors,
 * so these follow without a merge rule of their own.
 */
export const VISITOR_DATA: { table: string; column: string }[] = [
  { table: 'events', column: 'visitor_id' },
  { table: 'form_submissions', column: 'visitor_id' },
  { table: 'point_log', column: 'visitor_id' },
  { table: 'sessions', column: 'visitor_id' },
  // Webhook deliveries of an anonymous browser's events (asset downloads, focus conversions).
  { table: 'webhook_deliveries', column: 'visitor_id' },
  // Which landing page variant a browser saw in an A/B test, and whether it converted.
  { table: 'page_test_visitors', column: 'visitor_id' },
];

/**
 * Columns named like contact data that are not: users.email is a dashboard user's own sign-in
 * address (users are staff, not contacts; erasing a contact with the same address must not
 * remove the user).
 */
export const NOT_CONTACT_COLUMNS: Record<string, string> = {
  'users.email': "a dashboard user's sign-in address; users are not contacts",
};

/** Every other table, with why erasure need not visit it. */
export const OTHER_TABLES: Record<string, string> = {
  contacts: 'the contact row itself: erased last, after every row that points to it',
  _migrations: 'which schema migrations have been applied',
  sqlite_sequence: "SQLite's AUTOINCREMENT counters",
  api_keys: 'API credentials (hashed) and their names; no contact data',
  users: "dashboard users (staff, not contacts): their own sign-in address, name, role and password hash; removed with DELETE /users/{id}",
  user_sessions: 'dashboard sessions (token hashes) of users, not contacts; ended rows are deleted by the retention job',
  user_tokens: 'hashes of single-use invitation, password-reset and setup links of users, not contacts; deleted a day after use or expiry',
  auth_throttle: 'sign-in failure counts per account and client address, keyed by SHA-256 only; forgotten after a quiet day',
  app_state: 'installation-wide markers (demo seeded, segment watermark); no contact data',
  assets: 'uploaded files and their settings; downloads are events',
  email_categories: 'subscription categories; who left one is contact_subscriptions',
  emails: 'email definitions (subject, bodies, sender); sends are email_sends',
  email_broadcasts: 'broadcast definitions (email, segments, schedule, A/B); their sends are email_sends',
  email_identify_uses: 'signatures of email click-through identify tokens already used (single use), kept until they expire; the token names a send, the row names nobody',
  email_webhook_receipts: "ids of provider webhook deliveries already handled, for de-duplication; the payloads are not kept",
  campaigns: 'campaign definitions (working copy), status and webhook signing secret; who is in them is campaign_enrollments and campaign_steps',
  campaign_versions: 'published, frozen campaign definitions; no contact data',
  companies: 'organisations; which contacts belong to them is company_contacts',
  fields: 'custom field definitions; the values live on the contact row',
  focus_items: 'focus item definitions; views and clicks are events',
  forms: 'form definitions; submissions are form_submissions',
  idempotency_keys:
    'responses kept 24 hours for Idempotency-Key replays, by API key: erasure deletes those that show the contact (eraseStatements), the retention job the rest when they expire',
  deal_integrations: 'CRMs allowed to push deals (name, signing secret); the deals are the deals table',
  rollups: 'hourly counts per metric and dimension (page, form, email…), no contact or visitor ids',
  point_rules: 'scoring rule definitions; what they scored is point_log',
  point_triggers: 'trigger definitions; whom they fired for is trigger_fires',
  reaction_cursors: 'how far each spine reaction has read the event log',
  segments: 'segment definitions; membership is segment_members and segment_exclusions',
  sites: 'tracked sites and their settings; browsers are visitors',
  stages: 'funnel stage definitions; a contact stage is a column of contacts',
  tags: 'tag names; who has them is contact_tags',
  webhook_subscriptions: 'webhook URLs, event types, filters and signing secrets; what was sent about whom is webhook_deliveries',
  pages: 'landing page definitions (slug, sections, host); views are events, submissions through their forms are form_submissions',
  page_redirects: 'old slugs of landing pages and the page each now points to; no contact data',
  page_tests: "landing pages' A/B tests (goal, start, end, winner); who took part is page_test_visitors",
  page_variants: "the variants of landing pages' A/B tests (title, sections, weight); no contact data",
  page_test_views: 'page view counts per A/B test and variant; no contact or visitor ids',
  slots: 'dynamic web content definitions (name, variants, rules) per site; views and clicks are events',
  ingest_hits: 'ids of hits written through the tracking Queue (random, naming nobody), kept a day so a redelivered message is not written twice',
  jobs_schedule: 'when each scheduled job is next due and which claim runs it (the Workers jobs queue); no contact data',
  pacing_buckets: "the email provider's shared request budget (a token bucket per provider); no contact data",
  ingest_dead: "tracking Queue messages that could not be written (a browser's id and its events as sent, or an email open's send id; no contact id), deleted by the retention job after 7 days, and by erasure for the contact's browsers and sends (eraseStatements, by the browser or send id in the message)",
  ingest_counters: "the tracking Queue consumer's running totals (stored, retried, failed); no contact data",
};

// The sends of campaign notifications about contact ?1 (or an id merged into it, ?2).
const NOTIFY_SENDS = `SELECT id FROM email_sends WHERE reason LIKE 'campaign:%:contact:%'
  AND substr(reason, instr(reason, ':contact:') + 9) IN (SELECT CAST(? AS TEXT) UNION ALL SELECT CAST(old_id AS TEXT) FROM contact_aliases WHERE contact_id = ?)`;

/** Statements that erase a contact and everything about it (the contact row last). */
export function eraseStatements(id: number): InStatement[] {
  return [
    // Responses kept for Idempotency-Key replays that show this contact (by its email, or its
    // contact object), while the contact row is still there to name its email.
    {
      sql: `DELETE FROM idempotency_keys WHERE body IS NOT NULL AND (
          instr(lower(body), (SELECT email_normalized FROM contacts WHERE id = ?)) > 0
          OR instr(body, '{"id":' || ? || ',"email":') > 0 OR instr(body, '"contact_id":' || ? || ',') > 0)`,
      args: [id, id, id],
    },
    // Before the visitors themselves go.
    ...VISITOR_DATA.map(({ table, column }) => ({
      sql: `DELETE FROM ${table} WHERE ${column} IN (SELECT id FROM visitors WHERE contact_id = ?)`,
      args: [id],
    })),
    // Tracking Queue messages of its browsers that could not be written (kept 7 days for an
    // operator): the message names the browser by the id it keeps, on its site.
    {
      sql: `DELETE FROM ingest_dead WHERE EXISTS (SELECT 1 FROM visitors v WHERE v.contact_id = ?
        AND v.uid = ingest_dead.body ->> '$.hit.uid' AND v.site_id = ingest_dead.body ->> '$.hit.siteId')`,
      args: [id],
    },
    // …and its email opens that could not be written: the message names the send (by the
    // contact, or by its address), so before the sends go.
    {
      sql: `DELETE FROM ingest_dead WHERE body ->> '$.kind' = 'email_open' AND body ->> '$.open.sendId' IN
        (SELECT id FROM email_sends WHERE contact_id = ? OR to_email = (SELECT email_normalized FROM contacts WHERE id = ?))`,
      args: [id, id],
    },
    // Deliveries queued before they recorded their contact (contact_id NULL):
    // found by the id in their body, this contact's or one merged into it.
    // Before contact_aliases goes; the contact_id index keeps it to those rows.
    {
      sql: `DELETE FROM webhook_deliveries WHERE contact_id IS NULL
        AND (body ->> '$.data.contact.id' = ? OR body ->> '$.data.contact.id' IN (SELECT old_id FROM contact_aliases WHERE contact_id = ?))`,
      args: [id, id],
    },
    // Opens and clicks of sends made to the address without a contact (contact_id NULL; a click's
    // url may carry what was rendered for the address): found through their send, before it goes.
    {
      sql: `DELETE FROM events WHERE contact_id IS NULL AND type IN ('email_opened', 'email_clicked')
        AND props ->> 'send_id' IN (SELECT id FROM email_sends WHERE to_email = (SELECT email_normalized FROM contacts WHERE id = ?))`,
      args: [id],
    },
    // Campaign `notify` sends go to your team, not to the contact, but carry the contact (its email
    // and name, in the variables and the rendered message); their reason names it:
    // campaign:<id>:<step>:<pass>:contact:<contact id> — this contact's id or one merged into it.
    ...[
      `DELETE FROM events WHERE contact_id IS NULL AND type IN ('email_opened', 'email_clicked') AND props ->> 'send_id' IN (${NOTIFY_SENDS})`,
      `DELETE FROM email_outbox WHERE send_id IN (${NOTIFY_SENDS})`,
      `DELETE FROM email_sends WHERE id IN (${NOTIFY_SENDS})`,
    ].map((sql) => ({ sql, args: [id, id] })),
    // Matched by address first: the contact row still names it.
    ...CONTACT_DATA.filter((t) => t.by === 'email').map(({ table, column }) => ({
      sql: `DELETE FROM ${table} WHERE ${column} = (SELECT email_normalized FROM contacts WHERE id = ?)`,
      args: [id],
    })),
    ...CONTACT_DATA.filter((t) => t.by !== 'email').map(({ table, column }) => ({ sql: `DELETE FROM ${table} WHERE ${column} = ?`, args: [id] })),
    deleteRow(id),
  ];
}

/** Statements that move a merged contact's rows to the survivor. */
export function moveStatements(survivorId: number, mergedId: number): InStatement[] {
  return [
    // The survivor keeps its primary company; the merged one's becomes secondary.
    {
      sql: `UPDATE company_contacts SET is_primary = 0 WHERE contact_id = ?
        AND EXISTS (SELECT 1 FROM company_contacts WHERE contact_id = ? AND is_primary = 1)`,
      args: [mergedId, survivorId],
    },
    // A campaign both were in keeps the survivor's passes only: moving the other's too would put
    // two paths (or two active passes) under one contact. The rest move with the generic rule.
    ...['campaign_steps', 'campaign_enrollments'].map((table) => ({
      sql: `DELETE FROM ${table} WHERE contact_id = ? AND campaign_id IN (SELECT campaign_id FROM campaign_enrollments WHERE contact_id = ?)`,
      args: [mergedId, survivorId],
    })),
    ...CONTACT_DATA.filter((t) => t.merge === 'move').flatMap(({ table, column }) => [
      { sql: `UPDATE OR IGNORE ${table} SET ${column} = ? WHERE ${column} = ?`, args: [survivorId, mergedId] },
      { sql: `DELETE FROM ${table} WHERE ${column} = ?`, args: [mergedId] },
    ]),
  ];
}
