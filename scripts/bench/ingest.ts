// Ingest throughput: POST /t, acknowledged only after its group commit, against
// a bare Hono route served the same way (DESIGN.md: ≥ 0.5 × the bare route's
// req/s, same process kind, same run), plus the server's peak RSS (≤ 256 MB)
// and the tracker's size (w.js gzip -9 ≤ 2.0 KB).
//
// The server is a child process (scripts/bench/ingest-server.ts, built here
// with esbuild): the Node entry's app on a fresh WAL database file and a bare
// Hono app on a second port of the same process. This process is the load
// generator: node:http keep-alive connections on the loopback, a fixed number
// in flight, for a fixed time per scenario. node:http, not fetch: Node 20's
// fetch tops out near 4k req/s here, which would measure the client, not the
// server. The scenarios take turns in rounds, so load from elsewhere on the
// machine falls on all of them alike.
//
//   bare  POST /bare (a bare Hono route), same body and headers as t1
//   t1    POST /t, one page view per request
//   t10   POST /t, ten events per request (page view, custom events, engagement)
//
// Visitor ids cycle over BENCH_INGEST_VISITORS ids, each with its own public
// IP (sent as X-Forwarded-For; the server trusts the proxy, so geo and the
// per-IP limiter do real work) and one of a few real browser user agents.
// At the end every acknowledged event must be in the database.
//
// Then reaction lag (the reactions keep up with ingest): a second server on a
// second database holding BENCH_INGEST_CONTACTS contacts with history (events,
// tags, do-not-contact) and four live segments (a tag, a behaviour condition,
// both with a field, activity with do-not-contact), its reaction cursors at the
// end of the history. The phase's visitors are linked to contacts, so every
// event they send goes through every reaction, segments included. Under t1 and
// then t10 load, the parent samples from its own connection, 4 times a second:
//   lag in events   newest event id − the slowest cursor in reaction_cursors
//   lag in time     age of the oldest event some reaction has not consumed
// and, when the load stops, how long the reactions take to catch up (drain).
// Budget lines: lag p99 ≤ 2 s and drain ≤ 5 s; the membership of every segment
// must equal its filter's count once drained.
//
//   BENCH_INGEST_SECONDS          measured seconds per scenario (default 10)
//   BENCH_INGEST_ROUNDS           rounds the seconds are split into (default 2)
//   BENCH_INGEST_WARMUP_SECONDS   untimed warm-up per scenario (default 2)
//   BENCH_INGEST_CONNECTIONS      requests in flight (default 64)
//   BENCH_INGEST_VISITORS         distinct visitor ids (default 10,000)
//   BENCH_INGEST_MAX_WAIT_MS      group-commit wait for the server's ingestor (default: the app's)
//   BENCH_INGEST_NODE_ARGS        extra Node flags for the server, e.g. "--cpu-prof --cpu-prof-dir=dist/bench/prof"
//   BENCH_INGEST_CONTACTS         contacts in the reaction-lag database (default 100,000)
//   BENCH_INGEST_HISTORY          their past events (default 3 per contact)
//   BENCH_INGEST_LAG_SECONDS      load per reaction-lag scenario (default 10; 0 skips the phase)
//   BENCH_KEEP=1                  keep the temp database
import { bundleNode } from '../bundle-node.mjs';
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http, { type OutgoingHttpHeaders } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { gzipSync } from 'node:zlib';
import { createClient } from '@libsql/client';
import { envInt, fmtBytes, fmtInt, fmtMs, latency, machine, now, table, tempDir, writeResults, type Latency } from './lib';
import { createCtx } from '../../api/core/context';
import { createField } from '../../api/core/contacts/fields';
import { compileFilter } from '../../api/core/segments/compile';
import { compileEnv } from '../../api/core/segments/membership';
import { createSegment } from '../../api/core/segments/segments';
import { Filter } from '../../api/core/segments/filter';
import { REACTIONS } from '../../api/core/spine/registry';
import { prepareDatabase } from '../../api/db/open';
import { parseConfig } from '../../api/env';

const NAME = 'ingest';
const SECONDS = envInt('BENCH_INGEST_SECONDS', 10);
const ROUNDS = envInt('BENCH_INGEST_ROUNDS', 2);
const WARMUP_SECONDS = envInt('BENCH_INGEST_WARMUP_SECONDS', 2, 0);
const CONNECTIONS = envInt('BENCH_INGEST_CONNECTIONS', 64);
const VISITORS = envInt('BENCH_INGEST_VISITORS', 10_000);
const BATCH = 10;

const LAG_CONTACTS = envInt('BENCH_INGEST_CONTACTS', 100_000, 100);
const LAG_HISTORY = envInt('BENCH_INGEST_HISTORY', 3 * LAG_CONTACTS, 0);
const LAG_SECONDS = envInt('BENCH_INGEST_LAG_SECONDS', 10, 0);
const LAG_SAMPLE_MS = 250;
const LAG_P99_BUDGET_MS = 2_000;
const DRAIN_BUDGET_MS = 5_000;
// The drain is waited for at most this long (the bench server has no scheduler
// timer: a backlog larger than one reactions run waits for the next request).
const DRAIN_CAP_MS = 60_000;

const RATIO_GOAL = 0.5;
const RSS_BUDGET = 256 * 1024 * 1024;
const WJS_TARGET = 2048;
const WJS_CAP = 2560;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = process.env.BENCH_OUT_DIR ?? join(root, 'dist', 'bench');

// ---------------------------------------------------------------- payloads

const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0',
];
const PATHS = ['/', '/pricing', '/features', '/blog/edge-marketing', '/blog/lead-scoring-101', '/docs/getting-started', '/contact', '/about'];
const REFERRERS = ['https://www.google.com/', 'https://news.ycombinator.com/', 'https://www.linkedin.com/', '', '', ''];
// First octets of publicly routed IPv4 space around the world, for the geo lookup.
const OCTETS = [2, 5, 24, 31, 37, 41, 46, 62, 64, 66, 68, 71, 76, 77, 81, 85, 88, 91, 93, 95, 98, 109, 113, 118, 125, 139, 151, 176, 177, 185, 186, 188, 190, 194, 196, 200, 201, 203, 212, 217];

