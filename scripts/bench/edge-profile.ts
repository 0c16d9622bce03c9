// Where a hit's time goes on the edge: the edge benchmark's setup (the `wrangler deploy` bundle in
// workerd with wrangler.toml's bindings, the Hrana fixture in a process of its own), plus variants
// that each add one piece to the bare route, driven by the same load in turns, in one workerd:
//
//   bare         the bare Hono route (edge-bare-worker.ts)
//   limit        bare + one Rate Limiting binding call (RATE_LIMIT_PUBLIC as wrangler.toml declares it)
//   bare-queue   bare + one Queue message per hit, consumed by a Worker that only acknowledges
//   app-memory   Leadline's POST /t, TRACKING_QUEUE a no-op (a wrapped binding in the same isolate),
//                PUBLIC_RATE_LIMIT counted in the isolate's memory (no Rate Limiting bindings)
//   app          as app-memory with wrangler.toml's Rate Limiting bindings (as deployed)
//   app-ack      Leadline with a real TRACKING_QUEUE, its consumer a Worker that only acknowledges
//   queue        Leadline as the edge benchmark runs it: TRACKING_QUEUE, its own consumer writing
//
// Per hit, 1/rate is the whole machine's time for one hit (load generator, workerd, Queue broker,
// consumer, database; two cores): the difference between two variants is what the added piece
// costs per hit. Then, with `BENCH_EDGE_PROFILE_CPU=1`, a CPU profile of the `queue` Worker's isolate
// (V8's sampling profiler through workerd's inspector) under the same load, by function, written to
// dist/bench/edge-profile-<variant>.cpuprofile. A diagnosis, not a benchmark (no budgets; not in
// `npm run bench`); bundled and run as run.mjs does:
//   node scripts/build.mjs && node -e "import('./scripts/bundle-node.mjs').then((m) => m.bundleNode('scripts/bench/edge-profile.ts', 'dist/bench/edge-profile.mjs'))" \
//     && WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false BENCH_EDGE_PROFILE_CPU=1 node --enable-source-maps dist/bench/edge-profile.mjs
// Bounded: every window timed, every wait capped, a deadline for the whole run.
//
//   BENCH_EDGE_PROFILE_SECONDS (3) per window, BENCH_EDGE_PROFILE_ROUNDS (3), BENCH_EDGE_CONNECTIONS (32)
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { Miniflare } from 'miniflare';
import { ADMIN_KEY, boundedRun, deployedBindings, httpRequest, outDir, root, rowWatcher, startDatabase, startWorkers, workerdChildren, type ExtraWorker } from './edge-lib';
import { bundleWorker, ratelimitOptions } from '../../test/workerd';
import { envInt, fmtInt, machine, now, table, tempDir } from './lib';

const SECONDS = envInt('BENCH_EDGE_PROFILE_SECONDS', 3);
const ROUNDS = envInt('BENCH_EDGE_PROFILE_ROUNDS', 3);
const CONNECTIONS = envInt('BENCH_EDGE_CONNECTIONS', 32);
const CPU = process.env.BENCH_EDGE_PROFILE_CPU === '1';
const CPU_SECONDS = envInt('BENCH_EDGE_PROFILE_CPU_SECONDS', 4);
const INSPECTOR_PORT = envInt('BENCH_EDGE_INSPECTOR_PORT', 9339);
const DEADLINE_S = envInt('BENCH_EDGE_DEADLINE_S', 480);
const CLIENT_IPS = 4096;

const SHOP = 'https://shop.example.com';
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const HOSTS = {
  bare: 'bare.test',
  limit: 'limit.test',
  'bare-queue': 'bare-queue.test',
  'app-memory': 'app-memory.test',
  app: 'app.test',
  'app-ack': 'app-ack.test',
  queue: 'leadline.test',
} as const;
type Variant = keyof typeof HOSTS;
const ORDER = Object.keys(HOSTS) as Variant[];

let port = 0;
let siteKey = '';
let seq = 0;
const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS, maxFreeSockets: CONNECTIONS });
const written: string[] = [];
const failures: string[] = [];

