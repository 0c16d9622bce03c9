// The pre-compressed scripts on Workers: workerd compresses a body itself to honour a
// Content-Encoding header unless the Response says its bytes are already encoded
// (encodeBody: 'manual'); without that, w.js would arrive compressed twice. The script routes
// run in workerd (Miniflare) and the bytes are read off its HTTP socket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { ensureBuilt, rawRequest, root } from './node-server';
import { serveFixtureWorker } from './workerd';

describe('the scripts served by workerd', () => {
  let worker: Awaited<ReturnType<typeof serveFixtureWorker>> | undefined;
  let port: number;

  beforeAll(async () => {
    ensureBuilt();
    worker = await serveFixtureWorker(join(root, 'test/fixtures/widgets-worker.ts'), 'worker-widgets');
    port = worker.port;
  });
  afterAll(async () => {
    await worker?.stop();
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
