import { z } from 'zod';
import { defineReport } from './report';
import { share } from './query';
import { sumRollups } from './rollups/read';
import { EMAIL_ROLLUPS, emailCounts, emailRates } from './emails';

interface PassCounts {
  entered: number;
  completed: number;
  exited: number;
  converted: number;
}

const passFigures = (c: PassCounts) => ({ ...c, conversion_rate: share(c.converted, c.entered) });

export const campaignsReport = defineReport({
  name: 'campaigns',
  tag: 'Reports',
  summary: 'Campaigns: contacts entered, completed, exited, converted; their emails',
  description:
    'Per campaign with activity in the period: passes of contacts through it (from campaign_enrollments: entered by when they entered, ' +
    'completed, exited and converted by when the pass ended) and the figures of the emails its steps sent (from the hourly rollups, by ' +
    'when each email event happened). The conversion rate sets goals reached in the period against entries in the period, so it ' +
    'can pass 1 when earlier entrants convert. GET /api/v1/campaigns/{id}/report has a campaign\'s passes over all time, per step.',
  filters: [],
  params: z.object({}),
  columns: [
    { key: 'campaign_id', type: 'integer', description: 'The campaign.' },
    { key: 'name', type: 'string', description: 'Its name now (null if deleted).' },
    { key: 'entered', type: 'integer', description: 'Passes that began in the period (a contact re-entering counts again).' },
    { key: 'completed', type: 'integer', description: 'Passes that reached the end of the campaign in the period.' },
    { key: 'exited', type: 'integer', description: 'Passes ended early in the period (an exit step, leaving its segment, the campaign archived).' },
    { key: 'converted', type: 'integer', description: 'Passes that reached a goal in the period.' },
    { key: 'conversion_rate', type: 'number', description: 'converted / entered (four decimals; null without entries).' },
    { key: 'emails_sent', type: 'integer', description: 'Messages its email steps sent in the period.' },
    { key: 'emails_opened', type: 'integer', description: 'Of its messages, those first opened by a person in the period.' },
    { key: 'emails_clicked', type: 'integer', description: 'Of its messages, those first clicked by a person in the period.' },
    { key: 'open_rate', type: 'number', description: 'emails_opened / delivered, or / sent when no delivery is reported (four decimals).' },
    { key: 'click_rate', type: 'number', description: 'emails_clicked / delivered, or / sent when no delivery is reported (four decimals).' },
  ],
  totals: ['entered', 'completed', 'exited', 'converted', 'conversion_rate', 'emails_sent', 'emails_opened', 'emails_clicked', 'open_rate', 'click_rate'],
  async run(ctx, period) {
    const [passes, sums] = await Promise.all([
      ctx.client.execute({
        sql: `SELECT campaign_id,
            sum(entered_at >= ?1 AND entered_at < ?2) AS entered,
            sum(status = 'completed' AND ended_at >= ?1 AND ended_at < ?2) AS completed,
            sum(status = 'exited' AND ended_at >= ?1 AND ended_at < ?2) AS exited,
            sum(status = 'converted' AND ended_at >= ?1 AND ended_at < ?2) AS converted
          FROM campaign_enrollments
          WHERE (entered_at >= ?1 AND entered_at < ?2) OR (ended_at >= ?1 AND ended_at < ?2)
          GROUP BY campaign_id`,
        args: [period.from, period.to],
      }),
      sumRollups(ctx, period, { metrics: EMAIL_ROLLUPS, dim: 'campaign' }),
    ]);
    const byId = new Map<number, PassCounts>();
    const zero = (): PassCounts => ({ entered: 0, completed: 0, exited: 0, converted: 0 });
    for (const r of passes.rows) {
      byId.set(Number(r.campaign_id), { entered: Number(r.entered), completed: Number(r.completed), exited: Number(r.exited), converted: Number(r.converted) });
    }
    for (const k of sums.keys()) if (!byId.has(Number(k))) byId.set(Number(k), zero());
    const ids = [...byId.keys()].sort((a, b) => a - b);
    const names = await ctx.client.execute({ sql: 'SELECT id, name FROM campaigns WHERE id IN (SELECT value FROM json_each(?))', args: [JSON.stringify(ids)] });
    const nameOf = new Map(names.rows.map((r) => [Number(r.id), String(r.name)]));
    const total = zero();
    const mailTotal = emailCounts(undefined);
    const rows = ids.map((id) => {
      const p = byId.get(id)!;
      const mail = emailCounts(sums.get(String(id)));
      for (const k of Object.keys(total) as (keyof PassCounts)[]) total[k] += p[k];
      for (const k of Object.keys(mailTotal) as (keyof typeof mailTotal)[]) mailTotal[k] += mail[k];
      return { campaign_id: id, name: nameOf.get(id) ?? null, ...passFigures(p), ...emails(mail) };
    });
    return { rows, totals: { ...passFigures(total), ...emails(mailTotal) } };
  },
});

const emails = (c: ReturnType<typeof emailCounts>) => ({ emails_sent: c.sent, emails_opened: c.opened, emails_clicked: c.clicked, ...emailRates(c) });
