import type { InValue } from '@libsql/client';
import { z } from 'zod';
import type { Ctx } from '../context';
import { NotFoundError } from '../errors';
import type { Period } from './query';

// What the contact-based reports (revenue, attribution, funnel, cohorts, lead scoring, follow-up)
// share: which contacts a report counts, and the one currency its money is in.

export interface Sql {
  sql: string;
  args: InValue[];
}

/**
 * The segment and UTM filters as one condition on a contact id expression (`1` when none):
 * the contact is in the segment now (segment_members), and its first touch
 * (contacts.first_source) carries each UTM value asked for. Read per contact through primary keys.
 * `contactsAlias`: the query reads contacts itself under that alias (contactId is its id), so the
 * condition is on its columns, where the indexes on `first_source ->> 'utm_…'` can serve it.
 */
export async function contactFilter(ctx: Ctx, p: Period, contactId: string, contactsAlias?: string): Promise<Sql> {
  const parts: string[] = [];
  const args: InValue[] = [];
  if (p.segment !== null) {
    const s = await ctx.client.execute({ sql: 'SELECT 1 FROM segments WHERE id = ?', args: [p.segment] });
    if (!s.rows.length) throw new NotFoundError('Segment');
    parts.push(`EXISTS (SELECT 1 FROM segment_members sm WHERE sm.segment_id = ? AND sm.contact_id = ${contactId})`);
    args.push(p.segment);
  }
  const utm = (['source', 'medium', 'campaign'] as const).filter((k) => p.utm[k] !== null);
  if (utm.length) {
    const on = (a: string) => utm.map((k) => `${a}.first_source ->> 'utm_${k}' = ?`).join(' AND ');
    parts.push(contactsAlias ? on(contactsAlias) : `EXISTS (SELECT 1 FROM contacts fc WHERE fc.id = ${contactId} AND ${on('fc')})`);
    for (const k of utm) args.push(p.utm[k]);
  }
  return { sql: parts.length ? parts.join(' AND ') : '1', args };
}

// Report params stay strings (no zod transform): the route validates the query and runReport
// hands the validated values to the report.

/** Revenue is reported in one currency: the one asked for, else the one with the most won revenue. */
export const CurrencyParam = z
  .string()
  .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like EUR')
  .optional()
  .describe('Currency of the money figures (ISO 4217); deals in other currencies are not summed. Default: the currency with the most won revenue in the period (else ever).');

/**
 * The currency a report's money is in: the one asked for; else the one with the most won revenue
 * in the period among the deals of the contacts counted (a tie goes to the first code
 * alphabetically); else the one with the most won revenue ever; null when nothing was ever won.
 */
export async function reportCurrency(ctx: Ctx, p: Period, asked: string | undefined, filter: Sql = { sql: '1', args: [] }): Promise<string | null> {
  if (asked) return asked;
  const r = await ctx.client.execute({
    sql: `SELECT coalesce(
        (SELECT d.currency FROM deals d WHERE d.stage = 'won' AND d.closed_at >= ? AND d.closed_at < ? AND ${filter.sql}
          GROUP BY d.currency ORDER BY sum(d.amount_cents) DESC, d.currency LIMIT 1),
        (SELECT currency FROM deals WHERE stage = 'won' GROUP BY currency ORDER BY sum(amount_cents) DESC, currency LIMIT 1)) AS currency`,
    args: [p.from, p.to, ...filter.args],
  });
  const c = r.rows[0]?.currency;
  return c === null || c === undefined ? null : String(c);
}

/** Cents to major units. */
export const money = (cents: unknown) => Math.round(Number(cents ?? 0)) / 100;
