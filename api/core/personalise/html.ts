import type { Ctx } from '../context';
import type { FieldError } from '../errors';
import { knownField, mayHaveTokens, scanTokens, tokenHtml, unknownFieldMessage, type TokenMode } from './tokens';
import type { Viewer } from './who';

// Where in HTML a token may be shown, and the one-shot substitution slots use.
//
// A token is shown only in element text: never inside a tag (an attribute value, a link or image
// address: a value there could become a javascript: URL or break out of the attribute), a
// comment, or a raw-text element (script, style, textarea, title…). There it stays the literal
// text it was. A substituted value is always HTML-escaped, so it shows as text whatever it holds.

const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript', 'plaintext']);
const SPACE = new Set([' ', '\t', '\n', '\r', '\f']);

/** The index just after the `>` ending the tag whose name starts at `i`; quoted attribute values may hold `>`. */
function tagEnd(html: string, i: number): number {
  let quote = '';
  let prev = '';
  for (; i < html.length; i++) {
    const ch = html[i]!;
    if (quote) {
      if (ch === quote) (quote = ''), (prev = ch);
      continue;
    }
    if (ch === '>') return i + 1;
    if ((ch === '"' || ch === "'") && prev === '=') quote = ch;
    else if (!SPACE.has(ch)) prev = ch;
  }
  return html.length;
}

/** The ranges [start, end) of `html` that are element text. Linear in the length of `html`. */
export function textRuns(html: string): [number, number][] {
  const runs: [number, number][] = [];
  const n = html.length;
  let start = 0;
  let i = 0;
  while (i < n) {
    const lt = html.indexOf('<', i);
    if (lt < 0) break;
    if (!/[A-Za-z/!?]/.test(html[lt + 1] ?? '')) {
      i = lt + 1;
      continue;
    }
    if (lt > start) runs.push([start, lt]);
    let end: number;
    if (html.startsWith('<!--', lt)) {
      const close = html.indexOf('-->', lt + 4);
      end = close < 0 ? n : close + 3;
    } else {
      end = tagEnd(html, lt + 1);
      const name = /^<([A-Za-z][A-Za-z0-9-]{0,31})/.exec(html.slice(lt, lt + 34))?.[1]?.toLowerCase();
      if (name && RAW_TEXT.has(name)) {
        const closing = new RegExp(`</${name}`, 'ig');
        closing.lastIndex = end;
        const m = closing.exec(html);
        end = m ? tagEnd(html, m.index + 1) : n;
      }
    }
    i = start = end;
  }
  if (start < n) runs.push([start, n]);
  return runs;
}

/**
 * Finished HTML (a slot's variant, sanitised) with its tokens filled in for this viewer: a proven
 * browser's own contact fields, a form-submitting browser's own submitted values (see who.ts),
 * else each token's default. Tokens outside element text stay as written. HTML without `{{` is
 * returned as it is.
 */
export function personaliseHtml(_ctx: Ctx, html: string, viewer: Viewer | null): string {
  if (!mayHaveTokens(html)) return html;
  const values = viewer?.values;
  let out = '';
  let last = 0;
  for (const [a, b] of textRuns(html)) {
    const at = html.indexOf('{{', a);
    if (at < 0) break;
    if (at + 1 >= b) continue;
    for (const t of scanTokens(html, 'html', a, b).tokens) {
      out += html.slice(last, t.start) + tokenHtml(values, t);
      last = t.end;
    }
  }
  return last === 0 ? html : out + html.slice(last);
}

/**
 * What is wrong with the tokens of content that takes them, for a 422 when it is saved (a slot's
 * variant): malformed tokens, unknown fields, tokens inside a tag. Named `field`, each message
 * quoting the token. `customKeys`: the custom fields' keys (loadFieldDefs).
 */
export function tokenErrors(text: string, field: string, mode: TokenMode, customKeys: ReadonlySet<string>): FieldError[] {
  if (!mayHaveTokens(text)) return [];
  const scan = scanTokens(text, mode);
  const errors: FieldError[] = scan.problems.map((p) => ({ field, message: `"${p.source}" ${p.message}` }));
  if (scan.problemCount > scan.problems.length) errors.push({ field, message: `and ${scan.problemCount - scan.problems.length} more "{{" that start no token` });
  const runs = mode === 'html' ? textRuns(text) : null;
  for (const t of scan.tokens) {
    if (!knownField(t.field, customKeys)) errors.push({ field, message: `"${t.source}": ${unknownFieldMessage(t.field)}` });
    else if (runs && !runs.some(([a, b]) => a <= t.start && t.end <= b)) errors.push({ field, message: `"${t.source}" ${IN_TAG}` });
  }
  return errors;
}

export const IN_TAG = 'is inside a tag, a link or an image address: tokens are shown only in text';
