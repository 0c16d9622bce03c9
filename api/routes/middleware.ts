import type { Context, MiddlewareHandler, Next } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import { getCookie } from 'hono/cookie';
import { can, scopesOf } from '../core/access/permissions';
import { csrfTokenOf, sessionFromToken, SESSION_COOKIE } from '../core/access/sessions';
import { authenticate, hasScope, type Scope } from '../core/access/api-keys';
import { AppError, BadRequestError, ForbiddenError, PayloadTooLargeError, UnauthorizedError } from '../core/errors';
import type { AppEnv } from './shared';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { beginIdempotent, checkIdempotencyKey, finishIdempotent, keepsResponse } from '../core/access/idempotency';
import { sha256Hex, timingSafeEqualHex } from '../core/util/crypto';
import { kickReactions, reactionsScheduled } from '../core/spine/run';
import { defer } from './defer';
import { checkQuery, jsonTooDeep, MAX_JSON_DEPTH, readJsonInput } from '../core/util/text';

/**
 * Body limits by path: Hono's body-limit middleware, which also counts chunked
 * bodies that declare no length. A declared length is checked here first so
 * that the ingestion hot path never touches raw.body (on Node that makes the
 * adapter build a web stream per request, for nothing).
 */
export function bodyLimit(limitFor: (path: string) => number): MiddlewareHandler<AppEnv> {
  const limiters = new Map<number, MiddlewareHandler>();
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next();
    const limit = limitFor(c.req.path);
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(declared) > limit) throw new PayloadTooLargeError(limit);
      return next();
    }
    let limiter = limiters.get(limit);
    if (!limiter) {
      limiter = honoBodyLimit({
        maxSize: limit,
        onError: () => {
          throw new PayloadTooLargeError(limit);
        },
      });
      limiters.set(limit, limiter);
    }
    return limiter(c, next);
  };
}

function neededScope(method: string, path: string): Scope {
  if (path.startsWith('/api/v1/api-keys') || path.startsWith('/api/v1/jobs/') || path.startsWith('/api/v1/users')) return 'admin';
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

/** The sign-in endpoints anyone may call (no key, no session): their own limits guard them. */
export const PUBLIC_AUTH_PATHS: ReadonlySet<string> = new Set([
  '/api/v1/auth/login',
  '/api/v1/auth/password-reset',
  '/api/v1/auth/password-reset/confirm',
  '/api/v1/auth/invitations/accept',
  '/api/v1/auth/setup',
]);

/** This server's origin, as browsers should name it: PUBLIC_URL's, else the one this request came to. */
export function serverOrigin(c: Context<AppEnv>): string {
  const pub = c.get('ctx').config.PUBLIC_URL;
  return pub ? new URL(pub).origin : new URL(c.req.url).origin;
}

const isRead = (m: string) => m === 'GET' || m === 'HEAD' || m === 'OPTIONS';

/**
 * Writes made with a session cookie: the browser's Origin must be this server's (a page
 * elsewhere can make the browser send the cookie, never with our Origin), and X-CSRF-Token
 * must be the session's token (which only our own pages can read). Bearer requests need
 * neither: no browser adds an Authorization header on its own.
 */
async function checkCsrf(c: Context<AppEnv>, sessionToken: string): Promise<void> {
  if (c.req.header('origin') !== serverOrigin(c)) {
    throw new AppError('CSRF_FAILED', `Refused: a write with a session must come from this server's pages (Origin ${serverOrigin(c)}).`);
  }
  const sent = c.req.header('x-csrf-token') ?? '';
  if (!timingSafeEqualHex(sent, await csrfTokenOf(sessionToken))) {
    throw new AppError('CSRF_FAILED', 'Refused: a write with a session needs the X-CSRF-Token header with the token /api/v1/auth/me answers.');
  }
}

/**
 * A request without Authorization but with a session cookie is that user's: its CSRF proof on
 * writes, then the role's permission for this method and path (core/access/permissions.ts).
 * Code that reads the caller's key (rate limits, Idempotency-Key slots, send reasons) sees the
 * user as a key with a negative id (minus the user id) and the scopes the role amounts to.
 */
async function sessionAuth(c: Context<AppEnv>, next: Next, token: string) {
  const session = await sessionFromToken(c.get('ctx'), token);
  if (!session) throw new UnauthorizedError('Your session has ended or is not valid: sign in again.');
  if (!isRead(c.req.method)) await checkCsrf(c, token);
  const decision = can(session.user.role, c.req.method, c.req.path);
  if (!decision.allowed) throw new ForbiddenError(decision.message);
  c.set('session', { id: session.id, user: session.user });
  c.set('apiKey', { id: -session.user.id, scopes: scopesOf(session.user.role) });
  return next();
}

export const requireApiKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header('authorization');
  if (header === undefined) {
    const token = getCookie(c, SESSION_COOKIE);
    if (token) return sessionAuth(c, next, token);
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) throw new UnauthorizedError();
  return keyAuth(c, next, match[1]!);
};

