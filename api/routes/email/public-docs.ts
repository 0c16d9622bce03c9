import { createRoute, z } from '@hono/zod-openapi';
import { ErrorSchema, publicErrors, Url } from '../shared';
import { header, html, jsonOf, OneClickBody, security, tags, UnsubscribeToken } from '../public-docs-schemas';

// The links in sent email (the preference centre and one-click unsubscribe, the open pixel, the
// click redirect) in the OpenAPI document; routes/public-docs.ts lists them with the other public
// endpoints, the handlers are routes/email/unsubscribe.ts and routes/email/tracking.ts.

export const EMAIL_LINK_ROUTES = [
  createRoute({
    method: 'get',
    path: '/u/{token}',
    operationId: 'getEmailPreferences',
    tags,
    security,
    summary: 'The preference centre of an unsubscribe link',
    description:
      "Where `{{ unsubscribe_url }}` and `{{ preferences_url }}` in a marketing email lead: an HTML page (no script, a Content-Security-Policy that allows none) with the subscription categories and this recipient's state, each to leave or rejoin, and \"leave all marketing email\". Its forms post to the same URL. Opening it changes nothing (link scanners open every link).",
    request: { params: UnsubscribeToken },
    responses: {
      200: html('The page', { 'Content-Security-Policy': header("default-src 'none'; the page's one stylesheet by its hash; forms to 'self' only") }),
      400: {
        description: "The token is not valid (changed, cut short, or a preview's link): a page that says so for a browser (Accept: text/html), else the error shape",
        content: { 'application/json': { schema: ErrorSchema }, 'text/html': { schema: z.string() } },
      },
      404: {
        description: 'Nobody is on record for this link any more (the contact was deleted): a page for a browser, else the error shape',
        content: { 'application/json': { schema: ErrorSchema }, 'text/html': { schema: z.string() } },
      },
      ...publicErrors(),
    },
  }),
  createRoute({
    method: 'post',
    path: '/u/{token}',
    operationId: 'unsubscribeOneClick',
    tags,
    security,
    summary: 'One-click unsubscribe (RFC 8058), and the preference centre\'s form posts',
    description:
      "What a mailbox provider posts for the message's `List-Unsubscribe-Post: List-Unsubscribe=One-Click`: leaves the link's category (all marketing email, as do-not-contact on email with reason `unsubscribed`, when the email has no category) at once, and answers an empty 200 — no redirect, no cookie, no key. Any body is taken (`List-Unsubscribe=One-Click` urlencoded or multipart, nothing, or anything else); repeating it changes nothing more. A form post with an `action` field (`leave`, `leave_all`, `rejoin_all`, `save` with `shown` and `c` category ids) comes from the preference centre and answers its page with what was done. Each leave is an `email_unsubscribed` event. At most 64 KB.",
    request: {
      params: UnsubscribeToken,
      body: {
        required: false,
        content: {
          'application/x-www-form-urlencoded': { schema: OneClickBody },
          'multipart/form-data': { schema: OneClickBody },
        },
      },
    },
    responses: {
      200: {
        description: 'Done. One-click: an empty body. A preference-centre form post: the page, saying what changed.',
        content: { 'text/html': { schema: z.string() } },
      },
      400: jsonOf(ErrorSchema, 'The token is not valid: nothing changed'),
      ...publicErrors(413),
    },
  }),
  createRoute({
    method: 'get',
    path: '/o/{token}',
    operationId: 'emailOpenPixel',
    tags,
    security,
    summary: 'Email open pixel',
    description:
      "The image in a sent email's HTML. Always the 43-byte transparent GIF, never cached, whatever the token: a genuine open token records an email_opened event and the send's first open; opens by privacy proxies and scanners (Apple Mail Privacy Protection, link scanners, HEAD requests, opens within seconds of sending) are recorded with machine: true and left out of the human open columns. On Workers with a tracking Queue the open is handed to the Queue and written by its consumer within seconds, once.",
    request: { params: z.object({ token: z.string().openapi({ param: { name: 'token', in: 'path' }, description: 'A signed open token' }) }) },
    responses: {
      200: {
        description: 'The pixel',
        headers: { 'Cache-Control': header('no-store') },
        content: { 'image/gif': { schema: z.string().openapi({ format: 'binary' }) } },
      },
      ...publicErrors(),
    },
  }),
  createRoute({
    method: 'get',
    path: '/c/{token}',
    operationId: 'emailClickRedirect',
    tags,
    security,
    summary: 'Email click redirect',
    description:
      "A link in a sent email, for a browser. The destination is inside the signed token, so this is no open redirect: a genuine click token records an email_clicked event (url: the destination) and the send's first click, then redirects there; a person's click on a send to a contact adds `ll_t`, a 15-minute single-use token that identifies the browser when the landing page carries the tag (POST /t strips it from the stored URL). A tampered or unknown token gets a 400 page and no redirect.",
    request: { params: z.object({ token: z.string().openapi({ param: { name: 'token', in: 'path' }, description: 'A signed click token' }) }) },
    responses: {
      200: jsonOf(
        z.object({ url: Url.openapi({ description: 'The destination inside the token' }) }).openapi('EmailLinkTarget'),
        'Asked for JSON (Accept: application/json without text/html): where the link leads; nothing is recorded and nobody is redirected',
      ),
      302: { description: 'To the destination', headers: { Location: header('The destination (with ll_t for a person\'s click on a send to a contact)'), 'Cache-Control': header('no-store') } },
      400: {
        description: 'Not a valid link (tampered, cut short, another kind of token): a page saying so, or the error as JSON when asked for JSON; never a redirect',
        headers: { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } },
        content: { 'text/html': { schema: z.string() }, 'application/json': { schema: ErrorSchema } },
      },
      ...publicErrors(),
    },
  }),
];
