import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import {
  archiveCampaign,
  CAMPAIGN_STATUSES,
  createCampaign,
  deleteCampaign,
  getCampaign,
  listCampaigns,
  pauseCampaign,
  publishCampaign,
  resumeCampaign,
  rotateCampaignSecret,
  updateCampaign,
} from '../../core/campaigns/campaigns';
import { kickCampaigns } from '../../core/campaigns/run';
import { defer } from '../defer';
import { DeletedSchema, errors, IdParam, json, jsonBody, page, PageQuery, security, type AppEnv } from '../shared';
import { CampaignInputSchema, CampaignPatchSchema, CampaignSchema, CampaignWithSecretSchema, PublishedCampaignSchema } from './schemas';

// Campaigns themselves: the working copy, publishing versions, the lifecycle, the signing secret.
// Contacts in campaigns, reports and step runs are in campaign-runs.ts.

const tags = ['Campaigns'];

const ABOUT =
  'A campaign is a working copy (`definition`, edited freely while draft, active or paused) and the versions published from it. ' +
  'Publishing freezes the working copy as the next version: new enrollments follow it, contacts already in the campaign finish on the version they entered with. ' +
  'Each step runs exactly once per contact and pass — a unique key on (campaign, step, contact, pass) in the database, whatever the number of schedulers or retries. ' +
  'A contact is in a campaign at most once at a time; `reentry` decides whether it may come back after its pass ended.';

export const campaignRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/campaigns',
      operationId: 'createCampaign',
      tags,
      security,
      summary: 'Create a campaign',
      description:
        ABOUT +
        ' A new campaign is a draft: nothing runs and nobody is enrolled until it is published. The definition is checked when saved and again when published: ' +
        'cycles, unreachable steps, unknown emails, segments, stages, forms and campaigns, waits that never end, splits not adding up to 100, non-transactional `notify` emails ' +
        'and webhook URLs on private addresses are 422s naming the field. The answer carries the webhook signing `secret`, shown here and on rotate-secret only.',
      request: { body: jsonBody(CampaignInputSchema) },
      responses: { 201: json(CampaignWithSecretSchema, 'Created, as a draft'), ...errors(415) },
    }),
    async (c) => c.json(await createCampaign({ ctx: c.get('ctx'), input: c.req.valid('json') }), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/campaigns',
      operationId: 'listCampaigns',
      tags,
      security,
      summary: 'List campaigns',
      description: 'Newest first, optionally by status.',
      request: { query: PageQuery.extend({ status: z.enum(CAMPAIGN_STATUSES).optional() }) },
      responses: { 200: json(page(CampaignSchema, 'CampaignPage'), 'A page of campaigns'), ...errors() },
    }),
    async (c) => c.json(await listCampaigns({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/campaigns/{id}',
      operationId: 'getCampaign',
      tags,
      security,
      summary: 'Get a campaign',
      description: 'With its working copy; `version` is the published version new enrollments get.',
      request: { params: IdParam },
      responses: { 200: json(CampaignSchema, 'The campaign'), ...errors(404) },
    }),
    async (c) => c.json(await getCampaign({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/campaigns/{id}',
      operationId: 'updateCampaign',
      tags,
      security,
      summary: 'Update a campaign',
      description:
        'Changes the name, the description or the working copy of the definition (checked as on create). A changed definition takes effect when published: ' +
        'until then the campaign keeps running its published version. Archived campaigns cannot change (409).',
      request: { params: IdParam, body: jsonBody(CampaignPatchSchema) },
      responses: { 200: json(CampaignSchema, 'Updated'), ...errors(404, 409, 415) },
    }),
    async (c) => c.json(await updateCampaign({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, patch: c.req.valid('json') } }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/campaigns/{id}',
      operationId: 'deleteCampaign',
      tags,
      security,
      summary: 'Delete a campaign',
      description: 'Drafts and archived campaigns only (409 for active or paused ones: archive first). Its versions, passes and step history go with it.',
      request: { params: IdParam },
      responses: { 200: json(DeletedSchema, 'Deleted'), ...errors(404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await deleteCampaign({ ctx: c.get('ctx'), input: { id } });
      return c.json({ id, deleted: true as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/campaigns/{id}/publish',
      operationId: 'publishCampaign',
      tags,
      security,
      summary: 'Publish the working copy as a new version',
      description:
        'Checks the working copy (422 naming the field), freezes it as version `version` + 1 and makes the campaign active (a paused campaign stays paused). ' +
        "Current members of its segment sources are enrolled at once, in the same transaction (`enrolled`); later joiners, form submissions and custom events enroll as they happen. " +
        'Contacts already in the campaign keep the version they entered with, to the end of their pass. Archived campaigns cannot be published (409).',
      request: { params: IdParam },
      responses: { 200: json(PublishedCampaignSchema, 'Published'), ...errors(404, 409) },
    }),
    async (c) => {
      const ctx = c.get('ctx');
      const out = await publishCampaign({ ctx, input: c.req.valid('param') });
      defer(c, kickCampaigns(ctx));
      return c.json(out, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/campaigns/{id}/pause',
      operationId: 'pauseCampaign',
      tags,
      security,
      summary: 'Pause a campaign',
      description:
        'Active campaigns only (409 otherwise). No step runs while paused: contacts stay at the step they are at, and waits and decision timeouts that come due wait for the resume. ' +
        'Goals still end passes, and decisions still note the events that satisfy them (the contact moves on after the resume). Nobody new is enrolled: the API answers 409, and ' +
        'contacts who join a segment source, submit the form or send the event while it is paused are not enrolled later.',
      request: { params: IdParam },
      responses: { 200: json(CampaignSchema, 'Paused'), ...errors(404, 409) },
    }),
    async (c) => c.json(await pauseCampaign({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/campaigns/{id}/resume',
      operationId: 'resumeCampaign',
      tags,
      security,
      summary: 'Resume a paused campaign',
      description: 'Paused campaigns only (409 otherwise). Steps that came due while paused run now; contacts continue where they stopped.',
      request: { params: IdParam },
      responses: { 200: json(CampaignSchema, 'Active again'), ...errors(404, 409) },
    }),
    async (c) => {
      const ctx = c.get('ctx');
      const out = await resumeCampaign({ ctx, input: c.req.valid('param') });
      defer(c, kickCampaigns(ctx));
      return c.json(out, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/campaigns/{id}/archive',
      operationId: 'archiveCampaign',
      tags,
      security,
      summary: 'Archive a campaign',
      description:
        'Ends it for good: every contact still in it leaves (pass `exited`, reason `archived`), their waiting and pending steps are cancelled and nothing runs again. ' +
        'The report and step history stay. An archived campaign cannot be edited, published or resumed (409); it can be deleted.',
      request: { params: IdParam },
      responses: { 200: json(CampaignSchema, 'Archived'), ...errors(404, 409) },
    }),
    async (c) => c.json(await archiveCampaign({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/campaigns/{id}/rotate-secret',
      operationId: 'rotateCampaignSecret',
      tags,
      security,
      summary: "Rotate the webhook signing secret",
      description: "A new secret for the campaign's webhook actions, shown in this answer only; deliveries not yet made are signed with it.",
      request: { params: IdParam },
      responses: { 200: json(CampaignWithSecretSchema, 'The campaign with its new secret'), ...errors(404) },
    }),
    async (c) => c.json(await rotateCampaignSecret({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  );
