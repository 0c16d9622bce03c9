// The compiler gives every filter two forms (api/core/segments/compile.ts): the
// full form for statements over every contact (rebuilds, counts) and the scoped
// form for statements over a few listed contacts (incremental upkeep). They are
// written differently on purpose (IN sets against correlated probes), so these
// tests hold them to the same answers, and the scoped statements to plans that
// never walk a whole table.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { nestedFilters } from './filter-arbitrary';
import type { InValue } from '@libsql/client';
import { makeApp, type TestApp } from './helpers';
import { compileFilter, type Compiled } from '../api/core/segments/compile';
import { compileEnv, membershipStatements } from '../api/core/segments/membership';
import { segmentsOnContactChanges } from '../api/core/segments/incremental';
import { Filter } from '../api/core/segments/filter';

const NOW = Date.UTC(2026, 5, 15, 12, 0, 0);
const DAY = 86_400_000;
const ORIGIN = 'https://shop.example.com';
const TAGS = ['a', 'b', 'c'] as const;
const URLS = ['/pricing', '/docs', '/blog'] as const;
const INDUSTRIES = ['saas', 'retail', 'bank'] as const;
// Ids of the fixed rows each world gets (see seed()).
const STATIC_SEGMENT = 1;
const DYNAMIC_SEGMENT = 2;

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

// ---------------------------------------------------------------- worlds

const eventArb = fc.record({
  kind: fc.constantFrom('page_view', 'page_view', 'custom', 'form_submit'),
  url: fc.constantFrom(...URLS),
  name: fc.constantFrom('signup', 'export'),
  form: fc.integer({ min: 1, max: 2 }),
  ageDays: fc.integer({ min: 0, max: 40 }),
});
const contactArb = fc.record({
  points: fc.integer({ min: 0, max: 30 }),
  score: fc.option(fc.integer({ min: 0, max: 10 }), { nil: null }),
  lastActiveDays: fc.option(fc.integer({ min: 0, max: 40 }), { nil: null }),
  tags: fc.subarray([...TAGS]),
  dnc: fc.subarray(['email', 'sms', 'all'] as const, { maxLength: 2 }),
  companies: fc.subarray([1, 2, 3], { maxLength: 2 }),
  member: fc.boolean(),
  events: fc.array(eventArb, { maxLength: 4 }),
});
const companyArb = fc.record({
  industry: fc.option(fc.constantFrom(...INDUSTRIES), { nil: null }),
  employees: fc.option(fc.integer({ min: 1, max: 500 }), { nil: null }),
});
const worldArb = fc.record({
  contacts: fc.array(contactArb, { minLength: 1, maxLength: 15 }),
  companies: fc.tuple(companyArb, companyArb, companyArb),
});
type World = typeof worldArb extends fc.Arbitrary<infer W> ? W : never;

