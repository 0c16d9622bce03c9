import { describe, expect, it } from 'vitest';
import { ValidationError } from '../api/core/errors';
import { buckets, bucketStart, CommonQuery, hourIndex, HOUR, percentile, readPeriod } from '../api/core/reports/query';
import { reportCsv } from '../api/core/reports/report';
import { wantsCsv } from '../api/routes/reports/reports';

// The one report interface: periods and intervals in a time zone, and CSV. The reports
// themselves are tested in test/reports-*.test.ts.

const at = (iso: string) => Date.parse(iso);
const period = (q: Record<string, string>, now = at('2026-11-25T15:00:00Z')) => readPeriod(CommonQuery.parse(q), now);
const iso = (ms: number) => new Date(ms).toISOString();

describe('a report period', () => {
  it('defaults to the 30 days before the end of today, in the zone asked for', () => {
    const p = period({ tz: 'Europe/Berlin' });
    // Today in Berlin is 2026-11-25 (UTC+1): it ends at 2026-11-25T23:00Z.
    expect(iso(p.to)).toBe('2026-11-25T23:00:00.000Z');
    expect(iso(p.from)).toBe('2026-10-26T23:00:00.000Z');
    expect(p.interval).toBe('day');
  });

  it('reads dates as local midnights and a `to` date as the whole day', () => {
    const p = period({ from: '2026-03-01', to: '2026-03-31', tz: 'America/New_York' });
    expect(iso(p.from)).toBe('2026-03-01T05:00:00.000Z'); // EST, UTC-5
    expect(iso(p.to)).toBe('2026-04-01T04:00:00.000Z'); // EDT since 8 March, UTC-4
  });

  it('takes date-times with an offset as instants', () => {
    const p = period({ from: '2026-06-01T10:30:00+02:00', to: '2026-06-02T00:00:00Z' });
    expect(iso(p.from)).toBe('2026-06-01T08:30:00.000Z');
  });

  it.each([
    [{ tz: 'Mars/Olympus' }, 'tz'],
    [{ tz: '+01:00' }, 'tz'],
    [{ from: '2026-02-30' }, 'from'],
    [{ from: '2026-13-01' }, 'from'],
    [{ from: '01/02/2026' }, 'from'],
    [{ from: '2026-06-01T10:00:00' }, 'from'], // no offset: ambiguous, refused
    [{ from: '2026-06-02', to: '2026-06-01' }, 'from'],
    [{ from: '2010-01-01', to: '2026-01-01' }, 'to'],
    [{ from: '2026-01-01', to: '2026-12-31', interval: 'hour' }, 'interval'],
  ])('refuses %j naming %s', (q, field) => {
    let err: unknown;
    try {
      period(q as Record<string, string>);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).details?.[0]?.field).toBe(field);
  });
});

describe('buckets', () => {
  it('cut local days of 23 and 25 hours across the DST changes (Europe/Berlin)', () => {
    const spring = buckets(period({ from: '2026-03-28', to: '2026-03-30', tz: 'Europe/Berlin' }));
    expect(spring.map((b) => (b.end - b.start) / HOUR)).toEqual([24, 23, 24]);
    expect(iso(spring[1]!.start)).toBe('2026-03-28T23:00:00.000Z');
    const autumn = buckets(period({ from: '2026-10-24', to: '2026-10-26', tz: 'Europe/Berlin' }));
    expect(autumn.map((b) => (b.end - b.start) / HOUR)).toEqual([24, 25, 24]);
  });

  it('start weeks on Monday and months on the 1st, clipped to the period', () => {
    // 2026-11-25 is a Wednesday.
    const weeks = buckets(period({ from: '2026-11-25', to: '2026-12-08', interval: 'week' }));
    expect(weeks.map((b) => iso(b.start))).toEqual(['2026-11-25T00:00:00.000Z', '2026-11-30T00:00:00.000Z', '2026-12-07T00:00:00.000Z']);
    expect(iso(weeks[2]!.end)).toBe('2026-12-09T00:00:00.000Z');
    const months = buckets(period({ from: '2026-01-15', to: '2026-03-10', interval: 'month', tz: 'Asia/Tokyo' }));
    expect(months.map((b) => iso(b.start))).toEqual(['2026-01-14T15:00:00.000Z', '2026-01-31T15:00:00.000Z', '2026-02-28T15:00:00.000Z']);
  });

  it('put each rollup hour in the local day that holds its start', () => {
    const bs = buckets(period({ from: '2026-10-24', to: '2026-10-26', tz: 'Europe/Berlin' }));
    const idx = hourIndex(bs);
    const hour = (s: string) => Math.floor(at(s) / HOUR);
    expect(idx(hour('2026-10-24T21:59:00Z'))).toBe(0); // 23:59 CEST on the 24th
    expect(idx(hour('2026-10-24T22:00:00Z'))).toBe(1); // 00:00 CEST on the 25th
    expect(idx(hour('2026-10-25T22:59:00Z'))).toBe(1); // 23:59 CET on the 25th (the 25-hour day)
    expect(idx(hour('2026-10-25T23:00:00Z'))).toBe(2);
    expect(idx(hour('2026-10-23T21:00:00Z'))).toBe(-1);
    expect(idx(hour('2026-10-26T23:00:00Z'))).toBe(-1);
  });

  it('start local hours where the zone starts them (UTC+5:30)', () => {
    expect(iso(bucketStart(at('2026-06-01T10:10:00Z'), 'hour', 'Asia/Kolkata'))).toBe('2026-06-01T09:30:00.000Z');
  });
});

describe('CSV', () => {
  const result = {
    report: 'x',
    from: '',
    to: '',
    tz: 'UTC',
    interval: null,
    columns: [
      { key: 'key', type: 'string' as const, description: '' },
      { key: 'n', type: 'integer' as const, description: '' },
    ],
    rows: [
      { key: 'a, "quoted"', n: 1 },
      { key: '=HYPERLINK("x")', n: 2 },
      { key: null, n: null },
    ],
    totals: { n: 3 },
  };

  it('writes the header, quoted cells, defused formulas and a total line', () => {
    expect(reportCsv(result)).toBe('key,n\r\n"a, ""quoted""",1\r\n"\'=HYPERLINK(""x"")",2\r\n,\r\ntotal,3\r\n');
  });

  it('is chosen by Accept when text/csv is preferred', () => {
    expect(wantsCsv('text/csv')).toBe(true);
    expect(wantsCsv('application/json, text/csv;q=0.5')).toBe(false);
    expect(wantsCsv('application/json;q=0.2, text/csv')).toBe(true);
    expect(wantsCsv('*/*')).toBe(false);
    expect(wantsCsv(undefined)).toBe(false);
    expect(wantsCsv('text/csv;q=0')).toBe(false);
  });
});

it('percentile uses the nearest rank', () => {
  expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3);
  expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
  expect(percentile([], 0.5)).toBeNull();
});
