// The forms and focus chunk, served as /w-chunk.js and imported by w.js only on pages that need
// it (a form placeholder, or focus items from GET /focus). w.js calls the default export.
import { render } from 'preact';
import { configOf, type Config } from './config';
import { Focus } from './focus';
import { Form } from './form';
import { allowed, arm } from './schedule';
import { mount } from './styles';
import type { FocusItem } from './types';

/** Renders every form placeholder not rendered yet (one shadow root each). */
function forms(cfg: Config) {
  for (const el of document.querySelectorAll<HTMLElement>('[data-leadline-form]')) {
    const id = el.dataset.leadlineForm!;
    // A page's own shadow root (or ours, from a second call) is left alone.
    if (/^\d+$/.test(id) && !el.shadowRoot) render(<Form cfg={cfg} id={id} />, mount(el, cfg.n));
  }
}

function focus(cfg: Config, item: FocusItem) {
  let host: HTMLElement | undefined;
  const close = () => {
    if (host) render(null, host.shadowRoot!), host.remove();
    host = undefined;
  };
  // Each firing re-checks the rules: another tab may have shown or closed the item meanwhile.
  arm(item, () => {
    if (host || !allowed(item)) return;
    host = document.createElement('div');
    host.dataset.leadlineFocus = String(item.id);
    document.body.append(host);
    render(<Focus cfg={cfg} item={item} close={close} />, mount(host, cfg.n));
  });
}

let started = false;

/** w.js may call this more than once (a placeholder, then focus items): the first call counts. */
export default function init(focusItems?: Config['f']) {
  if (started) return;
  started = true;
  const cfg = configOf(focusItems);
  const start = () => {
    forms(cfg);
    // Placeholders that a single-page app adds later render too.
    new MutationObserver(() => forms(cfg)).observe(document.body, { childList: true, subtree: true });
    Promise.resolve(cfg.f).then((items) => {
      for (const item of items || []) if (allowed(item)) focus(cfg, item);
    });
  };
  // Focus items can arrive before the parser has reached <body>.
  document.body ? start() : addEventListener('DOMContentLoaded', start);
}
