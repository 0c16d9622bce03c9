// The widget preview's page. The dashboard shows forms and focus items through the REAL widget
// chunk (GET /w-chunk.js, the bytes sites get), run inside a frame of its own (widget-preview.tsx):
// a document made from srcdoc, which inherits the dashboard's Content-Security-Policy, and whose
// one script is this module (script-src 'self'). Here it stands in for the page and the network:
//   - w.js: `leadline()` (the chunk reports views, starts and clicks through it) records nothing;
//   - GET /f/:id answers the definition being edited (not yet saved; the server computed it,
//     see use-server-preview.tsx), POST /f/:id (wherever the definition says to post) a preview
//     answer, so nothing a marketer does in the preview is stored or counted;
//   - localStorage and sessionStorage are the frame's own, in memory: the chunk's display marks
//     (frequency rules) never reach the dashboard's origin, nor the /demo page served from it.
// Everything else — rendering, validation, styles, focus handling — is the chunk's own code.
// This module is imported by the dashboard only to learn its URL; it does nothing there.

export const FRAME_URL = import.meta.url;
export const FRAME_NAME = 'leadline-widget-preview';

/** What the dashboard sends the frame (postMessage, same origin). */
export type PreviewMessage =
  | { type: 'form'; formId: number; forms: Record<string, unknown>; answer: string }
  | { type: 'focus'; item: unknown; forms: Record<string, unknown>; answer: string };

if (self !== top && window.name === FRAME_NAME) boot();

function boot() {
  const origin = self.origin;
  const realFetch = fetch.bind(self);
  let state: PreviewMessage | null = null;
  let chunk: Promise<{ default: (v: () => null, items?: unknown[]) => void }> | null = null;
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  (self as unknown as { leadline: () => void }).leadline = () => {};
  // The preview never takes the keyboard from the editor beside it (a modal item focuses itself).
  const focus = HTMLElement.prototype.focus;
  HTMLElement.prototype.focus = function (this: HTMLElement, o?: FocusOptions) {
    if (document.hasFocus()) focus.call(this, o);
  };
  for (const name of ['localStorage', 'sessionStorage']) {
    try {
      Object.defineProperty(self, name, { value: memoryStorage(), configurable: true });
    } catch {}
  }
  self.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input), origin);
    const m = /^\/f\/(\d+)$/.exec(url.pathname);
    if (!m) return realFetch(input, init);
    // A submission goes nowhere, even to a PUBLIC_URL that is not this origin.
    if ((init?.method ?? 'GET').toUpperCase() === 'POST') return json(200, { ok: true, message: state?.answer ?? 'Thank you!' });
    if (url.origin !== origin) return realFetch(input, init);
    const def = state?.forms[m[1]!];
    // The preview answers at once: no wait for a fill time meant for bots.
    return def ? json(200, { ...(def as object), min_fill_ms: 0 }) : json(404, { error: { code: 'NOT_FOUND', message: 'No such form' } });
  };
  const main = document.querySelector('main')!;
  const size = () => parent.postMessage({ type: 'leadline-preview-size', height: document.documentElement.scrollHeight }, origin);
  new ResizeObserver(size).observe(document.body);

  addEventListener('message', async (e: MessageEvent<PreviewMessage>) => {
    // Only the dashboard's messages (axe-core, in tests, talks to frames too).
    if (e.source !== parent || e.origin !== origin || (e.data?.type !== 'form' && e.data?.type !== 'focus')) return;
    state = e.data;
    chunk ??= import(`${origin}/w-chunk.js`);
    const init = (await chunk).default;
    if (state.type === 'form') {
      // A new placeholder: the chunk renders it (its observer sees it) with the definition now.
      main.querySelector('[data-leadline-form]')?.remove();
      const el = document.createElement('div');
      el.dataset.leadlineForm = String(state.formId);
      main.append(el);
      init(() => null);
    } else {
      init(() => null, [state.item]);
    }
  });
  parent.postMessage({ type: 'leadline-preview-ready' }, origin);
}

function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    key: (i: number) => [...m.keys()][i] ?? null,
    getItem: (k: string) => m.get(String(k)) ?? null,
    setItem: (k: string, v: string) => void m.set(String(k), String(v)),
    removeItem: (k: string) => void m.delete(String(k)),
    clear: () => m.clear(),
  };
}
