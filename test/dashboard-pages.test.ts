// Landing pages in Chromium against the real server: a marketer builds a page in the editor (a
// hero, a text section and a form), the server's 422 for a bad slug shows next to the slug, the
// page saves as a draft (404 publicly) and shows in the preview as the server renders it,
// publishes and is served at /p/{slug} with the form; sections moved with the keyboard are in
// that order on the public page; leaving with unsaved changes asks first; the list links the live
// page and makes preview links that work; a viewer sees everything read-only. Every view is clean
// (axe serious/critical, console). Signs in through test/dashboard-signed-in.ts.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, axe, cspViolations, expectCleanView, settled, startEnv, type Env } from './dashboard-signed-in';

let env: Env;
const MARKETER = 'mia.marketer@example.com';
const VIEWER = 'vic.viewer@example.com';
let site: { id: number; name: string };
let form: { id: number; name: string };
beforeAll(async () => {
  env = await startEnv();
  // The first admin (made through the setup link, which works only while there is no user) first.
  await env.signIn();
  await env.addUser('marketer', MARKETER);
  await env.addUser('viewer', VIEWER);
  site = (await env.call('POST', '/api/v1/sites', { name: 'Landing site', allowed_origins: [env.url] })).body;
  form = (
    await env.call('POST', '/api/v1/forms', {
      name: 'Webinar signup',
      fields: [{ key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true }],
    })
  ).body;
  expect(form.id).toBeGreaterThan(0);
}, 90_000);
afterAll(() => env?.stop());

/** The public page's HTML, as a visitor's browser gets it. */
const publicPage = async (slug: string) => {
  const r = await fetch(`${env.url}/p/${slug}`, { headers: { accept: 'text/html' } });
  return { status: r.status, html: await r.text() };
};

/** Where each of these marks first shows in the HTML (-1: not at all). */
const order = (html: string, marks: string[]) => marks.map((m) => html.indexOf(m));

const section = (page: Page, n: number) => page.locator('.section-card').nth(n);

