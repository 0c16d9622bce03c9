import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { z } from 'zod';
import { AppError, ValidationError, zodErrors, type FieldError } from '../core/errors';
import type { AppEnv } from './shared';

const httpCodes: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'VALIDATION_FAILED',
  429: 'RATE_LIMITED',
};

export function errorBody(c: Context<AppEnv>, code: string, message: string, details?: FieldError[]) {
  return { error: { code, message, requestId: c.get('requestId') ?? '', ...(details ? { details } : {}) } };
}

// OpenAPIHono defaultHook: schema failures become 422 naming the failing fields.
export function validationHook(result: { success: boolean; error?: unknown; target?: string }) {
  if (!result.success) {
    const prefix = result.target === 'json' || !result.target ? '' : result.target;
    throw new ValidationError(zodErrors(result.error as z.ZodError, prefix === 'param' ? '' : prefix));
  }
}

export function onError(err: Error, c: Context<AppEnv>) {
  if (err instanceof AppError) {
    return c.json(errorBody(c, err.code, err.message, err.details), err.status);
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    const code = httpCodes[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
    return c.json(errorBody(c, code, err.message || code), status);
  }
  const ctx = c.get('ctx');
  (ctx?.log ?? console).error('unhandled error', {
    requestId: c.get('requestId'),
    path: c.req.path,
    error: err instanceof Error ? err.stack ?? err.message : String(err),
  });
  return c.json(errorBody(c, 'INTERNAL', 'Something went wrong on our side.'), 500);
}
