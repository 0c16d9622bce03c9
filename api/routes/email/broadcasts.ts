import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { AB_METRICS, BROADCAST_STATUSES, BroadcastInput, cancelBroadcast, createBroadcast, getBroadcast, listBroadcasts } from '../../core/email/broadcasts';
import { runBroadcasts } from '../../core/email/broadcast-run';
import { kickSendLoop } from '../../core/email/loop';
import { defer } from '../defer';
import { errors, IdParam, idNumber, json, jsonBody, page, PageQuery, security, Timestamp, type AppEnv } from '../shared';

const tags = ['Broadcasts'];

const AbTestSchema = z
  .object({
    subjects: z.array(z.string()),
    sample_percent: z.number().int(),
    metric: z.enum(AB_METRICS),
    decide_after: z.number().int().openapi({ description: 'Seconds after the start' }),
    decide_at: Timestamp.nullable().openapi({ description: 'When the winner is picked (null until the broadcast starts)' }),
    winner: z.string().nullable().openapi({ description: "'a', 'b', …; null until decided" }),
    decided_at: Timestamp.nullable(),
    results: z
      .array(z.object({ variant: z.string(), sent: z.number().int(), opened: z.number().int(), clicked: z.number().int(), rate: z.number() }))
      .optional()
      .openapi({ description: 'Per variant at the decision: sent, human opens and clicks, the rate of the metric' }),
  })
  .openapi('BroadcastAbTest');

export const BroadcastSchema = z
  .object({
    id: z.number().int(),
    email_id: z.number().int(),
    segment_ids: z.array(z.number().int()),
    status: z.enum(BROADCAST_STATUSES).openapi({ description: 'scheduled → sending → sent, or cancelled (draft is not made by the API)' }),
    send_at: Timestamp,
    ab_test: AbTestSchema.nullable(),
    created_at: Timestamp,
    started_at: Timestamp.nullable(),
    finished_at: Timestamp.nullable(),
  })
  .openapi('Broadcast');

const CancelledSchema = BroadcastSchema.extend({
  cancelled_sends: z.number().int().openapi({ description: 'Sends not yet in a provider call, removed' }),
}).openapi('CancelledBroadcast');

const ABOUT =
  'The email must be of kind `broadcast`. Its members (the union of the segments: a contact in two gets one message) get one send row each, ' +
  'unique per email and contact (reason `broadcast:<email id>`): an email reaches a contact once, so a later broadcast of the same email reaches only contacts ' +
  'without a row (new members, those a cancel left out). Rows are written in chunks by the `emails` job (Node timer, Workers cron, `POST /jobs/emails`), ' +
  'suppressed and capped contacts as `skipped` rows with the reason. With `send_at` in the future it waits until then. ' +
  '`ab_test`: about `sample_percent` % of the recipients (a deterministic pseudo-random draw per contact) are split about evenly between the subject ' +
  'variants a, b, …; `decide_after` seconds after the start the variant with the highest human open (or click) rate, per sent message, wins — ' +
  'a tie goes to the earlier variant — and the rest get the winning subject. Send with an Idempotency-Key to make a retry safe.';

export const broadcastRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/emails/{id}/broadcast',
      operationId: 'broadcastEmail',
      tags,
      security,
      summary: 'Broadcast an email to segments',
      description: ABOUT,
      request: {
        params: IdParam,
        body: jsonBody(
          BroadcastInput.openapi('BroadcastInput', {
            example: { segment_ids: [1], ab_test: { subjects: ['Our spring sale', 'Spring sale: 20% off, {{ contact.first_name | default: "friend" }}'], sample_percent: 20, metric: 'open', decide_after: 14400 } },
          }),
        ),
      },
      responses: { 202: json(BroadcastSchema, 'Scheduled: the emails job starts it when due'), ...errors(404, 409, 415) },
    }),
    async (c) => {
      const ctx = c.get('ctx');
      const b = await createBroadcast({ ctx, input: { emailId: c.req.valid('param').id, body: c.req.valid('json') } });
      // Due now: start writing rows and sending after the answer rather than at the next job run.
      if (Date.parse(b.send_at) <= ctx.now()) defer(c, runBroadcasts(ctx, { budgetMs: 2_000 }).then(() => kickSendLoop(ctx)));
      return c.json(b, 202);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/broadcasts',
      operationId: 'listBroadcasts',
      tags,
      security,
      summary: 'List broadcasts',
      description: 'Newest first.',
      request: { query: PageQuery.extend({ status: z.enum(BROADCAST_STATUSES).optional(), email_id: idNumber().optional().openapi({ type: 'integer' }) }) },
      responses: { 200: json(page(BroadcastSchema, 'BroadcastPage'), 'A page of broadcasts'), ...errors() },
    }),
    async (c) => c.json(await listBroadcasts({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/broadcasts/{id}',
      operationId: 'getBroadcast',
      tags,
      security,
      summary: 'Get a broadcast',
      request: { params: IdParam },
      responses: { 200: json(BroadcastSchema, 'The broadcast'), ...errors(404) },
    }),
    async (c) => c.json(await getBroadcast({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/broadcasts/{id}/cancel',
      operationId: 'cancelBroadcast',
      tags,
      security,
      summary: 'Cancel a broadcast',
      description:
        'Only before it finished (409 once sent or cancelled). No more rows are written; sends not yet in a provider call are removed, so a later broadcast of the email can reach those contacts. Sends already made (or in a call) stay.',
      request: { params: IdParam },
      responses: { 200: json(CancelledSchema, 'Cancelled'), ...errors(404, 409) },
    }),
    async (c) => c.json(await cancelBroadcast({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  );
