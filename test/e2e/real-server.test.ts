// w.js in real Chromium against the real app: @hono/node-server on a temp file database,
// the page on another origin. Assertions read the database and the REST API, not payloads.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from '@libsql/client';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { createCtx } from '../../api/core/context';
import { parseConfig } from '../../api/env';
import { prepareDatabase } from '../../api/db/open';
import { createApiKey } from '../../api/core/access/api-keys';
import { settleDeferred } from '../../api/routes/defer';
import { sign } from '../tracking-helpers';
import { launchBrowser, sleep, startSite, waitFor, type Site } from './harness';

type Server = ReturnType<typeof serve>;
type Row = Record<string, any>;

interface RealApp {
  /** Origin serving GET /w.js, POST /t and the REST API. */
  url: string;
  client: Client;
  adminKey: string;
  close(): Promise<void>;
}

/** The app as the Node entry builds it (client IP from the socket), on its own temp file database. */
async function startApp(): Promise<RealApp> {
  const dir = mkdtempSync(join(tmpdir(), 'leadline-e2e-'));
  const url = `file:${join(dir, 'e2e.db')}`;
  const client = createClient({ url });
  await prepareDatabase(client, url);
  const ctx = createCtx({ client, config: parseConfig({ DATABASE_URL: url, LOG_LEVEL: 'error' }) });
  const app = createApp({ ctx, public: { clientIp: (c) => getConnInfo(c).remote.address ?? null } });
  const adminKey = (await createApiKey({ ctx, input: { name: 'e2e admin', scopes: ['admin'] } })).secret;
  let server!: Server;
  const port = await new Promise<number>((ok) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => ok(info.port));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    client,
    adminKey,
    async close() {
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await settleDeferred();
      client.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const env = {} as { app: RealApp; site: Site; browser: Browser; ua: string };
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  env.app = await startApp();
  env.site = await startSite(env.app.url);
  env.browser = await launchBrowser();
  // Headless Chromium says "HeadlessChrome", which the bot filter drops whatever the site allows;
  // a visitor's Chrome says "Chrome". navigator.webdriver stays true (allow_automation covers that).
  const major = env.browser.version().split('.')[0];
  env.ua = `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Safari/537.36`;
}, 60_000);

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => undefined)));
});

afterAll(async () => {
  await env.browser?.close();
  await env.site?.close();
  await env.app?.close();
}, 30_000);

