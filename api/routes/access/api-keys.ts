import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { createApiKey, listApiKeys, revokeApiKey, SCOPES } from '../../core/access/api-keys';
import { Timestamp, errors, IdParam, json, jsonBody, page, PageQuery, security, type AppEnv } from '../shared';

const ApiKey = z
  .object({
    id: z.number().int(),
    name: z.string(),
    prefix: z.string().openapi({ description: 'First characters of the secret, to tell keys apart' }),
    scopes: z.array(z.enum(SCOPES)),
    created_at: Timestamp,
    last_used_at: Timestamp.nullable(),
    revoked_at: Timestamp.nullable(),
  })
  .openapi('ApiKey');

const CreateApiKey = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(z.enum(SCOPES)).min(1).max(3),
  })
  .openapi('CreateApiKey');

const tags = ['API keys'];

export const apiKeyRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/api-keys',
      operationId: 'createApiKey',
      tags,
      security,
      summary: 'Create an API key',
      description: 'The secret is in this response only; it is stored as a hash. Needs the admin scope.',
      request: { body: jsonBody(CreateApiKey) },
      responses: {
        201: json(ApiKey.extend({ secret: z.string() }).openapi('CreatedApiKey'), 'Created; save the secret now'),
        ...errors(415),
      },
    }),
    async (c) => {
      const { key, secret } = await createApiKey({ ctx: c.get('ctx'), input: c.req.valid('json') });
      return c.json({ ...key, secret }, 201);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/api-keys',
      operationId: 'listApiKeys',
      tags,
      security,
      summary: 'List API keys',
      request: { query: PageQuery },
      responses: { 200: json(page(ApiKey, 'ApiKeyPage'), 'Keys, newest first'), ...errors() },
    }),
    async (c) => c.json(await listApiKeys({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/api-keys/{id}',
      operationId: 'revokeApiKey',
      tags,
      security,
      summary: 'Revoke an API key',
      description: 'Revoked keys stop working at once and stay listed with revoked_at.',
      request: { params: IdParam },
      responses: { 200: json(ApiKey, 'The revoked key'), ...errors(404) },
    }),
    async (c) => c.json(await revokeApiKey({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  );
