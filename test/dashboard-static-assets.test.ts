// The dashboard's content-hashed files as Workers Static Assets (wrangler.toml [assets]), in workerd:
// the bundle `wrangler deploy` would upload runs in Miniflare together with dist/public as its
// assets directory, routed as Cloudflare routes it (a path matching a file is answered by the asset
// worker, with dist/public/_headers applied, and never runs the Worker; any other path reaches the
// Worker). Miniflare reads _headers itself, so its headers are tested here; the edge's compression
// and caching are Cloudflare's and are not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Miniflare, MiniflareOptions } from 'miniflare';
import { bundledWorker, type BundledWorker } from './workerd';
import { ensureBuilt, root } from './node-server';
import { CHROME_UA } from './tracking-helpers';
import { DASHBOARD_ASSETS } from '../api/generated/dashboard';

const TOKEN = 'hrana-static-assets-token-0123456789';
const ADMIN_KEY = 'll_static_assets_admin_key_0123456789';
const ORIGIN = 'http://leadline.test';
const SHOP = 'https://shop.example.com';
const DIST_ASSETS = join(root, 'dist/dashboard/assets');
const PUBLIC_ASSETS = join(root, 'dist/public/app/assets');
/** Set by the asset worker on what it serves, never by the Worker: tells who answered. */
const FROM_ASSETS = 'cf-cache-status';
/** Headers that depend on the encoding, the framing or who stores the bytes, not on what the file is. */
const PER_SERVER = new Set(['content-encoding', 'content-length', 'transfer-encoding', 'content-type', 'etag', 'vary', 'date', FROM_ASSETS]);

/** wrangler.toml's [assets] as Miniflare's options, routed as `wrangler dev` routes them (a user Worker present). */
function assetsOptions(config: BundledWorker['config']): Partial<MiniflareOptions> {
  const a = config.assets!;
  return {
    assets: {
      directory: resolve(root, a.directory!),
      routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: a.run_worker_first === true },
      assetConfig: { html_handling: a.html_handling, not_found_handling: a.not_found_handling },
    },
  } as Partial<MiniflareOptions>;
}

const headersOf = (res: { headers: Iterable<[string, string]> }) => Object.fromEntries([...res.headers].map(([k, v]) => [k.toLowerCase(), v]));
const sameFileHeaders = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([k]) => !PER_SERVER.has(k)));

