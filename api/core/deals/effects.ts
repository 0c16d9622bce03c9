import type { InStatement, InValue } from '@libsql/client';
import type { Ctx } from '../context';
import { oneContact, touch, type Guard } from '../contacts/writes';
import { stageStatements } from '../scoring/stages';
import { EVENT } from '../spine/event-types';
import { getPipelineSettings } from './settings';
import { fromCents, type DealRecord, type DealStage, type DealState } from './schema';

/**
 * What saving a deal writes, as one batch: the deal row, the event of its transition and the
 * contact's stage change.
 *
 * - Becoming won (on create, or from open or lost) writes a `deal_won` event for the contact at
 *   closed_at (props deal_id, name, amount, currency, value = amount for the lead-scoring report,
 *   owner); becoming lost writes `deal_lost` (deal_id, reason). Saving a won deal as won again
 *   writes nothing new; won → open → won writes a second deal_won, as the deal was won twice.
 * - Then the contact moves to the stage the pipeline settings map the transition to (won →
 *   won_stage_id, lost → lost_stage_id, a deal created open → open_stage_id), through the stage
 *   code every other stage change uses (a stage_changed event naming the deal as actor), but
 *   only forward: when the target's position is above the contact's current stage's (or the
 *   contact has none). A customer in Delight stays there when another deal is won.
 * - Whether the transition happens is decided in SQL against the row as it is when the batch
 *   runs (a transaction), not as it was read: two concurrent saves of one deal as won write one
 *   event.
 */

const STAGE_TARGET: Record<DealStage, 'won_stage_id' | 'lost_stage_id' | 'open_stage_id'> = {
  won: 'won_stage_id',
  lost: 'lost_stage_id',
  open: 'open_stage_id',
};

const contactExists: Guard = { sql: 'EXISTS (SELECT 1 FROM contacts WHERE id = ?)', args: [] };

export interface DealWrite {
  statements: InStatement[];
  /** Index of the event insert (RETURNING id), when the transition writes one. */
  eventAt: number | null;
  /** Index of the statement writing the deal row (its rowsAffected says it happened). */
  updateAt: number;
}

function eventProps(id: number, s: DealState): Record<string, unknown> {
  if (s.stage === 'won') {
    const amount = fromCents(s.amountCents);
    return { deal_id: id, name: s.name, amount, currency: s.currency, value: amount, owner: s.owner };
  }
  return { deal_id: id, reason: s.lostReason };
}

/** The row's columns in insert order, and their values. */
function columns(s: DealState): [string, InValue][] {
  return [
    ['contact_id', s.contactId],
    ['company_id', s.companyId],
    ['name', s.name],
    ['amount_cents', s.amountCents],
    ['currency', s.currency],
    ['stage', s.stage],
    ['expected_close_date', s.expectedCloseDate],
    ['closed_at', s.closedAt],
    ['owner', s.owner],
    ['source', s.source],
    ['lost_reason', s.lostReason],
  ];
}

export async function dealWriteStatements(
  ctx: Ctx,
  o: { id: number; before: DealRecord | null; next: DealState; now: number; external?: { integrationId: number; externalId: string } },
): Promise<DealWrite> {
  const { id, next: s, now } = o;
  const cols = columns(s);
  const statements: InStatement[] = [];
  // The transition, as the database sees it when the batch runs: the row was just inserted, or
  // it is not yet at the new stage.
  const transition: Guard = o.before
    ? { sql: 'EXISTS (SELECT 1 FROM deals WHERE id = ? AND stage <> ?)', args: [id, s.stage] }
    : { sql: 'EXISTS (SELECT 1 FROM deals WHERE id = ?)', args: [id] };
  const guard: Guard = { sql: `${contactExists.sql} AND ${transition.sql}`, args: [s.contactId, ...transition.args] };

  let updateAt = 0;
  if (!o.before) {
    const ext = o.external ? [o.external.integrationId, o.external.externalId] : [null, null];
    const names = ['id', ...cols.map(([c]) => c), 'integration_id', 'external_id', 'created_at', 'updated_at'];
    statements.push({
      sql: `INSERT INTO deals (${names.join(', ')}) SELECT ${names.map(() => '?').join(', ')} WHERE ${contactExists.sql}`,
      args: [id, ...cols.map(([, v]) => v), ...ext, now, now, s.contactId],
    });
  }

  let eventAt: number | null = null;
  const changes = !o.before || o.before.stage !== s.stage;
  if (changes && s.stage !== 'open') {
    eventAt = statements.length;
    statements.push({
      sql: `INSERT INTO events (contact_id, type, props, created_at) SELECT ?, ?, ?, ? WHERE ${guard.sql} RETURNING id`,
      args: [s.contactId, s.stage === 'won' ? EVENT.deal_won : EVENT.deal_lost, JSON.stringify(eventProps(id, s)), s.closedAt ?? now, ...guard.args],
    });
  }

  // A deal reopened moves nobody; a new open deal may (open_stage_id).
  const target = changes && (s.stage !== 'open' || !o.before) ? (await getPipelineSettings(ctx))[STAGE_TARGET[s.stage]] : null;
  if (target !== null) {
    const forward: Guard = {
      sql: `${guard.sql} AND coalesce((SELECT position FROM stages WHERE id = ?), -1)
        > coalesce((SELECT s.position FROM contacts c JOIN stages s ON s.id = c.stage_id WHERE c.id = ?), -1)`,
      args: [...guard.args, target, s.contactId],
    };
    statements.push(...stageStatements(oneContact(s.contactId, forward), target, { type: 'deal', id }, now));
  }

  if (o.before) {
    updateAt = statements.length;
    statements.push({
      sql: `UPDATE deals SET ${cols.map(([c]) => `${c} = ?`).join(', ')}, updated_at = ? WHERE id = ? AND ${contactExists.sql}`,
      args: [...cols.map(([, v]) => v), now, id, s.contactId],
    });
  }
  // Deals are contact data (segments and reports re-read the contact); a deal moved to another
  // contact changes both.
  const touched = [...new Set([s.contactId, ...(o.before ? [o.before.contactId] : [])])];
  statements.push(touch(touched, now));
  return { statements, eventAt, updateAt };
}
