import { describe, it, expect } from 'vitest';
import { expectError, makeApp, type TestApp } from './helpers';
import { expectNot500, HOSTILE_QUERIES, routeContract } from './route-contract';

// One valid and one invalid value per field type, as the JSON API receives them.
const CASES: {
  type: string;
  options?: string[];
  good: unknown;
  stored?: unknown;
  bad: unknown[];
}[] = [
  { type: 'text', good: '  Hello  ', stored: 'Hello', bad: [123, true, ['a'], 'x'.repeat(256)] },
  { type: 'textarea', good: 'line 1\nline 2', bad: [{ a: 1 }, 42, 'x'.repeat(10_001)] },
  { type: 'number', good: 42.5, bad: ['42', 'abc', true, 1e16] },
  { type: 'boolean', good: false, bad: ['yes', 1, 'true'] },
  { type: 'date', good: '2024-02-29', bad: ['2023-02-29', '2026-13-01', '31.01.2026', 20260131] },
  { type: 'datetime', good: '2026-01-31T09:30:00+01:00', stored: '2026-01-31T08:30:00.000Z', bad: ['2026-01-31', '2026-01-31T09:30:00', 'soon', '2026-02-30T10:00:00Z', '2026-01-31T24:00:00Z', '2026-01-31T23:60:00Z', '2026-01-31T10:00:00+25:00'] },
  { type: 'email', good: 'ada@example.com', bad: ['nope', 'a@b', 'a..b@example.com', 7] },
  { type: 'url', good: 'https://example.com/pricing?x=1', bad: ['javascript:alert(1)', 'example.com', 'ftp://example.com', 'https://' + 'a'.repeat(2050)] },
  { type: 'tel', good: '+49 30 1234567', bad: ['call me', '12', 4930] },
  { type: 'select', options: ['free', 'pro'], good: 'pro', bad: ['gold', 'PRO', ['pro']] },
  { type: 'multiselect', options: ['a', 'b', 'c'], good: ['a', 'c', 'a'], stored: ['a', 'c'], bad: [['a', 'z'], 'a', [1], 'a|b'] },
  { type: 'country', good: 'de', stored: 'DE', bad: ['Germany', 'XX', 12] },
];

