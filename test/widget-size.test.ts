import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { makeApp } from './helpers';

// The forms/focus chunk (widgets/chunk/, Preact included): DESIGN.md budgets 12 KB gzip -9;
// this test fails above 15 KB. w.js has its own test (tracker-size.test.ts).
const FILE = 'dist/widgets/w-chunk.js';
const TARGET = 12 * 1024;
const HARD_CAP = 15 * 1024;

describe('w-chunk.js bundle', () => {
  // `npm test` builds first; a bare `vitest run` of this file builds on its own.
  if (!existsSync(FILE)) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  const code = readFileSync(FILE, 'utf8');

  it('stays within the size budget', () => {
    const size = gzipSync(code, { level: 9 }).length;
    console.log(`w-chunk.js: ${code.length} B minified, ${size} B gzip -9 (target ${TARGET}, cap ${HARD_CAP})`);
    expect(size).toBeLessThanOrEqual(HARD_CAP);
  });

  it('needs nothing a strict CSP or Trusted Types forbid', () => {
    expect(code).not.toMatch(/\beval\(|new Function|document\.write|insertAdjacentHTML/);
    // Preact's bundle has an innerHTML path, taken only for dangerouslySetInnerHTML: our code never asks.
    for (const f of readdirSync('widgets/chunk')) {
      expect(readFileSync(`widgets/chunk/${f}`, 'utf8'), f).not.toMatch(/dangerouslySetInnerHTML|innerHTML|setAttribute\(['"]style/);
    }
  });

  it('is the ES module w.js imports (a default export) and matches what the server embeds', async () => {
    expect(code).toMatch(/export\s*\{\s*\w+ as default\s*\}/);
    const generated = '../api/generated/widgets';
    const { W_CHUNK_JS, W_CHUNK_ETAG } = await import(generated);
    expect(W_CHUNK_JS).toBe(code);
    expect(W_CHUNK_ETAG).toMatch(/^"[0-9a-f]{16}"$/);
  });
});

describe('GET /w-chunk.js', () => {
  it('serves the chunk like /w.js: ETag, caching, 304, and CORS (w.js import()s it: a module fetch)', async () => {
    const t = await makeApp({ memory: true });
    const res = await t.app.request('/w-chunk.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/javascript/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe(readFileSync(FILE, 'utf8'));
    const etag = res.headers.get('etag')!;
    const cached = await t.app.request('/w-chunk.js', { headers: { 'if-none-match': etag } });
    expect(cached.status).toBe(304);
    expect(await cached.text()).toBe('');
    t.client.close();
  });
});

describe('the chunk version w.js asks for', () => {
  it('is the content hash of the chunk, and that URL may be cached for good', async () => {
    const { createHash } = await import('node:crypto');
    const version = createHash('sha256').update(readFileSync(FILE, 'utf8')).digest('hex').slice(0, 8);
    expect(readFileSync('dist/widgets/w.js', 'utf8')).toContain(`/w-chunk.js?v=${version}`);
    const t = await makeApp({ memory: true });
    const pinned = await t.app.request(`/w-chunk.js?v=${version}`);
    expect(pinned.headers.get('cache-control')).toContain('immutable');
    const stale = await t.app.request('/w-chunk.js?v=00000000');
    expect(stale.headers.get('cache-control')).not.toContain('immutable');
    t.client.close();
  });
});
