import { describe, expect, it } from 'vitest';
import { makeApp, expectError, type TestApp } from './helpers';
import { makeSite, track, vid } from './tracking-helpers';
import { runReactions } from '../api/core/spine/run';
import { settleDeferred } from '../api/routes/defer';
import { classifyVisit, pagePath } from '../api/core/reports/rollups/classify';
import { rebuildRollups } from '../api/core/reports/rollups/rebuild';
import { signToken } from '../api/core/email/tokens';

// The traffic, forms, focus, email and campaign reports, on small fixed timelines sent through
// the real POST /t (and POST /f/:id), or written to the log as their writers would, then
// counted by the spine. Every expected figure is worked out by hand in the comment beside it.

const SHOP = 'https://shop.example.com';
const BLOG = 'https://blog.example.com';
const at = (iso: string) => Date.parse(iso);

async function report(t: TestApp, name: string, q: Record<string, string | number>) {
  const r = await t.json('GET', `/api/v1/reports/${name}?${new URLSearchParams(Object.entries(q).map(([k, v]) => [k, String(v)]))}`);
  if (r.status !== 200) throw new Error(`${name}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { rows: Record<string, any>[]; totals: Record<string, any>; columns: { key: string }[] };
}

async function settle(t: TestApp) {
  await settleDeferred();
  await runReactions(t.ctx);
}

describe('classifyVisit', () => {
  it.each([
    ['utm_medium cpc', `${SHOP}/?utm_source=google&utm_medium=cpc`, null, { channel: 'paid', source: 'google', medium: 'cpc' }],
    ['utm_medium paid_social', `${SHOP}/?utm_source=fb&utm_medium=paid_social`, null, { channel: 'paid', source: 'fb' }],
    ['utm_medium email', `${SHOP}/?utm_source=newsletter&utm_medium=email&utm_campaign=june`, null, { channel: 'email', campaign: 'june' }],
    ['google', `${SHOP}/`, 'https://www.google.co.uk/', { channel: 'organic_search', source: 'google.co.uk', referrer: 'www.google.co.uk' }],
    ['duckduckgo', `${SHOP}/`, 'https://duckduckgo.com/', { channel: 'organic_search', source: 'duckduckgo.com' }],
    ['t.co', `${SHOP}/`, 'https://t.co/abc', { channel: 'social', source: 't.co' }],
    ['m.facebook.com', `${SHOP}/`, 'https://m.facebook.com/', { channel: 'social', source: 'm.facebook.com' }],
    ['another site', `${SHOP}/`, 'https://news.example.org/x', { channel: 'referral', source: 'news.example.org', referrer: 'news.example.org' }],
    ['its own pages', `${SHOP}/b`, `${SHOP}/a`, { channel: 'direct', source: null, referrer: null }],
    ['www. of its own host', `${SHOP}/b`, 'https://www.shop.example.com/a', { channel: 'direct', referrer: null }],
    ['nothing', `${SHOP}/`, null, { channel: 'direct', source: null, medium: null, campaign: null, referrer: null }],
    ['an unknown medium', `${SHOP}/?utm_source=partner&utm_medium=banner`, null, { channel: 'other', source: 'partner' }],
  ])('%s', (_, url, ref, expected) => {
    expect(classifyVisit(url, ref)).toMatchObject(expected);
  });

  it('reads UTM from the props the tracker stored before the URL', () => {
    expect(classifyVisit(`${SHOP}/`, null, { utm_medium: 'email', utm_source: 'nl' })).toMatchObject({ channel: 'email', source: 'nl' });
  });

  it('takes the path of a page, without query or fragment', () => {
    expect(pagePath(`${SHOP}/a/b?x=1#top`)).toBe('/a/b');
    expect(pagePath(SHOP)).toBe('/');
    expect(pagePath('javascript:alert(1)')).toBeNull();
    expect(pagePath(`${SHOP}/${'x'.repeat(600)}`)).toHaveLength(500);
  });
});

/**
 * The timeline (all times UTC, 2026-06-01 is a Monday). Site A is shop.example.com, site B
 * blog.example.com. Visits:
 *   v1  10:00 /?utm_source=google&utm_medium=cpc     paid, source google        ┐ S1: 2 views
 *       10:10 /pricing                                                          ┘
 *       10:50 / (referrer its own /pricing)           40 min later: S2, direct    S2: 1 view (bounce)
 *   v2  10:20 /blog  (referrer www.google.com)        organic_search, google.com  1 view (bounce)
 *   v3  11:05 / (referrer news.example.org)           referral                    ┐
 *       11:06 /about                                                            │ 3 views: exactly 30 min
 *       11:36 /pricing                                30 min after 11:06         ┘ is no new visit
 *   v4  11:30 /?utm_source=newsletter&utm_medium=email&utm_campaign=june  email  1 view (bounce)
 *   --  11:40 / without a visitor (consent mode): a page view, no visit
 *   v6  10:05 blog / (site B)                         direct                      1 view (bounce)
 *  June 2:
 *   v5  09:00 /                                       direct                      1 view (bounce)
 *   v1  09:10 /pricing (referrer t.co)                social                      1 view (bounce)
 */
