// Focus items in Chromium against the real server: a marketer makes one in the editor while the
// live preview shows it as the widget chunk draws it (inside the preview frame's shadow root),
// saves it and finds it listed; views and conversions sent to the public endpoint show on its
// stats and in the list; sales sees no way to create one and the API refuses its session; every
// view is clean (axe serious/critical, console). Signs in through test/dashboard-signed-in.ts.
// (The forms editor's preview and roles: test/dashboard-forms.test.ts.)
import type { Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, expectCleanView, settled, startEnv, type Env } from './dashboard-signed-in';

let env: Env;
const MARKETER = 'mia.marketer@example.com';
const SALES = 'sam.sales@example.com';
beforeAll(async () => {
  env = await startEnv();
  // The first admin (made through the setup link, which works only while there is no user) first.
  await env.signIn();
  await env.addUser('marketer', MARKETER);
  await env.addUser('sales', SALES);
}, 90_000);
afterAll(() => env?.stop());

const ORIGIN = 'https://shop.example.com';
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';

async function previewFrame(page: Page): Promise<Frame> {
  const el = await page.waitForSelector('iframe.widget-preview');
  return (await el.contentFrame())!;
}

/** The item the chunk drew in the preview: its classes, heading, button and colours (inside its shadow root). */
async function shown(page: Page) {
  const f = await previewFrame(page);
  const box = f.locator('[data-leadline-focus] .box');
  if ((await box.count()) !== 1) return null;
  return {
    cls: (await box.getAttribute('class'))!.split(/\s+/).filter(Boolean).sort(),
    heading: await box.locator('h2').textContent(),
    button: (await box.locator('a.btn').count()) ? await box.locator('a.btn').textContent() : null,
    background: await box.evaluate((el) => getComputedStyle(el).backgroundColor),
  };
}

async function deleteAllItems() {
  const list = await env.call('GET', '/api/v1/focus-items?limit=100');
  for (const i of list.body.data) expect((await env.call('DELETE', `/api/v1/focus-items/${i.id}`)).status).toBe(200);
}

