import { z } from 'zod';
import { defineReport } from './report';
import { buckets } from './query';
import { METRIC } from './rollups/metrics';
import { bucketTotals } from './rollups/read';
import { bounceRate, sessionFilter, viewsPerSession, visitStats, type VisitCounts } from './visits';

const row = (bucket: string | undefined, c: VisitCounts, pageviews: number) => ({
  ...(bucket !== undefined && { bucket }),
  visitors: c.visitors,
  sessions: c.sessions,
  pageviews,
  bounce_rate: bounceRate(c),
  views_per_session: viewsPerSession(c),
});

export const trafficReport = defineReport({
  name: 'traffic',
  tag: 'Reports',
  summary: 'Traffic over time: visitors, visits, page views, bounce rate',
  description:
    'Per interval of the period (in `tz`), what the sites carrying the tag received. A visit (session) is a visitor\'s run of page views ' +
    'with less than 30 minutes between one and the next; it counts in the interval where it started. Page views sent without a visitor ' +
    '(consent mode, before consent) count as page views but make no visit. With a UTM filter only the matching visits count ' +
    '(utm_source matches the visit\'s source: its utm_source, else the referring domain), and page views are theirs.',
  filters: ['interval', 'site', 'utm'],
  params: z.object({}),
  columns: [
    { key: 'bucket', type: 'datetime', description: 'Start of the interval in `tz`, as a UTC date-time; the first and last are clipped to the period.' },
    { key: 'visitors', type: 'integer', description: 'Distinct visitors with a visit starting in the interval (in totals: distinct over the whole period, not the sum of the rows).' },
    { key: 'sessions', type: 'integer', description: 'Visits starting in the interval.' },
    {
      key: 'pageviews',
      type: 'integer',
      description: 'Page views in the interval, with or without a visitor (from the hourly rollups); with a UTM filter, the page views of the matching visits, counted where each visit started.',
    },
    { key: 'bounce_rate', type: 'number', description: 'Visits of a single page view / visits (0–1, four decimals; null without visits).' },
    { key: 'views_per_session', type: 'number', description: 'Page views of these visits / visits (four decimals; null without visits). Views without a visitor are in no visit.' },
  ],
  totals: ['visitors', 'sessions', 'pageviews', 'bounce_rate', 'views_per_session'],
  async run(ctx, period) {
    const bs = buckets(period);
    const filter = sessionFilter(period, { site: true, utm: true });
    const byUtm = period.utm.source !== null || period.utm.medium !== null || period.utm.campaign !== null;
    const [visits, rolled] = await Promise.all([
      visitStats(ctx, period, filter, { buckets: bs }),
      byUtm ? null : bucketTotals(ctx, bs, { metric: METRIC.pageviews, site: period.site }),
    ]);
    const byBucket = new Map(visits.groups.map((g) => [Number(g.key), g]));
    const series = bs.map((_, i): VisitCounts => byBucket.get(i) ?? { visitors: 0, sessions: 0, pageviews: 0, bounces: 0 });
    const totals = visits.total;
    const views = rolled ?? series.map((c) => c.pageviews);
    return {
      rows: bs.map((b, i) => row(new Date(b.start).toISOString(), series[i]!, views[i]!)),
      totals: row(undefined, totals, views.reduce((a, n) => a + n, 0)),
    };
  },
});
