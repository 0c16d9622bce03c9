import type { InStatement, Row } from '@libsql/client';
import type { Ctx } from '../context';
import { randomToken } from '../util/crypto';
import { coalescedRunner } from '../util/kick';
import { kickSendLoop } from '../email/loop';
import { loadVersion } from './campaigns';
import { stepMap } from './definition';
import { runGroup, type Claimed, type Outcome } from './steps';

/**
 * The campaign scheduler (DESIGN.md, "Campaign steps are rows too"). Any number may run at once
 * (Node timers, two processes on one file, Worker crons on Turso):
 *   1. claim: one UPDATE … RETURNING takes a batch of due rows (pending, or waiting whose time
 *      came), stamping a lease: lease_owner, attempts + 1, and due_at = the lease's end, so a
 *      holder that dies leaves rows that come due again when the lease runs out;
 *   2. run: rows are grouped by (campaign, version, step, rotation, phase) and each group runs
 *      set-based (steps.ts), giving outcomes and side-effect statements behind the rows' fence;
 *   3. complete: one write transaction applies the side effects, inserts the next steps' rows
 *      (ON CONFLICT DO NOTHING on the step key), ends finished passes and records the outcomes,
 *      every statement fenced on (lease_owner, attempts, still open). A stale holder commits
 *      nothing; the row's new holder does it all, once.
 */

export const LEASE_MS = 60_000;
const BATCH = 1000;
/** After this many failed runs a step is parked as failed (retry it through the API). */
export const MAX_FAILURES = 5;
const BACKOFF_MS = [30_000, 120_000, 600_000, 3_600_000];

const claimed = (r: Row): Claimed => ({
  id: Number(r.id),
  campaignId: Number(r.campaign_id),
  version: Number(r.version),
  contactId: Number(r.contact_id),
  rotation: Number(r.rotation),
  stepId: String(r.step_id),
  status: String(r.status) as Claimed['status'],
  attempts: Number(r.attempts),
  failures: Number(r.failures),
  waitingSince: r.waiting_since === null ? null : Number(r.waiting_since),
  branch: r.branch === null ? null : String(r.branch),
});

/** Takes up to `limit` due rows of active campaigns under a lease. */
export async function claimSteps(ctx: Ctx, owner: string, now: number, limit = BATCH): Promise<Claimed[]> {
  const r = await ctx.client.execute({
    sql: `UPDATE campaign_steps SET lease_owner = ?, attempts = attempts + 1, due_at = ?
      WHERE id IN (SELECT s.id FROM campaign_steps s WHERE s.status IN ('pending', 'waiting') AND s.due_at <= ?
        -- Unary + keeps the planner on the due index: through campaign_id it would walk every
        -- row of the campaign (the report index) to find the few that are due.
        AND +s.campaign_id IN (SELECT id FROM campaigns WHERE status = 'active') ORDER BY s.due_at LIMIT ?)
      RETURNING id, campaign_id, version, contact_id, rotation, step_id, status, attempts, failures, waiting_since, branch`,
    args: [owner, now + LEASE_MS, now, limit],
  });
  return r.rows.map(claimed);
}

interface Failure {
  row: Claimed;
  error: string;
}

const FENCE_JOIN = `JOIN campaign_steps s ON s.id = x.id AND s.lease_owner = ? AND s.attempts = x.attempts AND s.status IN ('pending', 'waiting')`;
const ITEMS = `(SELECT j.value ->> '$.id' AS id, j.value ->> '$.attempts' AS attempts, j.value ->> '$.status' AS status, j.value ->> '$.next' AS next,
  j.value ->> '$.branch' AS branch, j.value ->> '$.due' AS due, j.value ->> '$.skip' AS skip, j.value ->> '$.end' AS end_as,
  j.value ->> '$.error' AS error, j.value ->> '$.fail' AS fail FROM json_each(?) j)`;

