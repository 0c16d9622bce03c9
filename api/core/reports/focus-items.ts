import { z } from 'zod';
import { defineReport } from './report';
import { share } from './query';
import { METRIC } from './rollups/metrics';
import { sumRollups } from './rollups/read';
import { conversionsOf } from '../focus/stats';
import { resolveVariants, type Definition } from '../focus/schema';

const M = [METRIC.focusViews, METRIC.focusClicks, METRIC.focusSubmissions] as const;

interface Counts {
  views: number;
  clicks: number;
  submissions: number;
  conversions: number;
}

const withRate = (c: Counts) => ({ ...c, conversion_rate: share(c.conversions, c.views) });

export const focusItemsReport = defineReport({
  name: 'focus-items',
  tag: 'Reports',
  summary: 'Focus items per variant: views, clicks, submissions, conversions',
  description:
    'Per focus item and A/B variant with activity in the period, from the hourly rollups. A conversion is what the variant asks for, ' +
    'as in GET /api/v1/focus-items/{id}/stats: a click for notice and link variants, a form submission for form variants (a variant ' +
    'since removed, or events without a variant, listed as "none", convert as the item does). Items since deleted are left out.',
  filters: ['site'],
  params: z.object({}),
  columns: [
    { key: 'focus_id', type: 'integer', description: 'The focus item.' },
    { key: 'name', type: 'string', description: 'Its name now.' },
    { key: 'variant', type: 'string', description: 'The variant key ("a" for an item without variants; "none" for events that named none).' },
    { key: 'views', type: 'integer', description: 'Times the variant was shown (focus_view).' },
    { key: 'clicks', type: 'integer', description: 'Clicks on its call to action (focus_click).' },
    { key: 'submissions', type: 'integer', description: 'Form submissions made through it (form_submit naming the item and variant).' },
    { key: 'conversions', type: 'integer', description: 'clicks for a notice or link variant, submissions for a form variant.' },
    { key: 'conversion_rate', type: 'number', description: 'conversions / views (four decimals; null without views).' },
  ],
  totals: ['views', 'clicks', 'submissions', 'conversions', 'conversion_rate'],
  async run(ctx, period) {
    const sums = await sumRollups(ctx, period, { metrics: M, dim: 'focus', site: period.site });
    const keys = [...sums.keys()].map((k) => ({ k, id: Number(k.slice(0, k.indexOf(':'))), variant: k.slice(k.indexOf(':') + 1) }));
    const items = await ctx.client.execute({
      sql: 'SELECT id, name, definition FROM focus_items WHERE id IN (SELECT value FROM json_each(?))',
      args: [JSON.stringify([...new Set(keys.map((x) => x.id))])],
    });
    const byId = new Map(
      items.rows.map((r) => {
        const def = JSON.parse(String(r.definition)) as Definition;
        const kinds = new Map(resolveVariants(def).map((v) => [v.key, v.content.kind as string]));
        return [Number(r.id), { name: String(r.name), kind: (v: string) => kinds.get(v) ?? def.content.kind }];
      }),
    );
    const total: Counts = { views: 0, clicks: 0, submissions: 0, conversions: 0 };
    const rows = keys.flatMap(({ k, id, variant }) => {
      const item = byId.get(id);
      if (!item) return [];
      const s = sums.get(k)!;
      const c = { views: s[METRIC.focusViews]!, clicks: s[METRIC.focusClicks]!, submissions: s[METRIC.focusSubmissions]! };
      const counts: Counts = { ...c, conversions: conversionsOf(item.kind(variant), c) };
      for (const f of Object.keys(total) as (keyof Counts)[]) total[f] += counts[f];
      return [{ focus_id: id, name: item.name, variant, ...withRate(counts) }];
    });
    rows.sort((a, b) => a.focus_id - b.focus_id || (a.variant < b.variant ? -1 : a.variant > b.variant ? 1 : 0));
    return { rows, totals: withRate(total) };
  },
});
