// Browser-test harness for the tracker: a collector (fake now, swappable for the real app),
// a site on another origin with a strict CSP, and Debian's Chromium through playwright-core.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { createClient } from '@libsql/client';
import { serve } from '@hono/node-server';
import type { TrackEvent, TrackPayload } from '../../api/core/tracking/payload';
import { createApp, type AppDeps } from '../../api/app';
import { createCtx } from '../../api/core/context';
import { createApiKey } from '../../api/core/access/api-keys';
import { parseConfig } from '../../api/env';
import { prepareDatabase } from '../../api/db/open';
import { settleDeferred } from '../../api/routes/defer';

/** Where the tracker sends events. The real app can stand in for the fake by implementing this. */
export interface Collector {
  /** Origin serving GET /w.js and POST /t. */
  url: string;
  /** Every payload received so far, in arrival order. */
  payloads(): Promise<TrackPayload[]>;
  close(): Promise<void>;
}

/** One event with the payload fields it travelled with. */
export type Hit = TrackEvent & Pick<TrackPayload, 'k' | 'v' | 'b' | 'id'>;

async function listen(server: Server, host: string): Promise<string> {
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, host, ok));
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((ok) => server.close(() => ok()));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => ok(Buffer.concat(chunks).toString('utf8'))).on('error', fail);
  });
}

/** A stand-in for POST /t that keeps what it is sent, and serves the built w.js. */
export async function startCollector(): Promise<Collector> {
  const got: TrackPayload[] = [];
  const server = createServer(async (req, res) => {
    const origin = req.headers.origin;
    if (origin) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'Origin');
    }
    const path = req.url?.split('?')[0];
    if (req.method === 'GET' && (path === '/w.js' || path === '/w-chunk.js')) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
      res.end(readFileSync(`dist/widgets${path}`));
    } else if (req.method === 'GET' && req.url?.startsWith('/focus?')) {
      // w.js asks for focus items after each page view; this collector has none.
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[]}');
    } else if (req.method === 'POST' && req.url === '/t') {
      const text = await readBody(req);
      try {
        got.push(JSON.parse(text));
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    } else if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type' }).end();
    } else {
      res.writeHead(404).end();
    }
  });
  const url = await listen(server, '127.0.0.1');
  return { url, payloads: async () => got.slice(), close: () => closeServer(server) };
}

/** A nonce lets test pages carry inline scripts while the CSP still forbids any other inline code. */
export const NONCE = randomBytes(12).toString('base64url');

export interface PageSpec {
  /** Site key for data-site; give each test its own to tell its events apart. */
  site: string;
  /** Extra attributes for the script tag, e.g. 'data-consent="required"'. */
  attrs?: string;
  /** Inline script run before the tag (the queue snippet, a before-send function). */
  script?: string;
  body?: string;
  /** Leave out data-allow-local (Chromium under automation is otherwise always skipped). */
  local?: boolean;
}

export interface Site {
  /** Loopback origin of the site (127.0.0.2). */
  url: string;
  /** The same server by a non-loopback name, mapped to 127.0.0.2 by the browser's resolver. */
  named: string;
  /** Another host on the same server, for outbound links. */
  other: string;
  /** Registers a page; returns its path (anything below it serves the same page). */
  page(spec: PageSpec): string;
  close(): Promise<void>;
}

/** The site under test, on an origin other than the collector's, with a strict CSP. */
export async function startSite(collector: string): Promise<Site> {
  const pages = new Map<string, PageSpec>();
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${NONCE}' ${collector}`,
    `connect-src ${collector}`,
    `style-src 'nonce-${NONCE}'`,
    "base-uri 'none'",
    "form-action 'none'",
    "require-trusted-types-for 'script'",
  ].join('; ');
  const html = (s: PageSpec) =>
    `<!doctype html><html><head><meta charset="utf-8"><title>Page ${s.site}</title>` +
    `<style nonce="${NONCE}">.tall{height:4000px}</style>` +
    (s.script ? `<script nonce="${NONCE}">${s.script}</script>` : '') +
    `<script async src="${collector}/w.js" data-site="${s.site}" ${s.local ? '' : 'data-allow-local'} ${s.attrs ?? ''}></script>` +
    `</head><body>${s.body ?? ''}</body></html>`;
  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) =>
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp, ...headers }).end(body);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const spec = pages.get(path.split('/')[2] ?? '');
    if (path.startsWith('/p/') && spec) send(res, 200, html(spec));
    else if (path.startsWith('/files/'))
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-disposition': 'attachment' }).end('file');
    else if (path === '/landing') send(res, 200, '<!doctype html><title>Landing</title><p>landed</p>');
    else send(res, 404, 'not found');
  });
  const url = await listen(server, '127.0.0.2');
  const port = new URL(url).port;
  let n = 0;
  return {
    url,
    named: `http://site.test:${port}`,
    other: `http://other.test:${port}`,
    page(spec) {
      const id = `${++n}`;
      pages.set(id, spec);
      return `/p/${id}`;
    },
    close: () => closeServer(server),
  };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      // Names under .test reach the site server, so pages can sit on a non-loopback host.
      '--host-resolver-rules=MAP *.test 127.0.0.2',
    ],
    timeout: 30_000,
  });
}

