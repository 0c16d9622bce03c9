// Running a Worker bundle in workerd (Miniflare) for tests: bundle an entry as Wrangler would, and
// start Miniflare with its scratch files in the test's own directory.
import { build } from 'esbuild';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { Miniflare, type MiniflareOptions } from 'miniflare';
import type { Unstable_Config as WranglerConfig } from 'wrangler';
import { startHranaServer } from './fixtures/hrana-server';

/** Bundles `entry` for workerd (ES module, the workerd/worker/browser conditions) into `outfile`. */
export async function bundleWorker(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    logLevel: 'error',
  });
}

/**
 * A Miniflare instance, ready. Miniflare puts workerd's scratch files in os.tmpdir()/miniflare-*
 * and removes them on dispose without waiting, which sometimes loses a race and leaves them behind:
 * they go under `scratch` instead (os.tmpdir() reads TMPDIR, once, in the constructor), for the
 * caller to sweep. One that fails to start is disposed, so no workerd process outlives the test.
 */
export async function startMiniflare(options: MiniflareOptions, scratch: string, onFail: () => string = () => ''): Promise<Miniflare> {
  mkdirSync(scratch, { recursive: true });
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = scratch;
  let instance: Miniflare;
  try {
    instance = new Miniflare(options);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  try {
    await instance.ready;
    return instance;
  } catch (e) {
    await instance.dispose().catch(() => {});
    throw new Error(`workerd did not start: ${e}\n--- workerd output ---\n${onFail()}`);
  }
}

/**
 * A test fixture Worker (an entry under test/fixtures) on 127.0.0.1: bundled into a temp dir of its
 * own, served by workerd; `stop` disposes it and removes the dir.
 */
export async function serveFixtureWorker(entry: string, name: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), `leadline-${name}-`));
  const scriptPath = join(dir, 'worker.mjs');
  await bundleWorker(entry, scriptPath);
  // modulesRoot: module names are relative to it, and the default (the cwd) cannot reach tmp.
  const mf = await startMiniflare({ modules: true, scriptPath, modulesRoot: dir, compatibilityDate: '2026-04-01', host: '127.0.0.1', port: 0 }, join(dir, 'miniflare'));
  const port = Number(new URL(await mf.ready).port);
  return {
    port,
    stop: async () => {
      await mf.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The bundle `wrangler deploy` would upload, written to `outdir` by its dry run (no network: the
 * banner and its update check are off, metrics too). Returns the path of the entry module.
 */
export async function buildWranglerBundle(root: string, config: WranglerConfig, outdir: string, logDir: string): Promise<string> {
  const { execFile } = await import('node:child_process');
  await new Promise<void>((done, fail) => {
    execFile(
      process.execPath,
      [join(root, 'node_modules/.bin/wrangler'), 'deploy', '--dry-run', '--outdir', outdir, '--config', join(root, 'wrangler.toml')],
      {
        cwd: root,
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_HIDE_BANNER: 'true', WRANGLER_LOG_PATH: logDir },
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => (err ? fail(new Error(`wrangler deploy --dry-run failed: ${err.message}\n${stdout}\n${stderr}`)) : done()),
    );
  });
  const script = join(outdir, `${basename(config.main!, extname(config.main!))}.js`);
  if (!existsSync(script)) throw new Error(`wrangler wrote no ${script}`);
  return script;
}

/** wrangler.toml as wrangler reads it (wrangler is loaded only by the tests that need it). */
export async function readWranglerConfig(root: string): Promise<WranglerConfig> {
  const { unstable_readConfig } = await import('wrangler');
  return unstable_readConfig({ config: join(root, 'wrangler.toml') });
}

/**
 * The Queue producers and consumers wrangler.toml declares, as Miniflare options, so a test runs
 * the deployed settings (batch size and timeout, retries, dead-letter queue). `consumer` overrides
 * settings of every consumer (e.g. retryDelay: 0, so a test does not wait out production's delay).
 */
export function queueOptions(config: WranglerConfig, consumer: { retryDelay?: number; maxBatchTimeout?: number } = {}): Pick<MiniflareOptions, 'queueProducers' | 'queueConsumers'> {
  const producers = config.queues.producers ?? [];
  const consumers = config.queues.consumers ?? [];
  return {
    queueProducers: Object.fromEntries(producers.map((p) => [p.binding, { queueName: p.queue }])),
    queueConsumers: Object.fromEntries(
      consumers.map((c) => [
        c.queue,
        {
          maxBatchSize: c.max_batch_size,
          maxBatchTimeout: c.max_batch_timeout,
          maxRetries: c.max_retries,
          deadLetterQueue: c.dead_letter_queue,
          retryDelay: c.retry_delay,
          ...consumer,
        },
      ]),
    ),
  };
}

/**
 * The Rate Limiting bindings wrangler.toml declares (`[[ratelimits]]`), as Miniflare options;
 * `limits` replaces the limit of the bindings it names (so a test need not send hundreds of
 * requests), the period stays the declared one.
 */
export function ratelimitOptions(config: WranglerConfig, limits: Record<string, number> = {}): Pick<MiniflareOptions, 'ratelimits'> {
  return {
    ratelimits: Object.fromEntries(
      (config.ratelimits ?? []).map((r) => [r.name, { simple: { limit: limits[r.name] ?? r.simple.limit, period: r.simple.period } }]),
    ),
  };
}

/** The Worker as `wrangler deploy` would upload it, against the Hrana fixture: see bundledWorker. */
export interface BundledWorker {
  config: WranglerConfig;
  /** The database file the fixture serves (the test may open it too). */
  dbPath: string;
  /** The fixture (its `url`, and its faults). */
  db: Awaited<ReturnType<typeof startHranaServer>>;
  /** workerd's output so far, the last 4,000 characters, to add to a failure's message. */
  log: () => string;
  /** Runs the bundle in workerd with wrangler.toml's vars, the database's settings, `bindings` on top, and `options` (queues, limiters). */
  start: (bindings?: Record<string, string>, options?: Partial<MiniflareOptions>) => Promise<Miniflare>;
  /** Creates a site allowing `origin` through `mf`'s API, as the admin; its public key. */
  site: (mf: Miniflare, origin: string) => Promise<string>;
  /** Disposes every workerd started and the fixture, and removes the temp dir. */
  close: () => Promise<void>;
}

/**
 * The bundle `wrangler deploy` would upload (its dry run, with wrangler.toml's config), and the
 * libSQL Hrana fixture serving a fresh database file as Turso would, in a temp dir of its own
 * (`leadline-<name>-*`). The Worker's ADMIN_API_KEY is `adminKey`; the database's token `token`.
 */
export async function bundledWorker(root: string, name: string, opts: { token: string; adminKey: string }): Promise<BundledWorker> {
  const dir = mkdtempSync(join(tmpdir(), `leadline-${name}-`));
  const started: Miniflare[] = [];
  let db: BundledWorker['db'] | undefined;
  const close = async () => {
    try {
      for (const mf of started.splice(0)) await mf.dispose().catch(() => {});
      await db?.close();
    } finally {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    }
  };
  try {
    mkdirSync(join(dir, 'miniflare'));
    const config = await readWranglerConfig(root);
    const scriptPath = await buildWranglerBundle(root, config, join(dir, 'bundle'), join(dir, 'wrangler-logs'));
    const dbPath = join(dir, 'leadline.db');
    db = await startHranaServer({ path: dbPath, authToken: opts.token });
    const runtimeLog: string[] = [];
    const database = db;
    const start = async (bindings: Record<string, string> = {}, options: Partial<MiniflareOptions> = {}) => {
      const mf = await startMiniflare(
        {
          modules: true,
          scriptPath,
          modulesRoot: dirname(scriptPath),
          compatibilityDate: config.compatibility_date,
          compatibilityFlags: config.compatibility_flags,
          bindings: { ...config.vars, LOG_LEVEL: 'warn', DATABASE_URL: database.url, DATABASE_AUTH_TOKEN: opts.token, ADMIN_API_KEY: opts.adminKey, ...bindings },
          ...options,
          handleRuntimeStdio(stdout: Readable, stderr: Readable) {
            stdout.on('data', (b) => runtimeLog.push(String(b)));
            stderr.on('data', (b) => runtimeLog.push(String(b)));
          },
        } as MiniflareOptions,
        join(dir, 'miniflare'),
        () => runtimeLog.join(''),
      );
      started.push(mf);
      // A test may dispose one itself; close() then leaves it alone.
      const dispose = mf.dispose.bind(mf);
      mf.dispose = () => {
        started.splice(started.indexOf(mf) >>> 0, 1);
        return dispose();
      };
      return mf;
    };
    const log = () => `\n--- workerd output ---\n${runtimeLog.join('').slice(-4000)}`;
    const site = async (mf: Miniflare, origin: string) => {
      const res = await mf.dispatchFetch('http://leadline.test/api/v1/sites', {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Shop', allowed_origins: [origin] }),
      });
      const body = (await res.json()) as { public_key?: string };
      if (res.status !== 201 || !body.public_key) throw new Error(JSON.stringify(body) + log());
      return body.public_key;
    };
    return { config, dbPath, db, start, site, close, log };
  } catch (e) {
    await close();
    throw e;
  }
}
