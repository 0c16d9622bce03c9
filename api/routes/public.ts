import type { Context, MiddlewareHandler } from 'hono';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import { rateLimiter } from 'hono-rate-limiter';
import { AppError } from '../core/errors';
import type { AppEnv } from './shared';
import { pixel } from './email/tracking';

// What every public endpoint (/t, /f/:id, /focus, /a/:slug; /u/:token and /webhooks/* their limits only) gets before its
// handler: CORS for the calling page (on errors too, so its script can read
// what went wrong; whether the origin may use a site is the site's allow-list,
// checked in core) and a per-IP request limit, by bucket.

/** The page's origin: Origin, or the Referer's origin (some beacons carry no Origin). */
export function originOf(c: Context): string | null {
  const o = c.req.header('origin');
  if (o && o !== 'null') return o;
  const r = c.req.header('referer');
  if (!r) return null;
  try {
    return new URL(r).origin;
  } catch {
    return null;
  }
}

/** The 429 in the error shape, with Retry-After, from the limiter's count of this window. */
export function tooMany(c: Context<AppEnv>): never {
  const info = c.get('rateLimit');
  const wait = Math.max(1, Math.ceil(((info?.resetTime?.getTime() ?? Date.now() + 60_000) - Date.now()) / 1000));
  c.header('Retry-After', String(wait));
  throw new AppError('RATE_LIMITED', `Too many requests; retry in ${wait} s.`);
}

/** A limit of `perMinute` requests per client IP for one bucket of public requests. */
function perIp(perMinute: number, only?: string, over: (c: Context<AppEnv>) => Response = tooMany): MiddlewareHandler<AppEnv> {
  return rateLimiter<AppEnv>({
    windowMs: 60_000,
    limit: perMinute,
    // The hot path stays lean: no RateLimit-* headers, Retry-After on a 429 only.
    standardHeaders: false,
    keyGenerator: (c) => c.get('clientIp') ?? 'unknown',
    skip: only ? (c) => c.req.method !== only : undefined,
    handler: (c) => over(c),
  });
}

/**
 * The private API's limit: `perMinute` requests per API key, told on every
 * answer in RateLimit-Limit / RateLimit-Remaining / RateLimit-Reset (and
 * RateLimit-Policy), with Retry-After and the error shape on a 429.
 */
export function perApiKey(perMinute: number): MiddlewareHandler<AppEnv> {
  return rateLimiter<AppEnv>({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-6',
    keyGenerator: (c) => `key:${c.get('apiKey').id}`,
    handler: (c) => tooMany(c),
  });
}

/**
 * The sign-in endpoints' per-address request limit (a twentieth of the public one per minute),
 * beside their lockouts in the database (core/access/throttle.ts): a flood is answered 429
 * before any password is hashed.
 */
export const perIpSignIn = (perMinute: number): MiddlewareHandler<AppEnv> => perIp(Math.max(5, Math.ceil(perMinute / 20)), 'POST');

/** Mounts CORS and the per-IP limits on the public endpoints of `app`. */
export function guardPublicEndpoints(app: OpenAPIHono<AppEnv>, perMinute: number) {
  // Preflights (JSON senders) go through Hono's cors middleware. The simple requests the
  // tracker and widgets send get their three headers set before the handler answers:
  // Hono's middleware sets them on a Response it creates first and then copies twice,
  // which the ingestion hot path measurably pays for.
  const preflight = cors({
    // The Referer's origin stands in where a beacon carries no Origin.
    origin: (_origin, c) => originOf(c),
    allowMethods: ['GET', 'POST'],
    allowHeaders: ['Content-Type'],
    exposeHeaders: ['Retry-After'],
    maxAge: 86_400,
  });
  const pageCors: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    const origin = originOf(c);
    if (origin) c.header('Access-Control-Allow-Origin', origin);
    c.header('Access-Control-Expose-Headers', 'Retry-After');
    c.header('Vary', 'Origin');
    return next();
  };
  for (const path of ['/t', '/f/*', '/focus', '/a/*']) app.use(path, pageCors);
  app.use('/t', perIp(perMinute, 'POST'));
  // A person submits a form a few times a minute at most; reads are cheap.
  app.use('/f/*', perIp(perMinute, 'GET'));
  app.use('/f/*', perIp(Math.max(1, Math.ceil(perMinute / 20)), 'POST'));
  app.use('/focus', perIp(perMinute, 'GET'));
  app.use('/a/*', perIp(perMinute, 'GET'));
  // Landing pages and their sitemap: a person reads a few pages a minute; a miss costs a database read.
  app.use('/p/*', perIp(perMinute, 'GET'));
  app.use('/sitemap.xml', perIp(perMinute, 'GET'));
  // Unsubscribe links: the preference page per person; one-click posts come from mailbox
  // providers' few servers on behalf of many people, so they get ten times as many.
  app.use('/u/*', perIp(perMinute, 'GET'));
  app.use('/u/*', perIp(perMinute * 10, 'POST'));
  // Provider webhooks come in bursts (a broadcast's deliveries) from a few addresses, and are
  // retried after a 429: a wide limit that still stops a flood of forged requests.
  app.use('/webhooks/*', perIp(perMinute * 10, 'POST'));
  // Email click redirects per person. The open pixel always answers its image (a mail client
  // shows nothing broken), but an address over ten times the limit has its opens not recorded:
  // image proxies (Gmail's, Apple's) fetch for many readers from few addresses, and one token
  // must not write events without bound.
  app.use('/c/*', perIp(perMinute, 'GET'));
  app.use('/o/*', perIp(perMinute * 10, undefined, pixel));
}
