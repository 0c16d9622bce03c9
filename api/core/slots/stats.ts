import type { Ctx } from '../context';
import { ValidationError } from '../errors';
import { parseBound } from '../focus/stats';
import { EVENT } from '../spine/event-types';
import { DEFAULT_VARIANT } from './schema';
import { getSlot } from './slots';

/**
 * Views and clicks of one slot, whole and per variant, from the event log: slot_view and
 * slot_click events whose props.slot_id is the slot (a number, or a string of its digits),
 * grouped by props.variant ("default" for the page's own content). click_rate = clicks / views.
 */
export interface SlotCounts {
  views: number;
  clicks: number;
  click_rate: number;
}

export interface SlotStats {
  id: number;
  from: string | null;
  to: string | null;
  totals: SlotCounts;
  variants: (SlotCounts & { key: string })[];
}

const rate = (clicks: number, views: number) => (views ? Math.round((clicks / views) * 10_000) / 10_000 : 0);
const counts = (views: number, clicks: number): SlotCounts => ({ views, clicks, click_rate: rate(clicks, views) });

export async function slotStats({ ctx, input }: { ctx: Ctx; input: { id: number; from?: string; to?: string } }): Promise<SlotStats> {
  const from = parseBound(input.from, 'from');
  const to = parseBound(input.to, 'to');
  if (from !== null && to !== null && from >= to) throw new ValidationError([{ field: 'to', message: 'must be after from' }]);
  const slot = await getSlot({ ctx, input: { id: input.id } });
  const res = await ctx.client.execute({
    sql: `SELECT type, substr(coalesce(props ->> '$.variant', ?), 1, 40) AS variant, count(*) AS n FROM events
      WHERE type IN (?, ?) AND created_at >= ? AND created_at < ? AND props ->> '$.slot_id' IN (?, ?)
      GROUP BY 1, 2`,
    args: [DEFAULT_VARIANT, EVENT.slot_view, EVENT.slot_click, from ?? 0, to ?? Number.MAX_SAFE_INTEGER, slot.id, String(slot.id)],
  });
  // Every variant of the slot and the default are listed, counted or not; keys seen only in events after them.
  const by = new Map<string, { views: number; clicks: number }>([[DEFAULT_VARIANT, { views: 0, clicks: 0 }], ...slot.variants.map((v) => [v.key, { views: 0, clicks: 0 }] as const)]);
  for (const r of res.rows) {
    const key = String(r.variant);
    const c = by.get(key) ?? by.set(key, { views: 0, clicks: 0 }).get(key)!;
    if (r.type === EVENT.slot_view) c.views += Number(r.n);
    else c.clicks += Number(r.n);
  }
  const variants = [...by].map(([key, c]) => ({ key, ...counts(c.views, c.clicks) }));
  const views = variants.reduce((a, v) => a + v.views, 0);
  const clicks = variants.reduce((a, v) => a + v.clicks, 0);
  return { id: slot.id, from: from === null ? null : new Date(from).toISOString(), to: to === null ? null : new Date(to).toISOString(), totals: counts(views, clicks), variants };
}
