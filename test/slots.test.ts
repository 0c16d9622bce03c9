// Slots (dynamic web content, issue 15 part 3) against the real app and database: the API,
// resolution for unproven, claimed and proven browsers, sanitisation, the /t flag, events and
// stats, and a slot click through the spine into points and a campaign decision.
import { describe, expect, it } from 'vitest';
import { makeApp, expectError, type TestApp } from './helpers';
import { CHROME_UA, makeSite, runJob, sign, track, vid } from './tracking-helpers';
import { enrollContacts } from '../api/core/campaigns/membership';
import { createCampaign, publishCampaign } from '../api/core/campaigns/campaigns';
import { runCampaigns } from '../api/core/campaigns/run';
import { runReactions } from '../api/core/spine/run';

const ORIGIN = 'https://shop.example.com';

const slotBody = (siteId: number, extra: Record<string, unknown> = {}) => ({
  site_id: siteId,
  name: 'hero',
  variants: [
    { key: 'strangers', content: 'Hello **stranger**' },
    { key: 'friends', format: 'html', content: '<p>Welcome <em>back</em></p>' },
  ],
  rules: [
    { when: { identity: 'known' }, variant: 'friends' },
    { when: { identity: 'anonymous' }, variant: 'strangers' },
  ],
  ...extra,
});

async function createSlot(t: TestApp, body: Record<string, unknown>) {
  const r = await t.json('POST', '/api/v1/slots', body);
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return r.body as { id: number; name: string; [k: string]: any };
}

/** GET /focus as w.js asks it after a page view. */
async function focus(t: TestApp, key: string, uid?: string) {
  const q = new URLSearchParams({ k: key, u: `${ORIGIN}/` });
  if (uid) q.set('v', uid);
  const res = await t.app.request(`/focus?${q}`, { headers: { origin: ORIGIN, 'user-agent': CHROME_UA } });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) };
}

/** name → variant (null: the page's own content) as the visitor is shown it. */
async function shown(t: TestApp, key: string, uid?: string): Promise<Record<string, string | null>> {
  const r = await focus(t, key, uid);
  return Object.fromEntries(((r.body.slots ?? []) as { name: string; variant: string | null }[]).map((s) => [s.name, s.variant]));
}

const identify = (t: TestApp, site: { public_key: string; secret: string }, uid: string, email: string) =>
  track(t, { k: site.public_key, v: uid, e: [], id: { email, sig: sign(site.secret, email) } });

