import { z } from 'zod';
import type { InValue } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError } from '../errors';
import { bucketIndex, buckets, share, type Period } from './query';
import { defineReport } from './report';
import { contactFilter, CurrencyParam, money, reportCurrency } from './scope';

// Revenue from the deals table (deals_stage_closed_idx for won and lost deals by closed_at), in
// one currency: amounts of different currencies are never added up.

const Params = z.object({ currency: CurrencyParam });

type Figures = {
  currency: string | null;
  deals_won: number;
  revenue: number;
  average_deal: number | null;
  deals_lost: number;
  win_rate: number | null;
  new_deals: number;
  pipeline_created: number;
};
type Row = Figures & { bucket: string | null; open_pipeline: number | null };

interface Tally {
  won: number;
  wonCents: number;
  lost: number;
  created: number;
  createdCents: number;
}


function figures(t: Tally, currency: string | null): Figures {
  return {
    currency,
    deals_won: t.won,
    revenue: money(t.wonCents),
    average_deal: t.won ? Math.round(t.wonCents / t.won) / 100 : null,
    deals_lost: t.lost,
    win_rate: share(t.won, t.won + t.lost),
    new_deals: t.created,
    pipeline_created: money(t.createdCents),
  };
}

export const revenueReport = defineReport({
  name: 'revenue',
  tag: 'Reports',
  summary: 'Revenue: deals won and lost, win rate, pipeline created',
  description:
    'Per interval, in one currency (`currency`, default the one with the most won revenue in the period; every row says which): deals won and their revenue (by closed_at), the average won deal, ' +
    'deals lost, the win rate won ÷ (won + lost), and the deals created with their amount (new pipeline). Totals add the amount of the deals open now (open_pipeline). ' +
    'Amounts are in major units. `segment`: deals of contacts in the segment now; `utm_*`: deals of contacts whose first touch carried those UTM values.',
  filters: ['interval', 'segment', 'utm'],
  params: Params,
  columns: [
    { key: 'bucket', type: 'datetime', description: 'Start of the interval (the period start for the first)' },
    { key: 'currency', type: 'string', description: 'ISO 4217 currency of the amounts' },
    { key: 'deals_won', type: 'integer', description: 'Deals won (closed_at in the interval)' },
    { key: 'revenue', type: 'number', description: 'Amount of the deals won' },
    { key: 'average_deal', type: 'number', description: 'revenue ÷ deals_won, to the cent; null without a won deal' },
    { key: 'deals_lost', type: 'integer', description: 'Deals lost (closed_at in the interval)' },
    { key: 'win_rate', type: 'number', description: 'deals_won ÷ (deals_won + deals_lost), four decimals; null when neither' },
    { key: 'new_deals', type: 'integer', description: 'Deals created in the interval, whatever their stage now' },
    { key: 'pipeline_created', type: 'number', description: 'Amount of the deals created in the interval' },
    { key: 'open_pipeline', type: 'number', description: 'Totals only: the amount of the deals open now (null in rows)' },
  ],
  totals: ['currency', 'deals_won', 'revenue', 'average_deal', 'deals_lost', 'win_rate', 'new_deals', 'pipeline_created', 'open_pipeline'],
  async run(ctx, period, params) {
    const f = await contactFilter(ctx, period, 'd.contact_id');
    const currency = await reportCurrency(ctx, period, params.currency, f);
    const bs = buckets(period);
    const bucketOf = bucketIndex(bs);
    const tallies: Tally[] = bs.map(() => ({ won: 0, wonCents: 0, lost: 0, created: 0, createdCents: 0 }));
    const total: Tally = { won: 0, wonCents: 0, lost: 0, created: 0, createdCents: 0 };
    const [closed, created, open] = await ctx.client.batch(
      [
        {
          // Grouped by instant: deals closed on a date share one (noon UTC), so few rows come back.
          sql: `SELECT stage, closed_at, count(*) AS n, sum(amount_cents) AS cents FROM deals d
            WHERE stage IN ('won', 'lost') AND closed_at >= ? AND closed_at < ? AND currency = ? AND ${f.sql}
            GROUP BY stage, closed_at`,
          args: [period.from, period.to, currency, ...f.args],
        },
        {
          sql: `SELECT created_at, count(*) AS n, sum(amount_cents) AS cents FROM deals d
            WHERE created_at >= ? AND created_at < ? AND currency = ? AND ${f.sql}
            GROUP BY created_at`,
          args: [period.from, period.to, currency, ...f.args],
        },
        {
          sql: `SELECT coalesce(sum(amount_cents), 0) AS cents FROM deals d WHERE stage = 'open' AND currency = ? AND ${f.sql}`,
          args: [currency, ...f.args],
        },
      ],
      'read',
    );
    for (const r of closed!.rows) {
      const i = bucketOf(Number(r.closed_at));
      if (i < 0) continue;
      const n = Number(r.n);
      const cents = Number(r.cents);
      for (const t of [tallies[i]!, total]) {
        if (r.stage === 'won') {
          t.won += n;
          t.wonCents += cents;
        } else t.lost += n;
      }
    }
    for (const r of created!.rows) {
      const i = bucketOf(Number(r.created_at));
      if (i < 0) continue;
      for (const t of [tallies[i]!, total]) {
        t.created += Number(r.n);
        t.createdCents += Number(r.cents);
      }
    }
    const rows: Row[] = bs.map((b, i) => ({ bucket: new Date(b.start).toISOString(), ...figures(tallies[i]!, currency), open_pipeline: null }));
    return { rows, totals: { ...figures(total, currency), open_pipeline: money(Number(open!.rows[0]!.cents)) } };
  },
});
