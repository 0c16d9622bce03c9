import { Parser } from 'htmlparser2';
import { renderMarkdown, sanitiseHtml } from '../pages/sanitise';
import type { SlotVariant } from './schema';

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

/** Who the content is for: the contact a browser has proven it is, or null (core/tracking/visitors.ts provenContact). */
export interface Who {
  contactId: number | null;
}

/**
 * The one place a variant's HTML is finalised for one visitor, just before it is sent.
 * Personalisation tokens ({{contact.first_name | default: "there"}}) plug in here: they may
 * use `who.contactId` only (never set for an unproven browser). Whatever this returns is
 * sanitised again when it differs from what it was given, so a token's value cannot add markup.
 */
export function finalise(html: string, _who: Who): string {
  return html;
}

/** A variant as sent to one visitor: finalised, and re-sanitised when finalising changed it. */
export function deliver(prepared: { html: string; tree: Node[] }, who: Who): Node[] {
  const out = finalise(prepared.html, who);
  return out === prepared.html ? prepared.tree : toTree(sanitiseHtml(out));
}
