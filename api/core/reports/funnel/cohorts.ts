import { z } from 'zod';
import { localParts } from '../../util/zones';
import { defineReport } from '../report';
import { buckets, share } from '../query';
import { bucketIndexSql, days, idList, int, loadStages, medianP90, msList, WON_AT } from './scope';
import { contactFilter, CurrencyParam, money, reportCurrency } from '../scope';

/**
 * A contact's first touch: its first tracked visit (first_seen_at) or its creation, whichever is
 * earlier (a contact imported or created through the API before it ever visited was known from
 * then). An index on exactly this expression makes the cohort range a seek; without it the
 * report reads the contacts table (see the closing note of this change).
 */
export const FIRST_TOUCH = (c: string) => `min(coalesce(${c}.first_seen_at, ${c}.created_at), ${c}.created_at)`;

export const cohortsReport = defineReport({
  name: 'cohorts',
  tag: 'Reports',
  summary: 'Monthly cohorts by first touch: qualified, customers, revenue',
  description: [
    'Contacts grouped by the month (in `tz`) of their first touch, the earlier of their first tracked visit and their creation; the cohorts of the period (the first and last month clipped to it).',
    '`mql`: reached a marketing-qualified stage, by now. `customers`: have a won deal, by now. `revenue`: the amounts of their won deals in `currency`.',
    '`median_days_to_won`: first touch to the first won deal (nearest-rank median).',
    'Filters: segment (membership now) and UTM (the contact\'s first touch).',
  ].join('\n\n'),
  filters: ['segment', 'utm'],
  params: z.object({ currency: CurrencyParam }),
  columns: [
    { key: 'cohort', type: 'string', description: 'Month of first touch, YYYY-MM in tz' },
    { key: 'contacts', type: 'integer', description: 'Contacts first touched in the month' },
    { key: 'mql', type: 'integer', description: 'Of those, contacts that reached a marketing-qualified stage' },
    { key: 'customers', type: 'integer', description: 'Of those, contacts with a won deal' },
    { key: 'revenue', type: 'number', description: 'Won amount of their deals in `currency` (major units)' },
    { key: 'currency', type: 'string', description: 'Currency of revenue' },
    { key: 'mql_rate', type: 'number', description: 'mql / contacts' },
    { key: 'customer_rate', type: 'number', description: 'customers / contacts' },
    { key: 'median_days_to_won', type: 'number', description: 'Median days from first touch to the first won deal' },
  ],
  totals: ['contacts', 'mql', 'customers', 'revenue', 'currency', 'mql_rate', 'customer_rate', 'median_days_to_won'],
  async run(ctx, p, params) {
    const months = buckets({ ...p, interval: 'month' });
    const currency = await reportCurrency(ctx, p, params.currency);
    const mql = (await loadStages(ctx)).filter((s) => s.is_mql).map((s) => s.id);
    const f = await contactFilter(ctx, p, 'c.id', 'c');
    const ft = FIRST_TOUCH('c');
    const r = await ctx.client.execute({
      // Materialized: a flattened subquery would evaluate won_at's subquery once per mention. The
      // revenue is looked up only for the few contacts that won.
      sql: `WITH x AS MATERIALIZED (
          SELECT ${bucketIndexSql('co.at', months)} AS i, co.id AS c, co.at,
            ${mql.length ? `EXISTS (SELECT 1 FROM stage_entries se WHERE se.contact_id = co.id AND se.stage_id IN ${idList(mql)})` : '0'} AS mql,
            (SELECT min(${WON_AT}) FROM deals d WHERE d.contact_id = co.id AND d.stage = 'won') AS won_at
          FROM (SELECT c.id, ${ft} AS at FROM contacts c WHERE ${ft} >= ? AND ${ft} < ? AND ${f.sql}) co
        )
        SELECT i, count(*) AS contacts, sum(mql) AS mql, count(won_at) AS customers,
          sum(CASE WHEN won_at IS NOT NULL THEN (SELECT sum(d.amount_cents) FROM deals d WHERE d.contact_id = x.c AND d.stage = 'won' AND d.currency = ?) END) AS cents,
          group_concat(won_at - at) AS to_won
        FROM x GROUP BY i`,
      args: [p.from, p.to, ...f.args, currency],
    });
    const line = (x: Record<string, unknown> | undefined, toWon: number[]) => {
      const contacts = int(x?.contacts);
      const customers = int(x?.customers);
      const q = int(x?.mql);
      return {
        contacts,
        mql: q,
        customers,
        revenue: money(x?.cents),
        currency,
        mql_rate: share(q, contacts),
        customer_rate: share(customers, contacts),
        median_days_to_won: days(medianP90(toWon).p50),
      };
    };
    const by = new Map(r.rows.map((x) => [Number(x.i), x as Record<string, unknown>]));
    const all: number[] = [];
    const sum: Record<string, number> = { contacts: 0, mql: 0, customers: 0, cents: 0 };
    for (const x of by.values()) {
      for (const v of msList(x.to_won)) all.push(v);
      for (const k of Object.keys(sum)) sum[k]! += int(x[k]);
    }
    const rows = months.map((b, i) => {
      const lp = localParts(b.start, p.tz);
      const x = by.get(i);
      return { cohort: `${lp.year}-${String(lp.month).padStart(2, '0')}`, ...line(x, msList(x?.to_won)) };
    });
    return { rows, totals: line(sum, all) };
  },
});
