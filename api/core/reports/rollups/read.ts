import type { InValue } from '@libsql/client';
import type { Ctx } from '../../context';
import { HOUR, type Period } from '../query';

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

/** A metric's total (dim '' key '') per rollup hour over the period. */
export async function hourlyTotals(ctx: Ctx, period: Pick<Period, 'from' | 'to'>, q: { metric: string; site?: number | null }): Promise<{ hour: number; n: number }[]> {
  const { first, end } = countedHours(period);
  const args: InValue[] = [q.metric, first, end];
  let where = "metric = ? AND dim = '' AND hour >= ? AND hour < ? AND key = ''";
  if (q.site != null) (where += ' AND site_id = ?'), args.push(q.site);
  const r = await ctx.client.execute({ sql: `SELECT hour, sum(value) AS n FROM rollups WHERE ${where} GROUP BY hour`, args });
  return r.rows.map((row) => ({ hour: Number(row.hour), n: Number(row.n) }));
}
