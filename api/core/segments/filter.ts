import { z } from 'zod';
import { TagName } from '../contacts/prepare';

// The segment filter language (JSON). A filter is a condition or a group:
//   { "all": [f, ...] }   every one holds      { "any": [f, ...] }  at least one holds
//   { "not": f }
// Conditions:
//   { "field": "email" | "first_name" | ... | "points" | "stage" | "created_at" | "last_active_at"
//              | "fields.<custom key>" | "company.<name|domain|industry|employees|annual_revenue|city|country>",
//     "op": see OPS, "value": ... }
//   { "tag": "vip" }                              has the tag ({ "tag": "vip", "has": false } for has-not)
//   { "dnc": "email" | "sms" | "any", "is": true } do-not-contact on a channel
//   { "segment": 12, "member": true }             membership of another segment
//   { "behaviour": "visited" | "submitted_form" | "downloaded_asset" | "custom_event" | "any_event",
//     "url": { "op": "contains", "value": "/pricing" }, "form_id": 3, "asset_id": 4, "name": "signup",
//     "min_count": 2, "within_days": 30 }
// Dates take ISO dates/date-times or relative values: "today", "yesterday", "-7d", "+3d",
// "this_month", "last_month" (resolved when the filter is evaluated).

export const OPS = [
  'equals',
  'not_equals',
  'gt',
  'gte',
  'lt',
  'lte',
  'between',
  'in',
  'not_in',
  'contains',
  'starts_with',
  'ends_with',
  'empty',
  'not_empty',
  'regex',
] as const;
export type Op = (typeof OPS)[number];

const Scalar = z.union([z.string().max(500), z.number().finite(), z.boolean()]);

export const FieldCondition = z.strictObject({
  field: z.string().max(100),
  op: z.enum(OPS),
  value: z.union([Scalar, z.array(Scalar).max(500)]).optional(),
});

const UrlMatch = z.strictObject({ op: z.enum(['equals', 'contains', 'starts_with', 'ends_with', 'regex']), value: z.string().min(1).max(500) });

export const BehaviourCondition = z.strictObject({
  // opened_email / clicked_email count a person's opens and clicks only, not those privacy
  // proxies and link scanners made (core/email/machine.ts); url is a click's destination.
  behaviour: z.enum(['visited', 'submitted_form', 'downloaded_asset', 'custom_event', 'opened_email', 'clicked_email', 'any_event']),
  url: UrlMatch.optional(),
  form_id: z.number().int().positive().optional(),
  asset_id: z.number().int().positive().optional(),
  email_id: z.number().int().positive().optional(),
  name: z.string().max(100).optional(),
  min_count: z.number().int().min(1).max(1_000_000).default(1),
  within_days: z.number().int().min(1).max(3650).optional(),
});

export const TagCondition = z.strictObject({ tag: TagName, has: z.boolean().default(true) });
export const DncCondition = z.strictObject({ dnc: z.enum(['email', 'sms', 'any']), is: z.boolean().default(true) });
export const SegmentCondition = z.strictObject({ segment: z.number().int().positive(), member: z.boolean().default(true) });

export type Filter =
  | { all: Filter[] }
  | { any: Filter[] }
  | { not: Filter }
  | z.infer<typeof FieldCondition>
  | z.infer<typeof BehaviourCondition>
  | z.infer<typeof TagCondition>
  | z.infer<typeof DncCondition>
  | z.infer<typeof SegmentCondition>;

export const Filter: z.ZodType<Filter> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(Filter).min(1).max(50) }),
    z.strictObject({ any: z.array(Filter).min(1).max(50) }),
    z.strictObject({ not: Filter }),
    FieldCondition,
    BehaviourCondition,
    TagCondition,
    DncCondition,
    SegmentCondition,
  ]),
);

/** Counts conditions and nesting so a filter stays small enough to compile and run. */
export function filterSize(f: Filter, depth = 0): { conditions: number; depth: number } {
  if ('all' in f || 'any' in f) {
    const parts = ('all' in f ? f.all : f.any).map((x) => filterSize(x, depth + 1));
    return { conditions: parts.reduce((a, p) => a + p.conditions, 0), depth: Math.max(depth + 1, ...parts.map((p) => p.depth)) };
  }
  if ('not' in f) return filterSize(f.not, depth + 1);
  return { conditions: 1, depth };
}

/** The segments a filter refers to, read from its shape (no compiling, so it works for filters that no longer compile). */
export function referencedSegments(f: Filter, out = new Set<number>()): Set<number> {
  if ('all' in f) f.all.forEach((x) => referencedSegments(x, out));
  else if ('any' in f) f.any.forEach((x) => referencedSegments(x, out));
  else if ('not' in f) referencedSegments(f.not, out);
  else if ('segment' in f) out.add(f.segment);
  return out;
}

/** Every condition of a filter (its leaves), groups walked through. */
export function conditions(f: Filter): Exclude<Filter, { all: Filter[] } | { any: Filter[] } | { not: Filter }>[] {
  if ('all' in f) return f.all.flatMap(conditions);
  if ('any' in f) return f.any.flatMap(conditions);
  if ('not' in f) return conditions(f.not);
  return [f];
}
