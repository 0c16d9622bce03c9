// A live preview through the real widget chunk: a frame (see frame.ts) that the dashboard feeds
// the definition being edited, a moment after each change.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { PreviewMessage } from './frame';

let frameModule: Promise<typeof import('./frame')> | undefined;

const page = (src: string, name: string, n: number) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${name}</title></head>` +
  `<body><main aria-label="${name}"></main><!--${n}--><script type="module" src="${src}" data-site="pk_preview"></script></body></html>`;

/**
 * message: what to show. fresh: a new page for each change (focus items: triggers and display
 * rules start over), else the form is rendered again in the same page.
 */
export function WidgetPreview({ message, title, fresh = false, height }: { message: PreviewMessage; title: string; fresh?: boolean; height?: number }) {
  const frame = useRef<HTMLIFrameElement>(null);
  const [src, setSrc] = useState<{ url: string; name: string } | null>(null);
  const [shown, setShown] = useState(0);
  const [auto, setAuto] = useState(240);
  const latest = useRef(message);
  latest.current = message;
  const key = JSON.stringify(message);

  useEffect(() => {
    frameModule ??= import('./frame');
    void frameModule.then((m) => setSrc({ url: m.FRAME_URL, name: m.FRAME_NAME }));
    const onMessage = (e: MessageEvent) => {
      if (e.origin !== location.origin || e.source !== frame.current?.contentWindow) return;
      if (e.data?.type === 'leadline-preview-ready') frame.current!.contentWindow!.postMessage(latest.current, location.origin);
      if (e.data?.type === 'leadline-preview-size' && typeof e.data.height === 'number') setAuto(Math.min(Math.max(e.data.height, 120), 1600));
    };
    addEventListener('message', onMessage);
    return () => removeEventListener('message', onMessage);
  }, []);

  // A moment after the last change: a new page, or the same page told the new definition.
  useEffect(() => {
    const t = setTimeout(() => {
      if (fresh) setShown((n) => n + 1);
      else frame.current?.contentWindow?.postMessage(latest.current, location.origin);
    }, 250);
    return () => clearTimeout(t);
  }, [key]);

  if (!src) return <div class="widget-preview" aria-busy="true" />;
  return (
    <iframe
      ref={frame}
      class="widget-preview"
      name={src.name}
      title={title}
      // Scripts (the chunk), its own origin (to load it under the dashboard's policy) and form
      // submit events (the chunk's validation); no navigation of the dashboard, no pop-ups.
      sandbox="allow-scripts allow-same-origin allow-forms"
      srcdoc={page(src.url, title, fresh ? shown : 0)}
      style={{ height: `${height ?? auto}px` }}
    />
  );
}
