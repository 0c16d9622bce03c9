import { z } from 'zod';
import type { FieldError } from '../errors';

// A focus item's definition: the JSON kept in focus_items.definition (style,
// content, trigger, targeting, frequency, variants) plus the columns beside it.
// Everything here ends up in a visitor's browser, so every string is bounded
// and every URL and selector is checked before it is stored.

const Color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a #rrggbb colour');
export const Colors = z.strictObject({ background: Color, text: Color, button: Color });
export const DEFAULT_COLORS = { background: '#ffffff', text: '#1f2937', button: '#2563eb' };

export const Style = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('bar'),
    position: z.enum(['top', 'bottom']).default('top'),
    sticky: z.boolean().default(true),
    colors: Colors.default(DEFAULT_COLORS),
  }),
  z.strictObject({ type: z.literal('modal'), colors: Colors.default(DEFAULT_COLORS) }),
  z.strictObject({
    type: z.literal('slide_in'),
    corner: z.enum(['bottom_right', 'bottom_left', 'top_right', 'top_left']).default('bottom_right'),
    colors: Colors.default(DEFAULT_COLORS),
  }),
  z.strictObject({ type: z.literal('full_screen'), colors: Colors.default(DEFAULT_COLORS) }),
]);
export type Style = z.infer<typeof Style>;

// Plain text only (the widget renders it as text, never as HTML); line breaks and tabs allowed.
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F]/;
const plain = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !CONTROL.test(s), 'must be plain text without control characters');

/** An absolute http(s) URL: no javascript:, data: or other schemes a click could run. */
export const HttpUrl = z
  .string()
  .trim()
  .max(2048)
  .refine((s) => {
    if (/[\s\u0000-\u001F\u007F]/.test(s)) return false;
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an absolute http:// or https:// URL')
  // For the OpenAPI document (format is an annotation there; the refine above is the check).
  .meta({ format: 'uri' });

export const Cta = z.strictObject({ label: plain(80).pipe(z.string().trim().min(1)), url: HttpUrl });

const heading = plain(200).default('');
const body = plain(2000).default('');
const FormId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const Content = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('notice'), heading, body }),
  z.strictObject({ kind: z.literal('link'), heading, body, cta: Cta }),
  z.strictObject({ kind: z.literal('form'), heading, body, form_id: FormId }),
]);
export type Content = z.infer<typeof Content>;

// CSS selectors for the click trigger, limited to a subset that cannot be
// slow or surprising: type, #id, .class and [attr] / [attr op "value"]
// selectors, combined with descendant or child combinators, in a list of at
// most 5. No pseudo-classes, no escapes.
const IDENT = '-?[_a-zA-Z][_a-zA-Z0-9-]{0,63}';
const ATTR = `\\[\\s*${IDENT}\\s*(?:[~^$*|]?=\\s*(?:"[^"\\\\<>\\n]{0,100}"|'[^'\\\\<>\\n]{0,100}'|${IDENT})\\s*)?\\]`;
const SIMPLE = `(?:#${IDENT}|\\.${IDENT}|${ATTR})`;
const COMPOUND = `(?:(?:${IDENT}|\\*)${SIMPLE}{0,8}|${SIMPLE}{1,8})`;
const CHAIN = `${COMPOUND}(?:\\s*>\\s*${COMPOUND}|\\s+${COMPOUND}){0,5}`;
const SELECTOR_RE = new RegExp(`^\\s*${CHAIN}(?:\\s*,\\s*${CHAIN}){0,4}\\s*$`);

export function isSafeSelector(s: string): boolean {
  return s.length > 0 && s.length <= 200 && SELECTOR_RE.test(s);
}

export const Selector = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine(isSafeSelector, 'must be a simple CSS selector: tag, #id, .class or [attr="value"], joined by spaces, > or commas');

