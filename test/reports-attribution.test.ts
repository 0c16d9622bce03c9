import { describe, expect, it } from 'vitest';
import type { InValue } from '@libsql/client';
import { expectError, makeApp, type TestApp } from './helpers';
import { makeSite, runJob, sign, track, vid } from './tracking-helpers';

// The attribution report on small fixed timelines, every expected figure worked out by hand in
// the comment beside it. Contacts, deals, visits (sessions rows, as the sessions reaction writes
// them) and events are inserted directly; identification and merging go through the real API.

const at = (day: number, hour = 12, ms = 0) => Date.UTC(2026, 2, day, hour) + ms; // March 2026, UTC
const feb = (day: number) => Date.UTC(2026, 1, day, 12);
// The period of every query: 2026-03-01 00:00 UTC up to (excluding) 2026-04-01 00:00 UTC.
const PERIOD = 'from=2026-03-01&to=2026-03-31';

type Row = [key: string, conversions: number, revenue: number | null, share: number | null];

/** The report's rows as [key, conversions, revenue, share]. */
async function report(t: TestApp, query: string) {
  const r = await t.json('GET', `/api/v1/reports/attribution?${PERIOD}${query ? `&${query}` : ''}`);
  if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
  return {
    rows: (r.body.rows as any[]).map((x): Row => [x.key, x.conversions, x.revenue, x.share]),
    labels: Object.fromEntries((r.body.rows as any[]).map((x) => [x.key, x.label])),
    totals: r.body.totals,
    currency: (r.body.rows as any[])[0]?.currency ?? null,
  };
}

