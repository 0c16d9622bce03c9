import { z } from 'zod';
import type { Ctx } from '../context';
import { touch } from '../contacts/writes';
import { NotFoundError } from '../errors';
import { resolveContactId } from '../contacts/contacts';

export const SalesFeedback = z.discriminatedUnion('outcome', [
  z.strictObject({ outcome: z.literal('accepted'), note: z.string().max(1000).optional() }),
  z.strictObject({ outcome: z.literal('rejected'), reason: z.string().trim().min(1).max(500) }),
  z.strictObject({
    outcome: z.literal('won'),
    value: z.number().min(0).max(1e12),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like EUR'),
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD').optional(),
  }),
  z.strictObject({ outcome: z.literal('lost'), reason: z.string().max(500).optional() }),
]);
export type SalesFeedback = z.infer<typeof SalesFeedback>;

const TYPES = { accepted: 'sales_accepted', rejected: 'sales_rejected', won: 'deal_won', lost: 'deal_lost' } as const;

/** Sales tells marketing what became of a lead; each answer is an event on the timeline. */
export async function recordSalesFeedback({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { contactId: number; feedback: SalesFeedback; by?: string };
}): Promise<{ event_id: number; type: string }> {
  const id = await resolveContactId(ctx, input.contactId);
  const { outcome, ...props } = input.feedback;
  const at = 'date' in props && props.date ? Date.parse(props.date + 'T12:00:00Z') : ctx.now();
  const r = await ctx.client.execute({
    sql: `INSERT INTO events (contact_id, type, props, created_at) SELECT id, ?, ?, ? FROM contacts WHERE id = ? RETURNING id`,
    args: [TYPES[outcome], JSON.stringify({ ...props, by: input.by ?? null }), at, id],
  });
  if (!r.rows[0]) throw new NotFoundError('Contact');
  await ctx.client.execute(touch([id], ctx.now()));
  return { event_id: Number(r.rows[0].id), type: TYPES[outcome] };
}

const DAY = 86_400_000;

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Lead-scoring accuracy: of the contacts that first reached a marketing-
 * qualified stage in [from, to), how many sales accepted, how many were won,
 * for how much, and how long from qualified to won.
 */
export async function leadScoringReport({ ctx, input }: { ctx: Ctx; input: { from: number; to: number } }) {
  const r = await ctx.client.execute({
    sql: `WITH mql AS (
        SELECT e.contact_id, min(e.created_at) AS qualified_at FROM events e
        WHERE e.type = 'stage_changed' AND e.contact_id IS NOT NULL
          AND (e.props ->> 'to') IN (SELECT id FROM stages WHERE is_mql = 1)
        GROUP BY e.contact_id
        HAVING min(e.created_at) >= ? AND min(e.created_at) < ?
      )
      SELECT m.contact_id, m.qualified_at,
        EXISTS (SELECT 1 FROM events a WHERE a.contact_id = m.contact_id AND a.type = 'sales_accepted' AND a.created_at >= m.qualified_at) AS accepted,
        EXISTS (SELECT 1 FROM events a WHERE a.contact_id = m.contact_id AND a.type = 'sales_rejected' AND a.created_at >= m.qualified_at) AS rejected,
        (SELECT json_object('at', w.created_at, 'value', w.props ->> 'value', 'currency', w.props ->> 'currency') FROM events w
          WHERE w.contact_id = m.contact_id AND w.type = 'deal_won' AND w.created_at >= m.qualified_at ORDER BY w.created_at LIMIT 1) AS won
      FROM mql m`,
    args: [input.from, input.to],
  });
  const rows = r.rows;
  const qualified = rows.length;
  const wonRows = rows.filter((x) => x.won !== null).map((x) => ({ q: Number(x.qualified_at), ...(JSON.parse(String(x.won)) as { at: number; value: number; currency: string }) }));
  const value: Record<string, number> = {};
  for (const w of wonRows) value[w.currency] = (value[w.currency] ?? 0) + Number(w.value);
  const share = (n: number) => (qualified ? Math.round((n / qualified) * 10_000) / 10_000 : null);
  const accepted = rows.filter((x) => Number(x.accepted) === 1).length;
  return {
    from: new Date(input.from).toISOString(),
    to: new Date(input.to).toISOString(),
    qualified,
    accepted,
    rejected: rows.filter((x) => Number(x.rejected) === 1).length,
    won: wonRows.length,
    accepted_share: share(accepted),
    won_share: share(wonRows.length),
    won_value: value,
    median_days_to_won: median(wonRows.map((w) => (w.at - w.q) / DAY)),
  };
}
