import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { createDeal, deleteDeal, getDeal, listDeals, updateDeal } from '../../core/deals/deals';
import { getPipelineSettings, updatePipelineSettings } from '../../core/deals/settings';
import {
  createDealIntegration,
  deleteDealIntegration,
  getDealIntegration,
  listDealIntegrations,
  rotateDealIntegrationSecret,
} from '../../core/deals/integrations';
import { DeletedSchema, errors, IdParam, json, jsonBody, page, PageQuery, security, type AppEnv } from '../shared';
import {
  DealInputSchema,
  DealIntegrationInputSchema,
  DealIntegrationSchema,
  DealIntegrationWithSecretSchema,
  DealPatchSchema,
  DealQuery,
  DealSchema,
  PipelineSettingsPatchSchema,
  PipelineSettingsSchema,
} from './schemas';

// Deals (sales opportunities), the pipeline settings that say how deals move contacts along the
// funnel, and the CRM integrations that push deals to POST /webhooks/deals.

const tags = ['Deals'];

const EFFECTS =
  'A deal becoming won (on create or update) is a `deal_won` event on the contact\'s timeline at closed_at (props deal_id, name, amount, currency, value, owner); becoming lost is `deal_lost` (deal_id, reason). ' +
  'Saving a won deal as won again writes nothing new; won → open → won writes a second deal_won. ' +
  'The contact then moves to the stage the pipeline settings name (won → won_stage_id, lost → lost_stage_id, a deal created open → open_stage_id), only forward: a contact already at a later stage (say Delight) stays there. ' +
  'Deal, event and stage change commit together.';

export const dealRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/deals',
      operationId: 'createDeal',
      tags,
      security,
      summary: 'Create a deal',
      description:
        'contact_id (a merged contact\'s old id resolves to the survivor) and company_id must exist (422 naming the field). amount is in major units with at most two decimals (0 to 10^12), currency an ISO 4217 code. ' +
        EFFECTS,
      request: { body: jsonBody(DealInputSchema) },
      responses: { 201: json(DealSchema, 'Created'), ...errors(415) },
    }),
    async (c) => c.json(await createDeal({ ctx: c.get('ctx'), input: c.req.valid('json') }), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/deals',
      operationId: 'listDeals',
      tags,
      security,
      summary: 'List deals',
      description: 'Oldest first; filter by contact, stage, owner, or changed since an instant (for syncing).',
      request: { query: DealQuery },
      responses: { 200: json(page(DealSchema, 'DealPage'), 'A page of deals'), ...errors() },
    }),
    async (c) => c.json(await listDeals({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/deals/{id}',
      operationId: 'getDeal',
      tags,
      security,
      summary: 'Get a deal',
      request: { params: IdParam },
      responses: { 200: json(DealSchema, 'The deal'), ...errors(404) },
    }),
    async (c) => c.json(await getDeal({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/deals/{id}',
      operationId: 'updateDeal',
      tags,
      security,
      summary: 'Update a deal',
      description: 'Changes the fields given; null clears an optional one. Reopening a deal (stage open) clears closed_at. ' + EFFECTS,
      request: { params: IdParam, body: jsonBody(DealPatchSchema) },
      responses: { 200: json(DealSchema, 'Updated'), ...errors(404, 415) },
    }),
    async (c) => c.json(await updateDeal({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, patch: c.req.valid('json') } }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/deals/{id}',
      operationId: 'deleteDeal',
      tags,
      security,
      summary: 'Delete a deal',
      description: 'Its events stay on the timeline and the contact keeps its stage; reports no longer count it.',
      request: { params: IdParam },
      responses: { 200: json(DeletedSchema, 'Deleted'), ...errors(404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await deleteDeal({ ctx: c.get('ctx'), input: { id } });
      return c.json({ id, deleted: true as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/pipeline-settings',
      operationId: 'getPipelineSettings',
      tags,
      security,
      summary: 'Get the pipeline settings',
      description:
        'Which stage a contact moves to when one of its deals is won, lost or opened (default: won → the stage named Close, none for lost and open), the stage that means a happy customer (default: Delight; reports only), and the marketing–sales agreement: sales follows up a marketing-qualified lead within follow_up_hours (default 24).',
      responses: { 200: json(PipelineSettingsSchema, 'The settings in force'), ...errors() },
    }),
    async (c) => c.json(await getPipelineSettings(c.get('ctx')), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/pipeline-settings',
      operationId: 'updatePipelineSettings',
      tags,
      security,
      summary: 'Change the pipeline settings',
      description: 'Changes the settings given; a stage id must name an existing stage (422), null means no stage move. Takes effect for deals saved from now on.',
      request: { body: jsonBody(PipelineSettingsPatchSchema) },
      responses: { 200: json(PipelineSettingsSchema, 'The settings in force'), ...errors(415) },
    }),
    async (c) => c.json(await updatePipelineSettings({ ctx: c.get('ctx'), input: c.req.valid('json') }), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/deal-integrations',
      operationId: 'createDealIntegration',
      tags,
      security,
      summary: 'Connect a CRM',
      description:
        'A CRM that pushes its deals to POST /webhooks/deals?integration={id}, signing each delivery with the Standard Webhooks scheme and the `secret` in this answer (shown here and on rotate-secret only).',
      request: { body: jsonBody(DealIntegrationInputSchema) },
      responses: { 201: json(DealIntegrationWithSecretSchema, 'Created, with its secret'), ...errors(415) },
    }),
    async (c) => c.json(await createDealIntegration({ ctx: c.get('ctx'), input: c.req.valid('json') }), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/deal-integrations',
      operationId: 'listDealIntegrations',
      tags,
      security,
      summary: 'List CRM integrations',
      description: 'Without their secrets.',
      request: { query: PageQuery },
      responses: { 200: json(page(DealIntegrationSchema, 'DealIntegrationPage'), 'A page of integrations'), ...errors() },
    }),
    async (c) => c.json(await listDealIntegrations({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/deal-integrations/{id}',
      operationId: 'getDealIntegration',
      tags,
      security,
      summary: 'Get a CRM integration',
      description: 'Without its secret: rotate it to get a new one.',
      request: { params: IdParam },
      responses: { 200: json(DealIntegrationSchema, 'The integration'), ...errors(404) },
    }),
    async (c) => c.json(await getDealIntegration({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/deal-integrations/{id}',
      operationId: 'deleteDealIntegration',
      tags,
      security,
      summary: 'Disconnect a CRM',
      description: 'Its webhook deliveries are refused from now on; the deals it pushed stay.',
      request: { params: IdParam },
      responses: { 200: json(DeletedSchema, 'Deleted'), ...errors(404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await deleteDealIntegration({ ctx: c.get('ctx'), input: { id } });
      return c.json({ id, deleted: true as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/deal-integrations/{id}/rotate-secret',
      operationId: 'rotateDealIntegrationSecret',
      tags,
      security,
      summary: 'Rotate a CRM integration\'s signing secret',
      description: 'A new secret, shown in this answer only; deliveries signed with the old one are refused from now on.',
      request: { params: IdParam },
      responses: { 200: json(DealIntegrationWithSecretSchema, 'The integration with its new secret'), ...errors(404) },
    }),
    async (c) => c.json(await rotateDealIntegrationSecret({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  );
