import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Ctx } from '../../core/context';
import { createStage, deleteStage, getStage, listStages, setContactStage, StageInput, StagePatch, updateStage } from '../../core/scoring/stages';
import { createPointRule, deletePointRule, getPointRule, listPointRules, PointRuleInput, PointRulePatch, RuleFilter, updatePointRule } from '../../core/scoring/rules';
import { Action } from '../../core/scoring/actions';
import { adjustPoints, pointHistory } from '../../core/scoring/points';
import { createTrigger, deleteTrigger, getTrigger, listTriggers, rotateTriggerSecrets, TriggerInput, TriggerPatch, updateTrigger } from '../../core/scoring/triggers';
import { recordSalesFeedback, SalesFeedback } from '../../core/scoring/sales';
import { Timestamp, DeletedSchema, errors, IdParam, json, jsonBody, page, PageQuery, security, type AppEnv } from '../shared';

const Stage = z
  .object({ id: z.number().int(), name: z.string(), position: z.number().int(), is_mql: z.boolean(), contacts: z.number().int(), created_at: Timestamp })
  .openapi('Stage');
const PointRule = z
  .object({
    id: z.number().int(),
    name: z.string(),
    event_type: z.string(),
    filter: RuleFilter,
    delta: z.number().int(),
    repeatable: z.boolean(),
    cap: z.object({ count: z.number().int(), period: z.enum(['day', 'week', 'month']) }).nullable(),
    active: z.boolean(),
    form_id: z.number().int().nullable().openapi({ description: "Set when the rule scores a form's give_points action; such rules change with the form (PATCH and DELETE answer 409)" }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('PointRule');
const Trigger = z
  .object({
    id: z.number().int(),
    name: z.string(),
    threshold: z.number().int(),
    actions: z.array(Action).openapi({
      description:
        'A webhook action\'s signing `secret` is in the answers to create, to rotate-secret and to a PATCH that gave a webhook action a new URL (each shows the secrets it made), never in GET or list. A PATCH that sends a webhook action back without `secret` keeps the secret stored for that URL.',
    }),
    active: z.boolean(),
    fired: z.number().int().openapi({ description: 'Contacts it has fired for' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('PointTrigger');
// The five CRUD routes of one resource: the shapes differ, the HTTP contract
// and the calls into core do not.
function crud(
  app: OpenAPIHono<AppEnv>,
  o: {
    path: string;
    tag: string;
    noun: string;
    item: z.ZodType;
    /** The page schema's component name, e.g. StagePage. */
    pageName: string;
    /** Names for operationIds: `Stage` and `Stages` make listStages, createStage, getStage… */
    ids: { one: string; many: string };
    input: z.ZodType;
    patch: z.ZodType;
    core: {
      list: (a: { ctx: Ctx; input: { limit: number; cursor?: string } }) => Promise<unknown>;
      create: (a: { ctx: Ctx; input: never }) => Promise<unknown>;
      get: (a: { ctx: Ctx; input: { id: number } }) => Promise<unknown>;
      update: (a: { ctx: Ctx; input: { id: number; patch: never } }) => Promise<unknown>;
      remove: (a: { ctx: Ctx; input: { id: number } }) => Promise<void>;
    };
  },
) {
  const base = { tags: [o.tag], security };
  const id = (c: Context<AppEnv>) => (c.req.valid as (t: 'param') => { id: number })('param').id;
  const body = (c: Context<AppEnv>) => (c.req.valid as (t: 'json') => never)('json');
  const route = (r: Parameters<typeof createRoute>[0], h: (c: Context<AppEnv>) => Promise<Response>) => app.openapi(createRoute(r), h as never);
  route(
    { ...base, method: 'get', path: o.path, operationId: `list${o.ids.many}`, summary: `List ${o.noun}s`, request: { query: PageQuery }, responses: { 200: json(page(o.item, o.pageName), `A page of ${o.noun}s`), ...errors() } },
    async (c) => c.json(await o.core.list({ ctx: c.get('ctx'), input: (c.req.valid as (t: 'query') => { limit: number; cursor?: string })('query') }), 200),
  );
  route({ ...base, method: 'post', path: o.path, operationId: `create${o.ids.one}`, summary: `Create a ${o.noun}`, request: { body: jsonBody(o.input) }, responses: { 201: json(o.item, 'Created'), ...errors(409, 415) } }, async (c) =>
    c.json(await o.core.create({ ctx: c.get('ctx'), input: body(c) }), 201),
  );
  route({ ...base, method: 'get', path: `${o.path}/{id}`, operationId: `get${o.ids.one}`, summary: `Get a ${o.noun}`, request: { params: IdParam }, responses: { 200: json(o.item, `The ${o.noun}`), ...errors(404) } }, async (c) =>
    c.json(await o.core.get({ ctx: c.get('ctx'), input: { id: id(c) } }), 200),
  );
  route(
    { ...base, method: 'patch', path: `${o.path}/{id}`, operationId: `update${o.ids.one}`, summary: `Update a ${o.noun}`, request: { params: IdParam, body: jsonBody(o.patch) }, responses: { 200: json(o.item, 'Updated'), ...errors(404, 409, 415) } },
    async (c) => c.json(await o.core.update({ ctx: c.get('ctx'), input: { id: id(c), patch: body(c) } }), 200),
  );
  route({ ...base, method: 'delete', path: `${o.path}/{id}`, operationId: `delete${o.ids.one}`, summary: `Delete a ${o.noun}`, request: { params: IdParam }, responses: { 200: json(DeletedSchema, 'Deleted'), ...errors(404) } }, async (c) => {
    await o.core.remove({ ctx: c.get('ctx'), input: { id: id(c) } });
    return c.json({ id: id(c), deleted: true as const }, 200);
  });
}

const app = new OpenAPIHono<AppEnv>();

crud(app, {
  path: '/api/v1/stages',
  tag: 'Stages',
  noun: 'stage',
  item: Stage,
  pageName: 'StagePage',
  ids: { one: 'Stage', many: 'Stages' },
  input: StageInput.openapi('StageInput', { example: { name: 'Negotiation', position: 4, is_mql: false } }),
  patch: StagePatch.openapi('StagePatch'),
  core: { list: listStages, create: createStage, get: getStage, update: updateStage, remove: deleteStage },
});

crud(app, {
  path: '/api/v1/point-rules',
  tag: 'Points',
  noun: 'point rule',
  item: PointRule,
  pageName: 'PointRulePage',
  ids: { one: 'PointRule', many: 'PointRules' },
  input: PointRuleInput.openapi('PointRuleInput', {
    example: { name: 'Visited pricing', event_type: 'page_view', filter: { url: { op: 'contains', value: '/pricing' } }, delta: 10, repeatable: true, cap: { count: 3, period: 'day' } },
  }),
  patch: PointRulePatch.openapi('PointRulePatch'),
  core: { list: listPointRules, create: createPointRule, get: getPointRule, update: updatePointRule, remove: deletePointRule },
});

crud(app, {
  path: '/api/v1/point-triggers',
  tag: 'Points',
  noun: 'point trigger',
  item: Trigger,
  pageName: 'PointTriggerPage',
  ids: { one: 'PointTrigger', many: 'PointTriggers' },
  input: TriggerInput.openapi('PointTriggerInput', {
    example: { name: 'Sales-ready', threshold: 100, actions: [{ type: 'change_stage', stage_id: 3 }, { type: 'webhook', url: 'https://crm.example.com/hooks/leadline' }] },
  }),
  patch: TriggerPatch.openapi('PointTriggerPatch'),
  core: { list: listTriggers, create: createTrigger, get: getTrigger, update: updateTrigger, remove: deleteTrigger },
});

export const scoringRoutes = app
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/point-triggers/{id}/rotate-secret',
      operationId: 'rotatePointTriggerSecrets',
      tags: ['Points'],
      security,
      summary: "Rotate a trigger's webhook signing secrets",
      description:
        'Every webhook action gets a new secret; the old ones stop at once, for deliveries still waiting to be retried too. The new secrets are in this response only.',
      request: { params: IdParam },
      responses: { 200: json(Trigger, 'The trigger, its webhook actions with their new secrets'), ...errors(404) },
    }),
    async (c) => c.json(await rotateTriggerSecrets({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/contacts/{id}/points',
      operationId: 'adjustContactPoints',
      tags: ['Points'],
      security,
      summary: "Adjust a contact's points",
      description: 'add, subtract or set, with a reason kept in the point log and on the timeline (points_changed). Crossing a trigger threshold fires it.',
      request: {
        params: IdParam,
        body: jsonBody(
          z
            .strictObject({ op: z.enum(['add', 'subtract', 'set']), value: z.number().int().min(-1_000_000).max(1_000_000), reason: z.string().trim().min(1).max(200) })
            .openapi('PointsAdjustment', { example: { op: 'add', value: 25, reason: 'Attended webinar' } }),
        ),
      },
      responses: { 200: json(z.object({ points: z.number().int() }), 'The new score'), ...errors(404, 415) },
    }),
    async (c) => c.json(await adjustPoints({ ctx: c.get('ctx'), input: { contactId: c.req.valid('param').id, ...c.req.valid('json') } }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/contacts/{id}/points',
      operationId: 'listContactPoints',
      tags: ['Points'],
      security,
      summary: "A contact's point log",
      request: { params: IdParam, query: PageQuery },
      responses: {
        200: json(
          page(
            z
              .object({ id: z.number().int(), rule_id: z.number().int().nullable(), event_id: z.number().int().nullable(), delta: z.number().int(), reason: z.string(), created_at: Timestamp })
              .openapi('PointLogEntry'),
            'PointLogPage',
          ),
          'Newest first',
        ),
        ...errors(404),
      },
    }),
    async (c) => c.json(await pointHistory({ ctx: c.get('ctx'), input: { contactId: c.req.valid('param').id, ...c.req.valid('query') } }), 200),
  )
  .openapi(
    createRoute({
      method: 'put',
      path: '/api/v1/contacts/{id}/stage',
      operationId: 'setContactStage',
      tags: ['Stages'],
      security,
      summary: 'Move a contact to a stage',
      description: 'stage_id null clears the stage. The change is a stage_changed event naming the actor (the API, or the person given in `by`).',
      request: {
        params: IdParam,
        body: jsonBody(z.strictObject({ stage_id: z.number().int().positive().nullable(), by: z.string().trim().min(1).max(200).optional() }).openapi('SetStage')),
      },
      responses: { 200: json(z.object({ contact_id: z.number().int(), stage_id: z.number().int().nullable() }), 'Moved'), ...errors(404, 415) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      await setContactStage({ ctx: c.get('ctx'), input: { contactId: id, stageId: body.stage_id, actor: body.by ? { type: 'person', name: body.by } : { type: 'api' } } });
      return c.json({ contact_id: id, stage_id: body.stage_id }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/contacts/{id}/sales-feedback',
      operationId: 'recordSalesFeedback',
      tags: ['Sales'],
      security,
      summary: 'Tell marketing what became of a lead',
      description:
        'accepted, rejected (with reason), won (value, currency, date) or lost; each is an event on the timeline and feeds the funnel reports (lead-scoring, follow-up). ' +
        'won and lost go through deals (POST /api/v1/deals): won creates a won deal "Won via sales feedback" (amount = value, closed on `date` or now), lost marks the contact\'s newest open deal lost (or records a lost deal of amount 0 when none is open); ' +
        'their deal_won / deal_lost events and stage moves are the deals\' ones, and the answer names the deal.',
      request: {
        params: IdParam,
        body: jsonBody(SalesFeedback.openapi('SalesFeedback', { example: { outcome: 'won', value: 12000, currency: 'EUR', date: '2026-11-20' } })),
      },
      responses: {
        201: json(
          z.object({ event_id: z.number().int(), type: z.string(), deal_id: z.number().int().optional().openapi({ description: 'won and lost: the deal it created or closed' }) }),
          'Recorded',
        ),
        ...errors(404, 415),
      },
    }),
    async (c) => c.json(await recordSalesFeedback({ ctx: c.get('ctx'), input: { contactId: c.req.valid('param').id, feedback: c.req.valid('json') } }), 201),
  );
