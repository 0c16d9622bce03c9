import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { createEmail, deleteEmail, getEmail, listEmails, updateEmail } from '../../core/email/emails';
import { previewEmail } from '../../core/email/compose';
import { apiReason, getSend, listSends, sendEmail, sendTest } from '../../core/email/queue';
import { kickSendLoop } from '../../core/email/loop';
import { EMAIL_KINDS, EmailInput, EmailPatch, PreviewInput, SendInput, TestInput } from '../../core/email/schema';
import { defer } from '../defer';
import { DeletedSchema, errors, IdParam, json, jsonBody, page, PageQuery, security, type AppEnv } from '../shared';
import { EmailSchema, PreviewSchema, SendSchema } from './schemas';

const tags = ['Emails'];

const LIQUID =
  'Subject, preheader, HTML and text are Liquid templates (sandboxed: no includes, own properties only). Variables: `contact.first_name`, `contact.email`, ' +
  '`contact.fields.<custom field>`, `contact.tags`, `contact.points`, `contact.stage`, `company.name` (primary company), `points`, `stage`, ' +
  '`unsubscribe_url`, `preferences_url`, and a send\'s own `variables`. Unknown variables render empty (use `| default: "…"`); an unknown filter ' +
  'or another template error is a 422 naming the field and line. In the HTML every output is HTML-escaped unless `| raw`. ';

export const emailRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/emails',
      operationId: 'createEmail',
      tags,
      security,
      summary: 'Create an email',
      description: LIQUID + 'CSS in <style> is inlined when saved; the plain text is generated from the HTML unless given. Marketing kinds (template, broadcast) default to the "marketing" category.',
      request: {
        body: jsonBody(
          EmailInput.openapi('EmailInput', {
            example: { name: 'Welcome', subject: 'Welcome, {{ contact.first_name | default: "friend" }}', html: '<p>Hello {{ contact.first_name | default: "there" }}!</p>' },
          }),
        ),
      },
      responses: { 201: json(EmailSchema, 'Created'), ...errors(415) },
    }),
    async (c) => c.json(await createEmail({ ctx: c.get('ctx'), input: c.req.valid('json') }), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/emails',
      operationId: 'listEmails',
      tags,
      security,
      summary: 'List emails',
      description: 'Newest first.',
      request: { query: PageQuery.extend({ kind: z.enum(EMAIL_KINDS).optional() }) },
      responses: { 200: json(page(EmailSchema, 'EmailPage'), 'A page of emails'), ...errors() },
    }),
    async (c) => c.json(await listEmails({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/emails/{id}',
      operationId: 'getEmail',
      tags,
      security,
      summary: 'Get an email',
      request: { params: IdParam },
      responses: { 200: json(EmailSchema, 'The email'), ...errors(404) },
    }),
    async (c) => c.json(await getEmail({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/emails/{id}',
      operationId: 'updateEmail',
      tags,
      security,
      summary: 'Update an email',
      description: 'Templates are checked again (422 with field and line). Sends not yet made render the new version.',
      request: { params: IdParam, body: jsonBody(EmailPatch.openapi('EmailPatch')) },
      responses: { 200: json(EmailSchema, 'Updated'), ...errors(404, 415) },
    }),
    async (c) => c.json(await updateEmail({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, patch: c.req.valid('json') } }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/emails/{id}',
      operationId: 'deleteEmail',
      tags,
      security,
      summary: 'Delete an email',
      description: '409 while sends of it are still to go out or a broadcast of it is unfinished. Sends already made stay listed.',
      request: { params: IdParam },
      responses: { 200: json(DeletedSchema, 'Deleted'), ...errors(404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await deleteEmail({ ctx: c.get('ctx'), input: { id } });
      return c.json({ id, deleted: true as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/emails/{id}/preview',
      operationId: 'previewEmail',
      tags,
      security,
      summary: 'Render an email for a contact',
      description: 'Subject, HTML, text and headers as this contact (or, without contact_id, a contact with no data) would get them. Nothing is stored or sent.',
      request: { params: IdParam, body: jsonBody(PreviewInput.openapi('EmailPreviewInput')) },
      responses: { 200: json(PreviewSchema, 'The rendered message'), ...errors(404, 415) },
    }),
    async (c) => {
      const body = c.req.valid('json');
      return c.json(await previewEmail({ ctx: c.get('ctx'), input: { emailId: c.req.valid('param').id, contactId: body.contact_id, variables: body.variables } }), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/emails/{id}/test',
      operationId: 'sendTestEmail',
      tags,
      security,
      summary: 'Send a test',
      description:
        'To any address, rendered for contact_id (or a contact with no data). Ignores do-not-contact, unsubscribes and caps; marked as a test (`X-Leadline-Test: true`, `is_test`), not counted and no email_sent event.',
      request: { params: IdParam, body: jsonBody(TestInput.openapi('EmailTestInput')) },
      responses: { 202: json(SendSchema, 'Queued: the send loop delivers it within seconds'), ...errors(404, 415) },
    }),
    async (c) => {
      const ctx = c.get('ctx');
      const send = await sendTest({ ctx, input: { emailId: c.req.valid('param').id, body: c.req.valid('json') } });
      if (send.status === 'pending') defer(c, kickSendLoop(ctx));
      return c.json(send, 202);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/emails/{id}/send',
      operationId: 'sendEmail',
      tags,
      security,
      summary: 'Send an email to a contact or address',
      description:
        '`{"contact_id"}` sends to a contact; `{"to", "variables"}` to an address (transactional emails only; a contact with that address is linked). ' +
        'Every send is first a row, unique per email, recipient and reason; the reason is this request\'s Idempotency-Key (per API key) when it has one — ' +
        'the same key never sends twice, even after the 24 hours its stored answer lasts — else a fresh id, so each call without a key is a send of its own. ' +
        'Suppressed sends are rows too: `status: "skipped"` with `skip_reason` (invalid_address, bounced, complained, do_not_contact, unsubscribed, frequency_cap). ' +
        'Transactional emails ignore unsubscribes, caps and do-not-contact for email, but not for all, nor bounces and complaints.',
      request: { params: IdParam, body: jsonBody(SendInput.openapi('EmailSendInput', { example: { contact_id: 1 } })) },
      responses: { 202: json(SendSchema, 'Queued (pending) or recorded as skipped'), ...errors(404, 409, 415) },
    }),
    async (c) => {
      const ctx = c.get('ctx');
      const reason = apiReason(c.get('apiKey').id, c.req.header('idempotency-key'));
      const send = await sendEmail({ ctx, input: { emailId: c.req.valid('param').id, body: c.req.valid('json'), reason } });
      if (send.status === 'pending') defer(c, kickSendLoop(ctx));
      return c.json(send, 202);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/emails/{id}/sends',
      operationId: 'listEmailSends',
      tags,
      security,
      summary: "List an email's sends",
      description: 'Newest first.',
      request: { params: IdParam, query: PageQuery.extend({ status: z.enum(['pending', 'sending', 'sent', 'skipped', 'failed']).optional() }) },
      responses: { 200: json(page(SendSchema, 'EmailSendPage'), 'A page of sends'), ...errors(404) },
    }),
    async (c) => c.json(await listSends({ ctx: c.get('ctx'), input: { ...c.req.valid('query'), emailId: c.req.valid('param').id } }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/email-sends/{id}',
      operationId: 'getEmailSend',
      tags,
      security,
      summary: 'Get a send',
      request: { params: IdParam },
      responses: { 200: json(SendSchema, 'The send'), ...errors(404) },
    }),
    async (c) => c.json(await getSend({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  );
