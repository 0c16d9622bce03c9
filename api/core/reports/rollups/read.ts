import type { InValue } from '@libsql/client';
import type { Ctx } from '../../context';
import { HOUR, type Bucket, type Period } from '../query';
import { DAILY } from './metrics';

/**
 * The rollup hours a report counts: those starting within the period, [first, end). It is the
 * rule of hourIndex (an hour counts in the bucket holding its start), so totals and series agree.
 */
export const countedHours = (p: Pick<Period, 'from' | 'to'>) => ({ first: Math.ceil(p.from / HOUR), end: Math.ceil(p.to / HOUR) });

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/**
 * The rollup rows of some metrics in one dim over the period, as a subquery (metric, key, value):
 * the counted hours, or for a dim also kept per UTC day (metrics.ts DAILY) the whole UTC days
 * inside them from the daily rows and only the hours at either edge from the hourly ones.
 */
function rowsOver(period: Pick<Period, 'from' | 'to'>, q: { metrics: readonly string[]; dim: string; site?: number | null; keys?: string[]; daily?: boolean }) {
  const { first, end } = countedHours(period);
  const dayFirst = Math.ceil(first / 24) * 24;
  const dayEnd = Math.floor(end / 24) * 24;
  const ranges: [string, number, number][] = q.daily && dayFirst < dayEnd ? [[q.dim, first, dayFirst], [q.dim + DAILY, dayFirst, dayEnd], [q.dim, dayEnd, end]] : [[q.dim, first, end]];
  const parts: string[] = [];
  const args: InValue[] = [];
  for (const [dim, a, b] of ranges) {
    if (a >= b) continue;
    let where = `metric IN (${placeholders(q.metrics.length)}) AND dim = ? AND hour >= ? AND hour < ?`;
    args.push(...q.metrics, dim, a, b);
    if (q.site != null) (where += ' AND site_id = ?'), args.push(q.site);
    if (q.keys) (where += ' AND key IN (SELECT value FROM json_each(?))'), args.push(JSON.stringify(q.keys));
    parts.push(`SELECT metric, key, value FROM rollups WHERE ${where}`);
  }
  return { sql: parts.length ? parts.join(' UNION ALL ') : 'SELECT NULL AS metric, NULL AS key, 0 AS value WHERE false', args };
}

/**
 * Sums of rollups over the period, per metric and key of one dim (optionally one site, some
 * keys): a range of the primary key (metric, dim, hour, …) per metric. Answers key → metric → sum.
 */
export async function sumRollups(
  ctx: Ctx,
  period: Pick<Period, 'from' | 'to'>,
  q: { metrics: readonly string[]; dim: string; site?: number | null; keys?: string[]; daily?: boolean },
): Promise<Map<string, Record<string, number>>> {
  const rows = rowsOver(period, q);
  const r = await ctx.client.execute({ sql: `SELECT metric, key, sum(value) AS n FROM (${rows.sql}) GROUP BY metric, key`, args: rows.args });
  const out = new Map<string, Record<string, number>>();
  for (const row of r.rows) {
    const key = String(row.key);
    let m = out.get(key);
    if (!m) out.set(key, (m = Object.fromEntries(q.metrics.map((x) => [x, 0]))));
    m[String(row.metric)] = Number(row.n);
  }
  return out;
}

/** The keys of one metric and dim with the largest sums over the period, largest first (ties by key). */
export async function topKeys(ctx: Ctx, period: Pick<Period, 'from' | 'to'>, q: { metric: string; dim: string; site?: number | null; limit: number; daily?: boolean }) {
  const rows = rowsOver(period, { ...q, metrics: [q.metric] });
  const r = await ctx.client.execute({
    sql: `SELECT key, sum(value) AS n FROM (${rows.sql}) GROUP BY key HAVING n <> 0 ORDER BY n DESC, key LIMIT ?`,
    args: [...rows.args, q.limit],
  });
  return r.rows.map((row) => ({ key: String(row.key), n: Number(row.n) }));
}

/**
 * A metric's total (dim '' key '') per bucket, summed in the database (a report's answer is a
 * few rows, whatever the hours): an hour counts in the bucket holding its start, as hourIndex
 * says, so a bucket [start, end) takes the hours [ceil(start), ceil(end)).
 */
export async function bucketTotals(ctx: Ctx, bs: Bucket[], q: { metric: string; site?: number | null }): Promise<number[]> {
  const args: InValue[] = [JSON.stringify(bs.map((b) => countedHours({ from: b.start, to: b.end })).map((h) => [h.first, h.end])), q.metric];
  let site = '';
  if (q.site != null) (site = ' AND r.site_id = ?'), args.push(q.site);
  // CROSS JOIN: the buckets lead, each a range of the primary key (metric, dim, hour).
  const r = await ctx.client.execute({
    sql: `SELECT b.key AS i, sum(r.value) AS n FROM json_each(?) b CROSS JOIN rollups r
      WHERE r.metric = ? AND r.dim = '' AND r.hour >= b.value ->> 0 AND r.hour < b.value ->> 1 AND r.key = ''${site}
      GROUP BY b.key`,
    args,
  });
  const out = bs.map(() => 0);
  for (const row of r.rows) out[Number(row.i)] = Number(row.n);
  return out;
}
