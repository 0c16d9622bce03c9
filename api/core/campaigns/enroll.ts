import type { InStatement, InValue } from '@libsql/client';
import type { Definition } from './definition';
import type { EntryGoal } from './match';

const DAY = 86_400_000;

/** A published campaign as enrollment needs it. */
export interface Enrollable {
  id: number;
  version: number;
  definition: Pick<Definition, 'start' | 'reentry'>;
  /** Its goals as entryGoals gives them: passes that meet one as they are made convert at once. */
  goals?: EntryGoal[];
}

/**
 * Statements that enroll a set of contacts (`candidates`: SQL yielding `contact_id`), set-based:
 * one INSERT … SELECT of passes, one of their first step rows, whatever the number of contacts.
 * A contact gets a new pass (rotation) only when it has none in this campaign, or when re-entry
 * allows it: its last pass ended at least `after_days` ago. One active pass per contact is also
 * a unique index, and both inserts ignore conflicts, so replays and racing enrollers add nothing.
 * Between the two, passes that already meet a goal convert (in the goals' order), so they never
 * get a first step. The first statement's rowsAffected is the number of passes made.
 */
export function enrollStatements(c: Enrollable, o: { source: string; candidates: { sql: string; args: InValue[] }; now: number }): InStatement[] {
  const reentry = c.definition.reentry;
  const allowed =
    reentry === 'never' ? 'x.last_rotation IS NULL' : `(x.last_rotation IS NULL OR (l.status <> 'active' AND l.ended_at <= ${o.now - reentry.after_days * DAY}))`;
  return [
    {
      sql: `INSERT INTO campaign_enrollments (campaign_id, contact_id, rotation, version, status, source, entered_at)
        SELECT ?, x.contact_id, coalesce(x.last_rotation, 0) + 1, ?, 'active', ?, ?
        FROM (SELECT cand.contact_id,
            (SELECT max(rotation) FROM campaign_enrollments p WHERE p.campaign_id = ? AND p.contact_id = cand.contact_id) AS last_rotation
          FROM (SELECT DISTINCT contact_id FROM (${o.candidates.sql}) WHERE contact_id IS NOT NULL) cand
          WHERE EXISTS (SELECT 1 FROM contacts WHERE id = cand.contact_id)) x
        LEFT JOIN campaign_enrollments l ON l.campaign_id = ? AND l.contact_id = x.contact_id AND l.rotation = x.last_rotation
        WHERE ${allowed}
        ON CONFLICT DO NOTHING`,
      args: [c.id, c.version, o.source, o.now, c.id, ...o.candidates.args, c.id],
    },
    ...(c.goals ?? []).map((g) => ({
      sql: `UPDATE campaign_enrollments SET status = 'converted', end_reason = 'goal', goal = ?, ended_at = ?
        WHERE campaign_id = ? AND entered_at = ? AND version = ? AND status = 'active' AND ${g.sql}`,
      args: [g.id, o.now, c.id, o.now, c.version, ...g.args],
    })),
    {
      sql: `INSERT INTO campaign_steps (campaign_id, version, contact_id, rotation, step_id, status, due_at, created_at)
        SELECT e.campaign_id, e.version, e.contact_id, e.rotation, ?, 'pending', ?, ?
        FROM campaign_enrollments e WHERE e.campaign_id = ? AND e.entered_at = ? AND e.version = ? AND e.status = 'active'
        ON CONFLICT DO NOTHING`,
      args: [c.definition.start, o.now, o.now, c.id, o.now, c.version],
    },
  ];
}

/** Contacts by id (a JSON array), as enrollment candidates. */
export const idCandidates = (ids: number[]) => ({ sql: 'SELECT value AS contact_id FROM json_each(?)', args: [JSON.stringify(ids)] as InValue[] });

/**
 * Ends the active passes of the listed contacts (`where`: SQL over campaign_enrollments, e.g.
 * `contact_id IN (…)`) and cancels their open steps: exits, goals reached, archiving.
 */
export function endPassStatements(
  campaignId: number,
  o: { status: 'exited' | 'converted'; reason: string; goal?: string; where: { sql: string; args: InValue[] }; contacts: string | null; now: number },
): InStatement[] {
  return [
    {
      sql: `UPDATE campaign_enrollments SET status = ?, end_reason = ?, goal = ?, ended_at = ?
        WHERE campaign_id = ? AND status = 'active' AND (${o.where.sql})`,
      args: [o.status, o.reason, o.goal ?? null, o.now, campaignId, ...o.where.args],
    },
    cancelOpenSteps(campaignId, o.contacts, o.now),
  ];
}

/**
 * Open steps whose pass has ended are cancelled (a holder's fence then fails: nothing more
 * happens). `contacts`: a JSON array of the contacts to look at, or null for the whole campaign.
 */
export function cancelOpenSteps(campaignId: number, contacts: string | null, now: number): InStatement {
  return {
    sql: `UPDATE campaign_steps SET status = 'cancelled', lease_owner = NULL, completed_at = ?
      WHERE campaign_id = ? AND status IN ('pending', 'waiting') ${contacts === null ? '' : 'AND contact_id IN (SELECT value FROM json_each(?))'} AND EXISTS (SELECT 1 FROM campaign_enrollments e
        WHERE e.campaign_id = campaign_steps.campaign_id AND e.contact_id = campaign_steps.contact_id AND e.rotation = campaign_steps.rotation AND e.status <> 'active')`,
    args: contacts === null ? [now, campaignId] : [now, campaignId, contacts],
  };
}
