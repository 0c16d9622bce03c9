// What the chunk knows about the page it runs in. w.js hands over only its GET /focus request;
// the rest the chunk finds itself, because every byte of w.js ships to every visitor and the
// chunk only where needed.
import type { FocusItem } from './types';

export interface Config {
  /** API base (data-api, or where w.js and this chunk came from), no trailing slash. */
  a: string;
  /** Site public key (data-site). */
  k: string;
  /** The page's script nonce, for a <style> where constructable stylesheets are missing. */
  n?: string;
  /** The visitor id to send, if any (see configOf). */
  v: () => string | null;
  /** The tag asks for consent (data-consent="required"): a visitor id then means consent given. */
  c: boolean;
  /** Focus items for this page; absent when w.js did not ask (no visitor, opted out). */
  f?: Promise<FocusItem[] | void>;
}

/** The tracker's first-party visitor id (w.js keeps it in localStorage and a cookie). */
function storedVisitor(): string | null {
  let v: string | null = null;
  try {
    v = localStorage.getItem('ll_vid');
  } catch {}
  return v || document.cookie.match(/(?:^|; )ll_vid=([\w-]+)/)?.[1] || null;
}

export function configOf(focus: Config['f']): Config {
  const d = document;
  const el = (d.querySelector('script[src*="/w.js"][data-site]') || d.querySelector('script[data-site]')) as HTMLScriptElement;
  return {
    // This module is <base>/w-chunk.js (w.js imported it from there).
    a: import.meta.url.replace(/\/w-chunk\.js([?#].*)?$/, ''),
    k: el.dataset.site!,
    // Browsers hide the nonce attribute's value from the DOM but keep the property.
    n: el.nonce || (d.querySelector('[nonce]') as HTMLElement | null)?.nonce,
    // w.js asks for focus items only for a visitor it may count (consented where required, not
    // opted out, tracking not skipped): only then does a submission carry the visitor id.
    v: () => (focus ? storedVisitor() : null),
    c: el.dataset.consent == 'required',
    f: focus,
  };
}
