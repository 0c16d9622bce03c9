import type { InStatement } from '@libsql/client';
import type { Ctx } from '../context';
import { ValidationError, type FieldError } from '../errors';
import type { Section } from './schema';
import { recountStatements } from './test-events';
import { ctaIdsOf, type AbSettingsPatch, type PageAbTest } from './variants-schema';

// A page's A/B settings (the `ab_test` of PATCH /api/v1/pages/{id}): the goal, the minimum sample
// and confidence of the automatic winner. Checked against what only the database knows (the
// goal's form exists; its CTA id is on the page or one of its variants). A goal changed while a
// test runs applies to the whole test: its conversions are counted again from the event log.

/** The statements that store new settings (after checking them), for the page update's batch. */
export async function abSettingsStatements(
  ctx: Ctx,
  page: { id: number; ab_test: PageAbTest },
  patch: AbSettingsPatch,
  sections: Section[],
): Promise<InStatement[]> {
  const { test_id, last_winner: _, ...current } = page.ab_test;
  const next = { ...current, ...patch };
  const goal = next.goal;
  const errors: FieldError[] = [];
  if (patch.goal?.type === 'form_submitted' && goal.type === 'form_submitted' && goal.form_id !== null) {
    const found = await ctx.client.execute({ sql: 'SELECT 1 FROM forms WHERE id = ?', args: [goal.form_id] });
    if (!found.rows.length) errors.push({ field: 'ab_test.goal.form_id', message: `no form with id ${goal.form_id}` });
  }
  if (patch.goal?.type === 'cta_click' && goal.type === 'cta_click' && goal.cta_id !== null) {
    const ids = ctaIdsOf(sections);
    if (test_id !== null) {
      const res = await ctx.client.execute({ sql: 'SELECT sections FROM page_variants WHERE test_id = ?', args: [test_id] });
      for (const r of res.rows) for (const id of ctaIdsOf(JSON.parse(String(r.sections)) as Section[])) ids.add(id);
    }
    if (!ids.has(goal.cta_id)) {
      errors.push({ field: 'ab_test.goal.cta_id', message: `no call-to-action with id "${goal.cta_id}" on the page or its variants (give a button an id first)` });
    }
  }
  if (errors.length) throw new ValidationError(errors);
  const out: InStatement[] = [{ sql: 'UPDATE pages SET ab_settings = ? WHERE id = ?', args: [JSON.stringify(next), page.id] }];
  if (test_id !== null) {
    if (patch.goal && JSON.stringify(patch.goal) !== JSON.stringify(current.goal)) {
      out.push({ sql: "UPDATE page_tests SET goal = ? WHERE id = ? AND status = 'running'", args: [JSON.stringify(goal), test_id] }, ...recountStatements(test_id));
    } else {
      // A lower minimum or confidence may make a winner of what is already counted.
      out.push({ sql: 'UPDATE page_tests SET needs_check = 1 WHERE id = ?', args: [test_id] });
    }
  }
  return out;
}

/** Everything of a page's A/B tests, for when the page is deleted. */
export function testDeleteStatements(pageId: number): InStatement[] {
  const tests = 'SELECT id FROM page_tests WHERE page_id = ?';
  return [
    { sql: `DELETE FROM page_test_visitors WHERE test_id IN (${tests})`, args: [pageId] },
    { sql: `DELETE FROM page_test_views WHERE test_id IN (${tests})`, args: [pageId] },
    { sql: 'DELETE FROM page_variants WHERE page_id = ?', args: [pageId] },
    { sql: 'DELETE FROM page_tests WHERE page_id = ?', args: [pageId] },
  ];
}
