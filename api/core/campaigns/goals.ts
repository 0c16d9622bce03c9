import type { InStatement } from '@libsql/client';
import type { Ctx } from '../context';
import { compileEnv } from '../segments/membership';
import { loadVersion } from './campaigns';
import { endPassStatements } from './enroll';
import { goalSql } from './match';
import { skipChangedContacts, walkChangedContacts } from '../contacts/changes';

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

/**
 * Goals over contacts whose data changed without an event (a tag or field set through the API):
 * every changed contact is read once (goalStatements looks only at those in an active pass).
 */
export async function goalsOnContactChanges(ctx: Ctx): Promise<number> {
  // No pass to convert: move past the changes without reading them (on a large install the first
  // walk would otherwise read every contact, a chunk per spine run).
  if (!(await hasActivePasses(ctx))) {
    await skipChangedContacts(ctx, WATERMARK);
    return 0;
  }
  return walkChangedContacts(ctx, { key: WATERMARK, maxChunks: 20, statements: (ids) => goalStatements(ctx, JSON.stringify([...ids]), ctx.now()) });
}

const WATERMARK = 'campaign_goals_watermark';

/** Whether any contact is in a campaign now (the partial unique index answers it). */
export async function hasActivePasses(ctx: Ctx): Promise<boolean> {
  return (await ctx.client.execute("SELECT 1 FROM campaign_enrollments WHERE status = 'active' LIMIT 1")).rows.length > 0;
}
