// Times the attribution report on a database of the issue's benchmark shape: 1,000,000 contacts,
// 10,000,000 events over a year, ~3 visits (sessions) per contact, 50,000 won deals over the
// year (≈12,000 in the last 90 days) plus lost and open ones. Built with set-based INSERT … SELECT
// (secondary indexes dropped for the load, then recreated from their migration SQL), not
// through the API. Not registered in run.mjs (the reports bench will be); run it alone:
//   npx tsx scripts/bench/attribution-shape.ts            (build in a temp dir, measure, delete)
//   ATTR_DB=/tmp/attr.db npx tsx scripts/bench/attribution-shape.ts   (keep / reuse that file)
// Sizes: ATTR_CONTACTS, ATTR_EVENTS, ATTR_SESSIONS, ATTR_DEALS.
import { createClient, type Client, type InValue } from '@libsql/client';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../api/app';
import { createApiKey } from '../../api/core/access/api-keys';
import { createCtx } from '../../api/core/context';
import { prepareDatabase } from '../../api/db/open';
import { parseConfig } from '../../api/env';
import { conversionRows } from '../../api/core/reports/attribution/conversions';
import { touchKeys } from '../../api/core/reports/attribution/touches';

const DAY = 86_400_000;
const int = (name: string, d: number) => (process.env[name] ? Number(process.env[name]) : d);
const N = int('ATTR_CONTACTS', 1_000_000);
const E = int('ATTR_EVENTS', 10_000_000);
const S = int('ATTR_SESSIONS', 3 * N);
const D = int('ATTR_DEALS', 50_000);
const ANCHOR = Date.UTC(2026, 5, 1); // the year of data ends here; the report reads its last 90 days
const YEAR0 = ANCHOR - 365 * DAY;
const CHUNK = 500_000;

const now = () => performance.now();
const fmt = (n: number) => n.toLocaleString('en-US');

/** `WITH RECURSIVE` rows from..to with random columns, drawn once per row. */
const rows = (col: string, randoms: string[]) =>
  `WITH RECURSIVE n(${col}) AS (SELECT ? UNION ALL SELECT ${col} + 1 FROM n WHERE ${col} < ?),
   r AS MATERIALIZED (SELECT ${col}, ${randoms.map((x) => `abs(random() % 1000000) AS ${x}`).join(', ')} FROM n)`;

async function chunked(label: string, total: number, sql: string, extra: InValue[], g: Client) {
  const t = now();
  for (let a = 1; a <= total; a += CHUNK) {
    const b = Math.min(total, a + CHUNK - 1);
    await g.execute({ sql, args: [a, b, ...extra] });
    console.log(`    ${label} ${fmt(b).padStart(11)} / ${fmt(total)}  ${((now() - t) / 1000).toFixed(1)}s`);
  }
}

