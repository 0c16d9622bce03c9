// Reports against DESIGN.md's budget ("each ≤ 0.5 × a plain count over the same raw events (they
// read rollups)") at the issue's scale: 1,000,000 contacts, 10,000,000 events, 50,000 deals.
//
// One fresh WAL database file (prepareDatabase, real migrations), filled in SQL with the tables'
// secondary indexes dropped during the load and recreated from their own migration SQL after:
//   visitors  1.5M: ids 1..1M are the contacts' browsers, the rest anonymous; country and device
//   events    9M of traffic in 3M visits of 3 events each (10.5 s apart, over the last 365 days, in
//             id order): a landing page view (40% direct, 25% Google, 10% paid utm, 10% email utm,
//             10% LinkedIn, 5% a partner site), a second page view or a custom event, then a
//             page view, form view/start/submit, focus view/click, email open/click or engagement;
//             plus ~1M funnel events: stage_changed (Engage 40% of contacts, Convert (MQL) 30%,
//             Close 3.5%, Delight 1.5%), sales_accepted/rejected for 60% of MQLs, deal_won/lost
//   contacts  1M, first touch (first_seen_at, first_source) and their current stage and points
//   deals     50,000: 35,000 won (the Close contacts), 10,000 lost, 5,000 open
//   point_log one row per MQL contact (its score when it qualified)
// Then the derived tables are built by the product's own rebuild code (sessions and rollups, stage
// entries), timed.
//
// Measured in one run, over the last 90 days: a plain `SELECT count(*) FROM events WHERE
// created_at >= ? AND created_at < ?` (median of 5) and each report through GET
// /api/v1/reports/{name} (median of 5); the ratio report ÷ count, budget ≤ 0.5 each. Then the
// reactions' cost per event over two mixes of fresh events (FRESH_MIX: visits shaped like the
// generated ones, and every view a new visit), the rollups and funnel reactions run chunk by chunk
// as the spine runs them (handle + commit with the cursor); per event (chunk ms ÷ events) median
// and p99. The rebuild's time per million events.
// Peak RSS (VmHWM) ≤ 256 MB: of this process, which runs the product's code; the generation runs in
// a child process of its own.
//
//   BENCH_CONTACTS   contacts (default 1,000,000)
//   BENCH_VISITS     visits of 3 events (default 3,000,000)
//   BENCH_DEALS      deals (default 50,000)
//   BENCH_ROUNDS     timed runs per report (default 5)
//   BENCH_KEEP=1     keep the temp database
//   BENCH_REUSE=<file> BENCH_ANCHOR=<ms>  measure a database a kept run generated (its path and the
//                    anchor it printed), skipping the generation and the rebuild
import { createClient, type Client } from '@libsql/client';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../api/app';
import { createApiKey } from '../../api/core/access/api-keys';
import { createCtx, type Ctx } from '../../api/core/context';
import { REPORTS } from '../../api/core/reports/registry';
import { REACTIONS } from '../../api/core/spine/registry';
import { SPINE_COLUMNS, toEvent } from '../../api/core/spine/run';
import { parseConfig } from '../../api/env';
import { rebuildDerived } from './reports-build';
import { chunked, databaseBytes, envInt, fmtBytes, fmtInt, fmtMs, latency, machine, median, now, num, openDatabase, sqlRows as rows, table, tempDir, writeResults } from './lib';

const NAME = 'reports';
const N = envInt('BENCH_CONTACTS', 1_000_000, 100);
const VISITS = envInt('BENCH_VISITS', 3_000_000, 10);
const DEALS = envInt('BENCH_DEALS', 50_000, 10);
const ROUNDS = envInt('BENCH_ROUNDS', 5);
const V = Math.round(N * 1.5);
const CHUNK = 100_000;
const DAY = 86_400_000;
const HOUR = 3_600_000;
const BUDGET = 0.5;
const RSS_MB = 256;
// The spine's cost per event for the two new reactions, per chunk of 1,000 (ms per event, p50
// and p99), by mix of fresh events (FRESH_MIX). Traffic shaped like the generated visits: 5,000
// events/s a core. Every view a new visit (the worst case, a burst of first-time visitors): at
// least the ingest bench's single-event rate on one core (2,754 req/s), i.e. the reaction keeps
// up with the hits one core takes in one at a time. (Batched hits, 13,383 events/s there, outrun
// it: the spine lags during such a burst and catches up after.)
const REACTION_MS: Record<string, [number, number]> = { visits: [0.2, 0.5], 'new-visits': [0.35, 1] };
// The rebuild (the job's chunks of 5,000): minutes per million events. 10M events, a year of a busy
// site, rebuilt within 40 minutes on this 2-core machine (the server answers meanwhile).
const REBUILD_MIN_PER_MILLION = 4;

