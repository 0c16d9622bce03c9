import type { InValue } from '@libsql/client';
import type { Ctx } from '../context';
import { share, type Bucket, type Period } from './query';
import type { VisitDim } from './rollups/metrics';

// Figures of visits (sessions) for the traffic reports, each computed by one function here.

/** What the sessions of a group add up to. */
export interface VisitCounts {
  /** Distinct visitors with a session starting in the group. */
  visitors: number;
  sessions: number;
  /** Page views of those sessions. */
  pageviews: number;
  /** Sessions of one page view. */
  bounces: number;
}

/** bounce_rate = one-page sessions / sessions; views_per_session = their page views / sessions (null without sessions). */
export const bounceRate = (c: Pick<VisitCounts, 'sessions' | 'bounces'>) => share(c.bounces, c.sessions);
export const viewsPerSession = (c: Pick<VisitCounts, 'sessions' | 'pageviews'>) => share(c.pageviews, c.sessions);

const zero = (): VisitCounts => ({ visitors: 0, sessions: 0, pageviews: 0, bounces: 0 });

const AGG = 'count(DISTINCT v) AS visitors, count(*) AS sessions, coalesce(sum(pv), 0) AS pageviews, coalesce(sum(pv = 1), 0) AS bounces';

const counts = (r: Record<string, unknown> | undefined): VisitCounts =>
  r ? { visitors: Number(r.visitors), sessions: Number(r.sessions), pageviews: Number(r.pageviews), bounces: Number(r.bounces) } : zero();

/**
 * Which sessions a report counts besides their start time: the site, and the UTM filters, which
 * match the session's source (utm_source, else the referrer's domain), medium and campaign.
 */
export function sessionFilter(p: Pick<Period, 'site' | 'utm'>, filters: { site: boolean; utm: boolean }): SessionFilter {
  const where: string[] = [];
  const args: InValue[] = [];
  let utm = false;
  if (filters.site && p.site !== null) where.push('s.site_id = ?'), args.push(p.site);
  if (filters.utm) {
    for (const [col, v] of [['source', p.utm.source], ['medium', p.utm.medium], ['campaign', p.utm.campaign]] as const) {
      if (v !== null) where.push(`s.${col} = ?`), args.push(v), (utm = true);
    }
  }
  return { sql: where.map((w) => ` AND ${w}`).join(''), args, utm };
}

/** A condition on sessions `s` (AND …) and its arguments; utm: it selects some of a visitor's sessions, not all. */
export interface SessionFilter {
  sql: string;
  args: InValue[];
  utm: boolean;
}

/**
 * VisitCounts of the sessions in groups, and of all of them, in one pass over sessions (the
 * bulk of a traffic report's cost: each session in the period is one look-up): the sessions
 * are read once into a temporary table, which both aggregates then read.
 *   - buckets: groups are the period's intervals, by session start (each a range of the
 *     started_at index);
 *   - column: groups are the values of a sessions column (a constant chosen by the caller), most
 *     sessions first, at most `limit`, optionally only some values; the sessions are those
 *     starting in the period.
 */
export async function visitStats(
  ctx: Ctx,
  p: Pick<Period, 'from' | 'to'>,
  f: SessionFilter,
  by: { buckets: Bucket[] } | { column: string; limit: number; only?: string[] },
): Promise<{ groups: ({ key: string | null } & VisitCounts)[]; total: VisitCounts }> {
  if ('buckets' in by && !f.utm) return bucketStats(ctx, p, f, by.buckets);
  let rows: string;
  let args: InValue[];
  let grouped: string;
  if ('buckets' in by) {
    // CROSS JOIN: the buckets lead, each a range scan of sessions by start.
    rows = `SELECT b.key AS g, s.visitor_id AS v, s.pageviews AS pv FROM json_each(?) b CROSS JOIN sessions s
      WHERE s.started_at >= b.value ->> 0 AND s.started_at < b.value ->> 1${f.sql}`;
    args = [JSON.stringify(by.buckets.map((b) => [b.start, b.end])), ...f.args];
    grouped = `SELECT 0 AS t, g, ${AGG} FROM s GROUP BY g`;
  } else {
    const only = by.only ? ` AND g IN (SELECT value FROM json_each(?))` : '';
    rows = `SELECT s.${by.column} AS g, s.visitor_id AS v, s.pageviews AS pv FROM sessions s
      WHERE s.started_at >= ? AND s.started_at < ?${f.sql}`;
    args = [p.from, p.to, ...f.args];
    grouped = `SELECT * FROM (SELECT 0 AS t, g, ${AGG} FROM s WHERE true${only} GROUP BY g ORDER BY sessions DESC, g LIMIT ?)`;
    if (by.only) args.push(JSON.stringify(by.only));
    args.push(by.limit);
  }
  const r = await ctx.client.execute({
    sql: `WITH s AS MATERIALIZED (${rows}) ${grouped} UNION ALL SELECT 1, NULL, ${AGG} FROM s`,
    args,
  });
  const groups: ({ key: string | null } & VisitCounts)[] = [];
  let total = zero();
  for (const row of r.rows) {
    if (Number(row.t) === 1) total = counts(row);
    else groups.push({ key: row.g === null ? null : String(row.g), ...counts(row) });
  }
  return { groups, total };
}

