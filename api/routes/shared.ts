import { z } from '@hono/zod-openapi';
import type { Ctx } from '../core/context';
import type { AuthenticatedKey } from '../core/access/api-keys';
import type { SessionUser } from '../core/access/sessions';
import { ERROR_CODES } from '../core/errors';

export type AppEnv = {
  Variables: {
    ctx: Ctx;
    /** The caller: an API key, or a signed-in user as a key with id = minus the user id (routes/middleware.ts). */
    apiKey: AuthenticatedKey;
    /** Set when the caller is a signed-in user (session cookie). */
    session?: { id: number; user: SessionUser };
    requestId: string;
    clientIp: string | null;
    rateLimit?: { limit: number; remaining: number; resetTime?: Date };
    /** The request handed its writes to a Queue (POST /t on Workers): no reactions to kick yet. */
    queued?: boolean;
  };
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

// Every error answer is one of these named responses (components.responses in the document), so a
// generated client has one type per failure and the document stays small. `api` variants carry the
// rate-limit headers the private API adds to every answer once the key is known; the public
// endpoints have per-IP limits without those headers.
export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 503;
export const ERROR_RESPONSES: Record<ErrorStatus, { name: string; text: string; publicText?: string }> = {
  400: {
    name: 'BadRequest',
    text: 'Malformed request: the body is not JSON, nests too deep, a cursor is not one this API issued, or a query parameter is not one the operation takes',
    publicText: 'Malformed request: the body is not JSON, or nests too deep',
  },
  401: { name: 'Unauthorized', text: 'Missing or invalid API key' },
  403: {
    name: 'Forbidden',
    text: 'The API key lacks the scope this operation needs',
    publicText:
      "Refused: the page's origin is not one the site allows (ORIGIN_NOT_ALLOWED), a signed identify does not match (INVALID_SIGNATURE), or a gated file needs its form first (FORM_REQUIRED)",
  },
  404: { name: 'NotFound', text: 'Not found', publicText: 'Not found: an unknown site key, or no such active form or asset' },
  405: { name: 'MethodNotAllowed', text: 'The path exists, but not for this method; `Allow` lists the methods it takes' },
  409: { name: 'Conflict', text: 'Conflict with existing data, or an Idempotency-Key reused with another request or while its first request is still running' },
  413: { name: 'PayloadTooLarge', text: 'Request body too large (1 MB; CSV imports 10 MB, asset uploads 25 MB)', publicText: 'Request body too large (events 32 KB, form submissions 64 KB)' },
  415: { name: 'UnsupportedMediaType', text: 'Unsupported content type' },
  422: { name: 'ValidationFailed', text: 'Validation failed; `details` name the failing fields (unknown fields are refused too)' },
  429: { name: 'RateLimited', text: 'Too many requests; `Retry-After` says when to try again' },
  503: { name: 'Unavailable', text: 'A dependency this operation needs is not configured or not reachable' },
};

/** The component name of an error response: `RateLimited` for the private API, `PublicRateLimited` for the public endpoints. */
export const errorResponseName = (status: ErrorStatus, api: boolean) => `${api ? '' : 'Public'}${ERROR_RESPONSES[status].name}`;

const ref = (status: ErrorStatus, api: boolean) => ({ $ref: `#/components/responses/${errorResponseName(status, api)}` });

function errorRefs(api: boolean, always: readonly ErrorStatus[], extra: ErrorStatus[]) {
  const out: Record<string, { $ref: string }> = {};
  const all = [...new Set([...always, ...extra, ...(extra.includes(415) ? [413 as const] : [])])].sort();
  for (const status of all) out[String(status)] = ref(status, api);
  return out;
}

/**
 * The error answers of a private API operation: what every authenticated route can answer
 * (400, 401, 403, 405, 422, 429) and the ones it adds (404, 409, 415…). 415 brings 413 along.
 */
export function errors(...extra: ErrorStatus[]) {
  return errorRefs(true, [400, 401, 403, 405, 422, 429], extra);
}

/** The error answers of a public endpoint (no API key): 405 and 429 always, the rest as given. */
export function publicErrors(...extra: ErrorStatus[]) {
  return errorRefs(false, [405, 429], extra);
}

/** ISO 8601 UTC timestamps, as every answer writes them (Date.prototype.toISOString). */
export const Timestamp = z.string().openapi({ format: 'date-time', example: '2026-01-31T12:00:00.000Z' });
export const Email = z.string().openapi({ format: 'email', example: 'ada@example.com' });
export const Url = z.string().openapi({ format: 'uri' });

/** A file download: the body and its Content-Disposition. */
export const download = (contentType: string, description: string, schema: z.ZodType = z.string()) => ({
  description,
  headers: { 'Content-Disposition': { $ref: '#/components/headers/Content-Disposition' } },
  content: { [contentType]: { schema } },
});

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/**
 * An id as it is written in a URL or query: decimal digits, no sign, no leading
 * zero, no exponent or hex ("0x10" is not contact 16), within the safe integers.
 */
export const idNumber = () =>
  z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, 'must be a positive whole number')
    .transform(Number)
    .refine((n) => Number.isSafeInteger(n), 'must be a positive whole number')
    .pipe(z.number().int().positive());

export const IdParam = z.object({
  id: idNumber().openapi({ param: { name: 'id', in: 'path' }, example: 1, type: 'integer' }),
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

/** Private API operations: an API key, or the dashboard's session cookie (with a role's permissions). */
export const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { sessionCookie: [] }];
