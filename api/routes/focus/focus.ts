import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { Hono, type Context } from 'hono';
import {
  createFocusItem,
  deleteFocusItem,
  getFocusItem,
  listFocusItems,
  updateFocusItem,
} from '../../core/focus/focus-items';
import { focusForVisitor } from '../../core/focus/public';
import { slotsForVisitor } from '../../core/slots/resolve';
import { focusStats } from '../../core/focus/stats';
import { FocusItemPreviewInput, previewFocusItem } from '../../core/focus/preview';
import { PublicForm } from '../forms/forms';
import { baseUrl } from '../forms/public';
import {
  Content,
  DEVICES,
  FocusItemInput,
  FocusItemPatch,
  Frequency,
  HttpUrl,
  Style,
  Targeting,
  Trigger,
  Variant,
} from '../../core/focus/schema';
import { AppError, ValidationError, zodErrors } from '../../core/errors';
import { requireSite, SITE_KEY, VISITOR_ID } from '../../core/tracking/site-access';
import { parseUserAgent } from '../../core/tracking/enrich';
import { originOf } from '../public';
import { idNumber, Timestamp, DeletedSchema, errors, IdParam, json, jsonBody, page, PageQuery, security, type AppEnv } from '../shared';

const tags = ['Focus items'];

const ITEM_DOC =
  'A bar (top/bottom, sticky), modal, slide-in (corner) or full-screen pop-up showing a notice, a link with a call to action, or an embedded form. ' +
  'trigger: load | delay (seconds) | scroll (percent) | exit_intent | click (a simple CSS selector: tag, #id, .class, [attr="value"], joined by spaces, > or commas) | pageviews (count). ' +
  'targeting.urls: any rule matches (empty: every page); a value starting with "/" is compared with the path and query, any other with the whole URL; equals/contains/starts_with ignore case; regex patterns use the database\'s REGEXP. ' +
  'Segments target contacts in any of them, and identity known/anonymous tells proven browsers (signed identify, API link) from the rest: a browser that only typed an email into a form counts as anonymous. frequency is enforced by the browser. variants split traffic by weight (adding up to 100); each may override parts of style and content.';

