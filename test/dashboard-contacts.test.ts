// The Contacts views of the dashboard in real Chromium against the real server (dist/node.mjs on
// 127.0.0.1): the list (search, a filter, keyset pages, a bulk tag), one contact (its timeline
// with the anonymous page views of a visitor identified into it through POST /t, a validation
// error next to its field) and the CSV import (a bad row's error in the report).
//
// Signed in as test/dashboard-signed-in.ts does it: the first admin through the setup link the
// server prints, then the sign-in page. The chunk tests need no sign-in.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axe, settled, startEnv, type Env } from './dashboard-signed-in';
import { root } from './node-server';

const manifest = () => JSON.parse(readFileSync(join(root, 'dist/dashboard/manifest.json'), 'utf8'));

let env: Env;
let url: string;
beforeAll(async () => {
  env = await startEnv();
  url = env.url;
}, 60_000);
afterAll(() => env?.stop());

const open = (viewport?: { width: number; height: number }) => env.open(viewport);
const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => env.call(method, path, body, headers);

describe('the contacts chunks', () => {
  it('contacts, contact and contacts-import are views of their own, outside the shell', () => {
    const m = manifest();
    for (const v of ['contacts', 'contact', 'contacts-import']) {
      expect(m.views[v], v).toMatch(/\.js$/);
      expect(m.shell).not.toContain(m.views[v]);
    }
  });

  it('signed out, /app/contacts goes to the sign-in page remembering it, without loading a contacts chunk', async () => {
    const w = await open();
    await w.page.goto(`${url}/app/contacts?tag=vip`);
    await w.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(new URL(w.page.url()).searchParams.get('next')).toBe('/app/contacts?tag=vip');
    const m = manifest();
    for (const v of ['contacts', 'contact', 'contacts-import']) expect(w.requested).not.toContain(`/app/assets/${m.views[v]}`);
    expect(w.errors).toEqual([]);
    await w.close();
  }, 60_000);
});

