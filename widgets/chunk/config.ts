// What the chunk knows about the page it runs in. w.js hands over only what it alone knows
// (the visitor id and its GET /focus request); the rest the chunk finds itself, because every
// byte of w.js ships to every visitor and the chunk only where needed.
import type { FocusItem } from './types';

export interface Config {
  /** API base (data-api, or where w.js and this chunk came from), no trailing slash. */
  a: string;
  /** Site public key (data-site). */
  k: string;
  /** The page's script nonce, for a <style> where constructable stylesheets are missing. */
  n?: string;
  /** The current visitor id: null before consent and where tracking is skipped. */
  v: () => string | null;
  /** The tag asks for consent (data-consent="required"): a visitor id then means consent given. */
  c: boolean;
  /** Focus items for this page; absent when w.js did not ask (no visitor, opted out). */
  f?: Promise<FocusItem[] | void>;
}

export function configOf(visitor: () => string | null, focus: Config['f']): Config {
  const d = document;
  const el = (d.querySelector('script[src*="/w.js"][data-site]') || d.querySelector('script[data-site]')) as HTMLScriptElement;
  return {
    // This module is <base>/w-chunk.js (w.js imported it from there).
    a: import.meta.url.replace(/\/w-chunk\.js([?#].*)?$/, ''),
    k: el.dataset.site!,
    // Browsers hide the nonce attribute's value from the DOM but keep the property.
    n: el.nonce || (d.querySelector('[nonce]') as HTMLElement | null)?.nonce,
    v: visitor,
    c: el.dataset.consent == 'required',
    f: focus,
  };
}
