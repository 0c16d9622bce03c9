import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { SlotInput, SlotPatch, SlotRule, SlotVariant } from '../../core/slots/schema';
import { createSlot, deleteSlot, getSlot, listSlots, updateSlot } from '../../core/slots/slots';
import { slotStats } from '../../core/slots/stats';
import { DeletedSchema, errors, IdParam, idNumber, json, jsonBody, page, PageQuery, security, Timestamp, type AppEnv } from '../shared';

const tags = ['Slots'];

const SLOT_DOC =
  'A slot is a place on the site\'s own pages, `<div data-leadline-slot="NAME">default content</div>`, that the script tag fills for each visitor. ' +
  'name: what the pages call it (unique per site, 409 otherwise). variants: content in Markdown (rendered) or HTML, sanitised as landing pages are (no script, style, iframe, SVG, event handlers or style attributes; links http(s), mailto:, tel: or relative). ' +
  'rules: tried in order, the first that holds picks its variant; when none holds the page keeps its own content (variant "default" in events and stats). ' +
  'A rule\'s `when` is `{"identity": "anonymous" | "known" | "any"}`, `{"stage_id": 3}` (the contact is at that stage) or `{"filter": <segment filter>}` (the contact matches it; `{"segment": 12}` for a saved segment). ' +
  'known, stage and filter rules hold only for a browser that proved who it is (signed identify, signed email click, API link); a browser that only typed an email into a form is anonymous. ' +
  'The content is resolved in GET /focus, the request the tag already makes after a page view (none is made for a site with no focus items and no active slots); a view of a slot is a slot_view event, a click inside one a slot_click event (props slot_id, slot, variant), which point rules (filter.slot_id) and campaign decisions (event slot_click) can use.';

const SlotSchema = z
  .object({
    id: z.number().int(),
    site_id: z.number().int(),
    name: z.string(),
    description: z.string(),
    active: z.boolean(),
    variants: z.array(SlotVariant.openapi('SlotVariant')),
    rules: z.array(SlotRule.openapi('SlotRule')),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Slot');

const Counts = { views: z.number().int(), clicks: z.number().int(), click_rate: z.number() };
const SlotStats = z
  .object({
    id: z.number().int(),
    from: z.string().nullable(),
    to: z.string().nullable(),
    totals: z.object(Counts),
    variants: z.array(z.object({ key: z.string(), ...Counts })),
  })
  .openapi('SlotStats');

const ListQuery = PageQuery.extend({
  site_id: idNumber().optional().openapi({ type: 'integer' }),
  active: z.enum(['true', 'false']).optional(),
});

const StatsQuery = z.object({
  from: z.string().max(40).optional().openapi({ description: 'Start (inclusive): 2026-06-01 or an ISO date-time' }),
  to: z.string().max(40).optional().openapi({ description: 'End (exclusive); a bare date includes that day' }),
});

const EXAMPLE = {
  site_id: 1,
  name: 'hero',
  description: 'Home page hero',
  variants: [
    { key: 'customers', format: 'markdown', content: '## Welcome back\n\n[See what is new this month](https://example.com/changelog)' },
    { key: 'returning', format: 'html', content: '<h2>Good to see you again</h2><p><a href="/pricing">Compare plans</a></p>' },
  ],
  rules: [
    { when: { filter: { tag: 'customer' } }, variant: 'customers' },
    { when: { identity: 'known' }, variant: 'returning' },
  ],
};

export const slotRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/slots',
      operationId: 'createSlot',
      tags,
      security,
      summary: 'Create a slot (dynamic web content)',
      description: SLOT_DOC,
      request: { body: jsonBody(SlotInput.openapi('SlotInput', { example: EXAMPLE as never })) },
      responses: { 201: json(SlotSchema, 'Created'), ...errors(409, 415) },
    }),
    async (c) => c.json(await createSlot({ ctx: c.get('ctx'), input: c.req.valid('json') }), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/slots',
      operationId: 'listSlots',
      tags,
      security,
      summary: 'List slots',
      request: { query: ListQuery },
      responses: { 200: json(page(SlotSchema, 'SlotPage'), 'A page of slots'), ...errors() },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await listSlots({ ctx: c.get('ctx'), input: { ...q, active: q.active === undefined ? undefined : q.active === 'true' } }), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/slots/{id}',
      operationId: 'getSlot',
      tags,
      security,
      summary: 'Get a slot',
      request: { params: IdParam },
      responses: { 200: json(SlotSchema, 'The slot'), ...errors(404) },
    }),
    async (c) => c.json(await getSlot({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/slots/{id}',
      operationId: 'updateSlot',
      tags,
      security,
      summary: 'Update a slot',
      description: 'Each field given replaces the stored one (variants and rules as a whole); the result is checked as a whole. Page views see the change from the next one on (other server processes within 10 seconds).',
      request: { params: IdParam, body: jsonBody(SlotPatch.openapi('SlotPatch')) },
      responses: { 200: json(SlotSchema, 'Updated'), ...errors(404, 409, 415) },
    }),
    async (c) => c.json(await updateSlot({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, patch: c.req.valid('json') } }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/slots/{id}',
      operationId: 'deleteSlot',
      tags,
      security,
      summary: 'Delete a slot',
      description: 'Pages keep their own content in its place. Its view and click events stay in the event log.',
      request: { params: IdParam },
      responses: { 200: json(DeletedSchema, 'Deleted'), ...errors(404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await deleteSlot({ ctx: c.get('ctx'), input: { id } });
      return c.json({ id, deleted: true as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/slots/{id}/stats',
      operationId: 'getSlotStats',
      tags,
      security,
      summary: 'Views and clicks, per variant',
      description:
        'From the event log: slot_view and slot_click events of this slot, per variant ("default": the page\'s own content, shown when no rule held). Every variant is listed, counted or not; variants since removed are listed while they have events. click_rate = clicks / views.',
      request: { params: IdParam, query: StatsQuery },
      responses: { 200: json(SlotStats, 'Counts and click rates'), ...errors(404) },
    }),
    async (c) => c.json(await slotStats({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, ...c.req.valid('query') } }), 200),
  );
