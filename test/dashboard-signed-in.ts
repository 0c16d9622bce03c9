// The one setup the dashboard's browser tests share: the real server (dist/node.mjs on
// 127.0.0.1), Chromium, pages that record console errors, CSP violations, every path requested
// and any request elsewhere, axe-core's serious and critical violations, and signing in as a
// person does. Nothing about auth is faked:
// - the first admin is made through the one-time setup link the server prints on its first start
//   (/app/setup?token=…&first=1, the page a person opens), in a context of its own;
// - every signed-in page then signs in on the real sign-in page (/app/login) with that email and
//   password, so the session cookie and CSRF token are the ones the server hands a browser;
// - other users are invited through POST /api/v1/users, and the invitation is read from the
//   outbox API, as an admin would read it.
// Sign-in that does not work makes these tests fail; nothing here skips.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { launchBrowser } from './e2e/harness';
import { ADMIN_KEY, root, startNode, type NodeServer } from './node-server';

const AXE = readFileSync(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

export const ADMIN = { email: 'ada.admin@example.com', name: 'Ada Admin', password: 'a long enough password 123' };

export interface Watched {
  page: Page;
  /** Console and page errors, except the 401s by which the app learns nobody is signed in and the 4xx a test provokes. */
  errors: string[];
  /** Every URL path the page requested. */
  requested: string[];
  close: () => Promise<void>;
}

export interface Mail {
  id: number;
  subject: string;
  text: string;
  html: string;
  /** The link in the text, and its path and query (to open on this server). */
  link: string;
  path: string;
  token: string;
}

export interface Env {
  server: NodeServer;
  browser: Browser;
  url: string;
  /** The REST API with the admin key, as an integration would call it. */
  call: <T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: T }>;
  /** A new browser context (no session) with one watched page. */
  open: (viewport?: { width: number; height: number }) => Promise<Watched>;
  /** Another watched page in the same context (the same session), at another size. */
  openSameSession: (w: Watched, viewport: { width: number; height: number }) => Promise<Watched>;
  /**
   * The first admin's signed-in page (one per file, made on first use; its errors are cleared on
   * each call, so each test judges its own console). `next` is where the sign-in page sends it.
   */
  signIn: (next?: string) => Promise<Watched>;
  /** Signs in on the sign-in page in a new context; resolves once `heading` (an h1) shows. */
  signInAs: (email: string, password: string, next?: string, heading?: string) => Promise<Watched>;
  /** Invites `email` with `role` (admin key), accepts through the API with the emailed token: a user who can sign in. */
  addUser: (role: string, email: string, password?: string) => Promise<void>;
  /** The newest outbox message to `to` (admin key), waiting for the send loop to deliver it. */
  mail: (to: string, subject?: RegExp) => Promise<Mail>;
  stop: () => Promise<void>;
}

/** 401 from these is how a signed-out browser is told so (the auth contract); Chromium logs it as a failed load. */
const EXPECTED_401 = new Set(['/api/v1/auth/me', '/api/v1/auth/login']);

function watch(page: Page, w: Omit<Watched, 'page' | 'close'>) {
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location()?.url ?? '';
    if (/status of 401/.test(m.text()) && where && EXPECTED_401.has(new URL(where).pathname)) return;
    // A 4xx a test provokes on purpose (a validation error, the last admin's refusal) is logged by Chromium as a failed load.
    if (/status of 4(22|09)/.test(m.text())) return;
    w.errors.push(`${m.text()} (${where})`);
  });
  page.on('pageerror', (e) => w.errors.push(String(e)));
  page.on('request', (r) => w.requested.push(new URL(r.url()).pathname));
}

