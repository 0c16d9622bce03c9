import { describe, it, expect } from 'vitest';
import { makeApp, expectError } from './helpers';
import { makeSite, track, vid, sign, runJob, count } from './tracking-helpers';

const pv = (path: string, extra: Record<string, unknown> = {}) => ({ t: 'pv', u: `https://shop.example.com${path}`, ...extra });

describe('visitors and identity', () => {
  it('anonymous traffic creates visitors, never contacts', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    for (let i = 0; i < 5; i++) expect((await track(t, { k: site.public_key, v: vid(i), e: [pv('/')] })).status).toBe(202);
    expect(await count(t, 'SELECT count(*) AS n FROM visitors')).toBe(5);
    expect(await count(t, 'SELECT count(*) AS n FROM contacts')).toBe(0);
  });

  it('a signed identify turns the earlier anonymous page views into the contact timeline, first touch included', async () => {
    let now = Date.UTC(2026, 5, 1);
    const t = await makeApp({ now: () => (now += 1000) });
    const site = await makeSite(t);
    await track(t, { k: site.public_key, v: vid(1), e: [pv('/?utm_source=newsletter&utm_campaign=june', { r: 'https://news.example.org/' })] });
    await track(t, { k: site.public_key, v: vid(1), e: [pv('/pricing'), { t: 'ev', u: 'https://shop.example.com/pricing', n: 'video_play', p: { seconds: 30 } }] });
    const r = await track(t, { k: site.public_key, v: vid(1), e: [], id: { email: ' Ada@Example.com', sig: sign(site.secret, 'ada@example.com') } });
    expect(r.status).toBe(202);
    await runJob(t);
    const contacts = (await t.json('GET', '/api/v1/contacts')).body.data;
    expect(contacts).toHaveLength(1);
    const c = contacts[0];
    expect(c.first_source).toMatchObject({ utm_source: 'newsletter', utm_campaign: 'june', referrer: 'https://news.example.org/' });
    const visitor = (await t.json('GET', `/api/v1/visitors?site_id=${site.id}&visitor_id=${vid(1)}`)).body;
    expect(c.first_seen_at).toBe(visitor.first_seen_at);
    expect(Date.parse(c.first_seen_at)).toBeLessThan(Date.parse(c.created_at));
    expect(c.last_active_at).not.toBeNull();
    const events = (await t.json('GET', `/api/v1/contacts/${c.id}/events`)).body.data;
    expect(events.map((e: any) => e.type).sort()).toEqual(['custom', 'identified', 'page_view', 'page_view']);
    expect(events.find((e: any) => e.type === 'custom')).toMatchObject({ name: 'video_play', props: { seconds: 30 } });
    // Later events of the identified visitor belong to the contact at once.
    await track(t, { k: site.public_key, v: vid(1), e: [pv('/checkout')] });
    const again = (await t.json('GET', `/api/v1/contacts/${c.id}/events?type=page_view&limit=1`)).body.data;
    expect(again[0].url).toBe('https://shop.example.com/checkout');
  });

  it('a forged or wrong signature is refused and changes nothing', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const other = await makeSite(t, { name: 'Other' });
    await track(t, { k: site.public_key, v: vid(1), e: [pv('/')] });
    const before = await count(t, 'SELECT count(*) AS n FROM events');
    for (const sig of [sign(site.secret, 'eve@example.com'), sign(other.secret, 'ada@example.com'), 'f'.repeat(64)]) {
      const r = await track(t, { k: site.public_key, v: vid(1), e: [pv('/x')], id: { email: 'ada@example.com', sig } });
      expect(r.status).toBe(403);
      expect((await r.json()).error.code).toBe('INVALID_SIGNATURE');
    }
    expect(await count(t, 'SELECT count(*) AS n FROM contacts')).toBe(0);
    expect(await count(t, 'SELECT count(*) AS n FROM events')).toBe(before);
    const bad = await track(t, { k: site.public_key, v: vid(1), e: [], id: { email: 'ada@example.com', sig: 'nothex' } });
    expect(bad.status).toBe(422);
    // A rotated secret invalidates old signatures.
    const rotated = await t.json('POST', `/api/v1/sites/${site.id}/rotate-secret`);
    expect(rotated.body.secret).not.toBe(site.secret);
    const old = await track(t, { k: site.public_key, v: vid(1), e: [], id: { email: 'ada@example.com', sig: sign(site.secret, 'ada@example.com') } });
    expect(old.status).toBe(403);
    const fresh = await track(t, { k: site.public_key, v: vid(1), e: [], id: { email: 'ada@example.com', sig: sign(rotated.body.secret, 'ada@example.com') } });
    expect(fresh.status).toBe(202);
  });

  it('concurrent identifies of one email from several browsers make one contact', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const sig = sign(site.secret, 'same@example.com');
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => track(t, { k: site.public_key, v: vid(i), e: [pv(`/${i}`)], id: { email: i % 2 ? 'SAME@example.com' : 'same@example.com', sig } })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(202));
    await runJob(t);
    expect(await count(t, 'SELECT count(*) AS n FROM contacts')).toBe(1);
    expect(await count(t, 'SELECT count(DISTINCT contact_id) AS n FROM visitors')).toBe(1);
    expect(await count(t, "SELECT count(*) AS n FROM events WHERE type = 'page_view' AND contact_id IS NOT NULL")).toBe(12);
  });

  it('identifying an existing contact attaches the visitor to it instead of creating one', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const existing = await t.json('POST', '/api/v1/contacts', { email: 'known@example.com', first_name: 'Known' });
    await track(t, { k: site.public_key, v: vid(7), e: [pv('/a')], id: { email: 'known@example.com', sig: sign(site.secret, 'known@example.com') } });
    await runJob(t);
    expect(await count(t, 'SELECT count(*) AS n FROM contacts')).toBe(1);
    const v = await t.json('GET', `/api/v1/visitors?site_id=${site.id}&visitor_id=${vid(7)}`);
    expect(v.body.contact_id).toBe(existing.body.id);
    expect(v.body.recent_events.map((e: any) => e.type).sort()).toEqual(['identified', 'page_view']);
    expect((await t.json('GET', `/api/v1/visitors/${v.body.id}`)).body.visitor_id).toBe(vid(7));
    expectError(await t.json('GET', '/api/v1/visitors/9999'), 404, 'NOT_FOUND');
  });

  it('the API links a visitor to a contact and its anonymous history follows', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    await track(t, { k: site.public_key, v: vid(3), e: [pv('/docs')] });
    const c = await t.json('POST', '/api/v1/contacts', { email: 'api@example.com' });
    const link = await t.json('POST', `/api/v1/contacts/${c.body.id}/visitors`, { site_id: site.id, visitor_id: vid(3) });
    expect(link.status).toBe(200);
    await runJob(t);
    const events = (await t.json('GET', `/api/v1/contacts/${c.body.id}/events`)).body.data;
    expect(events.map((e: any) => e.type)).toEqual(['identified', 'page_view']);
    expectError(await t.json('POST', `/api/v1/contacts/${c.body.id}/visitors`, { site_id: 999, visitor_id: vid(3) }), 404, 'NOT_FOUND');
    expectError(await t.json('POST', `/api/v1/contacts/9999/visitors`, { site_id: site.id, visitor_id: vid(3) }), 404, 'NOT_FOUND');
    expectError(await t.json('POST', `/api/v1/contacts/${c.body.id}/visitors`, { site_id: site.id, visitor_id: 'x' }), 422, 'VALIDATION_FAILED');
  });

  it('a browser known only as an email-less contact merges into the identified one', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const anon = await t.json('POST', '/api/v1/contacts', { first_name: 'Anon', tags: ['app-user'] });
    await t.json('POST', `/api/v1/contacts/${anon.body.id}/visitors`, { site_id: site.id, visitor_id: vid(5) });
    await track(t, { k: site.public_key, v: vid(5), e: [pv('/x')], id: { email: 'real@example.com', sig: sign(site.secret, 'real@example.com') } });
    await runJob(t);
    expect(await count(t, 'SELECT count(*) AS n FROM contacts')).toBe(1);
    const real = (await t.json('GET', '/api/v1/contacts')).body.data[0];
    expect(real).toMatchObject({ email: 'real@example.com', first_name: 'Anon', tags: ['app-user'] });
    // The old id still resolves to the survivor.
    expect((await t.json('GET', `/api/v1/contacts/${anon.body.id}`)).body.id).toBe(real.id);
  });

  it('another person on the same browser moves the link but merges nobody', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    await track(t, { k: site.public_key, v: vid(9), e: [pv('/1')], id: { email: 'one@example.com', sig: sign(site.secret, 'one@example.com') } });
    await track(t, { k: site.public_key, v: vid(9), e: [pv('/2')], id: { email: 'two@example.com', sig: sign(site.secret, 'two@example.com') } });
    await runJob(t);
    expect(await count(t, 'SELECT count(*) AS n FROM contacts')).toBe(2);
    const one = (await t.json('GET', '/api/v1/contacts?q=one')).body.data[0];
    const two = (await t.json('GET', '/api/v1/contacts?q=two')).body.data[0];
    const urls = async (id: number) =>
      (await t.json('GET', `/api/v1/contacts/${id}/events?type=page_view`)).body.data.map((e: any) => e.url.replace('https://shop.example.com', ''));
    expect(await urls(one.id)).toEqual(['/1']);
    expect(await urls(two.id)).toEqual(['/2']);
  });
});

