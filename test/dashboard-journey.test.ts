// A marketer's journey end to end, in Chromium against the real server (its jobs and reactions
// running as in production), as issue 13 asks: sign in → create a segment in the builder → write an
// email → build and publish a campaign → a visitor on a real page with the tag (another origin,
// strict CSP) submits the embedded form and so becomes a contact → the contact joins the segment,
// enters the campaign and is sent the email → the step counts on the campaign's nodes move → the
// forms report shows the conversion. Along the way it takes the README's screenshots of the main
// views (docs/screenshots/, replaced on every run).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSite, type Site } from './e2e/harness';
import { axe, settled, startEnv, type Env } from './dashboard-signed-in';
import { root } from './node-server';

let env: Env;
let site: Site;
beforeAll(async () => {
  env = await startEnv();
  site = await startSite(env.url);
}, 60_000);
afterAll(async () => {
  await site?.close();
  await env?.stop();
});

const SHOTS = join(root, 'docs/screenshots');
/** A screenshot of the view as it is, for the README (1280 px wide, the first screen). */
async function shot(page: Page, name: string) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** Cells of the table row whose header cell (or any cell) has `text`, by column header. */
async function rowByHeader(table: Locator, text: string): Promise<Record<string, string>> {
  const headers = await table.locator('thead th').allInnerTexts();
  const row = table.locator('tbody tr').filter({ hasText: text }).first();
  const cells = await row.locator('th, td').allInnerTexts();
  return Object.fromEntries(headers.map((h, i) => [h.trim().toLowerCase(), (cells[i] ?? '').trim()]));
}

const counts = async (page: Page, step: string) => {
  const c = page.locator(`.cb-node[data-step="${step}"] .cb-counts`);
  if (!(await c.count())) return null;
  return { entered: Number(await c.getAttribute('data-entered')), now: Number(await c.getAttribute('data-now')), done: Number(await c.getAttribute('data-done')) };
};

