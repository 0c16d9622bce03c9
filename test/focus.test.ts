import { describe, it, expect } from 'vitest';
import { makeApp, expectError, type TestApp } from './helpers';
import { makeSite, track, vid, sign, CHROME_UA } from './tracking-helpers';
import { routeContract } from './route-contract';
import { chooseVariant } from '../api/core/focus/targeting';
import { isSafeSelector } from '../api/core/focus/schema';

const ORIGIN = 'https://shop.example.com';
const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

const base = (extra: Record<string, unknown> = {}) => ({
  name: 'Offer',
  style: { type: 'bar', position: 'top', sticky: true, colors: { background: '#ffffff', text: '#111111', button: '#2563eb' } },
  content: { kind: 'link', heading: 'Spring sale', body: '20% off', cta: { label: 'Shop now', url: 'https://shop.example.com/sale' } },
  ...extra,
});

async function createItem(t: TestApp, extra: Record<string, unknown> = {}) {
  const r = await t.json('POST', '/api/v1/focus-items', base(extra));
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return r.body as { id: number; [k: string]: any };
}

/** GET /focus as the widget on `origin` asks it. */
async function focus(
  t: TestApp,
  params: Record<string, string | number | undefined>,
  opts: { origin?: string | null; ua?: string } = {},
) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const headers: Record<string, string> = { 'user-agent': opts.ua ?? CHROME_UA };
  if (opts.origin !== null) headers.origin = opts.origin ?? ORIGIN;
  const res = await t.app.request(`/focus?${q}`, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

const ids = (r: { body: any }) => (r.body.items as { id: number }[]).map((i) => i.id);

async function makeForm(t: TestApp, active = true) {
  const r = await t.client.execute({
    sql: `INSERT INTO forms (name, definition, active, created_at, updated_at) VALUES ('Newsletter', '{}', ?, 0, 0) RETURNING id`,
    args: [active ? 1 : 0],
  });
  return Number(r.rows[0]!.id);
}

async function setup(opts: Parameters<typeof makeApp>[0] = {}) {
  const t = await makeApp(opts);
  const site = await makeSite(t);
  const page = (path = '/') => `${ORIGIN}${path}`;
  const get = (params: Record<string, string | number | undefined> = {}, o: { origin?: string | null; ua?: string } = {}) =>
    focus(t, { k: site.public_key, u: page(), ...params }, o);
  return { t, site, page, get };
}

describe('focus items: API', () => {
  it('creates with defaults, reads, lists, updates and deletes', async () => {
    const { t, site } = await setup();
    const created = await t.json('POST', '/api/v1/focus-items', {
      name: 'Modal',
      site_id: site.id,
      style: { type: 'modal' },
      content: { kind: 'notice', heading: 'Hello' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Modal',
      site_id: site.id,
      active: true,
      is_sample: false,
      style: { type: 'modal', colors: { background: '#ffffff', text: '#1f2937', button: '#2563eb' } },
      content: { kind: 'notice', heading: 'Hello', body: '' },
      trigger: { type: 'load' },
      targeting: { urls: [], devices: [], visitor: 'all', identity: 'all', segment_ids: [] },
      frequency: { mode: 'once_per_session', days: null, stop_after_conversion: true, stop_after_close: false, max_displays: null },
      variants: [],
    });
    const id = created.body.id;
    const other = await createItem(t);
    expect((await t.json('GET', `/api/v1/focus-items/${id}`)).body).toEqual(created.body);

    const list = await t.json('GET', '/api/v1/focus-items?limit=1');
    expect(list.body.data.map((i: any) => i.id)).toEqual([id]);
    expect(list.body.has_more).toBe(true);
    const next = await t.json('GET', `/api/v1/focus-items?limit=1&cursor=${list.body.next_cursor}`);
    expect(next.body.data.map((i: any) => i.id)).toEqual([other.id]);
    expect((await t.json('GET', `/api/v1/focus-items?site_id=${site.id}`)).body.data.map((i: any) => i.id)).toEqual([id]);

    const patched = await t.json('PATCH', `/api/v1/focus-items/${id}`, {
      name: 'Renamed',
      active: false,
      variants: [
        { key: 'a', weight: 40 },
        { key: 'b', weight: 60, overrides: { content: { heading: 'Hi there' }, style: { colors: { button: '#ff0000' } } } },
      ],
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Renamed', active: false, style: { type: 'modal' }, variants: [{ key: 'a' }, { key: 'b' }] });
    expect((await t.json('GET', '/api/v1/focus-items?active=false')).body.data.map((i: any) => i.id)).toEqual([id]);
    expectError(await t.json('PATCH', `/api/v1/focus-items/${id}`, {}), 422, 'VALIDATION_FAILED');
    expectError(await t.json('PATCH', '/api/v1/focus-items/99999', { name: 'x' }), 404, 'NOT_FOUND');

    expect((await t.json('DELETE', `/api/v1/focus-items/${id}`)).body).toEqual({ id, deleted: true });
    expectError(await t.json('GET', `/api/v1/focus-items/${id}`), 404, 'NOT_FOUND');
    expectError(await t.json('DELETE', `/api/v1/focus-items/${id}`), 404, 'NOT_FOUND');
  });

  const fieldsOf = (r: { body: any }) => r.body.error.details.map((d: any) => d.field);

  it('refuses bad colours, selectors, weights, call-to-action URLs and references with 422 naming the field', async () => {
    const { t } = await setup();
    const cases: [Record<string, unknown>, string][] = [
      [{ style: { type: 'bar', colors: { background: 'red', text: '#111111', button: '#2563eb' } } }, 'style.colors.background'],
      [{ style: { type: 'modal', colors: { background: '#fff', text: '#111111', button: '#2563eb' } } }, 'style.colors.background'],
      [{ style: { type: 'slide_in', corner: 'middle' } }, 'style.corner'],
      [{ style: { type: 'popup' } }, 'style.type'],
      [{ trigger: { type: 'click', selector: 'a:hover' } }, 'trigger.selector'],
      [{ trigger: { type: 'click', selector: '<script>alert(1)</script>' } }, 'trigger.selector'],
      [{ trigger: { type: 'click', selector: 'a{color:red}' } }, 'trigger.selector'],
      [{ trigger: { type: 'click', selector: '#a'.repeat(150) } }, 'trigger.selector'],
      [{ trigger: { type: 'delay', seconds: -1 } }, 'trigger.seconds'],
      [{ trigger: { type: 'scroll', percent: 101 } }, 'trigger.percent'],
      [{ content: { kind: 'link', cta: { label: 'Go', url: 'javascript:alert(1)' } } }, 'content.cta.url'],
      [{ content: { kind: 'link', cta: { label: 'Go', url: 'data:text/html,<b>x</b>' } } }, 'content.cta.url'],
      [{ content: { kind: 'link', cta: { label: 'Go', url: '/relative' } } }, 'content.cta.url'],
      [{ content: { kind: 'link', cta: { label: 'Go', url: 'ftp://example.com/x' } } }, 'content.cta.url'],
      [{ content: { kind: 'notice', body: 'x'.repeat(2001) } }, 'content.body'],
      [{ content: { kind: 'form' } }, 'content.form_id'],
      [{ content: { kind: 'form', form_id: 4242 } }, 'content.form_id'],
      [{ site_id: 4242 }, 'site_id'],
      [{ targeting: { segment_ids: [4242] } }, 'targeting.segment_ids.0'],
      [{ targeting: { urls: [{ op: 'regex', value: '(?=lookahead)' }] } }, 'targeting.urls.0.value'],
      [{ targeting: { urls: [{ op: 'like', value: '/x' }] } }, 'targeting.urls.0.op'],
      [{ targeting: { devices: ['watch'] } }, 'targeting.devices.0'],
      [{ frequency: { mode: 'every_n_days' } }, 'frequency.days'],
      [{ frequency: { mode: 'every_page', days: 3 } }, 'frequency.days'],
      [{ frequency: { max_displays: 0 } }, 'frequency.max_displays'],
      [{ variants: [{ key: 'a', weight: 50 }, { key: 'b', weight: 40 }] }, 'variants'],
      [{ variants: [{ key: 'a', weight: 50 }, { key: 'a', weight: 50 }] }, 'variants'],
      [{ variants: [{ key: 'A', weight: 100 }] }, 'variants.0.key'],
      [
        { variants: [{ key: 'a', weight: 50 }, { key: 'b', weight: 50, overrides: { content: { cta: { label: 'x', url: 'javascript:x' } } } }] },
        'variants.1.overrides.content.cta.url',
      ],
      [
        { variants: [{ key: 'a', weight: 50 }, { key: 'b', weight: 50, overrides: { content: { kind: 'form' } } }] },
        'variants.1.overrides.content.form_id',
      ],
      [{ nonsense: true }, 'nonsense'],
    ];
    for (const [extra, field] of cases) {
      const r = await t.json('POST', '/api/v1/focus-items', base(extra));
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(fieldsOf(r), JSON.stringify(extra)).toContain(field);
    }
    expect((await t.json('GET', '/api/v1/focus-items')).body.data).toEqual([]);
    // A patch that makes the whole invalid is refused the same way.
    const item = await createItem(t);
    const r = await t.json('PATCH', `/api/v1/focus-items/${item.id}`, { content: { kind: 'link', cta: { label: 'x', url: 'javascript:void(0)' } } });
    expectError(r, 422, 'VALIDATION_FAILED');
    expect((await t.json('GET', `/api/v1/focus-items/${item.id}`)).body.content.cta.url).toBe('https://shop.example.com/sale');
  });

  it('accepts the selector subset and the valid shapes of every part', async () => {
    for (const s of ['#buy', '.cta', 'a.btn.primary', 'main > .pricing a', 'button[data-plan="pro"]', "a[href^='/pricing']", '#a, .b, c', '[data-x]', '*']) {
      expect(isSafeSelector(s), s).toBe(true);
    }
    for (const s of ['a:hover', 'a::before', '#a\\:b', 'a ~ b', 'a + b', 'a[href="x"', '', 'a,', 'div[x="<"]', 'a{}', '@import']) {
      expect(isSafeSelector(s), s).toBe(false);
    }
    const { t, site } = await setup();
    const form = await makeForm(t);
    const seg = await t.json('POST', '/api/v1/segments', { name: 'VIP', kind: 'static' });
    const r = await t.json('POST', '/api/v1/focus-items', {
      name: 'All parts',
      site_id: site.id,
      style: { type: 'slide_in', corner: 'top_left', colors: { background: '#000000', text: '#FFFFFF', button: '#abcdef' } },
      content: { kind: 'form', heading: 'Join', body: 'Line one\nLine two', form_id: form },
      trigger: { type: 'click', selector: 'main > .pricing a[data-plan="pro"]' },
      targeting: {
        urls: [{ op: 'regex', value: '^/blog/[0-9]+' }, { op: 'equals', value: 'https://shop.example.com/' }],
        devices: ['desktop', 'tablet'],
        visitor: 'returning',
        identity: 'known',
        segment_ids: [seg.body.id],
      },
      frequency: { mode: 'every_n_days', days: 7, stop_after_conversion: false, stop_after_close: true, max_displays: 5 },
      variants: [
        { key: 'a', weight: 70 },
        { key: 'b', weight: 30, overrides: { style: { type: 'modal' }, content: { kind: 'link', cta: { label: 'Go', url: 'https://x.example/' } } } },
      ],
    });
    expect(r.status).toBe(201);
    expect(r.body.variants[1].overrides.style).toEqual({ type: 'modal' });
  });
});

describe('GET /focus: who sees what', () => {
  it('answers the site\'s allowed origins with CORS, 404 for an unknown site, 403 for another origin, 422 for bad parameters', async () => {
    const { t, site, get } = await setup();
    await createItem(t);
    const ok = await get({ v: vid(1) });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(ok.headers.get('vary')).toContain('Origin');
    expect(ok.body.items).toHaveLength(1);

    const unknown = await focus(t, { k: 'pk_doesnotexist000', u: `${ORIGIN}/` });
    expectError(unknown, 404, 'NOT_FOUND');
    expect(unknown.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expectError(await get({}, { origin: 'https://evil.example.net' }), 403, 'ORIGIN_NOT_ALLOWED');
    expectError(await get({}, { origin: null }), 403, 'ORIGIN_NOT_ALLOWED');
    // Without Origin, the Referer's origin counts (as for /t).
    const viaReferer = await t.app.request(`/focus?k=${site.public_key}&u=${encodeURIComponent(ORIGIN + '/')}`, {
      headers: { referer: `${ORIGIN}/page`, 'user-agent': CHROME_UA },
    });
    expect(viaReferer.status).toBe(200);
    for (const bad of [{ u: 'javascript:alert(1)' }, { u: undefined }, { v: 'short' }, { d: 'watch' }, { pv: -1 }, { k: 'x' }]) {
      const r = await focus(t, { k: site.public_key, u: `${ORIGIN}/`, ...bad });
      expectError(r, 422, 'VALIDATION_FAILED');
    }
  });

  it('returns only the public parts, with no targeting and nothing about the contact', async () => {
    const { t, site, get } = await setup();
    const form = await makeForm(t);
    const item = await createItem(t, {
      content: { kind: 'form', heading: 'Join', body: 'Monthly news', form_id: form },
      trigger: { type: 'scroll', percent: 50 },
      targeting: { identity: 'known' },
      frequency: { mode: 'every_n_days', days: 3, max_displays: 2 },
    });
    await track(t, { k: site.public_key, v: vid(1), e: [], id: { email: 'ada@example.com', sig: sign(site.secret, 'ada@example.com') } });
    const r = await get({ v: vid(1) });
    expect(r.body).toEqual({
      items: [
        {
          id: item.id,
          variant: 'a',
          style: { type: 'bar', position: 'top', sticky: true, colors: { background: '#ffffff', text: '#111111', button: '#2563eb' } },
          content: { kind: 'form', heading: 'Join', body: 'Monthly news', form_id: form },
          trigger: { type: 'scroll', percent: 50 },
          frequency: { mode: 'every_n_days', days: 3, stop_after_conversion: true, stop_after_close: false, max_displays: 2 },
        },
      ],
    });
    expect(JSON.stringify(r.body)).not.toContain('ada@');
  });

  it('applies URL rules: equals, contains, starts_with and regex, on the path or the whole URL', async () => {
    const { t, page, get } = await setup();
    const mk = async (urls: { op: string; value: string }[]) => (await createItem(t, { targeting: { urls } })).id;
    const all = await mk([]);
    const eqPath = await mk([{ op: 'equals', value: '/pricing' }]);
    const eqFull = await mk([{ op: 'equals', value: 'https://shop.example.com/pricing' }]);
    const contains = await mk([{ op: 'contains', value: 'SALE' }]);
    const starts = await mk([{ op: 'starts_with', value: '/blog/' }]);
    const regexPath = await mk([{ op: 'regex', value: '^/blog/[0-9]+$' }]);
    const regexFull = await mk([{ op: 'regex', value: '^https://shop\\.example\\.com/docs' }]);
    const anyOf = await mk([{ op: 'equals', value: '/a' }, { op: 'regex', value: 'b$' }]);
    const at = async (path: string) => ids(await get({ u: page(path) }));

    expect(await at('/pricing')).toEqual([all, eqPath, eqFull]);
    expect(await at('/pricing#plans')).toEqual([all, eqPath, eqFull]);
    expect(await at('/pricing?x=1')).toEqual([all]);
    expect(await at('/spring-sale')).toEqual([all, contains]);
    expect(await at('/blog/123')).toEqual([all, starts, regexPath]);
    expect(await at('/blog/hello')).toEqual([all, starts]);
    expect(await at('/docs/start')).toEqual([all, regexFull]);
    expect(await at('/a')).toEqual([all, anyOf]);
    expect(await at('/ab')).toEqual([all, anyOf]);
    expect(await at('/other')).toEqual([all]);
  });

  it('keeps to its site, skips inactive items and forms that are off', async () => {
    const { t, site, get } = await setup();
    const other = await makeSite(t, { name: 'Other' });
    const everywhere = await createItem(t);
    const here = await createItem(t, { site_id: site.id });
    await createItem(t, { site_id: other.id });
    await createItem(t, { active: false });
    const offForm = await makeForm(t, false);
    await createItem(t, { content: { kind: 'form', form_id: offForm } });
    expect(ids(await get())).toEqual([everywhere.id, here.id]);
    // Edits show at once in this process.
    await t.json('PATCH', `/api/v1/focus-items/${here.id}`, { active: false });
    expect(ids(await get())).toEqual([everywhere.id]);
  });

  it('targets device types, from the d parameter or the user agent', async () => {
    const { t, get } = await setup();
    const any = await createItem(t);
    const mobile = await createItem(t, { targeting: { devices: ['mobile'] } });
    const big = await createItem(t, { targeting: { devices: ['desktop', 'tablet'] } });
    expect(ids(await get({ d: 'mobile' }))).toEqual([any.id, mobile.id]);
    expect(ids(await get({ d: 'desktop' }))).toEqual([any.id, big.id]);
    expect(ids(await get({ d: 'tablet' }))).toEqual([any.id, big.id]);
    expect(ids(await get({}, { ua: IPHONE_UA }))).toEqual([any.id, mobile.id]);
    expect(ids(await get({}, { ua: CHROME_UA }))).toEqual([any.id, big.id]);
  });

  it('tells new from returning visitors', async () => {
    const { t, site, page, get } = await setup();
    const fresh = await createItem(t, { targeting: { visitor: 'new' } });
    const back = await createItem(t, { targeting: { visitor: 'returning' } });
    const pv = (path: string) => ({ t: 'pv', u: page(path) });
    // Never seen, or one page view today: new.
    expect(ids(await get({ v: vid(1) }))).toEqual([fresh.id]);
    expect(ids(await get({}))).toEqual([fresh.id]);
    await track(t, { k: site.public_key, v: vid(1), e: [pv('/')] });
    expect(ids(await get({ v: vid(1) }))).toEqual([fresh.id]);
    // A second page view: returning.
    await track(t, { k: site.public_key, v: vid(1), e: [pv('/next')] });
    expect(ids(await get({ v: vid(1) }))).toEqual([back.id]);
    // First seen before today: returning, whatever the count.
    await track(t, { k: site.public_key, v: vid(2), e: [pv('/')] });
    expect(ids(await get({ v: vid(2) }))).toEqual([fresh.id]);
    await t.client.execute({ sql: 'UPDATE visitors SET first_seen_at = first_seen_at - 86400000 WHERE uid = ?', args: [vid(2)] });
    expect(ids(await get({ v: vid(2) }))).toEqual([back.id]);
  });

  it('tells anonymous from known visitors, and targets segment members', async () => {
    const { t, site, get } = await setup();
    const anon = await createItem(t, { targeting: { identity: 'anonymous' } });
    const known = await createItem(t, { targeting: { identity: 'known' } });
    const seg = await t.json('POST', '/api/v1/segments', { name: 'VIP', kind: 'static' });
    const seg2 = await t.json('POST', '/api/v1/segments', { name: 'Other', kind: 'static' });
    const vip = await createItem(t, { targeting: { segment_ids: [seg2.body.id, seg.body.id] } });
    const identify = (n: number, email: string) =>
      track(t, { k: site.public_key, v: vid(n), e: [], id: { email, sig: sign(site.secret, email) } });

    expect(ids(await get({ v: vid(1) }))).toEqual([anon.id]);
    expect(ids(await get({}))).toEqual([anon.id]);
    await identify(1, 'ada@example.com');
    await identify(2, 'bob@example.com');
    expect(ids(await get({ v: vid(1) }))).toEqual([known.id]);
    const ada = await t.client.execute({ sql: 'SELECT contact_id FROM visitors WHERE uid = ?', args: [vid(1)] });
    const put = await t.json('PUT', `/api/v1/segments/${seg.body.id}/members/${ada.rows[0]!.contact_id}`);
    expect(put.status).toBe(200);
    expect(ids(await get({ v: vid(1) }))).toEqual([known.id, vip.id]);
    // Another known visitor outside the segment, and an anonymous one, do not see it.
    expect(ids(await get({ v: vid(2) }))).toEqual([known.id]);
    expect(ids(await get({ v: vid(3) }))).toEqual([anon.id]);
  });

  it('shows a page-view triggered item once the count is reached (the browser\'s count, else the server\'s)', async () => {
    const { t, site, page, get } = await setup();
    const third = await createItem(t, { trigger: { type: 'pageviews', count: 3 } });
    expect(ids(await get({ v: vid(1), pv: 2 }))).toEqual([]);
    expect(ids(await get({ v: vid(1), pv: 3 }))).toEqual([third.id]);
    await track(t, { k: site.public_key, v: vid(2), e: [{ t: 'pv', u: page('/') }, { t: 'pv', u: page('/2') }] });
    expect(ids(await get({ v: vid(2) }))).toEqual([]);
    await track(t, { k: site.public_key, v: vid(2), e: [{ t: 'pv', u: page('/3') }] });
    expect(ids(await get({ v: vid(2) }))).toEqual([third.id]);
  });

  it('rate limits per client', async () => {
    const { get } = await setup({ env: { PUBLIC_RATE_LIMIT: '2' } });
    expect((await get()).status).toBe(200);
    expect((await get()).status).toBe(200);
    const r = await get();
    expectError(r, 429, 'RATE_LIMITED');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('GET /focus: A/B variants', () => {
  it('gives each visitor one variant for good, with that variant\'s overrides', async () => {
    const { t, get } = await setup();
    const item = await createItem(t, {
      variants: [
        { key: 'a', weight: 50 },
        { key: 'b', weight: 50, overrides: { content: { heading: 'Variant B' }, style: { type: 'modal', colors: { button: '#ff0000' } } } },
      ],
    });
    const seen = new Map<string, any>();
    for (let i = 0; i < 40; i++) {
      const first = (await get({ v: vid(i) })).body.items[0];
      const again = (await get({ v: vid(i) })).body.items[0];
      expect(again).toEqual(first);
      seen.set(first.variant, first);
    }
    expect([...seen.keys()].sort()).toEqual(['a', 'b']);
    expect(seen.get('a')).toMatchObject({ id: item.id, content: { heading: 'Spring sale' }, style: { type: 'bar' } });
    expect(seen.get('b')).toMatchObject({
      id: item.id,
      content: { kind: 'link', heading: 'Variant B', body: '20% off', cta: { label: 'Shop now' } },
      style: { type: 'modal', colors: { background: '#ffffff', text: '#111111', button: '#ff0000' } },
    });
    expect(seen.get('b').style.position).toBeUndefined();
  });

  it('splits traffic close to the weights, deterministically', async () => {
    const variants = [
      { key: 'a', weight: 70 },
      { key: 'b', weight: 20 },
      { key: 'c', weight: 10 },
      { key: 'd', weight: 0 },
    ];
    for (const itemId of [1, 2, 77]) {
      const counts: Record<string, number> = { a: 0, b: 0, c: 0, d: 0 };
      const n = 20_000;
      for (let i = 0; i < n; i++) counts[chooseVariant(variants, itemId, `v${i.toString(36)}-${itemId}abcdefghijkl`)]!++;
      expect(Math.abs(counts.a! / n - 0.7)).toBeLessThan(0.02);
      expect(Math.abs(counts.b! / n - 0.2)).toBeLessThan(0.02);
      expect(Math.abs(counts.c! / n - 0.1)).toBeLessThan(0.02);
      expect(counts.d).toBe(0);
    }
    expect(chooseVariant(variants, 5, vid(9))).toBe(chooseVariant(variants, 5, vid(9)));
    // The same visitor is not in the same bucket for every item.
    const perItem = new Set(Array.from({ length: 50 }, (_, i) => chooseVariant([{ key: 'a', weight: 50 }, { key: 'b', weight: 50 }], i, vid(1))));
    expect(perItem.size).toBe(2);

    // And end to end, over real visitor ids.
    const { t, get } = await setup({ env: { PUBLIC_RATE_LIMIT: '100000' } });
    await createItem(t, { variants: [{ key: 'a', weight: 25 }, { key: 'b', weight: 75 }] });
    let b = 0;
    const n = 400;
    for (let i = 0; i < n; i++) if ((await get({ v: `${crypto.randomUUID().replaceAll('-', '')}` })).body.items[0].variant === 'b') b++;
    expect(b / n).toBeGreaterThan(0.65);
    expect(b / n).toBeLessThan(0.85);
  });
});

describe('GET /api/v1/focus-items/{id}/stats', () => {
  it('counts views, clicks, closes and submissions per variant, with conversion rates, within from/to', async () => {
    let clock = Date.parse('2026-03-10T12:00:00Z');
    const { t, site, page } = await setup({ now: () => clock });
    const link = await createItem(t, { variants: [{ key: 'a', weight: 50 }, { key: 'b', weight: 50 }] });
    const form = await makeForm(t);
    const formItem = await createItem(t, { content: { kind: 'form', form_id: form } });
    const ev = (type: 'fv' | 'fc' | 'fx', focus_id: number | string, variant?: string) => ({
      t: type,
      u: page('/'),
      p: variant ? { focus_id, variant } : { focus_id },
    });
    const send = async (n: number, e: unknown[]) => {
      const r = await track(t, { k: site.public_key, v: vid(n), e });
      expect(r.status).toBe(202);
    };
    await send(1, [ev('fv', link.id, 'a'), ev('fc', link.id, 'a')]);
    await send(2, [ev('fv', link.id, 'a'), ev('fx', link.id, 'a')]);
    await send(3, [ev('fv', link.id, 'a')]);
    await send(4, [ev('fv', link.id, 'b'), ev('fc', link.id, 'b'), ev('fc', link.id, 'b')]);
    await send(5, [ev('fv', String(link.id), 'b')]); // the id as a string counts too
    await send(6, [ev('fv', formItem.id, 'a'), ev('fv', formItem.id, 'a'), ev('fv', formItem.id, 'a'), ev('fv', formItem.id, 'a')]);
    await send(7, [ev('fv', 999_999, 'a')]); // another item
    const submit = (props: Record<string, unknown>) =>
      t.client.execute({
        sql: `INSERT INTO events (site_id, type, props, created_at) VALUES (?, 'form_submit', ?, ?)`,
        args: [site.id, JSON.stringify({ form_id: form, submission_id: 1, ...props }), clock],
      });
    await submit({ focus_id: formItem.id, focus_variant: 'a' });
    await submit({ focus_id: formItem.id });
    await submit({}); // the same form, not through the focus item
    // Later: outside a window ending on the 10th.
    clock = Date.parse('2026-03-12T08:00:00Z');
    await send(8, [ev('fv', link.id, 'a'), ev('fc', link.id, 'a')]);

    const all = await t.json('GET', `/api/v1/focus-items/${link.id}/stats`);
    expect(all.status).toBe(200);
    expect(all.body).toEqual({
      id: link.id,
      from: null,
      to: null,
      kind: 'link',
      totals: { views: 6, clicks: 4, closes: 1, submissions: 0, conversions: 4, conversion_rate: 0.6667 },
      variants: [
        { key: 'a', weight: 50, kind: 'link', views: 4, clicks: 2, closes: 1, submissions: 0, conversions: 2, conversion_rate: 0.5 },
        { key: 'b', weight: 50, kind: 'link', views: 2, clicks: 2, closes: 0, submissions: 0, conversions: 2, conversion_rate: 1 },
      ],
    });
    const window = await t.json('GET', `/api/v1/focus-items/${link.id}/stats?from=2026-03-10&to=2026-03-10`);
    expect(window.body.from).toBe('2026-03-10T00:00:00.000Z');
    expect(window.body.to).toBe('2026-03-11T00:00:00.000Z');
    expect(window.body.totals).toMatchObject({ views: 5, clicks: 3 });
    expect((await t.json('GET', `/api/v1/focus-items/${link.id}/stats?from=2026-03-11T00:00:00Z`)).body.totals).toMatchObject({ views: 1, clicks: 1 });

    const f = await t.json('GET', `/api/v1/focus-items/${formItem.id}/stats`);
    expect(f.body.totals).toEqual({ views: 4, clicks: 0, closes: 0, submissions: 2, conversions: 2, conversion_rate: 0.5 });
    expect(f.body.variants).toEqual([
      { key: 'a', weight: 100, kind: 'form', views: 4, clicks: 0, closes: 0, submissions: 1, conversions: 1, conversion_rate: 0.25 },
      { key: 'none', weight: null, kind: 'form', views: 0, clicks: 0, closes: 0, submissions: 1, conversions: 1, conversion_rate: 0 },
    ]);

    expectError(await t.json('GET', `/api/v1/focus-items/${link.id}/stats?from=yesterday`), 422, 'VALIDATION_FAILED');
    expectError(await t.json('GET', `/api/v1/focus-items/${link.id}/stats?from=2026-03-10&to=2026-03-01`), 422, 'VALIDATION_FAILED');
    expectError(await t.json('GET', '/api/v1/focus-items/999999/stats'), 404, 'NOT_FOUND');
  });

  it('stores focus views, clicks and closes from /t as focus_* events', async () => {
    const { t, site, page } = await setup();
    const item = await createItem(t);
    await track(t, {
      k: site.public_key,
      v: vid(1),
      e: ['fv', 'fc', 'fx'].map((type) => ({ t: type, u: page('/'), p: { focus_id: item.id, variant: 'a' } })),
    });
    const rows = await t.client.execute('SELECT type, props FROM events ORDER BY id');
    expect(rows.rows.map((r) => [r.type, JSON.parse(String(r.props))])).toEqual([
      ['focus_view', { focus_id: item.id, variant: 'a' }],
      ['focus_click', { focus_id: item.id, variant: 'a' }],
      ['focus_close', { focus_id: item.id, variant: 'a' }],
    ]);
  });
});

describe('focus items: HTTP contract', () => {
  routeContract([
    { method: 'POST', path: '/api/v1/focus-items', body: base() },
    { method: 'GET', path: '/api/v1/focus-items' },
    { method: 'GET', path: '/api/v1/focus-items/1', idTemplate: '/api/v1/focus-items/{id}' },
    { method: 'PATCH', path: '/api/v1/focus-items/1', body: { name: 'x' }, idTemplate: '/api/v1/focus-items/{id}' },
    { method: 'DELETE', path: '/api/v1/focus-items/1', idTemplate: '/api/v1/focus-items/{id}' },
    { method: 'GET', path: '/api/v1/focus-items/1/stats', idTemplate: '/api/v1/focus-items/{id}/stats' },
  ]);
});