async function createField(t: TestApp, body: Record<string, unknown>) {
  const r = await t.json('POST', '/api/v1/fields', body);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

async function createContact(t: TestApp, body: Record<string, unknown>) {
  const r = await t.json('POST', '/api/v1/contacts', body);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

async function findByEmail(t: TestApp, email: string) {
  const r = await t.json('GET', `/api/v1/contacts?q=${encodeURIComponent(email)}`);
  expect(r.status).toBe(200);
  return r.body.data.filter((c: any) => c.email === email);
}

describe('custom fields: definitions', () => {
  it('creates each of the 12 field types and reads them back', async () => {
    const t = await makeApp();
    for (const c of CASES) {
      const f = await createField(t, { key: `f_${c.type}`, label: `My ${c.type}`, type: c.type, options: c.options });
      expect(f).toMatchObject({ key: `f_${c.type}`, label: `My ${c.type}`, type: c.type, options: c.options ?? null });
      expect(typeof f.id).toBe('number');
      expect(new Date(f.created_at).toISOString()).toBe(f.created_at);
      const got = await t.json('GET', `/api/v1/fields/${f.id}`, undefined, { key: t.keys.read });
      expect(got.status).toBe(200);
      expect(got.body).toEqual(f);
    }
    const list = await t.json('GET', '/api/v1/fields?limit=100');
    expect(list.body.data.map((f: any) => f.type)).toEqual(CASES.map((c) => c.type));
  });

  it('trims labels and rejects empty or overlong labels and unknown types', async () => {
    const t = await makeApp();
    expect((await createField(t, { key: 'plan', label: '  Plan ', type: 'text' })).label).toBe('Plan');
    for (const body of [
      { key: 'a1', label: '   ', type: 'text' },
      { key: 'a2', label: 'x'.repeat(101), type: 'text' },
      { key: 'a3', type: 'text' },
      { key: 'a4', label: 'A', type: 'json' },
      { key: 'a5', label: 'A' },
      { key: 'a6', label: 42, type: 'text' },
    ]) {
      const r = await t.json('POST', '/api/v1/fields', body);
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details.length).toBeGreaterThan(0);
    }
  });

  it('validates keys: bad format 422, duplicate 409, built-in name 409', async () => {
    const t = await makeApp();
    for (const key of ['Plan', '1plan', '_plan', 'plan-type', 'plan type', '', 'a'.repeat(64), 'plän', 'plan\n', 42]) {
      const r = await t.json('POST', '/api/v1/fields', { key, label: 'Plan', type: 'text' });
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'key' })]));
    }
    expect((await createField(t, { key: 'a'.repeat(63), label: 'Long', type: 'text' })).key).toBe('a'.repeat(63));
    await createField(t, { key: 'plan', label: 'Plan', type: 'text' });
    expectError(await t.json('POST', '/api/v1/fields', { key: 'plan', label: 'Other', type: 'number' }), 409, 'CONFLICT');
    for (const key of ['email', 'first_name', 'last_name', 'phone', 'job_title', 'city', 'country', 'id', 'tags', 'fields', 'points', 'created_at']) {
      expectError(await t.json('POST', '/api/v1/fields', { key, label: 'X', type: 'text' }), 409, 'CONFLICT');
    }
    // The conflicts wrote nothing.
    const list = await t.json('GET', '/api/v1/fields');
    expect(list.body.data.map((f: any) => f.key).sort()).toEqual(['a'.repeat(63), 'plan']);
  });

  it('requires options for select and multiselect, and refuses them elsewhere', async () => {
    const t = await makeApp();
    for (const type of ['select', 'multiselect']) {
      for (const options of [undefined, null, []]) {
        const r = await t.json('POST', '/api/v1/fields', { key: `k_${type}`, label: 'K', type, ...(options === undefined ? {} : { options }) });
        expectError(r, 422, 'VALIDATION_FAILED');
        expect(r.body.error.details[0].field).toBe('options');
      }
    }
    for (const options of [['a', 'a'], ['a|b'], ['a;b'], [''], ['   '], ['x'.repeat(101)], Array.from({ length: 201 }, (_, i) => `o${i}`), [1, 2]]) {
      const r = await t.json('POST', '/api/v1/fields', { key: 'tier', label: 'Tier', type: 'select', options });
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details[0].field).toMatch(/^options/);
    }
    const r = await t.json('POST', '/api/v1/fields', { key: 'size', label: 'Size', type: 'number', options: ['1'] });
    expectError(r, 422, 'VALIDATION_FAILED');
    expect(r.body.error.details[0].field).toBe('options');
    // Options are trimmed; null options on other types are the same as none.
    expect((await createField(t, { key: 'tier', label: 'Tier', type: 'select', options: [' a ', 'b'] })).options).toEqual(['a', 'b']);
    expect((await createField(t, { key: 'note', label: 'Note', type: 'text', options: null })).options).toBeNull();
    expect((await t.json('GET', '/api/v1/fields')).body.data).toHaveLength(2);
  });

  it('patches label and options, but not key or type', async () => {
    const t = await makeApp({ now: clock() });
    const f = await createField(t, { key: 'plan', label: 'Plan', type: 'select', options: ['free', 'pro'] });
    const r1 = await t.json('PATCH', `/api/v1/fields/${f.id}`, { label: 'Billing plan' });
    expect(r1.status).toBe(200);
    expect(r1.body).toMatchObject({ id: f.id, key: 'plan', label: 'Billing plan', options: ['free', 'pro'], created_at: f.created_at });
    expect(r1.body.updated_at > f.updated_at).toBe(true);
    const r2 = await t.json('PATCH', `/api/v1/fields/${f.id}`, { options: ['free', 'pro', 'enterprise'] });
    expect(r2.body).toMatchObject({ label: 'Billing plan', options: ['free', 'pro', 'enterprise'] });
    // The new option is accepted on contacts at once.
    await createContact(t, { email: 'ent@example.com', fields: { plan: 'enterprise' } });
    expect((await t.json('GET', `/api/v1/fields/${f.id}`)).body.options).toEqual(['free', 'pro', 'enterprise']);

    for (const body of [{ options: [] }, { options: null }, { options: ['a', 'a'] }, { label: '' }, { key: 'other' }, { type: 'text' }]) {
      expectError(await t.json('PATCH', `/api/v1/fields/${f.id}`, body), 422, 'VALIDATION_FAILED');
    }
    const text = await createField(t, { key: 'nick', label: 'Nick', type: 'text' });
    expectError(await t.json('PATCH', `/api/v1/fields/${text.id}`, { options: ['a'] }), 422, 'VALIDATION_FAILED');
    // Failed patches changed nothing.
    expect((await t.json('GET', `/api/v1/fields/${f.id}`)).body).toMatchObject({ key: 'plan', type: 'select', label: 'Billing plan', options: ['free', 'pro', 'enterprise'] });

    expectError(await t.json('PATCH', '/api/v1/fields/999999', { label: 'X' }), 404, 'NOT_FOUND');
    expectError(await t.json('GET', '/api/v1/fields/999999'), 404, 'NOT_FOUND');
  });

  it('deletes a field and its values from every contact', async () => {
    const t = await makeApp();
    const plan = await createField(t, { key: 'plan', label: 'Plan', type: 'text' });
    await createField(t, { key: 'seats', label: 'Seats', type: 'number' });
    const a = await createContact(t, { email: 'a@example.com', fields: { plan: 'pro', seats: 3 } });
    const b = await createContact(t, { email: 'b@example.com', fields: { plan: 'free' } });
    const c = await createContact(t, { email: 'c@example.com', fields: { seats: 9 } });

    const del = await t.json('DELETE', `/api/v1/fields/${plan.id}`);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ id: plan.id, deleted: true });

    expect((await t.json('GET', `/api/v1/contacts/${a.id}`)).body.fields).toEqual({ seats: 3 });
    expect((await t.json('GET', `/api/v1/contacts/${b.id}`)).body.fields).toEqual({});
    expect((await t.json('GET', `/api/v1/contacts/${c.id}`)).body.fields).toEqual({ seats: 9 });
    expectError(await t.json('GET', `/api/v1/fields/${plan.id}`), 404, 'NOT_FOUND');
    expectError(await t.json('DELETE', `/api/v1/fields/${plan.id}`), 404, 'NOT_FOUND');

    // The key is now unknown, and a new field with that key starts empty.
    const r = await t.json('POST', '/api/v1/contacts', { email: 'a@example.com', fields: { plan: 'pro' } });
    expectError(r, 422, 'VALIDATION_FAILED');
    await createField(t, { key: 'plan', label: 'Plan again', type: 'number' });
    expect((await t.json('GET', `/api/v1/contacts/${a.id}`)).body.fields).toEqual({ seats: 3 });
  });

  it('lists fields with cursor pagination', async () => {
    const t = await makeApp();
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await createField(t, { key: `f${i}`, label: `F${i}`, type: 'text' }));
    const seen: number[] = [];
    const pages: any[] = [];
    let cursor: string | null = null;
    do {
      const r: any = await t.json('GET', `/api/v1/fields?limit=2${cursor ? `&cursor=${cursor}` : ''}`, undefined, { key: t.keys.read });
      expect(r.status).toBe(200);
      pages.push(r.body);
      seen.push(...r.body.data.map((f: any) => f.id));
      expect(r.body.has_more).toBe(r.body.next_cursor !== null);
      cursor = r.body.next_cursor;
    } while (cursor && pages.length < 10);
    expect(pages.map((p) => p.data.length)).toEqual([2, 2, 1]);
    expect(new Set(seen).size).toBe(5);
    expect(seen).toEqual(made.map((f) => f.id));
    // Default page size covers all five.
    expect((await t.json('GET', '/api/v1/fields')).body).toMatchObject({ has_more: false, next_cursor: null });
    expect((await t.json('GET', '/api/v1/fields')).body.data).toHaveLength(5);
  });

  it('rejects bad list queries with 4xx, never 500', async () => {
    const t = await makeApp();
    await createField(t, { key: 'plan', label: 'Plan', type: 'text' });
    for (const q of HOSTILE_QUERIES) expectNot500(await t.json('GET', `/api/v1/fields?${q}`), q);
    expectError(await t.json('GET', '/api/v1/fields?cursor=nonsense'), 400, 'BAD_REQUEST');
    expectError(await t.json('GET', '/api/v1/fields?limit=0'), 422, 'VALIDATION_FAILED');
  });
});

