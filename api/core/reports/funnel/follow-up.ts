import { z } from 'zod';
import { getPipelineSettings } from '../../deals/settings';
import { defineReport, LimitParam } from '../report';
import { buckets, HOUR, share } from '../query';
import { bucketIndexSql, feedbackAt, hours, int, loadStages, medianP90, msList, qualifiedSql } from './scope';
import { contactFilter } from '../scope';

const FEEDBACK =
  'Sales feedback on a lead is its first sales_accepted, sales_rejected, deal_won or deal_lost event, or the first deal created for the contact, at or after the moment it qualified (first entered a marketing-qualified stage).';

export const followUpReport = defineReport({
  name: 'follow-up',
  tag: 'Reports',
  summary: 'The marketing–sales agreement: leads followed up in time',
  description: [
    'For the leads that qualified in each bucket: how many sales followed up at all (by now), how many within the agreed time (pipeline settings `follow_up_hours`), and how long it took.',
    FEEDBACK,
    '`in_time`: feedback at most follow_up_hours after qualifying. `overdue_now`: no feedback and qualified longer ago than follow_up_hours. `pending`: no feedback yet, still within the agreement; qualified = followed_up + overdue_now + pending.',
    '`in_time_rate`: in_time / (qualified − pending), the share of leads whose outcome is known. `median_hours_to_feedback`: over the leads followed up (nearest-rank median).',
    'Filters: segment (membership now) and UTM (the contact\'s first touch).',
  ].join('\n\n'),
  filters: ['segment', 'utm', 'interval'],
  params: z.object({}),
  columns: [
    { key: 'bucket', type: 'datetime', description: 'Start of the interval (in tz) the leads qualified in' },
    { key: 'qualified', type: 'integer', description: 'Leads that qualified in the bucket' },
    { key: 'followed_up', type: 'integer', description: 'Of those, with sales feedback (by now)' },
    { key: 'in_time', type: 'integer', description: 'Of those, with feedback within follow_up_hours of qualifying' },
    { key: 'in_time_rate', type: 'number', description: 'in_time / (qualified − pending)' },
    { key: 'median_hours_to_feedback', type: 'number', description: 'Median hours from qualifying to the first feedback' },
    { key: 'overdue_now', type: 'integer', description: 'Without feedback, qualified more than follow_up_hours ago' },
    { key: 'pending', type: 'integer', description: 'Without feedback, still within follow_up_hours' },
  ],
  totals: ['qualified', 'followed_up', 'in_time', 'in_time_rate', 'median_hours_to_feedback', 'overdue_now', 'pending'],
  async run(ctx, p) {
    const agreed = (await getPipelineSettings(ctx)).follow_up_hours * HOUR;
    const now = ctx.now();
    const bs = buckets(p);
    const mql = (await loadStages(ctx)).filter((s) => s.is_mql).map((s) => s.id);
    const line = (x?: Record<string, unknown>, waits: number[] = []) => {
      const qualified = int(x?.qualified);
      const inTime = int(x?.in_time);
      const pending = int(x?.pending);
      return {
        qualified,
        followed_up: int(x?.followed),
        in_time: inTime,
        in_time_rate: share(inTime, qualified - pending),
        median_hours_to_feedback: hours(medianP90(waits).p50),
        overdue_now: int(x?.overdue),
        pending,
      };
    };
    if (!mql.length) return { rows: bs.map((b) => ({ bucket: new Date(b.start).toISOString(), ...line() })), totals: line() };
    const q = qualifiedSql(mql, p.from, p.to, await contactFilter(ctx, p, 'se.contact_id'));
    const r = await ctx.client.execute({
      // Materialized: a flattened subquery would evaluate fb's subquery once per mention.
      sql: `WITH x AS MATERIALIZED (SELECT ${bucketIndexSql('q.at', bs)} AS i, q.at, ${feedbackAt('q.c', 'q.at', 'q.fb')} AS fb FROM (${q.sql}) q)
        SELECT i, count(*) AS qualified, count(fb) AS followed, coalesce(sum(fb - at <= ${agreed}), 0) AS in_time,
          coalesce(sum(fb IS NULL AND at + ${agreed} < ${now}), 0) AS overdue, coalesce(sum(fb IS NULL AND at + ${agreed} >= ${now}), 0) AS pending,
          group_concat(fb - at) AS waits
        FROM x GROUP BY i`,
      args: q.args,
    });
    const by = new Map(r.rows.map((x) => [Number(x.i), x as Record<string, unknown>]));
    const all: number[] = [];
    const sum: Record<string, number> = { qualified: 0, followed: 0, in_time: 0, overdue: 0, pending: 0 };
    for (const x of by.values()) {
      for (const v of msList(x.waits)) all.push(v);
      for (const k of Object.keys(sum)) sum[k]! += int(x[k]);
    }
    return {
      rows: bs.map((b, i) => {
        const x = by.get(i);
        return { bucket: new Date(b.start).toISOString(), ...line(x, msList(x?.waits)) };
      }),
      totals: line(sum, all),
    };
  },
});

export const overdueLeadsReport = defineReport({
  name: 'overdue-leads',
  tag: 'Reports',
  summary: 'Leads sales has not followed up in the agreed time',
  description: [
    'The leads that qualified in the period (from/to bound when they qualified), have no sales feedback yet and qualified more than follow_up_hours (pipeline settings) ago, oldest first.',
    FEEDBACK,
    'Filters: segment (membership now) and UTM (the contact\'s first touch).',
  ].join('\n\n'),
  filters: ['segment', 'utm'],
  params: z.object({
    limit: LimitParam,
  }),
  columns: [
    { key: 'contact_id', type: 'integer', description: 'Contact id' },
    { key: 'email', type: 'string', description: 'Email' },
    { key: 'stage', type: 'string', description: 'Stage the contact is in now' },
    { key: 'qualified_at', type: 'datetime', description: 'When it qualified' },
    { key: 'hours_overdue', type: 'number', description: 'Hours past the agreed follow-up time' },
    { key: 'points', type: 'integer', description: 'Points now' },
  ],
  async run(ctx, p, params) {
    const agreed = (await getPipelineSettings(ctx)).follow_up_hours * HOUR;
    const now = ctx.now();
    const mql = (await loadStages(ctx)).filter((s) => s.is_mql).map((s) => s.id);
    // Overdue means qualified before now − agreed: the range ends there.
    const to = Math.min(p.to, now - agreed);
    if (!mql.length || to <= p.from) return { rows: [], totals: {} };
    const q = qualifiedSql(mql, p.from, to, await contactFilter(ctx, p, 'se.contact_id'));
    const r = await ctx.client.execute({
      sql: `SELECT q.c, q.at, c.email, s.name AS stage, c.points
        FROM (${q.sql}) q JOIN contacts c ON c.id = q.c LEFT JOIN stages s ON s.id = c.stage_id
        WHERE q.fb IS NULL AND NOT EXISTS (SELECT 1 FROM deals d WHERE d.contact_id = q.c AND d.created_at >= q.at)
        ORDER BY q.at, q.c LIMIT ?`,
      args: [...q.args, params.limit ?? 100],
    });
    return {
      rows: r.rows.map((x) => ({
        contact_id: Number(x.c),
        email: x.email === null ? null : String(x.email),
        stage: x.stage === null ? null : String(x.stage),
        qualified_at: new Date(Number(x.at)).toISOString(),
        hours_overdue: hours(now - Number(x.at) - agreed),
        points: Number(x.points),
      })),
      totals: {},
    };
  },
});
