import type { FormRecord } from '../forms/forms';
import { embedForm } from '../forms/embed';
import type { SiteRecord } from '../tracking/sites';
import { escapeHtml as esc } from '../util/html';
import type { Slot, Template } from './cache';
import type { TokenRef } from '../personalise/tokens';
import type { PageView } from './pages';
import { renderMarkdown, sanitiseHtml } from './sanitise';
import type { Leaf, Section } from './schema';

// A page as static HTML: no client framework, the tracking tag built in (with the response's CSP
// nonce), each form as the no-JS form posting to /f/{id} inside the placeholder the widget
// enhances (the widget's shadow root takes the placeholder's place; without JavaScript the plain
// form is what shows). Everything from the page is escaped, or sanitised where it is HTML.

// Holes in the rendered text, filled per response. \u0001 never survives the API's input
// cleaning (core/util/text.ts), so page content cannot fake one.
const NONCE = '\u0001N\u0001';
const SID = '\u0001S\u0001';
const stamp = (formId: number) => `\u0001T${formId}\u0001`;

const CSS = `*{box-sizing:border-box}body{margin:0;font:17px/1.6 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1a1a1a;background:#fff}
main{max-width:60rem;margin:0 auto;padding:1.5rem 1.25rem 3rem}img{max-width:100%;height:auto}a{color:#1f4fd1}
h1,h2,h3{line-height:1.2}.hero{display:grid;gap:1.5rem;align-items:center;padding:2.5rem 0}@media(min-width:48rem){.hero.with-img{grid-template-columns:1fr 1fr}}
.hero h1{font-size:clamp(2rem,5vw,3rem);margin:0 0 .5rem}.hero p{font-size:1.2em;margin:0 0 1.25rem;color:#333}
.btn{display:inline-block;padding:.7rem 1.4rem;border-radius:6px;font-weight:600;text-decoration:none;background:#1f4fd1;color:#fff}
.btn.secondary{background:#fff;color:#1f4fd1;border:2px solid #1f4fd1}.cta{margin:1.5rem 0}
.cols{display:grid;gap:1.5rem}@media(min-width:48rem){.cols-2{grid-template-columns:repeat(2,1fr)}.cols-3{grid-template-columns:repeat(3,1fr)}.cols-4{grid-template-columns:repeat(4,1fr)}}
figure{margin:1.5rem 0}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.4rem .6rem}pre{overflow:auto;background:#f4f4f4;padding:1rem}
.form{margin:2rem 0;max-width:34rem}.f{margin:0 0 1rem}label,legend{display:block;font-weight:600;margin-bottom:.25rem}
fieldset{border:0;margin:0 0 1rem;padding:0}fieldset label,.check label{display:inline;font-weight:400}
input:not([type=checkbox]):not([type=radio]),select,textarea{width:100%;padding:.5rem;font:inherit;border:1px solid #767676;border-radius:4px}
textarea{min-height:6rem}.help{margin:.25rem 0 0;color:#555;font-size:.9em}.err{margin:.25rem 0 0;color:#b00020;font-weight:600}
.summary{border:2px solid #b00020;padding:.5rem 1rem;margin-bottom:1rem}form button{font:inherit;padding:.6rem 1.3rem;border:0;border-radius:4px;background:#1f4fd1;color:#fff;cursor:pointer}
.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}`;

export interface RenderInput {
  page: PageView;
  site: SiteRecord;
  /** The active forms by id; a form switched off or deleted since the page was saved is left out. */
  forms: Map<number, FormRecord>;
  /** This server's address (w.js, form posts). */
  base: string;
  canonical: string;
  /** A preview: not for search engines. */
  preview?: boolean;
  /** Served in an A/B test: the page view and the buttons' clicks name the test and variant (core/pages/arms.ts). */
  ab?: { pageId: number; testId: number; variantId: number };
}

// The tag's before-send hook adds the test to the page view (the tag itself stays generic).
const AB_HOOK = 'llPageTest';

function link(url: string, label: string, cls: string, o: RenderInput, ctaId?: string): string {
  // In a test, a click is a custom event (cta_click) sent by the tag's click tracking.
  const ab = o.ab
    ? ` data-leadline-event="cta_click" data-leadline-prop-page_id="${o.ab.pageId}" data-leadline-prop-page_test_id="${o.ab.testId}" data-leadline-prop-variant_id="${o.ab.variantId}"${ctaId ? ` data-leadline-prop-cta="${esc(ctaId)}"` : ''}`
    : '';
  return `<a class="${cls}" href="${esc(url)}"${ab}>${esc(label)}</a>`;
}

