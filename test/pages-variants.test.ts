// Landing page A/B tests, part one: the variants API and its refusals, the statistics against
// hand-computed figures, and who gets which variant at /p/{slug} (the same visitor always the same
// one, a crowd split as the weights say, bots and untrackable browsers the plain page).
import { describe, expect, it } from 'vitest';
import { expectError, makeApp } from './helpers';
import { count } from './tracking-helpers';
import { abSetup, addVariant, visit, visitorIds } from './pages-variants-helpers';
import { bucketOf, pickArm } from '../api/core/pages/arms';
import { autoPick, compare, erfc, twoProportionZTest } from '../api/core/pages/stats';

describe('the variants API', () => {
  it('adds, lists, reads, changes and deletes variants; the original is variant 0 with what the weights leave', async () => {
    const t = await makeApp();
    const { page } = await abSetup(t);
    expect(page.ab_test).toEqual({ goal: { type: 'form_submitted', form_id: null }, min_visitors: 500, confidence: 95, auto_winner: false, test_id: null, last_winner: null });
    expect((await t.json('GET', `/api/v1/pages/${page.id}/variants`)).body.data).toEqual([
      expect.objectContaining({ id: 0, name: 'Original', title: 'Original title', weight: 100, control: true }),
    ]);
    // Without title and sections, a variant starts as a copy of the page.
    const copy = await t.json('POST', `/api/v1/pages/${page.id}/variants`, { name: 'Copy', weight: 30 });
    expect(copy.status).toBe(201);
    expect(copy.body).toMatchObject({ page_id: page.id, name: 'Copy', title: 'Original title', sections: page.sections, weight: 30, control: false });
    const b = await addVariant(t, page.id, 'B', 20);
    const after = (await t.json('GET', `/api/v1/pages/${page.id}`)).body;
    expect(after.ab_test.test_id).toEqual(expect.any(Number));
    expect(after.version).toBe(page.version + 2);
    const list = (await t.json('GET', `/api/v1/pages/${page.id}/variants`)).body.data;
    expect(list.map((v: any) => [v.id, v.weight])).toEqual([[0, 50], [copy.body.id, 30], [b.id, 20]]);
    expect((await t.json('GET', `/api/v1/pages/${page.id}/variants/0`)).body).toMatchObject({ id: 0, control: true, weight: 50 });
    expect((await t.json('GET', `/api/v1/pages/${page.id}/variants/${b.id}`)).body.title).toBe('B title');
    const changed = await t.json('PATCH', `/api/v1/pages/${page.id}/variants/${b.id}`, { name: 'B2', weight: 60 });
    expect(changed.body).toMatchObject({ name: 'B2', weight: 60, title: 'B title' });
    expect((await t.json('DELETE', `/api/v1/pages/${page.id}/variants/${copy.body.id}`)).body).toEqual({ id: copy.body.id, deleted: true });
    expect((await t.json('GET', `/api/v1/pages/${page.id}/variants`)).body.data.map((v: any) => [v.id, v.weight])).toEqual([[0, 40], [b.id, 60]]);
    // The last variant's deletion discards the test.
    await t.json('DELETE', `/api/v1/pages/${page.id}/variants/${b.id}`);
    expect((await t.json('GET', `/api/v1/pages/${page.id}`)).body.ab_test.test_id).toBeNull();
    expect(await count(t, 'SELECT count(*) AS n FROM page_tests')).toBe(0);
    expectError(await t.json('GET', `/api/v1/pages/${page.id}/variants/stats`), 404, 'NOT_FOUND');
  });

  it('refuses weights past 99%, a tenth variant, unknown forms, the original as a variant and bad settings with 4xx; nothing is written', async () => {
    const t = await makeApp();
    const { page } = await abSetup(t);
    const base = { name: 'V', weight: 10 };
    const bad = async (method: string, path: string, body: unknown, field: string, status = 422) => {
      const r = await t.json(method, path, body);
      expectError(r, status, status === 422 ? 'VALIDATION_FAILED' : 'NOT_FOUND');
      if (field) expect(r.body.error.details.map((d: any) => d.field)).toContain(field);
      return r;
    };
    const variants = `/api/v1/pages/${page.id}/variants`;
    for (const weight of [-1, 100, 1.5, '10', null]) await bad('POST', variants, { ...base, weight }, 'weight');
    await bad('POST', variants, { name: 'V' }, 'weight');
    await bad('POST', variants, { ...base, name: '' }, 'name');
    await bad('POST', variants, { ...base, sections: [{ type: 'form', form_id: 4242 }] }, 'sections.0.form_id');
    await bad('POST', variants, { ...base, sections: [{ type: 'cta', label: 'x', url: 'javascript:alert(1)' }] }, 'sections.0.url');
    await bad('POST', variants, { ...base, sections: [{ type: 'cta', label: 'x', url: '/x', id: 'no spaces' }] }, 'sections.0.id');
    await bad('POST', variants, { ...base, extra: 1 }, 'extra');
    expect(await count(t, 'SELECT count(*) AS n FROM page_tests')).toBe(0);
    const a = await addVariant(t, page.id, 'A', 60);
    const over = await bad('POST', variants, { ...base, weight: 40 }, 'weight');
    expect(over.body.error.message).toContain('100%');
    await bad('PATCH', `${variants}/${a.id}`, { weight: 100 }, 'weight');
    await bad('PATCH', `${variants}/${a.id}`, {}, '');
    await bad('PATCH', `${variants}/0`, { weight: 10 }, 'variantId');
    await bad('DELETE', `${variants}/0`, undefined, 'variantId');
    await bad('PATCH', `${variants}/-1`, { weight: 10 }, 'variantId');
    await bad('GET', `${variants}/999`, undefined, '', 404);
    await bad('GET', `/api/v1/pages/999/variants`, undefined, '', 404);
    for (let i = 0; i < 8; i++) await addVariant(t, page.id, `V${i}`, 1);
    const tenth = await bad('POST', variants, { ...base, weight: 1 }, '');
    expect(tenth.body.error.message).toContain('at most 9');
    expect(await count(t, 'SELECT count(*) AS n FROM page_variants')).toBe(9);
    expect((await t.json('GET', `${variants}/${a.id}`)).body.weight).toBe(60);

    // The settings on the page.
    const patch = (ab_test: unknown) => t.json('PATCH', `/api/v1/pages/${page.id}`, { ab_test });
    for (const [ab, field] of [
      [{ goal: { type: 'form_submitted', form_id: 4242 } }, 'ab_test.goal.form_id'],
      [{ goal: { type: 'cta_click', cta_id: 'nowhere' } }, 'ab_test.goal.cta_id'],
      [{ goal: { type: 'custom_event' } }, 'ab_test.goal.event_name'],
      [{ goal: { type: 'pageviews' } }, 'ab_test.goal.type'],
      [{ confidence: 50 }, 'ab_test.confidence'],
      [{ min_visitors: 0 }, 'ab_test.min_visitors'],
      [{ auto_winner: 'yes' }, 'ab_test.auto_winner'],
    ] as const) {
      const r = await patch(ab);
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details.map((d: any) => d.field)).toContain(field);
    }
    const ok = await patch({ goal: { type: 'cta_click', cta_id: 'buy' }, confidence: 99, auto_winner: true, min_visitors: 50 });
    expect(ok.body.ab_test).toMatchObject({ goal: { type: 'cta_click', cta_id: 'buy' }, confidence: 99, auto_winner: true, min_visitors: 50 });
    // The running test's goal follows.
    expect((await t.json('GET', `${variants}/stats`)).body.goal).toEqual({ type: 'cta_click', cta_id: 'buy' });

    // The winner: only a variant of the running test.
    const w = await t.json('POST', `/api/v1/pages/${page.id}/winner`, { variant_id: 4242 });
    expectError(w, 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', `/api/v1/pages/${page.id}/winner`, { variant_id: -1 }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', `/api/v1/pages/${page.id}/winner`, {}), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', `/api/v1/pages/999/winner`, { variant_id: 0 }), 404, 'NOT_FOUND');
    expect((await t.json('POST', `/api/v1/pages/${page.id}/winner`, { variant_id: 0 })).status).toBe(200);
    expectError(await t.json('POST', `/api/v1/pages/${page.id}/winner`, { variant_id: 0 }), 409, 'CONFLICT');
  });
});

