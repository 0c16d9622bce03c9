import { z } from 'zod';
import { defineReport, LimitParam } from './report';
import { METRIC, PAGE } from './rollups/metrics';
import { sumRollups, topKeys } from './rollups/read';
import { bounceRate } from './visits';

const M = [METRIC.pageviews, METRIC.entries, METRIC.bounces] as const;

/** A page's (or all pages') row: its page views, the sessions entering there, and how many of those bounced. */
const figures = (page: string | undefined, pageviews: number, s: Record<string, number> | undefined) => ({
  ...(page !== undefined && { page }),
  pageviews,
  entries: s?.[METRIC.entries] ?? 0,
  bounce_rate: s?.[METRIC.entries] ? bounceRate({ sessions: s[METRIC.entries]!, bounces: s[METRIC.bounces] ?? 0 }) : null,
});

export const pagesReport = defineReport({
  name: 'pages',
  tag: 'Reports',
  summary: 'Top pages: page views, entries and their bounce rate',
  description:
    'The pages (URL paths, without query or fragment) with the most page views in the period, with how many visits started there ' +
    '(entries) and how many of those left after that one page (bounce_rate). Page views count with or without a visitor; entries are visits, ' +
    'counted in the hour they started. All from the hourly rollups (whole UTC days from their daily rows).',
  filters: ['site'],
  params: z.object({ limit: LimitParam }),
  columns: [
    { key: 'page', type: 'string', description: 'The URL path.' },
    { key: 'pageviews', type: 'integer', description: 'Page views of the path in the period (in totals: of every path).' },
    { key: 'entries', type: 'integer', description: 'Visits that started on the path (in totals: all visits).' },
    { key: 'bounce_rate', type: 'number', description: 'Of those entries, visits of that single page view / entries (0–1, four decimals; null without entries).' },
  ],
  totals: ['pageviews', 'entries', 'bounce_rate'],
  async run(ctx, period, params) {
    const site = period.site;
    const [top, all] = await Promise.all([
      topKeys(ctx, period, { metric: METRIC.pageviews, dim: PAGE, site, limit: params.limit ?? 100, daily: true }),
      sumRollups(ctx, period, { metrics: M, dim: '', site }),
    ]);
    const entries = await sumRollups(ctx, period, { metrics: M, dim: PAGE, site, keys: top.map((t) => t.key), daily: true });
    const total = all.get('');
    return {
      rows: top.map((t) => figures(t.key, t.n, entries.get(t.key))),
      totals: figures(undefined, total?.[METRIC.pageviews] ?? 0, total),
    };
  },
});
