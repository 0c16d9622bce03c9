import { z } from 'zod';
import { localParts } from '../../util/zones';
import { defineReport } from '../report';
import { buckets, share } from '../query';
import { bucketIndexSql, days, FIRST_TOUCH, idList, int, loadStages, medianP90, msList, WON_AT } from './scope';
import { contactFilter, CurrencyParam, money, reportCurrency } from '../scope';

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
    const month = (at: string) => bucketIndexSql(at, months);
    const filtered = f.args.length > 0;
    // Three reads of sets, none a look-up per contact of the period: the month's contacts from the
    // first-touch index; its qualified ones from the MQL entries carrying the contact's first touch
    // (stage_entries.first_touch_at, kept by a trigger); its customers from the won deals.
    const [touched, qualified, won] = await ctx.client.batch(
      [
        // A count per month, each a range of the first-touch index (a month per row would read
        // each contact's row to compute its first touch again).
        {
          sql: `WITH m AS MATERIALIZED (SELECT key AS i, value ->> 0 AS a, value ->> 1 AS z FROM json_each(?))
            SELECT m.i, (SELECT count(*) FROM contacts c WHERE ${ft} >= m.a AND ${ft} < m.z AND ${f.sql}) AS contacts FROM m`,
          args: [JSON.stringify(months.map((b) => [b.start, b.end])), ...f.args],
        },
        mql.length
          ? {
              // Erasing a contact erases its entries (contacts/owned-data.ts): the contact row is
              // needed only for the filters.
              sql: `SELECT ${month('se.first_touch_at')} AS i, count(DISTINCT se.contact_id) AS mql
                FROM stage_entries se${filtered ? ' JOIN contacts c ON c.id = se.contact_id' : ''}
                WHERE se.stage_id IN ${idList(mql)} AND se.first_touch_at >= ? AND se.first_touch_at < ? AND ${f.sql} GROUP BY 1`,
              args: [p.from, p.to, ...f.args],
            }
          : { sql: 'SELECT 0 AS i, 0 AS mql WHERE false', args: [] },
        {
          sql: `SELECT ${month(ft)} AS i, count(*) AS customers, sum(w.cents) AS cents, group_concat(w.won_at - ${ft}) AS to_won
            FROM (SELECT d.contact_id, min(${WON_AT}) AS won_at, sum(CASE WHEN d.currency = ? THEN d.amount_cents END) AS cents
              FROM deals d WHERE d.stage = 'won' AND d.contact_id IS NOT NULL GROUP BY d.contact_id) w
            JOIN contacts c ON c.id = w.contact_id
            WHERE ${ft} >= ? AND ${ft} < ? AND ${f.sql} GROUP BY 1`,
          args: [currency, p.from, p.to, ...f.args],
        },
      ],
      'read',
    );
    const by = new Map<number, Record<string, unknown>>();
    for (const r of [touched!, qualified!, won!]) for (const x of r.rows) by.set(Number(x.i), { ...by.get(Number(x.i)), ...(x as Record<string, unknown>) });
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
