// Segment rebuild against the plain SQL count of the same filter (DESIGN.md:
// "segment rebuild, 1M contacts, 3 conditions ≤ 2 × the plain SQL count of the
// same filter"), plus the latency of keeping membership current incrementally:
// one new event through the segments reaction, and one changed contact through
// the contact-change sweep.
//
// One fresh WAL database file (prepareDatabase, real migrations), filled in SQL:
// recursive CTEs generate the rows, 100,000 per statement, with the tables'
// secondary indexes dropped during the load and recreated from their own
// migration SQL afterwards (same schema, sorted index builds instead of 5M
// random B-tree inserts). Row values come from SQLite's random(), so counts vary
// a little between runs; the run's own distribution is in the results.
//
//   contacts  unique emails; custom {"industry","plan","seats"}: plan pro 10%,
//             enterprise 3%, free otherwise; every 10th contact is "engaged"
//             (40% of all events; pro 25% and vip 20% among them)
//   tags      20 tags; every contact 0–2 ordinary tags plus 'vip' on ~5% (0–3 in all)
//   events    90% page_view over ~50 paths (/pricing ~6%, /pricing/enterprise ~2%),
//             5% custom, 3% form_submit, 2% asset_download; contact_id on every
//             event; created_at spread evenly over the last 90 days in id order
//
// The filter: fields.plan equals pro AND tag vip AND visited a URL containing
// /pricing at least 2 times within 30 days.
//
// Measured, on the same database, in rounds whose order rotates:
//   count        SELECT count(*) FROM contacts c WHERE <compiled filter>
//   rebuild      rebuildSegment() from an empty membership, built_at NULL (first
//                build: no segment_joined events)
//   rebuild+ev   rebuildSegment() from an empty membership, built_at set (every
//                member joins: segment_joined events are written too)
// before ANALYZE (the app never runs it) and after; then, with a candidate
// covering index on events added in this database only; then per-event and
// per-contact incremental latency, first with the one segment above live, then
// with six more (every kind of condition: tags, do-not-contact, another
// segment, companies, behaviour; companies and do-not-contact rows are added for
// them), each membership checked against its filter's count afterwards.
//
// The summary ends with one budget line per figure (goal, ok or MISSED), also
// written to the JSON result under "budgets". Per event and per changed contact,
// the incremental upkeep has ≤ 10 ms at p99 (and ≤ 5 ms at p50), at 1M contacts;
// runReactions (every reaction for one event) ≤ 25 ms at p99 (≤ 10 ms at p50).
//
//   BENCH_CONTACTS   contacts (default 1,000,000)
//   BENCH_EVENTS     events (default 5,000,000)
//   BENCH_ROUNDS     rounds of each measurement (default 5; medians, and ratios as the median of
//                    the per-round ratios, each from runs back to back)
//   BENCH_SAMPLES    events / contact updates timed per incremental method (default 200)
//   BENCH_KEEP=1     keep the temp database
import { createClient, type Client, type InValue } from '@libsql/client';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { createCtx, type Ctx } from '../../api/core/context';
import { createField } from '../../api/core/contacts/fields';
import { compileFilter, type Compiled } from '../../api/core/segments/compile';
import { Filter } from '../../api/core/segments/filter';
import { segmentsOnContactChanges } from '../../api/core/segments/incremental';
import { segments as segmentsOnEvents } from '../../api/core/spine/reactions/segments';
import { compileEnv, membershipStatements, rebuildSegment } from '../../api/core/segments/membership';
import { REACTIONS } from '../../api/core/spine/registry';
import { runReactions, SPINE_COLUMNS, toEvent } from '../../api/core/spine/run';
import type { SpineEvent } from '../../api/core/spine/types';
import { prepareDatabase } from '../../api/db/open';
import { parseConfig } from '../../api/env';
import {
  chunked,
  databaseBytes,
  median,
  num,
  sqlRows as rows,
  envInt,
  fmtBytes,
  fmtInt,
  fmtMs,
  latency,
  machine,
  now,
  openDatabase,
  table,
  tempDir,
  writeResults,
  type Latency,
} from './lib';

const NAME = 'segments';
const N = envInt('BENCH_CONTACTS', 1_000_000, 100);
const E = envInt('BENCH_EVENTS', 5_000_000, 1);
const ROUNDS = envInt('BENCH_ROUNDS', 5);
const SAMPLES = envInt('BENCH_SAMPLES', 200, 2);
const CHUNK = 100_000;
const DAY = 86_400_000;
const BUDGET = 2;
// Incremental upkeep per event or per changed contact (ms).
const INC_P50_MS = 5;
const INC_P99_MS = 10;
// The sweep right after a burst of updates re-checks every contact changed in its 5 s overlap window.
const BURST_P99_MS = 25;
// runReactions for one event is the whole spine: five reactions, each committing
// its own cursor, then the contact sweep; the segments reaction is one part of it.
const RUN_P50_MS = 10;
const RUN_P99_MS = 25;

// Fixed clock for the whole measurement: the count and every rebuild compile the
// filter with the same "now", so their 30-day windows are identical (events are
// ~0.6 s apart at 5M over 90 days, so a drifting clock could move a boundary).
const ANCHOR = Date.now();
const CLOCK = ANCHOR + 60_000;

const FILTER: Filter = Filter.parse({
  all: [
    { field: 'fields.plan', op: 'equals', value: 'pro' },
    { tag: 'vip' },
    { behaviour: 'visited', url: { op: 'contains', value: '/pricing' }, min_count: 2, within_days: 30 },
  ],
});

const OTHER_TAGS = [
  'newsletter', 'customer', 'lead', 'trial', 'webinar-2024', 'webinar-2025', 'partner', 'churn-risk', 'beta',
  'event-attendee', 'ebook', 'demo-requested', 'enterprise-lead', 'smb', 'agency', 'referral', 'nps-promoter',
  'nps-detractor', 'inactive',
];
// 49 paths besides /pricing (which page views pick 6% of the time).
const PATHS = [
  '/', '/pricing/enterprise', '/features', '/features/automation', '/features/email', '/features/forms',
  '/features/landing-pages', '/features/scoring', '/features/segments', '/integrations', '/integrations/salesforce',
  '/integrations/hubspot', '/integrations/slack', '/customers', '/customers/acme', '/customers/globex', '/about',
  '/careers', '/contact', '/demo', '/signup', '/login', '/docs', '/docs/getting-started', '/docs/api',
  '/docs/tracking', '/docs/segments', '/docs/campaigns', '/docs/webhooks', '/blog',
  '/blog/marketing-automation-guide', '/blog/lead-scoring-101', '/blog/email-deliverability',
  '/blog/segmentation-tips', '/blog/gdpr-checklist', '/blog/product-updates', '/resources', '/resources/ebook',
  '/resources/webinars', '/partners', '/security', '/privacy', '/terms', '/status', '/changelog',
  '/compare/mautic', '/compare/hubspot', '/templates', '/solutions/saas',
];
if (PATHS.length !== 49 || OTHER_TAGS.length !== 19) throw new Error('path / tag lists changed size');

const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const settle = () => (globalThis as { gc?: () => void }).gc?.();

// ---------------------------------------------------------------------------
// Generation

