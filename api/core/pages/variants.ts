import type { InStatement, ResultSet } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError, ValidationError, type FieldError } from '../errors';
import { pagesChanged } from './cache';
import { getPage, type PageView } from './pages';
import { formIdFields, formIdsOf, type PageInput, type Section } from './schema';
import { pageTokenErrors } from '../personalise/page';
import { CONTROL, MAX_VARIANTS, variantView, type VariantInput, type VariantPatch, type VariantView } from './variants-schema';

// The variants of a landing page's A/B test. The original page is the control ("variant 0"): its
// content is the page's own and its weight is what the variants leave. The first variant starts a
// test with the page's goal; deleting the last one discards that test. Every change bumps the
// page's version and clears the rendered-page cache, so the next request serves the new split
// (core/pages/cache.ts; other processes see the version change). Weights are whole percentages;
// the variants together take at most 99, so the original always keeps some visitors to compare with.

const MAX_TOTAL = 99;

/** A variant's content as a page's is checked: its forms exist, its personalisation tokens are valid and where they can show. */
async function checkContent(ctx: Ctx, content: { title?: string; sections: Section[] }): Promise<void> {
  const fields = formIdFields(content.sections);
  const out: FieldError[] = [];
  if (fields.size) {
    const res = await ctx.client.execute({ sql: 'SELECT id FROM forms WHERE id IN (SELECT value FROM json_each(?))', args: [JSON.stringify([...fields.keys()])] });
    const found = new Set(res.rows.map((r) => Number(r.id)));
    for (const [id, field] of fields) if (!found.has(id)) out.push({ field, message: `no form with id ${id}` });
  }
  out.push(...(await pageTokenErrors(ctx, content as PageInput)));
  if (out.length) throw new ValidationError(out);
}

async function variantsOf(ctx: Ctx, testId: number | null): Promise<VariantView[]> {
  if (testId === null) return [];
  const res = await ctx.client.execute({ sql: 'SELECT * FROM page_variants WHERE test_id = ? ORDER BY id', args: [testId] });
  return res.rows.map((r) => variantView(r));
}

function controlOf(page: PageView, variants: VariantView[]): VariantView {
  return {
    id: CONTROL,
    page_id: page.id,
    name: 'Original',
    title: page.title,
    sections: page.sections,
    weight: 100 - variants.reduce((s, v) => s + v.weight, 0),
    control: true,
    created_at: page.created_at,
    updated_at: page.updated_at,
  };
}

const weightError = (total: number) =>
  new ValidationError([
    { field: 'weight', message: `the variants' weights would add up to ${total}%: at most ${MAX_TOTAL}%, so that the original page keeps some visitors to compare with` },
  ]);

/** A weight the database re-checks when it writes (two changes at once cannot pass 99% together): NULL, refused by NOT NULL, when over. */
const guardedWeight = (othersSql: string) => `CASE WHEN (${othersSql}) + ? <= ${MAX_TOTAL} THEN ? END`;
const isWeightRefusal = (e: unknown) => e instanceof Error && /NOT NULL constraint failed: page_variants\.weight/.test(e.message);