describe('merging contacts', () => {
  it('moves everything to the survivor, keeps its values, and records the merge', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    await t.json('POST', '/api/v1/fields', { key: 'plan', label: 'Plan', type: 'text' });
    await t.json('POST', '/api/v1/fields', { key: 'size', label: 'Size', type: 'number' });
    const a = await t.json('POST', '/api/v1/contacts', { email: 'a@example.com', first_name: 'Keep', fields: { plan: 'pro' }, tags: ['x'] });
    const b = await t.json('POST', '/api/v1/contacts', { email: 'b@example.com', first_name: 'Lose', last_name: 'Filled', fields: { plan: 'free', size: 5 }, tags: ['x', 'y'] });
    await t.json('POST', `/api/v1/contacts/${a.body.id}/points`, { op: 'add', value: 10, reason: 'webinar' });
    await t.json('POST', `/api/v1/contacts/${b.body.id}/points`, { op: 'add', value: 7, reason: 'demo' });
    const co1 = await t.json('POST', '/api/v1/companies', { name: 'One' });
    const co2 = await t.json('POST', '/api/v1/companies', { name: 'Two' });
    await t.json('PUT', `/api/v1/companies/${co1.body.id}/contacts/${a.body.id}`, { is_primary: true });
    await t.json('PUT', `/api/v1/companies/${co2.body.id}/contacts/${b.body.id}`, { is_primary: true });
    await t.json('PUT', `/api/v1/contacts/${b.body.id}/do-not-contact/sms`, { reason: 'manual' });
    await t.json('POST', `/api/v1/contacts/${b.body.id}/visitors`, { site_id: site.id, visitor_id: vid(1) });
    await track(t, { k: site.public_key, v: vid(1), e: [pv('/b-page')] });

    const merged = await t.json('POST', `/api/v1/contacts/${a.body.id}/merge`, { contact_id: b.body.id });
    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({
      id: a.body.id,
      email: 'a@example.com',
      first_name: 'Keep',
      last_name: 'Filled',
      fields: { plan: 'pro', size: 5 },
      tags: ['x', 'y'],
      do_not_contact: [{ channel: 'sms' }],
    });
    // The merged event tells the points reaction to sum the moved log.
    await runJob(t);
    const detail = await t.json('GET', `/api/v1/contacts/${a.body.id}`);
    expect(detail.body.points).toBe(17);
    expect(detail.body.companies).toEqual([
      { id: co1.body.id, name: 'One', domain: null, is_primary: true },
      { id: co2.body.id, name: 'Two', domain: null, is_primary: false },
    ]);
    await runJob(t);
    const events = (await t.json('GET', `/api/v1/contacts/${a.body.id}/events?type=page_view`)).body.data;
    expect(events.map((e: any) => e.url)).toEqual(['https://shop.example.com/b-page']);
    // The old id resolves, the email of the merged contact is free, nothing is left behind.
    expect((await t.json('GET', `/api/v1/contacts/${b.body.id}`)).body.id).toBe(a.body.id);
    expect((await t.json('GET', `/api/v1/contacts/${b.body.id}/events`)).body.data.length).toBeGreaterThan(0);
    for (const table of ['contact_tags', 'do_not_contact', 'company_contacts', 'events', 'visitors']) {
      expect(await count(t, `SELECT count(*) AS n FROM ${table} WHERE contact_id = ?`, [b.body.id]), table).toBe(0);
    }
    const log = await t.client.execute('SELECT survivor_id, merged_id, snapshot FROM contact_merges');
    expect(log.rows).toHaveLength(1);
    expect(JSON.parse(String(log.rows[0]!.snapshot)).email).toBe('b@example.com');
    expect((await t.json('POST', '/api/v1/contacts', { email: 'b@example.com' })).status).toBe(201);

    // Chains: merging the survivor into a third contact moves the old alias along.
    const c = await t.json('POST', '/api/v1/contacts', { email: 'c@example.com' });
    await t.json('POST', `/api/v1/contacts/${c.body.id}/merge`, { contact_id: a.body.id });
    expect((await t.json('GET', `/api/v1/contacts/${b.body.id}`)).body.id).toBe(c.body.id);

    expectError(await t.json('POST', `/api/v1/contacts/${c.body.id}/merge`, { contact_id: c.body.id }), 400, 'BAD_REQUEST');
    expectError(await t.json('POST', `/api/v1/contacts/${c.body.id}/merge`, { contact_id: 99999 }), 404, 'NOT_FOUND');
    expectError(await t.json('POST', `/api/v1/contacts/${c.body.id}/merge`, { contact_id: 'x' }), 422, 'VALIDATION_FAILED');
  });

  it('erasing a contact removes its visitors and their events too', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    await track(t, { k: site.public_key, v: vid(1), e: [pv('/')], id: { email: 'gone@example.com', sig: sign(site.secret, 'gone@example.com') } });
    await track(t, { k: site.public_key, v: vid(2), e: [pv('/other')] });
    await runJob(t);
    const c = (await t.json('GET', '/api/v1/contacts')).body.data[0];
    const exported = await t.json('GET', `/api/v1/contacts/${c.id}/export`);
    expect(exported.status).toBe(200);
    await t.json('DELETE', `/api/v1/contacts/${c.id}`);
    expect(await count(t, 'SELECT count(*) AS n FROM visitors')).toBe(1);
    expect(await count(t, 'SELECT count(*) AS n FROM events')).toBe(1);
  });
});

