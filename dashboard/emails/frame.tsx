// An email's HTML shown, never run, under the dashboard's own Content-Security-Policy: parsed in
// an inert document, cleaned and moved into a sandboxed frame (dashboard/ui/inert-frame.ts says
// how). No form, no <style> left over, no background or poster images; images from other sites
// show as their alt text in a dashed box. Links do nothing when clicked.
import { useEffect, useRef } from 'preact/hooks';
import { fillInertFrame, fitFrame } from '../ui/inert-frame';

const DROP = 'script,noscript,iframe,frame,frameset,object,embed,applet,base,link,meta,form,video,audio,source,track,portal,style';

export interface FrameInfo {
  /** Images from other sites that were not loaded. */
  blockedImages: number;
  doc: Document;
}

export function EmailFrame(props: { html: string; title: string; onReady?: (info: FrameInfo) => void }) {
  const ref = useRef<HTMLIFrameElement>(null);
  useEffect(() => {
    const frame = ref.current;
    if (!frame) return;
    const filled = fillInertFrame(frame, props.html, {
      drop: DROP,
      dropAttributes: ['srcset', 'background', 'poster', 'ping', 'formaction'],
      blockedIn: ['img', 'input'],
      dataImages: true,
      blockedBox: { minWidth: '4rem', minHeight: '2rem' },
      skipBlankSheets: true,
    });
    if (!filled) return;
    const { doc, blocked } = filled;
    doc.body.style.margin = '0';
    doc.body.style.padding = '16px';
    doc.addEventListener('click', (e) => {
      if ((e.target as Element | null)?.closest?.('a')) e.preventDefault();
    });
    fitFrame(frame, doc, 200, 4000);
    props.onReady?.({ blockedImages: blocked, doc });
  }, [props.html]);
  return <iframe ref={ref} class="email-frame" sandbox="allow-same-origin" referrerpolicy="no-referrer" title={props.title} />;
}
