import type { Context, MiddlewareHandler } from 'hono';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import { rateLimiter } from 'hono-rate-limiter';
import { AppError } from '../core/errors';
import { askBinding, RATE_LIMIT_PERIOD_S, type LimitBucket, type RateLimitBindings } from '../core/access/rate-limits';
import type { AppEnv } from './shared';
import { pixel } from './email/tracking';

// What every public endpoint (/t, /f/:id, /focus, /a/:slug; /u/:token and /webhooks/* their limits only) gets before its
// handler: CORS for the calling page (on errors too, so its script can read
// what went wrong; whether the origin may use a site is the site's allow-list,
// checked in core) and a per-IP request limit, by bucket: through the bucket's Rate Limiting
// binding on Workers when there is one (core/access/rate-limits.ts), else counted in memory.

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

/**
 * A limit of `perMinute` requests per client IP for one endpoint (`name`) of a bucket of public
 * requests; with the bucket's binding, the binding's limit instead, shared by every isolate.
 */
function perIp(
  bucket: LimitBucket,
  name: string,
  perMinute: number,
  bindings: RateLimitBindings,
  only?: string,
  over: (c: Context<AppEnv>) => Response = tooMany,
): MiddlewareHandler<AppEnv> {
  const memory = rateLimiter<AppEnv>({
    windowMs: 60_000,
    limit: perMinute,
    // The hot path stays lean: no RateLimit-* headers, Retry-After on a 429 only.
    standardHeaders: false,
    keyGenerator: (c) => c.get('clientIp') ?? 'unknown',
    skip: only ? (c) => c.req.method !== only : undefined,
    handler: (c) => over(c),
  });
  const binding = bindings[bucket];
  if (!binding) return memory;
  return async (c, next) => {
    if (only && c.req.method !== only) return next();
    const ok = await askBinding(binding, `${name}|${c.get('clientIp') ?? 'unknown'}`, c.get('ctx').log);
    if (ok === null) return memory(c, next);
    if (ok) return next();
    // The binding does not tell where its window is: come back after one whole period.
    c.set('rateLimit', { limit: 0, remaining: 0, resetTime: new Date(Date.now() + RATE_LIMIT_PERIOD_S * 1000) });
    return over(c);
  };
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
export const perIpSignIn = (perMinute: number, bindings: RateLimitBindings = {}): MiddlewareHandler<AppEnv> =>
  perIp('submit', 'sign-in', Math.max(5, Math.ceil(perMinute / 20)), bindings, 'POST');

/** Mounts CORS and the per-IP limits on the public endpoints of `app`. */
export function guardPublicEndpoints(app: OpenAPIHono<AppEnv>, perMinute: number, bindings: RateLimitBindings = {}) {
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
  app.use('/t', perIp('public', 't', perMinute, bindings, 'POST'));
  // A person submits a form a few times a minute at most; reads are cheap.
  app.use('/f/*', perIp('public', 'f', perMinute, bindings, 'GET'));
  app.use('/f/*', perIp('submit', 'f-submit', Math.max(1, Math.ceil(perMinute / 20)), bindings, 'POST'));
  app.use('/focus', perIp('public', 'focus', perMinute, bindings, 'GET'));
  app.use('/a/*', perIp('public', 'a', perMinute, bindings, 'GET'));
  // Landing pages and their sitemap: a person reads a few pages a minute; a miss costs a database read.
  app.use('/p/*', perIp('public', 'p', perMinute, bindings, 'GET'));
  app.use('/sitemap.xml', perIp('public', 'sitemap', perMinute, bindings, 'GET'));
  // Unsubscribe links: the preference page per person; one-click posts come from mailbox
  // providers' few servers on behalf of many people, so they get ten times as many.
  app.use('/u/*', perIp('public', 'u', perMinute, bindings, 'GET'));
  app.use('/u/*', perIp('bulk', 'u-post', perMinute * 10, bindings, 'POST'));
  // Provider webhooks come in bursts (a broadcast's deliveries) from a few addresses, and are
  // retried after a 429: a wide limit that still stops a flood of forged requests.
  app.use('/webhooks/*', perIp('bulk', 'webhooks', perMinute * 10, bindings, 'POST'));
  // Email click redirects per person. The open pixel always answers its image (a mail client
  // shows nothing broken), but an address over ten times the limit has its opens not recorded:
  // image proxies (Gmail's, Apple's) fetch for many readers from few addresses, and one token
  // must not write events without bound.
  app.use('/c/*', perIp('public', 'c', perMinute, bindings, 'GET'));
  app.use('/o/*', perIp('bulk', 'o', perMinute * 10, bindings, undefined, pixel));
}
