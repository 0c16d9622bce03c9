import { z } from 'zod';
import type { Ctx } from '../context';
import { csvCell } from '../contacts/csv';
import { CommonQuery, readPeriod, type Filter, type Interval, type Period } from './query';

// One shape for every report: GET /api/v1/reports/{name} answers
//   { report, from, to, tz, interval, columns: [{ key, type, description }], rows: [{…}], totals: {…} }
// and the same table as CSV (Accept: text/csv). A report is declared once (ReportDef) and the
// route, the OpenAPI schemas and the CSV all come from that declaration.

export type ColumnType = 'string' | 'integer' | 'number' | 'datetime' | 'date';

export interface Column {
  key: string;
  type: ColumnType;
  description: string;
}

export interface ReportDef<P extends z.ZodObject = z.ZodObject, R extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  /** OpenAPI tag and summary; the description says what each figure means. */
  tag: string;
  summary: string;
  description: string;
  /** Which common filters apply; the route takes only those (an unknown query parameter is a 400). */
  filters: readonly Filter[];
  /** The interval when the query names none (with the 'interval' filter; default day). */
  defaultInterval?: Interval;
  /** Query parameters of this report beyond the common ones. */
  params: P;
  columns: readonly Column[];
  /** Which columns totals has (defaults: none). */
  totals?: readonly string[];
  run(ctx: Ctx, period: Period, params: z.output<P>): Promise<{ rows: R[]; totals: Partial<R> }>;
}

/** `limit` of the list reports: 1–1000 rows, 100 by default (the totals still cover every row). */
export const LimitParam = z
  .string()
  .regex(/^[1-9][0-9]{0,3}$/, 'must be a whole number from 1 to 1000')
  .transform(Number)
  .refine((n) => n <= 1000, 'must be a whole number from 1 to 1000')
  .optional()
  .describe('How many rows at most (1–1000, default 100); the totals cover every row.');

/** Declares a report (the identity function, for the types). */
export const defineReport = <P extends z.ZodObject, R extends Record<string, unknown>>(def: ReportDef<P, R>): ReportDef<P, R> => def;

export interface ReportResult {
  report: string;
  from: string;
  to: string;
  tz: string;
  interval: string | null;
  columns: Column[];
  rows: Record<string, unknown>[];
  totals: Record<string, unknown>;
}

const COMMON_KEYS: Record<Filter, (keyof typeof CommonQuery.shape)[]> = {
  interval: ['interval'],
  site: ['site'],
  segment: ['segment'],
  utm: ['utm_source', 'utm_medium', 'utm_campaign'],
};

/** The query schema of one report: the period, the filters it takes, its own parameters. */
export function reportQuery(def: ReportDef) {
  const pick: Record<string, true> = { from: true, to: true, tz: true };
  for (const f of def.filters) for (const k of COMMON_KEYS[f]) pick[k] = true;
  const own = def.defaultInterval && def.filters.includes('interval')
    ? { interval: CommonQuery.shape.interval.describe(`Bucket size of the time series: hour, day, week (from Monday) or month (default ${def.defaultInterval}).`) }
    : {};
  return CommonQuery.pick(pick as never).extend({ ...own, ...def.params.shape });
}

/** Runs a report on an already validated query (the route's schema). */
export async function runReport(ctx: Ctx, def: ReportDef, query: Record<string, unknown>): Promise<ReportResult> {
  const q = def.defaultInterval && query.interval === undefined ? { ...query, interval: def.defaultInterval } : query;
  const period = readPeriod(q as z.output<typeof CommonQuery>, ctx.now());
  // Already parsed by the route's schema (reportQuery): parsing again would feed a transform's output to its input.
  const params = Object.fromEntries(Object.keys(def.params.shape).map((k) => [k, query[k]])) as z.output<typeof def.params>;
  const { rows, totals } = await def.run(ctx, period, params);
  return {
    report: def.name,
    from: new Date(period.from).toISOString(),
    to: new Date(period.to).toISOString(),
    tz: period.tz,
    interval: def.filters.includes('interval') ? period.interval : null,
    columns: [...def.columns],
    rows,
    totals,
  };
}

/**
 * The report as CSV: a header of column keys, one line per row, then a `total` line when the
 * report has totals (its first cell says "total"). Formula-like cells are defused.
 */
export function reportCsv(r: ReportResult): string {
  const keys = r.columns.map((c) => c.key);
  const lines = [keys.join(',')];
  for (const row of r.rows) lines.push(keys.map((k) => csvCell(row[k])).join(','));
  if (Object.keys(r.totals).length) lines.push(keys.map((k, i) => (i === 0 ? 'total' : csvCell(r.totals[k]))).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** The zod schema of a report's answer, for OpenAPI (rows typed from the columns). */
export function reportSchema(def: ReportDef) {
  const cell = (c: Column) => {
    const base =
      c.type === 'integer' ? z.number().int()
      : c.type === 'number' ? z.number()
      : c.type === 'datetime' ? z.string().meta({ format: 'date-time' })
      : c.type === 'date' ? z.string().meta({ format: 'date' })
      : z.string();
    return base.nullable().describe(c.description);
  };
  const row = z.object(Object.fromEntries(def.columns.map((c) => [c.key, cell(c)])));
  const totals = z.object(Object.fromEntries(def.columns.filter((c) => def.totals?.includes(c.key)).map((c) => [c.key, cell(c)])));
  return z.object({
    report: z.literal(def.name),
    from: z.string(),
    to: z.string(),
    tz: z.string(),
    interval: z.string().nullable(),
    columns: z.array(z.object({ key: z.string(), type: z.enum(['string', 'integer', 'number', 'datetime', 'date']), description: z.string() })),
    rows: z.array(row),
    totals,
  });
}
