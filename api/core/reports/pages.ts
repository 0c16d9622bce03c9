import { z } from 'zod';
import { defineReport } from './report';
import { Limit } from './traffic-breakdown';
import { METRIC } from './rollups/metrics';
import { sumRollups, topKeys } from './rollups/read';
import { bounceRate, sessionFilter, visitStats } from './visits';

export const pagesReport = defineReport({
  name: 'pages',
  tag: 'Reports',
  summary: 'Top pages: page views, entries and their bounce rate',
  description:
    'The pages (URL paths, without query or fragment) with the most page views in the period, with how many visits started there ' +
    '(entries) and how many of those left after that one page (bounce_rate). Page views count with or without a visitor; entries are visits.',
  filters: ['site'],
  params: z.object({ limit: Limit }),
  columns: [
    { key: 'page', type: 'string', description: 'The URL path.' },
    { key: 'pageviews', type: 'integer', description: 'Page views of the path in the period (in totals: of every path).' },
    { key: 'entries', type: 'integer', description: 'Visits that started on the path (in totals: all visits).' },
    { key: 'bounce_rate', type: 'number', description: 'Of those entries, visits of that single page view / entries (0–1, four decimals; null without entries).' },
  ],
  totals: ['pageviews', 'entries', 'bounce_rate'],
  async run(ctx, period, params) {
    const filter = sessionFilter(period, { site: true, utm: false });
    const [top, all] = await Promise.all([
      topKeys(ctx, period, { metric: METRIC.pageviews, dim: 'page', site: period.site, limit: params.limit ?? 100 }),
      sumRollups(ctx, period, { metrics: [METRIC.pageviews], dim: '', site: period.site }),
    ]);
    const { groups, total: visits } = await visitStats(ctx, period, filter, { column: 'entry_page', limit: top.length || 1, only: top.map((t) => t.key) });
    const entries = new Map(groups.map((g) => [g.key, g]));
    return {
      rows: top.map((t) => {
        const e = entries.get(t.key);
        return { page: t.key, pageviews: t.n, entries: e?.sessions ?? 0, bounce_rate: e ? bounceRate(e) : null };
      }),
      totals: { pageviews: all.get('')?.[METRIC.pageviews] ?? 0, entries: visits.sessions, bounce_rate: bounceRate(visits) },
    };
  },
});