const leaf: fc.Arbitrary<Filter> = fc.oneof(
  fc.record({ field: fc.constant('points'), op: fc.constantFrom('gte', 'lt', 'equals', 'not_equals'), value: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ field: fc.constant('fields.score'), op: fc.constantFrom('gt', 'lte', 'not_equals'), value: fc.integer({ min: 0, max: 10 }) }),
  fc.record({ field: fc.constant('fields.score'), op: fc.constantFrom('in', 'not_in'), value: fc.uniqueArray(fc.integer({ min: 0, max: 10 }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ field: fc.constant('fields.score'), op: fc.constantFrom('empty', 'not_empty') }),
  fc.record({ field: fc.constant('last_active_at'), op: fc.constantFrom('gte', 'lt'), value: fc.integer({ min: 0, max: 40 }).map((n) => `-${n}d`) }),
  fc.record({ field: fc.constant('last_active_at'), op: fc.constant('empty') }),
  fc.record({ tag: fc.constantFrom(...TAGS, 'nobody-has-it'), has: fc.boolean() }),
  fc.record({ dnc: fc.constantFrom('email', 'sms', 'any'), is: fc.boolean() }),
  fc.record({ segment: fc.constant(STATIC_SEGMENT), member: fc.boolean() }),
  fc.record({ field: fc.constant('company.industry'), op: fc.constantFrom('equals', 'not_equals'), value: fc.constantFrom(...INDUSTRIES) }),
  fc.record({ field: fc.constant('company.industry'), op: fc.constantFrom('in', 'not_in'), value: fc.uniqueArray(fc.constantFrom(...INDUSTRIES), { minLength: 1, maxLength: 2 }) }),
  fc.record({ field: fc.constant('company.industry'), op: fc.constantFrom('empty', 'not_empty') }),
  fc.record({ field: fc.constant('company.employees'), op: fc.constantFrom('gt', 'lte'), value: fc.integer({ min: 1, max: 500 }) }),
  fc.record(
    {
      behaviour: fc.constant('visited'),
      url: fc.record({ op: fc.constant('contains'), value: fc.constantFrom(...URLS) }),
      min_count: fc.integer({ min: 1, max: 3 }),
      within_days: fc.integer({ min: 1, max: 40 }),
    },
    { requiredKeys: ['behaviour', 'min_count'] },
  ),
  fc.record({ behaviour: fc.constant('custom_event'), name: fc.constantFrom('signup', 'export'), min_count: fc.integer({ min: 1, max: 2 }) }),
  fc.record({ behaviour: fc.constant('submitted_form'), form_id: fc.integer({ min: 1, max: 2 }), min_count: fc.constant(1) }),
  fc.record({ behaviour: fc.constant('any_event'), min_count: fc.integer({ min: 1, max: 4 }), within_days: fc.integer({ min: 1, max: 40 }) }, { requiredKeys: ['behaviour', 'min_count'] }),
) as fc.Arbitrary<Filter>;

const filterAt = (depth: number) => nestedFilters(leaf, depth);

/** A database holding the world: contacts 1..n, companies 1..3, static segment 1 (its members), dynamic segment 2 (no members yet). */
async function seed(t: TestApp, w: World): Promise<number[]> {
  const r = await t.json('POST', '/api/v1/fields', { key: 'score', label: 'Score', type: 'number' });
  if (r.status !== 201) throw new Error(`field: ${r.status}`);
  const stmts: { sql: string; args: InValue[] }[] = [
    { sql: "INSERT INTO segments (id, name, kind, created_at, updated_at) VALUES (?, 'static', 'static', ?, ?)", args: [STATIC_SEGMENT, NOW, NOW] },
    { sql: "INSERT INTO segments (id, name, kind, filter, built_at, created_at, updated_at) VALUES (?, 'dynamic', 'dynamic', '{\"tag\":\"a\"}', ?, ?, ?)", args: [DYNAMIC_SEGMENT, NOW, NOW, NOW] },
    ...TAGS.map((name) => ({ sql: 'INSERT INTO tags (name, created_at) VALUES (?, ?)', args: [name, NOW] as InValue[] })),
    ...w.companies.map((co, i) => ({
      sql: 'INSERT INTO companies (id, name, industry, employees, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
      args: [i + 1, `Company ${i + 1}`, co.industry, co.employees, NOW, NOW] as InValue[],
    })),
  ];
  const ids: number[] = [];
  for (const [i, c] of w.contacts.entries()) {
    const id = i + 1;
    ids.push(id);
    stmts.push({
      sql: 'INSERT INTO contacts (id, email, email_normalized, custom, points, last_active_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      args: [id, `f${id}@example.com`, `f${id}@example.com`, JSON.stringify(c.score === null ? {} : { score: c.score }), c.points, c.lastActiveDays === null ? null : NOW - c.lastActiveDays * DAY - 1800_000, NOW - DAY, NOW - DAY],
    });
    for (const tag of c.tags) stmts.push({ sql: 'INSERT INTO contact_tags (contact_id, tag_id, created_at) SELECT ?, id, ? FROM tags WHERE name = ?', args: [id, NOW, tag] });
    for (const ch of c.dnc) stmts.push({ sql: "INSERT INTO do_not_contact (contact_id, channel, reason, created_at) VALUES (?, ?, 'unsubscribed', ?)", args: [id, ch, NOW] });
    for (const co of c.companies) stmts.push({ sql: 'INSERT INTO company_contacts (company_id, contact_id, created_at) VALUES (?, ?, ?)', args: [co, id, NOW] });
    if (c.member) stmts.push({ sql: "INSERT INTO segment_members (segment_id, contact_id, source, added_at) VALUES (?, ?, 'manual', ?)", args: [STATIC_SEGMENT, id, NOW] });
    for (const e of c.events) {
      stmts.push({
        sql: 'INSERT INTO events (contact_id, type, url, name, props, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        args: [
          id,
          e.kind,
          e.kind === 'page_view' ? ORIGIN + e.url : null,
          e.kind === 'custom' ? e.name : null,
          e.kind === 'form_submit' ? JSON.stringify({ form_id: e.form }) : null,
          // Half an hour off whole days, so "within N days" never sits on an edge.
          NOW - e.ageDays * DAY - 1800_000,
        ],
      });
    }
  }
  await t.client.batch(stmts, 'write');
  return ids;
}

// ---------------------------------------------------------------- evaluation

/** The filter's value (1, 0 or NULL) for every contact, in the full form, over the whole table. */
async function fullValues(t: TestApp, c: Compiled): Promise<string> {
  const r = await t.client.execute({ sql: `SELECT c.id, (${c.sql}) AS v FROM contacts c ORDER BY c.id`, args: c.args });
  return JSON.stringify(r.rows.map((x) => [Number(x.id), x.v === null ? null : Number(x.v)]));
}

/** The same, in the scoped form, from a list of contacts as the incremental statements start from it. */
async function scopedValues(t: TestApp, c: Compiled, ids: number[]): Promise<string> {
  const r = await t.client.execute({
    sql: `SELECT c.id, (${c.scoped.sql}) AS v FROM (SELECT DISTINCT value AS id FROM json_each(?)) s CROSS JOIN contacts c WHERE c.id = s.id ORDER BY c.id`,
    // The filter's placeholders come first in the text, so its arguments do too.
    args: [...c.scoped.args, JSON.stringify(ids)],
  });
  return JSON.stringify(r.rows.map((x) => [Number(x.id), x.v === null ? null : Number(x.v)]));
}

const members = async (t: TestApp) =>
  sorted((await t.client.execute({ sql: 'SELECT contact_id FROM segment_members WHERE segment_id = ?', args: [DYNAMIC_SEGMENT] })).rows.map((r) => Number(r.contact_id)));

async function apply(t: TestApp, c: Compiled, scope: number[] | null) {
  await t.client.batch(membershipStatements(DYNAMIC_SEGMENT, c, { now: NOW, events: true, ...(scope ? { scope: JSON.stringify(scope) } : {}) }), 'write');
}

/** Membership as each form's statements leave it, from nobody and from everybody (so both join and leave run). */
async function membershipsBothWays(t: TestApp, c: Compiled, ids: number[]) {
  const out: Record<string, number[]> = {};
  const reset = async (everyone: boolean) => {
    await t.client.execute({ sql: 'DELETE FROM segment_members WHERE segment_id = ?', args: [DYNAMIC_SEGMENT] });
    if (everyone) await t.client.execute({ sql: "INSERT INTO segment_members (segment_id, contact_id, source, added_at) SELECT ?, id, 'filter', ? FROM contacts", args: [DYNAMIC_SEGMENT, NOW] });
  };
  for (const everyone of [false, true]) {
    const from = everyone ? 'everyone' : 'nobody';
    await reset(everyone);
    await apply(t, c, null);
    out[`full from ${from}`] = await members(t);
    await reset(everyone);
    await apply(t, c, ids);
    out[`scoped from ${from}`] = await members(t);
    // Listed twice and out of order: the scope is a set.
    await reset(everyone);
    await apply(t, c, [...ids].reverse().concat(ids));
    out[`scoped with repeats from ${from}`] = await members(t);
    // One contact at a time, as single events check them.
    await reset(everyone);
    for (const id of ids) await apply(t, c, [id]);
    out[`scoped one by one from ${from}`] = await members(t);
  }
  return out;
}

describe('full and scoped forms of a filter', () => {
  it('agree on every contact, as values and as the membership their statements leave, for random worlds and filters', { timeout: 120_000 }, async () => {
    let runs = 0;
    let nonTrivial = 0;
    await fc.assert(
      fc.asyncProperty(worldArb, fc.array(filterAt(2), { minLength: 4, maxLength: 4 }), async (world, filters) => {
        runs++;
        const t = await makeApp({ memory: true, now: () => NOW });
        try {
          const ids = await seed(t, world);
          const env = await compileEnv(t.ctx);
          for (const f of filters) {
            // As the API stores them: parsed, defaults filled in.
            const c = compileFilter(Filter.parse(f), env);
            const label = JSON.stringify(f);
            const full = await fullValues(t, c);
            expect(await scopedValues(t, c, ids), `values, scoped over all: ${label}`).toBe(full);

            const plain = sorted((await t.client.execute({ sql: `SELECT id FROM contacts c WHERE ${c.sql}`, args: c.args })).rows.map((r) => Number(r.id)));
            if (plain.length > 0 && plain.length < ids.length) nonTrivial++;
            const got = await membershipsBothWays(t, c, ids);
            for (const [how, m] of Object.entries(got)) expect(m, `${how}: ${label}`).toEqual(plain);
          }
        } finally {
          t.client.close();
        }
      }),
      { numRuns: 40, seed: Number(process.env.SEGMENTS_SEED ?? 20260616) },
    );
    expect(runs).toBeGreaterThanOrEqual(40);
    // Filters that split the contacts, so agreeing is not agreeing on "everyone" or "no one".
    expect(nonTrivial).toBeGreaterThan(40);
  });

  it('the reaction, which checks only the side a contact can move to, leaves what the full statements leave, manual members and exclusions included', { timeout: 120_000 }, async () => {
    // Where each contact starts in the dynamic segment: out, excluded by hand, in through the filter, in by hand.
    const startArb = fc.constantFrom('out', 'excluded', 'filter', 'manual');
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(worldArb, filterAt(2), fc.array(startArb, { minLength: 15, maxLength: 15 }), async (world, raw, starts) => {
        runs++;
        const t = await makeApp({ memory: true, now: () => NOW });
        try {
          const ids = await seed(t, world);
          // points ≥ 0 holds for everyone; it makes the contact sweep check filters that
          // otherwise read only events or other segments (which it leaves to their events).
          const f = Filter.parse({ all: [raw, { field: 'points', op: 'gte', value: 0 }] });
          await t.client.execute({ sql: 'UPDATE segments SET filter = ? WHERE id = ?', args: [JSON.stringify(f), DYNAMIC_SEGMENT] });
          const start = async () => {
            const stmts: { sql: string; args: InValue[] }[] = [
              { sql: 'DELETE FROM segment_members WHERE segment_id = ?', args: [DYNAMIC_SEGMENT] },
              { sql: 'DELETE FROM segment_exclusions WHERE segment_id = ?', args: [DYNAMIC_SEGMENT] },
              { sql: "DELETE FROM events WHERE type IN ('segment_joined', 'segment_left')", args: [] },
            ];
            for (const [i, id] of ids.entries()) {
              const how = starts[i]!;
              if (how === 'excluded') stmts.push({ sql: 'INSERT INTO segment_exclusions (segment_id, contact_id, created_at) VALUES (?, ?, ?)', args: [DYNAMIC_SEGMENT, id, NOW] });
              if (how === 'filter' || how === 'manual') stmts.push({ sql: 'INSERT INTO segment_members (segment_id, contact_id, source, added_at) VALUES (?, ?, ?, ?)', args: [DYNAMIC_SEGMENT, id, how, NOW] });
            }
            await t.client.batch(stmts, 'write');
          };
          const state = async () => ({
            members: (await t.client.execute({ sql: 'SELECT contact_id, source FROM segment_members WHERE segment_id = ? ORDER BY contact_id', args: [DYNAMIC_SEGMENT] })).rows.map((r) => `${r.contact_id}:${r.source}`),
            events: (await t.client.execute("SELECT contact_id, type FROM events WHERE type IN ('segment_joined', 'segment_left') ORDER BY contact_id, type")).rows.map((r) => `${r.type} ${r.contact_id}`),
          });
          await start();
          // Every contact counts as changed (no watermark yet), as after an import.
          expect(await segmentsOnContactChanges(t.ctx)).toBe(ids.length);
          const incremental = await state();
          await start();
          await t.client.batch(membershipStatements(DYNAMIC_SEGMENT, compileFilter(f, await compileEnv(t.ctx)), { now: NOW, events: true }), 'write');
          expect(incremental, JSON.stringify(f)).toEqual(await state());
        } finally {
          t.client.close();
        }
      }),
      { numRuns: 40, seed: Number(process.env.SEGMENTS_SEED ?? 20260617) },
    );
    expect(runs).toBeGreaterThanOrEqual(40);
  });

  it('leave the same timeline: joined and left events match the membership moves in both forms', async () => {
    const t = await makeApp({ memory: true, now: () => NOW });
    try {
      const world: World = {
        contacts: Array.from({ length: 6 }, (_, i) => ({
          points: i * 5,
          score: i,
          lastActiveDays: i,
          tags: i % 2 ? ['a'] : [],
          dnc: i % 3 ? [] : ['email'],
          companies: [1 + (i % 3)],
          member: i < 3,
          events: [],
        })),
        companies: [
          { industry: 'saas', employees: 10 },
          { industry: 'bank', employees: 100 },
          { industry: null, employees: null },
        ],
      };
      const ids = await seed(t, world);
      const f = Filter.parse({ all: [{ tag: 'a' }, { dnc: 'email', is: false }, { segment: STATIC_SEGMENT, member: false }] });
      const c = compileFilter(f, await compileEnv(t.ctx));
      const events = async () =>
        (
          await t.client.execute({ sql: "SELECT contact_id, type FROM events WHERE type IN ('segment_joined', 'segment_left') ORDER BY id" })
        ).rows.map((r) => `${r.type} ${r.contact_id}`);
      // Scoped from everyone: 4 and 6 stay (a, no dnc, not in segment 1), everyone else leaves.
      await t.client.execute({ sql: "INSERT INTO segment_members (segment_id, contact_id, source, added_at) SELECT ?, id, 'filter', ? FROM contacts", args: [DYNAMIC_SEGMENT, NOW] });
      await apply(t, c, ids);
      expect(await members(t)).toEqual([6]);
      expect(await events()).toEqual(['segment_left 1', 'segment_left 2', 'segment_left 3', 'segment_left 4', 'segment_left 5']);
      await t.client.execute("DELETE FROM events WHERE type IN ('segment_joined', 'segment_left')");
      // Full from nobody: 6 joins.
      await t.client.execute({ sql: 'DELETE FROM segment_members WHERE segment_id = ?', args: [DYNAMIC_SEGMENT] });
      await apply(t, c, null);
      expect(await members(t)).toEqual([6]);
      expect(await events()).toEqual(['segment_joined 6']);
    } finally {
      t.client.close();
    }
  });
});