describe('slots: API', () => {
  it('creates with defaults, reads, lists, updates and deletes; names are unique per site', async () => {
    const t = await makeApp({ memory: true });
    const site = await makeSite(t);
    const other = await makeSite(t, { name: 'Other' });
    const s = await createSlot(t, slotBody(site.id));
    expect(s).toMatchObject({ site_id: site.id, name: 'hero', description: '', active: true });
    expect(s.variants[0]).toEqual({ key: 'strangers', format: 'markdown', content: 'Hello **stranger**' });
    expect((await t.json('GET', `/api/v1/slots/${s.id}`)).body).toEqual(s);

    expectError(await t.json('POST', '/api/v1/slots', slotBody(site.id)), 409, 'CONFLICT');
    const elsewhere = await createSlot(t, slotBody(other.id));
    const promo = await createSlot(t, slotBody(site.id, { name: 'promo', active: false }));
    expect((await t.json('GET', `/api/v1/slots?site_id=${site.id}`)).body.data.map((x: any) => x.id)).toEqual([s.id, promo.id]);
    expect((await t.json('GET', '/api/v1/slots?active=false')).body.data.map((x: any) => x.id)).toEqual([promo.id]);
    const page1 = await t.json('GET', '/api/v1/slots?limit=2');
    expect(page1.body.data.length).toBe(2);
    expect((await t.json('GET', `/api/v1/slots?limit=2&cursor=${page1.body.next_cursor}`)).body.data.map((x: any) => x.id)).toEqual([promo.id]);

    const patched = await t.json('PATCH', `/api/v1/slots/${s.id}`, { description: 'Home hero', rules: [] });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ description: 'Home hero', rules: [], name: 'hero' });
    expectError(await t.json('PATCH', `/api/v1/slots/${promo.id}`, { name: 'hero' }), 409, 'CONFLICT');
    expectError(await t.json('PATCH', `/api/v1/slots/${s.id}`, {}), 422, 'VALIDATION_FAILED');
    expect((await t.json('DELETE', `/api/v1/slots/${elsewhere.id}`)).body).toEqual({ id: elsewhere.id, deleted: true });
    expectError(await t.json('GET', `/api/v1/slots/${elsewhere.id}`), 404, 'NOT_FOUND');
    expectError(await t.json('DELETE', `/api/v1/slots/${elsewhere.id}`), 404, 'NOT_FOUND');
    // Deleting a site deletes its slots.
    expect((await t.call('DELETE', `/api/v1/sites/${other.id}`)).status).toBe(200);
    expect((await t.json('GET', `/api/v1/slots?site_id=${other.id}`)).body.data).toEqual([]);
    // A write key may change slots, a read key only read them.
    expectError(await t.json('POST', '/api/v1/slots', slotBody(site.id, { name: 'ro' }), { key: t.keys.read }), 403, 'FORBIDDEN');
    expect((await t.json('GET', `/api/v1/slots/${s.id}`, undefined, { key: t.keys.read })).status).toBe(200);
  });

  it('refuses bad names, variants, rules and references with 422 naming the field, and writes nothing', async () => {
    const t = await makeApp({ memory: true });
    const site = await makeSite(t);
    const bad = async (body: Record<string, unknown>, field: string) => {
      const r = await t.json('POST', '/api/v1/slots', body);
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details.map((d: any) => d.field)).toContain(field);
    };
    await bad(slotBody(site.id, { name: 'Hero Banner' }), 'name');
    await bad(slotBody(site.id, { name: '__proto__' }), 'name');
    await bad(slotBody(site.id, { variants: [] }), 'variants');
    await bad(slotBody(site.id, { variants: [{ key: 'default', content: 'x' }], rules: [] }), 'variants.0.key');
    await bad(slotBody(site.id, { variants: [{ key: 'a', content: 'x' }, { key: 'a', content: 'y' }], rules: [] }), 'variants.1.key');
    await bad(slotBody(site.id, { rules: [{ when: { identity: 'known' }, variant: 'nope' }] }), 'rules.0.variant');
    await bad(slotBody(site.id, { rules: [{ when: { stage_id: 999 }, variant: 'friends' }] }), 'rules.0.when.stage_id');
    await bad(slotBody(site.id, { rules: [{ when: { filter: { field: 'no_such_field', op: 'equals', value: 1 } }, variant: 'friends' }] }), 'rules.0.when.filter.field');
    await bad(slotBody(site.id, { rules: [{ when: { filter: { field: 'first_name', op: 'regex', value: '(?=a)' } }, variant: 'friends' }] }), 'rules.0.when.filter.value');
    await bad(slotBody(999), 'site_id');
    await bad(slotBody(site.id, { variants: [{ key: 'a', content: 'x'.repeat(20_001) }], rules: [] }), 'variants.0.content');
    await bad(slotBody(site.id, { variants: [{ key: 'a', content: 'bell\u0007' }], rules: [] }), 'variants.0.content');
    await bad(slotBody(site.id, { colour: 'red' }), 'colour');
    await bad(slotBody(site.id, { rules: [{ when: { identity: 'known', stage_id: 1 }, variant: 'friends' }] }), 'rules.0.when');
    expect(Number((await t.client.execute('SELECT count(*) AS n FROM slots')).rows[0]!.n)).toBe(0);
  });
});

