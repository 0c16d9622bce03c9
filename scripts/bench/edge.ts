// Ingest on the edge, all local: the Worker bundle `wrangler deploy` would upload, in workerd
// (Miniflare) with the Queues of wrangler.toml (producer, consumer, dead-letter queue, their batch
// and retry settings as deployed), against the libSQL Hrana fixture over a WAL file in a process of
// its own (scripts/bench/edge-hrana.ts), as it would run against Turso. Four Workers share the one
// workerd, told apart by Host:
//
//   bare    a bare Hono Worker: POST /bare reads the body and answers 202 (edge-bare-worker.ts)
//   floor   the least a Worker does to take a hit durably: POST /t makes one Rate Limiting call
//           and one Queue send, its consumer only acknowledges (edge-profile-worker.ts)
//   queue   Leadline with TRACKING_QUEUE: POST /t answered once the Queue has the hit; the
//           consumer (the same Worker's `queue` handler) writes batches of up to 100
//   direct  Leadline without the binding: POST /t writes before it answers (the fallback)
//
// Both Leadline Workers have the rest of wrangler.toml's bindings as declared (edge-lib.ts
// deployedBindings), the Rate Limiting bindings included at their declared limits (600 a minute
// per client IP on /t): every hit goes through the binding's call, as deployed. The hits come
// from BENCH_EDGE_CLIENT_IPS client addresses (CF-Connecting-IP, as Cloudflare's edge sets it),
// so that no address comes near its limit; the limits are not raised for the bench. A 429 is a
// failure of the run like any other answer but 202.
//
// Figures, each against the others of the same run:
//   1. hits acknowledged per second through queue ÷ bare (and ÷ floor, ÷ direct), with the consumer writing
//      in the same workerd; after each window the backlog is drained and timed, so "stored per
//      second" (window + drain) shows what the consumer sustains.
//   2. end-to-end latency from hit to row at a light steady rate (BENCH_EDGE_LATENCY_RATE hits/s):
//      a hit is sent, its row is noticed by a reader polling the file every 20 ms.
//   3. a forced consumer failure and redelivery: the fixture fails BENCH_EDGE_FAULT_COMMITS of the
//      consumer's write transactions after committing them, and refuses its writes for
//      BENCH_EDGE_OUTAGE_MS (the database out of reach) while hits keep coming; every hit
//      acknowledged must then be stored exactly once: events lost and duplicated, goal 0 and 0.
// Every hit carries one custom event with a name of its own, so each is counted by name.
// Bounded: every window is timed, every wait capped, every request times out, and the whole run
// has a deadline (BENCH_EDGE_DEADLINE_S) after which it stops, cleans up and fails; workerd and the
// database process never outlive it (killed outright, the database process stops workerd and
// removes the temp dir). 127.0.0.1 only.
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import type { Miniflare } from 'miniflare';
import { ADMIN_KEY, httpRequest, outDir, root, rowWatcher as rowWatcherAt, boundedRun, startDatabase, startWorkers, workerdChildren, clientAddress, type ExtraWorker } from './edge-lib';
import { bundleWorker, ratelimitOptions } from '../../test/workerd';
import { envInt, fmtInt, fmtMs, latency, machine, now, table, tempDir, writeResults } from './lib';

const NAME = 'edge';
const SECONDS = envInt('BENCH_EDGE_SECONDS', 10);
const ROUNDS = envInt('BENCH_EDGE_ROUNDS', 2);
const WARMUP_SECONDS = envInt('BENCH_EDGE_WARMUP_SECONDS', 2, 0);
const CONNECTIONS = envInt('BENCH_EDGE_CONNECTIONS', 32);
const LIGHT_RATE = envInt('BENCH_EDGE_LATENCY_RATE', 20);
const LIGHT_HITS = envInt('BENCH_EDGE_LATENCY_HITS', 200);
const FAULT_HITS = envInt('BENCH_EDGE_FAULT_HITS', 2000);
const FAULT_COMMITS = envInt('BENCH_EDGE_FAULT_COMMITS', 3, 0);
const OUTAGE_MS = envInt('BENCH_EDGE_OUTAGE_MS', 3000, 0);
const CLIENT_IPS = envInt('BENCH_EDGE_CLIENT_IPS', 4096);
// Miniflare's Queue broker (a Durable Object in the same workerd) sets a timer per message it is
// sent, and none fires while it is kept busy receiving; workerd allows a Durable Object 10,000
// active timers, so past about 10,000 hits in one go the producer's send fails ("Unknown Internal
// Error (15000)", answered 503): workers-sdk issue 15670. A 5 s window at ~2,000 hits/s is right
// there (half the runs failed so). A queue window therefore also ends once it has sent this many
// hits; its rate is still hits ÷ the window's own duration. Cloudflare's Queues have no such limit.
const QUEUE_WINDOW_HITS = envInt('BENCH_EDGE_QUEUE_WINDOW_HITS', 6000);
// Under run.mjs's 10-minute backstop (which kills this process only, not workerd).
const DEADLINE_S = envInt('BENCH_EDGE_DEADLINE_S', 480);
const DRAIN_CAP_MS = 180_000;
const POLL_MS = 20;