async function build(url: string) {
  const started = now();
  const g = createClient({ url });
  await prepareDatabase(g, url);
  await g.execute('PRAGMA cache_size = -262144');
  await g.execute('PRAGMA threads = 2');
  await g.execute('PRAGMA synchronous = OFF');
  const tables = ['contacts', 'events', 'sessions', 'deals', 'email_sends'];
  const idx = (
    await g.execute(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (${tables.map((x) => `'${x}'`).join(', ')}) ORDER BY tbl_name, name`)
  ).rows.map((r) => ({ name: String(r.name), sql: String(r.sql) }));
  for (const i of idx) await g.execute(`DROP INDEX "${i.name}"`);
  console.log(`  dropped ${idx.length} secondary indexes for the load`);

  await g.execute(`INSERT INTO sites (id, name, public_key, secret, created_at, updated_at) VALUES (1, 'Main', 'k1', 's1', 0, 0), (2, 'Blog', 'k2', 's2', 0, 0)`);
  // Names for labels: forms, focus items, emails, campaigns.
  await g.execute(`INSERT INTO forms (id, name, definition, created_at, updated_at) SELECT value, 'Form ' || value, '{}', 0, 0 FROM json_each('[1,2,3,4,5]')`);
  await g.execute(`INSERT INTO focus_items (id, name, definition, created_at, updated_at) SELECT value, 'Focus ' || value, '{}', 0, 0 FROM json_each('[1,2,3]')`);
  await g.execute(`INSERT INTO emails (id, name, kind, subject, html, html_compiled, text_compiled, created_at, updated_at)
    SELECT value, 'Email ' || value, 'marketing', 's', 'h', 'h', 't', 0, 0 FROM json_each('[1,2,3,4,5,6,7,8,9,10]')`);
  await g.execute(`INSERT INTO campaigns (id, name, definition, secret, created_at, updated_at) SELECT value, 'Campaign ' || value, '{}', 'x', 0, 0 FROM json_each('[1,2,3,4]')`);

  console.log(`  contacts (${fmt(N)})`);
  await chunked(
    'contacts',
    N,
    `${rows('i', ['u'])}
    INSERT INTO contacts (id, email, email_normalized, created_at, updated_at, first_seen_at, first_source)
    SELECT i, 'u' || i || '@example.com', 'u' || i || '@example.com', CAST(? + i * 30 AS INTEGER), CAST(? + i * 30 AS INTEGER), CAST(? + i * 30 AS INTEGER),
      CASE u % 4 WHEN 0 THEN '{"utm_source":"google","utm_medium":"cpc","landing_url":"https://shop.example.com/"}'
        WHEN 1 THEN '{"utm_source":"newsletter","utm_medium":"email","landing_url":"https://shop.example.com/blog"}'
        ELSE '{"landing_url":"https://shop.example.com/"}' END
    FROM r`,
    [YEAR0 - 60 * DAY, YEAR0 - 60 * DAY, YEAR0 - 60 * DAY],
    g,
  );

  // Visits: ~3 per contact (random contacts), spread over the year; every one identified.
  console.log(`  sessions (${fmt(S)})`);
  await chunked(
    'sessions',
    S,
    `${rows('k', ['u', 'v', 'w'])}
    INSERT INTO sessions (id, site_id, visitor_id, contact_id, started_at, last_at, last_event_id, pageviews, entry_page, channel, source, medium, campaign, referrer, country, device)
    SELECT k, 1 + (u % 10 = 0), 1 + (v * 1000 + w) % ${N}, 1 + (v * 1000 + w) % ${N}, CAST(? + (u * 1000 + v % 1000) % ${365 * 86_400} * 1000 AS INTEGER),
      CAST(? + (u * 1000 + v % 1000) % ${365 * 86_400} * 1000 + 60000 AS INTEGER), k, 1 + w % 5,
      CASE w % 6 WHEN 0 THEN '/' WHEN 1 THEN '/pricing' WHEN 2 THEN '/blog/post-' || ((w / 6) % 40) WHEN 3 THEN '/features' WHEN 4 THEN '/docs' ELSE '/signup' END,
      CASE u % 7 WHEN 0 THEN 'direct' WHEN 1 THEN 'organic_search' WHEN 2 THEN 'social' WHEN 3 THEN 'email' WHEN 4 THEN 'paid' WHEN 5 THEN 'referral' ELSE 'organic_search' END,
      CASE u % 7 WHEN 0 THEN NULL WHEN 1 THEN 'google' WHEN 2 THEN 'twitter' WHEN 3 THEN 'newsletter' WHEN 4 THEN 'google' WHEN 5 THEN 'partner' || (v % 20) || '.com' ELSE 'bing' END,
      CASE u % 7 WHEN 3 THEN 'email' WHEN 4 THEN 'cpc' END,
      CASE u % 7 WHEN 3 THEN 'spring' WHEN 4 THEN 'brand' || (v % 5) END,
      CASE u % 7 WHEN 1 THEN 'google.com' WHEN 2 THEN 't.co' WHEN 5 THEN 'partner' || (v % 20) || '.com' WHEN 6 THEN 'bing.com' END,
      'US', 'desktop'
    FROM r`,
    [YEAR0, YEAR0],
    g,
  );

  // Sends the email clicks point at: 200,000, one in two from a campaign.
  await g.execute({
    sql: `${rows('k', ['u'])}
    INSERT INTO email_sends (id, email_id, contact_id, to_email, reason, marketing, status, created_at, updated_at)
    SELECT k, 1 + k % 10, 1 + u % ${N}, 'u' || (1 + u % ${N}) || '@example.com',
      CASE k % 2 WHEN 0 THEN 'campaign:' || (1 + k % 4) || ':step-' || k || ':0' ELSE 'broadcast:' || k END, 1, 'sent', 0, 0 FROM r`,
    args: [1, 200_000],
  });

  // Events in time order over the year (id order = created_at order): 70% of a contact.
  console.log(`  events (${fmt(E)})`);
  await chunked(
    'events',
    E,
    `${rows('k', ['u', 'v', 'w', 'x'])}
    INSERT INTO events (id, site_id, visitor_id, contact_id, type, url, props, created_at)
    SELECT k, 1 + (x % 10 = 0), 1 + (v * 1000 + w) % ${N}, CASE WHEN x % 100 < 70 THEN 1 + (v * 1000 + w) % ${N} END, t.type,
      CASE t.type WHEN 'page_view' THEN 'https://shop.example.com/p' || (w % 50) END,
      CASE t.type
        WHEN 'form_submit' THEN '{"form_id":' || (1 + w % 5) || ',"submission_id":' || k || CASE WHEN w % 10 = 0 THEN ',"focus_id":' || (1 + v % 3) ELSE '' END || '}'
        WHEN 'focus_click' THEN '{"focus_id":' || (1 + v % 3) || ',"variant":"a"}'
        WHEN 'focus_view' THEN '{"focus_id":' || (1 + v % 3) || ',"variant":"a"}'
        WHEN 'email_clicked' THEN '{"email_id":' || (1 + (v % 200000 + 1) % 10) || ',"send_id":' || (v % 200000 + 1) || ',"link":0,"machine":' || CASE WHEN w % 5 = 0 THEN 'true' ELSE 'false' END || '}'
        WHEN 'email_opened' THEN '{"email_id":' || (1 + (v % 200000 + 1) % 10) || ',"send_id":' || (v % 200000 + 1) || ',"machine":false}'
      END,
      CAST(? + (k - 1) * ? / ? AS INTEGER)
    FROM r JOIN (
      SELECT 0 AS lo, 88 AS hi, 'page_view' AS type UNION ALL SELECT 88, 91, 'form_submit' UNION ALL SELECT 91, 93, 'focus_view'
      UNION ALL SELECT 93, 94, 'focus_click' UNION ALL SELECT 94, 97, 'email_opened' UNION ALL SELECT 97, 99, 'email_clicked' UNION ALL SELECT 99, 100, 'custom'
    ) t ON u % 100 >= t.lo AND u % 100 < t.hi`,
    [YEAR0, 365 * DAY - 1000, E],
    g,
  );

  // Deals: D won over the year, D/2 lost and D/4 open, on random contacts.
  console.log(`  deals (${fmt(D)} won + lost and open)`);
  await g.execute({
    sql: `${rows('k', ['u', 'v'])}
    INSERT INTO deals (contact_id, name, amount_cents, currency, stage, closed_at, created_at, updated_at)
    SELECT 1 + (u * 1000 + v % 1000) % ${N}, 'Deal ' || k, 1000 + (u * 997 + v) % 5000000,
      CASE WHEN v % 20 = 0 THEN 'USD' ELSE 'EUR' END,
      CASE WHEN k <= ${D} THEN 'won' WHEN k <= ${D + D / 2} THEN 'lost' ELSE 'open' END,
      CASE WHEN k <= ${D + D / 2} THEN CAST(? + (u * 1000 + v % 1000) % ${365 * 86_400} * 1000 AS INTEGER) END, CAST(? AS INTEGER), CAST(? AS INTEGER)
    FROM r`,
    args: [1, D + D / 2 + D / 4, YEAR0, YEAR0, YEAR0],
  });

  console.log(`  recreating ${idx.length} indexes`);
  for (const i of idx) {
    const t = now();
    await g.execute(i.sql);
    console.log(`    ${i.name.padEnd(40)} ${((now() - t) / 1000).toFixed(1)}s`);
  }
  await g.execute('PRAGMA wal_checkpoint(TRUNCATE)');
  g.close();
  console.log(`  built in ${((now() - started) / 1000).toFixed(0)}s`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function measure(url: string) {
  const client = createClient({ url });
  await prepareDatabase(client, url);
  const ctx = createCtx({ client, config: parseConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent', API_RATE_LIMIT: '1000000' }), now: () => ANCHOR });
  const app = createApp({ ctx });
  const key = (await createApiKey({ ctx, input: { name: 'bench', scopes: ['read'] } })).secret;
  const from = new Date(ANCHOR - 90 * DAY).toISOString();
  const to = new Date(ANCHOR).toISOString();
  const count = async (sql: string, args: InValue[] = []) => Number((await client.execute({ sql, args })).rows[0]![0]);
  console.log(
    `  data: ${fmt(await count('SELECT count(*) FROM contacts'))} contacts, ${fmt(await count('SELECT max(id) FROM events'))} events, ${fmt(await count('SELECT count(*) FROM sessions'))} sessions, ${fmt(await count("SELECT count(*) FROM deals WHERE stage = 'won'"))} won deals (${fmt(await count("SELECT count(*) FROM deals WHERE stage = 'won' AND closed_at >= ? AND closed_at < ?", [ANCHOR - 90 * DAY, ANCHOR]))} in the 90 days)`,
  );
  const time = async (label: string, run: () => Promise<unknown>, reps = 5) => {
    const ms: number[] = [];
    let first = 0;
    for (let i = 0; i <= reps; i++) {
      const t = now();
      await run();
      const d = now() - t;
      if (i === 0) first = d;
      else ms.push(d);
    }
    console.log(`  ${label.padEnd(62)} first ${first.toFixed(0).padStart(6)} ms   median of ${reps} ${median(ms).toFixed(0).padStart(6)} ms`);
    return median(ms);
  };
  const scan = await time('SELECT count(*) over the same 90 days of raw events', () =>
    client.execute({ sql: 'SELECT count(*) FROM events WHERE created_at >= ? AND created_at < ?', args: [ANCHOR - 90 * DAY, ANCHOR] }),
  );
  for (const q of [
    'conversion=deal_won&dimension=channel&model=position_based',
    'conversion=deal_won&dimension=channel&model=linear',
    'conversion=deal_won&dimension=source&model=first_touch',
    'conversion=deal_won&dimension=landing_page&model=last_touch',
    'conversion=deal_won&dimension=channel&model=position_based&site=1',
    'conversion=deal_won&dimension=channel&model=position_based&utm_source=google',
    'conversion=deal_won&dimension=form&model=linear',
    'conversion=deal_won&dimension=focus&model=linear',
    'conversion=deal_won&dimension=email&model=linear',
    'conversion=deal_won&dimension=campaign&model=linear',
    'conversion=form:any&dimension=channel&model=position_based',
  ]) {
    let body: any;
    const m = await time(q, async () => {
      const r = await app.request(`/api/v1/reports/attribution?from=${from}&to=${to}&${q}`, { headers: { authorization: `Bearer ${key}` } });
      body = await r.json();
      if (r.status !== 200) throw new Error(JSON.stringify(body));
    });
    console.log(`      ${(m / scan).toFixed(2)}× the scan; ${fmt(body.totals.conversions)} conversions, revenue ${body.totals.revenue} ${body.totals.currency ?? ''}, ${body.rows.length} rows`);
  }
  // The plans of the report's own statement (as run.ts builds it) for a visit and an event dimension.
  for (const [spec, dim] of [[{ kind: 'deal_won' }, 'channel'], [{ kind: 'deal_won' }, 'campaign'], [{ kind: 'form', id: null }, 'source']] as const) {
    const period = { from: ANCHOR - 90 * DAY, to: ANCHOR, tz: 'UTC', interval: 'day' as const, site: null, segment: null, utm: { source: null, medium: null, campaign: null } };
    const conv = conversionRows(period, spec, 'EUR');
    const keys = touchKeys(dim, null, 'cv.c', 'cv.t');
    const plan = await client.execute({
      sql: `EXPLAIN QUERY PLAN SELECT json_group_array(json_array(cv.v, json(${keys.sql}))) AS j FROM (${conv.sql}) cv`,
      args: [...keys.args, ...conv.args],
    });
    console.log(`  plan (${spec.kind}, ${dim}): ${plan.rows.map((r) => r.detail).join(' | ')}`);
  }
  client.close();
}

const keep = process.env.ATTR_DB;
const dir = keep ? null : mkdtempSync(join(tmpdir(), 'leadline-attr-'));
const path = keep ?? join(dir!, 'attr.db');
const url = `file:${path}`;
if (!existsSync(path)) {
  console.log(`building ${path}`);
  await build(url);
}
await measure(url);
if (dir) rmSync(dir, { recursive: true, force: true });
