// When does a campaign "wait" step end? Everything here works in the contact's own IANA time
// zone and only uses the platform's Intl (Node and Cloudflare Workers alike): no tz database of
// our own, no dependencies. All instants are epoch milliseconds.

import { WEEKDAYS, localParts, zonedTime, type Weekday } from '../util/zones';


export type WaitSpec =
  | { for: { days?: number; hours?: number; minutes?: number } } // absolute duration from `from`
  | { until: string } // ISO 8601 instant; if already past, ends at `from`
  | { window: { days: Weekday[]; from: string; to: string } }; // "HH:MM" local, to > from

const MINUTE = 60_000;

/** "HH:MM" → minutes after local midnight (0..1440; "24:00" is allowed as a window end). */
function hhmm(s: string): number {
  const m = /^(\d\d):(\d\d)$/.exec(s);
  const v = m ? +m[1] * 60 + +m[2] : NaN;
  if (!m || +m[2] > 59 || v > 1440) throw new RangeError(`wait window: bad time "${s}"`);
  return v;
}

/**
 * Epoch ms at which the wait ends; never before `from`. An invalid `timeZone` is treated as UTC.
 * A malformed spec (negative or non-finite duration, unparseable date, bad or empty window)
 * throws RangeError: specs should be validated when the campaign is saved.
 */
export function waitEnd(spec: WaitSpec, from: number, timeZone: string): number {
  if ('for' in spec) {
    // Absolute time: a "day" is 24 hours even across a DST change.
    const { days = 0, hours = 0, minutes = 0 } = spec.for;
    const ms = ((days * 24 + hours) * 60 + minutes) * MINUTE;
    if (!Number.isFinite(ms) || days < 0 || hours < 0 || minutes < 0) throw new RangeError('wait: bad duration');
    return from + ms;
  }
  if ('until' in spec) {
    // Parsed by hand: Date.parse takes many non-ISO forms and reads an offset-less date-time in
    // the host's zone. Here an offset-less value is wall time in the contact's zone.
    const m = /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?(Z|([+-])(\d\d):?(\d\d))?$/i.exec(spec.until);
    if (!m) throw new RangeError(`wait: bad date "${spec.until}"`);
    const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', z, sign, oh, om] = m;
    const extra = +s * 1000 + +frac.padEnd(3, '0').slice(0, 3);
    const t = z
      ? Date.UTC(+y, +mo - 1, +d, +h, +mi) + extra - (sign === '-' ? -1 : 1) * (+(oh ?? 0) * 60 + +(om ?? 0)) * MINUTE
      : zonedTime(+y, +mo, +d, +h, +mi, timeZone) + extra;
    return Math.max(t, from);
  }
  const { days, from: start, to: end } = spec.window;
  const [a, b] = [hhmm(start), hhmm(end)];
  if (a >= b) throw new RangeError('wait window: "to" must be later than "from"');
  const allowed = new Set<string>(days);
  const now = localParts(from, timeZone);
  const minute = now.hour * 60 + now.minute;
  // Inside the window right now (judged on the local clock): proceed.
  if (allowed.has(now.weekday) && minute >= a && minute < b) return from;
  // Otherwise the next allowed day whose window opens after `from`. A start inside a DST gap
  // moves to the end of the gap; if that is not before the window's end, the window is skipped.
  const today = WEEKDAYS.indexOf(now.weekday);
  for (let i = 0; i <= 8; i++) {
    if (!allowed.has(WEEKDAYS[(today + i) % 7])) continue;
    const day = now.day + i; // rolls over into the next month via Date.UTC
    const opens = zonedTime(now.year, now.month, day, Math.floor(a / 60), a % 60, timeZone);
    const closes = zonedTime(now.year, now.month, day, Math.floor(b / 60), b % 60, timeZone);
    if (opens > from && opens < closes) return opens;
  }
  throw new RangeError('wait window: no allowed day');
}
