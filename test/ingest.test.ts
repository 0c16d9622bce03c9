import { describe, it, expect, vi } from 'vitest';
import { isIP } from 'node:net';
import type { Client } from '@libsql/client';
import { makeApp, expectError, type TestApp } from './helpers';
import { makeSite, track, vid, sign, runJob, count, CHROME_UA } from './tracking-helpers';
import { createIngestor } from '../api/core/tracking/ingest';
import { MAX_TRACK_BODY } from '../api/core/tracking/payload';
import { settleDeferred } from '../api/routes/defer';

const ORIGIN = 'https://shop.example.com';
const pv = (path = '/', extra: Record<string, unknown> = {}) => ({ t: 'pv', u: `${ORIGIN}${path}`, ...extra });
// Do Not Track and Global Privacy Control, as browsers send them.
const OPT_OUT: Record<string, string>[] = [{ dnt: '1' }, { 'sec-gpc': '1' }];
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

async function body(res: Response) {
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const stored = async (t: TestApp) => ({
  events: await count(t, 'SELECT count(*) AS n FROM events'),
  visitors: await count(t, 'SELECT count(*) AS n FROM visitors'),
});

/** A client whose batch() calls are counted (and may be made to fail); everything else passes through. */
function spyClient(client: Client, onBatch: (n: number) => void | Promise<void>): Client {
  let calls = 0;
  return new Proxy(client, {
    get(target, prop) {
      if (prop === 'batch') {
        return async (...args: Parameters<Client['batch']>) => {
          await onBatch(++calls);
          return target.batch(...args);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** Geo lookup that records every IP it is asked about. */
function recordingGeo(country = 'GB') {
  const seen: string[] = [];
  return { seen, geo: (ip: string) => (seen.push(ip), country) };
}

describe('POST /t: what is stored', () => {
  it('stores a page view with UTM, screen and language, and the visitor with source and device, before answering 202', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const res = await track(t, {
      k: site.public_key,
      v: vid(1),
      e: [
        pv('/landing?utm_source=newsletter&utm_medium=email&utm_campaign=june&utm_term=crm&utm_content=hero', {
          r: 'https://news.example.org/issue/7',
          ti: 'Landing',
          sw: 1920,
          sh: 1080,
          l: 'en-GB',
        }),
      ],
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ ok: true, stored: 1 });
    // No waiting, no draining: a 202 means the rows are committed.
    expect(await stored(t)).toEqual({ events: 1, visitors: 1 });

    const ev = (await t.client.execute('SELECT * FROM events')).rows[0]!;
    expect(ev).toMatchObject({
      site_id: site.id,
      type: 'page_view',
      url: `${ORIGIN}/landing?utm_source=newsletter&utm_medium=email&utm_campaign=june&utm_term=crm&utm_content=hero`,
      referrer: 'https://news.example.org/issue/7',
      title: 'Landing',
      contact_id: null,
    });
    expect(JSON.parse(String(ev.props))).toEqual({
      utm_source: 'newsletter',
      utm_medium: 'email',
      utm_campaign: 'june',
      utm_term: 'crm',
      utm_content: 'hero',
      screen: '1920x1080',
      language: 'en-GB',
    });

    const v = (await t.client.execute('SELECT * FROM visitors')).rows[0]!;
    expect(ev.visitor_id).toBe(v.id);
    expect(v).toMatchObject({ site_id: site.id, uid: vid(1), page_views: 1, browser: 'Chrome', os: 'Windows', device: 'desktop', contact_id: null });
    expect(JSON.parse(String(v.source))).toEqual({
      utm_source: 'newsletter',
      utm_medium: 'email',
      utm_campaign: 'june',
      utm_term: 'crm',
      utm_content: 'hero',
      referrer: 'https://news.example.org/issue/7',
      landing_url: `${ORIGIN}/landing?utm_source=newsletter&utm_medium=email&utm_campaign=june&utm_term=crm&utm_content=hero`,
    });

    // A later hit keeps the first touch and counts the page view.
    const iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
    expect((await track(t, { k: site.public_key, v: vid(1), e: [pv('/pricing?utm_source=other', { r: 'https://google.com/' })] }, { ua: iphone })).status).toBe(202);
    const v2 = (await t.client.execute('SELECT * FROM visitors')).rows[0]!;
    expect(v2).toMatchObject({ page_views: 2, device: 'mobile', os: 'iOS' });
    expect(JSON.parse(String(v2.source)).utm_source).toBe('newsletter');
  });

  it('stores the other event types with their own props', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const res = await track(t, {
      k: site.public_key,
      v: vid(1),
      e: [
        { t: 'ev', u: `${ORIGIN}/p`, n: 'video_play', p: { seconds: 30, hd: true, label: 'intro', none: null } },
        { t: 'out', u: `${ORIGIN}/p`, h: 'https://partner.example.net/' },
        { t: 'dl', u: `${ORIGIN}/p`, h: `${ORIGIN}/brochure.pdf` },
        { t: 'eng', u: `${ORIGIN}/p`, d: 12_345, s: 80 },
      ],
    });
    expect(await body(res)).toEqual({ status: 202, body: { ok: true, stored: 4 } });
    const rows = (await t.client.execute('SELECT type, name, props, referrer, title FROM events ORDER BY id')).rows;
    expect(rows.map((r) => [r.type, r.name, JSON.parse(String(r.props))])).toEqual([
      ['custom', 'video_play', { seconds: 30, hd: true, label: 'intro', none: null }],
      ['outbound_click', null, { href: 'https://partner.example.net/' }],
      ['file_download', null, { href: `${ORIGIN}/brochure.pdf` }],
      ['engagement', null, { duration_ms: 12_345, scroll_pct: 80 }],
    ]);
    // No page view: the visitor exists but has none counted.
    expect(await count(t, 'SELECT page_views AS n FROM visitors')).toBe(0);
  });

  it('accepts text/plain (sendBeacon) and application/json; answers the preflight and echoes the page origin', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const plain = await track(t, { k: site.public_key, v: vid(1), e: [pv('/a')] });
    expect(plain.status).toBe(202);
    expect(plain.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(plain.headers.get('vary')).toContain('Origin');

    const json = await track(t, { k: site.public_key, v: vid(2), e: [pv('/b')] }, { headers: { 'content-type': 'application/json' } });
    expect(json.status).toBe(202);
    expect(json.headers.get('access-control-allow-origin')).toBe(ORIGIN);

    const pre = await t.app.request('/t', {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    expect(Number(pre.headers.get('access-control-max-age'))).toBeGreaterThan(0);
    expect(await pre.text()).toBe('');

    expect(await stored(t)).toEqual({ events: 2, visitors: 2 });
  });

  // A lone surrogate (a title cut inside an emoji by the tracker's slice, or a
  // forged "\ud800") used to reach SQLite's JSON decoding as invalid UTF-8, and
  // reading the row back (the reactions job does, right after the hit) aborted
  // the whole Node process. They are stored as U+FFFD.
  it('stores lone surrogates as U+FFFD, and the rows read back', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const raw = `{"k":"${site.public_key}","v":"${vid(1)}","e":[
      {"t":"pv","u":"${ORIGIN}/\\ud800","ti":"a\\ud83d","r":"\\udc00"},
      {"t":"ev","u":"${ORIGIN}/","n":"x\\udbff","p":{"v":"\\udc00y","ok":"\\ud83d\\ude00"}}]}`;
    expect(await body(await track(t, raw))).toEqual({ status: 202, body: { ok: true, stored: 2 } });
    await settleDeferred();
    await runJob(t);
    const rows = (await t.client.execute('SELECT url, title, referrer, name, props FROM events ORDER BY id')).rows;
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { url: `${ORIGIN}/\ufffd`, title: 'a\ufffd', referrer: '\ufffd', name: null, props: null },
      { url: `${ORIGIN}/`, title: null, referrer: null, name: 'x\ufffd', props: JSON.stringify({ v: '\ufffdy', ok: '😀' }) },
    ]);
    const visitor = await t.json('GET', `/api/v1/visitors/${await count(t, 'SELECT id AS n FROM visitors')}`);
    expect(visitor.status).toBe(200);
  });

  it('consent mode (v: null) stores the events tied to no visitor, and creates no visitor', async () => {
    const t = await makeApp();
    const site = await makeSite(t, { settings: { consent_required: true } });
    const res = await track(t, { k: site.public_key, v: null, e: [pv('/?utm_source=ads'), { t: 'ev', u: `${ORIGIN}/`, n: 'cta' }] });
    expect(await body(res)).toEqual({ status: 202, body: { ok: true, stored: 2 } });
    expect(await stored(t)).toEqual({ events: 2, visitors: 0 });
    expect(await count(t, 'SELECT count(*) AS n FROM events WHERE visitor_id IS NULL AND contact_id IS NULL AND site_id = ?', [site.id])).toBe(2);
    // A visitor id without recorded consent (c: 1) is not kept either.
    expect(await body(await track(t, { k: site.public_key, v: vid(1), e: [pv('/')] }))).toEqual({ status: 202, body: { ok: true, stored: 1 } });
    expect(await stored(t)).toEqual({ events: 3, visitors: 0 });
    expect(await body(await track(t, { k: site.public_key, v: vid(1), c: 1, e: [pv('/')] }))).toEqual({ status: 202, body: { ok: true, stored: 1 } });
    expect(await stored(t)).toEqual({ events: 4, visitors: 1 });
    // Nothing to store at all: no events and no visitor id.
    expect(await body(await track(t, { k: site.public_key, v: null, e: [] }))).toEqual({ status: 202, body: { ok: true, stored: 0 } });
    expect(await stored(t)).toEqual({ events: 4, visitors: 1 });
  });
});

describe('POST /t: bounds (4xx, never a partial write)', () => {
  it('refuses a body over 32 KB with 413, with and without Content-Length', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    // A well-formed payload that is simply too big.
    const big = JSON.stringify({ k: site.public_key, v: vid(1), e: [pv('/', { p: { pad: 'x'.repeat(400) } })], pad: 'x'.repeat(MAX_TRACK_BODY) });
    expect(big.length).toBeGreaterThan(MAX_TRACK_BODY);

    const declared = await t.app.request('/t', {
      method: 'POST',
      headers: { origin: ORIGIN, 'user-agent': CHROME_UA, 'content-type': 'text/plain', 'content-length': String(big.length) },
      body: big,
    });
    expectError(await body(declared), 413, 'PAYLOAD_TOO_LARGE');

    // No Content-Length (a string body through app.request has none), and a chunked stream.
    const undeclared = await track(t, big);
    expectError(await body(undeclared), 413, 'PAYLOAD_TOO_LARGE');
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(ctl) {
        for (let i = 0; i < bytes.length; i += 4096) ctl.enqueue(bytes.slice(i, i + 4096));
        ctl.close();
      },
    });
    const chunked = await t.app.request('/t', {
      method: 'POST',
      headers: { origin: ORIGIN, 'user-agent': CHROME_UA, 'content-type': 'text/plain' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expectError(await body(chunked), 413, 'PAYLOAD_TOO_LARGE');

    expect(await stored(t)).toEqual({ events: 0, visitors: 0 });
    // Just under the limit is fine.
    const ok = JSON.stringify({ k: site.public_key, v: vid(1), e: [pv('/', { p: { pad: 'x'.repeat(400) } })] });
    expect((await track(t, ok)).status).toBe(202);
  });

  it('answers 400 to malformed JSON and 422 to every over-long or out-of-range field, storing nothing', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const k = site.public_key;
    const v = vid(1);

    for (const raw of ['{', 'not json', '{"k":', '']) {
      expectError(await body(await track(t, raw)), 400, 'BAD_REQUEST');
    }

    const long = (n: number) => 'a'.repeat(n);
    const props = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, i]));
    const bad: [string, unknown][] = [
      ['51 events', { k, v, e: Array.from({ length: 51 }, () => pv('/')) }],
      ['url > 2048', { k, v, e: [{ t: 'pv', u: `${ORIGIN}/${long(2048)}` }] }],
      ['referrer > 2048', { k, v, e: [pv('/', { r: `https://r.example.org/${long(2048)}` })] }],
      ['href > 2048', { k, v, e: [{ t: 'out', u: `${ORIGIN}/`, h: `https://x.example.org/${long(2048)}` }] }],
      ['title > 500', { k, v, e: [pv('/', { ti: long(501) })] }],
      ['name > 100', { k, v, e: [{ t: 'ev', u: `${ORIGIN}/`, n: long(101) }] }],
      ['language > 35', { k, v, e: [pv('/', { l: long(36) })] }],
      ['26 props', { k, v, e: [{ t: 'ev', u: `${ORIGIN}/`, n: 'x', p: props(26) }] }],
      ['prop value > 500', { k, v, e: [{ t: 'ev', u: `${ORIGIN}/`, n: 'x', p: { a: long(501) } }] }],
      ['prop key > 64', { k, v, e: [{ t: 'ev', u: `${ORIGIN}/`, n: 'x', p: { [long(65)]: 1 } }] }],
      ['nested prop', { k, v, e: [{ t: 'ev', u: `${ORIGIN}/`, n: 'x', p: { a: { b: 1 } } }] }],
      ['props not an object', { k, v, e: [{ t: 'ev', u: `${ORIGIN}/`, n: 'x', p: [1, 2] }] }],
      ['visitor id too short', { k, v: 'short', e: [pv('/')] }],
      ['visitor id too long', { k, v: long(65), e: [pv('/')] }],
      ['visitor id bad chars', { k, v: 'visitor id with spaces!', e: [pv('/')] }],
      ['visitor id not a string', { k, v: 12345678901234567890, e: [pv('/')] }],
      ['visitor id missing', { k, e: [pv('/')] }],
      ['site key bad chars', { k: 'pk_not a key!!', v, e: [pv('/')] }],
      ['site key too short', { k: 'pk_1', v, e: [pv('/')] }],
      ['site key too long', { k: long(65), v, e: [pv('/')] }],
      ['site key missing', { v, e: [pv('/')] }],
      ['unknown event type', { k, v, e: [{ t: 'xx', u: `${ORIGIN}/` }] }],
      ['event without url', { k, v, e: [{ t: 'pv' }] }],
      ['events not an array', { k, v, e: { t: 'pv' } }],
      ['negative screen', { k, v, e: [pv('/', { sw: -1, sh: 800 })] }],
      ['huge screen', { k, v, e: [pv('/', { sw: 1e9, sh: 800 })] }],
      ['fractional screen', { k, v, e: [pv('/', { sw: 1.5, sh: 800 })] }],
      ['negative duration', { k, v, e: [{ t: 'eng', u: `${ORIGIN}/`, d: -1, s: 10 }] }],
      ['huge duration', { k, v, e: [{ t: 'eng', u: `${ORIGIN}/`, d: 1e12, s: 10 }] }],
      ['scroll > 100', { k, v, e: [{ t: 'eng', u: `${ORIGIN}/`, d: 1, s: 101 }] }],
      ['negative client time', { k, v, e: [pv('/', { ts: -5 })] }],
      ['b other than 1', { k, v, e: [pv('/')], b: 2 }],
      ['identify without signature', { k, v, e: [], id: { email: 'a@example.com' } }],
      ['identify email > 254', { k, v, e: [], id: { email: `${long(250)}@example.com`, sig: 'a'.repeat(64) } }],
      ['identify without visitor', { k, v: null, e: [], id: { email: 'a@example.com', sig: sign('x', 'a@example.com') } }],
      ['an array', [{ k, v, e: [pv('/')] }]],
      ['a number', 42],
      ['null', null],
    ];
    for (const [what, payload] of bad) {
      const r = await body(await track(t, payload));
      expect({ what, status: r.status, code: r.body?.error?.code }).toEqual({ what, status: 422, code: 'VALIDATION_FAILED' });
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(Array.isArray(r.body.error.details), what).toBe(true);
    }
    // Numbers JSON.stringify cannot write: 1e400 parses to Infinity.
    const inf = `{"k":"${k}","v":"${v}","e":[{"t":"ev","u":"${ORIGIN}/","n":"x","p":{"big":1e400}}]}`;
    expectError(await body(await track(t, inf)), 422, 'VALIDATION_FAILED');
    const infScreen = `{"k":"${k}","v":"${v}","e":[{"t":"pv","u":"${ORIGIN}/","sw":1e400}]}`;
    expectError(await body(await track(t, infScreen)), 422, 'VALIDATION_FAILED');

    expect(await stored(t)).toEqual({ events: 0, visitors: 0 });
    // The limits themselves are allowed.
    const atLimit = {
      k,
      v: long(64),
      e: [
        pv(`/${long(2048 - ORIGIN.length - 1)}`, { ti: long(500), l: long(35), sw: 20_000, sh: 0, r: `https://r.example.org/${long(2000)}` }),
        { t: 'ev', u: `${ORIGIN}/`, n: long(100), p: { ...props(24), [long(64)]: long(500) } },
        { t: 'eng', u: `${ORIGIN}/`, d: 86_400_000, s: 100 },
        ...Array.from({ length: 47 }, () => pv('/')),
      ],
    };
    expect(JSON.stringify(atLimit).length).toBeLessThan(MAX_TRACK_BODY);
    expect(await body(await track(t, atLimit))).toEqual({ status: 202, body: { ok: true, stored: 50 } });
    expect(await stored(t)).toEqual({ events: 50, visitors: 1 });
  });
});

