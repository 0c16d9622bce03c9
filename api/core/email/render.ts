import { Liquid, LiquidError, type Template } from 'liquidjs';
import { LRUCache } from 'lru-cache';
import { ValidationError } from '../errors';
import { escapeHtml } from '../util/html';
import { randomToken } from '../util/crypto';

/**
 * Email templates: Liquid, parsed from strings only, sandboxed and strict.
 *
 * - No file system and no partials: `include`, `render` and `layout` are not tags here, and the
 *   in-memory template map is empty, so a template can only read the variables it is given.
 * - Only own properties are readable (no `constructor`, no prototype walk).
 * - An unknown filter is an error when the email is saved; an unknown variable renders empty
 *   (a contact without a first name is normal), with `| default:` for a fallback.
 * - In the HTML body every `{{ }}` output is HTML-escaped unless the author writes `| raw`:
 *   a contact named `<script>` stays text. Subject, preheader and plain text are not HTML.
 * - Parsing, render time and memory are bounded, so a template cannot stall the send loop.
 */
const OPTIONS = {
  strictFilters: true,
  strictVariables: false,
  ownPropertyOnly: true,
  templates: {},
  parseLimit: 1_000_000,
  renderLimit: 2_000,
  memoryLimit: 32_000_000,
} as const;

function engine(escape: boolean): Liquid {
  const liquid = new Liquid({ ...OPTIONS, ...(escape ? { outputEscape: 'escape' as const } : {}) });
  for (const tag of ['include', 'render', 'layout', 'block']) delete liquid.tags[tag];
  return liquid;
}

const htmlLiquid = engine(true);
const rawLiquid = engine(false);

/**
 * juice (with cheerio) and html-to-text run only when an email is saved, never when one is sent:
 * loaded on first use, so a process that only sends (and every Worker isolate that only serves
 * links) does not carry their code and parsers on its heap.
 */
let compilers: Promise<{ juice: typeof import('juice/client.js'); convert: typeof import('html-to-text').convert }> | null = null;
function loadCompilers() {
  compilers ??= Promise.all([import('juice/client.js'), import('html-to-text')]).then(([j, h]) => {
    const juice = ((j as { default?: unknown }).default ?? j) as typeof import('juice/client.js');
    // juice's own placeholders for template syntax cost a regex pass over the whole HTML per
    // block when they are put back (minutes for a long newsletter); Liquid is protected here instead.
    for (const k of Object.keys(juice.codeBlocks)) delete juice.codeBlocks[k];
    const convert = (h as { convert?: typeof import('html-to-text').convert }).convert ?? (h as unknown as { default: typeof import('html-to-text') }).default.convert;
    return { juice, convert };
  });
  compilers.catch(() => (compilers = null));
  return compilers;
}

const LIQUID_BLOCK = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g;

/**
 * Replaces every Liquid tag and output with a placeholder the HTML parser keeps where it is (in
 * text, in an attribute value, as an attribute name, between table rows), and gives the way
 * back, in one pass each. The lazy pattern scans to the end of the text for an opening marker
 * with no closing one after it, so thousands of those (Liquid allows them inside a raw block)
 * would cost quadratic time: such HTML is refused first. Every opening marker has a closing one
 * after it exactly when the last opening is followed by a closing.
 */
function protectLiquid(html: string): { html: string; restore: (s: string) => string } | null {
  for (const [open, close] of [
    ['{{', '}}'],
    ['{%', '%}'],
  ] as const) {
    const at = html.lastIndexOf(open);
    if (at >= 0 && html.indexOf(close, at + open.length) < 0) return null;
  }
  const nonce = randomToken(12).toLowerCase();
  const blocks: string[] = [];
  const out = html.replace(LIQUID_BLOCK, (m) => `llq${nonce}n${blocks.push(m) - 1}x`);
  // As an attribute name the placeholder comes back with an empty value.
  const back = new RegExp(`llq${nonce}n(\\d+)x(?:="")?`, 'gi');
  return { html: out, restore: (s) => s.replace(back, (_, i: string) => blocks[Number(i)] ?? '') };
}

export type TemplateField = 'subject' | 'preheader' | 'html' | 'text';

export interface EmailSources {
  subject: string;
  preheader: string | null;
  html: string;
  text: string | null;
}

