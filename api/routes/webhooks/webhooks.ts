import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { catalogue } from '../../core/webhooks/catalogue';
import { createSubscription, deleteSubscription, getSubscription, listSubscriptions, rotateSubscriptionSecret, updateSubscription } from '../../core/webhooks/subscriptions';
import { getDelivery, listDeliveries, listSubscriptionDeliveries, pingSubscription, replayDelivery, retryDelivery } from '../../core/webhooks/log';
import { DeletedSchema, errors, IdParam, json, jsonBody, page, security, type AppEnv } from '../shared';
import {
  DeliveryQuery,
  DeliverySchema,
  EventTypeCatalogueSchema,
  RotateQuery,
  SubscriptionDeliveryQuery,
  WebhookInputSchema,
  WebhookPatchSchema,
  WebhookQuery,
  WebhookSchema,
  WebhookWithSecretSchema,
} from './schemas';

// Webhook subscriptions (outbound, signed per Standard Webhooks) and the one delivery log they
// share with the webhook actions of point triggers and campaigns.

const tags = ['Webhooks'];
const DeliveryPage = page(DeliverySchema, 'WebhookDeliveryPage');

const DELIVERY =
  'Each event is one POST of `{"type","timestamp","data"}` (data: the objects as this API answers them) with the Standard Webhooks headers `webhook-id` (the same on every retry), `webhook-timestamp` and `webhook-signature` ' +
  '(`v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, the key being the base64 after `whsec_`; during a rotation\'s overlap two signatures, space-separated). ' +
  "A subscription's deliveries about one contact go out in order; each event is delivered at least once (verify the signature, then de-duplicate by webhook-id). " +
  'A failure (no 2xx within 10 s, a redirect, a refused address) is retried with exponential backoff (10 s, doubling, at most 4 h apart) for 24 hours; then the delivery is failed and the subscription disabled (`status`, `disabled_reason`, `last_error`).';

