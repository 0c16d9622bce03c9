import { z } from 'zod';
import type { InValue } from '@libsql/client';
import type { Ctx } from '../../context';
import { getPipelineSettings } from '../../deals/settings';
import { defineReport } from '../report';
import { share, type Period } from '../query';
import { contactFilter, days, idList, int, loadStages, percentilesSql } from './scope';

/** Contacts whose current stage is each stage, filtered (from segment_members when a segment is asked for). */
async function currentByStage(ctx: Ctx, p: Period, stageIds: number[]): Promise<Map<number, number>> {
  const f = await contactFilter(ctx, { ...p, segment: null }, 'c.id');
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
    const ids = idList(stages.map((s) => s.id));
    const f = await contactFilter(ctx, p, 'se.contact_id');
    const settings = await getPipelineSettings(ctx);
    const first = stages[0]!;
    const won = stages.find((s) => s.id === settings.won_stage_id && s.id !== first.id) ?? null;
    const entries = `SELECT se.stage_id AS s, se.entered_at AS at, se.left_at AS left_at,
        EXISTS (SELECT 1 FROM stage_entries n JOIN stages ns ON ns.id = n.stage_id
          WHERE n.contact_id = se.contact_id AND ns.position > sp.position AND (n.entered_at, n.event_id) > (se.entered_at, se.event_id)) AS next,
        ${won ? `CASE WHEN se.stage_id = ${first.id} THEN EXISTS (SELECT 1 FROM stage_entries w WHERE w.contact_id = se.contact_id AND w.stage_id = ${won.id} AND (w.entered_at, w.event_id) > (se.entered_at, se.event_id)) ELSE 0 END` : '0'} AS won
      FROM stages sp JOIN stage_entries se ON se.stage_id = sp.id
      WHERE sp.id IN ${ids} AND se.entered_at >= ? AND se.entered_at < ? AND ${f.sql}`;
    const [agg, pct] = await ctx.client.batch(
      [
        {
          sql: `WITH e AS MATERIALIZED (${entries}) SELECT s, count(*) AS entered, sum(next) AS next, sum(won) AS won FROM e GROUP BY s`,
          args: [p.from, p.to, ...f.args],
        },
        {
          sql: `WITH e AS MATERIALIZED (SELECT se.stage_id AS s, se.left_at - se.entered_at AS d FROM stage_entries se
              WHERE se.stage_id IN ${ids} AND se.entered_at >= ? AND se.entered_at < ? AND se.left_at IS NOT NULL AND ${f.sql})
            ${percentilesSql('e', 's', 'd')}`,
          args: [p.from, p.to, ...f.args],
        },
      ],
      'read',
    );
    const current = await currentByStage(ctx, p, stages.map((s) => s.id));
    const byStage = new Map(agg!.rows.map((r) => [Number(r.s), r]));
    const pcts = new Map(pct!.rows.map((r) => [Number(r.g), r]));
    const rows = stages.map((s): FunnelRow => {
      const a = byStage.get(s.id);
      const q = pcts.get(s.id);
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
    const wonReached = won ? int(byStage.get(first.id)?.won) : null;
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
