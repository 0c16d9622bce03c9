import { createRoute, z } from '@hono/zod-openapi';
import { TrackPayload } from '../core/tracking/payload';
import { SubmitBody } from '../core/forms/submission';
import { FORM_FIELD_TYPES, HIDDEN_SOURCES } from '../core/forms/field';
import { Content, Frequency, Style, Trigger } from '../core/focus/schema';
import { SITE_KEY } from '../core/tracking/site-access';
import { publicErrors, Url } from './shared';

// The schemas and helpers of the public endpoints' documentation (public-docs.ts lists the routes).

export const tags = ['Public (no API key)'];
export const security: never[] = [];
export const header = (description: string, schema: object = { type: 'string' }) => ({ description, schema });

export const UnsubscribeToken = z.object({
  token: z.string().max(4096).openapi({ param: { name: 'token', in: 'path' }, description: 'The signed token of an unsubscribe link (core/email/links.ts)' }),
});

export const OneClickBody = z
  .object({
    'List-Unsubscribe': z.literal('One-Click').optional().openapi({ description: 'What RFC 8058 has mailbox providers send' }),
    action: z.enum(['leave', 'leave_all', 'rejoin_all', 'save']).optional().openapi({ description: 'Preference centre forms only' }),
    shown: z.array(z.string()).optional().openapi({ description: "save: the category ids the page listed (only they change)" }),
    c: z.array(z.string()).optional().openapi({ description: 'save: the category ids left ticked' }),
  })
  .openapi('OneClickUnsubscribe');

export const FormId = z.object({ id: z.coerce.number().int().positive().openapi({ param: { name: 'id', in: 'path' }, example: 12 }) });

export const PublicFormField = z
  .object({
    key: z.string().openapi({ description: 'The name to send the value under' }),
    type: z.enum(FORM_FIELD_TYPES),
    label: z.string(),
    required: z.boolean(),
    placeholder: z.string().optional(),
    help: z.string().optional(),
    options: z.array(z.object({ value: z.string(), label: z.string() })).optional().openapi({ description: 'select, radio, checkbox_group, country' }),
    rules: z
      .object({
        pattern: z.string().optional().openapi({ description: "Full match: new RegExp('^(?:' + pattern + ')$', 'u')" }),
        pattern_message: z.string().optional(),
        min_length: z.number().int().optional(),
        max_length: z.number().int().optional().openapi({ description: 'Always given for text-like types' }),
        min: z.union([z.number(), z.string()]).optional().openapi({ description: 'A number, or YYYY-MM-DD for dates' }),
        max: z.union([z.number(), z.string()]).optional(),
      })
      .optional(),
    default: z.union([z.string(), z.number(), z.array(z.string())]).optional().openapi({ description: 'A static default from the definition' }),
    value: z
      .union([z.string(), z.number(), z.array(z.string())])
      .optional()
      .openapi({ description: 'Prefill: what this visitor sent to this form last time (text, number, select, radio, checkbox_group, country only); never contact data' }),
    source: z.enum(HIDDEN_SOURCES).optional().openapi({ description: 'Hidden fields: fill from the host page' }),
  })
  .openapi('PublicFormField');

export const PublicForm = z
  .object({
    id: z.number().int(),
    submit_url: Url.openapi({ description: 'POST the submission here' }),
    submit_label: z.string(),
    honeypot: z.string().openapi({
      description: 'Render a visually hidden, non-focusable input (tabindex=-1, autocomplete=off, aria-hidden) with this name; send its value as `hp`',
      example: 'website',
    }),
    min_fill_ms: z.number().int().openapi({ description: 'Submissions sooner than this after rendering are discarded' }),
    success: z.union([z.object({ type: z.literal('message'), message: z.string() }), z.object({ type: z.literal('redirect'), url: Url })]),
    fields: z.array(PublicFormField).openapi({
      description:
        'In display order, progressive profiling applied (only for a browser that proved it is the contact). Hidden fields with a static value are left out: the server fills them.',
    }),
  })
  .openapi('PublicForm');

