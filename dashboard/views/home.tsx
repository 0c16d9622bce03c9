import { useLocation } from 'preact-iso/router';
import { useEffect, useMemo } from 'preact/hooks';
import { api, loadJson as load } from '../api/client';
import { TimeChart } from '../ui/chart';
import { formatInteger, formatMoney, formatPercent } from '../ui/format';
import { intervalFor, periodFromQuery, previousPeriod, type Period } from '../ui/period';
import { PeriodPicker } from '../ui/period-picker';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useLoad, type Loaded } from '../ui/use-load';

// Home: the period's headline figures beside the previous period's, the funnel, top sources.
// Every figure is a report from the REST API:
//   visitors        traffic            totals.visitors
//   new contacts    cohorts            totals.contacts (first touched in the period)
//   MQLs            follow-up          totals.qualified (first entered a marketing-qualified stage in the period)
//   won revenue     revenue            totals.revenue (in totals.currency)
//   funnel          funnel             rows (entered, conversion_rate) and totals
//   top sources     traffic-breakdown  by=source

const q = (p: Period) => ({ from: p.from, to: p.to, tz: p.tz });

async function headline(p: Period) {
  const prev = previousPeriod(p);
  const interval = intervalFor(p);
  const [traffic, trafficPrev, cohorts, cohortsPrev, mql, mqlPrev, revenue] = await Promise.all([
    load(api.GET('/api/v1/reports/traffic', { params: { query: { ...q(p), interval } } })),
    load(api.GET('/api/v1/reports/traffic', { params: { query: { ...q(prev), interval } } })),
    load(api.GET('/api/v1/reports/cohorts', { params: { query: q(p) } })),
    load(api.GET('/api/v1/reports/cohorts', { params: { query: q(prev) } })),
    load(api.GET('/api/v1/reports/follow-up', { params: { query: { ...q(p), interval } } })),
    load(api.GET('/api/v1/reports/follow-up', { params: { query: { ...q(prev), interval } } })),
    load(api.GET('/api/v1/reports/revenue', { params: { query: { ...q(p), interval } } })),
  ]);
  // The previous period in the same currency, so the two figures compare.
  const currency = revenue.totals.currency ?? undefined;
  const revenuePrev = await load(api.GET('/api/v1/reports/revenue', { params: { query: { ...q(prev), interval, ...(currency ? { currency } : {}) } } }));
  return { interval, traffic, trafficPrev, cohorts, cohortsPrev, mql, mqlPrev, revenue, revenuePrev };
}

type Headline = Awaited<ReturnType<typeof headline>>;

function Change({ now, before, format }: { now: number; before: number; format: (n: number) => string }) {
  if (before === 0 && now === 0) return <p class="change">Same as the previous period (0)</p>;
  if (before === 0) return <p class="change up">New: previous period had none</p>;
  const rel = (now - before) / before;
  const dir = rel > 0 ? 'up' : rel < 0 ? 'down' : 'same';
  const arrow = dir === 'up' ? '▲' : dir === 'down' ? '▼' : '';
  return (
    <p class={`change ${dir}`}>
      <span aria-hidden="true">{arrow} </span>
      {dir === 'same' ? 'No change' : `${dir === 'up' ? 'Up' : 'Down'} ${formatPercent(Math.abs(rel))}`} from {format(before)}
    </p>
  );
}

function Kpi({ label, now, before, format, note }: { label: string; now: number; before: number; format: (n: number) => string; note: string }) {
  return (
    <li class="kpi">
      <h3>{label}</h3>
      <p class="kpi-value">{format(now)}</p>
      <Change now={now} before={before} format={format} />
      <p class="hint">{note}</p>
    </li>
  );
}

const n = (v: number | null | undefined) => v ?? 0;
const seconds = (rows: { bucket: string | null }[]) => rows.map((r) => Date.parse(r.bucket ?? '') / 1000);

