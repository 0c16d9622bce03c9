// The preference centre in a real browser, as a recipient reaches it: the unsubscribe link taken
// from a message in the outbox, the page (no script may run: its CSP allows none), a category
// unticked and the form submitted, the confirmation, and the change as the API sees it.
import { describe, expect, it } from 'vitest';
import { useAppInBrowser } from './harness';

// The server's own address is the PUBLIC_URL the links in messages carry.
const env = useAppInBrowser({ publicUrl: true });
const api = env.api;

describe('the preference centre in Chromium', () => {
  it('opens from the unsubscribe link of a real message, leaves an unticked category, and says so', async () => {
    const product = await api('POST', '/api/v1/email-categories', { key: 'product', name: 'Product <news>', description: 'Releases & fixes' });
    expect(product.status).toBe(201);
    const c = await api('POST', '/api/v1/contacts', { email: 'reader@example.com', first_name: 'Robin' });
    const e = await api('POST', '/api/v1/emails', { name: 'Weekly', subject: 'Weekly', html: '<p>Hello {{ contact.first_name }}</p><p><a id="leave" href="{{ unsubscribe_url }}">Unsubscribe</a></p>' });
    expect(e.status).toBe(201);
    expect((await api('POST', `/api/v1/emails/${e.body.id}/send`, { contact_id: c.body.id })).status).toBe(202);
    await api('POST', '/api/v1/jobs/emails');
    const [summary] = (await api('GET', '/api/v1/outbox')).body.data;
    const message = (await api('GET', `/api/v1/outbox/${summary.id}`)).body;
    const link = /href="([^"]+\/u\/[^"]+)"/.exec(message.html)![1]!;
    expect(link.startsWith(`${env.url}/u/`)).toBe(true);
    expect(message.headers['List-Unsubscribe']).toContain(`<${link}>`);

    const context = await env.browser.newContext();
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    const res = await page.goto(link);
    expect(res?.status()).toBe(200);
    await expect.poll(() => page.title()).toBe('Email preferences');
    // Opening the page changed nothing.
    const before = (await api('GET', `/api/v1/contacts/${c.body.id}/subscriptions`)).body;
    expect(before.categories.map((x: any) => [x.name, x.subscribed])).toEqual([
      ['Newsletter', true],
      ['Product <news>', true],
    ]);
    // Names are text, and the page's own styles applied under its CSP.
    await expect.poll(() => page.locator('label span').allTextContents()).toEqual(['NewsletterNews, offers and updates', 'Product <news>Releases & fixes']);
    expect(await page.locator('main').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(255, 255, 255)');
    expect(await page.locator('script').count()).toBe(0);

    // Untick the newsletter (the email's own category) and save.
    const newsletter = page.getByRole('checkbox', { name: /^Newsletter/ });
    expect(await newsletter.isChecked()).toBe(true);
    await newsletter.uncheck();
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Save my choices' }).click()]);
    await expect.poll(() => page.getByRole('status').textContent()).toBe('You have left: Newsletter.');
    expect(page.url()).toBe(link);
    expect(await page.getByRole('checkbox', { name: /^Newsletter/ }).isChecked()).toBe(false);
    expect(await page.getByRole('checkbox', { name: /^Product/ }).isChecked()).toBe(true);

    const after = (await api('GET', `/api/v1/contacts/${c.body.id}/subscriptions`)).body;
    expect(after.categories.map((x: any) => [x.name, x.subscribed])).toEqual([
      ['Newsletter', false],
      ['Product <news>', true],
    ]);
    const events = (await api('GET', `/api/v1/contacts/${c.body.id}/events?type=email_unsubscribed`)).body.data;
    expect(events).toEqual([expect.objectContaining({ type: 'email_unsubscribed', props: expect.objectContaining({ email_id: e.body.id, category_id: after.categories[0].category_id, via: 'preferences' }) })]);
    // The next send of that email is skipped.
    const again = await api('POST', `/api/v1/emails/${e.body.id}/send`, { contact_id: c.body.id });
    expect(again.body).toMatchObject({ status: 'skipped', skip_reason: 'unsubscribed' });

    // Leave everything, then come back by ticking a category.
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Leave all marketing email' }).click()]);
    await expect.poll(() => page.getByRole('status').textContent()).toBe('You have left all marketing email: no more will be sent to you.');
    expect((await api('GET', `/api/v1/contacts/${c.body.id}`)).body.do_not_contact).toEqual([expect.objectContaining({ channel: 'email', reason: 'unsubscribed' })]);
    await page.getByRole('checkbox', { name: /^Product/ }).check();
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Save my choices' }).click()]);
    await expect.poll(() => page.getByRole('status').textContent()).toBe('You will get marketing email again.');
    expect((await api('GET', `/api/v1/contacts/${c.body.id}`)).body.do_not_contact).toEqual([]);
    expect(violations).toEqual([]);
    await page.screenshot({ path: `${process.env.PREFERENCES_SCREENSHOT ?? '/tmp/leadline-preference-centre.png'}`, fullPage: true });
    await context.close();
  });
});
