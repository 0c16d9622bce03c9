import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { nestedFilters } from './filter-arbitrary';
import { makeApp, expectError, type TestApp } from './helpers';
import { makeSite, track, vid, sign, runJob, count } from './tracking-helpers';
import { compileFilter } from '../api/core/segments/compile';
import { compileEnv } from '../api/core/segments/membership';
import type { Filter } from '../api/core/segments/filter';
import { runReactions } from '../api/core/spine/run';
import { settleDeferred } from '../api/routes/defer';

// A fixed clock: Monday 2026-06-15 12:00 UTC, so relative dates resolve the same every run.
const NOW = Date.UTC(2026, 5, 15, 12, 0, 0);
const DAY = 86_400_000;
const at = (iso: string) => Date.parse(iso);
const fixed = () => makeApp({ now: () => NOW });
const ORIGIN = 'https://shop.example.com';

async function contact(t: TestApp, body: Record<string, unknown> = {}): Promise<number> {
  const r = await t.json('POST', '/api/v1/contacts', body);
  if (r.status !== 201) throw new Error(`contact: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id;
}

async function field(t: TestApp, key: string, type: string, options?: string[]) {
  const r = await t.json('POST', '/api/v1/fields', { key, label: key, type, ...(options ? { options } : {}) });
  if (r.status !== 201) throw new Error(`field: ${r.status} ${JSON.stringify(r.body)}`);
}

/** The ids a filter matches, through the preview endpoint (count and sample must agree). */
async function preview(t: TestApp, filter: unknown): Promise<number[]> {
  const r = await t.json('POST', '/api/v1/segments/preview', { filter });
  if (r.status !== 200) throw new Error(`preview ${JSON.stringify(filter)}: ${r.status} ${JSON.stringify(r.body)}`);
  expect(r.body.sample.length).toBe(Math.min(r.body.count, 10));
  return r.body.sample;
}

async function segment(t: TestApp, filter: unknown, name = 'Segment'): Promise<number> {
  const r = await t.json('POST', '/api/v1/segments', { name, filter });
  if (r.status !== 201) throw new Error(`segment: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id;
}

/** Every member id, walking the cursor pages. */
async function members(t: TestApp, segmentId: number, limit = 100): Promise<number[]> {
  const out: number[] = [];
  let cursor: string | null = null;
  do {
    const r: { status: number; body: any } = await t.json('GET', `/api/v1/segments/${segmentId}/members?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (r.status !== 200) throw new Error(`members: ${r.status} ${JSON.stringify(r.body)}`);
    out.push(...r.body.data.map((c: any) => c.id));
    cursor = r.body.next_cursor;
  } while (cursor);
  return out;
}

/** Asserts a 422 whose first detail names `path`. */
async function rejects(t: TestApp, filter: unknown, path: string, how: 'preview' | 'create' = 'preview') {
  const r = how === 'preview' ? await t.json('POST', '/api/v1/segments/preview', { filter }) : await t.json('POST', '/api/v1/segments', { name: 'Bad', filter });
  expectError(r, 422, 'VALIDATION_FAILED');
  expect(r.body.error.details.map((d: any) => d.field), JSON.stringify(filter)).toContain(path);
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

async function timeline(t: TestApp, contactId: number, type: string) {
  const r = await t.json('GET', `/api/v1/contacts/${contactId}/events?type=${type}&limit=100`);
  expect(r.status).toBe(200);
  return r.body.data as { type: string; props: any; created_at: string }[];
}

async function stageIds(t: TestApp): Promise<Record<string, number>> {
  const r = await t.json('GET', '/api/v1/stages');
  return Object.fromEntries(r.body.data.map((s: any) => [s.name, s.id]));
}

async function insertEvent(t: TestApp, e: { contact: number; type: string; url?: string; name?: string; props?: unknown; createdAt: number }) {
  await t.client.execute({
    sql: 'INSERT INTO events (contact_id, type, url, name, props, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    args: [e.contact, e.type, e.url ?? null, e.name ?? null, e.props === undefined ? null : JSON.stringify(e.props), e.createdAt],
  });
}

describe('segment filters: every operator on every kind of field', () => {
  it('text: case-insensitive equals, NULL-aware negatives, literal % and _, empty, lists, regex', async () => {
    const t = await fixed();
    await field(t, 'plan', 'text');
    const ada = await contact(t, { email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace', city: 'London', fields: { plan: 'Pro' } });
    const bob = await contact(t, { email: 'BOB@example.com', first_name: 'BOB', last_name: '100%_sure', city: 'Paris', fields: { plan: 'free' } });
    const cy = await contact(t, { email: 'cy@example.org', last_name: 'a_b' });
    const bobby = await contact(t, { email: 'bobby@example.net', first_name: 'Bobby', last_name: '100xxsure', city: 'paris' });

    expect(await preview(t, { field: 'first_name', op: 'equals', value: 'bob' })).toEqual([bob]);
    expect(await preview(t, { field: 'first_name', op: 'equals', value: 'BoB' })).toEqual([bob]);
    expect(await preview(t, { field: 'email', op: 'equals', value: 'ADA@EXAMPLE.COM' })).toEqual([ada]);
    expect(await preview(t, { field: 'fields.plan', op: 'equals', value: 'pro' })).toEqual([ada]);
    // not_equals keeps contacts with no value at all.
    expect(await preview(t, { field: 'first_name', op: 'not_equals', value: 'bob' })).toEqual([ada, cy, bobby]);
    expect(await preview(t, { field: 'fields.plan', op: 'not_equals', value: 'PRO' })).toEqual([bob, cy, bobby]);
    expect(await preview(t, { field: 'first_name', op: 'contains', value: 'OB' })).toEqual([bob, bobby]);
    // % and _ are literal characters, not wildcards.
    expect(await preview(t, { field: 'last_name', op: 'contains', value: '%_' })).toEqual([bob]);
    expect(await preview(t, { field: 'last_name', op: 'contains', value: '_' })).toEqual([bob, cy]);
    expect(await preview(t, { field: 'last_name', op: 'contains', value: '%' })).toEqual([bob]);
    expect(await preview(t, { field: 'last_name', op: 'starts_with', value: '100%' })).toEqual([bob]);
    expect(await preview(t, { field: 'last_name', op: 'starts_with', value: '100' })).toEqual([bob, bobby]);
    expect(await preview(t, { field: 'last_name', op: 'starts_with', value: 'LOVE' })).toEqual([ada]);
    expect(await preview(t, { field: 'last_name', op: 'ends_with', value: '_sure' })).toEqual([bob]);
    expect(await preview(t, { field: 'last_name', op: 'ends_with', value: 'SURE' })).toEqual([bob, bobby]);
    expect(await preview(t, { field: 'last_name', op: 'ends_with', value: '_b' })).toEqual([cy]);
    expect(await preview(t, { field: 'last_name', op: 'ends_with', value: '%sure' })).toEqual([]);
    expect(await preview(t, { field: 'last_name', op: 'ends_with', value: '%_sure' })).toEqual([bob]);
    expect(await preview(t, { field: 'email', op: 'ends_with', value: '@example.com' })).toEqual([ada, bob]);
    expect(await preview(t, { field: 'first_name', op: 'empty' })).toEqual([cy]);
    expect(await preview(t, { field: 'first_name', op: 'not_empty' })).toEqual([ada, bob, bobby]);
    expect(await preview(t, { field: 'city', op: 'empty' })).toEqual([cy]);
    expect(await preview(t, { field: 'fields.plan', op: 'empty' })).toEqual([cy, bobby]);
    expect(await preview(t, { field: 'fields.plan', op: 'not_empty' })).toEqual([ada, bob]);
    expect(await preview(t, { field: 'city', op: 'in', value: ['london', 'PARIS'] })).toEqual([ada, bob, bobby]);
    expect(await preview(t, { field: 'city', op: 'not_in', value: ['London'] })).toEqual([bob, cy, bobby]);
    expect(await preview(t, { field: 'email', op: 'regex', value: '^b.*@example\\.(com|net)$' })).toEqual([bob, bobby]);
    expect(await preview(t, { field: 'last_name', op: 'regex', value: '^[0-9]+%' })).toEqual([bob]);
    expect(await preview(t, { field: 'first_name', op: 'regex', value: 'x' })).toEqual([]);

    // Created segments hold the same contacts as the preview.
    const s = await segment(t, { field: 'last_name', op: 'contains', value: '%_' });
    expect(await members(t, s)).toEqual([bob]);
    const got = await t.json('GET', `/api/v1/segments/${s}`);
    expect(got.body).toMatchObject({ id: s, kind: 'dynamic', members: 1 });
    expect(got.body.built_at).toBe(new Date(NOW).toISOString());
  });

  it('numbers: points and a custom number field with gt/gte/lt/lte/between/in/not_in/equals', async () => {
    const t = await fixed();
    await field(t, 'size', 'number');
    const ids: number[] = [];
    const points = [0, 5, 10, 20];
    const sizes = [null, 1.5, 10, 100];
    for (let i = 0; i < 4; i++) {
      const id = await contact(t, { email: `n${i}@example.com`, ...(sizes[i] === null ? {} : { fields: { size: sizes[i] } }) });
      if (points[i]) expect((await t.json('POST', `/api/v1/contacts/${id}/points`, { op: 'set', value: points[i], reason: 'test' })).body.points).toBe(points[i]);
      ids.push(id);
    }
    const [p0, p5, p10, p20] = ids as [number, number, number, number];
    const cases: [string, string, unknown, number[]][] = [
      ['points', 'gt', 5, [p10, p20]],
      ['points', 'gte', 5, [p5, p10, p20]],
      ['points', 'lt', 10, [p0, p5]],
      ['points', 'lte', 10, [p0, p5, p10]],
      ['points', 'between', [5, 10], [p5, p10]],
      ['points', 'in', [0, 20], [p0, p20]],
      ['points', 'not_in', [0, 20], [p5, p10]],
      ['points', 'equals', 10, [p10]],
      ['points', 'not_equals', 10, [p0, p5, p20]],
      ['points', 'gt', -1, ids],
      // The custom field: p0 has no size at all.
      ['fields.size', 'gt', 1.5, [p10, p20]],
      ['fields.size', 'gte', 1.5, [p5, p10, p20]],
      ['fields.size', 'lt', 10, [p5]],
      ['fields.size', 'lte', 10, [p5, p10]],
      ['fields.size', 'between', [1, 10], [p5, p10]],
      ['fields.size', 'in', [10, 100], [p10, p20]],
      ['fields.size', 'not_in', [10, 100], [p0, p5]],
      ['fields.size', 'equals', 1.5, [p5]],
      ['fields.size', 'not_equals', 1.5, [p0, p10, p20]],
      ['fields.size', 'empty', undefined, [p0]],
      ['fields.size', 'not_empty', undefined, [p5, p10, p20]],
    ];
    for (const [f, op, value, want] of cases) {
      expect(await preview(t, { field: f, op, value }), `${f} ${op} ${JSON.stringify(value)}`).toEqual(want);
    }
    const s = await segment(t, { all: [{ field: 'points', op: 'gte', value: 5 }, { field: 'fields.size', op: 'lte', value: 10 }] });
    expect(await members(t, s)).toEqual([p5, p10]);
  });

  it('booleans: a custom boolean field', async () => {
    const t = await fixed();
    await field(t, 'active', 'boolean');
    const yes = await contact(t, { email: 'yes@example.com', fields: { active: true } });
    const no = await contact(t, { email: 'no@example.com', fields: { active: false } });
    const unset = await contact(t, { email: 'unset@example.com' });
    expect(await preview(t, { field: 'fields.active', op: 'equals', value: true })).toEqual([yes]);
    expect(await preview(t, { field: 'fields.active', op: 'equals', value: false })).toEqual([no]);
    expect(await preview(t, { field: 'fields.active', op: 'not_equals', value: true })).toEqual([no, unset]);
    expect(await preview(t, { field: 'fields.active', op: 'in', value: [true, false] })).toEqual([yes, no]);
    expect(await preview(t, { field: 'fields.active', op: 'not_in', value: [true] })).toEqual([no, unset]);
    expect(await preview(t, { field: 'fields.active', op: 'empty' })).toEqual([unset]);
    expect(await preview(t, { field: 'fields.active', op: 'not_empty' })).toEqual([yes, no]);
    expect(await preview(t, { not: { field: 'fields.active', op: 'equals', value: true } })).toEqual([no, unset]);
    await rejects(t, { field: 'fields.active', op: 'gt', value: true }, 'filter.op');
    await rejects(t, { field: 'fields.active', op: 'equals', value: 'yes' }, 'filter.value');
  });

  it('dates: created_at / last_active_at with ISO and relative values on a fixed clock', async () => {
    const t = await fixed();
    const mk = async (name: string, created: string, active: string | null) => {
      const id = await contact(t, { email: `${name}@example.com` });
      await t.client.execute({ sql: 'UPDATE contacts SET created_at = ?, last_active_at = ? WHERE id = ?', args: [at(created), active === null ? null : at(active), id] });
      return id;
    };
    const today = await mk('today', '2026-06-15T08:00:00Z', '2026-06-15T11:59:00Z');
    const yesterday = await mk('yesterday', '2026-06-14T23:59:00Z', null);
    const week = await mk('week', '2026-06-08T10:00:00Z', '2026-06-08T10:00:00Z');
    const may = await mk('may', '2026-05-20T12:00:00Z', '2026-06-10T00:00:00Z');
    const first = await mk('first', '2026-06-01T00:00:00Z', '2026-05-31T23:59:59.999Z');
    const old = await mk('old', '2025-12-31T23:59:59.999Z', null);
    const cases: [string, string, unknown, number[]][] = [
      ['created_at', 'equals', 'today', [today]],
      ['created_at', 'equals', 'TODAY', [today]],
      ['created_at', 'equals', 'yesterday', [yesterday]],
      ['created_at', 'equals', '-7d', [week]],
      ['created_at', 'equals', 'this_month', [today, yesterday, week, first]],
      ['created_at', 'equals', 'last_month', [may]],
      ['created_at', 'not_equals', 'today', [yesterday, week, may, first, old]],
      ['created_at', 'gte', '-7d', [today, yesterday, week]],
      ['created_at', 'gt', '-7d', [today, yesterday]],
      ['created_at', 'gte', 'yesterday', [today, yesterday]],
      ['created_at', 'gt', 'yesterday', [today]],
      ['created_at', 'lt', 'this_month', [may, old]],
      ['created_at', 'lte', 'last_month', [may, old]],
      ['created_at', 'lte', '2026-06-01', [may, first, old]],
      ['created_at', 'lt', '2026-06-01', [may, old]],
      ['created_at', 'equals', '2025-12-31', [old]],
      ['created_at', 'gt', '2025-12-31', [today, yesterday, week, may, first]],
      ['created_at', 'between', ['2026-05-01', '2026-06-08'], [week, may, first]],
      ['created_at', 'between', ['last_month', 'yesterday'], [yesterday, week, may, first]],
      ['created_at', 'gte', '2026-06-14T23:59:00Z', [today, yesterday]],
      ['created_at', 'gt', '2026-06-14T23:59:00Z', [today]],
      ['created_at', 'equals', '2026-06-14T23:59:00.000Z', [yesterday]],
      ['last_active_at', 'equals', 'today', [today]],
      ['last_active_at', 'gte', '-7d', [today, week, may]],
      ['last_active_at', 'equals', 'last_month', [first]],
      ['last_active_at', 'equals', 'this_month', [today, week, may]],
      ['last_active_at', 'lt', '-7d', [first]],
      ['last_active_at', 'empty', undefined, [yesterday, old]],
      ['last_active_at', 'not_empty', undefined, [today, week, may, first]],
      // Contacts never active are "not active today".
      ['last_active_at', 'not_equals', 'today', [yesterday, week, may, first, old]],
    ];
    for (const [f, op, value, want] of cases) {
      expect(await preview(t, { field: f, op, value }), `${f} ${op} ${JSON.stringify(value)}`).toEqual(want);
    }
    await rejects(t, { field: 'created_at', op: 'in', value: ['today'] }, 'filter.op');
    await rejects(t, { field: 'created_at', op: 'contains', value: 'today' }, 'filter.op');
    await rejects(t, { field: 'created_at', op: 'equals', value: 'someday' }, 'filter.value');
    await rejects(t, { field: 'created_at', op: 'equals', value: '2026-13-45' }, 'filter.value');
    await rejects(t, { field: 'created_at', op: 'between', value: ['2026-01-01'] }, 'filter.value');
    await rejects(t, { field: 'last_active_at', op: 'equals', value: true }, 'filter.value');
    // A segment on a relative date: built at once, and the filter still says "-7d".
    const s = await segment(t, { field: 'created_at', op: 'gte', value: '-7d' });
    expect(await members(t, s)).toEqual([today, yesterday, week]);
  });

  it('dates: custom date and datetime fields', async () => {
    const t = await fixed();
    await field(t, 'renewal', 'date');
    await field(t, 'demo_at', 'datetime');
    const a = await contact(t, { email: 'a@example.com', fields: { renewal: '2026-06-15', demo_at: '2026-06-15T09:30:00Z' } });
    const b = await contact(t, { email: 'b@example.com', fields: { renewal: '2026-06-14', demo_at: '2026-06-14T22:00:00+02:00' } });
    const c = await contact(t, { email: 'c@example.com', fields: { renewal: '2026-07-01', demo_at: '2026-06-08T00:00:00Z' } });
    const d = await contact(t, { email: 'd@example.com', fields: { renewal: '2026-05-31' } });
    const e = await contact(t, { email: 'e@example.com' });
    const cases: [string, string, unknown, number[]][] = [
      ['fields.renewal', 'equals', 'today', [a]],
      ['fields.renewal', 'equals', 'yesterday', [b]],
      ['fields.renewal', 'equals', 'this_month', [a, b]],
      ['fields.renewal', 'equals', 'last_month', [d]],
      ['fields.renewal', 'equals', '2026-07-01', [c]],
      ['fields.renewal', 'not_equals', 'today', [b, c, d, e]],
      ['fields.renewal', 'gt', 'today', [c]],
      ['fields.renewal', 'gte', 'yesterday', [a, b, c]],
      ['fields.renewal', 'lt', '2026-06-01', [d]],
      ['fields.renewal', 'lte', '-1d', [b, d]],
      ['fields.renewal', 'between', ['2026-06-01', '2026-06-30'], [a, b]],
      ['fields.renewal', 'gte', '+16d', [c]],
      ['fields.renewal', 'empty', undefined, [e]],
      // 22:00 at +02:00 is 20:00 UTC, the day before.
      ['fields.demo_at', 'equals', 'today', [a]],
      ['fields.demo_at', 'equals', 'yesterday', [b]],
      ['fields.demo_at', 'equals', '-7d', [c]],
      ['fields.demo_at', 'gte', '-7d', [a, b, c]],
      ['fields.demo_at', 'gt', '-7d', [a, b]],
      ['fields.demo_at', 'equals', '2026-06-14T20:00:00Z', [b]],
      ['fields.demo_at', 'gte', '2026-06-14T20:00:00.000Z', [a, b]],
      ['fields.demo_at', 'lt', '2026-06-14T20:00:00Z', [c]],
      ['fields.demo_at', 'between', ['2026-06-08', '2026-06-14'], [b, c]],
      ['fields.demo_at', 'equals', 'this_month', [a, b, c]],
      ['fields.demo_at', 'not_empty', undefined, [a, b, c]],
      ['fields.demo_at', 'not_equals', 'today', [b, c, d, e]],
    ];
    for (const [f, op, value, want] of cases) {
      expect(await preview(t, { field: f, op, value }), `${f} ${op} ${JSON.stringify(value)}`).toEqual(want);
    }
    await rejects(t, { field: 'fields.renewal', op: 'equals', value: 'soon' }, 'filter.value');
    await rejects(t, { field: 'fields.demo_at', op: 'starts_with', value: '2026' }, 'filter.op');
  });

  it('multiselect: contains/equals, in, not_in, empty', async () => {
    const t = await fixed();
    await field(t, 'interests', 'multiselect', ['email', 'seo', 'ads']);
    const a = await contact(t, { email: 'a@example.com', fields: { interests: ['email', 'seo'] } });
    const b = await contact(t, { email: 'b@example.com', fields: { interests: ['ads'] } });
    const c = await contact(t, { email: 'c@example.com', fields: { interests: [] } });
    const d = await contact(t, { email: 'd@example.com' });
    expect(await preview(t, { field: 'fields.interests', op: 'contains', value: 'seo' })).toEqual([a]);
    expect(await preview(t, { field: 'fields.interests', op: 'equals', value: 'ads' })).toEqual([b]);
    expect(await preview(t, { field: 'fields.interests', op: 'in', value: ['seo', 'ads'] })).toEqual([a, b]);
    expect(await preview(t, { field: 'fields.interests', op: 'in', value: ['email'] })).toEqual([a]);
    expect(await preview(t, { field: 'fields.interests', op: 'not_in', value: ['seo'] })).toEqual([b, c, d]);
    expect(await preview(t, { field: 'fields.interests', op: 'not_equals', value: 'ads' })).toEqual([a, c, d]);
    expect(await preview(t, { field: 'fields.interests', op: 'empty' })).toEqual([c, d]);
    expect(await preview(t, { field: 'fields.interests', op: 'not_empty' })).toEqual([a, b]);
    await rejects(t, { field: 'fields.interests', op: 'gt', value: 'a' }, 'filter.op');
    await rejects(t, { field: 'fields.interests', op: 'regex', value: 'a' }, 'filter.op');
    await rejects(t, { field: 'fields.interests', op: 'in', value: [] }, 'filter.value');
  });

  it('stage: by name (any case) and by id', async () => {
    const t = await fixed();
    const stages = await stageIds(t);
    expect(Object.keys(stages)).toEqual(expect.arrayContaining(['Attract', 'Engage', 'Convert', 'Close', 'Delight']));
    const x = await contact(t, { email: 'x@example.com' });
    const y = await contact(t, { email: 'y@example.com' });
    const z = await contact(t, { email: 'z@example.com' });
    expect((await t.json('PUT', `/api/v1/contacts/${x}/stage`, { stage_id: stages.Engage })).status).toBe(200);
    expect((await t.json('PUT', `/api/v1/contacts/${y}/stage`, { stage_id: stages.Convert })).status).toBe(200);
    expect(await preview(t, { field: 'stage', op: 'equals', value: 'Engage' })).toEqual([x]);
    expect(await preview(t, { field: 'stage', op: 'equals', value: ' engage ' })).toEqual([x]);
    expect(await preview(t, { field: 'stage', op: 'equals', value: stages.Convert })).toEqual([y]);
    expect(await preview(t, { field: 'stage', op: 'in', value: ['Engage', stages.Convert] })).toEqual([x, y]);
    expect(await preview(t, { field: 'stage', op: 'not_in', value: ['engage'] })).toEqual([y, z]);
    expect(await preview(t, { field: 'stage', op: 'not_equals', value: 'Engage' })).toEqual([y, z]);
    expect(await preview(t, { field: 'stage', op: 'empty' })).toEqual([z]);
    expect(await preview(t, { field: 'stage', op: 'not_empty' })).toEqual([x, y]);
    await rejects(t, { field: 'stage', op: 'equals', value: 'Nowhere' }, 'filter.value');
    await rejects(t, { field: 'stage', op: 'gt', value: 'Engage' }, 'filter.op');
  });

  it('tags, do-not-contact, companies, membership of another segment and nested groups', async () => {
    const t = await fixed();
    const a = await contact(t, { email: 'a@example.com', tags: ['VIP', 'newsletter'] });
    const b = await contact(t, { email: 'b@example.com', tags: ['newsletter'] });
    const c = await contact(t, { email: 'c@example.com' });
    const d = await contact(t, { email: 'd@example.com', tags: ['Big  Fish'] });
    // Tags are normalised the same way contacts store them.
    expect(await preview(t, { tag: 'vip' })).toEqual([a]);
    expect(await preview(t, { tag: ' VIP ' })).toEqual([a]);
    expect(await preview(t, { tag: 'big fish' })).toEqual([d]);
    expect(await preview(t, { tag: 'vip', has: false })).toEqual([b, c, d]);
    expect(await preview(t, { tag: 'never-used' })).toEqual([]);
    expect(await preview(t, { tag: 'never-used', has: false })).toEqual([a, b, c, d]);

    for (const [id, channel] of [
      [a, 'email'],
      [b, 'sms'],
      [c, 'all'],
    ] as const) {
      expect((await t.json('PUT', `/api/v1/contacts/${id}/do-not-contact/${channel}`, { reason: 'manual' })).status).toBe(200);
    }
    expect(await preview(t, { dnc: 'email' })).toEqual([a, c]);
    expect(await preview(t, { dnc: 'email', is: true })).toEqual([a, c]);
    expect(await preview(t, { dnc: 'sms' })).toEqual([b, c]);
    expect(await preview(t, { dnc: 'any' })).toEqual([a, b, c]);
    expect(await preview(t, { dnc: 'email', is: false })).toEqual([b, d]);
    expect(await preview(t, { dnc: 'any', is: false })).toEqual([d]);

    const acme = (await t.json('POST', '/api/v1/companies', { name: 'Acme Corp', employees: 500, industry: 'Rockets' })).body.id;
    const tiny = (await t.json('POST', '/api/v1/companies', { name: 'Tiny_Co', employees: 5 })).body.id;
    await t.json('POST', '/api/v1/companies', { name: 'Nobody Inc' });
    for (const [co, ct] of [
      [acme, a],
      [tiny, b],
      [acme, d],
      [tiny, d],
    ]) {
      expect((await t.json('PUT', `/api/v1/companies/${co}/contacts/${ct}`, {})).status).toBe(200);
    }
    expect(await preview(t, { field: 'company.name', op: 'equals', value: 'acme corp' })).toEqual([a, d]);
    expect(await preview(t, { field: 'company.name', op: 'contains', value: '_' })).toEqual([b, d]);
    expect(await preview(t, { field: 'company.name', op: 'starts_with', value: 'tiny_' })).toEqual([b, d]);
    expect(await preview(t, { field: 'company.industry', op: 'equals', value: 'ROCKETS' })).toEqual([a, d]);
    expect(await preview(t, { field: 'company.employees', op: 'gte', value: 100 })).toEqual([a, d]);
    expect(await preview(t, { field: 'company.employees', op: 'lt', value: 100 })).toEqual([b, d]);
    expect(await preview(t, { field: 'company.employees', op: 'between', value: [1, 10] })).toEqual([b, d]);
    expect(await preview(t, { field: 'company.employees', op: 'in', value: [5, 7] })).toEqual([b, d]);
    // Negatives hold when no linked company matches, so contacts without a company count, like NULL fields.
    expect(await preview(t, { field: 'company.name', op: 'not_equals', value: 'Acme Corp' })).toEqual([b, c]);
    expect(await preview(t, { field: 'company.employees', op: 'not_in', value: [5] })).toEqual([a, c]);
    expect(await preview(t, { field: 'company.employees', op: 'not_equals', value: 500 })).toEqual([b, c]);
    expect(await preview(t, { field: 'company.name', op: 'not_empty' })).toEqual([a, b, d]);
    expect(await preview(t, { field: 'company.name', op: 'empty' })).toEqual([c]);
    expect(await preview(t, { field: 'company.industry', op: 'empty' })).toEqual([b, c]);
    await rejects(t, { field: 'company.employees', op: 'contains', value: 5 }, 'filter.op');
    await rejects(t, { field: 'company.ceo', op: 'equals', value: 'x' }, 'filter.field');

    const vip = await segment(t, { tag: 'vip' }, 'VIPs');
    expect(await preview(t, { segment: vip })).toEqual([a]);
    expect(await preview(t, { segment: vip, member: true })).toEqual([a]);
    expect(await preview(t, { segment: vip, member: false })).toEqual([b, c, d]);
    await rejects(t, { segment: 999999 }, 'filter');

    // Nested groups: (newsletter AND NOT vip) OR (no email DNC AND a company with ≥ 100 people).
    const nested = {
      any: [
        { all: [{ tag: 'newsletter' }, { not: { segment: vip } }] },
        { all: [{ dnc: 'email', is: false }, { field: 'company.employees', op: 'gte', value: 100 }] },
      ],
    };
    expect(await preview(t, nested)).toEqual([b, d]);
    expect(await preview(t, { not: nested })).toEqual([a, c]);
    expect(await preview(t, { not: { not: nested } })).toEqual([b, d]);
    expect(await preview(t, { all: [{ any: [{ tag: 'vip' }, { tag: 'big fish' }] }, { not: { dnc: 'sms' } }] })).toEqual([a, d]);
    // NOT of a condition that is NULL for some contacts still treats them as "not matching".
    expect(await preview(t, { not: { field: 'first_name', op: 'contains', value: 'x' } })).toEqual([a, b, c, d]);
    const s = await segment(t, nested, 'Nested');
    expect(await members(t, s)).toEqual([b, d]);
  });

  it('behaviour: visited URL N times within D days, forms, assets, custom events, any event', async () => {
    const t = await fixed();
    const site = await makeSite(t);
    const p = await contact(t, { email: 'p@example.com' });
    const q = await contact(t, { email: 'q@example.com' });
    const r = await contact(t, { email: 'r@example.com' });
    const quiet = await contact(t, { email: 'quiet@example.com' });
    // P: /pricing once today through the tracker as an identified visitor, twice 10 days ago.
    const res = await track(t, {
      k: site.public_key,
      v: vid(1),
      e: [{ t: 'pv', u: `${ORIGIN}/pricing` }, { t: 'ev', u: `${ORIGIN}/pricing`, n: 'signup', p: { plan: 'pro' } }],
      id: { email: 'p@example.com', sig: sign(site.secret, 'p@example.com') },
    });
    expect(res.status).toBe(202);
    await settleDeferred();
    expect(await count(t, "SELECT count(*) AS n FROM events WHERE contact_id = ? AND type = 'page_view'", [p])).toBe(1);
    await insertEvent(t, { contact: p, type: 'page_view', url: `${ORIGIN}/pricing?plan=pro`, createdAt: NOW - 10 * DAY });
    await insertEvent(t, { contact: p, type: 'page_view', url: `${ORIGIN}/pricing`, createdAt: NOW - 10 * DAY - 1000 });
    // Q: /pricing once, 2 days ago; a literal underscore page; a form and an asset.
    await insertEvent(t, { contact: q, type: 'page_view', url: `${ORIGIN}/pricing`, createdAt: NOW - 2 * DAY });
    await insertEvent(t, { contact: q, type: 'page_view', url: `${ORIGIN}/a_b`, createdAt: NOW - DAY });
    await insertEvent(t, { contact: q, type: 'form_submit', props: { form_id: 3 }, createdAt: NOW - DAY });
    await insertEvent(t, { contact: q, type: 'asset_download', props: { asset_id: 7 }, createdAt: NOW - 40 * DAY });
    // R: a page that only looks like /a_b with wildcards; another form and asset; an old custom event.
    await insertEvent(t, { contact: r, type: 'page_view', url: `${ORIGIN}/axb`, createdAt: NOW - DAY });
    await insertEvent(t, { contact: r, type: 'form_submit', props: { form_id: 4 }, createdAt: NOW - DAY });
    await insertEvent(t, { contact: r, type: 'asset_download', props: { asset_id: 8 }, createdAt: NOW - DAY });
    await insertEvent(t, { contact: r, type: 'custom', name: 'signup', createdAt: NOW - 60 * DAY });
    // Quiet: only events the system writes about it, which are not "activity".
    expect((await t.json('POST', `/api/v1/contacts/${quiet}/points`, { op: 'add', value: 3, reason: 'x' })).status).toBe(200);
    await insertEvent(t, { contact: quiet, type: 'segment_joined', props: { segment_id: 1 }, createdAt: NOW - DAY });

    const visited = (url: unknown, extra: Record<string, unknown> = {}) => ({ behaviour: 'visited', url, ...extra });
    expect(await preview(t, visited({ op: 'contains', value: '/pricing' }))).toEqual([p, q]);
    expect(await preview(t, visited({ op: 'contains', value: '/pricing' }, { min_count: 2 }))).toEqual([p]);
    expect(await preview(t, visited({ op: 'contains', value: '/pricing' }, { min_count: 3 }))).toEqual([p]);
    expect(await preview(t, visited({ op: 'contains', value: '/pricing' }, { min_count: 4 }))).toEqual([]);
    expect(await preview(t, visited({ op: 'contains', value: '/pricing' }, { min_count: 2, within_days: 7 }))).toEqual([]);
    expect(await preview(t, visited({ op: 'contains', value: '/pricing' }, { within_days: 7 }))).toEqual([p, q]);
    expect(await preview(t, visited({ op: 'contains', value: '/pricing' }, { within_days: 1 }))).toEqual([p]);
    expect(await preview(t, visited({ op: 'contains', value: '/pricing' }, { min_count: 3, within_days: 11 }))).toEqual([p]);
    expect(await preview(t, visited({ op: 'equals', value: `${ORIGIN}/pricing` }, { min_count: 2 }))).toEqual([p]);
    expect(await preview(t, visited({ op: 'ends_with', value: '?plan=pro' }))).toEqual([p]);
    expect(await preview(t, visited({ op: 'starts_with', value: `${ORIGIN}/a_` }))).toEqual([q]);
    expect(await preview(t, visited({ op: 'contains', value: '/a_b' }))).toEqual([q]);
    expect(await preview(t, visited({ op: 'contains', value: '%b' }))).toEqual([]);
    expect(await preview(t, visited({ op: 'regex', value: '/a.b$' }))).toEqual([q, r]);
    expect(await preview(t, { behaviour: 'visited' })).toEqual([p, q, r]);
    expect(await preview(t, { behaviour: 'visited', min_count: 2 })).toEqual([p, q]);
    expect(await preview(t, { behaviour: 'submitted_form' })).toEqual([q, r]);
    expect(await preview(t, { behaviour: 'submitted_form', form_id: 3 })).toEqual([q]);
    expect(await preview(t, { behaviour: 'submitted_form', form_id: 5 })).toEqual([]);
    expect(await preview(t, { behaviour: 'downloaded_asset', asset_id: 7 })).toEqual([q]);
    expect(await preview(t, { behaviour: 'downloaded_asset', asset_id: 7, within_days: 30 })).toEqual([]);
    expect(await preview(t, { behaviour: 'downloaded_asset', within_days: 30 })).toEqual([r]);
    expect(await preview(t, { behaviour: 'custom_event', name: 'signup' })).toEqual([p, r]);
    expect(await preview(t, { behaviour: 'custom_event', name: 'signup', within_days: 30 })).toEqual([p]);
    expect(await preview(t, { behaviour: 'custom_event', name: 'other' })).toEqual([]);
    expect(await preview(t, { behaviour: 'any_event' })).toEqual([p, q, r]);
    // The window includes its edge: an event exactly one day old is "within 1 day".
    expect(await preview(t, { behaviour: 'any_event', within_days: 1 })).toEqual([p, q, r]);
    expect(await preview(t, { behaviour: 'visited', within_days: 1, min_count: 1 })).toEqual([p, q, r]);
    expect(await preview(t, { behaviour: 'submitted_form', within_days: 1 })).toEqual([q, r]);
    expect(await preview(t, { behaviour: 'any_event', min_count: 4 })).toEqual([p, q, r]);
    // P's "identified" event is bookkeeping, not activity: it has four, not five.
    expect(await preview(t, { behaviour: 'any_event', min_count: 5 })).toEqual([]);
    expect(await preview(t, { not: { behaviour: 'any_event' } })).toEqual([quiet]);
    await rejects(t, visited({ op: 'regex', value: '[' }), 'filter.url.value');

    const s = await segment(t, visited({ op: 'contains', value: '/pricing' }, { min_count: 2, within_days: 30 }), 'Pricing');
    expect(await members(t, s)).toEqual([p]);
  });

  it('validation: 422 naming the failing path', async () => {
    const t = await fixed();
    await field(t, 'size', 'number');
    await contact(t, { email: 'v@example.com' });
    await rejects(t, { field: 'shoe_size', op: 'equals', value: 1 }, 'filter.field');
    await rejects(t, { field: 'fields.nope', op: 'equals', value: 1 }, 'filter.field');
    await rejects(t, { all: [{ tag: 'x' }, { any: [{ tag: 'y' }, { field: 'bogus', op: 'equals', value: 1 }] }] }, 'filter.all.1.any.1.field');
    await rejects(t, { field: 'points', op: 'equals', value: 'ten' }, 'filter.value');
    await rejects(t, { field: 'fields.size', op: 'gt', value: '5' }, 'filter.value');
    await rejects(t, { field: 'points', op: 'between', value: [1, 2, 3] }, 'filter.value');
    await rejects(t, { field: 'points', op: 'in', value: 5 }, 'filter.value');
    await rejects(t, { field: 'points', op: 'equals' }, 'filter.value');
    await rejects(t, { field: 'first_name', op: 'equals', value: true }, 'filter.value');
    await rejects(t, { field: 'first_name', op: 'regex', value: '(' }, 'filter.value');
    await rejects(t, { not: { field: 'first_name', op: 'regex', value: '[a-' } }, 'filter.not.value');
    // Valid in JavaScript, but not in the database's regular expressions: refused up front, never a 500.
    await rejects(t, { field: 'first_name', op: 'regex', value: '(?=a)a' }, 'filter.value');
    await rejects(t, { field: 'email', op: 'regex', value: '(a)\\1' }, 'filter.value', 'create');
    await rejects(t, { behaviour: 'visited', url: { op: 'regex', value: '(?i)pricing' } }, 'filter.url.value');
    await rejects(t, { field: 'points', op: 'contains', value: 1 }, 'filter.op');
    await rejects(t, { all: [{ tag: 'x' }, { field: 'points', op: 'starts_with', value: 1 }] }, 'filter.all.1.op');
    await rejects(t, { field: 'fields.size', op: 'regex', value: '1' }, 'filter.op', 'create');
    expect((await t.json('POST', '/api/v1/segments/preview', { filter: { field: 'points', op: 'gt', value: 1 } })).status).toBe(200);
    // Shape errors (the zod schema) are 422 too.
    for (const filter of [{ field: 'points', op: 'like', value: 1 }, { all: [] }, { tag: '' }, { behaviour: 'visited', min_count: 0 }, { segment: 'x' }, 'points > 3', { all: [{ tag: 'x' }], any: [] }]) {
      const r = await t.json('POST', '/api/v1/segments/preview', { filter });
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details.some((d: any) => String(d.field).startsWith('filter')), JSON.stringify(r.body)).toBe(true);
    }
    // Too big: more than 50 conditions.
    const big = { any: Array.from({ length: 26 }, () => ({ all: [{ tag: 'a' }, { tag: 'b' }] })) };
    expectError(await t.json('POST', '/api/v1/segments/preview', { filter: big }), 422, 'VALIDATION_FAILED');
    // Nothing was saved by the failed creates.
    expect((await t.json('GET', '/api/v1/segments')).body.data).toEqual([]);
  });

  it('segments referring to each other: no cycles, no deleting a segment in use', async () => {
    const t = await fixed();
    await contact(t, { email: 'a@example.com', tags: ['x'] });
    const b = await segment(t, { tag: 'x' }, 'B');
    const a = await segment(t, { segment: b }, 'A');
    expect(await members(t, a)).toEqual(await members(t, b));
    // Patching B to refer to A closes a loop.
    const loop = await t.json('PATCH', `/api/v1/segments/${b}`, { filter: { any: [{ tag: 'x' }, { segment: a }] } });
    expectError(loop, 422, 'VALIDATION_FAILED');
    expect(loop.body.error.details[0].field).toBe('filter');
    // And A referring to itself.
    expectError(await t.json('PATCH', `/api/v1/segments/${a}`, { filter: { not: { segment: a } } }), 422, 'VALIDATION_FAILED');
    // Longer loops too: C → A → B, then B → C.
    const c = await segment(t, { segment: a }, 'C');
    expectError(await t.json('PATCH', `/api/v1/segments/${b}`, { filter: { segment: c } }), 422, 'VALIDATION_FAILED');
    expect((await t.json('GET', `/api/v1/segments/${b}`)).body.filter).toEqual({ tag: 'x', has: true });
    // A segment others use cannot be deleted; once nobody uses it, it can.
    const del = await t.json('DELETE', `/api/v1/segments/${b}`);
    expectError(del, 422, 'VALIDATION_FAILED');
    expect(del.body.error.message).toContain(String(a));
    expectError(await t.json('DELETE', `/api/v1/segments/${a}`), 422, 'VALIDATION_FAILED');
    expect((await t.json('DELETE', `/api/v1/segments/${c}`)).body).toEqual({ id: c, deleted: true });
    expect((await t.json('DELETE', `/api/v1/segments/${a}`)).status).toBe(200);
    expect((await t.json('DELETE', `/api/v1/segments/${b}`)).status).toBe(200);
    expectError(await t.json('DELETE', `/api/v1/segments/${b}`), 404, 'NOT_FOUND');
    expect(await count(t, 'SELECT count(*) AS n FROM segment_members')).toBe(0);
  });
});

describe('dynamic and static segments, manual membership', () => {
  it('static segments have no filter and keep what is added by hand', async () => {
    const t = await fixed();
    const a = await contact(t, { email: 'a@example.com' });
    const b = await contact(t, { email: 'b@example.com' });
    expectError(await t.json('POST', '/api/v1/segments', { name: 'S', kind: 'static', filter: { tag: 'x' } }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/segments', { name: 'D', kind: 'dynamic' }), 422, 'VALIDATION_FAILED');
    const s = await t.json('POST', '/api/v1/segments', { name: 'Hand-picked', kind: 'static' });
    expect(s.status).toBe(201);
    expect(s.body).toMatchObject({ kind: 'static', filter: null, members: 0 });
    expectError(await t.json('PATCH', `/api/v1/segments/${s.body.id}`, { filter: { tag: 'x' } }), 422, 'VALIDATION_FAILED');
    expect((await t.json('PUT', `/api/v1/segments/${s.body.id}/members/${a}`)).body).toEqual({ segment_id: s.body.id, contact_id: a, member: true });
    await t.json('PUT', `/api/v1/segments/${s.body.id}/members/${b}`);
    // Adding twice is harmless and writes one joined event.
    await t.json('PUT', `/api/v1/segments/${s.body.id}/members/${b}`);
    expect((await timeline(t, b, 'segment_joined')).map((e) => e.props)).toEqual([{ segment_id: s.body.id, via: 'manual' }]);
    expect(await members(t, s.body.id)).toEqual([a, b]);
    expect((await t.json('POST', `/api/v1/segments/${s.body.id}/rebuild`)).body).toEqual({ members: 2 });
    await runJob(t, 'segments');
    expect(await members(t, s.body.id)).toEqual([a, b]);
    expect((await t.json('DELETE', `/api/v1/segments/${s.body.id}/members/${a}`)).body).toEqual({ segment_id: s.body.id, contact_id: a, member: false });
    expect(await members(t, s.body.id)).toEqual([b]);
    expect((await timeline(t, a, 'segment_left')).map((e) => e.props)).toEqual([{ segment_id: s.body.id, via: 'manual' }]);
    expectError(await t.json('PUT', `/api/v1/segments/${s.body.id}/members/999999`), 404, 'NOT_FOUND');
    expectError(await t.json('PUT', `/api/v1/segments/999999/members/${a}`), 404, 'NOT_FOUND');
    expectError(await t.json('DELETE', `/api/v1/segments/${s.body.id}/members/999999`), 404, 'NOT_FOUND');
  });

  it('manual members stay when they do not match; removed ones stay out through rebuilds until re-added', async () => {
    const t = await fixed();
    const vip1 = await contact(t, { email: 'v1@example.com', tags: ['vip'] });
    const vip2 = await contact(t, { email: 'v2@example.com', tags: ['vip'] });
    const plain = await contact(t, { email: 'plain@example.com' });
    const s = await segment(t, { tag: 'vip' }, 'VIP');
    // The first build is the starting point, not a wave of joined events.
    expect(await timeline(t, vip1, 'segment_joined')).toEqual([]);
    expect(await members(t, s)).toEqual([vip1, vip2]);

    await t.json('PUT', `/api/v1/segments/${s}/members/${plain}`);
    await t.json('DELETE', `/api/v1/segments/${s}/members/${vip2}`);
    expect(await members(t, s)).toEqual([vip1, plain]);
    const list = (await t.json('GET', `/api/v1/segments/${s}/members`)).body.data;
    expect(list.map((c: any) => [c.id, c.membership])).toEqual([
      [vip1, 'filter'],
      [plain, 'manual'],
    ]);
    expect(list[0]).toMatchObject({ email: 'v1@example.com', tags: ['vip'] });

    for (const rebuild of [() => t.json('POST', `/api/v1/segments/${s}/rebuild`), () => runJob(t, 'segments'), () => runJob(t)]) {
      await rebuild();
      expect(await members(t, s)).toEqual([vip1, plain]);
    }
    // A change to the excluded contact does not bring it back either.
    await t.json('PATCH', `/api/v1/contacts/${vip2}`, { first_name: 'Still excluded' });
    await runJob(t);
    expect(await members(t, s)).toEqual([vip1, plain]);
    // Nor does editing the filter.
    await t.json('PATCH', `/api/v1/segments/${s}`, { filter: { any: [{ tag: 'vip' }, { tag: 'other' }] } });
    expect(await members(t, s)).toEqual([vip1, plain]);

    const seg = async (id: number) => (await t.json('GET', `/api/v1/contacts/${id}/segments`)).body.data;
    expect(await seg(plain)).toEqual([{ id: s, name: 'VIP', kind: 'dynamic', membership: 'manual', added_at: new Date(NOW).toISOString() }]);
    expect(await seg(vip1)).toMatchObject([{ id: s, membership: 'filter' }]);
    expect(await seg(vip2)).toEqual([]);

    // Re-adding by hand lifts the exclusion; removing the manual member by hand excludes it.
    await t.json('PUT', `/api/v1/segments/${s}/members/${vip2}`);
    await t.json('DELETE', `/api/v1/segments/${s}/members/${plain}`);
    await t.json('POST', `/api/v1/segments/${s}/rebuild`);
    expect(await members(t, s)).toEqual([vip1, vip2]);
    expect(await seg(vip2)).toMatchObject([{ id: s, membership: 'manual' }]);
    // A manual member who stops matching stays.
    await t.json('DELETE', `/api/v1/contacts/${vip2}/tags/vip`);
    await runJob(t);
    await t.json('POST', `/api/v1/segments/${s}/rebuild`);
    expect(await members(t, s)).toEqual([vip1, vip2]);
    // A second segment shows up in the contact's list, ordered by name.
    const other = await segment(t, { field: 'email', op: 'starts_with', value: 'v1' }, 'Another');
    expect((await seg(vip1)).map((x: any) => x.id)).toEqual([other, s]);
  });

  it('members are listed with cursor pagination', async () => {
    const t = await fixed();
    const rows = Array.from({ length: 7 }, (_, i) => ({ email: `m${i}@example.com`, tags: ['all'] }));
    const batch = await t.json('POST', '/api/v1/contacts/batch', { contacts: rows });
    expect(batch.status).toBe(200);
    const ids = sorted(batch.body.results.map((r: any) => r.id));
    const s = await segment(t, { tag: 'all' });
    expect((await t.json('GET', `/api/v1/segments/${s}`)).body.members).toBe(7);
    const first = await t.json('GET', `/api/v1/segments/${s}/members?limit=3`);
    expect(first.body.data.map((c: any) => c.id)).toEqual(ids.slice(0, 3));
    expect(first.body.has_more).toBe(true);
    const second = await t.json('GET', `/api/v1/segments/${s}/members?limit=3&cursor=${encodeURIComponent(first.body.next_cursor)}`);
    expect(second.body.data.map((c: any) => c.id)).toEqual(ids.slice(3, 6));
    const third = await t.json('GET', `/api/v1/segments/${s}/members?limit=3&cursor=${encodeURIComponent(second.body.next_cursor)}`);
    expect(third.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(third.body.data.map((c: any) => c.id)).toEqual(ids.slice(6));
    expect(await members(t, s, 2)).toEqual(ids);
    expectError(await t.json('GET', `/api/v1/segments/${s}/members?limit=0`), 422, 'VALIDATION_FAILED');
    expectError(await t.json('GET', `/api/v1/segments/999999/members`), 404, 'NOT_FOUND');
    // The segment list pages too.
    await segment(t, { tag: 'x' }, 'Two');
    const segs = await t.json('GET', '/api/v1/segments?limit=1');
    expect(segs.body.data).toHaveLength(1);
    expect(segs.body.has_more).toBe(true);
    const rest = await t.json('GET', `/api/v1/segments?limit=1&cursor=${encodeURIComponent(segs.body.next_cursor)}`);
    expect(rest.body.data[0].name).toBe('Two');
  });
});

describe('incremental membership', () => {
  it('contact changes join and leave within one reactions run, with timeline events', async () => {
    let clock = NOW;
    const t = await makeApp({ now: () => clock });
    await field(t, 'plan', 'text');
    const c = await contact(t, { email: 'lead@example.com' });
    const other = await contact(t, { email: 'other@example.com', tags: ['vip'] });
    const s = await segment(t, { all: [{ field: 'points', op: 'gte', value: 10 }, { tag: 'vip' }] }, 'Hot VIPs');
    const pro = await segment(t, { field: 'fields.plan', op: 'equals', value: 'pro' }, 'Pro');
    expect(await members(t, s)).toEqual([]);
    const step = async () => {
      clock += 10_000;
      await runJob(t);
    };
    const joined = async (seg: number) => (await timeline(t, c, 'segment_joined')).filter((e) => e.props.segment_id === seg);
    const left = async (seg: number) => (await timeline(t, c, 'segment_left')).filter((e) => e.props.segment_id === seg);

    clock += 10_000;
    expect((await t.json('POST', `/api/v1/contacts/${c}/points`, { op: 'add', value: 12, reason: 'webinar' })).body.points).toBe(12);
    await step();
    expect(await members(t, s)).toEqual([]);
    clock += 10_000;
    await t.json('POST', `/api/v1/contacts/${c}/tags`, { tags: ['VIP'] });
    await step();
    expect(await members(t, s)).toEqual([c]);
    expect((await joined(s)).map((e) => e.props)).toEqual([{ segment_id: s, via: 'filter' }]);
    expect(await members(t, pro)).toEqual([]);

    clock += 10_000;
    await t.json('PATCH', `/api/v1/contacts/${c}`, { fields: { plan: 'Pro' } });
    await step();
    expect(await members(t, pro)).toEqual([c]);
    expect(await joined(pro)).toHaveLength(1);

    // Points drop below 10: it leaves, and says so.
    clock += 10_000;
    await t.json('POST', `/api/v1/contacts/${c}/points`, { op: 'subtract', value: 5, reason: 'decay' });
    await step();
    expect(await members(t, s)).toEqual([]);
    expect((await left(s)).map((e) => e.props)).toEqual([{ segment_id: s, via: 'filter' }]);
    // Back in by "set", out again by losing the tag.
    clock += 10_000;
    await t.json('POST', `/api/v1/contacts/${c}/points`, { op: 'set', value: 50, reason: 'demo' });
    await step();
    expect(await members(t, s)).toEqual([c]);
    clock += 10_000;
    await t.json('DELETE', `/api/v1/contacts/${c}/tags/vip`);
    await step();
    expect(await members(t, s)).toEqual([]);
    expect(await joined(s)).toHaveLength(2);
    expect(await left(s)).toHaveLength(2);
    clock += 10_000;
    await t.json('PATCH', `/api/v1/contacts/${c}`, { fields: { plan: null } });
    await step();
    expect(await members(t, pro)).toEqual([]);
    expect(await left(pro)).toHaveLength(1);
    // Another run changes nothing: the log and the membership agree.
    await step();
    expect(await joined(s)).toHaveLength(2);
    expect(await left(s)).toHaveLength(2);
    expect(await count(t, "SELECT count(*) AS n FROM events WHERE contact_id = ? AND type LIKE 'segment_%'", [other])).toBe(0);
    // The joined event is timestamped when it happened (the timeline is newest first).
    expect((await joined(s)).at(-1)!.created_at).toBe(new Date(NOW + 40_000).toISOString());
  });

  it('stage, do-not-contact and company links are contact changes too', async () => {
    let clock = NOW;
    const t = await makeApp({ now: () => clock });
    const stages = await stageIds(t);
    const c = await contact(t, { email: 'c@example.com' });
    const engaged = await segment(t, { field: 'stage', op: 'equals', value: 'Engage' });
    const mailable = await segment(t, { dnc: 'email', is: false });
    const big = await segment(t, { field: 'company.employees', op: 'gte', value: 100 });
    expect([await members(t, engaged), await members(t, mailable), await members(t, big)]).toEqual([[], [c], []]);
    const co = (await t.json('POST', '/api/v1/companies', { name: 'Big', employees: 1000 })).body.id;
    clock += 10_000;
    await t.json('PUT', `/api/v1/contacts/${c}/stage`, { stage_id: stages.Engage });
    await t.json('PUT', `/api/v1/contacts/${c}/do-not-contact/email`, { reason: 'unsubscribed' });
    await t.json('PUT', `/api/v1/companies/${co}/contacts/${c}`, { is_primary: true });
    clock += 10_000;
    await runJob(t);
    expect([await members(t, engaged), await members(t, mailable), await members(t, big)]).toEqual([[c], [], [c]]);
    clock += 10_000;
    await t.json('PUT', `/api/v1/contacts/${c}/stage`, { stage_id: null });
    await t.json('DELETE', `/api/v1/contacts/${c}/do-not-contact/email`);
    await t.json('DELETE', `/api/v1/companies/${co}/contacts/${c}`);
    clock += 10_000;
    await runJob(t);
    expect([await members(t, engaged), await members(t, mailable), await members(t, big)]).toEqual([[], [c], []]);
  });

  it('visiting /pricing twice as an identified visitor joins a behaviour segment', async () => {
    let clock = NOW;
    const t = await makeApp({ now: () => clock });
    const site = await makeSite(t);
    const c = await contact(t, { email: 'visitor@example.com' });
    const s = await segment(t, { behaviour: 'visited', url: { op: 'contains', value: '/pricing' }, min_count: 2, within_days: 30 }, 'Pricing x2');
    const id = { email: 'visitor@example.com', sig: sign(site.secret, 'visitor@example.com') };
    expect((await track(t, { k: site.public_key, v: vid(1), e: [{ t: 'pv', u: `${ORIGIN}/pricing` }], id })).status).toBe(202);
    await settleDeferred();
    clock += 1000;
    await runJob(t);
    expect(await members(t, s)).toEqual([]);
    expect((await track(t, { k: site.public_key, v: vid(1), e: [{ t: 'pv', u: `${ORIGIN}/docs` }] })).status).toBe(202);
    await settleDeferred();
    await runJob(t);
    expect(await members(t, s)).toEqual([]);
    clock += 1000;
    expect((await track(t, { k: site.public_key, v: vid(1), e: [{ t: 'pv', u: `${ORIGIN}/pricing?ref=nav` }] })).status).toBe(202);
    await settleDeferred();
    await runJob(t);
    expect(await members(t, s)).toEqual([c]);
    expect((await timeline(t, c, 'segment_joined')).map((e) => e.props)).toEqual([{ segment_id: s, via: 'filter' }]);
  });

  it('activity moves last_active_at, and segments on it follow without waiting for a rebuild', async () => {
    let clock = NOW;
    const t = await makeApp({ now: () => clock });
    const site = await makeSite(t);
    const c = await contact(t, { email: 'active@example.com' });
    await t.client.execute({ sql: 'UPDATE contacts SET last_active_at = ? WHERE id = ?', args: [NOW - 30 * DAY, c] });
    const active = await segment(t, { field: 'last_active_at', op: 'gte', value: '-7d' }, 'Active this week');
    const dormant = await segment(t, { not: { field: 'last_active_at', op: 'gte', value: '-7d' } }, 'Dormant');
    expect([await members(t, active), await members(t, dormant)]).toEqual([[], [c]]);
    // The browser was identified as the contact long ago.
    await t.client.execute({
      sql: 'INSERT INTO visitors (site_id, uid, contact_id, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?)',
      args: [site.id, vid(4), c, NOW - 30 * DAY, NOW - 30 * DAY],
    });
    // Another contact changes later, so the contact-change sweep has long moved past this one.
    clock += 60_000;
    await t.client.execute({ sql: 'UPDATE contacts SET updated_at = ? WHERE id = ?', args: [NOW - 60 * DAY, c] });
    const other = await contact(t, { email: 'other@example.com' });
    await t.client.execute({ sql: 'UPDATE contacts SET last_active_at = ? WHERE id = ?', args: [NOW - 30 * DAY, other] });
    await runJob(t, 'segments');
    await runJob(t);
    expect([await members(t, active), await members(t, dormant)]).toEqual([[], [c, other]]);
    clock += 60_000;
    expect((await track(t, { k: site.public_key, v: vid(4), e: [{ t: 'pv', u: `${ORIGIN}/` }] })).status).toBe(202);
    await settleDeferred();
    await runJob(t);
    expect((await t.json('GET', `/api/v1/contacts/${c}`)).body.last_active_at).toBe(new Date(clock).toISOString());
    expect([await members(t, active), await members(t, dormant)]).toEqual([[c], [other]]);
  });

  it('anonymous visits count once the visitor is identified', async () => {
    let clock = NOW;
    const t = await makeApp({ now: () => clock });
    const site = await makeSite(t);
    const c = await contact(t, { email: 'later@example.com' });
    const s = await segment(t, { behaviour: 'visited', url: { op: 'contains', value: '/pricing' }, min_count: 2 }, 'Pricing x2');
    for (let i = 0; i < 2; i++) {
      clock += 1000;
      expect((await track(t, { k: site.public_key, v: vid(2), e: [{ t: 'pv', u: `${ORIGIN}/pricing` }] })).status).toBe(202);
    }
    await settleDeferred();
    await runJob(t);
    expect(await members(t, s)).toEqual([]);
    clock += 1000;
    expect((await track(t, { k: site.public_key, v: vid(2), e: [], id: { email: 'later@example.com', sig: sign(site.secret, 'later@example.com') } })).status).toBe(202);
    await settleDeferred();
    await runJob(t);
    expect(await count(t, "SELECT count(*) AS n FROM events WHERE contact_id = ? AND type = 'page_view'", [c])).toBe(2);
    expect(await members(t, s)).toEqual([c]);
  });

  it('a segment on another segment follows it (within two reaction runs)', async () => {
    let clock = NOW;
    const t = await makeApp({ now: () => clock });
    const site = await makeSite(t);
    const c = await contact(t, { email: 'chain@example.com' });
    const hot = await segment(t, { field: 'points', op: 'gte', value: 10 }, 'Hot');
    const notHot = await segment(t, { segment: hot, member: false }, 'Not hot');
    const hotVisitors = await segment(t, { all: [{ segment: hot }, { behaviour: 'visited' }] }, 'Hot visitors');
    expect(await members(t, notHot)).toEqual([c]);
    const settle = async () => {
      for (let i = 0; i < 2; i++) {
        clock += 10_000;
        await runJob(t);
      }
    };
    clock += 10_000;
    await t.json('POST', `/api/v1/contacts/${c}/points`, { op: 'add', value: 10, reason: 'x' });
    await settle();
    expect(await members(t, hot)).toEqual([c]);
    expect(await members(t, notHot)).toEqual([]);
    expect(await members(t, hotVisitors)).toEqual([]);
    await track(t, { k: site.public_key, v: vid(3), e: [{ t: 'pv', u: `${ORIGIN}/` }], id: { email: 'chain@example.com', sig: sign(site.secret, 'chain@example.com') } });
    await settleDeferred();
    await settle();
    expect(await members(t, hotVisitors)).toEqual([c]);
    clock += 10_000;
    await t.json('POST', `/api/v1/contacts/${c}/points`, { op: 'set', value: 0, reason: 'reset' });
    await settle();
    expect(await members(t, hot)).toEqual([]);
    expect(await members(t, notHot)).toEqual([c]);
    expect(await members(t, hotVisitors)).toEqual([]);
    // A manual add to the first segment carries through as well.
    await t.json('PUT', `/api/v1/segments/${hot}/members/${c}`);
    await settle();
    expect(await members(t, notHot)).toEqual([]);
    expect(await members(t, hotVisitors)).toEqual([c]);
  });
});

describe('robustness', () => {
  it('a field or stage a segment uses cannot be deleted (409 naming the segments)', async () => {
    const t = await fixed();
    await field(t, 'plan', 'text');
    await field(t, 'seats', 'number');
    const stage = (await t.json('POST', '/api/v1/stages', { name: 'Negotiation', position: 9 })).body.id;
    const byField = await segment(t, { any: [{ field: 'fields.plan', op: 'equals', value: 'pro' }, { tag: 'x' }] }, 'Pros');
    const byStage = await segment(t, { not: { field: 'stage', op: 'in', value: ['negotiation'] } }, 'Not negotiating');
    const fields = (await t.json('GET', '/api/v1/fields')).body.data;
    const plan = fields.find((f: any) => f.key === 'plan').id;
    const seats = fields.find((f: any) => f.key === 'seats').id;
    const r = await t.json('DELETE', `/api/v1/fields/${plan}`);
    expectError(r, 409, 'CONFLICT');
    expect(r.body.error.message).toContain(`${byField} (Pros)`);
    const s = await t.json('DELETE', `/api/v1/stages/${stage}`);
    expectError(s, 409, 'CONFLICT');
    expect(s.body.error.message).toContain(`${byStage} (Not negotiating)`);
    // Unused ones go; used ones go once no filter names them.
    expect((await t.json('DELETE', `/api/v1/fields/${seats}`)).status).toBe(200);
    await t.json('PATCH', `/api/v1/segments/${byField}`, { filter: { tag: 'x' } });
    expect((await t.json('DELETE', `/api/v1/fields/${plan}`)).status).toBe(200);
    await t.json('DELETE', `/api/v1/segments/${byStage}`);
    expect((await t.json('DELETE', `/api/v1/stages/${stage}`)).status).toBe(200);
  });

  it('a segment whose field or stage disappeared (an older database) does not stop the reactions or the rebuild job, and says so', async () => {
    let clock = NOW;
    const t = await makeApp({ now: () => clock });
    await field(t, 'plan', 'text');
    const stage = (await t.json('POST', '/api/v1/stages', { name: 'Gone soon', position: 9 })).body.id;
    const c = await contact(t, { email: 'c@example.com', fields: { plan: 'pro' }, tags: ['vip'] });
    const byField = await segment(t, { field: 'fields.plan', op: 'equals', value: 'pro' }, 'By field');
    const byStage = await segment(t, { field: 'stage', op: 'equals', value: 'Gone soon' }, 'By stage');
    const vip = await segment(t, { tag: 'vip' }, 'VIP');
    const points = await segment(t, { field: 'points', op: 'gte', value: 5 }, 'Points');
    expect(await members(t, byField)).toEqual([c]);
    // What a database from before the 409s may hold: the field and stage gone under the filters.
    await t.client.execute({ sql: "DELETE FROM fields WHERE key = 'plan'", args: [] });
    await t.client.execute({ sql: 'DELETE FROM stages WHERE id = ?', args: [stage] });
    expect((await t.json('GET', `/api/v1/segments/${byField}`)).body.broken).toContain('plan');
    expect((await t.json('GET', `/api/v1/segments/${byStage}`)).body.broken).toContain('Gone soon');
    expect((await t.json('GET', `/api/v1/segments/${vip}`)).body.broken).toBeNull();
    // The healthy segments keep working.
    clock += 10_000;
    await t.json('POST', `/api/v1/contacts/${c}/points`, { op: 'add', value: 5, reason: 'x' });
    await t.json('DELETE', `/api/v1/contacts/${c}/tags/vip`);
    clock += 10_000;
    await runJob(t);
    expect(await members(t, points)).toEqual([c]);
    expect(await members(t, vip)).toEqual([]);
    const rebuilt = await runJob(t, 'segments');
    expect(rebuilt).toMatchObject({ [vip]: 0, [points]: 1 });
    // The broken ones say what is wrong when asked directly, as a 4xx.
    const r = await t.json('POST', `/api/v1/segments/${byField}/rebuild`);
    expectError(r, 422, 'VALIDATION_FAILED');
    expect(r.body.error.message).toContain('plan');
    expectError(await t.json('POST', `/api/v1/segments/${byStage}/rebuild`), 422, 'VALIDATION_FAILED');
    // Fixing the filter brings the segment back.
    expect((await t.json('PATCH', `/api/v1/segments/${byField}`, { filter: { field: 'points', op: 'gt', value: 0 } })).status).toBe(200);
    expect(await members(t, byField)).toEqual([c]);
  });

  it('merged contacts: the old id still resolves for segment membership', async () => {
    const t = await fixed();
    const a = await contact(t, { email: 'a@example.com', tags: ['vip'] });
    const b = await contact(t, { email: 'b@example.com' });
    const vip = await segment(t, { tag: 'vip' }, 'VIP');
    const hand = (await t.json('POST', '/api/v1/segments', { name: 'Hand', kind: 'static' })).body.id;
    await t.json('PUT', `/api/v1/segments/${hand}/members/${a}`);
    expect((await t.json('POST', `/api/v1/contacts/${b}/merge`, { contact_id: a })).status).toBe(200);
    await runJob(t);
    expect(await members(t, vip)).toEqual([b]);
    expect(await members(t, hand)).toEqual([b]);
    const viaOld = await t.json('GET', `/api/v1/contacts/${a}/segments`);
    expect(viaOld.status).toBe(200);
    expect(viaOld.body.data.map((x: any) => x.id)).toEqual([hand, vip]);
    // Manual membership through the old id acts on the survivor.
    expect((await t.json('DELETE', `/api/v1/segments/${hand}/members/${a}`)).status).toBe(200);
    expect(await members(t, hand)).toEqual([]);
    expect((await t.json('PUT', `/api/v1/segments/${hand}/members/${a}`)).body).toMatchObject({ member: true });
    expect(await members(t, hand)).toEqual([b]);
    expectError(await t.json('GET', '/api/v1/contacts/999999/segments'), 404, 'NOT_FOUND');
  });
});

describe('rebuild job', () => {
  it('POST /internal/jobs/segments rebuilds every dynamic segment, dependencies first', async () => {
    let clock = NOW;
    const t = await makeApp({ now: () => clock });
    const a = await contact(t, { email: 'a@example.com' });
    const b = await contact(t, { email: 'b@example.com' });
    const recent = await segment(t, { field: 'last_active_at', op: 'gte', value: '-7d' }, 'Recent');
    const recentVip = await segment(t, { all: [{ segment: recent }, { tag: 'vip', has: false }] }, 'Recent non-VIP');
    const stat = (await t.json('POST', '/api/v1/segments', { name: 'Static', kind: 'static' })).body.id;
    await t.json('PUT', `/api/v1/segments/${stat}/members/${b}`);
    expect(await members(t, recent)).toEqual([]);
    // Written behind the segments' back (as an import or a time shift would): only a rebuild notices.
    await t.client.execute({ sql: 'UPDATE contacts SET last_active_at = ? WHERE id IN (?, ?)', args: [NOW - DAY, a, b] });
    await t.client.execute({ sql: 'UPDATE contacts SET last_active_at = ? WHERE id = ?', args: [NOW - 30 * DAY, b] });
    clock += 1000;
    const result = await runJob(t, 'segments');
    expect(result).toEqual({ [recent]: 1, [recentVip]: 1 });
    expect(await members(t, recent)).toEqual([a]);
    expect(await members(t, recentVip)).toEqual([a]);
    expect(await members(t, stat)).toEqual([b]);
    expect((await timeline(t, a, 'segment_joined')).map((e) => e.props.segment_id).sort()).toEqual([recent, recentVip].sort());
    // Time passes: "-7d" moves on and the periodic rebuild lets a go.
    clock = NOW + 10 * DAY;
    await runJob(t, 'segments');
    expect(await members(t, recent)).toEqual([]);
    expect(await members(t, recentVip)).toEqual([]);
    expect((await t.json('GET', `/api/v1/segments/${recent}`)).body.built_at).toBe(new Date(clock).toISOString());
    expect((await timeline(t, a, 'segment_left')).map((e) => e.props.segment_id).sort()).toEqual([recent, recentVip].sort());
    // The job needs the admin key.
    expectError(await t.json('POST', '/internal/jobs/segments', undefined, { key: t.keys.write }), 403, 'FORBIDDEN');
  });
});

// ---------------------------------------------------------------------------------------------
// Property: incremental maintenance = full rebuild = the plain SQL of the compiled filter.

const TAGS = ['a', 'b', 'c'] as const;
const URLS = ['/pricing', '/docs', '/blog'] as const;

const leaf: fc.Arbitrary<Filter> = fc.oneof(
  fc.record({ field: fc.constant('points'), op: fc.constantFrom('gte', 'lt', 'equals', 'not_equals'), value: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ field: fc.constant('points'), op: fc.constantFrom('between'), value: fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 10, max: 30 })) }),
  fc.record({ field: fc.constant('fields.score'), op: fc.constantFrom('gt', 'lte', 'not_equals'), value: fc.integer({ min: 0, max: 10 }) }),
  fc.record({ field: fc.constant('fields.score'), op: fc.constantFrom('in', 'not_in'), value: fc.uniqueArray(fc.integer({ min: 0, max: 10 }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ field: fc.constant('fields.score'), op: fc.constantFrom('empty', 'not_empty') }),
  fc.record({ tag: fc.constantFrom(...TAGS), has: fc.boolean() }),
  // Moved by the contact-activity reaction as events arrive.
  fc.record({ field: fc.constant('last_active_at'), op: fc.constantFrom('gte', 'lt'), value: fc.integer({ min: 0, max: 40 }).map((n) => `-${n}d`) }),
  fc.record({ field: fc.constant('last_active_at'), op: fc.constant('empty') }),
  fc.record(
    {
      behaviour: fc.constant('visited'),
      url: fc.record({ op: fc.constant('contains'), value: fc.constantFrom(...URLS) }),
      min_count: fc.integer({ min: 1, max: 3 }),
      within_days: fc.integer({ min: 1, max: 40 }),
    },
    { requiredKeys: ['behaviour', 'min_count'] },
  ),
  fc.record({ behaviour: fc.constant('any_event'), min_count: fc.integer({ min: 1, max: 4 }), within_days: fc.integer({ min: 1, max: 40 }) }, { requiredKeys: ['behaviour', 'min_count'] }),
) as fc.Arbitrary<Filter>;

// Shallow on purpose: deep random nesting mostly yields "everyone" or "no one".
const filterAt = (depth: number) => nestedFilters(leaf, depth);
const filterArb = filterAt(2);

const eventArb = fc.record({ url: fc.constantFrom(...URLS), ageDays: fc.integer({ min: 0, max: 40 }) });
const worldArb = fc.array(
  fc.record({
    points: fc.integer({ min: 0, max: 30 }),
    score: fc.option(fc.integer({ min: 0, max: 10 }), { nil: null }),
    tags: fc.subarray([...TAGS]),
    events: fc.array(eventArb, { maxLength: 4 }),
  }),
  { minLength: 5, maxLength: 25 },
);
type Change =
  | { kind: 'points'; who: number; op: 'add' | 'subtract' | 'set'; value: number }
  | { kind: 'tag'; who: number; tag: string; add: boolean }
  | { kind: 'score'; who: number; value: number | null }
  | { kind: 'event'; who: number; url: string; ageDays: number };
const whoArb = fc.oneof(fc.nat({ max: 3 }), fc.nat());
const changeArb: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant('points' as const), who: whoArb, op: fc.constantFrom('add' as const, 'subtract' as const, 'set' as const), value: fc.integer({ min: 0, max: 15 }) }),
  fc.record({ kind: fc.constant('tag' as const), who: whoArb, tag: fc.constantFrom(...TAGS), add: fc.boolean() }),
  fc.record({ kind: fc.constant('score' as const), who: whoArb, value: fc.option(fc.integer({ min: 0, max: 10 }), { nil: null }) }),
  fc.record({ kind: fc.constant('event' as const), who: whoArb, url: fc.constantFrom(...URLS), ageDays: fc.integer({ min: 0, max: 40 }) }),
);

describe('property: incremental = rebuild = plain SQL', () => {
  it('holds for random worlds, filters and changes', { timeout: 120_000 }, async () => {
    const started = Date.now();
    // Events sit half an hour off whole days so the clock's small steps never cross a window edge.
    const eventTime = (ageDays: number) => NOW - ageDays * DAY - 30 * 60_000;
    let runs = 0;
    let moves = 0;
    await fc.assert(
      fc.asyncProperty(worldArb, fc.array(filterArb, { minLength: 3, maxLength: 3 }), fc.array(changeArb, { minLength: 5, maxLength: 20 }), async (world, filters, changes) => {
        runs++;
        let clock = NOW;
        const t = await makeApp({ memory: true, now: () => clock });
        await field(t, 'score', 'number');
        const ids: number[] = [];
        const stmts = [];
        for (const [i, w] of world.entries()) {
          const r = await t.client.execute({
            sql: `INSERT INTO contacts (email, email_normalized, custom, points, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
            args: [`p${i}@example.com`, `p${i}@example.com`, JSON.stringify(w.score === null ? {} : { score: w.score }), w.points, NOW - DAY, NOW - DAY],
          });
          const id = Number(r.rows[0]!.id);
          ids.push(id);
          if (w.points) stmts.push({ sql: "INSERT INTO point_log (contact_id, delta, reason, created_at) VALUES (?, ?, 'seed', ?)", args: [id, w.points, NOW - DAY] });
          for (const tag of w.tags) {
            stmts.push({ sql: 'INSERT INTO tags (name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING', args: [tag, NOW] });
            stmts.push({ sql: 'INSERT INTO contact_tags (contact_id, tag_id, created_at) SELECT ?, id, ? FROM tags WHERE name = ?', args: [id, NOW, tag] });
          }
          for (const e of w.events) {
            stmts.push({ sql: "INSERT INTO events (contact_id, type, url, created_at) VALUES (?, 'page_view', ?, ?)", args: [id, ORIGIN + e.url, eventTime(e.ageDays)] });
          }
        }
        if (stmts.length) await t.client.batch(stmts, 'write');
        // The seed is history: the reactions start after it.
        await runReactions(t.ctx);
        const segs: number[] = [];
        for (const f of filters) segs.push(await segment(t, f));
        const plainSql = async (f: Filter) => {
          const compiled = compileFilter(f, await compileEnv(t.ctx));
          return sorted((await t.client.execute({ sql: `SELECT id FROM contacts c WHERE ${compiled.sql}`, args: compiled.args })).rows.map((r) => Number(r.id)));
        };
        const stored = async (segId: number) =>
          sorted((await t.client.execute({ sql: 'SELECT contact_id FROM segment_members WHERE segment_id = ?', args: [segId] })).rows.map((r) => Number(r.contact_id)));

        for (const [step, ch] of changes.entries()) {
          clock += 7_000;
          const who = ids[ch.who % ids.length]!;
          if (ch.kind === 'points') {
            expect((await t.json('POST', `/api/v1/contacts/${who}/points`, { op: ch.op, value: ch.value, reason: 'prop' })).status).toBe(200);
          } else if (ch.kind === 'tag') {
            const r = ch.add ? await t.json('POST', `/api/v1/contacts/${who}/tags`, { tags: [ch.tag] }) : await t.json('DELETE', `/api/v1/contacts/${who}/tags/${ch.tag}`);
            expect(r.status).toBe(200);
          } else if (ch.kind === 'score') {
            expect((await t.json('PATCH', `/api/v1/contacts/${who}`, { fields: { score: ch.value } })).status).toBe(200);
          } else {
            await insertEvent(t, { contact: who, type: 'page_view', url: ORIGIN + ch.url, createdAt: eventTime(ch.ageDays) });
          }
          clock += 7_000;
          await runReactions(t.ctx);
          // Current after every single step, not only in the end.
          for (const [k, f] of filters.entries()) {
            expect(await stored(segs[k]!), `step ${step} (${JSON.stringify(ch)}), ${JSON.stringify(f)}`).toEqual(await plainSql(f));
          }
        }

        for (const [k, f] of filters.entries()) {
          const s = segs[k]!;
          const incremental = sorted(await members(t, s));
          const plain = await plainSql(f);
          expect((await t.json('POST', `/api/v1/segments/${s}/rebuild`)).status).toBe(200);
          const rebuilt = sorted(await members(t, s));
          expect(incremental, `incremental vs SQL for ${JSON.stringify(f)}`).toEqual(plain);
          expect(rebuilt, `rebuild vs SQL for ${JSON.stringify(f)}`).toEqual(plain);
          // The timeline agrees with the membership: a contact's latest event for the segment says where it is.
          const last = await t.client.execute({
            sql: `SELECT contact_id, type FROM events e WHERE type IN ('segment_joined', 'segment_left') AND props ->> 'segment_id' = ?
              AND id = (SELECT max(id) FROM events e2 WHERE e2.contact_id = e.contact_id AND e2.type IN ('segment_joined', 'segment_left') AND e2.props ->> 'segment_id' = ?)`,
            args: [s, s],
          });
          for (const row of last.rows) expect(plain.includes(Number(row.contact_id))).toBe(row.type === 'segment_joined');
          moves += last.rows.length;
        }
        t.client.close();
      }),
      { numRuns: 25, seed: Number(process.env.SEGMENTS_SEED ?? 20260615) },
    );
    expect(runs).toBeGreaterThanOrEqual(25);
    // The changes really moved contacts in and out (the property is not vacuous).
    expect(moves).toBeGreaterThan(10);
    // No wall-clock bound here: on a busy 2-core machine this took 37 s and failed CI while
    // proving nothing about behaviour; its speed is the segments benchmark's business.
    if (process.env.SEG_DEBUG) console.log('property', { runs, moves, ms: Date.now() - started });
  });
});
