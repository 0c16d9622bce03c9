// A saved focus item's numbers (GET /api/v1/focus-items/{id}/stats, from the event log): views
// to conversions, whole and per variant, over a period.
import { useState } from 'preact/hooks';
import { api, load } from '../api/client';
import { formatInteger, formatPercent } from '../ui/format';
import { ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';
import type { FocusItem } from './model';

const PERIODS: [number, string][] = [
  [7, 'Last 7 days'],
  [30, 'Last 30 days'],
  [90, 'Last 90 days'],
  [0, 'All time'],
];
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function FocusStats({ item }: { item: FocusItem }) {
  const [days, setDays] = useState(30);
  const stats = useLoad(
    () => load(api.GET('/api/v1/focus-items/{id}/stats', { params: { path: { id: item.id }, query: days ? { from: dayOf(Date.now() - (days - 1) * 864e5) } : {} } })),
    `${item.id}:${days}:${item.updated_at}`,
  );
  const cells = (c: { views: number; clicks: number; closes: number; submissions: number; conversions: number; conversion_rate: number }) => [
    <td class="num">{formatInteger(c.views)}</td>,
    <td class="num">{formatInteger(c.clicks)}</td>,
    <td class="num">{formatInteger(c.closes)}</td>,
    <td class="num">{formatInteger(c.submissions)}</td>,
    <td class="num">{formatInteger(c.conversions)}</td>,
    <td class="num">{c.views ? formatPercent(c.conversion_rate) : '–'}</td>,
  ];
  return (
    <section class="card stack" aria-labelledby="focus-stats-heading">
      <div class="row-between">
        <h2 id="focus-stats-heading">Stats</h2>
        <label>
          Period{' '}
          <select value={days} onChange={(x) => setDays(Number(x.currentTarget.value))}>
            {PERIODS.map(([n, l]) => (
              <option value={n}>{l}</option>
            ))}
          </select>
        </label>
      </div>
      <p class="hint">A conversion is a click on the button of a notice or link, a submission of a form.</p>
      {stats.state === 'loading' && <Loading what="the stats" />}
      {stats.state === 'error' && <ErrorMessage message={stats.message} retry={stats.retry} />}
      {stats.state === 'done' && (
        <div class="table-wrap" role="region" aria-label="Views and conversions per variant" tabIndex={0}>
          <table class="focus-stats">
            <thead>
              <tr>
                <th scope="col">Variant</th>
                <th scope="col" class="num">
                  Weight
                </th>
                <th scope="col" class="num">
                  Views
                </th>
                <th scope="col" class="num">
                  Clicks
                </th>
                <th scope="col" class="num">
                  Closes
                </th>
                <th scope="col" class="num">
                  Submissions
                </th>
                <th scope="col" class="num">
                  Conversions
                </th>
                <th scope="col" class="num">
                  Rate
                </th>
              </tr>
            </thead>
            <tbody>
              {stats.data.variants.map((v) => (
                <tr data-variant={v.key}>
                  <th scope="row">{v.key === 'none' ? 'No variant' : v.key.toUpperCase()}</th>
                  <td class="num">{v.weight === null ? '–' : `${v.weight}%`}</td>
                  {cells(v)}
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr data-variant="total">
                <th scope="row">All</th>
                <td class="num" />
                {cells(stats.data.totals)}
              </tr>
            </tfoot>
          </table>
        </div>
      )}
    </section>
  );
}
