// An email's HTML shown, never run, under the dashboard's own Content-Security-Policy.
//
// The frame is sandboxed without allow-scripts (nothing in it can run, whatever the HTML says)
// but with allow-same-origin, so that the dashboard can fill it: the HTML is parsed in an inert
// document (DOMParser loads and runs nothing), cleaned (no script, no frames, no <base>, no
// stylesheet links, nothing fetched from another site), and moved in. The frame inherits the
// dashboard's policy, which allows no inline style: style attributes and <style> blocks are
// applied through the CSSOM instead (element.style, a constructed stylesheet), which that policy
// does not govern. Images from other sites are not loaded (the policy allows none): their alt text
// shows in a dashed box. Links do nothing when clicked.
import { useEffect, useRef } from 'preact/hooks';

const DROP = 'script,noscript,iframe,frame,frameset,object,embed,applet,base,link,meta,form,video,audio,source,track,portal';
const sameSiteUrl = (u: string) => {
  if (/^data:image\//i.test(u)) return true;
  try {
    return new URL(u, location.href).origin === location.origin;
  } catch {
    return false;
  }
};
const safeCss = (css: string) => css.replace(/url\(\s*(['"]?)(?!data:)[^)]*\1\s*\)/gi, 'none').replace(/@import[^;]*;?/gi, '');

export interface FrameInfo {
  /** Images from other sites that were not loaded. */
  blockedImages: number;
  doc: Document;
}

export function EmailFrame(props: { html: string; title: string; onReady?: (info: FrameInfo) => void }) {
  const ref = useRef<HTMLIFrameElement>(null);
  useEffect(() => {
    const frame = ref.current;
    const doc = frame?.contentDocument;
    if (!frame || !doc) return;
    // Style attributes and <style> blocks never reach a parser as such: even an inert document
    // applies the dashboard's policy to them (and says so in the console). They are taken out of
    // the markup first, and applied through the CSSOM once the nodes are in the frame.
    const sheets: string[] = [];
    const source = props.html
      .replace(/<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi, (_, css: string) => (sheets.push(safeCss(css)), ''))
      .replace(/<[a-zA-Z][^>]*>/g, (tag) => tag.replace(/(\s)style(\s*=)/gi, '$1data-ll-css$2'));
    const parsed = new DOMParser().parseFromString(source, 'text/html');
    parsed.querySelectorAll(DROP).forEach((e) => e.remove());
    parsed.querySelectorAll('style').forEach((e) => e.remove());
    const styles: string[] = [];
    let blockedImages = 0;
    parsed.querySelectorAll('*').forEach((el) => {
      for (const a of [...el.attributes]) {
        const n = a.name.toLowerCase();
        if (n.startsWith('on') || n === 'srcset' || n === 'background' || n === 'poster' || n === 'ping' || n === 'formaction') el.removeAttribute(a.name);
      }
      const style = el.getAttribute('data-ll-css');
      if (style !== null) el.setAttribute('data-ll-css', String(styles.push(safeCss(style)) - 1));
      if (el.localName === 'img' || el.localName === 'input') {
        const src = el.getAttribute('src');
        if (src !== null && !sameSiteUrl(src)) {
          el.removeAttribute('src');
          el.setAttribute('data-ll-blocked', src);
          blockedImages++;
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
      el.style.minWidth = '4rem';
      el.style.minHeight = '2rem';
    });
    const win = frame.contentWindow as (Window & typeof globalThis) | null;
    try {
      if (win && sheets.some((s) => s.trim())) {
        const sheet = new win.CSSStyleSheet();
        sheet.replaceSync(sheets.join('\n'));
        doc.adoptedStyleSheets = [sheet];
      }
    } catch {
      // A stylesheet the browser cannot take: the inlined styles still apply.
    }
    doc.body.style.margin = '0';
    doc.body.style.padding = '16px';
    doc.addEventListener('click', (e) => {
      if ((e.target as Element | null)?.closest?.('a')) e.preventDefault();
    });
    const fit = () => (frame.style.height = `${Math.min(Math.max(doc.documentElement.scrollHeight, 200), 4000)}px`);
    fit();
    requestAnimationFrame(fit);
    props.onReady?.({ blockedImages, doc });
  }, [props.html]);
  return <iframe ref={ref} class="email-frame" sandbox="allow-same-origin" referrerpolicy="no-referrer" title={props.title} />;
}
