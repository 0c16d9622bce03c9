// Segments in Chromium against the real server: the list and the editor load clean; a nested
// filter built in the visual builder saves as the expected filter language, with the live count
// the API gives; a stored complex filter opens in the builder and saves back unchanged; the
// server's validation errors show next to the field (or the condition) they name.
// Signed in as test/dashboard-signed-in.ts does it (the first admin's setup link, then the sign-in page).
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axe, expectCleanView, settled, startEnv, type Env } from './dashboard-signed-in';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
}, 60_000);
afterAll(() => env?.stop());

/** The live count as shown, once it has settled on a number. */
async function liveCount(page: Page): Promise<number> {
  const c = page.locator('.live-count .count');
  await c.waitFor({ timeout: 15_000 });
  return Number(await c.getAttribute('data-count'));
}

/** The n-th node of a group (its list item), 0-based. */
const child = (group: Locator, n: number) => group.locator(':scope > ol.nodes > li').nth(n);
const rootGroup = (page: Page) => page.locator('.builder > .group');
const button = (group: Locator, name: string) => group.locator(':scope > .actions').getByRole('button', { name });

describe('Segments in Chromium', () => {
  it('the list loads at 1280 px and on a phone, clean, with an empty state that says what to do', async () => {
    const w = await env.signIn();
    await expectCleanView(w, `${env.url}/app/segments`, 'Segments');
    expect(await w.page.getByText('No segments yet.').count()).toBe(1);
    expect(await w.page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Segments' }).getAttribute('aria-current')).toBe('page');
    await w.page.setViewportSize({ width: 390, height: 844 });
    await expectCleanView(w, `${env.url}/app/segments/new`, 'New segment');
    await w.page.setViewportSize({ width: 1280, height: 900 });
  }, 90_000);

  it('builds a nested filter in the builder; it saves as the expected filter, with the live count the API gives', async () => {
    const w = await env.signIn();
    // Contacts: one matches; the others miss one condition each.
    const make = async (email: string, points: number, tags: string[], dnc = false) => {
      const c = await env.call('POST', '/api/v1/contacts', { email, tags });
      expect(c.status).toBe(201);
      expect((await env.call('POST', `/api/v1/contacts/${c.body.id}/points`, { op: 'set', value: points, reason: 'test' })).status).toBe(200);
      if (dnc) expect((await env.call('PUT', `/api/v1/contacts/${c.body.id}/do-not-contact/email`, { reason: 'manual' })).status).toBeLessThan(300);
    };
    await make('match@example.com', 20, ['vip']);
    await make('dnc@example.com', 20, ['vip'], true);
    await make('few-points@example.com', 5, ['vip']);
    await make('no-tag@example.com', 15, []);

    const expected = {
      all: [
        { field: 'points', op: 'gte', value: 10 },
        { any: [{ tag: 'vip', has: true }, { behaviour: 'visited', url: { op: 'contains', value: '/pricing' }, min_count: 2, within_days: 30 }] },
        { not: { dnc: 'email', is: true } },
      ],
    };
    const preview = await env.call('POST', '/api/v1/segments/preview', { filter: expected });
    expect(preview.status).toBe(200);
    expect(preview.body.count).toBe(1);

    const { page } = w;
    await page.goto(`${env.url}/app/segments/new`);
    await page.getByRole('heading', { name: 'New segment', level: 1 }).waitFor();
    await settled(page);
    await page.getByLabel('Name', { exact: true }).fill('Hot VIPs');
    const root = rootGroup(page);
    expect(await root.getByLabel('Contacts that match').inputValue()).toBe('all');

    // 1. points ≥ 10 (a new condition starts as "Points is at least 0").
    await button(root, 'Add condition').click();
    const points = child(root, 0);
    await points.getByLabel('Field').selectOption('points');
    await points.getByLabel('Operator').selectOption('gte');
    await points.getByLabel('Value').fill('10');

    // 2. a group: any of (tag vip, visited /pricing twice in 30 days).
    await button(root, 'Add group').click();
    const group = child(root, 1).locator(':scope > .group');
    expect(await group.getByLabel('Group: match').first().inputValue()).toBe('any');
    const tag = child(group, 0);
    await tag.getByLabel('Condition').selectOption('tag');
    await tag.getByLabel('Tag').fill('vip');
    await button(group, 'Add condition').click();
    const visit = child(group, 1);
    await visit.getByLabel('Condition').selectOption('behaviour');
    await visit.getByLabel('Contact').selectOption('visited');
    await visit.getByLabel('Page URL').selectOption('contains');
    await visit.getByLabel('URL text').fill('/pricing');
    await visit.getByLabel('At least (times)').fill('2');
    await visit.getByLabel('In the last (days)').fill('30');

    // 3. NOT do-not-contact on email.
    await button(root, 'Add condition').click();
    const dnc = child(root, 2);
    await dnc.getByLabel('Condition').selectOption('dnc');
    await dnc.getByRole('button', { name: 'Negate' }).click();
    await child(root, 2).locator('.not-box').waitFor();

    // The live count is the API's for the same filter.
    await page.waitForFunction(() => document.querySelector('.live-count .count')?.getAttribute('data-count') === '1', null, { timeout: 15_000 });
    expect(await liveCount(page)).toBe(preview.body.count);
    expect(JSON.parse((await page.locator('.json code').textContent())!)).toEqual(expected);
    expect(await axe(page)).toEqual([]);

    await page.getByRole('button', { name: 'Create segment' }).click();
    await page.waitForURL(/\/app\/segments\/\d+\?saved=1$/, { timeout: 15_000 });
    await page.getByRole('status').filter({ hasText: 'Segment saved.' }).first().waitFor();
    const id = Number(/segments\/(\d+)/.exec(page.url())![1]);
    const stored = await env.call('GET', `/api/v1/segments/${id}`);
    expect(stored.body.filter).toEqual(expected);
    expect(stored.body.members).toBe(preview.body.count);
    expect(await liveCount(page)).toBe(stored.body.members);
    expect(w.errors).toEqual([]);
  }, 120_000);

  it('opens a stored complex filter in the builder and saves it back unchanged', async () => {
    const w = await env.signIn();
    expect((await env.call('POST', '/api/v1/fields', { key: 'plan', label: 'Plan', type: 'select', options: ['free', 'pro', 'team'] })).status).toBe(201);
    expect((await env.call('POST', '/api/v1/fields', { key: 'seats', label: 'Seats', type: 'number' })).status).toBe(201);
    const other = await env.call('POST', '/api/v1/segments', { name: 'Static list', kind: 'static' });
    expect(other.status).toBe(201);
    const filter = {
      any: [
        {
          all: [
            { field: 'fields.plan', op: 'in', value: ['pro', 'team'] },
            { field: 'fields.seats', op: 'between', value: [5, 50] },
            { field: 'created_at', op: 'gte', value: '-30d' },
            { field: 'email', op: 'regex', value: '@(example|test)\\.com$' },
            { field: 'stage', op: 'not_in', value: ['Close', 'Delight'] },
            { field: 'company.employees', op: 'gt', value: 10 },
            { field: 'phone', op: 'empty' },
          ],
        },
        { not: { any: [{ segment: other.body.id, member: true }, { tag: 'churned', has: true }] } },
        { not: { not: { dnc: 'sms', is: false } } },
        { behaviour: 'submitted_form', form_id: 12345, min_count: 1 },
        { behaviour: 'custom_event', name: 'signup', url: { op: 'starts_with', value: 'https://app.' }, min_count: 3, within_days: 7 },
        { behaviour: 'clicked_email', email_id: 77, url: { op: 'regex', value: 'pricing|plans' }, min_count: 1 },
        { field: 'last_active_at', op: 'lt', value: '2026-01-01' },
      ],
    };
    const made = await env.call('POST', '/api/v1/segments', { name: 'Complex', filter });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const before = made.body.filter;

    const { page } = w;
    await expectCleanView(w, `${env.url}/app/segments/${made.body.id}`, 'Complex');
    expect(await liveCount(page)).toBe((await env.call('POST', '/api/v1/segments/preview', { filter: before })).body.count);
    // Every condition is there to edit: seven in the first group, seven more around it.
    expect(await page.locator('.builder .cond').count()).toBe(14);
    expect(await page.locator('.builder .not-box').count()).toBe(3);
    expect(JSON.parse((await page.locator('.json code').textContent())!)).toEqual(before);
    expect(await page.getByText('No unsaved changes.').count()).toBe(1);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: /^Saved\./ }).waitFor({ timeout: 15_000 });
    expect((await env.call('GET', `/api/v1/segments/${made.body.id}`)).body.filter).toEqual(before);
    expect(w.errors).toEqual([]);
  }, 120_000);

  it('shows a validation error next to the field it names, and a filter error at its condition', async () => {
    const w = await env.signIn();
    const { page } = w;
    await page.goto(`${env.url}/app/segments/new`);
    await page.getByRole('heading', { name: 'New segment', level: 1 }).waitFor();
    await settled(page);
    const root = rootGroup(page);
    await button(root, 'Add condition').click();
    const cond = child(root, 0);
    await cond.getByLabel('Field').selectOption('email');
    await cond.getByLabel('Operator').selectOption('regex');
    await cond.getByLabel('Value').fill('(unclosed');
    // The live count says why it cannot count, at the condition.
    const condError = cond.locator('.field-error');
    await condError.waitFor({ timeout: 15_000 });
    expect(await condError.innerText()).toMatch(/regular expression/);
    expect(await cond.getByLabel('Value').getAttribute('aria-invalid')).toBe('true');
    await cond.getByLabel('Value').fill('@example\\.com$');
    await liveCount(page);

    // No name: the server's message under the name field.
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${env.url}/api/v1/segments` && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Create segment' }).click(),
    ]);
    expect(answer.status()).toBe(422);
    const body = await answer.json();
    const nameError = page.locator('#seg-name-error');
    await nameError.waitFor();
    expect(await nameError.innerText()).toBe(body.error.details.find((d: any) => d.field === 'name').message);
    expect(await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Name', { exact: true }).getAttribute('aria-describedby')).toContain('seg-name-error');
    expect(await page.getByRole('alert').first().innerText()).toContain(body.error.message);
    expect(await axe(page)).toEqual([]);
    // Keyboard: the focus ring is drawn on the builder's controls.
    await cond.getByLabel('Operator').focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => parseFloat(getComputedStyle(document.activeElement!).outlineWidth))).toBeGreaterThanOrEqual(2);
    expect(w.errors).toEqual([]);
  }, 90_000);
});
