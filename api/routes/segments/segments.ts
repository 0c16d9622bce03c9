import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import {
  addMember,
  contactSegments,
  createSegment,
  deleteSegment,
  getSegment,
  listMembers,
  listSegments,
  previewFilter,
  removeMember,
  SegmentInput,
  SegmentPatch,
  updateSegment,
} from '../../core/segments/segments';
import { rebuildSegment } from '../../core/segments/membership';
import { Filter } from '../../core/segments/filter';
import { idNumber, Timestamp, DeletedSchema, errors, IdParam, json, jsonBody, page, PageQuery, security, type AppEnv } from '../shared';
import { Contact } from '../contacts/schemas';

const tags = ['Segments'];

// The filter language is recursive: naming the lazy schema makes the document refer to it by $ref
// from inside itself (groups of filters), so clients get the real union, not an opaque object.
// .openapi() on a z.lazy also names the original, which SegmentInput and SegmentPatch use too.
const SegmentFilter = Filter.openapi('SegmentFilter', {
  description:
    'A condition, or a group of filters: `{"all": [...]}` (every one holds), `{"any": [...]}` (at least one), `{"not": filter}`. ' +
    'Conditions: a field (`points`, `stage`, `email`, `created_at`, `last_active_at`, other built-in fields, `fields.<custom key>`, `company.<name|domain|industry|employees|annual_revenue|city|country>`) compared with `op`; ' +
    'a tag (`has`: false for has-not); do-not-contact on a channel; membership of another segment; or behaviour (visited a URL, submitted a form, downloaded an asset, a custom event, any event) at least `min_count` times within `within_days`. ' +
    'Dates take ISO dates or date-times, or relative values: today, yesterday, -7d, +3d, this_month, last_month. Groups nest at most 50 filters each.',
  example: { all: [{ field: 'fields.plan', op: 'equals', value: 'pro' }, { tag: 'newsletter' }, { behaviour: 'visited', url: { op: 'contains', value: '/pricing' }, min_count: 2, within_days: 30 }] },
});

