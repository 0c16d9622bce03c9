import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { Content } from '../core/focus/schema';
import { SITE_KEY, VISITOR_ID } from '../core/tracking/site-access';
import { FocusQuery } from './focus/focus';
import { PAGE_PUBLIC_ROUTES } from './pages/public-docs';
import { EMAIL_LINK_ROUTES } from './email/public-docs';
import { DealWebhookAnswerSchema, DealWebhookBodySchema } from './deals/schemas';
import { ErrorSchema, publicErrors, Timestamp, type AppEnv } from './shared';
import {
  tags, security, header, FormId, PublicForm, SubmitAnswer, PublicFocusItem, PublicSlot,
  UrlencodedSubmission, TrackPayloadDoc, FormSubmission, html, jsonOf, redirect, script,
} from './public-docs-schemas';

// The public endpoints in the OpenAPI document. Their handlers stay plain Hono routes that read
// their input themselves (POST /t is the ingestion hot path and parses its own body; the form and
// download routes take several content types and answer HTML to browsers), so these definitions
// document them without putting a validator in front. The contracts they describe are the doc
// comments of core/tracking/payload.ts, core/forms/definition.ts and submission.ts,
// core/focus/public.ts, routes/assets/assets.ts, routes/email/unsubscribe.ts and
// routes/widgets.ts; test/openapi.test.ts checks that every public route is here and nothing
// here is missing a route.

// On Workers with a tracking Queue: the consumer's running totals (core/tracking/consume.ts).
const count = (description: string) => z.number().int().openapi({ description });
const IngestHealth = z
  .object({
    via: z.literal('queue'),
    stored: count('Hits written through the Queue'),
    redelivered: count('Messages the Queue delivered again after a failed or timed-out batch, then handled'),
    duplicates: count('Hits found written already on a redelivery, not written again'),
    dead_lettered: count('Messages that reached the dead-letter queue after the last retry'),
    recovered: count('Of those, messages whose hit is in the database after all'),
    failed: count('Messages that could not be written, kept 7 days in the ingest_dead table with the reason'),
  })
  .openapi('IngestHealth', { description: 'Present when hits go through a Cloudflare Queue (the TRACKING_QUEUE binding)' });

