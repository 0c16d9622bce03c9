import { z } from 'zod';
import type { Ctx } from '../context';
import { ValidationError, type FieldError } from '../errors';
import { loadFieldDefs } from '../contacts/fields';
import type { FieldType } from '../contacts/values';
import { FormAction, prepareAction } from './actions';
import { parseTarget } from './mapping';
import { checkFieldValue, TYPE_MAX_LENGTH, type PatternTest } from './values';
import { patternTestFor, unsupportedPatterns } from './patterns';
import { FORM_FIELD_TYPES, HIDDEN_SOURCES, type FormField, type FormFieldType } from './field';

export { FORM_FIELD_TYPES, HIDDEN_SOURCES, type FormField, type FormFieldType, type HiddenSource } from './field';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const KEY = /^[a-z][a-z0-9_]{0,39}$/;

const Option = z.union([
  z.string().trim().min(1).max(200),
  z.strictObject({ value: z.string().trim().min(1).max(200), label: z.string().trim().min(1).max(200).optional() }),
]);

const Rules = z.strictObject({
  pattern: z.string().min(1).max(200).nullable().optional(),
  pattern_message: z.string().trim().min(1).max(200).nullable().optional(),
  min_length: z.number().int().min(0).max(10_000).nullable().optional(),
  max_length: z.number().int().min(1).max(10_000).nullable().optional(),
  // Numbers for number fields, YYYY-MM-DD for date fields.
  min: z.union([z.number().finite(), z.string().regex(DATE, 'must be a date as YYYY-MM-DD')]).nullable().optional(),
  max: z.union([z.number().finite(), z.string().regex(DATE, 'must be a date as YYYY-MM-DD')]).nullable().optional(),
});

export const FormFieldInput = z.strictObject({
  key: z.string().regex(KEY, 'must be 1–40 characters of a-z, 0-9 and _, starting with a letter'),
  label: z.string().trim().min(1).max(200).optional(),
  type: z.enum(FORM_FIELD_TYPES),
  maps_to: z.string().max(80).nullable().default(null),
  required: z.boolean().default(false),
  placeholder: z.string().trim().max(200).nullable().optional(),
  help: z.string().trim().max(500).nullable().optional(),
  options: z.array(Option).min(1).max(200).nullable().optional(),
  rules: Rules.default({}),
  default: z.union([z.string().max(2048), z.number().finite(), z.boolean(), z.array(z.string().max(200)).max(200)]).nullable().optional(),
  source: z.enum(HIDDEN_SOURCES).nullable().optional(),
});
export type FormFieldInput = z.infer<typeof FormFieldInput>;

const httpUrl = z
  .string()
  .trim()
  .max(2048)
  .refine((u) => {
    try {
      const p = new URL(u).protocol;
      return p === 'http:' || p === 'https:';
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL')
  // For the OpenAPI document (format is an annotation there; the refine above is the check).
  .meta({ format: 'uri' });

export const AfterSubmit = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('message'), message: z.string().trim().min(1).max(2000) }),
  z.strictObject({ type: z.literal('redirect'), url: httpUrl }),
]);
export type AfterSubmit = z.infer<typeof AfterSubmit>;

export const Profiling = z.strictObject({
  enabled: z.boolean(),
  // At most this many not-yet-known mapped fields per display; null: no cap.
  max_new_fields: z.number().int().min(1).max(50).nullable().default(null),
});

const shape = {
  name: z.string().trim().min(1).max(200),
  fields: z.array(FormFieldInput).min(1).max(50),
  submit_label: z.string().trim().min(1).max(100),
  after_submit: AfterSubmit,
  progressive_profiling: Profiling,
  actions: z.array(FormAction).max(20),
  // Submissions sent sooner than this after the form rendered are bots'.
  min_fill_ms: z.number().int().min(0).max(60_000),
  active: z.boolean(),
};

export const FormInput = z.strictObject({
  ...shape,
  submit_label: shape.submit_label.default('Submit'),
  after_submit: shape.after_submit.default({ type: 'message', message: 'Thank you!' }),
  progressive_profiling: shape.progressive_profiling.default({ enabled: false, max_new_fields: null }),
  actions: shape.actions.default([]),
  min_fill_ms: shape.min_fill_ms.default(1500),
  active: shape.active.default(true),
});
export type FormInput = z.infer<typeof FormInput>;

export const FormPatch = z.strictObject({
  name: shape.name.optional(),
  fields: shape.fields.optional(),
  submit_label: shape.submit_label.optional(),
  after_submit: shape.after_submit.optional(),
  progressive_profiling: shape.progressive_profiling.optional(),
  actions: shape.actions.optional(),
  min_fill_ms: shape.min_fill_ms.optional(),
  active: shape.active.optional(),
});
export type FormPatch = z.infer<typeof FormPatch>;