export const Trigger = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('load') }),
  z.strictObject({ type: z.literal('delay'), seconds: z.number().int().min(0).max(3600) }),
  z.strictObject({ type: z.literal('scroll'), percent: z.number().int().min(1).max(100) }),
  z.strictObject({ type: z.literal('exit_intent') }),
  z.strictObject({ type: z.literal('click'), selector: Selector }),
  z.strictObject({ type: z.literal('pageviews'), count: z.number().int().min(1).max(1000) }),
]);
export type Trigger = z.infer<typeof Trigger>;

export const UrlRule = z.strictObject({
  op: z.enum(['equals', 'contains', 'starts_with', 'regex']),
  value: z.string().trim().min(1).max(500),
});
export type UrlRule = z.infer<typeof UrlRule>;

export const DEVICES = ['desktop', 'mobile', 'tablet'] as const;
export type Device = (typeof DEVICES)[number];

export const Targeting = z.strictObject({
  urls: z.array(UrlRule).max(20).default([]),
  devices: z
    .array(z.enum(DEVICES))
    .max(3)
    .default([])
    .refine((a) => new Set(a).size === a.length, 'must not repeat a device'),
  visitor: z.enum(['all', 'new', 'returning']).default('all'),
  identity: z.enum(['all', 'anonymous', 'known']).default('all'),
  segment_ids: z
    .array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER))
    .max(20)
    .default([])
    .refine((a) => new Set(a).size === a.length, 'must not repeat a segment'),
});
export type Targeting = z.infer<typeof Targeting>;

export const Frequency = z.strictObject({
  mode: z.enum(['every_page', 'once_per_session', 'every_n_days']).default('once_per_session'),
  days: z.number().int().min(1).max(365).nullable().default(null),
  stop_after_conversion: z.boolean().default(true),
  stop_after_close: z.boolean().default(false),
  max_displays: z.number().int().min(1).max(1000).nullable().default(null),
});
export type Frequency = z.infer<typeof Frequency>;

// Overrides change part of the item for one variant; the merged result must be
// a valid style / content on its own.
export const StyleOverride = z.strictObject({
  type: z.enum(['bar', 'modal', 'slide_in', 'full_screen']).optional(),
  position: z.enum(['top', 'bottom']).optional(),
  sticky: z.boolean().optional(),
  corner: z.enum(['bottom_right', 'bottom_left', 'top_right', 'top_left']).optional(),
  colors: Colors.partial().optional(),
});
export const ContentOverride = z.strictObject({
  kind: z.enum(['notice', 'link', 'form']).optional(),
  heading: plain(200).optional(),
  body: plain(2000).optional(),
  cta: Cta.optional(),
  form_id: FormId.optional(),
});

export const Variant = z.strictObject({
  key: z.string().regex(/^[a-z]$/, 'must be one lower-case letter: a, b, c…'),
  weight: z.number().int().min(0).max(100),
  overrides: z
    .strictObject({ style: StyleOverride.optional(), content: ContentOverride.optional() })
    .default({}),
});
export type Variant = z.infer<typeof Variant>;

const fields = {
  name: z.string().trim().min(1).max(200),
  site_id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).nullable(),
  style: Style,
  content: Content,
  trigger: Trigger,
  targeting: Targeting,
  frequency: Frequency,
  variants: z.array(Variant).max(10),
  active: z.boolean(),
  is_sample: z.boolean(),
};

export const FocusItemInput = z.strictObject({
  ...fields,
  site_id: fields.site_id.default(null),
  trigger: fields.trigger.default({ type: 'load' }),
  targeting: fields.targeting.prefault({}),
  frequency: fields.frequency.prefault({}),
  variants: fields.variants.default([]),
  active: fields.active.default(true),
  is_sample: fields.is_sample.default(false),
});
export type FocusItemInput = z.infer<typeof FocusItemInput>;

