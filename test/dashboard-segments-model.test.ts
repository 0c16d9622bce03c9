// The segment builder's model (dashboard/segments/filter-model.ts) without a browser: every filter
// the server accepts becomes a tree and comes back as the server stores it, and the server's error
// paths land on the node they name.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Filter as ServerFilter, OPS, type Filter } from '../api/core/segments/filter';
import { complete, countConditions, emptyGroup, locate, newLeaf, toFilter, toModel, update, type Node } from '../dashboard/segments/filter-model';
import { OPS_FOR, reshape, shapeOf } from '../dashboard/segments/vocabulary';
import { nestedFilters } from './filter-arbitrary';

const scalar = fc.oneof(fc.string({ maxLength: 20 }), fc.integer({ min: -1e6, max: 1e6 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean());
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
/** Drops the keys whose value is undefined, as JSON would. */
const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

const field = fc
  .record({
    field: fc.oneof(fc.constantFrom('email', 'points', 'stage', 'created_at', 'company.employees'), fc.string({ maxLength: 30 }).map((k) => `fields.${k}`)),
    op: fc.constantFrom(...OPS),
    value: opt(fc.oneof(scalar, fc.array(scalar, { maxLength: 4 }))),
  })
  .map(defined);
const behaviour = fc
  .record({
    behaviour: fc.constantFrom('visited', 'submitted_form', 'downloaded_asset', 'custom_event', 'opened_email', 'clicked_email', 'any_event'),
    url: opt(fc.record({ op: fc.constantFrom('equals', 'contains', 'starts_with', 'ends_with', 'regex'), value: fc.string({ minLength: 1, maxLength: 20 }) })),
    form_id: opt(fc.integer({ min: 1, max: 1e6 })),
    asset_id: opt(fc.integer({ min: 1, max: 1e6 })),
    email_id: opt(fc.integer({ min: 1, max: 1e6 })),
    name: opt(fc.string({ maxLength: 20 })),
    min_count: opt(fc.integer({ min: 1, max: 1e6 })),
    within_days: opt(fc.integer({ min: 1, max: 3650 })),
  })
  .map(defined);
const tag = fc.record({ tag: fc.stringMatching(/^[a-z][a-z0-9 -]{0,20}$/), has: opt(fc.boolean()) }).map(defined);
const dnc = fc.record({ dnc: fc.constantFrom('email', 'sms', 'any'), is: opt(fc.boolean()) }).map(defined);
const segment = fc.record({ segment: fc.integer({ min: 1, max: 1e6 }), member: opt(fc.boolean()) }).map(defined);
const leaf = fc.oneof(field, behaviour, tag, dnc, segment) as fc.Arbitrary<Filter>;
const filters = nestedFilters(leaf, 4);

/** The filter as the server validates and stores it (defaults written out). */
const stored = (f: unknown) => ServerFilter.parse(f);

describe('the builder’s model of a filter', () => {
  it('round-trips every filter the server accepts: toFilter(toModel(f)) is f as stored', () => {
    fc.assert(
      fc.property(filters, (raw) => {
        const f = stored(raw);
        expect(toFilter(toModel(f as never))).toEqual(f);
        // A filter as a client may send it (defaults left out) means the same after the builder.
        expect(stored(toFilter(toModel(raw as never)))).toEqual(f);
        // And what the builder makes is a filter the server accepts, unchanged.
        expect(stored(toFilter(toModel(f as never)))).toEqual(f);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the JSON types of values (a number stays a number, a list a list)', () => {
    const f = stored({ all: [{ field: 'fields.code', op: 'equals', value: 42 }, { field: 'stage', op: 'in', value: ['MQL', 3] }, { field: 'fields.ok', op: 'equals', value: false }] });
    expect(toFilter(toModel(f as never))).toEqual(f);
  });

  it('edits by node id: remove, wrap in NOT, wrap in a group, and an emptied NOT goes with its node', () => {
    const root = toModel(stored({ all: [{ tag: 'vip' }, { not: { dnc: 'email' } }] }) as never) as Extract<Node, { kind: 'group' }>;
    const [tagNode, notNode] = root.children as [Node, Extract<Node, { kind: 'not' }>];
    expect(toFilter(update(root, tagNode.id, (n) => ({ id: 999, kind: 'not', child: n }))!)).toEqual({ all: [{ not: { tag: 'vip', has: true } }, { not: { dnc: 'email', is: true } }] });
    expect(toFilter(update(root, notNode.child.id, () => null)!)).toEqual({ all: [{ tag: 'vip', has: true }] });
    expect(toFilter(update(root, tagNode.id, (n) => ({ id: 998, kind: 'group', mode: 'any', children: [n, newLeaf('segment')] }))!)).toEqual({
      all: [{ any: [{ tag: 'vip', has: true }, { segment: 0, member: true }] }, { not: { dnc: 'email', is: true } }],
    });
    expect(update(root, root.id, () => null)).toBeNull();
    expect(complete(emptyGroup())).toBe(false);
    expect(complete(root)).toBe(true);
    expect(countConditions(root)).toBe(2);
  });

  it('pins the server’s error paths to the node they name', () => {
    const root = toModel(stored({ all: [{ tag: 'vip' }, { any: [{ field: 'points', op: 'gt', value: 'x' }, { not: { field: 'email', op: 'regex', value: '(' } }] }] }) as never);
    const inner = (root as any).children[1];
    expect(locate(root, 'filter.all.1.any.0.value')).toEqual({ node: inner.children[0], part: 'value' });
    expect(locate(root, 'filter.all.1.any.1.not.value')).toEqual({ node: inner.children[1].child, part: 'value' });
    expect(locate(root, 'filter.all.1.any.1.not')).toEqual({ node: inner.children[1].child, part: '' });
    expect(locate(root, 'filter')).toEqual({ node: root, part: '' });
    expect(locate(root, 'filter.all.7.value')).toEqual({ node: root, part: 'all.7.value' });
    expect(locate(root, 'name')).toBeNull();
  });

  it('offers for each kind of field only operators the server compiles, and reshapes values to fit', () => {
    for (const ops of Object.values(OPS_FOR)) for (const op of ops) expect(OPS).toContain(op);
    expect(reshape(5, 'between', 'number')).toEqual([5, 5]);
    expect(reshape([1, 2], 'equals', 'number')).toBe(1);
    expect(reshape('a', 'in', 'text')).toEqual(['a']);
    expect(reshape('a', 'empty', 'text')).toBeUndefined();
    expect(shapeOf('not_in')).toBe('many');
  });
});