// ---------------------------------------------------------------- plans

/** EXPLAIN QUERY PLAN as indented lines. */
async function plan(t: TestApp, sql: string, args: InValue[]): Promise<string[]> {
  const r = await t.client.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args });
  const depth = new Map<number, number>();
  return r.rows.map((row) => {
    const d = (depth.get(Number(row.parent)) ?? -1) + 1;
    depth.set(Number(row.id), d);
    return `${'  '.repeat(d)}${String(row.detail)}`;
  });
}

/** The lines under each LIST SUBQUERY: what the statement builds as a whole set before it starts. */
function listSubqueries(lines: string[]): string[][] {
  const out: string[][] = [];
  lines.forEach((l, i) => {
    if (!l.trim().startsWith('LIST SUBQUERY')) return;
    const indent = l.length - l.trimStart().length;
    const body: string[] = [];
    for (let j = i + 1; j < lines.length && lines[j]!.length - lines[j]!.trimStart().length > indent; j++) body.push(lines[j]!.trim());
    out.push(body);
  });
  return out;
}

// Every kind of condition, including fields with their own index (points, stage,
// created_at, lower(first_name)) that could tempt the planner to start from them.
const EVERY_KIND = Filter.parse({
  all: [
    { tag: 'a' },
    { tag: 'b', has: false },
    { dnc: 'email', is: false },
    { segment: STATIC_SEGMENT, member: true },
    { field: 'company.industry', op: 'equals', value: 'saas' },
    { field: 'company.employees', op: 'not_equals', value: 5 },
    { behaviour: 'visited', url: { op: 'contains', value: '/pricing' }, min_count: 2, within_days: 30 },
    { behaviour: 'any_event', min_count: 1 },
    { field: 'fields.score', op: 'in', value: [1, 2, 3] },
    { field: 'stage', op: 'equals', value: 'engage' },
    { field: 'first_name', op: 'in', value: ['ada', 'grace'] },
    { any: [{ field: 'points', op: 'equals', value: 7 }, { field: 'stage', op: 'equals', value: 'engage' }, { field: 'created_at', op: 'gte', value: '-7d' }, { field: 'first_name', op: 'equals', value: 'ada' }] },
  ],
});