describe('the Contacts views signed in', () => {
  const signIn = () => env.signIn('/app/contacts');

  let stageId = 0;
  let identified = 0;
  beforeAll(async () => {
    // 60 contacts through the batch endpoint, as an integration would make them; a few at a stage.
    const contacts = Array.from({ length: 60 }, (_, i) => ({
      email: `person${String(i).padStart(2, '0')}@example.com`,
      first_name: i < 3 ? 'Zelda' : `Person${i}`,
      last_name: `Number ${i}`,
    }));
    expect((await api('POST', '/api/v1/contacts/batch', { contacts })).status).toBe(200);
    const stage = await api('POST', '/api/v1/stages', { name: 'Browser stage', position: 9 });
    expect(stage.status).toBe(201);
    stageId = stage.body.id;
    const listed = await api('GET', '/api/v1/contacts?q=person1&limit=100');
    for (const c of listed.body.data.slice(0, 4)) expect((await api('PUT', `/api/v1/contacts/${c.id}/stage`, { stage_id: stageId })).status).toBe(200);

    // A visitor browses anonymously, then the site identifies it (signed) as an existing contact.
    const site = await api('POST', '/api/v1/sites', { name: 'Shop', allowed_origins: ['https://shop.example.com'] });
    expect(site.status).toBe(201);
    const track = (payload: unknown) =>
      fetch(`${url}/t`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://shop.example.com', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36' },
        body: JSON.stringify(payload),
      });
    const v = 'visitorbrowser000001';
    expect((await track({ k: site.body.public_key, v, e: [{ t: 'pv', u: 'https://shop.example.com/pricing', ti: 'Pricing plans' }] })).status).toBe(202);
    expect((await track({ k: site.body.public_key, v, e: [{ t: 'pv', u: 'https://shop.example.com/features' }] })).status).toBe(202);
    const email = 'person59@example.com';
    const sig = createHmac('sha256', site.body.secret).update(email).digest('hex');
    expect((await track({ k: site.body.public_key, v, e: [], id: { email, sig } })).status).toBe(202);
    await api('POST', '/api/v1/jobs/reactions');
    identified = (await api('GET', `/api/v1/contacts?q=${email}`)).body.data[0].id;
  }, 60_000);

  for (const viewport of [
    { width: 1280, height: 900 },
    { width: 390, height: 844 },
  ]) {
    it(`the list loads at ${viewport.width} px with no console error and no serious or critical axe violation`, async () => {
      const s = await signIn();
      const w = viewport.width === 1280 ? s : await env.openSameSession(s, viewport);
      await w.page.goto(`${url}/app/contacts`);
      await w.page.getByRole('heading', { name: 'Contacts', level: 1 }).waitFor({ timeout: 20_000 });
      await settled(w.page);
      expect(await w.page.locator('.contacts-table tbody tr').count()).toBe(50);
      expect(await w.page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Contacts' }).getAttribute('aria-current')).toBe('page');
      // Nothing overflows sideways (the table scrolls in its own region).
      expect(await w.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      // Keyboard: the search box is reachable and shows its focus.
      await w.page.locator('#contacts-q').focus();
      expect(await w.page.evaluate(() => parseFloat(getComputedStyle(document.activeElement!).outlineWidth))).toBeGreaterThanOrEqual(2);
      expect(await axe(w.page)).toEqual([]);
      expect(w.errors).toEqual([]);
      if (w !== s) await w.close();
    }, 90_000);
  }

  it('search and the stage filter narrow the list; next and previous page follow the cursor', async () => {
    const w = await signIn();
    await w.page.goto(`${url}/app/contacts`);
    await settled(w.page);
    const rows = w.page.locator('.contacts-table tbody tr');
    await w.page.locator('#contacts-q').fill('zel');
    await w.page.waitForFunction(() => document.querySelectorAll('.contacts-table tbody tr').length === 3, null, { timeout: 10_000 });
    expect(await rows.locator('th').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringContaining('Zelda')]));
    expect(new URL(w.page.url()).searchParams.get('q')).toBe('zel');

    await w.page.goto(`${url}/app/contacts`);
    await settled(w.page);
    await w.page.locator('#contacts-stage').selectOption(String(stageId));
    await w.page.waitForFunction(() => document.querySelectorAll('.contacts-table tbody tr').length === 4, null, { timeout: 10_000 });
    expect(await rows.locator('td:nth-child(4)').allInnerTexts()).toEqual(['Browser stage', 'Browser stage', 'Browser stage', 'Browser stage']);

    // Keyset pages of 25: 60 contacts (plus none else) make pages of 25, 25, 10.
    await w.page.goto(`${url}/app/contacts?limit=25`);
    await settled(w.page);
    const first = await rows.first().locator('th').innerText();
    const [answer] = await Promise.all([
      w.page.waitForResponse((r) => r.url().includes('/api/v1/contacts?') && r.url().includes('cursor=')),
      w.page.getByRole('button', { name: 'Next page' }).click(),
    ]);
    expect(answer.status()).toBe(200);
    await settled(w.page);
    expect(new URL(w.page.url()).searchParams.get('cursor')).toBeTruthy();
    const second = await rows.first().locator('th').innerText();
    expect(second).not.toBe(first);
    await w.page.getByRole('button', { name: 'Next page' }).click();
    await w.page.waitForFunction(() => document.querySelectorAll('.contacts-table tbody tr').length === 10, null, { timeout: 10_000 });
    expect(await w.page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await w.page.getByRole('button', { name: 'Previous page' }).click();
    await w.page.waitForFunction((s) => document.querySelector('.contacts-table tbody tr th')?.textContent?.includes(s) ?? false, second.split('\n')[0]!, { timeout: 10_000 });
    await w.page.getByRole('button', { name: 'Previous page' }).click();
    await w.page.waitForFunction((s) => document.querySelector('.contacts-table tbody tr th')?.textContent?.includes(s) ?? false, first.split('\n')[0]!, { timeout: 10_000 });
    expect(new URL(w.page.url()).searchParams.get('cursor')).toBeNull();
    expect(w.errors).toEqual([]);
  }, 90_000);

  it('a bulk tag tags every selected contact and says so', async () => {
    const w = await signIn();
    await w.page.goto(`${url}/app/contacts?q=zelda`);
    await settled(w.page);
    await w.page.getByRole('checkbox', { name: 'Select every contact on this page' }).check();
    expect(await w.page.locator('.bulk-count').innerText()).toContain('3');
    await w.page.locator('#bulk-tag').fill('Webinar-2026');
    await w.page.getByRole('button', { name: 'Add tag' }).click();
    await w.page.getByText('Tagged 3 contacts.').waitFor();
    const tagged = await api('GET', '/api/v1/contacts?tag=webinar-2026');
    expect(tagged.body.data.map((c: any) => c.first_name)).toEqual(['Zelda', 'Zelda', 'Zelda']);
    // The list shows the new tag.
    await w.page.waitForFunction(() => [...document.querySelectorAll('.contacts-table .tag')].filter((t) => t.textContent === 'webinar-2026').length === 3, null, { timeout: 10_000 });
    expect(await axe(w.page)).toEqual([]);
    expect(w.errors).toEqual([]);
  }, 90_000);

  it('the contact page shows the timeline with the anonymous page views from before the visitor was identified', async () => {
    const w = await signIn();
    await w.page.goto(`${url}/app/contacts/${identified}`);
    await w.page.getByRole('heading', { name: 'Timeline' }).waitFor({ timeout: 20_000 });
    await settled(w.page);
    const timeline = w.page.locator('.timeline');
    await timeline.getByText('Identified', { exact: true }).waitFor();
    const anon = timeline.locator('li', { has: w.page.getByText('Anonymous visit, before identified') });
    expect(await anon.count()).toBe(2);
    expect(await anon.allInnerTexts()).toEqual([expect.stringContaining('https://shop.example.com/features'), expect.stringContaining('Pricing plans')]);
    for (const name of ['Profile', 'Tags', 'Stage and points', 'Sales feedback', 'Deals', 'Companies', 'Segments', 'Campaigns', 'Emails']) {
      await w.page.getByRole('heading', { name, level: 2 }).waitFor();
    }
    expect(await axe(w.page)).toEqual([]);
    expect(w.errors).toEqual([]);
  }, 90_000);

  it('a validation error shows next to the field it names; a fix saves', async () => {
    const w = await signIn();
    await w.page.goto(`${url}/app/contacts/${identified}`);
    await w.page.getByRole('heading', { name: 'Profile' }).waitFor({ timeout: 20_000 });
    await settled(w.page);
    const email = w.page.locator('#profile-email');
    await email.fill('not an email');
    const [answer] = await Promise.all([
      w.page.waitForResponse((r) => r.url().endsWith(`/api/v1/contacts/${identified}`) && r.request().method() === 'PATCH'),
      w.page.getByRole('button', { name: 'Save profile' }).click(),
    ]);
    expect(answer.status()).toBe(422);
    const body = await answer.json();
    const message = body.error.details.find((d: any) => d.field === 'email').message;
    const error = w.page.locator('#profile-email-error');
    await error.waitFor();
    expect(await error.innerText()).toBe(message);
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    expect(await email.getAttribute('aria-describedby')).toBe('profile-email-error');
    // Focus went to the field to fix.
    await w.page.waitForFunction(() => document.activeElement?.id === 'profile-email', null, { timeout: 5_000 });
    expect(await axe(w.page)).toEqual([]);
    await email.fill('person59@example.com');
    await w.page.locator('#profile-job_title').fill('Buyer');
    await w.page.getByRole('button', { name: 'Save profile' }).click();
    await w.page.getByText('Saved.', { exact: true }).waitFor();
    expect(await error.count()).toBe(0);
    expect((await api('GET', `/api/v1/contacts/${identified}`)).body.job_title).toBe('Buyer');
    expect(w.errors.filter((e) => !/status of 422/.test(e))).toEqual([]);
  }, 90_000);

  it('a CSV import with one bad row imports the others and reports that row by its line', async () => {
    const w = await signIn();
    await w.page.goto(`${url}/app/contacts/import`);
    await w.page.getByRole('heading', { name: 'Import contacts' }).waitFor({ timeout: 20_000 });
    await settled(w.page);
    const csv = 'E-mail,Given name,Town,Shoe size\nimport1@example.com,Imke,Berlin,42\nnot-an-email,Bad,Paris,40\nimport2@example.com,Ines,Rome,38\n';
    await w.page.locator('#import-file').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await w.page.getByText('people.csv: 3 rows, 4 columns.').waitFor();
    // The server's guesses, and a column nobody guessed.
    expect(await w.page.getByLabel('Field for column E-mail').inputValue()).toBe('email');
    expect(await w.page.getByLabel('Field for column Given name').inputValue()).toBe('first_name');
    expect(await w.page.getByLabel('Field for column Town').inputValue()).toBe('city');
    expect(await w.page.getByLabel('Field for column Shoe size').inputValue()).toBe('');
    // Without an email column nothing can be matched: said before anything is sent.
    await w.page.getByLabel('Field for column E-mail').selectOption('');
    await w.page.getByText('Map one column to Email').waitFor();
    expect(await w.page.getByRole('button', { name: /^Import/ }).isDisabled()).toBe(true);
    await w.page.getByLabel('Field for column E-mail').selectOption('email');
    expect(await axe(w.page)).toEqual([]);
    await w.page.getByRole('button', { name: 'Import 3 rows' }).click();
    await w.page.getByText('Done: 3 of 3 rows processed.').waitFor({ timeout: 20_000 });
    const report = w.page.locator('.row-errors tbody tr');
    expect(await report.count()).toBe(1);
    const cells = await report.first().locator('th, td').allInnerTexts();
    expect(cells[0]).toBe('3');
    expect(cells[1]).toBe('Email');
    expect(cells[2]).toMatch(/email/i);
    expect(await w.page.locator('.import-report dd').allInnerTexts()).toEqual(['2', '0', '1']);
    expect((await api('GET', '/api/v1/contacts?q=import')).body.data.map((c: any) => c.city).sort()).toEqual(['Berlin', 'Rome']);
    expect(await axe(w.page)).toEqual([]);
    expect(w.errors).toEqual([]);
  }, 90_000);
});
