// Emails and broadcasts in Chromium against the real server: the views load clean; an email
// written in block mode is stored as HTML holding its blocks; a personalisation tag inserted
// with the helper shows the chosen contact's value in the server's preview; a test send lands in
// the outbox; a broadcast to a segment reaches its members and its stats say so; a click through
// a tracked link shows in the click map; the server's validation errors show next to their fields.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cspViolations, expectCleanView, settled, startEnv, type Env } from './dashboard-signed-in';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
}, 60_000);
afterAll(() => env?.stop());

/** Runs the send loop until the outbox holds `n` messages to `to` (it may take a few runs). */
async function outboxFor(to: string, n = 1) {
  for (let i = 0; i < 20; i++) {
    expect((await env.call('POST', '/api/v1/jobs/emails')).status).toBeLessThan(300);
    const box = await env.call('GET', `/api/v1/outbox?to=${encodeURIComponent(to)}`);
    if (box.body.data.length >= n) return box.body.data as { id: number; subject: string; to: string }[];
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no message to ${to} in the outbox`);
}

const open = async (page: Page, path: string, heading: string | RegExp) => {
  await page.goto(`${env.url}${path}`);
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor({ timeout: 20_000 });
  await settled(page);
};

describe('Emails and broadcasts in Chromium', () => {
  let emailId = 0;
  let graceId = 0;
  let newsId = 0;

  it('the lists and forms load clean, with empty states that say what to do', async () => {
    const w = await env.signIn();
    await expectCleanView(w, `${env.url}/app/emails`, 'Emails');
    expect(await w.page.getByText('No emails yet.').count()).toBe(1);
    expect(await w.page.getByRole('navigation', { name: 'Sections', exact: true }).getByRole('link', { name: 'Emails', exact: true }).getAttribute('aria-current')).toBe('page');
    await expectCleanView(w, `${env.url}/app/emails/new`, 'New email');
    await expectCleanView(w, `${env.url}/app/broadcasts`, 'Broadcasts');
    await expectCleanView(w, `${env.url}/app/broadcasts/new`, 'New broadcast');
  }, 90_000);

  it('writes an email in block mode: the stored HTML holds the blocks; switching to HTML and back keeps them', async () => {
    const w = await env.signIn();
    const { page } = w;
    await open(page, '/app/emails/new', 'New email');
    await page.getByLabel('Name', { exact: true }).fill('Welcome');
    await page.getByLabel('Subject', { exact: true }).fill('Welcome aboard');
    await page.getByLabel('Heading text').fill('Hello reader');
    await page.getByLabel('Text', { exact: true }).fill('First paragraph.\n\nSecond & last.');
    await page.getByLabel('New block').selectOption('button');
    await page.getByRole('button', { name: 'Add block' }).click();
    await page.getByLabel('Button label').fill('See pricing');
    await page.getByLabel('Link address', { exact: true }).fill('https://example.com/pricing');
    await page.getByLabel('New block').selectOption('divider');
    await page.getByRole('button', { name: 'Add block' }).click();
    await page.getByLabel('New block').selectOption('image');
    await page.getByRole('button', { name: 'Add block' }).click();
    await page.getByLabel('Image address').fill('https://cdn.example.com/logo.png');
    await page.getByLabel('Description (alt text)').fill('Our logo');
    await page.getByRole('button', { name: 'Save email' }).click();
    await page.waitForURL(/\/app\/emails\/\d+\?saved=1$/);
    emailId = Number(/emails\/(\d+)/.exec(page.url())![1]);
    const stored = await env.call('GET', `/api/v1/emails/${emailId}`);
    expect(stored.status).toBe(200);
    const html: string = stored.body.html;
    expect(html).toContain('<!-- block:heading -->');
    expect(html).toMatch(/<h1 [^>]*>Hello reader<\/h1>/);
    expect(html).toMatch(/<p [^>]*>First paragraph\.<\/p>\n<p [^>]*>Second &amp; last\.<\/p>/);
    expect(html).toMatch(/<!-- block:button -->\n<p [^>]*><a href="https:\/\/example\.com\/pricing" [^>]*>See pricing<\/a><\/p>/);
    expect(html).toContain('<!-- block:divider -->');
    expect(html).toMatch(/<!-- block:image -->\n<p [^>]*><img src="https:\/\/cdn\.example\.com\/logo\.png" alt="Our logo" [^>]*><\/p>/);
    expect(html).toContain('{{ unsubscribe_url }}');

    // HTML source and back: the same blocks, the same HTML.
    await page.getByLabel('HTML source').check();
    expect(await page.getByLabel('HTML', { exact: true }).inputValue()).toBe(html);
    await page.getByLabel('Blocks').check();
    expect(await page.locator('fieldset.block').count()).toBe(6);
    expect(await page.getByLabel('Button label').inputValue()).toBe('See pricing');
    expect(await page.getByText('No unsaved changes.').count()).toBe(1);
  }, 90_000);

  it('inserts a personalisation tag; the server’s preview as a contact shows that contact’s value', async () => {
    expect(emailId, 'the email the block-mode test made').toBeGreaterThan(0);
    const w = await env.signIn();
    const { page } = w;
    const grace = await env.call('POST', '/api/v1/contacts', { email: 'grace@example.com', first_name: 'Grace', last_name: 'Hopper' });
    expect(grace.status).toBe(201);
    graceId = grace.body.id;
    expect((await env.call('POST', '/api/v1/fields', { key: 'plan', label: 'Plan', type: 'text' })).status).toBe(201);
    await open(page, `/app/emails/${emailId}`, 'Welcome');
    // Custom fields are offered too.
    expect(await page.getByLabel('Contact field').locator('option[value="contact.fields.plan"]').textContent()).toBe('Plan');

    // Into the subject, after "Welcome aboard, "; and into the heading, with a fallback.
    const subject = page.getByLabel('Subject', { exact: true });
    await subject.fill('Welcome aboard, ');
    await subject.focus();
    await page.getByLabel('Contact field').selectOption('contact.first_name');
    await page.getByRole('button', { name: 'Insert tag' }).click();
    await expect.poll(() => subject.inputValue()).toBe('Welcome aboard, {{ contact.first_name }}');
    const heading = page.getByLabel('Heading text');
    await heading.fill('Hello ');
    await heading.focus();
    await page.getByLabel('When empty, show (optional)').fill('friend');
    await page.getByRole('button', { name: 'Insert tag' }).click();
    await expect.poll(() => heading.inputValue()).toBe('Hello {{ contact.first_name | default: "friend" }}');

    await page.getByLabel('Find a contact').fill('grace');
    await page.getByLabel('Preview as').locator('option', { hasText: 'Grace Hopper' }).waitFor({ state: 'attached' });
    await page.getByLabel('Preview as').selectOption({ label: 'Grace Hopper <grace@example.com>' });
    await page.getByRole('button', { name: 'Save and preview' }).click();
    await page.locator('.preview-subject').waitFor();
    expect(await page.locator('.preview-subject').textContent()).toBe('Welcome aboard, Grace');
    const frame = page.frameLocator('iframe.email-frame');
    await expect.poll(() => frame.locator('h1').textContent()).toBe('Hello Grace');
    // Styles the server inlined apply through the CSSOM (the dashboard's policy allows no inline style).
    expect(await frame.locator('h1').evaluate((h) => getComputedStyle(h).fontSize)).toBe('24px');
    expect(await cspViolations(page)).toEqual([]);
    // The image from another site is not fetched (nothing is, from the dashboard): said so, its alt text kept.
    await page.getByText('1 image from other sites not shown here').waitFor();
    expect(await frame.locator('img[alt="Our logo"]').getAttribute('src')).toBeNull();
    // Saved first: the stored email has both tags.
    const stored = await env.call('GET', `/api/v1/emails/${emailId}`);
    expect(stored.body.subject).toBe('Welcome aboard, {{ contact.first_name }}');
    expect(stored.body.html).toContain('Hello {{ contact.first_name | default: &quot;friend&quot; }}'.replace(/&quot;/g, '"'));
    expect(w.errors).toEqual([]);
  }, 90_000);

  it('a test send lands in the outbox, rendered as the chosen contact', async () => {
    expect(graceId, 'the contact the preview test made').toBeGreaterThan(0);
    const w = await env.signIn();
    const { page } = w;
    // Same page: Grace is still chosen for the preview.
    await page.getByLabel('Send to').fill('reviewer@example.com');
    await page.getByRole('button', { name: 'Send test' }).click();
    await page.getByText(/Test queued to reviewer@example\.com/).waitFor();
    const [msg] = await outboxFor('reviewer@example.com');
    expect(msg!.subject).toBe('Welcome aboard, Grace');
    expect(w.errors).toEqual([]);
  }, 60_000);

  it('shows the server’s validation errors next to their fields', async () => {
    expect(emailId, 'the email the block-mode test made').toBeGreaterThan(0);
    const w = await env.signIn();
    const { page } = w;
    await open(page, `/app/emails/${emailId}`, 'Welcome');
    await page.getByLabel('Name', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const nameError = page.locator('#email-name-error');
    await nameError.waitFor();
    expect(await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Name', { exact: true }).fill('Welcome');
    // A template error in a block's text shows in that block.
    await page.getByLabel('Text', { exact: true }).fill('{{ contact.first_name | no_such_filter }}');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#block-1-error').waitFor();
    expect(await page.locator('#block-1-error').textContent()).toMatch(/line \d+.*no_such_filter/);
    await page.getByLabel('Text', { exact: true }).fill('Fine.');
    await page.getByLabel('HTML source').check();
    await page.getByLabel('HTML', { exact: true }).fill('<p>Hi</p>\n<p>{{ contact.first_name | no_such_filter }}</p>');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#email-html-error').waitFor();
    expect(await page.locator('#email-html-error').textContent()).toMatch(/line 2/);
    expect(await nameError.count()).toBe(0);

    await page.getByLabel('Send to').fill('not an address');
    await page.getByLabel('HTML', { exact: true }).fill('<p>Hi</p>');
    await page.getByRole('button', { name: 'Send test' }).click();
    await page.locator('#test-to-error').waitFor();
    expect(await page.getByLabel('Send to').getAttribute('aria-invalid')).toBe('true');
    expect(w.errors).toEqual([]);
  }, 60_000);

  it('deletes an email after asking', async () => {
    const w = await env.signIn();
    const { page } = w;
    const doomed = await env.call('POST', '/api/v1/emails', { name: 'Doomed', subject: 'Bye', html: '<p>Bye</p>' });
    await open(page, `/app/emails/${doomed.body.id}`, 'Doomed');
    await page.getByRole('button', { name: 'Delete email…' }).click();
    await page.getByRole('button', { name: 'Delete email', exact: true }).click();
    await page.waitForURL(/\/app\/emails\?deleted=Doomed$/);
    await page.getByText('Email “Doomed” deleted.').waitFor();
    expect((await env.call('GET', `/api/v1/emails/${doomed.body.id}`)).status).toBe(404);
    expect(w.errors).toEqual([]);
  }, 60_000);

  it('broadcasts to a segment: its members get it, the stats show the sends, and a click shows in the click map', async () => {
    const w = await env.signIn();
    const { page } = w;
    const news = await env.call('POST', '/api/v1/emails', {
      name: 'November news',
      kind: 'broadcast',
      subject: 'November news',
      html: '<p>Hi {{ contact.first_name | default: "there" }}</p><p><a href="https://example.com/offer">Offer</a> · <a href="https://example.com/blog">Blog</a></p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
    });
    expect(news.status).toBe(201);
    newsId = news.body.id;
    const seg = await env.call('POST', '/api/v1/segments', { name: 'Newsletter', kind: 'static' });
    expect(seg.status).toBe(201);
    const members: number[] = [];
    for (const email of ['m1@example.com', 'm2@example.com']) {
      const c = await env.call('POST', '/api/v1/contacts', { email });
      members.push(c.body.id);
      expect((await env.call('PUT', `/api/v1/segments/${seg.body.id}/members/${c.body.id}`)).status).toBe(200);
    }
    await env.call('POST', '/api/v1/segments', { name: 'Nobody', kind: 'static' });

    await open(page, `/app/broadcasts/new?email=${news.body.id}`, 'New broadcast');
    // Nothing chosen: the server's error shows at the segments.
    await page.getByRole('button', { name: 'Send now' }).click();
    await page.locator('#broadcast-segments-error').waitFor();
    await page.getByLabel(/Newsletter \(2 members\)/).check();
    await page.getByText('Up to 2 contacts').waitFor();
    // Later, without a time: the server's error shows at the time field.
    await page.getByLabel('Later').check();
    await page.getByRole('button', { name: 'Schedule' }).click();
    await page.locator('#broadcast-send-at-error').waitFor();
    expect(await page.getByLabel('Start at (your time zone)').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Now').check();
    await page.getByRole('button', { name: 'Send now' }).click();
    await page.waitForURL(/\/app\/broadcasts\/\d+$/);
    const broadcastPath = new URL(page.url()).pathname;
    await page.getByRole('heading', { name: 'Broadcast: November news', level: 1 }).waitFor();

    const [m1] = await outboxFor('m1@example.com');
    await outboxFor('m2@example.com');
    // The page follows the broadcast: sent to both.
    await expect.poll(() => page.locator('[data-stat="sent"]').textContent(), { timeout: 20_000 }).toBe('2');
    await expect.poll(() => page.locator('[data-status]').getAttribute('data-status'), { timeout: 20_000 }).toBe('sent');
    expect(await page.locator('#broadcast-progress').evaluate((p) => (p as HTMLProgressElement).value)).toBe(2);

    // m1 clicks "Offer" in the message it got (through the signed redirect).
    const message = await env.call('GET', `/api/v1/outbox/${m1!.id}`);
    const href = /<a href="([^"]*\/c\/[^"]+)"[^>]*>Offer<\/a>/.exec(message.body.html)?.[1];
    expect(href).toBeTruthy();
    const click = await fetch(href!.replace(/&amp;/g, '&'), { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Safari/537.36' } });
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toBe('https://example.com/offer');

    await open(page, `/app/emails/${news.body.id}/report`, 'Report: November news');
    await page.locator('.click-table tbody tr').first().waitFor();
    const row = (url: string) => page.locator(`.click-table tr[data-url="${url}"] td[data-clicks]`);
    await expect.poll(() => row('https://example.com/offer').getAttribute('data-clicks'), { timeout: 15_000 }).toBe('1');
    expect(await row('https://example.com/blog').getAttribute('data-clicks')).toBe('0');
    expect(await page.locator('[data-stat="sent"]').textContent()).toBe('2');
    // Overlaid on the message: the badge beside the link.
    const frame = page.frameLocator('iframe.email-frame');
    expect(await frame.locator('a[href="https://example.com/offer"] + .ll-click-badge').textContent()).toBe('1 click');
    expect(await frame.locator('a[href="https://example.com/blog"] + .ll-click-badge').textContent()).toBe('0 clicks');
    expect(await cspViolations(page)).toEqual([]);

    // A broadcast for later waits, and can be cancelled before it starts.
    await open(page, `/app/broadcasts/new?email=${news.body.id}`, 'New broadcast');
    await page.getByLabel(/Nobody \(0 members\)/).check();
    await page.getByLabel('Later').check();
    await page.getByLabel('Start at (your time zone)').fill('2099-01-01T09:00');
    await page.getByRole('button', { name: 'Schedule' }).click();
    await page.locator('#broadcast-send-at-error').waitFor();
    expect(await page.locator('#broadcast-send-at-error').textContent()).toMatch(/year/);
    const inAWeek = new Date(Date.now() + 7 * 86_400_000);
    const local = new Date(inAWeek.getTime() - inAWeek.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.getByLabel('Start at (your time zone)').fill(local);
    // With a subject test: a sample over 50 % is refused at its field.
    await page.getByLabel(/Test a second subject line/).check();
    await page.getByLabel('Subject B').fill('{{ contact.first_name | default: "Friend" }}, this month');
    await page.getByLabel('Sample (% of recipients)').fill('80');
    await page.getByRole('button', { name: 'Schedule' }).click();
    await page.locator('#ab-sample-error').waitFor();
    await page.getByLabel('Sample (% of recipients)').fill('20');
    await page.getByRole('button', { name: 'Schedule' }).click();
    await page.waitForURL(/\/app\/broadcasts\/\d+$/);
    await page.getByText('Waiting to start.').waitFor();
    await page.getByRole('heading', { name: 'Subject test' }).waitFor();
    await page.getByRole('cell', { name: '{{ contact.first_name | default: "Friend" }}, this month' }).waitFor();
    expect(await page.locator('[data-status]').getAttribute('data-status')).toBe('scheduled');
    await page.getByRole('button', { name: 'Cancel broadcast…' }).click();
    await page.getByRole('button', { name: 'Cancel broadcast', exact: true }).click();
    await expect.poll(() => page.locator('[data-status]').getAttribute('data-status')).toBe('cancelled');

    // The list shows the sends too.
    await expectCleanView(w, `${env.url}/app/emails`, 'Emails');
    const listRow = page.locator('tr', { has: page.getByRole('link', { name: 'November news', exact: true }) });
    expect(await listRow.locator('td.num').first().textContent()).toBe('2');
    await expectCleanView(w, `${env.url}/app/broadcasts`, 'Broadcasts');
    // The finished broadcast, its report and the editor fit a phone too.
    await page.setViewportSize({ width: 390, height: 844 });
    await expectCleanView(w, `${env.url}${broadcastPath}`, 'Broadcast: November news');
    await page.locator('.click-table tbody tr').first().waitFor();
    await expectCleanView(w, `${env.url}/app/emails/${news.body.id}/report`, 'Report: November news');
    await page.locator('.click-table tbody tr').first().waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await expectCleanView(w, `${env.url}/app/emails/${news.body.id}`, 'November news');
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(w.errors).toEqual([]);
  }, 120_000);

  it('a viewer sees the lists, reports and click map, but no way to write, preview or send', async () => {
    expect(newsId, 'the broadcast email the previous test made').toBeGreaterThan(0);
    await env.addUser('viewer', 'viewer@example.com');
    const w = await env.signInAs('viewer@example.com', 'a long enough password 123', '/app/emails', 'Emails');
    const { page } = w;
    await settled(page);
    expect(await page.getByRole('link', { name: 'New email' }).count()).toBe(0);
    await expectCleanView(w, `${env.url}/app/emails/${newsId}/report`, 'Report: November news');
    await page.locator('.click-table tbody tr').first().waitFor();
    expect(await page.locator('.click-table tr[data-url="https://example.com/offer"] td[data-clicks]').getAttribute('data-clicks')).toBe('1');
    expect(await page.locator('iframe.email-frame').count()).toBe(0);
    await expectCleanView(w, `${env.url}/app/emails/${newsId}`, 'Edit email');
    await page.getByText('Your role (viewer) cannot change emails').waitFor();
    await expectCleanView(w, `${env.url}/app/broadcasts/new`, 'New broadcast');
    await page.getByText('Your role (viewer) cannot change emails').waitFor();
    // No request the role would be refused.
    expect(w.requested.filter((p) => /\/preview$|\/test$|\/broadcast$/.test(p))).toEqual([]);
    await w.close();
  }, 90_000);
});
