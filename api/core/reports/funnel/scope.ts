import type { Ctx } from '../../context';
import { DAY, HOUR, type Bucket } from '../query';
import type { Sql } from '../scope';

// What the funnel reports share: the contact filters, the stages, the qualification of a lead,
// what counts as sales feedback and as a won deal, money and rounding.

export interface StageRow {
  id: number;
  name: string;
  position: number;
  is_mql: boolean;
}

/** Stages in funnel order. */
export async function loadStages(ctx: Ctx): Promise<StageRow[]> {
  const r = await ctx.client.execute('SELECT id, name, position, is_mql FROM stages ORDER BY position, id');
  return r.rows.map((s) => ({ id: Number(s.id), name: String(s.name), position: Number(s.position), is_mql: Number(s.is_mql) === 1 }));
}

/** An SQL list of integer ids (from the database, so safe to inline; the planner sees each). */
export const idList = (ids: readonly number[]) => `(${ids.map((i) => Math.trunc(i)).join(', ')})`;

/**
 * The leads qualified in [from, to): a contact qualifies when it first enters any
 * marketing-qualified stage (stages.is_mql); a later entry into another MQL stage is not a second
 * qualification. Columns: c (contact), at (qualified at), score (points at that moment), fb (first
 * sales feedback event at or after it). Read through stage_entries (stage_id, entered_at).
 */
export function qualifiedSql(mql: readonly number[], from: number, to: number, filter: Sql): Sql {
  const ids = idList(mql);
  // With one MQL stage (the usual funnel) every entry into it is a first qualification.
  const earlier =
    mql.length > 1
      ? `AND NOT EXISTS (SELECT 1 FROM stage_entries o WHERE o.contact_id = se.contact_id AND o.stage_id IN ${ids}
          AND (o.entered_at, o.stage_id) < (se.entered_at, se.stage_id))`
      : '';
  return {
    sql: `SELECT se.contact_id AS c, se.entered_at AS at, se.score_at_entry AS score, se.first_feedback_at AS fb,
        se.accepted_at AS accepted, se.rejected_at AS rejected
      FROM stage_entries se
      WHERE se.stage_id IN ${ids} AND se.entered_at >= ? AND se.entered_at < ? ${earlier} AND ${filter.sql}`,
    args: [from, to, ...filter.args],
  };
}

/**
 * The first sales feedback on a lead qualified at `at`: the first feedback event (kept on the
 * entry as first_feedback_at) or the first deal created for the contact at or after `at`,
 * whichever is earlier (deals_contact_idx).
 */
export const feedbackAt = (c: string, at: string, fb: string) =>
  `(SELECT min(t) FROM (SELECT ${fb} AS t UNION ALL SELECT min(d.created_at) FROM deals d WHERE d.contact_id = ${c} AND d.created_at >= ${at}))`;

/** When a won deal was won: closed_at (the deals API sets it), else when it was last changed. */
export const WON_AT = 'coalesce(d.closed_at, d.updated_at)';

/** Milliseconds to days or hours, 2 decimals; null stays null. */
export const days = (ms: unknown) => (ms === null || ms === undefined ? null : Math.round((Number(ms) / DAY) * 100) / 100);
export const hours = (ms: unknown) => (ms === null || ms === undefined ? null : Math.round((Number(ms) / HOUR) * 100) / 100);
export const int = (v: unknown) => Number(v ?? 0);

/**
 * The bucket index of an instant expression, as SQL: a balanced tree of CASEs over the bucket
 * starts (literal integers), so each row costs log2(buckets) comparisons and the grouping stays
 * in SQL. Instants outside the buckets get -1.
 */
export function bucketIndexSql(expr: string, bs: readonly Bucket[]): string {
  if (!bs.length) return '-1';
  const tree = (lo: number, hi: number): string => {
    if (lo === hi) return String(lo);
    const mid = (lo + hi + 1) >> 1;
    return `CASE WHEN ${expr} < ${Math.trunc(bs[mid]!.start)} THEN ${tree(lo, mid - 1)} ELSE ${tree(mid, hi)} END`;
  };
  return `CASE WHEN ${expr} < ${Math.trunc(bs[0]!.start)} OR ${expr} >= ${Math.trunc(bs[bs.length - 1]!.end)} THEN -1 ELSE ${tree(0, bs.length - 1)} END`;
}

/**
 * Durations gathered in SQL with group_concat (no SQL sort per group: one JS sort of numbers is
 * cheaper than window functions over a temp b-tree), back to numbers.
 */
export const msList = (v: unknown): number[] => (v === null || v === undefined || v === '' ? [] : String(v).split(',').map(Number));

/** Median and p90 by nearest rank, exactly as query.ts `percentile`, with one sort. */
export function medianP90(xs: number[]): { p50: number | null; p90: number | null } {
  if (!xs.length) return { p50: null, p90: null };
  const s = Float64Array.from(xs).sort();
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { p50: at(0.5), p90: at(0.9) };
}

/**
 * A contact's first touch: its first tracked visit (first_seen_at) or its creation, whichever is
 * earlier (a contact imported or created through the API before it ever visited was known from
 * then). An index on exactly this expression makes the cohort range a seek; without it the
 * report reads the contacts table (see the closing note of this change).
 */
export const FIRST_TOUCH = (c: string) => `min(coalesce(${c}.first_seen_at, ${c}.created_at), ${c}.created_at)`;
