import { Hono, type Context } from 'hono';
import { collect } from '../../core/tracking/collect';
import type { Ingestor } from '../../core/tracking/ingest';
import { kickReactions } from '../../core/spine/run';
import { W_CHUNK_ETAG, W_CHUNK_JS, W_CHUNK_VERSION, W_JS, W_JS_ETAG } from '../../generated/widgets';
import { MAX_TRACK_BODY } from '../../core/tracking/payload';
import { defer } from '../defer';
import type { AppEnv } from '../shared';
import { guardPublic } from '../public';

export interface PublicDeps {
  ingestor: Ingestor;
  /** Country code for an IP (Node: the bundled mmdb), or from the platform (Workers). */
  geo?: (ip: string) => string | null;
  platformCountry?: (c: Context) => string | null;
  /** Reads the body (bounded); the Node entry reads the socket directly. */
  readBody?: (c: Context, limit: number) => Promise<string>;
}


export function publicRoutes(deps: PublicDeps) {
  const app = new Hono<AppEnv>();

  // The tracker, and the forms/focus chunk it import()s (a module fetch: CORS required).
  const script = (path: string, js: string, etag: string, version?: string) =>
    app.get(path, (c) => {
      // Asked for by its content hash (as w.js does), the chunk never changes: cache it for good.
      const pinned = version !== undefined && c.req.query('v') === version;
      const headers = {
        ETag: etag,
        'Cache-Control': pinned ? 'public, max-age=31536000, immutable' : 'public, max-age=3600, stale-while-revalidate=86400',
        'Access-Control-Allow-Origin': '*',
        'X-Content-Type-Options': 'nosniff',
      };
      if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers);
      return c.body(js, 200, { ...headers, 'Content-Type': 'application/javascript; charset=utf-8' });
    });
  script('/w.js', W_JS, W_JS_ETAG);
  script('/w-chunk.js', W_CHUNK_JS, W_CHUNK_ETAG, W_CHUNK_VERSION);

  // Preflight for application/json senders; the tracker itself sends text/plain.
  app.options('/t', (c) =>
    c.body(null, 204, {
      'Access-Control-Allow-Origin': c.req.header('origin') ?? '*',
      'Access-Control-Allow-Methods': 'POST',
      'Access-Control-Allow-Headers': 'Content-Type',
      'Access-Control-Max-Age': '86400',
      Vary: 'Origin',
    }),
  );

  app.post('/t', async (c) => {
    const ctx = c.get('ctx');
    const origin = guardPublic(c, 't');
    const ip = c.get('clientIp');
    const result = await collect({
      ctx,
      ingestor: deps.ingestor,
      geo: deps.geo,
      input: {
        body: deps.readBody ? await deps.readBody(c, MAX_TRACK_BODY) : await c.req.text(),
        origin,
        userAgent: c.req.header('user-agent') ?? null,
        ip,
        doNotTrack: c.req.header('dnt') === '1' || c.req.header('sec-gpc') === '1',
        country: deps.platformCountry?.(c) ?? null,
      },
    });
    if (!result.dropped) defer(c, kickReactions(ctx));
    // Read by w.js (it sends page views with fetch): focus: true means GET /focus has something to ask.
    return c.json({ ok: true, stored: result.stored, ...(result.dropped ? { dropped: result.dropped } : {}), ...(result.focus ? { focus: true } : {}) }, 202);
  });

  return app;
}