/** A small world, every contact in everything, so statistics from it call every table tiny and every key unselective. */
const SMALL: World = {
  contacts: Array.from({ length: 8 }, () => ({
    points: 7,
    score: 1,
    lastActiveDays: 1,
    tags: ['a', 'b'],
    dnc: ['email'],
    companies: [1],
    member: true,
    events: [{ kind: 'page_view', url: '/pricing', name: 'signup', form: 1, ageDays: 1 }],
  })),
  companies: [
    { industry: 'saas', employees: 1 },
    { industry: null, employees: null },
    { industry: null, employees: null },
  ],
};

describe('query plans', () => {
  // The app never runs ANALYZE, but statistics may exist (an operator, a tool) and
  // go stale as tables grow: the plans must not depend on them.
  it.each([
    ['without statistics', false],
    ['with statistics from a small database', true],
  ])('scoped statements start from the listed contacts and build no set of a whole table (%s)', async (_label, analyze) => {
    const t = await makeApp({ memory: true, now: () => NOW });
    try {
      await seed(t, SMALL);
      await t.client.execute({ sql: "INSERT INTO segment_members (segment_id, contact_id, source, added_at) SELECT ?, id, 'filter', ? FROM contacts", args: [DYNAMIC_SEGMENT, NOW] });
      if (analyze) await t.client.execute('ANALYZE');
      const c = compileFilter(EVERY_KIND, await compileEnv(t.ctx));
      const stmts = membershipStatements(DYNAMIC_SEGMENT, c, { now: NOW, events: true, scope: JSON.stringify([1, 2, 3]) });
      expect(stmts.length).toBe(4);
      for (const s of stmts) {
        const st = typeof s === 'string' ? { sql: s, args: [] } : s;
        const lines = await plan(t, st.sql, (st.args ?? []) as InValue[]);
        const text = lines.join('\n');
        // Sets are fine when they are the scope, rows found from the scope, or a literal value list; not a table's rows.
        for (const body of listSubqueries(lines)) {
          const fromScope = body[0] === 'CO-ROUTINE s' || body.every((l) => l.startsWith('SCAN json_each'));
          expect(fromScope, `${text}\n\nfor\n${st.sql}`).toBe(true);
        }
        expect(text).not.toMatch(/SCAN (c|contacts|ct|contact_tags|m|segment_members|d|do_not_contact|cc|company_contacts|co|companies|e|events)\b/);
        // A contact is reached by its id; an index on a field may serve only as a seek pinned by that id.
        for (const l of lines.filter((x) => /SEARCH c USING/.test(x))) expect(l, text).toMatch(/rowid=\?/);
        expect(text).not.toMatch(/contact_tags_tag_idx/);
      }
      // Join and leave: the scope is the outer loop, each contact (or its membership row) then found by its id.
      for (const [i, row] of [
        [0, /^SEARCH c USING INTEGER PRIMARY KEY \(rowid=\?\)$/],
        [2, /^SEARCH m USING (COVERING )?INDEX \S+ \((segment_id=\? AND contact_id=\?|contact_id=\?)\)$/],
      ] as const) {
        const st = stmts[i] as { sql: string; args: InValue[] };
        const top = (await plan(t, st.sql, st.args)).filter((l) => !l.startsWith(' '));
        expect(top.slice(0, 2), st.sql).toEqual(['CO-ROUTINE s', 'SCAN s']);
        expect(top[2], st.sql).toMatch(row);
      }
      // The delete: the leavers found from the scope, then their rows by contact.
      const del = stmts[3] as { sql: string; args: InValue[] };
      expect((await plan(t, del.sql, del.args))[0], del.sql).toBe('SEARCH segment_members USING INDEX segment_members_contact_idx (contact_id=?)');
    } finally {
      t.client.close();
    }
  });

  it('the full form builds each condition over another table as a set once, from that table', async () => {
    const t = await makeApp({ memory: true, now: () => NOW });
    try {
      await seed(t, SMALL);
      const c = compileFilter(EVERY_KIND, await compileEnv(t.ctx));
      const lines = await plan(t, `SELECT count(*) FROM contacts c WHERE ${c.sql}`, c.args);
      const sets = listSubqueries(lines).map((b) => b.join(' / '));
      for (const table of ['contact_tags_tag_idx', 'segment_members', 'do_not_contact', 'company_contacts']) {
        expect(sets.some((s) => s.includes(table)), `${table} as a set in\n${lines.join('\n')}`).toBe(true);
      }
      // Behaviour stays a probe per contact: as a set it would read every event of its type.
      expect(lines.join('\n')).toMatch(/CORRELATED SCALAR SUBQUERY \d+\n\s+(CO-ROUTINE|SEARCH e)/);
    } finally {
      t.client.close();
    }
  });
});
