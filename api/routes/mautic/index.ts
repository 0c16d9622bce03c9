import type { MiddlewareHandler } from 'hono';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../shared';
import { isMauticPath, mauticAuth, mauticBody } from './shared';
import { mauticContactRoutes } from './contacts';
import { mauticResourceRoutes } from './resources';
import { mauticHookRoutes } from './hooks';

export { mauticEnvelope } from './shared';

const onMautic =
  (mw: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> =>
  (c, next) =>
    isMauticPath(c.req.path) ? mw(c, next) : next();

/**
 * The Mautic-compatible API under /api (not part of the /api/v1 OpenAPI document; see
 * docs/mautic-compat.md): the body limit, Basic-auth keys (or Bearer keys, or the dashboard's
 * session) with the same scopes and roles as /api/v1, the key's request limit, the body read
 * once, then the routes. mauticEnvelope (mounted first, in app.ts) gives every answer Mautic's shape.
 */
export function mountMautic(app: OpenAPIHono<AppEnv>, deps: { bodyLimit: MiddlewareHandler<AppEnv>; keyLimit: MiddlewareHandler<AppEnv> }) {
  app.use('/api/*', onMautic(deps.bodyLimit), mauticAuth, onMautic(deps.keyLimit), mauticBody);
  app.route('/', mauticContactRoutes);
  app.route('/', mauticResourceRoutes);
  app.route('/', mauticHookRoutes);
}
