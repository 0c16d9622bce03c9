// A landing page's A/B test from the page editor, in Chromium against the real server: a marketer
// adds a variant, changes its title and the split, sets the goal and the minimum sample; real
// visitors then view the page (GET /p/{slug}, the tag's page view on POST /t) and some submit its
// form (POST /f/{id}); the editor shows each variant's views, visitors, conversions, rate and the
// server's p-value; picking the variant as winner puts its title on the page and ends the test.
// The view is clean (axe serious/critical, console). Signs in through test/dashboard-signed-in.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, axe, expectCleanView, settled, startEnv, type Env } from './dashboard-signed-in';
import { CHROME_UA } from './tracking-helpers';
import { pageViewOf } from './pages-variants-helpers';

let env: Env;
const MARKETER = 'mia.marketer@example.com';
// The page views the tag sends name http://localhost/p/offer (pageViewOf): that origin is allowed too.
const ORIGINS = ['http://localhost'];
let site: { id: number; public_key: string };
let form: { id: number; name: string };
let page: { id: number; slug: string };

beforeAll(async () => {
  env = await startEnv({ PUBLIC_RATE_LIMIT: '100000' });
  await env.signIn();
  await env.addUser('marketer', MARKETER);
  site = (await env.call('POST', '/api/v1/sites', { name: 'Offer site', allowed_origins: [env.url, ...ORIGINS] })).body;
  form = (await env.call('POST', '/api/v1/forms', { name: 'Offer signup', fields: [{ key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true }] })).body;
  const made = await env.call('POST', '/api/v1/pages', {
    site_id: site.id,
    slug: 'offer',
    title: 'Original offer',
    sections: [{ type: 'hero', heading: 'The offer' }, { type: 'form', form_id: form.id }],
  });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  page = made.body;
  expect((await env.call('POST', `/api/v1/pages/${page.id}/publish`)).status).toBe(200);
}, 90_000);
afterAll(() => env?.stop());

/** A new visitor's view of the page, as a browser gets it and its tag reports it: its id and variant. */
async function visitAndView(): Promise<{ vid: string; variant: number }> {
  const r = await fetch(`${env.url}/p/offer`, { headers: { 'user-agent': CHROME_UA, accept: 'text/html' } });
  const html = await r.text();
  expect(r.status).toBe(200);
  const vid = /^ll_vid=([A-Za-z0-9_-]+);/.exec(r.headers.get('set-cookie') ?? '')?.[1];
  const variant = /variant_id:(\d+)/.exec(html)?.[1];
  expect(vid, 'the page sets the visitor id').toBeDefined();
  expect(variant, 'the page names its variant').toBeDefined();
  const t = await fetch(`${env.url}/t`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', origin: ORIGINS[0]!, 'user-agent': CHROME_UA },
    body: JSON.stringify({ k: site.public_key, v: vid, e: [pageViewOf(html)] }),
  });
  expect(t.status).toBe(202);
  return { vid: vid!, variant: Number(variant) };
}

