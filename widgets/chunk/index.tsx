// The forms, focus and slots chunk, served as /w-chunk.js and imported by w.js only on pages that
// need it (a form placeholder, or focus items or slots from GET /focus). w.js calls the default export.
import { render } from 'preact';
import { configOf, storedVisitor, type Config } from './config';
import { Focus } from './focus';
import { Form } from './form';
import { allowed, arm } from './schedule';
import { fill, setSlots } from './slots';
import { mount } from './styles';
import type { FocusAnswer, FocusItem } from './types';

/** Renders every form placeholder not rendered yet (one shadow root each). */
function forms(cfg: Config) {
  for (const el of document.querySelectorAll<HTMLElement>('[data-leadline-form]')) {
    const id = el.dataset.leadlineForm!;
    // A page's own shadow root (or ours, from a second call) is left alone.
    if (/^\d+$/.test(id) && !el.shadowRoot) render(<Form cfg={cfg} id={id} />, mount(el, cfg.n));
  }
}

// Items on screen: a later page view that lists one again does not show it twice.
const onScreen = new Set<number>();
// What cancels the triggers of the last page view's items.
let pending: (() => void)[] = [];

/** Arms one item's trigger; returns what cancels it. */
function focus(cfg: Config, item: FocusItem): () => void {
  let host: HTMLElement | undefined;
  // The page view the item is for: after an SPA navigation to a page with no items (w.js then
  // has nothing to hand over, so nothing cancels this) a late trigger must not show it.
  const page = location.href;
  const close = () => {
    if (host) render(null, host.shadowRoot!), host.remove();
    host = undefined;
    onScreen.delete(item.id);
  };
  // Each firing re-checks the rules: another tab may have shown or closed the item meanwhile.
  return arm(item, () => {
    if (location.href != page || onScreen.has(item.id) || !allowed(item)) return;
    onScreen.add(item.id);
    host = document.createElement('div');
    host.dataset.leadlineFocus = String(item.id);
    document.body.append(host);
    render(<Focus cfg={cfg} item={item} close={close} />, mount(host, cfg.n));
  });
}

/**
 * A page view's items. In a single-page app each navigation brings its own list: the triggers
 * of the page before are cancelled (its delay or scroll was for that page), while an item on
 * screen stays until it is closed, as a visitor may be in the middle of it.
 */
function focusItems(cfg: Config, items: FocusItem[]) {
  for (const cancel of pending) cancel();
  pending = items.filter(allowed).map((item) => focus(cfg, item));
}

let cfg: Config | undefined;
let ready: Promise<unknown>;

/**
 * w.js calls this when a page has a form placeholder, and with GET /focus's answer for each page
 * view that has focus items or slots; the first call sets the chunk up. visitor: w.js's visitor
 * id now (see Config.v).
 */
export default function init(visitor: Config['v'] | Promise<FocusItem[] | void> | undefined, answer?: FocusAnswer | FocusItem[]) {
  if (typeof visitor != 'function') {
    // A w.js from before (cached for up to a day) hands over its GET /focus request instead; it
    // asked only for a visitor it may count, whose id is then the stored one.
    const asked = visitor;
    const v = () => (asked ? storedVisitor() : null);
    init(v);
    asked?.then((list) => list && init(v, list));
    return;
  }
  if (!cfg) {
    const c = (cfg = configOf(visitor));
    // Focus items can arrive before the parser has reached <body>.
    ready = new Promise((ok) => (document.body ? ok(0) : addEventListener('DOMContentLoaded', ok)));
    ready.then(() => {
      forms(c);
      // Placeholders and slots that a single-page app adds later render too.
      new MutationObserver(() => (forms(c), fill())).observe(document.body, { childList: true, subtree: true });
    });
  }
  const c = cfg;
  // A w.js from before (cached for up to a day) hands over the items alone.
  const a = Array.isArray(answer) ? { items: answer } : answer;
  // Slots first: their content is on screen in this task, before a focus item's render.
  if (a) ready.then(() => (a.slots && setSlots(a.slots), focusItems(c, a.items)));
}
