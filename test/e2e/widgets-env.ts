// Browser tests of the forms/focus chunk against the real app: @hono/node-server on a temp file
// database with disk asset storage, pages on another origin (127.0.0.2) under a strict CSP
// (nonce-only styles, Trusted Types), Debian's Chromium. Assertions read the database and API.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from '@libsql/client';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { createApp } from '../../api/app';
import { createCtx } from '../../api/core/context';
import { parseConfig } from '../../api/env';
import { prepareDatabase } from '../../api/db/open';
import { createApiKey } from '../../api/core/access/api-keys';
import { settleDeferred } from '../../api/routes/defer';
import { diskStorage } from '../../api/entry/storage-disk';
import { launchBrowser, NONCE, waitFor } from './harness';

export type Row = Record<string, any>;

export interface Env {
  api: string;
  site: string;
  client: Client;
  adminKey: string;
  browser: Browser;
  ua: string;
}

export interface PageSpec {
  key: string;
  body?: string;
  /** Extra attributes for the w.js tag. */
  attrs?: string;
  /** 'strict-dynamic': scripts only by nonce, no host list (what strict CSPs look like). */
  csp?: 'hosts' | 'strict-dynamic';
  title?: string;
  /** More CSS for the page's nonce'd <style>. */
  style?: string;
}

const pages = new Map<string, PageSpec>();
let pageNo = 0;
/** Registers a page on the site; anything below its path serves the same page. */
export function sitePage(spec: PageSpec): string {
  const id = String(++pageNo);
  pages.set(id, spec);
  return `/p/${id}`;
}

function html(env: Env, s: PageSpec): { body: string; csp: string } {
  const scripts = s.csp === 'strict-dynamic' ? `'nonce-${NONCE}' 'strict-dynamic'` : `'nonce-${NONCE}' ${env.api}`;
  const csp = [
    "default-src 'none'",
    `script-src ${scripts}`,
    `connect-src ${env.api}`,
    `style-src 'nonce-${NONCE}'`,
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "require-trusted-types-for 'script'",
  ].join('; ');
  const body =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${s.title ?? 'Widgets'}</title>` +
    `<style nonce="${NONCE}">.tall{height:5000px}${s.style ?? ''}</style>` +
    `<script async nonce="${NONCE}" src="${env.api}/w.js" data-site="${s.key}" data-allow-local ${s.attrs ?? ''}></script>` +
    `</head><body><button id="before">before</button>${s.body ?? ''}<button id="after">after</button></body></html>`;
  return { body, csp };
}

async function listen(server: HttpServer | ReturnType<typeof serve>): Promise<number> {
  await new Promise<void>((ok) => (server as HttpServer).once('listening', ok));
  return ((server as HttpServer).address() as AddressInfo).port;
}

export const TIMEOUT = 60_000;

/** Starts the app, the site and the browser for one test file; closes them after it. */
export function useWidgetEnv(): Env {
  const env = {} as Env;
  const closers: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leadline-widgets-'));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const url = `file:${join(dir, 'e2e.db')}`;
    env.client = createClient({ url });
    await prepareDatabase(env.client, url);
    // A generous rate limit: every test submits from 127.0.0.1.
    const config = parseConfig({ DATABASE_URL: url, LOG_LEVEL: 'error', PUBLIC_RATE_LIMIT: '100000' });
    const ctx = createCtx({ client: env.client, config });
    const app = createApp({ ctx, public: { clientIp: (c) => getConnInfo(c).remote.address ?? null }, storage: diskStorage(join(dir, 'assets')) });
    env.adminKey = (await createApiKey({ ctx, input: { name: 'e2e admin', scopes: ['admin'] } })).secret;
    const apiServer = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    env.api = `http://127.0.0.1:${await listen(apiServer)}`;
    closers.push(async () => {
      if ('closeAllConnections' in apiServer) apiServer.closeAllConnections();
      await new Promise<void>((ok) => apiServer.close(() => ok()));
      await settleDeferred();
      env.client.close();
    });

    const site = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const spec = pages.get(path.split('/')[2] ?? '');
      if (path === '/favicon.ico') return res.writeHead(204).end();
      if (path === '/landing') return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Landing</title><p>landed');
      if (!path.startsWith('/p/') || !spec) return res.writeHead(404).end('not found');
      const { body, csp } = html(env, spec);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp }).end(body);
    }).listen(0, '127.0.0.2');
    env.site = `http://127.0.0.2:${await listen(site)}`;
    closers.push(() => new Promise((ok) => (site.closeAllConnections(), site.close(ok))));

    env.browser = await launchBrowser();
    closers.push(() => env.browser.close());
    // Headless Chromium names itself HeadlessChrome, which the bot filter drops.
    env.ua = `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${env.browser.version().split('.')[0]}.0.0.0 Safari/537.36`;
  }, TIMEOUT);
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => undefined)));
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }, TIMEOUT);
  current = env;
  return env;
}

let current: Env;
const contexts: BrowserContext[] = [];

/** A fresh context (a new browser session) whose console errors and CSP violations are collected. */
export async function open(options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await current.browser.newContext({ userAgent: current.ua, ...options });
  contexts.push(context);
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, errors };
}

/** A REST call with the admin key. */
export async function api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(current.api + path, {
    method,
    headers: { authorization: `Bearer ${current.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Creates through the API and fails the test with the server's words if it refuses. */
export async function create<T = any>(path: string, body: unknown): Promise<T> {
  const r = await api<T>('POST', path, body);
  if (r.status !== 201) throw new Error(`POST ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** A site accepting the page server's origin. */
export async function makeSite(settings: Record<string, unknown> = {}): Promise<{ id: number; public_key: string; secret: string }> {
  return create('/api/v1/sites', {
    name: `Widgets ${randomBytes(3).toString('hex')}`,
    allowed_origins: [current.site],
    settings: { allow_automation: true, ...settings },
  });
}

export async function rows(sql: string, args: (string | number)[] = []): Promise<Row[]> {
  return (await current.client.execute({ sql, args })).rows.map((r) => ({ ...r }));
}

export const eventsOf = (siteId: number, type: string) =>
  rows('SELECT * FROM events WHERE site_id = ? AND type = ? ORDER BY id', [siteId, type]);

/** Polls until the site has at least n events of this type. */
export const waitEvents = (siteId: number, n: number, type: string) =>
  waitFor(async () => {
    const r = await eventsOf(siteId, type);
    return r.length >= n && r;
  }, `${n} ${type} row(s) for site ${siteId}`, 10_000);

export const propsOf = (r: Row) => (r.props === null ? null : JSON.parse(String(r.props)));

/** The page's URL for a registered page spec. */
export const urlOf = (spec: PageSpec) => current.site + sitePage(spec);

/** Fails on any console error (CSP violations included), ignoring the ones a test expects. */
export function noErrors(errors: string[], expected: RegExp[] = []) {
  expect(errors.filter((e) => !expected.some((x) => x.test(e)))).toEqual([]);
}
