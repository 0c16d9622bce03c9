import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { authenticate, hasScope } from '../../core/access/api-keys';
import { ForbiddenError, UnauthorizedError } from '../../core/errors';
import { getOutboxMessage, listOutbox, type OutboxMessage } from '../../core/email/outbox';
import { escapeHtml } from '../../core/util/html';
import { withoutPixel } from '../../core/email/track-links';
import { Email, ErrorSchema, errors, IdParam, json, page, PageQuery, security, Timestamp, type AppEnv } from '../shared';

const tags = ['Outbox'];

// Sign-in messages (invitations, password resets) are listed for admins only: an admin key, or a signed-in admin.
const isAdmin = (c: Context<AppEnv>) => hasScope(c.get('apiKey').scopes, 'admin');

const OutboxSummary = z
  .object({
    id: z.number().int(),
    send_id: z.number().int(),
    contact_id: z.number().int().nullable(),
    to: Email,
    from: z.string(),
    subject: z.string(),
    created_at: Timestamp,
  })
  .openapi('OutboxSummary');

const OutboxMessageSchema = OutboxSummary.extend({
  email_id: z.number().int().nullable(),
  headers: z.record(z.string(), z.string()).openapi({ description: 'From, To, Reply-To, Subject and the rest (List-Unsubscribe…), as a provider would get them' }),
  html: z.string(),
  text: z.string(),
}).openapi('OutboxMessage');

const REALM = 'Basic realm="Leadline outbox", charset="UTF-8"';

/**
 * The outbox page is opened in a browser, which can send HTTP Basic credentials but no Bearer
 * header: the password is an admin API key (any user name; a key given as the user name with
 * an empty password works too). A 401 carries the prompt.
 */
export const basicAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const m = /^Basic\s+([A-Za-z0-9+/=]{1,1000})\s*$/i.exec(c.req.header('authorization') ?? '');
  let secret = '';
  if (m) {
    try {
      const decoded = new TextDecoder().decode(Uint8Array.from(atob(m[1]!), (ch) => ch.charCodeAt(0)));
      const colon = decoded.indexOf(':');
      secret = colon < 0 ? decoded : decoded.slice(colon + 1) || decoded.slice(0, colon);
    } catch {
      secret = '';
    }
  }
  const key = secret ? await authenticate({ ctx: c.get('ctx'), input: { secret } }) : null;
  if (!key) {
    c.header('WWW-Authenticate', REALM);
    throw new UnauthorizedError('Sign in with an admin API key as the password.');
  }
  if (!hasScope(key.scopes, 'admin')) throw new ForbiddenError('The outbox page needs an admin key.');
  c.set('apiKey', key);
  return next();
};

// The message's HTML is shown, never run: a sandboxed iframe without allow-scripts (a unique
// origin, no scripts, no forms, no top navigation), and this page's policy, which the srcdoc
// document inherits, allows no script or connection at all. The open pixel is left out: an
// admin reading the message is not the recipient opening it.
const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0;padding:1rem 1.5rem;color:#1a1a1a;background:#f6f6f6}
main{max-width:60rem;margin:0 auto}h1{font-size:1.3rem;margin:.2rem 0 1rem}h2{font-size:1rem;margin:1.5rem 0 .5rem}
table{border-collapse:collapse;background:#fff;width:100%}th,td{text-align:left;vertical-align:top;padding:.3rem .6rem;border-bottom:1px solid #e3e3e3;word-break:break-all}
th{white-space:nowrap;color:#555;font-weight:600;width:1%}iframe{width:100%;height:36rem;border:1px solid #ccc;background:#fff}
pre{background:#fff;border:1px solid #ccc;padding:1rem;white-space:pre-wrap;word-break:break-word}`;

function pageHtml(m: OutboxMessage): string {
  const rows = Object.entries(m.headers)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>Outbox: ${escapeHtml(m.subject)}</title><style>${STYLE}</style></head>
<body><main><p>Outbox message ${m.id} · send ${m.send_id} · ${escapeHtml(m.created_at)} · not sent: no provider is configured</p>
<h1>${escapeHtml(m.subject)}</h1><table>${rows}</table>
<h2>HTML</h2><iframe sandbox="" referrerpolicy="no-referrer" title="The message's HTML part" srcdoc="${escapeHtml(withoutPixel(m.html))}"></iframe>
<h2>Plain text</h2><pre>${escapeHtml(m.text)}</pre></main></body></html>`;
}

export const outboxApiRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/outbox',
      operationId: 'listOutbox',
      tags,
      security,
      summary: 'List outbox messages',
      description: 'Without RESEND_API_KEY, sent emails land here instead of a provider. Newest first; `to` narrows to one recipient.',
      request: { query: PageQuery.extend({ to: z.string().trim().min(1).max(254).optional().openapi({ description: 'Recipient address' }) }) },
      responses: { 200: json(page(OutboxSummary, 'OutboxPage'), 'A page of messages'), ...errors() },
    }),
    async (c) => c.json(await listOutbox({ ctx: c.get('ctx'), input: { ...c.req.valid('query'), signIn: isAdmin(c) } }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/outbox/{id}',
      operationId: 'getOutboxMessage',
      tags,
      security,
      summary: 'Get an outbox message',
      description: 'Headers, HTML and text as a provider would have got them. In a browser: /outbox/{id}.',
      request: { params: IdParam },
      responses: { 200: json(OutboxMessageSchema, 'The message'), ...errors(404) },
    }),
    async (c) => c.json(await getOutboxMessage({ ctx: c.get('ctx'), input: { ...c.req.valid('param'), signIn: isAdmin(c) } }), 200),
  );

/** GET /outbox/{id}: the message in a browser, for admins (basicAdmin runs before it). */
export const outboxPageRoutes = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/outbox/{id}',
    operationId: 'viewOutboxMessage',
    tags,
    security: [{ basicAuth: [] }],
    summary: 'Read an outbox message in a browser',
    description:
      'An HTML page with the headers, the HTML part in a sandboxed frame (never run: no scripts, strict Content-Security-Policy) and the text part. HTTP Basic auth: an admin API key as the password; without one the answer is 401 with a `WWW-Authenticate: Basic` prompt.',
    request: { params: IdParam },
    responses: {
      200: {
        description: 'The page',
        headers: { 'Content-Security-Policy': { description: 'No scripts; inline styles and https images only', schema: { type: 'string' } } },
        content: { 'text/html': { schema: z.string() } },
      },
      ...errors(404),
      401: {
        description: 'No admin API key as the Basic auth password: the browser prompts for one',
        headers: { 'WWW-Authenticate': { description: '`Basic realm="Leadline outbox", charset="UTF-8"`', schema: { type: 'string' } } },
        content: { 'application/json': { schema: ErrorSchema } },
      },
    },
  }),
  async (c) => {
    const m = await getOutboxMessage({ ctx: c.get('ctx'), input: { ...c.req.valid('param'), signIn: true } });
    return c.html(pageHtml(m), 200, {
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    });
  },
);
