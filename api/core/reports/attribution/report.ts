import { z } from 'zod';
import { ValidationError } from '../../errors';
import { defineReport, LimitParam } from '../report';
import { share } from '../query';
import { CONVERSION_HELP, CONVERSION_PATTERN, checkTargets, conversionRows, parseConversion } from './conversions';
import { contactFilter, CurrencyParam, reportCurrency } from '../scope';
import { labels } from './labels';
import { MODELS, addCredits, creditConversion, type KeyTotal } from './models';
import { DIMENSIONS, SITELESS, touchKeys } from './touches';

// Attribution: which channels, sources, pages, forms, focus items, emails and campaigns the
// conversions of a period came through, credited from each converting contact's own timeline
// under one model. Computed at query time from the period's conversions and those contacts'
// touches only.

export interface AttributionRow extends Record<string, unknown> {
  key: string;
  label: string;
  conversions: number;
  revenue: number | null;
  currency: string | null;
  share: number | null;
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

export const attributionReport = defineReport({
  name: 'attribution',
  tag: 'Reports',
  summary: 'Attribution of conversions and won revenue',
  description: [
    'Credits each conversion of the period to the touches of the converting contact’s own timeline up to the conversion (its anonymous visits before it was identified and the history of contacts merged into it included), per `dimension`, under one `model`.',
    '',
    '`conversion`: `deal_won` (default; deals won in the period, valued at their amount, in one `currency`), `stage:<id>` (contacts who first entered that stage in the period), `form:<id>` / `form:any` (submissions by known contacts), `goal:<campaign id>` / `goal:any` (campaign passes that reached their goal). Conversions other than won deals are worth 1 each.',
    '',
    'Dimensions: `channel`, `source` (utm_source or the referrer’s domain; `direct` when neither), `medium`, `utm_campaign`, `referrer`, `landing_page` — one touch per visit; `form` (submissions), `focus` (focus item clicks and submissions through a focus item), `email` (human clicks), `campaign` (human clicks on a campaign’s emails). A conversion without a touch in the dimension credits `(none)`, so credits always add up to the conversions and the revenue.',
    '',
    'Models: `first_touch`, `last_touch`, `linear`, `position_based` (40% first, 40% last, 20% shared by the touches between; 50/50 for two). Revenue is split in whole cents, the leftover cents going to the largest remainders, so the rows add up exactly to the revenue of the conversions.',
    '',
    'Filters: `segment` (converting contacts in the segment now), `utm_*` (converting contacts first touched with those values), `site` (only touches on that site; not with the email and campaign dimensions, whose clicks are on no site).',
  ].join('\n'),
  filters: ['site', 'segment', 'utm'],
  params: z.object({
    conversion: z.string().max(40).regex(CONVERSION_PATTERN, CONVERSION_HELP).optional().describe('What counts as a conversion (default deal_won).'),
    dimension: z.enum(DIMENSIONS).optional().describe('What the credit is given to (default channel).'),
    model: z.enum(MODELS).optional().describe('How a conversion is shared among its touches (default position_based).'),
    currency: CurrencyParam,
    limit: LimitParam,
  }),
  columns: [
    { key: 'key', type: 'string', description: 'The value in the dimension: a channel, source, medium, campaign, domain or page, or the id of a form, focus item, email or campaign; `(none)` for conversions without a touch in it.' },
    { key: 'label', type: 'string', description: 'A readable name: the form, focus item, email or campaign name, else the key.' },
    { key: 'conversions', type: 'number', description: 'Conversions credited to it (shares of conversions, 4 decimals).' },
    { key: 'revenue', type: 'number', description: 'Won revenue credited to it, in major units of `currency` (exact to the cent); null for conversions other than won deals.' },
    { key: 'currency', type: 'string', description: 'Currency of `revenue` (ISO 4217); null for conversions other than won deals.' },
    { key: 'share', type: 'number', description: 'Its share of all the credit: of the revenue for won deals, of the conversions otherwise (4 decimals).' },
  ],
  totals: ['conversions', 'revenue', 'currency'],
  async run(ctx, period, params) {
    const spec = parseConversion(params.conversion ?? 'deal_won');
    const dimension = params.dimension ?? 'channel';
    const model = params.model ?? 'position_based';
    const limit = params.limit ?? 100;
    if (params.currency !== undefined && spec.kind !== 'deal_won') {
      throw new ValidationError([{ field: 'currency', message: 'applies only to conversion=deal_won' }]);
    }
    if (period.site !== null && SITELESS.includes(dimension)) {
      throw new ValidationError([{ field: 'site', message: `${dimension} touches are email clicks, which belong to no site` }]);
    }
    await checkTargets(ctx, spec, period);

    const revenue = spec.kind === 'deal_won';
    const currency = revenue ? await reportCurrency(ctx, period, params.currency, await contactFilter(ctx, period, 'd.contact_id')) : null;

    // One statement: each conversion with the keys of its touches up to it, as one JSON value
    // (a row per conversion would cost more in the client than the reading does).
    const conv = await conversionRows(ctx, period, spec, currency);
    const keys = touchKeys(dimension, period.site, 'cv.c', 'cv.t');
    const res = await ctx.client.execute({
      sql: `SELECT json_group_array(json_array(cv.v, json(${keys.sql}))) AS j FROM (${conv.sql}) cv`,
      args: [...keys.args, ...conv.args],
    });
    const conversions = JSON.parse(String(res.rows[0]!.j)) as [cents: number | null, keys: string[]][];

    const byKey = new Map<string, KeyTotal>();
    let totalCents = 0;
    for (const [cents, touched] of conversions) {
      addCredits(byKey, creditConversion(touched, cents, model));
      totalCents += cents ?? 0;
    }

    const credit = (t: KeyTotal) => (revenue ? t.cents : t.conversions);
    const ranked = [...byKey]
      .sort(([ka, a], [kb, b]) => credit(b) - credit(a) || b.conversions - a.conversions || (ka < kb ? -1 : ka > kb ? 1 : 0))
      .slice(0, limit);
    const names = await labels(ctx, dimension, ranked.map(([k]) => k));
    const rows: AttributionRow[] = ranked.map(([key, t]) => ({
      key,
      label: names.get(key) ?? key,
      conversions: round4(t.conversions),
      revenue: revenue ? t.cents / 100 : null,
      currency: revenue ? currency : null,
      share: revenue ? share(t.cents, totalCents) : share(t.conversions, conversions.length),
    }));
    return {
      rows,
      totals: { conversions: conversions.length, revenue: revenue ? totalCents / 100 : null, currency: revenue ? currency : null },
    };
  },
});
