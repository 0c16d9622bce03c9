import { z } from 'zod';
import { defineReport } from './report';
import { share } from './query';
import { EMAIL_METRICS, METRIC } from './rollups/metrics';
import { sumRollups } from './rollups/read';

export const EMAIL_ROLLUPS = [...EMAIL_METRICS, METRIC.emailUniqueOpened, METRIC.emailUniqueClicked] as const;

export interface EmailCounts {
  sent: number;
  delivered: number;
  bounced: number;
  opened: number;
  clicked: number;
  opens: number;
  clicks: number;
  unsubscribed: number;
  complained: number;
}

/** An email's (or campaign's) counts from the rollups of one key. */
export const emailCounts = (s: Record<string, number> | undefined): EmailCounts => ({
  sent: s?.email_sent ?? 0,
  delivered: s?.email_delivered ?? 0,
  bounced: s?.email_bounced ?? 0,
  opened: s?.[METRIC.emailUniqueOpened] ?? 0,
  clicked: s?.[METRIC.emailUniqueClicked] ?? 0,
  opens: s?.email_opened ?? 0,
  clicks: s?.email_clicked ?? 0,
  unsubscribed: s?.email_unsubscribed ?? 0,
  complained: s?.email_complained ?? 0,
});

/** open_rate = opened / base, click_rate = clicked / base; base = delivered when deliveries are reported in the period, else sent. */
export function emailRates(c: EmailCounts) {
  const base = c.delivered > 0 ? c.delivered : c.sent;
  return { open_rate: share(c.opened, base), click_rate: share(c.clicked, base) };
}

const add = (into: EmailCounts, c: EmailCounts) => {
  for (const k of Object.keys(into) as (keyof EmailCounts)[]) into[k] += c[k];
};

export const emailsReport = defineReport({
  name: 'emails',
  tag: 'Reports',
  summary: 'Emails: sent, delivered, bounced, opened, clicked, unsubscribed, complained',
  description:
    'Per email with email events in the period, from the hourly rollups, each event counted when it happened (a send in one period ' +
    'may be opened in the next). Opens and clicks are people\'s: what privacy proxies and link scanners did is left out. ' +
    '`opened` and `clicked` count messages (a send\'s first open or click, a click counting as an open; its first click), `opens` and ' +
    '`clicks` every one. Rates are over the messages delivered in the period when the provider reports deliveries, else over those ' +
    'sent (the local outbox, or Resend without its webhook). GET /api/v1/emails/{id}/report follows each send instead, over all time.',
  filters: [],
  params: z.object({}),
  columns: [
    { key: 'email_id', type: 'integer', description: 'The email.' },
    { key: 'name', type: 'string', description: 'Its name now (null if deleted).' },
    { key: 'subject', type: 'string', description: 'Its subject now (null if deleted).' },
    { key: 'sent', type: 'integer', description: 'Messages handed to the provider (or the outbox).' },
    { key: 'delivered', type: 'integer', description: 'Deliveries the provider reported.' },
    { key: 'bounced', type: 'integer', description: 'Bounces the provider reported (a soft bounce turning hard counts again).' },
    { key: 'opened', type: 'integer', description: 'Messages first opened by a person in the period (a click counts as an open).' },
    { key: 'clicked', type: 'integer', description: 'Messages whose first click by a person was in the period.' },
    { key: 'opens', type: 'integer', description: 'Opens by people, every one.' },
    { key: 'clicks', type: 'integer', description: 'Clicks by people, every one.' },
    { key: 'unsubscribed', type: 'integer', description: 'Unsubscribes through the message (link, one-click, preference centre).' },
    { key: 'complained', type: 'integer', description: 'Spam complaints the provider reported.' },
    { key: 'open_rate', type: 'number', description: 'opened / delivered, or / sent when no delivery is reported (four decimals; null without either).' },
    { key: 'click_rate', type: 'number', description: 'clicked / delivered, or / sent when no delivery is reported (four decimals; null without either).' },
  ],
  totals: ['sent', 'delivered', 'bounced', 'opened', 'clicked', 'opens', 'clicks', 'unsubscribed', 'complained', 'open_rate', 'click_rate'],
  async run(ctx, period) {
    const sums = await sumRollups(ctx, period, { metrics: EMAIL_ROLLUPS, dim: 'email' });
    const ids = [...sums.keys()].map(Number).sort((a, b) => a - b);
    const meta = await ctx.client.execute({ sql: 'SELECT id, name, subject FROM emails WHERE id IN (SELECT value FROM json_each(?))', args: [JSON.stringify(ids)] });
    const byId = new Map(meta.rows.map((r) => [Number(r.id), r]));
    const total = emailCounts(undefined);
    const rows = ids.map((id) => {
      const c = emailCounts(sums.get(String(id)));
      add(total, c);
      const m = byId.get(id);
      return { email_id: id, name: m ? String(m.name) : null, subject: m ? String(m.subject) : null, ...c, ...emailRates(c) };
    });
    rows.sort((a, b) => b.sent - a.sent || a.email_id - b.email_id);
    return { rows, totals: { ...total, ...emailRates(total) } };
  },
});
