import { z } from 'zod';
import type { Ctx } from '../context';
import { touch } from '../contacts/writes';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { resolveContactId } from '../contacts/contacts';
import { createDealRecord, newestOpenDeal, updateDealRecord } from '../deals/deals';
import { instantOf } from '../deals/schema';

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

const EVENT_OF = { accepted: 'sales_accepted', rejected: 'sales_rejected', won: 'deal_won', lost: 'deal_lost' } as const;

/** The name of the deal a "won" feedback creates. */
export const FEEDBACK_DEAL_NAME = 'Won via sales feedback';
/** The name of the deal a "lost" feedback creates when the contact has no open deal. */
export const FEEDBACK_LOST_DEAL_NAME = 'Lost via sales feedback';

// A lost lead without an open deal becomes a lost deal of amount 0; its currency is the one the
// contact's deals use, else the one this installation used last (so reports in that currency
// count it), else EUR.
async function lostCurrency(ctx: Ctx, contactId: number): Promise<string> {
  const r = await ctx.client.execute({
    sql: `SELECT coalesce((SELECT currency FROM deals WHERE contact_id = ? ORDER BY id DESC LIMIT 1), (SELECT currency FROM deals ORDER BY id DESC LIMIT 1), 'EUR') AS c`,
    args: [contactId],
  });
  return String(r.rows[0]!.c);
}

/**
 * Sales tells marketing what became of a lead. accepted and rejected are events on the timeline;
 * won and lost go through deals, so their events and stage changes are the deals' ones
 * (core/deals/effects.ts): won creates a won deal (amount = value, rounded to cents, closed on
 * `date` or now); lost marks the contact's newest open deal lost, or records a lost deal of
 * amount 0 when none is open. The answer names the deal.
 */
export async function recordSalesFeedback({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { contactId: number; feedback: SalesFeedback; by?: string };
}): Promise<{ event_id: number; type: string; deal_id?: number }> {
  const id = await resolveContactId(ctx, input.contactId);
  const fb = input.feedback;
  if (fb.outcome === 'won' || fb.outcome === 'lost') {
    if (fb.outcome === 'won' && fb.date !== undefined && instantOf(fb.date) === null) throw new ValidationError([{ field: 'date', message: 'must be a calendar date YYYY-MM-DD' }]);
    const exists = await ctx.client.execute({ sql: 'SELECT 1 FROM contacts WHERE id = ?', args: [id] });
    if (!exists.rows[0]) throw new NotFoundError('Contact');
    const saved =
      fb.outcome === 'won'
        ? await createDealRecord({
            ctx,
            input: { contact_id: id, name: FEEDBACK_DEAL_NAME, amount: Math.round(fb.value * 100) / 100, currency: fb.currency, stage: 'won', closed_at: fb.date, owner: input.by ?? undefined },
          })
        : await loseNewestDeal(ctx, id, fb.reason ?? null, input.by);
    if (saved.eventId === null) throw new ConflictError('The deal changed while this feedback was recorded; send it again.');
    return { event_id: saved.eventId, type: EVENT_OF[fb.outcome], deal_id: saved.deal.id };
  }
  const { outcome, ...props } = fb;
  const r = await ctx.client.execute({
    sql: `INSERT INTO events (contact_id, type, props, created_at) SELECT id, ?, ?, ? FROM contacts WHERE id = ? RETURNING id`,
    args: [EVENT_OF[outcome], JSON.stringify({ ...props, by: input.by ?? null }), ctx.now(), id],
  });
  if (!r.rows[0]) throw new NotFoundError('Contact');
  await ctx.client.execute(touch([id], ctx.now()));
  return { event_id: Number(r.rows[0].id), type: EVENT_OF[outcome] };
}

async function loseNewestDeal(ctx: Ctx, contactId: number, reason: string | null, by: string | undefined) {
  const open = await newestOpenDeal(ctx, contactId);
  if (open) return updateDealRecord({ ctx, input: { id: open.id, patch: { stage: 'lost', lost_reason: reason } } });
  return createDealRecord({
    ctx,
    input: { contact_id: contactId, name: FEEDBACK_LOST_DEAL_NAME, amount: 0, currency: await lostCurrency(ctx, contactId), stage: 'lost', lost_reason: reason, owner: by ?? undefined },
  });
}
