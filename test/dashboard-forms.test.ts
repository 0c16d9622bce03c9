// Forms in Chromium against the real server: the views load clean; a form made
// in the editor is what the API then returns; the live preview is the widget chunk's DOM (inside
// the preview frame's shadow root) and follows edits; the snippet copies exactly; a submission
// through the public endpoint shows in the results and the funnel; a server validation error
// shows next to its field. Signs in through test/dashboard-signed-in.ts.
import type { Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, expectCleanView, settled, startEnv, type Env } from './dashboard-signed-in';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
}, 60_000);
afterAll(() => env?.stop());

const ORIGIN = 'https://shop.example.com';

async function previewFrame(page: Page): Promise<Frame> {
  const el = await page.waitForSelector('iframe.widget-preview');
  return (await el.contentFrame())!;
}

/** The labels the chunk rendered in the preview (inside its shadow root). */
const previewLabels = async (f: Frame) =>
  (await f.locator('[data-leadline-form] form.ll-form .fld > label').allTextContents()).map((l) => l.replace(/\s*\*$/, '').trim());

describe('Forms in Chromium', () => {
  it('the list and a new form load clean', async () => {
    const w = await env.signIn();
    await expectCleanView(w, `${env.url}/app/forms`, 'Forms');
    await expectCleanView(w, `${env.url}/app/forms/new`, 'New form');
  }, 90_000);

  it('creates a two-field form; the API returns it; the preview is the chunk and follows edits; the snippet copies; a submission shows in results and stats', async () => {
    const w = await env.signIn();
    const { page } = w;
    const site = await env.call('POST', '/api/v1/sites', { name: 'Shop', allowed_origins: [ORIGIN] });
    expect(site.status).toBe(201);
    await page.goto(`${env.url}/app/forms/new`);
    await settled(page);
    await page.getByLabel('Name', { exact: true }).fill('Newsletter');
    await page.getByRole('button', { name: 'Add a field' }).click();
    const second = page.locator('.field-card').nth(1);
    await second.getByLabel('Label').fill('First name');
    await second.getByLabel('Key', { exact: false }).fill('first_name');
    await second.getByLabel('Saves to contact field').fill('first_name');
    await second.getByLabel('Minimum length').fill('2');

    // The preview: the chunk's form in the frame's shadow root, both fields, then the new label.
    const frame = await previewFrame(page);
    await expect.poll(() => previewLabels(frame), { timeout: 10_000 }).toEqual(['Email', 'First name']);
    await second.getByLabel('Label').fill('Given name');
    await expect.poll(() => previewLabels(frame), { timeout: 10_000 }).toEqual(['Email', 'Given name']);
    // The chunk's own validation runs in the preview.
    await frame.locator('form.ll-form button[type=submit]').click();
    await expect.poll(() => frame.locator('form.ll-form .err').count()).toBeGreaterThan(0);

    await page.getByRole('button', { name: 'Create form' }).click();
    await page.getByRole('status').filter({ hasText: 'Form saved.' }).waitFor();
    const id = Number(/\/app\/forms\/(\d+)/.exec(page.url())![1]);
    const stored = await env.call('GET', `/api/v1/forms/${id}`);
    expect(stored.status).toBe(200);
    expect(stored.body.name).toBe('Newsletter');
    expect(stored.body.fields.map((f: any) => [f.key, f.label, f.type, f.maps_to, f.required, f.rules])).toEqual([
      ['email', 'Email', 'email', 'email', true, {}],
      ['first_name', 'Given name', 'text', 'first_name', false, { min_length: 2 }],
    ]);

    // The snippet, copied.
    await settled(page);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.url });
    // The server may hold other sites (the demo's): choose this one.
    await page.getByLabel('Site', { exact: true }).selectOption(site.body.public_key);
    await page.getByRole('button', { name: 'Copy snippet' }).click();
    await page.getByText('Copied.').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
      `<script async src="${env.url}/w.js" data-site="${site.body.public_key}"></script>\n<div data-leadline-form="${id}"></div>`,
    );

    // A submission through the public endpoint, as a browser on the site sends it.
    const r = await fetch(`${env.url}/f/${id}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: ORIGIN, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36' },
      body: JSON.stringify({ k: site.body.public_key, sid: 'sid_dashboard_forms_1', t: 5000, hp: '', url: `${ORIGIN}/landing`, values: { email: 'grace@example.com', first_name: 'Grace' } }),
    });
    expect(r.status).toBe(200);
    await page.reload();
    await settled(page);
    const results = page.getByRole('region', { name: 'Submissions' });
    await results.getByText('grace@example.com').waitFor();
    expect(await results.getByText('Grace', { exact: true }).count()).toBe(1);
    await expect.poll(async () => {
      await page.reload();
      await settled(page);
      return page.locator('.form-funnel [data-step=submissions] .funnel-count').textContent();
    }, { timeout: 20_000 }).toBe('1');
    expect(await page.locator('.form-funnel [data-step=contacts] .funnel-count').textContent()).toBe('1');
    expect(w.errors).toEqual([]);
  }, 120_000);

  it('a validation error from the server shows next to its field', async () => {
    const w = await env.signIn();
    const { page } = w;
    await page.goto(`${env.url}/app/forms/new`);
    await settled(page);
    await page.getByLabel('Name', { exact: true }).fill('Bad');
    await page.getByRole('button', { name: 'Add a field' }).click();
    const second = page.locator('.field-card').nth(1);
    await second.getByLabel('Label').fill('Plan');
    await second.getByLabel('Key', { exact: false }).fill('plan');
    await second.getByLabel('Type').selectOption('select');
    // A drop-down with no options: the server names fields.1.options.
    await page.getByRole('button', { name: 'Create form' }).click();
    const options = second.getByLabel('Options');
    await expect.poll(() => options.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await options.getAttribute('aria-describedby'))!;
    expect(await page.locator(`[id="${describedBy.split(' ').pop()}"]`).textContent()).toMatch(/option/);
    expect(w.errors).toEqual([]);
  }, 90_000);

  it('the preview is what the server would serve for the draft: its additions show, a draft it refuses says why and keeps the last preview, nothing is stored', async () => {
    const w = await env.signIn();
    const { page } = w;
    const before = (await env.call('GET', '/api/v1/forms?limit=100')).body.data.length;
    await page.goto(`${env.url}/app/forms/new`);
    await settled(page);
    const frame = await previewFrame(page);
    await expect.poll(() => previewLabels(frame), { timeout: 10_000 }).toEqual(['Email']);
    // The server caps every text-like field's length (the draft sets none); the chunk writes it on the input.
    const cap = await env.call('POST', '/api/v1/forms/preview', { fields: [{ key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true }] });
    expect(cap.status).toBe(200);
    expect(await frame.locator('[data-leadline-form] input#f-email').getAttribute('maxlength')).toBe(String(cap.body.fields[0].rules.max_length));

    await page.getByRole('button', { name: 'Add a field' }).click();
    const second = page.locator('.field-card').nth(1);
    await second.getByLabel('Label').fill('Code');
    await second.getByLabel('Key', { exact: false }).fill('code');
    await expect.poll(() => previewLabels(frame), { timeout: 10_000 }).toEqual(['Email', 'Code']);
    await second.getByLabel('Pattern', { exact: true }).fill('(a+)+');
    const problems = page.locator('.preview-problems');
    await problems.getByText('Field 2, pattern: nested quantifiers like (a+)+ are not allowed').waitFor({ timeout: 10_000 });
    expect(await previewLabels(frame)).toEqual(['Email', 'Code']);
    await second.getByLabel('Pattern', { exact: true }).fill('[A-Z]+');
    await problems.waitFor({ state: 'detached', timeout: 10_000 });
    expect(w.requested).toContain('/api/v1/forms/preview');
    expect((await env.call('GET', '/api/v1/forms?limit=100')).body.data.length).toBe(before);
    expect(w.errors).toEqual([]);
  }, 90_000);

  it('sales sees no New form, is told why at /app/forms/new, and the views stay clean', async () => {
    await env.signIn();
    await env.addUser('sales', 'sam.sales@example.com');
    const w = await env.signInAs('sam.sales@example.com', ADMIN.password, '/app/forms', 'Forms');
    await expectCleanView(w, `${env.url}/app/forms`, 'Forms');
    expect(await w.page.getByRole('link', { name: 'New form' }).count()).toBe(0);
    await expectCleanView(w, `${env.url}/app/forms/new`, 'New form');
    await w.page.getByText('Your role (sales) cannot change forms: that needs the marketer role or higher.').waitFor();
    expect(await w.page.getByRole('button', { name: 'Create form' }).count()).toBe(0);
    await w.close();
  }, 90_000);
});
