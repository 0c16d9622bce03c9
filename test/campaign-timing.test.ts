import { describe, it, expect } from 'vitest';
import { waitEnd, type WaitSpec } from '../api/core/campaigns/timing';
import { WEEKDAYS, isTimeZone, localParts, zonedTime } from '../api/core/util/zones';

// All instants are fixed; nothing here reads the wall clock.
const at = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString();
const end = (spec: WaitSpec, from: string, tz: string) => iso(waitEnd(spec, at(from), tz));

const BER = 'Europe/Berlin';
const NY = 'America/New_York';
const tue9to11: WaitSpec = { window: { days: ['tue'], from: '09:00', to: '11:00' } };
const mon9to17: WaitSpec = { window: { days: ['mon'], from: '09:00', to: '17:00' } };

describe('isTimeZone', () => {
  it('accepts IANA names', () => {
    for (const tz of ['Europe/Berlin', 'America/New_York', 'UTC', 'Asia/Kathmandu', 'Etc/GMT+5']) expect(isTimeZone(tz), tz).toBe(true);
  });
  it('rejects everything else without throwing', () => {
    for (const tz of ['', 'Not/AZone', 'Berlin', '+01:00', '-05:00', 'Europe/Berlin\0', '\0\u0001garbage\uffff', 'x'.repeat(10_000)]) {
      expect(isTimeZone(tz), JSON.stringify(tz.slice(0, 20))).toBe(false);
    }
    expect(isTimeZone(undefined as any)).toBe(false);
    expect(isTimeZone(42 as any)).toBe(false);
  });
  it('keeps working after more zones than the formatter cache holds', () => {
    const all = Intl.supportedValuesOf('timeZone');
    expect(all.length).toBeGreaterThan(200);
    for (const tz of all) expect(isTimeZone(tz), tz).toBe(true);
    expect(localParts(at('2026-01-05T09:00:00Z'), BER).hour).toBe(10);
  });
});

describe('localParts', () => {
  it('reads the local calendar and weekday', () => {
    expect(localParts(at('2026-01-05T09:00:00Z'), BER)).toEqual({ year: 2026, month: 1, day: 5, hour: 10, minute: 0, weekday: 'mon' });
    expect(localParts(at('2026-01-01T03:00:00Z'), NY)).toEqual({ year: 2025, month: 12, day: 31, hour: 22, minute: 0, weekday: 'wed' });
    expect(localParts(at('2026-07-06T00:00:00Z'), 'Asia/Kathmandu')).toMatchObject({ hour: 5, minute: 45 });
    expect(localParts(at('2026-01-04T00:00:00Z'), 'UTC')).toMatchObject({ hour: 0, weekday: 'sun' });
  });
  it('uses UTC for an invalid zone', () => {
    expect(localParts(at('2026-01-05T09:07:00Z'), 'Not/AZone')).toEqual({ year: 2026, month: 1, day: 5, hour: 9, minute: 7, weekday: 'mon' });
  });
});