async function hit(v: Variant): Promise<boolean> {
  const n = ++seq;
  const name = `h${n}`;
  const i = n % CLIENT_IPS;
  const body = JSON.stringify({ k: siteKey, v: `benchvisitor${String(n % 1000).padStart(8, '0')}`, e: [{ t: 'ev', u: `${SHOP}/p/${n % 50}`, n: name }] });
  const r = await httpRequest(port, agent, HOSTS[v], 'POST', v === 'bare' ? '/bare' : '/t', body, {
    'content-type': 'text/plain;charset=UTF-8',
    'user-agent': UA,
    origin: SHOP,
    'cf-connecting-ip': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  });
  if (r.status !== 202) {
    if (failures.length < 20) failures.push(`${v}: ${r.status} ${r.text.slice(0, 200)}`);
    return false;
  }
  if (v === 'queue') written.push(name);
  return true;
}

async function drive(v: Variant, ms: number): Promise<number> {
  const end = now() + ms;
  let ok = 0;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (now() < end) if (await hit(v)) ok++;
  }));
  return ok;
}

/** A CPU profile of one Worker's isolate through workerd's inspector, while `during` runs. */
async function profile(worker: string, during: () => Promise<unknown>) {
  const list = (await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json/list`)).json()) as { id?: string; title?: string; webSocketDebuggerUrl?: string }[];
  const target = list.find((t) => t.id === `core:user:${worker}` || t.title === `core:user:${worker}`) ?? list.find((t) => String(t.webSocketDebuggerUrl).endsWith(`/core:user:${worker}`));
  if (!target?.webSocketDebuggerUrl) throw new Error(`no inspector target for ${worker}: ${JSON.stringify(list)}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl.replace('localhost', '127.0.0.1'));
  await new Promise((res, rej) => (ws.once('open', res), ws.once('error', rej)));
  let id = 0;
  const pending = new Map<number, (r: any) => void>();
  ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    if (m.id !== undefined) pending.get(m.id)?.(m.result ?? m.error);
  });
  const call = (method: string, params: object = {}) =>
    new Promise<any>((res) => {
      pending.set(++id, res);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call('Profiler.enable');
  await call('Profiler.setSamplingInterval', { interval: 200 });
  await call('Profiler.start');
  await during();
  const { profile: p } = await call('Profiler.stop');
  ws.close();
  return p as { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[]; samples: number[]; timeDeltas: number[] };
}

/** Self time by function, and time under each of `groups` (inclusive: a sample counts once per group on its stack). */
function summarise(p: Awaited<ReturnType<typeof profile>>, groups: Record<string, RegExp>) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const incl = new Map<string, number>(Object.keys(groups).map((g) => [g, 0]));
  let total = 0;
  let idle = 0;
  p.samples.forEach((s, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    const n = byId.get(s)!;
    const fn = n.callFrame.functionName || '(anonymous)';
    if (fn === '(idle)' || fn === '(program)') idle += fn === '(idle)' ? dt : 0;
    const key = `${fn} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    const names = new Set<string>();
    for (let at: number | undefined = s; at !== undefined; at = parent.get(at)) names.add(byId.get(at)!.callFrame.functionName);
    for (const [g, re] of Object.entries(groups)) if ([...names].some((x) => re.test(x))) incl.set(g, incl.get(g)! + dt);
  });
  return { total, idle, self: [...self.entries()].sort((a, b) => b[1] - a[1]), incl };
}

async function main() {
  const tmp = tempDir('edge-profile');
  const log: string[] = [];
  let mf: Miniflare | undefined;
  let db: Awaited<ReturnType<typeof startDatabase>> | undefined;
  let watcher: ReturnType<typeof rowWatcher> | undefined;
  const { cleanup, done } = boundedRun('edge profile', DEADLINE_S, tmp, () => ({ watcher, agent, mf, db }));
  try {
    const dbPath = join(tmp.dir, 'edge.db');
    db = await startDatabase(dbPath);
    const ref = join(tmp.dir, 'ref', 'worker.mjs');
    await bundleWorker(join(root, 'scripts', 'bench', 'edge-profile-worker.ts'), ref);
    const refWorker = (name: string, host: string, extra: object) => ({ name, modules: true, scriptPath: ref, modulesRoot: join(tmp.dir, 'ref'), compatibilityDate: '2026-04-01', routes: [`${host}/*`], ...extra });
    const w = await startWorkers(tmp.dir, db.url, log, { queue: HOSTS.queue, bare: HOSTS.bare }, {
      rateLimits: true,
      ...(CPU && { inspectorPort: INSPECTOR_PORT }),
      extra: ({ scriptPath, config, bindings }): ExtraWorker[] => {
        const app = (name: string, host: string, extra: object) => ({ name, modules: true, scriptPath, modulesRoot: join(scriptPath, '..'), compatibilityDate: config.compatibility_date, compatibilityFlags: config.compatibility_flags, bindings, routes: [`${host}/*`], ...extra });
        const limits = deployedBindings(config, { queues: false });
        const nullQueue = { wrappedBindings: { TRACKING_QUEUE: { scriptName: 'null-queue' } } };
        return [
          refWorker('limit', HOSTS.limit, { ratelimits: { RATE_LIMIT_PUBLIC: ratelimitOptions(config).ratelimits!.RATE_LIMIT_PUBLIC } }),
          refWorker('bare-queue', HOSTS['bare-queue'], { queueProducers: { QUEUE: { queueName: 'profile-bare' } }, queueConsumers: { 'profile-bare': { maxBatchSize: 100, maxBatchTimeout: 1 } } }),
          refWorker('acker', 'acker.test', { queueConsumers: { 'profile-ack': { maxBatchSize: 100, maxBatchTimeout: 1 } } }),
          { name: 'null-queue', modules: [{ type: 'ESModule', path: 'null-queue.mjs', contents: 'export default function () { return { async send() {}, async sendBatch() {} }; }' }] },
          app('app-memory', HOSTS['app-memory'], { ...deployedBindings(config, { queues: false, rateLimits: false }), ...nullQueue, bindings: { ...bindings, PUBLIC_RATE_LIMIT: '1000000' } }),
          app('app', HOSTS.app, { ...limits, ...nullQueue }),
          app('app-ack', HOSTS['app-ack'], { ...limits, queueProducers: { TRACKING_QUEUE: { queueName: 'profile-ack' } } }),
        ];
      },
    });
    mf = w.mf;
    port = w.port;
    db.reapOnExit(workerdChildren(), tmp.dir);
    const load0 = loadavg()[0]!;
    console.log(`edge profile: workerd on 127.0.0.1:${port}; ${machine().cpus} CPUs, load average ${load0.toFixed(2)}`);
    // One site, created through the Leadline Worker: every Leadline variant reads the same database.
    const site = await httpRequest(port, agent, HOSTS.queue, 'POST', '/api/v1/sites', JSON.stringify({ name: 'Bench', allowed_origins: [SHOP] }), { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' });
    if (site.status !== 201) throw new Error(`creating the site: ${site.status} ${site.text}\n${log.join('')}`);
    siteKey = JSON.parse(site.text).public_key;
    watcher = rowWatcher(dbPath, 20, 120_000);
    const settle = async (v: Variant) => {
      if (v === 'queue') {
        if ((await watcher!.waitFor(written)) === null) throw new Error('the backlog did not drain');
      } else if (v === 'bare-queue' || v === 'app-ack') await new Promise((r) => setTimeout(r, 1500));
    };
    for (const v of ORDER) {
      await drive(v, 1000);
      await settle(v);
    }
    const tally = Object.fromEntries(ORDER.map((v) => [v, { ok: 0, ms: 0 }])) as Record<Variant, { ok: number; ms: number }>;
    for (let r = 0; r < ROUNDS; r++) {
      for (const v of [...ORDER.slice(r % ORDER.length), ...ORDER.slice(0, r % ORDER.length)]) {
        const t0 = now();
        tally[v].ok += await drive(v, SECONDS * 1000);
        tally[v].ms += now() - t0;
        await settle(v);
      }
      console.log(`  round ${r + 1}/${ROUNDS}: ${ORDER.map((v) => `${v} ${fmtInt(tally[v].ok / (tally[v].ms / 1000))}`).join(', ')}`);
    }
    const rate = (v: Variant) => tally[v].ok / (tally[v].ms / 1000);
    const us = (v: Variant) => 1e6 / rate(v);
    const d = (a: Variant, b: Variant) => `${(us(a) - us(b)).toFixed(0)} µs`;
    console.log('');
    console.log(table(['variant', 'acknowledged/s', 'µs per hit', '÷ bare'], ORDER.map((v) => [v, fmtInt(rate(v)), us(v).toFixed(0), (rate(v) / rate('bare')).toFixed(3)])));
    console.log('');
    console.log(
      table(
        ['piece', 'µs per hit (difference)'],
        [
          ['Rate Limiting binding call (limit − bare)', d('limit', 'bare')],
          ['Queue send + broker + acknowledging consumer, reference (bare-queue − bare)', d('bare-queue', 'bare')],
          ['Leadline app + collect, in-memory limiter, no queue (app-memory − bare)', d('app-memory', 'bare')],
          ['Rate Limiting bindings instead of memory (app − app-memory)', d('app', 'app-memory')],
          ['TRACKING_QUEUE send + broker + acknowledging consumer (app-ack − app)', d('app-ack', 'app')],
          ['the consumer writing (consume.ts + Hrana) meanwhile (queue − app-ack)', d('queue', 'app-ack')],
          ['total: queue − bare', d('queue', 'bare')],
        ],
      ),
    );
    const result: Record<string, unknown> = { load_average_1m: { start: load0, end: loadavg()[0] }, rates: Object.fromEntries(ORDER.map((v) => [v, rate(v)])), failures };
    if (CPU) {
      const groups: Record<string, RegExp> = {
        'collect()': /^collect$/,
        'TrackPayload / zod parse': /^(safeParse|_parse|parse|_zod|run)$|zod/i,
        'parseUserAgent (ua-parser)': /^(parseUserAgent|UAParser|getResult|rgxMapper|strMapper)$/,
        'isBot': /^isBot$|^isbot$/,
        'queue ingestor add / send': /^(add|queuedHit|newHitId|send)$/,
        'consumeHits (consumer)': /^(consumeHits|handleTrackingBatch)$/,
        'Hono dispatch / compose': /^(dispatch|compose|fetch)$/,
        'rate limit middleware (perIp/askBinding)': /^askBinding$/,
        'JSON.stringify/parse': /^(stringify|parse)$/,
      };
      for (const v of ['bare', 'app', 'queue'] as Variant[]) {
        const target = v;
        let ok = 0;
        const t0 = now();
        const p = await profile(target, async () => (ok = await drive(v, CPU_SECONDS * 1000)));
        const ms = now() - t0;
        await settle(v);
        const file = join(outDir, `edge-profile-${v}.cpuprofile`);
        writeFileSync(file, JSON.stringify(p));
        const s = summarise(p, groups);
        const busy = s.total - s.idle;
        console.log(`\n  CPU profile of ${target} under load: ${fmtInt(ok)} hits in ${(ms / 1000).toFixed(1)} s; isolate busy ${(busy / 1000).toFixed(0)} ms of ${(s.total / 1000).toFixed(0)} ms sampled = ${(busy / ok).toFixed(0)} µs per hit; ${file}`);
        console.log(table(['self time (top 30)', 'µs per hit', '% busy'], s.self.filter(([k]) => !k.startsWith('(idle)')).slice(0, 30).map(([k, t]) => [k.slice(0, 90), (t / ok).toFixed(1), ((100 * t) / busy).toFixed(1)])));
        console.log(table(['inclusive (functions on the stack)', 'µs per hit', '% busy'], [...s.incl.entries()].map(([k, t]) => [k, (t / ok).toFixed(1), ((100 * t) / busy).toFixed(1)])));
        result[`profile_${v}`] = { hits: ok, busy_us: busy, top: s.self.slice(0, 60), groups: Object.fromEntries(s.incl) };
      }
    }
    writeFileSync(join(outDir, 'edge-profile.json'), JSON.stringify(result, null, 2));
    if (failures.length) console.error(`\n  failures:\n  - ${failures.join('\n  - ')}`);
  } finally {
    await cleanup();
    done();
  }
  if (failures.length) process.exitCode = 1;
}

await main();
