import type { Context, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AppError, BadRequestError, NotFoundError, UnauthorizedError } from '../../core/errors';
import { readJsonInput } from '../../core/util/text';
import { fromLeadlineError } from '../../core/mautic/errors';
import { serializeMautic } from '../../core/mautic/paging';
import { keyAuth, requireApiKey } from '../middleware';
import type { AppEnv } from '../shared';

/** The Mautic release whose API shapes this subset follows (sent as Mautic-Version on every answer). */
export const MAUTIC_VERSION = '5.1.0';

// Mautic's API resources (its first path segment under /api), served here or not: a client that
// asks for one Leadline lacks gets Mautic's 404; any other /api/… path stays Leadline's.
const MAUTIC_RESOURCES = new Set(
  'assets campaigns categories companies contacts data devices dynamiccontents emails fields files focus forms hooks leads lists messages notes notifications pages points reports roles segments smses stages stats tags themes tweets users'.split(' '),
);

/** Paths of the Mautic-compatible API: /api/<one of Mautic's resources>… (never Leadline's own /api/v1). */
export const isMauticPath = (path: string): boolean => {
  const m = /^\/api\/([a-z]+)(?:\/|$)/.exec(path);
  return !!m && MAUTIC_RESOURCES.has(m[1]!);
};

/**
 * Every answer on a Mautic path, whoever built it (a route, Leadline's own middleware such as the
 * body or rate limit, a 404 or 405, an unexpected error): the Mautic-Version header, JSON, and
 * errors in Mautic's `errors[]` envelope. Mounted before everything else on /api/*.
 */
export const mauticEnvelope: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!isMauticPath(c.req.path)) return next();
  await next();
  const res = c.res;
  if (res.status >= 400) {
    let body: unknown = null;
    if (/json/i.test(res.headers.get('content-type') ?? '')) {
      try {
        body = await res.clone().json();
      } catch {
        body = null;
      }
    }
    if (!(body && typeof body === 'object' && 'errors' in body)) {
      const headers = new Headers(res.headers);
      headers.set('content-type', 'application/json; charset=UTF-8');
      headers.delete('content-length');
      c.res = undefined;
      c.res = new Response(JSON.stringify(fromLeadlineError(res.status, body)), { status: res.status, headers });
    }
  }
  c.res.headers.set('Mautic-Version', MAUTIC_VERSION);
  if (c.res.status === 401) c.res.headers.set('WWW-Authenticate', 'Basic realm="Leadline", charset="UTF-8"');
};

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Mautic's clients authenticate with HTTP Basic auth: here the password is a Leadline API key
 * (the user name is not read). Bearer keys and the dashboard's session work as on /api/v1, and
 * either way the key's scope (read for GET, write otherwise) or the user's role decides.
 */
export const mauticAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!isMauticPath(c.req.path)) return next();
  const basic = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(c.req.header('authorization') ?? '');
  if (!basic) {
    if (/^Basic\b/i.test(c.req.header('authorization') ?? '')) throw new UnauthorizedError('The Basic credentials are not valid base64.');
    return requireApiKey(c, next);
  }
  let decoded: string;
  try {
    decoded = utf8.decode(Uint8Array.from(atob(basic[1]!.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0)));
  } catch {
    throw new UnauthorizedError('The Basic credentials are not valid base64.');
  }
  const colon = decoded.indexOf(':');
  const secret = colon >= 0 ? decoded.slice(colon + 1) : '';
  if (!secret || secret.length > 200) throw new UnauthorizedError('Send a Leadline API key as the password of HTTP Basic auth (the user name is not read).');
  return keyAuth(c, next, secret);
};

const bodies = new WeakMap<Context, unknown>();

/**
 * Reads a write's body once: empty (or no body) is `{}`, as Mautic takes it; JSON passes the one
 * boundary rule (depth, "__proto__", control characters: core/util/text.ts); any other content
 * type with a body is refused (415). Reads (GET) ignore a body: n8n sends `{}` with them.
 */
export const mauticBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!isMauticPath(c.req.path)) return next();
  const m = c.req.method;
  if (m === 'GET' || m === 'HEAD' || m === 'OPTIONS') {
    bodies.set(c, {});
    return next();
  }
  const text = await c.req.text();
  let body: unknown = {};
  if (text.trim() !== '') {
    if (!/json/i.test(c.req.header('content-type') ?? '')) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as JSON, with Content-Type: application/json.');
    body = readJsonInput(text).value;
  }
  if (body === null || typeof body !== 'object') throw new BadRequestError('The body must be a JSON object.');
  bodies.set(c, body);
  return next();
};

/** The parsed body (an object; a list only where the route takes one, e.g. batches). */
export function bodyOf(c: Context, opts: { list?: boolean } = {}): Record<string, unknown> {
  const b = bodies.get(c) ?? {};
  if (Array.isArray(b) && !opts.list) throw new BadRequestError('The body must be a JSON object, not a list.');
  return b as Record<string, unknown>;
}

/** An id from the path: Mautic's routes take digits only, anything else is no such route (404). */
export function idParam(c: Context, name = 'id'): number {
  const v = c.req.param(name) ?? '';
  if (!/^[1-9][0-9]{0,14}$/.test(v)) throw new NotFoundError(`No item with id "${v.slice(0, 40)}"; it`);
  return Number(v);
}

/** A Mautic answer: its JSON (lists keyed by id in their order), with the status. */
export function reply(c: Context, body: Record<string, unknown>, status: ContentfulStatusCode = 200) {
  return c.body(serializeMautic(body), status, { 'content-type': 'application/json; charset=UTF-8' });
}

/** Mautic's where[n][col|expr|val] from the query string. */
export function whereOf(c: Context): { col: string; expr: string; val?: string }[] {
  const clauses = new Map<number, { col?: string; expr?: string; val?: string }>();
  for (const [k, v] of new URL(c.req.url).searchParams) {
    const m = /^where\[(\d{1,3})\]\[(col|expr|val)\]$/.exec(k);
    if (!m) continue;
    const i = Number(m[1]);
    const entry = clauses.get(i) ?? clauses.set(i, {}).get(i)!;
    entry[m[2] as 'col' | 'expr' | 'val'] = v;
  }
  if (clauses.size > 20) throw new BadRequestError('where takes at most 20 conditions.');
  return [...clauses.entries()]
    .sort(([a], [b]) => a - b)
    .map(([i, w]) => {
      if (!w.col || !w.expr) throw new BadRequestError(`where[${i}] needs col and expr.`);
      if (w.col.length > 100 || (w.val?.length ?? 0) > 5000) throw new BadRequestError(`where[${i}] is too long.`);
      return { col: w.col, expr: w.expr, val: w.val };
    });
}