describe('zonedTime', () => {
  it('maps ordinary wall times in winter and summer', () => {
    expect(iso(zonedTime(2026, 1, 5, 10, 0, BER))).toBe('2026-01-05T09:00:00.000Z');
    expect(iso(zonedTime(2026, 7, 6, 10, 0, BER))).toBe('2026-07-06T08:00:00.000Z');
    expect(iso(zonedTime(2026, 1, 5, 10, 0, NY))).toBe('2026-01-05T15:00:00.000Z');
    expect(iso(zonedTime(2026, 7, 6, 10, 0, NY))).toBe('2026-07-06T14:00:00.000Z');
    expect(iso(zonedTime(2026, 7, 6, 10, 0, 'Not/AZone'))).toBe('2026-07-06T10:00:00.000Z');
  });
  it('rolls over out-of-range days like Date.UTC', () => {
    expect(iso(zonedTime(2026, 1, 32, 9, 0, BER))).toBe('2026-02-01T08:00:00.000Z');
    expect(iso(zonedTime(2026, 12, 31, 24, 0, NY))).toBe('2027-01-01T05:00:00.000Z');
  });
  it('moves a wall time inside a spring-forward gap to the end of the gap', () => {
    expect(iso(zonedTime(2026, 3, 8, 2, 30, NY))).toBe('2026-03-08T07:00:00.000Z'); // 03:00 EDT
    expect(iso(zonedTime(2026, 3, 8, 2, 0, NY))).toBe('2026-03-08T07:00:00.000Z');
    expect(iso(zonedTime(2026, 3, 8, 3, 0, NY))).toBe('2026-03-08T07:00:00.000Z');
    expect(iso(zonedTime(2026, 3, 29, 2, 30, BER))).toBe('2026-03-29T01:00:00.000Z'); // 03:00 CEST
    // Lord Howe Island shifts by only 30 minutes: 02:00 → 02:30 (+11:00).
    expect(iso(zonedTime(2026, 10, 4, 2, 15, 'Australia/Lord_Howe'))).toBe('2026-10-03T15:30:00.000Z');
  });
  it('takes the earlier instant of a repeated fall-back wall time', () => {
    expect(iso(zonedTime(2026, 11, 1, 1, 30, NY))).toBe('2026-11-01T05:30:00.000Z'); // 01:30 EDT, not EST
    expect(iso(zonedTime(2026, 10, 25, 2, 30, BER))).toBe('2026-10-25T00:30:00.000Z'); // 02:30 CEST, not CET
    expect(iso(zonedTime(2026, 11, 1, 2, 0, NY))).toBe('2026-11-01T07:00:00.000Z'); // just after: EST only
  });
  it('round-trips every 7 hours of 2026 (all hours of the day) in several zones', () => {
    for (const tz of [BER, NY, 'Australia/Sydney', 'Asia/Kathmandu']) {
      for (let t = at('2026-01-01T00:00:00Z'); t < at('2027-01-01T00:00:00Z'); t += 7 * 3600_000) {
        const p = localParts(t, tz);
        const back = zonedTime(p.year, p.month, p.day, p.hour, p.minute, tz);
        // Equal, or (second pass through a fall-back hour) the earlier of the two instants.
        expect(back === t || back === t - 3600_000, `${tz} ${iso(t)}`).toBe(true);
        expect(localParts(back, tz)).toEqual(p);
      }
    }
  });
});

describe('waitEnd: durations and dates', () => {
  it('adds an absolute duration', () => {
    expect(end({ for: { minutes: 90 } }, '2026-01-05T09:00:00Z', BER)).toBe('2026-01-05T10:30:00.000Z');
    expect(end({ for: { days: 1, hours: 2, minutes: 3 } }, '2026-01-05T09:00:00Z', BER)).toBe('2026-01-06T11:03:00.000Z');
    expect(end({ for: {} }, '2026-01-05T09:00:00Z', BER)).toBe('2026-01-05T09:00:00.000Z');
    // Across the spring-forward weekend a day stays 24 hours: 12:00 CET → 13:00 CEST.
    expect(end({ for: { days: 2 } }, '2026-03-28T11:00:00Z', BER)).toBe('2026-03-30T11:00:00.000Z');
  });
  it('rejects negative or non-finite durations', () => {
    expect(() => waitEnd({ for: { hours: -1 } }, 0, BER)).toThrow(RangeError);
    expect(() => waitEnd({ for: { days: NaN } }, 0, BER)).toThrow(RangeError);
    expect(() => waitEnd({ for: { minutes: Infinity } }, 0, BER)).toThrow(RangeError);
  });
  it('waits until a future instant, or not at all when it has passed', () => {
    expect(end({ until: '2026-02-01T12:00:00Z' }, '2026-01-05T09:00:00Z', BER)).toBe('2026-02-01T12:00:00.000Z');
    expect(end({ until: '2026-02-01T12:00:00.250+02:00' }, '2026-01-05T09:00:00Z', BER)).toBe('2026-02-01T10:00:00.250Z');
    expect(end({ until: '2026-02-01T12:00:00-0530' }, '2026-01-05T09:00:00Z', BER)).toBe('2026-02-01T17:30:00.000Z');
    expect(end({ until: '2025-12-24T18:00:00Z' }, '2026-01-05T09:00:00Z', BER)).toBe('2026-01-05T09:00:00.000Z');
    expect(end({ until: '2026-01-05T09:00:00Z' }, '2026-01-05T09:00:00Z', BER)).toBe('2026-01-05T09:00:00.000Z');
  });
  it('reads a date without offset as the contact’s wall time', () => {
    expect(end({ until: '2026-07-01T09:00' }, '2026-01-05T09:00:00Z', BER)).toBe('2026-07-01T07:00:00.000Z');
    expect(end({ until: '2026-07-01T09:00' }, '2026-01-05T09:00:00Z', NY)).toBe('2026-07-01T13:00:00.000Z');
    expect(end({ until: '2026-07-01' }, '2026-01-05T09:00:00Z', NY)).toBe('2026-07-01T04:00:00.000Z');
    expect(end({ until: '2026-07-01T09:00' }, '2026-01-05T09:00:00Z', 'Not/AZone')).toBe('2026-07-01T09:00:00.000Z');
  });
  it('rejects a date that is not ISO 8601', () => {
    for (const until of ['', 'tomorrow', 'July 1, 2026', '2026-07-01 09:00', '2026-07-01T09:00Zjunk']) {
      expect(() => waitEnd({ until }, 0, BER), until).toThrow(RangeError);
    }
  });
});