describe('previews', () => {
  it('a preview link shows a variant of the running test; another page\'s variant or a made-up one does not show', async () => {
    const t = await makeApp();
    const { page } = await abSetup(t);
    const a = await addVariant(t, page.id, 'A', 50, 'Heading of A');
    const link = await t.json('POST', `/api/v1/pages/${page.id}/preview-link`, { variant_id: a.id });
    expect(link.status).toBe(201);
    expect(link.body.url).toMatch(new RegExp(`\\?preview=[^&]+&variant=${a.id}$`));
    const url = new URL(link.body.url);
    const shown = await t.app.request(url.pathname + url.search);
    const html = await shown.text();
    expect(html).toContain('<h1>Heading of A</h1>');
    expect(html).toContain('<title>A title</title>');
    expect(shown.headers.get('cache-control')).toBe('no-store');
    expect((await (await t.app.request(url.pathname + url.search.replace(/&variant=\d+$/, ''))).text())).toContain('<h1>Original heading</h1>');
    expect((await t.app.request(url.pathname + url.search.replace(/&variant=\d+$/, '&variant=4242'))).status).toBe(404);
    expect((await t.app.request(url.pathname + url.search.replace(/&variant=\d+$/, '&variant=x'))).status).toBe(404);
    expectError(await t.json('POST', `/api/v1/pages/${page.id}/preview-link`, { variant_id: 4242 }), 422, 'VALIDATION_FAILED');
  });
});

