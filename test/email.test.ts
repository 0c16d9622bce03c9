// The email channel's authoring and sending as the API shows it: Liquid rendering and its
// errors, previews and tests, sends as rows with each suppression reason and the frequency
// caps, the local outbox and its admin page. Delivery through Resend (the send loop, races,
// crashes, rate limits) is test/email-delivery.test.ts.
import { describe, it, expect } from 'vitest';
import { makeApp, expectError, type TestApp } from './helpers';
import { count, runJob } from './tracking-helpers';
import { routeContract } from './route-contract';
import { settleDeferred } from '../api/routes/defer';
import { sendEmail } from '../api/core/email/queue';
import { parseConfig } from '../api/env';
import { defaultSender, formatSender } from '../api/core/email/compose';

const HTML = `<html><head><style>.hi { color: #c00; } @media (max-width: 600px) { .hi { color: blue } }</style></head>
<body>
<p class="hi">Hello {{ contact.first_name | default: "friend" }}!</p>
<p>Plan: {{ contact.fields.plan | default: "none" }}; {{ contact.fields.missing }}|{{ nothing.at.all }}|</p>
<p>{{ company.name }} · {{ points }} points · {{ stage }}</p>
<a href="{{ unsubscribe_url }}">Unsubscribe</a> <a href="{{ preferences_url }}">Preferences</a>
</body></html>`;

