// A landing page's HTML, as the server rendered it, shown (never run) under the dashboard's own
// Content-Security-Policy. The page itself cannot be framed (it answers frame-ancestors 'none'),
// so its HTML is fetched and put in a frame of the dashboard's, as the email preview does
// (dashboard/emails/frame.tsx): sandboxed without allow-scripts, parsed in an inert document
// (DOMParser runs and loads nothing), its script tag, meta and link elements dropped, its one
// stylesheet applied through the CSSOM (the policy allows no inline style), images from other
// sites shown as their alt text in a dashed box (the policy loads nothing from elsewhere).
// The form is the page's no-JavaScript form: it can be typed into, and submitting does nothing.
import { useEffect, useRef } from 'preact/hooks';

const DROP = 'script,noscript,iframe,frame,frameset,object,embed,base,link,meta,video,audio,source,track,portal';
const sameOrigin = (u: string) => {
  try {
    return new URL(u, location.href).origin === location.origin;
  } catch {
    return false;
  }
};
const safeCss = (css: string) => css.replace(/url\(\s*(['"]?)(?!data:)[^)]*\1\s*\)/gi, 'none').replace(/@import[^;]*;?/gi, '');

export function PageFrame(props: { html: string; title: string; onReady?: (blockedImages: number) => void }) {
  const ref = useRef<HTMLIFrameElement>(null);
  useEffect(() => {
    const frame = ref.current;
    const doc = frame?.contentDocument;
    if (!frame || !doc) return;
    // <style> blocks and style attributes never reach a parser as such (even an inert document
    // reports them against the policy): they are taken out first and applied through the CSSOM.
    const sheets: string[] = [];
    const source = props.html
      .replace(/<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi, (_, css: string) => (sheets.push(safeCss(css)), ''))
      .replace(/<[a-zA-Z][^>]*>/g, (tag) => tag.replace(/(\s)style(\s*=)/gi, '$1data-ll-css$2'));
    const parsed = new DOMParser().parseFromString(source, 'text/html');
    parsed.querySelectorAll(DROP).forEach((e) => e.remove());
    const styles: string[] = [];
    let blocked = 0;
    parsed.querySelectorAll('*').forEach((el) => {
      for (const a of [...el.attributes]) {
        const n = a.name.toLowerCase();
        if (n.startsWith('on') || n === 'srcset' || n === 'ping' || n === 'formaction' || n === 'nonce') el.removeAttribute(a.name);
      }
      const style = el.getAttribute('data-ll-css');
      if (style !== null) el.setAttribute('data-ll-css', String(styles.push(safeCss(style)) - 1));
      const src = el.localName === 'img' ? el.getAttribute('src') : null;
      if (src !== null && !sameOrigin(src)) {
        el.removeAttribute('src');
        el.setAttribute('data-ll-blocked', src);
        blocked++;
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
      el.style.minWidth = '6rem';
      el.style.minHeight = '3rem';
    });
    const win = frame.contentWindow as (Window & typeof globalThis) | null;
    try {
      if (win && sheets.length) {
        const sheet = new win.CSSStyleSheet();
        sheet.replaceSync(sheets.join('\n'));
        doc.adoptedStyleSheets = [sheet];
      }
    } catch {
      // A stylesheet the browser cannot take: the page shows unstyled.
    }
    // Nothing leaves the preview: links do nothing, the form sends nothing.
    // (A submit button's click is stopped before it submits: the sandbox would refuse, loudly.)
    doc.addEventListener('click', (e) => {
      if ((e.target as Element | null)?.closest?.('a, form button, form input[type=submit], form input[type=image]')) e.preventDefault();
    });
    doc.addEventListener('submit', (e) => e.preventDefault());
    const fit = () => (frame.style.height = `${Math.min(Math.max(doc.documentElement.scrollHeight, 240), 6000)}px`);
    fit();
    requestAnimationFrame(fit);
    props.onReady?.(blocked);
  }, [props.html]);
  return <iframe ref={ref} class="page-frame" sandbox="allow-same-origin" referrerpolicy="no-referrer" title={props.title} />;
}
