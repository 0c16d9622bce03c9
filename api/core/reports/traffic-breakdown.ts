import { z } from 'zod';
import { defineReport, LimitParam } from './report';
import { HOUR } from './query';
import { METRIC, VISIT_DIMS, type VisitDim } from './rollups/metrics';
import { sumRollups } from './rollups/read';
import { bounceRate, repeatVisits, sessionFilter, visitStats, type VisitCounts } from './visits';

const figures = (c: VisitCounts) => ({ visitors: c.visitors, sessions: c.sessions, pageviews: c.pageviews, bounce_rate: bounceRate(c) });
const M = [METRIC.entries, METRIC.bounces, METRIC.visitPageviews] as const;

export const trafficBreakdownReport = defineReport({
  name: 'traffic-breakdown',
  tag: 'Reports',
  summary: 'Visits by entry page, channel, source, medium, campaign, referrer, country or device',
  description:
    'The visits (sessions) that started in the period, grouped by one property of the visit, most visits first. A visit\'s properties ' +
    'are those of its first page view: entry_page (the URL path), channel (direct, organic_search, social, email, paid, referral, other: ' +
    'from utm_medium, then the referring domain or utm_source, then any other referrer), source (utm_source, else the referring domain ' +
    'without www.), medium and campaign (utm_medium, utm_campaign), referrer (the referring host), country and device (of the visitor ' +
    'when the visit started). A visit without the property is in the row whose key is null.',
  filters: ['site', 'utm'],
  params: z.object({
    by: z.enum(Object.keys(VISIT_DIMS) as [VisitDim, ...VisitDim[]]).optional().describe('What to group visits by (default channel).'),
    limit: LimitParam,
  }),
  columns: [
    { key: 'key', type: 'string', description: 'The value of the grouping property (null: visits without it, e.g. the source of a direct visit).' },
    { key: 'visitors', type: 'integer', description: 'Distinct visitors with such a visit (in totals: distinct over all visits of the period).' },
    { key: 'sessions', type: 'integer', description: 'Visits.' },
    { key: 'pageviews', type: 'integer', description: 'Page views of those visits.' },
    { key: 'bounce_rate', type: 'number', description: 'Visits of a single page view / visits (0–1, four decimals).' },
  ],
  totals: ['visitors', 'sessions', 'pageviews', 'bounce_rate'],
  async run(ctx, period, params) {
    const by = params.by ?? 'channel';
    const limit = params.limit ?? 100;
    const filter = sessionFilter(period, { site: true, utm: true });
    if (filter.utm || period.from % HOUR || period.to % HOUR) {
      // Some of a visitor's visits, or a period the hourly rollups do not cut exactly (a zone
      // half an hour off UTC): counted from the visits themselves.
      const { groups, total } = await visitStats(ctx, period, filter, { column: by, limit });
      return { rows: groups.map((g) => ({ key: g.key, ...figures(g) })), totals: figures(total) };
    }
    // Visits, their page views and bounces per value and in all from the rollups (whole UTC days
    // from the daily rows); visitors per value = its visits less those of a visitor who had an
    // earlier visit with the same value in the period, and in all = all visits less those of a
    // visitor who had any earlier visit in the period (only repeat visits are read).
    const [sums, all, repeats] = await Promise.all([
      sumRollups(ctx, period, { metrics: M, dim: VISIT_DIMS[by], site: period.site, daily: true }),
      sumRollups(ctx, period, { metrics: M, dim: '', site: period.site }),
      repeatVisits(ctx, period, filter, by),
    ]);
    const counts = (m: Record<string, number> | undefined) => ({
      sessions: m?.[METRIC.entries] ?? 0,
      pageviews: m?.[METRIC.visitPageviews] ?? 0,
      bounces: m?.[METRIC.bounces] ?? 0,
    });
    const total: VisitCounts = { ...counts(all.get('')), visitors: 0 };
    total.visitors = total.sessions - [...repeats.values()].reduce((n, r) => n + r.all, 0);
    const groups: ({ key: string | null } & VisitCounts)[] = [];
    const rest = { ...total };
    for (const [key, m] of sums) {
      const c = counts(m);
      if (!c.sessions) continue;
      groups.push({ key, ...c, visitors: c.sessions - (repeats.get(key)?.same ?? 0) });
      rest.sessions -= c.sessions;
      rest.pageviews -= c.pageviews;
      rest.bounces -= c.bounces;
    }
    // Visits without the property: what the totals have beyond the values'.
    if (rest.sessions > 0) groups.push({ key: null, ...rest, visitors: rest.sessions - (repeats.get(null)?.same ?? 0) });
    // Most visits first; among equals by value, null first (as the counted path's SQL orders).
    groups.sort((a, b) => b.sessions - a.sessions || (a.key === b.key ? 0 : a.key === null ? -1 : b.key === null ? 1 : a.key < b.key ? -1 : 1));
    return { rows: groups.slice(0, limit).map((g) => ({ key: g.key, ...figures(g) })), totals: figures(total) };
  },
});