let sid = 0;
/** The page's form submitted by the widget, with the visitor id. */
async function submit(vid: string, email: string) {
  const r = await fetch(`${env.url}/f/${form.id}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', origin: ORIGINS[0]!, 'user-agent': CHROME_UA },
    body: JSON.stringify({ k: site.public_key, v: vid, sid: `sid${String(++sid).padStart(8, '0')}`, values: { email }, t: 5000, hp: '', url: `${ORIGINS[0]}/p/offer` }),
  });
  expect(r.status, await r.clone().text()).toBe(200);
}

describe('A/B test in the page editor', () => {
  it('a marketer adds a variant, sets the split and the goal, sees the real figures and picks the winner', async () => {
    const w = await env.signInAs(MARKETER, ADMIN.password, `/app/pages/${page.id}`, 'Original offer');
    const p = w.page;
    await expectCleanView(w, `${env.url}/app/pages/${page.id}`, 'Original offer');
    const panel = p.locator('section.ab-test');
    await panel.getByText('No test is running').waitFor();

    // A variant: its name and weight; the API has it, the test runs.
    await panel.getByLabel('New variant’s name').fill('Short headline');
    await panel.getByLabel('Its weight (% of visitors)').fill('30');
    await panel.getByRole('button', { name: 'Add variant and start the test' }).click();
    await panel.getByRole('status').filter({ hasText: 'Variant “Short headline” added.' }).waitFor();
    const listed = async () => (await env.call('GET', `/api/v1/pages/${page.id}/variants`)).body.data as { id: number; name: string; title: string; weight: number; control: boolean }[];
    const variant = (await listed()).find((v) => !v.control)!;
    expect(variant).toMatchObject({ name: 'Short headline', weight: 30, title: 'Original offer' });
    await panel.getByText('The original page gets 70% of visitors').waitFor();

    // The split (a weight over 99 is refused by the server, next to the field), and the variant's own title.
    const card = panel.locator(`.variant-card[data-variant="${variant.id}"]`);
    await card.getByLabel('Weight (% of visitors)').fill('100');
    await panel.getByRole('button', { name: 'Save variants' }).click();
    await expect.poll(() => card.getByLabel('Weight (% of visitors)').getAttribute('aria-invalid')).toBe('true');
    expect((await listed()).find((v) => v.id === variant.id)!.weight).toBe(30);
    await card.getByLabel('Weight (% of visitors)').fill('50');
    await card.getByLabel('Title').fill('Shorter offer');
    // Its own sections: a copy of the page's, edited with the page's section editor.
    await card.getByRole('button', { name: /^Edit sections/ }).click();
    await card.locator('.section-card[data-type="hero"]').getByLabel('Heading', { exact: true }).fill('The shorter offer');
    await panel.getByRole('button', { name: 'Save variants' }).click();
    await panel.getByRole('status').filter({ hasText: 'Variants saved' }).waitFor();
    expect((await listed()).find((v) => v.id === variant.id)).toMatchObject({
      weight: 50,
      title: 'Shorter offer',
      sections: [{ type: 'hero', heading: 'The shorter offer' }, { type: 'form', form_id: form.id }],
    });
    await panel.getByText('The original page gets 50% of visitors').waitFor();

    // The goal: this form; the minimum sample for the automatic winner.
    await panel.getByLabel('Conversion goal').selectOption('form_submitted');
    await panel.getByLabel('Goal form').selectOption({ label: form.name });
    await panel.getByLabel('Minimum sample (visitors per variant)').fill('20');
    await panel.getByRole('button', { name: 'Save goal and settings' }).click();
    await panel.getByRole('status').filter({ hasText: 'Goal and settings saved.' }).waitFor();
    expect((await env.call('GET', `/api/v1/pages/${page.id}`)).body.ab_test).toMatchObject({ goal: { type: 'form_submitted', form_id: form.id }, min_visitors: 20, auto_winner: false });

    // Real visitors: 16 view the page (the first five view it twice), every third submits the form.
    const want = new Map<number, { views: number; visitors: number; conversions: number }>([
      [0, { views: 0, visitors: 0, conversions: 0 }],
      [variant.id, { views: 0, visitors: 0, conversions: 0 }],
    ]);
    for (let i = 0; i < 16; i++) {
      const v = await visitAndView();
      const tally = want.get(v.variant)!;
      tally.views++;
      tally.visitors++;
      if (i < 5) {
        const again = await fetch(`${env.url}/p/offer`, { headers: { 'user-agent': CHROME_UA, cookie: `ll_vid=${v.vid}` } });
        const t = await fetch(`${env.url}/t`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain;charset=UTF-8', origin: ORIGINS[0]!, 'user-agent': CHROME_UA },
          body: JSON.stringify({ k: site.public_key, v: v.vid, e: [pageViewOf(await again.text())] }),
        });
        expect(t.status).toBe(202);
        tally.views++;
      }
      if (i % 3 === 0) {
        await submit(v.vid, `visitor${i}@example.com`);
        tally.conversions++;
      }
    }
    expect(want.get(0)!.visitors + want.get(variant.id)!.visitors).toBe(16);
    expect((await env.call('POST', '/api/v1/jobs/reactions')).status).toBe(200);
    const api = (await env.call('GET', `/api/v1/pages/${page.id}/variants/stats`)).body;

    await p.reload();
    await p.getByRole('heading', { name: 'Original offer', level: 1 }).waitFor();
    await settled(p);
    const table = panel.getByRole('region', { name: 'Results per variant' });
    await table.waitFor();
    for (const [id, t] of want) {
      const cells = await table.locator(`tr[data-variant="${id}"] td`).allTextContents();
      // Weight, views, visitors, conversions, rate, lift, p-value, z, significant, winner.
      expect(cells.slice(1, 4), `variant ${id}`).toEqual([String(t.views), String(t.visitors), String(t.conversions)]);
      const a = api.variants.find((v: any) => v.variant_id === id);
      expect(cells[0]).toBe(`${a.weight}%`);
      if (id !== 0) {
        expect(cells[6]).toBe(a.versus_control.p_value === null ? '–' : a.versus_control.p_value.toFixed(4));
        expect(cells[8]).toBe(a.versus_control.significant ? 'Yes' : 'No');
      }
    }
    await panel.getByText(/Significance \(p-value\): Two-proportion z-test with pooled proportion/).first().waitFor();
    await panel.getByText('Minimum sample not reached yet: 20 visitors per variant.').waitFor();
    expect(await axe(p)).toEqual([]);

    // The winner: asked first; then the page is the variant's, and the test has ended.
    await table.getByRole('button', { name: /^Pick as winner ?: Short headline$/ }).click();
    await panel.getByRole('button', { name: 'Pick winner' }).click();
    await p.getByRole('heading', { name: 'Shorter offer', level: 1 }).waitFor();
    const after = (await env.call('GET', `/api/v1/pages/${page.id}`)).body;
    expect(after.title).toBe('Shorter offer');
    expect(after.sections[0]).toMatchObject({ type: 'hero', heading: 'The shorter offer' });
    expect(await (await fetch(`${env.url}/p/offer`, { headers: { 'user-agent': CHROME_UA } })).text()).toContain('The shorter offer');
    expect(after.ab_test).toMatchObject({ test_id: null, last_winner: { variant_id: variant.id, variant_name: 'Short headline', picked_by: 'manual' } });
    expect((await env.call('GET', `/api/v1/pages/${page.id}/variants/stats`)).body.status).toBe('ended');
    await panel.getByText(/Last test: “Short headline” won, picked by hand/).waitFor();
    await panel.getByRole('heading', { name: 'Results of the last test' }).waitFor();
    await panel.locator(`tr[data-variant="${variant.id}"]`).getByText('Winner').waitFor();
    // Nothing unsaved is left behind: the editor's draft is the page as it now is.
    expect(await p.getByText(/^Unsaved changes/).count()).toBe(0);
    expect(await p.getByLabel('Title', { exact: true }).first().inputValue()).toBe('Shorter offer');
    expect(await axe(p)).toEqual([]);
    // On a phone too: the figures scroll in their own region.
    const phone = await env.openSameSession(w, { width: 390, height: 800 });
    await expectCleanView(phone, `${env.url}/app/pages/${page.id}`, 'Shorter offer');
    await phone.page.getByRole('region', { name: 'Results per variant' }).waitFor();
    await phone.close();
    expect(w.errors).toEqual([]);
    await w.close();
  }, 180_000);
});
