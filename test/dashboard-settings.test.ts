// Settings in Chromium against the real server: every section loads clean; a site created in the
// UI shows its script tag, and "Check installation" says no hits yet, then — after a real hit
// through POST /t — that hits arrived; an API key's secret is shown once (and works); a
// validation error shows next to the field it names.
// Signed in as test/dashboard-signed-in.ts does it (the first admin's setup link, then the sign-in page).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axe, expectCleanView, settled, startEnv, type Env } from './dashboard-signed-in';
import { CHROME_UA } from './tracking-helpers';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
}, 60_000);
afterAll(() => env?.stop());

const SECTIONS: [string, string][] = [
  ['/app/settings', 'Settings'],
  ['/app/settings/sites', 'Sites'],
  ['/app/settings/api-keys', 'API keys'],
  ['/app/settings/stages', 'Stages'],
  ['/app/settings/points', 'Points'],
  ['/app/settings/email', 'Email'],
  ['/app/settings/users', 'Users and roles'],
  ['/app/settings/webhooks', 'Webhooks'],
];

describe('Settings in Chromium', () => {
  it('every section loads with no console error and no serious axe violation, at 1280 px and on a phone; no dead links', async () => {
    const w = await env.signIn();
    for (const viewport of [
      { width: 1280, height: 900 },
      { width: 390, height: 844 },
    ]) {
      await w.page.setViewportSize(viewport);
      for (const [path, heading] of SECTIONS) await expectCleanView(w, `${env.url}${path}`, heading);
    }
    await w.page.setViewportSize({ width: 1280, height: 900 });
    // The sections listed are the ones that exist: each link leads to its own heading.
    await w.page.goto(`${env.url}/app/settings`);
    await w.page.locator('main .report-list a').first().waitFor();
    const links = await w.page.locator('main a').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).pathname));
    expect(links.sort()).toEqual(SECTIONS.slice(1).map(([p]) => p).sort());
  }, 180_000);

  it('creates a site: shows the script tag; check installation says no hits yet, then that hits arrived', async () => {
    const w = await env.signIn();
    const { page } = w;
    await page.goto(`${env.url}/app/settings/sites`);
    await settled(page);
    await page.getByRole('button', { name: 'Add a site' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Shop');
    await page.getByLabel('Allowed origins, one per line').fill('https://shop.example.com');
    await page.getByRole('button', { name: 'Create site' }).click();
    const created = page.getByRole('region', { name: 'Site created' });
    await created.waitFor({ timeout: 15_000 });

    const sites = (await env.call('GET', '/api/v1/sites?limit=100')).body.data as { id: number; name: string; public_key: string }[];
    const site = sites.find((s) => s.name === 'Shop')!;
    const tag = `<script async src="${env.url}/w.js" data-site="${site.public_key}"></script>`;
    expect(await created.locator('pre code').first().innerText()).toBe(tag);
    // The identify secret, once: it is the one the API rotated from (not readable again).
    expect(await created.getByRole('region', { name: 'Identify secret' }).locator('code').innerText()).toMatch(/^sk_/);
    await created.getByRole('button', { name: 'I have saved it' }).click();
    await created.waitFor({ state: 'detached' });

    const card = page.locator('li.card').filter({ has: page.getByRole('heading', { name: 'Shop' }) });
    expect(await card.locator('pre code').innerText()).toBe(tag);
    await card.getByRole('button', { name: 'Check installation' }).click();
    await card.getByText('No hits yet.').waitFor({ timeout: 15_000 });
    expect(await axe(page)).toEqual([]);

    // A real hit, as the tag sends it from the site's page.
    const hit = await fetch(`${env.url}/t`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://shop.example.com', 'user-agent': CHROME_UA },
      body: JSON.stringify({ k: site.public_key, v: 'visitor000000000001', e: [{ t: 'pv', u: 'https://shop.example.com/' }] }),
    });
    expect(hit.status).toBe(202);
    await card.getByRole('button', { name: 'Check installation' }).click();
    await card.getByText(/Hits arrived/).waitFor({ timeout: 15_000 });
    expect(w.errors).toEqual([]);
  }, 120_000);

  it('shows an API key’s secret once; the key works; the list shows only its prefix', async () => {
    const w = await env.signIn();
    const { page } = w;
    await page.goto(`${env.url}/app/settings/api-keys`);
    await settled(page);
    await page.getByLabel('Name', { exact: true }).fill('CRM sync');
    await page.getByRole('checkbox', { name: /^write/ }).check();
    await page.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByRole('region', { name: 'New API key' });
    await shown.waitFor({ timeout: 15_000 });
    const secret = await shown.locator('pre code').innerText();
    expect(secret).toMatch(/^ll_/);
    const works = await fetch(`${env.url}/api/v1/segments`, { headers: { authorization: `Bearer ${secret}` } });
    expect(works.status).toBe(200);
    const row = page.getByRole('row').filter({ hasText: 'CRM sync' });
    expect(await row.innerText()).toContain('read, write');
    await shown.getByRole('button', { name: 'I have saved it' }).click();
    await shown.waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(secret);
    await page.reload();
    await settled(page);
    await page.getByRole('row').filter({ hasText: 'CRM sync' }).waitFor();
    expect(await page.content()).not.toContain(secret);
    expect(await page.getByRole('row').filter({ hasText: 'CRM sync' }).innerText()).toContain(secret.slice(0, 9));
    expect(w.errors).toEqual([]);
  }, 90_000);

  it('shows the server’s validation error next to the field it names', async () => {
    const w = await env.signIn();
    const { page } = w;
    await page.goto(`${env.url}/app/settings/sites`);
    await settled(page);
    await page.getByRole('button', { name: 'Add a site' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Bad origins');
    await page.getByLabel('Allowed origins, one per line').fill('not an origin');
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${env.url}/api/v1/sites` && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Create site' }).click(),
    ]);
    expect(answer.status()).toBe(422);
    const detail = (await answer.json()).error.details[0];
    expect(detail.field).toMatch(/^allowed_origins/);
    const err = page.locator('#new-site-origins-error');
    await err.waitFor();
    expect(await err.innerText()).toContain(detail.message);
    expect(await page.getByLabel('Allowed origins, one per line').getAttribute('aria-invalid')).toBe('true');
    expect(await axe(page)).toEqual([]);

    // And on API keys: no scope chosen.
    await page.goto(`${env.url}/app/settings/api-keys`);
    await settled(page);
    await page.getByLabel('Name', { exact: true }).fill('No scopes');
    await page.getByRole('checkbox', { name: /GET requests/ }).uncheck();
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.locator('#key-scopes-error').waitFor({ timeout: 15_000 });
    expect(w.errors).toEqual([]);
  }, 90_000);

  it('creates a stage marked MQL, and a point rule, from their sections', async () => {
    const w = await env.signIn();
    const { page } = w;
    await page.goto(`${env.url}/app/settings/stages`);
    await settled(page);
    await page.getByLabel('Name', { exact: true }).fill('Negotiation');
    await page.getByLabel(/marketing-qualified/).check();
    await page.getByRole('button', { name: 'Add stage' }).click();
    await page.getByRole('heading', { name: /Negotiation/ }).waitFor({ timeout: 15_000 });
    const stages = (await env.call('GET', '/api/v1/stages?limit=100')).body.data as { name: string; is_mql: boolean }[];
    expect(stages.find((s) => s.name === 'Negotiation')?.is_mql).toBe(true);

    await page.goto(`${env.url}/app/settings/points`);
    await settled(page);
    await page.getByRole('button', { name: 'New point rule' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Visited pricing');
    await page.getByLabel('URL', { exact: true }).selectOption('contains');
    await page.getByLabel('URL text').fill('/pricing');
    await page.getByLabel('Points (negative to subtract)').fill('10');
    await page.getByRole('button', { name: 'Create rule' }).click();
    await page.getByRole('row').filter({ hasText: 'Visited pricing' }).waitFor({ timeout: 15_000 });
    const rules = (await env.call('GET', '/api/v1/point-rules?limit=100')).body.data as any[];
    expect(rules.find((r) => r.name === 'Visited pricing')).toMatchObject({ event_type: 'page_view', delta: 10, filter: { url: { op: 'contains', value: '/pricing' } } });
    expect(await axe(page)).toEqual([]);
    expect(w.errors).toEqual([]);
  }, 90_000);
});
