// Leadline tracker core, served as /w.js. Wire format: api/core/tracking/payload.ts.
// Every byte ships to every visitor (budget 2.0 KB gzip, test/tracker-size.test.ts):
// no classes, no dependencies, one closure; esbuild shortens the local names.
// Forms and focus items live in a separate chunk (widgets/chunk/), fetched only when a page
// needs it; it finds the site key, API origin and nonce itself (widgets/chunk/config.ts).
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
// Page views counted for the "after N page views" focus trigger.
const PV = 'll_pv';

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
  let visitor: any = null;
  // GET /focus, when asked: resolves to the items (or nothing) for the chunk. Asked only for a
  // visitor who may be counted, which tells the chunk it may send the visitor id too.
  let focus: Promise<unknown> | undefined;
  // import() rather than a <script> element: the module map loads it once (the chunk ignores
  // calls after the first), it inherits this script's nonce, and it is no Trusted Types sink
  // (script.src is one). The chunk is served with CORS, as module fetches require.
  const load = () => import(base + __CHUNK__).then((m) => m.default(focus)).catch(() => {});
  // Forms render even where tracking is skipped (DNT, local): a visitor may still want to submit one.
  // Looked for now and again once the document is parsed.
  // The import resolves after start() has run, so it sees the focus request made below.
  const forms = () => d.querySelector('[data-leadline-form]') && load();
  forms();
  on('DOMContentLoaded', forms);
  const consentMode = ds.consent == 'required';
  const bot = n.webdriver;
  const local = ds.allowLocal == null;
  const skip =
    (ds.respectDnt != null && (n.doNotTrack == '1' || n.globalPrivacyControl)) ||
    (local && (bot || L.protocol == 'file:' || /^(localhost|127\.|\[::1\])/.test(L.hostname)));
  // Skipped pages still get a function, so calls in the host page keep working.
  if (skip) return void (w.leadline = () => {});

  let queue: Ev[] = [];
  let extra: any;
  let lastUrl: string | undefined;
  // Engagement of the current page: visible ms so far, visible-since (0 = hidden), max scroll %.
  let seen = 0;
  let since = 0;
  let depth = 0;
  let armed = 0;

  const makeId = () => {
    visitor =
      valid(store('getItem', VID)) ||
      valid(d.cookie.match(/(?:^|; )ll_vid=([\w-]+)/)?.[1]) ||
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
    if (e.length) send({ e });
    if (x) send({ e: [], id: x });
  };

  const send = (o: object) => {
    // c:1 tells a consent-required site that this visitor id was consented to.
    const body = JSON.stringify({ k: site, v: visitor, ...o, ...(bot && { b: 1 }), ...(consentMode && visitor && { c: 1 }) });
    // sendBeacon outlives the page (outbound clicks, pagehide); it refuses bodies over its quota.
    n.sendBeacon?.(url, body) || fetch(url, { method: 'POST', body, keepalive: true }).catch(() => {});
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
    add('pv', { r: cut(r), ti: cut(d.title, 500), sw: screen.width, sh: screen.height, l: n.language });
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
        makeId();
      } else {
        visitor = null;
        // The chunk's display counts (ll_f) are per-visitor state too.
        for (const k of [VID, CONSENT, PV, 'll_f']) store('removeItem', k);
        d.cookie = VID + '=;path=/;max-age=0';
      }
    },
    optout: () => store('setItem', OPTOUT, '1'),
    optin: () => store('removeItem', OPTOUT),
  };
  const run = (c: string, a?: any, b?: any) => commands[c]?.(a, b);

  // Entry points from the host page: never throw into it, and send what they queued.
  const guard =
    (f: (a?: any, b?: any, c?: any) => void) =>
    (a?: any, b?: any, c?: any) => {
      try {
        f(a, b, c);
      } catch {}
      try {
        flush();
      } catch {}
    };

  const api = (w.leadline = guard(run)) as any;
  api.l = 1;
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
  // Focus items only for a visitor who may be counted (consented, not opted out): their
  // frequency rules are per-visitor state. Asked once per page load, after the page view.
  if (visitor && !store('getItem', OPTOUT)) {
    const c: any = -~store('getItem', PV); // the stored count plus one (none: 1)
    store('setItem', PV, c);
    focus = fetch(base + '/focus?' + new URLSearchParams({ k: site, v: visitor, u: lastUrl!, pv: c }))
      .then((r) => r.json())
      .then((j) => (j.items[0] && load(), j.items))
      .catch(() => {});
  }
  // The page view of an SPA navigation is sent once per distinct URL.
  const navigated = guard(() => cut(L.href) != lastUrl && page());
  for (const m of ['pushState', 'replaceState']) {
    const orig = (history as any)[m];
    (history as any)[m] = function (this: any) {
      const r = orig.apply(this, arguments);
      navigated();
      return r;
    };
  }
  on('popstate', navigated);
  on('hashchange', navigated);
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
