import { Hono, type Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { normaliseHost, publicPage, renderFresh, respond, sitemap } from '../../core/pages/public';
import { serveArm } from '../../core/pages/arms';
import { pageForPreview, variantOf } from '../../core/pages/preview';
import { renderMessagePage } from '../../core/pages/render';
import type { Lookup } from '../../core/pages/cache';
import { who } from '../../core/personalise/who';
import { randomToken } from '../../core/util/crypto';
import { AppError } from '../../core/errors';
import { baseUrl } from '../forms/public';
import type { AppEnv } from '../shared';

// GET /p/{slug} and GET /sitemap.xml: thin adapters over core/pages/public.ts, which documents
// the page sets (host mapping) and the cache.

type C = Context<AppEnv>;

/** The host the browser asked for: Host, or X-Forwarded-Host behind a proxy the operator trusts. */
function requestHost(c: C): string {
  const forwarded = c.get('ctx').config.TRUST_PROXY ? c.req.header('x-forwarded-host')?.split(',')[0] : undefined;
  return normaliseHost(forwarded ?? c.req.header('host') ?? new URL(c.req.url).host);
}

// The server's origin per base URL (a handful at most: PUBLIC_URL, or the hosts requests came to).
const origins = new Map<string, string>();
function originOf(base: string): string {
  let o = origins.get(base);
  if (o === undefined) {
    if (origins.size > 1_000) origins.clear();
    origins.set(base, (o = new URL(base).origin));
  }
  return o;
}

// img-src allows data: for the empty icon in the head (user content never carries data: URLs: the sanitiser drops them).
/** Strict headers: scripts only with this response's nonce (the tag) or from this server; no inline handlers. */
export function securityHeaders(c: C, nonce: string, cache: string, base = baseUrl(c)): Record<string, string> {
  const server = originOf(base);
  return {
    'Content-Security-Policy':
      `default-src 'none'; script-src 'nonce-${nonce}' ${server}; style-src 'nonce-${nonce}'; img-src 'self' ${server} https: data:; ` +
      `connect-src 'self' ${server}; form-action 'self' ${server}; base-uri 'none'; object-src 'none'; frame-ancestors 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'strict-origin-when-cross-origin',
    'Cache-Control': cache,
  };
}

/** A client asking for JSON (not a browser) gets the error shape; browsers a page. */
const wantsJson = (c: C) => {
  const accept = c.req.header('accept') ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
};

function message(c: C, status: 403 | 404, title: string, text: string) {
  if (wantsJson(c)) throw new AppError(status === 404 ? 'NOT_FOUND' : 'FORBIDDEN', text);
  const nonce = randomToken(22);
  return c.html(renderMessagePage({ title, message: text, nonce }), status, securityHeaders(c, nonce, 'no-store'));
}

/**
 * Who this browser is, for a page with tokens (null for any other page): only from its own
 * visitor id, the tracker's ll_vid cookie (core/personalise/who.ts).
 */
const viewerOf = (c: C, page: Extract<Lookup, { kind: 'page' }>) =>
  page.personal ? who(c.get('ctx'), { siteId: page.siteId, uid: getCookie(c, 'll_vid') }) : null;

/** A page whose HTML depends on the browser's cookie: no shared cache may keep it. */
const PERSONAL = { 'Cache-Control': 'private, no-cache', Vary: 'Cookie' };

const notFound = (c: C) => message(c, 404, 'Page not found', 'There is no page at this address. It may have moved or been taken down.');

export const pagesPublicRoutes = new Hono<AppEnv>()
  .get('/p/:slug', async (c) => {
    const ctx = c.get('ctx');
    const base = baseUrl(c);
    const token = c.req.query('preview');
    if (token !== undefined) {
      const page = await pageForPreview(ctx, token);
      if (page === 'invalid' || page === 'expired') {
        return message(c, 403, 'Preview link not valid', page === 'expired' ? 'This preview link has expired: ask for a new one.' : 'This preview link is not valid: ask for a new one.');
      }
      // A variant of the page's A/B test: ?variant={id} beside the token.
      const variant = c.req.query('variant');
      const shown = variant && variant !== '0' ? await variantOf(ctx, page, variant) : page;
      if (!shown) return notFound(c);
      const fresh = await renderFresh(ctx, shown, base, true);
      if (!fresh) return notFound(c);
      const nonce = randomToken(22);
      const lookup = { kind: 'page', version: '', template: fresh.template, formIds: fresh.formIds, siteId: fresh.site.id, personal: fresh.personal } as const;
      const html = await respond(ctx, lookup, nonce, await viewerOf(c, lookup));
      return c.html(html, 200, { ...securityHeaders(c, nonce, 'no-store'), 'X-Robots-Tag': 'noindex, nofollow', ...(lookup.personal ? { Vary: 'Cookie' } : {}) });
    }
    const found = await publicPage(ctx, { host: requestHost(c), slug: c.req.param('slug'), base });
    // Old addresses keep their query (campaign parameters) on the way to the new one.
    if (found.kind === 'redirect') return c.redirect(found.location + new URL(c.req.url).search, 301);
    if (found.kind === 'missing') return notFound(c);
    const nonce = randomToken(22);
    // A page in an A/B test: this visitor's variant (core/pages/arms.ts), which depends on its cookie.
    const dnt = c.req.header('dnt') === '1' || c.req.header('sec-gpc') === '1';
    const served = serveArm(found, { cookie: c.req.header('cookie') ?? null, userAgent: c.req.header('user-agent') ?? null, doNotTrack: dnt, secure: base.startsWith('https:') || c.req.url.startsWith('https:') });
    if (served.setCookie) c.header('Set-Cookie', served.setCookie);
    const page = served.page;
    // A page with tokens: filled for this browser (core/personalise/who.ts), kept by no shared cache.
    if (page.personal) return c.html(await respond(ctx, page, nonce, await viewerOf(c, page)), 200, { ...securityHeaders(c, nonce, 'no-cache', base), ...PERSONAL });
    if (served.varies) c.header('Vary', 'Cookie', { append: true });
    return c.html(await respond(ctx, page, nonce), 200, securityHeaders(c, nonce, served.varies ? 'private, no-cache' : 'no-cache', base));
  })
  .get('/sitemap.xml', async (c) =>
    c.body(await sitemap(c.get('ctx'), { host: requestHost(c), base: baseUrl(c) }), 200, {
      'Content-Type': 'application/xml; charset=utf-8',
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    }),
  );
