import { createRoute, z } from '@hono/zod-openapi';
import { ErrorSchema, publicErrors } from '../shared';
import { header, html, security, tags } from '../public-docs-schemas';

// GET /p/{slug} and GET /sitemap.xml in the OpenAPI document (routes/public-docs.ts lists them
// with the other public endpoints; the handlers are routes/pages/public.ts).

const PAGE_HEADERS = {
  'Content-Security-Policy': header("Scripts only with this response's nonce (the tracking tag) or from this server; styles by nonce; no inline event handlers; frame-ancestors 'none'"),
  'Cache-Control': header('no-cache (published pages), private, no-cache (published pages in an A/B test or with personalisation tokens), no-store (previews and error pages)'),
  'Set-Cookie': header('On a page in an A/B test, for a browser without one: ll_vid, the visitor id the tracking tag keeps (not for bots, nor where the site asks for consent first or honours Do Not Track)'),
  Vary: header('Cookie, on a page in an A/B test (the variant depends on the visitor id) or with personalisation tokens (filled for the browser its ll_vid cookie names)'),
};

const htmlOrError = (description: string) => ({
  description,
  headers: { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } },
  content: { 'text/html': { schema: z.string() }, 'application/json': { schema: ErrorSchema } },
});

export const PAGE_PUBLIC_ROUTES = [
  createRoute({
    method: 'get',
    path: '/p/{slug}',
    operationId: 'getLandingPage',
    tags,
    security,
    summary: 'A landing page',
    description:
      "A published page of the page set answering for the request's Host (the pages naming that host, or the pages naming none on any other host), as static HTML with the tracking tag and forms that work without JavaScript. An old slug answers 301 to the current one. A page in an A/B test answers each visitor (its ll_vid cookie) with its variant, the same one every time. With `preview`, a signed preview link: the page as it is now, draft or not, never cached; a changed or expired link answers 403.",
    request: {
      params: z.object({ slug: z.string().openapi({ param: { name: 'slug', in: 'path' }, example: 'spring-webinar' }) }),
      query: z.object({
        preview: z.string().optional().openapi({ description: 'A token from POST /api/v1/pages/{id}/preview-link' }),
        variant: z.string().optional().openapi({ description: "With preview: a variant of the page's running A/B test to show (404 when it has none such)" }),
      }),
    },
    responses: {
      200: html('The page', PAGE_HEADERS),
      301: { description: "The page's slug (or host) changed: its address now", headers: { Location: header('The current address') } },
      403: htmlOrError('A preview link that was changed or has expired: a page saying so, or the error as JSON when asked for JSON'),
      404: htmlOrError('No published page here: a page saying so, or the error as JSON when asked for JSON'),
      ...publicErrors(),
    },
  }),
  createRoute({
    method: 'get',
    path: '/sitemap.xml',
    operationId: 'getSitemap',
    tags,
    security,
    summary: 'The sitemap of the published pages',
    description: "The published pages of the page set answering for the request's Host, each at its canonical URL with its last change.",
    responses: {
      200: { description: 'A sitemaps.org urlset', content: { 'application/xml': { schema: z.string() } } },
      ...publicErrors(),
    },
  }),
];
