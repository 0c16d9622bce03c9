// Shared pieces of the Workers benchmarks (edge.ts, edge-sim.ts, edge-profile.ts): the Hrana
// fixture in a process of its own, the `wrangler deploy` bundle in workerd (Miniflare) with
// wrangler.toml's bindings, HTTP to it by Host, and a reader that notices rows as they appear in the
// database file. Not a benchmark itself.
import { bundleNode } from '../bundle-node.mjs';
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Database from 'libsql';
import { Miniflare, type MiniflareOptions } from 'miniflare';
import type { Unstable_Config as WranglerConfig } from 'wrangler';
import { buildWranglerBundle, bundleWorker, queueOptions, ratelimitOptions, readWranglerConfig } from '../../test/workerd';
import { now } from './lib';

export const TOKEN = 'bench-edge-hrana-token-0123456789';
export const ADMIN_KEY = 'll_bench_edge_admin_key_0123456789';
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const outDir = process.env.BENCH_OUT_DIR ?? join(root, 'dist', 'bench');

export interface EdgeDatabase {
  url: string;
  child: ChildProcess;
  faults: (f: object) => Promise<any>;
  /** Should this process die without cleaning up (SIGKILL), the database process kills `pids` and removes `dir`. */
  reapOnExit: (pids: number[], dir?: string) => void;
  stop: () => Promise<void>;
}

