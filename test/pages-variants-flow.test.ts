// Landing page A/B tests, part two, end to end through real HTTP: /p/{slug} serves each visitor its
// variant, the page's tag reports the view (POST /t), the visitor converts (POST /f/{id}, a button
// click or a custom event), the spine counts it (the reactions job), and the stats, the manual and
// the automatic winner, and the render cache follow.
import { describe, expect, it } from 'vitest';
import { createApp } from '../api/app';
import { createCtx } from '../api/core/context';
import { FRESH_MS } from '../api/core/pages/cache';
import { SPINE_COLUMNS, toEvent } from '../api/core/spine/run';
import { pageTests } from '../api/core/spine/reactions/page-tests';
import { expectError, makeApp, type TestApp } from './helpers';
import { count, runJob, track } from './tracking-helpers';
import { abSetup, addVariant, clickCta, customEvent, sendView, stats, submitForm, visit, visitorIds, type Visit } from './pages-variants-helpers';

// Many visitors from one test address: past the per-address limits a real crowd never meets.
const ENV = { PUBLIC_RATE_LIMIT: '100000' };

type Tally = Map<number, { views: number; visitors: number; conversions: number }>;
const bump = (m: Tally, id: number, k: 'views' | 'visitors' | 'conversions') => {
  const e = m.get(id) ?? { views: 0, visitors: 0, conversions: 0 };
  e[k]++;
  m.set(id, e);
};
const figures = (s: Awaited<ReturnType<typeof stats>>) => new Map(s.variants.map((v) => [v.variant_id, { views: v.views, visitors: v.visitors, conversions: v.conversions }]));

/** 36 new visitors (no cookie: the page sets one), each viewing once; every third also views again. */
async function crowd(t: TestApp, key: string, n = 36) {
  const visits: Visit[] = [];
  const want: Tally = new Map();
  for (let i = 0; i < n; i++) {
    const v = await visit(t, 'offer');
    expect(v.vid).toMatch(/^[A-Za-z0-9]{22}$/);
    await sendView(t, key, v);
    bump(want, v.variantId!, 'views');
    bump(want, v.variantId!, 'visitors');
    if (i % 3 === 0) {
      await sendView(t, key, await visit(t, 'offer', v.vid));
      bump(want, v.variantId!, 'views');
    }
    visits.push(v);
  }
  return { visits, want };
}

