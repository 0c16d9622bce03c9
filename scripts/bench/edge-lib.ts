// Shared pieces of the Workers benchmarks (edge.ts, edge-sim.ts): the Hrana fixture in a process
// of its own, the `wrangler deploy` bundle in workerd (Miniflare) with wrangler.toml's Queues, HTTP
// to it by Host, and a reader that notices rows as they appear in the database file. Not a
// benchmark itself.
import { bundleNode } from '../bundle-node.mjs';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Database from 'libsql';
import { Miniflare } from 'miniflare';
import { buildWranglerBundle, bundleWorker, queueOptions, readWranglerConfig } from '../../test/workerd';
import { now } from './lib';

export const TOKEN = 'bench-edge-hrana-token-0123456789';
export const ADMIN_KEY = 'll_bench_edge_admin_key_0123456789';
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const outDir = process.env.BENCH_OUT_DIR ?? join(root, 'dist', 'bench');

export interface EdgeDatabase {
  url: string;
  child: ChildProcess;
  faults: (f: object) => Promise<any>;
  stop: () => Promise<void>;
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
 * One workerd with the Workers `hosts` names, told apart by Host: `queue` is Leadline with
 * TRACKING_QUEUE and its consumers as wrangler.toml declares them, `direct` Leadline without the
 * binding, `bare` a bare Hono route (edge-bare-worker.ts). Leave a name out to leave that Worker out.
 */
export async function startWorkers(dir: string, dbUrl: string, log: string[], hosts: { queue: string; direct?: string; bare?: string }) {
  const config = await readWranglerConfig(root);
  const scriptPath = await buildWranglerBundle(root, config, join(dir, 'bundle'), join(dir, 'wrangler-logs'));
  const bare = join(dir, 'bare', 'worker.mjs');
  if (hosts.bare) await bundleWorker(join(root, 'scripts', 'bench', 'edge-bare-worker.ts'), bare);
  const leadline = (name: string, host: string) => ({
    name,
    modules: true as const,
    scriptPath,
    modulesRoot: dirname(scriptPath),
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    bindings: { ...config.vars, LOG_LEVEL: 'warn', PUBLIC_RATE_LIMIT: '1000000', DATABASE_URL: dbUrl, DATABASE_AUTH_TOKEN: TOKEN, ADMIN_API_KEY: ADMIN_KEY },
    routes: [`${host}/*`],
  });
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = join(dir, 'miniflare'); // workerd's scratch files, removed with the temp dir
  mkdirSync(process.env.TMPDIR, { recursive: true });
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.on('data', (b) => log.push(String(b)));
      stderr.on('data', (b) => log.push(String(b)));
    },
    workers: [
      { ...leadline('queue', hosts.queue), ...queueOptions(config) },
      ...(hosts.direct ? [leadline('direct', hosts.direct)] : []),
      ...(hosts.bare ? [{ name: 'bare', modules: true, scriptPath: bare, modulesRoot: dirname(bare), compatibilityDate: config.compatibility_date, routes: [`${hosts.bare}/*`] }] : []),
    ],
  });
  process.env.TMPDIR = saved;
  const port = Number(new URL(await mf.ready).port);
  return { mf, port, config, consumer: config.queues.consumers!.find((c) => c.queue === 'leadline-tracking')! };
}

/** One HTTP request to 127.0.0.1:`port` with Host `host`; never rejects (status 0 on a network error). */
export function httpRequest(port: number, agent: http.Agent, host: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((done) => {
    const h: Record<string, string | number> = { host, ...headers };
    if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: h, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => done({ status: res.statusCode ?? 0, text }));
      res.on('error', (e) => done({ status: 0, text: e.message }));
    });
    req.on('error', (e) => done({ status: 0, text: e.message }));
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
