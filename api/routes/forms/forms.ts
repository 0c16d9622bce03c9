import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { createForm, deleteForm, exportResultsCsv, getForm, listForms, listResults, updateForm } from '../../core/forms/forms';
import { FormInput, FormPatch, FORM_FIELD_TYPES, HIDDEN_SOURCES } from '../../core/forms/schema';
import { FormAction } from '../../core/forms/actions';
import { FormPreviewInput, previewForm } from '../../core/forms/preview';
import { Timestamp, Url, download, DeletedSchema, errors, idNumber, IdParam, json, jsonBody, page, PageQuery, security, type AppEnv } from '../shared';
import { baseUrl } from './public';

export { formsPublicRoutes } from './public';

const tags = ['Forms'];

const FormField = z
  .object({
    key: z.string(),
    label: z.string(),
    type: z.enum(FORM_FIELD_TYPES),
    maps_to: z.string().nullable(),
    required: z.boolean(),
    placeholder: z.string().nullable(),
    help: z.string().nullable(),
    options: z.array(z.object({ value: z.string(), label: z.string() })).nullable(),
    rules: z.object({
      pattern: z.string().nullable().optional(),
      pattern_message: z.string().nullable().optional(),
      min_length: z.number().int().nullable().optional(),
      max_length: z.number().int().nullable().optional(),
      min: z.union([z.number(), z.string()]).nullable().optional(),
      max: z.union([z.number(), z.string()]).nullable().optional(),
    }),
    default: z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]).nullable(),
    source: z.enum(HIDDEN_SOURCES).nullable(),
  })
  .openapi('FormField');

