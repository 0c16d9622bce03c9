import type { MiddlewareHandler } from 'hono';
import { authenticate, hasScope, type Scope } from '../core/access/api-keys';
import { BadRequestError, ForbiddenError, PayloadTooLargeError, UnauthorizedError } from '../core/errors';
import type { AppEnv } from './shared';
import { kickReactions } from '../core/spine/run';
import { defer } from './defer';
import { checkQuery, jsonTooDeep, MAX_JSON_DEPTH, readJsonInput } from '../core/util/text';

// Body limits are checked on the declared length and again while reading,
// because chunked requests have no Content-Length.
export function bodyLimit(limitFor: (path: string) => number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next();
    const limit = limitFor(c.req.path);
    const declared = c.req.header('content-length');
    if (declared !== undefined && Number(declared) > limit) throw new PayloadTooLargeError(limit);
    // With a declared length there is nothing more to check here (and touching
    // raw.body would make the Node adapter build a stream for nothing).
    if (declared !== undefined) return next();
    const body = c.req.raw.body;
    if (!body) return next();
    // Unknown length: buffer with a running count, then hand the bytes on.
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        throw new PayloadTooLargeError(limit);
      }
      chunks.push(value);
    }
    const buf = new Uint8Array(size);
    let off = 0;
    for (const ch of chunks) {
      buf.set(ch, off);
      off += ch.byteLength;
    }
    c.req.raw = new Request(c.req.raw, { body: buf });
    return next();
  };
}

function neededScope(method: string, path: string): Scope {
  if (path.startsWith('/api/v1/api-keys') || path.startsWith('/api/v1/jobs/')) return 'admin';
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

export const requireApiKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new UnauthorizedError();
  const key = await authenticate({ ctx: c.get('ctx'), input: { secret: match[1]! } });
  if (!key) throw new UnauthorizedError('The API key is not valid or has been revoked.');
  const needed = neededScope(c.req.method, c.req.path);
  if (!hasScope(key.scopes, needed)) {
    throw new ForbiddenError(`This API key lacks the "${needed}" scope needed for ${c.req.method} ${c.req.path}.`);
  }
  c.set('apiKey', key);
  return next();
};

/** Every request: control characters and lone surrogates in the query string are refused (400). */
export const cleanQuery: MiddlewareHandler<AppEnv> = async (c, next) => {
  checkQuery(c.req.url);
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
 * job tick: after every successful write, and after a download (a GET that
 * stores an event). Kicks coalesce (spine/run.ts), so a stream of hits costs
 * one run per interval.
 */
export const kickAfterWrites: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const m = c.req.method;
  const writes = m !== 'GET' && m !== 'HEAD' && m !== 'OPTIONS';
  if (c.res.status < 300 && (writes || (m === 'GET' && c.req.path.startsWith('/a/')))) defer(c, kickReactions(c.get('ctx')));
};
