import { Hono } from 'hono';
import { AppError } from '../../core/errors';
import { applyProviderEvent, verifySignature } from '../../core/email/provider-events';
import type { AppEnv } from '../shared';

/**
 * POST /webhooks/resend: what Resend says happened to the messages it took (delivered, bounced,
 * complained…). A plain Hono route, documented in routes/public-docs.ts: the signature is over
 * the raw bytes, so the body is read as text here and parsed only once it is verified. The body
 * is capped by the bodyLimit middleware (app.ts, MAX_WEBHOOK_BODY). No per-IP limit: every request
 * is verified with one HMAC before anything is read from the database, and Resend delivers a
 * broadcast's events in bursts from few addresses.
 */
export const providerWebhookRoutes = new Hono<AppEnv>().post('/webhooks/resend', async (c) => {
  const ctx = c.get('ctx');
  const secret = ctx.config.RESEND_WEBHOOK_SECRET;
  if (!secret) throw new AppError('NOT_FOUND', 'Resend webhooks are not configured on this server: set RESEND_WEBHOOK_SECRET to the signing secret of the webhook.');
  if (!/^application\/json\s*(;|$)/i.test(c.req.header('content-type') ?? '')) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Resend webhooks are application/json.');
  }
  // Svix's names (what Resend sends) or the Standard Webhooks ones, as a set.
  const svix = c.req.header('svix-id') !== undefined;
  const h = (name: string) => c.req.header(`${svix ? 'svix' : 'webhook'}-${name}`);
  const headers = { id: h('id'), timestamp: h('timestamp'), signature: h('signature') };
  const body = await c.req.text();
  verifySignature(secret, headers, body, ctx.now());
  const out = await applyProviderEvent({ ctx, input: { deliveryId: headers.id!, body } });
  return c.json({ ok: true as const, ...out }, 200);
});
