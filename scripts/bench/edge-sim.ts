// The capacity model's check (docs/scaling.md), all local: the Worker bundle `wrangler deploy`
// would upload, in workerd (Miniflare) with wrangler.toml's Queues, against the libSQL Hrana fixture
// over a WAL file in a process of its own (one database, one writer, as with one Turso database),
// driven by N concurrent producers (each one hit in flight at a time, at most
// BENCH_EDGE_SIM_RATE hits/s each, default 20, as a browser sends now and then rather than as fast
// as it can; every hit its own visitor among 10,000) at several N: BENCH_EDGE_SIM_PRODUCERS
// (default 1,4,16,64,128,256). Offered load is N × the rate: the first levels sit under the front's
// capacity (their hits are all acknowledged as offered), the last ones above it.
//
// At each N, for BENCH_EDGE_SIM_SECONDS: hits acknowledged per second (POST /t answered 202 once
// the Queue has the hit), rows per second written meanwhile (a reader polling the file), and the
// backlog (acknowledged, not yet a row) sampled every second; then the producers stop and the
// backlog's drain is timed: rows per second with nothing else running, the writer's own rate.
//
// The model says: acknowledged hits/s grow with N until the front (here: workerd, the Queue broker
// and the load generator sharing two cores; on Cloudflare: the Queue's 5,000 messages/s) is
// saturated, and stay there; rows/s do not grow with N, because one database has one writer, so
// past the writer's rate the backlog grows by (acknowledged − written) per second. Each of those is
// a budget line. Every acknowledged hit must be stored exactly once (checked by name at the end).
// Locally the consumer shares workerd (and Miniflare's Queue broker) with the producers' requests:
// with many producers it may write nothing until they stop, so the writer's rate is the drain's,
// and "rows/s meanwhile" at high N says how busy the one workerd is, not how fast the writer is.
// Bounded: every window is timed, every drain capped; 127.0.0.1 only.
import http from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import type { Miniflare } from 'miniflare';
import { ADMIN_KEY, clientAddress, httpRequest, rowWatcher, startDatabase, startWorkers } from './edge-lib';
import { databaseBytes, envInt, fmtInt, fmtMs, latency, machine, median, now, table, tempDir, writeResults, type Latency } from './lib';

const NAME = 'edge-sim';
const LEVELS = (process.env.BENCH_EDGE_SIM_PRODUCERS ?? '1,4,16,64,128,256').split(',').map((s) => Number(s.trim()));
if (!LEVELS.length || LEVELS.some((n) => !Number.isInteger(n) || n < 1 || n > 256)) throw new Error('BENCH_EDGE_SIM_PRODUCERS must be integers 1..256, comma-separated');
const SECONDS = envInt('BENCH_EDGE_SIM_SECONDS', 6);
const RATE = envInt('BENCH_EDGE_SIM_RATE', 20); // hits/s per producer, at most
const CLIENT_IPS = 4096;
// A level's window also ends after this many acknowledged hits: Miniflare's local Queue broker holds
// a timer per message and workerd allows 10,000 (workers-sdk #15670), so a backlog past that makes
// sends fail locally (see edge.ts). The rate is over the window's actual length either way.
const WINDOW_HITS = envInt('BENCH_EDGE_SIM_WINDOW_HITS', 6000);
const WARMUP_SECONDS = envInt('BENCH_EDGE_SIM_WARMUP_SECONDS', 2, 0);
const DRAIN_CAP_MS = 180_000;
const POLL_MS = 20;

// Budgets: the shape the model predicts, not this machine's absolute rates.
const SCALES_GOAL = 1.5; // acknowledged/s at the best level ÷ at the first (one producer): the front scales until it is saturated
const TRACKS_GOAL = 0.9; // acknowledged ÷ offered, at each level offering at most half the best level's rate: under capacity, nothing is held back
const HOLDS_GOAL = 0.7; // acknowledged/s at the most producers ÷ the best level's
const FLAT_LOW = 0.67; // each level's drain rate ÷ their median: the writer does not care how many sent
const FLAT_HIGH = 1.5;

const SHOP = 'https://shop.example.com';
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const HOST = 'leadline.test';

interface Level {
  producers: number;
  offered_per_s: number;
  window_s: number;
  acknowledged: number;
  refused: number;
  acknowledged_per_s: number;
  rows_in_window: number;
  rows_per_s_in_window: number;
  backlog_at_end: number;
  backlog_growth_per_s: number;
  backlog_samples: number[];
  drain_ms: number;
  drain_rows_per_s: number;
  stored_per_s: number;
  hit_to_row_ms: Latency;
  load_1m: number;
}