describe('views and conversions per variant', () => {
  it('counts every view, each visitor once with its first variant, and its first goal event after that view', async () => {
    const t = await makeApp({ env: ENV });
    const { site, form, page } = await abSetup(t);
    const a = await addVariant(t, page.id, 'A', 40);
    const b = await addVariant(t, page.id, 'B', 30);
    // A visitor of the site who submitted before any view of the page: never this page's conversion.
    const early = visitorIds(99)();
    expect((await track(t, { k: site.public_key, v: early, e: [{ t: 'pv', u: 'http://localhost/pricing' }] }, { origin: 'http://localhost' })).status).toBe(202);
    await submitForm(t, site.public_key, form.id, early, 'early@example.com');
    const { visits, want } = await crowd(t, site.public_key);
    expect(new Set(visits.map((v) => v.variantId))).toEqual(new Set([0, a.id, b.id]));
    const late = await visit(t, 'offer', early);
    await sendView(t, site.public_key, late);
    bump(want, late.variantId!, 'views');
    bump(want, late.variantId!, 'visitors');
    // Conversions: every fourth visitor submits the page's form (twice for some: counted once).
    for (const [i, v] of visits.entries()) {
      if (i % 4 !== 0) continue;
      await submitForm(t, site.public_key, form.id, v.vid!, `v${i}@example.com`);
      if (i % 8 === 0) await submitForm(t, site.public_key, form.id, v.vid!, `v${i}@example.com`);
      bump(want, v.variantId!, 'conversions');
    }
    // Button clicks are not this goal.
    for (const v of visits.slice(1, 6)) await clickCta(t, site.public_key, v);
    await runJob(t);
    const s = await stats(t, page.id);
    expect(s.status).toBe('running');
    expect(figures(s)).toEqual(new Map([0, a.id, b.id].map((id) => [id, want.get(id) ?? { views: 0, visitors: 0, conversions: 0 }])));
    for (const v of s.variants) expect(v.rate).toBe(v.visitors ? Number((v.conversions / v.visitors).toFixed(6)) : null);
    // The page views carry the variant, in the event log as any report reads it.
    const props = (await t.client.execute("SELECT props FROM events WHERE type = 'page_view' AND url LIKE '%/p/offer' LIMIT 1")).rows[0]!.props;
    expect(JSON.parse(String(props))).toMatchObject({ page_id: page.id, page_test_id: expect.any(Number), variant_id: expect.any(Number) });
    // Running the spine again counts nothing twice.
    await runJob(t);
    expect(figures(await stats(t, page.id))).toEqual(figures(s));

    // Another goal counts the same test again from the log: the clicks on the page's "buy" button.
    const clicked = await t.json('PATCH', `/api/v1/pages/${page.id}`, { ab_test: { goal: { type: 'cta_click', cta_id: 'buy' } } });
    expect(clicked.status).toBe(200);
    const byClick = new Map<number, number>();
    for (const v of visits.slice(1, 6)) byClick.set(v.variantId!, (byClick.get(v.variantId!) ?? 0) + 1);
    const s2 = await stats(t, page.id);
    for (const v of s2.variants) expect(v.conversions, `variant ${v.variant_id}`).toBe(byClick.get(v.variant_id) ?? 0);

    // A custom event from the visitor, anywhere on the site, after its view.
    await t.json('PATCH', `/api/v1/pages/${page.id}`, { ab_test: { goal: { type: 'custom_event', event_name: 'purchase' } } });
    await customEvent(t, site.public_key, visits[7]!.vid!, 'purchase');
    await customEvent(t, site.public_key, visits[8]!.vid!, 'other');
    await runJob(t);
    const s3 = await stats(t, page.id);
    expect(s3.variants.reduce((n, v) => n + v.conversions, 0)).toBe(1);
    expect(s3.variants.find((v) => v.variant_id === visits[7]!.variantId)!.conversions).toBe(1);
  });

  it('the marketer picks a winner: its content becomes the page, the test ends and is recorded, views stop counting', async () => {
    let now = Date.UTC(2026, 6, 1);
    const t = await makeApp({ env: ENV, now: () => now });
    const { site, page } = await abSetup(t);
    const a = await addVariant(t, page.id, 'A', 50, 'Winning heading');
    const { visits } = await crowd(t, site.public_key, 8);
    await runJob(t);
    const before = await stats(t, page.id);
    now += 60_000;
    const won = await t.json('POST', `/api/v1/pages/${page.id}/winner`, { variant_id: a.id });
    expect(won.status).toBe(200);
    expect(won.body).toMatchObject({ title: 'A title', sections: [{ type: 'hero', heading: 'Winning heading' }] });
    expect(won.body.ab_test).toMatchObject({
      test_id: null,
      last_winner: { test_id: expect.any(Number), variant_id: a.id, variant_name: 'A', picked_by: 'manual', picked_at: new Date(now).toISOString() },
    });
    // Everyone gets the winner now, as a page outside any test.
    for (const v of visits.slice(0, 4)) {
      const r = await visit(t, 'offer', v.vid);
      expect(r.html).toContain('<h1>Winning heading</h1>');
      expect(r.variantId).toBeNull();
      expect(r.html).not.toContain('data-leadline-event');
    }
    await sendView(t, site.public_key, await visit(t, 'offer', visits[0]!.vid));
    await runJob(t);
    const after = await stats(t, page.id);
    expect(after).toMatchObject({ status: 'ended', winner: { variant_id: a.id, picked_by: 'manual', picked_at: new Date(now).toISOString() } });
    expect(figures(after)).toEqual(figures(before));
    expect((await t.json('GET', `/api/v1/pages/${page.id}/variants`)).body.data).toHaveLength(1);
    // A new variant starts a new test, with its own counts.
    await addVariant(t, page.id, 'C', 50);
    const next = await stats(t, page.id);
    expect(next.status).toBe('running');
    expect(next.variants.every((v) => v.visitors === 0)).toBe(true);
    // The last test stays readable.
    const old = await t.json('GET', `/api/v1/pages/${page.id}/variants/stats?test_id=${won.body.ab_test.last_winner.test_id}`);
    expect(old.body.status).toBe('ended');
  });

  it('the automatic winner waits for the minimum sample, then picks the variant that beats the original significantly', async () => {
    const t = await makeApp({ env: ENV });
    const { site, form, page } = await abSetup(t);
    const a = await addVariant(t, page.id, 'A', 50);
    const patched = await t.json('PATCH', `/api/v1/pages/${page.id}`, { ab_test: { auto_winner: true, min_visitors: 12, confidence: 95 } });
    expect(patched.status).toBe(200);
    const ids = visitorIds(5);
    const seen = new Map<number, number>();
    // Visitors of A convert, visitors of the original do not.
    const more = async (per: number) => {
      for (let i = 0; i < 400 && Math.min(seen.get(0) ?? 0, seen.get(a.id) ?? 0) < per; i++) {
        const v = await visit(t, 'offer', ids());
        if ((seen.get(v.variantId!) ?? 0) >= per) continue;
        seen.set(v.variantId!, (seen.get(v.variantId!) ?? 0) + 1);
        await sendView(t, site.public_key, v);
        if (v.variantId === a.id) await submitForm(t, site.public_key, form.id, v.vid!, `${v.vid}@example.com`);
      }
    };
    await more(11);
    await runJob(t);
    const waiting = await stats(t, page.id);
    expect(waiting).toMatchObject({ status: 'running', min_reached: false, winner: null });
    // 11/11 against 0/11 is already significant: only the minimum holds it back.
    expect(waiting.variants.find((v) => v.variant_id === a.id)!.versus_control.significant).toBe(true);
    await more(12);
    await runJob(t);
    const done = await stats(t, page.id);
    expect(done).toMatchObject({ status: 'ended', min_reached: true, winner: { variant_id: a.id, picked_by: 'auto' } });
    const p = (await t.json('GET', `/api/v1/pages/${page.id}`)).body;
    expect(p).toMatchObject({ title: 'A title', ab_test: { test_id: null, last_winner: { variant_id: a.id, picked_by: 'auto' } } });
    expect((await visit(t, 'offer', ids())).html).toContain('<h1>A</h1>');
  });

  it('no automatic winner when no variant is significantly better, or when it is off', async () => {
    const t = await makeApp({ env: ENV });
    const { site, form, page } = await abSetup(t);
    const a = await addVariant(t, page.id, 'A', 50);
    await t.json('PATCH', `/api/v1/pages/${page.id}`, { ab_test: { min_visitors: 10 } });
    const ids = visitorIds(11);
    for (let i = 0; i < 60; i++) {
      const v = await visit(t, 'offer', ids());
      await sendView(t, site.public_key, v);
      // Everyone converts: A and the original alike, and A wins nothing while auto_winner is off.
      await submitForm(t, site.public_key, form.id, v.vid!, `${v.vid}@example.com`);
    }
    await runJob(t);
    expect((await stats(t, page.id)).status).toBe('running');
    await t.json('PATCH', `/api/v1/pages/${page.id}`, { ab_test: { auto_winner: true } });
    await runJob(t);
    const s = await stats(t, page.id);
    expect(s).toMatchObject({ status: 'running', min_reached: true, winner: null });
    expect(s.variants.find((v) => v.variant_id === a.id)!.versus_control).toMatchObject({ z: 0, p_value: 1, significant: false });
  });
});

