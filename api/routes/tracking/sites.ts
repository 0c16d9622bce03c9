import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { createSite, deleteSite, getSite, listSites, publicView, rotateSiteSecret, SiteInput, SitePatch, updateSite } from '../../core/tracking/sites';
import { siteInstallation } from '../../core/tracking/installation';
import { Timestamp, DeletedSchema, errors, IdParam, json, jsonBody, page, PageQuery, security, type AppEnv } from '../shared';

const tags = ['Sites'];

const Site = z
  .object({
    id: z.number().int(),
    name: z.string(),
    public_key: z.string().openapi({ description: 'Goes in the script tag as data-site' }),
    allowed_origins: z.array(z.string()),
    settings: z.object({
      consent_required: z.boolean(),
      respect_dnt: z.boolean(),
      anonymize_ip: z.boolean(),
      allow_automation: z.boolean().openapi({ description: 'Store hits from automated browsers (navigator.webdriver); for testing' }),
      retention_days: z.number().int().openapi({ description: 'Days anonymous visitors and their events are kept' }),
    }),
    timezone: z.string().nullable().openapi({
      description: "IANA time zone name (e.g. Europe/Paris), or null: UTC. Campaign waits for a time window use it for contacts whose own `timezone` field is empty",
      example: 'Europe/Paris',
    }),
    is_sample: z.boolean().openapi({ description: 'The sample site behind /demo, created on the first start; delete it when you no longer need it' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Site');

const SiteWithSecret = Site.extend({
  secret: z.string().openapi({ description: 'Signs identify calls: hex HMAC-SHA256(secret, lower-cased trimmed email). Keep it on your server.' }),
}).openapi('SiteWithSecret');

export const siteRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/sites',
      operationId: 'createSite',
      tags,
      security,
      summary: 'Register a site',
      description:
        'Answers with the public key for the script tag and the secret for signed identify (shown here and on rotation only). Hits are accepted only from allowed_origins (exact origins or https://*.example.com).',
      request: {
        body: jsonBody(
          SiteInput.openapi('SiteInput', {
            example: { name: 'Marketing site', allowed_origins: ['https://www.example.com'], settings: { respect_dnt: true }, timezone: 'Europe/Paris' },
          }),
        ),
      },
      responses: { 201: json(SiteWithSecret, 'Created'), ...errors(415) },
    }),
    async (c) => c.json(await createSite({ ctx: c.get('ctx'), input: c.req.valid('json') }), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/sites',
      operationId: 'listSites',
      tags,
      security,
      summary: 'List sites',
      request: { query: PageQuery },
      responses: { 200: json(page(Site, 'SitePage'), 'A page of sites'), ...errors() },
    }),
    async (c) => c.json(await listSites({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/sites/{id}',
      operationId: 'getSite',
      tags,
      security,
      summary: 'Get a site',
      request: { params: IdParam },
      responses: { 200: json(Site, 'The site (without its secret)'), ...errors(404) },
    }),
    async (c) => c.json(publicView(await getSite({ ctx: c.get('ctx'), input: c.req.valid('param') })), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/sites/{id}',
      operationId: 'updateSite',
      tags,
      security,
      summary: 'Update a site',
      description: 'allowed_origins, when given, replaces the list; settings are merged; `timezone: null` clears the time zone (UTC).',
      request: { params: IdParam, body: jsonBody(SitePatch.openapi('SitePatch')) },
      responses: { 200: json(Site, 'Updated'), ...errors(404, 415) },
    }),
    async (c) =>
      c.json(publicView(await updateSite({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, patch: c.req.valid('json') } })), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/sites/{id}/installation',
      operationId: 'checkSiteInstallation',
      tags,
      security,
      summary: 'Check the script tag is installed',
      description:
        'Whether hits from the script tag have arrived for this site, and when the last one was (a hit counts the moment it is stored). ' +
        'No hits: the tag is not on the pages yet, or the pages are not on one of `allowed_origins`, or every visit so far was a bot or opted out (Do Not Track, consent).',
      request: { params: IdParam },
      responses: {
        200: json(
          z
            .object({
              received: z.boolean().openapi({ description: 'Whether any hit has been stored for this site' }),
              last_hit_at: Timestamp.nullable().openapi({ description: 'When the newest hit was stored, or null' }),
            })
            .openapi('SiteInstallation'),
          'Whether hits arrived',
        ),
        ...errors(404),
      },
    }),
    async (c) => c.json(await siteInstallation({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/sites/{id}/rotate-secret',
      operationId: 'rotateSiteSecret',
      tags,
      security,
      summary: 'Rotate the identify secret',
      description: 'The old secret stops working at once; the new one is in this response only.',
      request: { params: IdParam },
      responses: { 200: json(SiteWithSecret, 'The site with its new secret'), ...errors(404) },
    }),
    async (c) => c.json(await rotateSiteSecret({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/sites/{id}',
      operationId: 'deleteSite',
      tags,
      security,
      summary: 'Delete a site',
      description: 'Its anonymous visitors and their events are deleted, and its slots; identified contacts and their history stay.',
      request: { params: IdParam },
      responses: { 200: json(DeletedSchema, 'Deleted'), ...errors(404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await deleteSite({ ctx: c.get('ctx'), input: { id } });
      return c.json({ id, deleted: true as const }, 200);
    },
  );
