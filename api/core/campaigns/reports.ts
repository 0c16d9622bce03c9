import type { InValue, Row } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError } from '../errors';
import { iso } from '../util/time';
import { after, toPage, type PageInput } from '../util/cursor';
import { campaignRecord, loadVersion } from './campaigns';
import { stepMap } from './definition';

/** What a campaign did: passes and conversions, per step and branch; failed steps, listed and retried. */

export const STEP_STATUSES = ['pending', 'waiting', 'done', 'skipped', 'failed', 'cancelled'] as const;

export async function campaignReport({ ctx, input }: { ctx: Ctx; input: { id: number } }) {
  const c = await campaignRecord(ctx, input.id);
  const [passes, goals, steps, skips, branches, errors] = await ctx.client.batch(
    [
      { sql: 'SELECT status, count(*) AS n FROM campaign_enrollments WHERE campaign_id = ? GROUP BY status', args: [c.id] },
      { sql: "SELECT goal, count(*) AS n FROM campaign_enrollments WHERE campaign_id = ? AND status = 'converted' GROUP BY goal", args: [c.id] },
      { sql: 'SELECT step_id, status, count(*) AS n FROM campaign_steps WHERE campaign_id = ? GROUP BY step_id, status', args: [c.id] },
      { sql: "SELECT step_id, skip_reason, count(*) AS n FROM campaign_steps WHERE campaign_id = ? AND status = 'skipped' GROUP BY step_id, skip_reason", args: [c.id] },
      { sql: "SELECT step_id, branch, count(*) AS n FROM campaign_steps WHERE campaign_id = ? AND status IN ('done', 'skipped') AND branch IS NOT NULL GROUP BY step_id, branch", args: [c.id] },
      {
        sql: "SELECT step_id, error, count(*) AS n, max(id) AS last FROM campaign_steps WHERE campaign_id = ? AND error IS NOT NULL AND status IN ('pending', 'waiting', 'failed') GROUP BY step_id, error ORDER BY last DESC LIMIT 50",
        args: [c.id],
      },
    ],
    'read',
  );
  const count = (rows: Row[], key: string) => Object.fromEntries(rows.map((r) => [String(r[key]), Number(r.n)]));
  const byStatus = count(passes!.rows, 'status');
  const entered = Object.values(byStatus).reduce((a, n) => a + n, 0);
  const converted = byStatus.converted ?? 0;
  const def = c.version === null ? c.definition : ((await loadVersion(ctx, c.id, c.version)) ?? c.definition);
  const ids = [...new Set([...def.steps.map((s) => s.id), ...steps!.rows.map((r) => String(r.step_id))])];
  const types = stepMap(def);
  const pick = (rows: Row[], id: string, key: string) => Object.fromEntries(rows.filter((r) => String(r.step_id) === id).map((r) => [String(r[key]), Number(r.n)]));
  return {
    campaign_id: c.id,
    status: c.status,
    version: c.version,
    passes: {
      entered,
      active: byStatus.active ?? 0,
      completed: byStatus.completed ?? 0,
      exited: byStatus.exited ?? 0,
      converted,
      conversion_rate: entered ? converted / entered : 0,
    },
    // A goal id is the user's string ("constructor" is a valid one): looked up in a Map, never on a plain object.
    goals: def.goals.map((g) => ({ id: g.id, name: g.name ?? null, conversions: new Map(goals!.rows.map((r) => [String(r.goal), Number(r.n)])).get(g.id) ?? 0 })),
    steps: ids.map((id) => {
      const s = pick(steps!.rows, id, 'status');
      return {
        step_id: id,
        type: types.get(id)?.type ?? null,
        entered: Object.values(s).reduce((a, n) => a + n, 0),
        pending: s.pending ?? 0,
        waiting: s.waiting ?? 0,
        completed: s.done ?? 0,
        skipped: s.skipped ?? 0,
        failed: s.failed ?? 0,
        cancelled: s.cancelled ?? 0,
        skip_reasons: pick(skips!.rows, id, 'skip_reason'),
        branches: pick(branches!.rows, id, 'branch'),
        errors: errors!.rows.filter((r) => String(r.step_id) === id).map((r) => ({ error: String(r.error), count: Number(r.n) })),
      };
    }),
  };
}

