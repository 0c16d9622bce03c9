import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { createPage, deletePage, getPage, listPages, setPublished, updatePage } from '../../core/pages/pages';
import { previewDraft } from '../../core/pages/draft';
import { previewLink } from '../../core/pages/preview';
import { randomToken } from '../../core/util/crypto';
import { PageInput, PagePatch, PreviewLinkInput, Section } from '../../core/pages/schema';
import { baseUrl } from '../forms/public';
import { PageAbTestSchema } from './ab-schemas';
import { securityHeaders } from './public';
import { DeletedSchema, errors, IdParam, idNumber, json, jsonBody, page, PageQuery, security, Timestamp, Url, type AppEnv } from '../shared';

const tags = ['Pages'];

const PAGE_DOC =
  'A landing page served at /p/{slug}: server-rendered static HTML with the site\'s tracking tag built in. ' +
  'sections: markdown (rendered, then sanitised) | html (sanitised: no script, style, iframe, SVG, event handlers or style attributes; links http(s), mailto:, tel: or relative) | image | form (a form from /api/v1/forms, working without JavaScript and enhanced by the widget) | cta (a button link) | hero (heading, subheading, image, button) | columns (2–4 columns of markdown/html/image/form/cta). ' +
  'host: the host name whose page set the page belongs to (null: this server\'s own address); a request whose Host is a host some page names sees that host\'s pages only. Slugs are unique per host (409 otherwise). ' +
  'A new page is a draft (404 publicly; see the preview link); publish makes it public. Changing the slug or host keeps the old address as a 301 to the page. ' +
  'Personalisation: `{{ contact.first_name }}` or `{{ contact.first_name | default: "there" }}` in Markdown and HTML text, headings, button labels and form headings (a built-in field, or `contact.fields.<key>`); filled, escaped, for a browser that proved who it is (signed identify, signed email click); a browser that only submitted a form gets back only the values it submitted; anyone else sees the default. Every `{{` there starts a token: a malformed one, an unknown field, or a token in the title, description, an address, alt text or an HTML attribute is a 422 naming it.';

export const PageSectionSchema = Section.openapi('PageSection');

export const PageSchema = z
  .object({
    id: z.number().int(),
    site_id: z.number().int(),
    host: z.string().nullable(),
    slug: z.string(),
    title: z.string(),
    description: z.string(),
    og_image: Url.nullable(),
    language: z.string(),
    sections: z.array(PageSectionSchema),
    status: z.enum(['draft', 'published']),
    version: z.number().int(),
    path: z.string().openapi({ description: '/p/{slug}, on the page\'s host (or this server when host is null)' }),
    published_at: Timestamp.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
    ab_test: PageAbTestSchema,
  })
  .openapi('Page');

const PreviewLink = z
  .object({
    url: Url.openapi({ description: 'The page\'s address with the signed preview token' }),
    token: z.string(),
    expires_at: Timestamp,
  })
  .openapi('PagePreviewLink');

const ListQuery = PageQuery.extend({
  site_id: idNumber().optional().openapi({ type: 'integer' }),
  status: z.enum(['draft', 'published']).optional(),
});

const EXAMPLE = {
  site_id: 1,
  host: null,
  slug: 'spring-webinar',
  title: 'Spring webinar: pipelines that convert',
  description: 'Forty minutes, three case studies, one template to take away.',
  og_image: 'https://example.com/og/webinar.png',
  language: 'en',
  sections: [
    { type: 'hero', heading: 'Pipelines that convert', subheading: 'Live on 12 May', cta: { label: 'Save my seat', url: '#register' } },
    { type: 'markdown', markdown: '## What you will learn\n\n- Scoring that sales trusts\n- Nurture without spam' },
    { type: 'form', form_id: 1, heading: 'Register' },
  ],
};

const PageInputSchema = PageInput.openapi('PageInput', { example: EXAMPLE as never });

const withPublish = (action: 'publish' | 'unpublish') =>
  createRoute({
    method: 'post',
    path: `/api/v1/pages/{id}/${action}`,
    operationId: `${action}Page`,
    tags,
    security,
    summary: action === 'publish' ? 'Publish a page' : 'Unpublish a page (back to a draft)',
    description:
      action === 'publish'
        ? 'The page answers at /p/{slug} and is listed in /sitemap.xml from the next request on. Publishing a published page changes nothing but its version.'
        : 'The page answers 404 publicly from the next request on (the preview link still shows it) and leaves the sitemap.',
    request: { params: IdParam },
    responses: { 200: json(PageSchema, 'The page'), ...errors(404) },
  });

