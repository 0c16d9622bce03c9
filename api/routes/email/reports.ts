import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { broadcastReport, contactEmails, emailReport } from '../../core/email/reports';
import { SKIP_REASONS } from '../../core/email/suppression';
import { Email, errors, IdParam, json, page, PageQuery, security, Timestamp, Url, type AppEnv } from '../shared';

const HumanRaw = z.object({ human: z.number().int(), raw: z.number().int() }).openapi('HumanRawCount');
const Rate = z.number().nullable().openapi({ description: 'A fraction, 0–1 (4 decimals); null when the base is 0' });
const RateHumanRaw = z.object({ human: Rate, raw: Rate }).openapi('HumanRawRate');

const statsShape = {
  sent: z.number().int().openapi({ description: 'Handed to the provider (or the outbox)' }),
  queued: z.number().int().openapi({ description: 'Pending or being sent' }),
  failed: z.number().int(),
  skipped: z.object({
    total: z.number().int(),
    by_reason: z.object(Object.fromEntries(SKIP_REASONS.map((r) => [r, z.number().int().optional()]))).openapi({ description: 'Only reasons that occurred' }),
  }),
  delivered: z.number().int().openapi({ description: 'Delivery reported by the provider webhook and not bounced since' }),
  bounced: z.object({ total: z.number().int(), hard: z.number().int(), soft: z.number().int() }),
  complained: z.number().int(),
  unsubscribed: z.number().int(),
  opens: z.object({ unique: HumanRaw, total: HumanRaw }).openapi({ description: 'Unique: messages opened; total: open events. human leaves out privacy proxies (Apple Mail Privacy Protection) and scanners' }),
  clicks: z.object({ unique: HumanRaw, total: HumanRaw }).openapi({ description: 'Unique: messages clicked; total: click events. human leaves out link scanners' }),
  rates: z.object({
    base: z.enum(['delivered', 'sent']).openapi({ description: 'What open, click, complaint and unsubscribe rates are over: delivered messages once the provider reports deliveries, else sent ones' }),
    delivery: Rate.openapi({ description: 'delivered / sent' }),
    open: RateHumanRaw.openapi({ description: 'unique opens / base' }),
    click: RateHumanRaw.openapi({ description: 'unique clicks / base' }),
    click_to_open: RateHumanRaw.openapi({ description: 'unique clicks / unique opens' }),
    bounce: Rate.openapi({ description: 'bounced / sent' }),
    complaint: Rate.openapi({ description: 'complained / base' }),
    unsubscribe: Rate.openapi({ description: 'unsubscribed / base' }),
  }),
};

const Report = z
  .object({
    email_id: z.number().int(),
    broadcast_id: z.number().int().nullable(),
    ...statsShape,
    links: z
      .array(z.object({ url: Url, clicks: z.object({ unique: HumanRaw, total: HumanRaw }) }))
      .openapi({ description: 'The click map: each destination, most clicked first' }),
    variants: z
      .array(z.object({ variant: z.string(), ...statsShape }))
      .openapi({ description: 'A/B subject variants, each with its own counts (empty without a test)' }),
  })
  .openapi('EmailReport');

const ContactEmail = z
  .object({
    send_id: z.number().int(),
    email_id: z.number().int(),
    email_name: z.string().nullable().openapi({ description: 'Null once the email is deleted' }),
    subject: z.string().nullable().openapi({ description: "The email's subject template" }),
    broadcast_id: z.number().int().nullable(),
    variant: z.string().nullable(),
    to: Email.nullable(),
    status: z.enum(['pending', 'sending', 'sent', 'skipped', 'failed']),
    skip_reason: z.enum(SKIP_REASONS).nullable(),
    bounce_type: z.enum(['hard', 'soft']).nullable(),
    error: z.string().nullable(),
    created_at: Timestamp,
    sent_at: Timestamp.nullable(),
    delivered_at: Timestamp.nullable(),
    opened_at: Timestamp.nullable(),
    human_opened_at: Timestamp.nullable(),
    clicked_at: Timestamp.nullable(),
    human_clicked_at: Timestamp.nullable(),
    bounced_at: Timestamp.nullable(),
    complained_at: Timestamp.nullable(),
    unsubscribed_at: Timestamp.nullable(),
  })
  .openapi('ContactEmail');

const REPORT =
  'Test sends are left out. Unique opens and clicks count messages, totals count events; `human` leaves out opens and clicks made by privacy proxies and link scanners, `raw` counts all. ' +
  'Delivered, bounced and complained come from the Resend webhook (POST /webhooks/resend); without it only sent, skipped, failed, opens, clicks and unsubscribes are known.';

export const emailReportRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/emails/{id}/report',
      operationId: 'getEmailReport',
      tags: ['Emails'],
      security,
      summary: "An email's report",
      description: `Every send of the email (API, campaign and broadcast sends alike). ${REPORT}`,
      request: { params: IdParam },
      responses: { 200: json(Report, 'The report'), ...errors(404) },
    }),
    async (c) => c.json(await emailReport({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/broadcasts/{id}/report',
      operationId: 'getBroadcastReport',
      tags: ['Emails'],
      security,
      summary: "A broadcast's report",
      description: `The broadcast's sends, with each A/B variant on its own. ${REPORT}`,
      request: { params: IdParam },
      responses: { 200: json(Report, 'The report'), ...errors(404) },
    }),
    async (c) => c.json(await broadcastReport({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/contacts/{id}/emails',
      operationId: 'listContactEmails',
      tags: ['Contacts'],
      security,
      summary: "A contact's email history",
      description:
        'The emails sent (or skipped, with the reason) to the contact, newest first, each with when it was delivered, opened, clicked, bounced, complained about or unsubscribed from. Tests are left out. The same happenings are email_* events on the contact\'s timeline (GET /contacts/{id}/events).',
      request: { params: IdParam, query: PageQuery },
      responses: { 200: json(page(ContactEmail, 'ContactEmailPage'), 'A page of sends'), ...errors(404) },
    }),
    async (c) => c.json(await contactEmails({ ctx: c.get('ctx'), input: { ...c.req.valid('query'), id: c.req.valid('param').id } }), 200),
  );