interface Generated {
  contacts_s: number;
  tags_s: number;
  events_s: number;
  indexes_s: number;
  index_builds: { name: string; s: number }[];
  total_s: number;
  db_bytes: number;
}

async function generate(url: string, path: string, ctx: Ctx): Promise<Generated> {
  const started = now();
  // Its own connection with a large page cache and sorter threads: only the load
  // uses it; the measured client below has the defaults production has.
  const g = createClient({ url });
  await g.execute('PRAGMA cache_size = -262144');
  await g.execute('PRAGMA threads = 2');

  const idx = (
    await g.execute(
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('contacts', 'contact_tags', 'events') ORDER BY tbl_name, name",
    )
  ).rows.map((r) => ({ name: String(r.name), sql: String(r.sql) }));
  for (const i of idx) await g.execute(`DROP INDEX "${i.name}"`);
  console.log(`  dropped ${idx.length} secondary indexes for the load: ${idx.map((i) => i.name).join(', ')}`);

  // Contacts: signed up over [-730 d, -30 d] in id order; updated up to 20 days
  // later (always before the sweep's watermark).
  const engaged = Math.floor(N / 10);
  const contactsSql = `${rows('i', ['u', 'v'])}
    INSERT INTO contacts (id, email, email_normalized, first_name, last_name, job_title, country, custom, points, created_at, updated_at)
    SELECT i,
      'User' || i || '@Example' || (i % 997) || '.com',
      'user' || i || '@example' || (i % 997) || '.com',
      'First' || (u % 5000), 'Last' || (v % 20000),
      CASE v % 5 WHEN 0 THEN 'Marketing Manager' WHEN 1 THEN 'CTO' WHEN 2 THEN 'Founder' ELSE NULL END,
      CASE v % 7 WHEN 0 THEN 'DE' WHEN 1 THEN 'FR' WHEN 2 THEN 'GB' WHEN 3 THEN 'NL' ELSE 'US' END,
      '{"industry":"' || CASE (u / 10000) % 6 WHEN 0 THEN 'saas' WHEN 1 THEN 'ecommerce' WHEN 2 THEN 'agency' WHEN 3 THEN 'finance' WHEN 4 THEN 'health' ELSE 'education' END
        || '","plan":"' || CASE
          WHEN i % 10 = 0 THEN CASE WHEN u % 10000 < 2500 THEN 'pro' WHEN u % 10000 < 2800 THEN 'enterprise' ELSE 'free' END
          ELSE CASE WHEN u % 10000 < 833 THEN 'pro' WHEN u % 10000 < 1133 THEN 'enterprise' ELSE 'free' END END
        || '","seats":' || (1 + v % 200) || '}',
      v % 120,
      ? + (i - 1) * ? / ?,
      ? + (i - 1) * ? / ? + (v % 20) * ${DAY}
    FROM r`;
  const c0 = ANCHOR - 730 * DAY;
  const cSpan = 700 * DAY;
  console.log(`  contacts (${fmtInt(N)})`);
  const contacts_s = await chunked('contacts', N, CHUNK, CHUNK, async (a, b) => {
    await g.execute({ sql: contactsSql, args: [a, b, c0, cSpan, N, c0, cSpan, N] });
  });

  // Tags: 'vip' first, then 19 others with consecutive ids.
  await g.execute({
    sql: `INSERT INTO tags (name, created_at) SELECT value, ? FROM json_each(?)`,
    args: [ANCHOR - 800 * DAY, JSON.stringify(['vip', ...OTHER_TAGS])],
  });
  const vip = await num(g, "SELECT id FROM tags WHERE name = 'vip'");
  const base = await num(g, 'SELECT id FROM tags WHERE name = ?', [OTHER_TAGS[0]!]);
  if ((await num(g, 'SELECT max(id) - min(id) FROM tags WHERE id >= ?', [base])) !== 18) throw new Error('tag ids are not consecutive');
  const tagsSql = `${rows('i', ['u', 'x'])}
    INSERT INTO contact_tags (contact_id, tag_id, created_at)
    SELECT i, tag, ? FROM (
      SELECT i, ${vip} AS tag FROM r
        WHERE CASE WHEN i % 10 = 0 THEN u % 10000 < 2000 ELSE u % 10000 < 333 END
      UNION ALL SELECT i, ${base} + x % 19 FROM r WHERE (u / 10000) >= 35
      UNION ALL SELECT i, ${base} + (x % 19 + 1 + (x / 19) % 18) % 19 FROM r WHERE (u / 10000) >= 75
    ) ORDER BY i, tag`;
  console.log(`  contact tags`);
  const tags_s = await chunked('tags of contacts', N, CHUNK, N, async (a, b) => {
    await g.execute({ sql: tagsSql, args: [a, b, ANCHOR - 20 * DAY] });
  });

  // Events: in time order (id order = created_at order, as ingest writes them),
  // 40% to the engaged tenth of contacts, 60% to anyone.
  await g.execute('CREATE TEMP TABLE bench_paths (i INTEGER PRIMARY KEY, path TEXT NOT NULL)');
  await g.execute({ sql: 'INSERT INTO temp.bench_paths SELECT key, value FROM json_each(?)', args: [JSON.stringify(PATHS)] });
  const e0 = ANCHOR - 90 * DAY;
  const eventsSql = `${rows('k', ['u', 'v', 'w'])}
    INSERT INTO events (id, site_id, contact_id, type, name, url, props, created_at)
    SELECT k, 1,
      CASE WHEN v % 100 < 40 THEN 10 * (1 + (w * 1000 + v / 1000) % ${engaged}) ELSE 1 + (w * 1000 + v / 1000) % ${N} END,
      CASE WHEN u % 100 < 90 THEN 'page_view' WHEN u % 100 < 95 THEN 'custom' WHEN u % 100 < 98 THEN 'form_submit' ELSE 'asset_download' END,
      CASE WHEN u % 100 BETWEEN 90 AND 94 THEN CASE (u / 100) % 4 WHEN 0 THEN 'signup' WHEN 1 THEN 'trial_started' WHEN 2 THEN 'invite_sent' ELSE 'export' END END,
      CASE WHEN u % 100 < 90 THEN 'https://www.example.com'
        || CASE WHEN (u / 100) % 1000 < 60 THEN '/pricing' ELSE (SELECT path FROM temp.bench_paths p WHERE p.i = (u / 100) % 49) END
        || CASE WHEN u / 100000 = 0 THEN '?utm_source=newsletter' ELSE '' END END,
      CASE WHEN u % 100 BETWEEN 95 AND 97 THEN '{"form_id":' || (1 + (u / 100) % 5) || '}'
        WHEN u % 100 >= 98 THEN '{"asset_id":' || (1 + (u / 100) % 8) || '}' END,
      ? + (k - 1) * ? / ?
    FROM r`;
  console.log(`  events (${fmtInt(E)})`);
  const events_s = await chunked('events', E, CHUNK, 500_000, async (a, b) => {
    await g.execute({ sql: eventsSql, args: [a, b, e0, 90 * DAY - 120_000, E] });
  });

  console.log(`  recreating the ${idx.length} indexes from their migration SQL`);
  const ti = now();
  const index_builds: Generated['index_builds'] = [];
  for (const i of idx) {
    const t = now();
    await g.execute(i.sql);
    index_builds.push({ name: i.name, s: r1((now() - t) / 1000) });
    console.log(`    ${i.name.padEnd(28)} ${((now() - t) / 1000).toFixed(1)}s`);
  }
  const indexes_s = (now() - ti) / 1000;
  const after = (await g.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('contacts', 'contact_tags', 'events') ORDER BY tbl_name, name")).rows;
  if (JSON.stringify(after.map((r) => [r.name, r.sql])) !== JSON.stringify(idx.map((i) => [i.name, i.sql]))) throw new Error('indexes differ after the load');

  // Custom fields through core, so compileEnv sees them as the app would.
  await createField({ ctx, input: { key: 'industry', label: 'Industry', type: 'select', options: ['saas', 'ecommerce', 'agency', 'finance', 'health', 'education'] } });
  await createField({ ctx, input: { key: 'plan', label: 'Plan', type: 'select', options: ['free', 'pro', 'enterprise'] } });
  await createField({ ctx, input: { key: 'seats', label: 'Seats', type: 'number' } });

  await g.execute('PRAGMA wal_checkpoint(TRUNCATE)');
  g.close();
  const total_s = (now() - started) / 1000;
  return { contacts_s: r1(contacts_s), tags_s: r1(tags_s), events_s: r1(events_s), indexes_s: r1(indexes_s), index_builds, total_s: r1(total_s), db_bytes: databaseBytes(path) };
}

// ---------------------------------------------------------------------------
// Measurement

interface Plan {
  sql: string;
  plan: string[];
}

// On a throwaway connection: in this driver an EXPLAIN statement stays open on
// its connection, which then cannot commit ("SQL statements in progress") or
// drop an index ("database table is locked").
async function queryPlan(url: string, sql: string, args: InValue[]): Promise<string[]> {
  const c = createClient({ url });
  let r;
  try {
    r = await c.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args });
  } finally {
    c.close();
  }
  const depth = new Map<number, number>();
  return r.rows.map((row) => {
    const d = (depth.get(Number(row.parent)) ?? -1) + 1;
    depth.set(Number(row.id), d);
    return `${'  '.repeat(d)}${String(row.detail)}`;
  });
}