async function timeline() {
  let clock = at('2026-06-01T10:00:00Z');
  const t = await makeApp({ now: () => clock });
  const a = await makeSite(t, { name: 'Shop' });
  const b = await makeSite(t, { name: 'Blog', allowed_origins: [BLOG] });
  const pv = async (when: string, site: typeof a, v: number | null, u: string, r?: string) => {
    clock = at(`2026-06-${when}:00Z`);
    const origin = site === a ? SHOP : BLOG;
    const res = await track(t, { k: site.public_key, v: v === null ? null : vid(v), e: [{ t: 'pv', u: `${origin}${u}`, ...(r && { r }) }] }, { origin });
    expect(res.status).toBe(202);
  };
  await pv('01T10:00', a, 1, '/?utm_source=google&utm_medium=cpc');
  await pv('01T10:05', b, 6, '/');
  await pv('01T10:10', a, 1, '/pricing', `${SHOP}/`);
  await pv('01T10:20', a, 2, '/blog', 'https://www.google.com/');
  await pv('01T10:50', a, 1, '/', `${SHOP}/pricing`);
  await pv('01T11:05', a, 3, '/', 'https://news.example.org/x');
  await pv('01T11:06', a, 3, '/about', `${SHOP}/`);
  await pv('01T11:30', a, 4, '/?utm_source=newsletter&utm_medium=email&utm_campaign=june');
  await pv('01T11:36', a, 3, '/pricing', `${SHOP}/about`);
  await pv('01T11:40', a, null, '/');
  await pv('02T09:00', a, 5, '/');
  await pv('02T09:10', a, 1, '/pricing', 'https://t.co/xyz');
  await settle(t);
  return { t, a, b, setClock: (ms: number) => (clock = ms) };
}

