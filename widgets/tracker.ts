// Leadline tracker core, served as /w.js. Wire format: api/core/tracking/payload.ts.
// Every byte ships to every visitor (budget 2.0 KB gzip, test/tracker-size.test.ts):
// no classes, no dependencies, one closure; esbuild shortens the local names.
// Forms and focus items live in a separate chunk (widgets/chunk/), fetched only when a page
// needs it (a form placeholder, or focus items for the page view); it finds the site key, API
// origin and nonce itself (widgets/chunk/config.ts).
export {};

type Ev = { t: string; u: string; [k: string]: unknown };
// The chunk's path with its content hash, put in by scripts/build.mjs.
declare const __CHUNK__: string;

const w = window as any;
const d = document;
const L = location;
const n = navigator as any;
const now = Date.now;
const VID = 'll_vid';
const CONSENT = 'll_consent';
const OPTOUT = 'll_optout';

// localStorage throws in sandboxed frames and with storage blocked; the tracker must not.
const store = (m: 'getItem' | 'setItem' | 'removeItem', k: string, v?: string): any => {
  try {
    return (localStorage as any)[m](k, v);
  } catch {}
};
const valid = (x?: string | null) => /^[\w-]{16,64}$/.test(x!) && x;
const cut = (s: string, max = 2048) => s.slice(0, max);
const on = (t: string, f: (e: any) => void, capture?: boolean) => addEventListener(t, f, capture);