/** A REST call over HTTP with the admin key. */
async function api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(env.app.url + path, {
    method,
    headers: { authorization: `Bearer ${env.app.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A site registered through the API that accepts hits from the page server's origin. */
async function makeSite(): Promise<{ id: number; public_key: string; secret: string }> {
  const r = await api('POST', '/api/v1/sites', {
    name: `E2E ${randomBytes(3).toString('hex')}`,
    allowed_origins: [env.site.url],
    settings: { allow_automation: true },
  });
  expect(r.status).toBe(201);
  return r.body;
}

async function rows(sql: string, args: (string | number)[] = []): Promise<Row[]> {
  return (await env.app.client.execute({ sql, args })).rows.map((r) => ({ ...r }));
}

const eventsOf = (siteId: number, type?: string) =>
  rows(`SELECT * FROM events WHERE site_id = ? ${type ? 'AND type = ?' : ''} ORDER BY id`, type ? [siteId, type] : [siteId]);

/** Polls until the site has at least n events (of this type); bounded. */
const waitEvents = (siteId: number, n: number, type?: string) =>
  waitFor(async () => {
    const r = await eventsOf(siteId, type);
    return r.length >= n && r;
  }, `${n} ${type ?? 'event'} row(s) for site ${siteId}`);

const propsOf = (r: Row) => (r.props === null ? null : JSON.parse(String(r.props)));

/** A fresh context with a non-headless user agent; console errors are collected. */
async function open(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await env.browser.newContext({ userAgent: env.ua });
  contexts.push(context);
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, errors };
}

/** Calls window.leadline(...args) in the page. */
const ll = (page: Page, ...args: unknown[]) => page.evaluate((a) => (window as any).leadline(...a), args);

const UTM = 'utm_source=news&utm_medium=email&utm_campaign=fall';

/** Arrives at `target` by clicking a link on an untracked page of another host (the referrer). */
async function arriveFromElsewhere(page: Page, target: string): Promise<string> {
  const from = `${env.site.other}/landing`;
  await page.goto(from);
  await page.evaluate((href) => {
    const a = document.createElement('a');
    a.id = 'go';
    a.href = href;
    a.textContent = 'go';
    document.body.append(a);
  }, target);
  await Promise.all([page.waitForURL(target), page.click('#go')]);
  // Cross-origin navigations send only the origin (strict-origin-when-cross-origin).
  return `${env.site.other}/`;
}

const TIMEOUT = 30_000;

describe('w.js against the real app', () => {
  it(
    'stores a page view with UTM, referrer and title, and a visitor with device and first-touch source',
    async () => {
      const { page, errors } = await open();
      const site = await makeSite();
      const landing = `${env.site.url}${env.site.page({ site: site.public_key })}/landing?${UTM}`;
      const referrer = await arriveFromElsewhere(page, landing);
      const [pv] = await waitEvents(site.id, 1, 'page_view');
      expect(pv).toMatchObject({ url: landing, referrer, title: `Page ${site.public_key}`, contact_id: null });
      expect(propsOf(pv)).toMatchObject({ utm_source: 'news', utm_medium: 'email', utm_campaign: 'fall', screen: expect.stringMatching(/^\d+x\d+$/) });
      expect(pv.visitor_id).not.toBeNull();

      const [visitor] = await rows('SELECT * FROM visitors WHERE site_id = ?', [site.id]);
      expect(visitor).toMatchObject({ id: pv.visitor_id, browser: 'Chrome', device: 'desktop', os: 'Linux', page_views: 1, contact_id: null });
      expect(JSON.parse(String(visitor.source))).toEqual({
        utm_source: 'news',
        utm_medium: 'email',
        utm_campaign: 'fall',
        landing_url: landing,
        referrer,
      });
      // The browser's first-party id is the one the server keyed the visitor by.
      const vid = await page.evaluate(() => localStorage.getItem('ll_vid'));
      const byApi = await api('GET', `/api/v1/visitors?site_id=${site.id}&visitor_id=${vid}`);
      expect(byApi.status).toBe(200);
      expect(byApi.body).toMatchObject({ id: visitor.id, visitor_id: vid, browser: 'Chrome', device: 'desktop' });
      expect(byApi.body.recent_events.map((e: Row) => e.type)).toContain('page_view');
      expect(errors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'stores one page view per distinct URL across pushState, replaceState and hashchange',
    async () => {
      const { page, errors } = await open();
      const site = await makeSite();
      const base = `${env.site.url}${env.site.page({ site: site.public_key })}`;
      await page.goto(base);
      await waitEvents(site.id, 1, 'page_view');
      await page.evaluate(() => {
        history.pushState({}, '', location.pathname + '/a');
        history.pushState({}, '', location.pathname.replace(/\/a$/, '/b'));
        history.replaceState({ replaced: true }, '', location.pathname); // same URL: no view
        location.hash = 'x'; // hashchange (and popstate): one view
      });
      await waitEvents(site.id, 4, 'page_view');
      await sleep(500); // anything extra would have arrived by now
      const pvs = await eventsOf(site.id, 'page_view');
      expect(pvs.map((r) => r.url).sort()).toEqual([base, `${base}/a`, `${base}/b`, `${base}/b#x`].sort());
      expect(new Set(pvs.map((r) => r.visitor_id)).size).toBe(1);
      const [visitor] = await rows('SELECT page_views FROM visitors WHERE site_id = ?', [site.id]);
      expect(visitor.page_views).toBe(4);
      expect(errors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'an outbound click navigates at once and is stored as outbound_click',
    async () => {
      const { page, errors } = await open();
      const site = await makeSite();
      const out = `${env.site.other}/landing?via=out`;
      const url = `${env.site.url}${env.site.page({ site: site.public_key, body: `<a id="out" href="${out}"><span>leave</span></a>` })}`;
      await page.goto(url);
      const [pv] = await waitEvents(site.id, 1, 'page_view');
      const started = Date.now();
      await Promise.all([page.waitForURL(out), page.click('#out span')]);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(page.url()).toBe(out);
      const [click] = await waitEvents(site.id, 1, 'outbound_click');
      expect(click).toMatchObject({ url, visitor_id: pv.visitor_id, referrer: null });
      expect(propsOf(click)).toEqual({ href: out });
      await sleep(300);
      expect(await eventsOf(site.id, 'outbound_click')).toHaveLength(1);
      expect(errors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'consent mode: nothing persisted and no visitor until consent; after it the page is the visitor\'s view, once',
    async () => {
      const { context, page, errors } = await open();
      const site = await makeSite();
      const url = `${env.site.url}${env.site.page({ site: site.public_key, attrs: 'data-consent="required"' })}`;
      await page.goto(url);
      await ll(page, 'track', 'before');
      const before = await waitEvents(site.id, 2);
      expect(before.map((r) => [r.type, r.visitor_id, r.contact_id])).toEqual([
        ['page_view', null, null],
        ['custom', null, null],
      ]);
      expect(await rows('SELECT id FROM visitors WHERE site_id = ?', [site.id])).toEqual([]);
      expect(await page.evaluate(() => ({ ls: localStorage.length, cookie: document.cookie }))).toEqual({ ls: 0, cookie: '' });
      expect(await context.cookies()).toEqual([]);

      await ll(page, 'consent', true);
      const vid = await page.evaluate(() => localStorage.getItem('ll_vid'));
      expect(vid).toMatch(/^[A-Za-z0-9]{22}$/);
      await ll(page, 'track', 'after');
      const [after] = await waitFor(async () => {
        const r = (await eventsOf(site.id, 'custom')).filter((e) => e.name === 'after');
        return r.length > 0 && r;
      }, 'the event after consent');
      const [visitor] = await rows('SELECT * FROM visitors WHERE site_id = ?', [site.id]);
      expect(visitor).toMatchObject({ uid: vid, contact_id: null, browser: 'Chrome' });
      expect(after.visitor_id).toBe(visitor.id);
      // The page consent was given on is now the visitor's page view, counted once: the view
      // counted before consent became theirs. Consent given again changes nothing.
      await waitFor(async () => (await eventsOf(site.id, 'page_view')).every((r) => r.visitor_id === visitor.id), 'the consent page view');
      await ll(page, 'consent', true);
      await ll(page, 'track', 'again');
      await waitFor(async () => (await eventsOf(site.id, 'custom')).some((e) => e.name === 'again'), 'the second event after consent');
      await sleep(300);
      const views = await eventsOf(site.id, 'page_view');
      expect(views.map((r) => [r.visitor_id, r.url, r.title])).toEqual([[visitor.id, url, before[0].title]]);
      expect((await rows('SELECT page_views FROM visitors WHERE id = ?', [visitor.id]))[0]!.page_views).toBe(1);
      // Consent is remembered: the next load is this visitor's page view.
      await page.reload();
      await waitFor(async () => (await eventsOf(site.id, 'page_view')).filter((r) => r.visitor_id === visitor.id).length === 2, 'consented page view');
      // What happened before consent, other than the view of the page, stays unlinked.
      expect((await eventsOf(site.id, 'custom')).find((r) => r.name === 'before')).toMatchObject({ visitor_id: null, contact_id: null });
      expect(await rows('SELECT id FROM visitors WHERE site_id = ?', [site.id])).toHaveLength(1);
      expect(errors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'opt-out: nothing more is stored, across a reload and a navigation',
    async () => {
      const { page } = await open();
      const site = await makeSite();
      const path = env.site.page({ site: site.public_key });
      await page.goto(`${env.site.url}${path}`);
      await waitEvents(site.id, 1, 'page_view');
      await ll(page, 'optout');
      await ll(page, 'track', 'nope');
      await ll(page, 'page');
      await page.evaluate(() => history.pushState({}, '', location.pathname + '/spa'));
      await page.reload(); // pagehide (engagement) of the old page, page view of the new one
      await page.waitForFunction(() => (window as any).leadline?.l === 1);
      await ll(page, 'track', 'nope');
      await page.goto(`${env.site.url}${path}/next?${UTM}`);
      await page.waitForFunction(() => (window as any).leadline?.l === 1);
      await sleep(500);
      const all = await eventsOf(site.id);
      expect(all.map((r) => r.type)).toEqual(['page_view']);
      const [visitor] = await rows('SELECT page_views FROM visitors WHERE site_id = ?', [site.id]);
      expect(visitor.page_views).toBe(1);
    },
    TIMEOUT,
  );

  it(
    'a signed identify makes one contact that owns the anonymous page views and their first-touch source',
    async () => {
      const { page, errors } = await open();
      const site = await makeSite();
      const base = `${env.site.url}${env.site.page({ site: site.public_key })}`;
      const landing = `${base}/landing?${UTM}`;
      const referrer = await arriveFromElsewhere(page, landing);
      await waitEvents(site.id, 1, 'page_view');
      await page.goto(`${base}/pricing`);
      const views = await waitEvents(site.id, 2, 'page_view');
      expect(views.map((r) => [r.url, r.contact_id])).toEqual([
        [landing, null],
        [`${base}/pricing`, null],
      ]);
      expect(views[0].visitor_id).toBe(views[1].visitor_id);

      const tag = randomBytes(4).toString('hex');
      const email = `ada.lovelace+${tag}@example.com`;
      // The site's backend signs the normalised email; the page may pass it as typed.
      await ll(page, 'identify', { email: `  Ada.Lovelace+${tag}@Example.COM `, sig: sign(site.secret, email) });
      const listed = () => api('GET', `/api/v1/contacts?q=${encodeURIComponent(email)}`);
      await waitFor(async () => (await listed()).body.data.length > 0, 'the identified contact');
      const jobs = await api('POST', '/internal/jobs/reactions');
      expect(jobs.status).toBe(200);

      const list = await listed();
      expect(list.status).toBe(200);
      expect(list.body.data).toHaveLength(1);
      const contact = list.body.data[0];
      expect(String(contact.email).toLowerCase()).toBe(email);
      expect(contact.first_source).toMatchObject({ utm_source: 'news', utm_medium: 'email', utm_campaign: 'fall', landing_url: landing, referrer });

      const timeline = await api('GET', `/api/v1/contacts/${contact.id}/events?limit=100`);
      expect(timeline.status).toBe(200);
      const evs: Row[] = timeline.body.data;
      expect(evs.filter((e) => e.type === 'page_view').map((e) => e.url).sort()).toEqual([landing, `${base}/pricing`].sort());
      expect(evs.filter((e) => e.type === 'identified')).toHaveLength(1);
      expect(evs.find((e) => e.type === 'identified')!.props).toEqual({ via: 'identify' });
      expect(evs.every((e) => e.contact_id === contact.id && e.visitor_id === views[0].visitor_id)).toBe(true);
      const [visitor] = await rows('SELECT contact_id FROM visitors WHERE id = ?', [views[0].visitor_id]);
      expect(visitor.contact_id).toBe(contact.id);

      // Identifying again (another casing) and browsing on: still one contact, new views are theirs at once.
      await ll(page, 'identify', { email: email.toUpperCase(), sig: sign(site.secret, email) });
      await page.goto(`${base}/thanks`);
      const [thanks] = await waitFor(async () => {
        const r = (await eventsOf(site.id, 'page_view')).filter((e) => e.url === `${base}/thanks`);
        return r.length > 0 && r;
      }, 'the page view after identify');
      expect(thanks.contact_id).toBe(contact.id);
      await waitEvents(site.id, 2, 'identified');
      expect((await listed()).body.data).toHaveLength(1);
      expect(await rows('SELECT id FROM contacts WHERE email_normalized = ?', [email])).toHaveLength(1);
      expect(errors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'a forged identify signature creates no contact and leaves the events anonymous',
    async () => {
      const { page } = await open();
      const site = await makeSite();
      const other = await makeSite();
      await page.goto(`${env.site.url}${env.site.page({ site: site.public_key })}?${UTM}`);
      const [pv] = await waitEvents(site.id, 1, 'page_view');
      const contactsBefore = (await rows('SELECT count(*) AS n FROM contacts'))[0].n;
      const email = `mallory+${randomBytes(4).toString('hex')}@example.com`;
      const forged = [
        sign(site.secret, 'someone.else@example.com'), // a real signature, for another email
        sign(other.secret, email), // the right email, another site's secret
        randomBytes(32).toString('hex'),
      ];
      for (const sig of forged) {
        const answered = page.waitForResponse((r) => r.url() === `${env.app.url}/t` && (r.request().postData() ?? '').includes(sig));
        await ll(page, 'identify', { email, sig });
        // A beacon's response body is not readable; the status is the refusal (INVALID_SIGNATURE).
        expect((await answered).status()).toBe(403);
      }
      // The tracker keeps working after the refusals.
      await ll(page, 'track', 'after-forged');
      await waitEvents(site.id, 1, 'custom');
      await api('POST', '/internal/jobs/reactions');

      expect((await api('GET', `/api/v1/contacts?q=${encodeURIComponent(email)}`)).body.data).toEqual([]);
      expect((await api('GET', `/api/v1/contacts?q=someone.else`)).body.data).toEqual([]);
      expect((await rows('SELECT count(*) AS n FROM contacts'))[0].n).toBe(contactsBefore);
      const all = await eventsOf(site.id);
      expect(all.some((r) => r.type === 'identified')).toBe(false);
      expect(all.every((r) => r.contact_id === null && r.visitor_id === pv.visitor_id)).toBe(true);
      const [visitor] = await rows('SELECT contact_id FROM visitors WHERE id = ?', [pv.visitor_id]);
      expect(visitor.contact_id).toBeNull();
    },
    TIMEOUT,
  );
});
