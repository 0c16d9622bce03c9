import { z } from 'zod';
import { ValidationError } from '../errors';
import { isTimeZone, localParts, zonedTime } from '../util/zones';

// What every report is asked: a period in a time zone, cut into intervals, and the common
// filters. A report takes the filters that make sense for it (its route lists only those).

export const HOUR = 3_600_000;
export const DAY = 86_400_000;
export const INTERVALS = ['hour', 'day', 'week', 'month'] as const;
export type Interval = (typeof INTERVALS)[number];

// Bounds that keep one report's work bounded: five years of range, 2,000 buckets.
const MAX_RANGE = 5 * 366 * DAY;
const MAX_BUCKETS = 2000;

const DATE_ONLY = /^(\d{4})-(\d\d)-(\d\d)$/;
const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d)$/;

const id = z.string().regex(/^[1-9][0-9]{0,15}$/, 'must be a positive whole number').transform(Number);
const text = z.string().min(1).max(200).refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters');

/** The query parameters every report can take; a report picks its subset (see ReportDef.filters). */
export const CommonQuery = z.object({
  from: z.string().max(40).optional().describe('Start: a date (local midnight in `tz`) or an ISO date-time with an offset. Default: 30 days before `to`.'),
  to: z.string().max(40).optional().describe('End, exclusive for a date-time; a date includes that whole day. Default: the end of today in `tz`.'),
  tz: z.string().max(64).optional().describe('IANA time zone the dates and intervals are read in (default UTC), e.g. Europe/Berlin.'),
  interval: z.enum(INTERVALS).optional().describe('Bucket size of a time series: hour, day (default), week (from Monday) or month.'),
  site: id.optional().describe('Only this site (id from GET /api/v1/sites).'),
  segment: id.optional().describe('Only contacts in this segment (as it is now).'),
  utm_source: text.optional().describe('Only visits (or contacts first touched) with this utm_source.'),
  utm_medium: text.optional().describe('Only visits (or contacts first touched) with this utm_medium.'),
  utm_campaign: text.optional().describe('Only visits (or contacts first touched) with this utm_campaign.'),
});
export type CommonQueryInput = z.input<typeof CommonQuery>;

export type Filter = 'site' | 'segment' | 'utm' | 'interval';

export interface Period {
  /** Inclusive start and exclusive end, epoch ms. */
  from: number;
  to: number;
  tz: string;
  interval: Interval;
  site: number | null;
  segment: number | null;
  utm: { source: string | null; medium: string | null; campaign: string | null };
}

function parseBound(value: string, tz: string, field: 'from' | 'to'): number {
  const d = DATE_ONLY.exec(value);
  if (d) {
    const [y, m, day] = [+d[1]!, +d[2]!, +d[3]!];
    const check = new Date(Date.UTC(y, m - 1, day));
    if (check.getUTCMonth() !== m - 1 || check.getUTCDate() !== day) throw new ValidationError([{ field, message: 'is not a calendar date' }]);
    // A date means its local midnight; `to` as a date includes that whole day.
    return zonedTime(y, m, day + (field === 'to' ? 1 : 0), 0, 0, tz);
  }
  const ms = DATE_TIME.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw new ValidationError([{ field, message: 'must be a date (2026-06-01) or an ISO date-time with an offset (2026-06-01T00:00:00Z)' }]);
  return ms;
}

/** Local midnight at the start of the day holding `t`. */
function startOfDay(t: number, tz: string): number {
  const p = localParts(t, tz);
  return zonedTime(p.year, p.month, p.day, 0, 0, tz);
}

