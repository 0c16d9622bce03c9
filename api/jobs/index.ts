import type { Ctx } from '../core/context';
import { runReactions } from '../core/spine/run';
import { runRetention } from '../core/tracking/retention';
import { pruneDeliveries } from '../core/webhooks/log';
import { pruneIngest } from '../core/tracking/consume';
import { runWebhooks } from '../core/webhooks/deliver';
import { rebuildAll } from '../core/segments/membership';
import { expireIdempotencyKeys } from '../core/access/idempotency';
import { expireAuthRows } from '../core/access/users';
import { expireThrottle } from '../core/access/throttle';
import { runSendLoop } from '../core/email/loop';
import { runBroadcasts } from '../core/email/broadcast-run';
import { runCampaigns } from '../core/campaigns/run';
import { rebuildRollups } from '../core/reports/rollups/rebuild';

/**
 * Scheduled work, shared by the Node timer and the Workers cron handler. Every
 * job is idempotent, so running one early, twice or after a crash is safe.
 */
export const JOBS: Record<string, { everyMs: number; run: (ctx: Ctx) => Promise<unknown>; scheduled?: (ctx: Ctx) => Promise<unknown> }> = {
  reactions: { everyMs: 2_000, run: (ctx) => runReactions(ctx) },
  // Due webhook deliveries (subscriptions', triggers', campaigns'), leased as the email sends are;
  // reactions that queue some also wake the sender at once.
  webhooks: { everyMs: 5_000, run: (ctx) => runWebhooks(ctx, { lanes: 2 }) },
  // Campaign steps that came due (waits ended, decisions timed out or decided, new enrollments);
  // events move contacts at once through the reactions, this catches the timers.
  // Before the emails job: the sends its steps queue go out in the same run (one cron on Workers).
  campaigns: { everyMs: 1_000, run: (ctx) => runCampaigns(ctx, { budgetMs: 5_000 }) },
  // Broadcasts (start the due ones, write their rows in chunks, decide A/B tests, finish), then
  // due email sends (API sends also kick it at once); each run is bounded in calls and time.
  // Two lanes: the next provider call is claimed and rendered while the last one is answered.
  emails: { everyMs: 2_000, run: async (ctx) => ({ broadcasts: await runBroadcasts(ctx), ...(await runSendLoop(ctx, { lanes: 2 })) }) },
  // Filters with relative dates ("last active within 7 days") drift as time passes.
  segments: { everyMs: 15 * 60_000, run: (ctx) => rebuildAll(ctx) },
  retention: {
    everyMs: 3_600_000,
    run: async (ctx) => {
      // Ended sessions, used or expired sign-in links, and sign-in failures a day old; the Queue
      // consumer's hit ids a day old and dead messages a week old (none counted in the result).
      await expireAuthRows(ctx);
      await expireThrottle(ctx);
      await pruneIngest(ctx);
      return { ...(await runRetention(ctx)), idempotency_keys: await expireIdempotencyKeys(ctx), webhook_deliveries: await pruneDeliveries(ctx) };
    },
  },
  // On demand only: recounts the reports' rollups and sessions from the whole event log. The
  // scheduler just finishes one that was cut short (a crash, a Worker's time limit), a bounded
  // slice per tick, since the reaction counts nothing until it is done.
  'reports-rebuild': {
    everyMs: 60_000,
    run: (ctx) => rebuildRollups(ctx),
    scheduled: (ctx) => rebuildRollups(ctx, { resumeOnly: true, budgetMs: 20_000 }),
  },
};

export type JobName = keyof typeof JOBS;

/** Runs the jobs whose interval has passed since `lastRun` recorded them (updated in place); a job's `scheduled` form when it has one. */
export async function runDue(ctx: Ctx, now: number, lastRun: Map<string, number>): Promise<string[]> {
  const ran: string[] = [];
  for (const [name, job] of Object.entries(JOBS)) {
    if (now - (lastRun.get(name) ?? 0) < job.everyMs) continue;
    lastRun.set(name, now);
    try {
      await (job.scheduled ?? job.run)(ctx);
      ran.push(name);
    } catch (e) {
      ctx.log.error('job failed', { job: name, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return ran;
}