/** An API key's secret, however it came (Bearer here; Basic auth's password on the Mautic-compatible API): its scope for this method and path. */
export async function keyAuth(c: Context<AppEnv>, next: Next, secret: string) {
  const key = await authenticate({ ctx: c.get('ctx'), input: { secret } });
  if (!key) throw new UnauthorizedError('The API key is not valid or has been revoked.');
  const needed = neededScope(c.req.method, c.req.path);
  if (!hasScope(key.scopes, needed)) {
    throw new ForbiddenError(`This API key lacks the "${needed}" scope needed for ${c.req.method} ${c.req.path}.`);
  }
  c.set('apiKey', key);
  return next();
}

/**
 * Every request: control characters and lone surrogates in the query string are refused (400).
 * But the email open pixel (/o/…), which reads no query and always answers its image.
 */
export const cleanQuery: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!c.req.path.startsWith('/o/')) checkQuery(c.req.url);
  return next();
};

/**
 * JSON bodies of the private API pass the one boundary rule (core/util/text.ts)
 * before the validator sees them: depth bounded, "__proto__" refused, control
 * characters and lone surrogates cleaned. The validator then reads the parsed,
 * cleaned value from the body cache instead of parsing again.
 */
export const jsonInput: MiddlewareHandler<AppEnv> = async (c, next) => {
  const m = c.req.method;
  if (m === 'GET' || m === 'HEAD' || m === 'OPTIONS' || !/json/i.test(c.req.header('content-type') ?? '')) return next();
  const text = await c.req.text();
  if (text.trim() === '') return next();
  if (jsonTooDeep(text)) throw new BadRequestError(`JSON may nest at most ${MAX_JSON_DEPTH} levels deep.`);
  let parsed: ReturnType<typeof readJsonInput>;
  try {
    parsed = readJsonInput(text);
  } catch (e) {
    // Not JSON: the route answers (400 from the validator, or 415 where JSON is not what it takes).
    if (e instanceof BadRequestError) return next();
    throw e;
  }
  const { value, walked } = parsed;
  // The validator parses the cached text again; give it the cleaned value's text.
  if (walked) c.req.bodyCache = { text: Promise.resolve(JSON.stringify(value)) } as unknown as typeof c.req.bodyCache;
  return next();
};

/**
 * The one place that asks for the reactions to run now rather than at the next
 * job tick: after every successful write, and after a download or an email
 * open or click (GETs that store an event). Kicks coalesce (spine/run.ts), so a stream of hits costs
 * one run per interval.
 */
export const kickAfterWrites: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const m = c.req.method;
  const writes = m !== 'GET' && m !== 'HEAD' && m !== 'OPTIONS';
  const p = c.req.path;
  const download = m === 'GET' && p.startsWith('/a/') && c.res.status < 300;
  // Email opens (/o/: always a 200) and clicks (/c/: a 302) record on GET and HEAD alike.
  const emailLink = (m === 'GET' || m === 'HEAD') && (p.startsWith('/o/') || p.startsWith('/c/')) && c.res.status < 400;
  if (((writes && c.res.status < 300) || download || emailLink) && !c.get('queued')) {
    const ctx = c.get('ctx');
    // A kick joining a scheduled run needs no tracking of its own: the run is tracked once.
    const joins = reactionsScheduled(ctx);
    const run = kickReactions(ctx);
    if (!joins) defer(c, run);
  }
};

/**
 * Idempotency-Key on the private API's writes (core/access/idempotency.ts):
 * the request's method, path, query and body bytes are its fingerprint; a
 * replay answers the stored response with Idempotent-Replayed: true.
 */
export const idempotency: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header('idempotency-key');
  const m = c.req.method;
  // Sign-in endpoints have no caller to keep a slot for.
  if (header === undefined || m === 'GET' || m === 'HEAD' || m === 'OPTIONS' || !c.get('apiKey')) return next();
  const ctx = c.get('ctx');
  // Per caller: an API key's id, or for a session minus the user's id (sessionAuth), so a
  // user's keys are theirs across sessions and never collide with a key's.
  const slot = { apiKeyId: c.get('apiKey').id, key: checkIdempotencyKey(header) };
  const url = new URL(c.req.url);
  const head = new TextEncoder().encode(`${m} ${url.pathname}${url.search}\n`);
  const body = new Uint8Array(await c.req.arrayBuffer());
  const all = new Uint8Array(head.length + body.length);
  all.set(head);
  all.set(body, head.length);
  const stored = await beginIdempotent(ctx, slot, await sha256Hex(all));
  if (stored) return c.body(stored.body, stored.status as ContentfulStatusCode, { ...stored.headers, 'Idempotent-Replayed': 'true' });
  try {
    await next();
  } catch (e) {
    await finishIdempotent(ctx, slot, null);
    throw e;
  }
  const res = c.res;
  if (!keepsResponse(res.status)) return finishIdempotent(ctx, slot, null);
  const headers: Record<string, string> = {};
  for (const h of ['content-type', 'location']) {
    const v = res.headers.get(h);
    if (v) headers[h] = v;
  }
  await finishIdempotent(ctx, slot, { status: res.status, headers, body: await res.clone().text() });
};