describe('Focus items in Chromium', () => {
  it('a marketer creates one: the live preview is the widget chunk and follows edits and variants; it saves and is listed', async () => {
    await deleteAllItems();
    const w = await env.signInAs(MARKETER, ADMIN.password, '/app/focus-items', 'Focus items');
    const { page } = w;
    // The empty list says what to do, and the view is clean.
    await expectCleanView(w, `${env.url}/app/focus-items`, 'Focus items');
    await page.getByText('No focus items yet.').waitFor();
    await page.getByRole('link', { name: 'New focus item' }).click();
    await page.getByRole('heading', { name: 'New focus item', level: 1 }).waitFor();
    await settled(page);

    await page.getByLabel('Name', { exact: true }).fill('Spring sale');
    await page.getByLabel('Type', { exact: true }).selectOption('slide_in');
    await page.getByLabel('Corner').selectOption('bottom_left');
    await page.getByLabel('Background').fill('#111827');
    await page.getByLabel('Text', { exact: true }).first().fill('#ffffff');
    await page.getByLabel('Shows', { exact: true }).first().selectOption('link');
    await page.getByLabel('Heading').first().fill('20% off this week');
    await page.getByLabel('Button label').first().fill('Shop now');
    await page.getByLabel('Button goes to').fill('https://shop.example.com/sale');

    // The preview: the chunk's slide-in, in its corner, with the colours and words just typed.
    await expect
      .poll(() => shown(page), { timeout: 15_000 })
      .toEqual({ cls: ['bottom', 'box', 'left', 'slide_in'], heading: '20% off this week', button: 'Shop now', background: 'rgb(17, 24, 39)' });
    await page.getByLabel('Heading').first().fill('25% off this week');
    await expect.poll(async () => (await shown(page))?.heading, { timeout: 15_000 }).toBe('25% off this week');

    // An A/B test: variant B's heading, shown when B is chosen for the preview.
    await page.getByRole('button', { name: 'Start an A/B test' }).click();
    const b = page.locator('.card', { has: page.getByText('Variant B', { exact: true }) }).last();
    await b.getByLabel('Heading').fill('Last chance: 25% off');
    await page.getByLabel('Variant shown').selectOption('b');
    await expect.poll(async () => (await shown(page))?.heading, { timeout: 15_000 }).toBe('Last chance: 25% off');
    await page.getByLabel('Variant shown').selectOption('a');
    await expect.poll(async () => (await shown(page))?.heading, { timeout: 15_000 }).toBe('25% off this week');

    // A draft the server refuses: its reason by the preview, then back to good.
    await page.getByLabel('Button goes to').fill('javascript:alert(1)');
    await page.locator('.preview-problems').getByText(/http/).waitFor({ timeout: 15_000 });
    await page.getByLabel('Button goes to').fill('https://shop.example.com/sale');
    await page.locator('.preview-problems').waitFor({ state: 'detached', timeout: 15_000 });

    await page.getByRole('button', { name: 'Create focus item' }).click();
    await page.getByRole('status').filter({ hasText: 'Focus item saved.' }).waitFor();
    const id = Number(/\/app\/focus-items\/(\d+)/.exec(page.url())![1]);
    const stored = await env.call('GET', `/api/v1/focus-items/${id}`);
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({
      name: 'Spring sale',
      site_id: null,
      active: true,
      style: { type: 'slide_in', corner: 'bottom_left', colors: { background: '#111827', text: '#ffffff' } },
      content: { kind: 'link', heading: '25% off this week', cta: { label: 'Shop now', url: 'https://shop.example.com/sale' } },
      variants: [
        { key: 'a', weight: 50, overrides: {} },
        { key: 'b', weight: 50, overrides: { content: { heading: 'Last chance: 25% off' } } },
      ],
    });
    // The saved item's page is clean, preview included; the install note gives the script tag.
    await expectCleanView(w, `${env.url}/app/focus-items/${id}`, 'Spring sale');
    expect(await page.getByLabel('Script tag').textContent()).toMatch(/^<script async src="http:\/\/127\.0\.0\.1:\d+\/w\.js" data-site="pk_\w+"><\/script>$/);
    expect(w.requested).toContain('/api/v1/focus-items/preview');

    await page.getByRole('link', { name: 'Focus items', exact: true }).first().click();
    const row = page.getByRole('region', { name: 'Focus items' }).getByRole('row', { name: /Spring sale/ });
    await row.waitFor();
    expect((await row.locator('td').allTextContents()).slice(0, 3)).toEqual(['Slide-in', 'Link', 'Active']);
    expect(w.errors).toEqual([]);
    await w.close();
  }, 180_000);

  it('the stats page shows views and conversions per variant after hits to the public endpoint, and the list counts them', async () => {
    const site = await env.call('POST', '/api/v1/sites', { name: 'Shop', allowed_origins: [ORIGIN] });
    expect(site.status).toBe(201);
    const item = await env.call('POST', '/api/v1/focus-items', {
      name: 'Exit offer',
      site_id: site.body.id,
      style: { type: 'modal' },
      content: { kind: 'link', heading: 'Wait', cta: { label: 'Take it', url: 'https://shop.example.com/offer' } },
      variants: [
        { key: 'a', weight: 50 },
        { key: 'b', weight: 50, overrides: { content: { heading: 'Wait!' } } },
      ],
    });
    expect(item.status).toBe(201);
    const id = item.body.id as number;
    // As w.js sends them from a page of the site: views (fv) and clicks (fc) per variant.
    const hit = async (n: number, events: [string, string][]) => {
      const r = await fetch(`${env.url}/t`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain;charset=UTF-8', origin: ORIGIN, 'user-agent': CHROME },
        body: JSON.stringify({ k: site.body.public_key, v: `focusvisitor${String(n).padStart(6, '0')}`, e: events.map(([t, variant]) => ({ t, u: `${ORIGIN}/pricing`, p: { focus_id: id, variant } })) }),
      });
      expect(r.status).toBe(202);
    };
    await hit(1, [['fv', 'a'], ['fc', 'a']]);
    await hit(2, [['fv', 'a']]);
    await hit(3, [['fv', 'a'], ['fx', 'a']]);
    await hit(4, [['fv', 'b'], ['fc', 'b']]);

    const w = await env.signIn();
    const { page } = w;
    await expectCleanView(w, `${env.url}/app/focus-items/${id}`, 'Exit offer');
    const cells = async (variant: string) => {
      const r = page.locator(`.focus-stats tr[data-variant="${variant}"]`);
      const t = await r.locator('td').allTextContents();
      // Weight, views, clicks, closes, submissions, conversions, rate.
      return [t[1], t[5], t[6]];
    };
    expect(await cells('a')).toEqual(['3', '1', '33.3%']);
    expect(await cells('b')).toEqual(['1', '1', '100%']);
    expect(await cells('total')).toEqual(['4', '2', '50%']);
    // On a phone too (long trigger names, the stats table in its scrolling region).
    const phone = await env.openSameSession(w, { width: 390, height: 800 });
    await expectCleanView(phone, `${env.url}/app/focus-items/${id}`, 'Exit offer');
    await phone.close();

    // The list reads the report (rollups, kept by the reactions job).
    expect((await env.call('POST', '/api/v1/jobs/reactions')).status).toBe(200);
    await expectCleanView(w, `${env.url}/app/focus-items`, 'Focus items');
    const row = page.locator(`.focus-list tr[data-id="${id}"] td`);
    expect((await row.allTextContents()).slice(3)).toEqual(['4', '2', '50%']);
    expect(w.errors).toEqual([]);
  }, 120_000);

  it('sales sees no way to create one, and the API refuses its session', async () => {
    const w = await env.signInAs(SALES, ADMIN.password, '/app/focus-items', 'Focus items');
    const { page } = w;
    await expectCleanView(w, `${env.url}/app/focus-items`, 'Focus items');
    expect(await page.getByRole('link', { name: 'New focus item' }).count()).toBe(0);
    await expectCleanView(w, `${env.url}/app/focus-items/new`, 'New focus item');
    await page.getByText('Your role (sales) cannot change focus items: that needs the marketer role or higher.').waitFor();
    expect(await page.getByRole('button', { name: 'Create focus item' }).count()).toBe(0);
    // The server decides: a create with this session, as the dashboard would send it, is refused.
    const refused = await page.evaluate(async () => {
      const me = await (await fetch('/api/v1/auth/me')).json();
      const r = await fetch('/api/v1/focus-items', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf_token },
        body: JSON.stringify({ name: 'Mine', style: { type: 'bar' }, content: { kind: 'notice', heading: 'Hi' } }),
      });
      return { status: r.status, body: await r.json() };
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe('Your role (sales) cannot change focus items: that needs the marketer role or higher.');
    expect((await env.call('GET', '/api/v1/focus-items?limit=100')).body.data.map((i: any) => i.name)).not.toContain('Mine');
    await w.close();
  }, 120_000);
});
