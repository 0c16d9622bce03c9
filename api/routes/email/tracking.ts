import { Hono, type Context } from 'hono';
import type { AppEnv } from '../shared';
import { followClick, readClickToken, recordOpen, type Request } from '../../core/email/tracking';
import { AppError } from '../../core/errors';
import { errorResponse } from '../errors';
import type { Ingestor } from '../../core/tracking/ingest';

/**
 * The links in sent emails (core/email/track-links.ts puts them there):
 * GET /o/{token} — the open pixel: always the 43-byte transparent GIF, never cached, whatever
 *   the token; a genuine open token records an open (core/email/tracking.ts).
 * GET /c/{token} — a click: a 302 to the destination inside the genuine, signed click token,
 *   recorded; anything else (tampered, another kind of token, junk) gets a 400 HTML page and no
 *   redirect, so the endpoint can never send anyone where the token did not say.
 *   A program asking for JSON (Accept: application/json without text/html) is told where the
 *   link leads (200 { url }) or gets the JSON error, and nothing is recorded: it is no reader.
 * HEAD works on both (recorded as a machine's). Other methods are 405s.
 */

// GIF89a, 1×1, one transparent pixel.
const GIF = new Uint8Array([
  71, 73, 70, 56, 57, 97, 1, 0, 1, 0, 128, 0, 0, 255, 255, 255, 0, 0, 0, 33, 249, 4, 1, 0, 0, 0, 0, 44, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 68, 1, 0, 59,
]);

const NO_STORE = { 'Cache-Control': 'no-store, no-cache, must-revalidate, private, max-age=0', Pragma: 'no-cache', Expires: '0' };

const BAD_LINK_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>Link not valid</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5"><h1>This link is not valid</h1>
<p>The link you followed was changed or cut short on its way to you, so it leads nowhere. Please go back to the email and use the link as it was sent, or copy it whole into your browser.</p></body></html>`;

function requestOf(c: Context<AppEnv>): Request {
  return { method: c.req.method, userAgent: c.req.header('user-agent') ?? null, ip: c.get('clientIp') ?? null };
}

/** A Location header value: the URL as a browser would write it, or percent-encoded bytes where it cannot be parsed. */
function location(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return Array.from(url, (ch) => {
      if (/^[\x21-\x7e]$/.test(ch)) return ch;
      try {
        return encodeURIComponent(ch);
      } catch {
        return '%EF%BF%BD'; // a lone surrogate
      }
    }).join('');
  }
}

/** The open pixel's answer; also what an address over its limit gets (public.ts), with nothing recorded. */
export function pixel(c: Context): Response {
  return c.body(GIF, 200, { 'Content-Type': 'image/gif', 'Content-Length': String(GIF.length), 'X-Content-Type-Options': 'nosniff', ...NO_STORE });
}

const wantsJson = (accept: string | undefined) => !!accept && /application\/json/i.test(accept) && !/text\/html/i.test(accept);

/** The email link routes; opens go through the tracking Queue when the ingestor is one (Workers). */
export function trackingRoutes(deps: { ingestor?: Ingestor } = {}) {
  const routes = new Hono<AppEnv>();

  routes.get('/o/:token', async (c) => {
    const ctx = c.get('ctx');
    try {
      const r = await recordOpen(ctx, { token: c.req.param('token'), request: requestOf(c) }, deps.ingestor);
      // The Queue's consumer kicks the reactions once the open is written.
      if (r.queued) c.set('queued', true);
    } catch (e) {
      // The image is answered whatever happens to the record: a mail client shows nothing broken.
      ctx.log.error('email open not recorded', { error: e instanceof Error ? e.message : String(e) });
    }
    return pixel(c);
  });

  routes.get('/c/:token', async (c) => {
    if (wantsJson(c.req.header('accept'))) {
      const read = await readClickToken(c.get('ctx'), c.req.param('token'));
      if (!read) return errorResponse(c, new AppError('BAD_REQUEST', 'This link is not valid: its token was changed or cut short.'));
      return c.json({ url: read.url }, 200, NO_STORE);
    }
    const result = await followClick(c.get('ctx'), { token: c.req.param('token'), request: requestOf(c) });
    if (!result.ok) {
      return c.html(BAD_LINK_PAGE, 400, {
        ...NO_STORE,
        'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        'X-Content-Type-Options': 'nosniff',
      });
    }
    return c.body(null, 302, { Location: location(result.location), 'Referrer-Policy': 'no-referrer', ...NO_STORE });
  });

  return routes;
}