// A patch replaces the top-level parts it names; the result is checked as a whole.
export const FocusItemPatch = z.strictObject({
  name: fields.name.optional(),
  site_id: fields.site_id.optional(),
  style: fields.style.optional(),
  content: fields.content.optional(),
  trigger: fields.trigger.optional(),
  targeting: fields.targeting.optional(),
  frequency: fields.frequency.optional(),
  variants: fields.variants.optional(),
  active: fields.active.optional(),
  is_sample: fields.is_sample.optional(),
});
export type FocusItemPatch = z.infer<typeof FocusItemPatch>;

export interface Definition {
  style: Style;
  content: Content;
  trigger: Trigger;
  targeting: Targeting;
  frequency: Frequency;
  variants: Variant[];
}

function prefixed(error: z.ZodError, prefix: (string | number)[]): FieldError[] {
  return error.issues.map((i) => ({ field: [...prefix, ...i.path].map(String).join('.'), message: i.message }));
}

/** The style a variant shows: the item's, with the variant's overrides on top. */
export function mergeStyle(base: Style, o: z.infer<typeof StyleOverride> | undefined): unknown {
  if (!o) return base;
  const { colors, ...rest } = o;
  const start: Record<string, unknown> = rest.type && rest.type !== base.type ? { type: rest.type, colors: base.colors } : { ...base };
  return { ...start, ...rest, colors: { ...(start.colors as object), ...colors } };
}

/** The content a variant shows: the item's, with the variant's overrides on top. */
export function mergeContent(base: Content, o: z.infer<typeof ContentOverride> | undefined): unknown {
  if (!o) return base;
  const start: Record<string, unknown> =
    o.kind && o.kind !== base.kind ? { kind: o.kind, heading: base.heading, body: base.body } : { ...base };
  return { ...start, ...o };
}

export interface Resolved {
  key: string;
  weight: number;
  style: Style;
  content: Content;
}

/** Every variant with its merged style and content (one implicit variant "a" when there are none). */
export function resolveVariants(def: Pick<Definition, 'style' | 'content' | 'variants'>): Resolved[] {
  if (!def.variants.length) return [{ key: 'a', weight: 100, style: def.style, content: def.content }];
  return def.variants.map((v) => ({
    key: v.key,
    weight: v.weight,
    style: Style.parse(mergeStyle(def.style, v.overrides.style)),
    content: Content.parse(mergeContent(def.content, v.overrides.content)),
  }));
}

/** Checks that need the whole item: variant keys and weights, merged overrides, contradictory targeting. */
export function checkDefinition(def: Definition): FieldError[] {
  const out: FieldError[] = [];
  if (def.variants.length) {
    const keys = def.variants.map((v) => v.key);
    if (new Set(keys).size !== keys.length) out.push({ field: 'variants', message: 'variant keys must be unique' });
    const sum = def.variants.reduce((s, v) => s + v.weight, 0);
    if (sum !== 100) out.push({ field: 'variants', message: `weights must add up to 100 (they add up to ${sum})` });
    def.variants.forEach((v, i) => {
      const s = Style.safeParse(mergeStyle(def.style, v.overrides.style));
      if (!s.success) out.push(...prefixed(s.error, ['variants', i, 'overrides', 'style']));
      const c = Content.safeParse(mergeContent(def.content, v.overrides.content));
      if (!c.success) out.push(...prefixed(c.error, ['variants', i, 'overrides', 'content']));
    });
  }
  if (def.frequency.mode === 'every_n_days' && def.frequency.days === null) {
    out.push({ field: 'frequency.days', message: 'is required when mode is every_n_days' });
  }
  if (def.frequency.mode !== 'every_n_days' && def.frequency.days !== null) {
    out.push({ field: 'frequency.days', message: 'is only used when mode is every_n_days' });
  }
  if (def.targeting.identity === 'anonymous' && def.targeting.segment_ids.length) {
    out.push({ field: 'targeting.segment_ids', message: 'segments hold known contacts; they cannot target anonymous visitors' });
  }
  return out;
}
