// Time zones with the platform's Intl only (Node and Cloudflare Workers alike): no tz database of
// our own, no dependencies. All instants are epoch milliseconds. Campaign waits and reports
// (buckets in the reader's zone) both work through these.

const DAY = 86_400_000;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

// Building a DateTimeFormat is expensive, so keep one per zone. Only valid zones are cached and
// the map is capped (oldest entry evicted first), so hostile input cannot grow it.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat | null {
  const hit = formatters.get(timeZone);
  if (hit) return hit;
  // Newer runtimes accept offsets such as "+01:00" as zones, older ones do not; we want IANA
  // names only and the same answer everywhere.
  if (typeof timeZone !== 'string' || timeZone === '' || /^[+-]/.test(timeZone)) return null;
  let f: Intl.DateTimeFormat;
  try {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', weekday: 'short',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
  } catch {
    return null;
  }
  if (formatters.size >= 200) formatters.delete(formatters.keys().next().value!);
  formatters.set(timeZone, f);
  return f;
}

/** The formatter for `timeZone`, or UTC's when the zone is not valid. */
const zone = (timeZone: string) => formatter(timeZone) ?? formatter('UTC')!;

export function isTimeZone(tz: string): boolean {
  return formatter(tz) !== null;
}

/** Local calendar fields of instant `t` in `f`'s zone (seconds included, for offset maths). */
function fields(t: number, f: Intl.DateTimeFormat) {
  const p: Record<string, string> = {};
  for (const { type, value } of f.formatToParts(t)) p[type] = value;
  return {
    year: +p.year, month: +p.month, day: +p.day, hour: +p.hour % 24, minute: +p.minute, second: +p.second,
    weekday: p.weekday.toLowerCase() as Weekday,
  };
}

/** The local wall clock at `t`, expressed as if it were a UTC timestamp. */
function wall(t: number, f: Intl.DateTimeFormat): number {
  const p = fields(t, f);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) + (((t % 1000) + 1000) % 1000);
}

export function localParts(t: number, timeZone: string) {
  const { second: _, ...rest } = fields(t, zone(timeZone));
  return rest;
}

/**
 * Local wall time → instant. Out-of-range fields roll over like Date.UTC (day 32 is the 1st of
 * the next month, hour 24 is next midnight). A wall time skipped by a spring-forward gap maps to
 * the first instant after the gap; one repeated by a fall-back maps to the earlier instant.
 */
export function zonedTime(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number {
  const f = zone(timeZone);
  const w = Date.UTC(year, month - 1, day, hour, minute);
  // The offsets in force a day either side bracket any single transition near `w`.
  const a = w - (wall(w - DAY, f) - (w - DAY));
  const b = w - (wall(w + DAY, f) - (w + DAY));
  const fits = [a, b].filter((t) => wall(t, f) === w);
  if (fits.length) return Math.min(...fits);
  // In a gap: find the first second whose wall clock has reached `w`, i.e. the transition.
  let lo = Math.min(a, b);
  let hi = Math.max(a, b);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (wall(mid, f) >= w) hi = mid;
    else lo = mid;
  }
  return hi;
}