describe('the spine', () => {
  it('two runners holding the same events count each view once (the counters are bounded by the committed cursor)', async () => {
    const t = await makeApp({ env: ENV });
    const { site, page } = await abSetup(t);
    await addVariant(t, page.id, 'A', 50);
    const { want } = await crowd(t, site.public_key, 9);
    const events = (await t.client.execute(`SELECT ${SPINE_COLUMNS} FROM events ORDER BY id`)).rows.map((r) => toEvent(r));
    const last = events[events.length - 1]!.id;
    // Both read the log before either commits, as two overlapping job runs do (spine/run.ts).
    const one = await pageTests.handle(t.ctx, events);
    const two = await pageTests.handle(t.ctx, events);
    const cursor = { sql: "UPDATE reaction_cursors SET last_event_id = max(last_event_id, ?) WHERE name = 'page-tests'", args: [last] };
    await t.client.batch([...one, cursor], 'write');
    await t.client.batch([...two, cursor], 'write');
    expect(figures(await stats(t, page.id))).toEqual(new Map([...want].map(([id, w]) => [id, { ...w, conversions: 0 }])));
  });
});

describe('the render cache', () => {
  it('keeps each variant rendered, and a variant change shows on the next request, here and (after its freshness check) in another process', async () => {
    let now = Date.UTC(2026, 6, 1);
    const t = await makeApp({ env: ENV, now: () => now });
    const { page } = await abSetup(t);
    const a = await addVariant(t, page.id, 'A', 50, 'Heading A1');
    // A second process on the same database: its own cache.
    const other = createApp({ ctx: createCtx({ client: t.client, config: t.ctx.config, now: () => now }) });
    const otherVisit = async (vid: string) => (await (await other.request('/p/offer', { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0 Safari/537.36', cookie: `ll_vid=${vid}` } })).text());
    const ids = visitorIds(3);
    let inA = '';
    let inOriginal = '';
    for (let i = 0; i < 100 && (!inA || !inOriginal); i++) {
      const id = ids();
      const v = await visit(t, 'offer', id);
      if (v.variantId === a.id) inA ||= id;
      else inOriginal ||= id;
    }
    expect((await visit(t, 'offer', inA)).html).toContain('<h1>Heading A1</h1>');
    expect(await otherVisit(inA)).toContain('<h1>Heading A1</h1>');
    const version = (await t.json('GET', `/api/v1/pages/${page.id}`)).body.version;
    const changed = await t.json('PATCH', `/api/v1/pages/${page.id}/variants/${a.id}`, { sections: [{ type: 'hero', heading: 'Heading A2' }] });
    expect(changed.status).toBe(200);
    expect((await t.json('GET', `/api/v1/pages/${page.id}`)).body.version).toBe(version + 1);
    expect((await visit(t, 'offer', inA)).html).toContain('<h1>Heading A2</h1>');
    expect((await visit(t, 'offer', inOriginal)).html).toContain('<h1>Original heading</h1>');
    // The other process answers from its cache until its freshness check is due, then renders again.
    expect(await otherVisit(inA)).toContain('<h1>Heading A1</h1>');
    now += FRESH_MS + 1;
    expect(await otherVisit(inA)).toContain('<h1>Heading A2</h1>');
    // Weight 0 pauses the variant: its visitors get the original.
    await t.json('PATCH', `/api/v1/pages/${page.id}/variants/${a.id}`, { weight: 0 });
    const paused = await visit(t, 'offer', inA);
    expect(paused.variantId).toBe(0);
    expect(paused.html).toContain('<h1>Original heading</h1>');
    await t.json('PATCH', `/api/v1/pages/${page.id}/variants/${a.id}`, { weight: 50 });
    expect((await visit(t, 'offer', inA)).variantId).toBe(a.id);
    // Deleting the last variant ends the test: the plain page, no marks.
    await t.json('DELETE', `/api/v1/pages/${page.id}/variants/${a.id}`);
    const plain = await visit(t, 'offer', inA);
    expect(plain.variantId).toBeNull();
    expect(plain.html).toContain('<h1>Original heading</h1>');
    expect(await count(t, 'SELECT count(*) AS n FROM page_variants')).toBe(0);
    expectError(await t.json('GET', `/api/v1/pages/${page.id}/variants/${a.id}`), 404, 'NOT_FOUND');
  });
});
