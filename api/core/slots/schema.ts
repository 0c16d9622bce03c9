import { z } from 'zod';
import { Filter } from '../segments/filter';

// A slot as the API takes it: which site's pages it fills, the name those pages give it
// (`<div data-leadline-slot="NAME">`), its content variants (Markdown or HTML, stored as
// written and sanitised when served, as landing pages are) and the ordered rules that pick
// one for a visitor. The first rule that holds wins; when none does, the page keeps the
// default content it carries inside the slot element.
//
// A rule's `when` is one of:
//   { "identity": "anonymous" | "known" | "any" }  known = a proven browser (signed identify,
//       signed email click, API link); a browser that only typed an email into a form is anonymous
//   { "stage_id": 3 }                               the proven contact is at that funnel stage
//   { "filter": <segment filter> }                  the proven contact matches the filter
//       (the segments' filter language; { "segment": 12 } for membership of a saved segment)
// Stage and filter rules never hold for an unproven browser (DESIGN.md, Identity).

// Control characters other than tab, line feed and carriage return.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\ufffd]/;
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !CONTROL.test(s), 'must be text without control characters');

export const SLOT_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const SlotName = z.string().regex(SLOT_NAME_RE, 'must be 1–64 of a-z 0-9 _ and - (starting with a letter or digit), as in data-leadline-slot="hero"');

/** What events and stats call the page's own content, when no rule holds. */
export const DEFAULT_VARIANT = 'default';
const VariantKey = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'must be 1–40 of a-z 0-9 _ and - (starting with a letter or digit)')
  .refine((k) => k !== DEFAULT_VARIANT, `"${DEFAULT_VARIANT}" names the page's own content; choose another key`);

export const MAX_CONTENT = 20_000;

export const SlotVariant = z.strictObject({
  key: VariantKey,
  format: z.enum(['markdown', 'html']).default('markdown'),
  content: text(MAX_CONTENT),
});
export type SlotVariant = z.infer<typeof SlotVariant>;

const Id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const SlotWhen = z.union([
  z.strictObject({ identity: z.enum(['anonymous', 'known', 'any']) }),
  z.strictObject({ stage_id: Id }),
  z.strictObject({ filter: Filter }),
]);
export type SlotWhen = z.infer<typeof SlotWhen>;

export const SlotRule = z.strictObject({ when: SlotWhen, variant: VariantKey });
export type SlotRule = z.infer<typeof SlotRule>;

export const MAX_VARIANTS = 20;
export const MAX_RULES = 50;

const fields = {
  site_id: Id,
  name: SlotName,
  description: text(500).default(''),
  active: z.boolean().default(true),
  variants: z.array(SlotVariant).min(1).max(MAX_VARIANTS),
  rules: z.array(SlotRule).max(MAX_RULES).default([]),
};

export const SlotInput = z.strictObject(fields);
export type SlotInput = z.infer<typeof SlotInput>;

export const SlotPatch = z.strictObject({
  site_id: Id.optional(),
  name: SlotName.optional(),
  description: text(500).optional(),
  active: z.boolean().optional(),
  variants: fields.variants.optional(),
  rules: z.array(SlotRule).max(MAX_RULES).optional(),
});
export type SlotPatch = z.infer<typeof SlotPatch>;

/** What the database keeps in `definition`. */
export interface Definition {
  variants: SlotVariant[];
  rules: SlotRule[];
}