function leaf(s: Leaf, o: RenderInput, formIndex: { n: number }): string {
  switch (s.type) {
    case 'markdown':
      return `<div class="md">${renderMarkdown(s.markdown)}</div>`;
    case 'html':
      return `<div class="html">${sanitiseHtml(s.html)}</div>`;
    case 'image': {
      const size = `${s.width ? ` width="${s.width}"` : ''}${s.height ? ` height="${s.height}"` : ''}`;
      const img = `<img src="${esc(s.src)}" alt="${esc(s.alt)}"${size} loading="lazy">`;
      return `<figure class="img">${s.link ? `<a href="${esc(s.link)}">${img}</a>` : img}</figure>`;
    }
    case 'cta':
      return `<p class="cta">${link(s.url, s.label, `btn ${s.style}`, o, s.id)}</p>`;
    case 'form': {
      const form = o.forms.get(s.form_id);
      if (!form) return '';
      const n = formIndex.n++;
      let html = embedForm({ form, action: `${o.base}/f/${form.id}`, siteKey: o.site.public_key, stamp: stamp(form.id), returnUrl: null, sid: SID });
      // Two forms on one page: their element ids stay unique.
      if (n > 0) html = html.replace(/(["# ])lf-/g, `$1lf${n}-`);
      const heading = s.heading ? `<h2>${esc(s.heading)}</h2>` : '';
      return `<section class="form">${heading}<div data-leadline-form="${form.id}">${html}</div></section>`;
    }
  }
}

function section(s: Section, o: RenderInput, formIndex: { n: number }): string {
  if (s.type === 'hero') {
    const cta = s.cta ? `<p>${link(s.cta.url, s.cta.label, 'btn primary', o, s.cta.id)}</p>` : '';
    const img = s.image ? `<img src="${esc(s.image)}" alt="${esc(s.image_alt)}">` : '';
    const sub = s.subheading ? `<p>${esc(s.subheading)}</p>` : '';
    return `<header class="hero${img ? ' with-img' : ''}"><div><h1>${esc(s.heading)}</h1>${sub}${cta}</div>${img}</header>`;
  }
  if (s.type === 'columns') {
    const cols = s.columns.map((col) => `<div class="col">${col.map((l) => leaf(l, o, formIndex)).join('')}</div>`).join('');
    return `<div class="cols cols-${s.columns.length}">${cols}</div>`;
  }
  return leaf(s, o, formIndex);
}

function head(o: RenderInput): string {
  const p = o.page;
  const meta = [
    `<meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`,
    `<title>${esc(p.title)}</title>`,
    // No icon to fetch (a browser would ask for /favicon.ico and log its 404).
    '<link rel="icon" href="data:,">',
    p.description ? `<meta name="description" content="${esc(p.description)}">` : '',
    o.preview ? '<meta name="robots" content="noindex,nofollow">' : '',
    `<link rel="canonical" href="${esc(o.canonical)}">`,
    `<meta property="og:type" content="website"><meta property="og:title" content="${esc(p.title)}"><meta property="og:url" content="${esc(o.canonical)}">`,
    p.description ? `<meta property="og:description" content="${esc(p.description)}">` : '',
    p.og_image ? `<meta property="og:image" content="${esc(p.og_image)}"><meta name="twitter:card" content="summary_large_image">` : '',
    `<style nonce="${NONCE}">${CSS}</style>`,
    o.ab
      ? `<script nonce="${NONCE}">window.${AB_HOOK}=function(e){if(e.t=="pv")e.p=Object.assign({},e.p,{page_id:${o.ab.pageId},page_test_id:${o.ab.testId},variant_id:${o.ab.variantId}});return e}</script>`
      : '',
    // The tracking tag: page views, clicks and the widget that enhances the forms. A site that
    // counts automated browsers (allow_automation) has the tag run on local addresses and in them too.
    `<script async src="${esc(o.base)}/w.js" data-site="${esc(o.site.public_key)}"${o.site.settings.consent_required ? ' data-consent="required"' : ''}${o.site.settings.allow_automation ? ' data-allow-local' : ''}${o.ab ? ` data-before-send="${AB_HOOK}"` : ''} nonce="${NONCE}"></script>`,
  ];
  return meta.join('');
}

/** The page's HTML, with its per-response holes. */
export function renderPage(o: RenderInput): Template {
  const formIndex = { n: 0 };
  const body = o.page.sections.map((s) => section(s, o, formIndex)).join('');
  const title = o.page.sections.some((s) => s.type === 'hero') ? '' : `<h1>${esc(o.page.title)}</h1>`;
  const html = `<!doctype html><html lang="${esc(o.page.language)}"><head>${head(o)}</head><body><main>${title}${body}</main></body></html>`;
  return toTemplate(html);
}

function toTemplate(html: string): Template {
  const out: Template = [];
  const re = /\u0001([NST])(\d*)\u0001/g;
  let last = 0;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    out.push(html.slice(last, m.index));
    const slot: Slot = m[1] === 'N' ? { nonce: true } : m[1] === 'S' ? { sid: true } : { stamp: Number(m[2]) };
    out.push(slot);
    last = re.lastIndex;
  }
  out.push(html.slice(last));
  return out;
}

/** A response's HTML from a template. */
export function fill(
  t: Template,
  values: { nonce: string; sid: () => string; stamp: (formId: number) => string; token?: (t: TokenRef) => string },
): string {
  let s = '';
  for (const part of t) {
    if (typeof part === 'string') s += part;
    else if ('nonce' in part) s += values.nonce;
    else if ('sid' in part) s += values.sid();
    else if ('token' in part) s += values.token ? values.token(part.token) : part.token.fallback;
    else s += values.stamp(part.stamp);
  }
  return s;
}

const PLAIN = 'body{margin:0;font:17px/1.6 system-ui,sans-serif;color:#1a1a1a}main{max-width:40rem;margin:4rem auto;padding:0 1.25rem}';

/** The page for an address with no published page (404), or a preview link that no longer works. */
export function renderMessagePage(o: { title: string; message: string; nonce: string; lang?: string }): string {
  return `<!doctype html><html lang="${esc(o.lang ?? 'en')}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${esc(o.title)}</title><style nonce="${esc(o.nonce)}">${PLAIN}</style></head><body><main><h1>${esc(o.title)}</h1><p>${esc(o.message)}</p></main></body></html>`;
}

/** sitemap.xml: the published pages of one page set. */
export function renderSitemap(urls: { loc: string; lastmod: string }[]): string {
  const items = urls.map((u) => `<url><loc>${esc(u.loc)}</loc><lastmod>${esc(u.lastmod)}</lastmod></url>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${items}</urlset>\n`;
}
