// POST /api/v1/forms/preview and POST /api/v1/focus-items/preview: a draft as the widget would
// receive it (GET /f/:id, GET /focus), computed by the same code, with nothing stored.
import { describe, expect, it } from 'vitest';
import { expectError, makeApp, type TestApp } from './helpers';
import { addUser, asUser, jsonOf } from './auth-helpers';
import { CHROME_UA, count, makeSite, vid } from './tracking-helpers';
import { routeContract } from './route-contract';

const ORIGIN = 'https://shop.example.com';

const FORM = {
  name: 'Everything',
  fields: [
    { key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true, placeholder: 'you@example.com' },
    { key: 'name', label: 'Name', type: 'text', maps_to: 'first_name', rules: { min_length: 2, pattern: '[A-Za-z ]+', pattern_message: 'Letters only' } },
    { key: 'plan', label: 'Plan', type: 'select', options: ['free', { value: 'pro', label: 'Pro plan' }], default: 'pro' },
    { key: 'country', label: 'Country', type: 'country', maps_to: 'country', help: 'Where you live' },
    { key: 'seats', label: 'Seats', type: 'number', rules: { min: 1, max: 50 } },
    { key: 'website', label: 'Website', type: 'text' },
    { key: 'campaign', type: 'hidden', source: 'utm_campaign' },
    { key: 'origin', type: 'hidden', default: 'landing' },
    { key: 'consent', label: 'I agree', type: 'consent', required: true },
  ],
  submit_label: 'Join',
  after_submit: { type: 'redirect', url: 'https://shop.example.com/thanks' },
  progressive_profiling: { enabled: true, max_new_fields: 2 },
  min_fill_ms: 900,
};

/** GET /f/:id as the widget on the site asks it. */
async function served(t: TestApp, id: number, k: string, v?: string) {
  const q = new URLSearchParams({ k, ...(v ? { v } : {}) });
  const res = await t.app.request(`/f/${id}?${q}`, { headers: { origin: ORIGIN, 'user-agent': CHROME_UA } });
  expect(res.status).toBe(200);
  return res.json();
}

const stored = async (t: TestApp) => ({
  forms: await count(t, 'SELECT count(*) AS n FROM forms'),
  focus: await count(t, 'SELECT count(*) AS n FROM focus_items'),
  rules: await count(t, 'SELECT count(*) AS n FROM point_rules'),
});

describe('POST /api/v1/forms/preview', () => {
  it('answers exactly what GET /f/:id serves for the same form once saved, storing nothing', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const before = await stored(t);
    const preview = await t.json('POST', '/api/v1/forms/preview', { ...FORM, actions: [{ type: 'give_points', points: 5, reason: 'joined' }] });
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    expect(await stored(t)).toEqual(before);
    // The server's parts, not the draft's: the country list, the length caps, the honeypot, no static hidden value.
    expect(preview.body.id).toBe(0);
    expect(preview.body.honeypot).toBe('website_2');
    expect(preview.body.fields.map((f: any) => f.key)).toEqual(['email', 'name', 'plan', 'country', 'seats', 'website', 'campaign', 'consent']);
    expect(preview.body.fields.find((f: any) => f.key === 'country').options.length).toBeGreaterThan(200);
    expect(preview.body.fields.find((f: any) => f.key === 'email').rules.max_length).toBeGreaterThan(0);

    const created = await t.json('POST', '/api/v1/forms', FORM);
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    const live = await served(t, id, site.public_key, vid(1));
    const again = await t.json('POST', `/api/v1/forms/preview?id=${id}`, FORM);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(live);
    expect(live.submit_url).toBe(`http://localhost/f/${id}`);
    // Without the name, and with the saved form's own body (as the dashboard sends it).
    const { name: _name, ...unnamed } = FORM;
    expect((await t.json('POST', `/api/v1/forms/preview?id=${id}`, unnamed)).body).toEqual(live);
    expect(await count(t, 'SELECT count(*) AS n FROM forms')).toBe(1);
  });

  it('refuses an invalid draft with the fields named (422), malformed JSON with 400, and stores nothing', async () => {
    const t = await makeApp();
    const before = await stored(t);
    const bad = await t.json('POST', '/api/v1/forms/preview', {
      fields: [
        { key: 'email', label: 'Email', type: 'email', maps_to: 'email' },
        { key: 'plan', label: 'Plan', type: 'select' },
        { key: 'email', label: 'Again', type: 'text', rules: { pattern: '(a+)+' } },
      ],
      actions: [{ type: 'add_to_segment', segment_id: 999 }],
    });
    expectError(bad, 422, 'VALIDATION_FAILED');
    expect(bad.body.error.details.map((d: any) => d.field).sort()).toEqual(['actions.0', 'fields.1.options', 'fields.2.key', 'fields.2.rules.pattern']);
    expectError(await t.json('POST', '/api/v1/forms/preview', { fields: [] }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/forms/preview', { fields: [{ key: 'a', label: 'A', type: 'text' }], stored: true }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/forms/preview', '{"fields": [', { headers: { 'content-type': 'application/json' } }), 400, 'BAD_REQUEST');
    expectError(await t.json('POST', '/api/v1/forms/preview?id=abc', FORM), 422, 'VALIDATION_FAILED');
    expect(await stored(t)).toEqual(before);
  });

  it('is open to every signed-in role (it stores nothing), while saving stays the marketers’', async () => {
    const t = await makeApp();
    const viewer = await addUser(t, 'viewer', 'vic@example.com');
    const ok = await jsonOf(asUser(t, viewer, 'POST', '/api/v1/forms/preview', FORM));
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expectError(await jsonOf(asUser(t, viewer, 'POST', '/api/v1/forms', FORM)), 403, 'FORBIDDEN');
    expect(await count(t, 'SELECT count(*) AS n FROM forms')).toBe(0);
  });
});