export const webhookRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/webhooks/event-types',
      operationId: 'listWebhookEventTypes',
      tags,
      security,
      summary: 'The catalogue of webhook event types',
      description: 'Every type a subscription may ask for, where it comes from, what its data holds and which filters narrow it.',
      responses: { 200: json(EventTypeCatalogueSchema, 'The catalogue'), ...errors() },
    }),
    (c) => c.json({ data: catalogue() }, 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/webhooks',
      operationId: 'createWebhook',
      tags,
      security,
      summary: 'Subscribe a URL to events',
      description: `Answers the signing secret, once. Events stored before the subscription are not delivered to it. ${DELIVERY}`,
      request: { body: jsonBody(WebhookInputSchema) },
      responses: { 201: json(WebhookWithSecretSchema, 'Created, with its secret'), ...errors(415) },
    }),
    async (c) => c.json(await createSubscription({ ctx: c.get('ctx'), input: c.req.valid('json') }), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/webhooks',
      operationId: 'listWebhooks',
      tags,
      security,
      summary: 'List webhook subscriptions',
      description: 'Oldest first, without their secrets.',
      request: { query: WebhookQuery },
      responses: { 200: json(page(WebhookSchema, 'WebhookPage'), 'A page of subscriptions'), ...errors() },
    }),
    async (c) => c.json(await listSubscriptions({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/webhooks/{id}',
      operationId: 'getWebhook',
      tags,
      security,
      summary: 'Get a webhook subscription',
      request: { params: IdParam },
      responses: { 200: json(WebhookSchema, 'The subscription'), ...errors(404) },
    }),
    async (c) => c.json(await getSubscription({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/webhooks/{id}',
      operationId: 'updateWebhook',
      tags,
      security,
      summary: 'Update a webhook subscription',
      description: 'A new URL applies to deliveries still waiting too. `"status":"active"` re-enables a disabled subscription: what waits goes out, in order.',
      request: { params: IdParam, body: jsonBody(WebhookPatchSchema) },
      responses: { 200: json(WebhookSchema, 'Updated'), ...errors(404, 415) },
    }),
    async (c) => c.json(await updateSubscription({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, patch: c.req.valid('json') } }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/webhooks/{id}',
      operationId: 'deleteWebhook',
      tags,
      security,
      summary: 'Delete a webhook subscription',
      description: 'Nothing more is sent to it; its delivery log goes with it.',
      request: { params: IdParam },
      responses: { 200: json(DeletedSchema, 'Deleted'), ...errors(404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await deleteSubscription({ ctx: c.get('ctx'), input: { id } });
      return c.json({ id, deleted: true as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/webhooks/{id}/rotate-secret',
      operationId: 'rotateWebhookSecret',
      tags,
      security,
      summary: 'Rotate the signing secret',
      description:
        'Answers the new secret, once. For `overlap_seconds` (default a day) the previous secret signs too: every delivery carries both signatures, so the receiver can switch to the new secret whenever it likes within the window.',
      request: { params: IdParam, query: RotateQuery },
      responses: { 200: json(WebhookWithSecretSchema, 'Rotated, with the new secret'), ...errors(404) },
    }),
    async (c) => c.json(await rotateSubscriptionSecret({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, overlapSeconds: c.req.valid('query').overlap_seconds } }), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/webhooks/{id}/ping',
      operationId: 'pingWebhook',
      tags,
      security,
      summary: 'Send a test ping',
      description: 'A signed `webhook.ping` message, sent now and once (no retries; a disabled subscription can be pinged while its receiver is fixed). The answer is its log entry: status, the receiver’s answer.',
      request: { params: IdParam },
      responses: { 200: json(DeliverySchema, 'The ping, after its attempt'), ...errors(404) },
    }),
    async (c) => c.json(await pingSubscription({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/webhooks/{id}/deliveries',
      operationId: 'listWebhookSubscriptionDeliveries',
      tags,
      security,
      summary: "A subscription's delivery log",
      description: 'Newest first, each with its last attempt: the headers sent and the start of the answer.',
      request: { params: IdParam, query: SubscriptionDeliveryQuery },
      responses: { 200: json(DeliveryPage, 'Newest first'), ...errors(404) },
    }),
    async (c) => c.json(await listSubscriptionDeliveries({ ctx: c.get('ctx'), input: { ...c.req.valid('query'), id: c.req.valid('param').id } }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/webhook-deliveries',
      operationId: 'listWebhookDeliveries',
      tags,
      security,
      summary: 'Webhook delivery log',
      description:
        'Every delivery: subscriptions\' (source webhook:<id>) and the webhook actions of point triggers and campaigns (trigger:<id>, campaign:<id>), which also carry `Leadline-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. ' +
        DELIVERY,
      request: { query: DeliveryQuery },
      responses: { 200: json(DeliveryPage, 'Newest first'), ...errors() },
    }),
    async (c) => c.json(await listDeliveries({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/webhook-deliveries/{id}',
      operationId: 'getWebhookDelivery',
      tags,
      security,
      summary: 'Get a delivery',
      request: { params: IdParam },
      responses: { 200: json(DeliverySchema, 'The delivery'), ...errors(404) },
    }),
    async (c) => c.json(await getDelivery({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/webhook-deliveries/{id}/retry',
      operationId: 'retryWebhookDelivery',
      tags,
      security,
      summary: 'Retry an undelivered delivery now',
      request: { params: IdParam },
      responses: { 200: json(DeliverySchema, 'Queued'), ...errors(404) },
    }),
    async (c) => c.json(await retryDelivery({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/webhook-deliveries/{id}/replay',
      operationId: 'replayWebhookDelivery',
      tags,
      security,
      summary: 'Replay a delivery',
      description:
        'Sends it again whatever became of it: the same message (webhook-id, body), newly signed, with a fresh 24-hour retry window; at once, unless an earlier delivery for the same contact still waits. 409 when its subscription is disabled (re-enable it first).',
      request: { params: IdParam },
      responses: { 200: json(DeliverySchema, 'The delivery after the attempt'), ...errors(404, 409) },
    }),
    async (c) => c.json(await replayDelivery({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  );
