import type { Context, MiddlewareHandler } from 'hono';
import { compress } from 'hono/compress';

// JSON and HTML only: scripts are served pre-compressed (api/routes/widgets.ts), and CSV exports
// and asset downloads stream, which a compressor would hold back.
const COMPRESSIBLE = /^\s*(?:application\/(?:[\w.+-]+\+)?json|text\/html)\s*(?:;|$)/i;
// Below this, gzip's header and the chunked framing cost more than they save.
const THRESHOLD = 1024;

/**
 * Response compression for the Node server (Workers compress at Cloudflare's edge), with Hono's
 * own middleware. That middleware skips small bodies only when it knows their length, and
 * Hono's c.json()/c.html() do not set Content-Length, so the length is measured first.
 */
export function nodeCompress(): MiddlewareHandler {
  const gzip = compress({ threshold: THRESHOLD, contentTypeFilter: COMPRESSIBLE });
  return async (c, next) => {
    // The ingestion hot path answers a few bytes; it should not pay for any of this.
    if (c.req.path === '/t') return next();
    await gzip(c, async () => {
      await next();
      await measure(c);
    });
  };
}

async function measure(c: Context): Promise<void> {
  const res = c.res;
  if (!res.body || c.req.method === 'HEAD' || res.headers.has('content-length') || res.headers.has('content-encoding')) return;
  if (!COMPRESSIBLE.test(res.headers.get('content-type') ?? '')) return;
  // Nothing to gain from measuring for a client that takes no compression.
  if (!/(?:^|[\s,])(?:gzip|deflate|\*)\s*(?:[;,]|$)/i.test(c.req.header('accept-encoding') ?? '')) return;
  // c.json() and c.html() bodies are strings in memory already: this is a copy, not a wait.
  const body = new Uint8Array(await res.arrayBuffer());
  const headers = new Headers(res.headers);
  headers.set('content-length', String(body.byteLength));
  // Assigning c.res = undefined first makes Hono take this response as is instead of merging.
  c.res = undefined;
  c.res = new Response(body, { status: res.status, statusText: res.statusText, headers });
}