const ITEM = {
  name: 'Offer',
  style: { type: 'slide_in', corner: 'bottom_left', colors: { background: '#111827', text: '#ffffff', button: '#f59e0b' } },
  content: { kind: 'link', heading: 'Spring sale', body: '20% off', cta: { label: 'Shop now', url: 'https://shop.example.com/sale' } },
  trigger: { type: 'delay', seconds: 3 },
  frequency: { mode: 'every_n_days', days: 2, max_displays: 4 },
};

describe('POST /api/v1/focus-items/preview', () => {
  it('answers each variant as GET /focus hands it to visitors, and the forms it embeds as GET /f/:id serves them', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const form = (await t.json('POST', '/api/v1/forms', FORM)).body.id as number;
    const body = {
      ...ITEM,
      site_id: site.id,
      variants: [
        { key: 'a', weight: 50 },
        { key: 'b', weight: 50, overrides: { style: { type: 'modal' }, content: { kind: 'form', heading: 'Join us', form_id: form } } },
      ],
    };
    const before = await stored(t);
    const draft = await t.json('POST', '/api/v1/focus-items/preview', body);
    expect(draft.status, JSON.stringify(draft.body)).toBe(200);
    expect(await stored(t)).toEqual(before);
    expect(draft.body.items.map((i: any) => [i.id, i.variant, i.style.type, i.content.kind, i.content.heading])).toEqual([
      [0, 'a', 'slide_in', 'link', 'Spring sale'],
      [0, 'b', 'modal', 'form', 'Join us'],
    ]);

    const created = await t.json('POST', '/api/v1/focus-items', body);
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    const preview = await t.json('POST', `/api/v1/focus-items/preview?id=${id}`, body);
    expect(preview.body.inactive_form_ids).toEqual([]);
    expect(preview.body.forms).toEqual({ [form]: await served(t, form, site.public_key) });
    // Visitors until both variants were handed out: each is the preview's.
    const seen = new Map<string, unknown>();
    for (let n = 1; n <= 40 && seen.size < 2; n++) {
      const res = await t.app.request(`/focus?${new URLSearchParams({ k: site.public_key, v: vid(n), u: `${ORIGIN}/` })}`, { headers: { origin: ORIGIN, 'user-agent': CHROME_UA } });
      const [item] = (await res.json()).items;
      seen.set(item.variant, item);
    }
    expect(seen.size).toBe(2);
    expect(preview.body.items).toEqual([seen.get('a'), seen.get('b')]);

    // A form switched off is still previewed, and said to be off.
    expect((await t.json('PATCH', `/api/v1/forms/${form}`, { active: false })).status).toBe(200);
    expect((await t.json('POST', `/api/v1/focus-items/preview?id=${id}`, body)).body.inactive_form_ids).toEqual([form]);
  });

  it('refuses an invalid draft as a save would (422, fields named) and stores nothing', async () => {
    const t = await makeApp();
    const before = await stored(t);
    const bad = await t.json('POST', '/api/v1/focus-items/preview', {
      ...ITEM,
      content: { kind: 'form', form_id: 4242 },
      frequency: { mode: 'every_page', days: 3 },
      variants: [{ key: 'a', weight: 60 }, { key: 'b', weight: 30 }],
    });
    expectError(bad, 422, 'VALIDATION_FAILED');
    expect(bad.body.error.details.map((d: any) => d.field).sort()).toEqual(['content.form_id', 'frequency.days', 'variants']);
    expectError(await t.json('POST', '/api/v1/focus-items/preview', { ...ITEM, content: { kind: 'link', cta: { label: 'x', url: 'javascript:alert(1)' } } }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/focus-items/preview', '[1,', { headers: { 'content-type': 'application/json' } }), 400, 'BAD_REQUEST');
    expect(await stored(t)).toEqual(before);
  });
});

describe('previews: HTTP contract', () => {
  routeContract([
    { method: 'POST', path: '/api/v1/forms/preview', body: FORM },
    { method: 'POST', path: '/api/v1/focus-items/preview', body: ITEM },
  ]);
});