const Segment = z
  .object({
    id: z.number().int(),
    name: z.string(),
    description: z.string().nullable(),
    kind: z.enum(['dynamic', 'static']),
    filter: SegmentFilter.nullable(),
    members: z.number().int(),
    broken: z.string().nullable().openapi({
      description: 'Why the filter no longer compiles (e.g. a field it names is gone), or null. A broken segment keeps its members and is skipped by upkeep until its filter is fixed.',
    }),
    built_at: Timestamp.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Segment');


const MemberParams = IdParam.extend({
  contactId: idNumber().openapi({ param: { name: 'contactId', in: 'path' }, type: 'integer' }),
});

export const segmentRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/segments/preview',
      operationId: 'previewSegmentFilter',
      tags,
      security,
      summary: 'Count the contacts a filter matches, without saving',
      request: { body: jsonBody(z.strictObject({ filter: SegmentFilter }).openapi('SegmentPreview')) },
      responses: { 200: json(z.object({ count: z.number().int(), sample: z.array(z.number().int()) }), 'Count and up to 10 contact ids'), ...errors(415) },
    }),
    async (c) => c.json(await previewFilter({ ctx: c.get('ctx'), input: c.req.valid('json') }), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/segments',
      operationId: 'createSegment',
      tags,
      security,
      summary: 'Create a segment',
      description:
        'Dynamic segments keep their membership current as contacts change and events arrive (within seconds); the filter compiles to one SQL statement. Static segments are lists kept by hand. Membership is built at once.',
      request: { body: jsonBody(SegmentInput.openapi('SegmentInput')) },
      responses: { 201: json(Segment, 'Created and built'), ...errors(415) },
    }),
    async (c) => c.json(await createSegment({ ctx: c.get('ctx'), input: c.req.valid('json') }), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/segments',
      operationId: 'listSegments',
      tags,
      security,
      summary: 'List segments',
      request: { query: PageQuery },
      responses: { 200: json(page(Segment, 'SegmentPage'), 'A page of segments'), ...errors() },
    }),
    async (c) => c.json(await listSegments({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
  )
  .openapi(
    createRoute({ method: 'get', path: '/api/v1/segments/{id}', operationId: 'getSegment', tags, security, summary: 'Get a segment', request: { params: IdParam }, responses: { 200: json(Segment, 'The segment'), ...errors(404) } }),
    async (c) => c.json(await getSegment({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/segments/{id}',
      operationId: 'updateSegment',
      tags,
      security,
      summary: 'Update a segment',
      description: 'A new filter rebuilds membership at once; joiners and leavers get segment_joined / segment_left events.',
      request: { params: IdParam, body: jsonBody(SegmentPatch.openapi('SegmentPatch')) },
      responses: { 200: json(Segment, 'Updated'), ...errors(404, 415) },
    }),
    async (c) => c.json(await updateSegment({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, patch: c.req.valid('json') } }), 200),
  )
  .openapi(
    createRoute({ method: 'delete', path: '/api/v1/segments/{id}', operationId: 'deleteSegment', tags, security, summary: 'Delete a segment', request: { params: IdParam }, responses: { 200: json(DeletedSchema, 'Deleted'), ...errors(404) } }),
    async (c) => {
      const { id } = c.req.valid('param');
      await deleteSegment({ ctx: c.get('ctx'), input: { id } });
      return c.json({ id, deleted: true as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/segments/{id}/rebuild',
      operationId: 'rebuildSegment',
      tags,
      security,
      summary: 'Rebuild membership now',
      description: 'Set-based INSERT … SELECT and DELETE in one transaction. Runs on its own every 15 minutes, for filters with relative dates.',
      request: { params: IdParam },
      responses: { 200: json(z.object({ members: z.number().int() }), 'Members after the rebuild'), ...errors(404) },
    }),
    async (c) => {
      const seg = await getSegment({ ctx: c.get('ctx'), input: c.req.valid('param') });
      return c.json(await rebuildSegment(c.get('ctx'), seg.id), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/segments/{id}/members',
      operationId: 'listSegmentMembers',
      tags,
      security,
      summary: 'List members',
      request: { params: IdParam, query: PageQuery },
      responses: {
        200: json(page(Contact.extend({ membership: z.enum(['filter', 'manual']) }), 'SegmentMemberPage'), 'Contacts with how they are members'),
        ...errors(404),
      },
    }),
    async (c) => c.json(await listMembers({ ctx: c.get('ctx'), input: { ...c.req.valid('query'), id: c.req.valid('param').id } }) as never, 200),
  )
  .openapi(
    createRoute({
      method: 'put',
      path: '/api/v1/segments/{id}/members/{contactId}',
      operationId: 'addSegmentMember',
      tags,
      security,
      summary: 'Add a contact by hand',
      description: 'The contact stays a member whatever the filter says, until removed by hand.',
      request: { params: MemberParams },
      responses: { 200: json(z.object({ segment_id: z.number().int(), contact_id: z.number().int(), member: z.literal(true) }), 'Added'), ...errors(404) },
    }),
    async (c) => {
      const { id, contactId } = c.req.valid('param');
      await addMember({ ctx: c.get('ctx'), input: { id, contactId } });
      return c.json({ segment_id: id, contact_id: contactId, member: true as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/segments/{id}/members/{contactId}',
      operationId: 'removeSegmentMember',
      tags,
      security,
      summary: 'Remove a contact by hand',
      description: 'The filter will not bring the contact back until it is added by hand again.',
      request: { params: MemberParams },
      responses: { 200: json(z.object({ segment_id: z.number().int(), contact_id: z.number().int(), member: z.literal(false) }), 'Removed'), ...errors(404) },
    }),
    async (c) => {
      const { id, contactId } = c.req.valid('param');
      await removeMember({ ctx: c.get('ctx'), input: { id, contactId } });
      return c.json({ segment_id: id, contact_id: contactId, member: false as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/contacts/{id}/segments',
      operationId: 'listContactSegments',
      tags,
      security,
      summary: "A contact's segments",
      request: { params: IdParam, query: PageQuery },
      responses: {
        200: json(
          page(
            z.object({ id: z.number().int(), name: z.string(), kind: z.string(), membership: z.string(), added_at: Timestamp }).openapi('ContactSegment'),
            'ContactSegmentPage',
          ),
          'Segments the contact is in, by name',
        ),
        ...errors(404),
      },
    }),
    async (c) => c.json(await contactSegments({ ctx: c.get('ctx'), input: { contactId: c.req.valid('param').id, ...c.req.valid('query') } }), 200),
  );
