import type { InValue } from '@libsql/client';
import type { Ctx } from '../../context';
import { HOUR, type Bucket, type Period } from '../query';

/**
 * The rollup hours a report counts: those starting within the period, [first, end). It is the
 * rule of hourIndex (an hour counts in the bucket holding its start), so totals and series agree.
 */
export const countedHours = (p: Pick<Period, 'from' | 'to'>) => ({ first: Math.ceil(p.from / HOUR), end: Math.ceil(p.to / HOUR) });

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/**
 * Sums of rollups over the period, per metric and key of one dim (optionally one site, and
 * only some keys): a range of the primary key (metric, dim, hour, …) per metric.
 * Answers key → metric → sum.
 */
export async function sumRollups(
  ctx: Ctx,
  period: Pick<Period, 'from' | 'to'>,
  q: { metrics: readonly string[]; dim: string; site?: number | null; order?: { metric: string; limit: number } },
): Promise<Map<string, Record<string, number>>> {
  const { first, end } = countedHours(period);
  const args: InValue[] = [...q.metrics, q.dim, first, end];
  let where = `metric IN (${placeholders(q.metrics.length)}) AND dim = ? AND hour >= ? AND hour < ?`;
  if (q.site != null) (where += ' AND site_id = ?'), args.push(q.site);
  const r = await ctx.client.execute({ sql: `SELECT metric, key, sum(value) AS n FROM rollups WHERE ${where} GROUP BY metric, key`, args });
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
export async function topKeys(ctx: Ctx, period: Pick<Period, 'from' | 'to'>, q: { metric: string; dim: string; site?: number | null; limit: number }) {
  const { first, end } = countedHours(period);
  const args: InValue[] = [q.metric, q.dim, first, end];
  let where = 'metric = ? AND dim = ? AND hour >= ? AND hour < ?';
  if (q.site != null) (where += ' AND site_id = ?'), args.push(q.site);
  const r = await ctx.client.execute({
    sql: `SELECT key, sum(value) AS n FROM rollups WHERE ${where} GROUP BY key ORDER BY n DESC, key LIMIT ?`,
    args: [...args, q.limit],
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
