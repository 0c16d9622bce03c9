import { VISITOR_ID } from '../../core/tracking/site-access';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { getVisitor, listContactEvents } from '../../core/tracking/history';
import { resolveVisitor } from '../../core/contacts/resolve';
import { mergeContacts } from '../../core/contacts/merge';
import { getSite } from '../../core/tracking/sites';
import { idNumber, Timestamp, errors, IdParam, json, jsonBody, page, PageQuery, security, type AppEnv } from '../shared';
import { Contact } from '../contacts/schemas';

const Event = z
  .object({
    id: z.number().int(),
    type: z.string().openapi({ example: 'page_view' }),
    name: z.string().nullable().openapi({ description: "The custom event's name; on a contact's timeline, the name of what the event concerns: the email of email_* events, the form of form_* events, the segment of segment_joined/segment_left, the asset downloaded, the focus item of focus_* events" }),
    url: z.string().nullable(),
    referrer: z.string().nullable(),
    title: z.string().nullable(),
    props: z.record(z.string(), z.unknown()),
    site_id: z.number().int().nullable(),
    visitor_id: z.number().int().nullable(),
    contact_id: z.number().int().nullable(),
    created_at: Timestamp,
  })
  .openapi('Event');

const Visitor = z
  .object({
    id: z.number().int(),
    site_id: z.number().int(),
    visitor_id: z.string().openapi({ description: "The browser's id (ll_vid)" }),
    contact_id: z.number().int().nullable(),
    first_seen_at: Timestamp,
    last_seen_at: Timestamp,
    page_views: z.number().int(),
    source: z.record(z.string(), z.string()).nullable(),
    browser: z.string().nullable(),
    os: z.string().nullable(),
    device: z.string().nullable(),
    country: z.string().nullable(),
    recent_events: z.array(Event),
  })
  .openapi('Visitor');

const isoDate = z
  .string()
  .max(40)
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date or date-time')
  .transform((s) => Date.parse(s));

const EventQuery = PageQuery.extend({
  type: z
    .string()
    .max(500)
    .optional()
    .transform((s) => s?.split(',').map((t) => t.trim()).filter(Boolean))
    .openapi({ description: 'Comma-separated event types, e.g. page_view,form_submit', type: 'string' }),
  from: isoDate.optional().openapi({ description: 'Only events at or after this time', type: 'string' }),
  to: isoDate.optional().openapi({ description: 'Only events before this time', type: 'string' }),
});

const VisitorRef = z.strictObject({
  site_id: z.number().int().positive(),
  visitor_id: VISITOR_ID.openapi({ description: "The browser's visitor id (what the tracker keeps as ll_vid)" }),
});

export const historyRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/contacts/{id}/events',
      operationId: 'listContactEvents',
      tags: ['Timeline'],
      security,
      summary: "A contact's timeline",
      description: 'Events newest first, including what the contact did as an anonymous visitor before being identified.',
      request: { params: IdParam, query: EventQuery },
      responses: { 200: json(page(Event, 'EventPage'), 'A page of events'), ...errors(404) },
    }),
    async (c) =>
      c.json(await listContactEvents({ ctx: c.get('ctx'), input: { ...c.req.valid('query'), id: c.req.valid('param').id } }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/visitors/{id}',
      operationId: 'getVisitor',
      tags: ['Timeline'],
      security,
      summary: 'Get a visitor',
      description: 'An anonymous or identified browser: first-touch source, device, country and its latest 50 events.',
      request: { params: IdParam },
      responses: { 200: json(Visitor, 'The visitor'), ...errors(404) },
    }),
    async (c) => c.json(await getVisitor({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/visitors',
      operationId: 'findVisitor',
      tags: ['Timeline'],
      security,
      summary: "Find a visitor by the browser's id",
      request: {
        query: z.object({ site_id: idNumber(), visitor_id: VisitorRef.shape.visitor_id }),
      },
      responses: { 200: json(Visitor, 'The visitor'), ...errors(404) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await getVisitor({ ctx: c.get('ctx'), input: { siteId: q.site_id, uid: q.visitor_id } }), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/contacts/{id}/visitors',
      operationId: 'linkVisitor',
      tags: ['Timeline'],
      security,
      summary: 'Link a visitor to a contact',
      description:
        "Tells Leadline that this browser is this contact (e.g. after a login in your app). The visitor's anonymous history joins the contact's timeline.",
      request: { params: IdParam, body: jsonBody(VisitorRef.openapi('VisitorRef')) },
      responses: { 200: json(z.object({ contact_id: z.number().int(), visitor_id: z.number().int() }), 'Linked'), ...errors(404, 415) },
    }),
    async (c) => {
      const ctx = c.get('ctx');
      const body = c.req.valid('json');
      await getSite({ ctx, input: { id: body.site_id } });
      const r = await resolveVisitor({
        ctx,
        input: { siteId: body.site_id, uid: body.visitor_id, identity: { contactId: c.req.valid('param').id }, via: 'api' },
      });
      return c.json({ contact_id: r.contactId, visitor_id: r.visitorId }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/contacts/{id}/merge',
      operationId: 'mergeContacts',
      tags: ['Contacts'],
      security,
      summary: 'Merge another contact into this one',
      description:
        "Moves the other contact's events, visitors, tags, companies, do-not-contact entries and points here; this contact's field values win and the other's fill gaps. The other id keeps resolving to this contact.",
      request: { params: IdParam, body: jsonBody(z.strictObject({ contact_id: z.number().int().positive() }).openapi('MergeContact')) },
      responses: { 200: json(Contact, 'The surviving contact'), ...errors(404, 415) },
    }),
    async (c) =>
      c.json(
        await mergeContacts({
          ctx: c.get('ctx'),
          input: { survivorId: c.req.valid('param').id, mergedId: c.req.valid('json').contact_id, reason: 'api' },
        }),
        200,
      ),
  );