describe('POST /t: site key and origin', () => {
  it('unknown site key is 404; a foreign or missing origin is 403 ORIGIN_NOT_ALLOWED; the Referer stands in for a missing Origin', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const payload = { k: site.public_key, v: vid(1), e: [pv('/')] };

    expectError(await body(await track(t, { ...payload, k: 'pk_' + 'x'.repeat(20) })), 404, 'NOT_FOUND');

    const foreign = await track(t, payload, { origin: 'https://evil.example.net' });
    expectError(await body(foreign), 403, 'ORIGIN_NOT_ALLOWED');
    expect(foreign.headers.get('access-control-allow-origin')).toBe('https://evil.example.net'); // so its script can read the error

    expectError(await body(await track(t, payload, { origin: null })), 403, 'ORIGIN_NOT_ALLOWED');
    expectError(await body(await track(t, payload, { origin: 'null' })), 403, 'ORIGIN_NOT_ALLOWED');
    expectError(await body(await track(t, payload, { origin: 'http://shop.example.com' })), 403, 'ORIGIN_NOT_ALLOWED');
    expectError(await body(await track(t, payload, { origin: 'https://shop.example.com:8443' })), 403, 'ORIGIN_NOT_ALLOWED');
    expectError(await body(await track(t, payload, { origin: null, headers: { referer: 'https://evil.example.net/shop.example.com' } })), 403, 'ORIGIN_NOT_ALLOWED');
    expectError(await body(await track(t, payload, { origin: null, headers: { referer: 'not a url' } })), 403, 'ORIGIN_NOT_ALLOWED');
    expect(await stored(t)).toEqual({ events: 0, visitors: 0 });

    // Referer fallback: no Origin (or the opaque "null" one), the page's URL as Referer.
    const viaReferer = await track(t, payload, { origin: null, headers: { referer: `${ORIGIN}/pricing?x=1` } });
    expect(viaReferer.status).toBe(202);
    expect(viaReferer.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect((await track(t, payload, { origin: 'null', headers: { referer: `${ORIGIN}/` } })).status).toBe(202);
    // The Origin header, when present and real, wins over the Referer.
    expectError(await body(await track(t, payload, { origin: 'https://evil.example.net', headers: { referer: `${ORIGIN}/` } })), 403, 'ORIGIN_NOT_ALLOWED');
    // Origins compare case-insensitively (hosts are).
    expect((await track(t, payload, { origin: 'https://SHOP.example.com' })).status).toBe(202);
    expect(await stored(t)).toEqual({ events: 3, visitors: 1 });
  });

  it('a wildcard origin allows subdomains only', async () => {
    const t = await makeApp();
    const site = await makeSite(t, { allowed_origins: ['https://*.example.com'] });
    const payload = { k: site.public_key, v: vid(1), e: [pv('/')] };
    for (const origin of ['https://a.example.com', 'https://deep.a.example.com', 'https://a-b.example.com']) {
      const r = await track(t, payload, { origin });
      expect({ origin, status: r.status }).toEqual({ origin, status: 202 });
      expect(r.headers.get('access-control-allow-origin')).toBe(origin);
    }
    for (const origin of [
      'https://example.com.evil.com',
      'https://evilexample.com',
      'https://example.com',
      'http://a.example.com',
      'https://a.example.com.evil.com',
      'https://a.example.co',
      'https://.example.com.evil.com',
    ]) {
      const r = await body(await track(t, payload, { origin }));
      expect({ origin, status: r.status, code: r.body.error?.code }).toEqual({ origin, status: 403, code: 'ORIGIN_NOT_ALLOWED' });
    }
    expect(await count(t, 'SELECT count(*) AS n FROM events')).toBe(3);
  });
});

