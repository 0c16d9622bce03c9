import type { InValue } from '@libsql/client';
import type { Ctx } from '../context';
import { share, type Bucket, type Period } from './query';

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

const AGG = 'count(DISTINCT s.visitor_id) AS visitors, count(*) AS sessions, coalesce(sum(s.pageviews), 0) AS pageviews, coalesce(sum(s.pageviews = 1), 0) AS bounces';

const counts = (r: Record<string, unknown> | undefined): VisitCounts =>
  r ? { visitors: Number(r.visitors), sessions: Number(r.sessions), pageviews: Number(r.pageviews), bounces: Number(r.bounces) } : zero();

/**
 * Which sessions a report counts besides their start time: the site, and the UTM filters, which
 * match the session's source (utm_source, else the referrer's domain), medium and campaign.
 */
export function sessionFilter(p: Pick<Period, 'site' | 'utm'>, filters: { site: boolean; utm: boolean }): { sql: string; args: InValue[] } {
  const where: string[] = [];
  const args: InValue[] = [];
  if (filters.site && p.site !== null) where.push('s.site_id = ?'), args.push(p.site);
  if (filters.utm) {
    for (const [col, v] of [['source', p.utm.source], ['medium', p.utm.medium], ['campaign', p.utm.campaign]] as const) {
      if (v !== null) where.push(`s.${col} = ?`), args.push(v);
    }
  }
  return { sql: where.map((w) => ` AND ${w}`).join(''), args };
}

/** VisitCounts of the sessions starting in the period. */
export async function visitTotals(ctx: Ctx, p: Pick<Period, 'from' | 'to'>, f: { sql: string; args: InValue[] }): Promise<VisitCounts> {
  const r = await ctx.client.execute({ sql: `SELECT ${AGG} FROM sessions s WHERE s.started_at >= ? AND s.started_at < ?${f.sql}`, args: [p.from, p.to, ...f.args] });
  return counts(r.rows[0]);
}

/** VisitCounts per bucket, by session start; each bucket is a range of the started_at index. */
export async function visitSeries(ctx: Ctx, bs: Bucket[], f: { sql: string; args: InValue[] }): Promise<VisitCounts[]> {
  const r = await ctx.client.execute({
    // CROSS JOIN: the buckets lead, each a range scan of sessions by start.
    sql: `SELECT b.key AS i, ${AGG} FROM json_each(?) b CROSS JOIN sessions s
      WHERE s.started_at >= b.value ->> 0 AND s.started_at < b.value ->> 1${f.sql} GROUP BY b.key`,
    args: [JSON.stringify(bs.map((b) => [b.start, b.end])), ...f.args],
  });
  const out = bs.map(zero);
  for (const row of r.rows) out[Number(row.i)] = counts(row);
  return out;
}

/** VisitCounts grouped by a column of sessions (a constant chosen by the caller), largest groups first. */
export async function visitGroups(
  ctx: Ctx,
  p: Pick<Period, 'from' | 'to'>,
  column: string,
  f: { sql: string; args: InValue[] },
  opts: { limit: number; only?: string[] },
): Promise<({ key: string | null } & VisitCounts)[]> {
  const only = opts.only ? ` AND s.${column} IN (SELECT value FROM json_each(?))` : '';
  const r = await ctx.client.execute({
    sql: `SELECT s.${column} AS key, ${AGG} FROM sessions s WHERE s.started_at >= ? AND s.started_at < ?${f.sql}${only}
      GROUP BY s.${column} ORDER BY sessions DESC, key LIMIT ?`,
    args: [p.from, p.to, ...f.args, ...(opts.only ? [JSON.stringify(opts.only)] : []), opts.limit],
  });
  return r.rows.map((row) => ({ key: row.key === null ? null : String(row.key), ...counts(row) }));
}