/** A fresh context whose page records console errors (a CSP violation shows up there); init is script source run before each document. */
export async function openPage(browser: Browser, init?: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, errors };
}

/** A site key of the shape the server accepts, unique per test. */
export const siteKey = () => `site_${randomBytes(8).toString('hex')}`;

export async function payloadsOf(c: Collector, site: string): Promise<TrackPayload[]> {
  return (await c.payloads()).filter((p) => p.k === site);
}

export async function hits(c: Collector, site: string): Promise<Hit[]> {
  return (await payloadsOf(c, site)).flatMap((p) => (p.e ?? []).map((e) => ({ ...e, k: p.k, v: p.v, b: p.b, id: p.id })));
}

/** Polls until check returns a truthy value; fails with the last state after the timeout. */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, timeout = 5_000): Promise<T> {
  const end = Date.now() + timeout;
  for (;;) {
    const r = await check();
    if (r) return r;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

/** Waits until the collector holds at least `count` events of this site matching `match`. */
export function waitHits(c: Collector, site: string, match: (h: Hit) => boolean, count = 1): Promise<Hit[]> {
  return waitFor(async () => {
    const found = (await hits(c, site)).filter(match);
    return found.length >= count && found;
  }, `${count} matching event(s) for ${site}`);
}

export const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export interface Env {
  collector: Collector;
  site: Site;
  browser: Browser;
}

/**
 * One collector, site and browser per test file (started in beforeAll, closed in afterAll);
 * each test opens its own context. Swap the collector here to run against the real app.
 */
export function useEnv(): Env {
  const env = {} as Env;
  beforeAll(async () => {
    env.collector = await startCollector();
    env.site = await startSite(env.collector.url);
    env.browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await env.browser?.close();
    await env.site?.close();
    await env.collector?.close();
  }, 30_000);
  return env;
}

export interface AppEnv {
  /** The app's own address, http://127.0.0.1:<port>. */
  url: string;
  /** An admin API key's secret. */
  key: string;
  browser: Browser;
  /** A JSON call to the app's API with the admin key. */
  api: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;
}

/**
 * The real app on 127.0.0.1 (an in-memory database with the real migrations, an admin key) and a
 * browser, per test file. The server listens before the app is made, so `publicUrl` can make its
 * own address the PUBLIC_URL that links in messages carry; `deps` adds what an entry would pass.
 */
export function useAppInBrowser(opts: { publicUrl?: boolean; deps?: Omit<AppDeps, 'ctx'> } = {}): AppEnv {
  const env = {} as AppEnv;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    let fetchApp: (req: Request) => Response | Promise<Response> = () => new Response('starting', { status: 503 });
    const server = serve({ fetch: (req) => fetchApp(req), port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((ok) => server.once('listening', ok));
    env.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = createClient({ url: ':memory:' });
    await prepareDatabase(client, ':memory:');
    const ctx = createCtx({ client, config: parseConfig({ DATABASE_URL: ':memory:', LOG_LEVEL: 'error', ...(opts.publicUrl ? { PUBLIC_URL: env.url } : {}) }) });
    env.key = (await createApiKey({ ctx, input: { name: 'admin', scopes: ['admin'] } })).secret;
    fetchApp = createApp({ ctx, ...opts.deps }).fetch;
    env.browser = await launchBrowser();
    close = async () => {
      await env.browser.close();
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await settleDeferred();
      client.close();
    };
  }, 60_000);
  afterAll(() => close?.());
  env.api = async (method, path, body) => {
    const res = await fetch(`${env.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${env.key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  return env;
}
