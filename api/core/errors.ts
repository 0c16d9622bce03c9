import type { z } from 'zod';

// Typed errors thrown by core; one onError maps them to the JSON error shape.
export type FieldError = { field: string; message: string };

export class AppError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 503,
    readonly code: string,
    message: string,
    readonly details?: FieldError[],
  ) {
    super(message);
  }
}

export class BadRequestError extends AppError {
  constructor(message: string) {
    super(400, 'BAD_REQUEST', message);
  }
}
export class UnauthorizedError extends AppError {
  constructor(message = 'A valid API key is required: send it as "Authorization: Bearer <key>".') {
    super(401, 'UNAUTHORIZED', message);
  }
}
export class ForbiddenError extends AppError {
  constructor(message: string) {
    super(403, 'FORBIDDEN', message);
  }
}
export class NotFoundError extends AppError {
  constructor(what: string) {
    super(404, 'NOT_FOUND', `${what} not found.`);
  }
}
export class ConflictError extends AppError {
  constructor(message: string) {
    super(409, 'CONFLICT', message);
  }
}
export class ValidationError extends AppError {
  constructor(details: FieldError[] | string) {
    const list = typeof details === 'string' ? [{ field: '', message: details }] : details;
    const first = list[0];
    super(
      422,
      'VALIDATION_FAILED',
      first ? (first.field ? `${first.field}: ${first.message}` : first.message) : 'Invalid input.',
      list,
    );
  }
}
export class PayloadTooLargeError extends AppError {
  constructor(limit: number) {
    super(413, 'PAYLOAD_TOO_LARGE', `Request body is larger than ${limit} bytes.`);
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