const RATIO_GOAL = 0.5;
// Leadline's own share: POST /t through the Queue ÷ the floor (rate limit + Queue send, nothing
// else). The same 0.5 as the Node ingest budget (DESIGN.md), against the least a Worker can do to
// take a hit durably instead of a route that does nothing: locally the Queue broker alone keeps even
// the floor near 0.5× of the bare route (scripts/bench/edge-profile.ts).
const FLOOR_GOAL = 0.5;
// A hit waits for its batch: at light load that is max_batch_timeout (1 s in wrangler.toml).
const LATENCY_P50_BUDGET_MS = 1_500;
const LATENCY_P99_BUDGET_MS = 2_500;
// Hits stored per second (consumer + database, the backlog's drain included) ÷ the bare route: half
// the acknowledged goal, so a load window's backlog drains in at most about as long again.
const STORED_GOAL = 0.25;
// The Queue's reason to exist: acknowledging is not slower than writing each request's hits directly.
const QUEUE_OVER_DIRECT_GOAL = 1;
// Under full load (backlog included) a hit is still a row within seconds: reports, segments and
// campaigns see it in time.
const LOADED_P50_BUDGET_MS = 5_000;
const LOADED_P99_BUDGET_MS = 10_000;

const SHOP = 'https://shop.example.com';
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
// floor: the least a Worker must do to take a hit durably, as POST /t does it: one Rate Limiting
// call and one Queue send (edge-profile-worker.ts, its consumer acknowledging), nothing of Leadline.
const HOSTS = { bare: 'bare.test', floor: 'floor.test', queue: 'leadline.test', direct: 'direct.test' } as const;
type Target = keyof typeof HOSTS;

// --------------------------------------------------------------- the load

let port = 0;
let siteKey = '';
let seq = 0;
const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS, maxFreeSockets: CONNECTIONS });

function request(target: Target, method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  return httpRequest(port, agent, HOSTS[target], method, path, body, headers);
}

/** Acknowledged hits by event name: when each was sent (ms, performance.now()). */
const acked = new Map<string, { sent: number; target: Target }>();
const failures: string[] = [];
/** Answers other than 202, by phase, target and status (a run with any fails). */
const refused = new Map<string, number>();
let phaseName = 'start';

const clientIp = (n: number) => clientAddress(n, CLIENT_IPS);

/** One hit, as the tracker sends it (text/plain): one custom event named after the hit. */
async function hit(target: Target): Promise<boolean> {
  const name = `h${++seq}`;
  const body = JSON.stringify({ k: siteKey, v: `benchvisitor${String(seq % 1000).padStart(8, '0')}`, e: [{ t: 'ev', u: `${SHOP}/p/${seq % 50}`, n: name }] });
  const sent = now();
  const r = await request(target, 'POST', target === 'bare' ? '/bare' : '/t', body, { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': UA, origin: SHOP, 'cf-connecting-ip': clientIp(seq) });
  if (r.status !== 202) {
    const k = `${phaseName} ${target} ${r.status}`;
    refused.set(k, (refused.get(k) ?? 0) + 1);
    if (failures.length < 10) failures.push(`${phaseName}, ${target}: ${r.status} ${r.text.slice(0, 200)}`);
    return false;
  }
  if (target === 'queue' || target === 'direct') acked.set(name, { sent, target });
  return true;
}

/** CONNECTIONS hits in flight until `ms` have passed (or, to the queue, QUEUE_WINDOW_HITS were sent); the 2xx count. */
async function drive(target: Target, ms: number, inFlight = CONNECTIONS): Promise<number> {
  const end = now() + ms;
  const cap = target === 'queue' || target === 'floor' ? QUEUE_WINDOW_HITS : Infinity;
  let ok = 0;
  let sent = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (now() < end && sent++ < cap) if (await hit(target)) ok++;
  }));
  return ok;
}

