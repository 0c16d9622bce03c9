import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_KEY } from './node-server';
import { CHROME_UA } from './tracking-helpers';

// Shared by the landing page tests in Chromium against the built Node server
// (test/pages-browser.test.ts, test/pages-variants-browser.test.ts).

/** The private API of the server at `base`, as the admin key; a non-2xx answer throws with its body. */
export function adminApi(base: () => string) {
  return async function api(method: string, path: string, body?: unknown) {
    const res = await fetch(`${base()}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
}

/** Polls `f` until it gives a value (the spine and the tag work in the background). */
export async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const RECORD_CSP = `window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`;

/**
 * A browser context that speaks as desktop Chrome (headless Chromium's own user agent is a bot's,
 * whose hits are dropped), with its page's CSP violations (`cspViolations`) and console errors
 * and uncaught exceptions (`errors`) recorded.
 */
export async function openRecorded(browser: Browser): Promise<{ context: BrowserContext; page: Page; errors: string[]; cspViolations: () => Promise<string[]> }> {
  const context = await browser.newContext({ userAgent: CHROME_UA });
  await context.addInitScript(RECORD_CSP);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, errors, cspViolations: () => page.evaluate(() => (window as any).__csp) };
}