function start() {
  const el = (d.currentScript || d.querySelector('script[data-site]')) as HTMLScriptElement;
  const ds = el.dataset;
  const site = ds.site;
  const prev = w.leadline;
  // A second copy of the tag would double-wrap history and double-count.
  if (!site || prev?.l) return;
  const base = (ds.api || new URL(el.src, L.href).origin).replace(/\/$/, '');
  const url = base + '/t';
  // Null until consent in consent mode, and wherever tracking is skipped.
  let visitor: any = null;
  // import() rather than a <script> element: the module map loads it once, it inherits this
  // script's nonce, and it is no Trusted Types sink (script.src is one). The chunk is served
  // with CORS, as module fetches require. It gets GET /focus's answer for a page view (focus
  // items, slot content), and asks for the visitor id when a form is submitted (none where this
  // script may not count the visitor).
  // The promise is kept once asked for: a second import() of a loaded module resolves only after a
  // task (Chromium), so a frame could come before the slot's content; the kept one resolves in a
  // microtask, and a slot is filled in the task that read GET /focus's answer (measured in
  // scripts/bench/pages-slots.ts, asserted in test/e2e/widgets-slots.test.ts). A failed load stays
  // failed, as the module map keeps it anyway.
  let chunk: Promise<any>;
  const load = (answer?: unknown) => (chunk ||= import(base + __CHUNK__)).then((m) => m.default(() => visitor, answer)).catch(() => {});
  // Forms render even where tracking is skipped (DNT, local): a visitor may still want to submit one.
  // A page with a slot loads the chunk now too, alongside the page view's round trips, so the slot
  // is filled as soon as its content arrives (measured: scripts/bench/pages-slots.ts).
  // Looked for now and again once the document is parsed.
  const forms = () => d.querySelector('[data-leadline-form],[data-leadline-slot]') && load();
  forms();
  on('DOMContentLoaded', forms);
  const consentMode = ds.consent == 'required';
  const bot = n.webdriver;
  // doNotTrack is the string '1' where set ('1' == 1).
  const skip =
    (ds.respectDnt != null && (n.doNotTrack == 1 || n.globalPrivacyControl)) ||
    (ds.allowLocal == null && (bot || L.protocol == 'file:' || /^(localhost|127\.|\[::1\])/.test(L.hostname)));
  // Skipped pages still get a function, so calls in the host page keep working.
  if (skip) return (w.leadline = () => {});

  let queue: Ev[] = [];
  let extra: any;
  let lastUrl: string | undefined;
  // What the last page view said about the page, to say it again on consent.
  let view: object;
  // Engagement of the current page: visible ms so far, visible-since (0 = hidden), max scroll %;
  // page() sets them before anything reads them (unarmed until then).
  let seen: number;
  let since: number;
  let depth: number;
  let armed: number;

  const makeId = () => {
    visitor =
      valid(store('getItem', VID)) ||
      valid(d.cookie.match(/(^|; )ll_vid=([\w-]+)/)?.[2]) ||
      Array.from(crypto.getRandomValues(new Uint8Array(22)), (x) => (x % 36).toString(36)).join('');
    store('setItem', VID, visitor!);
    d.cookie = VID + '=' + visitor + ';path=/;max-age=31536000;samesite=lax';
  };

  const flush = () => {
    const e = queue;
    // Identify needs a visitor to resolve (the server refuses it with v:null, and before
    // consent there is none to link), so it is dropped rather than sink the events beside it.
    const x = visitor && extra;
    queue = [];
    extra = 0;
    if (store('getItem', OPTOUT)) return;
    // Identify goes on its own, so a refused signature cannot take the events with it.
    // A visitor's page view also asks for the page's focus items (see send).
    if (e.length) send({ e }, visitor && e.some((v) => v.t == 'pv') && lastUrl);
    if (x) send({ e: [], id: x });
  };

  const send = (o: object, page?: any) => {
    // c:1 tells a consent-required site that this visitor id was consented to.
    const body = JSON.stringify({ k: site, v: visitor, ...o, ...(bot && { b: 1 }), ...(consentMode && visitor && { c: 1 }) });
    // sendBeacon outlives the page (outbound clicks, pagehide); it refuses bodies over its quota.
    // A page view goes by fetch (keepalive outlives the page too): its answer, which a beacon
    // cannot read, says whether the site has focus items or slots; only then is GET /focus asked,
    // after the view is stored (so the server's page view count includes it). Its answer goes to
    // the chunk when it has items, or when the page has a form or slot (the chunk is loaded then
    // anyway). Answers that come back after an SPA moved on were for the page before. A missing
    // step throws into the catch.
    (!page && n.sendBeacon?.(url, body)) ||
      fetch(url, { method: 'POST', body, keepalive: true })
        .then((r) => r.json())
        .then((j) => j.focus && fetch(base + '/focus?' + new URLSearchParams({ k: site, v: visitor, u: page })))
        .then((r) => r.json())
        .then((j) => page == lastUrl && (j.items[0] || forms()) && load(j))
        .catch(() => {});
  };

  const add = (t: string, o?: object) => {
    let e: Ev | null = { t, u: cut(L.href), ...o };
    const hook = w[ds.beforeSend!];
    if (hook) e = hook(e);
    if (e) queue.push(e);
  };

  const scroll = () => {
    const h = d.documentElement.scrollHeight;
    depth = Math.max(depth, h ? Math.min(100, Math.round(((scrollY + innerHeight) * 100) / h)) : 100);
  };

  const visible = () => (d.hidden ? 0 : now());

  const engagement = () => {
    if (armed) {
      armed = 0;
      scroll();
      add('eng', { u: lastUrl, d: Math.min(seen + (since && now() - since), 864e5), s: depth });
    }
  };

  const page = () => {
    engagement();
    const r = lastUrl || d.referrer;
    lastUrl = cut(L.href);
    seen = depth = 0;
    since = visible();
    armed = 1;
    scroll();
    add('pv', (view = { r: cut(r), ti: cut(d.title, 500), sw: screen.width, sh: screen.height, l: n.language }));
  };

  // Flat and bounded as the server requires: numbers, booleans and null as they are, the rest as text.
  const props = (o: any) =>
    Object.fromEntries(
      Object.entries(o || {})
        .slice(0, 25)
        .map(([k, x]) => [cut(k, 64), x == null || /^(n|bo)/.test(typeof x) ? x : cut(String(x), 500)]),
    );

  const commands: Record<string, (a?: any, b?: any) => void> = {
    track: (name, p) => add('ev', { n: cut(String(name), 100), p: props(p) }),
    page,
    identify: (o) => (extra = { email: String(o.email), sig: String(o.sig) }),
    // Focus item view/click/close from the chunk: the same queue, hook and opt-out as the rest.
    _: (t, p) => add(t, { p }),
    consent: (yes) => {
      if (yes) {
        store('setItem', CONSENT, '1');
        // This page was counted without a visitor: its view goes again, marked, and the server
        // makes the counted one this visitor's (never a second one). Not when consent was given
        // before (a visitor already) or queued before the first view went out (still queued).
        visitor || (makeId(), queue[0] || add('pv', { ...view, a: 1 }));
      } else {
        visitor = null;
        // The chunk's display counts (ll_f) are per-visitor state too; ll_pv is an older tag's.
        for (const k of [VID, CONSENT, 'll_pv', 'll_f']) store('removeItem', k);
        d.cookie = VID + '=;path=/;max-age=0';
      }
    },
    optout: () => store('setItem', OPTOUT, '1'),
    optin: () => store('removeItem', OPTOUT),
  };
  const run = (c: string, a?: any, b?: any) => commands[c]?.(a, b);

  // Entry points from the host page: never throw into it, and send what they queued.
  const guard =
    (f: (...a: any[]) => void) =>
    (...a: any[]) => {
      try {
        f(...a);
      } catch {}
      try {
        flush();
      } catch {}
    };

  ((w.leadline = guard(run)) as any).l = 1;
  if (!consentMode || store('getItem', CONSENT)) makeId();
  // Replay the calls queued by the snippet in one request after the first page view;
  // one bad call must not lose the ones after it.
  guard(() => {
    page();
    for (const a of prev?.q || [])
      try {
        run.apply(0, a);
      } catch {}
  })();
  // The page view of an SPA navigation is sent once per distinct URL (and asks for focus items).
  const navigated = guard(() => cut(L.href) != lastUrl && page());
  for (const m of ['pushState', 'replaceState']) {
    const orig = (history as any)[m];
    (history as any)[m] = (...a: any) => ((a = orig.apply(history, a)), navigated(), a);
  }
  // Fragment navigations (links to #id, location.hash) fire popstate too: no hashchange needed.
  on('popstate', navigated);
  on('scroll', scroll);
  on('visibilitychange', () => (since ? ((seen += now() - since), (since = 0)) : (since = visible())));
  on('pagehide', guard(engagement));
  // Back/forward cache restores the page without reloading it: count its time again.
  on('pageshow', (e) => e.persisted && ((armed = 1), (seen = 0), (since = visible())));

  // Capture phase: the page cannot stop it, and nothing here delays or prevents navigation.
  const click = guard((e: MouseEvent) => {
    if (e.button > 1) return;
    const t = e.target as Element;
    const tagged = t.closest('[data-leadline-event]');
    if (tagged) {
      const p: any = {};
      for (const a of tagged.attributes) {
        const m = a.name.match(/^data-leadline-prop-(.+)/);
        if (m) p[m[1]] = a.value;
      }
      run('track', tagged.getAttribute('data-leadline-event'), p);
    }
    const link = t.closest('a[href]');
    if (link) {
      const h = new URL(link.getAttribute('href')!, d.baseURI);
      const file =
        link.hasAttribute('download') ||
        // The common document, archive and media types; others can use the download attribute.
        /\.(pdf|docx?|xlsx?|pptx?|csv|txt|zip|t?gz|dmg|exe|apk|mp[34]|mov)$/i.test(h.pathname);
      if (file || (h.host != L.host && /^https?:$/.test(h.protocol))) add(file ? 'dl' : 'out', { h: cut(h.href) });
    }
  });
  on('click', click, true);
  on('auxclick', click, true);
}

try {
  start();
} catch {}
