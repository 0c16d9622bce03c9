import type { Ctx } from '../context';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { pagesChanged } from './cache';
import { getPage, type PageView } from './pages';
import { autoPick, testStats } from './stats';
import { CONTROL, settingsOf, type AbWinner } from './variants-schema';

// Ending a landing page's A/B test: the winner's title and sections become the page's (the
// original winning changes nothing), the test ends and records which variant won, who picked it
// (the marketer, or the automatic check) and when. The variants and counts stay, for the stats.

/** Ends test `testId` of the page with `variantId` as the winner; false when it is no longer running. */
export async function applyWinner(ctx: Ctx, input: { pageId: number; testId: number; variantId: number; by: 'manual' | 'auto' }): Promise<boolean> {
  let content: { name: string; title: string | null; sections: string | null; form_ids: string | null } = { name: 'Original', title: null, sections: null, form_ids: null };
  if (input.variantId !== CONTROL) {
    const r = await ctx.client.execute({
      sql: 'SELECT name, title, sections, form_ids FROM page_variants WHERE id = ? AND test_id = ?',
      args: [input.variantId, input.testId],
    });
    const row = r.rows[0];
    if (!row) return false;
    content = { name: String(row.name), title: String(row.title), sections: String(row.sections), form_ids: String(row.form_ids) };
  }
  const now = ctx.now();
  const result: AbWinner = { test_id: input.testId, variant_id: input.variantId, variant_name: content.name, picked_by: input.by, picked_at: new Date(now).toISOString() };
  // Both only while the test runs: a manual pick racing the automatic one ends it once.
  const [page] = await ctx.client.batch(
    [
      {
        sql: `UPDATE pages SET title = coalesce(?, title), sections = coalesce(?, sections), form_ids = coalesce(?, form_ids), ab_test_id = NULL, ab_result = ?,
            version = version + 1, updated_at = ? WHERE id = ? AND ab_test_id = ?`,
        args: [content.title, content.sections, content.form_ids, JSON.stringify(result), now, input.pageId, input.testId],
      },
      {
        sql: `UPDATE page_tests SET status = 'ended', ended_at = ?, winner_variant_id = ?, winner_by = ?, needs_check = 0 WHERE id = ? AND status = 'running'
            AND EXISTS (SELECT 1 FROM pages WHERE id = ? AND ab_result ->> 'test_id' = ?)`,
        args: [now, input.variantId, input.by, input.testId, input.pageId, input.testId],
      },
    ],
    'write',
  );
  pagesChanged(ctx);
  return page!.rowsAffected > 0;
}

/** The marketer's pick: POST /api/v1/pages/{id}/winner. */
export async function pickWinner({ ctx, input }: { ctx: Ctx; input: { id: number; variant_id: number } }): Promise<PageView> {
  const page = await getPage({ ctx, input: { id: input.id } });
  const testId = page.ab_test.test_id;
  if (testId === null) throw new ConflictError('No A/B test is running on this page: add a variant to start one.');
  if (input.variant_id !== CONTROL) {
    const r = await ctx.client.execute({ sql: 'SELECT 1 FROM page_variants WHERE id = ? AND test_id = ?', args: [input.variant_id, testId] });
    if (!r.rows.length) throw new ValidationError([{ field: 'variant_id', message: `no variant ${input.variant_id} in this page's running test (0 is the original page)` }]);
  }
  if (!(await applyWinner(ctx, { pageId: page.id, testId, variantId: input.variant_id, by: 'manual' }))) {
    throw new ConflictError('The test ended meanwhile (a winner was picked): read the page again.');
  }
  return getPage({ ctx, input: { id: input.id } });
}

/**
 * The automatic winner, run after the reactions (spine/registry.ts): each running test with new
 * counts (needs_check) whose page has auto_winner on ends once every variant with traffic has the
 * minimum of visitors and one beats the original significantly (core/pages/stats.ts autoPick).
 */
export async function decideWinners(ctx: Ctx): Promise<number> {
  const due = await ctx.client.execute(
    "SELECT t.id, t.page_id, p.ab_settings FROM page_tests t JOIN pages p ON p.id = t.page_id AND p.ab_test_id = t.id WHERE t.status = 'running' AND t.needs_check = 1 LIMIT 100",
  );
  let decided = 0;
  for (const row of due.rows) {
    const testId = Number(row.id);
    const pageId = Number(row.page_id);
    // Cleared before counting: counts that arrive meanwhile set it again for the next run.
    await ctx.client.execute({ sql: 'UPDATE page_tests SET needs_check = 0 WHERE id = ?', args: [testId] });
    if (!settingsOf(row.ab_settings).auto_winner) continue;
    try {
      const stats = await testStats(ctx, { pageId, testId });
      const winner = autoPick(stats);
      if (winner !== null && (await applyWinner(ctx, { pageId, testId, variantId: winner, by: 'auto' }))) decided++;
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  }
  return decided;
}
