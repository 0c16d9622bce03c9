import { Hono } from 'hono';
import { AppError, BadRequestError } from '../../core/errors';
import { receiveDealWebhook } from '../../core/deals/inbound';
import type { AppEnv } from '../shared';

/**
 * POST /webhooks/deals?integration=<id>: deals a CRM pushes (core/deals/inbound.ts). A plain Hono
 * route, documented in routes/public-docs.ts, as /webhooks/resend is: the signature is over the
 * raw bytes, so the body is read as text and parsed only once verified. The body limit (64 KB)
 * and the per-IP limit are those of every /webhooks/* path (app.ts, routes/public.ts).
 */
export const dealWebhookRoutes = new Hono<AppEnv>().post('/webhooks/deals', async (c) => {
  const ctx = c.get('ctx');
  const integration = c.req.query('integration');
  if (integration === undefined || !/^[1-9][0-9]{0,15}$/.test(integration) || !Number.isSafeInteger(Number(integration))) {
    throw new BadRequestError('Name the integration the delivery comes from: POST /webhooks/deals?integration=<id> (the id of POST /api/v1/deal-integrations).');
  }
  if (!/^application\/json\s*(;|$)/i.test(c.req.header('content-type') ?? '')) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Deal webhooks are application/json.');
  }
  const headers = { id: c.req.header('webhook-id'), timestamp: c.req.header('webhook-timestamp'), signature: c.req.header('webhook-signature') };
  const body = await c.req.text();
  return c.json(await receiveDealWebhook({ ctx, input: { integrationId: Number(integration), headers, body } }), 200);
});