describe('the statistics', () => {
  it('the pooled two-proportion z-test matches hand-computed values', () => {
    // 200/1000 against 250/1000: pooled p = 450/2000 = 0.225, SE = sqrt(0.225 · 0.775 · (1/1000 + 1/1000)) = 0.0186748,
    // z = 0.05 / 0.0186748 = 2.67740, two-sided p = 2 · (1 − Φ(2.67740)) = 0.0074196.
    const r = twoProportionZTest({ x: 200, n: 1000 }, { x: 250, n: 1000 })!;
    expect(r.z).toBeCloseTo(2.6774, 4);
    expect(r.p_value).toBeCloseTo(0.0074196, 6);
    // The other way round: the same p, the opposite sign.
    expect(twoProportionZTest({ x: 250, n: 1000 }, { x: 200, n: 1000 })!.z).toBeCloseTo(-2.6774, 4);
    // 50/500 against 60/500: z = 1.01067, p = 0.312175 (not significant).
    const small = twoProportionZTest({ x: 50, n: 500 }, { x: 60, n: 500 })!;
    expect(small.z).toBeCloseTo(1.01067, 4);
    expect(small.p_value).toBeCloseTo(0.312175, 5);
    expect(twoProportionZTest({ x: 100, n: 1000 }, { x: 100, n: 1000 })).toEqual({ z: 0, p_value: 1 });
    expect(twoProportionZTest({ x: 0, n: 10 }, { x: 0, n: 10 })).toEqual({ z: 0, p_value: 1 });
    expect(twoProportionZTest({ x: 0, n: 0 }, { x: 1, n: 10 })).toBeNull();
    // erfc at known points (1.96 → the 5% two-sided bound).
    expect(erfc(1.959964 / Math.SQRT2)).toBeCloseTo(0.05, 6);
    expect(erfc(0)).toBeCloseTo(1, 6);
    expect(erfc(-1)).toBeCloseTo(1.8427008, 6);
  });

  it('compares each variant with the original at a Bonferroni-corrected alpha, and picks a winner only past the minimum', () => {
    const arm = (id: number, visitors: number, conversions: number) => ({ id, name: `v${id}`, weight: id ? 30 : 40, views: visitors, visitors, conversions });
    const one = compare([arm(0, 1000, 200), arm(1, 1000, 250)], 95);
    expect(one.alpha).toBe(0.05);
    expect(one.variants[1]!.versus_control).toEqual({ difference: 0.05, lift: 0.25, z: 2.6774, p_value: 0.00741965, significant: true });
    expect(one.variants[0]!.versus_control).toBeNull();
    expect(autoPick({ variants: one.variants, min_reached: true })).toBe(1);
    expect(autoPick({ variants: one.variants, min_reached: false })).toBeNull();
    // Two variants: alpha halves (0.025); p = 0.0074 still passes at 95%, not at 99.5% (alpha 0.0025).
    const two = compare([arm(0, 1000, 200), arm(1, 1000, 250), arm(2, 1000, 210)], 95);
    expect(two.alpha).toBe(0.025);
    expect(two.variants.map((v) => v.versus_control?.significant)).toEqual([undefined, true, false]);
    expect(compare([arm(0, 1000, 200), arm(1, 1000, 250), arm(2, 1000, 210)], 99.5).variants[1]!.versus_control!.significant).toBe(false);
    // A variant significantly worse than the original never wins.
    expect(autoPick({ variants: compare([arm(0, 1000, 250), arm(1, 1000, 200)], 95).variants, min_reached: true })).toBeNull();
    expect(compare([arm(0, 0, 0), arm(1, 10, 1)], 95).variants[1]!.versus_control).toEqual({ difference: null, lift: null, z: null, p_value: null, significant: false });
  });
});

