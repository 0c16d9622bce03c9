// Whether the server stays responsive while it works on something: /health is
// pinged every 100 ms with a short timeout, on a connection of its own each time.
import http from 'node:http';

export function ping(port: number, timeoutMs: number): Promise<number | 'timeout' | 'error'> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/health', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve('timeout');
    });
    req.on('error', () => resolve('error'));
    req.end();
  });
}

/** Runs `work` (not awaited past `forMs`) while pinging; returns the slowest ping in ms, or Infinity when one got no answer. */
export async function slowestPingDuring(port: number, work: () => Promise<unknown>, forMs = 3000, timeoutMs = 2000): Promise<number> {
  void work().catch(() => undefined);
  let slowest = 0;
  const until = Date.now() + forMs;
  // Bounded: one ping per 100 ms for forMs.
  while (Date.now() < until) {
    const t = Date.now();
    const r = await ping(port, timeoutMs);
    if (r !== 200) return Infinity;
    slowest = Math.max(slowest, Date.now() - t);
    await new Promise((res) => setTimeout(res, 100));
  }
  return slowest;
}