const FocusItem = z
  .object({
    id: z.number().int(),
    name: z.string(),
    site_id: z.number().int().nullable(),
    active: z.boolean(),
    is_sample: z.boolean(),
    style: Style,
    content: Content,
    trigger: Trigger,
    targeting: Targeting,
    frequency: Frequency,
    variants: z.array(Variant),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('FocusItem');

const Counts = {
  views: z.number().int(),
  clicks: z.number().int(),
  closes: z.number().int(),
  submissions: z.number().int(),
  conversions: z.number().int(),
  conversion_rate: z.number(),
};
const Kind = z.enum(['notice', 'link', 'form']);
const FocusStats = z
  .object({
    id: z.number().int(),
    from: z.string().nullable(),
    to: z.string().nullable(),
    kind: Kind,
    totals: z.object(Counts),
    variants: z.array(z.object({ key: z.string(), weight: z.number().int().nullable(), kind: Kind, ...Counts })),
  })
  .openapi('FocusStats');

const FocusPreview = z
  .object({
    items: z.array(z.object({ id: z.number().int(), variant: z.string(), style: Style, content: Content, trigger: Trigger, frequency: Frequency })),
    forms: z.record(z.string(), PublicForm),
    inactive_form_ids: z.array(z.number().int()),
  })
  .openapi('FocusItemPreview');

const PreviewQuery = z.object({
  id: idNumber()
    .optional()
    .openapi({ type: 'integer', description: 'The id to show the draft under: the saved item’s, as GET /focus would; 0 when left out (an item not created yet).' }),
});

const ListQuery = PageQuery.extend({
  site_id: idNumber().optional(),
  active: z.enum(['true', 'false']).optional(),
});

const StatsQuery = z.object({
  from: z.string().max(40).optional().openapi({ description: 'Start (inclusive): 2026-06-01 or an ISO date-time' }),
  to: z.string().max(40).optional().openapi({ description: 'End (exclusive); a bare date includes that day' }),
});

export const focusApiRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/focus-items/preview',
      operationId: 'previewFocusItem',
      tags,
      security,
      summary: 'Preview a draft focus item as the widget receives it, without saving',
      description:
        'Takes the body of POST /api/v1/focus-items (name optional), checks it as a save does (422 naming the fields at fault) and answers the item as GET /focus hands it to the widget, once per variant (variant overrides merged), with GET /f/{id}’s answer for each form it embeds (inactive_form_ids: forms switched off, which visitors would not be shown). Targeting is not applied. Nothing is stored. Any signed-in role may preview; API keys need the write scope.',
      request: { query: PreviewQuery, body: jsonBody(FocusItemPreviewInput.openapi('FocusItemPreviewInput')) },
      responses: { 200: json(FocusPreview, 'The item per variant, and the forms it shows'), ...errors(415) },
    }),
    async (c) => c.json((await previewFocusItem({ ctx: c.get('ctx'), input: { id: c.req.valid('query').id ?? 0, item: c.req.valid('json'), baseUrl: baseUrl(c) } })) as never, 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/focus-items',
      operationId: 'createFocusItem',
      tags,
      security,
      summary: 'Create a focus item',
      description: ITEM_DOC,
      request: {
        body: jsonBody(
          FocusItemInput.openapi('FocusItemInput', {
            example: {
              name: 'Pricing exit offer',
              site_id: null,
              style: { type: 'modal', colors: { background: '#ffffff', text: '#111827', button: '#2563eb' } },
              content: { kind: 'link', heading: 'Before you go', body: 'Get 20% off your first year.', cta: { label: 'Claim offer', url: 'https://example.com/offer' } },
              trigger: { type: 'exit_intent' },
              targeting: { urls: [{ op: 'starts_with', value: '/pricing' }], devices: ['desktop'], visitor: 'all', identity: 'anonymous', segment_ids: [] },
              frequency: { mode: 'every_n_days', days: 7, stop_after_conversion: true, stop_after_close: true, max_displays: 3 },
              variants: [
                { key: 'a', weight: 50 },
                { key: 'b', weight: 50, overrides: { content: { heading: 'Wait! 20% off' } } },
              ],
            } as never,
          }),
        ),
      },
      responses: { 201: json(FocusItem, 'Created'), ...errors(415) },
    }),
    async (c) => c.json(await createFocusItem({ ctx: c.get('ctx'), input: c.req.valid('json') }), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/focus-items',
      operationId: 'listFocusItems',
      tags,
      security,
      summary: 'List focus items',
      request: { query: ListQuery },
      responses: { 200: json(page(FocusItem, 'FocusItemPage'), 'A page of focus items'), ...errors() },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const active = q.active === undefined ? undefined : q.active === 'true';
      return c.json(await listFocusItems({ ctx: c.get('ctx'), input: { ...q, active } }), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/focus-items/{id}',
      operationId: 'getFocusItem',
      tags,
      security,
      summary: 'Get a focus item',
      request: { params: IdParam },
      responses: { 200: json(FocusItem, 'The focus item'), ...errors(404) },
    }),
    async (c) => c.json(await getFocusItem({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/focus-items/{id}',
      operationId: 'updateFocusItem',
      tags,
      security,
      summary: 'Update a focus item',
      description: 'Each top-level field given replaces the stored one (style, content, targeting… as a whole); the result is checked as a whole.',
      request: { params: IdParam, body: jsonBody(FocusItemPatch.openapi('FocusItemPatch')) },
      responses: { 200: json(FocusItem, 'Updated'), ...errors(404, 415) },
    }),
    async (c) =>
      c.json(await updateFocusItem({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, patch: c.req.valid('json') } }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/focus-items/{id}',
      operationId: 'deleteFocusItem',
      tags,
      security,
      summary: 'Delete a focus item',
      description: 'Its view, click and close events stay in the event log.',
      request: { params: IdParam },
      responses: { 200: json(DeletedSchema, 'Deleted'), ...errors(404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await deleteFocusItem({ ctx: c.get('ctx'), input: { id } });
      return c.json({ id, deleted: true as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/focus-items/{id}/stats',
      operationId: 'getFocusItemStats',
      tags,
      security,
      summary: 'Views, clicks, closes and submissions',
      description:
        'From the event log, for the item and per variant: focus_view / focus_click / focus_close events and form_submit events whose props.focus_id is this item. conversions are clicks for notice and link variants and submissions for form variants; conversion_rate = conversions / views. Events with no variant are listed under "none".',
      request: { params: IdParam, query: StatsQuery },
      responses: { 200: json(FocusStats, 'Counts and conversion rates'), ...errors(404) },
    }),
    async (c) => c.json(await focusStats({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, ...c.req.valid('query') } }), 200),
  );

export const FocusQuery = z.object({
  k: SITE_KEY,
  v: VISITOR_ID.optional(),
  u: HttpUrl,
  d: z.enum(DEVICES).optional(),
  pv: z.coerce.number().int().min(0).max(1_000_000).optional(),
});

/** GET /focus (see core/focus/public.ts and core/slots/resolve.ts for the contract with the widget). */
export const focusPublicRoutes = new Hono<AppEnv>().get('/focus', async (c) => {
    const ctx = c.get('ctx');
    c.header('Cache-Control', 'no-store');
    const origin = originOf(c);
    const raw = c.req.query();
    if (raw.v === '') delete raw.v;
    if (raw.d === '') delete raw.d;
    if (raw.pv === '') delete raw.pv;
    const parsed = FocusQuery.safeParse(raw);
    if (!parsed.success) throw new ValidationError(zodErrors(parsed.error));
    const q = parsed.data;
    const site = await requireSite(ctx, q.k, { origin });
    // With consent required and not given, the tracker sends no visitor id; nothing to do here.
    const device = q.d ?? parseUserAgent(c.req.header('user-agent') ?? '').device;
    // The page view's one follow-up request: focus items and slot content together.
    const [result, slots] = await Promise.all([
      focusForVisitor({ ctx, input: { siteId: site.id, uid: q.v ?? null, url: q.u, device, pageviews: q.pv ?? null } }),
      slotsForVisitor({ ctx, input: { siteId: site.id, uid: q.v ?? null } }),
    ]);
    return c.json(slots ? { ...result, slots } : result, 200);
});
