import type { InStatement, InValue } from '@libsql/client';
import type { Ctx } from '../../context';
import { EVENT } from '../../spine/event-types';
import type { SpineEvent } from '../../spine/types';
import { nextTurn } from '../../util/turn';
import { FIRST_TOUCH } from './scope';

// stage_entries: one row per (contact, stage) the contact ever entered, the funnel reports'
// only source besides contacts and deals. Each row is a pure function of the contact's events
// and point log, so it is never adjusted, only recomputed: the reaction recomputes the contacts
// a batch of events touches, the rebuild recomputes every contact, with the same statement.
//
//   entered_at        the first stage_changed event into the stage (earliest created_at, then id)
//   event_id          that event
//   left_at           the first stage_changed event out of the stage after that entry
//   left_to           the stage that event moved to
//   score_at_entry    the sum of the contact's point_log deltas with created_at ≤ entered_at
//                     (point_log rows carry the scored event's time, so this is the score the
//                     contact had when it moved, including points it earned while anonymous)
//   first_feedback_at the first sales feedback event (sales_accepted, sales_rejected, deal_won,
//                     deal_lost) at or after entered_at. Kept for every entry, not only entries
//                     into marketing-qualified stages, so marking a stage MQL later needs no
//                     rebuild; the reports read it for MQL stages only. A deal created for the
//                     contact is feedback too, but deals can appear without an event the spine
//                     sees (a CRM push, an import), so the reports take that from deals at read
//                     time (see feedbackAt in scope.ts).
//   accepted_at       the first sales_accepted event at or after entered_at (lead-scoring's verdicts)
//   rejected_at       the first sales_rejected event at or after entered_at
//   first_touch_at    not from events: the contact's first touch (cohorts.ts FIRST_TOUCH), copied
//                     here and kept by a trigger on contacts (migration 0013)
//
// Because a recomputation reads the committed events when it runs, two runners that overlap,
// a replay, or a chunk applied twice all leave the same rows: no cursor bound is needed. A merge
// moves the merged contact's events to the survivor, and its `merged` event makes the reaction
// recompute the survivor from the union of both histories, as a rebuild would.

/** Sales feedback on the timeline (sales/feedback and deals write these). */
export const FEEDBACK_TYPES = [EVENT.sales_accepted, EVENT.sales_rejected, EVENT.deal_won, EVENT.deal_lost] as const;

/**
 * Events after which a contact's entries may differ: its stage changes and feedback; a merge
 * (the other contact's history joins it); an identification (the points reaction, which runs
 * first, hands it the point log of its anonymous visits, which may predate an entry).
 */
export const FUNNEL_EVENT_TYPES: readonly string[] = [EVENT.stage_changed, EVENT.merged, EVENT.identified, ...FEEDBACK_TYPES];

const FEEDBACK_IN = FEEDBACK_TYPES.map((t) => `'${t}'`).join(', ');

/** The first event of one feedback type at or after the entry (only asked when it had some feedback). */
const firstAfter = (type: string) => `SELECT min(a.created_at) FROM events a WHERE a.contact_id = z.c AND a.type = '${type}' AND a.created_at >= z.t`;

/**
 * The entries of the contacts `scope` selects (a condition on events.contact_id), computed from
 * their stage_changed events. `write`: upsert (the reaction) or plain insert after a delete (the
 * rebuild). `byContact`: read events through (contact_id, type, created_at) even where the planner,
 * without statistics, would take (type, created_at) for a range of contact ids and read every
 * stage change of the installation for each range.
 */
