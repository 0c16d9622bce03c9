// Shared by the signed-in dashboard view tests (segments, settings): the real server
// (dist/node.mjs on 127.0.0.1), Chromium, a page that records console errors and requests
// elsewhere, axe-core's serious and critical violations, and signing in through the first
// admin's setup link the server prints, as test/dashboard-browser.test.ts does. Those tests run
// once the OpenAPI document the dashboard was generated from has POST /api/v1/auth/login; until
// the server side of sign-in is merged they skip.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { launchBrowser } from './e2e/harness';
import { ADMIN_KEY, root, startNode, type NodeServer } from './node-server';

export const authAvailable = readFileSync(join(root, 'dashboard/api/schema.d.ts'), 'utf8').includes('"/api/v1/auth/login"');
const AXE = readFileSync(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

export interface Watched {
  page: Page;
  errors: string[];
  close: () => Promise<void>;
}

export interface Env {
  server: NodeServer;
  browser: Browser;
  url: string;
  /** The REST API with the admin key, as an integration would call it. */
  call: <T = any>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;
  open: (viewport?: { width: number; height: number }) => Promise<Watched>;
  /** A signed-in page (one per test file), or undefined when the server printed no setup link. */
  signIn: () => Promise<Watched | undefined>;
  stop: () => Promise<void>;
}

const EXPECTED_401 = new Set(['/api/v1/auth/me', '/api/v1/auth/login']);

export async function startEnv(): Promise<Env> {
  const server = await startNode({ LOG_LEVEL: 'info' });
  const url = `http://127.0.0.1:${server.port}`;
  const browser = await launchBrowser();
  const pages: Watched[] = [];
  let signedIn: Watched | undefined;

  const open: Env['open'] = async (viewport = { width: 1280, height: 900 }) => {
    const context = await browser.newContext({ viewport });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const where = m.location()?.url ?? '';
      if (/status of 401/.test(m.text()) && where && EXPECTED_401.has(new URL(where).pathname)) return;
      // A 4xx the test provokes on purpose (a validation error) is logged by Chromium as a failed load.
      if (/status of 4(22|09)/.test(m.text())) return;
      errors.push(`${m.text()} (${where})`);
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.route((u) => !u.href.startsWith(url) && !u.href.startsWith('blob:') && !u.href.startsWith('data:'), (r) => {
      errors.push(`request elsewhere: ${r.request().url()}`);
      return r.abort();
    });
    const w = { page, errors, close: () => context.close() };
    pages.push(w);
    return w;
  };

  const signIn: Env['signIn'] = async () => {
    if (signedIn) return signedIn;
    const link = /\/app\/setup\?token=[\w.~-]+(&first=1)?/.exec(server.output())?.[0];
    if (!link) return undefined;
    const w = await open();
    await w.page.goto(`${url}${link}`);
    await w.page.getByLabel('Your name').fill('Ada Admin');
    // The first admin's link asks for the email too (the auth contract).
    const email = w.page.getByLabel('Email');
    if (await email.count()) await email.fill('ada@example.com');
    await w.page.getByLabel('Password').fill('a long enough password 123');
    await w.page.getByRole('button', { name: 'Save and sign in' }).click();
    await w.page.getByRole('heading', { name: 'Home' }).waitFor({ timeout: 20_000 });
    return (signedIn = w);
  };

  const call: Env['call'] = async (method, path, body) => {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };

  return {
    server,
    browser,
    url,
    call,
    open,
    signIn,
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
