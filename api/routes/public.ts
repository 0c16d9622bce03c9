import type { Context } from 'hono';
import type { Ctx } from '../core/context';
import { AppError } from '../core/errors';
import { createRateLimiter, type RateLimiter } from '../core/util/rate-limit';
import type { AppEnv } from './shared';

// What every public endpoint (/t, /f/:id, /focus, /a/:slug) does first.

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

// One limiter per app and bucket (tests build many apps in one process).
const limiters = new WeakMap<Ctx, Map<string, RateLimiter>>();

/**
 * CORS headers for the calling page (on errors too, so its script can read
 * what went wrong; whether the origin may use a site is the site's
 * allow-list), then the per-IP limit of `perMinute` requests in `bucket`.
 * Returns the page's origin.
 */
export function guardPublic(c: Context<AppEnv>, bucket: string, perMinute?: number): string | null {
  const origin = originOf(c);
  if (origin) c.header('Access-Control-Allow-Origin', origin);
  c.header('Vary', 'Origin');
  const ctx = c.get('ctx');
  let byBucket = limiters.get(ctx);
  if (!byBucket) limiters.set(ctx, (byBucket = new Map()));
  let limiter = byBucket.get(bucket);
  if (!limiter) byBucket.set(bucket, (limiter = createRateLimiter({ limit: perMinute ?? ctx.config.PUBLIC_RATE_LIMIT, windowMs: 60_000 })));
  const wait = limiter.hit(c.get('clientIp') ?? 'unknown', ctx.now());
  if (wait) {
    c.header('Retry-After', String(wait));
    throw new AppError('RATE_LIMITED', `Too many requests; retry in ${wait} s.`);
  }
  return origin;
}
