// Small helpers shared by forms and focus items.
import type { Config } from './config';

export const d = document;

/** The visitor id the server may link to, unless the visitor opted out of tracking. */
export function visitorOf(cfg: Config): string | null {
  try {
    if (localStorage.getItem('ll_optout')) return null;
  } catch {}
  return (cfg.v && cfg.v()) || null;
}

/** An absolute http(s) URL, or undefined: javascript:, data: and the like never reach href or location. */
export function safeUrl(u: unknown): string | undefined {
  try {
    const x = new URL(u as string, location.href);
    if (u && /^https?:$/.test(x.protocol)) return x.href;
  } catch {}
}

/** A random id (submission ids): 16 chars of [a-z0-9] from the CSPRNG. */
export const rid = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (x) => (x % 36).toString(36)).join('');

/** The element focused now, looking through shadow roots (ours and the page's). */
export function deepActive(): HTMLElement | null {
  let a = d.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  return a as HTMLElement | null;
}

/**
 * Sends a focus event (view/click/close, p: { focus_id, variant }), a form event (view/start,
 * p: { form_id }) or a slot event (view/click, p: { slot_id, slot, variant }) through w.js, so its
 * hook, queue and opt-out apply.
 */
export const track = (t: 'fv' | 'fc' | 'fx' | 'fmv' | 'fms' | 'sv' | 'sc', p: object) => (window as any).leadline('_', t, p);