describe('POST /t: bots, Do Not Track, automation', () => {
  it('drops known bots, empty or missing user agents and webdriver browsers with a 2xx, storing nothing', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const payload = { k: site.public_key, v: vid(1), e: [pv('/')] };
    for (const ua of [GOOGLEBOT, '', 'curl/8.5.0', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36']) {
      const r = await body(await track(t, payload, { ua }));
      expect({ ua, ...r }).toEqual({ ua, status: 202, body: { ok: true, stored: 0, dropped: 'bot' } });
    }
    const noUa = await t.app.request('/t', { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'text/plain' }, body: JSON.stringify(payload) });
    expect(await body(noUa)).toEqual({ status: 202, body: { ok: true, stored: 0, dropped: 'bot' } });
    const webdriver = await body(await track(t, { ...payload, b: 1 }));
    expect(webdriver).toEqual({ status: 202, body: { ok: true, stored: 0, dropped: 'bot' } });
    expect(await stored(t)).toEqual({ events: 0, visitors: 0 });
    // A bot still cannot use a site from a foreign origin.
    expectError(await body(await track(t, payload, { ua: GOOGLEBOT, origin: 'https://evil.example.net' })), 403, 'ORIGIN_NOT_ALLOWED');
  });

  it('stores webdriver hits when the site allows automation', async () => {
    const t = await makeApp();
    const site = await makeSite(t, { settings: { allow_automation: true } });
    const r = await body(await track(t, { k: site.public_key, v: vid(1), e: [pv('/')], b: 1 }));
    expect(r).toEqual({ status: 202, body: { ok: true, stored: 1 } });
    expect(await stored(t)).toEqual({ events: 1, visitors: 1 });
  });

  it('honours DNT and Sec-GPC only when the site asks', async () => {
    const t = await makeApp();
    const respecting = await makeSite(t, { settings: { respect_dnt: true } });
    const plain = await makeSite(t, { name: 'Plain' });
    for (const h of OPT_OUT) {
      const r = await body(await track(t, { k: respecting.public_key, v: vid(1), e: [pv('/')] }, { headers: h }));
      expect(r).toEqual({ status: 202, body: { ok: true, stored: 0, dropped: 'dnt' } });
    }
    expect(await stored(t)).toEqual({ events: 0, visitors: 0 });
    // DNT: 0 is not a request to stop.
    expect((await body(await track(t, { k: respecting.public_key, v: vid(1), e: [pv('/')] }, { headers: { dnt: '0' } }))).body.stored).toBe(1);
    expect((await body(await track(t, { k: respecting.public_key, v: vid(2), e: [pv('/')] }))).body.stored).toBe(1);
    for (const h of OPT_OUT) {
      expect((await body(await track(t, { k: plain.public_key, v: vid(3), e: [pv('/')] }, { headers: h }))).body.stored).toBe(1);
    }
    expect(await stored(t)).toEqual({ events: 4, visitors: 3 });
  });
});

