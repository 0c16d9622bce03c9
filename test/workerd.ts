// Running a Worker bundle in workerd (Miniflare) for tests: bundle an entry as Wrangler would, and
// start Miniflare with its scratch files in the test's own directory.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare, type MiniflareOptions } from 'miniflare';

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
