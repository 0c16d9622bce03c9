import { CORE_COLUMNS } from '../contacts/values';
import { escapeHtml } from '../util/html';

/**
 * Personalisation tokens in landing pages and slots: `{{ contact.first_name }}` or
 * `{{ contact.first_name | default: "there" }}` (Liquid's spelling, with or without the spaces;
 * the default in double or single quotes, at most 500 characters). A field is a built-in contact
 * field (email, first_name, last_name, phone, job_title, city, country) or a custom field as
 * `contact.fields.<key>`, as in email templates and form mappings. Nothing else is readable: no
 * id, points, stage, tags or anything internal, and no other variable or filter.
 *
 * Every `{{` in text that takes tokens starts a token (as in Liquid). One that is not a token of
 * this shape (a typo, `{{ first_name }}`, `{{constructor}}`, nested braces, no closing `}}`) is
 * refused when the content is saved (422 naming it); content that never went through that check
 * shows it as the literal text it is. A token naming a field that does not exist (or no longer
 * does) shows its default, or nothing. To show two braces as text, write `\{\{` in Markdown or
 * `&#123;&#123;` in HTML.
 *
 * The scan is linear in the text: at each `{{` one bounded, anchored match (fields ≤ 64
 * characters, the default ≤ 500), so a 100,000-character body of braces costs one pass.
 */

/** A token as the renderer needs it: the field's path and the default, already HTML. */
export interface TokenRef {
  /** `first_name`, or `fields.<key>` for a custom field. */
  field: string;
  /** The default as HTML text (escaped), '' when none. */
  fallback: string;
}

export interface FoundToken extends TokenRef {
  start: number;
  end: number;
  /** The token as written. */
  source: string;
}

export interface TokenProblem {
  start: number;
  /** The text the author wrote, cut to a readable length. */
  source: string;
  message: string;
}

/** How the text is written: plain text (a heading, Markdown) or HTML (an html section, a slot). */
export type TokenMode = 'text' | 'html';

const NAME = '[A-Za-z_][A-Za-z0-9_]{0,63}';
// Sticky: tried exactly at one `{{`. In HTML the default may not hold markup.
const TOKEN_TEXT = new RegExp(`\\{\\{\\s*contact\\.(${NAME}(?:\\.${NAME})?)\\s*(?:\\|\\s*default\\s*:\\s*(?:"([^"]{0,500})"|'([^']{0,500})')\\s*)?\\}\\}`, 'y');
const TOKEN_HTML = new RegExp(`\\{\\{\\s*contact\\.(${NAME}(?:\\.${NAME})?)\\s*(?:\\|\\s*default\\s*:\\s*(?:"([^"<>]{0,500})"|'([^'<>]{0,500})')\\s*)?\\}\\}`, 'y');

export const MAX_PROBLEMS = 10;

export const SHAPE = 'write {{ contact.FIELD }} or {{ contact.FIELD | default: "text" }}';

/** Whether the text may hold a token at all (the cheap test before a scan). */
export const mayHaveTokens = (text: string): boolean => text.includes('{{');

/** A default written in HTML is already HTML text: kept, with any `&` that starts no entity escaped. */
const htmlFallback = (s: string) => s.replace(/&(?![A-Za-z][A-Za-z0-9]{0,31};|#[0-9]{1,7};|#[xX][0-9A-Fa-f]{1,6};)/g, '&amp;');

function quote(text: string, start: number): string {
  const close = text.indexOf('}}', start + 2);
  if (close >= 0 && close + 2 - start <= 120) return text.slice(start, close + 2);
  return start + 60 < text.length ? `${text.slice(start, start + 60)}…` : text.slice(start);
}

/**
 * The tokens in `text[from, to)` and what is wrong with the rest (the first MAX_PROBLEMS, with
 * `problemCount` counting all). Offsets are into `text`.
 */
export function scanTokens(
  text: string,
  mode: TokenMode,
  from = 0,
  to = text.length,
): { tokens: FoundToken[]; problems: TokenProblem[]; problemCount: number } {
  const tokens: FoundToken[] = [];
  const problems: TokenProblem[] = [];
  let problemCount = 0;
  const re = mode === 'html' ? TOKEN_HTML : TOKEN_TEXT;
  // A `{{` after the last `}}` can never close: known without a search per `{{`.
  const lastClose = text.lastIndexOf('}}', to - 2);
  let at = text.indexOf('{{', from);
  while (at >= 0 && at + 1 < to) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (m && re.lastIndex <= to) {
      const raw = m[2] ?? m[3] ?? '';
      tokens.push({ start: at, end: re.lastIndex, source: m[0], field: m[1]!, fallback: mode === 'html' ? htmlFallback(raw) : escapeHtml(raw) });
      at = text.indexOf('{{', re.lastIndex);
      continue;
    }
    if (problemCount++ < MAX_PROBLEMS) {
      const unclosed = lastClose < at + 2;
      problems.push({
        start: at,
        source: quote(text, at),
        message: unclosed ? 'has no closing }} after it' : `is not a personalisation token: ${SHAPE}`,
      });
    }
    // The next `{{` may start inside this one (`{{{contact.x}}}`, `{{ {{contact.x}} }}`).
    at = text.indexOf('{{', at + 1);
  }
  return { tokens, problems, problemCount };
}

const CORE = new Set<string>(CORE_COLUMNS);

/** Whether a token's field is one tokens may show: a built-in field, or `fields.<key>` of an existing custom field. */
export function knownField(field: string, customKeys: ReadonlySet<string>): boolean {
  if (field.startsWith('fields.')) return customKeys.has(field.slice(7));
  return CORE.has(field);
}

export function unknownFieldMessage(field: string): string {
  const what = field.startsWith('fields.') ? `there is no custom field "${field.slice(7)}"` : `"${field}" is not a contact field tokens can show`;
  return `${what} (tokens show ${CORE_COLUMNS.join(', ')}, or fields.<key> of a custom field)`;
}

/** The HTML a token shows for these values: the value escaped, else the default. */
export function tokenHtml(values: ReadonlyMap<string, string> | null | undefined, t: TokenRef): string {
  const v = values?.get(t.field);
  return v === undefined || v === '' ? t.fallback : escapeHtml(v);
}