/** The commit of one batch: side effects, next rows, ended passes, outcomes; all fenced. */
function completion(owner: string, now: number, outcomes: Outcome[], failures: Failure[], effects: InStatement[]): InStatement[] {
  const items = JSON.stringify([
    ...outcomes.map((o) => ({
      id: o.row.id,
      attempts: o.row.attempts,
      status: o.status,
      next: o.status === 'waiting' ? null : o.next,
      branch: o.branch ?? null,
      due: o.status === 'waiting' ? o.dueAt : now,
      skip: o.skip ?? null,
      end: o.status === 'waiting' ? null : (o.end ?? null),
      error: null,
      fail: 0,
    })),
    ...failures.map((f) => {
      const parked = f.row.failures + 1 >= MAX_FAILURES;
      return {
        id: f.row.id,
        attempts: f.row.attempts,
        status: parked ? 'failed' : f.row.status,
        next: null,
        branch: f.row.branch,
        due: now + (BACKOFF_MS[f.row.failures] ?? 0),
        skip: null,
        end: null,
        error: f.error.slice(0, 1000),
        fail: 1,
      };
    }),
  ]);
  return [
    ...effects,
    {
      sql: `INSERT INTO campaign_steps (campaign_id, version, contact_id, rotation, step_id, status, due_at, created_at)
        SELECT s.campaign_id, s.version, s.contact_id, s.rotation, x.next, 'pending', ?, ? FROM ${ITEMS} x ${FENCE_JOIN}
        WHERE x.next IS NOT NULL
        ON CONFLICT DO NOTHING`,
      args: [now, now, items, owner],
    },
    {
      sql: `UPDATE campaign_enrollments SET status = CASE x.end_as WHEN 'exited' THEN 'exited' ELSE 'completed' END,
          end_reason = CASE x.end_as WHEN 'exited' THEN 'exit_step' END, ended_at = ?
        FROM ${ITEMS} x ${FENCE_JOIN}
        WHERE x.end_as IS NOT NULL AND campaign_enrollments.campaign_id = s.campaign_id AND campaign_enrollments.contact_id = s.contact_id
          AND campaign_enrollments.rotation = s.rotation AND campaign_enrollments.status = 'active'`,
      args: [now, items, owner],
    },
    {
      sql: `UPDATE campaign_steps SET status = x.status, branch = x.branch, due_at = x.due, skip_reason = x.skip, error = x.error,
          failures = failures + x.fail, lease_owner = NULL,
          waiting_since = CASE WHEN x.status = 'waiting' AND campaign_steps.status = 'pending' THEN ? ELSE waiting_since END,
          completed_at = CASE WHEN x.status IN ('done', 'skipped') THEN ? END
        FROM ${ITEMS} x
        WHERE campaign_steps.id = x.id AND campaign_steps.lease_owner = ? AND campaign_steps.attempts = x.attempts
          AND campaign_steps.status IN ('pending', 'waiting')`,
      args: [now, now, items, owner],
    },
  ];
}

const groupKey = (r: Claimed) => `${r.campaignId}:${r.version}:${r.stepId}:${r.rotation}:${r.status}`;

export interface RunResult {
  claimed: number;
  done: number;
  waiting: number;
  failed: number;
}

/** One batch: claim, run every group, commit. Returns what happened (claimed 0: nothing was due). */
export async function runBatch(ctx: Ctx, owner: string, limit = BATCH): Promise<RunResult & { sent: boolean }> {
  const now = ctx.now();
  const rows = await claimSteps(ctx, owner, now, limit);
  const out = { claimed: rows.length, done: 0, waiting: 0, failed: 0, sent: false };
  if (!rows.length) return out;
  const groups = new Map<string, Claimed[]>();
  for (const r of rows) groups.set(groupKey(r), [...(groups.get(groupKey(r)) ?? []), r]);
  const camps = await ctx.client.execute({
    sql: 'SELECT id, name, secret FROM campaigns WHERE id IN (SELECT value FROM json_each(?))',
    args: [JSON.stringify([...new Set(rows.map((r) => r.campaignId))])],
  });
  const campaigns = new Map(camps.rows.map((c) => [Number(c.id), { id: Number(c.id), name: String(c.name), secret: String(c.secret) }]));
  const outcomes: Outcome[] = [];
  const failures: Failure[] = [];
  const effects: InStatement[] = [];
  for (const group of groups.values()) {
    const first = group[0]!;
    try {
      const def = await loadVersion(ctx, first.campaignId, first.version);
      const step = def ? stepMap(def).get(first.stepId) : undefined;
      const campaign = campaigns.get(first.campaignId);
      if (!def || !step || !campaign) throw new Error(`step "${first.stepId}" is not in version ${first.version} of campaign ${first.campaignId}`);
      const res = await runGroup({ ctx, owner, now, campaign, def, step, rows: group });
      outcomes.push(...res.outcomes);
      effects.push(...res.effects);
      out.sent ||= Boolean(res.sent);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      ctx.log.warn('campaign step failed', { campaign_id: first.campaignId, step: first.stepId, rows: group.length, error });
      failures.push(...group.map((row) => ({ row, error })));
    }
  }
  await ctx.client.batch(completion(owner, now, outcomes, failures, effects), 'write');
  out.done = outcomes.filter((o) => o.status !== 'waiting').length;
  out.waiting = outcomes.length - out.done;
  out.failed = failures.length;
  return out;
}

/** Runs due steps until none are due or the budget is spent. */
export async function runCampaigns(ctx: Ctx, opts: { budgetMs?: number; owner?: string; batch?: number } = {}): Promise<RunResult> {
  const owner = opts.owner ?? `run:${randomToken(12)}`;
  const started = Date.now();
  const total: RunResult = { claimed: 0, done: 0, waiting: 0, failed: 0 };
  let sent = false;
  while (Date.now() - started < (opts.budgetMs ?? 20_000)) {
    const r = await runBatch(ctx, owner, opts.batch);
    if (!r.claimed) break;
    total.claimed += r.claimed;
    total.done += r.done;
    total.waiting += r.waiting;
    total.failed += r.failed;
    sent ||= r.sent;
  }
  if (sent) void kickSendLoop(ctx);
  return total;
}

/** Runs due campaign steps soon (after an enrollment, or events that decided decisions), coalescing kicks. */
export const kickCampaigns: (ctx: Ctx) => Promise<void> = coalescedRunner('campaign steps', (ctx) => runCampaigns(ctx, { budgetMs: 5_000 })).kick;
