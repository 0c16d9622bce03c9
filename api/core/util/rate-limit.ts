// Fixed-window request counter per key, in memory. On Node that is the whole
// server; on Workers it is per isolate, which still blunts a single abuser.
export interface RateLimiter {
  /** Counts one request; returns seconds to wait when over the limit, else 0. */
  hit(key: string, now: number): number;
}

export function createRateLimiter(opts: { limit: number; windowMs: number; maxKeys?: number }): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  const maxKeys = opts.maxKeys ?? 100_000;
  return {
    hit(key, now) {
      let w = windows.get(key);
      if (!w || now - w.start >= opts.windowMs) {
        if (!w && windows.size >= maxKeys) {
          // Forget expired windows; if all are live, start over rather than grow.
          for (const [k, v] of windows) if (now - v.start >= opts.windowMs) windows.delete(k);
          if (windows.size >= maxKeys) windows.clear();
        }
        w = { start: now, count: 0 };
        windows.set(key, w);
      }
      w.count++;
      return w.count > opts.limit ? Math.ceil((w.start + opts.windowMs - now) / 1000) : 0;
    },
  };
}
