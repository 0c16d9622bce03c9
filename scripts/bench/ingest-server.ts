// The server side of the ingest benchmark (scripts/bench/ingest.ts builds and
// forks it), so the load generator never shares this event loop. It is the
// Node entry's app on a fresh WAL database file, served by @hono/node-server on
// 127.0.0.1, plus a bare Hono route on a second port of this same process: the
// baseline the /t budget is measured against. Talks to the parent over IPC:
//   → { type: 'ready', appPort, barePort, siteKey, origin }
//   ← 'stats'   → { type: 'stats', cpu, rss, memory }  (process.cpuUsage in µs, process.memoryUsage)
//   ← 'heap'    → { type: 'heap', used }           (V8 heap in use after a full GC)
//   ← 'settle'  → { type: 'settled', ms }          (deferred reactions finished)
//   ← 'stop'    closes both servers, waits for deferred work, closes the database, exits
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createClient } from '@libsql/client';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../api/app';
import { nodePublicDeps } from '../../api/entry/node-deps';
import { createCtx } from '../../api/core/context';
import { createIngestor } from '../../api/core/tracking/ingest';
import { createSite } from '../../api/core/tracking/sites';
import { prepareDatabase } from '../../api/db/open';
import { parseConfig } from '../../api/env';
import { settleDeferred } from '../../api/routes/defer';

const ORIGIN = 'https://shop.example.com';

function listen(fetch: (req: Request) => Response | Promise<Response>): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({ port: info.port, close: () => new Promise<void>((done) => server.close(() => done())) });
    });
  });
}

async function main() {
  const url = process.env.BENCH_DB_URL;
  if (!url?.startsWith('file:')) throw new Error('BENCH_DB_URL must be a file: URL');
  const client = createClient({ url });
  await prepareDatabase(client, url);
  const config = parseConfig({
    DATABASE_URL: url,
    LOG_LEVEL: 'warn',
    // Every request comes from the loopback; the generator sends each visitor's
    // public IP as X-Forwarded-For, as a reverse proxy would, so geo lookups and
    // the per-IP limiter do their real work. The limit is lifted: this measures
    // throughput, not the limiter's verdicts.
    TRUST_PROXY: 'true',
    PUBLIC_RATE_LIMIT: '1000000',
  });
  const ctx = createCtx({ client, config });
  const site = await createSite({ ctx, input: { name: 'Bench shop', allowed_origins: [ORIGIN], settings: {} } });
  // Group-commit tuning experiments; unset, the app's own default is measured.
  const maxWait = process.env.BENCH_INGEST_MAX_WAIT_MS;
  // As api/entry/node.ts builds it.
  const app = createApp({
    ctx,
    public: {
      ...(maxWait ? { ingestor: createIngestor(ctx, { maxWaitMs: Number(maxWait) }) } : {}),
      ...nodePublicDeps(config),
    },
  });

  const bare = new Hono();
  bare.post('/bare', (c) => c.json({ ok: true }, 202));

  const appServer = await listen(app.fetch);
  const bareServer = await listen(bare.fetch);

  const send = (msg: unknown) => process.send?.(msg);
  process.on('message', async (msg: unknown) => {
    if (msg === 'stats') {
      send({ type: 'stats', cpu: process.cpuUsage(), rss: process.memoryUsage.rss(), memory: process.memoryUsage() });
    } else if (msg === 'heap') {
      // Live heap: after full collections (the parent starts this process with
      // --expose-gc), the second one after finalizers (undici's Requests and
      // AbortSignals use them) have had a turn to release what they hold.
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      await new Promise((r) => setTimeout(r, 10));
      gc?.();
      send({ type: 'heap', used: process.memoryUsage().heapUsed });
    } else if (msg === 'settle') {
      const t = performance.now();
      await settleDeferred();
      send({ type: 'settled', ms: performance.now() - t });
    } else if (msg === 'stop') {
      await Promise.all([appServer.close(), bareServer.close()]);
      await settleDeferred();
      client.close();
      process.exit(0);
    }
  });
  // The parent going away must not leave this process behind.
  process.on('disconnect', () => process.exit(0));

  send({ type: 'ready', appPort: appServer.port, barePort: bareServer.port, siteKey: site.public_key, origin: ORIGIN });
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