/** A marketing email's body without the unsubscribe footer added when its template has no link (test/email-unsubscribe.test.ts). */
const withoutFooter = (s: string) => s.replace(/\n<p style="font-size:12px[^\n]*Unsubscribe or choose what you get<\/a>\.<\/p>$/, '').replace(/\n\n--\nUnsubscribe or choose what you get: \S+\n$/, '');

async function contact(t: TestApp, body: Record<string, unknown>) {
  const r = await t.json('POST', '/api/v1/contacts', body);
  expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
  return r.body as { id: number; email: string };
}

async function email(t: TestApp, body: Record<string, unknown> = {}) {
  const r = await t.json('POST', '/api/v1/emails', { name: 'Newsletter', subject: 'Hi {{ contact.first_name | default: "there" }}', html: HTML, ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { id: number; category_id: number | null; kind: string };
}

/** Waits for the loop an API send kicked, then runs the send job once more. */
async function flush(t: TestApp) {
  await settleDeferred();
  return runJob(t, 'emails');
}

async function outbox(t: TestApp) {
  const list = await t.json('GET', '/api/v1/outbox?limit=100');
  expect(list.status).toBe(200);
  return list.body.data as { id: number; to: string; subject: string; send_id: number }[];
}

describe('configuration', () => {
  it('takes EMAIL_FROM as an address or "Name <address>", and checks RESEND_BASE_URL', () => {
    const from = (v: string | undefined) => defaultSender(parseConfig({ EMAIL_FROM: v }));
    expect(from(undefined)).toEqual({ name: 'Leadline', address: 'leadline@example.com' });
    expect(from('  ')).toEqual({ name: 'Leadline', address: 'leadline@example.com' });
    expect(from('news@shop.example.com')).toEqual({ name: null, address: 'news@shop.example.com' });
    expect(from('"Shop, Inc." <news@shop.example.com>')).toEqual({ name: 'Shop, Inc.', address: 'news@shop.example.com' });
    for (const bad of ['not an address', 'Name <>', 'a@b', 'x\r\nBcc: y@z.com <a@b.co>']) expect(() => parseConfig({ EMAIL_FROM: bad }), bad).toThrow(/EMAIL_FROM/);
    expect(() => parseConfig({ RESEND_BASE_URL: 'api.resend.com' })).toThrow(/RESEND_BASE_URL: must be an http\(s\) URL/);
    // Mail that really goes out needs links that reach this server, over HTTPS.
    expect(() => parseConfig({ RESEND_API_KEY: 're_x' })).toThrow(/PUBLIC_URL: required when RESEND_API_KEY is set/);
    expect(() => parseConfig({ RESEND_API_KEY: 're_x', PUBLIC_URL: 'http://leadline.example.com' })).toThrow(/PUBLIC_URL: must be https/);
    expect(parseConfig({ RESEND_API_KEY: 're_x', PUBLIC_URL: 'https://leadline.example.com' }).PUBLIC_URL).toBe('https://leadline.example.com');
    expect(parseConfig({ RESEND_API_KEY: 're_x', PUBLIC_URL: 'http://127.0.0.1:8787' }).PUBLIC_URL).toBe('http://127.0.0.1:8787');
    expect(parseConfig({}).RESEND_API_KEY).toBeUndefined();
    expect(formatSender('Shop, Inc. "Best"', 'a@b.co')).toBe('"Shop, Inc. \\"Best\\"" <a@b.co>');
    expect(formatSender('Plain Name', 'a@b.co')).toBe('Plain Name <a@b.co>');
  });
});

describe('authoring', () => {
  it('creates, lists, reads, updates and deletes emails; marketing kinds get the Newsletter category', async () => {
    const t = await makeApp();
    const cats = await t.json('GET', '/api/v1/email-categories');
    expect(cats.body.data).toEqual([expect.objectContaining({ key: 'marketing', name: 'Newsletter' })]);
    const marketing = cats.body.data[0].id;

    const a = await email(t);
    expect(a).toMatchObject({ kind: 'template', category_id: marketing, from_name: null, from_email: null, text: null });
    const b = await email(t, { name: 'Receipt', kind: 'transactional', from_name: 'Shop', from_email: 'shop@example.com', reply_to: 'help@example.com' });
    expect(b).toMatchObject({ kind: 'transactional', category_id: null, from_email: 'shop@example.com' });

    const list = await t.json('GET', '/api/v1/emails?kind=transactional');
    expect(list.body.data.map((e: any) => e.id)).toEqual([b.id]);
    const patched = await t.json('PATCH', `/api/v1/emails/${a.id}`, { subject: 'New {{ contact.email }}', text: 'Plain {{ contact.email }}' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ subject: 'New {{ contact.email }}', text: 'Plain {{ contact.email }}', category_id: marketing });
    // A category in use cannot go.
    expectError(await t.json('DELETE', `/api/v1/email-categories/${marketing}`), 409, 'CONFLICT');
    expectError(await t.json('POST', '/api/v1/emails', { name: 'x', subject: 'x', html: 'x', category_id: 999 }), 422, 'VALIDATION_FAILED');
    expect((await t.json('DELETE', `/api/v1/emails/${b.id}`)).body).toEqual({ id: b.id, deleted: true });
    expectError(await t.json('GET', `/api/v1/emails/${b.id}`), 404, 'NOT_FOUND');
    // Unknown fields and header-breaking values are refused.
    expectError(await t.json('POST', '/api/v1/emails', { name: 'x', subject: 'x', html: 'x', bcc: 'x' }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/emails', { name: 'x', subject: 'a\r\nBcc: evil@example.com', html: 'x' }), 422, 'VALIDATION_FAILED');
  });

  it('manages subscription categories', async () => {
    const t = await makeApp();
    const c = await t.json('POST', '/api/v1/email-categories', { key: 'product-news', name: 'Product news', description: 'Releases' });
    expect(c.status).toBe(201);
    expectError(await t.json('POST', '/api/v1/email-categories', { key: 'product-news', name: 'Again' }), 409, 'CONFLICT');
    expectError(await t.json('POST', '/api/v1/email-categories', { key: 'Bad Key', name: 'x' }), 422, 'VALIDATION_FAILED');
    expect((await t.json('PATCH', `/api/v1/email-categories/${c.body.id}`, { name: 'Releases' })).body).toMatchObject({ key: 'product-news', name: 'Releases' });
    expect((await t.json('DELETE', `/api/v1/email-categories/${c.body.id}`)).status).toBe(200);
    expectError(await t.json('GET', `/api/v1/email-categories/${c.body.id}`), 404, 'NOT_FOUND');
  });
});

describe('rendering', () => {
  it('personalises for a contact: fields, custom fields, company, points, stage, links; unknown variables are empty', async () => {
    const t = await makeApp();
    await t.json('POST', '/api/v1/fields', { key: 'plan', label: 'Plan', type: 'text' });
    const c = await contact(t, { email: 'ada@example.com', first_name: 'Ada', fields: { plan: 'pro' } });
    const co = await t.json('POST', '/api/v1/companies', { name: 'Analytical Engines' });
    await t.json('PUT', `/api/v1/companies/${co.body.id}/contacts/${c.id}`, { is_primary: true });
    await t.json('POST', `/api/v1/contacts/${c.id}/points`, { op: 'add', value: 42, reason: 'test' });
    await t.json('PUT', `/api/v1/contacts/${c.id}/stage`, { stage_id: 2 });
    const e = await email(t, { preheader: 'For {{ contact.first_name }}' });

    const p = await t.json('POST', `/api/v1/emails/${e.id}/preview`, { contact_id: c.id });
    expect(p.status, JSON.stringify(p.body)).toBe(200);
    expect(p.body).toMatchObject({ subject: 'Hi Ada', to: 'ada@example.com', from: 'Leadline <leadline@example.com>' });
    expect(p.body.html).toContain('Hello Ada!');
    expect(p.body.html).toContain('Plan: pro; ||');
    expect(p.body.html).toContain('Analytical Engines · 42 points · Engage');
    // CSS inlined for mail clients; the media query kept in a <style>.
    expect(p.body.html).toMatch(/<p class="hi" style="color: #c00;">/);
    expect(p.body.html).toContain('@media');
    // The preheader, hidden at the top of the body.
    expect(p.body.html).toMatch(/<body>\s*<div style="display:none[^"]*">For Ada<\/div>/);
    expect(p.body.html).toMatch(/href="http:\/\/127\.0\.0\.1:8787\/u\/[^"]+"/);
    expect(p.body.headers).toMatchObject({ 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });
    // The plain text was generated from the HTML (headings and links kept readable).
    expect(p.body.text).toContain('Hello Ada!');
    expect(p.body.text).toMatch(/Unsubscribe \[http:\/\/127\.0\.0\.1:8787\/u\/\S+\]/);

    // A contact with no data: defaults and empty strings, never an error.
    const empty = await t.json('POST', `/api/v1/emails/${e.id}/preview`, {});
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ subject: 'Hi there', to: null });
    expect(empty.body.html).toContain('Hello friend!');
    expect(empty.body.html).toContain('Plan: none; ||');
    expectError(await t.json('POST', `/api/v1/emails/${e.id}/preview`, { contact_id: 99999 }), 422, 'VALIDATION_FAILED');
  });

  it('escapes contact data in the HTML (a contact named <script> stays text) but not in subject and text', async () => {
    const t = await makeApp();
    const c = await contact(t, { email: 'x@example.com', first_name: '<script>alert("x")</script>', last_name: 'O\'Brien & Co' });
    const e = await email(t, { subject: '{{ contact.first_name }}', text: 'Hi {{ contact.first_name }} {{ contact.last_name }}', html: '<p title="{{ contact.last_name }}">{{ contact.first_name }}</p>' });
    const p = await t.json('POST', `/api/v1/emails/${e.id}/preview`, { contact_id: c.id });
    expect(withoutFooter(p.body.html)).toBe('<p title="O&#39;Brien &amp; Co">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</p>');
    expect(p.body.html).not.toContain('<script');
    expect(p.body.subject).toBe('<script>alert("x")</script>');
    expect(withoutFooter(p.body.text)).toBe('Hi <script>alert("x")</script> O\'Brien & Co');
  });

  it('refuses template errors when saved, with the field and the line', async () => {
    const t = await makeApp();
    const bad = async (body: Record<string, unknown>, field: string, message: RegExp) => {
      const r = await t.json('POST', '/api/v1/emails', { name: 'x', subject: 'ok', html: '<p>ok</p>', ...body });
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details[0].field).toBe(field);
      expect(r.body.error.details[0].message).toMatch(message);
    };
    await bad({ html: '<p>one</p>\n<p>two</p>\n<p>{{ contact.first_name | shout }}</p>' }, 'html', /^line 3, column \d+: undefined filter: shout/);
    await bad({ subject: 'Hi {{ contact.first_name | nope }}' }, 'subject', /^line 1, column \d+: undefined filter: nope/);
    await bad({ text: 'a\nb\n\n{% if x %}never closed' }, 'text', /^line 4, column 1: tag \{% if x %\} not closed/);
    await bad({ preheader: '{{ x' }, 'preheader', /line 1.*not closed/);
    // No file system: includes and layouts are not tags here.
    await bad({ html: '{% include "secrets" %}' }, 'html', /tag "include" not found/);
    await bad({ html: 'x\n{% render "a" %}' }, 'html', /^line 2, column 1: tag "render" not found/);
    // Parses, but no render could finish: found by the trial render when saved.
    await bad({ html: '<p>\n{% for i in (1..100000000) %}{{ i }}{% endfor %}</p>' }, 'html', /^line 2, column 1: memory alloc limit exceeded/);
    // A PATCH with an error changes nothing.
    const e = await email(t);
    expectError(await t.json('PATCH', `/api/v1/emails/${e.id}`, { html: '{{ a | bogus }}' }), 422, 'VALIDATION_FAILED');
    expect((await t.json('GET', `/api/v1/emails/${e.id}`)).body.html).toBe(HTML);
  });

  it('keeps Liquid in place through CSS inlining (between table rows, in attributes), and stays linear', async () => {
    const t = await makeApp();
    const html = '<style>td { padding: 4px }</style><table>{% for tag in contact.tags %}<tr><td title="{{ tag }}">{{ tag | upcase }}</td></tr>{% endfor %}</table>';
    const e = await email(t, { html });
    const c = await contact(t, { email: 'tags@example.com', tags: ['a', 'b'] });
    const p = await t.json('POST', `/api/v1/emails/${e.id}/preview`, { contact_id: c.id });
    expect(withoutFooter(p.body.html)).toBe('<table><tr><td title="a" style="padding: 4px;">A</td></tr><tr><td title="b" style="padding: 4px;">B</td></tr></table>');
    // Opening markers with no closing one after them (Liquid allows them in a raw block) are refused
    // before anything scans for their ends.
    // Linear, not quadratic: four times the input may take about four times as long (allowed: ten
    // times, plus slack for a busy machine), where a quadratic scan would take sixteen times.
    const timed = async (body: Record<string, unknown>) => {
      const t0 = performance.now();
      const r = await t.json('POST', '/api/v1/emails', body);
      return { r, ms: performance.now() - t0 };
    };
    const unclosed = (n: number) => ({ name: 'x', subject: 'x', html: `{% raw %}${'{{'.repeat(n)}{% endraw %}` });
    await timed(unclosed(25_000));
    const [u1, u4] = [await timed(unclosed(25_000)), await timed(unclosed(100_000))];
    expectError(u4.r, 422, 'VALIDATION_FAILED');
    expect(u4.r.body.error.details[0]).toEqual({ field: 'html', message: 'has a "{{" or "{%" with no "}}" or "%}" after it' });
    expect(u4.ms).toBeLessThan(u1.ms * 10 + 250);
    // A long newsletter (about 100 KB, 1,500 personalised paragraphs) against a quarter of it.
    const para = '<p class="x">Hello {{ contact.first_name | default: "you" }} <a href="https://example.com/{{ contact.id }}">more</a></p>\n';
    const letter = (n: number) => ({ name: 'Long', subject: 'x', html: '<style>.x { color: #333 }</style>' + para.repeat(n) });
    await timed(letter(375));
    const [l1, l4] = [await timed(letter(375)), await timed(letter(1500))];
    expect(l1.r.status).toBe(201);
    expect(l4.r.status).toBe(201);
    expect(l4.ms).toBeLessThan(l1.ms * 10 + 250);
  });

  it('reads only own properties of the variables', async () => {
    const t = await makeApp();
    const c = await contact(t, { email: 'p@example.com' });
    const e = await email(t, { html: '[{{ contact.constructor }}][{{ contact.__proto__ }}][{{ contact.email.toUpperCase }}][{{ contact.fields.hasOwnProperty }}][{{ contact.tags.size }}]' });
    const p = await t.json('POST', `/api/v1/emails/${e.id}/preview`, { contact_id: c.id });
    expect(withoutFooter(p.body.html)).toBe('[][][][][0]');
  });
});

describe('sending', () => {
  it('sends to a contact through the outbox, once per Idempotency-Key, with an email_sent event', async () => {
    const t = await makeApp();
    const c = await contact(t, { email: 'Ada@Example.com', first_name: 'Ada' });
    const e = await email(t);
    const first = await t.json('POST', `/api/v1/emails/${e.id}/send`, { contact_id: c.id }, { headers: { 'Idempotency-Key': 'welcome-ada' } });
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body).toMatchObject({ email_id: e.id, contact_id: c.id, to: 'ada@example.com', status: 'pending', is_test: false });
    expect(first.body.reason).toMatch(/^api:\d+:welcome-ada$/);
    const again = await t.json('POST', `/api/v1/emails/${e.id}/send`, { contact_id: c.id }, { headers: { 'Idempotency-Key': 'welcome-ada' } });
    expect(again.body.id).toBe(first.body.id);
    // After the stored answer expired, the same key still names the same send row.
    const direct = await sendEmail({ ctx: t.ctx, input: { emailId: e.id, body: { contact_id: c.id }, reason: first.body.reason } });
    expect(direct.id).toBe(first.body.id);
    await flush(t);
    const box = await outbox(t);
    expect(box).toEqual([expect.objectContaining({ to: 'ada@example.com', subject: 'Hi Ada', send_id: first.body.id })]);
    const sent = await t.json('GET', `/api/v1/email-sends/${first.body.id}`);
    expect(sent.body).toMatchObject({ status: 'sent', provider_id: `outbox-${box[0]!.id}`, attempts: 1 });
    expect(sent.body.sent_at).toBeTruthy();
    const events = await t.client.execute("SELECT contact_id, props FROM events WHERE type = 'email_sent'");
    expect(events.rows.map((r) => [Number(r.contact_id), JSON.parse(String(r.props))])).toEqual([[c.id, { email_id: e.id, send_id: first.body.id }]]);

    // Without a key, each call is a send of its own.
    const x = await t.json('POST', `/api/v1/emails/${e.id}/send`, { contact_id: c.id });
    const y = await t.json('POST', `/api/v1/emails/${e.id}/send`, { contact_id: c.id });
    expect(x.body.id).not.toBe(y.body.id);
    await flush(t);
    expect(await outbox(t)).toHaveLength(3);
    const sends = await t.json('GET', `/api/v1/emails/${e.id}/sends?status=sent`);
    expect(sends.body.data).toHaveLength(3);
  });

  it('sends transactional emails to an address with variables; marketing ones only to contacts', async () => {
    const t = await makeApp();
    const known = await contact(t, { email: 'known@example.com', first_name: 'Kim' });
    const receipt = await email(t, { name: 'Receipt', kind: 'transactional', subject: 'Order {{ order_id }}', html: '<p>{{ contact.first_name | default: "Customer" }}: {{ total }}</p>' });
    const r = await t.json('POST', `/api/v1/emails/${receipt.id}/send`, { to: 'Stranger@Example.com', variables: { order_id: 'A-17', total: '<b>12 €</b>' } });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.body).toMatchObject({ to: 'stranger@example.com', contact_id: null, status: 'pending' });
    // An address a contact has is linked to that contact.
    const k = await t.json('POST', `/api/v1/emails/${receipt.id}/send`, { to: 'KNOWN@example.com', variables: { order_id: 'B-2', total: '1' } });
    expect(k.body).toMatchObject({ contact_id: known.id });
    await flush(t);
    const msgs = await Promise.all((await outbox(t)).map((m) => t.json('GET', `/api/v1/outbox/${m.id}`)));
    // Without the open pixel the send carries at the end (test/email-tracking.test.ts).
    const byTo = Object.fromEntries(msgs.map((m) => [m.body.to, { ...m.body, html: String(m.body.html).replace(/<img src="[^"]*\/o\/[^"]*"[^>]*\/>$/, '') }]));
    expect(byTo['stranger@example.com']).toMatchObject({ subject: 'Order A-17', html: '<p>Customer: &lt;b&gt;12 €&lt;/b&gt;</p>' });
    expect(byTo['stranger@example.com'].headers['List-Unsubscribe']).toBeUndefined();
    expect(byTo['known@example.com']).toMatchObject({ subject: 'Order B-2', html: '<p>Kim: 1</p>' });
    // No contact, no event; the known contact's send is on its timeline.
    expect(await count(t, "SELECT count(*) AS n FROM events WHERE type = 'email_sent'")).toBe(1);

    const news = await email(t);
    const refused = await t.json('POST', `/api/v1/emails/${news.id}/send`, { to: 'someone@example.com' });
    expectError(refused, 422, 'VALIDATION_FAILED');
    expect(refused.body.error.details[0].field).toBe('to');
    expectError(await t.json('POST', `/api/v1/emails/${news.id}/send`, { contact_id: known.id, to: 'a@example.com' }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', `/api/v1/emails/${receipt.id}/send`, { to: 'x@example.com', variables: { contact: 'spoof' } }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', `/api/v1/emails/${news.id}/send`, { contact_id: 424242 }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/emails/424242/send', { contact_id: known.id }), 404, 'NOT_FOUND');
  });

  it('sends tests to any address past do-not-contact, marked, uncounted', async () => {
    const t = await makeApp();
    const c = await contact(t, { email: 'dnc@example.com', first_name: 'Dee' });
    await t.json('PUT', `/api/v1/contacts/${c.id}/do-not-contact/all`, { reason: 'manual' });
    const e = await email(t);
    const r = await t.json('POST', `/api/v1/emails/${e.id}/test`, { to: 'reviewer@example.com', contact_id: c.id });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.body).toMatchObject({ is_test: true, status: 'pending', to: 'reviewer@example.com' });
    expect(r.body.reason).toMatch(/^test:/);
    await flush(t);
    const [m] = await outbox(t);
    const msg = await t.json('GET', `/api/v1/outbox/${m!.id}`);
    expect(msg.body).toMatchObject({ to: 'reviewer@example.com', subject: 'Hi Dee' });
    expect(msg.body.headers['X-Leadline-Test']).toBe('true');
    expect(await count(t, "SELECT count(*) AS n FROM events WHERE type = 'email_sent'")).toBe(0);
  });

  it('scores email_sent with point rules filtered by email_id', async () => {
    const t = await makeApp();
    const c = await contact(t, { email: 'score@example.com' });
    const a = await email(t);
    const b = await email(t, { name: 'Other' });
    const rule = await t.json('POST', '/api/v1/point-rules', { name: 'Got the newsletter', event_type: 'email_sent', filter: { email_id: a.id }, delta: 3 });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    for (const id of [a.id, b.id]) await t.json('POST', `/api/v1/emails/${id}/send`, { contact_id: c.id });
    await flush(t);
    await runJob(t);
    expect((await t.json('GET', `/api/v1/contacts/${c.id}`)).body.points).toBe(3);
    // Opens and clicks are behaviour; other system events still cannot be scored.
    expectError(await t.json('POST', '/api/v1/point-rules', { name: 'x', event_type: 'segment_joined', delta: 1 }), 422, 'VALIDATION_FAILED');
  });
});

describe('suppression and caps', () => {
  async function setup() {
    const t = await makeApp();
    const news = await email(t);
    const receipt = await email(t, { name: 'Receipt', kind: 'transactional' });
    const send = async (emailId: number, contactId: number) => (await t.json('POST', `/api/v1/emails/${emailId}/send`, { contact_id: contactId })).body;
    return { t, news, receipt, send };
  }

  it('records each reason as a skipped send, never silently dropped; transactional emails skip only for all, bounces and complaints', async () => {
    const { t, news, receipt, send } = await setup();
    const noEmail = await t.json('POST', '/api/v1/contacts', { first_name: 'Nomail' });
    expect(await send(news.id, noEmail.body.id)).toMatchObject({ status: 'skipped', skip_reason: 'invalid_address', to: null });

    const cases: [string, string, string | null, string | null][] = [
      // channel, reason, marketing skip, transactional skip
      ['email', 'bounced', 'bounced', 'bounced'],
      ['all', 'complained', 'complained', 'complained'],
      ['email', 'unsubscribed', 'unsubscribed', null],
      ['email', 'manual', 'do_not_contact', null],
      ['all', 'manual', 'do_not_contact', 'do_not_contact'],
    ];
    for (const [i, [channel, reason, marketing, transactional]] of cases.entries()) {
      const c = await contact(t, { email: `dnc${i}@example.com` });
      const put = await t.json('PUT', `/api/v1/contacts/${c.id}/do-not-contact/${channel}`, { reason });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      expect(await send(news.id, c.id), `${channel}/${reason}`).toMatchObject(marketing ? { status: 'skipped', skip_reason: marketing } : { status: 'pending' });
      expect(await send(receipt.id, c.id), `${channel}/${reason} transactional`).toMatchObject(transactional ? { status: 'skipped', skip_reason: transactional } : { status: 'pending' });
    }

    const left = await contact(t, { email: 'left@example.com' });
    await t.client.execute({ sql: 'INSERT INTO contact_subscriptions (contact_id, category_id, subscribed, updated_at) VALUES (?, ?, 0, 0)', args: [left.id, news.category_id] });
    expect(await send(news.id, left.id)).toMatchObject({ status: 'skipped', skip_reason: 'unsubscribed' });
    expect(await send(receipt.id, left.id)).toMatchObject({ status: 'pending' });

    await flush(t);
    const skipped = await t.client.execute("SELECT skip_reason, count(*) AS n FROM email_sends WHERE status = 'skipped' GROUP BY skip_reason ORDER BY skip_reason");
    expect(Object.fromEntries(skipped.rows.map((r) => [r.skip_reason, Number(r.n)]))).toEqual({
      bounced: 2,
      complained: 2,
      do_not_contact: 3,
      invalid_address: 1,
      unsubscribed: 2,
    });
    // Only what was allowed reached the outbox: 3 transactional + 1 transactional for the unsubscriber.
    expect(await outbox(t)).toHaveLength(3);
  });

  it('decides again when the send loop claims the row', async () => {
    const { t, news } = await setup();
    const c = await contact(t, { email: 'late@example.com' });
    const s = (await t.json('POST', `/api/v1/emails/${news.id}/send`, { contact_id: c.id })).body;
    // Let the kicked loop go first, then queue one it has not seen.
    await settleDeferred();
    const c2 = await contact(t, { email: 'later@example.com' });
    await t.client.execute({
      sql: `INSERT INTO email_sends (email_id, contact_id, to_email, reason, marketing, status, next_attempt_at, created_at, updated_at)
        VALUES (?, ?, 'later@example.com', 'late-test', 1, 'pending', 0, 0, 0)`,
      args: [news.id, c2.id],
    });
    await t.json('PUT', `/api/v1/contacts/${c2.id}/do-not-contact/email`, { reason: 'unsubscribed' });
    expect(await runJob(t, 'emails')).toMatchObject({ skipped: 1, sent: 0 });
    const row = await t.client.execute({ sql: 'SELECT status, skip_reason, lease_owner FROM email_sends WHERE contact_id = ?', args: [c2.id] });
    expect(row.rows[0]).toMatchObject({ status: 'skipped', skip_reason: 'unsubscribed', lease_owner: null });
    expect((await t.json('GET', `/api/v1/email-sends/${s.id}`)).body.status).toBe('sent');
  });

  it('caps marketing emails per contact per day and week; transactional and tests are not capped', async () => {
    const { t, news, receipt, send } = await setup();
    const settings = await t.json('PATCH', '/api/v1/email-settings', { frequency_cap: { per_day: 2 } });
    expect(settings.body).toEqual({ frequency_cap: { per_day: 2, per_week: null }, alerts: [] });
    expect((await t.json('GET', '/api/v1/email-settings')).body).toEqual(settings.body);
    const c = await contact(t, { email: 'capped@example.com' });
    expect(await send(news.id, c.id)).toMatchObject({ status: 'pending' });
    expect(await send(news.id, c.id)).toMatchObject({ status: 'pending' });
    // Queued sends that have not gone out do not count yet (one may still be skipped, and must not
    // cap the contact out of another): the third is decided when the loop claims it.
    const third = await send(news.id, c.id);
    expect(await send(receipt.id, c.id)).toMatchObject({ status: 'pending' });
    expect((await t.json('POST', `/api/v1/emails/${news.id}/test`, { to: 'capped@example.com', contact_id: c.id })).body).toMatchObject({ status: 'pending' });
    await flush(t);
    expect((await t.json('GET', `/api/v1/email-sends/${third.id}`)).body).toMatchObject({ status: 'skipped', skip_reason: 'frequency_cap' });
    expect(await count(t, "SELECT count(*) AS n FROM email_sends WHERE status = 'sent'")).toBe(4);
    // Sent ones still count: the next marketing send is capped too; a weekly cap counts 7 days.
    expect(await send(news.id, c.id)).toMatchObject({ status: 'skipped', skip_reason: 'frequency_cap' });
    await t.json('PATCH', '/api/v1/email-settings', { frequency_cap: { per_day: null, per_week: 3 } });
    expect(await send(news.id, c.id)).toMatchObject({ status: 'pending' });
    await flush(t);
    expect(await send(news.id, c.id)).toMatchObject({ status: 'skipped', skip_reason: 'frequency_cap' });
    // Racing rows queued before a cap was set: the later one is skipped when claimed.
    const d = await contact(t, { email: 'racer@example.com' });
    await t.json('PATCH', '/api/v1/email-settings', { frequency_cap: { per_day: null, per_week: null } });
    const r1 = await send(news.id, d.id);
    const r2 = await send(news.id, d.id);
    await settleDeferred();
    await t.client.execute({ sql: "UPDATE email_sends SET status = 'pending', next_attempt_at = 0, batch_key = NULL, sent_at = NULL WHERE id IN (?, ?)", args: [r1.id, r2.id] });
    await t.client.execute({ sql: "DELETE FROM email_outbox WHERE send_id IN (?, ?)", args: [r1.id, r2.id] });
    await t.json('PATCH', '/api/v1/email-settings', { frequency_cap: { per_day: 1 } });
    await runJob(t, 'emails');
    const rows = await t.client.execute({ sql: 'SELECT id, status, skip_reason FROM email_sends WHERE id IN (?, ?) ORDER BY id', args: [r1.id, r2.id] });
    expect(rows.rows.map((r) => [r.status, r.skip_reason])).toEqual([
      ['sent', null],
      ['skipped', 'frequency_cap'],
    ]);
  });
});

describe('the outbox', () => {
  it('lists messages a page at a time and shows one with its headers, HTML and text', async () => {
    const t = await makeApp();
    const e = await email(t, { reply_to: 'reply@example.com' });
    for (let i = 0; i < 5; i++) {
      const c = await contact(t, { email: `o${i}@example.com`, first_name: `N${i}` });
      await t.json('POST', `/api/v1/emails/${e.id}/send`, { contact_id: c.id });
    }
    await flush(t);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await t.json('GET', `/api/v1/outbox?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.data.map((m: any) => m.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
    const one = await t.json('GET', '/api/v1/outbox?to=O3@example.com');
    expect(one.body.data).toEqual([expect.objectContaining({ to: 'o3@example.com', subject: 'Hi N3' })]);
    const m = await t.json('GET', `/api/v1/outbox/${one.body.data[0].id}`);
    expect(m.body).toMatchObject({ email_id: e.id, from: 'Leadline <leadline@example.com>' });
    expect(m.body.headers).toMatchObject({ From: 'Leadline <leadline@example.com>', To: 'o3@example.com', 'Reply-To': 'reply@example.com', Subject: 'Hi N3' });
    expect(m.body.headers['List-Unsubscribe']).toMatch(/^<http:\/\/127\.0\.0\.1:8787\/u\/.+>$/);
    expect(m.body.text).toContain('Hello N3!');
    expectError(await t.json('GET', '/api/v1/outbox/99999'), 404, 'NOT_FOUND');
  });

  it('shows a message to admins in a browser: Basic auth prompt, sandboxed HTML under a strict CSP', async () => {
    const t = await makeApp();
    const c = await contact(t, { email: 'view@example.com', first_name: '"><img src=x onerror=alert(1)>' });
    const e = await email(t, { html: '<p>{{ contact.first_name }}</p><script>alert("author")</script>', subject: 'S {{ contact.first_name }}' });
    await t.json('POST', `/api/v1/emails/${e.id}/send`, { contact_id: c.id });
    await flush(t);
    const [m] = await outbox(t);
    const path = `/outbox/${m!.id}`;
    const basic = (user: string, pass: string) => ({ authorization: `Basic ${btoa(`${user}:${pass}`)}` });

    const none = await t.app.request(path);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="Leadline outbox", charset="UTF-8"');
    expect((await t.app.request(path, { headers: basic('admin', 'wrong-key-wrong-key') })).status).toBe(401);
    expect((await t.app.request(path, { headers: { authorization: `Bearer ${t.keys.admin}` } })).status).toBe(401);
    const writer = await t.app.request(path, { headers: basic('me', t.keys.write) });
    expect(writer.status).toBe(403);

    const page = await t.app.request(path, { headers: basic('me', t.keys.admin) });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/script-src/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    // The message's HTML only inside the sandboxed iframe's srcdoc, escaped; no script runs on this page.
    expect(html).toMatch(/<iframe sandbox="" [^>]*srcdoc="[^"]*&lt;script&gt;alert\(&quot;author&quot;\)&lt;\/script&gt;[^"]*">/);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('S &quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    // The message as stored carries its open pixel; the page shows it without (reading is no open).
    expect((await t.json('GET', `/api/v1/outbox/${m!.id}`)).body.html).toMatch(/<img src="[^"]*\/o\/[^"]+"/);
    expect(html).not.toContain('/o/');
    // The key may also be given as the user name.
    expect((await t.app.request(path, { headers: basic(t.keys.admin, '') })).status).toBe(200);
    expect((await t.app.request('/outbox/99999', { headers: basic('me', t.keys.admin) })).status).toBe(404);
  });

  it('goes with the contact when the contact is erased', async () => {
    const t = await makeApp();
    const c = await contact(t, { email: 'gone@example.com' });
    const e = await email(t);
    await t.json('POST', `/api/v1/emails/${e.id}/send`, { contact_id: c.id });
    const receipt = await email(t, { kind: 'transactional' });
    await t.json('POST', `/api/v1/emails/${receipt.id}/send`, { to: 'gone@example.com' });
    await flush(t);
    expect(await count(t, "SELECT count(*) AS n FROM email_outbox WHERE to_email = 'gone@example.com'")).toBe(2);
    expect((await t.json('DELETE', `/api/v1/contacts/${c.id}`)).status).toBe(200);
    expect(await count(t, "SELECT count(*) AS n FROM email_outbox WHERE to_email = 'gone@example.com'")).toBe(0);
    expect(await count(t, "SELECT count(*) AS n FROM email_sends WHERE to_email = 'gone@example.com'")).toBe(0);
  });
});

describe('email routes keep the API contract', () => {
  routeContract([
    { method: 'POST', path: '/api/v1/emails', body: { name: 'x', subject: 'x', html: 'x' } },
    { method: 'GET', path: '/api/v1/emails' },
    { method: 'GET', path: '/api/v1/emails/1', idTemplate: '/api/v1/emails/{id}' },
    { method: 'PATCH', path: '/api/v1/emails/1', body: { name: 'y' }, idTemplate: '/api/v1/emails/{id}' },
    { method: 'DELETE', path: '/api/v1/emails/1', idTemplate: '/api/v1/emails/{id}' },
    { method: 'POST', path: '/api/v1/emails/1/preview', body: {}, idTemplate: '/api/v1/emails/{id}/preview' },
    { method: 'POST', path: '/api/v1/emails/1/test', body: { to: 'a@example.com' }, idTemplate: '/api/v1/emails/{id}/test' },
    { method: 'POST', path: '/api/v1/emails/1/send', body: { contact_id: 1 }, idTemplate: '/api/v1/emails/{id}/send' },
    { method: 'GET', path: '/api/v1/emails/1/sends', idTemplate: '/api/v1/emails/{id}/sends' },
    { method: 'GET', path: '/api/v1/email-sends/1', idTemplate: '/api/v1/email-sends/{id}' },
    { method: 'POST', path: '/api/v1/email-categories', body: { key: 'k', name: 'K' } },
    { method: 'GET', path: '/api/v1/email-categories' },
    { method: 'PATCH', path: '/api/v1/email-categories/1', body: { name: 'K' }, idTemplate: '/api/v1/email-categories/{id}' },
    { method: 'GET', path: '/api/v1/email-settings' },
    { method: 'PATCH', path: '/api/v1/email-settings', body: { frequency_cap: { per_day: 3 } } },
    { method: 'GET', path: '/api/v1/outbox' },
    { method: 'GET', path: '/api/v1/outbox/1', idTemplate: '/api/v1/outbox/{id}' },
  ]);
});
