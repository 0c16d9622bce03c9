import type { z } from 'zod';

/**
 * Every error code the API answers with, in one place. Core throws a code and a
 * message; one table in the routes (routes/errors.ts) maps codes to HTTP
 * statuses, and the OpenAPI document lists this enum as Error.code.
 */
export const ERROR_CODES = [
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'INVALID_CREDENTIALS',
  'FORBIDDEN',
  'CSRF_FAILED',
  'ORIGIN_NOT_ALLOWED',
  'INVALID_SIGNATURE',
  'FORM_REQUIRED',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'CONFLICT',
  'IDEMPOTENCY_CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'VALIDATION_FAILED',
  'RATE_LIMITED',
  'INTERNAL',
  'JOB_FAILED',
  'UNAVAILABLE',
  'STORAGE_UNAVAILABLE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export type FieldError = { field: string; message: string };

/** A typed error thrown by core; `extra` adds fields to the error object (e.g. form_id). */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldError[],
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export class BadRequestError extends AppError {
  constructor(message: string) {
    super('BAD_REQUEST', message);
  }
}
export class UnauthorizedError extends AppError {
  constructor(message = 'A valid API key is required: send it as "Authorization: Bearer <key>".') {
    super('UNAUTHORIZED', message);
  }
}
export class ForbiddenError extends AppError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}
export class NotFoundError extends AppError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} not found.`);
  }
}
export class ConflictError extends AppError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}
export class ValidationError extends AppError {
  constructor(details: FieldError[] | string) {
    const list = typeof details === 'string' ? [{ field: '', message: details }] : details;
    const first = list[0];
    super('VALIDATION_FAILED', first ? (first.field ? `${first.field}: ${first.message}` : first.message) : 'Invalid input.', list);
  }
}
export class PayloadTooLargeError extends AppError {
  constructor(limit: number) {
    super('PAYLOAD_TOO_LARGE', `Request body is larger than ${limit} bytes.`);
  }
}

export function zodErrors(error: z.ZodError, prefix = ''): FieldError[] {
  return error.issues.flatMap((i) => {
    const base = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => ({ field: base ? `${base}.${k}` : k, message: 'unknown field' }));
    return [{ field: base, message: i.message }];
  });
}

export function isUniqueViolation(e: unknown): boolean {
  const msg = e instanceof Error ? `${e.message} ${(e as { code?: string }).code ?? ''}` : '';
  return /UNIQUE constraint failed|SQLITE_CONSTRAINT_UNIQUE/.test(msg);
}
