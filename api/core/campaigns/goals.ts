import type { InStatement } from '@libsql/client';
import type { Ctx } from '../context';
import { compileEnv } from '../segments/membership';
import { loadVersion } from './campaigns';
import { endPassStatements } from './enroll';
import { goalSql } from './match';

/**
 * Goals end a pass as a conversion (DESIGN.md: goals are reactions, not cron). Checked for the
 * contacts a chunk of events touched (react.ts) and for contacts whose data changed without an
 * event (a tag or field set through the API: goalsOnContactChanges), like segments are.
 */

/**
 * Statements converting the active passes of `contacts` (a JSON array) that reached a goal of
 * their version. `enrolling`: (campaign, version) pairs the same transaction enrolls into before
 * these statements run, whose passes are not in the table yet when this reads it.
 */
export async function goalStatements(ctx: Ctx, contacts: string, now: number, enrolling: { campaignId: number; version: number }[] = []): Promise<InStatement[]> {
  const passes = await ctx.client.execute({
    sql: `SELECT DISTINCT campaign_id, version FROM campaign_enrollments WHERE status = 'active' AND contact_id IN (SELECT value FROM json_each(?))`,
    args: [contacts],
  });
  const pairs = new Map<string, { campaignId: number; version: number }>();
  for (const p of [...passes.rows.map((r) => ({ campaignId: Number(r.campaign_id), version: Number(r.version) })), ...enrolling]) pairs.set(`${p.campaignId}:${p.version}`, p);
  if (!pairs.size) return [];
  const env = await compileEnv(ctx);
  const out: InStatement[] = [];
  for (const { campaignId, version } of pairs.values()) {
    const def = await loadVersion(ctx, campaignId, version);
    // In definition order: the first goal reached is the one counted.
    for (const g of def?.goals ?? []) {
      let cond;
      try {
        cond = goalSql(g, { contact: 'campaign_enrollments.contact_id', since: 'campaign_enrollments.entered_at', until: String(now) }, env);
      } catch (e) {
        ctx.log.warn('campaign goal no longer compiles', { campaign_id: campaignId, goal: g.id, error: e instanceof Error ? e.message : String(e) });
        continue;
      }
      out.push(
        ...endPassStatements(campaignId, {
          status: 'converted',
          reason: 'goal',
          goal: g.id,
          where: { sql: `version = ? AND contact_id IN (SELECT value FROM json_each(?)) AND ${cond.sql}`, args: [version, contacts, ...cond.args] },
          contacts,
          now,
        }),
      );
    }
  }
  return out;
}

const WATERMARK = 'campaign_goals_watermark';
// Writes that stamped updated_at a moment before the last walk committed are still seen.
const OVERLAP_MS = 5_000;
const CHUNK = 2000;

/** Filter goals over contacts changed since the last walk (by contacts.updated_at), bounded per run. */
export async function goalsOnContactChanges(ctx: Ctx): Promise<number> {
  const wm = await ctx.client.execute({ sql: 'SELECT value FROM app_state WHERE key = ?', args: [WATERMARK] });
  let lastU = Math.max(0, (wm.rows[0] ? Number(wm.rows[0].value) : 0) - OVERLAP_MS);
  let lastId = 0;
  let checked = 0;
  for (let i = 0; i < 20; i++) {
    const r = await ctx.client.execute({
      // Every changed contact moves the watermark on (goalStatements looks only at those in a pass):
      // filtering here would leave the watermark behind and read the same contacts on every run.
      sql: 'SELECT id, updated_at FROM contacts WHERE (updated_at, id) > (?, ?) ORDER BY updated_at, id LIMIT ?',
      args: [lastU, lastId, CHUNK],
    });
    if (!r.rows.length) break;
    lastU = Number(r.rows[r.rows.length - 1]!.updated_at);
    lastId = Number(r.rows[r.rows.length - 1]!.id);
    await ctx.client.batch(
      [
        ...(await goalStatements(ctx, JSON.stringify(r.rows.map((x) => Number(x.id))), ctx.now())),
        {
          sql: 'INSERT INTO app_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))',
          args: [WATERMARK, String(lastU)],
        },
      ],
      'write',
    );
    checked += r.rows.length;
    if (r.rows.length < CHUNK) break;
  }
  return checked;
}
