// HTML shown, never run, in a frame of the dashboard's, under the dashboard's own
// Content-Security-Policy: the walk the email preview (dashboard/emails/frame.tsx), the landing
// page preview (dashboard/pages/frame.tsx) and the slot content preview share.
//
// The frame is sandboxed without allow-scripts (nothing in it can run, whatever the HTML says)
// but with allow-same-origin, so that the dashboard can fill it: the HTML is parsed in an inert
// document (DOMParser loads and runs nothing), cleaned (the `drop` elements, event handlers and
// the `dropAttributes`), and moved in. The frame inherits the dashboard's policy, which allows no
// inline style: style attributes and <style> blocks never reach a parser as such (even an inert
// document reports them against the policy); they are taken out of the markup first and applied
// through the CSSOM (element.style, a constructed stylesheet), which that policy does not govern.
// Images from other sites are not loaded (the policy allows none): they show as a dashed box with
// their alt text.

export interface InertOptions {
  /** Elements removed with their content (a selector list). */
  drop: string;
  /** Attributes removed besides the event handlers (on…), lower case. */
  dropAttributes: string[];
  /** Elements whose `src` from another site is not loaded (a selector list of local names). */
  blockedIn: string[];
  /** data:image/… sources count as this site's. */
  dataImages: boolean;
  /** The dashed box a blocked image shows as. */
  blockedBox: { minWidth: string; minHeight: string };
  /** Whether a <style> block that is only white space still makes a stylesheet. */
  skipBlankSheets: boolean;
}

const safeCss = (css: string) => css.replace(/url\(\s*(['"]?)(?!data:)[^)]*\1\s*\)/gi, 'none').replace(/@import[^;]*;?/gi, '');

const sameSite = (u: string, dataImages: boolean) => {
  if (dataImages && /^data:image\//i.test(u)) return true;
  try {
    return new URL(u, location.href).origin === location.origin;
  } catch {
    return false;
  }
};

/** Fills `frame` with `html` as described above; answers its document and how many images were not loaded. */
export function fillInertFrame(frame: HTMLIFrameElement, html: string, o: InertOptions): { doc: Document; blocked: number } | null {
  const doc = frame.contentDocument;
  if (!doc) return null;
  const sheets: string[] = [];
  const source = html
    .replace(/<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi, (_, css: string) => (sheets.push(safeCss(css)), ''))
    // Event handler attributes are renamed too: Chromium checks them against the policy as they are parsed (and says so in the console).
    .replace(/<[a-zA-Z][^>]*>/g, (tag) => tag.replace(/(\s)style(\s*=)/gi, '$1data-ll-css$2').replace(/(\s)(on[a-z]+\s*=)/gi, '$1data-ll-$2'));
  const parsed = new DOMParser().parseFromString(source, 'text/html');
  parsed.querySelectorAll(o.drop).forEach((e) => e.remove());
  const styles: string[] = [];
  let blocked = 0;
  parsed.querySelectorAll('*').forEach((el) => {
    for (const a of [...el.attributes]) {
      const n = a.name.toLowerCase();
      if (n.startsWith('on') || n.startsWith('data-ll-on') || o.dropAttributes.includes(n)) el.removeAttribute(a.name);
    }
    const style = el.getAttribute('data-ll-css');
    if (style !== null) el.setAttribute('data-ll-css', String(styles.push(safeCss(style)) - 1));
    if (o.blockedIn.includes(el.localName)) {
      const src = el.getAttribute('src');
      if (src !== null && !sameSite(src, o.dataImages)) {
        el.removeAttribute('src');
        el.setAttribute('data-ll-blocked', src);
        blocked++;
      }
    }
  });
  const root = doc.importNode(parsed.documentElement, true);
  doc.replaceChild(root, doc.documentElement);
  doc.querySelectorAll<HTMLElement>('[data-ll-css]').forEach((el) => {
    el.style.cssText = styles[Number(el.getAttribute('data-ll-css'))] ?? '';
    el.removeAttribute('data-ll-css');
  });
  doc.querySelectorAll<HTMLElement>('[data-ll-blocked]').forEach((el) => {
    el.style.outline = '1px dashed #888';
    el.style.minWidth = o.blockedBox.minWidth;
    el.style.minHeight = o.blockedBox.minHeight;
  });
  const win = frame.contentWindow as (Window & typeof globalThis) | null;
  try {
    if (win && (o.skipBlankSheets ? sheets.some((s) => s.trim()) : sheets.length)) {
      const sheet = new win.CSSStyleSheet();
      sheet.replaceSync(sheets.join('\n'));
      doc.adoptedStyleSheets = [sheet];
    }
  } catch {
    // A stylesheet the browser cannot take: the content shows with its inline styles only.
  }
  return { doc, blocked };
}

/** Sizes the frame to its content, between `min` and `max` pixels, now and after the next frame. */
export function fitFrame(frame: HTMLIFrameElement, doc: Document, min: number, max: number) {
  const fit = () => (frame.style.height = `${Math.min(Math.max(doc.documentElement.scrollHeight, min), max)}px`);
  fit();
  requestAnimationFrame(fit);
}
