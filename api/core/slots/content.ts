import { Parser } from 'htmlparser2';
import { renderMarkdown, sanitiseHtml } from '../pages/sanitise';
import type { SlotVariant } from './schema';
import type { Ctx } from '../context';
import { personaliseHtml } from '../personalise/html';
import { mayHaveTokens } from '../personalise/tokens';
import type { Viewer } from '../personalise/who';

/**
 * A slot variant's content on its way to the browser. It is sanitised by the landing pages'
 * allow-list (core/pages/sanitise.ts: no script, style, event handler, style attribute,
 * javascript: or data: URL) and sent as a tree of elements rather than as HTML, so the widget
 * builds it with createElement, setAttribute and text nodes: no HTML parser in the browser, no
 * innerHTML, nothing a strict CSP or Trusted Types refuses.
 *
 *   Node = "text" | [tag, { attribute: value } | 0, ...Node[]]
 */
export type Node = string | [string, Record<string, string> | 0, ...Node[]];

/** Elements nested deeper than this keep their text and children but lose the element itself. */
const MAX_DEPTH = 32;

/** The variant's HTML after the allow-list (Markdown rendered first). */
export function variantHtml(v: Pick<SlotVariant, 'format' | 'content'>): string {
  return v.format === 'markdown' ? renderMarkdown(v.content) : sanitiseHtml(v.content);
}

/** HTML (already sanitised) as a list of nodes; text is decoded, attributes are kept as written. */
export function toTree(html: string): Node[] {
  const root: Node[] = [];
  // One entry per open tag: its children, or null for an element dropped for depth.
  const stack: { kids: Node[]; kept: boolean }[] = [];
  const kids = () => {
    for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.kept) return stack[i]!.kids;
    return root;
  };
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        const kept = stack.filter((s) => s.kept).length < MAX_DEPTH;
        if (kept) {
          const el: Node = [name, Object.keys(attribs).length ? { ...attribs } : 0];
          kids().push(el);
          stack.push({ kids: el as unknown as Node[], kept });
        } else stack.push({ kids: [], kept });
      },
      ontext(data) {
        const k = kids();
        // Adjacent text (the parser may split it) is one node.
        if (typeof k[k.length - 1] === 'string' && k.length > (k === root ? 0 : 2)) k[k.length - 1] += data;
        else k.push(data);
      },
      onclosetag() {
        stack.pop();
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  return root;
}

/**
 * A variant as sent to one browser: its personalisation tokens ({{contact.first_name | default:
 * "there"}}) filled for `viewer` (core/personalise/who.ts: a proven browser's own fields, a
 * form-submitting browser's own submitted values, else each token's default), the values escaped.
 * Content without tokens keeps its prepared tree; filled content is sanitised again, so a token's
 * value cannot add markup.
 */
export function deliver(ctx: Ctx, prepared: { html: string; tree: Node[] }, viewer: Viewer | null): Node[] {
  if (!mayHaveTokens(prepared.html)) return prepared.tree;
  return toTree(sanitiseHtml(personaliseHtml(ctx, prepared.html, viewer)));
}
