import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { createCategory, deleteCategory, getCategory, listCategories, updateCategory } from '../../core/email/categories';
import { CategoryInput, CategoryPatch } from '../../core/email/schema';
import { DeletedSchema, errors, IdParam, json, jsonBody, page, PageQuery, security, Timestamp, type AppEnv } from '../shared';

const tags = ['Email categories'];

const Category = z
  .object({
    id: z.number().int(),
    key: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('EmailCategory');

export const categoryRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/email-categories',
      operationId: 'createEmailCategory',
      tags,
      security,
      summary: 'Create a subscription category',
      description: 'Keys are unique (409).',
      request: { body: jsonBody(CategoryInput.openapi('EmailCategoryInput', { example: { key: 'product-news', name: 'Product news' } })) },
      responses: { 201: json(Category, 'Created'), ...errors(409, 415) },
    }),
    async (c) => c.json(await createCategory({ ctx: c.get('ctx'), input: c.req.valid('json') }), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/email-categories',
      operationId: 'listEmailCategories',
      tags,
      security,
      summary: 'List subscription categories',
      request: { query: PageQuery },
      responses: { 200: json(page(Category, 'EmailCategoryPage'), 'A page of categories'), ...errors() },
    }),
    async (c) => c.json(await listCategories({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/email-categories/{id}',
      operationId: 'getEmailCategory',
      tags,
      security,
      summary: 'Get a subscription category',
      request: { params: IdParam },
      responses: { 200: json(Category, 'The category'), ...errors(404) },
    }),
    async (c) => c.json(await getCategory({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/email-categories/{id}',
      operationId: 'updateEmailCategory',
      tags,
      security,
      summary: 'Update a subscription category',
      request: { params: IdParam, body: jsonBody(CategoryPatch.openapi('EmailCategoryPatch')) },
      responses: { 200: json(Category, 'Updated'), ...errors(404, 409, 415) },
    }),
    async (c) => c.json(await updateCategory({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, patch: c.req.valid('json') } }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/email-categories/{id}',
      operationId: 'deleteEmailCategory',
      tags,
      security,
      summary: 'Delete a subscription category',
      description: '409 while an email uses it. Contacts\' choices about it are deleted with it.',
      request: { params: IdParam },
      responses: { 200: json(DeletedSchema, 'Deleted'), ...errors(404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await deleteCategory({ ctx: c.get('ctx'), input: { id } });
      return c.json({ id, deleted: true as const }, 200);
    },
  );
