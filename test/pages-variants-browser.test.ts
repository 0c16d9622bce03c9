// A landing page in an A/B test, in real Chromium against the built Node server: the page sets the
// visitor cookie, the real tag (w.js) takes that id, sends the page view with the variant (through
// the page's before-send hook, under the strict CSP) and the button click as cta_click; the spine
// counts both for the variant the browser was shown, and a reload shows the same variant.
// No CSP violation, no console error, no serious or critical axe finding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './e2e/harness';
import { axe } from './dashboard-signed-in';
import { startNode, type NodeServer } from './node-server';
import { adminApi, openRecorded, until } from './pages-browser-helpers';

let server: NodeServer;
let browser: Browser;
let base: string;

const api = adminApi(() => base);

/** The stats once the spine has counted (it runs on its timer and on demand). */
const statsWhen = (what: string, ok: (s: any) => boolean) =>
  until(what, async () => {
    await api('POST', '/api/v1/jobs/reactions');
    const s = await api('GET', `/api/v1/pages/${pageId}/variants/stats`);
    return ok(s) ? s : undefined;
  });

let pageId: number;
let variantId: number;

beforeAll(async () => {
  server = await startNode();
  base = `http://127.0.0.1:${server.port}`;
  browser = await launchBrowser();
  const siteId = (await api('POST', '/api/v1/sites', { name: 'AB', allowed_origins: [base], settings: { allow_automation: true } })).id;
  // Where the button leads: the click is sent as the browser leaves (the tag's beacon).
  const thanks = await api('POST', '/api/v1/pages', { site_id: siteId, slug: 'ab-thanks', title: 'Thanks', sections: [{ type: 'markdown', markdown: 'Thanks.' }] });
  await api('POST', `/api/v1/pages/${thanks.id}/publish`);
  const page = await api('POST', '/api/v1/pages', {
    site_id: siteId,
    slug: 'ab-offer',
    title: 'Offer',
    sections: [{ type: 'hero', heading: 'The original', cta: { label: 'Tell me more', url: '/p/ab-thanks', id: 'more' } }, { type: 'markdown', markdown: 'Some words.' }],
  });
  pageId = page.id;
  await api('POST', `/api/v1/pages/${pageId}/publish`);
  variantId = (await api('POST', `/api/v1/pages/${pageId}/variants`, { name: 'B', sections: [{ type: 'hero', heading: 'The variant', cta: { label: 'Tell me more', url: '/p/ab-thanks', id: 'more' } }], weight: 50 })).id;
  await api('PATCH', `/api/v1/pages/${pageId}`, { ab_test: { goal: { type: 'cta_click', cta_id: 'more' } } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('a page in an A/B test, in Chromium', () => {
  it('the tag keeps the page’s visitor id, reports the variant with the view and the button click, and the visitor keeps its variant', async () => {
    const { context, page, errors, cspViolations } = await openRecorded(browser);
    await page.goto(`${base}/p/ab-offer`);
    const heading = await page.locator('h1').textContent();
    const shown = heading === 'The variant' ? variantId : 0;
    expect(['The original', 'The variant']).toContain(heading);
    // The cookie the page set is the id the tag keeps (it stores it too).
    const cookie = (await context.cookies()).find((c) => c.name === 'll_vid')!;
    expect(cookie.value).toMatch(/^[A-Za-z0-9]{22}$/);
    await page.waitForFunction(() => !!(window as any).leadline?.l);
    expect(await page.evaluate(() => localStorage.getItem('ll_vid'))).toBe(cookie.value);
    const viewed = await statsWhen('the page view', (s) => s.variants.some((v: any) => v.views > 0));
    expect(viewed.variants.map((v: any) => [v.variant_id, v.views, v.visitors])).toEqual(
      [[0, 0], [variantId, 0]].map(([id]) => [id, id === shown ? 1 : 0, id === shown ? 1 : 0]),
    );
    await Promise.all([page.waitForURL(`${base}/p/ab-thanks`), page.locator('a.btn').click()]);
    const clicked = await statsWhen('the click', (s) => s.variants.some((v: any) => v.conversions > 0));
    expect(clicked.variants.find((v: any) => v.variant_id === shown).conversions).toBe(1);
    // Back on the page: the same variant, and the same visitor (one visitor, two views).
    await page.goto(`${base}/p/ab-offer`);
    expect(await page.locator('h1').textContent()).toBe(heading);
    const again = await statsWhen('the second view', (s) => s.variants.some((v: any) => v.views > 1));
    expect(again.variants.find((v: any) => v.variant_id === shown)).toMatchObject({ views: 2, visitors: 1, conversions: 1 });
    expect(await axe(page)).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
