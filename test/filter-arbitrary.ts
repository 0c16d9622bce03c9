import fc from 'fast-check';
import type { Filter } from '../api/core/segments/filter';

/** Random filters: `leaf` conditions nested in all/any/not groups up to `depth` deep. */
export function nestedFilters(leaf: fc.Arbitrary<Filter>, depth: number): fc.Arbitrary<Filter> {
  return depth === 0
    ? leaf
    : (fc.oneof(
        { weight: 3, arbitrary: leaf },
        { weight: 2, arbitrary: fc.record({ all: fc.array(nestedFilters(leaf, depth - 1), { minLength: 1, maxLength: 3 }) }) },
        { weight: 2, arbitrary: fc.record({ any: fc.array(nestedFilters(leaf, depth - 1), { minLength: 1, maxLength: 3 }) }) },
        { weight: 1, arbitrary: fc.record({ not: nestedFilters(leaf, depth - 1) }) },
      ) as fc.Arbitrary<Filter>);
}