/** `env`: more of the server's settings (e.g. OUTBOUND_ALLOW_LOOPBACK for a webhook receiver on 127.0.0.1). */
export async function startEnv(env: Record<string, string> = {}): Promise<Env> {
  const server = await startNode({ LOG_LEVEL: 'info', ...env });
  const url = `http://127.0.0.1:${server.port}`;
  const browser = await launchBrowser();
  const pages: Watched[] = [];
  let admin: Promise<void> | undefined;
  let signedIn: Watched | undefined;

  const open: Env['open'] = async (viewport = { width: 1280, height: 900 }) => {
    const context = await browser.newContext({ viewport, acceptDownloads: true });
    context.setDefaultTimeout(10_000);
    await context.addInitScript(() => {
      (window as any).__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => (window as any).__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const page = await context.newPage();
    const w: Watched = { page, errors: [], requested: [], close: () => context.close() };
    watch(page, w);
    // Nothing may be fetched from anywhere else.
    await context.route((u) => !u.href.startsWith(url) && !u.href.startsWith('blob:') && !u.href.startsWith('data:'), (r) => {
      w.errors.push(`request elsewhere: ${r.request().url()}`);
      return r.abort();
    });
    pages.push(w);
    return w;
  };

  const openSameSession: Env['openSameSession'] = async (s, viewport) => {
    const page = await s.page.context().newPage();
    await page.setViewportSize(viewport);
    const w: Watched = { page, errors: [], requested: [], close: () => page.close() };
    watch(page, w);
    return w;
  };

  /** The first admin, through the link printed at first start, on the setup page. */
  const makeFirstAdmin = async () => {
    const link = /\/app\/setup\?token=[\w.~-]+&first=1/.exec(server.output())?.[0];
    expect(link, `the first start prints the first admin's setup link:\n${server.output()}`).toBeDefined();
    const w = await open();
    await w.page.goto(`${url}${link}`);
    await w.page.getByRole('heading', { name: 'Set up your account' }).waitFor();
    await w.page.getByLabel('Email').fill(ADMIN.email);
    await w.page.getByLabel('Your name').fill(ADMIN.name);
    await w.page.getByLabel('Password').fill(ADMIN.password);
    await w.page.getByRole('button', { name: 'Save and sign in' }).click();
    await w.page.getByRole('heading', { name: 'Home', level: 1 }).waitFor({ timeout: 20_000 });
    expect(w.errors, 'the setup page').toEqual([]);
    await w.close();
  };

  const signInAs: Env['signInAs'] = async (email, password, next, heading) => {
    const w = await open();
    await w.page.goto(`${url}/app/login${next ? `?next=${encodeURIComponent(next)}` : ''}`);
    await w.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await w.page.getByLabel('Email').fill(email);
    await w.page.getByLabel('Password').fill(password);
    const [answer] = await Promise.all([
      w.page.waitForResponse((r) => r.url() === `${url}/api/v1/auth/login`),
      w.page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    expect(answer.status(), `sign-in as ${email}: ${await answer.text()}`).toBe(200);
    if (heading) await w.page.getByRole('heading', { name: heading, level: 1, exact: true }).waitFor({ timeout: 20_000 });
    else await w.page.waitForFunction(() => !location.pathname.startsWith('/app/login') && !!document.querySelector('main h1'), null, { timeout: 20_000 });
    return w;
  };

  const signIn: Env['signIn'] = async (next) => {
    if (signedIn) {
      signedIn.errors.length = 0;
      return signedIn;
    }
    await (admin ??= makeFirstAdmin());
    return (signedIn = await signInAs(ADMIN.email, ADMIN.password, next));
  };

  const call: Env['call'] = async (method, path, body, headers = {}) => {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };

  const mail: Env['mail'] = async (to, subject) => {
    const started = Date.now();
    for (;;) {
      // The send loop runs right after a send and every 2 s; the emails job runs it now.
      await call('POST', '/api/v1/jobs/emails');
      const list = await call('GET', `/api/v1/outbox?to=${encodeURIComponent(to)}&limit=10`);
      expect(list.status, JSON.stringify(list.body)).toBe(200);
      const found = (list.body.data as { id: number; subject: string }[]).find((m) => !subject || subject.test(m.subject));
      if (found) {
        const m = (await call('GET', `/api/v1/outbox/${found.id}`)).body;
        const link = /https?:\/\/\S+token=[A-Za-z0-9]+\S*/.exec(m.text)?.[0];
        expect(link, m.text).toBeDefined();
        const u = new URL(link!);
        return { id: found.id, subject: m.subject, text: m.text, html: m.html, link: link!, path: u.pathname + u.search, token: u.searchParams.get('token')! };
      }
      if (Date.now() - started > 15_000) throw new Error(`no mail to ${to}${subject ? ` matching ${subject}` : ''} in the outbox`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const addUser: Env['addUser'] = async (role, email, password = ADMIN.password) => {
    const inv = await call('POST', '/api/v1/users', { email, role });
    expect(inv.status, JSON.stringify(inv.body)).toBe(201);
    const { token } = await mail(email, /invited/i);
    const r = await fetch(`${url}/api/v1/auth/invitations/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: url },
      body: JSON.stringify({ token, name: `${role[0]!.toUpperCase()}${role.slice(1)} User`, password }),
    });
    expect(r.status, await r.clone().text()).toBe(200);
  };

  return {
    server,
    browser,
    url,
    call,
    open,
    openSameSession,
    signIn,
    signInAs,
    addUser,
    mail,
    stop: async () => {
      for (const p of pages) await p.close().catch(() => {});
      await browser.close();
      await server.stop();
    },
  };
}

/** axe-core's serious and critical violations (WCAG 2.x A/AA and best practices) on the page as it is. */
export async function axe(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const result: any = await page.evaluate(() =>
    (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } }),
  );
  return result.violations
    .filter((v: any) => v.impact === 'serious' || v.impact === 'critical')
    .map((v: any) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n: any) => n.target.join(' ')).join('; ')}`);
}

/** CSP violations the page reported (recorded by an init script in every context `open` makes). */
export const cspViolations = (page: Page) => page.evaluate(() => ((window as any).__csp ?? []) as string[]);

/** The view is shown and nothing in it is loading any more. */
export const settled = (page: Page) =>
  page.waitForFunction(() => !!document.querySelector('main h1') && !document.querySelector('main [aria-busy="true"], .view-loading, main .status .spinner'), null, {
    timeout: 20_000,
  });

/** Loads a view, checks it is clean (no console error, no serious axe violation, nothing wider than the screen). */
export async function expectCleanView(w: Watched, url: string, heading: string) {
  await w.page.goto(url);
  await w.page.getByRole('heading', { name: heading, exact: true, level: 1 }).waitFor({ timeout: 20_000 });
  await settled(w.page);
  expect(await w.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${url} fits the screen`).toBe(true);
  expect(await axe(w.page), url).toEqual([]);
  expect(w.errors, url).toEqual([]);
}
