// One focus item on screen: bar, modal, slide-in or full screen, as a dialog.
// Modal kinds (modal, full screen) take focus, trap Tab and give focus back when closed;
// every kind closes with Escape (the one opened last) and reports view, click and close.
import { useLayoutEffect, useRef } from 'preact/hooks';
import type { Config } from './config';
import { Form } from './form';
import { mark } from './schedule';
import type { FocusItem } from './types';
import { deepActive, safeUrl, track } from './util';

// The honeypot input (tabindex -1) is no stop.
const FOCUSABLE = 'a[href],button:not([disabled]),input:not([disabled]):not([tabindex="-1"]),select,textarea,[tabindex="0"]';
/** Open items, newest last: Escape closes only the top one. */
const open: unknown[] = [];

export function Focus({ cfg, item, close }: { cfg: Config; item: FocusItem; close: () => void }) {
  const box = useRef<HTMLDivElement>(null);
  const { style, content: c, id, variant } = item;
  const modal = style.type == 'modal' || style.type == 'full_screen';

  // A layout effect, in the same task as the render: a plain effect waits for a frame, and a
  // Tab pressed meanwhile would move focus before we note where it was.
  useLayoutEffect(() => {
    const me = {};
    const before = deepActive();
    open.push(me);
    mark(id, 'n');
    track('fv', { focus_id: id, variant });
    if (modal) box.current?.focus();
    const key = (e: KeyboardEvent) => {
      const el = box.current;
      if (!el || open[open.length - 1] != me) return;
      // A bar or slide-in closes on Escape only from inside it: the page keeps its own Escape.
      if (e.key == 'Escape') return (modal || el.contains(deepActive())) && (e.preventDefault(), dismiss());
      if (e.key != 'Tab' || !modal) return;
      // Keep Tab inside: from the last control to the first and back; from outside to the first.
      const all = [...el.querySelectorAll<HTMLElement>(FOCUSABLE)];
      const at = all.indexOf(deepActive()!);
      const to = e.shiftKey ? (at <= 0 ? all.length - 1 : -1) : at == all.length - 1 || at < 0 ? 0 : -1;
      if (to >= 0 || !el.contains(deepActive())) e.preventDefault(), all[Math.max(to, 0)]?.focus();
    };
    document.addEventListener('keydown', key, true);
    return () => {
      document.removeEventListener('keydown', key, true);
      open.splice(open.indexOf(me), 1);
      // Back to where the visitor was, when we had taken focus (or it was inside the item).
      if (before && (modal || box.current?.contains(deepActive()))) before.focus();
    };
  }, []);

  const dismiss = () => {
    mark(id, 'x');
    track('fx', { focus_id: id, variant });
    close();
  };
  const converted = () => mark(id, 'c');
  const cta = c.cta && safeUrl(c.cta.url);
  const colors: Record<string, string> = {};
  for (const k in style.colors || {}) colors['--ll-' + k] = style.colors![k];
  const cls = `box ${style.type} ${style.position || ''} ${(style.corner || '').replace('_', ' ')} ${style.sticky === false ? 'flow' : ''}`;

  return (
    <>
      {modal && <div class="shade" onClick={style.type == 'modal' ? dismiss : undefined} />}
      <div
        ref={box}
        class={cls}
        style={colors}
        role="dialog"
        aria-modal={modal ? 'true' : undefined}
        aria-labelledby={c.heading ? 'h' : undefined}
        aria-label={c.heading ? undefined : 'Message'}
        tabIndex={-1}
      >
        <button class="x" type="button" aria-label="Close" onClick={dismiss}>
          ×
        </button>
        {c.heading && <h2 id="h">{c.heading}</h2>}
        {c.body && <p class="body">{c.body}</p>}
        {c.kind == 'link' && cta && (
          <a
            class="btn"
            href={cta}
            onClick={() => {
              converted();
              track('fc', { focus_id: id, variant });
            }}
          >
            {c.cta!.label}
          </a>
        )}
        {c.kind == 'form' && c.form_id && <Form cfg={cfg} id={String(c.form_id)} onDone={converted} focus={{ id, variant }} />}
      </div>
    </>
  );
}
