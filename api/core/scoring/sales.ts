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