export const SubmitAnswer = z
  .object({
    ok: z.literal(true),
    message: z.string().optional(),
    redirect: Url.optional(),
    asset_url: Url.optional().openapi({ description: 'When the form delivers an asset: its download link' }),
  })
  .openapi('FormSubmitAnswer', {
    description:
      "The form's after_submit: a message or a redirect, plus asset_url when it delivers an asset. The submission is committed. A repeated sid answers the same again; a submission discarded as a bot's answers `{\"ok\":true,\"message\":\"Thanks!\"}` and nothing else.",
  });

export const PublicFocusItem = z
  .object({ id: z.number().int(), variant: z.string(), style: Style, content: Content, trigger: Trigger, frequency: Frequency })
  .openapi('PublicFocusItem');

type SlotNodeT = string | [string, Record<string, string> | 0, ...SlotNodeT[]];
const SlotNode: z.ZodType<SlotNodeT> = z
  .lazy(() => z.union([z.string(), z.tuple([z.string(), z.union([z.record(z.string(), z.string()), z.literal(0)])]).rest(SlotNode)]))
  .openapi('SlotNode', {
    description: 'Text (insert as a text node), or an element: [tag, attributes (0 for none), ...children]. Sanitised by the server: build it with createElement, setAttribute and text nodes.',
  });

export const PublicSlot = z
  .object({
    id: z.number().int(),
    name: z.string().openapi({ description: 'Fills the elements with data-leadline-slot="<name>"' }),
    variant: z.string().nullable().openapi({ description: "The variant chosen; null: no rule holds, keep the page's own content" }),
    content: z.array(SlotNode).optional().openapi({ description: 'The variant (absent when variant is null)' }),
  })
  .openapi('PublicSlot');

export const UrlencodedSubmission = z
  .object({
    _k: SITE_KEY.openapi({ description: 'Site key' }),
    _sid: z.string().optional().openapi({ description: 'Submission id (8–64 of A-Z a-z 0-9 _ -); resending it stores nothing new' }),
    _ts: z.string().optional().openapi({ description: 'The signed render time from the embed page' }),
    _return: z.string().optional().openapi({ description: "The page to go back to; must be on one of the site's allowed origins" }),
  })
  .catchall(z.union([z.string(), z.array(z.string())]))
  .openapi({ description: 'One entry per field (repeated for checkbox_group), plus the honeypot' });

export const TrackPayloadDoc = TrackPayload.openapi('TrackPayload', { description: 'See core/tracking/payload.ts: k site key, v visitor id (null before consent in consent mode), e events, id signed identify, b automation, c consent.' });
export const FormSubmission = SubmitBody.openapi('FormSubmission');

export const html = (description: string, headers?: Record<string, { description: string; schema: object }>) => ({ description, ...(headers ? { headers } : {}), content: { 'text/html': { schema: z.string() } } });
export const jsonOf = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
export const redirect = (description: string) => ({ description, headers: { Location: header('Where to go') } });

export const SCRIPT_HEADERS = {
  ETag: header('Per coding: brotli, gzip and plain bytes have their own tags'),
  'Cache-Control': header('An hour (stale-while-revalidate a day); a year, immutable, for the chunk asked for by its content hash'),
  Vary: header('`Accept-Encoding`'),
  'Content-Encoding': header('`br` or `gzip` when the client accepts one: the bytes are compressed at build time'),
};

export const script = (path: string, operationId: string, summary: string, description: string, query?: z.ZodObject) =>
  createRoute({
    method: 'get',
    path,
    operationId,
    tags,
    security,
    summary,
    description,
    request: {
      ...(query ? { query } : {}),
      headers: z.object({ 'if-none-match': z.string().optional().openapi({ description: 'A tag from an earlier answer' }) }),
    },
    responses: {
      200: { description: 'The script', headers: SCRIPT_HEADERS, content: { 'application/javascript': { schema: z.string() } } },
      304: { description: 'Not modified', headers: SCRIPT_HEADERS },
      ...publicErrors(),
    },
  });
