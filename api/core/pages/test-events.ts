import type { InStatement } from '@libsql/client';
import type { Ctx } from '../context';
import { EVENT } from '../spine/event-types';
import { eventProps, unseenAfter, type SpineEvent } from '../spine/types';

// What the event log means for the landing pages' A/B tests (the page-tests reaction,
// spine/reactions/page-tests.ts, and a goal change's recount):
//
// - A page view carrying props.page_test_id and props.variant_id (the page's tag adds them:
//   core/pages/render.ts) counts as a view of that variant, and a visitor's first such view puts
//   the visitor in the test with that variant (page_test_visitors). Later views of another
//   variant (the weights changed) leave the visitor where it first was.
// - A visitor in a running test converts at its first goal event after that first view: a form
//   submission (of the goal's form, or of any form the page or its variants embed), a click on a
//   call to action of the test's page (custom event "cta_click" with the page's props, and the
//   goal's CTA id when it names one), or a custom event with the goal's name. Conversions are
//   counted per visitor, once.

export const REACTION = 'page-tests';
/** The custom event a landing page's call-to-action sends when clicked during a test. */
export const CTA_EVENT = 'cta_click';

/** Whether event `e` is a goal event of test `t` (both SQL aliases): one definition for the reaction and the recount. */
const GOAL_MATCH = `(
  (t.goal ->> 'type' = 'form_submitted' AND e.type = '${EVENT.form_submit}' AND CASE WHEN t.goal ->> 'form_id' IS NOT NULL
    THEN e.props ->> 'form_id' = t.goal ->> 'form_id'
    ELSE e.props ->> 'form_id' IN (SELECT value FROM json_each((SELECT form_ids FROM pages WHERE id = t.page_id))
      UNION ALL SELECT j.value FROM page_variants v, json_each(v.form_ids) j WHERE v.test_id = t.id) END)
  OR (t.goal ->> 'type' = 'cta_click' AND e.type = '${EVENT.custom}' AND e.name = '${CTA_EVENT}'
    AND CAST(e.props ->> 'page_test_id' AS INTEGER) = t.id AND (t.goal ->> 'cta_id' IS NULL OR e.props ->> 'cta' = t.goal ->> 'cta_id'))
  OR (t.goal ->> 'type' = 'custom_event' AND e.type = '${EVENT.custom}' AND e.name = t.goal ->> 'event_name'))`;

/** The visitor row's first goal event after its first view of the test's page (NULL: none yet). */
const FIRST_CONVERSION = `(SELECT min(e.id) FROM events e, page_tests t WHERE t.id = page_test_visitors.test_id
  AND e.visitor_id = page_test_visitors.visitor_id AND e.id > page_test_visitors.first_event_id AND ${GOAL_MATCH})`;

// A view row ([event id, test id, variant id, visitor id, time]) of a running test and one of its variants (0: the original).
const VALID_VIEW = `EXISTS (SELECT 1 FROM page_tests t WHERE t.id = j.value ->> 1 AND t.status = 'running')
  AND (j.value ->> 2 = 0 OR EXISTS (SELECT 1 FROM page_variants v WHERE v.id = j.value ->> 2 AND v.test_id = j.value ->> 1))`;

const positiveInt = (v: unknown, min: number) => {
  const n = typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= min ? n : null;
};

/** The test and variant a page view names, or null when it names none (or nonsense). */
export function viewOf(e: SpineEvent): { testId: number; variantId: number } | null {
  if (e.type !== EVENT.page_view || !e.props || !e.props.includes('page_test_id')) return null;
  const p = eventProps(e);
  const testId = positiveInt(p.page_test_id, 1);
  const variantId = positiveInt(p.variant_id, 0);
  return testId === null || variantId === null ? null : { testId, variantId };
}

/** The statements that bring the tests' visitors, views and conversions up to date with a chunk of events (in id order). */
export async function pageTestStatements(ctx: Ctx, events: SpineEvent[]): Promise<InStatement[]> {
  const last = events[events.length - 1]!.id;
  const views: [number, number, number, number | null, number][] = [];
  for (const e of events) {
    const v = viewOf(e);
    if (v) views.push([e.id, v.testId, v.variantId, e.visitorId, e.createdAt]);
  }
  const converters = [...new Set(events.filter((e) => e.visitorId !== null && (e.type === EVENT.form_submit || e.type === EVENT.custom)).map((e) => e.visitorId!))];
  const out: InStatement[] = [];
  if (views.length) {
    const rows = JSON.stringify(views);
    out.push(
      {
        sql: `INSERT INTO page_test_visitors (test_id, visitor_id, variant_id, first_event_id, first_seen_at)
          SELECT j.value ->> 1, j.value ->> 3, j.value ->> 2, j.value ->> 0, j.value ->> 4 FROM json_each(?) j
          WHERE j.value ->> 3 IS NOT NULL AND ${VALID_VIEW} ORDER BY j.value ->> 0
          ON CONFLICT (test_id, visitor_id) DO NOTHING`,
        args: [rows],
      },
      // Additive: only the events above the cursor as committed (an overlapping run counts none twice).
      {
        sql: `INSERT INTO page_test_views (test_id, variant_id, views)
          SELECT j.value ->> 1, j.value ->> 2, count(*) FROM json_each(?) j
          WHERE j.value ->> 0 > ${unseenAfter(REACTION)} AND j.value ->> 0 <= ? AND ${VALID_VIEW} GROUP BY 1, 2
          ON CONFLICT (test_id, variant_id) DO UPDATE SET views = views + excluded.views`,
        args: [rows, last],
      },
      {
        sql: `UPDATE page_tests SET needs_check = 1 WHERE status = 'running' AND id IN (SELECT j.value ->> 1 FROM json_each(?) j)`,
        args: [rows],
      },
    );
  }
  if (converters.length && (await ctx.client.execute("SELECT 1 FROM page_tests WHERE status = 'running' LIMIT 1")).rows.length) {
    const ids = JSON.stringify(converters);
    out.push(
      {
        sql: `UPDATE page_test_visitors SET converted_event_id = ${FIRST_CONVERSION}
          WHERE converted_event_id IS NULL AND visitor_id IN (SELECT value FROM json_each(?))
            AND test_id IN (SELECT id FROM page_tests WHERE status = 'running')`,
        args: [ids],
      },
      {
        sql: `UPDATE page_tests SET needs_check = 1 WHERE status = 'running'
          AND id IN (SELECT test_id FROM page_test_visitors WHERE visitor_id IN (SELECT value FROM json_each(?)) AND converted_event_id IS NOT NULL)`,
        args: [ids],
      },
    );
  }
  return out;
}

/** A running test's conversions counted again from the event log, after its goal changed. */
export function recountStatements(testId: number): InStatement[] {
  return [
    { sql: 'UPDATE page_test_visitors SET converted_event_id = NULL WHERE test_id = ?', args: [testId] },
    { sql: `UPDATE page_test_visitors SET converted_event_id = ${FIRST_CONVERSION} WHERE test_id = ?`, args: [testId] },
    { sql: 'UPDATE page_tests SET needs_check = 1 WHERE id = ?', args: [testId] },
  ];
}
