import type { Logger } from '../context';

/**
 * Per-IP request limits shared by every Worker isolate: Cloudflare's Rate Limiting binding
 * (wrangler.toml `[[ratelimits]]`). An isolate's memory is one isolate's count, and Cloudflare
 * runs many isolates of one Worker, so an in-memory limit there lets a client through once per
 * isolate; the binding keeps one count per key for every isolate of the Worker in a Cloudflare
 * location (a client reaches one location). On Node one process is the whole server, so its
 * in-memory limiter (routes/public.ts) is exact and no binding is needed.
 *
 * A binding has one fixed limit and period (10 or 60 s) of its own, set in wrangler.toml, so
 * there is one binding per width of limit the public endpoints use, all with a 60 s period:
 *
 *   bucket   binding              wrangler.toml limit  on Node (PUBLIC_RATE_LIMIT = P, default 600)
 *   public   RATE_LIMIT_PUBLIC    600                  P: /t, GET /f, /focus, /a, /p, /sitemap.xml, GET /u, /c
 *   submit   RATE_LIMIT_SUBMIT    30                   P / 20 (at least 5; 1 for forms): POST /f, sign-in
 *   bulk     RATE_LIMIT_BULK      6000                 P × 10: POST /u, POST /webhooks, /o
 *
 * With a binding present its limit applies and PUBLIC_RATE_LIMIT does not (for that bucket);
 * without one the bucket counts in memory as on Node. Each endpoint keeps its own count within
 * a bucket: the key is the endpoint's name and the client's IP.
 */

/** The part of Cloudflare's Rate Limiting binding used here (workers-types' RateLimit). */
export interface RateLimitBinding {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

export type LimitBucket = 'public' | 'submit' | 'bulk';

/** The binding name of each bucket, as wrangler.toml declares it. */
export const RATE_LIMIT_BINDINGS: Record<LimitBucket, string> = {
  public: 'RATE_LIMIT_PUBLIC',
  submit: 'RATE_LIMIT_SUBMIT',
  bulk: 'RATE_LIMIT_BULK',
};

/** The period every binding is declared with: a refused client is told to come back after it. */
export const RATE_LIMIT_PERIOD_S = 60;

export type RateLimitBindings = Partial<Record<LimitBucket, RateLimitBinding>>;

const isBinding = (v: unknown): v is RateLimitBinding => typeof v === 'object' && v !== null && typeof (v as RateLimitBinding).limit === 'function';

/** The buckets' bindings found in a Worker's env (none on Node). */
export function rateLimitBindingsFrom(env: Record<string, unknown>): RateLimitBindings {
  const out: RateLimitBindings = {};
  for (const [bucket, name] of Object.entries(RATE_LIMIT_BINDINGS) as [LimitBucket, string][]) {
    if (isBinding(env[name])) out[bucket] = env[name];
  }
  return out;
}

/**
 * Asks the binding whether `key` may go on: true or false, or null when the binding failed (an
 * outage, a misconfiguration); the caller then counts in memory for that request, so a failing
 * binding neither lets everything through nor refuses everyone. Logged once per binding.
 */
export async function askBinding(binding: RateLimitBinding, key: string, log: Logger): Promise<boolean | null> {
  try {
    return (await binding.limit({ key })).success === true;
  } catch (e) {
    if (!failed.has(binding)) {
      failed.add(binding);
      log.warn('rate limiting binding failed; counting in this isolate instead', { error: e instanceof Error ? e.message : String(e) });
    }
    return null;
  }
}
// Bindings that failed once (logging only).
const failed = new WeakSet<RateLimitBinding>();
