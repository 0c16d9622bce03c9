import { z } from 'zod';
import type { InValue } from '@libsql/client';
import type { Ctx } from '../../context';
import { getPipelineSettings } from '../../deals/settings';
import { defineReport } from '../report';
import { share, type Period } from '../query';
import { days, idList, int, loadStages, medianP90, msList } from './scope';
import { contactFilter } from '../scope';

/** Contacts whose current stage is each stage, filtered (from segment_members when a segment is asked for). */
async function currentByStage(ctx: Ctx, p: Period, stageIds: number[]): Promise<Map<number, number>> {
  const f = await contactFilter(ctx, { ...p, segment: null }, 'c.id', 'c');
  const seg = p.segment !== null;
  const r = await ctx.client.execute({
    sql: `SELECT c.stage_id AS s, count(*) AS n
      FROM ${seg ? 'segment_members sm JOIN contacts c ON c.id = sm.contact_id' : 'contacts c'}
      WHERE ${seg ? 'sm.segment_id = ? AND ' : ''}c.stage_id IN ${idList(stageIds)} AND ${f.sql}
      GROUP BY c.stage_id`,
    args: [...(seg ? [p.segment] : []), ...f.args] as InValue[],
  });
  return new Map(r.rows.map((x) => [Number(x.s), Number(x.n)]));
}

interface FunnelRow extends Record<string, unknown> {
  stage_id: number | null;
  stage: string;
  entered: number;
  /** null in the totals when no won stage is set. */
  reached_next: number | null;
  conversion_rate: number | null;
  median_days: number | null;
  p90_days: number | null;
  current: number;
}

export const funnelReport = defineReport({
  name: 'funnel',
  tag: 'Reports',
  summary: 'Funnel: entries, conversion and time in each stage',
  description: [
    'One row per stage in funnel order (stages.position).',
    '`entered`: contacts whose first entry into the stage falls in the period.',
    '`reached_next`: of those, how many have entered any stage further down the funnel (a higher position) after that entry, by now (not only within the period): a skipped stage still counts as progress.',
    '`conversion_rate`: reached_next / entered.',
    '`median_days`, `p90_days`: time in the stage (left − entered, in days) of those entries that have left it by now (nearest-rank percentiles).',
    '`current`: contacts whose stage is this one now (filters applied, period ignored).',
    'Totals: `entered` of the first stage; `reached_next` of those, how many have entered the won stage (pipeline settings) since; `conversion_rate` that end-to-end share; `current` the contacts in any stage.',
    'Filters: segment (membership now) and UTM (the contact\'s first touch).',
  ].join('\n\n'),
  filters: ['segment', 'utm'],
  params: z.object({}),
  columns: [
    { key: 'stage_id', type: 'integer', description: 'Stage id' },
    { key: 'stage', type: 'string', description: 'Stage name (totals: first stage → won stage)' },
    { key: 'entered', type: 'integer', description: 'Contacts whose first entry into the stage is in the period' },
    { key: 'reached_next', type: 'integer', description: 'Of those, contacts that entered a later stage afterwards (by now)' },
    { key: 'conversion_rate', type: 'number', description: 'reached_next / entered' },
    { key: 'median_days', type: 'number', description: 'Median days in the stage, for entries in the period that have left it' },
    { key: 'p90_days', type: 'number', description: '90th percentile of days in the stage, same entries' },
    { key: 'current', type: 'integer', description: 'Contacts in the stage now' },
  ],
  totals: ['stage', 'entered', 'reached_next', 'conversion_rate', 'current'],
  async run(ctx, p) {
    const stages = await loadStages(ctx);
    if (!stages.length) return { rows: [] as FunnelRow[], totals: { entered: 0, reached_next: null, conversion_rate: null, current: 0 } };
    const f = await contactFilter(ctx, p, 'se.contact_id');
    const settings = await getPipelineSettings(ctx);
    const first = stages[0]!;
    const won = stages.find((s) => s.id === settings.won_stage_id && s.id !== first.id) ?? null;
    // One statement per stage (one read batch): its later stages are a literal list, so the look
    // at a contact's later entries is a range read of its few entries with no per-row mapping.
    // An entry that never left its stage cannot have reached another one since (leaving is the
    // stage_changed event of that move), and one that left to a later stage did (left_to): only
    // entries that moved back need that look.
    const after = (x: string) => `(${x}.entered_at, ${x}.event_id) > (se.entered_at, se.event_id)`;
    const results = await ctx.client.batch(
      stages.map((s) => {
        const later = stages.filter((x) => x.position > s.position).map((x) => x.id);
        const wonHere = won && s.id === first.id;
        return {
          sql: `SELECT count(*) AS entered,
              ${later.length ? `sum(CASE WHEN se.left_at IS NULL THEN 0 WHEN se.left_to IN ${idList(later)} THEN 1 ELSE EXISTS (SELECT 1 FROM stage_entries n WHERE n.contact_id = se.contact_id AND +n.stage_id IN ${idList(later)} AND ${after('n')}) END)` : '0'} AS next,
              ${wonHere ? `sum(CASE WHEN se.left_at IS NULL THEN 0 ELSE EXISTS (SELECT 1 FROM stage_entries w WHERE w.contact_id = se.contact_id AND w.stage_id = ${won.id} AND ${after('w')}) END)` : '0'} AS won,
              group_concat(se.left_at - se.entered_at) AS stays
            FROM stage_entries se
            WHERE se.stage_id = ${s.id} AND se.entered_at >= ? AND se.entered_at < ? AND ${f.sql}`,
          args: [p.from, p.to, ...f.args],
        };
      }),
      'read',
    );
    const current = await currentByStage(ctx, p, stages.map((s) => s.id));
    const rows = stages.map((s, i): FunnelRow => {
      const a = results[i]!.rows[0];
      const q = medianP90(msList(a?.stays));
      const entered = int(a?.entered);
      const next = int(a?.next);
      return {
        stage_id: s.id,
        stage: s.name,
        entered,
        reached_next: next,
        conversion_rate: share(next, entered),
        median_days: days(q?.p50),
        p90_days: days(q?.p90),
        current: current.get(s.id) ?? 0,
      };
    });
    const firstEntered = rows[0]!.entered;
    const wonReached = won ? int(results[0]!.rows[0]?.won) : null;
    return {
      rows,
      totals: {
        stage: won ? `${first.name} → ${won.name}` : first.name,
        entered: firstEntered,
        reached_next: wonReached,
        conversion_rate: wonReached === null ? null : share(wonReached, firstEntered),
        current: rows.reduce((n, r) => n + r.current, 0),
      },
    };
  },
});
