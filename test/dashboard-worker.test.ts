// The dashboard on workerd (Miniflare): the same embedded, pre-compressed files as on Node, the
// SPA fallback and the 404 for a missing asset; the bytes are read off workerd's HTTP socket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { ensureBuilt, rawRequest, root } from './node-server';
import { serveFixtureWorker } from './workerd';

describe('the dashboard served by workerd', () => {
  let worker: Awaited<ReturnType<typeof serveFixtureWorker>> | undefined;
  let port: number;

  beforeAll(async () => {
    ensureBuilt();
    worker = await serveFixtureWorker(join(root, 'test/fixtures/dashboard-worker.ts'), 'dashboard-worker');
    port = worker.port;
  }, 60_000);
  afterAll(async () => {
    await worker?.stop();
  });

  it('serves index.html for /app and below, with the CSP, and the build’s brotli bytes for assets, encoded once', async () => {
    const index = readFileSync(join(root, 'dist/dashboard/index.html'), 'utf8');
    for (const path of ['/app', '/app/login', '/app/reports/traffic']) {
      const r = await rawRequest(port, { path, headers: { 'accept-encoding': 'br' } });
      expect(r.status, path).toBe(200);
      expect(r.headers['content-security-policy']).toContain("script-src 'self'");
      expect(r.headers['cache-control']).toBe('no-cache');
      expect(brotliDecompressSync(r.body).toString()).toBe(index);
    }
    const manifest = JSON.parse(readFileSync(join(root, 'dist/dashboard/manifest.json'), 'utf8'));
    for (const name of [manifest.entry, manifest.css, ...Object.values<string>(manifest.views)]) {
      const file = readFileSync(join(root, 'dist/dashboard/assets', name));
      const r = await rawRequest(port, { path: `/app/assets/${name}`, headers: { 'accept-encoding': 'br' } });
      expect(r.status, name).toBe(200);
      expect(r.headers['content-encoding']).toBe('br');
      expect(r.headers.vary).toBe('Accept-Encoding');
      expect(r.headers['cache-control']).toContain('immutable');
      expect(brotliDecompressSync(r.body).equals(file), name).toBe(true);
    }
    const missing = await rawRequest(port, { path: '/app/assets/main-NOTBUILT.js' });
    expect(missing.status).toBe(404);
  });
});
