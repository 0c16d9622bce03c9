import { createClient, type Client } from '@libsql/client/web';
import type { ExecutionContext } from 'hono';
import { createApp } from '../app';
import { parseConfig } from '../env';
import { createCtx } from '../core/context';
import { fetchTransport } from '../core/util/outbound';
import { prepareDatabase } from '../db/open';
import { bootstrapAdminKey } from '../core/access/api-keys';
import { bootstrapFirstAdmin } from '../core/access/users';
import { runDue } from '../jobs/index';
import type { Ctx } from '../core/context';
import { r2StorageFromEnv } from './storage-r2';
import { directIngestor } from '../core/tracking/ingest';
import { rateLimitBindingsFrom } from '../core/access/rate-limits';
import { handleTrackingBatch, queueIngestorFromEnv, type QueueBatch } from './worker-queue';
import { enqueueDueJobs, handleJobsBatch, isJobsQueue, jobsQueueFromEnv } from '../jobs/queue';

type Bindings = Record<string, unknown>;

// One app per isolate, built on the first request. Migrations run once per
// isolate too: they are idempotent and cheap when there is nothing to apply.
let ready: Promise<{ app: ReturnType<typeof createApp>; ctx: Ctx }> | undefined;
let readyFor: Bindings | undefined;

async function build(env: Bindings) {
  const config = parseConfig(env);
  // No client-side limit on calls in flight: the client's limiter (20 by default) is shared by the
  // isolate's requests, and a call it queued would start in whichever request freed a slot, which
  // workerd refuses (I/O on behalf of another request) — requests beyond 20 calls hung. Workers
  // queue each request's own connections themselves.
  const client: Client = createClient({ url: config.DATABASE_URL, authToken: config.DATABASE_AUTH_TOKEN, concurrency: Number.MAX_SAFE_INTEGER });
  await prepareDatabase(client, config.DATABASE_URL);
  // Workers cannot resolve DNS themselves, so outbound calls check literal IPs and names
  // (fetchTransport); Cloudflare refuses a Worker's fetch to private addresses anyway.
  const ctx = createCtx({ client, config, outbound: fetchTransport });
  // A Worker has no console to show a one-time secret on, so it never generates
  // one: ADMIN_API_KEY is the way in.
  const { missing } = await bootstrapAdminKey({ ctx, input: { generate: false } });
  if (missing) ctx.log.warn('No API key exists and ADMIN_API_KEY is not set: run `wrangler secret put ADMIN_API_KEY`.');
  // No console to print on: the first admin's one-time link goes to the log (`wrangler tail`),
  // one per isolate start while no user exists; each works once, until a first admin exists.
  const { link } = await bootstrapFirstAdmin({ ctx, input: { base: config.PUBLIC_URL ?? 'https://<your worker>' } });
  if (link) ctx.log.warn('No dashboard user exists yet: open this one-time link to create the first admin (valid 7 days).', { link });
  // With a Queue bound as TRACKING_QUEUE, hits are answered once the Queue has them and written
  // in batches by the `queue` handler below; without one, each request writes its own.
  const ingestor = queueIngestorFromEnv(ctx, env) ?? directIngestor(ctx);
  const app = createApp({
    ctx,
    public: {
      ingestor,
      // Cloudflare sets these; a client cannot forge them past the edge.
      clientIp: (c) => c.req.header('cf-connecting-ip') ?? null,
      platformCountry: (c) => {
        const cf = (c.req.raw as Request & { cf?: { country?: string } }).cf;
        return cf?.country && cf.country !== 'XX' && cf.country !== 'T1' ? cf.country : null;
      },
      // Per-IP limits shared by every isolate: the [[ratelimits]] of wrangler.toml (core/access/rate-limits.ts).
      rateLimits: rateLimitBindingsFrom(env),
    },
    // Uploaded assets: the R2 bucket bound as ASSETS; without one, asset routes answer 503.
    storage: r2StorageFromEnv(env),
  });
  return { app, ctx };
}

function appFor(env: Bindings) {
  if (!ready || readyFor !== env) {
    readyFor = env;
    ready = build(env).catch((e) => {
      ready = undefined;
      throw e;
    });
  }
  return ready;
}

export default {
  async fetch(request: Request, env: Bindings, executionCtx: ExecutionContext): Promise<Response> {
    try {
      const { app } = await appFor(env);
      return await app.fetch(request, env, executionCtx);
    } catch (e) {
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      return Response.json(
        { error: { code: 'UNAVAILABLE', message: 'The service is starting or misconfigured.', requestId: crypto.randomUUID() } },
        { status: 503 },
      );
    }
  },

  // Cron Triggers. With a jobs Queue bound as JOBS_QUEUE, the tick only claims the due jobs (in
  // the database: concurrent ticks enqueue each once) and enqueues them; the queue's consumers do
  // the work (api/jobs/queue.ts). Without one, every job runs here (they are idempotent and cheap
  // when idle).
  async scheduled(_event: unknown, env: Bindings, executionCtx: ExecutionContext): Promise<void> {
    const { ctx } = await appFor(env);
    const jobs = jobsQueueFromEnv(env);
    if (jobs) await enqueueDueJobs(ctx, jobs, ctx.now());
    else executionCtx.waitUntil(runDue(ctx, Date.now(), new Map()));
  },

  // The queues' consumer, by queue name (wrangler.toml): the jobs queue ("-jobs") runs job slices;
  // the tracking queue and its dead-letter queue get a batch of hits, written in one transaction.
  // A throw here (no database) makes the Queue retry the whole batch.
  async queue(batch: QueueBatch, env: Bindings, executionCtx: ExecutionContext): Promise<void> {
    const { ctx } = await appFor(env);
    if (isJobsQueue(batch.queue)) return handleJobsBatch(ctx, jobsQueueFromEnv(env), batch.messages, ctx.config.JOBS_SLICE_MS);
    await handleTrackingBatch(ctx, batch, (p) => executionCtx.waitUntil(p));
  },
};