describe('custom fields: values on contacts', () => {
  it('accepts a valid value of each type and stores it normalised', async () => {
    const t = await makeApp();
    for (const c of CASES) await createField(t, { key: `f_${c.type}`, label: c.type, type: c.type, options: c.options });
    const fields = Object.fromEntries(CASES.map((c) => [`f_${c.type}`, c.good]));
    const created = await createContact(t, { email: 'all@example.com', fields });
    const expected = Object.fromEntries(CASES.map((c) => [`f_${c.type}`, c.stored === undefined ? c.good : c.stored]));
    expect(created.fields).toEqual(expected);
    expect((await t.json('GET', `/api/v1/contacts/${created.id}`)).body.fields).toEqual(expected);
  });

  it('rejects an invalid value with 422 naming the field, and writes nothing (new contact)', async () => {
    const t = await makeApp();
    for (const c of CASES) await createField(t, { key: `f_${c.type}`, label: c.type, type: c.type, options: c.options });
    for (const c of CASES) {
      for (const bad of c.bad) {
        const email = `new-${c.type}@example.com`;
        // A valid value beside the bad one must not be written either.
        const r = await t.json('POST', '/api/v1/contacts', { email, first_name: 'New', fields: { f_text: 'ok', [`f_${c.type}`]: bad } });
        expectError(r, 422, 'VALIDATION_FAILED');
        expect(r.body.error.details, `${c.type} ${JSON.stringify(bad)}`).toEqual([expect.objectContaining({ field: `fields.f_${c.type}` })]);
        expect(r.body.error.message).toContain(`fields.f_${c.type}`);
        expect(await findByEmail(t, email)).toEqual([]);
      }
    }
    expect((await t.json('GET', '/api/v1/contacts')).body.data).toEqual([]);
  });

  it('rejects an invalid value on an existing contact and leaves it unchanged (POST upsert and PATCH)', async () => {
    const t = await makeApp({ now: clock() });
    await createField(t, { key: 'plan', label: 'Plan', type: 'select', options: ['free', 'pro'] });
    await createField(t, { key: 'seats', label: 'Seats', type: 'number' });
    const c = await createContact(t, { email: 'ada@example.com', first_name: 'Ada', fields: { plan: 'free', seats: 2 } });
    const before = (await t.json('GET', `/api/v1/contacts/${c.id}`)).body;

    const r1 = await t.json('POST', '/api/v1/contacts', { email: 'ADA@example.com', first_name: 'Changed', fields: { plan: 'gold', seats: 5 } });
    expectError(r1, 422, 'VALIDATION_FAILED');
    expect(r1.body.error.details).toEqual([expect.objectContaining({ field: 'fields.plan' })]);
    const r2 = await t.json('PATCH', `/api/v1/contacts/${c.id}`, { first_name: 'Changed', fields: { seats: 'many' } });
    expectError(r2, 422, 'VALIDATION_FAILED');
    expect(r2.body.error.details).toEqual([expect.objectContaining({ field: 'fields.seats' })]);
    // Two bad values: both are named.
    const r3 = await t.json('PATCH', `/api/v1/contacts/${c.id}`, { fields: { seats: 'many', plan: 'gold' } });
    expect(r3.body.error.details.map((d: any) => d.field).sort()).toEqual(['fields.plan', 'fields.seats']);

    expect((await t.json('GET', `/api/v1/contacts/${c.id}`)).body).toEqual(before);
  });

  it('merges values on write, and null clears a value', async () => {
    const t = await makeApp();
    await createField(t, { key: 'plan', label: 'Plan', type: 'text' });
    await createField(t, { key: 'seats', label: 'Seats', type: 'number' });
    await createField(t, { key: 'langs', label: 'Languages', type: 'multiselect', options: ['en', 'de', 'fr'] });
    const c = await createContact(t, { email: 'ada@example.com', fields: { plan: 'pro', seats: 3, langs: ['en', 'de'] } });

    // Only the given keys change.
    const p1 = await t.json('PATCH', `/api/v1/contacts/${c.id}`, { fields: { seats: 4 } });
    expect(p1.body.fields).toEqual({ plan: 'pro', seats: 4, langs: ['en', 'de'] });
    // A list is replaced, not merged.
    const p2 = await t.json('PATCH', `/api/v1/contacts/${c.id}`, { fields: { langs: ['fr'] } });
    expect(p2.body.fields.langs).toEqual(['fr']);
    // null clears, through PATCH and through the POST upsert.
    const p3 = await t.json('PATCH', `/api/v1/contacts/${c.id}`, { fields: { plan: null } });
    expect(p3.status).toBe(200);
    expect(p3.body.fields).toEqual({ seats: 4, langs: ['fr'] });
    const p4 = await t.json('POST', '/api/v1/contacts', { email: 'ada@example.com', fields: { seats: null, langs: null } });
    expect(p4.status).toBe(200);
    expect(p4.body.id).toBe(c.id);
    expect(p4.body.fields).toEqual({});
    expect((await t.json('GET', `/api/v1/contacts/${c.id}`)).body.fields).toEqual({});
    // A blank string clears too, as it does for built-in fields.
    await t.json('PATCH', `/api/v1/contacts/${c.id}`, { fields: { plan: 'pro', seats: 1 } });
    const p5 = await t.json('PATCH', `/api/v1/contacts/${c.id}`, { fields: { plan: '', seats: '  ' } });
    expect(p5.status).toBe(200);
    expect(p5.body.fields).toEqual({});
    // A new contact created with a null value shows no value.
    const d = await createContact(t, { email: 'bob@example.com', fields: { plan: null } });
    expect(d.fields).toEqual({});
  });

  it('rejects non-finite numbers sent as raw JSON', async () => {
    const t = await makeApp();
    await createField(t, { key: 'seats', label: 'Seats', type: 'number' });
    for (const n of ['1e999', '-1e999', '1e16']) {
      const raw = `{"email":"n@example.com","fields":{"seats":${n}}}`;
      const r = await t.json('POST', '/api/v1/contacts', raw, { headers: { 'content-type': 'application/json' } });
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details).toEqual([expect.objectContaining({ field: 'fields.seats' })]);
    }
    expect(await findByEmail(t, 'n@example.com')).toEqual([]);
  });

  it('rejects unknown custom keys with 422 naming them', async () => {
    const t = await makeApp();
    await createField(t, { key: 'plan', label: 'Plan', type: 'text' });
    const c = await createContact(t, { email: 'ada@example.com', fields: { plan: 'pro' } });
    for (const key of ['nope', 'Plan', 'email', 'constructor', 'toString', 'x'.repeat(64)]) {
      const body = JSON.parse(`{"email":"ada@example.com","fields":{"plan":"free",${JSON.stringify(key)}:1}}`);
      const r = await t.json('POST', '/api/v1/contacts', body);
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details, key).toEqual(expect.arrayContaining([expect.objectContaining({ field: `fields.${key}` })]));
    }
    // A key longer than 64 characters is refused by the schema.
    const long = await t.json('POST', '/api/v1/contacts', { email: 'ada@example.com', fields: { ['y'.repeat(65)]: 1 } });
    expectError(long, 422, 'VALIDATION_FAILED');
    expect((await t.json('GET', `/api/v1/contacts/${c.id}`)).body.fields).toEqual({ plan: 'pro' });
    const nobody = await t.json('POST', '/api/v1/contacts', { email: 'new@example.com', fields: { nope: 1 } });
    expectError(nobody, 422, 'VALIDATION_FAILED');
    expect(await findByEmail(t, 'new@example.com')).toEqual([]);
  });
});

