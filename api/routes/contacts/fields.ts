import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { createField, deleteField, getField, listFields, updateField } from '../../core/contacts/fields';
import { FIELD_TYPES } from '../../core/contacts/values';
import { DeletedSchema, errors, IdParam, json, jsonBody, page, PageQuery, security, type AppEnv } from '../shared';
import { Field, FieldOptions } from './schemas';

const tags = ['Fields'];

const CreateField = z
  .strictObject({
    key: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be snake_case: a-z, 0-9 and _, starting with a letter, at most 63 characters'),
    label: z.string().trim().min(1).max(100),
    type: z.enum(FIELD_TYPES),
    options: FieldOptions.nullable().optional().openapi({ description: 'Allowed values; select and multiselect only' }),
  })
  .openapi('CreateField', { example: { key: 'plan', label: 'Plan', type: 'select', options: ['free', 'pro'] } });

const UpdateField = z
  .strictObject({ label: z.string().trim().min(1).max(100).optional(), options: FieldOptions.nullable().optional() })
  .openapi('UpdateField');

export const fieldRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/fields',
      operationId: 'createField',
      tags,
      security,
      summary: 'Define a custom contact field',
      description: `Types: ${FIELD_TYPES.join(', ')}. Values are checked against the type on every write. No schema migration is needed.`,
      request: { body: jsonBody(CreateField) },
      responses: { 201: json(Field, 'Created'), ...errors(409, 415) },
    }),
    async (c) => c.json(await createField({ ctx: c.get('ctx'), input: c.req.valid('json') }), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/fields',
      operationId: 'listFields',
      tags,
      security,
      summary: 'List custom fields',
      request: { query: PageQuery },
      responses: { 200: json(page(Field, 'FieldPage'), 'A page of fields'), ...errors() },
    }),
    async (c) => c.json(await listFields({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/fields/{id}',
      operationId: 'getField',
      tags,
      security,
      summary: 'Get a custom field',
      request: { params: IdParam },
      responses: { 200: json(Field, 'The field'), ...errors(404) },
    }),
    async (c) => c.json(await getField({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/fields/{id}',
      operationId: 'updateField',
      tags,
      security,
      summary: 'Update a custom field',
      description: 'Label and options can change; key and type cannot.',
      request: { params: IdParam, body: jsonBody(UpdateField) },
      responses: { 200: json(Field, 'Updated'), ...errors(404, 415) },
    }),
    async (c) => c.json(await updateField({ ctx: c.get('ctx'), input: { ...c.req.valid('param'), ...c.req.valid('json') } }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/fields/{id}',
      operationId: 'deleteField',
      tags,
      security,
      summary: 'Delete a custom field and its values',
      request: { params: IdParam },
      responses: { 200: json(DeletedSchema, 'Deleted'), ...errors(404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await deleteField({ ctx: c.get('ctx'), input: { id } });
      return c.json({ id, deleted: true as const }, 200);
    },
  );
