import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { importContactsCsv, exportContactsCsv } from '../../core/contacts/csv';
import { upsertContacts, MAX_BATCH } from '../../core/contacts/upsert';
import { AppError, BadRequestError } from '../../core/errors';
import { download, errors, json, jsonBody, security, type AppEnv } from '../shared';
import { ContactListQuery, RowResult } from './schemas';

const tags = ['Contacts'];

const BatchBody = z
  .strictObject({
    contacts: z
      .array(z.unknown())
      .min(1)
      .max(MAX_BATCH)
      // Rows are validated one by one in core (so one bad row does not sink the
      // batch); the document still shows their real shape.
      .openapi({
        description: `Up to ${MAX_BATCH} contacts; each is checked on its own.`,
        type: 'array',
        items: { $ref: '#/components/schemas/ContactInput' },
      }),
  })
  .openapi('ContactBatch');

const BatchResult = z
  .object({ created: z.number().int(), updated: z.number().int(), rejected: z.number().int(), results: z.array(RowResult) })
  .openapi('ContactBatchResult');

const ImportQuery = z.object({
  mapping: z
    .string()
    .max(10_000)
    .optional()
    .openapi({ description: 'JSON object: CSV header → field key (built-in, custom, or "tags"); "" skips a column' }),
  tags: z.string().max(1000).optional().openapi({ description: 'Comma-separated tags added to every imported contact' }),
});

const ImportReport = z
  .object({
    rows: z.number().int(),
    created: z.number().int(),
    updated: z.number().int(),
    rejected: z.number().int(),
    mapping: z.record(z.string(), z.string()),
    ignored_columns: z.array(z.string()),
    errors: z.array(z.object({ line: z.number().int(), errors: z.array(z.object({ field: z.string(), message: z.string() })) })),
  })
  .openapi('ImportReport');

function parseMapping(raw: string | undefined): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new BadRequestError('mapping must be a JSON object of header → field key.');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw new BadRequestError('mapping must be a JSON object of header → field key.');
  }
  return v as Record<string, string>;
}

export const contactBulkRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/contacts/batch',
      operationId: 'batchUpsertContacts',
      tags,
      security,
      summary: 'Create or update up to 1,000 contacts',
      description:
        'Each contact is matched by email like POST /contacts. Valid rows are committed together; invalid rows are reported with their errors and not written.',
      request: { body: jsonBody(BatchBody) },
      responses: { 200: json(BatchResult, 'Per-row results'), ...errors(415) },
    }),
    async (c) => c.json(await upsertContacts({ ctx: c.get('ctx'), input: { rows: c.req.valid('json').contacts } }), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/contacts/import',
      operationId: 'importContactsCsv',
      tags,
      security,
      summary: 'Import contacts from CSV',
      description:
        'Body is text/csv (≤ 10 MB, ≤ 100,000 rows). The header row names the columns; they map to fields by name (email, first_name, "First Name", custom field keys or labels, tags) or through `mapping`. Empty cells change nothing. Multiselect and tag cells separate values with | or ;.',
      request: {
        query: ImportQuery,
        body: { required: true, content: { 'text/csv': { schema: z.string().openapi({ example: 'email,first_name\nada@example.com,Ada' }) } } },
      },
      responses: { 200: json(ImportReport, 'Counts and the reason for each rejected row'), ...errors(415) },
    }),
    async (c) => {
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'text/csv' && type !== 'text/plain') {
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the file as text/csv.');
      }
      const q = c.req.valid('query');
      const report = await importContactsCsv({
        ctx: c.get('ctx'),
        input: {
          csv: await c.req.text(),
          mapping: parseMapping(q.mapping),
          tags: q.tags?.split(',').map((t) => t.trim()).filter(Boolean),
        },
      });
      return c.json(report, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/contacts/export.csv',
      operationId: 'exportContactsCsv',
      tags,
      security,
      summary: 'Export contacts as CSV',
      description: 'Same filters as the list; streams every matching contact with built-in and custom fields and tags.',
      request: { query: ContactListQuery.omit({ limit: true, cursor: true }) },
      responses: { 200: download('text/csv', 'CSV file'), ...errors() },
    }),
    async (c) => {
      const stream = await exportContactsCsv({ ctx: c.get('ctx'), input: c.req.valid('query') });
      return c.body(stream, 200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': 'attachment; filename="contacts.csv"',
      });
    },
  );