const Form = z
  .object({
    id: z.number().int(),
    name: z.string(),
    fields: z.array(FormField),
    submit_label: z.string(),
    after_submit: z.union([z.object({ type: z.literal('message'), message: z.string() }), z.object({ type: z.literal('redirect'), url: Url })]),
    progressive_profiling: z.object({ enabled: z.boolean(), max_new_fields: z.number().int().nullable() }),
    actions: z.array(FormAction),
    min_fill_ms: z.number().int(),
    active: z.boolean(),
    is_sample: z.boolean(),
    submissions: z.number().int().openapi({ description: 'Submissions stored' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Form');

const FormResult = z
  .object({
    id: z.number().int(),
    contact_id: z.number().int().nullable(),
    values: z.record(z.string(), z.unknown()),
    page_url: z.string().nullable(),
    referrer: z.string().nullable(),
    created_at: Timestamp,
  })
  .openapi('FormResult');

const FIELD_DOC =
  'Each field: key (a-z0-9_, unique), label, type (text, email, tel, number, textarea, select, radio, checkbox_group, country, date, hidden, consent), ' +
  'maps_to (a contact field: email, first_name, last_name, phone, job_title, city, country or fields.<custom key>; null writes nowhere), required, placeholder, help, ' +
  'options (select/radio/checkbox_group: strings or {value, label}), rules {pattern (full match), pattern_message, min_length, max_length, min, max (numbers, or YYYY-MM-DD for dates)}, ' +
  'default, source (hidden fields: utm_source, utm_medium, utm_campaign, utm_term, utm_content, referrer or page_url; or a static default). ' +
  'At most one field maps to email: a submission with it resolves the visitor to that contact. Consent fields must be required. ' +
  'Progressive profiling hides fields whose contact value is known for the visitor (never email, consent or unmapped fields) and shows at most max_new_fields new ones. ' +
  'Actions run on each stored submission: add_tags {tags}, remove_tags {tags}, set_field {field, value}, add_to_segment {segment_id}, remove_from_segment {segment_id}, ' +
  'give_points {points, reason}, deliver_asset {asset_id} (the answer carries the download URL). ' +
  'Actions on the contact run when the submission resolves to one (an email was given, or the visitor is already known); points of an anonymous visitor move to the contact later.';

const example = {
  name: 'Newsletter',
  fields: [
    { key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true },
    { key: 'first_name', label: 'First name', type: 'text', maps_to: 'first_name' },
    { key: 'source', type: 'hidden', source: 'utm_source' },
    { key: 'consent', label: 'I agree to receive the newsletter', type: 'consent', required: true },
  ],
  after_submit: { type: 'message', message: 'Thanks, you are subscribed.' },
  actions: [{ type: 'add_tags', tags: ['newsletter'] }],
};

const ResultsQuery = PageQuery;

/** GET /f/:id's answer (core/forms/definition.ts documents it for the widget). */
export const PublicForm = z
  .object({
    id: z.number().int(),
    submit_url: Url,
    submit_label: z.string(),
    honeypot: z.string().openapi({ description: 'The name of the visually hidden input bots fill in' }),
    min_fill_ms: z.number().int(),
    success: z.union([z.object({ type: z.literal('message'), message: z.string() }), z.object({ type: z.literal('redirect'), url: Url })]),
    fields: z.array(
      z.object({
        key: z.string(),
        type: z.enum(FORM_FIELD_TYPES),
        label: z.string(),
        required: z.boolean(),
        placeholder: z.string().optional(),
        help: z.string().optional(),
        options: z.array(z.object({ value: z.string(), label: z.string() })).optional(),
        rules: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
        default: z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]).optional(),
        value: z.union([z.string(), z.number(), z.array(z.string())]).optional(),
        source: z.enum(HIDDEN_SOURCES).optional(),
      }),
    ),
  })
  .openapi('PublicForm');

const PreviewQuery = z.object({
  id: idNumber()
    .optional()
    .openapi({ type: 'integer', description: 'The id to show the draft under: the saved form’s, so that it is exactly what GET /f/{id} serves; 0 when left out (a form not created yet).' }),
});

export const formsApiRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/forms/preview',
      operationId: 'previewForm',
      tags,
      security,
      summary: 'Preview a draft form as the widget receives it, without saving',
      description:
        'Takes the body of POST /api/v1/forms (name optional), checks it as a save does (422 naming the fields at fault) and answers what GET /f/{id} would serve a first-time visitor for it, computed by the same code. Nothing is stored. Any signed-in role may preview; API keys need the write scope.',
      request: { query: PreviewQuery, body: jsonBody(FormPreviewInput.openapi('FormPreviewInput', { example })) },
      responses: { 200: json(PublicForm, 'The public definition'), ...errors(415) },
    }),
    async (c) => c.json((await previewForm({ ctx: c.get('ctx'), input: { id: c.req.valid('query').id ?? 0, form: c.req.valid('json'), baseUrl: baseUrl(c) } })) as never, 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/forms',
      operationId: 'createForm',
      tags,
      security,
      summary: 'Create a form',
      description: FIELD_DOC + ' Embed with <div data-leadline-form="ID"></div> on a page carrying the script tag, or GET /f/ID/embed?k=SITE_KEY without JavaScript.',
      request: { body: jsonBody(FormInput.openapi('FormInput', { example })) },
      responses: { 201: json(Form, 'Created'), ...errors(415) },
    }),
    async (c) => c.json((await createForm({ ctx: c.get('ctx'), input: c.req.valid('json') })) as never, 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/forms',
      operationId: 'listForms',
      tags,
      security,
      summary: 'List forms',
      request: { query: PageQuery },
      responses: { 200: json(page(Form, 'FormPage'), 'A page of forms'), ...errors() },
    }),
    async (c) => c.json((await listForms({ ctx: c.get('ctx'), input: c.req.valid('query') })) as never, 200),
  )
  .openapi(
    createRoute({ method: 'get', path: '/api/v1/forms/{id}', operationId: 'getForm', tags, security, summary: 'Get a form', request: { params: IdParam }, responses: { 200: json(Form, 'The form'), ...errors(404) } }),
    async (c) => c.json((await getForm({ ctx: c.get('ctx'), input: c.req.valid('param') })) as never, 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/forms/{id}',
      operationId: 'updateForm',
      tags,
      security,
      summary: 'Update a form',
      description: 'Given keys replace the stored ones (fields and actions as whole lists); the result is checked as a whole.',
      request: { params: IdParam, body: jsonBody(FormPatch.openapi('FormPatch')) },
      responses: { 200: json(Form, 'Updated'), ...errors(404, 415) },
    }),
    async (c) => c.json((await updateForm({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, patch: c.req.valid('json') } })) as never, 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/forms/{id}',
      operationId: 'deleteForm',
      tags,
      security,
      summary: 'Delete a form',
      description: 'Deletes the form and its stored submissions; form_submit events stay on contact timelines. Refused (409) while an asset is gated by it.',
      request: { params: IdParam },
      responses: { 200: json(DeletedSchema, 'Deleted'), ...errors(404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await deleteForm({ ctx: c.get('ctx'), input: { id } });
      return c.json({ id, deleted: true as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/forms/{id}/results',
      operationId: 'listFormResults',
      tags,
      security,
      summary: 'List submissions',
      description: 'Newest first: the checked values (by field key), the contact the submission resolved to, the page it came from.',
      request: { params: IdParam, query: ResultsQuery },
      responses: { 200: json(page(FormResult, 'FormResultPage'), 'A page of submissions'), ...errors(404) },
    }),
    async (c) => c.json(await listResults({ ctx: c.get('ctx'), input: { ...c.req.valid('query'), id: c.req.valid('param').id } }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/forms/{id}/results.csv',
      operationId: 'exportFormResultsCsv',
      tags,
      security,
      summary: 'Export submissions as CSV',
      description: 'Every submission, newest first, one column per current field. Cells that a spreadsheet would run as a formula are prefixed with an apostrophe.',
      request: { params: IdParam },
      responses: { 200: download('text/csv', 'CSV file'), ...errors(404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const stream = await exportResultsCsv({ ctx: c.get('ctx'), input: { id } });
      return c.body(stream, 200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="form-${id}-results.csv"`,
      });
    },
  );