function Headlines({ data, period }: { data: Headline; period: Period }) {
  const { traffic, trafficPrev, revenue, revenuePrev } = data;
  const currency = revenue.totals.currency ?? revenuePrev.totals.currency ?? null;
  const money = (v: number) => formatMoney(v, currency);
  const visitorsChart = useMemo(
    () => ({
      x: seconds(traffic.rows),
      series: [
        { label: 'This period', values: traffic.rows.map((r) => r.visitors) },
        // Aligned bucket by bucket with this period's.
        { label: 'Previous period', values: traffic.rows.map((_, i) => trafficPrev.rows[i]?.visitors ?? null), dashed: true },
      ],
    }),
    [data],
  );
  const revenueChart = useMemo(
    () => ({
      x: seconds(revenue.rows),
      series: [
        { label: 'This period', values: revenue.rows.map((r) => r.revenue) },
        { label: 'Previous period', values: revenue.rows.map((_, i) => revenuePrev.rows[i]?.revenue ?? null), dashed: true },
      ],
    }),
    [data],
  );
  const noVisits = n(traffic.totals.visitors) === 0 && n(trafficPrev.totals.visitors) === 0;
  return (
    <>
      <section aria-labelledby="kpi-heading">
        <h2 id="kpi-heading">This period against the previous {formatInteger(traffic.rows.length)} {data.interval}s</h2>
        <ul class="kpis">
          <Kpi label="Visitors" now={n(traffic.totals.visitors)} before={n(trafficPrev.totals.visitors)} format={formatInteger} note="Distinct visitors with at least one visit." />
          <Kpi label="New contacts" now={n(data.cohorts.totals.contacts)} before={n(data.cohortsPrev.totals.contacts)} format={formatInteger} note="Contacts first touched in the period." />
          <Kpi
            label="Marketing-qualified leads"
            now={n(data.mql.totals.qualified)}
            before={n(data.mqlPrev.totals.qualified)}
            format={formatInteger}
            note="Contacts that first entered a marketing-qualified stage."
          />
          <Kpi label="Won revenue" now={n(revenue.totals.revenue)} before={n(revenuePrev.totals.revenue)} format={money} note={`Deals won${currency ? `, in ${currency}` : ''}.`} />
        </ul>
      </section>
      <section aria-labelledby="charts-heading" class="charts">
        <h2 id="charts-heading">Over time</h2>
        {noVisits ? (
          <Empty title="No visits in these periods yet.">
            <p>
              Register a site and paste its script tag on every page (<code>POST /api/v1/sites</code>, then{' '}
              <code>&lt;script async src=".../w.js" data-site="pk_…"&gt;</code>; see the README, “The script tag”). Visits appear here within seconds.
            </p>
          </Empty>
        ) : (
          <TimeChart
            title="Visitors"
            summary={`Visitors per ${data.interval} from ${period.from} to ${period.to}: ${formatInteger(n(traffic.totals.visitors))} in all, against ${formatInteger(n(trafficPrev.totals.visitors))} in the previous period.`}
            x={visitorsChart.x}
            series={visitorsChart.series}
            tz={period.tz}
            integer
          />
        )}
        {n(revenue.totals.deals_won) === 0 && n(revenuePrev.totals.deals_won) === 0 ? (
          <Empty title="No deals won in these periods.">
            <p>
              Won deals come from your CRM (<code>POST /webhooks/deals</code>) or the API (<code>/api/v1/deals</code>); the revenue report then ties them to
              their first touch.
            </p>
          </Empty>
        ) : (
          <TimeChart
            title={`Won revenue${currency ? ` (${currency})` : ''}`}
            summary={`Won revenue per ${data.interval} from ${period.from} to ${period.to}: ${money(n(revenue.totals.revenue))} in all, against ${money(n(revenuePrev.totals.revenue))} in the previous period.`}
            x={revenueChart.x}
            series={revenueChart.series}
            tz={period.tz}
            format={money}
          />
        )}
      </section>
    </>
  );
}

function Section<T>(props: { id: string; title: string; loaded: Loaded<T> & { retry: () => void }; what: string; children: (data: T) => preact.ComponentChildren }) {
  const l = props.loaded;
  return (
    <section aria-labelledby={props.id} aria-busy={l.state === 'loading' ? 'true' : undefined}>
      <h2 id={props.id}>{props.title}</h2>
      {l.state === 'loading' && <Loading what={props.what} />}
      {l.state === 'error' && <ErrorMessage message={l.message} retry={l.retry} />}
      {l.state === 'done' && props.children(l.data)}
    </section>
  );
}

