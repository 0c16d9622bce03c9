// A JSON escape like "\ud800" parses into a lone surrogate. Stored through
// SQLite it becomes invalid UTF-8, and the libsql client aborts the whole
// process when it reads such a row back. Every string from outside is made
// well-formed (lone surrogates become U+FFFD) before it goes anywhere.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export const wellFormed = (s: string): string => s.replace(LONE_SURROGATE, '\ufffd');

/** JSON.parse/stringify reviver/replacer that makes every string value well-formed. */
export const wellFormedJson = (_k: string, v: unknown) => (typeof v === 'string' ? wellFormed(v) : v);

/** A deep copy with every string (keys included) well-formed, and whether anything changed. */
export function wellFormedDeep(v: unknown): { value: unknown; changed: boolean } {
  let changed = false;
  const walk = (x: unknown): unknown => {
    if (typeof x === 'string') {
      const w = wellFormed(x);
      if (w !== x) changed = true;
      return w;
    }
    if (Array.isArray(x)) return x.map(walk);
    if (x && typeof x === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, val] of Object.entries(x)) {
        const wk = wellFormed(k);
        if (wk !== k) changed = true;
        // defineProperty keeps a "__proto__" key an own key instead of a prototype change.
        Object.defineProperty(out, wk, { value: walk(val), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    return x;
  };
  return { value: walk(v), changed };
}

/**
 * JSON.stringify with well-formed strings. JSON.stringify writes a lone
 * surrogate as an escape ("\\ud800"), so the common case is one test of the
 * output; only then is it redone with the replacer.
 */
export function stringifyWellFormed(v: unknown): string {
  const json = JSON.stringify(v);
  return /\\ud[89a-f]/i.test(json) ? JSON.stringify(v, wellFormedJson) : json;
}