/** This process's workerd children (Linux: /proc), for EdgeDatabase.reapOnExit; none elsewhere. */
export function workerdChildren(): number[] {
  if (!existsSync('/proc')) return [];
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid …"
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
      if (m && m[1] === 'workerd' && Number(m[2]) === process.pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The Hrana fixture over `dbPath` in a process of its own (scripts/bench/edge-hrana.ts). */
export async function startDatabase(dbPath: string): Promise<EdgeDatabase> {
  const file = join(outDir, 'edge-hrana.mjs');
  await bundleNode(join(root, 'scripts', 'bench', 'edge-hrana.ts'), file);
  const child = fork(file, [], { cwd: root, env: { ...process.env, BENCH_DB_PATH: dbPath, BENCH_DB_TOKEN: TOKEN }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (type: string) => new Promise<any>((res) => child.on('message', function on(m: any) { if (m?.type === type) { child.off('message', on); res(m); } }));
  const ready = await Promise.race([next('ready'), new Promise<never>((_, rej) => setTimeout(() => rej(new Error('the database did not start in 30 s')), 30_000).unref())]);
  return {
    url: ready.url,
    child,
    faults: (f) => {
      const reply = next('faults');
      child.send({ type: 'faults', faults: f });
      return reply;
    },
    reapOnExit: (pids, dir) => child.send({ type: 'reap', pids, dir }),
    stop: async () => {
      const gone = new Promise<void>((res) => child.once('exit', () => res()));
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/**
 * The bindings wrangler.toml declares, as Miniflare options, read from the file rather than copied
 * by hand: the Queue producers and consumers (test/workerd.ts queueOptions: batch size and timeout,
 * retries, dead-letter queue as deployed), the Rate Limiting bindings ([[ratelimits]], their
 * declared limits and periods; test/workerd.ts ratelimitOptions) and the R2 buckets (in memory).
 * `queues: false` leaves the Queues out (the Worker then writes each request's hits itself);
 * `rateLimits: false` the Rate Limiting bindings (each bucket then counts in the isolate's memory).
 */
export function deployedBindings(config: WranglerConfig, opts: { queues?: boolean; rateLimits?: boolean } = {}): Partial<MiniflareOptions> {
  return {
    ...(opts.queues !== false && queueOptions(config)),
    ...(opts.rateLimits !== false && ratelimitOptions(config)),
    r2Buckets: Object.fromEntries((config.r2_buckets ?? []).map((b) => [b.binding, b.bucket_name ?? b.binding])),
  };
}

/** A worker of startWorkers' own (edge-profile.ts's variants): Miniflare options for its workers list, routed by Host. */
export type ExtraWorker = Record<string, unknown> & { name: string };

/**
 * One workerd with the Workers `hosts` names, told apart by Host: `queue` is Leadline with
 * TRACKING_QUEUE and its consumers as wrangler.toml declares them, `direct` Leadline without the
 * Queue binding, `bare` a bare Hono route (edge-bare-worker.ts). Leave a name out to leave that
 * Worker out.
 *
 * `rateLimits: true`: both Leadline Workers get wrangler.toml's Rate Limiting bindings with their
 * declared limits (600 hits a minute per client IP and endpoint on /t), as deployed, and
 * PUBLIC_RATE_LIMIT is left at its default as deployed: a caller must then send its hits from many
 * client addresses (CF-Connecting-IP, which Miniflare passes on as Cloudflare's edge would set it),
 * else every hit counts against 127.0.0.1 and the 601st in a minute is refused (edge.ts and
 * edge-sim.ts use clientAddress). Without it, no bindings and PUBLIC_RATE_LIMIT far above any load.
 * `extra`: more workers in the same workerd (each with its own `routes`), given the bundle's path.
 */
export async function startWorkers(
  dir: string,
  dbUrl: string,
  log: string[],
  hosts: { queue: string; direct?: string; bare?: string },
  opts: { rateLimits?: boolean; inspectorPort?: number; extra?: (leadline: { scriptPath: string; config: WranglerConfig; bindings: Record<string, unknown> }) => ExtraWorker[] } = {},
) {
  const config = await readWranglerConfig(root);
  const scriptPath = await buildWranglerBundle(root, config, join(dir, 'bundle'), join(dir, 'wrangler-logs'));
  const bare = join(dir, 'bare', 'worker.mjs');
  if (hosts.bare) await bundleWorker(join(root, 'scripts', 'bench', 'edge-bare-worker.ts'), bare);
  const limits = opts.rateLimits === true;
  const bindings = { ...config.vars, LOG_LEVEL: 'warn', ...(!limits && { PUBLIC_RATE_LIMIT: '1000000' }), DATABASE_URL: dbUrl, DATABASE_AUTH_TOKEN: TOKEN, ADMIN_API_KEY: ADMIN_KEY };
  const leadline = (name: string, host: string, queues: boolean) => ({
    name,
    modules: true as const,
    scriptPath,
    modulesRoot: dirname(scriptPath),
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    bindings,
    ...deployedBindings(config, { queues, rateLimits: limits }),
    routes: [`${host}/*`],
  });
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = join(dir, 'miniflare'); // workerd's scratch files, removed with the temp dir
  mkdirSync(process.env.TMPDIR, { recursive: true });
  let mf: Miniflare;
  try {
    mf = new Miniflare({
      host: '127.0.0.1',
      port: 0,
      ...(opts.inspectorPort !== undefined && { inspectorPort: opts.inspectorPort }),
      handleRuntimeStdio(stdout: Readable, stderr: Readable) {
        stdout.on('data', (b) => log.push(String(b)));
        stderr.on('data', (b) => log.push(String(b)));
      },
      workers: [
        leadline('queue', hosts.queue, true),
        ...(hosts.direct ? [leadline('direct', hosts.direct, false)] : []),
        ...(hosts.bare ? [{ name: 'bare', modules: true, scriptPath: bare, modulesRoot: dirname(bare), compatibilityDate: config.compatibility_date, routes: [`${hosts.bare}/*`] }] : []),
        ...((opts.extra?.({ scriptPath, config, bindings }) ?? []) as never[]),
      ],
    } as MiniflareOptions);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  let port: number;
  try {
    port = Number(new URL(await mf.ready).port);
  } catch (e) {
    // One that failed to start is disposed here, so no workerd outlives the run.
    await mf.dispose().catch(() => undefined);
    throw new Error(`workerd did not start: ${e}\n${log.join('').slice(-3000)}`);
  }
  return { mf, port, config, consumer: config.queues.consumers!.find((c) => c.queue === 'leadline-tracking')! };
}

const REQUEST_TIMEOUT_MS = 30_000;

/** One HTTP request to 127.0.0.1:`port` with Host `host`; never rejects (status 0 on a network error). */
export function httpRequest(port: number, agent: http.Agent, host: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((done) => {
    const h: Record<string, string | number> = { host, ...headers };
    if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: h, agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => done({ status: res.statusCode ?? 0, text }));
      res.on('error', (e) => done({ status: 0, text: e.message }));
    });
    req.on('error', (e) => done({ status: 0, text: e.message }));
    // A request workerd never answers fails (status 0) instead of holding its load loop forever.
    req.on('timeout', () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.end(body);
  });
}

/** Every custom event row, as a reader of the database file sees them appear (polled every `pollMs`). */
export function rowWatcher(dbPath: string, pollMs: number, drainCapMs: number) {
  const reader = new Database(dbPath, { readonly: true });
  // Preparing reads the schema, which can meet the writer's lock (SQLITE_BUSY, e.g. while the WAL is
  // checkpointed): tried again for up to 5 s; a poll that meets it is skipped (the next one reads on).
  const busy = (e: unknown) => String((e as { code?: unknown })?.code).startsWith('SQLITE_BUSY');
  const prepare = () => reader.prepare("SELECT id, name FROM events WHERE id > ? AND type = 'custom' ORDER BY id LIMIT 20000");
  let stmt!: ReturnType<typeof prepare>;
  for (let attempt = 0; ; attempt++) {
    try {
      stmt = prepare();
      break;
    } catch (e) {
      if (!busy(e) || attempt >= 50) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  const seen = new Map<string, { at: number; rows: number }>();
  let last = 0;
  const read = () => {
    try {
      return stmt.all(last) as { id: number; name: string }[];
    } catch (e) {
      if (busy(e)) return [];
      throw e;
    }
  };
  const poll = () => {
    const at = now();
    for (const r of read()) {
      last = r.id;
      const s = seen.get(r.name);
      if (s) s.rows++;
      else seen.set(r.name, { at, rows: 1 });
    }
  };
  const timer = setInterval(poll, pollMs);
  /** Resolves when every name is seen, or after `capMs`; the milliseconds it took. */
  const waitFor = async (names: string[], capMs = drainCapMs) => {
    const start = now();
    while (now() - start < capMs) {
      poll();
      if (names.every((n) => seen.has(n))) return now() - start;
      await new Promise((r) => setTimeout(r, pollMs));
    }
    return null;
  };
  let open = true;
  const close = () => {
    clearInterval(timer);
    if (open) reader.close();
    open = false;
  };
  return { seen, poll, waitFor, close };
}

/** The client address of hit `n` (CF-Connecting-IP, as Cloudflare's edge sets it): `count` addresses 10.x.y.z in turn. */
export function clientAddress(n: number, count: number): string {
  const i = n % count;
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

/**
 * A bounded run's ending, however it ends (done, an exception, Ctrl-C, the deadline): its parts
 * (as `parts()` gives them then) are stopped once — the row watcher closed, the agent destroyed,
 * workerd disposed, the database stopped, the temp dir removed; at a process exit before that, the
 * database process is killed and the temp dir removed synchronously (workerd is Miniflare's to
 * stop, its own exit hook). After `deadlineS` the run stops and exits 1.
 */
export function boundedRun(
  label: string,
  deadlineS: number,
  tmp: { cleanup(): void },
  parts: () => { watcher?: { close(): void }; agent?: { destroy(): void }; mf?: { dispose(): Promise<void> }; db?: { child: ChildProcess; stop(): Promise<void> } },
) {
  let stopped: Promise<void> | undefined;
  process.once('exit', () => {
    if (!stopped) {
      parts().db?.child.kill();
      tmp.cleanup();
    }
  });
  const cleanup = () =>
    (stopped ??= (async () => {
      const p = parts();
      p.watcher?.close();
      p.agent?.destroy();
      await p.mf?.dispose().catch(() => undefined);
      await p.db?.stop();
      tmp.cleanup();
    })());
  const deadline = setTimeout(() => {
    console.error(`\n  ${label}: no result after ${deadlineS} s, stopping (workerd, database, temp dir)`);
    void cleanup().finally(() => process.exit(1));
  }, deadlineS * 1000);
  deadline.unref();
  return { cleanup, done: () => clearTimeout(deadline) };
}
