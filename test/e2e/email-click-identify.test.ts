// A click in an email identifies the browser, in real Chromium against the real app: a message
// sent to a contact through the outbox, its tracked link followed (GET /c/{token} → 302 to the
// landing page with ll_t), the page on the site's origin carrying the tag: w.js sends its page
// view as always, the server redeems ll_t and the browser's visitor becomes that contact
// (proven), and the page view is stored without ll_t. w.js does not know about any of it.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { waitFor } from './harness';
import { api, create, makeSite, noErrors, open, rows, sitePage, useWidgetEnv, TIMEOUT } from './widgets-env';

const env = useWidgetEnv();

describe('email click-through', () => {
  it(
    'identifies the browser that follows a tracked link to a page carrying the tag, and stores the URL without ll_t',
    async () => {
      const site = await makeSite();
      const email = `reader-${randomBytes(4).toString('hex')}@example.com`;
      const contact = await create('/api/v1/contacts', { email, first_name: 'Rea' });
      const landing = env.site + sitePage({ key: site.public_key, title: 'Offer' });
      const message = await create('/api/v1/emails', {
        name: 'Offer',
        subject: 'An offer for {{ contact.first_name }}',
        html: `<html><body><p>Hi {{ contact.first_name }}</p><p><a href="${landing}?utm_source=email&amp;utm_campaign=offer">See the offer</a></p></body></html>`,
      });
      const sent = await api('POST', `/api/v1/emails/${message.id}/send`, { contact_id: contact.id });
      expect(sent.status, JSON.stringify(sent.body)).toBe(202);

      // The message as the outbox kept it, and its tracked link.
      const outboxId = await waitFor(async () => {
        await api('POST', '/api/v1/jobs/emails');
        const list = await api('GET', `/api/v1/outbox?to=${encodeURIComponent(email)}`);
        return list.body.data[0]?.id as number | undefined;
      }, 'the message in the outbox', 10_000);
      const html: string = (await api('GET', `/api/v1/outbox/${outboxId}`)).body.html;
      const link = /href="([^"]+\/c\/[\w.-]+)"/.exec(html)?.[1];
      expect(link, html).toBeTruthy();
      expect(html).toMatch(/<img src="[^"]+\/o\/[\w.-]+"/);
      // Without PUBLIC_URL the links name the default port; this server listens elsewhere.
      const clickUrl = env.api + new URL(link!).pathname;
      // A click within seconds of sending is taken for a link scanner's (and gets no ll_t):
      // this test clicks at once, so the send is dated a minute back.
      await rows('UPDATE email_sends SET sent_at = sent_at - 60000 WHERE id = ?', [sent.body.id]);

      const { page, errors } = await open();
      await page.goto(clickUrl);
      expect(page.url()).toMatch(new RegExp(`^${landing.replace(/[.?]/g, '\\$&')}\\?utm_source=email&utm_campaign=offer&ll_t=[\\w-]+\\.[\\w-]+$`));
      await expect(page.title()).resolves.toBe('Offer');

      // The page view arrives; the browser's visitor is the contact now, proven.
      const view = await waitFor(async () => {
        const r = await rows("SELECT * FROM events WHERE site_id = ? AND type = 'page_view'", [site.id]);
        return r[0];
      }, 'the page view', 10_000);
      const visitor = await waitFor(async () => {
        const v = await api('GET', `/api/v1/visitors/${view.visitor_id}`);
        return v.body?.contact_id === contact.id && v.body;
      }, 'the visitor to become the contact', 10_000);
      expect(visitor.contact_id).toBe(contact.id);
      const proven = await rows('SELECT proven_at FROM visitors WHERE id = ?', [view.visitor_id]);
      expect(proven[0]!.proven_at).not.toBeNull();

      // Stored without ll_t, UTM parameters intact; the contact's timeline has the view and the click.
      const stored = await rows("SELECT url, props FROM events WHERE site_id = ? AND type = 'page_view'", [site.id]);
      expect(stored.map((r) => r.url)).toEqual([`${landing}?utm_source=email&utm_campaign=offer`]);
      expect(JSON.parse(String(stored[0]!.props))).toMatchObject({ utm_source: 'email', utm_campaign: 'offer' });
      expect(await rows("SELECT id FROM events WHERE url LIKE '%ll_t%' OR referrer LIKE '%ll_t%'")).toEqual([]);
      const timeline = await waitFor(async () => {
        const r = await api('GET', `/api/v1/contacts/${contact.id}/events?limit=50`);
        const types = (r.body.data as { type: string }[]).map((e) => e.type);
        return types.includes('page_view') && types.includes('email_clicked') && r.body.data;
      }, 'the page view on the contact timeline', 10_000);
      const click = (timeline as { type: string; url: string; props: Record<string, unknown> }[]).find((e) => e.type === 'email_clicked')!;
      expect(click.url).toBe(`${landing}?utm_source=email&utm_campaign=offer`);
      expect(click.props).toMatchObject({ email_id: message.id, send_id: sent.body.id, link: 0, machine: false });
      const row = await api('GET', `/api/v1/email-sends/${sent.body.id}`);
      expect(row.status).toBe(200);
      const human = await rows('SELECT human_clicked_at, human_opened_at FROM email_sends WHERE id = ?', [sent.body.id]);
      expect(human[0]!.human_clicked_at).not.toBeNull();
      expect(human[0]!.human_opened_at).not.toBeNull();

      // The same link opened again (another browser, the token used up) identifies nobody else.
      const again = await open();
      const used = page.url();
      await again.page.goto(used);
      const second = await waitFor(async () => {
        const r = await rows("SELECT visitor_id FROM events WHERE site_id = ? AND type = 'page_view' AND visitor_id != ?", [site.id, view.visitor_id]);
        return r[0];
      }, 'the second browser\'s page view', 10_000);
      await new Promise((ok) => setTimeout(ok, 300));
      expect((await api('GET', `/api/v1/visitors/${second.visitor_id}`)).body.contact_id).toBeNull();
      noErrors(errors);
      noErrors(again.errors);
    },
    TIMEOUT,
  );
});
