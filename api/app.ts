import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import type { Ctx } from './core/context';
import { VERSION } from './version';
import { onError, validationHook } from './routes/errors';
import { notFoundOr405, refuseUnknownQuery } from './routes/contract';
import { guardPublicEndpoints, perApiKey, perIpSignIn } from './routes/public';
import { bodyLimit, cleanQuery, idempotency, jsonInput, kickAfterWrites, PUBLIC_AUTH_PATHS, requireApiKey, serverOrigin } from './routes/middleware';
import type { AppEnv } from './routes/shared';
import { MAX_TRACK_BODY } from './core/tracking/payload';
import { apiKeyRoutes } from './routes/access/api-keys';
import { authRoutes } from './routes/access/auth';
import { userRoutes } from './routes/access/users';
import { AppError } from './core/errors';
import { contactBulkRoutes } from './routes/contacts/bulk';
import { contactRoutes } from './routes/contacts/contacts';
import { tagDncRoutes } from './routes/contacts/tags-dnc';
import { fieldRoutes } from './routes/contacts/fields';
import { companyRoutes } from './routes/companies/companies';
import { docsRoutes, type DocsUi } from './routes/docs';
import { dashboardRoutes } from './routes/dashboard';
import { finishDocument, INFO, registerDocumentParts } from './routes/openapi';
import { registerPublicDocs } from './routes/public-docs';
import { publicRoutes, type PublicDeps } from './routes/tracking/collect';
import { createIngestor } from './core/tracking/ingest';
import { ingestCounters } from './core/tracking/consume';
import { siteRoutes } from './routes/tracking/sites';
import { historyRoutes } from './routes/tracking/history';
import { internalRoutes, jobRoutes } from './routes/internal';
import { demoRoutes } from './routes/demo';
import { scoringRoutes } from './routes/scoring/scoring';
import { segmentRoutes } from './routes/segments/segments';
import { formsApiRoutes, formsPublicRoutes } from './routes/forms/forms';
import { focusApiRoutes, focusPublicRoutes } from './routes/focus/focus';
import { assetsApiRoutes, assetsPublicRoutes } from './routes/assets/assets';
import type { AssetStorage } from './core/assets/storage';
import type { RateLimitBindings } from './core/access/rate-limits';
import { emailRoutes } from './routes/email/emails';
import { broadcastRoutes } from './routes/email/broadcasts';
import { categoryRoutes } from './routes/email/categories';
import { emailSettingsRoutes } from './routes/email/settings';
import { basicAdmin, outboxApiRoutes, outboxPageRoutes } from './routes/email/outbox';
import { unsubscribeRoutes } from './routes/email/unsubscribe';
import { subscriptionRoutes } from './routes/email/subscriptions';
import { providerWebhookRoutes } from './routes/email/provider-webhooks';
import { emailReportRoutes } from './routes/email/reports';
import { MAX_WEBHOOK_BODY } from './core/email/provider-events';
import { trackingRoutes } from './routes/email/tracking';
import { campaignRoutes } from './routes/campaigns/campaigns';
import { campaignRunRoutes } from './routes/campaigns/campaign-runs';
import { reportRoutes } from './routes/reports/reports';
import { dealRoutes } from './routes/deals/deals';
import { dealWebhookRoutes } from './routes/deals/webhook';
import { mauticEnvelope, mountMautic } from './routes/mautic/index';
import { webhookRoutes } from './routes/webhooks/webhooks';
import { pageRoutes } from './routes/pages/pages';
import { pageVariantRoutes } from './routes/pages/variants';
import { pagesPublicRoutes } from './routes/pages/public';
import { slotRoutes } from './routes/slots/slots';

export interface AppDeps {
  ctx: Ctx;
  /** Runtime-specific pieces of the public endpoints; sensible defaults otherwise. */
  public?: Partial<PublicDeps> & {
    /** The client's IP as the runtime sees it (socket address on Node, CF-Connecting-IP on Workers). */
    clientIp?: (c: Context) => string | null;
    /** Cloudflare Rate Limiting bindings for the per-IP limits (Workers); without them, counted in memory. */
    rateLimits?: RateLimitBindings;
  };
  /** Where uploaded assets are kept (disk on Node, R2 on Workers); without it asset uploads and downloads answer 503. */
  storage?: AssetStorage;
  /** Response compression, where the platform does not compress (Node); Workers compress at the edge. */
  compress?: MiddlewareHandler;
  /** The /docs renderer's bytes (Node reads the build's files; on Workers a static asset serves them). */
  docsUi?: DocsUi;
}