// One fixed "now": the last of the generated events is just before it.
const ANCHOR = process.env.BENCH_ANCHOR ? Number(process.env.BENCH_ANCHOR) : Math.floor(Date.now() / HOUR) * HOUR;
const YEAR0 = ANCHOR - 365 * DAY;
const FROM90 = ANCHOR - 90 * DAY;

const PATHS = ['/', '/pricing', '/features', '/features/automation', '/features/email', '/blog', '/blog/lead-scoring-101', '/blog/email-deliverability', '/docs', '/docs/api', '/customers', '/about', '/contact', '/demo', '/signup', '/integrations', '/compare/hubspot', '/resources/ebook', '/careers', '/changelog'];

const rssMb = (field: 'VmHWM' | 'VmRSS' = 'VmHWM') => {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
};

async function indexesOf(g: Client, tables: string[]) {
  return (
    await g.execute(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (${tables.map((t) => `'${t}'`).join(', ')}) ORDER BY tbl_name, name`)
  ).rows.map((r) => ({ name: String(r.name), sql: String(r.sql) }));
}

async function generate(url: string) {
  const started = now();
  const g = createClient({ url });
  await g.execute('PRAGMA cache_size = -262144');
  await g.execute('PRAGMA threads = 2');
  const tables = ['contacts', 'visitors', 'events', 'deals', 'point_log'];
  const idx = await indexesOf(g, tables);
  for (const i of idx) await g.execute(`DROP INDEX "${i.name}"`);
  console.log(`  dropped ${idx.length} secondary indexes for the load`);
  await g.execute({
    sql: `INSERT INTO sites (id, name, public_key, secret, allowed_origins, created_at, updated_at) VALUES (1, 'Bench', 'site_bench', 'x', '["https://www.example.com"]', ?, ?)`,
    args: [YEAR0, YEAR0],
  });
  await g.execute('CREATE TEMP TABLE bench_paths (i INTEGER PRIMARY KEY, path TEXT NOT NULL)');
  await g.execute({ sql: 'INSERT INTO temp.bench_paths SELECT key, value FROM json_each(?)', args: [JSON.stringify(PATHS)] });

  // Visits: visit s (1..VISITS) starts at YEAR0 + (s-1) × step; its visitor is spread over all.
  const step = Math.floor((365 * DAY - 60_000) / VISITS);
  const visitorOf = (s: string) => `(1 + ((${s}) * 7919 + (${s}) / 3) % ${V})`;
  console.log(`  visitors (${fmtInt(V)})`);
  const visitors_s = await chunked('visitors', V, CHUNK, 500_000, async (a, b) => {
    await g.execute({
      sql: `${rows('i', ['u'])}
        INSERT INTO visitors (id, site_id, uid, contact_id, first_seen_at, last_seen_at, page_views, source, browser, os, device, country)
        SELECT i, 1, 'v' || i, CASE WHEN i <= ${N} THEN i END, ?, ?, 2, NULL, 'Chrome', 'Windows',
          CASE u % 10 WHEN 0 THEN 'tablet' WHEN 1 THEN 'mobile' WHEN 2 THEN 'mobile' WHEN 3 THEN 'mobile' ELSE 'desktop' END,
          CASE u % 7 WHEN 0 THEN 'DE' WHEN 1 THEN 'FR' WHEN 2 THEN 'GB' WHEN 3 THEN 'NL' ELSE 'US' END
        FROM r`,
      args: [a, b, YEAR0, ANCHOR],
    });
  });

  // Traffic events: k = 3(s-1) + j, at the visit's start + 3 s × j.
  const E = VISITS * 3;
  console.log(`  traffic events (${fmtInt(E)})`);
  const sourceSql = `CASE WHEN u % 100 < 40 THEN '' WHEN u % 100 < 65 THEN '' WHEN u % 100 < 75 THEN '?utm_source=google&utm_medium=cpc&utm_campaign=spring'
      WHEN u % 100 < 85 THEN '?utm_source=newsletter&utm_medium=email&utm_campaign=nov' WHEN u % 100 < 95 THEN '' ELSE '' END`;
  const utmProps = `CASE WHEN u % 100 BETWEEN 65 AND 74 THEN '{"utm_source":"google","utm_medium":"cpc","utm_campaign":"spring"}'
      WHEN u % 100 BETWEEN 75 AND 84 THEN '{"utm_source":"newsletter","utm_medium":"email","utm_campaign":"nov"}' END`;
  const referrerSql = `CASE WHEN u % 100 BETWEEN 40 AND 64 THEN 'https://www.google.com/' WHEN u % 100 BETWEEN 85 AND 94 THEN 'https://www.linkedin.com/'
      WHEN u % 100 >= 95 THEN 'https://partner.example.org/blog' END`;
  const events_s = await chunked('traffic events', E, 300_000, 1_500_000, async (a, b) => {
    await g.execute({
      sql: `${rows('k', ['u', 'w'])},
        x AS (SELECT k, u, w, (k - 1) / 3 AS s0, (k - 1) % 3 AS j FROM r),
        y AS (SELECT x.*, ${visitorOf('s0')} AS vis, CASE WHEN j = 0 THEN 'page_view' WHEN j = 1 THEN CASE WHEN w % 10 < 7 THEN 'page_view' ELSE 'custom' END
          ELSE CASE WHEN w % 100 < 40 THEN 'page_view' WHEN w % 100 < 55 THEN 'form_view' WHEN w % 100 < 63 THEN 'form_start' WHEN w % 100 < 68 THEN 'form_submit'
            WHEN w % 100 < 80 THEN 'focus_view' WHEN w % 100 < 83 THEN 'focus_click' WHEN w % 100 < 91 THEN 'email_opened' WHEN w % 100 < 96 THEN 'email_clicked' ELSE 'engagement' END END AS type FROM x)
        INSERT INTO events (id, site_id, visitor_id, contact_id, type, name, url, referrer, props, created_at)
        SELECT k, CASE WHEN type LIKE 'email_%' THEN NULL ELSE 1 END, CASE WHEN type LIKE 'email_%' THEN NULL ELSE vis END, CASE WHEN vis <= ${N} THEN vis END, type,
          CASE WHEN type = 'custom' THEN CASE w % 3 WHEN 0 THEN 'signup' WHEN 1 THEN 'trial_started' ELSE 'export' END END,
          CASE WHEN type IN ('page_view', 'form_view', 'form_start', 'form_submit', 'focus_view', 'focus_click', 'engagement', 'custom')
            THEN 'https://www.example.com' || (SELECT path FROM temp.bench_paths p WHERE p.i = (w / 100 + j * 7) % ${PATHS.length}) || CASE WHEN j = 0 THEN ${sourceSql} ELSE '' END
            WHEN type = 'email_clicked' THEN 'https://www.example.com/pricing' END,
          CASE WHEN j = 0 THEN ${referrerSql} END,
          CASE WHEN j = 0 THEN ${utmProps}
            WHEN type IN ('form_view', 'form_start', 'form_submit') THEN '{"form_id":' || (1 + w % 5) || '}'
            WHEN type IN ('focus_view', 'focus_click') THEN '{"focus_id":' || (1 + w % 3) || ',"variant":"' || CASE w % 2 WHEN 0 THEN 'a' ELSE 'b' END || '"}'
            WHEN type LIKE 'email_%' THEN '{"email_id":' || (1 + w % 8) || ',"send_id":' || k || ',"machine":' || CASE WHEN w % 10 = 0 THEN 'true' ELSE 'false' END || '}'
            WHEN type = 'engagement' THEN '{"duration_ms":' || (w % 60000) || ',"scroll_pct":' || (w % 100) || '}' END,
          ${YEAR0} + s0 * ${step} + j * 3000
        FROM y`,
      args: [a, b],
    });
  });

  // Contacts: first seen at their browser's first visit (approximately: spread over the year).
  console.log(`  contacts (${fmtInt(N)})`);
  const contacts_s = await chunked('contacts', N, CHUNK, 500_000, async (a, b) => {
    await g.execute({
      sql: `${rows('i', ['u'])}
        INSERT INTO contacts (id, email, email_normalized, first_name, points, stage_id, created_at, updated_at, last_active_at, first_seen_at, first_source)
        SELECT i, 'user' || i || '@example.com', 'user' || i || '@example.com', 'First' || (u % 5000),
          CASE WHEN i % 10 < 3 THEN 40 + u % 80 ELSE u % 40 END,
          CASE WHEN i % 1000 < 15 THEN 5 WHEN i % 1000 < 35 + 15 THEN 4 WHEN i % 10 < 3 THEN 3 WHEN i % 10 < 4 THEN 2 ELSE 1 END,
          ${YEAR0} + (i * 7919 % ${N}) * ${Math.floor((330 * DAY) / N)}, ${ANCHOR}, ${ANCHOR} - (u % 90) * ${DAY},
          ${YEAR0} + (i * 7919 % ${N}) * ${Math.floor((330 * DAY) / N)},
          CASE u % 10 WHEN 0 THEN '{"utm_source":"google","utm_medium":"cpc","utm_campaign":"spring"}' WHEN 1 THEN '{"utm_source":"newsletter","utm_medium":"email","utm_campaign":"nov"}'
            WHEN 2 THEN '{"referrer":"https://www.google.com/"}' ELSE '{}' END
        FROM r`,
      args: [a, b],
    });
  });

  // Funnel: every contact entered Attract when first seen; Engage 40% (+3..33 d), Convert 30%
  // (+10..40 d later), Close for the won deals' contacts, Delight for 1.5%; sales feedback for 60%
  // of MQLs (+2..72 h after qualifying). Times are clipped to before ANCHOR.
  const first = `(${YEAR0} + (i * 7919 % ${N}) * ${Math.floor((330 * DAY) / N)})`;
  const engage = `(${first} + (3 + i % 30) * ${DAY})`;
  const convert = `(${engage} + (10 + i % 30) * ${DAY})`;
  const close = `(${convert} + (5 + i % 20) * ${DAY})`;
  const WON = Math.round(DEALS * 0.7);
  const LOST = Math.round(DEALS * 0.2);
  // Deal contacts: MQL contacts (i % 10 < 3) spread over ids; won ones reach Close.
  const dealContact = (d: string) => `((${d}) * 20 % ${N} + 1 - (((${d}) * 20 % ${N} + 1) % 10))`; // i % 10 = 0: an MQL contact
  console.log('  funnel events');
  const funnel_s = await chunked('funnel contacts', N, CHUNK, 500_000, async (a, b) => {
    await g.execute({
      sql: `${rows('i', ['u'])}
        INSERT INTO events (contact_id, type, props, created_at)
        SELECT i, type, props, at FROM (
          SELECT i, 'stage_changed' AS type, '{"from":1,"to":2}' AS props, ${engage} AS at FROM r WHERE i % 10 < 4
          UNION ALL SELECT i, 'stage_changed', '{"from":2,"to":3}', ${convert} FROM r WHERE i % 10 < 3
          UNION ALL SELECT i, CASE WHEN u % 5 = 0 THEN 'sales_rejected' ELSE 'sales_accepted' END, '{"by":"bench"}', ${convert} + (2 + u % 70) * ${HOUR} FROM r WHERE i % 10 < 3 AND u % 10 < 6
          UNION ALL SELECT i, 'stage_changed', '{"from":4,"to":5}', ${close} + 20 * ${DAY} FROM r WHERE i % 1000 < 15
        ) WHERE at < ${ANCHOR} ORDER BY at`,
      args: [a, b],
    });
  });
  console.log(`  deals (${fmtInt(DEALS)})`);
  const deals_s = await chunked('deals', DEALS, DEALS, DEALS, async (a, b) => {
    await g.execute({
      sql: `${rows('d', ['u'])}, c AS (SELECT d, u, ${dealContact('d')} + 10 AS i FROM r)
        INSERT INTO deals (id, contact_id, name, amount_cents, currency, stage, closed_at, owner, created_at, updated_at)
        SELECT d, i, 'Deal ' || d, (500 + u % 20000) * 100, CASE WHEN u % 20 = 0 THEN 'USD' ELSE 'EUR' END,
          CASE WHEN d <= ${WON} THEN 'won' WHEN d <= ${WON + LOST} THEN 'lost' ELSE 'open' END,
          CASE WHEN d <= ${WON + LOST} THEN min(${close}, ${ANCHOR} - 1000) END, 'owner' || (u % 12), min(${convert} + 2 * ${DAY}, ${ANCHOR} - 2000), ${ANCHOR}
        FROM c`,
      args: [a, b],
    });
  });
  await g.execute(`INSERT INTO events (contact_id, type, props, created_at)
    SELECT contact_id, 'stage_changed', '{"from":3,"to":4}', closed_at FROM deals WHERE stage = 'won'
    UNION ALL SELECT contact_id, CASE stage WHEN 'won' THEN 'deal_won' ELSE 'deal_lost' END, json_object('deal_id', id, 'amount', amount_cents / 100.0, 'currency', currency), closed_at FROM deals WHERE stage <> 'open'
    ORDER BY 4`);
  await g.execute(`INSERT INTO point_log (contact_id, delta, reason, created_at) SELECT id, points, 'bench', ${YEAR0} FROM contacts WHERE id % 10 < 3`);

  console.log(`  recreating ${idx.length} indexes`);
  const ti = now();
  for (const i of idx) await g.execute(i.sql);
  const indexes_s = (now() - ti) / 1000;
  await g.execute('PRAGMA wal_checkpoint(TRUNCATE)');
  const events = await num(g, 'SELECT count(*) FROM events');
  g.close();
  return { visitors_s, events_s, contacts_s, funnel_s, deals_s, indexes_s, events, total_s: (now() - started) / 1000 };
}

/** What each report is asked over the last 90 days (its own parameters where it needs some). */
const QUERIES: Record<string, string> = {
  'traffic-breakdown': 'by=channel',
  attribution: 'model=position_based&dimension=channel',
};

async function measureReports(app: ReturnType<typeof createApp>, key: string, client: Client) {
  const range = `from=${new Date(FROM90).toISOString()}&to=${new Date(ANCHOR).toISOString()}`;
  const count = async () => {
    const t = now();
    await num(client, 'SELECT count(*) FROM events WHERE created_at >= ? AND created_at < ?', [FROM90, ANCHOR]);
    return now() - t;
  };
  const baseline: number[] = [];
  const out: { name: string; ms: number; count_ms: number; ratio: number; rows: number }[] = [];
  for (const def of REPORTS) {
    const path = `/api/v1/reports/${def.name}?${range}${QUERIES[def.name] ? `&${QUERIES[def.name]}` : ''}`;
    const times: number[] = [];
    const counts: number[] = [];
    let rowsN = 0;
    for (let i = 0; i < ROUNDS; i++) {
      // Back to back: the count, then the report, so each ratio compares one machine state.
      counts.push(await count());
      const t = now();
      const res = await app.request(path, { headers: { authorization: `Bearer ${key}` } });
      const body = (await res.json()) as { rows?: unknown[]; error?: unknown };
      times.push(now() - t);
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
      rowsN = body.rows!.length;
    }
    baseline.push(...counts);
    const ms = median(times);
    const c = median(counts);
    out.push({ name: def.name, ms: Math.round(ms * 10) / 10, count_ms: Math.round(c * 10) / 10, ratio: Math.round((ms / c) * 1000) / 1000, rows: rowsN });
    console.log(`    ${def.name.padEnd(20)} ${fmtMs(ms).padStart(9)}  count ${fmtMs(c).padStart(9)}  ${(ms / c).toFixed(3)}×  (${rowsN} rows)`);
  }
  return { reports: out, count_ms: Math.round(median(baseline) * 10) / 10 };
}

// Fresh events for the reactions, appended after the log (their first time ANCHOR). Both mixes
// have known and anonymous visitors' traffic and stage changes (10%); they differ in visits:
//   visits     the generated traffic's shape: returning visitors' visits of 3 events 10.5 s apart,
//              a new visit every 100 ms, so about 200 visits are open at once (their events
//              interleaved by time); each visit's first page view starts it (2 in 5 page views);
//   new-visits the worst case: every page view is a new visitor's first, so each starts a visit.
const FRESH = 30_000;
const FRESH_MIX: Record<string, string> = {
  visits: `${rows('k', ['u', 'w'])},
      x AS (SELECT k, w, (k - 1) / 3 AS s, (k - 1) % 3 AS j FROM r)
      INSERT INTO events (site_id, visitor_id, contact_id, type, url, referrer, props, created_at)
      SELECT CASE WHEN w % 10 < 9 THEN 1 END, CASE WHEN w % 10 < 9 THEN 1 + (s * 7919) % ${V} END,
        CASE WHEN w % 10 = 9 THEN 1 + (s * 7919) % ${N} WHEN 1 + (s * 7919) % ${V} <= ${N} THEN 1 + (s * 7919) % ${V} END,
        CASE WHEN w % 10 = 9 THEN 'stage_changed' WHEN j < 2 OR w % 10 < 5 THEN 'page_view' WHEN w % 10 < 7 THEN 'form_view' ELSE 'engagement' END,
        CASE WHEN w % 10 < 9 THEN 'https://www.example.com' || (SELECT path FROM temp.bench_paths p WHERE p.i = (w / 10 + j * 7) % ${PATHS.length}) END,
        CASE WHEN j = 0 AND w % 100 < 25 THEN 'https://www.google.com/' END,
        CASE WHEN w % 10 = 9 THEN '{"from":2,"to":3}' WHEN w % 10 IN (5, 6) AND j = 2 THEN '{"form_id":1}' END,
        ${ANCHOR} + s * 100 + j * 10500
      FROM x ORDER BY 8`,
  'new-visits': `${rows('k', ['u', 'w'])}
      INSERT INTO events (site_id, visitor_id, contact_id, type, url, referrer, props, created_at)
      SELECT CASE WHEN w % 10 < 8 THEN 1 END, CASE WHEN w % 10 < 8 THEN 1 + u % ${V} END, CASE WHEN w % 10 < 8 THEN CASE WHEN 1 + u % ${V} <= ${N} THEN 1 + u % ${V} END ELSE 1 + u % ${N} END,
        CASE WHEN w % 10 < 7 THEN 'page_view' WHEN w % 10 < 8 THEN 'form_view' ELSE 'stage_changed' END,
        CASE WHEN w % 10 < 8 THEN 'https://www.example.com/pricing' END,
        CASE WHEN w % 100 < 20 THEN 'https://www.google.com/' END,
        CASE WHEN w % 10 = 7 THEN '{"form_id":1}' WHEN w % 10 >= 8 THEN '{"from":2,"to":3}' END,
        ${ANCHOR} + k * 10
      FROM r`,
};

type ReactionCost = { events: number; per_event_ms: ReturnType<typeof latency>; per_chunk_ms: ReturnType<typeof latency> };

/**
 * The spine's cost for the rollups and funnel reactions over one FRESH_MIX: its events appended,
 * then each reaction run over them chunk by chunk exactly as run.ts does (handle, then one batch
 * with its cursor).
 */
async function measureReactions(ctx: Ctx, mix: string): Promise<Record<string, ReactionCost>> {
  const names = ['rollups', 'funnel'];
  const reactions = REACTIONS.filter((r) => names.includes(r.name));
  const max = await num(ctx.client, 'SELECT max(id) FROM events');
  for (const r of reactions) {
    await ctx.client.execute({ sql: 'INSERT OR REPLACE INTO reaction_cursors (name, last_event_id, updated_at) VALUES (?, ?, ?)', args: [r.name, max, ANCHOR] });
  }
  await ctx.client.execute('CREATE TEMP TABLE IF NOT EXISTS bench_paths (i INTEGER PRIMARY KEY, path TEXT NOT NULL)');
  await ctx.client.execute({ sql: 'INSERT OR IGNORE INTO temp.bench_paths SELECT key, value FROM json_each(?)', args: [JSON.stringify(PATHS)] });
  await ctx.client.execute({ sql: FRESH_MIX[mix]!, args: [1, FRESH] });
  const out: Record<string, ReactionCost> = {};
  for (const r of reactions) {
    let cursor = max;
    const perEvent: number[] = [];
    const perChunk: number[] = [];
    let n = 0;
    for (;;) {
      const res = await ctx.client.execute({ sql: `SELECT ${SPINE_COLUMNS} FROM events WHERE id > ? ORDER BY id LIMIT 1000`, args: [cursor] });
      if (!res.rows.length) break;
      const events = res.rows.map(toEvent);
      const last = events[events.length - 1]!.id;
      const t = now();
      const relevant = r.types ? events.filter((e) => r.types!.includes(e.type)) : events;
      const stmts = relevant.length ? await r.handle(ctx, relevant) : [];
      await ctx.client.batch(
        [...stmts, { sql: 'UPDATE reaction_cursors SET last_event_id = max(last_event_id, ?), updated_at = ? WHERE name = ?', args: [last, ANCHOR, r.name] }],
        'write',
      );
      const ms = now() - t;
      perChunk.push(ms);
      perEvent.push(ms / events.length);
      n += events.length;
      cursor = last;
    }
    out[r.name] = { events: n, per_event_ms: latency(perEvent), per_chunk_ms: latency(perChunk) };
  }
  return out;
}

/**
 * generate() in a child process (this script again, with BENCH_GENERATE set). The generator's
 * memory is not the product's: its 256 MB page cache and the index builds' sorts, freed at its
 * end, stayed resident in this process (glibc keeps freed heap: 345 MB of RSS at 1M events).
 */
async function generateApart(url: string, dir: string): Promise<Awaited<ReturnType<typeof generate>>> {
  const out = join(dir, 'generated.json');
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_GENERATE: url, BENCH_GENERATE_OUT: out, BENCH_ANCHOR: String(ANCHOR) },
    });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`the generator exited with ${code}`);
  return JSON.parse(readFileSync(out, 'utf8'));
}

async function main() {
  const tmp = tempDir(NAME);
  const load = loadavg().map((x) => Math.round(x * 100) / 100);
  console.log(`reports benchmark: ${fmtInt(N)} contacts, ${fmtInt(VISITS * 3)} traffic events + funnel events, ${fmtInt(DEALS)} deals (load ${load.join(' ')})`);
  try {
    const reuse = process.env.BENCH_REUSE;
    const db = reuse ? { client: createClient({ url: `file:${reuse}` }), url: `file:${reuse}`, path: reuse } : await openDatabase(tmp.dir, 'reports.db');
    console.log(`  anchor ${ANCHOR} (${new Date(ANCHOR).toISOString()}); database ${db.path}`);
    const generated = reuse ? { events: await num(db.client, 'SELECT count(*) FROM events'), total_s: 0 } : await generateApart(db.url, tmp.dir);
    // The peak RSS that counts is the product's (rebuild, reports, reactions): from here (Linux:
    // 5 → clear_refs resets the high-water mark).
    writeFileSync('/proc/self/clear_refs', '5');
    console.log(`  RSS before the rebuild ${rssMb('VmRSS')} MB`);
    const config = parseConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent' });
    const ctx = createCtx({ client: db.client, config, now: () => ANCHOR });
    console.log('  derived tables, by the product\'s rebuild code');
    const derived: Record<string, number> = reuse ? {} : await rebuildDerived(ctx);
    const rebuildRss = rssMb();
    if (!reuse) console.log(`  peak RSS of the rebuild ${rebuildRss} MB`);
    const rows_ = {
      events: generated.events,
      sessions: await num(db.client, 'SELECT count(*) FROM sessions'),
      rollups: await num(db.client, 'SELECT count(*) FROM rollups'),
      stage_entries: await num(db.client, 'SELECT count(*) FROM stage_entries'),
      deals: await num(db.client, 'SELECT count(*) FROM deals'),
      events_in_90_days: await num(db.client, 'SELECT count(*) FROM events WHERE created_at >= ? AND created_at < ?', [FROM90, ANCHOR]),
    };
    console.log(`  rows: ${Object.entries(rows_).map(([k, v]) => `${k} ${fmtInt(v)}`).join(', ')}; database ${fmtBytes(databaseBytes(db.path))}`);
    const app = createApp({ ctx });
    const key = (await createApiKey({ ctx, input: { name: 'bench', scopes: ['read'] } })).secret;
    console.log(`  reports over the last 90 days, median of ${ROUNDS} (each next to a plain count of those days' events)`);
    const measured = await measureReports(app, key, db.client);
    const reactions: Record<string, Record<string, ReactionCost>> = {};
    for (const mix of Object.keys(FRESH_MIX)) {
      console.log(`  reactions over ${fmtInt(FRESH)} fresh events (${mix}), chunks of 1,000`);
      reactions[mix] = await measureReactions(ctx, mix);
    }
    const rss = rssMb();

    const budgets: { figure: string; goal: string; value: string; ok: boolean }[] = [];
    for (const r of measured.reports) budgets.push({ figure: `report ${r.name}`, goal: `≤ ${BUDGET}× count`, value: `${r.ratio}× (${fmtMs(r.ms)})`, ok: r.ratio <= BUDGET });
    for (const [mix, byReaction] of Object.entries(reactions)) {
      const [p50, p99] = REACTION_MS[mix]!;
      for (const [name, r] of Object.entries(byReaction)) {
        budgets.push({ figure: `${name} reaction, ${mix}, per event p50`, goal: `≤ ${p50} ms`, value: `${r.per_event_ms.p50} ms`, ok: r.per_event_ms.p50 <= p50 });
        budgets.push({ figure: `${name} reaction, ${mix}, per event p99`, goal: `≤ ${p99} ms`, value: `${r.per_event_ms.p99} ms`, ok: r.per_event_ms.p99 <= p99 });
      }
    }
    // The rebuild recounts every event with the live reaction's statements (a chunk of 5,000 per
    // transaction): per event it costs about what the reaction does, so its budget is the time a
    // marketer waits for complete reports again, per million events.
    if (derived.sessions_and_rollups_s) {
      const perMillion = derived.sessions_and_rollups_s / 60 / (generated.events / 1e6);
      const rate = generated.events / derived.sessions_and_rollups_s;
      budgets.push({
        figure: 'rebuild of sessions and rollups, per million events',
        goal: `≤ ${REBUILD_MIN_PER_MILLION} min`,
        value: `${perMillion.toFixed(2)} min (${fmtInt(rate)} events/s, ${(derived.sessions_and_rollups_s / 60).toFixed(1)} min in all)`,
        ok: perMillion <= REBUILD_MIN_PER_MILLION,
      });
    }
    budgets.push({ figure: 'peak RSS', goal: `≤ ${RSS_MB} MB`, value: `${rss} MB`, ok: rss <= RSS_MB });

    console.log('\nsummary');
    console.log(table(['report (90 days)', 'median', 'count', 'ratio', 'rows'], measured.reports.map((r) => [r.name, fmtMs(r.ms), fmtMs(r.count_ms), `${r.ratio}×`, r.rows])));
    console.log();
    const reactionRows = Object.entries(reactions).flatMap(([mix, byReaction]) => Object.entries(byReaction).map(([n, r]) => [n, mix, r.events, `${r.per_event_ms.p50} ms`, `${r.per_event_ms.p99} ms`, fmtMs(r.per_chunk_ms.p50), fmtMs(r.per_chunk_ms.p99)]));
    console.log(table(['reaction', 'fresh events', 'events', 'per event p50', 'p99', 'per chunk p50', 'p99'], reactionRows));
    console.log(`\ngeneration ${generated.total_s.toFixed(0)} s; derived tables ${Object.entries(derived).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}`);
    console.log('\nbudgets');
    console.log(table(['figure', 'goal', 'value', ''], budgets.map((b) => [b.figure, b.goal, b.value, b.ok ? 'ok' : 'MISSED'])));
    const file = writeResults(NAME, { machine: machine(), load, contacts: N, visits: VISITS, deals: DEALS, rows: rows_, generated, derived, ...measured, reactions, rss_mb: rss, rebuild_rss_mb: reuse ? null : rebuildRss, budgets });
    console.log(`\nresults: ${file}`);
    db.client.close();
  } finally {
    tmp.cleanup();
  }
}

const generateOnly = process.env.BENCH_GENERATE;
(generateOnly ? generate(generateOnly).then((g) => writeFileSync(process.env.BENCH_GENERATE_OUT!, JSON.stringify(g))) : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