describe('POST /t: client IP, geo and IP anonymisation', () => {
  it('looks up the country of the client IP and stores it on the visitor; with anonymize_ip the lookup sees only the network', async () => {
    let ip = '81.2.69.160';
    const g = recordingGeo('GB');
    const t = await makeApp({ public: { clientIp: () => ip, geo: g.geo } });
    const plain = await makeSite(t);
    const anon = await makeSite(t, { name: 'Anon', settings: { anonymize_ip: true } });

    expect((await track(t, { k: plain.public_key, v: vid(1), e: [pv('/')] })).status).toBe(202);
    expect(g.seen).toEqual(['81.2.69.160']);
    expect((await t.client.execute({ sql: 'SELECT country FROM visitors WHERE uid = ?', args: [vid(1)] })).rows[0]!.country).toBe('GB');

    g.seen.length = 0;
    expect((await track(t, { k: anon.public_key, v: vid(2), e: [pv('/')] })).status).toBe(202);
    expect(g.seen).toEqual(['81.2.69.0']);
    expect((await t.client.execute({ sql: 'SELECT country FROM visitors WHERE uid = ?', args: [vid(2)] })).rows[0]!.country).toBe('GB');

    for (const [client, anonymised] of [
      ['::ffff:81.2.69.160', '::ffff:81.2.69.0'],
      ['2a02:c7c:1234:5678:9abc:def0:1234:5678', '2a02:c7c:1234::'],
    ]) {
      g.seen.length = 0;
      ip = client!;
      expect((await track(t, { k: anon.public_key, v: vid(3), e: [pv('/')] })).status).toBe(202);
      expect(g.seen).toEqual([anonymised]);
    }
    // The IP itself is stored nowhere.
    const dump = JSON.stringify((await t.client.execute('SELECT * FROM visitors')).rows) + JSON.stringify((await t.client.execute('SELECT * FROM events')).rows);
    expect(dump).not.toContain('81.2.69');
    expect(dump).not.toContain('2a02');
  });

  // KNOWN BUG (api/core/tracking/enrich.ts anonymizeIp): an IPv6 address whose
  // first three groups are compressed ("2001:db8::1", "2a02:c7c::5") is cut at
  // the ":" split, giving "2001:db8:::" — not an address, so the geo lookup
  // fails and the country is lost for those visitors. Remove `.fails` when fixed.
  it('anonymize_ip keeps compressed IPv6 addresses valid (zeroing all but the first 48 bits)', async () => {
    const g = recordingGeo('DE');
    const t = await makeApp({ public: { clientIp: () => '2001:db8::1', geo: g.geo } });
    const anon = await makeSite(t, { settings: { anonymize_ip: true } });
    expect((await track(t, { k: anon.public_key, v: vid(1), e: [pv('/')] })).status).toBe(202);
    expect(isIP(g.seen[0]!)).toBe(6);
    expect(g.seen).toEqual(['2001:db8::']);
  });

  it('takes X-Forwarded-For as the client IP only with TRUST_PROXY', async () => {
    const g = recordingGeo();
    const trusting = await makeApp({ env: { TRUST_PROXY: 'true' }, public: { clientIp: () => '10.0.0.1', geo: g.geo } });
    const site = await makeSite(trusting);
    expect((await track(trusting, { k: site.public_key, v: vid(1), e: [pv('/')] }, { headers: { 'x-forwarded-for': '81.2.69.160' } })).status).toBe(202);
    expect(g.seen).toEqual(['81.2.69.160']);
    // No header: the connection's address.
    expect((await track(trusting, { k: site.public_key, v: vid(2), e: [pv('/')] })).status).toBe(202);
    expect(g.seen).toEqual(['81.2.69.160', '10.0.0.1']);

    const h = recordingGeo();
    const direct = await makeApp({ public: { clientIp: () => '10.0.0.1', geo: h.geo } });
    const site2 = await makeSite(direct);
    expect((await track(direct, { k: site2.public_key, v: vid(1), e: [pv('/')] }, { headers: { 'x-forwarded-for': '81.2.69.160' } })).status).toBe(202);
    expect(h.seen).toEqual(['10.0.0.1']);
  });

  it('rate limits per client IP, not per forged X-Forwarded-For, without TRUST_PROXY', async () => {
    const t = await makeApp({ env: { PUBLIC_RATE_LIMIT: '3' }, public: { clientIp: () => '81.2.69.160' } });
    const site = await makeSite(t);
    for (let i = 0; i < 3; i++) {
      expect((await track(t, { k: site.public_key, v: vid(i), e: [pv('/')] }, { headers: { 'x-forwarded-for': `1.2.3.${i}` } })).status).toBe(202);
    }
    expectError(await body(await track(t, { k: site.public_key, v: vid(9), e: [pv('/')] }, { headers: { 'x-forwarded-for': '1.2.3.99' } })), 429, 'RATE_LIMITED');
  });

  // KNOWN BUG (api/app.ts forwardedIp): with TRUST_PROXY it takes the LEFTMOST
  // X-Forwarded-For entry. Proxies that append (nginx $proxy_add_x_forwarded_for,
  // AWS ALB, Heroku, Fly, Render) put the real client last and pass whatever the
  // client sent first, so a client defeats the rate limit (and spoofs geo) by
  // sending a new X-Forwarded-For each time. The rightmost entry is the one the
  // trusted proxy wrote. Remove `.fails` when fixed.
  it('behind an appending proxy, a client cannot dodge the rate limit with its own X-Forwarded-For', async () => {
    const t = await makeApp({ env: { PUBLIC_RATE_LIMIT: '3', TRUST_PROXY: 'true' }, public: { clientIp: () => '10.0.0.1' } });
    const site = await makeSite(t);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      // What the proxy forwards: the client's forged value, then the real address.
      const r = await track(t, { k: site.public_key, v: vid(i), e: [pv('/')] }, { headers: { 'x-forwarded-for': `1.2.3.${i}, 81.2.69.160` } });
      statuses.push(r.status);
    }
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
  });
});