const view = (r: Row) => ({
  id: Number(r.id),
  campaign_id: Number(r.campaign_id),
  version: Number(r.version),
  contact_id: Number(r.contact_id),
  rotation: Number(r.rotation),
  step_id: String(r.step_id),
  status: String(r.status) as (typeof STEP_STATUSES)[number],
  branch: r.branch === null ? null : String(r.branch),
  attempts: Number(r.attempts),
  failures: Number(r.failures),
  error: r.error === null ? null : String(r.error),
  skip_reason: r.skip_reason === null ? null : String(r.skip_reason),
  due_at: r.status === 'pending' || r.status === 'waiting' ? iso(Number(r.due_at)) : null,
  created_at: iso(Number(r.created_at))!,
  completed_at: iso(r.completed_at === null ? null : Number(r.completed_at)),
});

/** The step rows of a campaign, newest first, by status and step. */
export async function listStepRuns({ ctx, input }: { ctx: Ctx; input: PageInput & { id: number; status?: string; step_id?: string } }) {
  await campaignRecord(ctx, input.id);
  const a = after(input.cursor, null, 'id', true);
  const where = ['campaign_id = ?', a.sql];
  const args: InValue[] = [input.id, ...a.args];
  if (input.status) where.push('status = ?'), args.push(input.status);
  if (input.step_id) where.push('step_id = ?'), args.push(input.step_id);
  const r = await ctx.client.execute({ sql: `SELECT * FROM campaign_steps WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`, args: [...args, input.limit + 1] });
  return toPage(r.rows, input.limit, (x) => [null, Number(x.id)], view);
}

/**
 * Failed (parked) steps run again now, with a fresh failure count: one by id, or every failed
 * step of the campaign. A parked decision or wait starts over as pending. When the campaign's
 * current version has a step with the same id, the retried rows (and their passes) move to that
 * version: the way to mend a step whose email was deleted is to publish a fixed version and retry.
 */
export async function retryFailed({ ctx, input }: { ctx: Ctx; input: { id: number; runId?: number } }) {
  const c = await campaignRecord(ctx, input.id);
  const current = c.version === null ? null : await loadVersion(ctx, c.id, c.version);
  const steps = JSON.stringify(current ? current.steps.map((s) => s.id) : []);
  const only = input.runId === undefined ? '' : 'AND id = ?';
  const scope = input.runId === undefined ? [] : [input.runId];
  const failed = `campaign_id = ? AND status = 'failed' ${only}
    AND EXISTS (SELECT 1 FROM campaign_enrollments e WHERE e.campaign_id = campaign_steps.campaign_id AND e.contact_id = campaign_steps.contact_id
      AND e.rotation = campaign_steps.rotation AND e.status = 'active')`;
  const [, r] = await ctx.client.batch(
    [
      {
        sql: `UPDATE campaign_enrollments SET version = ? WHERE campaign_id = ? AND status = 'active' AND ? IS NOT NULL
          AND EXISTS (SELECT 1 FROM campaign_steps WHERE ${failed} AND campaign_steps.contact_id = campaign_enrollments.contact_id
            AND campaign_steps.rotation = campaign_enrollments.rotation AND step_id IN (SELECT value FROM json_each(?)))`,
        args: [c.version, c.id, c.version, c.id, ...scope, steps],
      },
      {
        sql: `UPDATE campaign_steps SET status = 'pending', failures = 0, error = NULL, lease_owner = NULL, branch = NULL, waiting_since = NULL, due_at = ?,
            version = CASE WHEN step_id IN (SELECT value FROM json_each(?)) THEN ? ELSE version END
          WHERE ${failed}`,
        args: [ctx.now(), steps, c.version ?? 0, c.id, ...scope],
      },
    ],
    'write',
  );
  if (input.runId !== undefined && r!.rowsAffected === 0) throw new NotFoundError('Failed step of an active pass');
  return { retried: r!.rowsAffected };
}
