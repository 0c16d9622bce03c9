import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { AppError, ValidationError, zodErrors, type ErrorCode, type FieldError } from '../core/errors';
import type { AppEnv } from './shared';

/** The one table from error codes to HTTP statuses. */
export const STATUS_OF: Record<ErrorCode, ContentfulStatusCode> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  CSRF_FAILED: 403,
  ORIGIN_NOT_ALLOWED: 403,
  INVALID_SIGNATURE: 403,
  FORM_REQUIRED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  IDEMPOTENCY_CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  VALIDATION_FAILED: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  JOB_FAILED: 500,
  UNAVAILABLE: 503,
  STORAGE_UNAVAILABLE: 503,
};

// For errors raised by Hono itself (HTTPException): the first code with that status.
const codeOfStatus = (status: number): ErrorCode =>
  (Object.keys(STATUS_OF) as ErrorCode[]).find((c) => STATUS_OF[c] === status) ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');

// An answer about a hostile request stays small whatever the request held: at most this many
// field errors, each field name and message cut to a sane length.
const MAX_DETAILS = 50;
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);

export function errorBody(c: Context<AppEnv>, code: ErrorCode, message: string, details?: FieldError[], extra?: Record<string, unknown>) {
  const shown = details?.slice(0, MAX_DETAILS).map((d) => ({ field: clip(d.field, 200), message: clip(d.message, 500) }));
  if (details && details.length > MAX_DETAILS) shown!.push({ field: '', message: `…and ${details.length - MAX_DETAILS} more` });
  return { error: { code, message: clip(message, 1000), requestId: c.get('requestId') ?? '', ...(shown ? { details: shown } : {}), ...extra } };
}

/** The JSON error response for an AppError (CORS and other headers already set on c stay). */
export function errorResponse(c: Context<AppEnv>, err: AppError) {
  // The body was not read: the connection cannot carry another request after this answer.
  if (err.code === 'PAYLOAD_TOO_LARGE') c.header('Connection', 'close');
  // A wait the error knows (sign-in lockouts) is told as Retry-After, not in the body.
  const { retryAfter, ...extra } = err.extra ?? {};
  if (typeof retryAfter === 'number') c.header('Retry-After', String(retryAfter));
  return c.json(errorBody(c, err.code, err.message, err.details, err.extra ? extra : undefined), STATUS_OF[err.code]);
}

// OpenAPIHono defaultHook: schema failures become 422 naming the failing fields.
export function validationHook(result: { success: boolean; error?: unknown; target?: string }) {
  if (!result.success) {
    const prefix = result.target === 'json' || !result.target ? '' : result.target;
    throw new ValidationError(zodErrors(result.error as z.ZodError, prefix === 'param' ? '' : prefix));
  }
}

// A client that goes away mid-body is ordinary traffic on a public endpoint, not a server fault.
const isAbort = (err: Error) => err.name === 'AbortError' || /^(aborted|Request aborted|The operation was aborted)/i.test(err.message) || (err as { code?: string }).code === 'ECONNRESET';

export function onError(err: Error, c: Context<AppEnv>) {
  if (err instanceof AppError) return errorResponse(c, err);
  if (err instanceof HTTPException) {
    const code = codeOfStatus(err.status);
    return c.json(errorBody(c, code, err.message || code), STATUS_OF[code] === err.status ? STATUS_OF[code] : (err.status as ContentfulStatusCode));
  }
  const ctx = c.get('ctx');
  const log = ctx?.log;
  if (err instanceof Error && isAbort(err)) {
    log?.debug('request aborted by the client', { requestId: c.get('requestId'), path: c.req.path });
    return c.json(errorBody(c, 'BAD_REQUEST', 'The request body was not received completely.'), 400);
  }
  (log ?? console).error('unhandled error', {
    requestId: c.get('requestId'),
    path: c.req.path,
    error: err instanceof Error ? (err.stack ?? err.message) : String(err),
  });
  return c.json(errorBody(c, 'INTERNAL', 'Something went wrong on our side.'), 500);
}
