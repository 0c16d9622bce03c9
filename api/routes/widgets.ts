import { Hono, type Context } from 'hono';
import {
  W_CHUNK_BR_BASE64,
  W_CHUNK_ETAG,
  W_CHUNK_GZIP_BASE64,
  W_CHUNK_JS,
  W_CHUNK_VERSION,
  W_JS,
  W_JS_BR_BASE64,
  W_JS_ETAG,
  W_JS_GZIP_BASE64,
} from '../generated/widgets';
import type { AppEnv } from './shared';

// GET /w.js (the tracker) and GET /w-chunk.js (the forms/focus chunk w.js import()s: a module
// fetch, so CORS is required). Both were compressed at build time (scripts/build.mjs) and travel
// inside the bundle, so Node and Workers serve the same bytes with no zlib at run time.

export type Coding = 'br' | 'gzip' | 'identity';

/**
 * The coding to send for an Accept-Encoding header (RFC 9110 §12.5.3): the highest q wins, brotli
 * before gzip on a tie, q=0 refuses a coding, `*` stands for codings not named. Identity is the
 * fallback: every client can read it.
 */
export function negotiateEncoding(header: string | undefined | null): Coding {
  if (!header) return 'identity';
  let br: number | undefined;
  let gzip: number | undefined;
  let star: number | undefined;
  // Real headers are a few dozen characters; a hostile one is not walked in full.
  for (const part of header.slice(0, 1024).split(',')) {
    const [name = '', ...params] = part.split(';');
    let q = 1;
    for (const p of params) {
      const [key = '', value = ''] = p.split('=');
      // A q that is not a qvalue (0 to 1, three decimals) counts as a refusal.
      if (key.trim().toLowerCase() === 'q') q = /^\s*(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*$/.test(value) ? Number(value) : 0;
    }
    const coding = name.trim().toLowerCase();
    if (coding === 'br') br = Math.max(br ?? 0, q);
    else if (coding === 'gzip' || coding === 'x-gzip') gzip = Math.max(gzip ?? 0, q);
    else if (coding === '*') star = q;
  }
  const qBr = br ?? star ?? 0;
  const qGzip = gzip ?? star ?? 0;
  if (qBr > 0 && qBr >= qGzip) return 'br';
  if (qGzip > 0) return 'gzip';
  return 'identity';
}

/** Whether an If-None-Match header matches `etag` (weak comparison, as RFC 9110 asks for GET). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = etag.replace(/^W\//, '');
  return ifNoneMatch
    .slice(0, 4096)
    .split(',')
    .some((t) => {
      const tag = t.trim();
      return tag === '*' || tag.replace(/^W\//, '') === opaque;
    });
}

// atob exists on both runtimes (Buffer does not exist on Workers).
const fromBase64 = (b64: string) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));

export interface Variant {
  body: Uint8Array<ArrayBuffer>;
  etag: string;
}
export type Variants = Record<Coding, Variant>;

/**
 * One script in its three codings, each with its own ETag: a cache that stored the brotli bytes
 * must not revalidate them against the gzip ones. Decoded on first use, once.
 */
export function variants(js: string, etag: string, brBase64: string, gzipBase64: string) {
  let cache: Variants | undefined;
  const tagged = (suffix: string) => `${etag.slice(0, -1)}-${suffix}"`;
  return () =>
    (cache ??= {
      identity: { body: new TextEncoder().encode(js), etag },
      br: { body: fromBase64(brBase64), etag: tagged('br') },
      gzip: { body: fromBase64(gzipBase64), etag: tagged('gz') },
    });
}

/**
 * The answer for pre-compressed bytes: the coding the client takes, Vary, its own ETag (304 when
 * it matches), the given caching. Shared by the widget scripts, the /docs renderer and the
 * dashboard's files (which name their own Content-Type in `headers`; scripts by default).
 */
export function sendPrecompressed(c: Context, all: Variants, headers: Record<string, string>): Response {
  const coding = negotiateEncoding(c.req.header('accept-encoding'));
  const variant = all[coding];
  const out: Record<string, string> = { ETag: variant.etag, Vary: 'Accept-Encoding', 'X-Content-Type-Options': 'nosniff', ...headers };
  if (matches(c.req.header('if-none-match'), variant.etag)) return new Response(null, { status: 304, headers: out });
  out['Content-Type'] = headers['Content-Type'] ?? 'application/javascript; charset=utf-8';
  out['Content-Length'] = String(variant.body.byteLength);
  if (coding !== 'identity') out['Content-Encoding'] = coding;
  // encodeBody 'manual' tells workerd the bytes are already encoded; without it a Worker would
  // compress them again to honour Content-Encoding. Node ignores the option.
  return new Response(variant.body, { status: 200, headers: out, encodeBody: 'manual' } as ResponseInit);
}

export const widgetRoutes = new Hono<AppEnv>();

function script(path: string, get: ReturnType<typeof variants>, version?: string) {
  widgetRoutes.get(path, (c) => {
    // Asked for by its content hash (as w.js does), the chunk never changes: cache it for good.
    const pinned = version !== undefined && c.req.query('v') === version;
    return sendPrecompressed(c, get(), {
      'Cache-Control': pinned ? 'public, max-age=31536000, immutable' : 'public, max-age=3600, stale-while-revalidate=86400',
      'Access-Control-Allow-Origin': '*',
    });
  });
}

script('/w.js', variants(W_JS, W_JS_ETAG, W_JS_BR_BASE64, W_JS_GZIP_BASE64));
script('/w-chunk.js', variants(W_CHUNK_JS, W_CHUNK_ETAG, W_CHUNK_BR_BASE64, W_CHUNK_GZIP_BASE64), W_CHUNK_VERSION);
