// Periods as the reports read them: `from` and `to` are dates (YYYY-MM-DD) in `tz`, both days
// included. The previous period is the same number of days just before.

export const INTERVALS = ['hour', 'day', 'week', 'month'] as const;
export type Interval = (typeof INTERVALS)[number];

export interface Period {
  from: string;
  to: string;
  tz: string;
}

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Today's date in a time zone. */
export function today(tz: string): string {
  try {
    // en-CA writes dates as YYYY-MM-DD.
    return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  } catch {
    return new Date().toISOString().slice(0, 10);
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
export const isDate = (s: string | undefined): s is string => !!s && DATE.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`));

export function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Days from `from` to `to`, both included. */
export const daysIn = (p: Pick<Period, 'from' | 'to'>) => Math.round((Date.parse(`${p.to}T00:00:00Z`) - Date.parse(`${p.from}T00:00:00Z`)) / 86_400_000) + 1;

export function previousPeriod(p: Period): Period {
  const n = daysIn(p);
  return { from: addDays(p.from, -n), to: addDays(p.from, -1), tz: p.tz };
}

export const PRESETS = [
  { id: '7d', label: 'Last 7 days', days: 7 },
  { id: '30d', label: 'Last 30 days', days: 30 },
  { id: '90d', label: 'Last 90 days', days: 90 },
  { id: '365d', label: 'Last 12 months', days: 365 },
] as const;

export function presetPeriod(days: number, tz: string): Period {
  const to = today(tz);
  return { from: addDays(to, -(days - 1)), to, tz };
}

/** A sensible bucket size for a period's length. */
export function intervalFor(p: Pick<Period, 'from' | 'to'>): Interval {
  const n = daysIn(p);
  return n <= 2 ? 'hour' : n <= 92 ? 'day' : n <= 400 ? 'week' : 'month';
}

/** The period in a URL's query, else the last 30 days in the browser's zone. */
export function periodFromQuery(q: Record<string, string | undefined>): Period {
  const tz = q.tz || browserTimeZone();
  if (isDate(q.from) && isDate(q.to) && q.from <= q.to) return { from: q.from, to: q.to, tz };
  return presetPeriod(30, tz);
}

export function timeZones(): string[] {
  try {
    return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    return [];
  }
}
