import type { Ctx } from '../context';
import { ValidationError } from '../errors';
import { getFocusItem } from './focus-items';
import { resolveVariants } from './schema';

/**
 * Counts for one focus item, whole and per variant, from the event log:
 *   focus_view / focus_click / focus_close   props.focus_id = id, props.variant
 *   form_submit                              props.focus_id = id, props.focus_variant
 *                                            (props.variant also read), written by
 *                                            POST /f/:id when the submission names the item
 * focus_id may be stored as a number or a string; both count.
 * conversions = clicks for notice and link items, submissions for form items
 * (per variant, by that variant's content); conversion_rate = conversions / views.
 */
export interface Counts {
  views: number;
  clicks: number;
  closes: number;
  submissions: number;
  conversions: number;
  conversion_rate: number;
}

export interface FocusStats {
  id: number;
  from: string | null;
  to: string | null;
  kind: 'notice' | 'link' | 'form';
  totals: Counts;
  variants: (Counts & { key: string; weight: number | null; kind: 'notice' | 'link' | 'form' })[];
}

const TYPES: Record<string, 'views' | 'clicks' | 'closes' | 'submissions'> = {
  focus_view: 'views',
  focus_click: 'clicks',
  focus_close: 'closes',
  form_submit: 'submissions',
};

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** "2026-06-01" or an ISO date-time; a bare `to` date includes that whole day. */
export function parseBound(value: string | undefined, field: 'from' | 'to'): number | null {
  if (value === undefined || value === '') return null;
  const ms = Date.parse(DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(ms) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new ValidationError([{ field, message: 'must be a date (2026-06-01) or an ISO date-time' }]);
  }
  return field === 'to' && DATE_ONLY.test(value) ? ms + 86_400_000 : ms;
}

const rate = (conv: number, views: number) => (views ? Math.round((conv / views) * 10_000) / 10_000 : 0);

/** What converts for an item (or variant) of this kind: submissions of a form, clicks of a notice or link. */
export const conversionsOf = (kind: string, c: { clicks: number; submissions: number }) => (kind === 'form' ? c.submissions : c.clicks);

/** The key an event's variant is listed under: "none" when it has none, at most 20 characters. */
export const variantKey = (v: unknown) => (v === null || v === undefined ? 'none' : String(v).slice(0, 20));

function finish(c: Omit<Counts, 'conversions' | 'conversion_rate'>, kind: string): Counts {
  const conversions = conversionsOf(kind, c);
  return { ...c, conversions, conversion_rate: rate(conversions, c.views) };
}

export async function focusStats({ ctx, input }: { ctx: Ctx; input: { id: number; from?: string; to?: string } }): Promise<FocusStats> {
  const from = parseBound(input.from, 'from');
  const to = parseBound(input.to, 'to');
  if (from !== null && to !== null && from >= to) throw new ValidationError([{ field: 'to', message: 'must be after from' }]);
  const item = await getFocusItem({ ctx, input: { id: input.id } });
  const res = await ctx.client.execute({
    sql: `SELECT type, coalesce(props ->> '$.focus_variant', props ->> '$.variant') AS variant, count(*) AS n FROM events
      WHERE type IN ('focus_view', 'focus_click', 'focus_close', 'form_submit')
        AND created_at >= ? AND created_at < ?
        AND props ->> '$.focus_id' IN (?, ?)
      GROUP BY 1, 2`,
    args: [from ?? 0, to ?? Number.MAX_SAFE_INTEGER, item.id, String(item.id)],
  });
  const variants = resolveVariants(item);
  const kindOf = new Map(variants.map((v) => [v.key, v.content.kind]));
  const raw = new Map<string, { views: number; clicks: number; closes: number; submissions: number }>();
  const zero = () => ({ views: 0, clicks: 0, closes: 0, submissions: 0 });
  for (const v of variants) raw.set(v.key, zero());
  const totals = zero();
  for (const r of res.rows) {
    const field = TYPES[String(r.type)]!;
    const n = Number(r.n);
    totals[field] += n;
    // Events without a variant (or from a variant since removed) still count in the totals;
    // they are listed under their own key, "none" when there was none.
    const key = variantKey(r.variant);
    if (!raw.has(key)) raw.set(key, zero());
    raw.get(key)![field] += n;
  }
  const weightOf = new Map(item.variants.length ? item.variants.map((v) => [v.key, v.weight]) : [['a', 100]]);
  const perVariant = [...raw].map(([key, c]) => {
    const kind = kindOf.get(key) ?? item.content.kind;
    return { key, weight: weightOf.get(key) ?? null, kind, ...finish(c, kind) };
  });
  // Variants may differ in kind (a link in one, a form in another): the item's
  // conversions are the sum of each variant's.
  const conversions = perVariant.reduce((s, v) => s + v.conversions, 0);
  return {
    id: item.id,
    from: from === null ? null : new Date(from).toISOString(),
    to: to === null ? null : new Date(to).toISOString(),
    kind: item.content.kind,
    totals: { ...totals, conversions, conversion_rate: rate(conversions, totals.views) },
    variants: perVariant,
  };
}
