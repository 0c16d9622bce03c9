// A landing page in real Chromium against the built Node server, under the page's own strict CSP:
// with JavaScript the tag loads (its nonce), counts the page view and the widget replaces the plain
// form in its placeholder, and a submission through it makes a contact; without JavaScript the
// plain form posts to /f/{id} and makes a contact too. (Headless Chromium's own user agent is a
// bot's, whose hits are dropped: the contexts speak as desktop Chrome; and the site counts automated
// browsers, so the tag runs in this one, on a loopback address.) No CSP violation, no console error, no
// serious or critical axe finding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './e2e/harness';
import { axe } from './dashboard-signed-in';
import { startNode, type NodeServer } from './node-server';
import { adminApi, openRecorded, until } from './pages-browser-helpers';
import { CHROME_UA } from './tracking-helpers';

let server: NodeServer;
let browser: Browser;
let base: string;

const api = adminApi(() => base);

const contact = async (email: string) => (await api('GET', `/api/v1/contacts?q=${encodeURIComponent(email)}`)).data.find((c: any) => c.email === email);

let siteId: number;
let formId: number;

beforeAll(async () => {
  server = await startNode();
  base = `http://127.0.0.1:${server.port}`;
  browser = await launchBrowser();
  siteId = (await api('POST', '/api/v1/sites', { name: 'Pages', allowed_origins: [base], settings: { allow_automation: true } })).id;
  formId = (await api('POST', '/api/v1/forms', { name: 'Join the webinar', min_fill_ms: 0, fields: [{ key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true }, { key: 'first_name', label: 'First name', type: 'text', maps_to: 'first_name' }] })).id;
  const page = await api('POST', '/api/v1/pages', {
    site_id: siteId,
    slug: 'webinar',
    title: 'Spring webinar',
    description: 'Forty minutes.',
    sections: [
      { type: 'hero', heading: 'Pipelines that convert', subheading: 'Live on 12 May', cta: { label: 'Save my seat', url: '#register' } },
      { type: 'markdown', markdown: '## What you will learn\n\n- Scoring that sales trusts' },
      { type: 'form', form_id: formId, heading: 'Register' },
    ],
  });
  await api('POST', `/api/v1/pages/${page.id}/publish`);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('a landing page in Chromium', () => {
  it('with JavaScript: the tag runs under the CSP, counts the view, the widget takes over the form and its submission makes a contact', async () => {
    const { context, page, errors, cspViolations } = await openRecorded(browser);
    await page.goto(`${base}/p/webinar`);
    // The widget renders into the placeholder's shadow root; the plain form stays in the light DOM, not shown.
    await page.waitForFunction((id) => !!document.querySelector(`[data-leadline-form="${id}"]`)?.shadowRoot?.querySelector('form'), formId, { timeout: 10_000 });
    const installed = await until('the page view', async () => {
      const r = await api('GET', `/api/v1/sites/${siteId}/installation`);
      return r.received ? r : undefined;
    });
    expect(installed.received).toBe(true);
    expect(await axe(page)).toEqual([]);
    await page.locator(`[data-leadline-form="${formId}"] input[type=email]:visible`).fill('widget@example.com');
    await page.locator(`[data-leadline-form="${formId}"] button[type=submit]:visible`).click();
    const who = await until('the contact', () => contact('widget@example.com'));
    expect(who.email).toBe('widget@example.com');
    expect(await cspViolations()).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it('without JavaScript: the plain form posts to /f/{id} and makes a contact', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, userAgent: CHROME_UA });
    const page = await context.newPage();
    await page.goto(`${base}/p/webinar`);
    expect(await page.locator('h1').textContent()).toBe('Pipelines that convert');
    await page.locator('#lf-email').fill('nojs@example.com');
    await page.locator('#lf-first_name').fill('Noah');
    await Promise.all([page.waitForURL(`${base}/f/${formId}`), page.locator('form button[type=submit]').click()]);
    expect(await page.locator('[role=status]').textContent()).toBeTruthy();
    const who = await until('the contact', () => contact('nojs@example.com'));
    expect(who.first_name).toBe('Noah');
    await context.close();
    // The plain form as people see it when the tag does not load (axe needs scripts, so the tag is blocked instead).
    const blocked = await browser.newContext();
    const plain = await blocked.newPage();
    await plain.route('**/w.js*', (r) => r.abort());
    await plain.goto(`${base}/p/webinar`);
    expect(await plain.locator('#lf-email').isVisible()).toBe(true);
    expect(await axe(plain)).toEqual([]);
    await blocked.close();
  }, 60_000);
});
