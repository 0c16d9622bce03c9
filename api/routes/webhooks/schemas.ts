import { z } from '@hono/zod-openapi';
import { FILTER_KEYS, WEBHOOK_EVENT_TYPES } from '../../core/webhooks/catalogue';
import { MAX_OVERLAP_S, WebhookFilters, WebhookInput, WebhookPatch } from '../../core/webhooks/subscriptions';
import { idNumber, PageQuery, Timestamp, Url } from '../shared';

// The webhook API's shapes: requests are the core's zod schemas, named here so the document
// refers to each once; answers are typed from what the core returns.

const EventType = z.enum(WEBHOOK_EVENT_TYPES).openapi('WebhookEventTypeName');
const FILTERS_ABOUT = `Optional, each narrows only the event types that carry that object (the catalogue lists which): ${FILTER_KEYS.join(', ')}. A filter that narrows none of the subscription's types is a 422.`;
const Filters = WebhookFilters.openapi('WebhookFilters', { description: FILTERS_ABOUT, example: { form_id: 3 } });
const URL_ABOUT =
  'Where deliveries are POSTed: a public http(s) URL. Private, loopback, link-local and cloud-metadata destinations are refused (422 when saved, and again after DNS at every delivery); redirects are not followed.';

export const WebhookInputSchema = WebhookInput.extend({
  url: WebhookInput.shape.url.openapi({ format: 'uri', description: URL_ABOUT }),
  event_types: WebhookInput.shape.event_types.openapi({ description: 'From GET /webhooks/event-types' }),
  filters: Filters.optional(),
}).openapi('WebhookInput', { example: { url: 'https://crm.example.com/hooks/leadline', event_types: ['contact.created', 'form.submitted'], filters: { form_id: 3 }, description: 'CRM sync' } });

export const WebhookPatchSchema = WebhookPatch.extend({
  url: WebhookPatch.shape.url.openapi({ format: 'uri', description: URL_ABOUT }),
  filters: Filters.optional().openapi({ description: 'Replaces the filters ({} clears them).' }),
  status: WebhookPatch.shape.status.openapi({
    description: 'disabled: stop delivering (what is queued waits). active: deliver again, from where it stopped — also after the sender disabled it for failing.',
  }),
}).openapi('WebhookPatch', { example: { status: 'active' } });

export const WebhookSchema = z
  .object({
    id: z.number().int(),
    url: Url,
    description: z.string().nullable(),
    event_types: z.array(EventType),
    filters: Filters,
    status: z.enum(['active', 'disabled']),
    disabled_reason: z.enum(['failures', 'manual']).nullable().openapi({ description: 'failures: the sender disabled it after 24 hours of failed retries; manual: a PATCH did' }),
    disabled_at: Timestamp.nullable(),
    last_error: z.string().nullable().openapi({ description: 'The last failed delivery’s error, kept after later successes (see last_error_at)' }),
    last_error_at: Timestamp.nullable(),
    previous_secret_expires_at: Timestamp.nullable().openapi({ description: 'During a rotation’s overlap: until when the previous secret signs too' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Webhook');

export const WebhookWithSecretSchema = WebhookSchema.extend({
  secret: z.string().openapi({ description: 'The Standard Webhooks signing secret (whsec_…). Shown here only: keep it now.', example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }),
}).openapi('WebhookWithSecret');

export const WebhookQuery = PageQuery.extend({ status: z.enum(['active', 'disabled']).optional() });

export const RotateQuery = z.object({
  overlap_seconds: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_OVERLAP_S)
    .optional()
    .openapi({ type: 'integer', description: 'How long the previous secret keeps signing too: 0 to 604,800 seconds (default 86,400, a day)', example: 3600 }),
});

export const EventTypeCatalogueSchema = z
  .object({
    data: z.array(
      z.object({
        type: EventType,
        description: z.string(),
        source: z.string().openapi({ description: 'The spine event type it is made from, or how it is found' }),
        data: z.string().openapi({ description: 'What the payload’s data holds' }),
        filters: z.array(z.enum(FILTER_KEYS)),
      }),
    ),
  })
  .openapi('WebhookEventTypes');

export const DeliverySchema = z
  .object({
    id: z.number().int(),
    message_id: z.string().openapi({ description: 'The webhook-id receivers see: the same on every attempt and replay', example: 'msg_42' }),
    source: z.string().openapi({ description: 'webhook:<id> for a subscription, trigger:<id> or campaign:<id> for their webhook actions' }),
    subscription_id: z.number().int().nullable(),
    event_type: z.string().nullable(),
    event_id: z.number().int().nullable().openapi({ description: 'The spine event it tells, when one' }),
    url: Url,
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    next_attempt_at: Timestamp.nullable(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    body: z.unknown().openapi({ description: 'What is POSTed: { type, timestamp, data }' }),
    last_attempt: z
      .object({
        at: Timestamp,
        request_headers: z.record(z.string(), z.string()).openapi({ description: 'The headers sent (signatures, never a secret)' }),
        response_status: z.number().int().nullable(),
        response_excerpt: z.string().nullable().openapi({ description: 'The start of the answer, at most 300 characters, control characters removed' }),
        duration_ms: z.number().int().nullable(),
      })
      .nullable(),
    created_at: Timestamp,
    delivered_at: Timestamp.nullable(),
  })
  .openapi('WebhookDelivery');

const DeliveryStatus = z.enum(['pending', 'delivered', 'failed']).optional();
export const DeliveryQuery = PageQuery.extend({
  status: DeliveryStatus,
  source: z.string().max(100).optional().openapi({ example: 'trigger:3' }),
  subscription_id: idNumber().optional().openapi({ type: 'integer' }),
});
export const SubscriptionDeliveryQuery = PageQuery.extend({ status: DeliveryStatus, event_type: z.string().max(64).optional().openapi({ example: 'form.submitted' }) });