describe('waitEnd: windows', () => {
  it('finds next Tuesday 09:00 local, winter and summer, Berlin and New York', () => {
    // Mondays 10:00 local.
    expect(end(tue9to11, '2026-01-05T09:00:00Z', BER)).toBe('2026-01-06T08:00:00.000Z');
    expect(end(tue9to11, '2026-07-06T08:00:00Z', BER)).toBe('2026-07-07T07:00:00.000Z');
    expect(end(tue9to11, '2026-01-05T15:00:00Z', NY)).toBe('2026-01-06T14:00:00.000Z');
    expect(end(tue9to11, '2026-07-06T14:00:00Z', NY)).toBe('2026-07-07T13:00:00.000Z');
  });
  it('proceeds immediately when already inside the window', () => {
    expect(end(tue9to11, '2026-01-06T09:30:00Z', BER)).toBe('2026-01-06T09:30:00.000Z'); // 10:30 CET
    expect(end(tue9to11, '2026-01-06T08:00:00Z', BER)).toBe('2026-01-06T08:00:00.000Z'); // 09:00 sharp
    expect(end(tue9to11, '2026-01-06T09:59:59Z', BER)).toBe('2026-01-06T09:59:59.000Z'); // 10:59:59
  });
  it('waits for a window later the same day', () => {
    expect(end(tue9to11, '2026-01-06T06:00:00Z', BER)).toBe('2026-01-06T08:00:00.000Z'); // 07:00 CET
    expect(end(tue9to11, '2026-07-07T12:59:00Z', NY)).toBe('2026-07-07T13:00:00.000Z'); // 08:59 EDT
  });
  it('excludes the window end and moves to the next allowed day', () => {
    expect(end(tue9to11, '2026-01-06T10:00:00Z', BER)).toBe('2026-01-13T08:00:00.000Z'); // 11:00 CET
    const weekdays: WaitSpec = { window: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' } };
    expect(end(weekdays, '2026-01-06T16:00:00Z', BER)).toBe('2026-01-07T08:00:00.000Z'); // Tue 17:00 → Wed
    expect(end(weekdays, '2026-01-09T22:00:00Z', NY)).toBe('2026-01-12T14:00:00.000Z'); // Fri 17:00 → Mon
  });
  it('crosses month and year ends', () => {
    expect(end(tue9to11, '2026-12-30T12:00:00Z', BER)).toBe('2027-01-05T08:00:00.000Z');
  });
  it('keeps 09:00 local across the European DST weekends', () => {
    // Saturday 12:00 CET → Monday 09:00 CEST, and Saturday 12:00 CEST → Monday 09:00 CET.
    expect(end(mon9to17, '2026-03-28T11:00:00Z', BER)).toBe('2026-03-30T07:00:00.000Z');
    expect(end(mon9to17, '2026-10-24T10:00:00Z', BER)).toBe('2026-10-26T08:00:00.000Z');
  });
  it('keeps 09:00 local across the US DST weekends', () => {
    expect(end(mon9to17, '2026-03-07T17:00:00Z', NY)).toBe('2026-03-09T13:00:00.000Z');
    expect(end(mon9to17, '2026-10-31T16:00:00Z', NY)).toBe('2026-11-02T14:00:00.000Z');
  });
  it('opens a window that starts in the spring-forward gap at the end of the gap', () => {
    const sun0230: WaitSpec = { window: { days: ['sun'], from: '02:30', to: '04:00' } };
    expect(end(sun0230, '2026-03-07T17:00:00Z', NY)).toBe('2026-03-08T07:00:00.000Z'); // Sat noon → Sun 03:00 EDT
    expect(end(sun0230, '2026-03-08T06:59:00Z', NY)).toBe('2026-03-08T07:00:00.000Z'); // 01:59 EST
    expect(end(sun0230, '2026-03-08T07:15:00Z', NY)).toBe('2026-03-08T07:15:00.000Z'); // 03:15 EDT: inside
    expect(end(sun0230, '2026-03-08T08:00:00Z', NY)).toBe('2026-03-15T06:30:00.000Z'); // 04:00 EDT: next week
    // A window entirely inside the gap does not exist that day.
    const sunGap: WaitSpec = { window: { days: ['sun'], from: '02:00', to: '02:45' } };
    expect(end(sunGap, '2026-03-07T17:00:00Z', NY)).toBe('2026-03-15T06:00:00.000Z');
  });
  it('judges "inside" on the local clock during a repeated fall-back hour', () => {
    const sun0100: WaitSpec = { window: { days: ['sun'], from: '01:00', to: '01:30' } };
    expect(end(sun0100, '2026-11-01T05:15:00Z', NY)).toBe('2026-11-01T05:15:00.000Z'); // 01:15 EDT
    expect(end(sun0100, '2026-11-01T06:15:00Z', NY)).toBe('2026-11-01T06:15:00.000Z'); // 01:15 EST
    expect(end(sun0100, '2026-10-31T16:00:00Z', NY)).toBe('2026-11-01T05:00:00.000Z'); // earlier 01:00
  });
  it('treats an invalid zone as UTC', () => {
    expect(end(tue9to11, '2026-01-05T10:00:00Z', 'Not/AZone')).toBe('2026-01-06T09:00:00.000Z');
    expect(end(tue9to11, '2026-07-06T10:00:00Z', '')).toBe('2026-07-07T09:00:00.000Z');
    expect(end(tue9to11, '2026-07-06T10:00:00Z', 'Europe/Berlin\0')).toBe('2026-07-07T09:00:00.000Z');
  });
  it('allows 24:00 as the end of the day', () => {
    const late: WaitSpec = { window: { days: ['sun'], from: '20:00', to: '24:00' } };
    expect(end(late, '2026-01-04T22:59:00Z', BER)).toBe('2026-01-04T22:59:00.000Z'); // Sun 23:59 CET
    expect(end(late, '2026-01-04T12:00:00Z', BER)).toBe('2026-01-04T19:00:00.000Z');
  });
  it('rejects malformed windows', () => {
    const bad = (from: string, to: string, days = [...WEEKDAYS]) => () => waitEnd({ window: { days, from, to } }, 0, BER);
    expect(bad('11:00', '09:00')).toThrow(RangeError);
    expect(bad('09:00', '09:00')).toThrow(RangeError);
    expect(bad('9:00', '11:00')).toThrow(RangeError);
    expect(bad('09:60', '11:00')).toThrow(RangeError);
    expect(bad('09:00', '24:01')).toThrow(RangeError);
    expect(bad('09:00', '11:00', [])).toThrow(RangeError);
    expect(bad('09:00', '11:00', ['funday' as any])).toThrow(RangeError);
  });
});