/** The JSON kept in forms.definition. */
export interface FormDefinition {
  fields: FormField[];
  submit_label: string;
  after_submit: AfterSubmit;
  progressive_profiling: { enabled: boolean; max_new_fields: number | null };
  actions: FormAction[];
  min_fill_ms: number;
}

// Which contact field types a form field type may write to.
const COMPATIBLE: Record<FormFieldType, FieldType[]> = {
  text: ['text', 'textarea', 'url', 'tel', 'email'],
  email: ['email', 'text', 'textarea'],
  tel: ['tel', 'text', 'textarea'],
  textarea: ['textarea', 'text'],
  number: ['number', 'text'],
  date: ['date', 'text'],
  select: ['select', 'text', 'textarea'],
  radio: ['select', 'text', 'textarea'],
  checkbox_group: ['multiselect'],
  country: ['country', 'text'],
  hidden: ['text', 'textarea', 'url', 'number', 'select', 'date'],
  consent: ['boolean'],
};
const WITH_OPTIONS = new Set<FormFieldType>(['select', 'radio', 'checkbox_group']);
const WITH_PATTERN = new Set<FormFieldType>(['text', 'email', 'tel', 'textarea']);
const WITH_LENGTH = new Set<FormFieldType>(['text', 'email', 'tel', 'textarea', 'hidden']);
const WITH_PLACEHOLDER = new Set<FormFieldType>(['text', 'email', 'tel', 'number', 'textarea']);

// Patterns run on the server for every submission: refuse the shapes that
// backtrack catastrophically (a quantified group that itself ends in a quantifier).
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]/;

type CleanRules = {
  pattern?: string;
  pattern_message?: string;
  min_length?: number;
  max_length?: number;
  min?: number | string;
  max?: number | string;
};

function checkField(f: FormFieldInput, i: number, out: FieldError[], test: PatternTest): FormField {
  const at = (k: string) => `fields.${i}.${k}`;
  const err = (k: string, message: string) => out.push({ field: at(k), message });
  // Nulls mean "no rule": they are not stored.
  const r = Object.fromEntries(Object.entries(f.rules).filter(([, v]) => v !== null && v !== undefined)) as CleanRules;
  if (f.type !== 'hidden' && !f.label) err('label', 'is required');
  if (f.options && !WITH_OPTIONS.has(f.type)) err('options', `only select, radio and checkbox_group fields take options`);
  if (!f.options && WITH_OPTIONS.has(f.type)) err('options', `${f.type} fields need at least one option`);
  const options = f.options?.map((o) => (typeof o === 'string' ? { value: o, label: o } : { value: o.value, label: o.label ?? o.value })) ?? null;
  if (options && new Set(options.map((o) => o.value)).size !== options.length) err('options', 'option values must be unique');
  if (options?.some((o) => /[|;]/.test(o.value))) err('options', 'option values may not contain | or ;');
  if (f.placeholder && !WITH_PLACEHOLDER.has(f.type)) err('placeholder', `${f.type} fields take no placeholder`);
  if (r.pattern !== undefined) {
    if (!WITH_PATTERN.has(f.type)) err('rules.pattern', `${f.type} fields take no pattern`);
    else if (NESTED_QUANTIFIER.test(r.pattern)) err('rules.pattern', 'nested quantifiers like (a+)+ are not allowed');
    else {
      try {
        new RegExp(`^(?:${r.pattern})$`, 'u');
      } catch {
        err('rules.pattern', 'is not a valid regular expression');
      }
    }
  }
  if (r.pattern_message !== undefined && r.pattern === undefined) err('rules.pattern_message', 'needs a pattern');
  if ((r.min_length !== undefined || r.max_length !== undefined) && !WITH_LENGTH.has(f.type)) err('rules', `${f.type} fields take no min_length/max_length`);
  const cap = TYPE_MAX_LENGTH[f.type];
  if (r.max_length !== undefined && cap !== undefined && r.max_length > cap) err('rules.max_length', `must be at most ${cap} for ${f.type} fields`);
  if (r.min_length !== undefined && r.max_length !== undefined && r.min_length > r.max_length) err('rules.min_length', 'must not exceed max_length');
  for (const k of ['min', 'max'] as const) {
    const v = r[k];
    if (v === undefined) continue;
    if (f.type === 'number' ? typeof v !== 'number' : f.type === 'date' ? typeof v !== 'string' : true) {
      err(`rules.${k}`, f.type === 'number' || f.type === 'date' ? `must be a ${f.type === 'number' ? 'number' : 'date as YYYY-MM-DD'}` : `only number and date fields take ${k}`);
    }
  }
  if (r.min !== undefined && r.max !== undefined && typeof r.min === typeof r.max && r.min > r.max) err('rules.min', 'must not exceed max');
  if (f.source && f.type !== 'hidden') err('source', 'only hidden fields take a source');
  if (f.type === 'hidden') {
    if (f.required) err('required', 'hidden fields cannot be required');
    if (f.source && f.default !== undefined && f.default !== null) err('default', 'a hidden field takes a source or a static default, not both');
  }
  if (f.type === 'consent') {
    if (!f.required) err('required', 'a consent field must be required');
    if (f.default !== undefined && f.default !== null) err('default', 'consent cannot be pre-checked');
  }
  const field: FormField = {
    key: f.key,
    label: f.label ?? f.key,
    type: f.type,
    maps_to: f.maps_to,
    required: f.required,
    placeholder: f.placeholder ?? null,
    help: f.help ?? null,
    options,
    rules: r,
    default: f.default ?? null,
    source: f.source ?? null,
  };
  if (field.default !== null && f.type !== 'consent') {
    const c = checkFieldValue(field, field.default, test);
    if (c.ok === false) err('default', c.message);
    else if (c.ok === true) field.default = c.value as FormField['default'];
  }
  return field;
}