function fixtures(t: TestApp) {
  const q = async (sql: string, args: InValue[] = []) => t.client.execute({ sql, args });
  let sessionId = 100_000;
  return {
    q,
    async contact(email: string, firstSource: Record<string, string> | null = null) {
      const r = await q(
        `INSERT INTO contacts (email, email_normalized, created_at, updated_at, first_seen_at, first_source) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
        [email, email, feb(1), feb(1), feb(1), firstSource && JSON.stringify(firstSource)],
      );
      return Number(r.rows[0]!.id);
    },
    /** A visit, as the sessions reaction leaves it (contact_id set once the visitor is known). */
    async visit(
      contact: number | null,
      startedAt: number,
      v: { site: number; visitor?: number; channel: string; source?: string; medium?: string; campaign?: string; referrer?: string; page?: string },
    ) {
      const id = sessionId++;
      await q(
        `INSERT INTO sessions (id, site_id, visitor_id, contact_id, started_at, last_at, last_event_id, pageviews, entry_page, channel, source, medium, campaign, referrer)
         VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)`,
        [id, v.site, v.visitor ?? id, contact, startedAt, startedAt, id, v.page ?? '/', v.channel, v.source ?? null, v.medium ?? null, v.campaign ?? null, v.referrer ?? null],
      );
    },
    async deal(contact: number, cents: number, currency: string, stage: 'won' | 'lost' | 'open', closedAt: number | null) {
      await q(
        `INSERT INTO deals (contact_id, name, amount_cents, currency, stage, closed_at, created_at, updated_at) VALUES (?, 'Deal', ?, ?, ?, ?, ?, ?)`,
        [contact, cents, currency, stage, closedAt, feb(1), feb(1)],
      );
    },
    async event(contact: number | null, type: string, props: Record<string, unknown>, createdAt: number, site: number | null = null) {
      await q(`INSERT INTO events (site_id, contact_id, type, props, created_at) VALUES (?, ?, ?, ?, ?)`, [site, contact, type, JSON.stringify(props), createdAt]);
    },
    async named(table: 'forms' | 'focus_items' | 'campaigns' | 'emails', name: string) {
      const cols: Record<string, [string, InValue[]]> = {
        forms: ['name, definition', [name, '{}']],
        focus_items: ['name, definition', [name, '{}']],
        campaigns: ['name, definition, secret', [name, '{}', 'x']],
        emails: ['name, kind, subject, html, html_compiled, text_compiled', [name, 'marketing', 's', 'h', 'h', 't']],
      };
      const [c, a] = cols[table]!;
      const r = await q(`INSERT INTO ${table} (${c}, created_at, updated_at) VALUES (${a.map(() => '?').join(', ')}, ?, ?) RETURNING id`, [...a, feb(1), feb(1)]);
      return Number(r.rows[0]!.id);
    },
  };
}

/**
 * The won-deal timeline most tests read (EUR unless said):
 *   A  visits Mar 2 organic_search/google, Mar 4 social/twitter (site 2), Mar 5 email/newsletter,
 *      Mar 8 paid/google; won 1,000.01 on Mar 10; a social visit on Mar 12 comes after (ignored);
 *      also a lost deal. First touched by utm_source=google.
 *   B  an anonymous visit (referral from example.org with utm_source=partner, through POST /t on Mar 1) identified later through the real
 *      signed identify, then a direct visit Mar 3; won 333.33 on Mar 15; also an open deal.
 *   C  no visit at all: won 100.00 on Mar 20 → (none).
 *   E  a referral visit from news.example.com exactly at its deal's close (counts) and a paid one a
 *      millisecond after (ignored); won 200.00 on Mar 25.
 *   D  a paid visit Mar 1; won 50.00 USD on Mar 11 (the other currency).
 *   Out of the period: C won 777.00 on Feb 27, A won 9.99 at 2026-04-01T00:00Z (the exclusive end).
 * EUR revenue in the period: 100001 + 33333 + 10000 + 20000 = 163334 cents.
 */
async function wonDeals(t: TestApp) {
  const f = fixtures(t);
  const s1 = await makeSite(t, { name: 'Main' });
  const s2 = await makeSite(t, { name: 'Blog' });

  const a = await f.contact('a@example.com', { utm_source: 'google', landing_url: 'https://shop.example.com/' });
  await f.visit(a, at(2), { site: s1.id, channel: 'organic_search', source: 'google', referrer: 'google.com', page: '/' });
  await f.visit(a, at(4), { site: s2.id, channel: 'social', source: 'twitter', referrer: 't.co', page: '/blog/launch' });
  await f.visit(a, at(5), { site: s1.id, channel: 'email', source: 'newsletter', medium: 'email', campaign: 'spring', page: '/pricing' });
  await f.visit(a, at(8), { site: s1.id, channel: 'paid', source: 'google', medium: 'cpc', campaign: 'spring', page: '/pricing' });
  await f.visit(a, at(12), { site: s1.id, channel: 'social', source: 'twitter', page: '/' });
  await f.deal(a, 100_001, 'EUR', 'won', at(10));
  await f.deal(a, 999_999, 'EUR', 'lost', at(11));
  await f.deal(a, 999, 'EUR', 'won', Date.UTC(2026, 3, 1));

  // B: browses anonymously, then identifies with a signed identify; the attribution reaction moves
  // its visits (sessions.contact_id NULL → B) with its events.
  // The rollups reaction makes its visit (referral from example.org, source partner, entry page /) at the app's clock.
  await track(t, { k: s1.public_key, v: vid(1), e: [{ t: 'pv', u: 'https://shop.example.com/?utm_source=partner&utm_medium=referral', r: 'https://example.org/' }] });
  const visitor = Number((await f.q('SELECT id FROM visitors WHERE uid = ?', [vid(1)])).rows[0]!.id);
  const id = await track(t, { k: s1.public_key, v: vid(1), e: [], id: { email: 'b@example.com', sig: sign(s1.secret, 'b@example.com') } });
  expect(id.status).toBe(202);
  await runJob(t);
  const b = Number((await f.q(`SELECT id FROM contacts WHERE email_normalized = 'b@example.com'`)).rows[0]!.id);
  expect((await f.q('SELECT contact_id FROM sessions WHERE visitor_id = ?', [visitor])).rows[0]!.contact_id).toBe(b);
  await f.visit(b, at(3), { site: s1.id, visitor, channel: 'direct', page: '/pricing' });
  await f.deal(b, 33_333, 'EUR', 'won', at(15));
  await f.deal(b, 50_000, 'EUR', 'open', null);

  const c = await f.contact('c@example.com');
  await f.deal(c, 10_000, 'EUR', 'won', at(20));
  await f.deal(c, 77_700, 'EUR', 'won', feb(27));

  const e = await f.contact('e@example.com');
  await f.visit(e, at(25), { site: s1.id, channel: 'referral', source: 'news.example.com', referrer: 'news.example.com', page: '/story' });
  await f.visit(e, at(25, 12, 1), { site: s1.id, channel: 'paid', source: 'bing', page: '/' });
  await f.deal(e, 20_000, 'EUR', 'won', at(25));

  const d = await f.contact('d@example.com');
  await f.visit(d, at(1), { site: s1.id, channel: 'paid', source: 'google', page: '/us' });
  await f.deal(d, 5_000, 'USD', 'won', at(11));
  return { f, s1, s2, a, b, c, d, e };
}

describe('attribution of won revenue', () => {
  it('credits each model by hand-computed cents (channel dimension)', async () => {
    const t = await makeApp({ now: () => Date.UTC(2026, 2, 1) });
    await wonDeals(t);
    // Currency by default: EUR (1,633.34 won) over USD (50.00). Shares are of 163334 cents.
    const total = { conversions: 4, revenue: 1633.34, currency: 'EUR' };

    // first_touch: A → organic_search 100001; B → referral 33333 (its anonymous visit); E →
    // referral 20000 (the visit at the close itself); C → (none) 10000.
    // referral 53333 / 163334 = 0.3265; 100001 / 163334 = 0.6122; 10000 / 163334 = 0.0612.
    let r = await report(t, 'model=first_touch');
    expect(r.rows).toEqual([
      ['organic_search', 1, 1000.01, 0.6122],
      ['referral', 2, 533.33, 0.3265],
      ['(none)', 1, 100, 0.0612],
    ]);
    expect(r.totals).toEqual(total);
    expect(r.currency).toBe('EUR');

    // last_touch: A → paid (the Mar 12 visit is after the deal); B → direct; E → referral (the
    // paid visit 1 ms after the close is ignored); C → (none).
    // 33333 / 163334 = 0.2041; 20000 / 163334 = 0.1224.
    r = await report(t, 'model=last_touch');
    expect(r.rows).toEqual([
      ['paid', 1, 1000.01, 0.6122],
      ['direct', 1, 333.33, 0.2041],
      ['referral', 1, 200, 0.1224],
      ['(none)', 1, 100, 0.0612],
    ]);
    expect(r.totals).toEqual(total);

    // linear: A 100001 / 4 = 25000.25 → 25000 each, the 1 cent left to the largest remainder
    // (all equal: the earliest) → organic 25001, social, email, paid 25000 (0.25 each).
    // B 33333 / 2 = 16666.5 → referral 16667, direct 16666 (0.5 each). E referral 20000. C (none).
    // referral 16667 + 20000 = 36667 (1.5 conversions) → 0.2245; 25001 → 0.1531; 25000 → 0.1531;
    // 16666 → 0.1020. Ties on revenue and conversions go by key.
    r = await report(t, 'model=linear');
    expect(r.rows).toEqual([
      ['referral', 1.5, 366.67, 0.2245],
      ['organic_search', 0.25, 250.01, 0.1531],
      ['email', 0.25, 250, 0.1531],
      ['paid', 0.25, 250, 0.1531],
      ['social', 0.25, 250, 0.1531],
      ['direct', 0.5, 166.66, 0.102],
      ['(none)', 1, 100, 0.0612],
    ]);
    expect(r.totals).toEqual(total);

    // position_based: A has 4 touches → 40/10/10/40 over 10: 100001 × 4/10 = 40000.4 → 40000,
    // × 1/10 = 10000.1 → 10000; 1 cent left, remainders 4,1,1,4 → the first → organic 40001,
    // social 10000, email 10000, paid 40000. B two touches → 50/50 as linear. E, C one touch each.
    // 40001 → 0.2449; 40000 → 0.2449; 36667 → 0.2245; 16666 → 0.1020; 10000 → 0.0612.
    r = await report(t, 'model=position_based');
    expect(r.rows).toEqual([
      ['organic_search', 0.4, 400.01, 0.2449],
      ['paid', 0.4, 400, 0.2449],
      ['referral', 1.5, 366.67, 0.2245],
      ['direct', 0.5, 166.66, 0.102],
      ['(none)', 1, 100, 0.0612],
      ['email', 0.1, 100, 0.0612],
      ['social', 0.1, 100, 0.0612],
    ]);
    expect(r.totals).toEqual(total);
    // The default model is position_based, the default dimension channel.
    expect((await report(t, '')).rows).toEqual(r.rows);
  });

  it('adds up touches of one key and names direct visits (source, landing page)', async () => {
    const t = await makeApp({ now: () => Date.UTC(2026, 2, 1) });
    await wonDeals(t);
    // position_based on source: A google (first) 40001 + google (last) 40000 = 80001, 0.8
    // conversions → 0.4898; twitter and newsletter 10000 each; B partner (its utm_source) 16667,
    // direct (no source) 16666; E news.example.com 20000; C (none) 10000.
    let r = await report(t, 'dimension=source');
    expect(r.rows).toEqual([
      ['google', 0.8, 800.01, 0.4898],
      ['news.example.com', 1, 200, 0.1224],
      ['partner', 0.5, 166.67, 0.102],
      ['direct', 0.5, 166.66, 0.102],
      ['(none)', 1, 100, 0.0612],
      ['newsletter', 0.1, 100, 0.0612],
      ['twitter', 0.1, 100, 0.0612],
    ]);
    // first_touch on landing_page: A '/' 100001, B '/' 33333 (the anonymous visit), E '/story'
    // 20000, C (none) 10000 → '/' 133334 → 0.8163.
    r = await report(t, 'dimension=landing_page&model=first_touch');
    expect(r.rows).toEqual([
      ['/', 2, 1333.34, 0.8163],
      ['/story', 1, 200, 0.1224],
      ['(none)', 1, 100, 0.0612],
    ]);
    // last_touch on utm_campaign: A's paid visit carries spring (100001); B's direct visit, E's
    // referral visit have none, C no visit: all (none) → 63333.
    r = await report(t, 'dimension=utm_campaign&model=last_touch');
    expect(r.rows).toEqual([
      ['spring', 1, 1000.01, 0.6122],
      ['(none)', 3, 633.33, 0.3878],
    ]);
  });

  it('reports one currency: the asked one, else the one with most won revenue', async () => {
    const t = await makeApp({ now: () => Date.UTC(2026, 2, 1) });
    await wonDeals(t);
    // USD: only D's 50.00, its one paid visit.
    const r = await report(t, 'currency=USD&model=linear');
    expect(r.rows).toEqual([['paid', 1, 50, 1]]);
    expect(r.totals).toEqual({ conversions: 1, revenue: 50, currency: 'USD' });
    // A currency without won deals: nothing, totals zero.
    const none = await report(t, 'currency=GBP');
    expect(none.rows).toEqual([]);
    expect(none.totals).toEqual({ conversions: 0, revenue: 0, currency: 'GBP' });
  });

  it('filters converting contacts by segment and first-touch UTM, and touches by site', async () => {
    const t = await makeApp({ now: () => Date.UTC(2026, 2, 1) });
    const { f, a, e, s1, s2 } = await wonDeals(t);
    const seg = await t.json('POST', '/api/v1/segments', { name: 'A and E', kind: 'static' });
    expect(seg.status).toBe(201);
    for (const c of [a, e]) expect((await t.call('PUT', `/api/v1/segments/${seg.body.id}/members/${c}`)).status).toBeLessThan(300);
    expect((await f.q('SELECT count(*) AS n FROM segment_members WHERE segment_id = ?', [seg.body.id])).rows[0]!.n).toBe(2);

    // Segment {A, E}, position_based: A organic 40001, paid 40000, email 10000, social 10000;
    // E referral 20000. Total 120001: 40001/120001 = 0.3333, 20000/120001 = 0.1667, 10000 → 0.0833.
    let r = await report(t, `segment=${seg.body.id}`);
    expect(r.rows).toEqual([
      ['organic_search', 0.4, 400.01, 0.3333],
      ['paid', 0.4, 400, 0.3333],
      ['referral', 1, 200, 0.1667],
      ['email', 0.1, 100, 0.0833],
      ['social', 0.1, 100, 0.0833],
    ]);
    expect(r.totals).toEqual({ conversions: 2, revenue: 1200.01, currency: 'EUR' });

    // utm_source=partner: B only (its first touch, taken from the anonymous page view on
    // identification): referral 16667, direct 16666 of 33333 → 0.500015 and 0.499985, both 0.5
    // to 4 places.
    r = await report(t, 'utm_source=partner');
    expect(r.rows).toEqual([
      ['referral', 0.5, 166.67, 0.5],
      ['direct', 0.5, 166.66, 0.5],
    ]);
    expect(r.totals).toEqual({ conversions: 1, revenue: 333.33, currency: 'EUR' });
    // utm_source=google with utm_medium=cpc: nobody was first touched with both.
    r = await report(t, 'utm_source=google&utm_medium=cpc');
    // (no deal of theirs in the period: the currency is the one with the most won revenue ever)
    expect(r.totals).toEqual({ conversions: 0, revenue: 0, currency: 'EUR' });

    // Site 1 only: A loses its social visit (site 2) → 3 touches 40/20/40 over 5: 100001 × 2/5 =
    // 40000.4, × 1/5 = 20000.2 → 40000, 20000, 40000, 1 cent to the first (remainders 2,1,2) →
    // organic 40001, email 20000, paid 40000. B, E, C as before. 20000 → 0.1224.
    r = await report(t, `site=${s1.id}`);
    expect(r.rows).toEqual([
      ['organic_search', 0.4, 400.01, 0.2449],
      ['paid', 0.4, 400, 0.2449],
      ['referral', 1.5, 366.67, 0.2245],
      ['email', 0.2, 200, 0.1224],
      ['direct', 0.5, 166.66, 0.102],
      ['(none)', 1, 100, 0.0612],
    ]);
    // Site 2 only: A's social visit takes all of A; B, C, E have no touch there → (none)
    // 33333 + 10000 + 20000 = 63333 → 0.3878.
    r = await report(t, `site=${s2.id}`);
    expect(r.rows).toEqual([
      ['social', 1, 1000.01, 0.6122],
      ['(none)', 3, 633.33, 0.3878],
    ]);
  });

  it("follows a merged contact's visits, events and deals to the survivor", async () => {
    const t = await makeApp({ now: () => Date.UTC(2026, 2, 1) });
    const f = fixtures(t);
    const site = await makeSite(t);
    const form = await f.named('forms', 'Demo request');
    const survivor = await f.contact('keep@example.com');
    const merged = await f.contact('lose@example.com');
    await f.visit(merged, at(6), { site: site.id, channel: 'social', source: 'linkedin' });
    await f.event(merged, 'form_submit', { form_id: form, submission_id: 1 }, at(7), site.id);
    await f.visit(survivor, at(9), { site: site.id, channel: 'email', source: 'newsletter' });
    await f.deal(merged, 9_000, 'EUR', 'won', at(14));
    const r0 = await t.json('POST', `/api/v1/contacts/${survivor}/merge`, { contact_id: merged });
    expect(r0.status).toBe(200);

    // The survivor's timeline: social (Mar 6, moved), email (Mar 9); the deal moved with it.
    // first_touch → social 90.00; position_based with two touches → 4500 / 4500.
    expect((await report(t, 'model=first_touch')).rows).toEqual([['social', 1, 90, 1]]);
    expect((await report(t, 'model=position_based')).rows).toEqual([
      ['email', 0.5, 45, 0.5],
      ['social', 0.5, 45, 0.5],
    ]);
    // The moved submission is a form touch of the survivor, named after its form.
    const r = await report(t, 'dimension=form&model=linear');
    expect(r.rows).toEqual([[String(form), 1, 90, 1]]);
    expect(r.labels).toEqual({ [String(form)]: 'Demo request' });
  });
});

describe('attribution of other conversions (worth 1 each)', () => {
  it('stage:<id>: contacts first entering the stage in the period', async () => {
    const t = await makeApp({ now: () => Date.UTC(2026, 2, 1) });
    const f = fixtures(t);
    const site = await makeSite(t);
    const stage = Number((await f.q('SELECT id FROM stages ORDER BY position LIMIT 1')).rows[0]!.id);
    const other = Number((await f.q('SELECT id FROM stages ORDER BY position DESC LIMIT 1')).rows[0]!.id);
    const entry = (c: number, s: number, enteredAt: number) =>
      f.q('INSERT INTO stage_entries (contact_id, stage_id, entered_at, event_id) VALUES (?, ?, ?, 1)', [c, s, enteredAt]);
    const h = await f.contact('h@example.com');
    await f.visit(h, at(1), { site: site.id, channel: 'organic_search', source: 'google' });
    await f.visit(h, at(4), { site: site.id, channel: 'paid', source: 'google' });
    await entry(h, stage, at(5));
    await entry(h, other, at(6)); // another stage: not this conversion
    const i = await f.contact('i@example.com');
    await f.visit(i, feb(10), { site: site.id, channel: 'paid' });
    await entry(i, stage, feb(20)); // entered before the period
    const j = await f.contact('j@example.com');
    await entry(j, stage, at(10));

    // linear: H → organic 0.5, paid 0.5; J (no visit) → (none) 1. Shares of 2 conversions.
    const r = await report(t, `conversion=stage:${stage}&model=linear`);
    expect(r.rows).toEqual([
      ['(none)', 1, null, 0.5],
      ['organic_search', 0.5, null, 0.25],
      ['paid', 0.5, null, 0.25],
    ]);
    expect(r.totals).toEqual({ conversions: 2, revenue: null, currency: null });
    expect(r.currency).toBeNull();

    // An unknown stage is a 404 (the id names nothing), a malformed one a 422.
    expectError(await t.json('GET', `/api/v1/reports/attribution?conversion=stage:99999`), 404, 'NOT_FOUND');
    expectError(await t.json('GET', `/api/v1/reports/attribution?conversion=stage:abc`), 422, 'VALIDATION_FAILED');
  });

  it('form:<id> and form:any, credited to forms and focus items', async () => {
    const t = await makeApp({ now: () => Date.UTC(2026, 2, 1) });
    const f = fixtures(t);
    const site = await makeSite(t);
    const demo = await f.named('forms', 'Demo');
    const news = await f.named('forms', 'Newsletter');
    const popup = await f.named('focus_items', 'Exit popup');
    const k = await f.contact('k@example.com');
    const l = await f.contact('l@example.com');
    await f.event(k, 'focus_click', { focus_id: popup, variant: 'a' }, at(2), site.id);
    await f.event(k, 'form_submit', { form_id: news, submission_id: 1 }, at(3), site.id);
    // Submitted through the focus item (focus_id stored as a string here: the same key).
    await f.event(k, 'form_submit', { form_id: demo, submission_id: 2, focus_id: String(popup), focus_variant: 'a' }, at(6), site.id);
    await f.event(l, 'form_submit', { form_id: demo, submission_id: 3 }, at(8), site.id);
    await f.event(null, 'form_submit', { form_id: demo, submission_id: 4 }, at(9), site.id); // nobody known: no conversion
    await f.event(l, 'form_submit', { form_id: demo, submission_id: 5 }, feb(9), site.id); // before the period

    // form:<demo> = K's Mar 6 and L's Mar 8 submissions. Linear on form: K's touches up to
    // Mar 6 are news (Mar 3) and demo (Mar 6, the conversion itself) → 0.5 each; L's are its
    // Feb 9 and Mar 8 demo submissions → demo 1. Demo 1.5 → share 0.75, news 0.25.
    let r = await report(t, `conversion=form:${demo}&dimension=form&model=linear`);
    expect(r.rows).toEqual([
      [String(demo), 1.5, null, 0.75],
      [String(news), 0.5, null, 0.25],
    ]);
    expect(r.labels).toEqual({ [String(demo)]: 'Demo', [String(news)]: 'Newsletter' });
    expect(r.totals).toEqual({ conversions: 2, revenue: null, currency: null });

    // Last focus touch: K → the popup (its click, then the submission through it); L → (none).
    // Equal credit: by key, '(none)' sorts before the id.
    r = await report(t, `conversion=form:${demo}&dimension=focus&model=last_touch`);
    expect(r.rows).toEqual([
      ['(none)', 1, null, 0.5],
      [String(popup), 1, null, 0.5],
    ]);
    expect(r.labels[String(popup)]).toBe('Exit popup');

    // form:any = K Mar 3, K Mar 6, L Mar 8. first_touch on form: K's first form touch is news
    // (for both of K's conversions); L's is its Feb 9 demo submission. news 2, demo 1.
    r = await report(t, 'conversion=form:any&dimension=form&model=first_touch');
    expect(r.rows).toEqual([
      [String(news), 2, null, 0.6667],
      [String(demo), 1, null, 0.3333],
    ]);
    expectError(await t.json('GET', `/api/v1/reports/attribution?conversion=form:99999`), 404, 'NOT_FOUND');
  });

  it('goal:<campaign> and goal:any, credited to emails and campaigns (human clicks only)', async () => {
    const t = await makeApp({ now: () => Date.UTC(2026, 2, 1) });
    const f = fixtures(t);
    const onboarding = await f.named('campaigns', 'Onboarding');
    const winback = await f.named('campaigns', 'Winback');
    const welcome = await f.named('emails', 'Welcome');
    const offer = await f.named('emails', 'Offer');
    const n = await f.contact('n@example.com');
    const o = await f.contact('o@example.com');
    const p = await f.contact('p@example.com');
    const send = async (email: number, contact: number, reason: string) =>
      Number(
        (
          await f.q(
            `INSERT INTO email_sends (email_id, contact_id, to_email, reason, marketing, status, sent_at, created_at, updated_at)
             VALUES (?, ?, 'x@example.com', ?, 1, 'sent', ?, ?, ?) RETURNING id`,
            [email, contact, reason, feb(1), feb(1), feb(1)],
          )
        ).rows[0]!.id,
      );
    const s1 = await send(welcome, n, `campaign:${onboarding}:step-1:0`);
    const s2 = await send(offer, n, 'broadcast:5');
    const s3 = await send(offer, n, `campaign:${winback}:step-1:0`);
    const click = (send: number, email: number, machine: boolean, when: number) =>
      f.event(n, 'email_clicked', { email_id: email, send_id: send, link: 0, machine }, when);
    await click(s1, welcome, false, at(2));
    await click(s2, offer, false, at(3));
    await click(s3, offer, true, at(4)); // a scanner's click: not a touch
    await click(s3, offer, false, at(6)); // after N converts: ignored
    const pass = (campaign: number, contact: number, status: string, endedAt: number | null, rotation = 0) =>
      f.q(
        `INSERT INTO campaign_enrollments (campaign_id, contact_id, rotation, version, status, source, goal, entered_at, ended_at)
         VALUES (?, ?, ?, 1, ?, 'api', ?, ?, ?)`,
        [campaign, contact, rotation, status, status === 'converted' ? 'g1' : null, feb(1), endedAt],
      );
    await pass(onboarding, n, 'converted', at(5));
    await pass(onboarding, o, 'converted', at(7));
    await pass(onboarding, p, 'active', null);
    await pass(winback, p, 'converted', feb(15)); // before the period
    await pass(winback, o, 'converted', at(20));

    // goal:onboarding = N (Mar 5), O (Mar 7). Linear on email: N's human clicks before Mar 5
    // are welcome (Mar 2) and offer (Mar 3) → 0.5 each; O clicked nothing → (none) 1. Equal
    // credit goes by key: welcome's id is the smaller.
    let r = await report(t, `conversion=goal:${onboarding}&dimension=email&model=linear`);
    expect(welcome).toBeLessThan(offer);
    expect(r.rows).toEqual([
      ['(none)', 1, null, 0.5],
      [String(welcome), 0.5, null, 0.25],
      [String(offer), 0.5, null, 0.25],
    ]);
    expect(r.labels).toMatchObject({ [String(welcome)]: 'Welcome', [String(offer)]: 'Offer' });

    // goal:any = N (Mar 5), O (Mar 7), O (Mar 20). On campaign, first_touch: N's campaign clicks
    // before Mar 5: only onboarding's send (the broadcast is no campaign, winback's click was a
    // machine's) → onboarding 1; O twice (none) → 2.
    r = await report(t, 'conversion=goal:any&dimension=campaign&model=first_touch');
    expect(r.rows).toEqual([
      ['(none)', 2, null, 0.6667],
      [String(onboarding), 1, null, 0.3333],
    ]);
    expect(r.labels[String(onboarding)]).toBe('Onboarding');
    expect(r.totals).toEqual({ conversions: 3, revenue: null, currency: null });

    expectError(await t.json('GET', `/api/v1/reports/attribution?conversion=goal:99999`), 404, 'NOT_FOUND');
  });
});

describe('the attribution report interface', () => {
  it('limits rows, not totals, and answers CSV', async () => {
    const t = await makeApp({ now: () => Date.UTC(2026, 2, 1) });
    await wonDeals(t);
    const r = await report(t, 'model=first_touch&limit=2');
    expect(r.rows.map((x) => x[0])).toEqual(['organic_search', 'referral']);
    expect(r.totals).toEqual({ conversions: 4, revenue: 1633.34, currency: 'EUR' });

    const csv = await t.call('GET', `/api/v1/reports/attribution?${PERIOD}&model=first_touch`, undefined, { headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await csv.text()).toBe(
      [
        'key,label,conversions,revenue,currency,share',
        'organic_search,organic_search,1,1000.01,EUR,0.6122',
        'referral,referral,2,533.33,EUR,0.3265',
        '(none),(none),1,100,EUR,0.0612',
        'total,,4,1633.34,EUR,',
        '',
      ].join('\r\n'),
    );
  });

  it('refuses bad parameters with clear answers', async () => {
    const t = await makeApp({ now: () => Date.UTC(2026, 2, 1) });
    const site = await makeSite(t);
    const get = (q: string) => t.json('GET', `/api/v1/reports/attribution?${q}`);
    for (const q of [
      'dimension=country',
      'model=time_decay',
      'conversion=won',
      'conversion=form:',
      'conversion=goal:0',
      'currency=eur',
      'currency=EUR&conversion=form:any',
      'limit=0',
      'limit=1001',
      'limit=ten',
      `site=${site.id}&dimension=email`,
      `site=${site.id}&dimension=campaign`,
    ]) {
      expectError(await get(q), 422, 'VALIDATION_FAILED');
    }
    expectError(await get('segment=4242'), 404, 'NOT_FOUND');
    expectError(await get('site=4242'), 404, 'NOT_FOUND');
    expectError(await get('interval=day'), 400, 'BAD_REQUEST');
    const ok = await get(`limit=1000&site=${site.id}&dimension=focus&model=linear&conversion=form:any`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ report: 'attribution', rows: [], totals: { conversions: 0, revenue: null, currency: null } });
  });
});
