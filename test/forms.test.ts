import { describe, it, expect } from 'vitest';
import { makeApp, expectError, type TestApp } from './helpers';
import { CHROME_UA, count, makeSite, runJob, sign, track, vid } from './tracking-helpers';
import { routeContract } from './route-contract';

const ORIGIN = 'https://shop.example.com';

async function mkForm(t: TestApp, body: Record<string, unknown>) {
  const r = await t.json('POST', '/api/v1/forms', { name: 'Signup', ...body });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return r.body as { id: number; fields: any[]; [k: string]: any };
}

const basicFields = [
  { key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true },
  { key: 'first_name', label: 'First name', type: 'text', maps_to: 'first_name' },
];

async function definition(t: TestApp, id: number | string, q: Record<string, string>, origin: string | null = ORIGIN) {
  const headers: Record<string, string> = { 'user-agent': CHROME_UA };
  if (origin) headers.origin = origin;
  const res = await t.app.request(`/f/${id}?${new URLSearchParams(q)}`, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : null };
}

let sidSeq = 0;
const newSid = () => `sid_${Date.now().toString(36)}_${++sidSeq}`;

async function submit(
  t: TestApp,
  id: number,
  body: Record<string, unknown>,
  opts: { origin?: string | null; ua?: string; type?: string } = {},
) {
  const headers: Record<string, string> = { 'content-type': opts.type ?? 'text/plain;charset=UTF-8', 'user-agent': opts.ua ?? CHROME_UA };
  if (opts.origin !== null) headers.origin = opts.origin ?? ORIGIN;
  const payload = { sid: newSid(), t: 5000, hp: '', url: `${ORIGIN}/landing`, ...body };
  const res = await t.app.request(`/f/${id}`, { method: 'POST', headers, body: JSON.stringify(payload) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

function urlencoded(t: TestApp, id: number, fields: [string, string][], opts: { origin?: string | null } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': CHROME_UA };
  if (opts.origin !== null) headers.origin = opts.origin ?? ORIGIN;
  return t.app.request(`/f/${id}`, { method: 'POST', headers, body: new URLSearchParams(fields).toString() });
}

const submissions = (t: TestApp) => count(t, 'SELECT count(*) AS n FROM form_submissions');
const contacts = (t: TestApp) => count(t, 'SELECT count(*) AS n FROM contacts');
const formEvents = (t: TestApp) => count(t, "SELECT count(*) AS n FROM events WHERE type = 'form_submit'");

describe('forms API', () => {
  it('creates, reads, lists, updates and deletes a form, filling in defaults', async () => {
    const t = await makeApp();
    const created = await t.json('POST', '/api/v1/forms', {
      name: 'Newsletter',
      fields: [
        ...basicFields,
        { key: 'plan', label: 'Plan', type: 'select', options: ['free', { value: 'pro', label: 'Pro plan' }] },
        { key: 'src', type: 'hidden', source: 'utm_source' },
        { key: 'agree', label: 'I agree', type: 'consent', required: true },
      ],
    });
    expect(created.status).toBe(201);
    const f = created.body;
    expect(f).toMatchObject({
      name: 'Newsletter',
      submit_label: 'Submit',
      after_submit: { type: 'message', message: 'Thank you!' },
      progressive_profiling: { enabled: false, max_new_fields: null },
      actions: [],
      min_fill_ms: 1500,
      active: true,
      is_sample: false,
      submissions: 0,
    });
    expect(f.fields[2]).toEqual({
      key: 'plan',
      label: 'Plan',
      type: 'select',
      maps_to: null,
      required: false,
      placeholder: null,
      help: null,
      options: [
        { value: 'free', label: 'free' },
        { value: 'pro', label: 'Pro plan' },
      ],
      rules: {},
      default: null,
      source: null,
    });
    expect(f.fields[3]).toMatchObject({ key: 'src', label: 'src', source: 'utm_source' });

    expect((await t.json('GET', `/api/v1/forms/${f.id}`)).body).toEqual(f);
    await mkForm(t, { name: 'Second', fields: basicFields });
    const page1 = await t.json('GET', '/api/v1/forms?limit=1');
    expect(page1.body.data).toHaveLength(1);
    expect(page1.body.has_more).toBe(true);
    const page2 = await t.json('GET', `/api/v1/forms?limit=1&cursor=${page1.body.next_cursor}`);
    expect(page2.body.data[0].name).toBe('Second');
    expect(page2.body.has_more).toBe(false);

    const patched = await t.json('PATCH', `/api/v1/forms/${f.id}`, {
      submit_label: 'Join',
      after_submit: { type: 'redirect', url: 'https://shop.example.com/thanks' },
      active: false,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ submit_label: 'Join', after_submit: { type: 'redirect' }, active: false, name: 'Newsletter' });
    expect(patched.body.fields).toEqual(f.fields);

    expect((await t.json('DELETE', `/api/v1/forms/${f.id}`)).body).toEqual({ id: f.id, deleted: true });
    expectError(await t.json('GET', `/api/v1/forms/${f.id}`), 404, 'NOT_FOUND');
    expectError(await t.json('DELETE', `/api/v1/forms/${f.id}`), 404, 'NOT_FOUND');
  });

  it('answers 422 naming each problem in a definition', async () => {
    const t = await makeApp();
    await t.json('POST', '/api/v1/fields', { key: 'plan', label: 'Plan', type: 'select', options: ['free', 'pro'] });
    const bad = async (body: Record<string, unknown>, field: string, message?: RegExp) => {
      const r = await t.json('POST', '/api/v1/forms', { name: 'X', fields: basicFields, ...body });
      expectError(r, 422, 'VALIDATION_FAILED');
      const hit = r.body.error.details.find((d: any) => d.field === field);
      expect(hit, `${field} in ${JSON.stringify(r.body.error.details)}`).toBeTruthy();
      if (message) expect(hit.message).toMatch(message);
    };
    await bad({ bogus: 1 }, 'bogus', /unknown/);
    await bad({ fields: [] }, 'fields');
    await bad({ fields: [{ key: 'Bad Key', label: 'x', type: 'text' }] }, 'fields.0.key');
    await bad({ fields: [{ key: 'a', label: 'x', type: 'colour' }] }, 'fields.0.type');
    await bad({ fields: [{ key: 'a', type: 'text' }] }, 'fields.0.label', /required/);
    await bad({ fields: [...basicFields, { key: 'email', label: 'Again', type: 'text' }] }, 'fields.2.key', /duplicate/);
    await bad({ fields: [{ key: 'c', label: 'Pick', type: 'select' }] }, 'fields.0.options');
    await bad({ fields: [{ key: 'c', label: 'Pick', type: 'text', options: ['a'] }] }, 'fields.0.options');
    await bad({ fields: [{ key: 'c', label: 'Pick', type: 'radio', options: ['a', 'a'] }] }, 'fields.0.options', /unique/);
    await bad({ fields: [...basicFields, { key: 'ok', label: 'I agree', type: 'consent' }] }, 'fields.2.required', /consent/);
    await bad({ fields: [...basicFields, { key: 'ok', label: 'I agree', type: 'consent', required: true, default: true }] }, 'fields.2.default');
    await bad({ fields: [...basicFields, { key: 'email2', label: 'Work email', type: 'email', maps_to: 'email' }] }, 'fields.2.maps_to', /already maps/);
    await bad({ fields: [{ key: 'e', label: 'E', type: 'text', maps_to: 'email' }] }, 'fields.0.maps_to', /only an email field/);
    await bad({ fields: [{ key: 'e', label: 'E', type: 'text', maps_to: 'fields.nope' }] }, 'fields.0.maps_to', /no custom field/);
    await bad({ fields: [{ key: 'e', label: 'E', type: 'text', maps_to: 'favourite_colour' }] }, 'fields.0.maps_to');
    await bad({ fields: [{ key: 'n', label: 'N', type: 'number', maps_to: 'country' }] }, 'fields.0.maps_to', /cannot write/);
    await bad({ fields: [{ key: 'p', label: 'P', type: 'select', options: ['free', 'gold'], maps_to: 'fields.plan' }] }, 'fields.0.options', /gold/);
    await bad({ fields: [{ key: 'p', label: 'P', type: 'text', rules: { pattern: '([a-z' } }] }, 'fields.0.rules.pattern', /valid/);
    await bad({ fields: [{ key: 'p', label: 'P', type: 'text', rules: { pattern: '(a+)+b' } }] }, 'fields.0.rules.pattern', /nested/);
    // Checked on the server in linear time: the database's engine has no (?:…), lookaround or backreferences.
    await bad({ fields: [{ key: 'p', label: 'P', type: 'text', rules: { pattern: '(?:ab)+' } }] }, 'fields.0.rules.pattern', /linear time/);
    await bad({ fields: [{ key: 'p', label: 'P', type: 'text', rules: { pattern: 'a(?=b)' } }] }, 'fields.0.rules.pattern', /linear time/);
    await bad({ fields: [{ key: 'p', label: 'P', type: 'text', rules: { max_length: 300 } }] }, 'fields.0.rules.max_length');
    await bad({ fields: [{ key: 'p', label: 'P', type: 'number', rules: { min: 10, max: 5 } }] }, 'fields.0.rules.min');
    await bad({ fields: [{ key: 'p', label: 'P', type: 'date', rules: { min: 5 } }] }, 'fields.0.rules.min');
    await bad({ fields: [{ key: 'p', label: 'P', type: 'number', default: 'abc' }] }, 'fields.0.default');
    await bad({ fields: [{ key: 'h', type: 'hidden', required: true }] }, 'fields.0.required');
    await bad({ fields: [{ key: 'h', type: 'hidden', source: 'utm_source', default: 'x' }] }, 'fields.0.default');
    await bad({ fields: [{ key: 't', label: 'T', type: 'text', source: 'referrer' }] }, 'fields.0.source');
    await bad({ after_submit: { type: 'redirect', url: 'javascript:alert(1)' } }, 'after_submit.url');
    await bad({ after_submit: { type: 'redirect', url: 'ftp://example.com/x' } }, 'after_submit.url');
    await bad({ after_submit: { type: 'message', message: '' } }, 'after_submit.message');
    await bad({ actions: [{ type: 'add_to_segment', segment_id: 999 }] }, 'actions.0', /segment 999/);
    await bad({ actions: [{ type: 'deliver_asset', asset_id: 999 }] }, 'actions.0', /asset 999/);
    await bad({ actions: [{ type: 'set_field', field: 'country', value: 'Atlantis' }] }, 'actions.0');
    await bad({ actions: [{ type: 'set_field', field: 'email', value: 'a@b.co' }] }, 'actions.0');
    await bad({ actions: [{ type: 'set_field', field: 'fields.nope', value: 'x' }] }, 'actions.0');
    await bad({ actions: [{ type: 'give_points', points: 0 }] }, 'actions.0.points');
    await bad({ actions: [{ type: 'launch_rocket' }] }, 'actions.0.type');
    await bad({ actions: [{ type: 'add_tags', tags: [] }] }, 'actions.0.tags');
    expect(await count(t, 'SELECT count(*) AS n FROM forms')).toBe(0);

    // PATCH checks the merged result, and names the problem the same way.
    const f = await mkForm(t, { fields: basicFields });
    const r = await t.json('PATCH', `/api/v1/forms/${f.id}`, { fields: [{ key: 'x', label: 'X', type: 'consent' }] });
    expectError(r, 422, 'VALIDATION_FAILED');
    expect(r.body.error.details).toContainEqual(expect.objectContaining({ field: 'fields.0.required' }));
    expect((await t.json('PATCH', `/api/v1/forms/${f.id}`, {})).status).toBe(200);
  });

  it('refuses to delete a form that gates an asset', async () => {
    const t = await makeApp();
    const f = await mkForm(t, { fields: basicFields });
    await t.client.execute({
      sql: `INSERT INTO assets (slug, title, filename, content_type, size, sha256, storage_key, gate_form_id, created_at, updated_at)
        VALUES ('guide', 'Guide', 'guide.pdf', 'application/pdf', 1, 'x', 'k', ?, 0, 0)`,
      args: [f.id],
    });
    expectError(await t.json('DELETE', `/api/v1/forms/${f.id}`), 409, 'CONFLICT');
  });

  describe('route contract', () => {
    routeContract([
      { method: 'POST', path: '/api/v1/forms', body: { name: 'F', fields: basicFields } },
      { method: 'GET', path: '/api/v1/forms' },
      { method: 'GET', path: '/api/v1/forms/1', idTemplate: '/api/v1/forms/{id}' },
      { method: 'PATCH', path: '/api/v1/forms/1', body: { name: 'G' }, idTemplate: '/api/v1/forms/{id}' },
      { method: 'DELETE', path: '/api/v1/forms/1', idTemplate: '/api/v1/forms/{id}' },
      { method: 'GET', path: '/api/v1/forms/1/results', idTemplate: '/api/v1/forms/{id}/results' },
      { method: 'GET', path: '/api/v1/forms/1/results.csv', idTemplate: '/api/v1/forms/{id}/results.csv' },
    ]);
  });
});

describe('GET /f/:id', () => {
  it('answers the definition a browser needs, with CORS for the site origin', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const f = await mkForm(t, {
      name: 'Internal name',
      fields: [
        ...basicFields,
        { key: 'size', label: 'Team size', type: 'number', rules: { min: 1, max: 500 }, help: 'Roughly' },
        { key: 'land', label: 'Country', type: 'country' },
        { key: 'src', type: 'hidden', source: 'utm_source' },
        { key: 'campaign', type: 'hidden', default: 'secret-q3-push' },
      ],
      submit_label: 'Go',
      min_fill_ms: 2000,
      actions: [{ type: 'add_tags', tags: ['lead'] }],
    });
    const r = await definition(t, f.id, { k: site.public_key });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(r.headers.get('vary')).toContain('Origin');
    expect(r.headers.get('cache-control')).toContain('no-store');
    expect(r.body).toMatchObject({
      id: f.id,
      submit_url: `http://localhost/f/${f.id}`,
      submit_label: 'Go',
      honeypot: 'website',
      min_fill_ms: 2000,
      success: { type: 'message', message: 'Thank you!' },
    });
    expect(r.body.fields.map((x: any) => x.key)).toEqual(['email', 'first_name', 'size', 'land', 'src']);
    expect(r.body.fields[0]).toEqual({ key: 'email', type: 'email', label: 'Email', required: true, rules: { max_length: 254 } });
    expect(r.body.fields[2]).toEqual({ key: 'size', type: 'number', label: 'Team size', required: false, help: 'Roughly', rules: { min: 1, max: 500 } });
    expect(r.body.fields[3].options).toContainEqual({ value: 'DE', label: 'Germany' });
    expect(r.body.fields[4]).toMatchObject({ key: 'src', type: 'hidden', source: 'utm_source' });
    // Internal things stay on the server: the name, actions, static hidden values, contact mapping.
    expect(r.text).not.toContain('Internal name');
    expect(r.text).not.toContain('secret-q3-push');
    expect(r.text).not.toContain('maps_to');
    expect(r.text).not.toContain('lead');

    // Unknown site, wrong origin, unknown or inactive form, bad parameters.
    expectError(await definition(t, f.id, { k: 'pk_nonexistent_key' }), 404, 'NOT_FOUND');
    const wrong = await definition(t, f.id, { k: site.public_key }, 'https://evil.example.net');
    expectError(wrong, 403, 'ORIGIN_NOT_ALLOWED');
    expectError(await definition(t, f.id, { k: site.public_key }, null), 403, 'ORIGIN_NOT_ALLOWED');
    expectError(await definition(t, 9999, { k: site.public_key }), 404, 'NOT_FOUND');
    expectError(await definition(t, 'abc', { k: site.public_key }), 404, 'NOT_FOUND');
    expectError(await definition(t, '99999999999999999999', { k: site.public_key }), 404, 'NOT_FOUND');
    expectError(await definition(t, f.id, {}), 422, 'VALIDATION_FAILED');
    expectError(await definition(t, f.id, { k: site.public_key, v: 'short' }), 422, 'VALIDATION_FAILED');
    await t.json('PATCH', `/api/v1/forms/${f.id}`, { active: false });
    expectError(await definition(t, f.id, { k: site.public_key }), 404, 'NOT_FOUND');
    // Preflight for JSON senders.
    const pre = await t.app.request(`/f/${f.id}`, { method: 'OPTIONS', headers: { origin: ORIGIN } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('progressive profiling hides what is known about the visitor and never sends contact values', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    await t.json('POST', '/api/v1/fields', { key: 'company', label: 'Company', type: 'text' });
    await t.json('POST', '/api/v1/fields', { key: 'team_size', label: 'Team size', type: 'number' });
    const f = await mkForm(t, {
      fields: [
        ...basicFields,
        { key: 'last_name', label: 'Last name', type: 'text', maps_to: 'last_name' },
        { key: 'city', label: 'City', type: 'text', maps_to: 'city', required: true },
        { key: 'company', label: 'Company', type: 'text', maps_to: 'fields.company' },
        { key: 'team', label: 'Team size', type: 'number', maps_to: 'fields.team_size' },
        { key: 'note', label: 'Anything else?', type: 'textarea' },
      ],
      progressive_profiling: { enabled: true, max_new_fields: 2 },
    });
    const made = await t.json('POST', '/api/v1/contacts', { email: 'zelda@example.com', first_name: 'Zelda', city: 'Paris', fields: { company: 'Hyrule Ltd' } });
    expect(made.status).toBe(201);
    // The visitor proves who it is through the site's backend (signed identify).
    await track(t, { k: site.public_key, v: vid(1), e: [], id: { email: 'zelda@example.com', sig: sign(site.secret, 'zelda@example.com') } });

    const known = await definition(t, f.id, { k: site.public_key, v: vid(1) });
    expect(known.status).toBe(200);
    // first_name, city and company are known; two new ones (last_name, team) at most; email and unmapped always.
    expect(known.body.fields.map((x: any) => x.key)).toEqual(['email', 'last_name', 'team', 'note']);
    for (const secret of ['Zelda', 'Paris', 'Hyrule', 'zelda@example.com']) expect(known.text).not.toContain(secret);

    const stranger = await definition(t, f.id, { k: site.public_key, v: vid(2) });
    expect(stranger.body.fields.map((x: any) => x.key)).toEqual(['email', 'first_name', 'last_name', 'note']);
    const anonymous = await definition(t, f.id, { k: site.public_key });
    expect(anonymous.body.fields.map((x: any) => x.key)).toEqual(['email', 'first_name', 'last_name', 'note']);

    // A required field that was not shown (city is known) is not required on submit; hidden ones are not overwritten.
    const r = await submit(t, f.id, { k: site.public_key, v: vid(1), values: { email: 'zelda@example.com', last_name: 'Hyrule', team: '12' } });
    expect(r.status).toBe(200);
    const c = (await t.json('GET', `/api/v1/contacts/${made.body.id}`)).body;
    expect(c).toMatchObject({ first_name: 'Zelda', last_name: 'Hyrule', city: 'Paris', fields: { company: 'Hyrule Ltd', team_size: 12 } });
    // The next display asks for what is still missing.
    const next = await definition(t, f.id, { k: site.public_key, v: vid(1) });
    expect(next.body.fields.map((x: any) => x.key)).toEqual(['email', 'note']);
    // A stranger who was shown city must fill it in.
    const missing = await submit(t, f.id, { k: site.public_key, v: vid(3), values: { email: 'new@example.com', city: '' } });
    expectError(missing, 422, 'VALIDATION_FAILED');
    expect(missing.body.error.details).toEqual([{ field: 'values.city', message: 'is required' }]);
  });

  it('prefills only what this visitor sent to this form, and only harmless types', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const f = await mkForm(t, {
      fields: [
        ...basicFields,
        { key: 'plan', label: 'Plan', type: 'radio', options: ['free', 'pro'] },
        { key: 'phone', label: 'Phone', type: 'tel' },
        { key: 'topics', label: 'Topics', type: 'checkbox_group', options: ['a', 'b', 'c'] },
      ],
    });
    const other = await mkForm(t, { name: 'Other', fields: basicFields });
    const r = await submit(t, f.id, {
      k: site.public_key,
      v: vid(1),
      values: { email: 'amy@example.com', first_name: 'Amy', plan: 'pro', phone: '+49 30 1234567', topics: ['a', 'c'] },
    });
    expect(r.status).toBe(200);
    const mine = await definition(t, f.id, { k: site.public_key, v: vid(1) });
    const byKey = Object.fromEntries(mine.body.fields.map((x: any) => [x.key, x]));
    expect(byKey.first_name.value).toBe('Amy');
    expect(byKey.plan.value).toBe('pro');
    expect(byKey.topics.value).toEqual(['a', 'c']);
    expect(byKey.email.value).toBeUndefined();
    expect(byKey.phone.value).toBeUndefined();
    expect(mine.text).not.toContain('amy@example.com');
    expect(mine.text).not.toContain('1234567');
    // Another browser, or another form, gets nothing.
    const theirs = await definition(t, f.id, { k: site.public_key, v: vid(2) });
    expect(theirs.body.fields.some((x: any) => 'value' in x)).toBe(false);
    const otherForm = await definition(t, other.id, { k: site.public_key, v: vid(1) });
    expect(otherForm.body.fields.some((x: any) => 'value' in x)).toBe(false);
  });
});

describe('POST /f/:id', () => {
  it('answers 422 with field-level details and stores nothing', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    await t.json('POST', '/api/v1/fields', { key: 'score', label: 'Score', type: 'number' });
    const f = await mkForm(t, {
      fields: [
        ...basicFields,
        { key: 'zip', label: 'ZIP', type: 'text', rules: { pattern: '[0-9]{5}', pattern_message: 'must be 5 digits' } },
        { key: 'size', label: 'Size', type: 'number', rules: { min: 1, max: 10 } },
        { key: 'when', label: 'When', type: 'date', rules: { min: '2026-01-01' } },
        { key: 'plan', label: 'Plan', type: 'select', options: ['free', 'pro'] },
        { key: 'topics', label: 'Topics', type: 'checkbox_group', options: ['a', 'b'] },
        { key: 'bio', label: 'Bio', type: 'textarea', rules: { min_length: 10 } },
        { key: 'land', label: 'Country', type: 'country' },
        { key: 'agree', label: 'I agree', type: 'consent', required: true },
      ],
    });
    const r = await submit(t, f.id, {
      k: site.public_key,
      v: vid(1),
      values: { email: 'not-an-email', zip: '123', size: '11', when: '2025-12-31', plan: 'gold', topics: ['a', 'z'], bio: 'short', land: 'Atlantis', agree: false },
    });
    expectError(r, 422, 'VALIDATION_FAILED');
    expect(r.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const byField = Object.fromEntries(r.body.error.details.map((d: any) => [d.field, d.message]));
    expect(byField).toEqual({
      'values.email': 'must be a valid email address',
      'values.zip': 'must be 5 digits',
      'values.size': 'must be at most 10',
      'values.when': 'must be on or after 2026-01-01',
      'values.plan': 'must be one of the options',
      'values.topics': '"z" is not one of the options',
      'values.bio': 'must be at least 10 characters',
      'values.land': 'must be a country (ISO 3166-1 alpha-2 code, e.g. DE)',
      'values.agree': 'must be accepted',
    });
    const missing = await submit(t, f.id, { k: site.public_key, values: {} });
    expect(missing.body.error.details).toEqual([
      { field: 'values.email', message: 'is required' },
      { field: 'values.agree', message: 'must be accepted' },
    ]);
    // Malformed bodies.
    expectError(await submit(t, f.id, { k: site.public_key, values: {}, sid: 'x' }), 422, 'VALIDATION_FAILED');
    const notJson = await t.app.request(`/f/${f.id}`, { method: 'POST', headers: { 'content-type': 'text/plain', origin: ORIGIN, 'user-agent': CHROME_UA }, body: '{nope' });
    expect(notJson.status).toBe(400);
    const xml = await t.app.request(`/f/${f.id}`, { method: 'POST', headers: { 'content-type': 'application/xml', origin: ORIGIN }, body: '<x/>' });
    expect(xml.status).toBe(415);
    const big = await t.app.request(`/f/${f.id}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: ORIGIN },
      body: JSON.stringify({ k: site.public_key, sid: newSid(), t: 5000, values: { bio: 'x'.repeat(70_000) } }),
    });
    expect(big.status).toBe(413);
    expectError(await submit(t, f.id, { k: site.public_key, values: {} }, { origin: 'https://evil.example.net' }), 403, 'ORIGIN_NOT_ALLOWED');
    expectError(await submit(t, f.id, { k: 'pk_nonexistent_key', values: {} }), 404, 'NOT_FOUND');
    expectError(await submit(t, 4242, { k: site.public_key, values: {} }), 404, 'NOT_FOUND');
    expect(await submissions(t)).toBe(0);
    expect(await contacts(t)).toBe(0);
    expect(await count(t, 'SELECT count(*) AS n FROM events')).toBe(0);
  });

  it('a valid submission creates the contact, links the visitor, stores submission and event, and runs every action', async () => {
    let now = Date.UTC(2026, 5, 1);
    const t = await makeApp({ now: () => (now += 1000) });
    const site = await makeSite(t);
    await t.json('POST', '/api/v1/fields', { key: 'plan', label: 'Plan', type: 'select', options: ['free', 'pro'] });
    await t.json('POST', '/api/v1/fields', { key: 'topics', label: 'Topics', type: 'multiselect', options: ['seo', 'ads', 'email'] });
    await t.json('POST', '/api/v1/fields', { key: 'newsletter', label: 'Newsletter', type: 'boolean' });
    await t.json('POST', '/api/v1/fields', { key: 'lead_source', label: 'Lead source', type: 'text' });
    const segment = (await t.json('POST', '/api/v1/segments', { name: 'Form leads', kind: 'static' })).body;
    await t.client.execute(
      `INSERT INTO assets (slug, title, filename, content_type, size, sha256, storage_key, created_at, updated_at)
        VALUES ('growth-guide', 'Guide', 'guide.pdf', 'application/pdf', 1, 'x', 'k', 0, 0)`,
    );
    const assetId = Number((await t.client.execute("SELECT id FROM assets WHERE slug = 'growth-guide'")).rows[0]!.id);
    const f = await mkForm(t, {
      fields: [
        ...basicFields,
        { key: 'plan', label: 'Plan', type: 'radio', options: ['free', 'pro'], maps_to: 'fields.plan' },
        { key: 'topics', label: 'Topics', type: 'checkbox_group', options: ['seo', 'ads'], maps_to: 'fields.topics' },
        { key: 'land', label: 'Country', type: 'country', maps_to: 'country' },
        { key: 'agree', label: 'Send me the newsletter', type: 'consent', required: true, maps_to: 'fields.newsletter' },
        { key: 'src', type: 'hidden', source: 'utm_source', maps_to: 'fields.lead_source' },
        { key: 'origin_page', type: 'hidden', source: 'page_url' },
      ],
      after_submit: { type: 'message', message: 'Check your inbox.' },
      actions: [
        { type: 'add_tags', tags: ['Lead', 'guide'] },
        { type: 'remove_tags', tags: ['cold'] },
        { type: 'set_field', field: 'job_title', value: 'Marketer' },
        { type: 'add_to_segment', segment_id: segment.id },
        { type: 'give_points', points: 15, reason: 'downloaded the guide' },
        { type: 'deliver_asset', asset_id: assetId },
      ],
    });
    // Earlier anonymous page views.
    await track(t, { k: site.public_key, v: vid(7), e: [{ t: 'pv', u: `${ORIGIN}/?utm_source=ads` }] });
    await track(t, { k: site.public_key, v: vid(7), e: [{ t: 'pv', u: `${ORIGIN}/pricing` }] });
    const r = await submit(t, f.id, {
      k: site.public_key,
      v: vid(7),
      values: { email: '  Ben@Example.com ', first_name: 'Ben', plan: 'pro', topics: ['seo', 'ads'], land: 'de', agree: true },
      url: `${ORIGIN}/guide?utm_source=linkedin`,
      ref: 'https://www.linkedin.com/',
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(r.body).toEqual({ ok: true, message: 'Check your inbox.', asset_url: 'http://localhost/a/growth-guide' });
    // give_points is scored by the form's own point rule, through the reactions.
    await runJob(t);

    const list = (await t.json('GET', '/api/v1/contacts')).body.data;
    expect(list).toHaveLength(1);
    const c = list[0];
    expect(c).toMatchObject({
      email: 'Ben@Example.com',
      first_name: 'Ben',
      country: 'DE',
      job_title: 'Marketer',
      points: 15,
      fields: { plan: 'pro', topics: ['seo', 'ads'], newsletter: true, lead_source: 'linkedin' },
      tags: ['guide', 'lead'],
    });
    expect((await t.json('GET', `/api/v1/segments/${segment.id}/members`)).body.data.map((m: any) => m.id)).toEqual([c.id]);

    const sub = (await t.client.execute('SELECT * FROM form_submissions')).rows;
    expect(sub).toHaveLength(1);
    expect(Number(sub[0]!.contact_id)).toBe(c.id);
    expect(JSON.parse(String(sub[0]!.values))).toEqual({
      email: 'Ben@Example.com',
      first_name: 'Ben',
      plan: 'pro',
      topics: ['seo', 'ads'],
      land: 'DE',
      agree: true,
      src: 'linkedin',
      origin_page: `${ORIGIN}/guide?utm_source=linkedin`,
    });
    expect(sub[0]!.page_url).toBe(`${ORIGIN}/guide?utm_source=linkedin`);
    expect(sub[0]!.referrer).toBe('https://www.linkedin.com/');

    // The anonymous page views join the contact's timeline once the reactions ran.
    await runJob(t);
    const events = (await t.json('GET', `/api/v1/contacts/${c.id}/events?limit=100`)).body.data;
    const types = events.map((e: any) => e.type);
    expect(types.filter((x: string) => x === 'page_view')).toHaveLength(2);
    expect(types).toContain('identified');
    const fs = events.find((e: any) => e.type === 'form_submit');
    expect(fs).toMatchObject({ url: `${ORIGIN}/guide?utm_source=linkedin`, props: { form_id: f.id, submission_id: Number(sub[0]!.id) } });
    expect(types).toContain('points_changed');
    expect(types).toContain('segment_joined');
    const first = (await t.json('GET', `/api/v1/contacts/${c.id}`)).body.first_source;
    expect(first).toMatchObject({ utm_source: 'ads' });
    expect((await t.json('GET', `/api/v1/forms/${f.id}`)).body.submissions).toBe(1);
  });

  it('an existing email merges into the existing contact, with no duplicate', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const existing = (await t.json('POST', '/api/v1/contacts', { email: 'cara@example.com', last_name: 'Old', tags: ['customer'] })).body;
    const f = await mkForm(t, { fields: [...basicFields, { key: 'last_name', label: 'Last', type: 'text', maps_to: 'last_name' }] });
    const r = await submit(t, f.id, { k: site.public_key, v: vid(1), values: { email: 'CARA@example.com', first_name: 'Cara', last_name: 'New' } });
    expect(r.status).toBe(200);
    expect(await contacts(t)).toBe(1);
    const c = (await t.json('GET', `/api/v1/contacts/${existing.id}`)).body;
    expect(c).toMatchObject({ email: 'cara@example.com', first_name: 'Cara', last_name: 'New', tags: ['customer'] });
    // Consent mode: no visitor id, the contact is found by email all the same.
    const r2 = await submit(t, f.id, { k: site.public_key, v: null, values: { email: 'cara@example.com', first_name: 'Cara2' } });
    expect(r2.status).toBe(200);
    expect(await contacts(t)).toBe(1);
    const rows = (await t.client.execute('SELECT contact_id, visitor_id FROM form_submissions ORDER BY id')).rows;
    expect(rows.map((x) => Number(x.contact_id))).toEqual([existing.id, existing.id]);
    expect(rows[1]!.visitor_id).toBeNull();
    // A submission without an email from an unknown browser stays anonymous.
    const g = await mkForm(t, { name: 'Feedback', fields: [{ key: 'msg', label: 'Message', type: 'textarea', required: true }] });
    expect((await submit(t, g.id, { k: site.public_key, v: vid(9), values: { msg: 'Nice site' } })).status).toBe(200);
    expect(await contacts(t)).toBe(1);
    const anon = (await t.client.execute('SELECT contact_id, visitor_id FROM form_submissions WHERE form_id = ?', [g.id])).rows[0]!;
    expect(anon.contact_id).toBeNull();
    expect(anon.visitor_id).not.toBeNull();
  });

  it('a double submit with the same sid stores one submission and answers the same', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const f = await mkForm(t, { fields: basicFields, actions: [{ type: 'give_points', points: 5 }] });
    const body = { k: site.public_key, v: vid(1), sid: 'double_click_1', values: { email: 'dan@example.com' } };
    const [a, b] = await Promise.all([submit(t, f.id, body), submit(t, f.id, body)]);
    const c2 = await submit(t, f.id, body);
    for (const r of [a, b, c2]) expect(r).toMatchObject({ status: 200, body: { ok: true, message: 'Thank you!' } });
    expect(await submissions(t)).toBe(1);
    expect(await formEvents(t)).toBe(1);
    await runJob(t);
    expect((await t.json('GET', '/api/v1/contacts')).body.data[0].points).toBe(5);
    // The same sid on another form is another submission.
    const g = await mkForm(t, { name: 'G', fields: basicFields });
    expect((await submit(t, g.id, body)).status).toBe(200);
    expect(await submissions(t)).toBe(2);
  });

  it('honeypot, too-fast and bot submissions are answered a plain "Thanks!" and store nothing', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const f = await mkForm(t, { fields: basicFields, after_submit: { type: 'redirect', url: 'https://shop.example.com/thanks' } });
    const values = { email: 'bot@example.com' };
    // Nothing that claims what did not happen: no redirect to the thank-you page, no asset.
    const discarded = { status: 200, body: { ok: true, message: 'Thanks!' } };
    for (const r of [
      await submit(t, f.id, { k: site.public_key, values, hp: 'http://spam.example' }),
      await submit(t, f.id, { k: site.public_key, values, t: 300 }),
      await submit(t, f.id, { k: site.public_key, values }, { ua: 'curl/8.4.0' }),
    ]) {
      expect(r).toEqual(expect.objectContaining(discarded));
      expect(r.body).toEqual(discarded.body);
    }
    const expected = { status: 200, body: { ok: true, redirect: 'https://shop.example.com/thanks' } };
    expect(await submissions(t)).toBe(0);
    expect(await contacts(t)).toBe(0);
    expect(await count(t, 'SELECT count(*) AS n FROM events')).toBe(0);
    // A real one goes through.
    expect(await submit(t, f.id, { k: site.public_key, values })).toMatchObject(expected);
    expect(await submissions(t)).toBe(1);
  });

  it('rate-limits submissions per IP with 429', async () => {
    const t = await makeApp({ env: { PUBLIC_RATE_LIMIT: '40' }, public: { clientIp: (c) => c.req.header('x-test-ip') ?? null } });
    const site = await makeSite(t);
    const f = await mkForm(t, { fields: basicFields });
    const post = (ip: string, i: number) =>
      t.app.request(`/f/${f.id}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', origin: ORIGIN, 'user-agent': CHROME_UA, 'x-test-ip': ip },
        body: JSON.stringify({ k: site.public_key, sid: `rate_limit_${ip.replace(/\./g, '_')}_${i}`, t: 5000, values: { email: `r${i}@example.com` } }),
      });
    // 40 per minute for reads means 2 submissions per minute per IP.
    expect((await post('81.2.69.160', 1)).status).toBe(200);
    expect((await post('81.2.69.160', 2)).status).toBe(200);
    const limited = await post('81.2.69.160', 3);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeTruthy();
    expect(limited.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect((await limited.json()).error.code).toBe('RATE_LIMITED');
    expect((await post('81.2.69.161', 4)).status).toBe(200);
    expect(await submissions(t)).toBe(3);
  });
});

describe('no-JavaScript form', () => {
  it('GET /f/:id/embed serves a plain, escaped HTML form', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const f = await mkForm(t, {
      name: '<script>alert("name")</script>',
      fields: [
        { key: 'email', label: 'Email <b>now</b>', type: 'email', maps_to: 'email', required: true, help: '"quoted" & more' },
        { key: 'plan', label: 'Plan', type: 'radio', options: [{ value: 'a"b', label: '<i>A</i>' }] },
        { key: 'land', label: 'Country', type: 'country' },
        { key: 'agree', label: 'I agree', type: 'consent', required: true },
        { key: 'src', type: 'hidden', source: 'utm_source' },
      ],
      submit_label: 'Send <now>',
    });
    const res = await t.app.request(`/f/${f.id}/embed?k=${site.public_key}&return=${encodeURIComponent(`${ORIGIN}/contact?x=1`)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b>now</b>');
    expect(html).not.toContain('<i>A</i>');
    expect(html).toContain('&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;');
    expect(html).toContain('Send &lt;now&gt;');
    expect(html).toContain('value="a&quot;b"');
    expect(html).toContain(`action="http://localhost/f/${f.id}"`);
    expect(html).toContain(`name="_k" value="${site.public_key}"`);
    expect(html).toContain(`name="_return" value="${ORIGIN}/contact?x=1"`);
    expect(html).toMatch(/name="_sid" value="[A-Za-z0-9]{24}"/);
    expect(html).toMatch(/<label for="lf-email">/);
    expect(html).toMatch(/<input[^>]*type="email"[^>]*id="lf-email"[^>]*name="email"[^>]*required/);
    expect(html).toContain('<option value="DE">Germany</option>');
    expect(html).toContain('name="website"');
    expect(html).not.toContain('name="src"');

    expectError(await t.json('GET', `/f/${f.id}/embed?k=${site.public_key}&return=${encodeURIComponent('https://evil.example.net/')}`), 422, 'VALIDATION_FAILED');
    expectError(await t.json('GET', `/f/${f.id}/embed?k=pk_nonexistent_key`), 404, 'NOT_FOUND');
    expectError(await t.json('GET', `/f/${f.id}/embed`), 422, 'VALIDATION_FAILED');
  });

  it('a URL-encoded post is stored and answered with a 303 back to the page; foreign return URLs are refused', async () => {
    let now = Date.UTC(2026, 5, 1);
    const t = await makeApp({ now: () => now });
    const site = await makeSite(t);
    const f = await mkForm(t, {
      fields: [...basicFields, { key: 'topics', label: 'Topics', type: 'checkbox_group', options: ['a', 'b', 'c'] }, { key: 'agree', label: 'OK', type: 'consent', required: true }],
    });
    const html = await (await t.app.request(`/f/${f.id}/embed?k=${site.public_key}&return=${encodeURIComponent(`${ORIGIN}/contact`)}`)).text();
    const hidden = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)![1]!.replace(/&amp;/g, '&');
    const base: [string, string][] = [
      ['_k', hidden('_k')],
      ['_sid', hidden('_sid')],
      ['_ts', hidden('_ts')],
      ['_return', hidden('_return')],
      ['website', ''],
    ];
    now += 10_000;
    const ok = await urlencoded(t, f.id, [...base, ['email', 'nojs@example.com'], ['first_name', 'No'], ['topics', 'a'], ['topics', 'c'], ['agree', '1']]);
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe(`${ORIGIN}/contact?leadline_form=ok`);
    const row = (await t.client.execute('SELECT "values", page_url FROM form_submissions')).rows[0]!;
    expect(JSON.parse(String(row.values))).toEqual({ email: 'nojs@example.com', first_name: 'No', topics: ['a', 'c'], agree: true });
    expect(row.page_url).toBe(`${ORIGIN}/contact`);
    expect(await contacts(t)).toBe(1);
    // The same form posted twice (back button, resubmit) is one submission.
    expect((await urlencoded(t, f.id, [...base, ['email', 'nojs@example.com'], ['agree', '1']])).status).toBe(303);
    expect(await submissions(t)).toBe(1);

    // Validation errors go back with leadline_form=error, nothing stored.
    const fresh = (sid: string): [string, string][] => base.map(([k, v]) => [k, k === '_sid' ? sid : v]);
    const bad = await urlencoded(t, f.id, [...fresh('nojs_second_1'), ['email', 'nope']]);
    expect(bad.status).toBe(303);
    expect(bad.headers.get('location')).toBe(`${ORIGIN}/contact?leadline_form=error`);
    // A return URL on another origin is refused: no redirect, nothing stored.
    const evil = await urlencoded(t, f.id, [...fresh('nojs_third_1').filter(([k]) => k !== '_return'), ['_return', 'https://evil.example.net/phish'], ['email', 'x@example.com'], ['agree', '1']]);
    expect(evil.status).toBe(422);
    expect(evil.headers.get('location')).toBeNull();
    expect((await evil.json()).error.details[0].field).toBe('_return');
    // Posted from a page on a foreign origin.
    expect((await urlencoded(t, f.id, [...fresh('nojs_fourth_1'), ['email', 'y@example.com'], ['agree', '1']], { origin: 'https://evil.example.net' })).status).toBe(403);
    // From the embed page itself (this server's origin), without a return URL: an HTML answer.
    const own = await urlencoded(t, f.id, [...fresh('nojs_fifth_1').filter(([k]) => k !== '_return'), ['email', 'z@example.com'], ['agree', '1']], { origin: 'http://localhost' });
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('Thank you!');
    const invalid = await urlencoded(t, f.id, [...fresh('nojs_sixth_1').filter(([k]) => k !== '_return'), ['email', '<b>bad</b>']], { origin: 'http://localhost' });
    expect(invalid.status).toBe(422);
    const page = await invalid.text();
    expect(page).toContain('role="alert"');
    expect(page).toContain('value="&lt;b&gt;bad&lt;/b&gt;"');
    expect(page).not.toContain('<b>bad</b>');
    expect(await submissions(t)).toBe(2);

    // Too fast (a bot posting the page it just fetched) or a forged stamp: accepted-looking, discarded.
    const quick = (await t.app.request(`/f/${f.id}/embed?k=${site.public_key}`)).text();
    const stamp = /name="_ts" value="([^"]*)"/.exec(await quick)![1]!;
    const fast = await urlencoded(t, f.id, [['_k', site.public_key], ['_sid', 'nojs_fast_1'], ['_ts', stamp], ['email', 'fast@example.com'], ['agree', '1']], { origin: 'http://localhost' });
    expect(fast.status).toBe(200);
    const forged = await urlencoded(t, f.id, [['_k', site.public_key], ['_sid', 'nojs_forged_1'], ['_ts', `${now - 60_000}.${'0'.repeat(32)}`], ['email', 'forged@example.com'], ['agree', '1']], { origin: 'http://localhost' });
    expect(forged.status).toBe(200);
    expect(await submissions(t)).toBe(2);
  });
});

describe('results', () => {
  it('lists submissions newest first with a cursor, and exports CSV safe from formulas', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const f = await mkForm(t, { fields: [...basicFields, { key: 'note', label: 'Note', type: 'textarea' }] });
    const notes = ['first', '=HYPERLINK("http://evil.example","click")', 'has, comma and "quotes"'];
    for (const [i, note] of notes.entries()) {
      const r = await submit(t, f.id, { k: site.public_key, v: vid(i), values: { email: `p${i}@example.com`, note } });
      expect(r.status).toBe(200);
    }
    const p1 = await t.json('GET', `/api/v1/forms/${f.id}/results?limit=2`);
    expect(p1.status).toBe(200);
    expect(p1.body.data.map((r: any) => r.values.note)).toEqual([notes[2], notes[1]]);
    expect(p1.body.data[0]).toMatchObject({ contact_id: expect.any(Number), page_url: `${ORIGIN}/landing`, created_at: expect.any(String) });
    const p2 = await t.json('GET', `/api/v1/forms/${f.id}/results?limit=2&cursor=${p1.body.next_cursor}`);
    expect(p2.body.data.map((r: any) => r.values.note)).toEqual(['first']);
    expect(p2.body.has_more).toBe(false);
    expectError(await t.json('GET', '/api/v1/forms/999/results'), 404, 'NOT_FOUND');
    expectError(await t.json('GET', `/api/v1/forms/${f.id}/results?cursor=!!!`), 400, 'BAD_REQUEST');

    const res = await t.call('GET', `/api/v1/forms/${f.id}/results.csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toContain(`form-${f.id}-results.csv`);
    const lines = (await res.text()).trim().split('\r\n');
    expect(lines[0]).toBe('submission_id,created_at,contact_id,email,first_name,note,page_url,referrer');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain('"has, comma and ""quotes"""');
    expect(lines[2]).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(lines[3]).toContain('p0@example.com');
    expectError(await t.json('GET', '/api/v1/forms/999/results.csv'), 404, 'NOT_FOUND');
    expectError(await t.json('GET', `/api/v1/forms/${f.id}/results.csv`, undefined, { key: null }), 401, 'UNAUTHORIZED');
  });

  it('submissions go with the contact when it is erased', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const f = await mkForm(t, { fields: basicFields });
    await submit(t, f.id, { k: site.public_key, v: vid(1), values: { email: 'gone@example.com' } });
    const g = await mkForm(t, { name: 'Anon', fields: [{ key: 'msg', label: 'Message', type: 'text' }] });
    await submit(t, g.id, { k: site.public_key, v: vid(1), values: { msg: 'hi' } });
    const id = (await t.json('GET', '/api/v1/contacts')).body.data[0].id;
    expect(await submissions(t)).toBe(2);
    expect((await t.json('DELETE', `/api/v1/contacts/${id}`)).status).toBe(200);
    expect(await submissions(t)).toBe(0);
  });
});

describe('forms shown in focus items', () => {
  it('credit the submission to the focus item and its variant', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const form = await mkForm(t, { fields: basicFields });
    const item = await t.json('POST', '/api/v1/focus-items', {
      name: 'Signup modal',
      site_id: site.id,
      style: { type: 'modal' },
      content: { kind: 'form', heading: 'Join', body: 'Monthly tips', form_id: form.id },
    });
    expect(item.status).toBe(201);
    const r = await submit(t, form.id, { k: site.public_key, v: vid(1), values: { email: 'focus@example.com' }, focus_id: item.body.id, focus_variant: 'a' });
    expect(r.status).toBe(200);
    const ev = await t.client.execute("SELECT props FROM events WHERE type = 'form_submit'");
    expect(JSON.parse(String(ev.rows[0]!.props))).toMatchObject({ form_id: form.id, focus_id: item.body.id, focus_variant: 'a' });
    const stats = await t.json('GET', `/api/v1/focus-items/${item.body.id}/stats`);
    expect(JSON.stringify(stats.body)).toContain('"submissions":1');
    const bad = await submit(t, form.id, { k: site.public_key, v: vid(2), values: { email: 'x@example.com' }, focus_id: 'nope' });
    expectError(bad, 422, 'VALIDATION_FAILED');
  });
});
