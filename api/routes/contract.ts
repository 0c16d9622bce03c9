import type { Context, MiddlewareHandler } from 'hono';
import { AppError } from '../core/errors';
import { errorBody } from './errors';
import type { AppEnv } from './shared';

type Doc = { paths?: object };

/**
 * Unknown query parameters are refused (400), as unknown body fields are
 * (422): `?tags=` for `?tag=` must not be silently ignored. What each
 * operation takes is read from the OpenAPI document, so the check and the
 * documentation cannot disagree.
 */
export function refuseUnknownQuery(doc: () => Doc): MiddlewareHandler<AppEnv> {
  let allowed: Map<string, Set<string>> | undefined;
  const build = () => {
    const m = new Map<string, Set<string>>();
    for (const [path, ops] of Object.entries((doc().paths ?? {}) as Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>)) {
      for (const [method, op] of Object.entries(ops)) {
        const names = new Set((op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
        // Hono writes path parameters as :id where OpenAPI writes {id}.
        m.set(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`, names);
      }
    }
    return m;
  };
  return async (c, next) => {
    const url = c.req.url;
    const q = url.indexOf('?');
    if (q < 0 || q === url.length - 1) return next();
    // The first endpoint matched is the one that answers (middleware are registered as ALL).
    const route = c.req.matchedRoutes.find((r) => r.method !== 'ALL');
    const names = route && (allowed ??= build()).get(`${c.req.method === 'HEAD' ? 'GET' : c.req.method} ${route.path}`);
    if (!names) return next();
    const unknown = [...new Set(new URLSearchParams(url.slice(q + 1)).keys())].filter((k) => !names.has(k));
    if (unknown.length) {
      throw new AppError(
        'BAD_REQUEST',
        `Unknown query parameter${unknown.length > 1 ? 's' : ''}: ${unknown.slice(0, 5).map((k) => k.slice(0, 50)).join(', ')}.${names.size ? ` This operation takes: ${[...names].join(', ')}.` : ''}`,
        unknown.slice(0, 10).map((k) => ({ field: `query.${k.slice(0, 50)}`, message: 'unknown query parameter' })),
      );
    }
    return next();
  };
}

const patternOf = (path: string) =>
  new RegExp(
    '^' +
      path
        .split('/')
        .map((seg) => {
          if (seg === '*') return '.*';
          const m = /^:[A-Za-z0-9_]+(\{(.+)\})?$/.exec(seg);
          if (m) return m[2] ? `(?:${m[2]})` : '[^/]+';
          return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        })
        .join('/') +
      '$',
  );

/**
 * The not-found answer, or 405 with Allow when the path exists for other
 * methods. `routes` are the app's (app.routes), read once they are all registered.
 */
export function notFoundOr405(routes: () => { method: string; path: string }[]) {
  let table: { re: RegExp; method: string }[] | undefined;
  return (c: Context<AppEnv>) => {
    table ??= routes()
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({ re: patternOf(r.path), method: r.method }));
    const methods = new Set(table.filter((r) => r.re.test(c.req.path)).map((r) => r.method));
    if (methods.has('GET')) methods.add('HEAD');
    if (methods.size) {
      const allow = [...methods].sort().join(', ');
      c.header('Allow', allow);
      return c.json(errorBody(c, 'METHOD_NOT_ALLOWED', `${c.req.method} is not allowed on ${c.req.path}; allowed: ${allow}.`), 405);
    }
    return c.json(errorBody(c, 'NOT_FOUND', `No route for ${c.req.method} ${c.req.path}.`), 404);
  };
}
