// The pre-compressed scripts on Workers: workerd compresses a body itself to honour a
// Content-Encoding header unless the Response says its bytes are already encoded
// (encodeBody: 'manual'); without that, w.js would arrive compressed twice. The script routes
// run in workerd (Miniflare) and the bytes are read off its HTTP socket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { Miniflare } from 'miniflare';
import { ensureBuilt, rawRequest, root } from './node-server';

describe('the scripts served by workerd', () => {
  let mf: Miniflare | undefined;
  let port: number;
  let dir: string;

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'leadline-worker-widgets-'));
    const scriptPath = join(dir, 'worker.mjs');
    await build({
      entryPoints: [join(root, 'test/fixtures/widgets-worker.ts')],
      outfile: scriptPath,
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      conditions: ['workerd', 'worker', 'browser'],
      mainFields: ['module', 'main'],
      logLevel: 'error',
    });
    // Miniflare's scratch files go under os.tmpdir(), read once in the constructor: keep them in
    // this test's own directory rather than leave them in the shared tmp.
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = dir;
    try {
      // modulesRoot: module names are relative to it, and the default (the cwd) cannot reach tmp.
      mf = new Miniflare({ modules: true, scriptPath, modulesRoot: dir, compatibilityDate: '2026-04-01', host: '127.0.0.1', port: 0 });
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    port = Number(new URL(await mf.ready).port);
  });
  afterAll(async () => {
    await mf?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  // Cloudflare's edge (and Miniflare) give the Worker a normalised Accept-Encoding and re-encode
  // for clients that cannot take brotli, so the brotli bytes are what the Worker sends.
  for (const file of ['w.js', 'w-chunk.js']) {
    it(`sends the build's brotli bytes for ${file}, encoded once`, async () => {
      const original = readFileSync(join(root, 'dist/widgets', file));
      const prebuilt = readFileSync(join(root, 'dist/widgets', `${file}.br`));
      const res = await rawRequest(port, { path: `/${file}`, headers: { 'accept-encoding': 'br' } });
      expect(res.status).toBe(200);
      expect(res.headers['content-encoding']).toBe('br');
      expect(res.headers.vary).toBe('Accept-Encoding');
      expect(res.body.equals(prebuilt)).toBe(true);
      expect(brotliDecompressSync(res.body).equals(original)).toBe(true);
    });
  }
});