describe('the dashboard’s files as Workers Static Assets, the Worker bundle and dist/public in workerd', () => {
  let worker: BundledWorker | undefined;
  let config: BundledWorker['config'];
  /** The Worker with wrangler.toml's static assets, as deployed. */
  let edge: Miniflare;
  /** The same bundle without them (Node's behaviour, and what the headers must match). */
  let bare: Miniflare;
  let manifest: { entry: string; css: string | null; views: Record<string, string> };
  const log = () => worker?.log() ?? '';
  /** A request as a browser sends it (a navigation when `navigate`). */
  const get = (mf: Miniflare, path: string, headers: Record<string, string> = {}) =>
    mf.dispatchFetch(`${ORIGIN}${path}`, { headers: { 'user-agent': CHROME_UA, 'accept-encoding': 'identity', ...headers } });

  beforeAll(async () => {
    ensureBuilt();
    manifest = JSON.parse(readFileSync(join(root, 'dist/dashboard/manifest.json'), 'utf8'));
    worker = await bundledWorker(root, 'static-assets', { token: TOKEN, adminKey: ADMIN_KEY });
    config = worker.config;
    edge = await worker.start({}, assetsOptions(config));
    bare = await worker.start();
  }, 180_000);

  afterAll(() => worker?.close(), 60_000);

  it('wrangler.toml serves dist/public, with no SPA fallback and no Worker-first routing for the whole site', () => {
    expect(resolve(root, config.assets!.directory!)).toBe(join(root, 'dist/public'));
    expect(config.assets!.not_found_handling ?? 'none').toBe('none');
    expect(config.assets!.run_worker_first ?? false).toBe(false);
  });

  it('the build puts exactly the names the Worker route serves in dist/public/app/assets, with the same bytes, and no index.html', () => {
    const names = readdirSync(PUBLIC_ASSETS).sort();
    expect(names).toEqual(Object.keys(DASHBOARD_ASSETS).sort());
    expect(names).toEqual(readdirSync(DIST_ASSETS).sort());
    for (const n of names) expect(readFileSync(join(PUBLIC_ASSETS, n)).equals(readFileSync(join(DIST_ASSETS, n))), n).toBe(true);
    expect(readdirSync(join(root, 'dist/public/app'))).toEqual(['assets']);
  });

  it('serves the hashed files from static assets: the build’s bytes, the headers the Worker route gives them, 304 on a match', async () => {
    const names = [manifest.entry, manifest.css, ...Object.values(manifest.views)].filter((n): n is string => !!n);
    expect(names.length).toBeGreaterThan(3);
    for (const name of names) {
      const path = `/app/assets/${name}`;
      const res = await get(edge, path);
      const body = Buffer.from(await res.arrayBuffer());
      const h = headersOf(res);
      expect(res.status, `${path} ${JSON.stringify(h)}${log()}`).toBe(200);
      expect(h[FROM_ASSETS], `${path} answered by the Worker, not static assets`).toBeDefined();
      expect(body.equals(readFileSync(join(DIST_ASSETS, name))), name).toBe(true);
      expect(h['content-type'], name).toMatch(name.endsWith('.css') ? /^text\/css/ : /^(application|text)\/javascript/);

      // The Worker's own answer for the same file (the bundle without static assets, as on Node).
      const fromWorker = await get(bare, path);
      await fromWorker.arrayBuffer();
      expect(fromWorker.status).toBe(200);
      const workerHeaders = sameFileHeaders(headersOf(fromWorker));
      expect(workerHeaders).toMatchObject({
        'content-security-policy': expect.stringContaining("script-src 'self'"),
        'referrer-policy': 'same-origin',
        'x-frame-options': 'DENY',
        'x-content-type-options': 'nosniff',
        'cache-control': 'public, max-age=31536000, immutable',
      });
      expect(sameFileHeaders(h), name).toEqual(workerHeaders);

      const again = await get(edge, path, { 'if-none-match': h.etag! });
      await again.arrayBuffer();
      expect(again.status, name).toBe(304);
    }
  });

  it('/app and every /app/<route> still get index.html from the Worker, with the CSP and no-cache', async () => {
    const index = readFileSync(join(root, 'dist/dashboard/index.html'), 'utf8');
    for (const path of ['/app', '/app/', '/app/some/route', '/app/reports/traffic']) {
      for (const headers of [{}, { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', accept: 'text/html' }] as Record<string, string>[]) {
        const res = await get(edge, path, headers);
        const h = headersOf(res);
        expect(res.status, `${path} ${JSON.stringify(h)}${log()}`).toBe(200);
        expect(await res.text(), path).toBe(index);
        expect(h[FROM_ASSETS], path).toBeUndefined();
        expect(h['content-security-policy']).toContain("default-src 'none'");
        expect(h['content-security-policy']).toContain("frame-ancestors 'none'");
        expect(h['cache-control'], path).toBe('no-cache');
        expect(h['content-type']).toMatch(/^text\/html/);
      }
    }
  });

  it('a name not among the static assets reaches the Worker’s route: a 404, never index.html', async () => {
    for (const path of ['/app/assets/nope.js', '/app/assets/main-NOTBUILT.js', '/app/assets/', '/app/assets/sub/nope.css']) {
      for (const headers of [{}, { 'sec-fetch-mode': 'navigate', accept: 'text/html' }] as Record<string, string>[]) {
        const res = await get(edge, path, headers);
        const text = await res.text();
        expect(res.status, `${path}: ${text.slice(0, 200)}${log()}`).toBe(404);
        expect(res.headers.get(FROM_ASSETS), path).toBeNull();
        expect(text, path).not.toMatch(/<!doctype html>/i);
        expect(JSON.parse(text)).toMatchObject({ error: { code: 'NOT_FOUND' } });
      }
    }
  });

  it('/api/v1/… and /t still reach the Worker', async () => {
    const doc = await get(edge, '/api/v1/openapi.json', { 'sec-fetch-mode': 'navigate', accept: 'text/html' });
    expect(doc.status).toBe(200);
    expect(doc.headers.get(FROM_ASSETS)).toBeNull();
    expect(((await doc.json()) as { openapi: string }).openapi).toMatch(/^3\.1\./);

    const missing = await get(edge, '/api/v1/nope', { authorization: `Bearer ${ADMIN_KEY}` });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });

    const siteKey = await worker!.site(edge, SHOP);
    const hit = await edge.dispatchFetch(`${ORIGIN}/t`, {
      method: 'POST',
      headers: { 'user-agent': CHROME_UA, origin: SHOP, 'cf-connecting-ip': '203.0.113.20', 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ k: siteKey, v: 'visitor-static-00000001', e: [{ t: 'pv', u: `${SHOP}/` }] }),
    });
    const text = await hit.text();
    expect(hit.status, text + log()).toBeLessThan(300);
    expect(hit.headers.get(FROM_ASSETS)).toBeNull();
  });

  it('the /docs renderer is still a static asset with its own headers (not the dashboard’s)', async () => {
    const name = readdirSync(join(root, 'dist/public/docs')).find((f) => /^scalar\.[0-9a-f]{12}\.js$/.test(f))!;
    const res = await get(edge, `/docs/${name}`);
    await res.arrayBuffer();
    const h = headersOf(res);
    expect(res.status).toBe(200);
    expect(h[FROM_ASSETS]).toBeDefined();
    expect(h['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(h['content-security-policy']).toBeUndefined();
  });
});
