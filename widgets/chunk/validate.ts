// Client-side validation mirroring the server's (api/core/forms/values.ts checkFieldValue, with
// the contact rules of api/core/contacts/values.ts), message for message, so the visitor sees the
// server's verdict before the round trip. test/widget-validate.test.ts holds the two together.
// The server still decides: its 422 details are shown the same way.
import type { Field, Value, Values } from './types';

// Copies of EMAIL_RE and TEL_RE in api/core/contacts/values.ts.
const EMAIL = /^[^\s@"<>()[\],;:\\]{1,64}@[^\s@"<>()[\],;:\\_]+\.[^\s@"<>()[\],;:\\_]{2,}$/;
const TEL = /^\+?[0-9][0-9 ().\-/]{2,29}$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
// The longest value per type when the field sets no max_length (TYPE_MAX_LENGTH).
const CAP: Record<string, number> = { text: 255, email: 254, tel: 40, textarea: 1e4, hidden: 2048 };

function isDate(s: string) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  const d = m && new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return !!d && d.getUTCFullYear() == +m![1] && d.getUTCMonth() == +m![2] - 1 && d.getUTCDate() == +m![3];
}

/** The server's problem with one value, as it words it ("is required"); undefined when fine. */
export function check(f: Field, v: Value | undefined): string | undefined {
  const r = f.rules || {};
  const s = typeof v == 'string' ? v.trim() : '';
  const blank = f.type == 'consent' ? v !== true : Array.isArray(v) ? !v.length : !s;
  if (blank) return f.required ? (f.type == 'consent' ? 'must be accepted' : 'is required') : undefined;
  if (f.type == 'consent' || f.type == 'checkbox_group') return;
  if (f.type == 'number') {
    const n = Number(s);
    if (!NUMBER.test(s) || Math.abs(n) > 1e15) return 'must be a number';
    if (typeof r.min == 'number' && n < r.min) return `must be at least ${r.min}`;
    if (typeof r.max == 'number' && n > r.max) return `must be at most ${r.max}`;
    return;
  }
  const max = r.max_length ?? CAP[f.type] ?? 255;
  if (s.length > max) return `must be at most ${max} characters`;
  if (r.min_length != null && s.length < r.min_length) return `must be at least ${r.min_length} characters`;
  if (f.type == 'email' && !(EMAIL.test(s) && !s.includes('..'))) return 'must be a valid email address';
  if (f.type == 'tel' && !TEL.test(s)) return 'must be a phone number: digits, spaces, + ( ) . - /';
  if (f.type == 'date') {
    if (!isDate(s)) return 'must be a date as YYYY-MM-DD';
    if (typeof r.min == 'string' && s < r.min) return `must be on or after ${r.min}`;
    if (typeof r.max == 'string' && s > r.max) return `must be on or before ${r.max}`;
  }
  if (/^(select|radio|country)$/.test(f.type) && !(f.options || []).some((o) => o.value == s))
    return f.type == 'country' ? 'must be a country (ISO 3166-1 alpha-2 code, e.g. DE)' : 'must be one of the options';
  if (r.pattern) {
    let re: RegExp | undefined;
    try {
      re = new RegExp(`^(?:${r.pattern})$`, 'u');
    } catch {}
    if (re && !re.test(s)) return r.pattern_message || 'is not in the expected format';
  }
}

/** A message for the visitor: the server's fragments ("is required") get the field's label. */
export const say = (f: Field, m: string) => (/^[a-z]/.test(m) ? `${f.label} ${m}.` : m);

/** Every shown field's problem, keyed by field, worded for the visitor. */
export function checkAll(fields: Field[], values: Values): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) {
    const m = f.type != 'hidden' && check(f, values[f.key]);
    if (m) out[f.key] = say(f, m);
  }
  return out;
}
