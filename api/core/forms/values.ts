import { checkValue } from '../contacts/values';
import { normalizeCountry } from '../util/countries';
import type { FieldError } from '../errors';
import type { FormField, HiddenSource } from './field';

// How one submitted value is checked against its form field. Shared by the
// public submission path and by the definition check (defaults must pass too).

export type FieldCheck = { ok: true; value: unknown } | { ok: false; message: string } | { ok: 'empty' };

/** Longest value each type takes when the field sets no max_length. */
export const TYPE_MAX_LENGTH: Partial<Record<FormField['type'], number>> = {
  text: 255,
  email: 254,
  tel: 40,
  textarea: 10_000,
  hidden: 2048,
};

const TRUE_WORDS = new Set(['true', '1', 'on', 'yes']);

// A pattern is a full match, as the HTML pattern attribute is.
const patternCache = new Map<string, RegExp>();
export function compilePattern(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`, 'u');
    if (patternCache.size > 1000) patternCache.clear();
    patternCache.set(pattern, re);
  }
  return re;
}

/** Whether `value` matches `pattern` in full. The server's is the database's (forms/patterns.ts). */
export type PatternTest = (pattern: string, value: string) => boolean;
export const jsPatternTest: PatternTest = (pattern, value) => compilePattern(pattern).test(value);

function isBlank(raw: unknown): boolean {
  return raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '') || (Array.isArray(raw) && raw.length === 0);
}

// Scalars arrive as strings from HTML forms and as numbers/booleans from JSON.
function asString(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw.trim();
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  if (Array.isArray(raw) && raw.length === 1) return asString(raw[0]);
  return undefined;
}

const bad = (message: string): FieldCheck => ({ ok: false, message });

/** Checks one value; `{ ok: 'empty' }` means nothing was given (required is the caller's concern). */
export function checkFieldValue(field: FormField, raw: unknown, test: PatternTest = jsPatternTest): FieldCheck {
  if (field.type === 'consent') {
    if (raw === true) return { ok: true, value: true };
    const s = asString(raw)?.toLowerCase();
    if (raw === false || raw === undefined || raw === null || s === '' || s === 'false' || s === '0' || s === 'off') return { ok: 'empty' };
    if (s !== undefined && TRUE_WORDS.has(s)) return { ok: true, value: true };
    return bad('must be checked or not');
  }
  if (isBlank(raw)) return { ok: 'empty' };
  const r = field.rules;
  switch (field.type) {
    case 'checkbox_group': {
      const list = Array.isArray(raw) ? raw : [raw];
      if (list.length > 200 || !list.every((x) => typeof x === 'string' && x.length <= 200)) return bad('must be a list of options');
      const values = [...new Set((list as string[]).map((x) => x.trim()).filter(Boolean))];
      const allowed = new Set((field.options ?? []).map((o) => o.value));
      const unknown = values.find((x) => !allowed.has(x));
      if (unknown !== undefined) return bad(`"${unknown.slice(0, 50)}" is not one of the options`);
      if (!values.length) return { ok: 'empty' };
      return { ok: true, value: values };
    }
    case 'number': {
      const s = asString(raw);
      const n = typeof raw === 'number' ? raw : s !== undefined && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s) ? Number(s) : NaN;
      if (!Number.isFinite(n) || Math.abs(n) > 1e15) return bad('must be a number');
      if (typeof r.min === 'number' && n < r.min) return bad(`must be at least ${r.min}`);
      if (typeof r.max === 'number' && n > r.max) return bad(`must be at most ${r.max}`);
      return { ok: true, value: n };
    }
    default:
      break;
  }
  const s = asString(raw);
  if (s === undefined) return bad('must be text');
  if (s === '') return { ok: 'empty' };
  const max = r.max_length ?? TYPE_MAX_LENGTH[field.type] ?? 255;
  if (s.length > max) return bad(`must be at most ${max} characters`);
  if (r.min_length !== undefined && r.min_length !== null && s.length < r.min_length) return bad(`must be at least ${r.min_length} characters`);
  switch (field.type) {
    case 'email':
    case 'tel': {
      const c = checkValue(field.type, s);
      if (!c.ok) return bad(c.message);
      break;
    }
    case 'date': {
      const c = checkValue('date', s);
      if (!c.ok) return bad(c.message);
      if (typeof r.min === 'string' && s < r.min) return bad(`must be on or after ${r.min}`);
      if (typeof r.max === 'string' && s > r.max) return bad(`must be on or before ${r.max}`);
      break;
    }
    case 'country': {
      const code = normalizeCountry(s);
      if (!code) return bad('must be a country (ISO 3166-1 alpha-2 code, e.g. DE)');
      return { ok: true, value: code };
    }
    case 'select':
    case 'radio':
      if (!(field.options ?? []).some((o) => o.value === s)) return bad('must be one of the options');
      break;
    default:
      break;
  }
  if (r.pattern && !test(r.pattern, s)) return bad(r.pattern_message ?? 'is not in the expected format');
  return { ok: true, value: s };
}

/** The value a hidden field with a `source` takes from the page the form was on. */
export function sourceValue(source: HiddenSource, pageUrl: string | null, referrer: string | null): string | null {
  if (source === 'page_url') return pageUrl;
  if (source === 'referrer') return referrer;
  if (!pageUrl) return null;
  try {
    return new URL(pageUrl).searchParams.get(source)?.slice(0, 255) || null;
  } catch {
    return null;
  }
}

/**
 * Checks a submission's values. `offered` holds the keys the visitor was
 * shown (progressive profiling hides some); a required field that was not
 * offered is not required. Unknown keys are ignored (the definition may have
 * changed since the page loaded). Errors name the field as `values.<key>`.
 */
export function checkSubmission(
  fields: FormField[],
  raw: Record<string, unknown>,
  opts: { offered: (key: string) => boolean; pageUrl: string | null; referrer: string | null; test?: PatternTest },
): { values: Record<string, unknown>; errors: FieldError[] } {
  const values: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  for (const f of fields) {
    let given = Object.hasOwn(raw, f.key) ? raw[f.key] : undefined;
    if (f.type === 'hidden') {
      // A static hidden value is the server's: the browser cannot change it.
      if (f.default !== null && f.default !== undefined) given = f.default;
      else if (f.source && isBlank(given)) given = sourceValue(f.source, opts.pageUrl, opts.referrer);
    }
    const c = checkFieldValue(f, given, opts.test);
    if (c.ok === true) values[f.key] = c.value;
    else if (c.ok === false) errors.push({ field: `values.${f.key}`, message: c.message });
    else if (f.required && opts.offered(f.key)) {
      errors.push({ field: `values.${f.key}`, message: f.type === 'consent' ? 'must be accepted' : 'is required' });
    }
  }
  return { values, errors };
}
