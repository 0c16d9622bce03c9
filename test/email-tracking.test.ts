// Opens and clicks, honestly: the open pixel and signed click redirects a sent message carries
// (which links are rewritten, byte for byte the rest), what GET /o and GET /c answer and record
// (events with props, first-time send columns, machine opens and clicks kept out of the human
// ones), point rules on email_opened / email_clicked, and the click-through handoff (ll_t) that
// identifies the browser through POST /t, once, within 15 minutes. The same in Chromium:
// test/e2e/email-click-identify.test.ts.
import { describe, it, expect } from 'vitest';
import { makeApp, expectError, type TestApp } from './helpers';
import { CHROME_UA, count, makeSite, runJob, track, vid } from './tracking-helpers';
import { settleDeferred } from '../api/routes/defer';
import { trackHtml, decodeAttr } from '../api/core/email/track-links';
import { machineReason, type HitFacts } from '../api/core/email/machine';
import { stripHandoff, withHandoff, HANDOFF_TTL_MS } from '../api/core/email/identify';
import { signToken } from '../api/core/email/tokens';

const BASE = 'https://mail.example.com';
const START = Date.parse('2026-11-25T10:00:00.000Z');
const SAFARI_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)';
const GIF_BYTES = [71, 73, 70, 56, 57, 97, 1, 0, 1, 0, 128, 0, 0, 255, 255, 255, 0, 0, 0, 33, 249, 4, 1, 0, 0, 0, 0, 44, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 68, 1, 0, 59];

const HTML = `<html><head><style>.btn { color: #c00; }</style></head>
<body>
<p>Hi {{ contact.first_name }}</p>
<a class="btn" href="https://shop.example.com/pricing?a=1&amp;b=2#plans">Pricing</a>
<a title="x > y" href='http://shop.example.com/b'>B</a>
<a data-href="https://not.example.com/" href="https://shop.example.com/c?who={{ contact.first_name }}">C</a>
<a href="mailto:hello@shop.example.com">Mail</a> <a href="tel:+15550100">Call</a> <a href="#top">Top</a> <a href="/relative">R</a>
<a href="{{ unsubscribe_url }}">Unsubscribe</a> <a href="{{ preferences_url }}">Preferences</a>
<img src="https://cdn.example.com/logo.png" alt="logo">
</body></html>`;

interface World {
  t: TestApp;
  clock: { now: number };
  tick: (ms: number) => void;
}

async function world(env: Record<string, string> = {}): Promise<World> {
  const clock = { now: START };
  const t = await makeApp({ now: () => clock.now, env: { PUBLIC_URL: BASE, ...env } });
  return { t, clock, tick: (ms) => (clock.now += ms) };
}

async function contact(t: TestApp, body: Record<string, unknown>) {
  const r = await t.json('POST', '/api/v1/contacts', body);
  expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
  return r.body as { id: number };
}

async function email(t: TestApp, body: Record<string, unknown> = {}) {
  const r = await t.json('POST', '/api/v1/emails', { name: 'News', subject: 'Hi', html: HTML, ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { id: number };
}

/** Sends through the outbox; the message as stored there, and its send id. */
async function sendTo(w: World, emailId: number, body: Record<string, unknown>, path = 'send') {
  const r = await w.t.json('POST', `/api/v1/emails/${emailId}/${path}`, body);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  await settleDeferred();
  await runJob(w.t, 'emails');
  const row = await w.t.client.execute({ sql: 'SELECT html, text FROM email_outbox WHERE send_id = ?', args: [r.body.id] });
  expect(row.rows.length).toBe(1);
  return { sendId: r.body.id as number, html: String(row.rows[0]!.html), text: String(row.rows[0]!.text) };
}

const hrefs = (html: string) => [...html.matchAll(/<a\b(?:[^>"']|"[^"]*"|'[^']*')*?\shref=(["'])(.*?)\1/g)].map((m) => m[2]!);
const tracked = (html: string) => hrefs(html).filter((h) => h.startsWith(`${BASE}/c/`));
const pixelOf = (html: string) => /<img src="(https:\/\/mail\.example\.com\/o\/[^"]+)"/.exec(html)?.[1];
const pathOf = (url: string) => url.slice(BASE.length);

function get(t: TestApp, path: string, ua: string | null = SAFARI_UA, method = 'GET', headers: Record<string, string> = {}) {
  return t.app.request(path, { method, headers: { ...(ua === null ? {} : { 'user-agent': ua }), ...headers } });
}

async function sendRow(t: TestApp, id: number) {
  return { ...(await t.client.execute({ sql: 'SELECT * FROM email_sends WHERE id = ?', args: [id] })).rows[0]! } as Record<string, unknown>;
}

async function events(t: TestApp, type: string) {
  const r = await t.client.execute({ sql: 'SELECT contact_id, url, props FROM events WHERE type = ? ORDER BY id', args: [type] });
  return r.rows.map((x) => ({ contact_id: x.contact_id === null ? null : Number(x.contact_id), url: x.url, props: JSON.parse(String(x.props)) }));
}

