import type { Ctx } from '../context';
import type { FieldError } from '../errors';
import { loadFieldDefs } from '../contacts/fields';
import { randomToken } from '../util/crypto';
import { escapeHtml } from '../util/html';
import type { Slot, Template } from '../pages/cache';
import type { PageView } from '../pages/pages';
import type { Leaf, PageInput, Section } from '../pages/schema';
import { renderMarkdown, sanitiseHtml } from '../pages/sanitise';
import { IN_TAG, textRuns } from './html';
import { knownField, mayHaveTokens, scanTokens, unknownFieldMessage, type FoundToken, type TokenMode } from './tokens';

// Tokens in landing pages. They are shown in the page's text only: Markdown and HTML sections,
// hero heading and subheading, button labels, form headings. Not in the title or description (they
// are also what search results and link previews show), addresses or alt text.
//
// The cached page keeps a hole per token (cache.ts Slot { token }) and each response fills it for
// its own browser (public.ts respond), so a page with tokens is still rendered once for everyone.
// To get there, each token in the page's text becomes a random placeholder word before the page
// is rendered (a word survives Markdown, the sanitiser and escaping unchanged); in the rendered
// HTML, a placeholder in element text becomes the hole and one anywhere else (a link made of a
// token, an attribute) goes back to the token as written, as text.

type Kind = 'markdown' | 'html' | 'plain';
type TextFn = (text: string, field: string, kind: Kind) => string;

function mapLeaf<T extends Section | Leaf>(s: T, path: string, fn: TextFn): T {
  const x = s as Section;
  switch (x.type) {
    case 'markdown':
      return { ...x, markdown: fn(x.markdown, `${path}.markdown`, 'markdown') } as T;
    case 'html':
      return { ...x, html: fn(x.html, `${path}.html`, 'html') } as T;
    case 'cta':
      return { ...x, label: fn(x.label, `${path}.label`, 'plain') } as T;
    case 'form':
      return (x.heading === undefined ? x : { ...x, heading: fn(x.heading, `${path}.heading`, 'plain') }) as T;
    case 'hero':
      return {
        ...x,
        heading: fn(x.heading, `${path}.heading`, 'plain'),
        ...(x.subheading === undefined ? {} : { subheading: fn(x.subheading, `${path}.subheading`, 'plain') }),
        ...(x.cta === undefined ? {} : { cta: { ...x.cta, label: fn(x.cta.label, `${path}.cta.label`, 'plain') } }),
      } as T;
    case 'columns':
      return { ...x, columns: x.columns.map((col, j) => col.map((l, k) => mapLeaf(l, `${path}.columns.${j}.${k}`, fn))) } as T;
    default:
      return s;
  }
}

/** The sections with every text that takes tokens passed through `fn` (named as a 422 names it). */
const mapText = (sections: Section[], fn: TextFn): Section[] => sections.map((s, i) => mapLeaf(s, `sections.${i}`, fn));

const modeOf = (kind: Kind): TokenMode => (kind === 'html' ? 'html' : 'text');

/** Each token of a text replaced by `llt{nonce}n{index}x`, the tokens appended to `found`. */
function protect(text: string, kind: Kind, nonce: string, found: FoundToken[]): string {
  if (!mayHaveTokens(text)) return text;
  const { tokens } = scanTokens(text, modeOf(kind));
  if (!tokens.length) return text;
  let out = '';
  let last = 0;
  for (const t of tokens) {
    out += `${text.slice(last, t.start)}llt${nonce}n${found.push(t) - 1}x`;
    last = t.end;
  }
  return out + text.slice(last);
}

const newNonce = () => randomToken(12).toLowerCase();

export interface ProtectedPage {
  page: PageView;
  tokens: FoundToken[];
  nonce: string;
}

/** The page with placeholders for its tokens, or null when it has none (the page renders as it always did). */
export function protectPage(page: PageView): ProtectedPage | null {
  if (!page.sections.length || !mayHaveTokens(JSON.stringify(page.sections))) return null;
  const nonce = newNonce();
  const tokens: FoundToken[] = [];
  const sections = mapText(page.sections, (text, _field, kind) => protect(text, kind, nonce, tokens));
  return tokens.length ? { page: { ...page, sections }, tokens, nonce } : null;
}

/**
 * The rendered template of a protected page with a `{ token }` hole per placeholder in element
 * text; `personal` when there is at least one (the page's responses differ by browser).
 */