export interface ParsedEmail {
  subject: Template[];
  preheader: Template[] | null;
  html: Template[];
  text: Template[];
}

/** A Liquid error as a 422 naming the field and the line where the author can find it. */
function templateError(field: TemplateField, e: unknown, note = ''): ValidationError {
  if (e instanceof LiquidError) {
    const [line, col] = e.token?.getPosition?.() ?? [];
    const what = e.message.replace(/, line:\d+, col:\d+$/, '');
    const where = line ? `line ${line}, column ${col}: ` : '';
    return new ValidationError([{ field, message: `${note}${where}${what}` }]);
  }
  return new ValidationError([{ field, message: `${note}${e instanceof Error ? e.message : String(e)}` }]);
}

function parse(liquid: Liquid, field: TemplateField, source: string, note = ''): Template[] {
  try {
    return liquid.parse(source);
  } catch (e) {
    throw templateError(field, e, note);
  }
}

const TEXT_OPTIONS = {
  // Wrapping could split a Liquid string literal across lines; mail clients wrap plain text anyway.
  wordwrap: false as const,
  selectors: [
    // Upper-casing would turn {{ contact.first_name }} into another variable.
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
    { selector: 'img', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
  ],
};

/**
 * Checks an email's templates and makes what sends render: the HTML with its CSS inlined
 * (mail clients drop <style> in places) and the plain text, given or generated from the HTML.
 * Both stay Liquid, so this runs once per save, not once per send. Throws a 422 naming the
 * field and line of the first template error.
 */
export async function compileSources(src: EmailSources): Promise<{ htmlCompiled: string; textCompiled: string }> {
  parse(rawLiquid, 'subject', src.subject);
  if (src.preheader !== null) parse(rawLiquid, 'preheader', src.preheader);
  parse(htmlLiquid, 'html', src.html);
  if (src.text !== null) parse(rawLiquid, 'text', src.text);
  const { juice, convert } = await loadCompilers();
  const protectedHtml = protectLiquid(src.html);
  if (!protectedHtml) throw new ValidationError([{ field: 'html', message: 'has a "{{" or "{%" with no "}}" or "%}" after it' }]);
  let htmlCompiled: string;
  try {
    htmlCompiled = protectedHtml.restore(
      juice(protectedHtml.html, { preserveMediaQueries: true, preserveFontFaces: true, removeStyleTags: true, applyWidthAttributes: true, applyHeightAttributes: true }),
    );
  } catch (e) {
    throw new ValidationError([{ field: 'html', message: `CSS could not be inlined: ${e instanceof Error ? e.message : String(e)}` }]);
  }
  parse(htmlLiquid, 'html', htmlCompiled, 'after inlining CSS, ');
  let textCompiled: string;
  try {
    textCompiled = src.text ?? convert(src.html, TEXT_OPTIONS).trim();
  } catch (e) {
    throw new ValidationError([{ field: 'html', message: `no plain text could be made from it (give \`text\` yourself): ${e instanceof Error ? e.message : String(e)}` }]);
  }
  if (src.text === null) parse(rawLiquid, 'text', textCompiled, 'the plain text generated from the HTML does not parse (give `text` yourself): ');
  // A template can parse and still fail every render (a loop over a huge range, a bad filter
  // argument): one trial render for a recipient with no data finds that now, on the HTML as
  // written, so that a line number is the author's.
  const trial: ParsedEmail = {
    subject: parse(rawLiquid, 'subject', src.subject),
    preheader: src.preheader === null ? null : parse(rawLiquid, 'preheader', src.preheader),
    html: parse(htmlLiquid, 'html', src.html),
    text: parse(rawLiquid, 'text', textCompiled),
  };
  await renderParts(trial, SAMPLE_SCOPE);
  return { htmlCompiled, textCompiled };
}

const SAMPLE_SCOPE = {
  contact: { id: null, email: null, first_name: null, last_name: null, fields: {}, tags: [], points: 0, stage: null },
  company: {},
  points: 0,
  stage: null,
  unsubscribe_url: 'https://example.com/u/preview',
  preferences_url: 'https://example.com/u/preview?preferences=1',
};

// Parsed templates by email: a send loop renders the same email many times.
const parsedCache = new LRUCache<string, ParsedEmail>({ max: 200 });

export interface CompiledEmailRow {
  id: number;
  updatedAt: number;
  subject: string;
  preheader: string | null;
  htmlCompiled: string;
  textCompiled: string;
}

// The same row object again (the send loop keeps email records for a whole broadcast): no key
// to build and hash (the content key below is the whole email, ~30 KB, per message).
const parsedByRow = new WeakMap<CompiledEmailRow, { of: CompiledEmailRow; parsed: ParsedEmail }>();

export function parsedEmail(row: CompiledEmailRow): ParsedEmail {
  const seen = parsedByRow.get(row);
  // Fields compared too (the same strings compare by reference), in case a caller changed the object.
  if (seen && seen.of.subject === row.subject && seen.of.preheader === row.preheader && seen.of.htmlCompiled === row.htmlCompiled && seen.of.textCompiled === row.textCompiled) {
    return seen.parsed;
  }
  const parsed = parsedByContent(row);
  parsedByRow.set(row, { of: { ...row }, parsed });
  return parsed;
}

function parsedByContent(row: CompiledEmailRow): ParsedEmail {
  // By content, not only id and version: two saves in one millisecond (or one id in two
  // databases in one process, as tests have) must not share a parse.
  const key = `${row.id}:${row.updatedAt}:${row.subject}\u0000${row.preheader ?? '\u0001'}\u0000${row.htmlCompiled}\u0000${row.textCompiled}`;
  let parsed = parsedCache.get(key);
  if (!parsed) {
    parsed = {
      subject: parse(rawLiquid, 'subject', row.subject),
      preheader: row.preheader === null ? null : parse(rawLiquid, 'preheader', row.preheader),
      html: parse(htmlLiquid, 'html', row.htmlCompiled),
      text: parse(rawLiquid, 'text', row.textCompiled),
    };
    parsedCache.set(key, parsed);
  }
  return parsed;
}

// Subject variants of A/B broadcasts, parsed once per text.
const subjectCache = new LRUCache<string, Template[]>({ max: 200 });

/** A subject given apart from its email (an A/B broadcast's variant), parsed; a template error is a 422 naming `field`. */
export function parsedSubject(source: string, field = 'subject'): Template[] {
  let parsed = subjectCache.get(source);
  if (!parsed) {
    try {
      parsed = rawLiquid.parse(source);
    } catch (e) {
      const err = templateError('subject', e);
      throw new ValidationError((err.details ?? []).map((d) => ({ ...d, field })));
    }
    subjectCache.set(source, parsed);
  }
  return parsed;
}

/** Checks a subject given apart from its email: it parses and renders for a recipient with no data. */
export async function checkSubject(source: string, field: string): Promise<void> {
  const parsed = parsedSubject(source, field);
  try {
    await rawLiquid.render(parsed, SAMPLE_SCOPE);
  } catch (e) {
    const err = templateError('subject', e);
    throw new ValidationError((err.details ?? []).map((d) => ({ ...d, field })));
  }
}

export interface RenderedParts {
  subject: string;
  html: string;
  text: string;
}

// Hidden in the body, shown by inbox lists after the subject.
const PREHEADER_STYLE = 'display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all';

/** Renders an email for one recipient's variables. Throws a 422-style ValidationError on a template error. */
export async function renderParts(parsed: ParsedEmail, scope: Record<string, unknown>): Promise<RenderedParts> {
  const run = async (liquid: Liquid, field: TemplateField, tpl: Template[]) => {
    try {
      return String(await liquid.render(tpl, scope));
    } catch (e) {
      throw templateError(field, e);
    }
  };
  // One line: a line break in a header would start another header.
  const subject = (await run(rawLiquid, 'subject', parsed.subject)).replace(/\s+/g, ' ').trim();
  const preheader = parsed.preheader ? (await run(rawLiquid, 'preheader', parsed.preheader)).replace(/\s+/g, ' ').trim() : '';
  let html = await run(htmlLiquid, 'html', parsed.html);
  if (preheader) {
    const div = `<div style="${PREHEADER_STYLE}">${escapeHtml(preheader)}</div>`;
    const body = /<body\b[^>]*>/i.exec(html);
    html = body ? html.slice(0, body.index + body[0].length) + div + html.slice(body.index + body[0].length) : div + html;
  }
  const text = await run(rawLiquid, 'text', parsed.text);
  return { subject, html, text };
}
