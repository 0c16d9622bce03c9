import { AppError, BadRequestError, ValidationError, type FieldError } from '../errors';

/**
 * The one rule for text from outside, applied at the boundary to every JSON
 * body, URL-encoded form, CSV cell and multipart field alike:
 *
 * - Control characters (C0 except tab, line feed and carriage return, and DEL)
 *   and lone surrogates become U+FFFD, as the HTML parser does with NUL. NUL
 *   would cut a string short in SQLite, and a lone surrogate stored through it
 *   is invalid UTF-8 that makes the libsql client abort the whole process when
 *   it reads the row back.
 * - Identifiers (emails, tags, keys) containing U+FFFD are refused with 422
 *   by their own validators (see isCleanIdentifier), so an identifier that
 *   carried a control character is never silently changed into another one.
 * - JSON may nest at most MAX_JSON_DEPTH levels (checked on the text, before
 *   anything recursive runs), and no object may carry a "__proto__" key.
 */
export const MAX_JSON_DEPTH = 64;

const DIRTY = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const DIRTY_TEST = new RegExp(DIRTY.source);

/** Text made safe to store: control characters and lone surrogates become U+FFFD. */
export const cleanText = (s: string): string => (DIRTY_TEST.test(s) ? s.replace(DIRTY, '\ufffd') : s);

/** False for a string that carries (or carried, before cleanText) a control character or a lone surrogate. */
export const isCleanIdentifier = (s: string): boolean => !/[\u0000-\u001F\u007F\ufffd]/.test(s) && !DIRTY_TEST.test(s);

/** Whether JSON text nests objects and arrays deeper than `max`: one pass over the text, no recursion. */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  // Nesting needs an opening bracket per level: a body with few of them is done with here
  // (the tracker's hits have a dozen), without walking it character by character.
  let opens = 0;
  for (let i = text.indexOf('{'); i !== -1 && opens <= max; i = text.indexOf('{', i + 1)) opens++;
  for (let i = text.indexOf('['); i !== -1 && opens <= max; i = text.indexOf('[', i + 1)) opens++;
  if (opens <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92) i++; // backslash: skip the escaped character
      else if (ch === 34) inString = false;
    } else if (ch === 34) inString = true;
    else if (ch === 91 || ch === 123) {
      if (++depth > max) return true;
    } else if (ch === 93 || ch === 125) depth--;
  }
  return false;
}

/**
 * Cleans a parsed JSON value in place of a copy where needed: every string and
 * key through cleanText; a "__proto__" key is refused (zod's object copies drop
 * it silently, so it would be ignored where every other unknown field is
 * refused). Iterative, so depth costs no stack; callers bound depth first.
 */
export function cleanValue(root: unknown): unknown {
  const errors: FieldError[] = [];
  const box = { v: root };
  // Each entry: a container, the key in it, and the dotted path of that slot.
  const stack: [Record<string, unknown> | unknown[], string | number, string][] = [[box as unknown as Record<string, unknown>, 'v', '']];
  while (stack.length) {
    const [holder, key, path] = stack.pop()!;
    const v = (holder as Record<string, unknown>)[key as string];
    if (typeof v === 'string') {
      const c = cleanText(v);
      if (c !== v) (holder as Record<string, unknown>)[key as string] = c;
    } else if (typeof v === 'number') {
      // 1e999 parses as Infinity, which JSON cannot say again (it would become null).
      if (!Number.isFinite(v) && errors.length < 10) errors.push({ field: path, message: 'must be a finite number' });
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push([v, i, path ? `${path}.${i}` : String(i)]);
    } else if (v !== null && typeof v === 'object') {
      const obj = v as Record<string, unknown>;
      for (const k of Object.keys(obj)) {
        const at = path ? `${path}.${k}` : k;
        if (k === '__proto__') {
          if (errors.length < 10) errors.push({ field: at, message: 'unknown field' });
          continue;
        }
        const ck = cleanText(k);
        if (ck !== k) {
          // defineProperty keeps an odd key an own data property.
          Object.defineProperty(obj, ck, { value: obj[k], enumerable: true, writable: true, configurable: true });
          delete obj[k];
        }
        stack.push([obj, ck, path ? `${path}.${ck}` : ck]);
      }
    }
  }
  if (errors.length) throw new ValidationError(errors);
  return box.v;
}

/**
 * Parses JSON that came from outside: 400 when it is not JSON or nests too
 * deep, 422 for a "__proto__" key; strings cleaned. The common body (no
 * escapes, no DEL, no "__proto__") skips the walk: raw control characters and
 * lone surrogates can only enter JSON text through those.
 */
export function parseJsonInput(text: string): unknown {
  return readJsonInput(text).value;
}

/** parseJsonInput, also telling whether cleaning may have changed anything (the text no longer says the value). */
export function readJsonInput(text: string): { value: unknown; walked: boolean } {
  if (jsonTooDeep(text)) throw new BadRequestError(`JSON may nest at most ${MAX_JSON_DEPTH} levels deep.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadRequestError('Body must be JSON.');
  }
  if (!text.includes('\\u') && !text.includes('\u007f') && !text.includes('__proto__')) return { value, walked: false };
  return { value: cleanValue(value), walked: true };
}

// %00–%08, %0B, %0C, %0E–%1F, %7F, and UTF-8 encodings of surrogates (%ED%A0–%ED%BF).
const DIRTY_URL = /%(0[0-8bcef]|1[0-9a-f]|7f)|%ed%[ab][0-9a-f]/i;

/**
 * Refuses a query string that decodes to control characters or lone
 * surrogates. (Path parameters are identifiers: each route's own schema
 * refuses them and names the parameter.)
 */
export function checkQuery(url: string): void {
  const q = url.indexOf('?');
  if (q >= 0 && DIRTY_URL.test(url.slice(q))) throw new AppError('BAD_REQUEST', 'The query string contains control characters or invalid UTF-8.');
}

/**
 * JSON.stringify with well-formed strings. JSON.stringify writes a lone
 * surrogate as an escape ("\\ud800"), so the common case is one test of the
 * output; only then is it redone with cleaning. A second line of defence
 * behind the boundary, for strings that were built on the server.
 */
export function stringifyWellFormed(v: unknown): string {
  const json = JSON.stringify(v);
  return /\\ud[89a-f]/i.test(json) ? JSON.stringify(v, (_k, x: unknown) => (typeof x === 'string' ? cleanText(x) : x)) : json;
}