/** The original and the variants of the page's running test (only the original when none runs). */
export async function listVariants({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<{ data: VariantView[] }> {
  const page = await getPage({ ctx, input });
  const variants = await variantsOf(ctx, page.ab_test.test_id);
  return { data: [controlOf(page, variants), ...variants] };
}

export async function getVariant({ ctx, input }: { ctx: Ctx; input: { id: number; variantId: number } }): Promise<VariantView> {
  const page = await getPage({ ctx, input: { id: input.id } });
  const variants = await variantsOf(ctx, page.ab_test.test_id);
  if (input.variantId === CONTROL) return controlOf(page, variants);
  const v = variants.find((x) => x.id === input.variantId);
  if (!v) throw new NotFoundError('Variant');
  return v;
}

async function written(ctx: Ctx, stmts: InStatement[]): Promise<ResultSet[]> {
  try {
    return await ctx.client.batch(stmts, 'write');
  } catch (e) {
    if (isWeightRefusal(e)) {
      throw new ValidationError([{ field: 'weight', message: `the variants changed meanwhile: with this weight they would pass ${MAX_TOTAL}% (or ${MAX_VARIANTS} variants); read them again` }]);
    }
    throw e;
  }
}

const bump = (pageId: number): InStatement => ({ sql: 'UPDATE pages SET version = version + 1 WHERE id = ?', args: [pageId] });
const recheck = (pageId: number): InStatement => ({ sql: 'UPDATE page_tests SET needs_check = 1 WHERE id = (SELECT ab_test_id FROM pages WHERE id = ?)', args: [pageId] });

export async function createVariant({ ctx, input }: { ctx: Ctx; input: { id: number; variant: VariantInput } }): Promise<VariantView> {
  const page = await getPage({ ctx, input: { id: input.id } });
  const v = input.variant;
  const sections = v.sections ?? page.sections;
  await checkContent(ctx, { title: v.title, sections });
  const variants = await variantsOf(ctx, page.ab_test.test_id);
  if (variants.length >= MAX_VARIANTS) throw new ValidationError(`A test has at most ${MAX_VARIANTS} variants besides the original page: delete one first.`);
  const total = variants.reduce((s, x) => s + x.weight, 0) + v.weight;
  if (total > MAX_TOTAL) throw weightError(total);
  const now = ctx.now();
  const start: InStatement[] =
    page.ab_test.test_id === null
      ? [
          {
            // The page's goal as stored when the test starts.
            sql: `INSERT INTO page_tests (page_id, goal, started_at, needs_check) SELECT id, coalesce(json_extract(ab_settings, '$.goal'), ?), ?, 1
              FROM pages WHERE id = ? AND ab_test_id IS NULL`,
            args: [JSON.stringify(page.ab_test.goal), now, page.id],
          },
          {
            sql: `UPDATE pages SET ab_test_id = (SELECT max(id) FROM page_tests WHERE page_id = ? AND status = 'running') WHERE id = ? AND ab_test_id IS NULL`,
            args: [page.id, page.id],
          },
        ]
      : [];
  const title = v.title ?? page.title;
  const res = await written(
    ctx,
    [
      ...start,
      {
        sql: `INSERT INTO page_variants (page_id, test_id, name, title, sections, form_ids, weight, created_at, updated_at)
          SELECT p.id, p.ab_test_id, ?, ?, ?, ?, CASE WHEN (SELECT count(*) FROM page_variants WHERE test_id = p.ab_test_id) < ${MAX_VARIANTS}
            THEN ${guardedWeight('SELECT coalesce(sum(weight), 0) FROM page_variants WHERE test_id = p.ab_test_id')} END, ?, ?
          FROM pages p WHERE p.id = ? RETURNING *`,
        args: [v.name, title, JSON.stringify(sections), JSON.stringify(formIdsOf(sections)), v.weight, v.weight, now, now, page.id],
      },
      bump(page.id),
      recheck(page.id),
    ],
  );
  pagesChanged(ctx);
  const row = res[start.length]!.rows[0];
  if (!row) throw new NotFoundError('Page');
  return variantView(row);
}

function checkNotControl(variantId: number): void {
  if (variantId === CONTROL) {
    throw new ValidationError([{ field: 'variantId', message: 'variant 0 is the original page: change it with PATCH /api/v1/pages/{id}; its weight is what the variants leave' }]);
  }
}

export async function updateVariant({ ctx, input }: { ctx: Ctx; input: { id: number; variantId: number; patch: VariantPatch } }): Promise<VariantView> {
  checkNotControl(input.variantId);
  const p = input.patch;
  if (!Object.keys(p).length) throw new ValidationError('Nothing to change.');
  const page = await getPage({ ctx, input: { id: input.id } });
  const variants = await variantsOf(ctx, page.ab_test.test_id);
  const current = variants.find((x) => x.id === input.variantId);
  if (!current) throw new NotFoundError('Variant');
  await checkContent(ctx, { title: p.title, sections: p.sections ?? [] });
  const weight = p.weight ?? current.weight;
  const total = variants.reduce((s, x) => s + (x.id === current.id ? weight : x.weight), 0);
  if (total > MAX_TOTAL) throw weightError(total);
  const sections = p.sections ?? current.sections;
  const now = ctx.now();
  const [res] = await written(
    ctx,
    [
      {
        sql: `UPDATE page_variants SET name = ?, title = ?, sections = ?, form_ids = ?,
            weight = ${guardedWeight('SELECT coalesce(sum(weight), 0) FROM page_variants WHERE test_id = ? AND id != ?')}, updated_at = ?
          WHERE id = ? RETURNING *`,
        args: [p.name ?? current.name, p.title ?? current.title, JSON.stringify(sections), JSON.stringify(formIdsOf(sections)), page.ab_test.test_id, current.id, weight, weight, now, current.id],
      },
      bump(page.id),
      recheck(page.id),
    ],
  );
  pagesChanged(ctx);
  if (!res!.rows[0]) throw new NotFoundError('Variant');
  return variantView(res!.rows[0]);
}

/**
 * Deletes a variant of the running test. Its visitors leave the test (their next view puts them in
 * it again, with the variant they get then); the last variant's deletion discards the test.
 */
export async function deleteVariant({ ctx, input }: { ctx: Ctx; input: { id: number; variantId: number } }): Promise<void> {
  checkNotControl(input.variantId);
  const page = await getPage({ ctx, input: { id: input.id } });
  const testId = page.ab_test.test_id;
  const variants = await variantsOf(ctx, testId);
  if (!variants.some((x) => x.id === input.variantId)) throw new NotFoundError('Variant');
  const last = variants.length === 1;
  const stmts: InStatement[] = last
    ? [
        { sql: 'DELETE FROM page_variants WHERE test_id = ?', args: [testId] },
        { sql: 'DELETE FROM page_test_visitors WHERE test_id = ?', args: [testId] },
        { sql: 'DELETE FROM page_test_views WHERE test_id = ?', args: [testId] },
        { sql: "DELETE FROM page_tests WHERE id = ? AND status = 'running'", args: [testId] },
        { sql: 'UPDATE pages SET ab_test_id = NULL WHERE id = ? AND ab_test_id = ?', args: [page.id, testId] },
      ]
    : [
        { sql: 'DELETE FROM page_variants WHERE id = ? AND test_id = ?', args: [input.variantId, testId] },
        { sql: 'DELETE FROM page_test_visitors WHERE test_id = ? AND variant_id = ?', args: [testId, input.variantId] },
        { sql: 'DELETE FROM page_test_views WHERE test_id = ? AND variant_id = ?', args: [testId, input.variantId] },
        recheck(page.id),
      ];
  await written(ctx, [...stmts, bump(page.id)]);
  pagesChanged(ctx);
}