describe('POST /t: rate limit', () => {
  it('answers 429 RATE_LIMITED with Retry-After once an IP passes PUBLIC_RATE_LIMIT in the window', async () => {
    // The limiter (hono-rate-limiter's memory store) reads the wall clock.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      let now = Date.UTC(2026, 0, 1, 12, 0, 0);
      vi.setSystemTime(now);
      const t = await makeApp({ env: { PUBLIC_RATE_LIMIT: '5' }, now: () => now, public: { clientIp: () => '81.2.69.160' } });
      const site = await makeSite(t);
      for (let i = 0; i < 5; i++) expect((await track(t, { k: site.public_key, v: vid(i), e: [pv('/')] })).status).toBe(202);
      vi.setSystemTime((now += 15_000));
      const limited = await track(t, { k: site.public_key, v: vid(6), e: [pv('/')] });
      const retry = Number(limited.headers.get('retry-after'));
      expectError(await body(limited), 429, 'RATE_LIMITED');
      expect(retry).toBe(45);
      expect(limited.headers.get('content-type')).toContain('application/json');
      expect(await count(t, 'SELECT count(*) AS n FROM events')).toBe(5);
      // A new window starts once this one is over.
      vi.setSystemTime((now += 45_000));
      expect((await track(t, { k: site.public_key, v: vid(7), e: [pv('/')] })).status).toBe(202);
      expect(await count(t, 'SELECT count(*) AS n FROM events')).toBe(6);
    } finally {
      vi.useRealTimers();
    }
  });

  it('counts each IP on its own', async () => {
    let ip = '81.2.69.160';
    const t = await makeApp({ env: { PUBLIC_RATE_LIMIT: '2' }, public: { clientIp: () => ip } });
    const site = await makeSite(t);
    const send = () => track(t, { k: site.public_key, v: vid(1), e: [pv('/')] });
    expect([(await send()).status, (await send()).status, (await send()).status]).toEqual([202, 202, 429]);
    ip = '2.125.160.216';
    expect([(await send()).status, (await send()).status, (await send()).status]).toEqual([202, 202, 429]);
  });

  it('a 429 carries the CORS header like the other /t errors, and exposes Retry-After to the page', async () => {
    const t = await makeApp({ env: { PUBLIC_RATE_LIMIT: '1' }, public: { clientIp: () => '81.2.69.160' } });
    const site = await makeSite(t);
    await track(t, { k: site.public_key, v: vid(1), e: [pv('/')] });
    const r = await track(t, { k: site.public_key, v: vid(1), e: [pv('/')] });
    expect(r.status).toBe(429);
    expect(r.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(r.headers.get('access-control-expose-headers')).toBe('Retry-After');
  });
});