export const PUBLIC_ROUTES = [
  createRoute({
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    tags,
    security,
    summary: 'Liveness and database check',
    responses: {
      200: jsonOf(
        z.object({ ok: z.literal(true), version: z.string(), db: z.literal('ok'), ingest: IngestHealth.optional() }).openapi('Health'),
        'Up, and the database answers',
      ),
      503: jsonOf(z.object({ ok: z.literal(false), version: z.string(), db: z.literal('unavailable') }).openapi('HealthDown'), 'Up, but the database does not answer'),
      ...publicErrors(),
    },
  }),
  script(
    '/w.js',
    'getTrackerScript',
    'The script tag',
    'The tracker, loaded by the one script tag a site carries: `async`, `src` pointing here, `data-site` the site\'s public key (see the README). Served pre-compressed (brotli, gzip) by Accept-Encoding; CORS open.',
  ),
  script(
    '/w-chunk.js',
    'getWidgetChunk',
    'The forms and focus items chunk',
    'An ES module w.js imports when the page has a form, a focus item or a slot to fill. Asked for by its content hash (`v`), it is cached for good.',
    z.object({ v: z.string().max(64).optional().openapi({ description: 'The content hash w.js asks for' }) }),
  ),
  createRoute({
    method: 'post',
    path: '/t',
    operationId: 'collectEvents',
    tags,
    security,
    summary: 'Events from the tracker',
    description:
      'Page views, custom events, outbound clicks, downloads, engagement, focus item views/clicks/closes and slot views/clicks, with an optional signed identify. Sent as text/plain (no preflight, sendBeacon) or application/json from a page on one of the site\'s allowed origins (Origin, else the Referer\'s origin). At most 32 KB, 50 events. Bots, and visitors asking for Do Not Track or Global Privacy Control on sites that honour them, are acknowledged and dropped. The answer comes once the events are committed (on Workers with a tracking Queue: once the Queue has accepted them; its consumer writes them within seconds, and a 503 means nothing was taken).',
    request: {
      body: {
        required: true,
        content: {
          'text/plain': { schema: TrackPayloadDoc },
          'application/json': { schema: TrackPayloadDoc },
        },
      },
    },
    responses: {
      202: jsonOf(
        z
          .object({
            ok: z.literal(true),
            stored: z.number().int().openapi({ description: 'Events stored (through a Queue: accepted, to be written by its consumer)' }),
            dropped: z.enum(['bot', 'dnt']).optional().openapi({ description: 'Why nothing was stored' }),
            focus: z.literal(true).optional().openapi({ description: 'On a page view when the site has an active focus item or slot: ask GET /focus for this page' }),
          })
          .openapi('TrackAnswer'),
        'Committed',
      ),
      ...publicErrors(400, 403, 404, 413, 422, 503),
    },
  }),
  createRoute({
    method: 'get',
    path: '/f/{id}',
    operationId: 'getPublicForm',
    tags,
    security,
    summary: 'A form as the widget renders it',
    description: "For a page on one of the site's allowed origins. Cache-Control: private, no-store.",
    request: {
      params: FormId,
      query: z.object({
        k: SITE_KEY.openapi({ description: "The site's public key (data-site)" }),
        v: VISITOR_ID.optional().openapi({ description: 'The visitor id the tracker keeps; leave it out in consent mode before consent' }),
      }),
    },
    responses: { 200: jsonOf(PublicForm, 'The form'), ...publicErrors(403, 404, 422) },
  }),
  createRoute({
    method: 'post',
    path: '/f/{id}',
    operationId: 'submitForm',
    tags,
    security,
    summary: 'Submit a form',
    description:
      'JSON (as application/json, or text/plain to avoid a preflight) from the widget, or a plain HTML form post (application/x-www-form-urlencoded) from the no-JavaScript form of GET /f/{id}/embed, which answers with a redirect or an HTML page. At most 64 KB. Field errors are named `values.<key>`; nothing is stored then.',
    request: {
      params: FormId,
      body: {
        required: true,
        content: {
          'application/json': { schema: FormSubmission },
          'text/plain': { schema: FormSubmission },
          'application/x-www-form-urlencoded': { schema: UrlencodedSubmission },
        },
      },
    },
    responses: {
      200: {
        description: 'Stored (or discarded as a bot\'s; see FormSubmitAnswer). An HTML form post without `_return` gets a page with the message.',
        content: { 'application/json': { schema: SubmitAnswer }, 'text/html': { schema: z.string() } },
      },
      303: redirect("An HTML form post: to after_submit's redirect, else to `_return` with `?leadline_form=ok` (or `=error` on field errors)"),
      422: {
        description: 'Field errors, nothing stored (`details` name `values.<key>`). An HTML form post without `_return` gets the form again, with its errors.',
        headers: { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } },
        content: { 'application/json': { schema: ErrorSchema }, 'text/html': { schema: z.string() } },
      },
      ...publicErrors(400, 403, 404, 413, 415),
    },
  }),
  createRoute({
    method: 'get',
    path: '/f/{id}/embed',
    operationId: 'getFormEmbed',
    tags,
    security,
    summary: 'The form as a page without JavaScript',
    description:
      "A complete HTML page with the form (for an iframe, or a <noscript> link). Its Content-Security-Policy allows framing by the site's allowed origins only.",
    request: {
      params: FormId,
      query: z.object({
        k: SITE_KEY.openapi({ description: "The site's public key" }),
        return: z.string().optional().openapi({ description: "The page to go back to after submitting; must be on one of the site's allowed origins" }),
      }),
    },
    responses: {
      200: html('The page', { 'Content-Security-Policy': header("default-src 'none'; frame-ancestors: 'self' and the site's allowed origins") }),
      ...publicErrors(403, 404, 422),
    },
  }),
  createRoute({
    method: 'get',
    path: '/focus',
    operationId: 'getFocusItemsForPage',
    tags,
    security,
    summary: 'The focus items and slot content for one page view',
    description:
      'The server has applied the URL rules, device, new vs returning, anonymous vs known, segments and the page-view count; the browser applies the trigger and the frequency. Content is plain text: render it with textContent. slots (only when the site has active slots): each one\'s content for this visitor, or variant null to keep the page\'s own. Nothing about the contact is in the answer. Cache-Control: no-store.',
    request: {
      query: FocusQuery.extend({
        k: FocusQuery.shape.k.openapi({ description: "The site's public key" }),
        v: FocusQuery.shape.v.openapi({ description: 'The visitor id (absent before consent: the visitor counts as new and anonymous)' }),
        u: FocusQuery.shape.u.openapi({ description: "The page's absolute http(s) URL (the fragment is ignored)", format: 'uri' }),
        d: FocusQuery.shape.d.openapi({ description: 'Device type; from the User-Agent when absent' }),
        pv: FocusQuery.shape.pv.openapi({ description: 'Page views so far as the browser counts them; the server counts when absent' }),
      }),
    },
    responses: { 200: jsonOf(z.object({ items: z.array(PublicFocusItem), slots: z.array(PublicSlot).optional() }).openapi('PageFocusItems'), 'Items to show, slots to fill'), ...publicErrors(403, 404, 422) },
  }),
  createRoute({
    method: 'get',
    path: '/a/{slug}',
    operationId: 'downloadAsset',
    tags,
    security,
    summary: 'Download an asset',
    description:
      "With `k` and `v` the download is an asset_download event for the visitor (on Workers with a tracking Queue, written by its consumer within seconds, once). A gated asset is served only to a visitor who submitted its form; others get 403 FORM_REQUIRED, or a browser (Accept: text/html) a 303 to the form's page without JavaScript, which comes back here. HEAD answers the headers only.",
    request: {
      params: z.object({ slug: z.string().openapi({ param: { name: 'slug', in: 'path' }, example: 'pricing-guide' }) }),
      query: z.object({
        k: SITE_KEY.optional().openapi({ description: "The site's public key" }),
        v: VISITOR_ID.optional().openapi({ description: 'The visitor id' }),
      }),
    },
    responses: {
      200: {
        description: 'The file, as uploaded',
        headers: {
          'Content-Disposition': { $ref: '#/components/headers/Content-Disposition' },
          ETag: header('The file\'s SHA-256'),
          'Cache-Control': header('private: revalidated on every download (no-store when gated)'),
        },
        content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary', description: 'Any type: the Content-Type it was uploaded with' }) } },
      },
      303: redirect("A browser without the gate form's submission: to the form's embed page"),
      304: { description: 'Not modified (the download still counts)' },
      ...publicErrors(403, 404, 422, 503),
    },
  }),
  createRoute({
    method: 'post',
    path: '/webhooks/resend',
    operationId: 'receiveResendWebhook',
    tags,
    security,
    summary: 'Delivery events from Resend',
    description:
      "Resend's webhook (configure it in Resend with this URL and set RESEND_WEBHOOK_SECRET to its signing secret). The Svix signature (`svix-id`, `svix-timestamp`, `svix-signature`; the Standard Webhooks `webhook-*` names work too) is verified over the raw body, with 5 minutes' tolerance. " +
      'Handled: email.sent, email.delivered, email.delivery_delayed, email.bounced (Permanent: do-not-contact email, reason bounced; Transient/Undetermined: recorded, the third within 30 days suppresses the address), email.suppressed (as a hard bounce), email.complained (do-not-contact, reason complained). ' +
      'Other types (email.opened, email.clicked: Leadline tracks those itself) are acknowledged and ignored. A delivery id seen before, or a message this installation did not send, is acknowledged and changes nothing. At most 64 KB; per-IP limit 10× PUBLIC_RATE_LIMIT.',
    request: {
      headers: z.object({
        'svix-id': z.string().optional().openapi({ description: 'The delivery id: a redelivery carries the same one' }),
        'svix-timestamp': z.string().optional().openapi({ description: 'Unix seconds when it was signed' }),
        'svix-signature': z.string().optional().openapi({ description: 'Space-separated `v1,<base64 HMAC-SHA256>` signatures' }),
      }),
      body: {
        required: true,
        content: {
          'application/json': {
            schema: z
              .object({
                type: z.string().openapi({ example: 'email.bounced' }),
                created_at: Timestamp.optional(),
                data: z
                  .object({
                    email_id: z.string().optional().openapi({ description: "Resend's id of the message" }),
                    to: z.array(z.string()).optional(),
                    tags: z.record(z.string(), z.string()).optional().openapi({ description: 'Carries `leadline_send`, the send id' }),
                    bounce: z.object({ type: z.string().optional(), subType: z.string().optional(), message: z.string().optional() }).optional(),
                  })
                  .openapi({ additionalProperties: true }),
              })
              .openapi('ResendWebhookEvent'),
          },
        },
      },
    },
    responses: {
      200: jsonOf(
        z
          .object({
            ok: z.literal(true),
            result: z.enum(['applied', 'duplicate', 'ignored', 'unknown_message']),
            type: z.string(),
          })
          .openapi('ResendWebhookAnswer'),
        'Acknowledged (and, when `applied`, committed)',
      ),
      400: jsonOf(ErrorSchema, 'Signature headers missing, or a signed body that is not a Resend event'),
      403: jsonOf(ErrorSchema, 'INVALID_SIGNATURE: the signature does not match, or its timestamp is more than 5 minutes off'),
      404: jsonOf(ErrorSchema, 'Webhooks are not configured on this server (RESEND_WEBHOOK_SECRET is not set)'),
      ...publicErrors(413, 415),
    },
  }),
  createRoute({
    method: 'post',
    path: '/webhooks/deals',
    operationId: 'receiveDealWebhook',
    tags,
    security,
    summary: 'Deals pushed by a CRM',
    description:
      'A CRM connected with POST /api/v1/deal-integrations posts its deals here, naming the integration in `?integration={id}` and signing each delivery with that integration\'s secret by the Standard Webhooks scheme ' +
      '(`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">`, the key being the base64 after `whsec_`), verified over the raw body with 5 minutes\' tolerance. ' +
      '`deal.upserted` creates the deal with this `external_id` (name, currency and contact required) or changes the fields given on the one already here (fields left out stay; null clears); ' +
      'the contact is `{"id": …}` or `{"email": …}` (found, or created when new). Winning or losing is a deal_won / deal_lost event and moves the contact along the funnel, as through the API. ' +
      '`deal.deleted` deletes it. A delivery that changes nothing (a retry of the same webhook-id) writes nothing and answers `unchanged`. The whole body is checked before anything is written. At most 64 KB; per-IP limit 10× PUBLIC_RATE_LIMIT.',
    request: {
      query: z.object({ integration: z.string().openapi({ description: 'The id of the deal integration (POST /api/v1/deal-integrations)', example: '1' }) }),
      headers: z.object({
        'webhook-id': z.string().openapi({ description: 'The delivery id: a retry carries the same one' }),
        'webhook-timestamp': z.string().openapi({ description: 'Unix seconds when it was signed' }),
        'webhook-signature': z.string().openapi({ description: 'Space-separated `v1,<base64 HMAC-SHA256>` signatures' }),
      }),
      body: { required: true, content: { 'application/json': { schema: DealWebhookBodySchema } } },
    },
    responses: {
      200: jsonOf(DealWebhookAnswerSchema, 'Applied and committed (or nothing to change)'),
      400: jsonOf(ErrorSchema, 'No `?integration=`, signature headers missing, or a signed body that is not JSON'),
      403: jsonOf(ErrorSchema, 'INVALID_SIGNATURE: no such integration, the signature does not match, or its timestamp is more than 5 minutes off'),
      422: jsonOf(ErrorSchema, 'A signed body that is not a valid deal event: `details` name the fields (`data.amount`…); nothing was written'),
      ...publicErrors(413, 415),
    },
  }),
  ...EMAIL_LINK_ROUTES,
  ...PAGE_PUBLIC_ROUTES,
];

export function registerPublicDocs(app: OpenAPIHono<AppEnv>) {
  for (const route of PUBLIC_ROUTES) app.openAPIRegistry.registerPath(route);
}
