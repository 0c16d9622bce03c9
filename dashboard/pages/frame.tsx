// A landing page's HTML, as the server rendered it, shown (never run) under the dashboard's own
// Content-Security-Policy. The page itself cannot be framed (it answers frame-ancestors 'none'),
// so its HTML is fetched and put in a sandboxed frame of the dashboard's, as the email preview
// does (dashboard/ui/inert-frame.ts says how): its script tag, meta and link elements dropped, its
// one stylesheet applied through the CSSOM, images from other sites shown as their alt text in a
// dashed box. The form is the page's no-JavaScript form: it can be typed into, and submitting
// does nothing.
import { useEffect, useRef } from 'preact/hooks';
import { fillInertFrame, fitFrame } from '../ui/inert-frame';

const DROP = 'script,noscript,iframe,frame,frameset,object,embed,base,link,meta,video,audio,source,track,portal';

export function PageFrame(props: { html: string; title: string; onReady?: (blockedImages: number) => void }) {
  const ref = useRef<HTMLIFrameElement>(null);
  useEffect(() => {
    const frame = ref.current;
    if (!frame) return;
    const filled = fillInertFrame(frame, props.html, {
      drop: DROP,
      dropAttributes: ['srcset', 'ping', 'formaction', 'nonce'],
      blockedIn: ['img'],
      dataImages: false,
      blockedBox: { minWidth: '6rem', minHeight: '3rem' },
      skipBlankSheets: false,
    });
    if (!filled) return;
    const { doc, blocked } = filled;
    // Nothing leaves the preview: links do nothing, the form sends nothing.
    // (A submit button's click is stopped before it submits: the sandbox would refuse, loudly.)
    doc.addEventListener('click', (e) => {
      if ((e.target as Element | null)?.closest?.('a, form button, form input[type=submit], form input[type=image]')) e.preventDefault();
    });
    doc.addEventListener('submit', (e) => e.preventDefault());
    fitFrame(frame, doc, 240, 6000);
    props.onReady?.(blocked);
  }, [props.html]);
  return <iframe ref={ref} class="page-frame" sandbox="allow-same-origin" referrerpolicy="no-referrer" title={props.title} />;
}