describe('slots: what a visitor is shown (GET /focus)', () => {
  it('first rule that holds wins; no rule: the page keeps its own content; inactive slots and other sites are left out', async () => {
    const t = await makeApp({ memory: true });
    const site = await makeSite(t);
    const other = await makeSite(t, { name: 'Other' });
    expect((await focus(t, site.public_key, vid(1))).body).toEqual({ items: [] });
    await createSlot(t, slotBody(site.id));
    await createSlot(t, slotBody(site.id, { name: 'promo', variants: [{ key: 'x', content: 'x' }], rules: [{ when: { identity: 'known' }, variant: 'x' }] }));
    await createSlot(t, slotBody(site.id, { name: 'off', active: false }));
    await createSlot(t, slotBody(other.id, { name: 'theirs' }));
    const r = await focus(t, site.public_key, vid(1));
    expect(r.body.items).toEqual([]);
    expect(r.body.slots).toEqual([
      { id: expect.any(Number), name: 'hero', variant: 'strangers', content: [['p', 0, 'Hello ', ['strong', 0, 'stranger']], '\n'] },
      { id: expect.any(Number), name: 'promo', variant: null },
    ]);
    // Without a visitor id (consent not given yet) the browser is anonymous.
    expect(await shown(t, site.public_key)).toEqual({ hero: 'strangers', promo: null });
    await identify(t, site, vid(1), 'ada@example.com');
    expect(await shown(t, site.public_key, vid(1))).toEqual({ hero: 'friends', promo: 'x' });
    expect(await shown(t, site.public_key, vid(2))).toEqual({ hero: 'strangers', promo: null });
  });

  it('segment and stage rules hold for a proven browser only: a browser that typed the email into a form stays anonymous', async () => {
    const t = await makeApp({ memory: true });
    const site = await makeSite(t);
    await t.json('POST', '/api/v1/contacts', { email: 'vip@example.com', tags: ['vip'] });
    const segment = await t.json('POST', '/api/v1/segments', { name: 'VIPs', filter: { tag: 'vip' } });
    expect(segment.body.members).toBe(1);
    const stages = (await t.json('GET', '/api/v1/stages')).body.data;
    const form = await t.json('POST', '/api/v1/forms', { name: 'Sign up', fields: [{ key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true }] });
    await createSlot(t, {
      site_id: site.id,
      name: 'hero',
      variants: [
        { key: 'vip', content: 'For VIPs' },
        { key: 'customer', content: 'For customers' },
        { key: 'known', content: 'Hi again' },
        { key: 'all', content: 'Hello' },
      ],
      rules: [
        { when: { filter: { segment: segment.body.id } }, variant: 'vip' },
        { when: { stage_id: stages[3].id }, variant: 'customer' },
        { when: { identity: 'known' }, variant: 'known' },
        { when: { identity: 'any' }, variant: 'all' },
      ],
    });
    // The claimed browser: the VIP's email typed into a form.
    const submit = await t.app.request(`/f/${form.body.id}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: ORIGIN, 'user-agent': CHROME_UA },
      body: JSON.stringify({ k: site.public_key, v: vid(1), sid: 'slots_claim_1', values: { email: 'vip@example.com' }, t: 5000 }),
    });
    expect(submit.status).toBe(200);
    expect(await shown(t, site.public_key, vid(1))).toEqual({ hero: 'all' });
    // The proven browser (signed identify) of the same contact.
    await identify(t, site, vid(2), 'vip@example.com');
    expect(await shown(t, site.public_key, vid(2))).toEqual({ hero: 'vip' });
    // Another proven contact, at the fourth stage, then at none.
    await identify(t, site, vid(3), 'cust@example.com');
    expect(await shown(t, site.public_key, vid(3))).toEqual({ hero: 'known' });
    const cust = await t.client.execute({ sql: 'SELECT contact_id FROM visitors WHERE uid = ?', args: [vid(3)] });
    expect((await t.call('PUT', `/api/v1/contacts/${cust.rows[0]!.contact_id}/stage`, { stage_id: stages[3].id })).status).toBe(200);
    expect(await shown(t, site.public_key, vid(3))).toEqual({ hero: 'customer' });
    // The answer holds the chosen content only: no other variant, nothing about the contact.
    const raw = (await focus(t, site.public_key, vid(2))).text;
    expect(raw).toContain('For VIPs');
    expect(raw).not.toMatch(/customers|Hi again|vip@example\.com|stage/);
  });

  it('sends sanitised content as a tree: no script, handler, style, javascript: or data: URL reaches the browser', async () => {
    const t = await makeApp({ memory: true });
    const site = await makeSite(t);
    const corpus = [
      '<script>alert(1)</script><p>ok</p>',
      '<img src="https://x.example/a.png" onerror="alert(1)">',
      '<a href="javascript:alert(1)">j</a><a href="JaVaScRiPt:alert(1)">k</a>',
      '<a href="data:text/html,<script>alert(1)</script>">d</a><img src="data:image/svg+xml,<svg onload=alert(1)>">',
      '<svg onload="alert(1)"><circle r="4"/></svg><math><mi>x</mi></math>',
      '<p style="background:url(javascript:alert(1));width:expression(alert(1))">css</p>',
      '<iframe src="https://evil.example"></iframe><object data="x"></object><embed src="x">',
      '<form action="https://evil.example"><input name="x"></form><button onclick="alert(1)">b</button>',
      '<div id="leadline" name="x" class="ok">clobber</div><style>p{color:red}</style>',
    ];
    await createSlot(t, {
      site_id: site.id,
      name: 'x',
      variants: [
        { key: 'h', format: 'html', content: corpus.join('\n') },
        { key: 'm', format: 'markdown', content: `[m](javascript:alert(1)) ${corpus.join(' ')}` },
      ],
      rules: [{ when: { identity: 'any' }, variant: 'h' }],
    });
    await createSlot(t, { site_id: site.id, name: 'y', variants: [{ key: 'm', content: `[m](javascript:alert(1)) ${corpus.join(' ')}` }], rules: [{ when: { identity: 'any' }, variant: 'm' }] });
    const r = await focus(t, site.public_key, vid(1));
    expect(r.body.slots.map((s: any) => s.variant)).toEqual(['h', 'm']);
    const walk = (n: unknown, out: { tags: Set<string>; attrs: [string, string][] }) => {
      if (typeof n === 'string') return;
      const [tag, attrs, ...kids] = n as [string, Record<string, string> | 0, ...unknown[]];
      out.tags.add(tag);
      for (const [k, v] of Object.entries(attrs || {})) out.attrs.push([k, v]);
      kids.forEach((k) => walk(k, out));
    };
    const seen = { tags: new Set<string>(), attrs: [] as [string, string][] };
    for (const s of r.body.slots) for (const n of s.content) walk(n, seen);
    for (const tag of ['script', 'style', 'svg', 'math', 'iframe', 'object', 'embed', 'form', 'input', 'button', 'circle']) expect(seen.tags.has(tag), tag).toBe(false);
    expect(seen.tags.has('p')).toBe(true);
    for (const [k, v] of seen.attrs) {
      expect(k, `${k}=${v}`).toMatch(/^(href|src|title|alt|class|loading|rel|target|width|height)$/);
      expect(v, `${k}=${v}`).not.toMatch(/^\s*(javascript|data|vbscript):/i);
    }
    expect(r.text).not.toMatch(/alert|onerror|onload|onclick|expression/);
  });

  it('POST /t says "focus" for a site with slots only, and stops once its slots are gone', async () => {
    const t = await makeApp({ memory: true });
    const site = await makeSite(t);
    const view = async () => (await (await track(t, { k: site.public_key, v: vid(1), e: [{ t: 'pv', u: `${ORIGIN}/` }] })).json()).focus;
    expect(await view()).toBeUndefined();
    const s = await createSlot(t, slotBody(site.id));
    expect(await view()).toBe(true);
    await t.json('PATCH', `/api/v1/slots/${s.id}`, { active: false });
    expect(await view()).toBeUndefined();
    await t.json('PATCH', `/api/v1/slots/${s.id}`, { active: true });
    expect(await view()).toBe(true);
    await t.json('DELETE', `/api/v1/slots/${s.id}`);
    expect(await view()).toBeUndefined();
    expect((await focus(t, site.public_key, vid(1))).body.slots).toBeUndefined();
  });
});

describe('slots: personalisation tokens', () => {
  // The text of content sent as a tree (core/slots/content.ts: "text" | [tag, attrs | 0, ...children]).
  const textOfNode = (n: unknown): string => (typeof n === 'string' ? n : (n as unknown[]).slice(2).map(textOfNode).join(''));
  const textOf = (nodes: unknown) => (nodes as unknown[]).map(textOfNode).join('').trim();
  it('fills {{contact.first_name | default: …}} for a proven browser only, escaped; an unknown field or a token in a link is a 422', async () => {
    const t = await makeApp({ memory: true });
    const site = await makeSite(t);
    await t.json('POST', '/api/v1/contacts', { email: 'ada@example.com', first_name: '<b>Ada</b>' });
    const slot = await createSlot(t, {
      site_id: site.id,
      name: 'hero',
      variants: [{ key: 'all', content: 'Hi **{{ contact.first_name | default: "there" }}**!' }],
      rules: [{ when: { identity: 'any' }, variant: 'all' }],
    });
    const contentOf = async (uid?: string) => {
      const r = await focus(t, site.public_key, uid);
      expect(r.status).toBe(200);
      return (r.body.slots as { name: string; content: unknown }[]).find((x) => x.name === 'hero')!.content;
    };
    expect(textOf(await contentOf())).toBe('Hi there!');
    // Proven by a signed identify: its own first name, as text (the markup is not markup).
    const proven = vid('slot-proven');
    expect((await identify(t, site, proven, 'ada@example.com')).status).toBe(202);
    const mine = await contentOf(proven);
    expect(textOf(mine)).toBe('Hi <b>Ada</b>!');
    expect(JSON.stringify(mine)).not.toContain('["b"');
    // A browser that only claims the email (a guessed or another visitor id) gets the default.
    expect(textOf(await contentOf(vid('slot-stranger')))).toBe('Hi there!');
    // Checked when saved.
    const bad = await t.json('PATCH', `/api/v1/slots/${slot.id}`, { variants: [{ key: 'all', content: 'Hi {{ contact.nope }}' }] });
    expectError(bad, 422, 'VALIDATION_FAILED');
    expect(JSON.stringify(bad.body.error.details)).toContain('variants.0.content');
    const inLink = await t.json('PATCH', `/api/v1/slots/${slot.id}`, { variants: [{ key: 'all', format: 'html', content: '<a href="https://x.example/{{contact.email}}">go</a>' }] });
    expectError(inLink, 422, 'VALIDATION_FAILED');
  });
});

describe('slots: views and clicks', () => {
  it('stores slot views and clicks from /t, counts them per variant, and a click scores points and decides a campaign', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const slot = await createSlot(t, slotBody(site.id));
    const other = await createSlot(t, slotBody(site.id, { name: 'other' }));
    const rule = await t.json('POST', '/api/v1/point-rules', { name: 'Hero click', event_type: 'slot_click', filter: { slot_id: slot.id }, delta: 7 });
    expect(rule.status).toBe(201);
    await identify(t, site, vid(1), 'ada@example.com');
    const ada = Number((await t.client.execute({ sql: 'SELECT contact_id FROM visitors WHERE uid = ?', args: [vid(1)] })).rows[0]!.contact_id);

    const campaign = await createCampaign({
      ctx: t.ctx,
      input: {
        name: 'Hero follow-up',
        definition: {
          sources: [],
          goals: [],
          reentry: 'never',
          start: 'd',
          steps: [
            { id: 'd', type: 'decision', on: { event: 'slot_click', slot_id: slot.id, variant: 'friends' }, timeout: { hours: 2 }, yes: 'y', no: null },
            { id: 'y', type: 'action', action: { type: 'add_tags', tags: ['clicked-hero'] }, next: null },
          ],
        } as any,
      },
    });
    await publishCampaign({ ctx: t.ctx, input: { id: campaign.id } });
    await enrollContacts({ ctx: t.ctx, input: { id: campaign.id, contactIds: [ada] } });
    await runCampaigns(t.ctx);
    const steps = async () => (await t.client.execute({ sql: 'SELECT step_id, status FROM campaign_steps WHERE contact_id = ? ORDER BY id', args: [ada] })).rows.map((r) => `${r.step_id}:${r.status}`);
    expect(await steps()).toEqual(['d:waiting']);

    const ev = (tp: string, s: { id: number; name: string }, variant: string) => ({ t: tp, u: `${ORIGIN}/`, p: { slot_id: s.id, slot: s.name, variant } });
    // A click in another slot does not decide or score; an anonymous visitor's views count too.
    expect((await track(t, { k: site.public_key, v: vid(1), e: [ev('sv', slot, 'friends'), ev('sv', other, 'friends'), ev('sc', other, 'friends')] })).status).toBe(202);
    expect((await track(t, { k: site.public_key, v: vid(2), e: [ev('sv', slot, 'strangers'), ev('sv', slot, 'default')] })).status).toBe(202);
    await runReactions(t.ctx);
    expect(await steps()).toEqual(['d:waiting']);
    expect((await t.json('GET', `/api/v1/contacts/${ada}`)).body.points).toBe(0);

    expect((await track(t, { k: site.public_key, v: vid(1), e: [ev('sc', slot, 'friends')] })).status).toBe(202);
    await runJob(t);
    await runCampaigns(t.ctx);
    await runReactions(t.ctx);
    expect(await steps()).toEqual(['d:done', 'y:done']);
    const contact = (await t.json('GET', `/api/v1/contacts/${ada}`)).body;
    expect(contact.points).toBe(7);
    expect(contact.tags).toContain('clicked-hero');
    const types = (await t.client.execute({ sql: "SELECT type, props FROM events WHERE type LIKE 'slot_%' ORDER BY id" })).rows.map((r) => [r.type, JSON.parse(String(r.props)).variant]);
    expect(types).toEqual([
      ['slot_view', 'friends'],
      ['slot_view', 'friends'],
      ['slot_click', 'friends'],
      ['slot_view', 'strangers'],
      ['slot_view', 'default'],
      ['slot_click', 'friends'],
    ]);

    const stats = await t.json('GET', `/api/v1/slots/${slot.id}/stats`);
    expect(stats.status).toBe(200);
    expect(stats.body.totals).toEqual({ views: 3, clicks: 1, click_rate: 0.3333 });
    expect(stats.body.variants).toEqual([
      { key: 'default', views: 1, clicks: 0, click_rate: 0 },
      { key: 'strangers', views: 1, clicks: 0, click_rate: 0 },
      { key: 'friends', views: 1, clicks: 1, click_rate: 1 },
    ]);
    expectError(await t.json('GET', `/api/v1/slots/${slot.id}/stats?from=2026-02-01&to=2026-01-01`), 422, 'VALIDATION_FAILED');
    expect((await t.json('GET', `/api/v1/slots/${slot.id}/stats?to=2000-01-01`)).body.totals.views).toBe(0);
    // The contact's timeline names the slot.
    const timeline = await t.json('GET', `/api/v1/contacts/${ada}/events?type=slot_click`);
    expect(timeline.body.data.map((e: any) => e.name)).toEqual(['hero', 'other']);
  });

  it('a campaign decision on slot_click is checked: the slot must exist and only slot_id and variant apply', async () => {
    const t = await makeApp({ memory: true });
    const def = (on: Record<string, unknown>) => ({
      name: 'C',
      definition: { sources: [], goals: [], reentry: 'never', start: 'd', steps: [{ id: 'd', type: 'decision', on, timeout: { hours: 1 }, yes: null, no: null }] },
    });
    const r1 = await t.json('POST', '/api/v1/campaigns', def({ event: 'slot_click', slot_id: 999 }));
    expectError(r1, 422, 'VALIDATION_FAILED');
    expect(r1.body.error.details.map((d: any) => d.field)).toContain('definition.steps.0.on.slot_id');
    const r2 = await t.json('POST', '/api/v1/campaigns', def({ event: 'slot_click', form_id: 1 }));
    expectError(r2, 422, 'VALIDATION_FAILED');
    expect(r2.body.error.details.map((d: any) => d.field)).toContain('definition.steps.0.on.form_id');
    expect((await t.json('POST', '/api/v1/campaigns', def({ event: 'slot_click' }))).status).toBe(201);
  });
});