describe('who gets which variant', () => {
  it('the same visitor always gets the same variant; the bucket of an id never changes (live visitors would move)', async () => {
    const t = await makeApp();
    const { page } = await abSetup(t);
    const a = await addVariant(t, page.id, 'A', 30);
    const b = await addVariant(t, page.id, 'B', 30);
    const ids = visitorIds(7);
    const seen = new Map<number, number>();
    for (let i = 0; i < 30; i++) {
      const vid = ids();
      const first = await visit(t, 'offer', vid);
      expect(first.setCookie).toBeNull();
      for (let k = 0; k < 3; k++) expect((await visit(t, 'offer', vid)).variantId).toBe(first.variantId);
      seen.set(first.variantId!, (seen.get(first.variantId!) ?? 0) + 1);
      // The variant's own content is what was served.
      const heading = first.variantId === a.id ? 'A' : first.variantId === b.id ? 'B' : 'Original heading';
      expect(first.html).toContain(`<h1>${heading}</h1>`);
    }
    expect([...seen.keys()].sort()).toEqual([0, a.id, b.id].sort());
    // Pinned: a changed hash would silently move every running test's visitors.
    expect([bucketOf(1, 1, 'abcdefghijklmnopqrstuv'), bucketOf(7, 3, 'visitor000000000001'), bucketOf(123, 45, '0123456789abcdefghij_-')]).toEqual([1119, 4503, 1146]);
  });

  it('over 20,000 seeded visitors the split matches the weights within 4 standard deviations', () => {
    const weights = [50, 30, 15];
    const arms = [...weights.map((w, i) => ({ variantId: i + 1, weight: w, template: [], formIds: [] })), { variantId: 0, weight: 5, template: [], formIds: [] }];
    const n = 20_000;
    const ids = visitorIds(42);
    const got = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const arm = pickArm({ pageId: 17, testId: 3, arms }, ids());
      got.set(arm.variantId, (got.get(arm.variantId) ?? 0) + 1);
    }
    for (const arm of arms) {
      const p = arm.weight / 100;
      // Binomial: expected n·p, standard deviation sqrt(n·p·(1 − p)); 4σ is about 1 in 16,000 by chance.
      const sd = Math.sqrt(n * p * (1 - p));
      const diff = Math.abs((got.get(arm.variantId) ?? 0) - n * p);
      expect(diff, `variant ${arm.variantId}: ${got.get(arm.variantId)} of ${n}, expected ${n * p} ± ${(4 * sd).toFixed(0)}`).toBeLessThan(4 * sd);
    }
  });

  it('a new visitor gets an id cookie; bots and browsers the site may not count get the plain page and no cookie', async () => {
    const t = await makeApp();
    const { page } = await abSetup(t, { settings: { respect_dnt: true } });
    await addVariant(t, page.id, 'A', 50);
    const fresh = await visit(t, 'offer');
    expect(fresh.setCookie).toMatch(/^ll_vid=[A-Za-z0-9]{22}; Path=\/; Max-Age=31536000; SameSite=Lax$/);
    expect(fresh.variantId).not.toBeNull();
    expect(fresh.headers.get('cache-control')).toBe('private, no-cache');
    expect(fresh.headers.get('vary')).toContain('Cookie');
    // The cookie it set is the one the next request sends: the same variant.
    expect((await visit(t, 'offer', fresh.vid)).variantId).toBe(fresh.variantId);
    const bot = await visit(t, 'offer', null, { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' });
    expect(bot.setCookie).toBeNull();
    expect(bot.variantId).toBeNull();
    expect(bot.html).toContain('<h1>Original heading</h1>');
    expect(bot.html).not.toContain('data-leadline-event');
    expect(bot.html.match(/<script/g)).toHaveLength(1);
    for (const h of [{ dnt: '1' }, { 'sec-gpc': '1' }] as Record<string, string>[]) {
      const r = await visit(t, 'offer', 'knownvisitor0000000001', h);
      expect(r.variantId).toBeNull();
      expect(r.setCookie).toBeNull();
    }
    // A cookie that is no visitor id is replaced.
    expect((await visit(t, 'offer', 'bad')).setCookie).toMatch(/^ll_vid=/);
  });

  it('a site that asks for consent first: no cookie is set before the tag has one', async () => {
    const t = await makeApp();
    const { page } = await abSetup(t, { settings: { consent_required: true } });
    await addVariant(t, page.id, 'A', 50);
    const first = await visit(t, 'offer');
    expect(first.setCookie).toBeNull();
    expect(first.variantId).toBeNull();
    // Once the tag holds an id (after consent), the visitor is in the test.
    expect((await visit(t, 'offer', 'consentedvisitor000001')).variantId).not.toBeNull();
  });

  it('a page without a test answers as before: no cookie, no Vary, one script', async () => {
    const t = await makeApp();
    await abSetup(t);
    const r = await visit(t, 'offer');
    expect(r.setCookie).toBeNull();
    expect(r.headers.get('cache-control')).toBe('no-cache');
    expect(r.headers.get('vary') ?? '').not.toContain('Cookie');
    expect(r.html.match(/<script/g)).toHaveLength(1);
    expect(r.html).toContain('<a class="btn primary" href="https://shop.example.com/buy">Get it</a>');
  });
});
