import { Hono, type Context } from 'hono';
import { collect } from '../../core/tracking/collect';
import type { Ingestor } from '../../core/tracking/ingest';
import { widgetRoutes } from '../widgets';
import { MAX_TRACK_BODY } from '../../core/tracking/payload';
import type { AppEnv } from '../shared';
import { originOf } from '../public';

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

  // The tracker and its chunk, pre-compressed (api/routes/widgets.ts).
  app.route('/', widgetRoutes);

  // CORS (preflight included) and the rate limit come from routes/public.ts.
  app.post('/t', async (c) => {
    const ctx = c.get('ctx');
    const origin = originOf(c);
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
    // Through a Queue nothing is written yet: the consumer runs the reactions once it has.
    if (deps.ingestor.queued) c.set('queued', true);
    // Read by w.js (it sends page views with fetch): focus: true means GET /focus has something to ask.
    return c.json({ ok: true, stored: result.stored, ...(result.dropped ? { dropped: result.dropped } : {}), ...(result.focus ? { focus: true } : {}) }, 202);
  });

  return app;
}
