import { z } from 'zod';
import { defineReport } from './report';
import { share } from './query';
import { METRIC } from './rollups/metrics';
import { sumRollups } from './rollups/read';

const M = [METRIC.formViews, METRIC.formStarts, METRIC.formSubmissions, METRIC.formContacts] as const;

interface FormCounts {
  views: number;
  starts: number;
  submissions: number;
  contacts: number;
}

/** A form's funnel: the counts, start_rate = starts / views, submit_rate = submissions / views. */
const funnel = (c: FormCounts) => ({ ...c, start_rate: share(c.starts, c.views), submit_rate: share(c.submissions, c.views) });

export const formsReport = defineReport({
  name: 'forms',
  tag: 'Reports',
  summary: 'Form funnel: views, starts, submissions, contacts',
  description:
    'Per form with activity in the period, from the hourly rollups: how often the embedded form was shown (view: the widget rendered it), ' +
    'started (the first focus or input in it, once per rendering), submitted, and how many submissions named a contact (an email ' +
    'that resolved to one, or a known visitor). Forms since deleted are left out. The site filter counts the events of that site.',
  filters: ['site'],
  params: z.object({}),
  columns: [
    { key: 'form_id', type: 'integer', description: 'The form.' },
    { key: 'name', type: 'string', description: 'Its name now.' },
    { key: 'views', type: 'integer', description: 'Times the form was shown (form_view events; the no-JS form page sends none).' },
    { key: 'starts', type: 'integer', description: 'Times a visitor began filling it in (form_start events: first focus or input per showing).' },
    { key: 'submissions', type: 'integer', description: 'Submissions stored (bots and repeats are not).' },
    { key: 'contacts', type: 'integer', description: 'Submissions that named a contact when they were made.' },
    { key: 'start_rate', type: 'number', description: 'starts / views (0–1 as a rule, four decimals; null without views).' },
    { key: 'submit_rate', type: 'number', description: 'submissions / views (four decimals; null without views; above 1 when the no-JS page or an API posts).' },
  ],
  totals: ['views', 'starts', 'submissions', 'contacts', 'start_rate', 'submit_rate'],
  async run(ctx, period) {
    const sums = await sumRollups(ctx, period, { metrics: M, dim: 'form', site: period.site });
    const names = await ctx.client.execute({ sql: 'SELECT id, name FROM forms WHERE id IN (SELECT value FROM json_each(?))', args: [JSON.stringify([...sums.keys()].map(Number))] });
    const total: FormCounts = { views: 0, starts: 0, submissions: 0, contacts: 0 };
    const rows = names.rows.map((r) => {
      const s = sums.get(String(r.id))!;
      const c: FormCounts = { views: s[METRIC.formViews]!, starts: s[METRIC.formStarts]!, submissions: s[METRIC.formSubmissions]!, contacts: s[METRIC.formContacts]! };
      for (const k of Object.keys(total) as (keyof FormCounts)[]) total[k] += c[k];
      return { form_id: Number(r.id), name: String(r.name), ...funnel(c) };
    });
    rows.sort((a, b) => b.views - a.views || b.submissions - a.submissions || a.form_id - b.form_id);
    return { rows, totals: funnel(total) };
  },
});