class Bench {
  segId = 0;
  compiled!: Compiled;
  countSql = '';
  constructor(
    readonly client: Client,
    readonly ctx: Ctx,
    readonly url: string,
  ) {}

  async setup() {
    this.compiled = compileFilter(FILTER, await compileEnv(this.ctx));
    this.countSql = `SELECT count(*) AS n FROM contacts c WHERE ${this.compiled.sql}`;
    // Inserted directly (createSegment would build it at once).
    const r = await this.client.execute({
      sql: "INSERT INTO segments (name, kind, filter, created_at, updated_at) VALUES ('bench: pro vip pricing', 'dynamic', ?, ?, ?) RETURNING id",
      args: [JSON.stringify(FILTER), CLOCK, CLOCK],
    });
    this.segId = Number(r.rows[0]!.id);
  }

  /** The count forced onto the migration's events index, for comparison within the same rounds. */
  oldIndexSql(): string {
    const from = 'FROM events e WHERE';
    if (!this.countSql.includes(from)) throw new Error('the compiled behaviour condition changed shape');
    return this.countSql.replace(from, 'FROM events e INDEXED BY events_contact_type_idx WHERE');
  }

  async count(): Promise<number> {
    return num(this.client, this.countSql, this.compiled.args);
  }

  async reset(builtAt: number | null) {
    await this.client.batch(
      [
        { sql: 'DELETE FROM segment_members WHERE segment_id = ?', args: [this.segId] },
        { sql: 'UPDATE segments SET built_at = ? WHERE id = ?', args: [builtAt, this.segId] },
      ],
      'write',
    );
  }

  /** The incremental statements for one contact (a member, so the leave check runs): the filter's scoped form. */
  async scopedPlans(): Promise<{ join: Plan; leave: Plan }> {
    const member = await num(this.client, 'SELECT coalesce(min(contact_id), 1) FROM segment_members WHERE segment_id = ?', [this.segId]);
    const stmts = membershipStatements(this.segId, this.compiled, { now: CLOCK, scope: JSON.stringify([member]), events: true });
    const [join, leave] = [stmts[0]!, stmts[stmts.length - 1]!].map((x) => (typeof x === 'string' ? { sql: x, args: [] as InValue[] } : { sql: x.sql, args: (x.args ?? []) as InValue[] }));
    return {
      join: { sql: join!.sql, plan: await queryPlan(this.url, join!.sql, join!.args) },
      leave: { sql: leave!.sql, plan: await queryPlan(this.url, leave!.sql, leave!.args) },
    };
  }

  async plans(): Promise<Plan[]> {
    const join = membershipStatements(this.segId, this.compiled, { now: CLOCK, events: false })[0]!;
    const j = typeof join === 'string' ? { sql: join, args: [] } : join;
    return [
      { sql: this.countSql, plan: await queryPlan(this.url, this.countSql, this.compiled.args) },
      { sql: j.sql, plan: await queryPlan(this.url, j.sql, (j.args ?? []) as InValue[]) },
    ];
  }
}

/** count_old_index: the count kept on events_contact_type_idx (INDEXED BY) while the candidate index exists. */
type Kind = 'count' | 'rebuild' | 'rebuild_events' | 'count_old_index';
interface Timing {
  ms: number[];
  median: number;
  result: number[];
}

/** Rounds of the given kinds in rotating order; each rebuild starts from an empty membership (reset untimed). */
async function rounds(b: Bench, kinds: Kind[], label: string): Promise<Record<Kind, Timing>> {
  const out = {} as Record<Kind, Timing>;
  for (const k of kinds) out[k] = { ms: [], median: 0, result: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = [...kinds.slice(r % kinds.length), ...kinds.slice(0, r % kinds.length)];
    const line: string[] = [];
    for (const k of order) {
      if (k === 'rebuild' || k === 'rebuild_events') await b.reset(k === 'rebuild' ? null : CLOCK - DAY);
      settle();
      const t = now();
      const n =
        k === 'count' ? await b.count() : k === 'count_old_index' ? await num(b.client, b.oldIndexSql(), b.compiled.args) : (await rebuildSegment(b.ctx, b.segId)).members;
      const ms = now() - t;
      out[k].ms.push(ms);
      out[k].result.push(n);
      line.push(`${k} ${fmtMs(ms)} (${fmtInt(n)})`);
    }
    console.log(`    ${label} round ${r + 1}/${ROUNDS}: ${line.join(', ')}`);
  }
  for (const k of kinds) out[k].median = r1(median(out[k].ms));
  return out;
}

/** Median of the per-round ratios x ÷ y (each round's runs are back to back, so load from elsewhere falls on both). */
function paired(t: Record<Kind, Timing>, x: Kind, y: Kind): number {
  return r3(median(t[x].ms.map((ms, i) => ms / t[y].ms[i]!)));
}

function checkEqual(t: Record<Kind, Timing>, problems: string[], label: string) {
  const counts = Object.entries(t).flatMap(([k, v]) => v.result.map((n) => `${k}=${n}`));
  const distinct = new Set(Object.values(t).flatMap((v) => v.result));
  if (distinct.size !== 1) problems.push(`${label}: counts and rebuild memberships differ: ${counts.join(', ')}`);
}