describe('site privacy settings on the server', () => {
  it('a consent-required site keeps no visitor id unless the page says consent was given', async () => {
    const t = await makeApp();
    const site = await makeSite(t, { settings: { consent_required: true } });
    await track(t, { k: site.public_key, v: vid(1), e: [pv('/')] });
    expect(await count(t, 'SELECT count(*) AS n FROM visitors')).toBe(0);
    expect(await count(t, 'SELECT count(*) AS n FROM events WHERE visitor_id IS NULL')).toBe(1);
    await track(t, { k: site.public_key, v: vid(1), c: 1, e: [pv('/')] });
    expect(await count(t, 'SELECT count(*) AS n FROM visitors')).toBe(1);
    const noConsent = await track(t, { k: site.public_key, v: vid(1), e: [], id: { email: 'a@example.com', sig: sign(site.secret, 'a@example.com') } });
    expect(noConsent.status).toBe(422);
    expect(await count(t, 'SELECT count(*) AS n FROM contacts')).toBe(0);
  });

  it('allow_automation stores headless browsers; without it they are dropped', async () => {
    const t = await makeApp();
    const headless = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36';
    const strict = await makeSite(t);
    const testing = await makeSite(t, { name: 'QA', settings: { allow_automation: true } });
    const a = await track(t, { k: strict.public_key, v: vid(1), b: 1, e: [pv('/')] }, { ua: headless });
    expect(await a.json()).toMatchObject({ stored: 0, dropped: 'bot' });
    const b = await track(t, { k: testing.public_key, v: vid(2), b: 1, e: [pv('/')] }, { ua: headless });
    expect(await b.json()).toMatchObject({ stored: 1 });
    expect(await count(t, 'SELECT count(*) AS n FROM events')).toBe(1);
  });
});