describe('POST /t: group commit', () => {
  it('answers 200 concurrent requests only after commit, in far fewer write transactions than requests', async () => {
    const writes: number[] = [];
    const t = await makeApp({
      public: (ctx) => ({
        ingestor: createIngestor({ ...ctx, client: spyClient(ctx.client, (n) => void writes.push(n)) }),
      }),
    });
    const site = await makeSite(t);
    const N = 200;
    const responses = await Promise.all(Array.from({ length: N }, (_, i) => track(t, { k: site.public_key, v: vid(i), e: [pv(`/p${i}`)] })));
    expect(responses.map((r) => r.status)).toEqual(Array(N).fill(202));
    expect(await stored(t)).toEqual({ events: N, visitors: N });
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.length).toBeLessThan(50);
    // Every event joined its own visitor.
    expect(await count(t, 'SELECT count(*) AS n FROM events e JOIN visitors v ON v.id = e.visitor_id WHERE e.url = ? || CAST(substr(v.uid, 8) AS INTEGER)', [`${ORIGIN}/p`])).toBe(N);

    // Many hits of the same visitor in one flush: one visitor row, every page view counted.
    writes.length = 0;
    const same = await Promise.all(Array.from({ length: 50 }, () => track(t, { k: site.public_key, v: 'samevisitor-0000000', e: [pv('/'), pv('/x')] })));
    expect(same.every((r) => r.status === 202)).toBe(true);
    expect(writes.length).toBeLessThan(20);
    expect(await count(t, "SELECT page_views AS n FROM visitors WHERE uid = 'samevisitor-0000000'")).toBe(100);
    expect(await count(t, 'SELECT count(*) AS n FROM visitors')).toBe(N + 1);
    await settleDeferred();
  });

  it('a failing flush fails its waiting requests with a 500 JSON error (no false 202), and the next flush works', async () => {
    let failNext = true;
    const t = await makeApp({
      public: (ctx) => ({
        ingestor: createIngestor(
          {
            ...ctx,
            client: spyClient(ctx.client, () => {
              if (failNext) {
                failNext = false;
                throw new Error('disk I/O error (injected)');
              }
            }),
          },
          // Hold the first flush long enough for all the requests to join it.
          { maxWaitMs: 20 },
        ),
      }),
    });
    const site = await makeSite(t);
    const N = 20;
    const responses = await Promise.all(Array.from({ length: N }, (_, i) => track(t, { k: site.public_key, v: vid(i), e: [pv('/')] })));
    const results = await Promise.all(responses.map(body));
    const ok = results.filter((r) => r.status === 202).length;
    const failed = results.filter((r) => r.status !== 202);
    // They all joined the one failing flush (a straggler could land in the next one, which succeeds).
    expect(failed.length).toBeGreaterThan(0);
    expect(ok + failed.length).toBe(N);
    for (const r of failed) expectError(r, 500, 'INTERNAL');
    expect(JSON.stringify(failed)).not.toContain('injected'); // no internals leak
    // What was acknowledged is what is stored; nothing else was written.
    expect(await stored(t)).toEqual({ events: ok, visitors: ok });

    const again = await track(t, { k: site.public_key, v: vid(1), e: [pv('/')] });
    expect(again.status).toBe(202);
    expect(await stored(t)).toEqual({ events: ok + 1, visitors: ok + 1 });
  });
});