describe('custom fields: prototype keys', () => {
  // JSON.parse makes "__proto__" an own key, but zod's record copy drops it:
  // it must be refused like every other unknown key, not silently ignored.
  it('rejects "__proto__" under fields like any unknown key', async () => {
    const t = await makeApp();
    await createField(t, { key: 'plan', label: 'Plan', type: 'text' });
    const body = JSON.parse('{"email":"proto@example.com","fields":{"plan":"free","__proto__":{"polluted":1}}}');
    const r = await t.json('POST', '/api/v1/contacts', body);
    expectError(r, 422, 'VALIDATION_FAILED');
    expect(r.body.error.details).toEqual([expect.objectContaining({ field: 'fields.__proto__' })]);
    expect(await findByEmail(t, 'proto@example.com')).toEqual([]);
  });
});

describe('custom fields: HTTP contract', () => {
  routeContract([
    { method: 'POST', path: '/api/v1/fields', body: { key: 'plan', label: 'Plan', type: 'text' } },
    { method: 'GET', path: '/api/v1/fields' },
    { method: 'GET', path: '/api/v1/fields/1', idTemplate: '/api/v1/fields/{id}' },
    { method: 'PATCH', path: '/api/v1/fields/1', body: { label: 'Plan' }, idTemplate: '/api/v1/fields/{id}' },
    { method: 'DELETE', path: '/api/v1/fields/1', idTemplate: '/api/v1/fields/{id}' },
  ]);

  it('lets a write key create and read, and a read key read', async () => {
    const t = await makeApp();
    const r = await t.json('POST', '/api/v1/fields', { key: 'plan', label: 'Plan', type: 'text' }, { key: t.keys.write });
    expect(r.status).toBe(201);
    expect((await t.json('GET', `/api/v1/fields/${r.body.id}`, undefined, { key: t.keys.read })).status).toBe(200);
    expectError(await t.json('DELETE', `/api/v1/fields/${r.body.id}`, undefined, { key: t.keys.read }), 403, 'FORBIDDEN');
    expect((await t.json('GET', `/api/v1/fields/${r.body.id}`)).status).toBe(200);
  });
});

// A clock that moves one second per reading, so updated_at visibly changes.
function clock(start = Date.UTC(2026, 0, 1)) {
  let t = start;
  return () => (t += 1000);
}