/** Deterministic PRNG (mulberry32), so every run sends the same traffic. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Visitor {
  uid: string;
  ip: string;
  ua: string;
  page: string;
  referrer: string;
}

function visitors(n: number, origin: string, seed = 42): Visitor[] {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  return Array.from({ length: n }, (_, i) => {
    // 22 characters of [A-Za-z0-9], like the tracker's ids.
    const uid = Array.from({ length: 22 }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(rnd() * 62)]).join('');
    const ip = `${pick(OCTETS)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${1 + Math.floor(rnd() * 254)}`;
    const utm = i % 10 === 0 ? `?utm_source=newsletter&utm_medium=email&utm_campaign=spring-${i % 7}` : '';
    return { uid, ip, ua: pick(UAS), page: `${origin}${pick(PATHS)}${utm}`, referrer: pick(REFERRERS) };
  });
}

function pageView(v: Visitor) {
  return { t: 'pv', u: v.page, r: v.referrer || undefined, ti: 'Leadline — marketing automation for the edge', sw: 1920, sh: 1080, l: 'en-GB' };
}

function batchOf(v: Visitor) {
  const u = v.page;
  return [
    pageView(v),
    { t: 'ev', u, n: 'cta_click', p: { position: 'hero', variant: 'b' } },
    { t: 'ev', u, n: 'video_play', p: { seconds: 30, hd: true } },
    { t: 'ev', u, n: 'pricing_toggle', p: { period: 'yearly' } },
    { t: 'ev', u, n: 'scroll_milestone', p: { depth: 50 } },
    { t: 'out', u, h: 'https://github.com/leadline/leadline' },
    { t: 'dl', u, h: `${new URL(u).origin}/assets/brochure.pdf` },
    { t: 'ev', u, n: 'form_start', p: { form: 'newsletter' } },
    { t: 'ev', u, n: 'chat_open' },
    { t: 'eng', u, d: 42_000, s: 80 },
  ];
}

interface Request1 {
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

/** Bodies and headers built before any timing, as the tracker would send them (text/plain, like sendBeacon). */
function requests(vs: Visitor[], siteKey: string, origin: string, events: (v: Visitor) => unknown[]): Request1[] {
  return vs.map((v) => {
    const body = Buffer.from(JSON.stringify({ k: siteKey, v: v.uid, e: events(v) }));
    return {
      body,
      headers: {
        'content-type': 'text/plain;charset=UTF-8',
        'content-length': body.length,
        accept: '*/*',
        'accept-language': 'en-GB,en;q=0.9',
        origin,
        referer: v.page,
        'user-agent': v.ua,
        'x-forwarded-for': v.ip,
      },
    };
  });
}

// ------------------------------------------------------------ the server

interface Server {
  child: ChildProcess;
  pid: number;
  appPort: number;
  barePort: number;
  siteKey: string;
  origin: string;
  ask: <T>(msg: string, reply: string) => Promise<T>;
  exited: () => boolean;
}

async function buildServer(): Promise<string> {
  const outfile = join(outDir, 'ingest-server.mjs');
  await bundleNode(join(root, 'scripts', 'bench', 'ingest-server.ts'), outfile);
  return outfile;
}

async function startServer(file: string, dbUrl: string): Promise<Server> {
  const child = fork(file, [], {
    cwd: root,
    execArgv: ['--enable-source-maps', '--expose-gc', ...(process.env.BENCH_INGEST_NODE_ARGS ?? '').split(' ').filter(Boolean)],
    env: { ...process.env, BENCH_DB_URL: dbUrl },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exited = false;
  const waiting = new Map<string, (msg: any) => void>();
  child.on('message', (msg: any) => {
    const w = waiting.get(msg?.type);
    if (w) {
      waiting.delete(msg.type);
      w(msg);
    }
  });
  const gone = new Promise<never>((_, reject) =>
    child.on('exit', (code, signal) => {
      exited = true;
      reject(new Error(`the server process exited (${signal ?? `code ${code}`})`));
    }),
  );
  gone.catch(() => undefined);
  const ask = <T>(msg: string, reply: string) =>
    Promise.race([
      new Promise<T>((res) => {
        waiting.set(reply, res);
        if (msg) child.send(msg);
      }),
      gone,
    ]);
  const ready = await Promise.race([
    ask<{ appPort: number; barePort: number; siteKey: string; origin: string }>('', 'ready'),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the server did not start within 30 s')), 30_000).unref()),
  ]);
  return { child, pid: child.pid!, ...ready, ask, exited: () => exited };
}

async function stopServer(s: Server): Promise<void> {
  if (s.exited()) return;
  const done = new Promise<void>((res) => s.child.once('exit', () => res()));
  s.child.send('stop');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(timer);
}

/** VmRSS and VmHWM (peak) of a process from /proc, in bytes; null where there is no /proc. */
function memoryOf(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return null;
  }
}

// --------------------------------------------------------------- the load

type Key = 'bare' | 't1' | 't10';

interface Scenario {
  key: Key;
  label: string;
  port: number;
  path: string;
  /** Events each acknowledged request stores (0: not /t). */
  events: number;
  reqs: Request1[];
  next: number;
}

interface Tally {
  requests: number;
  ok: number;
  /** Sum of the "stored" counts the 2xx answers reported. */
  stored: number;
  /** 2xx answers whose "stored" differs from the events sent. */
  short: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  lat: number[];
  ms: number;
  serverCpuUs: number;
  clientCpuUs: number;
  peakRss: number;
  settleMs: number[];
  /** Live V8 heap (after a full GC) at the end of each window, before and after the deferred work settled. */
  liveHeap: { loaded: number; settled: number }[];
}

const tally = (): Tally => ({
  requests: 0,
  ok: 0,
  stored: 0,
  short: 0,
  statuses: {},
  errors: {},
  lat: [],
  ms: 0,
  serverCpuUs: 0,
  clientCpuUs: 0,
  peakRss: 0,
  settleMs: [],
  liveHeap: [],
});

function post(agent: http.Agent, port: number, path: string, r: Request1): Promise<{ status: number; stored: number; error?: string }> {
  return new Promise((resolveReq) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: r.headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let stored = -1;
        try {
          stored = Number(JSON.parse(text).stored ?? -1);
        } catch {
          // not JSON: counted by status
        }
        resolveReq({ status: res.statusCode ?? 0, stored });
      });
      res.on('error', (e) => resolveReq({ status: 0, stored: -1, error: e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolveReq({ status: 0, stored: -1, error: e.code ?? e.message }));
    req.end(r.body);
  });
}