export function withTokenHoles(template: Template, p: ProtectedPage): { template: Template; personal: boolean } {
  const holes: Slot[] = [];
  // Joined with markers for the existing holes, so that tags split by a hole are read whole.
  const html = template.map((part) => (typeof part === 'string' ? part : `\u0001h${holes.push(part) - 1}\u0001`)).join('');
  const runs = textRuns(html);
  let r = 0;
  let personal = false;
  const marked = html.replace(new RegExp(`llt${p.nonce}n(\\d+)x`, 'g'), (m: string, i: string, at: number) => {
    const t = p.tokens[Number(i)]!;
    while (r < runs.length && runs[r]![1] <= at) r++;
    if (r < runs.length && runs[r]![0] <= at && at + m.length <= runs[r]![1]) {
      personal = true;
      return `\u0001k${i}\u0001`;
    }
    return escapeHtml(t.source);
  });
  const out: Template = [];
  const re = /\u0001([hk])(\d+)\u0001/g;
  let last = 0;
  for (let m = re.exec(marked); m; m = re.exec(marked)) {
    out.push(marked.slice(last, m.index));
    const i = Number(m[2]);
    out.push(m[1] === 'h' ? holes[i]! : { token: { field: p.tokens[i]!.field, fallback: p.tokens[i]!.fallback } });
    last = re.lastIndex;
  }
  out.push(marked.slice(last));
  return { template: out, personal };
}

const TOKENISH = /\{\{\s*contact\b/;
const NOT_HERE = 'personalisation tokens are shown only in a page\'s text (Markdown and HTML sections, headings, button labels, form headings), not here';

/**
 * A page's token errors for its 422 when it is saved: malformed tokens, fields tokens cannot
 * show, tokens where they would not show as text (inside a link or image address in Markdown, an
 * attribute in HTML), and tokens in fields that take none. Each names the field and quotes the token.
 */
export async function pageTokenErrors(ctx: Ctx, input: PageInput): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  const textFields = new Set<string>();
  const checks: { field: string; kind: Kind; text: string; tokens: FoundToken[] }[] = [];
  mapText(input.sections, (text, field, kind) => {
    textFields.add(field);
    if (!mayHaveTokens(text)) return text;
    const scan = scanTokens(text, modeOf(kind));
    for (const p of scan.problems) errors.push({ field, message: `"${p.source}" ${p.message}` });
    if (scan.problemCount > scan.problems.length) errors.push({ field, message: `and ${scan.problemCount - scan.problems.length} more "{{" that start no token` });
    if (scan.tokens.length) checks.push({ field, kind, text, tokens: scan.tokens });
    return text;
  });
  const walk = (v: unknown, path: string) => {
    if (typeof v === 'string') {
      if (!textFields.has(path) && TOKENISH.test(v)) errors.push({ field: path, message: NOT_HERE });
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}.${i}`));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
  };
  walk(input, '');
  if (!checks.length) return errors;
  const custom = checks.some((c) => c.tokens.some((t) => t.field.startsWith('fields.'))) ? new Set((await loadFieldDefs(ctx)).keys()) : new Set<string>();
  for (const c of checks) {
    for (const t of c.tokens) if (!knownField(t.field, custom)) errors.push({ field: c.field, message: `"${t.source}": ${unknownFieldMessage(t.field)}` });
    if (c.kind === 'plain') continue; // escaped into an element's text: always shown
    // Rendered as the page renders it, to see where each token lands.
    const nonce = newNonce();
    const found: FoundToken[] = [];
    const source = protect(c.text, c.kind, nonce, found);
    const html = c.kind === 'markdown' ? renderMarkdown(source) : sanitiseHtml(source);
    const runs = textRuns(html);
    const shown = new Set<number>();
    const misplaced = new Set<number>();
    for (const m of html.matchAll(new RegExp(`llt${nonce}n(\\d+)x`, 'g'))) {
      const at = m.index;
      const inText = runs.some(([a, b]) => a <= at && at + m[0].length <= b);
      (inText ? shown : misplaced).add(Number(m[1]));
    }
    found.forEach((t, i) => {
      if (misplaced.has(i)) errors.push({ field: c.field, message: `"${t.source}" ${IN_TAG}` });
      else if (!shown.has(i)) errors.push({ field: c.field, message: `"${t.source}" is where the page cannot show it: tokens are shown only in text` });
    });
  }
  return errors;
}