// Forwarding headers are anyone's to forge, so they count only behind a proxy
// the operator vouches for (TRUST_PROXY); otherwise the runtime says who it is.
function forwardedIp(c: Context<AppEnv>): string | null {
  if (!c.get('ctx').config.TRUST_PROXY) return null;
  // The proxy appends the address it saw; anything left of it came from the client.
  return c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim() || null;
}

// Where clients should send requests: PUBLIC_URL when the operator set it (behind a proxy the
// request's own origin may be an internal one), else the origin this request came to.
function serverOf(c: Context<AppEnv>) {
  const pub = c.get('ctx').config.PUBLIC_URL;
  return pub
    ? { url: pub.replace(/\/+$/, ''), description: 'This server (PUBLIC_URL)' }
    : { url: new URL(c.req.url).origin, description: 'This server, as this request reached it (set PUBLIC_URL to name its public address)' };
}

const MB = 1024 * 1024;
// CSV imports carry files; everything else is small JSON.
const limitFor = (path: string) =>
  path === '/api/v1/contacts/import'
    ? 10 * MB
    : path === '/t'
      ? MAX_TRACK_BODY
      : path.startsWith('/f/') || path.startsWith('/u/')
        ? 64 * 1024 // a form submission, an unsubscribe
        : path === '/api/v1/assets'
          ? 25 * MB // an uploaded file
          : path.startsWith('/webhooks/')
            ? MAX_WEBHOOK_BODY
            : 1 * MB;