export const pageRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/pages',
      operationId: 'createPage',
      tags,
      security,
      summary: 'Create a landing page (a draft)',
      description: PAGE_DOC,
      request: { body: jsonBody(PageInputSchema) },
      responses: { 201: json(PageSchema, 'Created, as a draft'), ...errors(409, 415) },
    }),
    async (c) => c.json(await createPage({ ctx: c.get('ctx'), input: c.req.valid('json') }), 201),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/pages/preview',
      operationId: 'previewPage',
      tags,
      security,
      summary: 'Render a draft landing page without saving it',
      description:
        'Takes the body of POST /api/v1/pages, checks it as a save does (the same 422s naming the fields at fault: sections, forms, personalisation tokens; a taken slug is not checked) and answers the HTML /p/{slug}?preview= would show for it once saved: rendered by the same code, marked noindex, tokens filled with their defaults. Nothing is stored. For the roles that may create pages; API keys need the write scope.',
      request: { body: jsonBody(PageInputSchema) },
      responses: {
        200: {
          description: 'The page\'s HTML',
          headers: {
            'Content-Security-Policy': { description: "The page's own: scripts and styles by this response's nonce only, frame-ancestors 'none'", schema: { type: 'string' } },
            'Cache-Control': { description: '`no-store`', schema: { type: 'string' } },
          },
          content: { 'text/html': { schema: z.string() } },
        },
        ...errors(415),
      },
    }),
    async (c) => {
      const nonce = randomToken(22);
      const html = await previewDraft({ ctx: c.get('ctx'), input: { page: c.req.valid('json'), base: baseUrl(c), nonce } });
      return c.html(html, 200, { ...securityHeaders(c, nonce, 'no-store'), 'X-Robots-Tag': 'noindex, nofollow' });
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/pages',
      operationId: 'listPages',
      tags,
      security,
      summary: 'List landing pages',
      request: { query: ListQuery },
      responses: { 200: json(page(PageSchema, 'PagePage'), 'A page of landing pages'), ...errors() },
    }),
    async (c) => c.json(await listPages({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/pages/{id}',
      operationId: 'getPage',
      tags,
      security,
      summary: 'Get a landing page',
      request: { params: IdParam },
      responses: { 200: json(PageSchema, 'The page'), ...errors(404) },
    }),
    async (c) => c.json(await getPage({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/pages/{id}',
      operationId: 'updatePage',
      tags,
      security,
      summary: 'Update a landing page',
      description:
        'Each field given replaces the stored one (sections as a whole); the result is checked as a whole. A published page shows the change from the next request on. A new slug or host keeps the old address as a 301 to the page. ' +
        'ab_test: the A/B settings (the given ones change): goal, min_visitors, confidence, auto_winner; a goal form must exist, a goal cta_id must be a button id on the page or one of its variants. A goal changed during a test counts that test\'s conversions again from the event log.',
      request: { params: IdParam, body: jsonBody(PagePatch.openapi('PagePatch')) },
      responses: { 200: json(PageSchema, 'Updated'), ...errors(404, 409, 415) },
    }),
    async (c) => c.json(await updatePage({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, patch: c.req.valid('json') } }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/pages/{id}',
      operationId: 'deletePage',
      tags,
      security,
      summary: 'Delete a landing page',
      description: 'Its address and old addresses answer 404 from the next request on. Its page views stay in the event log.',
      request: { params: IdParam },
      responses: { 200: json(DeletedSchema, 'Deleted'), ...errors(404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await deletePage({ ctx: c.get('ctx'), input: { id } });
      return c.json({ id, deleted: true as const }, 200);
    },
  )
  .openapi(withPublish('publish'), async (c) => c.json(await setPublished({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, published: true } }), 200))
  .openapi(withPublish('unpublish'), async (c) => c.json(await setPublished({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, published: false } }), 200))
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/pages/{id}/preview-link',
      operationId: 'createPagePreviewLink',
      tags,
      security,
      summary: 'A signed preview link that expires',
      description:
        'The page\'s address with ?preview=<token>: it shows the page as it is when opened (draft or published, never cached, marked noindex) until expires_in seconds from now (default a day, at most 30 days). A changed or expired token answers 403. With variant_id, the link shows that variant of the page\'s running A/B test (&variant={id}).',
      request: { params: IdParam, body: jsonBody(PreviewLinkInput.openapi('PagePreviewLinkInput')) },
      responses: { 201: json(PreviewLink, 'The link'), ...errors(404, 415) },
    }),
    async (c) =>
      c.json(await previewLink({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, ...c.req.valid('json'), base: baseUrl(c) } }), 201),
  );
