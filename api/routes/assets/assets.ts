import { OpenAPIHono } from '@hono/zod-openapi';
import { Hono } from 'hono';
import type { AppEnv } from '../shared';

// Private API (/api/v1/...), behind the API key middleware.
export const assetsApiRoutes = new OpenAPIHono<AppEnv>();

// Public endpoints (no API key; site key + CORS), mounted before the API.
export const assetsPublicRoutes = new Hono<AppEnv>();
