import { Hono, type Context } from 'hono';
import { DASHBOARD_ASSETS, DASHBOARD_INDEX, type DashboardFile } from '../generated/dashboard';
import { NotFoundError } from '../core/errors';
import { sendPrecompressed, variants, type Variants } from './widgets';
import type { AppEnv } from './shared';
import HEADERS from './dashboard-headers.json';

// The marketers' dashboard at /app: a single-page app (dashboard/, built by scripts/build.mjs)
// whose files travel inside the bundle, pre-compressed, like the widget scripts, so Node and
// Workers serve the same bytes. These are public static files: the dashboard signs in and reads
// data through the REST API, with that API's checks; nothing here knows who is asking.
//
//   /app/assets/<name>-<hash>.<ext>   content-hashed files, cached for good; a name not built is a 404
//   /app, /app/<anything else>        index.html (the app routes in the browser), never cached stale

// The headers (CSP and the rest) are shared with scripts/build.mjs, which gives the same ones to the
// hashed files Cloudflare serves as static assets (dist/public/_headers).
const COMMON = { 'Content-Security-Policy': HEADERS.csp.join('; '), ...HEADERS.common };

// Decoded on first use, once per file. A Map, not the generated object: request paths never index plain objects.
const assets = new Map<string, () => Variants>(
  Object.entries(DASHBOARD_ASSETS).map(([name, f]) => [name, variants(f.text, f.etag, f.br, f.gzip)]),
);
const types = new Map<string, string>(Object.entries(DASHBOARD_ASSETS).map(([name, f]) => [name, f.type]));
const index = variants(DASHBOARD_INDEX.text, DASHBOARD_INDEX.etag, DASHBOARD_INDEX.br, DASHBOARD_INDEX.gzip);

const ASSETS_PREFIX = '/app/assets/';

function serve(c: Context<AppEnv>): Response {
  const path = c.req.path;
  if (path.startsWith(ASSETS_PREFIX)) {
    const name = path.slice(ASSETS_PREFIX.length);
    const file = assets.get(name);
    // A missing file is a 404, never index.html: a stale chunk must fail loudly, not parse HTML as JS.
    if (!file) throw new NotFoundError('Dashboard file');
    return sendPrecompressed(c, file(), {
      ...COMMON,
      'Content-Type': types.get(name)!,
      'Cache-Control': 'public, max-age=31536000, immutable',
    });
  }
  return sendPrecompressed(c, index(), {
    ...COMMON,
    'Content-Type': DASHBOARD_INDEX.type,
    // The page names the hashed files: revalidate it each time (an ETag makes that a 304).
    'Cache-Control': 'no-cache',
  });
}

export const dashboardRoutes = new Hono<AppEnv>().get('/app', serve).get('/app/*', serve);

export type { DashboardFile };
