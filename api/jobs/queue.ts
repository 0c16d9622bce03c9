import type { Ctx } from '../core/context';
import { randomToken } from '../core/util/crypto';
import { runReactions } from '../core/spine/run';
import { REACTIONS } from '../core/spine/registry';
import { runWebhooks } from '../core/webhooks/deliver';
import { runCampaigns } from '../core/campaigns/run';
import { runBroadcasts } from '../core/email/broadcast-run';
import { runSendLoop } from '../core/email/loop';
import { rebuildRollups } from '../core/reports/rollups/rebuild';
import { JOBS } from './index';

/**
 * Jobs through a Queue (Workers with JOBS_QUEUE bound; wrangler.toml). The cron only decides which
 * jobs are due and enqueues one message per due job; the jobs Queue's consumers do the work, a
 * bounded slice per message, and a slice that found work hands the rest of the backlog to new
 * messages, so a long backlog spreads over consumers instead of filling one cron run.
 *
 * - Due, durably: a row per job in jobs_schedule. One upsert claims every due job at once
 *   (`next_run_at <= now`, then next_run_at moves on and the claim gets a new token), so however
 *   many scheduled invocations run at once, each due job is claimed, and enqueued, by one of them.
 * - Messages carry the claim's token: a slice runs only while its token is the row's (checked and
 *   counted in one UPDATE), so when the next tick claims the job again the old chain of messages
 *   stops and at most one chain per job runs. Queues deliver at least once; a redelivered slice is
 *   one more run of an idempotent job.
 * - A slice runs the job's own code, with its own lease and fencing rules (campaign steps, email
 *   sends and webhook deliveries are claimed row by row under a lease, completed fenced), for at
 *   most JOBS_SLICE_MS. Several slices of one job at once are as safe as several cron runs were.
 */

export interface JobMessage {
  v: 1;
  job: string;
  /** The claim (jobs_schedule.token) this message works for. */
  token: string;
  /** 0 for the message the cron sent, then 1, 2… along the chain. */
  slice: number;
  /** Which of the job's parallel chains (0 … lanes - 1). */
  lane: number;
}

/** The parts of a Queue producer binding used here. */
export interface JobQueue {
  send(body: JobMessage): Promise<unknown>;
  sendBatch(messages: { body: JobMessage }[]): Promise<unknown>;
}

/**
 * A claim holds a job for at least this long, whatever its interval: the cron fires once a minute,
 * so a job every 2 s is still claimed once per tick, also when invocations of one tick (or a
 * retried delivery of it) arrive seconds apart.
 */
export const MIN_CLAIM_MS = 30_000;
/** The longest chain of slices one claim runs; the next tick claims the job again anyway. */
export const MAX_SLICES = 100;

interface Slice {
  run: (ctx: Ctx, budgetMs: number) => Promise<unknown>;
  /** Whether the slice did work, so more may be waiting: then the chain goes on. Absent: one slice per claim. */
  busy?: (result: any) => boolean;
  /** Chains run side by side once a backlog shows (each under the job's own leases). */
  lanes?: number;
}

// How each job runs as a slice; jobs not named here run their scheduled form once per claim.
const SLICES: Record<string, Slice> = {
  // Cursor-based, so one chain: two would read the same chunks (harmless, but wasted). Busy while
  // it read events; the change watchers' counts say nothing of a backlog (one counts every run).
  reactions: { run: (ctx) => runReactions(ctx), busy: (r) => REACTIONS.some((x) => r[x.name] > 0) },
  webhooks: { run: (ctx, budgetMs) => runWebhooks(ctx, { lanes: 2, budgetMs }), busy: (r) => r.attempted > 0, lanes: 2 },
  campaigns: { run: (ctx, budgetMs) => runCampaigns(ctx, { budgetMs }), busy: (r) => r.claimed > 0, lanes: 4 },
  // Calls to Resend are paced by the shared bucket (core/email/pacing.ts), whatever the lanes.
  emails: {
    run: async (ctx, budgetMs) => ({ broadcasts: await runBroadcasts(ctx, { budgetMs }), ...(await runSendLoop(ctx, { lanes: 2, budgetMs })) }),
    busy: (r) => r.calls + r.skipped + r.failed + r.broadcasts.rows + r.broadcasts.started > 0,
    lanes: 2,
  },
  'reports-rebuild': { run: (ctx, budgetMs) => rebuildRollups(ctx, { resumeOnly: true, budgetMs }), busy: (r) => !r.done },
};

/**
 * Claims the due jobs (one statement, whoever else runs it at the same moment) and enqueues a
 * message for each. Returns the names enqueued.
 */