describe('Landing pages in Chromium', () => {
  let pageId = 0;

  it('a marketer builds a page: a bad slug is refused next to the slug field; it saves as a draft, previews, publishes and is served with its form', async () => {
    const w = await env.signInAs(MARKETER, ADMIN.password, '/app/pages', 'Landing pages');
    const { page } = w;
    await expectCleanView(w, `${env.url}/app/pages`, 'Landing pages');
    await page.getByText('No landing pages yet.').waitFor();
    await page.getByRole('link', { name: 'New page' }).click();
    await page.getByRole('heading', { name: 'New landing page', level: 1 }).waitFor();
    await settled(page);
    // The preview is the draft's: an empty one is refused, with the server's reasons.
    await page.locator('.preview-problems').filter({ hasText: 'Nothing to preview yet:' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('.preview-problems li').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^slug: /), expect.stringMatching(/^title: /)]));

    await page.getByLabel('Title', { exact: true }).fill('Spring webinar');
    await page.getByLabel('Address (slug)').fill('Spring Webinar!');
    await page.getByLabel('Meta description').fill('Forty minutes, three case studies.');
    await page.getByLabel('Site', { exact: true }).selectOption({ label: site.name });
    // A new page starts with a hero and a text section.
    expect(await page.locator('.section-card').evaluateAll((els) => els.map((e) => e.getAttribute('data-type')))).toEqual(['hero', 'markdown']);
    await section(page, 0).getByLabel('Heading', { exact: true }).fill('Pipelines that convert');
    await section(page, 0).getByLabel('Subheading (optional)').fill('Live on 12 May');
    await section(page, 0).getByLabel('Image address (optional)').fill('https://images.example.com/hero.png');
    await section(page, 0).getByLabel('Image’s alternative text').fill('A pipeline');
    await section(page, 1).getByLabel('Text (Markdown)').fill('## What you will learn\n\n- Scoring that sales trusts');
    await page.getByLabel('New section').selectOption('form');
    await page.getByRole('button', { name: 'Add section' }).click();
    // The new section's first input has the focus.
    await expect.poll(() => page.evaluate(() => document.activeElement?.closest('.section-card')?.getAttribute('data-type'))).toBe('form');
    await section(page, 2).getByLabel('Form', { exact: true }).selectOption({ label: form.name });
    await section(page, 2).getByLabel('Heading above it (optional)').fill('Register');

    // The server refuses the slug: its message is next to the slug field, and nothing is stored.
    await page.getByRole('button', { name: 'Create page' }).click();
    const slug = page.getByLabel('Address (slug)');
    await expect.poll(() => slug.getAttribute('aria-invalid')).toBe('true');
    const described = (await slug.getAttribute('aria-describedby'))!.split(' ');
    expect(await page.locator(`[id="${described.pop()}"]`).textContent()).toMatch(/a-z 0-9/);
    expect((await env.call('GET', '/api/v1/pages')).body.data).toEqual([]);

    await slug.fill('spring-webinar');
    await page.getByRole('button', { name: 'Create page' }).click();
    await page.getByRole('status').filter({ hasText: 'Page saved as a draft.' }).waitFor();
    pageId = Number(/\/app\/pages\/(\d+)/.exec(page.url())![1]);
    const stored = (await env.call('GET', `/api/v1/pages/${pageId}`)).body;
    expect(stored).toMatchObject({ slug: 'spring-webinar', title: 'Spring webinar', description: 'Forty minutes, three case studies.', site_id: site.id, status: 'draft', host: null });
    expect(stored.sections).toEqual([
      { type: 'hero', heading: 'Pipelines that convert', subheading: 'Live on 12 May', image: 'https://images.example.com/hero.png', image_alt: 'A pipeline' },
      { type: 'markdown', markdown: '## What you will learn\n\n- Scoring that sales trusts' },
      { type: 'form', form_id: form.id, heading: 'Register' },
    ]);
    expect((await publicPage('spring-webinar')).status).toBe(404);

    // The preview is the page as the server renders it (a draft, through a preview link).
    const preview = page.frameLocator('iframe.page-frame');
    await preview.locator('h1').filter({ hasText: 'Pipelines that convert' }).waitFor({ timeout: 10_000 });
    expect(await preview.locator(`[data-leadline-form="${form.id}"] input[type=email]`).count()).toBe(1);
    expect(await preview.locator('script').count()).toBe(0);
    // The dashboard loads nothing from elsewhere (the context fails any such request): the image shows as its place, and says so.
    expect(await preview.locator('img[alt="A pipeline"]').getAttribute('src')).toBeNull();
    await page.getByText('1 image from other sites not shown here').waitFor();
    await expectCleanView(w, page.url(), 'Spring webinar');

    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.getByText('Published: the page is live.').waitFor();
    await expect.poll(() => page.locator('.page-state').textContent()).toContain(`Published at ${env.url}/p/spring-webinar`);
    const live = await publicPage('spring-webinar');
    expect(live.status).toBe(200);
    expect(live.html).toContain(`data-leadline-form="${form.id}"`);
    expect(live.html).toContain(`action="${env.url}/f/${form.id}"`);
    const marks = ['<h1>Pipelines that convert</h1>', 'What you will learn', `data-leadline-form="${form.id}"`];
    expect(order(live.html, marks).every((at, i, all) => at > 0 && (i === 0 || at > all[i - 1]!)), 'hero, text, form in order').toBe(true);
    expect(await cspViolations(page)).toEqual([]);
    expect(w.errors).toEqual([]);
    await w.close();
  }, 150_000);

  it('sections moved with the keyboard keep the focus, save, and are in that order on the public page; leaving unsaved asks first', async () => {
    expect(pageId).toBeGreaterThan(0);
    const w = await env.signInAs(MARKETER, ADMIN.password, '/app/pages', 'Landing pages');
    const { page } = w;
    await page.getByRole('link', { name: 'Spring webinar', exact: true }).click();
    await page.getByRole('heading', { name: 'Spring webinar', level: 1 }).waitFor();
    await settled(page);
    // The form (section 3) goes to the top: Enter on its Move up button, twice; the focus stays on it.
    await page.getByRole('button', { name: 'Move up section 3: Form' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Move up section 2: Form');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.section-card').evaluateAll((els) => els.map((e) => e.getAttribute('data-type')))).toEqual(['form', 'hero', 'markdown']);
    // At the top its Move up is off: the focus moved to its Move down.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Move down section 1: Form');
    expect(await page.getByRole('status').filter({ hasText: 'Form moved to position 1 of 3.' }).count()).toBe(1);
    await page.getByText('Unsaved changes: saving them changes the live page at once.').waitFor();

    // Leaving by a link asks; staying keeps the edits.
    const asked: string[] = [];
    page.on('dialog', (d) => (asked.push(d.message()), void d.dismiss()));
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Pages' }).click();
    await expect.poll(() => asked).toEqual(['This page has unsaved changes. Leave without saving them?']);
    expect(new URL(page.url()).pathname).toBe(`/app/pages/${pageId}`);
    expect(await page.locator('.section-card').first().getAttribute('data-type')).toBe('form');
    // So does the Back button (to the list, where the editor was opened from).
    await page.goBack();
    await expect.poll(() => asked.length).toBe(2);
    // (The address is the list's while the question is open, and this page's again once it is answered.)
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/app/pages/${pageId}`);
    expect(await page.locator('.section-card').first().getAttribute('data-type')).toBe('form');

    await page.getByRole('button', { name: 'Save page' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const live = await publicPage('spring-webinar');
    const [formAt, heroAt, textAt] = order(live.html, [`data-leadline-form="${form.id}"`, '<h1>Pipelines that convert</h1>', 'What you will learn']);
    expect(formAt).toBeGreaterThan(0);
    expect(formAt).toBeLessThan(heroAt!);
    expect(heroAt).toBeLessThan(textAt!);
    // The preview follows the save.
    const preview = page.frameLocator('iframe.page-frame');
    await expect.poll(() => preview.locator('main > *').first().evaluate((e) => e.className), { timeout: 10_000 }).toBe('form');

    // Saved: leaving asks nothing. The list links the live page and makes a working preview link.
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Pages' }).click();
    await page.getByRole('heading', { name: 'Landing pages', level: 1 }).waitFor();
    expect(asked).toHaveLength(2);
    const row = page.getByRole('region', { name: 'Landing pages' }).getByRole('row', { name: /Spring webinar/ });
    await row.waitFor();
    expect(await row.getByRole('cell').allTextContents()).toEqual(expect.arrayContaining(['/p/spring-webinar', 'Published']));
    expect(await row.getByRole('link', { name: /Live page/ }).getAttribute('href')).toBe(`${env.url}/p/spring-webinar`);
    await row.getByRole('button', { name: 'Preview link for Spring webinar' }).click();
    const href = (await row.getByRole('link', { name: /Open preview/ }).getAttribute('href'))!;
    expect(href).toMatch(new RegExp(`^${env.url}/p/spring-webinar\\?preview=${pageId}\\.\\d+\\.[0-9a-f]{40}$`));
    const opened = await fetch(href);
    expect(opened.status).toBe(200);
    expect(await opened.text()).toContain('noindex');
    await expectCleanView(w, `${env.url}/app/pages`, 'Landing pages');
    // On a phone too.
    const phone = await env.openSameSession(w, { width: 390, height: 800 });
    await expectCleanView(phone, `${env.url}/app/pages/${pageId}`, 'Spring webinar');
    await phone.close();
    expect(w.errors).toEqual([]);
    await w.close();
  }, 150_000);

  it('the preview shows unsaved edits a moment after typing; a draft the server refuses keeps the last good render with its reasons', async () => {
    expect(pageId).toBeGreaterThan(0);
    const w = await env.signInAs(MARKETER, ADMIN.password, `/app/pages/${pageId}`, 'Spring webinar');
    const { page } = w;
    await settled(page);
    const preview = page.frameLocator('iframe.page-frame');
    await preview.locator('h1').filter({ hasText: 'Pipelines that convert' }).waitFor({ timeout: 10_000 });
    const asked = w.requested.length;
    const hero = page.locator('.section-card[data-type="hero"]');
    const heading = hero.getByLabel('Heading', { exact: true });
    await heading.fill('');
    await heading.pressSequentially('Pipelines that close', { delay: 40 });
    // While the server renders the draft, the preview says so; then it shows the heading never saved.
    await page.getByRole('status').filter({ hasText: 'Preview updating…' }).waitFor();
    await preview.locator('h1').filter({ hasText: 'Pipelines that close' }).waitFor({ timeout: 10_000 });
    await expect.poll(() => page.locator('.preview-state').textContent()).toBe('');
    expect(w.requested.slice(asked)).toContain('/api/v1/pages/preview');
    // Not a request per key: the preview waits for the typing to stop.
    expect(w.requested.slice(asked).filter((p) => p === '/api/v1/pages/preview').length).toBeLessThanOrEqual(2);
    expect(await page.getByText('Unsaved changes').count()).toBeGreaterThan(0);
    expect((await env.call('GET', `/api/v1/pages/${pageId}`)).body.sections.find((s: any) => s.type === 'hero').heading).toBe('Pipelines that convert');
    expect((await publicPage('spring-webinar')).html).toContain('<h1>Pipelines that convert</h1>');

    // A token the server does not know: its message, naming the section, and the last good render stays.
    await hero.getByLabel('Heading', { exact: true }).fill('Hello {{ contact.nickname }}');
    const problems = page.locator('.preview-problems');
    await problems.filter({ hasText: 'The preview shows the last version that could be shown:' }).waitFor({ timeout: 10_000 });
    expect(await problems.locator('li').allTextContents()).toEqual([expect.stringMatching(/^Section \d, heading: .*"nickname" is not a contact field/)]);
    expect(await preview.locator('h1').textContent()).toBe('Pipelines that close');
    // Fixed: the problems go, the preview follows.
    await hero.getByLabel('Heading', { exact: true }).fill('Hello {{ contact.first_name | default: "friend" }}');
    await preview.locator('h1').filter({ hasText: 'Hello friend' }).waitFor({ timeout: 10_000 });
    expect(await problems.count()).toBe(0);
    expect(await axe(page)).toEqual([]);
    expect(await cspViolations(page)).toEqual([]);
    expect(w.errors).toEqual([]);
    await w.close();
  }, 120_000);

  it('a viewer sees the list and the page read-only, with the published page as preview; the API refuses its writes', async () => {
    expect(pageId).toBeGreaterThan(0);
    const w = await env.signInAs(VIEWER, ADMIN.password, '/app/pages', 'Landing pages');
    const { page } = w;
    await expectCleanView(w, `${env.url}/app/pages`, 'Landing pages');
    expect(await page.getByRole('link', { name: 'New page' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /Preview link/ }).count()).toBe(0);
    await page.getByRole('link', { name: 'Spring webinar', exact: true }).click();
    await page.getByRole('heading', { name: 'Spring webinar', level: 1 }).waitFor();
    await settled(page);
    await page.getByText('Your role (viewer) cannot change landing pages: that needs the marketer role or higher.').waitFor();
    expect(await page.getByLabel('Address (slug)').inputValue()).toBe('spring-webinar');
    expect(await page.getByLabel('Address (slug)').isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: /Move up/ }).first().isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: /Save page|Publish|Unpublish|Delete page|Add section/ }).filter({ visible: true }).evaluateAll((b) => b.filter((x) => !x.matches(':disabled')).map((x) => x.textContent))).toEqual([]);
    await page.frameLocator('iframe.page-frame').locator('h1').filter({ hasText: 'Pipelines that convert' }).waitFor({ timeout: 10_000 });
    // The page as saved: a viewer cannot render drafts.
    expect(w.requested).not.toContain('/api/v1/pages/preview');
    await expectCleanView(w, `${env.url}/app/pages/${pageId}`, 'Spring webinar');
    await expectCleanView(w, `${env.url}/app/pages/new`, 'New landing page');
    expect(await page.getByRole('button', { name: 'Create page' }).count()).toBe(0);

    // The server decides: a change with this session, as the dashboard would send it, is refused.
    const refused = await page.evaluate(async (id) => {
      const me = await (await fetch('/api/v1/auth/me')).json();
      const r = await fetch(`/api/v1/pages/${id}/unpublish`, { method: 'POST', headers: { 'x-csrf-token': me.csrf_token } });
      return r.status;
    }, pageId);
    expect(refused).toBe(403);
    expect((await env.call('GET', `/api/v1/pages/${pageId}`)).body.status).toBe('published');
    w.errors.length = 0;
    await w.close();
  }, 120_000);
});
