// A slot content's preview: its Markdown rendered (marked, as the server renders it), then shown
// never run in a sandboxed frame after the dashboard's sanitising walk (dashboard/ui/inert-frame.ts):
// no script, frame, form, SVG or style, no event handler or style attribute, nothing loaded from
// another site. The server sanitises again, by its own allow-list, when it serves the slot.
import { marked } from 'marked';
import { useEffect, useRef } from 'preact/hooks';
import { fillInertFrame, fitFrame } from '../ui/inert-frame';

const DROP = 'script,noscript,iframe,frame,frameset,object,embed,applet,base,link,meta,form,video,audio,source,track,portal,style,svg,math,template';

export function ContentPreview(props: { format: 'markdown' | 'html'; content: string; title: string }) {
  const ref = useRef<HTMLIFrameElement>(null);
  const rendered = props.format === 'markdown' ? (marked.parse(props.content, { async: false }) as string) : props.content;
  // <style> blocks go as a whole (the walk would apply them): the server keeps none.
  const html = rendered.replace(/<style\b[^>]*>[\s\S]*?<\/style\s*>/gi, '');
  useEffect(() => {
    const frame = ref.current;
    if (!frame) return;
    const filled = fillInertFrame(frame, `<!doctype html><html><body>${html}</body></html>`, {
      drop: DROP,
      // The style attributes (renamed data-ll-css on their way in) go too: the server keeps none.
      dropAttributes: ['srcset', 'background', 'poster', 'ping', 'formaction', 'data-ll-css'],
      blockedIn: ['img', 'input'],
      dataImages: false,
      blockedBox: { minWidth: '4rem', minHeight: '2rem' },
      skipBlankSheets: true,
    });
    if (!filled) return;
    const { doc } = filled;
    doc.body.style.margin = '0';
    doc.body.style.padding = '8px';
    doc.body.style.fontFamily = 'system-ui, sans-serif';
    doc.addEventListener('click', (e) => {
      if ((e.target as Element | null)?.closest?.('a')) e.preventDefault();
    });
    fitFrame(frame, doc, 48, 600);
  }, [html]);
  return <iframe ref={ref} class="slot-frame" sandbox="allow-same-origin" referrerpolicy="no-referrer" title={props.title} />;
}