async function main() {
  const started = new Date();
  const loadAtStart = loadavg()[0]!;
  const tmp = tempDir(NAME);
  const dbPath = join(tmp.dir, 'edge-sim.db');
  const log: string[] = [];
  const failures: string[] = [];
  const db = await startDatabase(dbPath);
  let mf: Miniflare | undefined;
  let stopped = false;
  let watcher: ReturnType<typeof rowWatcher> | undefined;
  const agents: http.Agent[] = [];
  try {
    const w = await startWorkers(tmp.dir, db.url, log, { queue: HOST }, { rateLimits: true });
    mf = w.mf;
    const port = w.port;
    console.log(`edge-sim: workerd (Miniflare) on 127.0.0.1:${port}, Hrana fixture over ${dbPath}; ${machine().cpus} CPUs, load average ${loadAtStart.toFixed(2)}`);
    console.log(`  producers ${LEVELS.join(', ')}, each at most ${RATE} hits/s; ${SECONDS} s each; consumer as wrangler.toml: batches of ${w.consumer.max_batch_size} or ${w.consumer.max_batch_timeout} s`);
    const admin = new http.Agent({ keepAlive: true, maxSockets: 2 });
    agents.push(admin);
    const site = await httpRequest(port, admin, HOST, 'POST', '/api/v1/sites', JSON.stringify({ name: 'Sim', allowed_origins: [SHOP] }), { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' });
    if (site.status !== 201) throw new Error(`creating the site: ${site.status} ${site.text}\n${log.join('')}`);
    const siteKey = JSON.parse(site.text).public_key as string;
    watcher = rowWatcher(dbPath, POLL_MS, DRAIN_CAP_MS);
    const bytesBefore = databaseBytes(dbPath);

    const acked = new Map<string, number>(); // event name → when sent
    let seq = 0;
    /** N producers, one hit in flight each, until `ms` have passed; the names acknowledged. */
    const produce = async (producers: number, ms: number) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: producers, maxFreeSockets: producers });
      agents.push(agent);
      const names: string[] = [];
      let refused = 0;
      const end = now() + ms;
      const gap = 1000 / RATE;
      await Promise.all(Array.from({ length: producers }, async (_, p) => {
        // Spread over one gap, so that N producers do not send in lockstep.
        let next = now() + (gap * p) / producers;
        while (now() < end && names.length < WINDOW_HITS) {
          const wait = next - now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          next = Math.max(next + gap, now() - gap); // behind schedule: no burst to catch up
          if (now() >= end || names.length >= WINDOW_HITS) break;
          const n = ++seq;
          const name = `s${n}`;
          const body = JSON.stringify({ k: siteKey, v: `simvisitor${String(n % 10_000).padStart(8, '0')}`, e: [{ t: 'ev', u: `${SHOP}/p/${n % 50}`, n: name }] });
          const sent = now();
          // From CLIENT_IPS addresses in turn (CF-Connecting-IP, as Cloudflare's edge sets it), so that
          // wrangler.toml's per-IP limits are called on every hit, as deployed, without refusing any.
          const r = await httpRequest(port, agent, HOST, 'POST', '/t', body, { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': UA, origin: SHOP, 'cf-connecting-ip': clientAddress(n, CLIENT_IPS) });
          if (r.status === 202) {
            acked.set(name, sent);
            names.push(name);
          } else {
            refused++;
            // 503: the Queue took nothing and the tracker may send again (counted, not a failure).
            // A 429 is a failure: no address comes near its limit.
            if (r.status !== 503 && failures.length < 20) failures.push(`${producers} producers: ${r.status} ${r.text.slice(0, 200)}`);
          }
        }
      }));
      agent.destroy();
      return { names, refused };
    };

    if (WARMUP_SECONDS) {
      const warm = await produce(8, WARMUP_SECONDS * 1000);
      if ((await watcher.waitFor(warm.names)) === null) throw new Error('the warm-up backlog did not drain');
      failures.length = 0;
    }

    const levels: Level[] = [];
    for (const producers of LEVELS) {
      const seenBefore = watcher.seen.size;
      const ackedBefore = acked.size;
      const samples: number[] = [];
      const sampler = setInterval(() => {
        watcher!.poll();
        samples.push(acked.size - ackedBefore - (watcher!.seen.size - seenBefore));
      }, 1000);
      const t0 = now();
      const { names, refused } = await produce(producers, SECONDS * 1000);
      const windowMs = now() - t0;
      clearInterval(sampler);
      watcher.poll();
      const rowsInWindow = watcher.seen.size - seenBefore;
      const backlog = names.length - rowsInWindow;
      const load = loadavg()[0]!;
      const drainMs = await watcher.waitFor(names);
      if (drainMs === null) throw new Error(`the backlog at ${producers} producers did not drain within ${DRAIN_CAP_MS / 1000} s`);
      const l: Level = {
        producers,
        offered_per_s: producers * RATE,
        window_s: windowMs / 1000,
        acknowledged: names.length,
        refused,
        acknowledged_per_s: names.length / (windowMs / 1000),
        rows_in_window: rowsInWindow,
        rows_per_s_in_window: rowsInWindow / (windowMs / 1000),
        backlog_at_end: backlog,
        backlog_growth_per_s: backlog / (windowMs / 1000),
        backlog_samples: samples,
        drain_ms: drainMs,
        // The rows still to write when the producers stopped, over the time they took: the writer alone.
        drain_rows_per_s: backlog > 0 && drainMs > 0 ? backlog / (drainMs / 1000) : 0,
        stored_per_s: names.length / ((windowMs + drainMs) / 1000),
        hit_to_row_ms: latency(names.map((n) => watcher!.seen.get(n)!.at - acked.get(n)!)),
        load_1m: load,
      };
      levels.push(l);
      console.log(
        `  ${String(producers).padStart(3)} producers (offer ${fmtInt(l.offered_per_s)}/s): ${fmtInt(l.acknowledged_per_s).padStart(6)} acknowledged/s, ${fmtInt(l.rows_per_s_in_window).padStart(6)} rows/s meanwhile, ` +
          `backlog ${fmtInt(backlog)} (+${fmtInt(l.backlog_growth_per_s)}/s), drained in ${fmtMs(drainMs)} (${fmtInt(l.drain_rows_per_s)} rows/s); hit → row p50 ${fmtMs(l.hit_to_row_ms.p50)}; load ${load.toFixed(2)}`,
      );
    }

    // Exactly once, by name, over the whole run.
    watcher.close();
    const reader = new Database(dbPath, { readonly: true });
    const rows = new Map((reader.prepare("SELECT name, count(*) AS n FROM events WHERE type = 'custom' GROUP BY name").all() as { name: string; n: number }[]).map((r) => [r.name, Number(r.n)]));
    const hitRows = Number((reader.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n);
    reader.close();
    const lost = [...acked.keys()].filter((n) => !rows.has(n)).length;
    const duplicated = [...acked.keys()].reduce((k, n) => k + Math.max(0, (rows.get(n) ?? 0) - 1), 0);
    if (lost || duplicated) failures.push(`${lost} acknowledged hits lost, ${duplicated} duplicated`);
    // The file's growth per hit once the server has closed it (its WAL checkpointed into the file).
    await mf.dispose();
    mf = undefined;
    await db.stop();
    stopped = true;
    const bytesPerHit = (databaseBytes(dbPath) - bytesBefore) / Math.max(1, acked.size);

    const first = levels[0]!;
    const best = levels.reduce((a, b) => (b.acknowledged_per_s > a.acknowledged_per_s ? b : a));
    const last = levels[levels.length - 1]!;
    const bestAck = best.acknowledged_per_s;
    // A drain of a few batches at least: below that it is mostly the last batch's wait (max_batch_timeout).
    const drains = levels.filter((l) => l.backlog_at_end >= 300).map((l) => l.drain_rows_per_s);
    const drainMedian = drains.length ? median(drains) : 0;
    const flat = drains.length >= 2 ? drains.map((d) => d / drainMedian) : [];
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    // Levels offering at most half of what the front managed at its best: all should be taken as offered.
    const under = levels.filter((l) => l.offered_per_s <= bestAck / 2);
    const tracks = under.map((l) => l.acknowledged_per_s / l.offered_per_s);
    const budgets = {
      acknowledged_tracks: { value: tracks.map(r3), goal: `each ≥ ${TRACKS_GOAL} (levels offering ≤ half the best: ${under.map((l) => l.producers).join(', ') || 'none'})`, ok: tracks.length >= 1 && tracks.every((x) => x >= TRACKS_GOAL) },
      acknowledged_scales: { value: r3(best.acknowledged_per_s / first.acknowledged_per_s), goal: `≥ ${SCALES_GOAL}`, ok: best.acknowledged_per_s / first.acknowledged_per_s >= SCALES_GOAL },
      acknowledged_holds: { value: r3(last.acknowledged_per_s / bestAck), goal: `≥ ${HOLDS_GOAL}`, ok: last.acknowledged_per_s / bestAck >= HOLDS_GOAL },
      rows_flat: { value: flat.map(r3), goal: `each ${FLAT_LOW}–${FLAT_HIGH}× the median`, ok: flat.length >= 2 && flat.every((f) => f >= FLAT_LOW && f <= FLAT_HIGH) },
      writer_bounds: { value: r3(last.rows_per_s_in_window / last.acknowledged_per_s), goal: '< 1 (a backlog grows)', ok: last.rows_per_s_in_window < last.acknowledged_per_s },
      lost_duplicated: { value: [lost, duplicated], goal: '0 / 0', ok: lost === 0 && duplicated === 0 },
    };
    const mark = (b: { goal: string; ok: boolean }) => `${b.goal} ${b.ok ? 'ok' : 'MISSED'}`;
    console.log('');
    console.log(
      table(
        ['producers', 'offered/s', 'acknowledged/s', 'rows/s meanwhile', 'backlog at end (+/s)', 'drain (rows/s)', 'stored/s', 'hit → row p50 / p99', 'load'],
        levels.map((l) => [
          String(l.producers),
          fmtInt(l.offered_per_s),
          fmtInt(l.acknowledged_per_s),
          fmtInt(l.rows_per_s_in_window),
          `${fmtInt(l.backlog_at_end)} (+${fmtInt(l.backlog_growth_per_s)})`,
          `${fmtMs(l.drain_ms)} (${fmtInt(l.drain_rows_per_s)})`,
          fmtInt(l.stored_per_s),
          `${fmtMs(l.hit_to_row_ms.p50)} / ${fmtMs(l.hit_to_row_ms.p99)}`,
          l.load_1m.toFixed(1),
        ]),
      ),
    );
    console.log('');
    console.log(
      table(
        ['figure', 'value', 'budget'],
        [
          ['acknowledged/s ÷ offered, levels under capacity (nothing held back)', `${tracks.map((x) => `${r3(x)}×`).join(', ') || 'none'}`, mark(budgets.acknowledged_tracks)],
          [`acknowledged/s, best level (${best.producers} producers) ÷ ${first.producers} (the front scales)`, `${budgets.acknowledged_scales.value}×`, mark(budgets.acknowledged_scales)],
          [`acknowledged/s, ${last.producers} producers ÷ the best level (no collapse)`, `${budgets.acknowledged_holds.value}×`, mark(budgets.acknowledged_holds)],
          ['rows/s draining, each level ÷ their median (the single writer is flat)', `${flat.map((f) => `${r3(f)}×`).join(', ') || 'no backlog to drain'} (median ${fmtInt(drainMedian)}/s)`, mark(budgets.rows_flat)],
          [`rows/s ÷ acknowledged/s while ${last.producers} producers send (a backlog grows)`, `${budgets.writer_bounds.value}`, mark(budgets.writer_bounds)],
          // No budget: which side is the bottleneck here. Above 1, this machine's front (workerd on two
          // cores) is slower than the writer, and the backlog at high N is the starved local consumer's.
          ['the writer\'s drain rate ÷ the best acknowledged rate (> 1: the local front is the bottleneck)', `${r3(drainMedian / bestAck)}×`, ''],
          ['acknowledged hits: lost / duplicated', `${lost} / ${duplicated} of ${fmtInt(acked.size)}`, mark(budgets.lost_duplicated)],
          ['database bytes per stored hit (1 event, WAL included)', fmtInt(bytesPerHit), ''],
        ],
      ),
    );
    const file = writeResults(NAME, {
      benchmark: NAME,
      started_at: started.toISOString(),
      finished_at: new Date().toISOString(),
      machine: machine(),
      load_average_1m: { start: loadAtStart, end: loadavg()[0] },
      params: { producers: LEVELS, seconds: SECONDS, warmup_seconds: WARMUP_SECONDS, consumer: w.consumer },
      levels,
      drain_rows_per_s_median: drainMedian,
      writer_over_front: drainMedian / bestAck,
      bytes_per_hit: bytesPerHit,
      event_rows: hitRows,
      verification: { acknowledged: acked.size, lost, duplicated },
      budgets,
      ok: failures.length === 0,
      failures,
    });
    console.log(`\n  results: ${file}`);
  } finally {
    watcher?.close();
    for (const a of agents) a.destroy();
    await mf?.dispose().catch(() => undefined);
    if (!stopped) await db.stop();
    tmp.cleanup();
  }
  if (failures.length) {
    console.error(`\n  failures:\n  - ${failures.join('\n  - ')}${log.length ? `\n--- workerd output (end) ---\n${log.join('').slice(-3000)}` : ''}`);
    process.exitCode = 1;
  }
}

await main();