// ------------------------------------------------------ reading the rows

const rowWatcher = (dbPath: string) => rowWatcherAt(dbPath, POLL_MS, DRAIN_CAP_MS);

async function counters(): Promise<Record<string, number>> {
  const r = await request('queue', 'GET', '/health');
  return JSON.parse(r.text).ingest ?? {};
}
const diff = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.keys(a).filter((k) => k !== 'via').map((k) => [k, a[k]! - (b[k] ?? 0)]));

// --------------------------------------------------------------- phases

async function main() {
  const started = new Date();
  const loadAtStart = loadavg()[0]!;
  const tmp = tempDir(NAME);
  const dbPath = join(tmp.dir, 'edge.db');
  const log: string[] = [];
  let mf: Miniflare | undefined;
  let watcher: ReturnType<typeof rowWatcher> | undefined;
  let db: Awaited<ReturnType<typeof startDatabase>> | undefined;
  const { cleanup, done } = boundedRun('edge benchmark', DEADLINE_S, tmp, () => ({ watcher, agent, mf, db }));
  try {
    db = await startDatabase(dbPath);
    const floor = join(tmp.dir, 'floor', 'worker.mjs');
    await bundleWorker(join(root, 'scripts', 'bench', 'edge-profile-worker.ts'), floor);
    const w = await startWorkers(tmp.dir, db.url, log, HOSTS, {
      rateLimits: true,
      extra: ({ config }): ExtraWorker[] => [
        {
          name: 'floor',
          modules: true,
          scriptPath: floor,
          modulesRoot: join(tmp.dir, 'floor'),
          compatibilityDate: config.compatibility_date,
          routes: [`${HOSTS.floor}/*`],
          ratelimits: { RATE_LIMIT_PUBLIC: ratelimitOptions(config).ratelimits!.RATE_LIMIT_PUBLIC },
          queueProducers: { QUEUE: { queueName: 'edge-floor' } },
          queueConsumers: { 'edge-floor': { maxBatchSize: 100, maxBatchTimeout: 1 } },
        },
      ],
    });
    mf = w.mf;
    port = w.port;
    db.reapOnExit(workerdChildren(), tmp.dir);
    console.log(`edge benchmark: workerd (Miniflare) on 127.0.0.1:${port}, Hrana fixture ${db.url} over ${dbPath}; ${machine().cpus} CPUs, load average ${loadAtStart.toFixed(2)}`);
    console.log(`  queue consumer as wrangler.toml: batches of ${w.consumer.max_batch_size} or ${w.consumer.max_batch_timeout} s, max_retries ${w.consumer.max_retries}, retry_delay ${w.consumer.retry_delay} s`);
    const limits = (w.config.ratelimits ?? []).map((r) => `${r.name} ${r.simple.limit}/${r.simple.period} s`).join(', ');
    console.log(`  rate limiting bindings as wrangler.toml: ${limits || 'none declared'}; hits from ${fmtInt(CLIENT_IPS)} client IPs (CF-Connecting-IP)`);
    const site = await request('queue', 'POST', '/api/v1/sites', JSON.stringify({ name: 'Bench', allowed_origins: [SHOP] }), { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' });
    if (site.status !== 201) throw new Error(`creating the site: ${site.status} ${site.text}\n${log.join('')}`);
    siteKey = JSON.parse(site.text).public_key;
    // The Rate Limiting binding is there and counts: one client's GET /focus (same bucket as /t, a
    // count of its own) is refused once past the declared limit (twice it, if a minute turns meanwhile).
    const publicLimit = w.config.ratelimits?.find((r) => r.name === 'RATE_LIMIT_PUBLIC')?.simple.limit ?? 0;
    let refusedAt = 0;
    for (let i = 1; publicLimit && i <= 2 * publicLimit + 1 && !refusedAt; i++) {
      const r = await request('queue', 'GET', `/focus?k=${siteKey}&u=${encodeURIComponent(`${SHOP}/`)}`, undefined, { 'user-agent': UA, origin: SHOP, 'cf-connecting-ip': '192.0.2.1' });
      if (r.status === 429) refusedAt = i;
      else if (r.status !== 200) throw new Error(`GET /focus: ${r.status} ${r.text.slice(0, 200)}`);
    }
    if (publicLimit && (refusedAt <= publicLimit)) failures.push(`RATE_LIMIT_PUBLIC (limit ${publicLimit}) refused one client at request ${refusedAt || 'none'} of ${2 * publicLimit + 1}`);
    else if (publicLimit) console.log(`  RATE_LIMIT_PUBLIC bound: one client's GET /focus refused at request ${refusedAt} (limit ${publicLimit} a minute)`);
    watcher = rowWatcher(dbPath);

    // 1. Throughput: the scenarios take turns; a queue window's backlog is drained (and timed) before the next.
    const windowMs = (SECONDS * 1000) / ROUNDS;
    const tally = { bare: { ok: 0, ms: 0 }, floor: { ok: 0, ms: 0 }, queue: { ok: 0, ms: 0, drainMs: [] as number[] }, direct: { ok: 0, ms: 0 } };
    const order: Target[] = ['bare', 'floor', 'queue', 'direct'];
    const drain = async () => watcher!.waitFor([...acked.keys()]);
    phaseName = 'warm-up';
    if (WARMUP_SECONDS) {
      for (const t of order) await drive(t, WARMUP_SECONDS * 1000);
      if ((await drain()) === null) throw new Error('the warm-up backlog did not drain');
    }
    for (let round = 0; round < ROUNDS; round++) {
      phaseName = `round ${round + 1}`;
      for (const t of [...order.slice(round % order.length), ...order.slice(0, round % order.length)]) {
        const t0 = now();
        const ok = await drive(t, windowMs);
        const ms = now() - t0;
        tally[t].ok += ok;
        tally[t].ms += ms;
        let extra = '';
        if (t === 'queue') {
          const d = await drain();
          if (d === null) throw new Error(`the queue's backlog did not drain within ${DRAIN_CAP_MS / 1000} s`);
          tally.queue.drainMs.push(d);
          extra = `, backlog written ${fmtMs(d)} after the window`;
        }
        console.log(`    round ${round + 1}/${ROUNDS} ${t.padEnd(6)} ${fmtInt(ok / (ms / 1000)).padStart(6)} hits/s acknowledged${extra}`);
      }
    }
    const rate = (t: Target) => tally[t].ok / (tally[t].ms / 1000);
    const drained = tally.queue.drainMs.reduce((a, b) => a + b, 0);
    const storedRate = tally.queue.ok / ((tally.queue.ms + drained) / 1000);
    const queueLatency = latency([...acked.entries()].filter(([, a]) => a.target === 'queue').map(([n, a]) => watcher!.seen.get(n)!.at - a.sent));

    // 2. Latency at a light steady rate: one hit every 1/LIGHT_RATE s, each timed to its row.
    phaseName = 'light';
    const light: string[] = [];
    const gap = 1000 / LIGHT_RATE;
    const sends: Promise<boolean>[] = [];
    for (let i = 0; i < LIGHT_HITS; i++) {
      light.push(`h${seq + 1}`);
      sends.push(hit('queue'));
      await new Promise((r) => setTimeout(r, gap));
    }
    await Promise.all(sends);
    if ((await watcher.waitFor(light.filter((n) => acked.has(n)))) === null) throw new Error('light-load hits did not all arrive');
    const lightLatency = latency(light.filter((n) => acked.has(n)).map((n) => watcher!.seen.get(n)!.at - acked.get(n)!.sent));
    console.log(`  hit → row at ${LIGHT_RATE} hits/s: p50 ${fmtMs(lightLatency.p50)}, p99 ${fmtMs(lightLatency.p99)} (${light.length} hits)`);

    // 3. Forced failure: commits the consumer never hears of, and an outage of its writes, under a steady stream.
    phaseName = 'forced failure';
    const before = await counters();
    const database = db;
    await database.faults({ match: 'ingest_hits', failAfterCommit: FAULT_COMMITS, refuse: false });
    const phase = new Set<string>();
    const first = seq + 1;
    let sent = 0;
    const stream = Promise.all(Array.from({ length: 8 }, async () => {
      while (sent < FAULT_HITS) {
        sent++;
        await hit('queue');
        await new Promise((r) => setTimeout(r, 10));
      }
    }));
    await new Promise((r) => setTimeout(r, 1000));
    if (OUTAGE_MS) {
      await database.faults({ match: 'ingest_hits', refuse: true });
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      await database.faults({ match: 'ingest_hits', refuse: false });
    }
    await stream;
    for (let s = first; s <= seq; s++) if (acked.has(`h${s}`)) phase.add(`h${s}`);
    const faultDrainMs = await watcher.waitFor([...phase]);
    const injected = await database.faults({ match: 'ingest_hits', failAfterCommit: 0, refuse: false });
    // The last redeliveries may still be on their way when every row is there: settle the counters.
    await new Promise((r) => setTimeout(r, (w.consumer.retry_delay ?? 0) * 1000 + 3000));
    const after = await counters();

    // Verification over the whole run: every acknowledged hit stored exactly once, nothing else.
    watcher.close();
    const reader = new Database(dbPath, { readonly: true });
    const rows = new Map((reader.prepare("SELECT name, count(*) AS n FROM events WHERE type = 'custom' GROUP BY name").all() as { name: string; n: number }[]).map((r) => [r.name, Number(r.n)]));
    reader.close();
    const lostIn = (names: Iterable<string>) => [...names].filter((n) => !rows.has(n)).length;
    const dupIn = (names: Iterable<string>) => [...names].reduce((k, n) => k + Math.max(0, (rows.get(n) ?? 0) - 1), 0);
    const faultLost = lostIn(phase);
    const faultDup = dupIn(phase);
    const allLost = lostIn(acked.keys());
    const allDup = dupIn(acked.keys());
    const strays = [...rows.keys()].filter((n) => !acked.has(n)).length;
    if (allLost || allDup) failures.push(`${allLost} acknowledged hits lost, ${allDup} duplicated over the run`);
    if (faultDrainMs === null) failures.push('the forced-failure phase did not drain');

    const ratio = (x: number, y: number) => Math.round((x / y) * 1000) / 1000;
    const ratios = { queue_over_floor: ratio(rate('queue'), rate('floor')), floor_over_bare: ratio(rate('floor'), rate('bare')), queue_over_bare: ratio(rate('queue'), rate('bare')), stored_over_bare: ratio(storedRate, rate('bare')), queue_over_direct: ratio(rate('queue'), rate('direct')) };
    const budgets = {
      acknowledged_ratio: { value: ratios.queue_over_bare, goal: `≥ ${RATIO_GOAL}`, ok: ratios.queue_over_bare >= RATIO_GOAL },
      over_floor: { value: ratios.queue_over_floor, goal: `≥ ${FLOOR_GOAL}`, ok: ratios.queue_over_floor >= FLOOR_GOAL },
      lost_duplicated: { value: [faultLost, faultDup], goal: '0 / 0', ok: faultLost === 0 && faultDup === 0 },
      latency_p50_ms: { value: lightLatency.p50, goal: `≤ ${LATENCY_P50_BUDGET_MS} ms`, ok: lightLatency.p50 <= LATENCY_P50_BUDGET_MS },
      latency_p99_ms: { value: lightLatency.p99, goal: `≤ ${LATENCY_P99_BUDGET_MS} ms`, ok: lightLatency.p99 <= LATENCY_P99_BUDGET_MS },
      stored_ratio: { value: ratios.stored_over_bare, goal: `≥ ${STORED_GOAL}`, ok: ratios.stored_over_bare >= STORED_GOAL },
      queue_over_direct: { value: ratios.queue_over_direct, goal: `≥ ${QUEUE_OVER_DIRECT_GOAL}`, ok: ratios.queue_over_direct >= QUEUE_OVER_DIRECT_GOAL },
      loaded_p50_ms: { value: queueLatency.p50, goal: `≤ ${LOADED_P50_BUDGET_MS} ms`, ok: queueLatency.p50 <= LOADED_P50_BUDGET_MS },
      loaded_p99_ms: { value: queueLatency.p99, goal: `≤ ${LOADED_P99_BUDGET_MS} ms`, ok: queueLatency.p99 <= LOADED_P99_BUDGET_MS },
    };
    const mark = (b: { goal: string; ok: boolean }) => `${b.goal} ${b.ok ? 'ok' : 'MISSED'}`;
    const counted = diff(after, before);
    console.log('');
    console.log(
      table(
        ['figure', 'value', 'budget'],
        [
          ['hits acknowledged/s: Worker + Queue ÷ bare Worker route', `${ratios.queue_over_bare}× (${fmtInt(rate('queue'))} vs ${fmtInt(rate('bare'))})`, mark(budgets.acknowledged_ratio)],
          ['hits acknowledged/s: Worker + Queue ÷ the floor (a Worker that only rate-limits and enqueues)', `${ratios.queue_over_floor}× (floor ${fmtInt(rate('floor'))}, itself ${ratios.floor_over_bare}× of bare)`, mark(budgets.over_floor)],
          ['hits stored/s, window + drain (consumer + Hrana) ÷ bare', `${ratios.stored_over_bare}× (${fmtInt(storedRate)}/s; drains ${tally.queue.drainMs.map(fmtMs).join(', ')})`, mark(budgets.stored_ratio)],
          ['Worker + Queue ÷ direct write (no binding), acknowledged/s', `${ratios.queue_over_direct}× (direct ${fmtInt(rate('direct'))})`, mark(budgets.queue_over_direct)],
          [`hit → row at ${LIGHT_RATE} hits/s: median / p99`, `${fmtMs(lightLatency.p50)} / ${fmtMs(lightLatency.p99)}`, `${mark(budgets.latency_p50_ms)}, ${mark(budgets.latency_p99_ms)}`],
          ['hit → row under full load (backlog included): median / p99', `${fmtMs(queueLatency.p50)} / ${fmtMs(queueLatency.p99)}`, `${mark(budgets.loaded_p50_ms)}, ${mark(budgets.loaded_p99_ms)}`],
          [`forced failure (${injected.failedAfterCommit} commits unheard, ${injected.refused} writes refused over ${OUTAGE_MS} ms): lost / duplicated`, `${faultLost} / ${faultDup} of ${fmtInt(phase.size)}`, mark(budgets.lost_duplicated)],
          ['whole run: acknowledged / lost / duplicated / rows not acknowledged', `${fmtInt(acked.size)} / ${allLost} / ${allDup} / ${strays}`, allLost || allDup ? 'FAILED' : 'verified'],
        ],
      ),
    );
    const file = writeResults(NAME, {
      benchmark: NAME,
      started_at: started.toISOString(),
      finished_at: new Date().toISOString(),
      machine: machine(),
      load_average_1m: { start: loadAtStart, end: loadavg()[0] },
      params: { seconds_per_scenario: SECONDS, queue_window_hits: QUEUE_WINDOW_HITS, rounds: ROUNDS, warmup_seconds: WARMUP_SECONDS, connections: CONNECTIONS, client_ips: CLIENT_IPS, rate_limits: w.config.ratelimits ?? [], light_rate: LIGHT_RATE, light_hits: LIGHT_HITS, fault_hits: FAULT_HITS, fault_commits: FAULT_COMMITS, outage_ms: OUTAGE_MS, consumer: w.consumer },
      throughput: { tally, acknowledged_per_s: { bare: rate('bare'), floor: rate('floor'), queue: rate('queue'), direct: rate('direct') }, stored_per_s: storedRate },
      ratios,
      latency_ms: { light: lightLatency, under_load: queueLatency, poll_ms: POLL_MS },
      forced_failure: { hits: phase.size, lost: faultLost, duplicated: faultDup, drain_ms: faultDrainMs, injected, counters: counted },
      rate_limit_check: { limit: publicLimit, refused_at: refusedAt },
      verification: { acknowledged: acked.size, lost: allLost, duplicated: allDup, rows_not_acknowledged: strays },
      budgets,
      ok: failures.length === 0,
      failures,
      refused: Object.fromEntries(refused),
    });
    console.log(`\n  consumer counters over the forced failure (/health): ${JSON.stringify(counted)}`);
    console.log(`  results: ${file}`);
  } finally {
    await cleanup();
    done();
  }
  if (failures.length) {
    // workerd's errors first (a refused hit's reason is logged there), then the end of its output.
    const logFile = join(outDir, 'edge-workerd.log');
    writeFileSync(logFile, log.join(''));
    console.error(`\n  workerd's whole output: ${logFile}`);
    const errors = log.join('').split('\n').filter((l) => /"level":"error"|Error|error:/.test(l) && !/batch failed, retried/.test(l));
    console.error(`\n  verification failed:\n  - ${failures.join('\n  - ')}${refused.size ? `\n  answers other than 202 (phase target status: count): ${JSON.stringify(Object.fromEntries(refused))}` : ''}${errors.length ? `\n--- workerd errors (${errors.length}, first 10) ---\n${errors.slice(0, 10).join('\n')}` : ''}${log.length ? `\n--- workerd output (end) ---\n${log.join('').slice(-3000)}` : ''}`);
    process.exitCode = 1;
  }
}

await main();
