import { normalizeCountry } from '../util/countries';

// Value rules shared by core contact columns, custom fields and (later) forms.
export const FIELD_TYPES = [
  'text',
  'textarea',
  'number',
  'boolean',
  'date',
  'datetime',
  'email',
  'url',
  'tel',
  'select',
  'multiselect',
  'country',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

// Built-in contact columns and their value types; custom field keys may not shadow them.
export const CORE_FIELDS: Record<string, FieldType> = {
  email: 'email',
  first_name: 'text',
  last_name: 'text',
  phone: 'tel',
  job_title: 'text',
  city: 'text',
  country: 'country',
};
export const CORE_COLUMNS = Object.keys(CORE_FIELDS) as (keyof typeof CORE_FIELDS & string)[];

export type Checked = { ok: true; value: unknown } | { ok: false; message: string };

// No control characters and no U+FFFD (what the boundary made of them) anywhere.
const EMAIL_RE = /^[^\s@"<>()[\],;:\\\u0000-\u001f\u007f\ufffd]{1,64}@[^\s@"<>()[\],;:\\_\u0000-\u001f\u007f\ufffd]+\.[^\s@"<>()[\],;:\\_\u0000-\u001f\u007f\ufffd]{2,}$/;
const TEL_RE = /^\+?[0-9][0-9 ().\-/]{2,29}$/;

export function normalizeEmail(v: string): string {
  return v.trim().toLowerCase();
}

export function isEmail(v: string): boolean {
  return v.length <= 254 && EMAIL_RE.test(v) && !v.includes('..');
}

function isCalendarDate(v: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!));
  return d.getUTCFullYear() === +m[1]! && d.getUTCMonth() === +m[2]! - 1 && d.getUTCDate() === +m[3]!;
}

const ok = (value: unknown): Checked => ({ ok: true, value });
const bad = (message: string): Checked => ({ ok: false, message });

function splitList(v: string): string[] {
  return v.split(/[|;]/).map((s) => s.trim()).filter(Boolean);
}

/**
 * Validates and normalises one value. `lenient` accepts text forms of numbers,
 * booleans and lists, as they arrive from CSV files and HTML forms.
 * null always passes: it clears the value.
 */
export function checkValue(type: FieldType, raw: unknown, opts: { options?: string[] | null; lenient?: boolean } = {}): Checked {
  if (raw === null) return ok(null);
  const lenient = opts.lenient ?? false;
  const str = typeof raw === 'string' ? raw.trim() : undefined;
  switch (type) {
    case 'text':
    case 'textarea': {
      const max = type === 'text' ? 255 : 10_000;
      if (str === undefined) return bad('must be a string');
      if (str.length > max) return bad(`must be at most ${max} characters`);
      return ok(str);
    }
    case 'number': {
      const n = typeof raw === 'number' ? raw : lenient && str !== undefined && str !== '' ? Number(str) : NaN;
      if (!Number.isFinite(n)) return bad('must be a number');
      if (Math.abs(n) > 1e15) return bad('must be between -1e15 and 1e15');
      return ok(n);
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return ok(raw);
      if (lenient && str !== undefined) {
        const s = str.toLowerCase();
        if (['true', 'yes', '1', 'on', 'y'].includes(s)) return ok(true);
        if (['false', 'no', '0', 'off', 'n'].includes(s)) return ok(false);
      }
      return bad('must be true or false');
    }
    case 'date':
      if (str === undefined || !isCalendarDate(str)) return bad('must be a date as YYYY-MM-DD');
      return ok(str);
    case 'datetime': {
      if (str === undefined || str.length > 40 || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(str)) {
        return bad('must be an ISO 8601 date-time with a time zone, e.g. 2026-01-31T09:30:00Z');
      }
      // Date.parse rolls 2026-02-30 over into March and takes 24:00; refuse both.
      const t = Date.parse(str);
      if (Number.isNaN(t) || !isCalendarDate(str.slice(0, 10)) || str.slice(11, 13) > '23') return bad('must be a valid date-time');
      return ok(new Date(t).toISOString());
    }
    case 'email':
      if (str === undefined || !isEmail(str)) return bad('must be a valid email address');
      return ok(str);
    case 'url': {
      if (str === undefined || str.length > 2048) return bad('must be an http(s) URL of at most 2048 characters');
      try {
        const u = new URL(str);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') return bad('must be an http(s) URL');
      } catch {
        return bad('must be an http(s) URL');
      }
      return ok(str);
    }
    case 'tel':
      if (str === undefined || !TEL_RE.test(str)) return bad('must be a phone number: digits, spaces, + ( ) . - /');
      return ok(str);
    case 'country': {
      const code = str === undefined ? null : normalizeCountry(str);
      if (!code) return bad('must be an ISO 3166-1 alpha-2 country code, e.g. DE');
      return ok(code);
    }
    case 'select': {
      if (str === undefined) return bad('must be a string');
      if (!(opts.options ?? []).includes(str)) return bad(`must be one of: ${(opts.options ?? []).join(', ')}`);
      return ok(str);
    }
    case 'multiselect': {
      const list = Array.isArray(raw) ? raw : lenient && str !== undefined ? splitList(str) : undefined;
      if (!list || !list.every((x) => typeof x === 'string')) return bad('must be a list of strings');
      const allowed = opts.options ?? [];
      const unknown = (list as string[]).find((x) => !allowed.includes(x));
      if (unknown !== undefined) return bad(`"${unknown.slice(0, 50)}" is not one of: ${allowed.join(', ')}`);
      return ok([...new Set(list as string[])]);
    }
  }
}