/**
 * Checks a whole definition (the fields against each other and against the
 * contact fields, the actions against the database) and answers it as it is
 * stored. Every problem is reported at once, as a 422 naming the path.
 */
export async function checkDefinition(
  ctx: Ctx,
  input: Omit<FormDefinition, 'fields' | 'actions'> & { fields: FormFieldInput[]; actions: { type: string }[] },
): Promise<FormDefinition> {
  const errors: FieldError[] = [];
  const defs = await loadFieldDefs(ctx);
  // Patterns must run in the database's linear-time engine (forms/patterns.ts), defaults must match them.
  const patterns = input.fields.flatMap((f, i) => (f.rules.pattern ? [[i, f.rules.pattern] as const] : []));
  const unsupported = await unsupportedPatterns(ctx, patterns.map(([, p]) => p));
  const dbTest = await patternTestFor(ctx, (t) => input.fields.forEach((f, i) => checkField(f, i, [], t)));
  // A refused pattern is never run in JavaScript either.
  const test: PatternTest = (p, v) => unsupported.has(p) || dbTest(p, v);
  const fields = input.fields.map((f, i) => checkField(f, i, errors, test));
  for (const [i, p] of patterns) {
    const at = `fields.${i}.rules.pattern`;
    // Said once: a pattern that is not even valid JavaScript has its own error already.
    if (unsupported.has(p) && !errors.some((e) => e.field === at)) {
      errors.push({ field: at, message: 'is not a pattern the server can check in linear time: use plain groups ( ), no (?:…), lookaround or backreferences' });
    }
  }
  const keys = new Map<string, number>();
  const targets = new Map<string, number>();
  fields.forEach((f, i) => {
    if (keys.has(f.key)) errors.push({ field: `fields.${i}.key`, message: `duplicate key "${f.key}" (also fields.${keys.get(f.key)})` });
    else keys.set(f.key, i);
    if (f.maps_to === null) return;
    const at = `fields.${i}.maps_to`;
    const t = parseTarget(f.maps_to, defs);
    if (!t) {
      errors.push({
        field: at,
        message: f.maps_to.startsWith('fields.')
          ? `no custom field "${f.maps_to.slice(7)}": create it under /api/v1/fields first`
          : `must be a built-in contact field (email, first_name, last_name, phone, job_title, city, country) or fields.<custom key>`,
      });
      return;
    }
    if (targets.has(t.name)) errors.push({ field: at, message: `fields.${targets.get(t.name)} already maps to ${t.name}` });
    else targets.set(t.name, i);
    if (t.name === 'email' && f.type !== 'email') errors.push({ field: at, message: 'only an email field can map to email' });
    else if (!COMPATIBLE[f.type].includes(t.type)) errors.push({ field: at, message: `a ${f.type} field cannot write to ${t.name} (a ${t.type} field)` });
    else if (t.kind === 'custom' && t.options && f.options && (t.type === 'select' || t.type === 'multiselect')) {
      const missing = f.options.find((o) => !t.options!.includes(o.value));
      if (missing) errors.push({ field: `fields.${i}.options`, message: `"${missing.value}" is not an option of ${t.name}` });
    }
  });
  let deliveries = 0;
  const actions: FormAction[] = [];
  for (const [i, a] of (input.actions as FormAction[]).entries()) {
    if (a.type === 'deliver_asset' && ++deliveries > 1) {
      errors.push({ field: `actions.${i}`, message: 'a form delivers at most one asset' });
      continue;
    }
    const r = await prepareAction(ctx, a, defs);
    if (r.ok) actions.push(r.action);
    else errors.push({ field: `actions.${i}`, message: r.message });
  }
  if (errors.length) throw new ValidationError(errors);
  return {
    fields,
    submit_label: input.submit_label,
    after_submit: input.after_submit,
    progressive_profiling: input.progressive_profiling,
    actions,
    min_fill_ms: input.min_fill_ms,
  };
}
