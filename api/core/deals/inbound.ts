import { z } from 'zod';
import type { Ctx } from '../context';
import { AppError, ValidationError, isUniqueViolation, zodErrors, type FieldError } from '../errors';
import { contactByEmail } from '../contacts/resolve';
import { isEmail, normalizeEmail } from '../contacts/values';
import { verifySignature, type SignatureHeaders } from '../email/provider-events';
import { readJsonInput, isCleanIdentifier } from '../util/text';
import { checkRefs, dealByExternalId, deleteDeal, insertDeal, nextState, saveDeal, sameState, type DealChanges } from './deals';
import { dealIntegrationSecret } from './integrations';
import { DealFields, type DealState } from './schema';

/**
 * POST /webhooks/deals?integration=<id>: a CRM pushes its deals.
 *
 * - Verified first, as Resend's webhooks are (one home for signature checks: verifySignature):
 *   the Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature; HMAC-SHA256
 *   of `id.timestamp.body` with the integration's whsec_ secret) over the raw body, the timestamp
 *   within 5 minutes of this server's clock. Nothing is parsed before that.
 * - Then the whole body is checked (400 not JSON, 422 naming `data.<field>`) before anything is
 *   written, a contact included.
 * - deal.upserted matches the deal by (integration, external_id), the unique key in the database:
 *   a new one is created (name, currency and contact required), a known one gets the fields
 *   given (fields left out stay as they are; null clears). The contact is `{id}` (a merged id
 *   resolves to the survivor) or `{email}`: the contact with that address, created through the
 *   one identity module when new. The deal's events and stage changes are the API's (effects.ts).
 * - Idempotent: a delivery that changes nothing (a redelivery of the same webhook-id, or the same
 *   state again) writes nothing and answers `unchanged`. deal.deleted deletes the deal; again,
 *   or for a deal never seen, it answers `unchanged` with deal_id null.
 */

const Label = (max: number) => z.string().trim().min(1).max(max).refine(isCleanIdentifier, 'must not contain control characters');

const ContactRef = z.union([
  z.strictObject({ email: z.string().max(254).refine((s) => isEmail(s.trim()), 'must be a valid email address') }),
  z.strictObject({ id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }),
]);

const f = DealFields.shape;
export const DealWebhookData = z.strictObject({
  external_id: Label(200),
  contact: ContactRef.optional(),
  name: f.name.optional(),
  amount: f.amount.optional(),
  currency: f.currency.optional(),
  stage: f.stage.optional(),
  closed_at: f.closed_at.optional(),
  expected_close_date: f.expected_close_date.optional(),
  owner: f.owner.optional(),
  source: f.source.optional(),
  lost_reason: f.lost_reason.optional(),
});

export const DealWebhookBody = z.strictObject({
  type: z.enum(['deal.upserted', 'deal.deleted']),
  /** Standard Webhooks' envelope may carry when the CRM sent it; informative only. */
  timestamp: z.string().max(40).optional(),
  data: DealWebhookData,
});
export type DealWebhookBody = z.output<typeof DealWebhookBody>;

export type DealWebhookResult = { ok: true; deal_id: number | null; result: 'created' | 'updated' | 'unchanged' | 'deleted' };

/** Field errors of the deal core, named as the webhook body names them. */
async function under<T>(prefix: string, rename: Record<string, string>, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError((e.details ?? []).map((d: FieldError) => ({ ...d, field: rename[d.field] ?? `${prefix}${d.field}` })));
    throw e;
  }
}

async function contactOf(ctx: Ctx, ref: z.output<typeof ContactRef>): Promise<number> {
  if ('id' in ref) return ref.id;
  const r = await ctx.client.execute({ sql: 'SELECT id FROM contacts WHERE email_normalized = ?', args: [normalizeEmail(ref.email)] });
  if (r.rows[0]) return Number(r.rows[0].id);
  return (await contactByEmail(ctx, ref.email, 'data.contact.email')).id;
}

/** Verifies, parses and applies one delivery. */
export async function receiveDealWebhook({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { integrationId: number; headers: SignatureHeaders; body: string };
}): Promise<DealWebhookResult> {
  const secret = await dealIntegrationSecret(ctx, input.integrationId);
  if (secret === null) throw new AppError('INVALID_SIGNATURE', `There is no deal integration ${input.integrationId}: the ?integration= parameter must be the id of one (GET /api/v1/deal-integrations).`);
  verifySignature(secret, input.headers, input.body, ctx.now());
  const parsed = DealWebhookBody.safeParse(readJsonInput(input.body).value);
  if (!parsed.success) throw new ValidationError(zodErrors(parsed.error));
  return applyDealWebhook(ctx, input.integrationId, parsed.data);
}

export async function applyDealWebhook(ctx: Ctx, integrationId: number, body: DealWebhookBody): Promise<DealWebhookResult> {
  const { external_id: externalId, contact, ...fields } = body.data;
  const existing = await dealByExternalId(ctx, integrationId, externalId);
  if (body.type === 'deal.deleted') {
    if (!existing) return { ok: true, deal_id: null, result: 'unchanged' };
    await deleteDeal({ ctx, input: { id: existing.id } });
    return { ok: true, deal_id: existing.id, result: 'deleted' };
  }
  if (!existing && !contact) throw new ValidationError([{ field: 'data.contact', message: 'is required for a new deal: {"email": …} or {"id": …}' }]);
  const changes: DealChanges = fields;
  // Every rule checked before the contact is looked up (an email may create one); its id is
  // filled in after.
  const draft = await under('data.', {}, () => nextState(existing, { ...changes, contact_id: existing?.contactId ?? 1 }, ctx.now()));
  const rename = { contact_id: contact && 'id' in contact ? 'data.contact.id' : 'data.contact' };
  const contactId = contact ? await contactOf(ctx, contact) : existing!.contactId;
  const next: DealState = await under('data.', rename, () => checkRefs(ctx, { ...draft, contactId }, existing));
  if (existing) {
    if (sameState(existing, next)) return { ok: true, deal_id: existing.id, result: 'unchanged' };
    return { ok: true, deal_id: (await saveDeal(ctx, existing, next)).deal.id, result: 'updated' };
  }
  try {
    const saved = await under('data.', rename, () => insertDeal(ctx, next, { integrationId, externalId }));
    return { ok: true, deal_id: saved.deal.id, result: 'created' };
  } catch (e) {
    // The same new deal delivered twice at once: the second finds the first's row.
    if (!isUniqueViolation(e)) throw e;
    const raced = await dealByExternalId(ctx, integrationId, externalId);
    if (!raced) throw e;
    const again = await under('data.', rename, async () => checkRefs(ctx, { ...nextState(raced, changes, ctx.now()), contactId }, raced));
    if (sameState(raced, again)) return { ok: true, deal_id: raced.id, result: 'unchanged' };
    return { ok: true, deal_id: (await saveDeal(ctx, raced, again)).deal.id, result: 'updated' };
  }
}