/** Reads and checks the common part of a report query. */
export function readPeriod(q: z.output<typeof CommonQuery>, now: number): Period {
  const tz = q.tz ?? 'UTC';
  if (!isTimeZone(tz)) throw new ValidationError([{ field: 'tz', message: 'must be an IANA time zone such as Europe/Berlin' }]);
  const to = q.to ? parseBound(q.to, tz, 'to') : nextBucket(startOfDay(now, tz), 'day', tz);
  const from = q.from ? parseBound(q.from, tz, 'from') : startOfDay(to - 30 * DAY, tz);
  if (!(from < to)) throw new ValidationError([{ field: 'from', message: 'must be before `to`' }]);
  if (to - from > MAX_RANGE) throw new ValidationError([{ field: 'to', message: 'the range may span at most five years' }]);
  const interval = q.interval ?? 'day';
  const period: Period = {
    from,
    to,
    tz,
    interval,
    site: q.site ?? null,
    segment: q.segment ?? null,
    utm: { source: q.utm_source ?? null, medium: q.utm_medium ?? null, campaign: q.utm_campaign ?? null },
  };
  if (q.interval && bucketCount(period) > MAX_BUCKETS) {
    throw new ValidationError([{ field: 'interval', message: `this range has more than ${MAX_BUCKETS} ${interval}s; pick a larger interval or a shorter range` }]);
  }
  return period;
}

function bucketCount(p: Period): number {
  const approx = { hour: HOUR, day: DAY, week: 7 * DAY, month: 28 * DAY }[p.interval];
  return Math.ceil((p.to - p.from) / approx) + 1;
}

/** The start of the interval holding `t`, in the period's zone (weeks start on Monday). */
export function bucketStart(t: number, interval: Interval, tz: string): number {
  if (interval === 'hour') {
    // Local hours: in a zone whose offset is not whole hours they start at :30 or :45 UTC.
    const p = localParts(t, tz);
    const s = zonedTime(p.year, p.month, p.day, p.hour, 0, tz);
    return s <= t ? s : s - HOUR;
  }
  const p = localParts(t, tz);
  if (interval === 'day') return zonedTime(p.year, p.month, p.day, 0, 0, tz);
  if (interval === 'month') return zonedTime(p.year, p.month, 1, 0, 0, tz);
  const back = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].indexOf(p.weekday);
  return zonedTime(p.year, p.month, p.day - back, 0, 0, tz);
}

/** The start of the interval after the one starting at `start`. */
function nextBucket(start: number, interval: Interval, tz: string): number {
  if (interval === 'hour') return start + HOUR;
  const p = localParts(start, tz);
  if (interval === 'day') return zonedTime(p.year, p.month, p.day + 1, 0, 0, tz);
  if (interval === 'week') return zonedTime(p.year, p.month, p.day + 7, 0, 0, tz);
  return zonedTime(p.year, p.month + 1, 1, 0, 0, tz);
}

export interface Bucket {
  start: number;
  end: number;
}

/**
 * The period cut into local intervals; the first and last are clipped to the period. A local
 * day is 23 or 25 hours long across a DST change, and each bucket is exactly its wall-clock span.
 */
export function buckets(p: Period): Bucket[] {
  const out: Bucket[] = [];
  let s = bucketStart(p.from, p.interval, p.tz);
  while (s < p.to && out.length <= MAX_BUCKETS) {
    const e = nextBucket(s, p.interval, p.tz);
    out.push({ start: Math.max(s, p.from), end: Math.min(e, p.to) });
    s = e;
  }
  return out;
}

/** The index of the bucket holding instant `t` (buckets are contiguous and sorted), or -1. */
export function bucketIndex(bs: Bucket[]): (t: number) => number {
  return (t: number) => {
    if (!bs.length || t < bs[0]!.start || t >= bs[bs.length - 1]!.end) return -1;
    let lo = 0;
    let hi = bs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (bs[mid]!.start <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
}

/**
 * Which bucket each rollup hour belongs to: hour h (UTC, epoch ms / HOUR) counts in the bucket
 * holding its start. In whole-hour zones that is exact, DST included; in zones offset by :30 or
 * :45 a local day's edges move by that much.
 */
export function hourIndex(bs: Bucket[]): (hour: number) => number {
  const at = bucketIndex(bs);
  return (hour: number) => at(hour * HOUR);
}

/** The rollup hours a period covers: [first, last). */
export const hourRange = (p: Pick<Period, 'from' | 'to'>) => ({ first: Math.floor(p.from / HOUR), end: Math.ceil(p.to / HOUR) });

/** A share rounded to four places; null when there is nothing to divide by. */
export const share = (n: number, of: number): number | null => (of ? Math.round((n / of) * 10_000) / 10_000 : null);

/** Median and p90 (nearest rank) of numbers, null when empty. */
export function percentile(xs: number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}
