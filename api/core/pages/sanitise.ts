import sanitizeHtml from 'sanitize-html';
import { Marked } from 'marked';

// User HTML and Markdown on a page go through one allow-list (sanitize-html): text structure,
// links and images, tables; no script, style, iframe, form, SVG or MathML; no event handler or
// style attribute (no CSS expressions); URLs only http(s), mailto:, tel: or relative (no
// javascript:, data:, vbscript:). Markdown is rendered by marked, raw HTML included, and the
// result goes through the same allow-list: the policy is the one place that decides.

const TAGS = [
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'br', 'hr', 'blockquote', 'pre', 'code', 'span', 'div',
  'strong', 'b', 'em', 'i', 'u', 's', 'del', 'ins', 'mark', 'small', 'sub', 'sup', 'abbr', 'cite', 'q', 'kbd',
  'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'a', 'img', 'figure', 'figcaption',
  'table', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'caption', 'section', 'article', 'aside', 'details', 'summary',
];

const POLICY: sanitizeHtml.IOptions = {
  allowedTags: TAGS,
  // Dropped with their content (sanitize-html's default keeps the text of unknown tags).
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'svg', 'math', 'template', 'iframe', 'object', 'embed', 'title'],
  allowedAttributes: {
    a: ['href', 'title', 'rel', 'target'],
    img: ['src', 'alt', 'title', 'width', 'height', 'loading'],
    abbr: ['title'],
    th: ['colspan', 'rowspan', 'scope'],
    td: ['colspan', 'rowspan'],
    ol: ['start', 'reversed'],
    // No id or name: user markup must not clobber globals the tag reads (DOM clobbering).
    '*': ['class', 'lang', 'dir'],
  },
  allowedClasses: { '*': [/^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/] },
  allowedSchemes: ['http', 'https', 'mailto', 'tel'],
  allowedSchemesByTag: { img: ['http', 'https'] },
  allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
  allowProtocolRelative: false,
  allowedStyles: {},
  disallowedTagsMode: 'discard',
  enforceHtmlBoundary: false,
  parseStyleAttributes: false,
  transformTags: {
    // Links leaving the page open no window handle back to it.
    a: (tagName, attribs) => {
      const out = { ...attribs };
      if (out.target) {
        out.target = '_blank';
        out.rel = 'noopener noreferrer';
      }
      return { tagName, attribs: out };
    },
    img: (tagName, attribs) => ({ tagName, attribs: { ...attribs, loading: 'lazy' } }),
  },
};

/** User HTML as it may appear on a page. */
export function sanitiseHtml(html: string): string {
  return sanitizeHtml(html, POLICY);
}

const md = new Marked({ gfm: true, breaks: false, async: false });

/** Markdown rendered to HTML, then through the same allow-list. */
export function renderMarkdown(markdown: string): string {
  return sanitiseHtml(md.parse(markdown) as string);
}
