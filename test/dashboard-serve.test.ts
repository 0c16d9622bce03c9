// The dashboard as the built Node server (dist/node.mjs) serves it over real HTTP: the SPA
// fallback, hashed assets cached for good, a missing asset a 404, pre-compressed bytes by
// Accept-Encoding, the CSP, and the JavaScript budget as it goes over the wire (DESIGN.md:
// sign-in page + shell ≤ 50 KB gzip; each view its own lazily loaded chunk).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, root, startNode, type NodeServer, type RawResponse } from './node-server';

const BUDGET = 50 * 1024;

let server: NodeServer;
beforeAll(async () => {
  server = await startNode({ LOG_LEVEL: 'info' });
});
afterAll(() => server?.stop());

const get = (path: string, headers: Record<string, string> = {}) => rawRequest(server.port, { path, headers });
const decoded = (r: RawResponse) =>
  r.headers['content-encoding'] === 'br' ? brotliDecompressSync(r.body) : r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body;
const manifest = () => JSON.parse(readFileSync(join(root, 'dist/dashboard/manifest.json'), 'utf8'));

/** The script and stylesheet URLs index.html names. */
function entryOf(html: string) {
  const js = /<script type="module" src="(\/app\/assets\/[^"]+\.js)"><\/script>/.exec(html)?.[1];
  const css = /<link rel="stylesheet" href="(\/app\/assets\/[^"]+\.css)">/.exec(html)?.[1];
  return { js: js!, css: css! };
}

// Imports of an ES module as esbuild writes them (minified, publicPath /app/assets/):
// import{…}from"/app/assets/x.js", import"/app/assets/x.js", import("/app/assets/x.js").
const CHUNK = `["'](?:\\./|/app/assets/)([^"'/]+\\.js)["']`;
const staticImports = (js: string) => [...js.matchAll(new RegExp(`(?:^|[;}\\s])import\\s*(?:[\\w$,{}\\s*]+?from\\s*)?${CHUNK}`, 'g'))].map((m) => m[1]!);
const dynamicImports = (js: string) => [...js.matchAll(new RegExp(`import\\(\\s*${CHUNK}\\s*\\)`, 'g'))].map((m) => m[1]!);

describe('GET /app', () => {
  it('serves index.html for /app and any path below it, not cached stale, under a strict CSP', async () => {
    const first = await get('/app');
    expect(first.status).toBe(200);
    const html = decoded(first).toString();
    expect(html).toContain('<div id="app">');
    for (const path of ['/app/', '/app/login', '/app/reports/traffic?from=2026-01-01', '/app/no/such/view']) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.headers['content-type'], path).toMatch(/^text\/html/);
      expect(decoded(r).toString(), path).toBe(html);
    }
    expect(first.headers['cache-control']).toBe('no-cache');
    expect(first.headers['x-content-type-options']).toBe('nosniff');
    const csp = first.headers['content-security-policy']!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    // No inline script or style for the CSP to forbid.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    // Revalidation: a 304 for the ETag.
    const again = await get('/app/login', { 'if-none-match': first.headers.etag! });
    expect(again.status).toBe(304);
  });

  it('answers a missing asset with a 404 (never index.html), and other methods with 405', async () => {
    for (const path of ['/app/assets/main-NOTBUILT.js', '/app/assets/', '/app/assets/x/y.css']) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect(JSON.parse(r.body.toString()).error.code).toBe('NOT_FOUND');
    }
    const post = await rawRequest(server.port, { method: 'POST', path: '/app', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(post.status).toBe(405);
  });

  it('serves hashed assets pre-compressed by Accept-Encoding, with Vary, cached for good', async () => {
    const { js, css } = entryOf(decoded(await get('/app')).toString());
    for (const path of [js, css]) {
      const file = readFileSync(join(root, 'dist/dashboard/assets', path.split('/').pop()!));
      const plain = await get(path);
      const gz = await get(path, { 'accept-encoding': 'gzip' });
      const br = await get(path, { 'accept-encoding': 'gzip, deflate, br' });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(br.headers['content-encoding']).toBe('br');
      for (const r of [plain, gz, br]) {
        expect(r.status).toBe(200);
        expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
        expect(r.headers.vary).toBe('Accept-Encoding');
        expect(r.headers['content-type']).toMatch(path.endsWith('.js') ? /^application\/javascript/ : /^text\/css/);
        expect(decoded(r).equals(file)).toBe(true);
      }
      expect(br.body.length).toBeLessThan(gz.body.length);
      expect(gz.headers.etag).not.toBe(br.headers.etag);
    }
  });
});

describe('the JavaScript budget, as served', () => {
  it('sign-in page and shell ≤ 50 KB gzip; each view a chunk of its own, loaded only when shown', async () => {
    const html = decoded(await get('/app')).toString();
    const { js } = entryOf(html);
    // Walk the entry's static imports over HTTP: everything the browser must run before the sign-in page shows.
    const shell: string[] = [];
    const queue = [js.split('/').pop()!];
    let gzipBytes = 0;
    let identityBytes = 0;
    const sizes: string[] = [];
    while (queue.length) {
      const name = queue.shift()!;
      if (shell.includes(name)) continue;
      shell.push(name);
      const gz = await get(`/app/assets/${name}`, { 'accept-encoding': 'gzip' });
      const plain = await get(`/app/assets/${name}`);
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(plain.headers['content-encoding']).toBeUndefined();
      gzipBytes += gz.bodyWireBytes;
      identityBytes += plain.bodyWireBytes;
      sizes.push(`${name} ${gz.bodyWireBytes} B gzip / ${plain.bodyWireBytes} B`);
      queue.push(...staticImports(plain.body.toString()));
    }
    const m = manifest();
    expect(shell.sort()).toEqual([...m.shell].sort());
    console.log(`dashboard shell + sign-in JS: ${gzipBytes} B gzip as served (${identityBytes} B without compression; budget ${BUDGET}): ${sizes.join(', ')}`);
    expect(gzipBytes).toBeLessThanOrEqual(BUDGET);

    // Every view is import()ed by the shell, and none is part of it.
    const dynamic = new Set(shell.flatMap((n) => dynamicImports(readFileSync(join(root, 'dist/dashboard/assets', n), 'utf8'))));
    expect(Object.keys(m.views).sort()).toEqual(['broadcasts', 'campaign', 'campaigns', 'contact', 'contacts', 'contacts-import', 'email-report', 'emails', 'focus-items', 'forms', 'home', 'pages', 'reports', 'segments', 'settings', 'settings-api-keys', 'settings-email', 'settings-points', 'settings-sites', 'settings-stages', 'settings-users', 'settings-webhooks', 'slots']);
    for (const [view, chunk] of Object.entries<string>(m.views)) {
      expect(dynamic.has(chunk), `${view} is import()ed`).toBe(true);
      expect(shell, `${view} is not in the shell`).not.toContain(chunk);
      const gz = await get(`/app/assets/${chunk}`, { 'accept-encoding': 'gzip' });
      expect(gz.status).toBe(200);
      console.log(`dashboard view ${view}: ${chunk} ${gz.bodyWireBytes} B gzip as served (its shared chunks: ${staticImports(readFileSync(join(root, 'dist/dashboard/assets', chunk), 'utf8')).filter((c) => !shell.includes(c)).map((c) => `${c} ${gunzipSafe(c)}`).join(', ') || 'none'})`);
    }
  });
});

function gunzipSafe(name: string): string {
  return `${gzipSync(readFileSync(join(root, 'dist/dashboard/assets', name)), { level: 9 }).length} B gzip`;
}
