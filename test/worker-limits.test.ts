// Per-IP limits on Workers go through Cloudflare's Rate Limiting bindings, not the isolate's memory:
// the bundle `wrangler deploy` would upload runs in workerd (Miniflare) with the [[ratelimits]]
// wrangler.toml declares, against the Hrana fixture as its database. PUBLIC_RATE_LIMIT is set far
// above the bindings' limits here, so a 429 at a binding's limit can only come from the binding.
// The public bucket's limit is lowered to 5 for the test (its period stays wrangler.toml's 60 s);
// the submit bucket runs with wrangler.toml's own limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Miniflare } from 'miniflare';
import { bundledWorker, ratelimitOptions, type BundledWorker } from './workerd';
import { expectError } from './helpers';
import { CHROME_UA } from './tracking-helpers';
import { RATE_LIMIT_BINDINGS, RATE_LIMIT_PERIOD_S } from '../api/core/access/rate-limits';
import { ConfigSchema } from '../api/env';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const TOKEN = 'hrana-limits-token-0123456789';
const ADMIN_KEY = 'll_worker_limits_admin_key_0123456789';
const ORIGIN = 'http://leadline.test';
const SHOP = 'https://shop.example.com';
const PUBLIC_LIMIT = 5;

/**
 * Miniflare's limiter counts in windows of whole minutes of the clock: a run that crossed into the
 * next minute would start counting again. Waits out the end of a minute when less than 15 s is left.
 */
async function awayFromMinuteEdge() {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 15_000) await new Promise((r) => setTimeout(r, left + 200));
}

describe('per-IP limits through the Rate Limiting bindings, the Worker bundle in workerd', () => {
  let worker: BundledWorker | undefined;
  let config: BundledWorker['config'];
  let mf: Miniflare | undefined;
  let siteKey: string;
  const log = () => worker?.log() ?? '';

  /** A request from client `ip`, as Cloudflare's edge hands it over (CF-Connecting-IP). */
  async function send(ip: string, path: string, init: RequestInit = {}) {
    const headers = { 'user-agent': CHROME_UA, origin: SHOP, 'cf-connecting-ip': ip, ...(init.headers as Record<string, string>) };
    const res = await mf!.dispatchFetch(`${ORIGIN}${path}`, { ...init, headers } as never);
    const text = await res.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body, retryAfter: res.headers.get('retry-after') };
  }
  const focus = (ip: string) => send(ip, `/focus?k=${siteKey}&u=${encodeURIComponent(`${SHOP}/`)}`);
  /** An empty form submission (422): the limit counts it before the handler looks at it. */
  const submit = (ip: string) => send(ip, '/f/999999', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });

  beforeAll(async () => {
    worker = await bundledWorker(ROOT, 'worker-limits', { token: TOKEN, adminKey: ADMIN_KEY });
    config = worker.config;
    mf = await worker.start({ PUBLIC_RATE_LIMIT: '100000' }, ratelimitOptions(config, { RATE_LIMIT_PUBLIC: PUBLIC_LIMIT }));
    siteKey = await worker.site(mf, SHOP);
  }, 180_000);

  afterAll(() => worker?.close(), 60_000);

  it('wrangler.toml binds one limiter per bucket the code asks for, 60 s each, at PUBLIC_RATE_LIMIT’s default widths', () => {
    const p = ConfigSchema.shape.PUBLIC_RATE_LIMIT.parse(undefined);
    const declared = Object.fromEntries((config.ratelimits ?? []).map((r) => [r.name, r.simple]));
    expect(declared).toEqual({
      [RATE_LIMIT_BINDINGS.public]: { limit: p, period: RATE_LIMIT_PERIOD_S },
      [RATE_LIMIT_BINDINGS.submit]: { limit: p / 20, period: RATE_LIMIT_PERIOD_S },
      [RATE_LIMIT_BINDINGS.bulk]: { limit: p * 10, period: RATE_LIMIT_PERIOD_S },
    });
    expect(new Set(config.ratelimits!.map((r) => r.namespace_id)).size).toBe(3);
  });

  it('GET /focus: past the binding’s limit one IP gets 429 with Retry-After; another IP, and the same IP on /t, still get through', async () => {
    await awayFromMinuteEdge();
    for (let i = 0; i < PUBLIC_LIMIT; i++) {
      const ok = await focus('203.0.113.10');
      expect(ok.status, JSON.stringify(ok.body) + log()).toBe(200);
    }
    const refused = await focus('203.0.113.10');
    expectError(refused, 429, 'RATE_LIMITED');
    expect(refused.retryAfter).toBe(String(RATE_LIMIT_PERIOD_S));
    expect((await focus('203.0.113.10')).status).toBe(429);
    // The count is per IP…
    expect((await focus('203.0.113.11')).status).toBe(200);
    // …and per endpoint: POST /t has a count of its own in the same bucket.
    const hit = await send('203.0.113.10', '/t', {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ k: siteKey, v: 'visitor-limits-0000001', e: [{ t: 'pv', u: `${SHOP}/` }] }),
    });
    expect(hit.status, JSON.stringify(hit.body)).toBeLessThan(300);
  }, 60_000);

  it('POST /f/{id}: wrangler.toml’s own submit limit (30 a minute) holds, although PUBLIC_RATE_LIMIT would allow 5,000', async () => {
    await awayFromMinuteEdge();
    const limit = config.ratelimits!.find((r) => r.name === RATE_LIMIT_BINDINGS.submit)!.simple.limit;
    for (let i = 0; i < limit; i++) {
      const r = await submit('198.51.100.7');
      expect(r.status, JSON.stringify(r.body) + log()).toBe(422);
    }
    const refused = await submit('198.51.100.7');
    expectError(refused, 429, 'RATE_LIMITED');
    expect(refused.retryAfter).toBe('60');
    expect((await submit('198.51.100.8')).status).toBe(422);
  }, 60_000);
});