export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use('*', requestId({ headerName: 'X-Request-Id', limitLength: 64 }));
  app.use('*', async (c, next) => {
    c.set('ctx', deps.ctx);
    await next();
  });
  if (deps.compress) app.use('*', deps.compress);
  // Mautic's answer shape on the Mautic-compatible paths, around everything that may answer them.
  app.use('/api/*', mauticEnvelope);
  app.use('*', cleanQuery);
  app.use('*', kickAfterWrites);

  const ingestor = deps.public?.ingestor ?? createIngestor(deps.ctx);
  app.get('/health', async (c) => {
    let db = 'ok';
    // Hits through a Queue (Workers): the consumer's counts, retries and failures included.
    let ingest: Awaited<ReturnType<typeof ingestCounters>> | undefined;
    try {
      if (ingestor.queued) ingest = await ingestCounters(deps.ctx);
      else await deps.ctx.client.execute('SELECT 1');
    } catch {
      db = 'unavailable';
    }
    return c.json({ ok: db === 'ok', version: VERSION, db, ...(ingest && { ingest: { via: 'queue', ...ingest } }) }, db === 'ok' ? 200 : 503);
  });

  registerDocumentParts(app);
  registerPublicDocs(app);
  // Built once, on first use: routes are all registered by then.
  let doc: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  const openApi = () => (doc ??= finishDocument(app.getOpenAPI31Document({ openapi: '3.1.0', info: INFO })));
  app.get('/api/v1/openapi.json', (c) => c.json({ ...openApi(), servers: [serverOf(c)] }));
  app.route('/', docsRoutes({ ui: deps.docsUi }));
  // The dashboard's static files (public, like /docs); it signs in and reads data through /api/v1.
  app.route('/', dashboardRoutes);

  const clientIp = (c: Context<AppEnv>) => forwardedIp(c) ?? deps.public?.clientIp?.(c) ?? null;
  app.use('/t', bodyLimit(limitFor));
  app.use('/f/*', bodyLimit(limitFor));
  app.use('/u/*', bodyLimit(limitFor));
  // The public endpoints rate-limit by client IP; it travels in the context.
  const withClientIp: MiddlewareHandler<AppEnv> = async (c, next) => {
    c.set('clientIp', clientIp(c));
    await next();
  };
  // Email links (/o, /c) need it too: Apple's proxy is told by its address (core/email/machine.ts).
  for (const path of ['/t', '/f/*', '/focus', '/a/*', '/u/*', '/webhooks/*', '/o/*', '/c/*', '/p/*', '/sitemap.xml']) app.use(path, withClientIp);
  guardPublicEndpoints(app, deps.ctx.config.PUBLIC_RATE_LIMIT, deps.public?.rateLimits);
  app.route(
    '/',
    publicRoutes({
      ingestor,
      geo: deps.public?.geo,
      platformCountry: deps.public?.platformCountry,
      readBody: deps.public?.readBody,
    }),
  );

  app.route('/', demoRoutes);
  app.route('/', formsPublicRoutes);
  app.route('/', focusPublicRoutes);
  app.route('/', pagesPublicRoutes);
  app.route('/', assetsPublicRoutes({ storage: deps.storage, ingestor }));
  app.route('/', trackingRoutes({ ingestor }));
  app.route('/', unsubscribeRoutes);
  app.use('/webhooks/*', bodyLimit(limitFor));
  app.route('/', providerWebhookRoutes);
  app.route('/', dealWebhookRoutes);

  app.use('/api/v1/*', bodyLimit(limitFor));
  // The sign-in endpoints (no key, no session yet): the client's address for their lockouts and a
  // per-address request limit; a browser's Origin, when it sends one, must be this server's
  // (no signing in or resetting from another site's page).
  const signInLimit = perIpSignIn(deps.ctx.config.PUBLIC_RATE_LIMIT, deps.public?.rateLimits);
  const signIn: MiddlewareHandler<AppEnv> = async (c, next) => {
    c.set('clientIp', clientIp(c));
    const origin = c.req.header('origin');
    if (c.req.method !== 'GET' && origin !== undefined && origin !== serverOrigin(c)) {
      throw new AppError('CSRF_FAILED', `Refused: signing in must happen on this server's pages (Origin ${serverOrigin(c)}).`);
    }
    return signInLimit(c, next);
  };
  const open = (path: string) => path === '/api/v1/openapi.json' || PUBLIC_AUTH_PATHS.has(path);
  app.use('/api/v1/*', async (c, next) => (open(c.req.path) ? (PUBLIC_AUTH_PATHS.has(c.req.path) ? signIn(c, next) : next()) : requireApiKey(c, next)));
  const keyLimit = perApiKey(deps.ctx.config.API_RATE_LIMIT);
  app.use('/api/v1/*', async (c, next) => (open(c.req.path) ? next() : keyLimit(c, next)));
  app.use('/api/v1/*', idempotency);
  // The outbox page is for admins in a browser: Basic auth with an admin key, the key's request limit.
  app.use('/outbox/*', basicAdmin, keyLimit);
  app.route('/', outboxPageRoutes);
  app.use('/api/v1/*', jsonInput);
  app.use('/api/v1/*', refuseUnknownQuery(openApi));

  app.route('/', apiKeyRoutes);
  app.route('/', authRoutes);
  app.route('/', userRoutes);
  // Bulk routes first: /contacts/export.csv must not be taken for /contacts/{id}.
  app.route('/', contactBulkRoutes);
  app.route('/', contactRoutes);
  app.route('/', tagDncRoutes);
  app.route('/', fieldRoutes);
  app.route('/', companyRoutes);
  app.route('/', siteRoutes);
  app.route('/', historyRoutes);
  app.route('/', scoringRoutes);
  app.route('/', segmentRoutes);
  app.route('/', formsApiRoutes);
  app.route('/', focusApiRoutes);
  app.route('/', pageRoutes);
  app.route('/', pageVariantRoutes);
  app.route('/', slotRoutes);
  app.route('/', assetsApiRoutes({ storage: deps.storage }));
  app.route('/', emailRoutes);
  app.route('/', broadcastRoutes);
  app.route('/', categoryRoutes);
  app.route('/', emailSettingsRoutes);
  app.route('/', subscriptionRoutes);
  app.route('/', emailReportRoutes);
  app.route('/', outboxApiRoutes);
  app.route('/', campaignRoutes);
  app.route('/', campaignRunRoutes);
  app.route('/', dealRoutes);
  app.route('/', webhookRoutes);
  app.route('/', reportRoutes());
  app.route('/', jobRoutes);
  app.route('/', internalRoutes);
  mountMautic(app, { bodyLimit: bodyLimit(limitFor), keyLimit });

  app.notFound(notFoundOr405(() => app.routes));
  app.onError(onError);
  return app;
}

export type App = ReturnType<typeof createApp>;