function entriesSql(scope: string, write: 'upsert' | 'insert', byContact = false): string {
  return `WITH sc AS MATERIALIZED (
      SELECT id, contact_id AS c, created_at AS t, props ->> 'from' AS f, props ->> 'to' AS s
      FROM events${byContact ? ' INDEXED BY events_contact_type_idx' : ''} WHERE ${scope} AND type = '${EVENT.stage_changed}'
    ),
    firsts AS (
      SELECT c, s, t, id FROM (
        SELECT c, s, t, id, row_number() OVER (PARTITION BY c, s ORDER BY t, id) AS n FROM sc WHERE s IS NOT NULL
      ) WHERE n = 1
    )
    INSERT INTO stage_entries (contact_id, stage_id, entered_at, left_at, left_to, score_at_entry, first_feedback_at, accepted_at, rejected_at, first_touch_at, event_id)
    SELECT z.c, z.s, z.t, z.left_at, z.left_to, z.score_at_entry, z.first_feedback_at,
      CASE WHEN z.first_feedback_at IS NOT NULL THEN (${firstAfter(EVENT.sales_accepted)}) END,
      CASE WHEN z.first_feedback_at IS NOT NULL THEN (${firstAfter(EVENT.sales_rejected)}) END,
      (SELECT ${FIRST_TOUCH('c')} FROM contacts c WHERE c.id = z.c),
      z.id
    FROM (SELECT e.c, e.s, e.t, e.id,
      (SELECT min(x.t) FROM sc x WHERE x.c = e.c AND x.f = e.s AND (x.t, x.id) > (e.t, e.id)) AS left_at,
      (SELECT x.s FROM sc x WHERE x.c = e.c AND x.f = e.s AND (x.t, x.id) > (e.t, e.id) ORDER BY x.t, x.id LIMIT 1) AS left_to,
      (SELECT coalesce(sum(p.delta), 0) FROM point_log p WHERE p.contact_id = e.c AND p.created_at <= e.t) AS score_at_entry,
      (SELECT min(fb.created_at) FROM events fb WHERE fb.contact_id = e.c AND fb.type IN (${FEEDBACK_IN}) AND fb.created_at >= e.t) AS first_feedback_at
    FROM firsts e) z WHERE true
    ${
      write === 'upsert'
        ? `ON CONFLICT (contact_id, stage_id) DO UPDATE SET entered_at = excluded.entered_at, left_at = excluded.left_at, left_to = excluded.left_to,
      score_at_entry = excluded.score_at_entry, first_feedback_at = excluded.first_feedback_at,
      accepted_at = excluded.accepted_at, rejected_at = excluded.rejected_at, first_touch_at = excluded.first_touch_at, event_id = excluded.event_id
      WHERE entered_at <> excluded.entered_at OR event_id <> excluded.event_id OR left_at IS NOT excluded.left_at OR left_to IS NOT excluded.left_to
        OR score_at_entry IS NOT excluded.score_at_entry OR first_feedback_at IS NOT excluded.first_feedback_at
        OR accepted_at IS NOT excluded.accepted_at OR rejected_at IS NOT excluded.rejected_at OR first_touch_at IS NOT excluded.first_touch_at`
        : ''
    }`;
}

/** The statement bringing the entries of these contacts up to date with their events. */
export function recomputeEntries(contactIds: readonly number[]): InStatement {
  return { sql: entriesSql('contact_id IN (SELECT value FROM json_each(?))', 'upsert'), args: [JSON.stringify(contactIds)] };
}

/** The funnel reaction's work for a batch of events: recompute every contact they touch. */
export function stageEntryStatements(events: readonly SpineEvent[]): InStatement[] {
  const ids = [...new Set(events.filter((e) => e.contactId !== null).map((e) => e.contactId!))];
  return ids.length ? [recomputeEntries(ids)] : [];
}

/** Contacts per rebuild statement: each reads their events once through events_contact_type_idx. */
const REBUILD_SPAN = 20_000;

/**
 * Recomputes stage_entries from the events, a range of contact ids per write batch (delete the
 * range, insert it again from events), so each batch is short and the table is consistent for
 * every contact at every moment. Safe to run while the reaction runs: both write the same rows.
 */
export async function rebuildStageEntries(
  ctx: Ctx,
  onProgress?: (p: { contacts_done: number; contacts_total: number; entries: number }) => void,
): Promise<{ entries: number; ms: number }> {
  const started = Date.now();
  const r = await ctx.client.execute(
    `SELECT (SELECT min(id) FROM contacts) AS lo, max((SELECT coalesce(max(id), 0) FROM contacts), (SELECT coalesce(max(contact_id), 0) FROM stage_entries)) AS hi`,
  );
  const lo = Number(r.rows[0]!.lo ?? 1);
  const hi = Number(r.rows[0]!.hi ?? 0);
  let entries = 0;
  // Contacts merged or erased away may have left entries under ids below the first contact.
  const ranges: [number, number][] = [[-Number.MAX_SAFE_INTEGER, lo - 1]];
  for (let a = lo; a <= hi; a += REBUILD_SPAN) ranges.push([a, Math.min(hi, a + REBUILD_SPAN - 1)]);
  if (hi < lo) ranges.push([lo, Number.MAX_SAFE_INTEGER]);
  else ranges.push([hi + 1, Number.MAX_SAFE_INTEGER]);
  for (const [a, b] of ranges) {
    const args: InValue[] = [a, b];
    const out = await ctx.client.batch(
      [
        { sql: 'DELETE FROM stage_entries WHERE contact_id BETWEEN ? AND ?', args },
        { sql: entriesSql('contact_id BETWEEN ? AND ?', 'insert', true), args },
      ],
      'write',
    );
    entries += out[1]!.rowsAffected;
    onProgress?.({ contacts_done: Math.max(0, Math.min(b, hi) - lo + 1), contacts_total: Math.max(0, hi - lo + 1), entries });
    // A turn per batch, as the rollups rebuild takes (util/turn.ts): the server answers meanwhile.
    await nextTurn();
  }
  return { entries, ms: Date.now() - started };
}
