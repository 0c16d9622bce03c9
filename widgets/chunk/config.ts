// What the chunk knows about the page it runs in. w.js hands over a getter for its visitor id
// (and, per page view, the focus items); the rest the chunk finds itself, because every byte of
// w.js ships to every visitor and the chunk only where needed.

export interface Config {
  /** API base (data-api, or where w.js and this chunk came from), no trailing slash. */
  a: string;
  /** Site public key (data-site). */
  k: string;
  /** The page's script nonce, for a <style> where constructable stylesheets are missing. */
  n?: string;
  /**
   * w.js's visitor id now: null before consent (consent mode) and where tracking is skipped
   * (Do Not Track, local), so a submission carries an id only where w.js may count the visitor.
   */
  v: () => string | null;
  /** The tag asks for consent (data-consent="required"): a visitor id then means consent given. */
  c: boolean;
}

/** The tracker's first-party visitor id (w.js keeps it in localStorage and a cookie). */
export function storedVisitor(): string | null {
  let v: string | null = null;
  try {
    v = localStorage.getItem('ll_vid');
  } catch {}
  return v || document.cookie.match(/(?:^|; )ll_vid=([\w-]+)/)?.[1] || null;
}

export function configOf(visitor: Config['v']): Config {
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
  };
}
