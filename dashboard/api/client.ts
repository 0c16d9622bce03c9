// The dashboard's one way to the server: openapi-fetch typed by the generated schema (./schema.d.ts),
// same-origin cookies (the session), and the session's CSRF token on every write.
import createClient from 'openapi-fetch';
import type { paths } from './schema';

let csrfToken: string | null = null;

/** Set from the sign-in and /auth/me answers; cleared on sign-out. */
export function setCsrfToken(token: string | null) {
  csrfToken = token;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Headers every write carries (also used by the auth calls made outside the typed client). */
export function writeHeaders(): Record<string, string> {
  return csrfToken ? { 'X-CSRF-Token': csrfToken } : {};
}

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });

let unauthorized: () => void = () => {};
/** What to do when a call answers 401 (the session ended): set once by the session module. */
export function onUnauthorized(f: () => void) {
  unauthorized = f;
}

api.use({
  onRequest({ request }) {
    if (WRITES.has(request.method)) for (const [k, v] of Object.entries(writeHeaders())) request.headers.set(k, v);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) unauthorized();
    return response;
  },
});

/** The server's message from the one error shape, else a plain description of the status. */
export function errorMessage(error: unknown, response?: Response): string {
  const message = (error as { error?: { message?: unknown } } | undefined)?.error?.message;
  if (typeof message === 'string' && message) return message;
  if (response) return `The server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}.`;
  return error instanceof Error ? `Could not reach the server: ${error.message}` : 'Could not reach the server.';
}

/** Runs a typed call; resolves with its data or throws an Error carrying the server's message. */
export async function load<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let r: { data?: T; error?: unknown; response: Response };
  try {
    r = await call;
  } catch (e) {
    throw new Error(errorMessage(e));
  }
  if (r.error !== undefined || !r.response.ok) throw new Error(errorMessage(r.error, r.response));
  return r.data as T;
}

/** As load, for operations that also answer CSV: the JSON answer (the call asks for JSON, the default). */
export async function loadJson<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<Exclude<T, string>> {
  const data = await load(call);
  if (typeof data === 'string') throw new Error('The server answered text where JSON was expected.');
  return data as Exclude<T, string>;
}
