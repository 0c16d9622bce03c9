import { z } from 'zod';
import { ValidationError } from '../../errors';
import { defineReport } from '../report';
import { buckets, share } from '../query';
import { bucketIndexSql, days, int, loadStages, medianP90, msList, qualifiedSql, WON_AT } from './scope';
import { contactFilter, CurrencyParam, money, reportCurrency } from '../scope';

/** At most this many score bands, and rows, in one answer (a narrow band over a wide score range is refused). */
const MAX_BANDS = 200;
const MAX_ROWS = 20_000;

const bandLabel = (band: number, width: number) => (band < 0 ? '<0' : `${band * width}-${band * width + width - 1}`);

export const leadScoringReport = defineReport({
  name: 'lead-scoring',
  tag: 'Reports',
  summary: 'Lead-scoring accuracy by score band over time',
  description: [
    'Is the MQL threshold right? Leads are counted where they qualified: a lead qualifies when the contact first enters a marketing-qualified stage (stages.is_mql), in the bucket (interval, default month, in `tz`) of that moment and in the score band of its points at that moment (bands `band` points wide: 0-24, 25-49, …; negative scores in "<0").',
    'What became of them since, by now: `accepted` / `rejected` (sales feedback of that kind at or after qualifying), `won` (a deal won at or after qualifying), `revenue` (those won deals in `currency`), `median_days_to_won` (qualified → first won deal, nearest-rank median).',
    'Rows: every bucket × every band that has leads in the period. Totals: the whole period.',
    'Filters: segment (membership now) and UTM (the contact\'s first touch).',
  ].join('\n\n'),
  filters: ['segment', 'utm', 'interval'],
  defaultInterval: 'month',
  params: z.object({
    band: z
      .string()
      .regex(/^[1-9][0-9]{0,5}$/, 'must be a whole number of points from 1')
      .optional()
      .describe('Width of a score band in points (default 25).'),
    currency: CurrencyParam,
  }),
  columns: [
    { key: 'bucket', type: 'datetime', description: 'Start of the interval (in tz) the leads qualified in' },
    { key: 'band', type: 'string', description: 'Score band at qualification, e.g. 25-49 or <0' },
    { key: 'qualified', type: 'integer', description: 'Leads that qualified in the bucket with a score in the band' },
    { key: 'accepted', type: 'integer', description: 'Of those, accepted by sales' },
    { key: 'accepted_rate', type: 'number', description: 'accepted / qualified' },
    { key: 'rejected', type: 'integer', description: 'Of those, rejected by sales' },
    { key: 'won', type: 'integer', description: 'Of those, with a deal won after qualifying' },
    { key: 'won_rate', type: 'number', description: 'won / qualified' },
    { key: 'revenue', type: 'number', description: 'Amount of those won deals in `currency` (major units)' },
    { key: 'currency', type: 'string', description: 'Currency of revenue' },
    { key: 'median_days_to_won', type: 'number', description: 'Median days from qualifying to the first won deal' },
  ],
  totals: ['qualified', 'accepted', 'accepted_rate', 'rejected', 'won', 'won_rate', 'revenue', 'currency', 'median_days_to_won'],
  async run(ctx, p, params) {
    const width = Number(params.band ?? 25);
    const bs = buckets(p);
    const currency = await reportCurrency(ctx, p, params.currency);
    const mql = (await loadStages(ctx)).filter((s) => s.is_mql).map((s) => s.id);
    const empty = { qualified: 0, accepted: 0, accepted_rate: null, rejected: 0, won: 0, won_rate: null, revenue: 0, currency, median_days_to_won: null };
    if (!mql.length) return { rows: [], totals: empty };
    const q = qualifiedSql(mql, p.from, p.to, await contactFilter(ctx, p, 'se.contact_id'));
    // Accepted (1) and rejected (2) since qualifying: kept on the entry (funnel/entries.ts).
    const verdict = '(q.accepted IS NOT NULL) + 2 * (q.rejected IS NOT NULL)';
    const r = await ctx.client.execute({
      // Materialized: a flattened subquery would evaluate won_at's subquery once per mention. The
      // revenue is looked up only for the few leads that won.
      sql: `WITH x AS MATERIALIZED (
          SELECT ${bucketIndexSql('q.at', bs)} AS i, q.c, CASE WHEN q.score < 0 THEN -1 ELSE coalesce(q.score, 0) / ${width} END AS band, q.at,
            ${verdict} AS verdict,
            (SELECT min(${WON_AT}) FROM deals d WHERE d.contact_id = q.c AND d.stage = 'won' AND ${WON_AT} >= q.at) AS won_at
          FROM (${q.sql}) q
        )
        SELECT i, band, count(*) AS qualified, sum(verdict & 1) AS acc, sum(verdict >> 1) AS rej, count(won_at) AS won,
          sum(CASE WHEN won_at IS NOT NULL THEN (SELECT sum(d.amount_cents) FROM deals d WHERE d.contact_id = x.c AND d.stage = 'won' AND ${WON_AT} >= x.at AND d.currency = ?) END) AS cents, group_concat(won_at - at) AS to_won
        FROM x GROUP BY i, band`,
      args: [...q.args, currency],
    });
    const line = (x: Record<string, unknown> | undefined, toWon: number[]) => {
      const qualified = int(x?.qualified);
      const accepted = int(x?.acc);
      const won = int(x?.won);
      return {
        qualified,
        accepted,
        accepted_rate: share(accepted, qualified),
        rejected: int(x?.rej),
        won,
        won_rate: share(won, qualified),
        revenue: money(x?.cents),
        currency,
        median_days_to_won: days(medianP90(toWon).p50),
      };
    };
    const cells = new Map<string, Record<string, unknown>>();
    const bands = new Set<number>();
    const all: number[] = [];
    const sum: Record<string, number> = { qualified: 0, acc: 0, rej: 0, won: 0, cents: 0 };
    for (const x of r.rows as unknown as Record<string, unknown>[]) {
      cells.set(`${x.i}:${x.band}`, x);
      bands.add(Number(x.band));
      for (const v of msList(x.to_won)) all.push(v);
      for (const k of Object.keys(sum)) sum[k]! += int(x[k]);
    }
    if (bands.size > MAX_BANDS || bands.size * bs.length > MAX_ROWS) {
      throw new ValidationError([{ field: 'band', message: `gives ${bands.size} score bands over ${bs.length} intervals; pick a wider band or a larger interval` }]);
    }
    const order = [...bands].sort((a, b) => a - b);
    const rows = bs.flatMap((b, i) =>
      order.map((band) => {
        const x = cells.get(`${i}:${band}`);
        return { bucket: new Date(b.start).toISOString(), band: bandLabel(band, width), ...line(x, msList(x?.to_won)) };
      }),
    );
    return { rows, totals: line(sum, all) };
  },
});
