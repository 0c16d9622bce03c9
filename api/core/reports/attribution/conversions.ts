import type { InValue } from '@libsql/client';
import type { Ctx } from '../../context';
import { NotFoundError, ValidationError } from '../../errors';
import type { Period } from '../query';
import { contactFilter, type Sql } from '../scope';

// What counts as a conversion, and reading the conversions of a period. Each is one contact at
// one time with a value: the deal's amount in cents for won deals, null (worth one conversion)
// for the others.

export type ConversionSpec =
  | { kind: 'deal_won' }
  | { kind: 'stage'; id: number }
  | { kind: 'form'; id: number | null }
  | { kind: 'goal'; id: number | null };

export const CONVERSION_PATTERN = /^(deal_won|stage:[1-9][0-9]{0,15}|form:(any|[1-9][0-9]{0,15})|goal:(any|[1-9][0-9]{0,15}))$/;
export const CONVERSION_HELP = 'must be deal_won, stage:<stage id>, form:<form id>, form:any, goal:<campaign id> or goal:any';

export function parseConversion(s: string): ConversionSpec {
  if (!CONVERSION_PATTERN.test(s)) throw new ValidationError([{ field: 'conversion', message: CONVERSION_HELP }]);
  if (s === 'deal_won') return { kind: 'deal_won' };
  const [kind, rest] = s.split(':') as ['stage' | 'form' | 'goal', string];
  const id = rest === 'any' ? null : Number(rest);
  if (kind === 'stage') return { kind, id: id! };
  return { kind, id };
}

const exists = async (ctx: Ctx, table: string, id: number) =>
  (await ctx.client.execute({ sql: `SELECT 1 FROM ${table} WHERE id = ?`, args: [id] })).rows.length > 0;

/**
 * An id the query names that does not exist is a 404 (as an unknown id in a path is): the
 * site and segment filters, the stage of stage:<id>, the form of form:<id>, the campaign of goal:<id>.
 */
export async function checkTargets(ctx: Ctx, spec: ConversionSpec, period: Period) {
  if (period.site !== null && !(await exists(ctx, 'sites', period.site))) throw new NotFoundError('Site');
  if (period.segment !== null && !(await exists(ctx, 'segments', period.segment))) throw new NotFoundError('Segment');
  if (spec.kind === 'stage' && !(await exists(ctx, 'stages', spec.id))) throw new NotFoundError('Stage');
  if (spec.kind === 'form' && spec.id !== null && !(await exists(ctx, 'forms', spec.id))) throw new NotFoundError('Form');
  if (spec.kind === 'goal' && spec.id !== null && !(await exists(ctx, 'campaigns', spec.id))) throw new NotFoundError('Campaign');
}

/**
 * The conversions of the period as SQL rows (c: contact id, t: time, v: value in cents or NULL
 * for a conversion worth 1), each read through the index on its kind and time.
 */
export async function conversionRows(ctx: Ctx, period: Period, spec: ConversionSpec, currency: string | null): Promise<Sql> {
  const filter = (col: string) => contactFilter(ctx, period, col).then((f) => ({ sql: ` AND ${f.sql}`, args: f.args }));
  const range = [period.from, period.to];
  if (spec.kind === 'deal_won') {
    // deals_stage_closed_idx; only the reported currency (others are not mixed in).
    const f = await filter('d.contact_id');
    return {
      sql: `SELECT d.contact_id AS c, d.closed_at AS t, d.amount_cents AS v FROM deals d
        WHERE d.stage = 'won' AND d.closed_at >= ? AND d.closed_at < ? AND d.currency = ?${f.sql}`,
      args: [...range, currency, ...f.args],
    };
  }
  if (spec.kind === 'stage') {
    // stage_entries holds each contact's first entry into a stage (stage_entries_stage_entered_idx).
    const f = await filter('s.contact_id');
    return {
      sql: `SELECT s.contact_id AS c, s.entered_at AS t, NULL AS v FROM stage_entries s WHERE s.stage_id = ? AND s.entered_at >= ? AND s.entered_at < ?${f.sql}`,
      args: [spec.id, ...range, ...f.args],
    };
  }
  if (spec.kind === 'form') {
    // Each submission by a known contact (events_type_created_idx); form_id may be stored as a number or a string.
    const f = await filter('e.contact_id');
    const form = spec.id === null ? '' : ` AND e.props ->> '$.form_id' IN (?, ?)`;
    return {
      sql: `SELECT e.contact_id AS c, e.created_at AS t, NULL AS v FROM events e
        WHERE e.type = 'form_submit' AND e.created_at >= ? AND e.created_at < ? AND e.contact_id IS NOT NULL${form}${f.sql}`,
      args: [...range, ...(spec.id === null ? [] : [spec.id, String(spec.id)]), ...f.args],
    };
  }
  // Campaign passes that reached their goal.
  const f = await filter('p.contact_id');
  const campaign = spec.id === null ? '' : ' AND p.campaign_id = ?';
  return {
    sql: `SELECT p.contact_id AS c, p.ended_at AS t, NULL AS v FROM campaign_enrollments p
      WHERE p.status = 'converted' AND p.ended_at >= ? AND p.ended_at < ?${campaign}${f.sql}`,
    args: [...range, ...(spec.id === null ? [] : [spec.id]), ...f.args],
  };
}
