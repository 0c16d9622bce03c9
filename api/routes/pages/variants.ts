import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { testStats } from '../../core/pages/stats';
import { createVariant, deleteVariant, getVariant, listVariants, updateVariant } from '../../core/pages/variants';
import { VariantInput, VariantPatch, WinnerInput } from '../../core/pages/variants-schema';
import { pickWinner } from '../../core/pages/winner';
import { DeletedSchema, errors, IdParam, idNumber, json, jsonBody, security, Timestamp, type AppEnv } from '../shared';
import { AB_DOC, PageTestStatsSchema } from './ab-schemas';
import { PageSchema, PageSectionSchema } from './pages';

// The A/B variants of a landing page: thin adapters over core/pages/variants.ts, stats.ts, winner.ts.

const tags = ['Pages'];

/** A variant id in a path: 0 (the original page) or a variant's id. */
const VariantParams = IdParam.extend({
  variantId: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,15})$/, 'must be 0 (the original page) or a variant id')
    .transform(Number)
    .refine((n) => Number.isSafeInteger(n), 'must be 0 (the original page) or a variant id')
    .openapi({ param: { name: 'variantId', in: 'path' }, example: 1, type: 'integer' }),
});

const VariantSchema = z
  .object({
    id: z.number().int().openapi({ description: '0: the original page' }),
    page_id: z.number().int(),
    name: z.string(),
    title: z.string(),
    sections: z.array(PageSectionSchema),
    weight: z.number().int().openapi({ description: 'Percent of visitors; the original\'s is what the variants leave' }),
    control: z.boolean().openapi({ description: 'The original page (change its content with PATCH /api/v1/pages/{id})' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('PageVariant');

const EXAMPLE = {
  name: 'Shorter headline',
  title: 'Spring webinar',
  sections: [
    { type: 'hero', heading: 'Pipelines that convert, in 40 minutes', cta: { label: 'Save my seat', url: '#register', id: 'register' } },
    { type: 'form', form_id: 1, heading: 'Register' },
  ],
  weight: 50,
};

const variantPath = '/api/v1/pages/{id}/variants/{variantId}';

export const pageVariantRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/pages/{id}/variants',
      operationId: 'listPageVariants',
      tags,
      security,
      summary: 'The variants of a page\'s running A/B test',
      description: `The original page (id 0, control: true) first, then the variants of the running test in the order they were made (only the original when no test runs). ${AB_DOC}`,
      request: { params: IdParam },
      responses: { 200: json(z.object({ data: z.array(VariantSchema) }).openapi('PageVariantList'), 'The original and the variants'), ...errors(404) },
    }),
    async (c) => c.json(await listVariants({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/pages/{id}/variants',
      operationId: 'createPageVariant',
      tags,
      security,
      summary: 'Add a variant (the first one starts an A/B test)',
      description:
        'A variant with its own title and sections (the page\'s when left out) and its weight: the percentage of visitors it gets. The variants\' weights add up to at most 99 (422 otherwise): the original keeps the rest. At most 9 variants. ' +
        'The first variant starts a test with the page\'s goal (ab_test.goal). A published page serves the new split from the next request on.',
      request: { params: IdParam, body: jsonBody(VariantInput.openapi('PageVariantInput', { example: EXAMPLE as never })) },
      responses: { 201: json(VariantSchema, 'Created'), ...errors(404, 415) },
    }),
    async (c) => c.json(await createVariant({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, variant: c.req.valid('json') } }), 201),
  )
  // Before /variants/{variantId}, which would take "stats" for an id.
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/pages/{id}/variants/stats',
      operationId: 'getPageVariantStats',
      tags,
      security,
      summary: 'Views, conversions and significance per variant',
      description:
        'The running test (or, with none running, the last one; or the test given by test_id): per variant its views, visitors, conversions and rate, and against the original the difference, the lift and ' +
        'the two-proportion z-test with pooled proportion, two-sided (z, p-value, significant at alpha = (1 − confidence/100) / number of variants). 404 when the page never had a test.',
      request: { params: IdParam, query: z.object({ test_id: idNumber().optional().openapi({ type: 'integer', description: 'An earlier test of the page' }) }) },
      responses: { 200: json(PageTestStatsSchema, 'The test\'s figures'), ...errors(404) },
    }),
    async (c) => c.json(await testStats(c.get('ctx'), { pageId: c.req.valid('param').id, testId: c.req.valid('query').test_id }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: variantPath,
      operationId: 'getPageVariant',
      tags,
      security,
      summary: 'A variant (0: the original page)',
      request: { params: VariantParams },
      responses: { 200: json(VariantSchema, 'The variant'), ...errors(404) },
    }),
    async (c) => c.json(await getVariant({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: variantPath,
      operationId: 'updatePageVariant',
      tags,
      security,
      summary: 'Change a variant',
      description: 'Each field given replaces the stored one. Changing weights moves some visitors to another variant for their next views; each stays counted with the variant of its first view. The original (0) is changed through the page itself (422 here).',
      request: { params: VariantParams, body: jsonBody(VariantPatch.openapi('PageVariantPatch')) },
      responses: { 200: json(VariantSchema, 'Updated'), ...errors(404, 415) },
    }),
    async (c) => c.json(await updateVariant({ ctx: c.get('ctx'), input: { ...c.req.valid('param'), patch: c.req.valid('json') } }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: variantPath,
      operationId: 'deletePageVariant',
      tags,
      security,
      summary: 'Delete a variant',
      description: 'Its visitors and views leave the test (their next view puts them in it again). Deleting the last variant discards the test and its counts. The original (0) cannot be deleted here (422).',
      request: { params: VariantParams },
      responses: { 200: json(DeletedSchema, 'Deleted'), ...errors(404) },
    }),
    async (c) => {
      const p = c.req.valid('param');
      await deleteVariant({ ctx: c.get('ctx'), input: p });
      return c.json({ id: p.variantId, deleted: true as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/pages/{id}/winner',
      operationId: 'pickPageWinner',
      tags,
      security,
      summary: 'Pick the winner and end the A/B test',
      description:
        'The winner\'s title and sections become the page\'s (0, the original, keeps the page as it is); the test ends and ab_test.last_winner records which variant won, when, and that it was picked by hand. ' +
        'Its figures stay readable at /variants/stats. 409 when no test runs.',
      request: { params: IdParam, body: jsonBody(WinnerInput.openapi('PageWinnerInput', { example: { variant_id: 3 } })) },
      responses: { 200: json(PageSchema, 'The page, with the winner\'s content'), ...errors(404, 409, 415) },
    }),
    async (c) => c.json(await pickWinner({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, variant_id: c.req.valid('json').variant_id } }), 200),
  );