export default function Home() {
  const { query, route } = useLocation();
  const period = periodFromQuery(query);
  const key = `${period.from}/${period.to}/${period.tz}`;
  useEffect(() => void (document.title = 'Home · Leadline'), []);

  const head = useLoad(() => headline(period), key);
  const funnel = useLoad(() => load(api.GET('/api/v1/reports/funnel', { params: { query: q(period) } })), key);
  const sources = useLoad(() => load(api.GET('/api/v1/reports/traffic-breakdown', { params: { query: { ...q(period), by: 'source', limit: '5' } } })), key);
  const link = (report: string, extra = '') => `/app/reports/${report}?from=${period.from}&to=${period.to}&tz=${encodeURIComponent(period.tz)}${extra}`;

  return (
    <div class="home">
      <h1 tabIndex={-1}>Home</h1>
      <PeriodPicker
        id="home-period"
        period={period}
        busy={head.state === 'loading'}
        onApply={(p) => route(`/app?from=${p.from}&to=${p.to}&tz=${encodeURIComponent(p.tz)}`)}
      />
      {head.state === 'loading' && <Loading what="figures" />}
      {head.state === 'error' && <ErrorMessage message={head.message} retry={head.retry} />}
      {head.state === 'done' && <Headlines data={head.data} period={period} />}
      <div class="columns">
        <Section id="funnel-heading" title="Funnel" loaded={funnel} what="the funnel">
          {(f) =>
            f.rows.every((r) => !r.entered) ? (
              <Empty title="No contact entered a stage in this period.">
                <p>
                  Contacts move through the stages (Attract → Engage → Convert → Close → Delight) by point triggers, campaigns, won deals or the API (
                  <code>/api/v1/stages</code>).
                </p>
              </Empty>
            ) : (
              <>
                <ol class="funnel">
                  {f.rows.map((r) => {
                    const max = Math.max(1, ...f.rows.map((x) => n(x.entered)));
                    return (
                      <li>
                        <span class="stage">{r.stage}</span>
                        <span class="bar" aria-hidden="true">
                          <span style={{ width: `${(n(r.entered) / max) * 100}%` }} />
                        </span>
                        <span class="num">{formatInteger(n(r.entered))} entered</span>
                        <span class="rate">{r.conversion_rate === null ? '–' : `${formatPercent(r.conversion_rate)} went on`}</span>
                      </li>
                    );
                  })}
                </ol>
                {f.totals.conversion_rate !== null && f.totals.conversion_rate !== undefined && (
                  <p>
                    End to end ({f.totals.stage}): {formatPercent(f.totals.conversion_rate)}.
                  </p>
                )}
              </>
            )
          }
        </Section>
        <Section id="sources-heading" title="Top sources" loaded={sources} what="sources">
          {(s) =>
            s.rows.length === 0 ? (
              <Empty title="No visits with a source in this period.">
                <p>Sources come from the referrer and UTM parameters of each visit, once the script tag is on your site.</p>
              </Empty>
            ) : (
              <div class="table-wrap" role="region" aria-labelledby="sources-heading" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Source</th>
                      <th scope="col" class="num">Visitors</th>
                      <th scope="col" class="num">Visits</th>
                      <th scope="col" class="num">Bounce rate</th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.rows.map((r) => (
                      <tr>
                        <th scope="row">{r.key || '(direct)'}</th>
                        <td class="num">{formatInteger(n(r.visitors))}</td>
                        <td class="num">{formatInteger(n(r.sessions))}</td>
                        <td class="num">{r.bounce_rate === null ? '–' : formatPercent(r.bounce_rate)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </Section>
      </div>
      <p class="more">
        More in <a href={link('traffic-breakdown', '&by=source')}>all sources</a>, <a href={link('funnel')}>the funnel report</a> and{' '}
        <a href="/app/reports">every report</a>.
      </p>
    </div>
  );
}