async function event(client: Client, contactId: number): Promise<SpineEvent> {
  const r = await client.execute({
    sql: `INSERT INTO events (site_id, contact_id, type, url, created_at) VALUES (1, ?, 'page_view', 'https://www.example.com/pricing', ?)
      RETURNING ${SPINE_COLUMNS}`,
    args: [contactId, CLOCK],
  });
  return toEvent(r.rows[0]!);
}

async function advanceCursors(client: Client) {
  const max = await num(client, 'SELECT coalesce(max(id), 0) FROM events');
  await client.batch(
    REACTIONS.map((r) => ({
      sql: `INSERT INTO reaction_cursors (name, last_event_id, updated_at) VALUES (?, ?, ?)
        ON CONFLICT(name) DO UPDATE SET last_event_id = excluded.last_event_id, updated_at = excluded.updated_at`,
      args: [r.name, max, CLOCK],
    })),
    'write',
  );
  return max;
}

async function setWatermark(client: Client, value: number) {
  await client.execute({
    sql: `INSERT INTO app_state (key, value) VALUES ('segments_contacts_watermark', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
    args: [String(value)],
  });
}

const isMember = async (b: Bench, id: number) =>
  (await b.client.execute({ sql: 'SELECT 1 FROM segment_members WHERE segment_id = ? AND contact_id = ?', args: [b.segId, id] })).rows.length > 0;

/** Half random contacts, half pro ∧ vip ones (whose /pricing visit can make them join), shuffled. */
async function sampleContacts(b: Bench, n: number): Promise<number[]> {
  const half = Math.floor(n / 2);
  const candidates = (
    await b.client.execute({
      sql: `SELECT c.id FROM contacts c JOIN contact_tags ct ON ct.contact_id = c.id AND ct.tag_id = (SELECT id FROM tags WHERE name = 'vip')
        WHERE json_extract(c.custom, '$.plan') = 'pro' ORDER BY random() LIMIT ?`,
      args: [half],
    })
  ).rows.map((r) => Number(r.id));
  const out = [...candidates];
  while (out.length < n) out.push(1 + Math.floor(Math.random() * N));
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Events after `id`, as the spine hands them to reactions. */
async function eventsAfter(client: Client, id: number): Promise<SpineEvent[]> {
  const r = await client.execute({ sql: `SELECT ${SPINE_COLUMNS} FROM events WHERE id > ? ORDER BY id LIMIT 1000`, args: [id] });
  return r.rows.map(toEvent);
}

// Six more live segments for the second incremental pass: between them every
// kind of condition, so each one's scoped form is on the measured path.
const MORE: { name: string; filter: (benchSegment: number) => unknown }[] = [
  { name: 'vip customers', filter: () => ({ all: [{ tag: 'vip' }, { tag: 'customer' }] }) },
  { name: 'enterprise, emailable', filter: () => ({ all: [{ field: 'fields.plan', op: 'equals', value: 'enterprise' }, { dnc: 'email', is: false }] }) },
  { name: 'bench members with 50+ points', filter: (s) => ({ all: [{ segment: s }, { field: 'points', op: 'gte', value: 50 }] }) },
  { name: 'active this week', filter: () => ({ behaviour: 'any_event', min_count: 3, within_days: 7 }) },
  { name: 'saas companies, no churn risk', filter: () => ({ all: [{ field: 'company.industry', op: 'equals', value: 'saas' }, { tag: 'churn-risk', has: false }] }) },
  {
    name: 'forms or enterprise pricing',
    filter: () => ({
      any: [{ behaviour: 'submitted_form', within_days: 30 }, { behaviour: 'visited', url: { op: 'starts_with', value: 'https://www.example.com/pricing/enterprise' }, within_days: 30 }],
    }),
  },
];

interface More {
  seed_s: number;
  companies: number;
  company_links: number;
  do_not_contact: number;
  segments: { id: number; name: string; filter: unknown; members: number; build_ms: number }[];
}

/** Companies, their contacts and do-not-contact rows (not in the generation, so its figures stay comparable), then the six segments, built. */
async function moreSegments(b: Bench): Promise<More> {
  const { client, ctx } = b;
  const t0 = now();
  const companies = Math.max(10, Math.floor(N / 50));
  await client.batch(
    [
      {
        sql: `INSERT INTO companies (name, domain, industry, employees, created_at, updated_at)
          WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
          SELECT 'Company ' || i, 'company' || i || '.example', CASE i % 5 WHEN 0 THEN 'saas' WHEN 1 THEN 'retail' WHEN 2 THEN 'finance' WHEN 3 THEN 'health' END, 1 + i % 5000, ?, ? FROM n`,
        args: [companies, ANCHOR - 800 * DAY, ANCHOR - 800 * DAY],
      },
      // A third of the contacts work somewhere known.
      {
        sql: `INSERT INTO company_contacts (company_id, contact_id, is_primary, created_at) SELECT 1 + abs(random()) % ?, id, 1, ? FROM contacts WHERE abs(random()) % 100 < 30`,
        args: [companies, ANCHOR - 20 * DAY],
      },
      {
        sql: `INSERT INTO do_not_contact (contact_id, channel, reason, created_at)
          SELECT id, CASE abs(random()) % 3 WHEN 0 THEN 'email' WHEN 1 THEN 'sms' ELSE 'all' END, 'unsubscribed', ? FROM contacts WHERE abs(random()) % 100 < 3`,
        args: [ANCHOR - 20 * DAY],
      },
    ],
    'write',
  );
  const seed_s = r1((now() - t0) / 1000);
  const segments: More['segments'] = [];
  for (const m of MORE) {
    const filter = Filter.parse(m.filter(b.segId));
    const r = await client.execute({
      sql: "INSERT INTO segments (name, kind, filter, created_at, updated_at) VALUES (?, 'dynamic', ?, ?, ?) RETURNING id",
      args: [`bench: ${m.name}`, JSON.stringify(filter), CLOCK, CLOCK],
    });
    const id = Number(r.rows[0]!.id);
    const t = now();
    const { members } = await rebuildSegment(ctx, id);
    segments.push({ id, name: m.name, filter, members, build_ms: r1(now() - t) });
  }
  return {
    seed_s,
    companies,
    company_links: await num(client, 'SELECT count(*) FROM company_contacts'),
    do_not_contact: await num(client, 'SELECT count(*) FROM do_not_contact'),
    segments,
  };
}

/** Every live segment's membership against the plain count of its filter. */
async function checkMemberships(b: Bench, problems: string[], label: string) {
  const env = await compileEnv(b.ctx);
  const rows = (await b.client.execute("SELECT id, name, filter FROM segments WHERE kind = 'dynamic' ORDER BY id")).rows;
  const out: { id: number; name: string; members: number; count: number }[] = [];
  for (const r of rows) {
    const c = compileFilter(Filter.parse(JSON.parse(String(r.filter))), env);
    const count = await num(b.client, `SELECT count(*) FROM contacts c WHERE ${c.sql}`, c.args);
    const members = await num(b.client, 'SELECT count(*) FROM segment_members WHERE segment_id = ?', [Number(r.id)]);
    out.push({ id: Number(r.id), name: String(r.name), members, count });
    if (members !== count) problems.push(`${label}: segment ${r.id} (${r.name}) has ${members} members, its filter counts ${count}`);
  }
  console.log(`    ${label}: ${out.map((x) => `${x.name.replace(/^bench: /, '')} ${fmtInt(x.members)}${x.members === x.count ? '' : ` ≠ ${fmtInt(x.count)}`}`).join(', ')}`);
  return out;
}

// What-ifs, to size two changes outside this benchmark's reach (api/ is not
// touched), each the same filter's count:
//   expression index: an index on lower(json_extract(custom, '$."plan"')),
//     created in this database only. SQLite uses it only if the query holds the
//     identical expression, so the JSON path must be a literal: if the compiler
//     binds it as a parameter, the bench inlines it for this variant.
//   tag as IN: the tag condition as c.id IN (SELECT contact_id FROM contact_tags
//     WHERE tag_id = …), which lets the planner start from contact_tags_tag_idx
//     instead of testing every contact with EXISTS (no new index)
interface Variant {
  name: string;
  sql: string;
  args: InValue[];
}

/** The variants whose shape the compiled SQL still allows; a skipped one is logged. */
// The expression index exists while all variants take turns; the others say
// NOT INDEXED on contacts so they keep the plan they have without it.
function variants(b: Bench): Variant[] {
  const sql = b.countSql;
  const from = 'FROM contacts c WHERE';
  const noIndex = (q: string) => q.replace(from, 'FROM contacts c NOT INDEXED WHERE');
  if (!sql.includes(from)) throw new Error('unexpected count SQL');
  const out: Variant[] = [{ name: 'count (as compiled)', sql: noIndex(sql), args: b.compiled.args }];
  const literal = `json_extract(c.custom, '$."plan"')`;
  const bound = 'json_extract(c.custom, ?)';
  if (sql.includes(literal)) out.push({ name: '+ expression index on plan', sql, args: b.compiled.args });
  else if (sql.startsWith(`SELECT count(*) AS n FROM contacts c WHERE (lower(${bound})`) && b.compiled.args[0] === '$."plan"')
    out.push({ name: '+ expression index, path inlined', sql: sql.replace(bound, literal), args: b.compiled.args.slice(1) });
  else console.log('    (expression-index what-if skipped: the compiled field condition changed shape)');
  const tagExists = 'EXISTS (SELECT 1 FROM contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_id = (SELECT id FROM tags WHERE name = ?))';
  if (sql.includes(tagExists))
    out.push({
      name: 'tag as IN (no new index)',
      sql: noIndex(sql).replace(tagExists, 'c.id IN (SELECT ct.contact_id FROM contact_tags ct WHERE ct.tag_id = (SELECT id FROM tags WHERE name = ?))'),
      args: b.compiled.args,
    });
  else console.log('    (tag-as-IN what-if skipped: the compiled tag condition changed shape)');
  return out;
}

async function whatIfs(b: Bench, problems: string[]) {
  const t = now();
  await b.client.execute(`CREATE INDEX bench_contacts_plan_expr ON contacts (lower(json_extract(custom, '$."plan"')))`);
  await b.client.execute('ANALYZE bench_contacts_plan_expr');
  const indexS = r1((now() - t) / 1000);
  const vs = variants(b);
  const out = [];
  for (const v of vs) out.push({ ...v, plan: await queryPlan(b.url, v.sql, v.args), ms: [] as number[], result: [] as number[], median: 0 });
  for (let r = 0; r < ROUNDS; r++) {
    const order = [...out.slice(r % out.length), ...out.slice(0, r % out.length)];
    for (const v of order) {
      settle();
      const t0 = now();
      const n = await num(b.client, v.sql, v.args);
      v.ms.push(now() - t0);
      v.result.push(n);
    }
  }
  await b.client.execute('DROP INDEX bench_contacts_plan_expr');
  for (const v of out) {
    v.median = r1(median(v.ms));
    console.log(`    ${v.name.padEnd(32)} ${fmtMs(v.median).padStart(8)}  ${v.plan[0]}`);
  }
  if (new Set(out.flatMap((v) => v.result)).size !== 1) problems.push(`what-if counts differ: ${out.map((v) => `${v.name}=${v.result.join('/')}`).join(', ')}`);
  return { expression_index_build_s: indexS, variants: out.map(({ name, sql, args, plan, ms, median }) => ({ name, sql, args, plan, ms: ms.map(r1), median })) };
}

interface Incremental {
  direct: Latency & { samples: number; joined: number };
  run_reactions: Latency & { samples: number; joined: number };
  sweep_isolated: Latency & { samples: number; checked_median: number };
  sweep_burst: Latency & { samples: number; checked_median: number; checked_max: number };
}

async function incremental(b: Bench): Promise<Incremental> {
  const { client, ctx } = b;
  const last = await advanceCursors(client);
  await setWatermark(client, Date.now());
  console.log(`    reaction cursors of ${REACTIONS.map((r) => r.name).join(', ')} set to event ${fmtInt(last)}; sweep watermark set to now`);

  // (a) the segments reaction called directly on the one new event; (b) the
  // whole cursor-driven runReactions() after the insert. Taking turns.
  const ids = await sampleContacts(b, 2 * SAMPLES + 20);
  const direct: number[] = [];
  const viaRun: number[] = [];
  let joinedDirect = 0;
  let joinedRun = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const warm = i < 20;
    const useDirect = i % 2 === 0;
    const was = await isMember(b, id);
    const e = await event(client, id);
    settle();
    const t = now();
    if (useDirect) {
      const stmts = await segmentsOnEvents.handle(ctx, [e]);
      if (stmts.length) await client.batch(stmts, 'write');
    } else {
      const out = await runReactions(ctx);
      if (!warm && out.segments! < 1) throw new Error(`runReactions processed no event for the segments reaction: ${JSON.stringify(out)}`);
    }
    const ms = now() - t;
    const joined = !was && (await isMember(b, id));
    if (useDirect) {
      // Untimed, what the next round of runReactions would do: the joined/left
      // events just written re-check the segments built on this one.
      for (let k = 0, after = e.id; k < 5; k++) {
        const next = (await eventsAfter(client, after)).filter((x) => x.type === 'segment_joined' || x.type === 'segment_left');
        if (!next.length) break;
        after = next[next.length - 1]!.id;
        const stmts = await segmentsOnEvents.handle(ctx, next);
        if (stmts.length) await client.batch(stmts, 'write');
      }
      await advanceCursors(client);
    }
    if (warm) continue;
    if (useDirect) {
      direct.push(ms);
      joinedDirect += joined ? 1 : 0;
    } else {
      viaRun.push(ms);
      joinedRun += joined ? 1 : 0;
    }
  }
  console.log(`    per event: direct reaction p50 ${fmtMs(median(direct))} (${joinedDirect} joined), runReactions p50 ${fmtMs(median(viaRun))} (${joinedRun} joined)`);

  // Contact-change sweep. Burst: real clock, each update followed by a sweep, so
  // each sweep also re-checks what changed in its 5 s overlap window.
  const sweepIds = await sampleContacts(b, 2 * SAMPLES + 20);
  await setWatermark(client, Date.now());
  const burst: number[] = [];
  const burstChecked: number[] = [];
  for (let i = 0; i < SAMPLES + 10; i++) {
    await client.execute({ sql: 'UPDATE contacts SET updated_at = ? WHERE id = ?', args: [Date.now(), sweepIds[i]!] });
    settle();
    const t = now();
    const checked = await segmentsOnContactChanges(ctx);
    const ms = now() - t;
    if (i < 10) continue;
    burst.push(ms);
    burstChecked.push(checked);
  }
  // Isolated: updated_at 6 s apart (past the overlap), so each sweep sees the new
  // contact plus the previous one at the watermark, the steady state of one update.
  const t1 = Date.now() + 10_000;
  await setWatermark(client, t1);
  const isolated: number[] = [];
  const isolatedChecked: number[] = [];
  for (let i = 0; i < SAMPLES + 10; i++) {
    await client.execute({ sql: 'UPDATE contacts SET updated_at = ? WHERE id = ?', args: [t1 + (i + 1) * 6_000, sweepIds[SAMPLES + 10 + i]!] });
    settle();
    const t = now();
    const checked = await segmentsOnContactChanges(ctx);
    const ms = now() - t;
    if (i < 10) continue;
    isolated.push(ms);
    isolatedChecked.push(checked);
  }
  console.log(`    contact sweep: isolated p50 ${fmtMs(median(isolated))} (checks ${median(isolatedChecked)} contacts), burst p50 ${fmtMs(median(burst))} (checks up to ${Math.max(...burstChecked)})`);
  return {
    direct: { ...latency(direct), samples: direct.length, joined: joinedDirect },
    run_reactions: { ...latency(viaRun), samples: viaRun.length, joined: joinedRun },
    sweep_isolated: { ...latency(isolated), samples: isolated.length, checked_median: median(isolatedChecked) },
    sweep_burst: { ...latency(burst), samples: burst.length, checked_median: median(burstChecked), checked_max: Math.max(...burstChecked) },
  };
}

// The sweep's keyset query as incremental.ts writes it, against the same walk as
// a row-value comparison, which SQLite turns into a range on contacts_updated_idx.
const SWEEP_SQL = 'SELECT id, updated_at FROM contacts WHERE updated_at > ? OR (updated_at = ? AND id > ?) ORDER BY updated_at, id LIMIT ?';
const SWEEP_ROW_VALUE_SQL = 'SELECT id, updated_at FROM contacts WHERE (updated_at, id) > (?, ?) ORDER BY updated_at, id LIMIT ?';

async function sweepQuery(b: Bench) {
  // The copy above is only meaningful while incremental.ts still has that form.
  let inCode: boolean | null = null;
  try {
    inCode = readFileSync(resolve('api', 'core', 'segments', 'incremental.ts'), 'utf8').includes(SWEEP_SQL);
  } catch {
    // source not beside the bundle
  }
  const wm = await num(b.client, "SELECT CAST(value AS INTEGER) FROM app_state WHERE key = 'segments_contacts_watermark'");
  const lastU = Math.max(0, wm - 5_000);
  const a = { sql: SWEEP_SQL, args: [lastU, lastU, 0, 2000] as InValue[] };
  const rv = { sql: SWEEP_ROW_VALUE_SQL, args: [lastU, 0, 2000] as InValue[] };
  const plan = await queryPlan(b.url, a.sql, a.args);
  const planRv = await queryPlan(b.url, rv.sql, rv.args);
  const ms: number[] = [];
  const msRv: number[] = [];
  let same = true;
  for (let i = 0; i < 22; i++) {
    let t = now();
    const x = await b.client.execute(a);
    const m1 = now() - t;
    t = now();
    const y = await b.client.execute(rv);
    const m2 = now() - t;
    same &&= JSON.stringify(x.rows.map((r) => r.id)) === JSON.stringify(y.rows.map((r) => r.id));
    if (i < 2) continue;
    ms.push(m1);
    msRv.push(m2);
  }
  return { sql: SWEEP_SQL, still_in_incremental_ts: inCode, plan, median_ms: r3(median(ms)), row_value: { sql: SWEEP_ROW_VALUE_SQL, plan: planRv, median_ms: r3(median(msRv)) }, same_rows: same };
}

async function distribution(client: Client) {
  const q = async (sql: string, args: InValue[] = []) => num(client, sql, args);
  const since = CLOCK - 30 * DAY;
  return {
    contacts: await q('SELECT count(*) FROM contacts'),
    pro: await q(`SELECT count(*) FROM contacts WHERE json_extract(custom, '$.plan') = 'pro'`),
    vip: await q(`SELECT count(*) FROM contact_tags WHERE tag_id = (SELECT id FROM tags WHERE name = 'vip')`),
    pro_and_vip: await q(`SELECT count(*) FROM contacts c JOIN contact_tags ct ON ct.contact_id = c.id AND ct.tag_id = (SELECT id FROM tags WHERE name = 'vip') WHERE json_extract(c.custom, '$.plan') = 'pro'`),
    contact_tags: await q('SELECT count(*) FROM contact_tags'),
    max_tags_per_contact: await q('SELECT max(n) FROM (SELECT count(*) AS n FROM contact_tags GROUP BY contact_id)'),
    events: await q('SELECT count(*) FROM events'),
    page_views: await q(`SELECT count(*) FROM events WHERE type = 'page_view'`),
    pricing_views_30d: await q(`SELECT count(*) FROM events WHERE type = 'page_view' AND created_at >= ? AND url LIKE '%/pricing%'`, [since]),
    contacts_2plus_pricing_30d: await q(
      `SELECT count(*) FROM (SELECT contact_id FROM events WHERE type = 'page_view' AND created_at >= ? AND url LIKE '%/pricing%' GROUP BY contact_id HAVING count(*) >= 2)`,
      [since],
    ),
    max_events_per_contact: await q('SELECT max(n) FROM (SELECT count(*) AS n FROM events GROUP BY contact_id)'),
  };
}

async function main() {
  const started = new Date();
  // Other work on the machine shares the CPUs; recorded so a reader can tell.
  const loadAtStart = loadavg()[0]!;
  const tmp = tempDir(NAME);
  const problems: string[] = [];
  console.log(`segments benchmark: ${fmtInt(N)} contacts, ${fmtInt(E)} events, ${ROUNDS} rounds, ${SAMPLES} incremental samples per method`);
  console.log(`  fresh WAL database file under ${tmp.dir}; ${machine().cpus} CPUs, Node ${process.version}, load average ${loadAtStart.toFixed(2)}`);
  const { client, url, path } = await openDatabase(tmp.dir, 'segments.db');
  const ctx = createCtx({ client, config: parseConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' }), now: () => CLOCK });
  try {
    console.log('\n  generating');
    const gen = await generate(url, path, ctx);
    // The load used its own connection; this one is as the app opens it.
    await prepareDatabase(client, url);
    console.log(`  generated in ${gen.total_s}s: contacts ${gen.contacts_s}s, tags ${gen.tags_s}s, events ${gen.events_s}s, indexes ${gen.indexes_s}s; ${fmtBytes(gen.db_bytes)}`);

    const b = new Bench(client, ctx, url);
    await b.setup();
    console.log(`\n  filter: ${JSON.stringify(FILTER)}`);
    console.log(`  compiled: ${b.compiled.sql.replace(/\s+/g, ' ')}`);
    console.log(`  args: ${JSON.stringify(b.compiled.args)}`);

    // Warm-up (untimed): the first full pass reads the tables into the OS cache.
    console.log('\n  warm-up (untimed)');
    let t = now();
    await b.count();
    console.log(`    first count ${fmtMs(now() - t)}`);
    await b.reset(null);
    t = now();
    await rebuildSegment(ctx, b.segId);
    console.log(`    first rebuild ${fmtMs(now() - t)}`);

    console.log('\n  without ANALYZE (the app never runs it)');
    const plansBefore = await b.plans();
    for (const l of plansBefore[0]!.plan) console.log(`    | ${l}`);
    const before = await rounds(b, ['count', 'rebuild'], 'no stats');
    checkEqual(before, problems, 'without ANALYZE');

    t = now();
    await client.execute('ANALYZE');
    const analyzeS = r1((now() - t) / 1000);
    console.log(`\n  ANALYZE took ${analyzeS}s`);
    const plansAfter = await b.plans();
    for (const l of plansAfter[0]!.plan) console.log(`    | ${l}`);
    const planChanged = JSON.stringify(plansBefore.map((p) => p.plan)) !== JSON.stringify(plansAfter.map((p) => p.plan));
    console.log(`    query plans ${planChanged ? 'CHANGED' : 'unchanged'} by ANALYZE`);
    const main = await rounds(b, ['count', 'rebuild', 'rebuild_events'], 'main');
    checkEqual(main, problems, 'after ANALYZE');
    const members = main.count.result[0]!;

    // Candidate index: the behaviour condition's url is not in
    // events_contact_type_idx, so every candidate event costs a table lookup.
    console.log('\n  candidate index (this database only): events(contact_id, type, created_at, url)');
    t = now();
    await client.execute('CREATE INDEX bench_events_contact_type_created_url ON events (contact_id, type, created_at, url)');
    await client.execute('ANALYZE bench_events_contact_type_created_url');
    const indexS = r1((now() - t) / 1000);
    // The build went through the WAL; start the rounds from an empty one, as after generation.
    await client.execute('PRAGMA wal_checkpoint(TRUNCATE)');
    const sizeWithIndex = databaseBytes(path);
    const plansIndex = await b.plans();
    for (const l of plansIndex[0]!.plan) console.log(`    | ${l}`);
    const plansOldIndex = await queryPlan(url, b.oldIndexSql(), b.compiled.args);
    const withIndex = await rounds(b, ['count_old_index', 'count', 'rebuild'], 'with index');
    checkEqual(withIndex, problems, 'with the candidate index');
    await client.execute('DROP INDEX bench_events_contact_type_created_url');
    await client.execute('PRAGMA wal_checkpoint(TRUNCATE)');
    console.log(`    index built in ${indexS}s, database ${fmtBytes(gen.db_bytes)} → ${fmtBytes(sizeWithIndex)}; dropped again`);

    console.log('\n  what-ifs (count of the same filter, medians; the index exists only for these rounds)');
    const whatIf = await whatIfs(b, problems);

    // Leave the segment built (built_at set) with its full membership.
    await b.reset(CLOCK - DAY);
    await rebuildSegment(ctx, b.segId);

    console.log('\n  incremental updates (the segment above is the only one live)');
    const scopedPlans = await b.scopedPlans();
    for (const l of scopedPlans.join.plan) console.log(`    join  | ${l}`);
    for (const l of scopedPlans.leave.plan) console.log(`    leave | ${l}`);
    const inc = await incremental(b);

    // Incremental membership must still equal the filter.
    const finalCount = await b.count();
    const finalMembers = await num(client, 'SELECT count(*) FROM segment_members WHERE segment_id = ?', [b.segId]);
    if (finalCount !== finalMembers) problems.push(`after incremental updates: membership ${finalMembers} ≠ count ${finalCount}`);
    console.log(`    after incremental updates: membership ${fmtInt(finalMembers)}, count ${fmtInt(finalCount)} ${finalCount === finalMembers ? '(equal)' : 'DIFFER'}`);

    console.log(`\n  incremental updates with ${MORE.length + 1} segments live (every kind of condition)`);
    const more = await moreSegments(b);
    console.log(
      `    added ${fmtInt(more.companies)} companies, ${fmtInt(more.company_links)} company links, ${fmtInt(more.do_not_contact)} do-not-contact rows in ${more.seed_s}s; built ` +
        more.segments.map((x) => `${x.name} (${fmtInt(x.members)}, ${fmtMs(x.build_ms)})`).join(', '),
    );
    const incMany = await incremental(b);
    const memberships = await checkMemberships(b, problems, 'after incremental updates, every segment');

    console.log('\n  the sweep\'s keyset query on its own (20 runs each)');
    const sweep = await sweepQuery(b);
    for (const l of sweep.plan) console.log(`    OR form    | ${l}`);
    for (const l of sweep.row_value.plan) console.log(`    row value  | ${l}`);
    console.log(`    OR form ${fmtMs(sweep.median_ms)}, as a row-value range ${fmtMs(sweep.row_value.median_ms)}; same rows: ${sweep.same_rows}`);
    if (sweep.still_in_incremental_ts === false) console.log('    (note: incremental.ts no longer has the OR form; the incremental figures above are for what it has now)');
    if (!sweep.same_rows) problems.push('the row-value sweep query returned different rows');

    console.log('\n  distribution (untimed)');
    const dist = await distribution(client);
    console.log(`    ${Object.entries(dist).map(([k, v]) => `${k} ${fmtInt(v)}`).join(', ')}`);

    const ratio = paired(main, 'rebuild', 'count');
    const ratioEvents = paired(main, 'rebuild_events', 'count');
    const ratioBefore = paired(before, 'rebuild', 'count');
    const ratioIndex = paired(withIndex, 'rebuild', 'count');
    // Paired within the with-index rounds: the count on the new index ÷ the same count forced onto the old one.
    const indexGain = paired(withIndex, 'count', 'count_old_index');

    console.log(`\n  Summary (${fmtInt(N)} contacts, ${fmtInt(E)} events, medians of ${ROUNDS} rounds, ${fmtInt(members)} members)\n`);
    const row = (label: string, ms: number, r: number | string, note = '') => [label, fmtMs(ms), typeof r === 'number' ? `${r}×` : r, note];
    console.log(
      table(
        ['measurement', 'median', 'vs count (paired)', 'note'],
        [
          row('count (plain SQL), after ANALYZE', main.count.median, '1×'),
          row('rebuild, first build (no events)', main.rebuild.median, ratio, ratio <= BUDGET ? `budget ≤ ${BUDGET}× ok` : `OVER budget ${BUDGET}×`),
          row('rebuild, built before (joined events)', main.rebuild_events.median, ratioEvents),
          row('count, no ANALYZE', before.count.median, '1×', planChanged ? 'plan differs' : 'same plan'),
          row('rebuild first build, no ANALYZE', before.rebuild.median, ratioBefore),
          row('count, + index events(contact_id,type,created_at,url)', withIndex.count.median, '1×', `${indexGain}× the count on the old index, same rounds`),
          row('rebuild first build, + that index', withIndex.rebuild.median, ratioIndex),
        ],
      ),
    );
    console.log('');
    const lat = (label: string, l: Latency & { samples: number }, note: string) => [label, String(l.samples), fmtMs(l.p50), fmtMs(l.p99), fmtMs(l.max), note];
    console.log(
      table(
        ['incremental', 'n', 'p50', 'p99', 'max', 'note'],
        [
          lat('event → segmentsOnEvents + batch', inc.direct, `${inc.direct.joined} joined`),
          lat('event → runReactions()', inc.run_reactions, `${inc.run_reactions.joined} joined; all reactions + sweep`),
          lat('contact update → sweep (isolated)', inc.sweep_isolated, `checks ${inc.sweep_isolated.checked_median} contacts`),
          lat('contact update → sweep (burst)', inc.sweep_burst, `checks ≤ ${inc.sweep_burst.checked_max} (5 s overlap)`),
          lat(`${MORE.length + 1} segments: event → segmentsOnEvents`, incMany.direct, `${incMany.direct.joined} joined the first`),
          lat(`${MORE.length + 1} segments: event → runReactions()`, incMany.run_reactions, `${incMany.run_reactions.joined} joined the first`),
          lat(`${MORE.length + 1} segments: sweep (isolated)`, incMany.sweep_isolated, `checks ${incMany.sweep_isolated.checked_median} contacts`),
          lat(`${MORE.length + 1} segments: sweep (burst)`, incMany.sweep_burst, `checks ≤ ${incMany.sweep_burst.checked_max} (5 s overlap)`),
        ],
      ),
    );
    console.log('');
    console.log(
      table(
        ['what-if (count of the same filter)', 'median', 'vs as compiled'],
        whatIf.variants.map((v) => [v.name, fmtMs(v.median), `${r3(median(v.ms.map((ms, i) => ms / whatIf.variants[0]!.ms[i]!)))}×`]),
      ),
    );
    console.log(
      `\n  sweep keyset query alone: ${fmtMs(sweep.median_ms)} as the OR form (before 02bfcda) vs ${fmtMs(sweep.row_value.median_ms)} as (updated_at, id) > (?, ?) (incremental.ts)`,
    );
    console.log(
      `\n  generation ${gen.total_s}s (contacts ${gen.contacts_s}s, tags ${gen.tags_s}s, events ${gen.events_s}s, index builds ${gen.indexes_s}s), ANALYZE ${analyzeS}s, db ${fmtBytes(gen.db_bytes)}`,
    );

    const budget = (figure: string, value: number, max: number, unit: 'ms' | '×') => ({ figure, value, budget: max, unit, ok: value <= max });
    const budgets = [
      budget('rebuild ÷ plain count (first build, after ANALYZE)', ratio, BUDGET, '×'),
      budget('rebuild ÷ plain count (first build, no ANALYZE)', ratioBefore, BUDGET, '×'),
      budget('incremental p50 per event', inc.direct.p50, INC_P50_MS, 'ms'),
      budget('incremental p99 per event', inc.direct.p99, INC_P99_MS, 'ms'),
      budget('runReactions p50 per event (every reaction)', inc.run_reactions.p50, RUN_P50_MS, 'ms'),
      budget('runReactions p99 per event (every reaction)', inc.run_reactions.p99, RUN_P99_MS, 'ms'),
      budget('contact-change sweep p50', inc.sweep_isolated.p50, INC_P50_MS, 'ms'),
      budget('contact-change sweep p99', inc.sweep_isolated.p99, INC_P99_MS, 'ms'),
      budget('contact-change sweep p99, burst', inc.sweep_burst.p99, BURST_P99_MS, 'ms'),
      budget(`${MORE.length + 1} segments: incremental p50 per event`, incMany.direct.p50, INC_P50_MS, 'ms'),
      budget(`${MORE.length + 1} segments: incremental p99 per event`, incMany.direct.p99, INC_P99_MS, 'ms'),
      budget(`${MORE.length + 1} segments: runReactions p50 per event (every reaction)`, incMany.run_reactions.p50, RUN_P50_MS, 'ms'),
      budget(`${MORE.length + 1} segments: runReactions p99 per event (every reaction)`, incMany.run_reactions.p99, RUN_P99_MS, 'ms'),
      budget(`${MORE.length + 1} segments: contact-change sweep p50`, incMany.sweep_isolated.p50, INC_P50_MS, 'ms'),
      budget(`${MORE.length + 1} segments: contact-change sweep p99`, incMany.sweep_isolated.p99, INC_P99_MS, 'ms'),
      budget(`${MORE.length + 1} segments: contact-change sweep p99, burst`, incMany.sweep_burst.p99, BURST_P99_MS, 'ms'),
    ];
    const fmt = (v: number, unit: string) => (unit === 'ms' ? fmtMs(v) : `${v}×`);
    const w = Math.max(...budgets.map((x) => x.figure.length));
    const vw = Math.max(...budgets.map((x) => fmt(x.value, x.unit).length));
    console.log(`\n  Budgets (${fmtInt(N)} contacts, ${fmtInt(E)} events; load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} now)\n`);
    for (const x of budgets) {
      console.log(`  ${x.figure.padEnd(w)}  ${fmt(x.value, x.unit).padStart(vw)}   budget ≤ ${fmt(x.budget, x.unit)}   ${x.ok ? 'ok' : 'MISSED'}`);
    }

    const file = writeResults(NAME, {
      benchmark: NAME,
      started_at: started.toISOString(),
      finished_at: new Date().toISOString(),
      machine: machine(),
      load_average_1m: { start: loadAtStart, end: loadavg()[0] },
      params: {
        contacts: N,
        events: E,
        rounds: ROUNDS,
        incremental_samples: SAMPLES,
        database: 'one fresh libSQL file, prepareDatabase (WAL, synchronous=NORMAL, real migrations); measured on a default connection (cache_size -2000)',
        generation: 'recursive CTEs, 100k rows per statement, secondary indexes dropped during the load and recreated from their migration SQL',
        filter: FILTER,
        compiled_sql: b.compiled.sql,
        compiled_args: b.compiled.args,
      },
      generation: gen,
      distribution: dist,
      members,
      budget: { rebuild_over_count_max: BUDGET, ok: ratio <= BUDGET },
      budgets,
      budgets_ok: budgets.every((x) => x.ok),
      ratios: {
        rebuild_over_count: ratio,
        rebuild_with_events_over_count: ratioEvents,
        rebuild_over_count_without_analyze: ratioBefore,
        rebuild_over_count_with_candidate_index: ratioIndex,
        count_with_candidate_index_over_count: indexGain,
      },
      analyze: { seconds: analyzeS, plans_changed: planChanged },
      timings_ms: {
        after_analyze: main,
        without_analyze: before,
        with_candidate_index: withIndex,
      },
      candidate_index: {
        sql: 'CREATE INDEX ... ON events (contact_id, type, created_at, url)',
        build_seconds: indexS,
        db_bytes_before: gen.db_bytes,
        db_bytes_with: sizeWithIndex,
      },
      query_plans: { without_analyze: plansBefore, after_analyze: plansAfter, with_candidate_index: plansIndex, with_candidate_index_forced_old: plansOldIndex },
      incremental: inc,
      incremental_plans: scopedPlans,
      more_segments: { ...more, incremental: incMany, memberships },
      sweep_query: sweep,
      what_ifs: whatIf,
      final_check: { members: finalMembers, count: finalCount },
      ok: problems.length === 0,
      problems,
    });
    console.log(`\n  results: ${file}`);
    if (problems.length) {
      console.error(`\n  ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`);
      process.exitCode = 1;
    }
  } finally {
    client.close();
    tmp.cleanup();
  }
}

await main();