/**
 * visitStats over buckets when all of a visitor's sessions count (no UTM filter): one read of the
 * sessions covering index, no distinct. A visitor is counted once in a range [a, b) by its session
 * there whose previous session started before a (prev_at, schema/reports.ts). Each bucket is its
 * own aggregate over its range (a GROUP BY would sort every session of the period once more).
 */
async function bucketStats(ctx: Ctx, p: Pick<Period, 'from' | 'to'>, f: SessionFilter, bs: Bucket[]) {
  const first = (at: string) => `sum(s.prev_at IS NULL OR s.prev_at < ${at})`;
  const r = await ctx.client.execute({
    sql: `WITH b AS MATERIALIZED (SELECT key AS k, value ->> 0 AS a, value ->> 1 AS z FROM json_each(?))
      SELECT b.k AS g, (SELECT json_array(${first('b.a')}, count(*), sum(s.pageviews), sum(s.pageviews = 1), ${first('?')})
        FROM sessions s WHERE s.started_at >= b.a AND s.started_at < b.z${f.sql}) AS x
      FROM b`,
    args: [JSON.stringify(bs.map((b) => [b.start, b.end])), p.from, ...f.args],
  });
  const total = zero();
  const groups = r.rows.map((row) => {
    const [visitors, sessions, pageviews, bounces, periodVisitors] = (JSON.parse(String(row.x)) as (number | null)[]).map((n) => n ?? 0);
    const c: VisitCounts = { visitors: visitors!, sessions: sessions!, pageviews: pageviews!, bounces: bounces! };
    total.visitors += periodVisitors!;
    total.sessions += c.sessions;
    total.pageviews += c.pageviews;
    total.bounces += c.bounces;
    return { key: String(row.g), ...c };
  });
  return { groups, total };
}

/**
 * The period's repeat visits (no UTM filter) per value of a visit property (a sessions column,
 * chosen by the caller from VISIT_DIMS): `all`, visits whose visitor had an earlier one in the
 * period (prev_at at or after its start); `same`, those whose earlier one there had the same value.
 * A value's visitors are its visits less its `same`; all visitors, all visits less every `all`.
 * Only those visits are read past the started_at index, each with its visitor's visits.
 */
export async function repeatVisits(
  ctx: Ctx,
  p: Pick<Period, 'from' | 'to'>,
  f: SessionFilter,
  column: VisitDim,
): Promise<Map<string | null, { all: number; same: number }>> {
  const r = await ctx.client.execute({
    sql: `SELECT s.${column} AS k, count(*) AS n,
        sum(EXISTS (SELECT 1 FROM sessions e WHERE e.visitor_id = s.visitor_id AND e.started_at >= ? AND e.started_at <= s.started_at
          AND (e.started_at < s.started_at OR e.id < s.id) AND e.${column} IS s.${column})) AS same
      FROM sessions s
      WHERE s.started_at >= ? AND s.started_at < ? AND s.prev_at >= ?${f.sql}
      GROUP BY 1`,
    args: [p.from, p.from, p.to, p.from, ...f.args],
  });
  return new Map(r.rows.map((row) => [row.k === null ? null : String(row.k), { all: Number(row.n), same: Number(row.same) }]));
}