describe('the traffic report', () => {
  it('counts visitors, visits, page views and bounces per day; totals count visitors once', async () => {
    const { t, a } = await timeline();
    const r = await report(t, 'traffic', { from: '2026-06-01', to: '2026-06-02', site: a.id });
    expect(r.columns.map((c) => c.key)).toEqual(['bucket', 'visitors', 'sessions', 'pageviews', 'bounce_rate', 'views_per_session']);
    expect(r.rows).toEqual([
      // June 1: visits v1 S1 (2 views), v1 S2 (1), v2 (1), v3 (3), v4 (1) = 5 of visitors v1–v4 = 4;
      // page views 2+1+1+3+1 = 8 in visits, plus the one without a visitor = 9;
      // bounces S2, v2, v4 = 3 → 3/5 = 0.6; views per visit 8/5 = 1.6.
      { bucket: '2026-06-01T00:00:00.000Z', visitors: 4, sessions: 5, pageviews: 9, bounce_rate: 0.6, views_per_session: 1.6 },
      // June 2: v5 and v1, one view each: 2 visitors, 2 visits, 2 views, both bounce.
      { bucket: '2026-06-02T00:00:00.000Z', visitors: 2, sessions: 2, pageviews: 2, bounce_rate: 1, views_per_session: 1 },
    ]);
    // Visitors v1–v5 = 5 over the period (v1 came both days: not 4 + 2 = 6); 7 visits; 11 views;
    // 5 bounces of 7 = 0.7143; 10 views in visits / 7 = 1.4286.
    expect(r.totals).toEqual({ visitors: 5, sessions: 7, pageviews: 11, bounce_rate: 0.7143, views_per_session: 1.4286 });

    // Both sites: v6's one-view visit on site B joins June 1: 6 visits of 5 visitors, 10 views, 4 bounces.
    const all = await report(t, 'traffic', { from: '2026-06-01', to: '2026-06-02' });
    expect(all.rows[0]).toEqual({ bucket: '2026-06-01T00:00:00.000Z', visitors: 5, sessions: 6, pageviews: 10, bounce_rate: 0.6667, views_per_session: 1.5 });
    expect(all.totals).toMatchObject({ visitors: 6, sessions: 8, pageviews: 12 });
  });

  it('keeps the visits as sessions: entry page, channel, sources, page views', async () => {
    const { t, a } = await timeline();
    const s = await t.client.execute({
      sql: `SELECT v.uid, s.entry_page, s.channel, s.source, s.medium, s.campaign, s.referrer, s.pageviews, s.started_at, s.last_at
        FROM sessions s JOIN visitors v ON v.id = s.visitor_id WHERE s.site_id = ? ORDER BY s.id`,
      args: [a.id],
    });
    const min = (iso: string) => at(`2026-06-${iso}:00Z`);
    expect(s.rows.map((r) => ({ ...r }))).toEqual([
      { uid: vid(1), entry_page: '/', channel: 'paid', source: 'google', medium: 'cpc', campaign: null, referrer: null, pageviews: 2, started_at: min('01T10:00'), last_at: min('01T10:10') },
      { uid: vid(2), entry_page: '/blog', channel: 'organic_search', source: 'google.com', medium: null, campaign: null, referrer: 'www.google.com', pageviews: 1, started_at: min('01T10:20'), last_at: min('01T10:20') },
      { uid: vid(1), entry_page: '/', channel: 'direct', source: null, medium: null, campaign: null, referrer: null, pageviews: 1, started_at: min('01T10:50'), last_at: min('01T10:50') },
      { uid: vid(3), entry_page: '/', channel: 'referral', source: 'news.example.org', medium: null, campaign: null, referrer: 'news.example.org', pageviews: 3, started_at: min('01T11:05'), last_at: min('01T11:36') },
      { uid: vid(4), entry_page: '/', channel: 'email', source: 'newsletter', medium: 'email', campaign: 'june', referrer: null, pageviews: 1, started_at: min('01T11:30'), last_at: min('01T11:30') },
      { uid: vid(5), entry_page: '/', channel: 'direct', source: null, medium: null, campaign: null, referrer: null, pageviews: 1, started_at: min('02T09:00'), last_at: min('02T09:00') },
      { uid: vid(1), entry_page: '/pricing', channel: 'social', source: 't.co', medium: null, campaign: null, referrer: 't.co', pageviews: 1, started_at: min('02T09:10'), last_at: min('02T09:10') },
    ]);
  });

  it('filters visits by UTM: page views are then those of the matching visits', async () => {
    const { t, a } = await timeline();
    // utm_source=google matches v1's paid visit S1 only (v2's source is the referrer's google.com): 1 visit of 2 views.
    const r = await report(t, 'traffic', { from: '2026-06-01', to: '2026-06-02', site: a.id, utm_source: 'google' });
    expect(r.rows[0]).toEqual({ bucket: '2026-06-01T00:00:00.000Z', visitors: 1, sessions: 1, pageviews: 2, bounce_rate: 0, views_per_session: 2 });
    expect(r.rows[1]).toEqual({ bucket: '2026-06-02T00:00:00.000Z', visitors: 0, sessions: 0, pageviews: 0, bounce_rate: null, views_per_session: null });
    expect(r.totals).toEqual({ visitors: 1, sessions: 1, pageviews: 2, bounce_rate: 0, views_per_session: 2 });
    // medium email + campaign june: v4's visit.
    const e = await report(t, 'traffic', { from: '2026-06-01', to: '2026-06-02', utm_medium: 'email', utm_campaign: 'june' });
    expect(e.totals).toEqual({ visitors: 1, sessions: 1, pageviews: 1, bounce_rate: 1, views_per_session: 1 });
  });

  it('cuts the period into hours, weeks and months', async () => {
    const { t, a } = await timeline();
    const h = await report(t, 'traffic', { from: '2026-06-01', to: '2026-06-01', site: a.id, interval: 'hour' });
    expect(h.rows).toHaveLength(24);
    // 10:00–11:00: visits v1 S1, v2, v1 S2 (3, of visitors v1 and v2); views 10:00, 10:10, 10:20, 10:50 = 4;
    // bounces v2 and S2: 2/3; views in those visits 2+1+1 = 4 → 4/3.
    expect(h.rows[10]).toEqual({ bucket: '2026-06-01T10:00:00.000Z', visitors: 2, sessions: 3, pageviews: 4, bounce_rate: 0.6667, views_per_session: 1.3333 });
    // 11:00–12:00: visits v3 (3 views, two of them at 11:06 and 11:36) and v4; views 11:05, 11:06, 11:30, 11:36
    // and the one without a visitor at 11:40 = 5; bounces v4: 1/2; views in those visits (3+1)/2.
    expect(h.rows[11]).toEqual({ bucket: '2026-06-01T11:00:00.000Z', visitors: 2, sessions: 2, pageviews: 5, bounce_rate: 0.5, views_per_session: 2 });
    expect(h.rows.filter((r, i) => i !== 10 && i !== 11).every((r) => r.sessions === 0 && r.pageviews === 0)).toBe(true);
    expect(h.totals).toMatchObject({ visitors: 4, sessions: 5, pageviews: 9 });

    // Weeks from Monday: 25 May, 1 June (everything), 8 June.
    const w = await report(t, 'traffic', { from: '2026-05-25', to: '2026-06-14', site: a.id, interval: 'week' });
    expect(w.rows.map((r) => [r.bucket, r.visitors, r.sessions, r.pageviews])).toEqual([
      ['2026-05-25T00:00:00.000Z', 0, 0, 0],
      ['2026-06-01T00:00:00.000Z', 5, 7, 11],
      ['2026-06-08T00:00:00.000Z', 0, 0, 0],
    ]);
    const m = await report(t, 'traffic', { from: '2026-05-01', to: '2026-06-30', site: a.id, interval: 'month' });
    expect(m.rows.map((r) => [r.bucket, r.visitors, r.sessions, r.pageviews])).toEqual([
      ['2026-05-01T00:00:00.000Z', 0, 0, 0],
      ['2026-06-01T00:00:00.000Z', 5, 7, 11],
    ]);
  });

  it('answers CSV with Accept: text/csv, with a total line', async () => {
    const { t, a } = await timeline();
    const res = await t.call('GET', `/api/v1/reports/traffic?from=2026-06-01&to=2026-06-02&site=${a.id}`, undefined, { headers: { accept: 'text/csv' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await res.text()).toBe(
      [
        'bucket,visitors,sessions,pageviews,bounce_rate,views_per_session',
        '2026-06-01T00:00:00.000Z,4,5,9,0.6,1.6',
        '2026-06-02T00:00:00.000Z,2,2,2,1,1',
        'total,5,7,11,0.7143,1.4286',
        '',
      ].join('\r\n'),
    );
  });

  it('refuses what it does not take', async () => {
    const { t } = await timeline();
    expectError(await t.json('GET', '/api/v1/reports/traffic?segment=1'), 400, 'BAD_REQUEST');
    expectError(await t.json('GET', '/api/v1/reports/traffic?tz=Nowhere/City'), 422, 'VALIDATION_FAILED');
    expectError(await t.json('GET', '/api/v1/reports/traffic-breakdown?by=password'), 422, 'VALIDATION_FAILED');
    expectError(await t.json('GET', '/api/v1/reports/pages?limit=1001'), 422, 'VALIDATION_FAILED');
    expectError(await t.json('GET', '/api/v1/reports/pages?limit=0'), 422, 'VALIDATION_FAILED');
    expectError(await t.json('GET', '/api/v1/reports/pages?limit=1e2'), 422, 'VALIDATION_FAILED');
  });
});

describe('the traffic-breakdown report', () => {
  it('groups visits by channel, most visits first, with totals over all visits', async () => {
    const { t, a } = await timeline();
    const r = await report(t, 'traffic-breakdown', { from: '2026-06-01', to: '2026-06-02', site: a.id, by: 'channel' });
    expect(r.rows).toEqual([
      // direct: v1's S2 and v5's visit, one view each.
      { key: 'direct', visitors: 2, sessions: 2, pageviews: 2, bounce_rate: 1 },
      // Then one visit each, by key.
      { key: 'email', visitors: 1, sessions: 1, pageviews: 1, bounce_rate: 1 },
      { key: 'organic_search', visitors: 1, sessions: 1, pageviews: 1, bounce_rate: 1 },
      { key: 'paid', visitors: 1, sessions: 1, pageviews: 2, bounce_rate: 0 },
      { key: 'referral', visitors: 1, sessions: 1, pageviews: 3, bounce_rate: 0 },
      { key: 'social', visitors: 1, sessions: 1, pageviews: 1, bounce_rate: 1 },
    ]);
    expect(r.totals).toEqual({ visitors: 5, sessions: 7, pageviews: 10, bounce_rate: 0.7143 });
  });

  it('groups by entry page, source and referrer; null is the visits without one; limit cuts the list', async () => {
    const { t, a } = await timeline();
    const q = { from: '2026-06-01', to: '2026-06-02', site: a.id };
    // Entries on /: v1 S1 (2 views), v1 S2 (1), v3 (3), v4 (1), v5 (1): 5 visits of 4 visitors, 8 views, 3 bounces.
    expect((await report(t, 'traffic-breakdown', { ...q, by: 'entry_page' })).rows).toEqual([
      { key: '/', visitors: 4, sessions: 5, pageviews: 8, bounce_rate: 0.6 },
      { key: '/blog', visitors: 1, sessions: 1, pageviews: 1, bounce_rate: 1 },
      { key: '/pricing', visitors: 1, sessions: 1, pageviews: 1, bounce_rate: 1 },
    ]);
    // No source: the two direct visits; null sorts first among equals... by visits: null has 2.
    const src = await report(t, 'traffic-breakdown', { ...q, by: 'source', limit: 2 });
    expect(src.rows).toEqual([
      { key: null, visitors: 2, sessions: 2, pageviews: 2, bounce_rate: 1 },
      { key: 'google', visitors: 1, sessions: 1, pageviews: 2, bounce_rate: 0 },
    ]);
    expect(src.totals.sessions).toBe(7);
    const ref = await report(t, 'traffic-breakdown', { ...q, by: 'referrer' });
    expect(ref.rows.map((r) => [r.key, r.sessions])).toEqual([
      [null, 4],
      ['news.example.org', 1],
      ['t.co', 1],
      ['www.google.com', 1],
    ]);
  });
});

describe('the pages report', () => {
  it('lists pages by page views, with entries there and their bounce rate', async () => {
    const { t, a } = await timeline();
    const r = await report(t, 'pages', { from: '2026-06-01', to: '2026-06-02', site: a.id });
    expect(r.rows).toEqual([
      // /: v1 10:00 and 10:50, v3 11:05, v4 11:30, the one without a visitor 11:40, v5 on June 2 = 6 views;
      // entries: v1 S1, v1 S2, v3, v4, v5 = 5, of which S2, v4, v5 bounced: 0.6.
      { page: '/', pageviews: 6, entries: 5, bounce_rate: 0.6 },
      // /pricing: v1 10:10, v3 11:36, v1 on June 2 = 3 views; v1's June 2 visit entered there and bounced.
      { page: '/pricing', pageviews: 3, entries: 1, bounce_rate: 1 },
      // /about (v3) and /blog (v2, entered, bounced): 1 view each, by path.
      { page: '/about', pageviews: 1, entries: 0, bounce_rate: null },
      { page: '/blog', pageviews: 1, entries: 1, bounce_rate: 1 },
    ]);
    expect(r.totals).toEqual({ pageviews: 11, entries: 7, bounce_rate: 0.7143 });
    expect((await report(t, 'pages', { from: '2026-06-01', to: '2026-06-02', site: a.id, limit: 1 })).rows).toHaveLength(1);
  });
});

describe('reports in a time zone', () => {
  // Each event a different visitor, so each is one visit of one view.
  async function views(isos: string[]) {
    let clock = 0;
    const t = await makeApp({ now: () => clock });
    const site = await makeSite(t);
    let n = 0;
    for (const iso of isos) {
      clock = at(iso);
      expect((await track(t, { k: site.public_key, v: vid(++n), e: [{ t: 'pv', u: `${SHOP}/` }] })).status).toBe(202);
    }
    await settle(t);
    return t;
  }
  const days = (r: { rows: Record<string, any>[] }) => r.rows.map((x) => [x.bucket, x.pageviews, x.sessions, x.visitors]);

  it('Europe/Berlin, spring: 29 March 2026 is 23 hours; 00:30 and 23:30 local land on it', async () => {
    const t = await views([
      '2026-03-28T22:30:00Z', // 23:30 CET on the 28th
      '2026-03-28T23:30:00Z', // 00:30 CET on the 29th
      '2026-03-29T21:30:00Z', // 23:30 CEST on the 29th
      '2026-03-29T22:30:00Z', // 00:30 CEST on the 30th
    ]);
    const r = await report(t, 'traffic', { from: '2026-03-28', to: '2026-03-30', tz: 'Europe/Berlin' });
    expect(days(r)).toEqual([
      ['2026-03-27T23:00:00.000Z', 1, 1, 1], // 28 March from 00:00 CET
      ['2026-03-28T23:00:00.000Z', 2, 2, 2], // 29 March: 23 hours to 00:00 CEST
      ['2026-03-29T22:00:00.000Z', 1, 1, 1], // 30 March
    ]);
    // The same views by UTC days: two on the 28th, two on the 29th.
    expect(days(await report(t, 'traffic', { from: '2026-03-28', to: '2026-03-30' }))).toEqual([
      ['2026-03-28T00:00:00.000Z', 2, 2, 2],
      ['2026-03-29T00:00:00.000Z', 2, 2, 2],
      ['2026-03-30T00:00:00.000Z', 0, 0, 0],
    ]);
    // By local hour, 29 March has 23 rows; 00:30 and 23:30 are the first and last.
    const h = await report(t, 'traffic', { from: '2026-03-29', to: '2026-03-29', tz: 'Europe/Berlin', interval: 'hour' });
    expect(h.rows).toHaveLength(23);
    expect(h.rows[0]).toMatchObject({ bucket: '2026-03-28T23:00:00.000Z', pageviews: 1 });
    expect(h.rows[22]).toMatchObject({ bucket: '2026-03-29T21:00:00.000Z', pageviews: 1 });
  });

  it('Europe/Berlin, autumn: 25 October 2026 is 25 hours', async () => {
    const t = await views([
      '2026-10-24T21:30:00Z', // 23:30 CEST on the 24th
      '2026-10-24T22:30:00Z', // 00:30 CEST on the 25th
      '2026-10-25T00:30:00Z', // 02:30 CEST on the 25th (the first of two 02:30s)
      '2026-10-25T01:30:00Z', // 02:30 CET on the 25th (the second)
      '2026-10-25T22:30:00Z', // 23:30 CET on the 25th
      '2026-10-25T23:30:00Z', // 00:30 CET on the 26th
    ]);
    const r = await report(t, 'traffic', { from: '2026-10-24', to: '2026-10-26', tz: 'Europe/Berlin' });
    expect(days(r)).toEqual([
      ['2026-10-23T22:00:00.000Z', 1, 1, 1],
      ['2026-10-24T22:00:00.000Z', 4, 4, 4], // 25 October: 25 hours, to 2026-10-25T23:00Z
      ['2026-10-25T23:00:00.000Z', 1, 1, 1],
    ]);
    const h = await report(t, 'traffic', { from: '2026-10-25', to: '2026-10-25', tz: 'Europe/Berlin', interval: 'hour' });
    expect(h.rows).toHaveLength(25);
    // Local 02:00 comes twice: rows 2 and 3, one view each.
    expect(h.rows.slice(2, 4).map((x) => [x.bucket, x.pageviews])).toEqual([
      ['2026-10-25T00:00:00.000Z', 1],
      ['2026-10-25T01:00:00.000Z', 1],
    ]);
  });

  it('Asia/Tokyo (no DST, UTC+9): local days start at 15:00 UTC', async () => {
    const t = await views(['2026-03-28T14:30:00Z', '2026-03-28T15:30:00Z', '2026-03-29T14:30:00Z', '2026-03-29T15:30:00Z']);
    const r = await report(t, 'traffic', { from: '2026-03-29', to: '2026-03-29', tz: 'Asia/Tokyo' });
    // 00:30 and 23:30 JST on the 29th; 23:30 on the 28th and 00:30 on the 30th are outside.
    expect(days(r)).toEqual([['2026-03-28T15:00:00.000Z', 2, 2, 2]]);
    expect(r.totals).toMatchObject({ pageviews: 2, sessions: 2, visitors: 2 });
  });
});

describe('visits and consent, retention and rebuild', () => {
  it('a page view taken over on consent counts once, in rollups and after a rebuild', async () => {
    let clock = at('2026-06-01T10:00:00Z');
    const t = await makeApp({ now: () => clock });
    const site = await makeSite(t, { settings: { consent_required: true } });
    const view = { t: 'pv', u: `${SHOP}/x`, ti: 'X' };
    // Counted without a visitor (no consent yet), and counted by the reaction.
    expect((await track(t, { k: site.public_key, v: null, e: [view] })).status).toBe(202);
    await settle(t);
    clock += 60_000;
    // Consent given: the same view again, marked a: 1; the server gives the counted one to the visitor.
    expect((await track(t, { k: site.public_key, v: vid(1), c: 1, e: [{ ...view, a: 1 }] })).status).toBe(202);
    await settle(t);
    const q = { from: '2026-06-01', to: '2026-06-01' };
    const r = await report(t, 'traffic', q);
    // One page view (not two), now in a visit of the visitor.
    expect(r.totals).toEqual({ visitors: 1, sessions: 1, pageviews: 1, bounce_rate: 1, views_per_session: 1 });
    expect((await report(t, 'pages', q)).rows).toEqual([{ page: '/x', pageviews: 1, entries: 1, bounce_rate: 1 }]);
    await rebuildRollups(t.ctx);
    expect((await report(t, 'traffic', q)).totals).toEqual(r.totals);
  });

  it('retention deletes the visits of the anonymous visitors it expires, with their events', async () => {
    let clock = at('2026-06-01T10:00:00Z');
    const t = await makeApp({ now: () => clock });
    const site = await makeSite(t, { settings: { retention_days: 30 } });
    // Points it earned while anonymous go with it too.
    await t.json('POST', '/api/v1/point-rules', { name: 'Page', event_type: 'page_view', delta: 1 });
    expect((await track(t, { k: site.public_key, v: vid(1), e: [{ t: 'pv', u: `${SHOP}/` }] })).status).toBe(202);
    await settle(t);
    const n = async (table: string) => Number((await t.client.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
    expect([await n('sessions'), await n('point_log')]).toEqual([1, 1]);
    clock += 31 * 86_400_000;
    const run = await t.json('POST', '/api/v1/jobs/retention');
    expect(run.body.result).toMatchObject({ visitors: 1, events: 1 });
    expect([await n('sessions'), await n('point_log'), await n('visitors')]).toEqual([0, 0, 0]);
  });

  it('the reports-rebuild job recounts everything to the same figures and hands back to the reaction', async () => {
    const { t, a, setClock } = await timeline();
    const q = { from: '2026-06-01', to: '2026-06-02', site: a.id };
    const before = await report(t, 'traffic', q);
    const sessions = async () => (await t.client.execute('SELECT * FROM sessions ORDER BY id')).rows.map((r) => ({ ...r }));
    const rollups = async () => (await t.client.execute('SELECT * FROM rollups WHERE value <> 0 ORDER BY metric, dim, hour, site_id, key')).rows.map((r) => ({ ...r }));
    const [s0, r0] = [await sessions(), await rollups()];
    const run = await t.json('POST', '/api/v1/jobs/reports-rebuild');
    expect(run.status).toBe(200);
    expect(run.body.result).toMatchObject({ done: true, started: true, events: 12 });
    expect(await sessions()).toEqual(s0);
    expect(await rollups()).toEqual(r0);
    expect(await report(t, 'traffic', q)).toEqual(before);
    const cursor = await t.client.execute("SELECT name, last_event_id FROM reaction_cursors WHERE name LIKE 'rollups%'");
    expect(cursor.rows.map((r) => [r.name, r.last_event_id])).toEqual([['rollups', 12]]);
    // The reaction counts on from there: one more view of v5 on June 2, 20 minutes after its first.
    setClock(at('2026-06-02T09:20:00Z'));
    expect((await track(t, { k: a.public_key, v: vid(5), e: [{ t: 'pv', u: `${SHOP}/more` }] })).status).toBe(202);
    await settle(t);
    const after = await report(t, 'traffic', q);
    // v5's visit now has 2 views: no bounce; June 2 has 3 views.
    expect(after.rows[1]).toEqual({ bucket: '2026-06-02T00:00:00.000Z', visitors: 2, sessions: 2, pageviews: 3, bounce_rate: 0.5, views_per_session: 1.5 });
    // The scheduled job has nothing to resume.
    expect(await rebuildRollups(t.ctx, { resumeOnly: true })).toMatchObject({ done: true, started: false, events: 0 });
  });
});

/**
 * Forms, focus items, emails and campaigns on 2026-06-01 (UTC), through POST /t and POST /f/:id,
 * email events and campaign passes written as their writers would write them.
 */
describe('the forms, focus-items, emails and campaigns reports', () => {
  async function world() {
    let clock = at('2026-06-01T09:00:00Z');
    const t = await makeApp({ now: () => clock });
    const a = await makeSite(t, { name: 'Shop' });
    const b = await makeSite(t, { name: 'Blog', allowed_origins: [BLOG] });
    const mkForm = async (name: string, fields: unknown[]) => {
      const r = await t.json('POST', '/api/v1/forms', { name, fields });
      expect(r.status).toBe(201);
      return r.body.id as number;
    };
    const signup = await mkForm('Signup', [{ key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true }]);
    const feedback = await mkForm('Feedback', [{ key: 'comment', label: 'Comment', type: 'text', required: true }]);
    const style = { type: 'bar', position: 'top', sticky: true, colors: { background: '#ffffff', text: '#111111', button: '#2563eb' } };
    const mkItem = async (name: string, content: unknown, variants: unknown[] = []) => {
      const r = await t.json('POST', '/api/v1/focus-items', { name, style, content, variants });
      expect(r.status).toBe(201);
      return r.body.id as number;
    };
    const link = await mkItem('Sale bar', { kind: 'link', heading: 'Sale', body: '20% off', cta: { label: 'Shop', url: `${SHOP}/sale` } }, [
      { key: 'a', weight: 50 },
      { key: 'b', weight: 50 },
    ]);
    const formItem = await mkItem('Signup box', { kind: 'form', form_id: signup });
    const hit = async (v: number, e: unknown[], site = a) => {
      clock += 60_000;
      const origin = site === a ? SHOP : BLOG;
      expect((await track(t, { k: site.public_key, v: vid(v), e: e.map((x) => ({ u: `${origin}/`, ...(x as object) })) }, { origin })).status).toBe(202);
    };
    let sid = 0;
    const submit = async (form: number, v: number, values: Record<string, string>, extra: Record<string, unknown> = {}) => {
      clock += 60_000;
      const res = await t.app.request(`/f/${form}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain;charset=UTF-8', origin: SHOP, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36' },
        body: JSON.stringify({ k: a.public_key, v: vid(v), sid: `submission-${++sid}`, t: 5000, hp: '', url: `${SHOP}/`, values, ...extra }),
      });
      expect(res.status, await res.clone().text()).toBe(200);
    };
    const fmv = (form: number) => ({ t: 'fmv', p: { form_id: form } });
    const fms = (form: number) => ({ t: 'fms', p: { form_id: String(form) } }); // an id as a string counts too
    // Signup: shown to v1, v2, v3; started by v1, v2; submitted by v1 and v2 (emails: contacts) and by v3
    // through the focus item's form (an email too).
    await hit(1, [fmv(signup), fms(signup)]);
    await hit(2, [fmv(signup), fms(signup)]);
    await hit(3, [fmv(signup)]);
    await submit(signup, 1, { email: 'one@example.com' });
    await submit(signup, 2, { email: 'two@example.com' });
    await submit(signup, 3, { email: 'three@example.com' }, { focus_id: formItem, focus_variant: 'a' });
    // Feedback: shown to v4 and v5, started by v4; submitted by v4 (anonymous: no contact) and by v1
    // (identified by its signup: a contact).
    await hit(4, [fmv(feedback), fms(feedback)]);
    await hit(5, [fmv(feedback)]);
    await submit(feedback, 4, { comment: 'nice' });
    await submit(feedback, 1, { comment: 'more' });
    // Another site's view of Signup: left out with site = Shop.
    await hit(6, [fmv(signup)], b);
    // Junk form ids count under no form.
    await hit(7, [{ t: 'fmv', p: { form_id: 'x' } }, { t: 'fmv', p: { form_id: -1 } }]);
    // Focus: the sale bar's a shown twice, clicked once, closed once; b shown and clicked once; the
    // signup box (a form item, no variants: "a") shown twice, its form submitted once (v3 above).
    const f = (t: string, id: number, variant: string) => ({ t, p: { focus_id: id, variant } });
    await hit(1, [f('fv', link, 'a'), f('fc', link, 'a')]);
    await hit(2, [f('fv', link, 'a'), f('fx', link, 'a')]);
    await hit(3, [f('fv', link, 'b'), f('fc', link, 'b')]);
    await hit(3, [f('fv', formItem, 'a')]);
    await hit(4, [f('fv', formItem, 'a')]);

    // Emails: Welcome (two sends of the campaign Onboarding's step) and News (a broadcast's send).
    const mkEmail = async (name: string, subject: string) => (await t.json('POST', '/api/v1/emails', { name, subject, html: '<p>Hi</p>' })).body.id as number;
    const welcome = await mkEmail('Welcome', 'Hi there');
    const news = await mkEmail('News', 'June news');
    const campaign = Number(
      (await t.client.execute({ sql: "INSERT INTO campaigns (name, definition, secret, created_at, updated_at) VALUES ('Onboarding', '{}', 's', 0, 0) RETURNING id" })).rows[0]!.id,
    );
    const idle = Number((await t.client.execute({ sql: "INSERT INTO campaigns (name, definition, secret, created_at, updated_at) VALUES ('Idle', '{}', 's', 0, 0) RETURNING id" })).rows[0]!.id);
    const contact = async (email: string) => Number((await t.client.execute({ sql: 'SELECT id FROM contacts WHERE email = ?', args: [email] })).rows[0]!.id);
    const [c1, c2] = [await contact('one@example.com'), await contact('two@example.com')];
    const send = async (email: number, c: number, reason: string) =>
      Number(
        (
          await t.client.execute({
            sql: "INSERT INTO email_sends (email_id, contact_id, to_email, reason, marketing, status, created_at, updated_at) VALUES (?, ?, ?, ?, 1, 'sent', 0, 0) RETURNING id",
            args: [email, c, `${c}@example.com`, reason],
          })
        ).rows[0]!.id,
      );
    const s1 = await send(welcome, c1, `campaign:${campaign}:step1:0`);
    const s2 = await send(welcome, c2, `campaign:${campaign}:step1:0`);
    const s3 = await send(news, c1, 'broadcast:1');
    const ev = async (type: string, s: number, email: number, c: number, extra: Record<string, unknown> = {}) => {
      clock += 60_000;
      await t.client.execute({
        sql: 'INSERT INTO events (contact_id, type, props, created_at) VALUES (?, ?, ?, ?)',
        args: [c, type, JSON.stringify({ email_id: email, send_id: s, ...extra }), clock],
      });
      // What email/tracking.ts records on the send with a person's open or click.
      if (extra.machine === false) {
        const click = type === 'email_clicked' ? ', human_clicked_at = coalesce(human_clicked_at, ?1)' : '';
        await t.client.execute({ sql: `UPDATE email_sends SET human_opened_at = coalesce(human_opened_at, ?1)${click} WHERE id = ?2`, args: [clock, s] });
      }
    };
    await ev('email_sent', s1, welcome, c1);
    await ev('email_sent', s2, welcome, c2);
    await ev('email_sent', s3, news, c1);
    await ev('email_delivered', s1, welcome, c1);
    await ev('email_delivered', s2, welcome, c2);
    await ev('email_opened', s1, welcome, c1, { machine: true }); // a privacy proxy: not counted
    await ev('email_opened', s1, welcome, c1, { machine: false }); // s1's first human open
    await ev('email_opened', s1, welcome, c1, { machine: false }); // again: an open, not a new opened message
    await ev('email_clicked', s1, welcome, c1, { machine: true }); // a link scanner: not counted
    await ev('email_clicked', s2, welcome, c2, { machine: false }); // s2 first clicked, so opened too
    await ev('email_clicked', s2, welcome, c2, { machine: false });
    await ev('email_unsubscribed', s2, welcome, c2);
    await ev('email_bounced', s3, news, c1);
    await ev('email_complained', s3, news, c1);
    // Campaign passes: entered in the period (active; converted in it; exited after it), and one
    // entered in May that completed in the period. Idle's only pass began in May: no activity.
    const pass = (cid: number, c: number, rotation: number, status: string, entered: string, ended: string | null) =>
      t.client.execute({
        sql: "INSERT INTO campaign_enrollments (campaign_id, contact_id, rotation, version, status, source, entered_at, ended_at) VALUES (?, ?, ?, 1, ?, 'api', ?, ?)",
        args: [cid, c, rotation, status, at(entered), ended === null ? null : at(ended)],
      });
    await pass(campaign, c1, 0, 'active', '2026-06-01T09:30:00Z', null);
    await pass(campaign, c2, 0, 'converted', '2026-06-01T09:30:00Z', '2026-06-01T12:00:00Z');
    await pass(campaign, c1, 1, 'completed', '2026-05-20T09:00:00Z', '2026-06-01T08:00:00Z');
    await pass(campaign, c2, 1, 'exited', '2026-06-01T10:00:00Z', '2026-06-10T10:00:00Z');
    await pass(idle, c1, 0, 'active', '2026-05-20T09:00:00Z', null);
    await settle(t);
    return { t, a, b, signup, feedback, link, formItem, welcome, news, campaign };
  }

  it('counts each form\'s views, starts, submissions and contacts', async () => {
    const w = await world();
    const r = await report(w.t, 'forms', { from: '2026-06-01', to: '2026-06-01', site: w.a.id });
    expect(r.rows).toEqual([
      // Signup: views v1, v2, v3 = 3; starts v1, v2 = 2; submissions v1, v2, v3 = 3, each with an email: 3 contacts.
      { form_id: w.signup, name: 'Signup', views: 3, starts: 2, submissions: 3, contacts: 3, start_rate: 0.6667, submit_rate: 1 },
      // Feedback: views v4, v5; start v4; submissions v4 (anonymous) and v1 (a contact): 1 contact.
      { form_id: w.feedback, name: 'Feedback', views: 2, starts: 1, submissions: 2, contacts: 1, start_rate: 0.5, submit_rate: 1 },
    ]);
    // 5 views, 3 starts (0.6), 5 submissions (1), 4 contacts.
    expect(r.totals).toEqual({ views: 5, starts: 3, submissions: 5, contacts: 4, start_rate: 0.6, submit_rate: 1 });
    // Both sites: Signup has the blog's view too.
    const all = await report(w.t, 'forms', { from: '2026-06-01', to: '2026-06-01' });
    expect(all.rows[0]).toMatchObject({ form_id: w.signup, views: 4, submit_rate: 0.75 });
  });

  it('counts focus items per variant, converting by clicks or submissions as the item asks', async () => {
    const w = await world();
    const r = await report(w.t, 'focus-items', { from: '2026-06-01', to: '2026-06-01', site: w.a.id });
    expect(r.rows).toEqual([
      // Sale bar (a link): a shown twice, clicked once → 1 conversion of 2 views; b shown once, clicked once.
      { focus_id: w.link, name: 'Sale bar', variant: 'a', views: 2, clicks: 1, submissions: 0, conversions: 1, conversion_rate: 0.5 },
      { focus_id: w.link, name: 'Sale bar', variant: 'b', views: 1, clicks: 1, submissions: 0, conversions: 1, conversion_rate: 1 },
      // Signup box (a form): shown twice, its form submitted once → 1 conversion.
      { focus_id: w.formItem, name: 'Signup box', variant: 'a', views: 2, clicks: 0, submissions: 1, conversions: 1, conversion_rate: 0.5 },
    ]);
    expect(r.totals).toEqual({ views: 5, clicks: 2, submissions: 1, conversions: 3, conversion_rate: 0.6 });
    // The item's own stats endpoint (from raw events) agrees on the link item.
    const stats = (await w.t.json('GET', `/api/v1/focus-items/${w.link}/stats`)).body;
    expect(stats.variants.map((v: any) => [v.key, v.views, v.conversions])).toEqual([
      ['a', 2, 1],
      ['b', 1, 1],
    ]);
  });

  it('counts emails: people\'s opens and clicks, opened and clicked messages, rates over delivered or sent', async () => {
    const w = await world();
    const r = await report(w.t, 'emails', { from: '2026-06-01', to: '2026-06-01' });
    expect(r.rows).toEqual([
      // Welcome: 2 sent, 2 delivered; opened messages: s1 (human open) and s2 (first human click) = 2;
      // clicked messages: s2 = 1; opens: s1's two human ones = 2 (the proxy's left out); clicks: s2's two
      // = 2 (the scanner's left out); 1 unsubscribe. Over 2 delivered: open rate 1, click rate 0.5.
      { email_id: w.welcome, name: 'Welcome', subject: 'Hi there', sent: 2, delivered: 2, bounced: 0, opened: 2, clicked: 1, opens: 2, clicks: 2, unsubscribed: 1, complained: 0, open_rate: 1, click_rate: 0.5 },
      // News: 1 sent, bounced, complained; nothing delivered: rates over the 1 sent.
      { email_id: w.news, name: 'News', subject: 'June news', sent: 1, delivered: 0, bounced: 1, opened: 0, clicked: 0, opens: 0, clicks: 0, unsubscribed: 0, complained: 1, open_rate: 0, click_rate: 0 },
    ]);
    expect(r.totals).toEqual({ sent: 3, delivered: 2, bounced: 1, opened: 2, clicked: 1, opens: 2, clicks: 2, unsubscribed: 1, complained: 1, open_rate: 1, click_rate: 0.5 });
    // Another day: nothing.
    expect((await report(w.t, 'emails', { from: '2026-06-02', to: '2026-06-02' })).rows).toEqual([]);
  });

  it('counts campaign passes by when they began or ended, and the emails of their steps', async () => {
    const w = await world();
    const r = await report(w.t, 'campaigns', { from: '2026-06-01', to: '2026-06-01' });
    expect(r.rows).toEqual([
      // Entered on 1 June: c1 (active), c2 (converted at 12:00), c2 again (exited on 10 June, outside) = 3;
      // completed on 1 June: c1's May pass = 1; converted 1 → 1/3. Emails: Welcome's two sends (s1, s2).
      {
        campaign_id: w.campaign,
        name: 'Onboarding',
        entered: 3,
        completed: 1,
        exited: 0,
        converted: 1,
        conversion_rate: 0.3333,
        emails_sent: 2,
        emails_opened: 2,
        emails_clicked: 1,
        open_rate: 1,
        click_rate: 0.5,
      },
    ]);
    expect(r.totals).toMatchObject({ entered: 3, completed: 1, exited: 0, converted: 1, emails_sent: 2 });
    // The exit on 10 June counts in a period holding it.
    const june = await report(w.t, 'campaigns', { from: '2026-06-01', to: '2026-06-30' });
    expect(june.rows[0]).toMatchObject({ entered: 3, completed: 1, exited: 1, converted: 1 });
  });
});

describe('email opens and clicks as GET /o and /c record them', () => {
  it('counts a send opened twice and clicked once as one opened and one clicked message', async () => {
    let clock = at('2026-06-01T09:00:00Z');
    const t = await makeApp({ now: () => clock });
    const email = (await t.json('POST', '/api/v1/emails', { name: 'Hello', subject: 'Hello', html: '<p>Hi</p>' })).body.id as number;
    const contact = (await t.json('POST', '/api/v1/contacts', { email: 'reader@example.com' })).body.id as number;
    const send = Number(
      (
        await t.client.execute({
          sql: "INSERT INTO email_sends (email_id, contact_id, to_email, reason, marketing, status, sent_at, created_at, updated_at) VALUES (?, ?, 'reader@example.com', 'api:1', 1, 'sent', ?, 0, 0) RETURNING id",
          args: [email, contact, clock],
        })
      ).rows[0]!.id,
    );
    const ua = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';
    const get = (path: string) => t.app.request(path, { headers: { 'user-agent': ua } });
    const open = await signToken(t.ctx, 'open', [send]);
    const click = await signToken(t.ctx, 'click', [send, 0, `${SHOP}/offer`]);
    clock += 10 * 60_000;
    expect((await get(`/o/${open}`)).status).toBe(200);
    clock += 60_000;
    expect((await get(`/o/${open}`)).status).toBe(200);
    clock += 60_000;
    expect((await get(`/c/${click}`)).status).toBe(302);
    await settle(t);
    const r = await report(t, 'emails', { from: '2026-06-01', to: '2026-06-01' });
    // Nothing sent or delivered in the log (the send row was written directly): rates have no base.
    expect(r.rows).toEqual([
      { email_id: email, name: 'Hello', subject: 'Hello', sent: 0, delivered: 0, bounced: 0, opened: 1, clicked: 1, opens: 2, clicks: 1, unsubscribed: 0, complained: 0, open_rate: null, click_rate: null },
    ]);
  });
});
