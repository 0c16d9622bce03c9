import type { MiddlewareHandler } from 'hono';
import { authenticate, hasScope, type Scope } from '../core/access/api-keys';
import { ForbiddenError, PayloadTooLargeError, UnauthorizedError, ValidationError } from '../core/errors';
import type { AppEnv } from './shared';
import { wellFormedDeep } from '../core/util/text';

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
  if (path.startsWith('/api/v1/api-keys')) return 'admin';
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

function protoPaths(v: unknown, path: string[], out: string[]) {
  if (!v || typeof v !== 'object' || out.length >= 10) return;
  for (const k of Object.keys(v)) {
    if (k === '__proto__') out.push([...path, k].join('.'));
    protoPaths((v as Record<string, unknown>)[k], [...path, k], out);
  }
}

/**
 * Two things no JSON body may carry further: a "__proto__" key (zod's object
 * copies drop it silently, so it would be ignored where every other unknown
 * field is refused) and lone surrogates (they crash the database client when
 * read back; they become U+FFFD). Both need an escape or that key in the raw
 * text, so ordinary bodies pass after one substring check.
 */
export const sanitizeJsonBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!/json/i.test(c.req.header('content-type') ?? '')) return next();
  const text = await c.req.text();
  if (!text.includes('proto') && !text.includes('\\u')) return next();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return next(); // the validator answers 400 for malformed JSON
  }
  const found: string[] = [];
  protoPaths(parsed, [], found);
  if (found.length) throw new ValidationError(found.map((field) => ({ field, message: 'unknown field' })));
  const clean = wellFormedDeep(parsed);
  if (clean.changed) {
    // The validator reads the cached body: replace it with the clean one.
    const body = JSON.stringify(clean.value);
    c.req.bodyCache = { text: Promise.resolve(body) } as unknown as typeof c.req.bodyCache;
  }
  return next();
};