describe('the message a send carries', () => {
  it('rewrites http(s) links of <a> tags only, keeps every other byte, adds the pixel before </body>', async () => {
    const w = await world();
    const c = await contact(w.t, { email: 'ann@example.com', first_name: `<b>&"Ann'` });
    const e = await email(w.t);
    const { sendId, html, text } = await sendTo(w, e.id, { contact_id: c.id });

    // The preview is the untracked message: the same bytes but for the tracked hrefs and the pixel
    // (and the recipient's /u/ link, which names the send in a send and nobody in a preview).
    const preview = (await w.t.json('POST', `/api/v1/emails/${e.id}/preview`, { contact_id: c.id })).body.html as string;
    expect(tracked(preview)).toEqual([]);
    expect(preview).not.toContain('/o/');
    const links = tracked(html);
    expect(links).toHaveLength(3);
    const sameU = (s: string) => s.replace(/\/u\/[^"'?]+/g, '/u/T');
    let restored = html.replace(/<img src="https:\/\/mail\.example\.com\/o\/[^"]+"[^>]*>/, '');
    const originals = hrefs(preview).filter((h) => h.startsWith('http') && !h.startsWith(`${BASE}/u/`));
    links.forEach((l, i) => (restored = restored.replace(l, originals[i]!)));
    expect(sameU(restored)).toBe(sameU(preview));

    // What stays: mailto, tel, anchors, relative links, the unsubscribe and preference links, images.
    for (const h of ['mailto:hello@shop.example.com', 'tel:+15550100', '#top', '/relative']) expect(hrefs(html)).toContain(h);
    expect(hrefs(html).filter((h) => h.startsWith(`${BASE}/u/`))).toHaveLength(2);
    expect(html).toContain('<img src="https://cdn.example.com/logo.png" alt="logo">');
    expect(html).toContain('data-href="https://not.example.com/"');
    // Contact data is still escaped as text.
    expect(html).toContain('Hi &lt;b&gt;&amp;&#34;Ann&#39;');
    expect(html).not.toContain('<b>&');
    // The pixel, once, right before </body>.
    expect(html.match(/\/o\//g)).toHaveLength(1);
    expect(html).toMatch(/<img src="https:\/\/mail\.example\.com\/o\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+" width="1" height="1" alt="" style="[^"]+" \/><\/body>/);
    // The plain-text part is left alone.
    expect(text).not.toContain('/c/');

    // Each click token carries [send, link index, the decoded destination]; same send, same bytes.
    const res = await Promise.all(links.map((l) => get(w.t, pathOf(l))));
    expect(res.map((r) => r.status)).toEqual([302, 302, 302]);
    const dest = res.map((r) => stripHandoff(r.headers.get('location')!).url);
    expect(dest).toEqual([
      'https://shop.example.com/pricing?a=1&b=2#plans',
      'http://shop.example.com/b',
      `https://shop.example.com/c?who=${encodeURI(`<b>&"Ann'`).replace(/'/g, '%27')}`,
    ]);
    const clicks = await events(w.t, 'email_clicked');
    expect(clicks.map((x) => [x.url, x.props.link]).sort((a, b) => Number(a[1]) - Number(b[1]))).toEqual([
      ['https://shop.example.com/pricing?a=1&b=2#plans', 0],
      ['http://shop.example.com/b', 1],
      [`https://shop.example.com/c?who=<b>&"Ann'`, 2],
    ]);
    expect(await trackHtml(w.t.ctx, preview, sendId)).toBe(await trackHtml(w.t.ctx, preview, sendId));
  });

  it('is deterministic and leaves odd markup as it was', async () => {
    const w = await world();
    const odd = [
      `<A HREF="HTTPS://Shop.Example.com/X">upper</A>`,
      `<a href=https://shop.example.com/bare?x=1>bare</a>`,
      `<a\nhref = "https://shop.example.com/spaced" >spaced</a>`,
      `<a title='he said "<a href=https://evil.example/>"' href="https://shop.example.com/ok">quoted</a>`,
      `<a href="${BASE}/c/already.tracked">tracked</a>`,
      `<a href="${BASE}/u/tok">unsub</a>`,
      `<a href="javascript:alert(1)">js</a>`,
      `<a name="x">no href</a>`,
      `<abbr title="https://shop.example.com/abbr">abbr</abbr>`,
      `<a href="https://shop.example.com/${'x'.repeat(2100)}">too long</a>`,
      `<p>İstanbul ünïcödé 😀</p>`,
    ].join('\n');
    const html = `<html><body>${odd}</BODY></html>`;
    const out = await trackHtml(w.t.ctx, html, 42);
    expect(await trackHtml(w.t.ctx, html, 42)).toBe(out);
    expect(await trackHtml(w.t.ctx, html, 43)).not.toBe(out);
    const links = [...out.matchAll(/https:\/\/mail\.example\.com\/c\/[A-Za-z0-9_.-]+/g)].map((m) => m[0]);
    expect(links).toHaveLength(4 + 1); // four rewritten, plus the one that was already tracked
    expect(out).toContain(`<a href=${links[1]}>bare</a>`);
    expect(out).toContain(`title='he said "<a href=https://evil.example/>"' href="`);
    expect(out).toContain(`<a href="${BASE}/c/already.tracked">`);
    expect(out).toContain(`<a href="${BASE}/u/tok">`);
    expect(out).toContain('<a href="javascript:alert(1)">');
    expect(out).toContain('<abbr title="https://shop.example.com/abbr">');
    expect(out).toContain(`href="https://shop.example.com/${'x'.repeat(2100)}"`);
    expect(out).toContain('<p>İstanbul ünïcödé 😀</p>');
    expect(out).toMatch(/ \/><\/BODY><\/html>$/);
    // Without a </body>, the pixel goes at the end.
    expect(await trackHtml(w.t.ctx, '<p><a href="https://a.example/">a</a></p>', 1)).toMatch(/<\/a><\/p><img src="https:\/\/mail\.example\.com\/o\/[^"]+"[^>]*\/>$/);
    expect(decodeAttr('a&amp;b&#38;c&#x26;d&nbsp;e&#0;')).toBe('a&b&c&d&nbsp;e&#0;');
  });

  it('tracks test sends (links work) but records nothing for them; previews are never tracked', async () => {
    const w = await world();
    const c = await contact(w.t, { email: 'rev@example.com', first_name: 'Rev' });
    const e = await email(w.t);
    const { sendId, html } = await sendTo(w, e.id, { to: 'reviewer@example.com', contact_id: c.id }, 'test');
    w.tick(60_000);
    const r = await get(w.t, pathOf(tracked(html)[0]!));
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toBe('https://shop.example.com/pricing?a=1&b=2#plans');
    expect((await get(w.t, pathOf(pixelOf(html)!))).status).toBe(200);
    expect(await count(w.t, "SELECT count(*) AS n FROM events WHERE type IN ('email_opened', 'email_clicked')")).toBe(0);
    expect(await sendRow(w.t, sendId)).toMatchObject({ opened_at: null, clicked_at: null });
  });
});

describe('GET /o/{token}', () => {
  it('answers the 43-byte GIF, never cached, and records opens: first time once, every open an event', async () => {
    const w = await world();
    const c = await contact(w.t, { email: 'open@example.com' });
    const e = await email(w.t);
    const { sendId, html } = await sendTo(w, e.id, { contact_id: c.id });
    w.tick(60_000);
    const pixel = pathOf(pixelOf(html)!);
    const r = await get(w.t, pixel);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/gif');
    expect(r.headers.get('cache-control')).toContain('no-store');
    expect([...new Uint8Array(await r.arrayBuffer())]).toEqual(GIF_BYTES);
    const first = START + 60_000;
    expect(await sendRow(w.t, sendId)).toMatchObject({ opened_at: first, human_opened_at: first, clicked_at: null });
    w.tick(5_000);
    await get(w.t, pixel);
    expect(await sendRow(w.t, sendId)).toMatchObject({ opened_at: first, human_opened_at: first });
    expect(await events(w.t, 'email_opened')).toEqual([
      { contact_id: c.id, url: null, props: { email_id: e.id, send_id: sendId, machine: false } },
      { contact_id: c.id, url: null, props: { email_id: e.id, send_id: sendId, machine: false } },
    ]);

    // Bad tokens still get the image, and nothing is recorded.
    const click = tracked(html)[0]!.split('/c/')[1]!;
    for (const bad of [`${pixel.slice(3, -2)}xx`, 'junk', click, '%00', 'a'.repeat(5000), '%ED%A0%80.x', '%%%']) {
      const b = await get(w.t, `/o/${bad}`);
      expect(b.status, bad.slice(0, 20)).toBe(200);
      expect((await b.arrayBuffer()).byteLength).toBe(43);
    }
    expect(await count(w.t, "SELECT count(*) AS n FROM events WHERE type = 'email_opened'")).toBe(2);
  });

  it('still answers the image past ten times PUBLIC_RATE_LIMIT from one address, but records no more opens', async () => {
    const w = await world({ PUBLIC_RATE_LIMIT: '1' });
    const c = await contact(w.t, { email: 'flood@example.com' });
    const e = await email(w.t);
    const { html } = await sendTo(w, e.id, { contact_id: c.id });
    w.tick(60_000);
    const pixel = pathOf(pixelOf(html)!);
    for (let i = 0; i < 15; i++) {
      const r = await get(w.t, pixel);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('image/gif');
      expect((await r.arrayBuffer()).byteLength).toBe(43);
    }
    expect(await count(w.t, "SELECT count(*) AS n FROM events WHERE type = 'email_opened'")).toBe(10);
  });

  it('flags machine opens (Apple MPP, scanners, HEAD, prefetch on receipt) and keeps them out of human_opened_at', async () => {
    const w = await world({ TRUST_PROXY: 'true' });
    const c = await contact(w.t, { email: 'mpp@example.com' });
    const e = await email(w.t);
    const one = await sendTo(w, e.id, { contact_id: c.id });
    // Within two seconds of sending: a prefetch on receipt.
    w.tick(1_000);
    await get(w.t, pathOf(pixelOf(one.html)!), SAFARI_UA);
    w.tick(60_000);
    await get(w.t, pathOf(pixelOf(one.html)!), 'Mozilla/5.0');
    await get(w.t, pathOf(pixelOf(one.html)!), SAFARI_UA, 'GET', { 'x-forwarded-for': '17.58.101.4' });
    await get(w.t, pathOf(pixelOf(one.html)!), 'Barracuda Sentinel (EE)');
    const head = await get(w.t, pathOf(pixelOf(one.html)!), SAFARI_UA, 'HEAD');
    expect(head.status).toBe(200);
    await get(w.t, pathOf(pixelOf(one.html)!), null);
    const row = await sendRow(w.t, one.sendId);
    expect(row.opened_at).toBe(START + 1_000);
    expect(row.human_opened_at).toBeNull();
    expect((await events(w.t, 'email_opened')).map((x) => x.props.machine)).toEqual([true, true, true, true, true, true]);
    // No sign of life from the contact either.
    await settleDeferred();
    await runJob(w.t);
    expect((await w.t.json('GET', `/api/v1/contacts/${c.id}`)).body.last_active_at).toBeNull();
    // Gmail's image proxy fetches when the message is shown: a person opened it.
    await get(w.t, pathOf(pixelOf(one.html)!), 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)');
    expect((await sendRow(w.t, one.sendId)).human_opened_at).toBe(START + 61_000);
    await settleDeferred();
    await runJob(w.t);
    expect((await w.t.json('GET', `/api/v1/contacts/${c.id}`)).body.last_active_at).toBe(new Date(START + 61_000).toISOString());
  });
});

describe('GET /c/{token}', () => {
  it('redirects to the signed destination, records the click (an open too), first time once', async () => {
    const w = await world();
    // The shop carries the tag (http and https): its pages get the handoff.
    await makeSite(w.t, { allowed_origins: ['https://shop.example.com', 'http://shop.example.com'] });
    const c = await contact(w.t, { email: 'click@example.com' });
    const e = await email(w.t);
    const { sendId, html } = await sendTo(w, e.id, { contact_id: c.id });
    await w.t.client.execute({ sql: 'UPDATE email_sends SET broadcast_id = 9 WHERE id = ?', args: [sendId] });
    w.tick(60_000);
    const link = pathOf(tracked(html)[1]!);
    const r = await get(w.t, link, CHROME_UA);
    expect(r.status).toBe(302);
    expect(r.headers.get('cache-control')).toContain('no-store');
    const loc = r.headers.get('location')!;
    expect(loc).toMatch(/^http:\/\/shop\.example\.com\/b\?ll_t=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const at = START + 60_000;
    expect(await sendRow(w.t, sendId)).toMatchObject({ clicked_at: at, human_clicked_at: at, opened_at: at, human_opened_at: at });
    w.tick(1_000);
    await get(w.t, link, CHROME_UA);
    expect(await sendRow(w.t, sendId)).toMatchObject({ clicked_at: at, human_clicked_at: at, opened_at: at });
    expect(await events(w.t, 'email_clicked')).toEqual([
      { contact_id: c.id, url: 'http://shop.example.com/b', props: { email_id: e.id, send_id: sendId, broadcast_id: 9, link: 1, machine: false } },
      { contact_id: c.id, url: 'http://shop.example.com/b', props: { email_id: e.id, send_id: sendId, broadcast_id: 9, link: 1, machine: false } },
    ]);
    // A click is no pixel load: opens are counted from the pixel only.
    expect(await count(w.t, "SELECT count(*) AS n FROM events WHERE type = 'email_opened'")).toBe(0);
    // A program asking for JSON is told where the link leads; nothing is recorded.
    const asked = await get(w.t, link, CHROME_UA, 'GET', { accept: 'application/json' });
    expect(asked.status).toBe(200);
    expect(await asked.json()).toEqual({ url: 'http://shop.example.com/b' });
    expect(await count(w.t, "SELECT count(*) AS n FROM events WHERE type = 'email_clicked'")).toBe(2);
  });

  it('flags scanner clicks and clicks within seconds of sending or delivery; they get no ll_t', async () => {
    const w = await world();
    await makeSite(w.t);
    const c = await contact(w.t, { email: 'scan@example.com' });
    const e = await email(w.t);
    const { sendId, html } = await sendTo(w, e.id, { contact_id: c.id });
    const link = pathOf(tracked(html)[0]!);
    w.tick(3_000);
    const fast = await get(w.t, link, CHROME_UA);
    expect(fast.status).toBe(302);
    expect(fast.headers.get('location')).toBe('https://shop.example.com/pricing?a=1&b=2#plans');
    w.tick(60_000);
    for (const ua of ['Mozilla/5.0 (compatible; Proofpoint URL Defense)', 'Mimecast URL Protect', 'Microsoft SafeLinks', 'python-requests/2.31', null]) {
      expect((await get(w.t, link, ua)).headers.get('location')).not.toContain('ll_t');
    }
    expect((await get(w.t, link, CHROME_UA, 'HEAD')).status).toBe(302);
    // Delivered later: a click within seconds of the delivery report is a scanner's too.
    await w.t.client.execute({ sql: 'UPDATE email_sends SET delivered_at = ? WHERE id = ?', args: [w.clock.now - 4_000, sendId] });
    expect((await get(w.t, link, CHROME_UA)).headers.get('location')).not.toContain('ll_t');
    const row = await sendRow(w.t, sendId);
    expect(row.clicked_at).toBe(START + 3_000);
    expect(row.human_clicked_at).toBeNull();
    expect(row.human_opened_at).toBeNull();
    expect((await events(w.t, 'email_clicked')).map((x) => x.props.machine)).toEqual(Array(8).fill(true));
    w.tick(10_000);
    expect((await get(w.t, link, CHROME_UA)).headers.get('location')).toContain('ll_t=');
    expect((await sendRow(w.t, sendId)).human_clicked_at).toBe(w.clock.now);
  });

  it('answers a tampered, foreign or junk token with a 400 page and no redirect', async () => {
    const w = await world();
    const c = await contact(w.t, { email: 'tamper@example.com' });
    const e = await email(w.t);
    const { sendId, html } = await sendTo(w, e.id, { contact_id: c.id });
    const token = tracked(html)[0]!.split('/c/')[1]!;
    const [body, sig] = token.split('.') as [string, string];
    const evil = Buffer.from(JSON.stringify([sendId, 0, 'https://evil.example/'])).toString('base64url');
    const open = pixelOf(html)!.split('/o/')[1]!;
    const identify = await signToken(w.t.ctx, 'identify', [sendId, 9_999_999_999]);
    const forged = await signToken(w.t.ctx, 'click', [sendId, 0, 'javascript:alert(1)']);
    const bad = [
      `${evil}.${sig}`,
      `${body}.${sig.slice(0, -2)}AA`,
      `${body}x.${sig}`,
      open,
      identify,
      forged,
      'nope',
      encodeURIComponent('<script>alert(1)</script>'),
      'a'.repeat(5000),
      '%00',
      '%ED%A0%80.%ED%A0%80',
      '%%%25',
      `${token}%00`,
    ];
    for (const b of bad) {
      const r = await get(w.t, `/c/${b}`);
      expect(r.status, b.slice(0, 40)).toBe(400);
      expect(r.headers.get('location')).toBeNull();
      expect(r.headers.get('content-type')).toMatch(/^text\/html/);
      const page = await r.text();
      expect(page).toContain('This link is not valid');
      expect(page).not.toContain('<script>');
    }
    const json = await w.t.json('GET', `/c/${bad[0]}`, undefined, { key: null, headers: { accept: 'application/json' } });
    expectError(json, 400, 'BAD_REQUEST');
    expect(await count(w.t, "SELECT count(*) AS n FROM events WHERE type = 'email_clicked'")).toBe(0);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      for (const p of [`/c/${token}`, `/o/${open}`]) expect((await get(w.t, p, SAFARI_UA, method)).status).toBeLessThan(500);
    }
  });

  it("gives the handoff only to pages of a site's allowed origins, never to another site", async () => {
    const w = await world();
    const c = await contact(w.t, { email: 'partner@example.com' });
    const e = await email(w.t, { html: '<a href="https://partner.example.net/deal">Partner</a> <a href="https://shop.example.com/x">Shop</a> <a href="https://blog.shop.example.com/y">Blog</a>' });
    const { html } = await sendTo(w, e.id, { contact_id: c.id });
    w.tick(60_000);
    const [partner, shop, blog] = tracked(html).map(pathOf) as [string, string, string];
    // No site yet: nobody carries the tag.
    expect((await get(w.t, shop, CHROME_UA)).headers.get('location')).toBe('https://shop.example.com/x');
    await makeSite(w.t, { allowed_origins: ['https://shop.example.com', 'https://*.shop.example.com'] });
    expect((await get(w.t, partner, CHROME_UA)).headers.get('location')).toBe('https://partner.example.net/deal');
    expect((await get(w.t, shop, CHROME_UA)).headers.get('location')).toMatch(/^https:\/\/shop\.example\.com\/x\?ll_t=/);
    expect((await get(w.t, blog, CHROME_UA)).headers.get('location')).toMatch(/^https:\/\/blog\.shop\.example\.com\/y\?ll_t=/);
  });

  it('records clicks on sends to an address without a contact, without ll_t', async () => {
    const w = await world();
    const e = await email(w.t, { kind: 'transactional', html: '<p><a href="https://shop.example.com/order/1">Your order</a></p>' });
    const { sendId, html } = await sendTo(w, e.id, { to: 'guest@example.com' });
    w.tick(60_000);
    const r = await get(w.t, pathOf(tracked(html)[0]!));
    expect(r.headers.get('location')).toBe('https://shop.example.com/order/1');
    expect(await events(w.t, 'email_clicked')).toEqual([
      { contact_id: null, url: 'https://shop.example.com/order/1', props: { email_id: e.id, send_id: sendId, link: 0, machine: false } },
    ]);
    // The reactions take events without a contact in their stride.
    await settleDeferred();
    await runJob(w.t);
    // Erasing a contact with that address later takes them too (the url may hold what was rendered for it).
    const later = await contact(w.t, { email: 'guest@example.com' });
    expect((await w.t.json('DELETE', `/api/v1/contacts/${later.id}`)).status).toBeLessThan(300);
    expect(await count(w.t, "SELECT count(*) AS n FROM events WHERE type = 'email_clicked'")).toBe(0);
    expect(await count(w.t, 'SELECT count(*) AS n FROM email_sends')).toBe(0);
    // A genuine link whose send is gone still leads where it said, and records nothing.
    expect((await get(w.t, pathOf(tracked(html)[0]!))).headers.get('location')).toBe('https://shop.example.com/order/1');
    expect(await count(w.t, "SELECT count(*) AS n FROM events WHERE type = 'email_clicked'")).toBe(0);
  });
});

describe('on the spine', () => {
  it('scores email_opened and email_clicked with point rules filtered by email_id (and machine, for people only)', async () => {
    const w = await world();
    const c = await contact(w.t, { email: 'points@example.com' });
    const a = await email(w.t);
    const b = await email(w.t, { name: 'Other' });
    // Opens by people only (props.machine is false); clicks by anyone.
    for (const [event_type, delta, filter] of [
      ['email_opened', 2, { email_id: a.id, prop: { key: 'machine', value: false } }],
      ['email_clicked', 5, { email_id: a.id }],
    ] as const) {
      const rule = await w.t.json('POST', '/api/v1/point-rules', { name: event_type, event_type, filter, delta });
      expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    }
    const sa = await sendTo(w, a.id, { contact_id: c.id });
    const sb = await sendTo(w, b.id, { contact_id: c.id });
    w.tick(60_000);
    for (const s of [sa, sb]) {
      await get(w.t, pathOf(pixelOf(s.html)!));
      await get(w.t, pathOf(tracked(s.html)[0]!));
    }
    await get(w.t, pathOf(pixelOf(sa.html)!), 'Mozilla/5.0');
    await settleDeferred();
    await runJob(w.t);
    expect((await w.t.json('GET', `/api/v1/contacts/${c.id}`)).body.points).toBe(7);
  });
});

describe('in segments', () => {
  it('opened_email / clicked_email count people only, by email and destination, and membership follows the events', async () => {
    const w = await world();
    const reader = await contact(w.t, { email: 'reader@example.com' });
    const proxied = await contact(w.t, { email: 'proxied@example.com' });
    const a = await email(w.t);
    const b = await email(w.t, { name: 'Other' });
    const ra = await sendTo(w, a.id, { contact_id: reader.id });
    const pa = await sendTo(w, a.id, { contact_id: proxied.id });
    const rb = await sendTo(w, b.id, { contact_id: reader.id });
    w.tick(60_000);
    await get(w.t, pathOf(pixelOf(ra.html)!));
    await get(w.t, pathOf(tracked(rb.html)[1]!));
    await get(w.t, pathOf(pixelOf(pa.html)!), 'Mozilla/5.0');
    await get(w.t, pathOf(tracked(pa.html)[0]!), 'Mimecast URL Protect');
    const sample = async (filter: unknown) => {
      const r = await w.t.json('POST', '/api/v1/segments/preview', { filter });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return (r.body.sample as number[]).sort();
    };
    expect(await sample({ behaviour: 'opened_email' })).toEqual([reader.id]);
    expect(await sample({ behaviour: 'opened_email', email_id: a.id })).toEqual([reader.id]);
    expect(await sample({ behaviour: 'opened_email', email_id: b.id })).toEqual([]);
    expect(await sample({ behaviour: 'clicked_email' })).toEqual([reader.id]);
    expect(await sample({ behaviour: 'clicked_email', email_id: a.id })).toEqual([]);
    expect(await sample({ behaviour: 'clicked_email', url: { op: 'ends_with', value: '/b' } })).toEqual([reader.id]);
    // A saved segment follows new clicks within a reactions run.
    const seg = await w.t.json('POST', '/api/v1/segments', { name: 'Clicked A', filter: { behaviour: 'clicked_email', email_id: a.id } });
    expect(seg.status, JSON.stringify(seg.body)).toBe(201);
    await get(w.t, pathOf(tracked(ra.html)[0]!), CHROME_UA);
    await settleDeferred();
    await runJob(w.t);
    const members = await w.t.json('GET', `/api/v1/segments/${seg.body.id}/members`);
    expect(members.body.data.map((m: { id: number }) => m.id)).toEqual([reader.id]);
  });
});

describe('the click-through handoff (ll_t)', () => {
  async function setup() {
    const w = await world();
    const site = await makeSite(w.t);
    const c = await contact(w.t, { email: 'lands@example.com', first_name: 'Lan' });
    const e = await email(w.t, { html: '<p><a href="https://shop.example.com/landing?utm_source=news&amp;x=1#top">Go</a></p>' });
    const { sendId, html } = await sendTo(w, e.id, { contact_id: c.id });
    w.tick(60_000);
    const click = async () => (await get(w.t, pathOf(tracked(html)[0]!), CHROME_UA)).headers.get('location')!;
    const land = (url: string, v: string | null, extra: Record<string, unknown> = {}) =>
      track(w.t, { k: site.public_key, v, e: [{ t: 'pv', u: url, r: 'https://mail.example.net/', ...extra }, { t: 'eng', u: url, d: 1000, s: 10 }] });
    const visitor = async (v: string) => (await w.t.json('GET', `/api/v1/visitors?site_id=${site.id}&visitor_id=${v}`)).body;
    return { w, site, c, sendId, click, land, visitor };
  }

  it('identifies the browser that lands with it, proven, and stores the URL without it', async () => {
    const { w, site, c, click, land, visitor } = await setup();
    const loc = await click();
    expect(loc).toMatch(/^https:\/\/shop\.example\.com\/landing\?utm_source=news&x=1&ll_t=[\w-]+\.[\w-]+#top$/);
    const r = await land(loc, vid(1));
    expect(r.status).toBe(202);
    expect((await visitor(vid(1))).contact_id).toBe(c.id);
    const proven = await w.t.client.execute({ sql: 'SELECT proven_at FROM visitors WHERE site_id = ? AND uid = ?', args: [site.id, vid(1)] });
    expect(proven.rows[0]!.proven_at).not.toBeNull();
    const stored = await w.t.client.execute("SELECT type, url, props FROM events WHERE site_id IS NOT NULL AND type IN ('page_view', 'engagement') ORDER BY id");
    expect(stored.rows.map((x) => x.url)).toEqual(['https://shop.example.com/landing?utm_source=news&x=1#top', 'https://shop.example.com/landing?utm_source=news&x=1#top']);
    expect(JSON.parse(String(stored.rows[0]!.props))).toMatchObject({ utm_source: 'news' });
    expect(await count(w.t, "SELECT count(*) AS n FROM events WHERE url LIKE '%ll_t%' OR referrer LIKE '%ll_t%'")).toBe(0);
    const identified = await w.t.client.execute("SELECT contact_id, props FROM events WHERE type = 'identified'");
    expect(identified.rows.map((x) => [Number(x.contact_id), JSON.parse(String(x.props))])).toEqual([[c.id, { via: 'email' }]]);
    // The next page's referrer carries it too: stripped, and nothing happens twice.
    await track(w.t, { k: site.public_key, v: vid(1), e: [{ t: 'pv', u: 'https://shop.example.com/next', r: loc }] });
    expect(await count(w.t, "SELECT count(*) AS n FROM events WHERE url LIKE '%ll_t%' OR referrer LIKE '%ll_t%'")).toBe(0);
    expect(await count(w.t, "SELECT count(*) AS n FROM events WHERE type = 'identified'")).toBe(1);
  });

  it('is not kept with a form submitted on the landing page either', async () => {
    const { w, site, click } = await setup();
    const loc = await click();
    const form = await w.t.json('POST', '/api/v1/forms', { name: 'Ask', fields: [{ key: 'email', type: 'email', label: 'Email', maps_to: 'email', required: true }], min_fill_ms: 0 });
    expect(form.status, JSON.stringify(form.body)).toBe(201);
    const r = await w.t.app.request(`/f/${form.body.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://shop.example.com', 'user-agent': CHROME_UA },
      body: JSON.stringify({ k: site.public_key, v: vid(30), sid: 'submission-0001', values: { email: 'asker@example.com' }, t: 5000, url: loc, ref: loc }),
    });
    expect(r.status, await r.clone().text()).toBe(200);
    const sub = await w.t.client.execute('SELECT page_url, referrer FROM form_submissions');
    expect(sub.rows.map((x) => [x.page_url, x.referrer])).toEqual([['https://shop.example.com/landing?utm_source=news&x=1#top', 'https://shop.example.com/landing?utm_source=news&x=1#top']]);
    expect(await count(w.t, "SELECT count(*) AS n FROM events WHERE url LIKE '%ll_t%' OR referrer LIKE '%ll_t%'")).toBe(0);
  });

  it('works once, for 15 minutes, and never for a tampered token; a bad one still counts the page view', async () => {
    const { w, c, click, land, visitor, sendId } = await setup();
    const loc = await click();
    await land(loc, vid(1));
    // Used: a second browser with the same URL (forwarded, shared) is not that contact.
    expect((await land(loc, vid(2))).status).toBe(202);
    expect((await visitor(vid(2))).contact_id).toBeNull();
    // Nor with the MAC spelt another way (the last base64url character has 4 spare bits).
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelt = loc.replace(/(ll_t=[\w-]+\.[\w-]{21})([\w-])/, (_m, head: string, last: string) => {
      const i = B64.indexOf(last);
      return head + B64[(i & 0x30) | ((i + 1) & 0x0f)];
    });
    expect(respelt).not.toBe(loc);
    await land(respelt, vid(9));
    expect((await visitor(vid(9))).contact_id).toBeNull();
    // Expired.
    const late = await click();
    w.tick(HANDOFF_TTL_MS + 1);
    expect((await land(late, vid(3))).status).toBe(202);
    expect((await visitor(vid(3))).contact_id).toBeNull();
    // Within the time, unused: fine; a tampered one and another kind of token are not.
    const fresh = await click();
    const tampered = fresh.replace(/ll_t=([\w-]+)\.([\w-]+)/, (_m, b: string, s: string) => `ll_t=${b}.${s.slice(0, -3)}AAA`);
    const openKind = withHandoff('https://shop.example.com/landing', await signToken(w.t.ctx, 'open', [sendId, 9_999_999_999]));
    for (const [i, u] of [tampered, openKind, 'https://shop.example.com/?ll_t=', 'https://shop.example.com/?ll_t=%00%ED%A0%80', `https://shop.example.com/?ll_t=${'a'.repeat(1900)}`].entries()) {
      const r = await land(u, vid(10 + i));
      expect(r.status, u.slice(0, 60)).toBe(202);
      expect((await visitor(vid(10 + i))).contact_id).toBeNull();
    }
    w.tick(HANDOFF_TTL_MS - 60_000);
    await land(fresh, vid(4));
    expect((await visitor(vid(4))).contact_id).toBe(c.id);
    // Used tokens are cleared once they could not be used anyway.
    w.tick(HANDOFF_TTL_MS);
    await land(await click(), vid(5));
    expect(await count(w.t, 'SELECT count(*) AS n FROM email_identify_uses')).toBe(1);
  });

  it('leaves the token unused for a page view without a visitor id (consent mode), and is no help to bots', async () => {
    const { w, site, c, click, land, visitor } = await setup();
    const loc = await click();
    expect((await land(loc, null)).status).toBe(202);
    expect(await count(w.t, 'SELECT count(*) AS n FROM email_identify_uses')).toBe(0);
    const bot = await track(w.t, { k: site.public_key, v: vid(7), e: [{ t: 'pv', u: loc }] }, { ua: 'Googlebot/2.1 (+http://www.google.com/bot.html)' });
    expect((await bot.json()).dropped).toBe('bot');
    expect(await count(w.t, 'SELECT count(*) AS n FROM email_identify_uses')).toBe(0);
    // The consented resend of the view takes the anonymous one over and redeems the token.
    await land(loc, vid(8), { a: 1 });
    expect((await visitor(vid(8))).contact_id).toBe(c.id);
    expect(await count(w.t, "SELECT count(*) AS n FROM events WHERE type = 'page_view'")).toBe(1);
  });
});

describe('units', () => {
  it('never renders one database\'s email for another\'s with the same id and version (the parse cache keys by content)', async () => {
    const [a, b] = [await world(), await world()];
    const ea = await email(a.t, { html: '<p>first</p>' });
    const eb = await email(b.t, { html: '<p>second</p>' });
    expect([ea.id, (await a.t.json('GET', `/api/v1/emails/${ea.id}`)).body.updated_at]).toEqual([eb.id, (await b.t.json('GET', `/api/v1/emails/${eb.id}`)).body.updated_at]);
    expect((await a.t.json('POST', `/api/v1/emails/${ea.id}/preview`, {})).body.html).toMatch(/^<p>first<\/p>/);
    expect((await b.t.json('POST', `/api/v1/emails/${eb.id}/preview`, {})).body.html).toMatch(/^<p>second<\/p>/);
  });

  it('strips ll_t and only ll_t, byte for byte', () => {
    expect(stripHandoff('https://a.example/p?ll_t=T')).toEqual({ url: 'https://a.example/p', token: 'T' });
    expect(stripHandoff('https://a.example/p?x=1&ll_t=T&y=%20+2#f?ll_t=no')).toEqual({ url: 'https://a.example/p?x=1&y=%20+2#f?ll_t=no', token: 'T' });
    expect(stripHandoff('https://a.example/p?all_t=1&ll_t=A&ll_t=B')).toEqual({ url: 'https://a.example/p?all_t=1', token: 'A' });
    expect(stripHandoff('https://a.example/p#ll_t=x')).toEqual({ url: 'https://a.example/p#ll_t=x', token: null });
    expect(withHandoff('https://a.example/p', 'T')).toBe('https://a.example/p?ll_t=T');
    expect(withHandoff('https://a.example/p?q=a%20b+c#h', 'T')).toBe('https://a.example/p?q=a%20b+c&ll_t=T#h');
    expect(withHandoff('https://a.example/p?', 'T')).toBe('https://a.example/p?ll_t=T');
  });

  it('tells machines from people', () => {
    const at = (over: Partial<HitFacts>): HitFacts => ({ kind: 'open', method: 'GET', userAgent: SAFARI_UA, ip: '203.0.113.9', now: 100_000, sentAt: 0, deliveredAt: null, ...over });
    expect(machineReason(at({}))).toBeNull();
    expect(machineReason(at({ method: 'HEAD' }))).toBe('head');
    expect(machineReason(at({ userAgent: null }))).toBe('no_user_agent');
    expect(machineReason(at({ userAgent: '  ' }))).toBe('no_user_agent');
    expect(machineReason(at({ userAgent: 'Mozilla/5.0' }))).toBe('apple_mpp');
    expect(machineReason(at({ ip: '17.123.4.5' }))).toBe('apple_mpp');
    expect(machineReason(at({ ip: '::ffff:17.0.0.1' }))).toBe('apple_mpp');
    expect(machineReason(at({ ip: '170.1.2.3' }))).toBeNull();
    expect(machineReason(at({ userAgent: 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)' }))).toBeNull();
    expect(machineReason(at({ kind: 'click', userAgent: 'GoogleImageProxy' }))).toBe('bot');
    expect(machineReason(at({ userAgent: 'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html' }))).toBeNull();
    for (const ua of ['Barracuda Sentinel (EE)', 'Proofpoint', 'Mimecast', 'Microsoft Defender for Office 365 SafeLinks', 'Mozilla/5.0 (compatible; Trend Micro)']) {
      expect(machineReason(at({ userAgent: ua })), ua).toBe('scanner');
    }
    expect(machineReason(at({ userAgent: 'curl/8.0' }))).toBe('bot');
    expect(machineReason(at({ now: 1_999 }))).toBe('too_fast');
    expect(machineReason(at({ now: 2_000 }))).toBeNull();
    expect(machineReason(at({ kind: 'click', now: 9_999 }))).toBe('too_fast');
    expect(machineReason(at({ kind: 'click', now: 10_000 }))).toBeNull();
    expect(machineReason(at({ kind: 'click', now: 20_000, deliveredAt: 15_000 }))).toBe('too_fast');
    expect(machineReason(at({ kind: 'click', sentAt: null, deliveredAt: null }))).toBeNull();
  });
});
