// When a focus item may show (frequency, kept in the browser) and what makes it show (trigger).
// Display state lives under one key per storage, so consent withdrawal in w.js removes it at once.
import type { FocusItem } from './types';

const KEY = 'll_f';
type State = Record<string, { n?: number; t?: number; c?: 1; x?: 1 }>;

function read(s: () => Storage): State {
  try {
    return JSON.parse(s().getItem(KEY) || '{}') || {};
  } catch {
    return {};
  }
}

function write(s: () => Storage, f: (st: State) => void) {
  try {
    const st = read(s);
    f(st);
    s().setItem(KEY, JSON.stringify(st));
  } catch {}
}

const local = () => localStorage;
// sessionStorage ends with the browsing session (tab), which is what "once per session" means.
const session = () => sessionStorage;

/** Whether the item's frequency rules let it show now. */
export function allowed(item: FocusItem): boolean {
  const f = item.frequency || {};
  const s = read(local)[item.id] || {};
  return !(
    (f.stop_after_conversion && s.c) ||
    (f.stop_after_close && s.x) ||
    (f.max_displays && (s.n || 0) >= f.max_displays) ||
    (f.mode == 'once_per_session' && read(session)[item.id]) ||
    (f.mode == 'every_n_days' && s.t && Date.now() - s.t < (f.days || 1) * 864e5)
  );
}

/** Records a display ('n'), a conversion ('c') or a close ('x'). */
export function mark(id: number, what: 'n' | 'c' | 'x') {
  write(local, (st) => {
    const s = (st[id] ||= {});
    if (what == 'n') (s.n = (s.n || 0) + 1), (s.t = Date.now());
    else s[what] = 1;
  });
  if (what == 'n') write(session, (st) => (st[id] = {}));
}

const on = (t: string, f: (e: any) => void, target: EventTarget = window) => {
  target.addEventListener(t, f, true);
  return () => target.removeEventListener(t, f, true);
};

/**
 * Calls show() when the item's trigger fires (each time, for clicks). The server already held
 * back "pageviews" items until the visitor's page views reached theirs, so those show at once.
 * Returns what cancels the trigger (a single-page app moved on to another page view).
 */
export function arm(item: FocusItem, show: () => void): () => void {
  const t = item.trigger || { type: 'load' };
  const type = t.type;
  if (type == 'delay') {
    const timer = setTimeout(show, (t.seconds || 0) * 1e3);
    return () => clearTimeout(timer);
  }
  if (type == 'scroll') {
    const off = on('scroll', () => {
      const h = document.documentElement.scrollHeight;
      if (((scrollY + innerHeight) * 100) / h >= (t.percent || 0)) off(), show();
    });
    return off;
  }
  if (type == 'exit_intent') {
    // Desktop only: the pointer leaving through the top of the viewport, towards tabs and the address bar.
    if (!matchMedia('(hover:hover)').matches) return () => {};
    const off = on(
      'mouseout',
      (e: MouseEvent) => !e.relatedTarget && e.clientY <= 0 && (off(), show()),
      document,
    );
    return off;
  }
  if (type == 'click') {
    return on(
      'click',
      (e) => {
        try {
          if ((e.target as Element).closest?.(t.selector || '')) show();
        } catch {}
      },
      document,
    );
  }
  show();
  return () => {};
}
