import type { FieldError } from '../errors';

/**
 * Mautic's error envelope: `{ "errors": [{ code, message, details, type }] }`, where `code` is
 * the HTTP status, `details` maps a field to its messages (or is an empty list) and `type` names
 * the kind of error (`access_denied` for authentication failures, null otherwise).
 * Mautic's own controllers build it in FetchCommonApiController::returnError.
 */
export interface MauticError {
  code: number;
  message: string;
  details: Record<string, string[]> | [];
  type: string | null;
}

export function mauticErrors(status: number, message: string, details?: FieldError[], type?: string | null): { errors: MauticError[] } {
  const byField: Record<string, string[]> = {};
  for (const d of details ?? []) {
    const key = d.field || 'body';
    // Field names come from the request: no prototype keys on the answer.
    if (!Object.hasOwn(byField, key)) Object.defineProperty(byField, key, { value: [], enumerable: true, writable: true });
    byField[key]!.push(d.message);
  }
  return {
    errors: [
      {
        code: status,
        message,
        details: Object.keys(byField).length ? byField : [],
        type: type === undefined ? (status === 401 ? 'access_denied' : null) : type,
      },
    ],
  };
}

/** The Mautic envelope for an answer Leadline built in its own error shape (middleware, 404/405, limits). */
export function fromLeadlineError(status: number, body: unknown): { errors: MauticError[] } {
  const err = (body as { error?: { message?: unknown; details?: unknown } } | null)?.error;
  const message = typeof err?.message === 'string' ? err.message : `Request failed with status ${status}.`;
  const details = Array.isArray(err?.details) ? (err.details as FieldError[]).filter((d) => d && typeof d.message === 'string') : undefined;
  return mauticErrors(status, status === 401 ? authMessage(message) : message, details);
}

// Mautic says "API authorization denied."; Leadline adds how to authenticate.
const authMessage = (m: string) =>
  `API authorization denied. ${m.startsWith('A valid API key is required') ? 'Send an API key as the password of HTTP Basic auth (any user name), or as "Authorization: Bearer <key>".' : m}`;
