import { TagName } from '../../core/contacts/prepare';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { addTags, deleteTag, listTags, removeTag } from '../../core/contacts/tags';
import { clearDoNotContact, DNC_CHANNELS, DNC_REASONS, setDoNotContact } from '../../core/contacts/dnc';
import { errors, IdParam, json, jsonBody, page, PageQuery, security, type AppEnv } from '../shared';
import { Contact, Tag } from './schemas';


const ChannelParam = IdParam.extend({ channel: z.enum(DNC_CHANNELS).openapi({ param: { name: 'channel', in: 'path' } }) });

export const tagDncRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/tags',
      operationId: 'listTags',
      tags: ['Tags'],
      security,
      summary: 'List tags with contact counts',
      description: 'Alphabetical. List the contacts of one tag with GET /api/v1/contacts?tag=NAME.',
      request: { query: PageQuery },
      responses: { 200: json(page(Tag, 'TagPage'), 'A page of tags'), ...errors() },
    }),
    async (c) => c.json(await listTags({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/tags/{name}',
      operationId: 'deleteTag',
      tags: ['Tags'],
      security,
      summary: 'Delete a tag everywhere',
      request: { params: z.object({ name: TagName.openapi({ param: { name: 'name', in: 'path' } }) }) },
      responses: { 200: json(z.object({ name: z.string(), deleted: z.literal(true) }), 'Deleted'), ...errors(404) },
    }),
    async (c) => {
      const { name } = await deleteTag({ ctx: c.get('ctx'), input: c.req.valid('param') });
      return c.json({ name, deleted: true as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/contacts/{id}/tags',
      operationId: 'addContactTags',
      tags: ['Tags'],
      security,
      summary: 'Add tags to a contact',
      description: 'Tags are trimmed and lower-cased; unknown tags are created.',
      request: { params: IdParam, body: jsonBody(z.strictObject({ tags: z.array(TagName).min(1).max(50) })) },
      responses: { 200: json(Contact, 'The contact'), ...errors(404, 415) },
    }),
    async (c) =>
      c.json(await addTags({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, tags: c.req.valid('json').tags } }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/contacts/{id}/tags/{tag}',
      operationId: 'removeContactTag',
      tags: ['Tags'],
      security,
      summary: 'Remove a tag from a contact',
      request: { params: IdParam.extend({ tag: TagName.openapi({ param: { name: 'tag', in: 'path' } }) }) },
      responses: { 200: json(Contact, 'The contact'), ...errors(404) },
    }),
    async (c) => c.json(await removeTag({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'put',
      path: '/api/v1/contacts/{id}/do-not-contact/{channel}',
      operationId: 'setDoNotContact',
      tags: ['Do not contact'],
      security,
      summary: 'Mark a contact do-not-contact on a channel',
      description: 'Channel email, sms or all (all covers every channel). The date is kept when the entry already exists.',
      request: {
        params: ChannelParam,
        body: jsonBody(
          z.strictObject({ reason: z.enum(DNC_REASONS).default('manual'), comment: z.string().trim().max(500).nullable().optional() }),
        ),
      },
      responses: { 200: json(Contact, 'The contact'), ...errors(404, 415) },
    }),
    async (c) => c.json(await setDoNotContact({ ctx: c.get('ctx'), input: { ...c.req.valid('param'), ...c.req.valid('json') } }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/contacts/{id}/do-not-contact/{channel}',
      operationId: 'clearDoNotContact',
      tags: ['Do not contact'],
      security,
      summary: 'Allow contact on a channel again',
      request: { params: ChannelParam },
      responses: { 200: json(Contact, 'The contact'), ...errors(404) },
    }),
    async (c) => c.json(await clearDoNotContact({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  );