describe('GET /w.js', () => {
  it('serves the tracker with an ETag and caching, and 304 on If-None-Match', async () => {
    const t = await makeApp();
    const res = await t.app.request('/w.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/javascript/);
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const js = await res.text();
    expect(js.length).toBeGreaterThan(100);
    expect(js).toContain('/t');

    const cached = await t.app.request('/w.js', { headers: { 'if-none-match': etag! } });
    expect(cached.status).toBe(304);
    expect(cached.headers.get('etag')).toBe(etag);
    expect(await cached.text()).toBe('');
    const stale = await t.app.request('/w.js', { headers: { 'if-none-match': '"something-else"' } });
    expect(stale.status).toBe(200);
  });
});

describe('retention job', () => {
  it('removes old anonymous visitors and their events, and old consent-less events; keeps identified and recent ones', async () => {
    const DAY = 86_400_000;
    let now = Date.UTC(2026, 0, 1);
    const t = await makeApp({ now: () => now });
    const site = await makeSite(t, { settings: { retention_days: 30 } });
    const other = await makeSite(t, { name: 'Long memory', settings: { retention_days: 365 } });
    const k = site.public_key;
    const send = async (payload: Record<string, unknown>, key = k) => expect((await track(t, { k: key, ...payload })).status).toBe(202);

    // Day 0: old traffic.
    await send({ v: vid('old-anon'), e: [pv('/'), pv('/a')] });
    await send({ v: vid('returning'), e: [pv('/')] });
    await send({ v: vid('identified'), e: [pv('/')] });
    await send({ v: vid('identified'), e: [], id: { email: 'ada@example.com', sig: sign(site.secret, 'ada@example.com') } });
    await send({ v: null, e: [pv('/no-consent-old')] });
    await send({ v: vid('other-site'), e: [pv('/')] }, other.public_key);
    await send({ v: null, e: [pv('/other-no-consent')] }, other.public_key);
    await settleDeferred();

    // Day 40: recent traffic; one old visitor comes back.
    now += 40 * DAY;
    await send({ v: vid('recent'), e: [pv('/')] });
    await send({ v: vid('returning'), e: [pv('/again')] });
    await send({ v: null, e: [pv('/no-consent-new')] });
    await settleDeferred();

    const before = await stored(t);
    const result = await runJob(t, 'retention');
    // old-anon's 2 page views and the old consent-less one.
    expect(result).toEqual({ visitors: 1, events: 3, idempotency_keys: 0, webhook_deliveries: 0 });
    const after = await stored(t);
    expect(after).toEqual({ events: before.events - 3, visitors: before.visitors - 1 });

    const uids = (await t.client.execute('SELECT uid FROM visitors ORDER BY uid')).rows.map((r) => String(r.uid));
    expect(uids.sort()).toEqual([vid('identified'), vid('other-site'), vid('recent'), vid('returning')].sort());
    const urls = (await t.client.execute('SELECT url FROM events WHERE url IS NOT NULL ORDER BY id')).rows.map((r) => String(r.url));
    expect(urls).not.toContain(`${ORIGIN}/a`);
    expect(urls).not.toContain(`${ORIGIN}/no-consent-old`);
    for (const kept of ['/no-consent-new', '/other-no-consent', '/again']) expect(urls).toContain(`${ORIGIN}${kept}`);
    // The returning visitor keeps its old history; the contact keeps its timeline.
    expect(await count(t, 'SELECT count(*) AS n FROM events e JOIN visitors v ON v.id = e.visitor_id WHERE v.uid = ?', [vid('returning')])).toBe(2);
    expect(await count(t, 'SELECT count(*) AS n FROM events e JOIN visitors v ON v.id = e.visitor_id WHERE v.uid = ?', [vid('identified')])).toBeGreaterThanOrEqual(1);
    expect(await count(t, 'SELECT count(*) AS n FROM contacts')).toBe(1);

    // Idempotent.
    expect(await runJob(t, 'retention')).toEqual({ visitors: 0, events: 0, idempotency_keys: 0, webhook_deliveries: 0 });

    // Much later everything anonymous goes, identified history stays.
    now += 400 * DAY;
    const late = await runJob(t, 'retention');
    expect(late.visitors).toBe(3);
    expect((await t.client.execute('SELECT uid FROM visitors')).rows.map((r) => r.uid)).toEqual([vid('identified')]);
    expect(await count(t, 'SELECT count(*) AS n FROM events WHERE contact_id IS NULL')).toBe(0);
    expect(await count(t, 'SELECT count(*) AS n FROM events WHERE contact_id IS NOT NULL')).toBeGreaterThanOrEqual(1);
  });
});

describe('POST /t: the page a visitor consents on', () => {
  // The tracker resends the view it counted without a visitor, marked a: 1, once consent is given.
  const view = (r: string) => pv('/pricing?utm_source=ads', { r, ti: 'Pricing', sw: 1280, sh: 800, l: 'en' });
  const views = (t: TestApp, siteId: number) =>
    t.client
      .execute({ sql: "SELECT e.id, e.referrer, v.uid FROM events e LEFT JOIN visitors v ON v.id = e.visitor_id WHERE e.site_id = ? AND e.type = 'page_view' ORDER BY e.id", args: [siteId] })
      .then((r) => r.rows.map((x) => ({ id: Number(x.id), referrer: x.referrer, uid: x.uid })));
  const pageViewsOf = (t: TestApp, uid: string) => count(t, 'SELECT page_views AS n FROM visitors WHERE uid = ?', [uid]);

  it('turns the anonymous view into the visitor\'s (a new event for the reactions), once; counts never double', async () => {
    let now = Date.UTC(2026, 0, 1);
    const t = await makeApp({ now: () => now });
    const site = await makeSite(t, { settings: { consent_required: true } });
    const k = site.public_key;
    // Two people read the page before consenting, from different referrers.
    await track(t, { k, v: null, e: [view('https://news.example.org/')] });
    await track(t, { k, v: null, e: [view('https://other.example.org/')] });
    const before = await views(t, site.id);
    expect(before.map((x) => x.uid)).toEqual([null, null]);
    const rule = await t.json('POST', '/api/v1/point-rules', { name: 'Pricing', event_type: 'page_view', filter: { url: { op: 'contains', value: '/pricing' } }, delta: 10, repeatable: true });
    expect(rule.status).toBe(201);
    await runJob(t);
    expect(await count(t, 'SELECT count(*) AS n FROM point_log')).toBe(0);

    now += 60_000;
    const res = await track(t, { k, v: vid(1), c: 1, e: [{ ...view('https://news.example.org/'), a: 1 }] });
    expect(res.status).toBe(202);
    const after = await views(t, site.id);
    // Still two views: the first reader's is now the visitor's, with its referrer, as the newest event.
    expect(after).toHaveLength(2);
    expect(after[0]).toEqual({ id: before[1]!.id, referrer: 'https://other.example.org/', uid: null });
    expect(after[1]).toMatchObject({ referrer: 'https://news.example.org/', uid: vid(1) });
    expect(after[1]!.id).toBeGreaterThan(before[1]!.id);
    expect(await pageViewsOf(t, vid(1))).toBe(1);
    // The reactions had passed the anonymous row (nobody to score); they score the visitor's.
    await runJob(t);
    expect(await count(t, 'SELECT points AS n FROM visitors WHERE uid = ?', [vid(1)])).toBe(10);
    const source = (await t.client.execute({ sql: 'SELECT source FROM visitors WHERE uid = ?', args: [vid(1)] })).rows[0]!.source;
    expect(JSON.parse(String(source))).toMatchObject({ referrer: 'https://news.example.org/', utm_source: 'ads' });

    // Consent given again (a second call, a replay): nothing more.
    await track(t, { k, v: vid(1), c: 1, e: [{ ...view('https://news.example.org/'), a: 1 }] });
    expect(await views(t, site.id)).toEqual(after);
    expect(await pageViewsOf(t, vid(1))).toBe(1);
    // No anonymous view of that page: nothing is added.
    await track(t, { k, v: vid(1), c: 1, e: [{ ...pv('/never-seen'), a: 1 }] });
    // Without a visitor the marker has nothing to turn the view into.
    await track(t, { k, v: null, e: [{ ...view('https://other.example.org/'), a: 1 }] });
    expect(await views(t, site.id)).toEqual(after);

    // An anonymous view older than the window stays anonymous.
    await track(t, { k, v: null, e: [view('https://late.example.org/')] });
    now += 60 * 60_000;
    await track(t, { k, v: vid(2), c: 1, e: [{ ...view('https://late.example.org/'), a: 1 }] });
    expect((await views(t, site.id)).filter((x) => x.uid === vid(2))).toEqual([]);
    expect(await pageViewsOf(t, vid(2))).toBe(0);
  });

  it('an anonymous view and the consent in the same write are one view too', async () => {
    const t = await makeApp({ public: (ctx) => ({ ingestor: createIngestor(ctx, { maxWaitMs: 50 }) }) });
    const site = await makeSite(t, { settings: { consent_required: true } });
    const k = site.public_key;
    await Promise.all([
      track(t, { k, v: null, e: [view('https://news.example.org/')] }),
      track(t, { k, v: vid(1), c: 1, e: [{ ...view('https://news.example.org/'), a: 1 }] }),
    ]);
    expect((await views(t, site.id)).map((x) => x.uid)).toEqual([vid(1)]);
  });
});

describe('POST /t: whether w.js should ask GET /focus', () => {
  it('says focus: true for a visitor\'s page view while the site (or every site) has an active focus item; edits apply at once', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const other = await makeSite(t, { name: 'Other' });
    const k = site.public_key;
    const answer = async (payload: Record<string, unknown>, key = k) => (await body(await track(t, { k: key, ...payload }))).body;
    expect(await answer({ v: vid(1), e: [pv('/')] })).toEqual({ ok: true, stored: 1 });

    const item = (site_id: number | null) => ({ name: 'Hello', site_id, style: { type: 'bar' }, content: { kind: 'notice', heading: 'Hi', body: '' } });
    const created = await t.json('POST', '/api/v1/focus-items', item(site.id));
    expect(created.status).toBe(201);
    expect(await answer({ v: vid(1), e: [pv('/')] })).toEqual({ ok: true, stored: 1, focus: true });
    // Nothing to ask for: no visitor (consent mode), or no page view in the hit.
    expect(await answer({ v: null, e: [pv('/')] })).toEqual({ ok: true, stored: 1 });
    expect(await answer({ v: vid(1), e: [{ t: 'ev', u: `${ORIGIN}/`, n: 'x' }] })).toEqual({ ok: true, stored: 1 });
    expect(await answer({ v: vid(2), e: [pv('/')] }, other.public_key)).toEqual({ ok: true, stored: 1 });

    expect((await t.json('PATCH', `/api/v1/focus-items/${created.body.id}`, { active: false })).status).toBe(200);
    expect(await answer({ v: vid(1), e: [pv('/')] })).toEqual({ ok: true, stored: 1 });
    const everywhere = await t.json('POST', '/api/v1/focus-items', item(null));
    expect(await answer({ v: vid(2), e: [pv('/')] }, other.public_key)).toEqual({ ok: true, stored: 1, focus: true });
    expect((await t.json('DELETE', `/api/v1/focus-items/${everywhere.body.id}`)).status).toBeLessThan(300);
    expect(await answer({ v: vid(2), e: [pv('/')] }, other.public_key)).toEqual({ ok: true, stored: 1 });
  });
});
