import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { contactCampaigns, enrollContacts, removeContact } from '../../core/campaigns/membership';
import { campaignReport, listStepRuns, retryFailed, STEP_STATUSES } from '../../core/campaigns/reports';
import { kickCampaigns } from '../../core/campaigns/run';
import { defer } from '../defer';
import { errors, IdParam, idNumber, json, jsonBody, page, PageQuery, security, type AppEnv } from '../shared';
import { CampaignReportSchema, ContactCampaignSchema, EnrollResultSchema, EnrollInputSchema, RetriedSchema, StepRunSchema } from './schemas';

// Contacts in campaigns and what the campaigns did: enrolling and removing by hand, the report,
// the step runs, retrying failed steps, and one contact's passes.

const tags = ['Campaigns'];

const ContactParams = IdParam.extend({
  contactId: idNumber().openapi({ param: { name: 'contactId', in: 'path' }, type: 'integer' }),
});
const RunParams = IdParam.extend({
  runId: idNumber().openapi({ param: { name: 'runId', in: 'path' }, type: 'integer', description: 'A step run id (from GET /campaigns/{id}/steps)' }),
});

const RETRY =
  'A step fails when running it throws (an email or segment it names was deleted, a filter no longer compiles): it is retried after 30 s, 2 min, 10 min and 1 h, ' +
  'and the 5th failure parks it as `failed` (visible in the report\'s `errors` and GET /campaigns/{id}/steps?status=failed). Fix the cause, then retry: the step runs again now, ' +
  'with a fresh failure count, on the version the contact entered with (a parked wait or decision starts over). Steps of passes that have ended are not retried.';

export const campaignRunRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/campaigns/{id}/contacts',
      operationId: 'enrollCampaignContacts',
      tags,
      security,
      summary: 'Enroll contacts by hand',
      description:
        'Up to 1,000 contacts at once, into the published version; active campaigns only (409 for drafts, paused and archived ones). Merged ids count as their survivor. ' +
        'A contact already in the campaign, or not allowed back yet by `reentry`, is not enrolled again and is listed in `not_enrolled`, as are unknown ids. ' +
        'Their first step runs right after the answer.',
      request: { params: IdParam, body: jsonBody(EnrollInputSchema) },
      responses: { 200: json(EnrollResultSchema, 'Who was enrolled'), ...errors(404, 409, 415) },
    }),
    async (c) => {
      const ctx = c.get('ctx');
      const out = await enrollContacts({ ctx, input: { id: c.req.valid('param').id, contactIds: c.req.valid('json').contact_ids } });
      defer(c, kickCampaigns(ctx));
      return c.json(out, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/campaigns/{id}/contacts/{contactId}',
      operationId: 'removeCampaignContact',
      tags,
      security,
      summary: 'Take a contact out of a campaign',
      description: "Ends the contact's current pass now (`exited`, reason `removed`) and cancels its open steps. 404 when it is not in the campaign.",
      request: { params: ContactParams },
      responses: { 204: { description: 'Removed' }, ...errors(404) },
    }),
    async (c) => {
      const { id, contactId } = c.req.valid('param');
      await removeContact({ ctx: c.get('ctx'), input: { id, contactId } });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/campaigns/{id}/report',
      operationId: 'getCampaignReport',
      tags,
      security,
      summary: 'Report on a campaign',
      description:
        'Passes entered, active, completed, exited and converted, the conversion rate and conversions per goal; per step of the published version: how many reached it, ' +
        'how many wait there, completed, were skipped (by reason), failed or were cancelled, the branches taken and the errors of failing steps.',
      request: { params: IdParam },
      responses: { 200: json(CampaignReportSchema, 'The report'), ...errors(404) },
    }),
    async (c) => c.json(await campaignReport({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/campaigns/{id}/steps',
      operationId: 'listCampaignStepRuns',
      tags,
      security,
      summary: 'List step runs',
      description: 'One row per contact, pass and step reached, newest first; by status (e.g. `failed`) and step id.',
      request: {
        params: IdParam,
        query: PageQuery.extend({
          status: z.enum(STEP_STATUSES).optional(),
          step_id: z.string().max(40).optional().openapi({ description: 'A step id of the definition' }),
        }),
      },
      responses: { 200: json(page(StepRunSchema, 'CampaignStepRunPage'), 'A page of step runs'), ...errors(404) },
    }),
    async (c) => c.json(await listStepRuns({ ctx: c.get('ctx'), input: { ...c.req.valid('query'), id: c.req.valid('param').id } }), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/campaigns/{id}/steps/{runId}/retry',
      operationId: 'retryCampaignStepRun',
      tags,
      security,
      summary: 'Retry a failed step',
      description: RETRY + ' 404 when the run is not a failed step of an active pass.',
      request: { params: RunParams },
      responses: { 200: json(RetriedSchema, 'Queued to run again'), ...errors(404) },
    }),
    async (c) => {
      const ctx = c.get('ctx');
      const { id, runId } = c.req.valid('param');
      const out = await retryFailed({ ctx, input: { id, runId } });
      defer(c, kickCampaigns(ctx));
      return c.json(out, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/campaigns/{id}/retry',
      operationId: 'retryCampaignFailedSteps',
      tags,
      security,
      summary: 'Retry every failed step',
      description: RETRY + ' `retried` says how many were queued (0 when none had failed).',
      request: { params: IdParam },
      responses: { 200: json(RetriedSchema, 'Queued to run again'), ...errors(404) },
    }),
    async (c) => {
      const ctx = c.get('ctx');
      const out = await retryFailed({ ctx, input: { id: c.req.valid('param').id } });
      defer(c, kickCampaigns(ctx));
      return c.json(out, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/contacts/{id}/campaigns',
      operationId: 'listContactCampaigns',
      tags,
      security,
      summary: "A contact's campaigns",
      description: 'Every pass of the contact through a campaign, newest first, with where it is now and the path it took: each step reached, its outcome and branch.',
      request: { params: IdParam, query: PageQuery },
      responses: { 200: json(page(ContactCampaignSchema, 'ContactCampaignPage'), "A page of the contact's passes"), ...errors(404) },
    }),
    async (c) => c.json(await contactCampaigns({ ctx: c.get('ctx'), input: { ...c.req.valid('query'), contactId: c.req.valid('param').id } }), 200),
  );
