// Letting people leave (issue 10, point 4): List-Unsubscribe and List-Unsubscribe-Post on
// marketing mail and a visible link in its body, the one-click POST /u/{token} exactly as
// mailbox providers send it, the preference centre at GET /u/{token} and its form posts, the
// effects (category rows, do-not-contact for "everything", events, the send's unsubscribed_at,
// the next send skipped), the developer API for a contact's subscriptions, and hostile input.
import { describe, it, expect } from 'vitest';
import { makeApp, expectError, type TestApp } from './helpers';
import { count, runJob } from './tracking-helpers';
import { routeContract } from './route-contract';
import { settleDeferred } from '../api/routes/defer';
import { signToken } from '../api/core/email/tokens';
import { composeMessage } from '../api/core/email/compose';
import { loadEmail } from '../api/core/email/emails';
import { loadRecipients } from '../api/core/email/recipients';

async function contact(t: TestApp, body: Record<string, unknown>) {
  const r = await t.json('POST', '/api/v1/contacts', body);
  expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
  return r.body as { id: number; email: string };
}

async function email(t: TestApp, body: Record<string, unknown> = {}) {
  const r = await t.json('POST', '/api/v1/emails', { name: 'News', subject: 'News for {{ contact.first_name | default: "you" }}', html: '<html><body><p>Hello</p></body></html>', ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { id: number; category_id: number | null; kind: string };
}

async function category(t: TestApp, key: string, name: string, description?: string) {
  const r = await t.json('POST', '/api/v1/email-categories', { key, name, description });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id as number;
}

/** Sends an email to a contact through the outbox; answers the send and the message as it went out. */
async function deliver(t: TestApp, emailId: number, contactId: number) {
  const s = await t.json('POST', `/api/v1/emails/${emailId}/send`, { contact_id: contactId });
  expect(s.status, JSON.stringify(s.body)).toBe(202);
  await settleDeferred();
  await runJob(t, 'emails');
  const send = (await t.json('GET', `/api/v1/email-sends/${s.body.id}`)).body;
  const row = await t.client.execute({ sql: 'SELECT id FROM email_outbox WHERE send_id = ?', args: [s.body.id] });
  const message = row.rows[0] ? (await t.json('GET', `/api/v1/outbox/${Number(row.rows[0].id)}`)).body : null;
  return { send, message };
}

const tokenOf = (message: { headers: Record<string, string> }) => /\/u\/([^>?]+)>/.exec(message.headers['List-Unsubscribe']!)![1]!;

async function nextSend(t: TestApp, emailId: number, contactId: number) {
  return (await t.json('POST', `/api/v1/emails/${emailId}/send`, { contact_id: contactId })).body as { status: string; skip_reason: string | null };
}

async function state(t: TestApp, contactId: number) {
  const subs = await t.client.execute({ sql: 'SELECT category_id, subscribed FROM contact_subscriptions WHERE contact_id = ? ORDER BY category_id', args: [contactId] });
  const dnc = await t.client.execute({ sql: 'SELECT channel, reason FROM do_not_contact WHERE contact_id = ? ORDER BY channel', args: [contactId] });
  const events = await t.client.execute({ sql: "SELECT props FROM events WHERE contact_id = ? AND type = 'email_unsubscribed' ORDER BY id", args: [contactId] });
  return {
    subs: subs.rows.map((r) => [Number(r.category_id), Number(r.subscribed)]),
    dnc: dnc.rows.map((r) => [String(r.channel), String(r.reason)]),
    events: events.rows.map((r) => JSON.parse(String(r.props))),
  };
}

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const open = (t: TestApp, token: string, init: RequestInit = {}) => t.app.request(`/u/${token}`, { ...init, headers: { ...HTML, ...(init.headers as Record<string, string>) } });
const post = (t: TestApp, token: string, body?: BodyInit, headers: Record<string, string> = {}) => t.app.request(`/u/${token}`, { method: 'POST', body, headers });
const form = (t: TestApp, token: string, pairs: [string, string][], headers: Record<string, string> = {}) =>
  post(t, token, new URLSearchParams(pairs).toString(), { 'content-type': 'application/x-www-form-urlencoded', ...headers });

describe('headers and the visible link', () => {
  it('marketing mail carries List-Unsubscribe (HTTPS and mailto) and List-Unsubscribe-Post, and a footer when the template places no link', async () => {
    const t = await makeApp({ env: { PUBLIC_URL: 'https://mail.example.com/', EMAIL_FROM: 'Shop <news@shop.example.com>' } });
    const c = await contact(t, { email: 'ada@example.com', first_name: 'Ada' });
    const e = await email(t);
    const { send, message } = await deliver(t, e.id, c.id);
    expect(send.status).toBe('sent');
    const token = tokenOf(message);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(message.headers['List-Unsubscribe']).toBe(`<https://mail.example.com/u/${token}>, <mailto:news@shop.example.com?subject=unsubscribe%20${token}>`);
    expect(message.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    // The template had no link: a footer with it, before </body> (and the open pixel), and in the text part.
    expect(message.html).toMatch(new RegExp(`<a href="https://mail\\.example\\.com/u/${token.replace(/[.-]/g, '\\$&')}"[^>]*>Unsubscribe or choose what you get</a>\\.</p>\\n(<img src="[^"]+/o/[^"]+"[^>]*>)?</body>`));
    expect(message.text).toContain(`Unsubscribe or choose what you get: https://mail.example.com/u/${token}`);
    // The token names the contact, the category and the send, compactly.
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toEqual([c.id, e.category_id, send.id]);

    // A template that places {{ unsubscribe_url }} gets no second link.
    const placed = await email(t, { html: '<p>Hi</p><a href="{{ unsubscribe_url }}">Leave</a> · <a href="{{ preferences_url }}">Choose</a>' });
    const m2 = (await deliver(t, placed.id, c.id)).message;
    const t2 = tokenOf(m2);
    expect(m2.html.split(`/u/${t2}`)).toHaveLength(3);
    expect(m2.html).not.toContain('Unsubscribe or choose what you get');
    expect(m2.html).toContain(`href="https://mail.example.com/u/${t2}?preferences=1"`);
  });

  it('transactional mail carries neither the headers nor a footer; previews and tests carry a link that names nobody', async () => {
    const t = await makeApp();
    const c = await contact(t, { email: 'kim@example.com' });
    const receipt = await email(t, { name: 'Receipt', kind: 'transactional' });
    const { message } = await deliver(t, receipt.id, c.id);
    expect(message.headers['List-Unsubscribe']).toBeUndefined();
    expect(message.headers['List-Unsubscribe-Post']).toBeUndefined();
    expect(message.html).not.toContain('/u/');
    expect(message.text).not.toContain('/u/');

    const e = await email(t);
    const p = await t.json('POST', `/api/v1/emails/${e.id}/preview`, { contact_id: c.id });
    expect(p.body.headers['List-Unsubscribe']).toBe('<http://127.0.0.1:8787/u/preview>, <mailto:leadline@example.com?subject=unsubscribe%20preview>');
    expect(p.body.html).toContain('href="http://127.0.0.1:8787/u/preview"');
    await t.json('POST', `/api/v1/emails/${e.id}/test`, { to: 'me@example.com', contact_id: c.id });
    await settleDeferred();
    await runJob(t, 'emails');
    const box = (await t.json('GET', '/api/v1/outbox?to=me@example.com')).body.data;
    const test = (await t.json('GET', `/api/v1/outbox/${box[0].id}`)).body;
    expect(test.headers['List-Unsubscribe']).toContain('/u/preview>');
    // The preview link is harmless: it is no token.
    expect((await open(t, 'preview')).status).toBe(400);
    expectError(await t.json('GET', '/u/preview', undefined, { key: null }), 400, 'BAD_REQUEST');
    expect((await post(t, 'preview', 'List-Unsubscribe=One-Click', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(400);
    expect(await state(t, c.id)).toEqual({ subs: [], dnc: [], events: [] });
  });

  it('renders the same bytes for the same send', async () => {
    const t = await makeApp();
    const c = await contact(t, { email: 'same@example.com', first_name: 'Sam' });
    const e = await email(t);
    const rec = (await loadRecipients(t.ctx, [c.id])).get(c.id)!;
    const rec0 = await loadEmail(t.ctx, e.id);
    const compose = () =>
      composeMessage(t.ctx, {
        email: rec0,
        recipient: rec,
        to: c.email,
        variables: null,
        mode: 'send',
        target: { sendId: 77, contactId: c.id, toEmail: c.email, categoryId: e.category_id, marketing: true },
      });
    const [a, b] = [await compose(), await compose()];
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.headers['List-Unsubscribe']).toContain('/u/');
  });
});

// Raw bodies as mailbox providers post them (RFC 8058 §3.1): Gmail and Apple Mail multipart,
// Yahoo urlencoded, some with nothing, and the odd ones.
const BOUNDARY = '----=_Part_4_1843206.1732570000000';
const ONE_CLICK: { name: string; body?: string; type?: string }[] = [
  {
    name: 'multipart/form-data (Gmail)',
    type: `multipart/form-data; boundary="${BOUNDARY}"`,
    body: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${BOUNDARY}--\r\n`,
  },
  { name: 'urlencoded (Yahoo)', type: 'application/x-www-form-urlencoded', body: 'List-Unsubscribe=One-Click' },
  { name: 'urlencoded with a charset', type: 'application/x-www-form-urlencoded; charset=UTF-8', body: 'List-Unsubscribe=One-Click' },
  { name: 'an empty body, no type' },
  { name: 'an empty urlencoded body', type: 'application/x-www-form-urlencoded', body: '' },
  { name: 'text/plain', type: 'text/plain', body: 'List-Unsubscribe=One-Click' },
  { name: 'JSON', type: 'application/json', body: '{"List-Unsubscribe":"One-Click"}' },
  { name: 'broken multipart', type: 'multipart/form-data; boundary=x', body: '--y\r\ngarbage' },
  { name: 'multipart without a boundary', type: 'multipart/form-data', body: 'List-Unsubscribe=One-Click' },
  { name: 'octet-stream junk', type: 'application/octet-stream', body: '\u0000\uFFFD\u0001' },
  { name: 'other fields only', type: 'application/x-www-form-urlencoded', body: 'foo=bar&action=nonsense' },
];

describe('one-click POST /u/{token}', () => {
  for (const v of ONE_CLICK) {
    it(`leaves the category at once on ${v.name}: an empty 200, an event, the next send skipped; again changes nothing`, async () => {
      const t = await makeApp();
      const c = await contact(t, { email: 'leaver@example.com' });
      const e = await email(t);
      const receipt = await email(t, { name: 'Receipt', kind: 'transactional' });
      const { send, message } = await deliver(t, e.id, c.id);
      const token = tokenOf(message);
      for (let i = 0; i < 2; i++) {
        const res = await post(t, token, v.body, v.type ? { 'content-type': v.type } : {});
        expect(res.status, v.name).toBe(200);
        expect(await res.text()).toBe('');
        expect(res.headers.get('location')).toBeNull();
        expect(res.headers.get('set-cookie')).toBeNull();
      }
      const s = await state(t, c.id);
      expect(s.subs).toEqual([[e.category_id, 0]]);
      expect(s.dnc).toEqual([]);
      expect(s.events).toEqual([{ email_id: e.id, send_id: send.id, category_id: e.category_id, via: 'one_click' }]);
      const row = await t.client.execute({ sql: 'SELECT unsubscribed_at FROM email_sends WHERE id = ?', args: [send.id] });
      expect(Number(row.rows[0]!.unsubscribed_at)).toBeGreaterThan(0);
      // Immediate: the next marketing send of that category is skipped; transactional still goes.
      expect(await nextSend(t, e.id, c.id)).toMatchObject({ status: 'skipped', skip_reason: 'unsubscribed' });
      expect(await nextSend(t, receipt.id, c.id)).toMatchObject({ status: 'pending' });
    });
  }

  it('keeps the first unsubscribed_at; leaves everything when the email has no category; a merged contact leaves as its survivor', async () => {
    let now = 1_800_000_000_000;
    const t = await makeApp({ now: () => now });
    const c = await contact(t, { email: 'all@example.com' });
    const bare = await email(t, { category_id: null });
    expect(bare.category_id).toBeNull();
    const { send, message } = await deliver(t, bare.id, c.id);
    expect((await post(t, tokenOf(message))).status).toBe(200);
    now += 60_000;
    expect((await post(t, tokenOf(message))).status).toBe(200);
    const s = await state(t, c.id);
    expect(s.dnc).toEqual([['email', 'unsubscribed']]);
    expect(s.events).toEqual([{ email_id: bare.id, send_id: send.id, category_id: null, via: 'one_click' }]);
    const row = await t.client.execute({ sql: 'SELECT unsubscribed_at FROM email_sends WHERE id = ?', args: [send.id] });
    expect(Number(row.rows[0]!.unsubscribed_at)).toBe(1_800_000_000_000);
    const news = await email(t);
    expect(await nextSend(t, news.id, c.id)).toMatchObject({ status: 'skipped', skip_reason: 'unsubscribed' });

    // An old id after a merge: the survivor leaves.
    const a = await contact(t, { email: 'old@example.com' });
    const b = await contact(t, { email: 'survivor@example.com' });
    const m = (await deliver(t, news.id, a.id)).message;
    expect((await t.json('POST', `/api/v1/contacts/${b.id}/merge`, { contact_id: a.id })).status).toBe(200);
    expect((await post(t, tokenOf(m))).status).toBe(200);
    expect((await state(t, b.id)).subs).toEqual([[news.category_id, 0]]);
  });

  it('a tampered token is a 400 and changes nothing', async () => {
    const t = await makeApp();
    const c = await contact(t, { email: 'tamper@example.com' });
    const e = await email(t);
    const { send, message } = await deliver(t, e.id, c.id);
    const token = tokenOf(message);
    const [body, mac] = token.split('.') as [string, string];
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const other = Buffer.from(JSON.stringify([c.id + 1, e.category_id, send.id])).toString('base64url');
    const bad = [
      `${flip(body, 2)}.${mac}`,
      `${body}.${flip(mac, 5)}`,
      `${other}.${mac}`,
      `${body}.${mac}x`,
      body,
      `${token}.x`,
      await signToken(t.ctx, 'open', [c.id, e.category_id, send.id]),
      await signToken(t.ctx, 'unsubscribe', [c.id, e.category_id]),
      await signToken(t.ctx, 'unsubscribe', [{ id: c.id }, null, null]),
      await signToken(t.ctx, 'unsubscribe', [-1, null, null]),
      'x'.repeat(5000),
      '%00',
      '%ED%A0%80',
      'a%00b.c',
    ];
    for (const b of bad) {
      const p = await t.json('POST', `/u/${b}`, 'List-Unsubscribe=One-Click', { key: null, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expectError(p, 400, 'BAD_REQUEST');
      expectError(await t.json('GET', `/u/${b}`, undefined, { key: null }), 400, 'BAD_REQUEST');
      const g = await open(t, b);
      expect(g.status, b).toBe(400);
      expect(g.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await g.text()).toContain('This link is not valid');
    }
    expect(await state(t, c.id)).toEqual({ subs: [], dnc: [], events: [] });
    expect(await count(t, 'SELECT count(*) AS n FROM email_sends WHERE unsubscribed_at IS NOT NULL')).toBe(0);
  });

  it('answers hostile bodies without a 5xx: deep junk, NUL, lone surrogates, too big, aborted', async () => {
    const t = await makeApp();
    const c = await contact(t, { email: 'hostile@example.com' });
    const e = await email(t);
    const token = tokenOf((await deliver(t, e.id, c.id)).message);
    const bodies: [string, BodyInit][] = [
      ['application/x-www-form-urlencoded', 'action=save&' + 'shown=1&c=%ED%A0%80&'.repeat(2000)],
      ['application/x-www-form-urlencoded', 'action=save&shown=99999999999999999999&shown=0x1&c=-1&shown=%00'],
      ['application/x-www-form-urlencoded', `action=${'['.repeat(5000)}`],
      ['application/x-www-form-urlencoded', 'action=leave%00&%zz=%&&&=='],
      ['multipart/form-data; boundary=b', `--b\r\nContent-Disposition: form-data; name="action"\r\n\r\nsave\r\n--b\r\nContent-Disposition: form-data; name="c"; filename="x.bin"\r\n\r\n\u0000\u0001\r\n--b--\r\n`],
      ['application/json', JSON.stringify(JSON.parse('['.repeat(3000) + ']'.repeat(3000)))],
      ['application/x-www-form-urlencoded', new Uint8Array([0xff, 0xfe, 0xed, 0xa0, 0x80, 0x00])],
    ];
    for (const [type, body] of bodies) {
      const r = await post(t, token, body, { 'content-type': type });
      expect(r.status, `${type} ${String(body).slice(0, 40)}`).toBeLessThan(500);
    }
    const big = await post(t, token, 'List-Unsubscribe=One-Click&pad=' + 'x'.repeat(70_000), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(big.status).toBe(413);
    // The same without a Content-Length (chunked): the limit trips while the body streams in.
    const chunks = new ReadableStream<Uint8Array>({
      start(ctl) {
        ctl.enqueue(new TextEncoder().encode('action=save&pad='));
        for (let i = 0; i < 10; i++) ctl.enqueue(new TextEncoder().encode('x'.repeat(10_000)));
        ctl.close();
      },
    });
    const chunked = await t.app.request(`/u/${token}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: chunks, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(413);
    // A body that breaks off half way.
    const aborted = new ReadableStream<Uint8Array>({
      start(ctl) {
        ctl.enqueue(new TextEncoder().encode('action=leave_all&'));
        // What the runtime raises when the client hangs up mid-body.
        ctl.error(new DOMException('The operation was aborted', 'AbortError'));
      },
    });
    const r = await t.app.request(`/u/${token}`, { method: 'POST', body: aborted, headers: { 'content-type': 'application/x-www-form-urlencoded' }, duplex: 'half' } as RequestInit);
    expect(r.status).toBeLessThan(500);
    expect((await state(t, c.id)).dnc).toEqual([]);
  });
});

describe('the preference centre', () => {
  async function setup() {
    const t = await makeApp();
    const evil = await category(t, 'evil', '<script>alert("name")</script>', '"><img src=x onerror=alert(1)>');
    const product = await category(t, 'product', 'Product news');
    const c = await contact(t, { email: 'pref@example.com', first_name: '<b>Pat</b>' });
    const e = await email(t);
    const receipt = await email(t, { name: 'Receipt', kind: 'transactional' });
    const { send, message } = await deliver(t, e.id, c.id);
    return { t, evil, product, c, e, receipt, send, token: tokenOf(message) };
  }

  it('GET shows every category with the contact\'s state, escaped, under a CSP with no script, and changes nothing', async () => {
    const { t, c, e, token, evil } = await setup();
    const res = await open(t, `${token}?preferences=1`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'$/);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    // Every name is text: no element, no attribute of its own.
    expect(html).not.toMatch(/<script|<img|<[^>]*onerror/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('Product news');
    expect(html).toContain(`<input type="checkbox" name="c" value="${e.category_id}" checked>`);
    expect(html).toContain(`<input type="checkbox" name="c" value="${evil}" checked>`);
    expect(html).toContain('Unsubscribe from Newsletter');
    // A scanner fetching the link (GET, HEAD) leaves nothing behind.
    await open(t, token, { method: 'HEAD' });
    expect(await state(t, c.id)).toEqual({ subs: [], dnc: [], events: [] });
  });

  it('the form leaves and rejoins categories, leaves everything and comes back, saying exactly what happened', async () => {
    const { t, c, e, receipt, token, product, send } = await setup();
    // Untick the newsletter and product news.
    let res = await form(t, token, [['action', 'save'], ['shown', String(e.category_id)], ['shown', String(product)], ['c', '1000']]);
    expect(res.status).toBe(200);
    let html = await res.text();
    expect(html).toContain('You have left: <strong>Newsletter</strong>, <strong>Product news</strong>.');
    expect(html).toContain(`<input type="checkbox" name="c" value="${product}">`);
    expect((await state(t, c.id)).subs).toEqual([
      [e.category_id, 0],
      [product, 0],
    ]);
    expect(await nextSend(t, e.id, c.id)).toMatchObject({ status: 'skipped', skip_reason: 'unsubscribed' });
    // Saving the same again changes nothing, and says so.
    html = await (await form(t, token, [['action', 'save'], ['shown', String(e.category_id)], ['shown', String(product)]])).text();
    expect(html).toContain('Nothing changed');
    expect((await state(t, c.id)).events).toHaveLength(2);

    // Tick product news again.
    html = await (await form(t, token, [['action', 'save'], ['shown', String(e.category_id)], ['shown', String(product)], ['c', String(product)]])).text();
    expect(html).toContain('You will get again: <strong>Product news</strong>.');
    expect((await state(t, c.id)).subs).toEqual([[e.category_id, 0]]);

    // Leave everything: do-not-contact on email, reason unsubscribed, one event with category null.
    html = await (await form(t, token, [['action', 'leave_all']])).text();
    expect(html).toContain('You have left all marketing email: no more will be sent to you.');
    expect(html).toContain('Get marketing email again');
    expect(html).not.toMatch(/name="c" value="\d+" checked/);
    let s = await state(t, c.id);
    expect(s.dnc).toEqual([['email', 'unsubscribed']]);
    expect(s.events.at(-1)).toEqual({ email_id: e.id, send_id: send.id, category_id: null, via: 'preferences' });
    const contactView = (await t.json('GET', `/api/v1/contacts/${c.id}`)).body;
    expect(contactView.do_not_contact).toEqual([expect.objectContaining({ channel: 'email', reason: 'unsubscribed', comment: 'preference centre' })]);
    const other = await email(t, { category_id: product });
    expect(await nextSend(t, other.id, c.id)).toMatchObject({ status: 'skipped', skip_reason: 'unsubscribed' });
    // Transactional mail still goes out.
    expect(await nextSend(t, receipt.id, c.id)).toMatchObject({ status: 'pending' });
    // Leaving everything again: nothing new.
    html = await (await form(t, token, [['action', 'leave_all']])).text();
    expect(html).toContain('Nothing changed');
    // Saving with nothing ticked, having left everything, asks for nothing new.
    html = await (await form(t, token, [['action', 'save'], ['shown', String(e.category_id)], ['shown', String(product)]])).text();
    expect(html).toContain('Nothing changed');
    expect((await state(t, c.id)).events).toHaveLength(3);

    // Ticking a category is asking for email again: the contact's own entry is lifted.
    html = await (await form(t, token, [['action', 'save'], ['shown', String(product)], ['c', String(product)]])).text();
    expect(html).toContain('You will get marketing email again.');
    s = await state(t, c.id);
    expect(s.dnc).toEqual([]);
    expect(s.subs).toEqual([[e.category_id, 0]]);
    expect(await nextSend(t, other.id, c.id)).toMatchObject({ status: 'pending' });

    // The button for the link's own category, and rejoin_all.
    await form(t, token, [['action', 'save'], ['shown', String(e.category_id)], ['c', String(e.category_id)]]);
    html = await (await form(t, token, [['action', 'leave']])).text();
    expect(html).toContain('You have left: <strong>Newsletter</strong>.');
    await form(t, token, [['action', 'leave_all']]);
    html = await (await form(t, token, [['action', 'rejoin_all']])).text();
    expect(html).toContain('You will get marketing email again.');
    expect((await state(t, c.id)).dnc).toEqual([]);
  });

  it('never lifts a bounced, complained, manual or all-channel entry, and does not turn one into "unsubscribed"', async () => {
    const { t, c, e, token, product } = await setup();
    expect((await t.json('PUT', `/api/v1/contacts/${c.id}/do-not-contact/email`, { reason: 'bounced' })).status).toBe(200);
    let html = await (await open(t, token)).text();
    expect(html).toContain('The sender has switched off email to this address');
    html = await (await form(t, token, [['action', 'leave_all']])).text();
    expect(html).toContain('Nothing changed');
    html = await (await form(t, token, [['action', 'rejoin_all']])).text();
    expect(html).toContain('Nothing changed');
    html = await (await form(t, token, [['action', 'save'], ['shown', String(product)], ['c', String(product)]])).text();
    expect((await state(t, c.id)).dnc).toEqual([['email', 'bounced']]);
    // One-click on an email with no category would leave everything: the bounced entry stays as it is.
    const bare = await email(t, { category_id: null });
    const bareToken = await signToken(t.ctx, 'unsubscribe', [c.id, null, null]);
    expect((await post(t, bareToken)).status).toBe(200);
    expect((await state(t, c.id)).dnc).toEqual([['email', 'bounced']]);
    expect(bare.category_id).toBeNull();

    await t.json('DELETE', `/api/v1/contacts/${c.id}/do-not-contact/email`);
    await t.json('PUT', `/api/v1/contacts/${c.id}/do-not-contact/all`, { reason: 'unsubscribed' });
    await form(t, token, [['action', 'rejoin_all']]);
    await form(t, token, [['action', 'save'], ['shown', String(e.category_id)], ['c', String(e.category_id)]]);
    expect((await state(t, c.id)).dnc).toEqual([['all', 'unsubscribed']]);
  });

  it('a link whose contact was erased shows that nothing is on record, and one-click still answers 200', async () => {
    const { t, c, token } = await setup();
    expect((await t.json('DELETE', `/api/v1/contacts/${c.id}`)).status).toBe(200);
    const g = await open(t, token);
    expect(g.status).toBe(404);
    expectError(await t.json('GET', `/u/${token}`, undefined, { key: null }), 404, 'NOT_FOUND');
    expect(await g.text()).toContain('There is nothing on record for this address');
    expect((await post(t, token)).status).toBe(200);
    expect((await form(t, token, [['action', 'leave_all']], HTML)).status).toBe(404);
    expect(await count(t, 'SELECT count(*) AS n FROM contact_subscriptions')).toBe(0);
    expect(await count(t, 'SELECT count(*) AS n FROM do_not_contact')).toBe(0);
  });

  it('a link to an address without a contact leaves nothing but answers', async () => {
    const t = await makeApp();
    const token = await signToken(t.ctx, 'unsubscribe', ['nobody@example.com', null, null]);
    expect((await post(t, token, 'List-Unsubscribe=One-Click', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(200);
    expect((await open(t, token)).status).toBe(404);
    const c = await contact(t, { email: 'Known@Example.com' });
    const known = await signToken(t.ctx, 'unsubscribe', ['known@example.com', null, null]);
    expect((await post(t, known)).status).toBe(200);
    expect((await state(t, c.id)).dnc).toEqual([['email', 'unsubscribed']]);
  });
});

describe('GET/PUT /api/v1/contacts/{id}/subscriptions', () => {
  it('reads and sets each category\'s state; leaving is an event; unknown categories and contacts are refused', async () => {
    const t = await makeApp();
    const product = await category(t, 'product', 'Product news', 'Releases');
    const c = await contact(t, { email: 'api@example.com' });
    const e = await email(t);
    let r = await t.json('GET', `/api/v1/contacts/${c.id}/subscriptions`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      contact_id: c.id,
      unsubscribed_from_all: false,
      email_blocked: null,
      categories: [
        { category_id: e.category_id, key: 'marketing', name: 'Newsletter', description: expect.anything(), subscribed: true, updated_at: null },
        { category_id: product, key: 'product', name: 'Product news', description: 'Releases', subscribed: true, updated_at: null },
      ],
    });
    r = await t.json('PUT', `/api/v1/contacts/${c.id}/subscriptions`, { categories: [{ category_id: e.category_id, subscribed: false }] }, { key: t.keys.write });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.categories[0]).toMatchObject({ subscribed: false, updated_at: expect.any(String) });
    expect(r.body.categories[1]).toMatchObject({ subscribed: true });
    expect((await state(t, c.id)).events).toEqual([{ email_id: null, send_id: null, category_id: e.category_id, via: 'api' }]);
    expect(await nextSend(t, e.id, c.id)).toMatchObject({ status: 'skipped', skip_reason: 'unsubscribed' });
    r = await t.json('PUT', `/api/v1/contacts/${c.id}/subscriptions`, { categories: [{ category_id: e.category_id, subscribed: true }] });
    expect(r.body.categories[0]).toMatchObject({ subscribed: true, updated_at: null });
    expect(await nextSend(t, e.id, c.id)).toMatchObject({ status: 'pending' });

    await t.json('PUT', `/api/v1/contacts/${c.id}/do-not-contact/email`, { reason: 'unsubscribed' });
    expect((await t.json('GET', `/api/v1/contacts/${c.id}/subscriptions`)).body).toMatchObject({ unsubscribed_from_all: true, email_blocked: null });
    await t.json('PUT', `/api/v1/contacts/${c.id}/do-not-contact/all`, { reason: 'manual' });
    expect((await t.json('GET', `/api/v1/contacts/${c.id}/subscriptions`)).body.email_blocked).toEqual({ channel: 'all', reason: 'manual' });

    expectError(await t.json('GET', '/api/v1/contacts/999999/subscriptions'), 404, 'NOT_FOUND');
    expectError(await t.json('PUT', '/api/v1/contacts/999999/subscriptions', { categories: [{ category_id: product, subscribed: false }] }), 404, 'NOT_FOUND');
    const unknown = await t.json('PUT', `/api/v1/contacts/${c.id}/subscriptions`, { categories: [{ category_id: 4242, subscribed: false }] });
    expectError(unknown, 422, 'VALIDATION_FAILED');
    expect(unknown.body.error.details).toEqual([{ field: 'categories.0.category_id', message: 'no such email category' }]);
    expectError(await t.json('PUT', `/api/v1/contacts/${c.id}/subscriptions`, { categories: [] }), 422, 'VALIDATION_FAILED');
    expectError(
      await t.json('PUT', `/api/v1/contacts/${c.id}/subscriptions`, { categories: [{ category_id: product, subscribed: false }, { category_id: product, subscribed: true }] }),
      422,
      'VALIDATION_FAILED',
    );
    expectError(await t.json('PUT', `/api/v1/contacts/${c.id}/subscriptions`, { categories: [{ category_id: product, subscribed: 'no' }] }), 422, 'VALIDATION_FAILED');
  });

  routeContract([
    { method: 'GET', path: '/api/v1/contacts/1/subscriptions', idTemplate: '/api/v1/contacts/{id}/subscriptions' },
    { method: 'PUT', path: '/api/v1/contacts/1/subscriptions', body: { categories: [{ category_id: 1, subscribed: false }] }, idTemplate: '/api/v1/contacts/{id}/subscriptions' },
  ]);
});