interface Cpu {
  user: number;
  system: number;
}

/** One timed window of one scenario: CONNECTIONS requests in flight until `ms` have passed. */
async function drive(server: Server, agent: http.Agent, s: Scenario, ms: number, t: Tally, onTick: (rss: number) => void) {
  const before = await server.ask<{ cpu: Cpu }>('stats', 'stats');
  const client0 = process.cpuUsage();
  const start = now();
  const end = start + ms;
  const sampler = setInterval(() => {
    const m = memoryOf(server.pid);
    if (m) onTick(m.rss);
  }, 200);
  const worker = async () => {
    while (now() < end && !server.exited()) {
      const r = s.reqs[s.next++ % s.reqs.length]!;
      const t0 = now();
      const out = await post(agent, s.port, s.path, r);
      t.lat.push(now() - t0);
      t.requests++;
      t.statuses[out.status] = (t.statuses[out.status] ?? 0) + 1;
      if (out.error) t.errors[out.error] = (t.errors[out.error] ?? 0) + 1;
      if (out.status >= 200 && out.status < 300) {
        t.ok++;
        if (s.events) {
          t.stored += Math.max(0, out.stored);
          if (out.stored !== s.events) t.short++;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  t.ms += now() - start;
  clearInterval(sampler);
  const client = process.cpuUsage(client0);
  t.clientCpuUs += client.user + client.system;
  if (server.exited()) throw new Error(`the server process died during ${s.key}`);
  const after = await server.ask<{ cpu: Cpu; rss: number }>('stats', 'stats');
  t.serverCpuUs += after.cpu.user + after.cpu.system - (before.cpu.user + before.cpu.system);
  onTick(after.rss);
}

// --------------------------------------------------------------- results

interface ScenarioResult {
  key: Key;
  scenario: string;
  requests: number;
  ok: number;
  seconds: number;
  req_per_s: number;
  events_per_s: number;
  latency_ms: Latency;
  /** Server CPU time per request: what the server pays, whoever limits the rate. */
  server_cpu_us_per_req: number;
  /** Server CPU seconds per second (1.0 = one core busy). */
  server_cpu_share: number;
  /** The load generator's CPU seconds per second: near 1.0, it may be what limits the rate. */
  client_cpu_share: number;
  peak_rss_bytes: number;
  non_2xx: Record<string, number>;
  errors: Record<string, number>;
  /** Time the server needed after each window to finish its deferred reactions. */
  settle_ms: number[];
  /** Live V8 heap after a full GC at the end of each window, before and after deferred work settled. */
  live_heap_bytes: { loaded: number; settled: number }[];
}

function summarize(s: Scenario, t: Tally): ScenarioResult {
  const sec = t.ms / 1000;
  const non2xx = Object.fromEntries(Object.entries(t.statuses).filter(([k]) => !(Number(k) >= 200 && Number(k) < 300)));
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    key: s.key,
    scenario: s.label,
    requests: t.requests,
    ok: t.ok,
    seconds: r2(sec),
    req_per_s: Math.round(t.ok / sec),
    events_per_s: Math.round((s.events ? t.stored : 0) / sec),
    latency_ms: latency(t.lat),
    server_cpu_us_per_req: Math.round(t.serverCpuUs / Math.max(1, t.requests)),
    server_cpu_share: r2(t.serverCpuUs / 1e6 / sec),
    client_cpu_share: r2(t.clientCpuUs / 1e6 / sec),
    peak_rss_bytes: t.peakRss,
    non_2xx: non2xx,
    errors: t.errors,
    settle_ms: t.settleMs.map((x) => Math.round(x)),
    live_heap_bytes: t.liveHeap,
  };
}

function wjsSize(): { file: string; bytes: number; gzip9_bytes: number } | null {
  const file = join(root, 'dist', 'widgets', 'w.js');
  if (!existsSync(file)) return null;
  const code = readFileSync(file);
  return { file: 'dist/widgets/w.js', bytes: code.length, gzip9_bytes: gzipSync(code, { level: 9 }).length };
}

// ------------------------------------------------------- reaction lag

const DAY = 86_400_000;

// Four segments of the kinds real ones are made of; tag and behaviour conditions both appear.
const LAG_SEGMENTS: { name: string; filter: unknown }[] = [
  { name: 'vip', filter: { tag: 'vip' } },
  { name: 'pricing twice this month', filter: { behaviour: 'visited', url: { op: 'contains', value: '/pricing' }, min_count: 2, within_days: 30 } },
  {
    name: 'pro vip on pricing',
    filter: { all: [{ field: 'fields.plan', op: 'equals', value: 'pro' }, { tag: 'vip' }, { behaviour: 'visited', url: { op: 'contains', value: '/pricing' }, min_count: 2, within_days: 30 }] },
  },
  { name: 'active this week, emailable', filter: { all: [{ behaviour: 'any_event', min_count: 3, within_days: 7 }, { dnc: 'email', is: false }] } },
];

interface LagDb {
  url: string;
  seed_s: number;
  contacts: number;
  history_events: number;
  segments: { id: number; name: string; filter: unknown; members: number }[];
}

/** The reaction-lag database: contacts with history and live segments, reactions caught up with the history. */
async function seedLagDb(dir: string, origin: string): Promise<LagDb> {
  const t0 = now();
  const url = `file:${join(dir, 'reactions.db')}`;
  const client = createClient({ url });
  await prepareDatabase(client, url);
  const ctx = createCtx({ client, config: parseConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' }) });
  const at = Date.now();
  await createField({ ctx, input: { key: 'plan', label: 'Plan', type: 'select', options: ['free', 'pro', 'enterprise'] } });
  const CHUNK = 50_000;
  const rows = (col: string) => `WITH RECURSIVE n(${col}) AS (SELECT ? UNION ALL SELECT ${col} + 1 FROM n WHERE ${col} < ?),
    r AS MATERIALIZED (SELECT ${col}, abs(random() % 1000000) AS u, abs(random() % 1000000) AS v FROM n)`;
  for (let a = 1; a <= LAG_CONTACTS; a += CHUNK) {
    await client.execute({
      sql: `${rows('i')} INSERT INTO contacts (id, email, email_normalized, first_name, custom, points, created_at, updated_at)
        SELECT i, 'lag' || i || '@example.com', 'lag' || i || '@example.com', 'First' || (u % 5000),
          '{"plan":"' || CASE WHEN u % 100 < 10 THEN 'pro' WHEN u % 100 < 13 THEN 'enterprise' ELSE 'free' END || '"}',
          v % 120, ? - 400 * ${DAY} + i, ? - 30 * ${DAY} + i FROM r`,
      args: [a, Math.min(LAG_CONTACTS, a + CHUNK - 1), at, at],
    });
  }
  await client.batch(
    [
      // One statement per tag: a random() term over the tag alone would be drawn once per tag, not per contact.
      ...(
        [
          ['vip', 5],
          ['customer', 20],
          ['newsletter', 40],
        ] as const
      ).flatMap(([name, percent]) => [
        { sql: 'INSERT INTO tags (name, created_at) VALUES (?, ?)', args: [name, at] },
        {
          sql: 'INSERT INTO contact_tags (contact_id, tag_id, created_at) SELECT id, (SELECT id FROM tags WHERE name = ?), ? FROM contacts WHERE abs(random() % 100) < ?',
          args: [name, at, percent],
        },
      ]),
      { sql: "INSERT INTO do_not_contact (contact_id, channel, reason, created_at) SELECT id, 'email', 'unsubscribed', ? FROM contacts WHERE abs(random() % 100) < 3", args: [at] },
    ],
    'write',
  );
  // History over the last 60 days, in time order; one page view in eight on /pricing, as the load sends.
  // None within an hour of a window's edge (7 and 30 days back): an event crossing
  // one during the run would move a membership that only the rebuild job follows.
  const paths = JSON.stringify(PATHS);
  const HOUR = 3_600_000;
  for (let a = 1; a <= LAG_HISTORY; a += CHUNK) {
    await client.execute({
      sql: `${rows('k')}, h AS (SELECT k, u, v, ? - 60 * ${DAY} + k * ? AS ts FROM r)
        INSERT INTO events (site_id, contact_id, type, url, created_at)
        SELECT 1, 1 + v % ?, CASE WHEN u % 10 < 9 THEN 'page_view' ELSE 'custom' END,
          ? || (SELECT value FROM json_each(?) WHERE key = u % ${PATHS.length}),
          CASE WHEN abs(ts - (? - 7 * ${DAY})) < ${HOUR} OR abs(ts - (? - 30 * ${DAY})) < ${HOUR} THEN ts - 2 * ${HOUR} ELSE ts END FROM h`,
      args: [a, Math.min(LAG_HISTORY, a + CHUNK - 1), at, Math.floor((60 * DAY) / Math.max(1, LAG_HISTORY)), LAG_CONTACTS, origin, paths, at, at],
    });
  }
  const segments: LagDb['segments'] = [];
  for (const g of LAG_SEGMENTS) {
    const v = await createSegment({ ctx, input: { name: g.name, kind: 'dynamic', filter: Filter.parse(g.filter) } });
    segments.push({ id: v.id, name: g.name, filter: g.filter, members: v.members });
  }
  // The history is the past: every reaction starts after it, the contact sweep from now.
  const last = Number((await client.execute('SELECT coalesce(max(id), 0) AS n FROM events')).rows[0]!.n);
  await client.batch(
    [
      // (Some migrations start a reaction's cursor themselves.)
      ...REACTIONS.map((r) => ({ sql: 'INSERT INTO reaction_cursors (name, last_event_id, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET last_event_id = excluded.last_event_id', args: [r.name, last, at] })),
      { sql: "INSERT INTO app_state (key, value) VALUES ('segments_contacts_watermark', ?)", args: [String(Date.now())] },
    ],
    'write',
  );
  await client.execute('PRAGMA wal_checkpoint(TRUNCATE)');
  client.close();
  return { url, seed_s: Math.round((now() - t0) / 100) / 10, contacts: LAG_CONTACTS, history_events: LAG_HISTORY, segments };
}

/** Links `vs` to contacts spread over the whole table, as earlier form submissions would have. */
async function linkVisitors(url: string, siteKey: string, vs: Visitor[]) {
  const client = createClient({ url });
  const at = Date.now();
  const rows = vs.map((v, i) => [v.uid, 1 + Math.floor((i * LAG_CONTACTS) / vs.length)]);
  await client.execute({
    sql: `INSERT INTO visitors (site_id, uid, contact_id, first_seen_at, last_seen_at, page_views)
      SELECT (SELECT id FROM sites WHERE public_key = ?), j.value ->> 0, j.value ->> 1, ?, ?, 0 FROM json_each(?) j`,
    args: [siteKey, at, at, JSON.stringify(rows)],
  });
  client.close();
}

interface LagSample {
  /** ms since the window started */
  t: number;
  newest: number;
  slowest: number;
  lag_events: number;
  /** Age of the oldest event not yet consumed by every reaction (0: none). */
  lag_ms: number;
}

/** Reads the lag from its own connection; WAL readers never wait for the server's writer. */
function lagProbe(url: string) {
  const client = createClient({ url });
  const names = REACTIONS.map((r) => r.name);
  const read = async (): Promise<Omit<LagSample, 't'>> => {
    const [ev, cur] = await client.batch(
      [
        'SELECT coalesce(max(id), 0) AS n FROM events',
        { sql: `SELECT min(last_event_id) AS n FROM reaction_cursors WHERE name IN (SELECT value FROM json_each(?))`, args: [JSON.stringify(names)] },
      ],
      'read',
    );
    const newest = Number(ev!.rows[0]!.n);
    const slowest = Number(cur!.rows[0]!.n);
    let lag_ms = 0;
    if (newest > slowest) {
      const r = await client.execute({ sql: 'SELECT created_at FROM events WHERE id > ? ORDER BY id LIMIT 1', args: [slowest] });
      if (r.rows[0]) lag_ms = Math.max(0, Date.now() - Number(r.rows[0].created_at));
    }
    return { newest, slowest, lag_events: newest - slowest, lag_ms };
  };
  return { read, close: () => client.close() };
}

interface LagResult {
  key: Key;
  scenario: string;
  req_per_s: number;
  events_per_s: number;
  /** Events every reaction consumed per second of the window. */
  reacted_per_s: number;
  samples: number;
  lag_ms: Latency;
  lag_events: Latency;
  lag_at_end: { events: number; ms: number };
  /** From the end of the load until every reaction consumed every event (null: not within the cap). */
  drain_ms: number | null;
  series: LagSample[];
}

async function lagWindow(server: Server, agent: http.Agent, s: Scenario, probe: ReturnType<typeof lagProbe>, ms: number): Promise<LagResult> {
  const t = tally();
  const series: LagSample[] = [];
  const start0 = await probe.read();
  const t0 = now();
  let busy = false;
  const sampler = setInterval(() => {
    if (busy) return;
    busy = true;
    probe
      .read()
      .then((x) => series.push({ t: Math.round(now() - t0), ...x }))
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, LAG_SAMPLE_MS);
  await drive(server, agent, s, ms, t, () => undefined);
  clearInterval(sampler);
  const windowMs = now() - t0;
  const end = await probe.read();
  // Catch-up: every event stored by the end of the load consumed by every reaction.
  const d0 = now();
  let drain: number | null = null;
  let last = end;
  while (now() - d0 < DRAIN_CAP_MS) {
    last = await probe.read();
    if (last.slowest >= end.newest) {
      drain = Math.round(now() - d0);
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await server.ask<{ ms: number }>('settle', 'settled');
  const r = summarize(s, t);
  return {
    key: s.key,
    scenario: s.label,
    req_per_s: r.req_per_s,
    events_per_s: r.events_per_s,
    reacted_per_s: Math.round((end.slowest - start0.slowest) / (windowMs / 1000)),
    samples: series.length,
    lag_ms: latency(series.map((x) => x.lag_ms)),
    lag_events: latency(series.map((x) => x.lag_events)),
    lag_at_end: { events: end.lag_events, ms: end.lag_ms },
    drain_ms: drain,
    series,
  };
}

interface LagPhase {
  db: Omit<LagDb, 'url'>;
  results: LagResult[];
  memberships: { id: number; name: string; members: number; count: number }[];
  failures: string[];
}

async function reactionLag(serverFile: string): Promise<LagPhase> {
  const tmp = tempDir(`${NAME}-reactions`);
  try {
    console.log(`\n  reaction lag: seeding ${fmtInt(LAG_CONTACTS)} contacts, ${fmtInt(LAG_HISTORY)} past events, ${LAG_SEGMENTS.length} segments`);
    const db = await seedLagDb(tmp.dir, 'https://shop.example.com');
    console.log(`    seeded in ${db.seed_s}s: ${db.segments.map((g) => `${g.name} (${fmtInt(g.members)})`).join(', ')}`);
    const server = await startServer(serverFile, db.url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS, maxFreeSockets: CONNECTIONS });
    const probe = lagProbe(db.url);
    const results: LagResult[] = [];
    try {
      // Their own visitors (another seed), each linked to a contact.
      const vs = visitors(VISITORS, server.origin, 7);
      await linkVisitors(db.url, server.siteKey, vs);
      const scenarios: Scenario[] = [
        { key: 't1', label: 'POST /t, 1 page view, identified', port: server.appPort, path: '/t', events: 1, reqs: requests(vs, server.siteKey, server.origin, (v) => [pageView(v)]), next: 0 },
        { key: 't10', label: `POST /t, ${BATCH}-event batch, identified`, port: server.appPort, path: '/t', events: BATCH, reqs: requests(vs, server.siteKey, server.origin, batchOf), next: 0 },
      ];
      if (WARMUP_SECONDS > 0) {
        await drive(server, agent, scenarios[0]!, WARMUP_SECONDS * 1000, tally(), () => undefined);
        await server.ask<{ ms: number }>('settle', 'settled');
      }
      for (const s of scenarios) {
        const r = await lagWindow(server, agent, s, probe, LAG_SECONDS * 1000);
        results.push(r);
        console.log(
          `    ${s.key.padEnd(4)} ${fmtInt(r.req_per_s).padStart(6)} req/s, ${fmtInt(r.events_per_s)} events/s stored, ${fmtInt(r.reacted_per_s)} reacted/s;` +
            ` lag p50 ${fmtMs(r.lag_ms.p50)} p99 ${fmtMs(r.lag_ms.p99)} max ${fmtMs(r.lag_ms.max)} (${fmtInt(r.lag_events.max)} events at most);` +
            ` drained ${r.drain_ms === null ? `not within ${DRAIN_CAP_MS / 1000} s` : `in ${fmtMs(r.drain_ms)}`}`,
        );
      }
    } finally {
      probe.close();
      agent.destroy();
      await stopServer(server);
    }
    // Once drained, incremental membership must equal each filter.
    const client = createClient({ url: db.url });
    const ctx = createCtx({ client, config: parseConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent' }) });
    const env = await compileEnv(ctx);
    const memberships = [];
    const failures: string[] = [];
    for (const g of db.segments) {
      const c = compileFilter(Filter.parse(g.filter), env);
      const count = Number((await client.execute({ sql: `SELECT count(*) AS n FROM contacts c WHERE ${c.sql}`, args: c.args })).rows[0]!.n);
      const members = Number((await client.execute({ sql: 'SELECT count(*) AS n FROM segment_members WHERE segment_id = ?', args: [g.id] })).rows[0]!.n);
      memberships.push({ id: g.id, name: g.name, members, count });
      if (members !== count && results.every((r) => r.drain_ms !== null)) failures.push(`reaction lag: segment "${g.name}" has ${members} members, its filter counts ${count}`);
    }
    client.close();
    console.log(`    memberships after the load: ${memberships.map((m) => `${m.name} ${fmtInt(m.members)}${m.members === m.count ? '' : ` ≠ ${fmtInt(m.count)}`}`).join(', ')}`);
    const { url: _url, ...rest } = db;
    return { db: rest, results, memberships, failures };
  } finally {
    tmp.cleanup();
  }
}

function settleGc() {
  (globalThis as { gc?: () => void }).gc?.();
}

async function main() {
  const started = new Date();
  // Other work on the machine shares the CPUs with both processes; recorded so a reader can tell.
  const loadAtStart = loadavg()[0]!;
  const tmp = tempDir(NAME);
  const dbPath = join(tmp.dir, 'ingest.db');
  const dbUrl = `file:${dbPath}`;
  const serverFile = await buildServer();
  const windowMs = (SECONDS * 1000) / ROUNDS;

  console.log(
    `ingest benchmark: ${SECONDS} s per scenario in ${ROUNDS} round(s) (+${WARMUP_SECONDS} s warm-up each), ` +
      `${CONNECTIONS} requests in flight, ${fmtInt(VISITORS)} visitors`,
  );
  console.log(
    `  server: child process, @hono/node-server on 127.0.0.1, WAL database ${dbPath}; ${machine().cpus} CPUs, Node ${process.version}, ` +
      `load average ${loadAtStart.toFixed(2)}`,
  );

  const server = await startServer(serverFile, dbUrl).catch((e) => {
    tmp.cleanup();
    throw e;
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS, maxFreeSockets: CONNECTIONS });
  let peakRss = 0;
  const tallies = new Map<Key, { measured: Tally; warmup: Tally }>();
  let scenarios: Scenario[] = [];
  let stored: { events: number; visitors: number; reactions_cursor: number; max_event_id: number } | null = null;
  let hwm: number | null = null;
  let memory: NodeJS.MemoryUsage | null = null;
  let finished = false;
  try {
    const vs = visitors(VISITORS, server.origin);
    const one = requests(vs, server.siteKey, server.origin, (v) => [pageView(v)]);
    const ten = requests(vs, server.siteKey, server.origin, batchOf);
    scenarios = [
      { key: 'bare', label: 'bare Hono route (POST /bare)', port: server.barePort, path: '/bare', events: 0, reqs: one, next: 0 },
      { key: 't1', label: 'POST /t, 1 page view', port: server.appPort, path: '/t', events: 1, reqs: one, next: 0 },
      { key: 't10', label: `POST /t, ${BATCH}-event batch`, port: server.appPort, path: '/t', events: BATCH, reqs: ten, next: 0 },
    ];
    for (const s of scenarios) tallies.set(s.key, { measured: tally(), warmup: tally() });
    const tick = (t: Tally) => (rss: number) => {
      t.peakRss = Math.max(t.peakRss, rss);
      peakRss = Math.max(peakRss, rss);
    };
    const heap = async () => (await server.ask<{ used: number }>('heap', 'heap')).used;
    const pause = async (t: Tally) => {
      const loaded = await heap();
      t.settleMs.push((await server.ask<{ ms: number }>('settle', 'settled')).ms);
      t.liveHeap.push({ loaded, settled: await heap() });
      settleGc();
    };

    if (WARMUP_SECONDS > 0) {
      console.log(`  warm-up (${WARMUP_SECONDS} s per scenario, untimed)`);
      for (const s of scenarios) {
        const t = tallies.get(s.key)!.warmup;
        await drive(server, agent, s, WARMUP_SECONDS * 1000, t, tick(t));
        await pause(t);
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = [...scenarios.slice(round % scenarios.length), ...scenarios.slice(0, round % scenarios.length)];
      for (const s of order) {
        const t = tallies.get(s.key)!.measured;
        const before = t.ok;
        const ms0 = t.ms;
        await drive(server, agent, s, windowMs, t, tick(t));
        await pause(t);
        const h = t.liveHeap[t.liveHeap.length - 1]!;
        console.log(
          `    round ${round + 1}/${ROUNDS} ${s.key.padEnd(4)} ${fmtInt((t.ok - before) / ((t.ms - ms0) / 1000)).padStart(7)} req/s` +
            `  (deferred work settled in ${fmtMs(t.settleMs[t.settleMs.length - 1]!)}; live heap ${fmtBytes(h.loaded)} → ${fmtBytes(h.settled)})`,
        );
      }
    }
    hwm = memoryOf(server.pid)?.hwm ?? null;
    memory = (await server.ask<{ memory: NodeJS.MemoryUsage }>('stats', 'stats')).memory;
    finished = true;
  } finally {
    agent.destroy();
    await stopServer(server);
    if (!finished) tmp.cleanup();
  }

  // Read back what the server committed, after it closed the database.
  try {
    const client = createClient({ url: dbUrl });
    const [ev, vi, cur, max] = await client.batch(
      [
        'SELECT count(*) AS n FROM events',
        'SELECT count(*) AS n FROM visitors',
        'SELECT coalesce(min(last_event_id), 0) AS n FROM reaction_cursors',
        'SELECT coalesce(max(id), 0) AS n FROM events',
      ],
      'read',
    );
    stored = {
      events: Number(ev!.rows[0]!.n),
      visitors: Number(vi!.rows[0]!.n),
      reactions_cursor: Number(cur!.rows[0]!.n),
      max_event_id: Number(max!.rows[0]!.n),
    };
    client.close();
  } finally {
    tmp.cleanup();
  }

  const lag = LAG_SECONDS > 0 ? await reactionLag(serverFile) : null;

  const results = scenarios.map((s) => summarize(s, tallies.get(s.key)!.measured));
  const by = (k: Key) => results.find((r) => r.key === k)!;
  const ratio = (x: number, y: number) => Math.round((x / y) * 1000) / 1000;
  const ratios = {
    t1_over_bare_req_per_s: ratio(by('t1').req_per_s, by('bare').req_per_s),
    t10_over_bare_req_per_s: ratio(by('t10').req_per_s, by('bare').req_per_s),
    // Server CPU per request, inverted: the rate ratio if the server alone set the pace.
    bare_over_t1_server_cpu_per_req: ratio(by('bare').server_cpu_us_per_req, by('t1').server_cpu_us_per_req),
    t10_events_over_t1_events_per_s: ratio(by('t10').events_per_s, by('t1').events_per_s),
  };

  // Nothing acknowledged is lost: every 2xx of /t (warm-up included) is in the table, and nothing else is.
  const acknowledged = scenarios
    .filter((s) => s.events)
    .reduce((n, s) => n + tallies.get(s.key)!.measured.stored + tallies.get(s.key)!.warmup.stored, 0);
  const failures: string[] = [];
  if (stored!.events !== acknowledged) failures.push(`${fmtInt(acknowledged)} events acknowledged, ${fmtInt(stored!.events)} stored`);
  for (const s of scenarios) {
    for (const [phase, t] of Object.entries(tallies.get(s.key)!)) {
      if (t.short) failures.push(`${s.key} (${phase}): ${t.short} answers reported fewer events stored than sent`);
      const bad = t.requests - t.ok;
      if (bad) failures.push(`${s.key} (${phase}): ${bad} of ${t.requests} requests did not get a 2xx: ${JSON.stringify({ ...t.statuses, ...t.errors })}`);
      if (s.events && t.ok * s.events !== t.stored) failures.push(`${s.key} (${phase}): ${t.ok} × ${s.events} ≠ ${t.stored} events reported stored`);
    }
  }
  if (lag) failures.push(...lag.failures);
  const wjs = wjsSize();
  const budgets = {
    ingest_ratio: { value: ratios.t1_over_bare_req_per_s, goal: `≥ ${RATIO_GOAL}`, ok: ratios.t1_over_bare_req_per_s >= RATIO_GOAL },
    server_peak_rss: { value: hwm ?? peakRss, goal: `≤ ${fmtBytes(RSS_BUDGET)}`, ok: (hwm ?? peakRss) <= RSS_BUDGET },
    wjs_gzip9: wjs
      ? { value: wjs.gzip9_bytes, goal: `≤ ${WJS_TARGET} B (cap ${WJS_CAP} B)`, ok: wjs.gzip9_bytes <= WJS_TARGET, within_cap: wjs.gzip9_bytes <= WJS_CAP }
      : { value: null, goal: `≤ ${WJS_TARGET} B`, ok: false, note: 'dist/widgets/w.js missing: run `npm run build`' },
    ...Object.fromEntries(
      (lag?.results ?? []).flatMap((r) => [
        [`reaction_lag_p99_ms_${r.key}`, { value: r.lag_ms.p99, goal: `≤ ${LAG_P99_BUDGET_MS} ms`, ok: r.lag_ms.p99 <= LAG_P99_BUDGET_MS }],
        [`reaction_drain_ms_${r.key}`, { value: r.drain_ms, goal: `≤ ${DRAIN_BUDGET_MS} ms`, ok: r.drain_ms !== null && r.drain_ms <= DRAIN_BUDGET_MS }],
      ]),
    ),
  };

  console.log(`\n  Summary (latency per request, measured windows only)\n`);
  console.log(
    table(
      ['scenario', 'requests', 'req/s', 'events/s', 'p50', 'p99', 'max', 'server µs/req', 'server CPU', 'client CPU', 'peak RSS'],
      results.map((r) => [
        `${r.key.padEnd(5)} ${r.scenario}`,
        fmtInt(r.requests),
        fmtInt(r.req_per_s),
        r.events_per_s ? fmtInt(r.events_per_s) : '–',
        fmtMs(r.latency_ms.p50),
        fmtMs(r.latency_ms.p99),
        fmtMs(r.latency_ms.max),
        fmtInt(r.server_cpu_us_per_req),
        `${Math.round(r.server_cpu_share * 100)}%`,
        `${Math.round(r.client_cpu_share * 100)}%`,
        fmtBytes(r.peak_rss_bytes),
      ]),
    ),
  );
  console.log('');
  console.log(
    table(
      ['figure', 'value', 'budget'],
      [
        ['POST /t (1 event) ÷ bare route, req/s', `${ratios.t1_over_bare_req_per_s}×`, `${budgets.ingest_ratio.goal} ${budgets.ingest_ratio.ok ? 'ok' : 'MISSED'}`],
        ['POST /t (10 events) ÷ bare route, req/s', `${ratios.t10_over_bare_req_per_s}×`, ''],
        ['bare ÷ /t server CPU per request', `${ratios.bare_over_t1_server_cpu_per_req}×`, ''],
        ['events/s, 10-event batches ÷ single events', `${ratios.t10_events_over_t1_events_per_s}×`, ''],
        ['server peak RSS (VmHWM)', fmtBytes(budgets.server_peak_rss.value), `${budgets.server_peak_rss.goal} ${budgets.server_peak_rss.ok ? 'ok' : 'MISSED'}`],
        [
          'server memory at the end: rss / V8 heap total / external',
          memory ? `${fmtBytes(memory.rss)} / ${fmtBytes(memory.heapTotal)} / ${fmtBytes(memory.external)}` : '–',
          '',
        ],
        ['w.js gzip -9', wjs ? `${wjs.gzip9_bytes} B (${wjs.bytes} B minified)` : 'missing', `${budgets.wjs_gzip9.goal} ${budgets.wjs_gzip9.ok ? 'ok' : 'MISSED'}`],
        ['events acknowledged / stored', `${fmtInt(acknowledged)} / ${fmtInt(stored!.events)}`, failures.length ? 'FAILED' : 'verified'],
        ['visitors stored', fmtInt(stored!.visitors), ''],
        ['reactions cursor / last event id', `${fmtInt(stored!.reactions_cursor)} / ${fmtInt(stored!.max_event_id)}`, ''],
      ],
    ),
  );
  if (lag) {
    console.log(
      `\n  Reaction lag (${fmtInt(lag.db.contacts)} contacts, ${fmtInt(lag.db.history_events)} past events, ${lag.db.segments.length} segments; identified visitors; sampled every ${LAG_SAMPLE_MS} ms)\n`,
    );
    console.log(
      table(
        ['scenario', 'req/s', 'events/s', 'reacted/s', 'lag p50', 'lag p99', 'lag max', 'events behind p99', 'at end', 'drain'],
        lag.results.map((r) => [
          `${r.key.padEnd(5)} ${r.scenario}`,
          fmtInt(r.req_per_s),
          fmtInt(r.events_per_s),
          fmtInt(r.reacted_per_s),
          fmtMs(r.lag_ms.p50),
          fmtMs(r.lag_ms.p99),
          fmtMs(r.lag_ms.max),
          fmtInt(r.lag_events.p99),
          `${fmtInt(r.lag_at_end.events)} / ${fmtMs(r.lag_at_end.ms)}`,
          r.drain_ms === null ? `> ${DRAIN_CAP_MS / 1000} s` : fmtMs(r.drain_ms),
        ]),
      ),
    );
    console.log('');
    const lines = lag.results.flatMap((r) => [
      [`reaction lag p99 under ${r.key} load`, fmtMs(r.lag_ms.p99), `budget ≤ ${fmtMs(LAG_P99_BUDGET_MS)}`, r.lag_ms.p99 <= LAG_P99_BUDGET_MS ? 'ok' : 'MISSED'],
      [`reactions caught up after ${r.key} load`, r.drain_ms === null ? `> ${DRAIN_CAP_MS / 1000} s` : fmtMs(r.drain_ms), `budget ≤ ${fmtMs(DRAIN_BUDGET_MS)}`, r.drain_ms !== null && r.drain_ms <= DRAIN_BUDGET_MS ? 'ok' : 'MISSED'],
    ]);
    const w = [0, 1, 2].map((i) => Math.max(...lines.map((l) => l[i]!.length)));
    for (const l of lines) console.log(`  ${l[0]!.padEnd(w[0]!)}  ${l[1]!.padStart(w[1]!)}   ${l[2]!.padEnd(w[2]!)}   ${l[3]}`);
  }
  const limitedByClient = results.filter((r) => r.client_cpu_share >= 0.9).map((r) => r.key);
  if (limitedByClient.length) {
    console.log(
      `\n  note: the load generator was near one full core during ${limitedByClient.join(', ')} (${machine().cpus} CPUs shared with the server);` +
        ` those rates are a floor, and "server µs/req" compares the server's own cost.`,
    );
  }

  const file = writeResults(NAME, {
    benchmark: NAME,
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    machine: machine(),
    load_average_1m: { start: loadAtStart, end: loadavg()[0] },
    params: {
      seconds_per_scenario: SECONDS,
      rounds: ROUNDS,
      warmup_seconds_per_scenario: WARMUP_SECONDS,
      connections: CONNECTIONS,
      visitors: VISITORS,
      batch_events: BATCH,
      client: 'node:http keep-alive Agent, loopback',
      server: 'child process: createApp as api/entry/node.ts builds it (TRUST_PROXY, PUBLIC_RATE_LIMIT=1000000), @hono/node-server on 127.0.0.1; bare Hono app on a second port of the same process',
      database: 'fresh libSQL file, prepareDatabase (WAL, synchronous=NORMAL, real migrations)',
    },
    results,
    ratios,
    budgets,
    server_peak_rss_bytes: { vm_hwm: hwm, sampled_vm_rss: peakRss },
    /** process.memoryUsage() of the server at the end of the last window. */
    server_memory_at_end: memory,
    wjs,
    verification: { acknowledged_events: acknowledged, ...stored },
    reaction_lag: lag
      ? {
          params: { contacts: LAG_CONTACTS, history_events: LAG_HISTORY, seconds_per_scenario: LAG_SECONDS, sample_ms: LAG_SAMPLE_MS, segments: LAG_SEGMENTS },
          budgets: { lag_p99_ms: LAG_P99_BUDGET_MS, drain_ms: DRAIN_BUDGET_MS },
          ...lag,
        }
      : null,
    ok: failures.length === 0,
    failures,
  });
  console.log(`\n  results: ${file}`);
  if (failures.length) {
    console.error(`\n  verification failed:\n  - ${failures.join('\n  - ')}`);
    process.exitCode = 1;
  }
}

await main();
