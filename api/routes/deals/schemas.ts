import { z } from '@hono/zod-openapi';
import { DEAL_STAGES, DealInput, DealListQuery, DealPatch } from '../../core/deals/schema';
import { PipelineSettings, PipelineSettingsPatch } from '../../core/deals/settings';
import { DealIntegrationInput } from '../../core/deals/integrations';
import { DealWebhookBody } from '../../core/deals/inbound';
import { idNumber, PageQuery, Timestamp } from '../shared';

// The deal API's shapes: requests are the core's zod schemas, named here so the document refers to
// each once; answers are typed from what the core returns.

const CLOSED_AT_ABOUT =
  'When the deal was won or lost: an ISO 8601 date-time with an offset, or a date (YYYY-MM-DD, read as noon UTC that day so it falls on that day in any time zone). ' +
  'Default (also for null on a won or lost deal): the moment the deal becomes won or lost, kept while it stays so. An open deal has none (reopening clears it).';
const SOURCE_ABOUT = 'Free source fields (lead_source, campaign…): a flat object of at most 20 string, number or boolean values, keys of 1–64 characters.';

const closedAt = <T extends z.ZodType>(schema: T): T => schema.openapi({ type: 'string', format: 'date-time', description: CLOSED_AT_ABOUT, example: '2026-03-05T14:00:00Z' });

export const DealInputSchema = DealInput.extend({ closed_at: closedAt(DealInput.shape.closed_at), source: DealInput.shape.source.openapi({ description: SOURCE_ABOUT }) }).openapi('DealInput', {
  example: { contact_id: 1, company_id: 2, name: 'Acme – 50 seats', amount: 12000, currency: 'EUR', stage: 'open', expected_close_date: '2026-06-30', owner: 'ada@example.com', source: { lead_source: 'webinar' } },
});
export const DealPatchSchema = DealPatch.extend({ closed_at: closedAt(DealPatch.shape.closed_at), source: DealPatch.shape.source.openapi({ description: SOURCE_ABOUT }) }).openapi('DealPatch', {
  example: { stage: 'won', amount: 11500 },
});

export const DealSchema = z
  .object({
    id: z.number().int(),
    contact_id: z.number().int(),
    company_id: z.number().int().nullable(),
    name: z.string(),
    amount: z.number().openapi({ description: 'Major units, at most two decimals', example: 12000.5 }),
    currency: z.string().openapi({ description: 'ISO 4217', example: 'EUR' }),
    stage: z.enum(DEAL_STAGES),
    expected_close_date: z.string().nullable().openapi({ format: 'date' }),
    closed_at: Timestamp.nullable(),
    owner: z.string().nullable(),
    source: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).nullable(),
    lost_reason: z.string().nullable(),
    integration_id: z.number().int().nullable().openapi({ description: 'The CRM integration that pushed it, if one did' }),
    external_id: z.string().nullable().openapi({ description: "The deal's id in that CRM" }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Deal');

export const DealQuery = PageQuery.extend({
  contact_id: idNumber().optional().openapi({ type: 'integer', description: "Only this contact's deals (a merged contact's old id works too)" }),
  stage: DealListQuery.shape.stage.openapi({ description: 'Only deals at this stage' }),
  owner: DealListQuery.shape.owner.openapi({ description: 'Only deals of this owner (exact match)' }),
  updated_since: DealListQuery.shape.updated_since.openapi({ description: 'Only deals changed at or after this instant (ISO date-time, or a date)', example: '2026-03-01T00:00:00Z' }),
});

export const PipelineSettingsSchema = PipelineSettings.openapi('PipelineSettings', {
  example: { won_stage_id: 4, delight_stage_id: 5, lost_stage_id: null, open_stage_id: null, follow_up_hours: 24 },
});
export const PipelineSettingsPatchSchema = PipelineSettingsPatch.openapi('PipelineSettingsPatch', { example: { lost_stage_id: 2, follow_up_hours: 8 } });

export const DealIntegrationInputSchema = DealIntegrationInput.openapi('DealIntegrationInput', { example: { name: 'Our CRM' } });

export const DealIntegrationSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    webhook_path: z.string().openapi({ description: 'Where the CRM posts its deals: this path on the server\'s public address', example: '/webhooks/deals?integration=1' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('DealIntegration');

export const DealIntegrationWithSecretSchema = DealIntegrationSchema.extend({
  secret: z.string().openapi({
    description:
      'The Standard Webhooks signing secret the CRM signs its deliveries with (webhook-signature: `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, the key being the base64 after `whsec_`). Shown on create and rotate-secret only.',
    example: 'whsec_…',
  }),
}).openapi('DealIntegrationWithSecret');

/** The webhook body, as documented (the handler reads it itself after the signature). */
export const DealWebhookBodySchema = DealWebhookBody.extend({
  data: DealWebhookBody.shape.data.extend({ closed_at: closedAt(DealWebhookBody.shape.data.shape.closed_at), source: DealWebhookBody.shape.data.shape.source.openapi({ description: SOURCE_ABOUT }) }),
}).openapi('DealWebhookEvent', {
  example: {
    type: 'deal.upserted',
    data: { external_id: 'crm-4711', contact: { email: 'ada@example.com' }, name: 'Acme – 50 seats', amount: 12000, currency: 'EUR', stage: 'won', closed_at: '2026-03-05T14:00:00Z', owner: 'bob@example.com' },
  },
});

export const DealWebhookAnswerSchema = z
  .object({
    ok: z.literal(true),
    deal_id: z.number().int().nullable().openapi({ description: 'null for a deal.deleted of a deal not (or no longer) here' }),
    result: z.enum(['created', 'updated', 'unchanged', 'deleted']),
  })
  .openapi('DealWebhookAnswer');