describe("a marketer's journey", () => {
  it('segment → email → campaign, published; a visitor who submits the form on the site enters it, is sent the email, and the report shows the conversion', async () => {
    // What the site owner set up at install: the site (its script tag on the page) and a form.
    const s = await env.call('POST', '/api/v1/sites', { name: 'Acme', allowed_origins: [site.url], settings: { allow_automation: true } });
    expect(s.status, JSON.stringify(s.body)).toBe(201);
    const f = await env.call('POST', '/api/v1/forms', {
      name: 'Request a demo',
      fields: [
        { key: 'email', type: 'email', label: 'Email', maps_to: 'email', required: true },
        { key: 'first_name', type: 'text', label: 'First name', maps_to: 'first_name' },
      ],
      min_fill_ms: 0,
      after_submit: { type: 'message', message: 'Thanks, we will be in touch.' },
    });
    expect(f.status, JSON.stringify(f.body)).toBe(201);
    const formId = f.body.id as number;

    const w = await env.signIn();
    const { page } = w;
    await page.getByRole('heading', { name: 'Home', level: 1 }).waitFor({ timeout: 20_000 });
    await settled(page);
    await shot(page, 'home');

    // 1. A segment: contacts who submitted the demo form.
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Segments' }).click();
    await page.getByRole('heading', { name: 'Segments', level: 1 }).waitFor();
    await page.goto(`${env.url}/app/segments/new`);
    await page.getByRole('heading', { name: 'New segment', level: 1 }).waitFor();
    await settled(page);
    await page.getByLabel('Name', { exact: true }).fill('Demo requests');
    const group = page.locator('.builder > .group');
    await group.locator(':scope > .actions').getByRole('button', { name: 'Add condition' }).click();
    const cond = group.locator(':scope > ol.nodes > li').first();
    await cond.getByLabel('Condition').selectOption('behaviour');
    await cond.getByLabel('Contact').selectOption('submitted_form');
    await cond.getByLabel('Form').selectOption({ label: 'Request a demo' });
    await page.waitForFunction(() => document.querySelector('.live-count .count')?.getAttribute('data-count') === '0', null, { timeout: 15_000 });
    await shot(page, 'segment-builder');
    await page.getByRole('button', { name: 'Create segment' }).click();
    await page.waitForURL(/\/app\/segments\/\d+\?saved=1$/, { timeout: 15_000 });
    const segmentId = Number(/segments\/(\d+)/.exec(page.url())![1]);
    const segment = (await env.call('GET', `/api/v1/segments/${segmentId}`)).body;
    expect(JSON.stringify(segment.filter)).toContain(`"form_id":${formId}`);

    // 2. An email, in block mode.
    await page.goto(`${env.url}/app/emails/new`);
    await page.getByRole('heading', { name: 'New email', level: 1 }).waitFor();
    await settled(page);
    await page.getByLabel('Name', { exact: true }).fill('Demo follow-up');
    await page.getByLabel('Subject', { exact: true }).fill('Your demo, {{ contact.first_name | default: "there" }}');
    await page.getByLabel('Heading text').fill('Thanks for asking');
    await page.getByLabel('Text', { exact: true }).fill('Pick a time that suits you.');
    await shot(page, 'email-editor');
    await page.getByRole('button', { name: 'Save email' }).click();
    await page.waitForURL(/\/app\/emails\/\d+\?saved=1$/, { timeout: 15_000 });

    // 3. A campaign: when a contact joins the segment, send the email; published.
    await page.goto(`${env.url}/app/campaigns/new`);
    await page.getByRole('heading', { name: 'New campaign', level: 1 }).waitFor();
    await settled(page);
    await page.getByLabel('Name', { exact: true }).fill('Demo nurture');
    await page.getByRole('button', { name: 'Add a source' }).click();
    const panel = page.locator('.cb-panel');
    await panel.getByRole('button', { name: 'Join a segment' }).click();
    await panel.getByLabel('Segment', { exact: true }).selectOption({ label: 'Demo requests' });
    await page.locator('#cb-add-start-next').click();
    await panel.getByRole('button', { name: 'Send email', exact: true }).click();
    await panel.getByLabel('Email', { exact: true }).selectOption({ label: 'Demo follow-up' });
    await page.getByRole('button', { name: 'Create campaign' }).click();
    await page.waitForURL(/\/app\/campaigns\/\d+\?saved=1$/, { timeout: 15_000 });
    const campaignId = Number(/campaigns\/(\d+)/.exec(page.url())![1]);
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.getByRole('status').filter({ hasText: /^Published version 1\./ }).waitFor({ timeout: 15_000 });
    expect((await env.call('GET', `/api/v1/campaigns/${campaignId}`)).body.status).toBe('active');
    // Nobody has submitted the form yet: the step's counts, once read, are 0.
    await expect.poll(() => counts(page, 'email-1'), { timeout: 15_000 }).toEqual({ entered: 0, now: 0, done: 0 });

    // 4. A visitor on the site (another origin, strict CSP, the one script tag) submits the form.
    const visitor = await env.browser.newContext();
    try {
      const vp = await visitor.newPage();
      const siteErrors: string[] = [];
      vp.on('pageerror', (e) => siteErrors.push(String(e)));
      vp.on('console', (m) => m.type() === 'error' && siteErrors.push(m.text()));
      const path = site.page({ site: s.body.public_key, body: `<h1>Book a demo</h1><div data-leadline-form="${formId}"></div>` });
      await vp.goto(`${site.url}${path}?utm_source=newsletter`);
      const inForm = (sel: string) => vp.locator(`[data-leadline-form="${formId}"] ${sel}`);
      await inForm('input[name=email]').waitFor({ timeout: 15_000 });
      await inForm('input[name=email]').fill('grace@example.com');
      await inForm('input[name=first_name]').fill('Grace');
      await inForm('button[type=submit]').click();
      await inForm(':text("Thanks, we will be in touch.")').waitFor({ timeout: 15_000 });
      expect(siteErrors).toEqual([]);
    } finally {
      await visitor.close();
    }
    const found = await env.call('GET', '/api/v1/contacts?q=grace%40example.com');
    expect(found.body.data.map((c: { email: string }) => c.email)).toEqual(['grace@example.com']);

    // 5. On the open campaign page the first step's count moves (no reload): Grace joined the segment and entered.
    await expect.poll(() => counts(page, 'email-1'), { timeout: 45_000, interval: 500 }).toEqual({ entered: 1, now: 0, done: 1 });
    expect(await axe(page)).toEqual([]);
    await page.locator('.cb-passes').scrollIntoViewIfNeeded();
    await page.evaluate(() => document.querySelector('.cb-passes')!.scrollIntoView({ block: 'start' }));
    await shot(page, 'campaign-builder');
    // The email went out (the local outbox on a fresh install), personalised.
    const sent = await expect
      .poll(async () => (await env.call('GET', '/api/v1/outbox?to=grace%40example.com&limit=10')).body.data as { subject: string }[], { timeout: 20_000 })
      .toHaveLength(1)
      .then(async () => (await env.call('GET', '/api/v1/outbox?to=grace%40example.com&limit=10')).body.data[0]);
    expect(sent.subject).toBe('Your demo, Grace');

    // 6. The forms report shows the conversion: one view, one submission, one contact.
    await page.goto(`${env.url}/app/reports/forms`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await settled(page);
    const table = page.locator('main table').first();
    await table.locator('tbody tr').filter({ hasText: 'Request a demo' }).waitFor({ timeout: 15_000 });
    const row = await rowByHeader(table, 'Request a demo');
    expect(row).toMatchObject({ views: '1', submissions: '1', contacts: '1' });
    await shot(page, 'report-forms');

    // The timeline names what each event concerns (the API, then the contact's page).
    const timeline = (await env.call('GET', `/api/v1/contacts/${found.body.data[0].id}/events?limit=50`)).body.data as { type: string; name: string | null }[];
    const named = Object.fromEntries(timeline.map((e) => [e.type, e.name]));
    expect(named).toMatchObject({ form_submit: 'Request a demo', form_view: 'Request a demo', segment_joined: 'Demo requests', email_sent: 'Demo follow-up' });

    // The contact's page tells the story: the form, the segment, the campaign, the email.
    await page.goto(`${env.url}/app/contacts`);
    await page.getByRole('heading', { name: 'Contacts', level: 1 }).waitFor();
    await settled(page);
    await shot(page, 'contacts');
    await page.getByRole('link', { name: 'Grace' }).first().click();
    await page.getByRole('heading', { level: 1, name: /Grace/ }).waitFor({ timeout: 15_000 });
    await settled(page);
    const text = await page.locator('main').innerText();
    for (const seen of ['Demo requests', 'Demo nurture', 'Request a demo']) expect(text, seen).toContain(seen);
    await shot(page, 'contact');
    expect(w.errors).toEqual([]);
  }, 240_000);
});
