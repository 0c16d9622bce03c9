import { z } from 'zod';
import { defineReport, LimitParam } from './report';
import { bounceRate, sessionFilter, visitStats, type VisitCounts } from './visits';

// The sessions column each `by` groups on (constants: never the caller's string).
const BY = {
  entry_page: 'entry_page',
  channel: 'channel',
  source: 'source',
  medium: 'medium',
  campaign: 'campaign',
  referrer: 'referrer',
  country: 'country',
  device: 'device',
} as const;

const figures = (c: VisitCounts) => ({ visitors: c.visitors, sessions: c.sessions, pageviews: c.pageviews, bounce_rate: bounceRate(c) });

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
    by: z.enum(Object.keys(BY) as [keyof typeof BY, ...(keyof typeof BY)[]]).optional().describe('What to group visits by (default channel).'),
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
    const filter = sessionFilter(period, { site: true, utm: true });
    const { groups, total } = await visitStats(ctx, period, filter, { column: BY[params.by ?? 'channel'], limit: params.limit ?? 100 });
    return { rows: groups.map((g) => ({ key: g.key, ...figures(g) })), totals: figures(total) };
  },
});
