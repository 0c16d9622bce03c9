import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { InStatement } from '@libsql/client';
import { makeApp, type TestApp } from './helpers';
import { MODELS, NONE, attribute, creditConversion, splitCents, weights, type Model } from '../api/core/reports/attribution/models';
import { DIMENSIONS, type Dimension } from '../api/core/reports/attribution/touches';

// Properties of attribution: credits always add up to what converted (revenue exactly, to the
// cent; conversions to 1 each), are never negative, and first/last touch give everything to the
// first/last touch. Checked on the pure models directly, then through the report on random
// timelines written to a real database (against a reference computed here from the timeline).

const SEED = 20260312;

const keyArb = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
const conversionArb = fc.record({
  keys: fc.array(keyArb, { maxLength: 9 }),
  cents: fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 100_000_000_000 })),
});

describe('attribution models (pure)', () => {
  it('split every conversion exactly: cents sum to the value, shares to 1, nothing negative', () => {
    fc.assert(
      fc.property(fc.array(conversionArb, { maxLength: 40 }), fc.constantFrom(...MODELS), (convs, model) => {
        const byKey = attribute(convs, model);
        const cents = [...byKey.values()].reduce((s, t) => s + t.cents, 0);
        const shares = [...byKey.values()].reduce((s, t) => s + t.conversions, 0);
        expect(cents).toBe(convs.reduce((s, c) => s + c.cents, 0));
        expect(Math.abs(shares - convs.length)).toBeLessThan(1e-9);
        for (const t of byKey.values()) {
          expect(t.cents).toBeGreaterThanOrEqual(0);
          expect(t.conversions).toBeGreaterThanOrEqual(0);
        }
        for (const c of convs) {
          const credits = creditConversion(c.keys, c.cents, model);
          const keys = c.keys.length ? c.keys : [NONE];
          expect(credits.map((x) => x.key)).toEqual(keys);
          expect(credits.reduce((s, x) => s + x.cents, 0)).toBe(c.cents);
          // Largest remainder: each part is its exact share rounded down or up.
          const w = weights(keys.length, model);
          credits.forEach((x, i) => {
            const exact = (c.cents * w.num[i]!) / w.den;
            expect(Math.abs(x.cents - exact)).toBeLessThan(1 + 1e-6 * Math.max(1, exact));
          });
          if (model === 'first_touch') {
            expect(credits[0]!).toMatchObject({ conversions: 1, cents: c.cents });
            expect(credits.slice(1).every((x) => x.conversions === 0 && x.cents === 0)).toBe(true);
          }
          if (model === 'last_touch') {
            expect(credits[credits.length - 1]!).toMatchObject({ conversions: 1, cents: c.cents });
            expect(credits.slice(0, -1).every((x) => x.conversions === 0 && x.cents === 0)).toBe(true);
          }
        }
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('split very large amounts exactly too', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: 50 }), fc.constantFrom(...MODELS), (cents, n, model) => {
        const parts = splitCents(cents, weights(n, model));
        expect(parts.every((p) => Number.isSafeInteger(p) && p >= 0)).toBe(true);
        expect(parts.reduce((s, p) => s + BigInt(p), 0n)).toBe(BigInt(cents));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('position_based is 40/20/40 (50/50 for two, all for one)', () => {
    expect(creditConversion(['x'], 100, 'position_based').map((c) => c.cents)).toEqual([100]);
    expect(creditConversion(['x', 'y'], 100, 'position_based').map((c) => c.cents)).toEqual([50, 50]);
    expect(creditConversion(['x', 'y', 'z'], 100, 'position_based').map((c) => c.cents)).toEqual([40, 20, 40]);
    expect(creditConversion(['w', 'x', 'y', 'z'], 1000, 'position_based').map((c) => c.cents)).toEqual([400, 100, 100, 400]);
    // 100 cents over 40 / 6.67 × 3 / 40: 6.666… each in the middle → 6, 6, 6 and 2 cents left to
    // the largest remainders (the middle ones, earliest first) → 7, 7, 6.
    expect(creditConversion(['v', 'w', 'x', 'y', 'z'], 100, 'position_based').map((c) => c.cents)).toEqual([40, 7, 7, 6, 40]);
  });
});

// ---------------------------------------------------------------------------
// Through the report: random timelines in the database.

const DAY = 86_400_000;
const START = Date.UTC(2026, 2, 1); // the period: March 2026 (UTC)
const END = Date.UTC(2026, 3, 1);
const CHANNELS = ['direct', 'organic_search', 'social', 'email', 'paid', 'referral'];
const SOURCES = [null, 'google', 'twitter', 'newsletter', 'example.org'];
const PAGES = [null, '/', '/pricing', '/blog'];
const CAMPAIGNS = [null, 'spring', 'launch'];

// Times on a coarse grid (midnights from Feb 26 to Apr 4, the period's edges included) so
// touches and conversions often tie.
const timeArb = fc.integer({ min: 0, max: 37 }).map((d) => Date.UTC(2026, 1, 26) + d * DAY);

const visitArb = fc.record({
  at: timeArb,
  channel: fc.constantFrom(...CHANNELS),
  source: fc.constantFrom(...SOURCES),
  medium: fc.constantFrom(null, 'cpc', 'email'),
  campaign: fc.constantFrom(...CAMPAIGNS),
  referrer: fc.constantFrom(null, 'google.com', 't.co'),
  page: fc.constantFrom(...PAGES),
  site: fc.constantFrom(1, 2),
});
type Visit = { at: number; channel: string; source: string | null; medium: string | null; campaign: string | null; referrer: string | null; page: string | null; site: number };

const eventArb = fc.oneof(
  fc.record({ kind: fc.constant('form' as const), at: timeArb, form: fc.integer({ min: 1, max: 3 }), focus: fc.option(fc.integer({ min: 1, max: 2 }), { nil: null }), site: fc.constantFrom(1, 2) }),
  fc.record({ kind: fc.constant('focus' as const), at: timeArb, focus: fc.integer({ min: 1, max: 2 }), site: fc.constantFrom(1, 2) }),
  fc.record({ kind: fc.constant('click' as const), at: timeArb, send: fc.integer({ min: 0, max: 3 }), machine: fc.boolean() }),
);
type Ev = { kind: 'form'; at: number; form: number; focus: number | null; site: number } | { kind: 'focus'; at: number; focus: number; site: number } | { kind: 'click'; at: number; send: number; machine: boolean };

const dealArb = (at: fc.Arbitrary<number>) =>
  fc.record({
    at,
    cents: fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 5_000_000_000 })),
    won: fc.boolean(),
    currency: fc.constantFrom('EUR', 'EUR', 'EUR', 'USD'),
  });

// A deal closes at a random time or at the very time of one of the contact's touches (the
// boundary: a touch at the conversion's instant counts).
const contactArb = fc
  .record({ visits: fc.array(visitArb, { maxLength: 5 }), events: fc.array(eventArb, { maxLength: 5 }) })
  .chain(({ visits, events }) => {
    const times = [...visits.map((v) => v.at), ...events.map((e) => e.at)];
    const at = times.length ? fc.oneof(timeArb, fc.constantFrom(...times)) : timeArb;
    return fc.record({ visits: fc.constant(visits), events: fc.constant(events), deals: fc.array(dealArb(at), { maxLength: 3 }) });
  });
type Timeline = { visits: Visit[]; events: Ev[]; deals: { at: number; cents: number; won: boolean; currency: string }[] }[];

// Sends 0–3: emails 1, 2, 1, 2; 0 and 2 belong to campaigns 1 and 2, 1 and 3 are broadcasts.
const SENDS = [
  { email: 1, campaign: 1 },
  { email: 2, campaign: null },
  { email: 1, campaign: 2 },
  { email: 2, campaign: null },
];

/** A touch of the reference timeline: time, insertion order, key. */
type RefTouch = { at: number; seq: number; key: string };

function refTouches(v: Timeline[number], ids: { visit: number[]; event: number[] }, dim: Dimension, site: number | null): RefTouch[] {
  const out: RefTouch[] = [];
  const visitKey: Partial<Record<Dimension, (x: Visit) => string>> = {
    channel: (x) => x.channel,
    source: (x) => x.source ?? 'direct',
    medium: (x) => x.medium ?? NONE,
    utm_campaign: (x) => x.campaign ?? NONE,
    referrer: (x) => x.referrer ?? NONE,
    landing_page: (x) => x.page ?? NONE,
  };
  const vk = visitKey[dim];
  if (vk) {
    v.visits.forEach((x, i) => {
      if (site === null || x.site === site) out.push({ at: x.at, seq: ids.visit[i]!, key: vk(x) });
    });
    return out;
  }
  v.events.forEach((e, i) => {
    const seq = ids.event[i]!;
    if (e.kind !== 'click' && site !== null && e.site !== site) return;
    let key: string | null = null;
    if (dim === 'form' && e.kind === 'form') key = String(e.form);
    if (dim === 'focus' && e.kind === 'focus') key = String(e.focus);
    if (dim === 'focus' && e.kind === 'form' && e.focus !== null) key = String(e.focus);
    if (dim === 'email' && e.kind === 'click' && !e.machine) key = String(SENDS[e.send]!.email);
    if (dim === 'campaign' && e.kind === 'click' && !e.machine && SENDS[e.send]!.campaign !== null) key = String(SENDS[e.send]!.campaign);
    if (key !== null) out.push({ at: e.at, seq, key });
  });
  return out;
}

/** The expected report: credits per key (cents, conversions) from the timeline, computed here. */
function reference(timeline: Timeline, dim: Dimension, model: Model, site: number | null) {
  // The report's currency: the most won revenue in the period, else ever (reports/scope.ts).
  const top = (inPeriod: boolean) => {
    const sums = new Map<string, number>();
    for (const c of timeline) for (const d of c.deals) if (d.won && (!inPeriod || (d.at >= START && d.at < END))) sums.set(d.currency, (sums.get(d.currency) ?? 0) + d.cents);
    let best: string | null = null;
    for (const [k, s] of [...sums].sort()) if (best === null || s > sums.get(best)!) best = k;
    return best;
  };
  const currency = top(true) ?? top(false);
  const convs: { keys: string[]; cents: number }[] = [];
  timeline.forEach((c, i) => {
    const touches = refTouches(c, IDS[i]!, dim, site).sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const d of c.deals) {
      if (!d.won || d.at < START || d.at >= END || d.currency !== currency) continue;
      if (touches.some((t) => t.at === d.at)) SEEN.ties++;
      SEEN.conversions++;
      convs.push({ keys: touches.filter((t) => t.at <= d.at).map((t) => t.key), cents: d.cents });
    }
  });
  // first/last touch by hand here; linear and position_based through the pure models.
  if (model === 'first_touch' || model === 'last_touch') {
    const m = new Map<string, { conversions: number; cents: number }>();
    for (const c of convs) {
      const key = c.keys.length ? c.keys[model === 'first_touch' ? 0 : c.keys.length - 1]! : NONE;
      const t = m.get(key) ?? { conversions: 0, cents: 0 };
      t.conversions += 1;
      t.cents += c.cents;
      m.set(key, t);
    }
    return { byKey: m, convs, currency };
  }
  return { byKey: attribute(convs, model), convs, currency };
}

// Ids given to each contact's visits and events as they are inserted (filled per run).
let IDS: { visit: number[]; event: number[] }[] = [];
// What the random timelines exercised: conversions, and conversions with a touch at their very time.
const SEEN = { conversions: 0, ties: 0 };

describe('attribution through the report (random timelines)', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Hundreds of report calls a minute: above the API's default rate limit.
    t = await makeApp({ memory: true, now: () => END + DAY, env: { API_RATE_LIMIT: '1000000' } });
    await t.client.execute("INSERT INTO sites (id, name, public_key, secret, created_at, updated_at) VALUES (1, 'One', 'k1', 's1', 0, 0), (2, 'Two', 'k2', 's2', 0, 0)");
  });
  afterAll(() => t?.client.close());

  async function load(timeline: Timeline) {
    const stmts: InStatement[] = ['contacts', 'sessions', 'deals', 'events', 'email_sends'].map((x) => `DELETE FROM ${x}`);
    SENDS.forEach((s, i) =>
      stmts.push({
        sql: `INSERT INTO email_sends (id, email_id, contact_id, to_email, reason, marketing, status, created_at, updated_at) VALUES (?, ?, NULL, 'x@example.com', ?, 1, 'sent', 0, 0)`,
        args: [i + 1, s.email, s.campaign === null ? `broadcast:${i}` : `campaign:${s.campaign}:step:0`],
      }),
    );
    let session = 1;
    let event = 1;
    IDS = [];
    timeline.forEach((c, i) => {
      const contact = i + 1;
      stmts.push({ sql: `INSERT INTO contacts (id, email, email_normalized, created_at, updated_at) VALUES (?, ?, ?, 0, 0)`, args: [contact, `c${contact}@x.org`, `c${contact}@x.org`] });
      const ids = { visit: [] as number[], event: [] as number[] };
      for (const v of c.visits) {
        ids.visit.push(session);
        stmts.push({
          sql: `INSERT INTO sessions (id, site_id, visitor_id, contact_id, started_at, last_at, last_event_id, entry_page, channel, source, medium, campaign, referrer)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          args: [session, v.site, contact, contact, v.at, v.at, session, v.page, v.channel, v.source, v.medium, v.campaign, v.referrer],
        });
        session++;
      }
      for (const e of c.events) {
        ids.event.push(event);
        const [type, props, site] =
          e.kind === 'form'
            ? ['form_submit', { form_id: e.form, submission_id: event, ...(e.focus !== null && { focus_id: e.focus }) }, e.site]
            : e.kind === 'focus'
              ? ['focus_click', { focus_id: e.focus, variant: 'a' }, e.site]
              : ['email_clicked', { email_id: SENDS[e.send]!.email, send_id: e.send + 1, link: 0, machine: e.machine }, null];
        stmts.push({ sql: 'INSERT INTO events (id, site_id, contact_id, type, props, created_at) VALUES (?, ?, ?, ?, ?, ?)', args: [event, site, contact, type, JSON.stringify(props), e.at] });
        event++;
      }
      for (const d of c.deals) {
        stmts.push({
          sql: `INSERT INTO deals (contact_id, name, amount_cents, currency, stage, closed_at, created_at, updated_at) VALUES (?, 'd', ?, ?, ?, ?, 0, 0)`,
          args: [contact, d.cents, d.currency, d.won ? 'won' : 'lost', d.at],
        });
      }
      IDS.push(ids);
    });
    await t.client.batch(stmts, 'write');
  }

  const get = async (query: string) => {
    const r = await t.json('GET', `/api/v1/reports/attribution?from=2026-03-01&to=2026-03-31&limit=1000&${query}`);
    if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
    return r.body as { rows: { key: string; conversions: number; revenue: number | null; currency: string | null; share: number | null }[]; totals: any };
  };

  it('revenue credits sum to the won amounts to the cent, for every model and dimension, and match the timeline', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(contactArb, { minLength: 1, maxLength: 10 }), fc.constantFrom(null, 1, 2), async (timeline, site) => {
        await load(timeline as Timeline);
        for (const dim of DIMENSIONS) {
          const siteless = dim === 'email' || dim === 'campaign';
          const s = siteless ? null : site;
          for (const model of MODELS) {
            const body = await get(`dimension=${dim}&model=${model}${s === null ? '' : `&site=${s}`}`);
            const ref = reference(timeline as Timeline, dim, model, s);
            const won = ref.convs.reduce((a, c) => a + c.cents, 0);
            // Exact: the rows' cents add up to the won amounts in the reported currency.
            const rowCents = body.rows.reduce((a, r) => a + Math.round(r.revenue! * 100), 0);
            expect(rowCents).toBe(won);
            expect(Math.round(body.totals.revenue * 100)).toBe(won);
            expect(body.totals.conversions).toBe(ref.convs.length);
            expect(body.totals.currency).toBe(ref.currency);
            // Conversions: shares of 1 each, shown to 4 places (so within 0.00005 a row).
            const shares = body.rows.reduce((a, r) => a + r.conversions, 0);
            expect(Math.abs(shares - ref.convs.length)).toBeLessThanOrEqual(0.00005 * body.rows.length + 1e-9);
            for (const r of body.rows) {
              expect(r.revenue!).toBeGreaterThanOrEqual(0);
              expect(r.conversions).toBeGreaterThanOrEqual(0);
            }
            // The same credits as the reference, key by key.
            const got = Object.fromEntries(body.rows.map((r) => [r.key, [Math.round(r.revenue! * 100), r.conversions]]));
            const want = Object.fromEntries([...ref.byKey].map(([k, v]) => [k, [v.cents, Math.round(v.conversions * 10_000) / 10_000]]));
            expect(got).toEqual(want);
          }
        }
      }),
      { seed: SEED, numRuns: 40 },
    );
    // The runs were not vacuous: many conversions, some touched at the instant they converted.
    expect(SEEN.conversions).toBeGreaterThan(2000);
    expect(SEEN.ties).toBeGreaterThan(200);
  }, 60_000);

  it('form conversions are credited 1 each, to forms and focus items', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(contactArb, { minLength: 1, maxLength: 8 }), async (timeline) => {
        await load(timeline as Timeline);
        const count = (timeline as Timeline).reduce((a, c) => a + c.events.filter((e) => e.kind === 'form' && e.at >= START && e.at < END).length, 0);
        for (const dim of ['form', 'focus', 'channel'] as const) {
          for (const model of MODELS) {
            const body = await get(`conversion=form:any&dimension=${dim}&model=${model}`);
            expect(body.totals).toEqual({ conversions: count, revenue: null, currency: null });
            const shares = body.rows.reduce((a, r) => a + r.conversions, 0);
            expect(Math.abs(shares - count)).toBeLessThanOrEqual(0.00005 * body.rows.length + 1e-9);
            for (const r of body.rows) {
              expect(r.revenue).toBeNull();
              expect(r.conversions).toBeGreaterThan(0);
            }
          }
        }
      }),
      { seed: SEED, numRuns: 15 },
    );
  }, 60_000);
});