export async function enqueueDueJobs(ctx: Ctx, queue: JobQueue, now: number): Promise<string[]> {
  const jobs = Object.entries(JOBS).map(([job, j]) => ({ job, every: Math.max(j.everyMs, MIN_CLAIM_MS), token: randomToken(12) }));
  // INSERT … SELECT needs the WHERE before ON CONFLICT (SQLite's parsing ambiguity); RETURNING
  // gives only the rows inserted or updated, i.e. the claims this call won.
  const claimed = await ctx.client.execute({
    sql: `INSERT INTO jobs_schedule (job, next_run_at, token, claimed_at, claims, slices)
      SELECT j.value ->> '$.job', ?1 + (j.value ->> '$.every'), j.value ->> '$.token', ?1, 1, 0 FROM json_each(?2) j WHERE true
      ON CONFLICT(job) DO UPDATE SET next_run_at = excluded.next_run_at, token = excluded.token, claimed_at = excluded.claimed_at,
        claims = jobs_schedule.claims + 1, slices = 0
      WHERE jobs_schedule.next_run_at <= ?1
      RETURNING job, token`,
    args: [now, JSON.stringify(jobs)],
  });
  const messages = claimed.rows.map((r) => ({ body: { v: 1 as const, job: String(r.job), token: String(r.token), slice: 0, lane: 0 } }));
  if (!messages.length) return [];
  try {
    await queue.sendBatch(messages);
  } catch (e) {
    // Not enqueued: release the claims, so the next tick claims these jobs again.
    await ctx.client.execute({
      sql: 'UPDATE jobs_schedule SET next_run_at = 0 WHERE token IN (SELECT value FROM json_each(?))',
      args: [JSON.stringify(messages.map((m) => m.body.token))],
    });
    throw e;
  }
  return messages.map((m) => m.body.job);
}

const isJobMessage = (b: unknown): b is JobMessage => {
  const m = b as Partial<JobMessage> | null;
  return !!m && m.v === 1 && typeof m.job === 'string' && typeof m.token === 'string' && Number.isInteger(m.slice) && Number.isInteger(m.lane);
};

export type SliceOutcome = 'ran' | 'stale' | 'invalid';

/**
 * Runs one message's slice: if its claim is still the job's, the job's work for at most
 * `budgetMs`, then, if the slice found work, the next messages of the chain (and, on the first
 * slice that finds a backlog, the job's other lanes). A throw leaves the message to be retried.
 */
export async function runJobSlice(ctx: Ctx, queue: JobQueue | undefined, body: unknown, budgetMs: number): Promise<SliceOutcome> {
  if (!isJobMessage(body) || !Object.hasOwn(JOBS, body.job)) return 'invalid';
  const current = await ctx.client.execute({
    sql: 'UPDATE jobs_schedule SET slices = slices + 1 WHERE job = ? AND token = ? RETURNING slices',
    args: [body.job, body.token],
  });
  if (!current.rows.length) return 'stale';
  const slice = SLICES[body.job];
  const job = JOBS[body.job]!;
  const result = slice ? await slice.run(ctx, budgetMs) : await (job.scheduled ?? job.run)(ctx);
  // No producer bound (a consumer without JOBS_QUEUE): one slice per claim.
  if (!queue || !slice?.busy?.(result) || body.slice + 1 >= MAX_SLICES) return 'ran';
  const next: JobMessage[] = [{ ...body, slice: body.slice + 1 }];
  // A backlog showed on the chain's first slice: the other lanes start beside it, each its own chain.
  if (body.slice === 0 && body.lane === 0) {
    for (let lane = 1; lane < (slice.lanes ?? 1); lane++) next.push({ ...body, slice: 1, lane });
  }
  await queue.sendBatch(next.map((b) => ({ body: b })));
  return 'ran';
}

// The parts of the Workers Queue API used here (as in entry/worker-queue.ts).
interface Message {
  readonly body: unknown;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}

/** The jobs queue is told apart by its name: wrangler.toml names it with "-jobs" at the end. */
export const isJobsQueue = (name: string) => name.endsWith('-jobs');

/** The Queue bound as JOBS_QUEUE, if there is one; without it the cron runs the jobs itself (runDue). */
export function jobsQueueFromEnv(env: Record<string, unknown>): JobQueue | undefined {
  const q = env.JOBS_QUEUE as Partial<JobQueue> | undefined;
  return q && typeof q.send === 'function' && typeof q.sendBatch === 'function' ? (q as JobQueue) : undefined;
}

/**
 * The jobs queue's consumer: each message's slice in turn (the consumer takes one message per
 * batch, wrangler.toml), acknowledged once it ran (or was stale or malformed: nothing to redo);
 * a slice that threw (the database out of reach) is retried by the Queue.
 */
export async function handleJobsBatch(ctx: Ctx, queue: JobQueue | undefined, messages: readonly Message[], budgetMs: number): Promise<void> {
  for (const m of messages) {
    try {
      const outcome = await runJobSlice(ctx, queue, m.body, budgetMs);
      if (outcome === 'invalid') ctx.log.warn('jobs queue: message dropped', { body: JSON.stringify(m.body).slice(0, 200) });
      m.ack();
    } catch (e) {
      ctx.log.error('job slice failed; the Queue retries it', { error: e instanceof Error ? e.message : String(e) });
      m.retry({ delaySeconds: 5 });
    }
  }
}
