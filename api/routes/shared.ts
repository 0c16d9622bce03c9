import { z } from '@hono/zod-openapi';
import type { Ctx } from '../core/context';
import type { AuthenticatedKey } from '../core/access/api-keys';
import { ERROR_CODES } from '../core/errors';

export type AppEnv = {
  Variables: { ctx: Ctx; apiKey: AuthenticatedKey; requestId: string; clientIp: string | null };
};

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES).openapi({ example: 'NOT_FOUND' }),
      message: z.string(),
      requestId: z.string(),
      details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi('Error');

const errorText: Record<number, string> = {
  400: 'Malformed request (bad JSON, bad cursor)',
  401: 'Missing or invalid API key',
  403: 'The API key lacks the required scope',
  404: 'Not found',
  409: 'Conflict with existing data',
  413: 'Request body too large',
  415: 'Unsupported content type',
  422: 'Validation failed; details name the failing fields',
  429: 'Rate limited',
};

// Every authenticated route can answer these; routes add their own on top.
// Routes with a body pass 415, which brings 413 along.
const common = [400, 401, 403, 422] as const;

export function errors(...extra: (keyof typeof errorText)[]) {
  const out: Record<string, { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } }> = {};
  const all = [...common, ...extra, ...(extra.includes(415) ? [413] : [])].sort();
  for (const status of all) {
    out[String(status)] = { description: errorText[status]!, content: { 'application/json': { schema: ErrorSchema } } };
  }
  return out;
}

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

export const IdParam = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(Number.MAX_SAFE_INTEGER)
    .openapi({ param: { name: 'id', in: 'path' }, example: 1 }),
});

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25).openapi({ description: 'Page size, 1–100' }),
  // 400: a tag-name cursor carries up to 64 characters as UTF-8 (3–4 bytes each), then base64.
  cursor: z.string().max(400).optional().openapi({ description: 'next_cursor from the previous page' }),
});

export const page = <T extends z.ZodType>(item: T, name: string) =>
  z
    .object({ data: z.array(item), has_more: z.boolean(), next_cursor: z.string().nullable() })
    .openapi(name);

export const DeletedSchema = z.object({ id: z.number().int(), deleted: z.literal(true) }).openapi('Deleted');

export const security = [{ bearerAuth: [] }];
