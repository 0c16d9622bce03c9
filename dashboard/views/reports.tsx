import { useLocation, useRoute } from 'preact-iso/router';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, errorMessage, loadJson as load } from '../api/client';
import { REPORTS, type ReportInfo, type ReportParam, type ReportPath } from '../api/reports';
import type { paths } from '../api/schema';
import { TimeChart, type ChartSeries } from '../ui/chart';
import { formatBucket, formatCell, label, type CellType } from '../ui/format';
import { INTERVALS, periodFromQuery, type Interval, type Period } from '../ui/period';
import { PeriodPicker } from '../ui/period-picker';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Every report the API has (the list is generated from the OpenAPI document: api/reports.ts),
// each with its period, its own filters, a table, a chart when it is a time series (a `bucket`
// column) and a CSV download. The URL holds the query, so a report can be bookmarked or shared.

type ReportAnswer = Exclude<paths[ReportPath]['get']['responses'][200]['content']['application/json'], string>;
type Column = ReportAnswer['columns'][number];
type Row = Record<string, unknown>;

const PERIOD_PARAMS = new Set(['from', 'to', 'tz', 'interval']);

/** The query to send: the period and the filters that are set, nothing else (the API refuses unknown ones). */
function queryOf(info: ReportInfo, q: Record<string, string>, period: Period): Record<string, string> {
  const out: Record<string, string> = { from: period.from, to: period.to, tz: period.tz };
  for (const p of info.params) if (!PERIOD_PARAMS.has(p.name) || p.name === 'interval') if (q[p.name]) out[p.name] = q[p.name]!;
  return out;
}

const search = (q: Record<string, string>) => new URLSearchParams(q).toString();

// One typed call per report; the path is chosen at run time, so the answer is the union of their schemas.
const getReport = (info: ReportInfo, query: Record<string, string>) =>
  api.GET(`/api/v1/reports/${info.name}` as '/api/v1/reports/traffic', { params: { query: query as never } }) as Promise<{
    data?: ReportAnswer;
    error?: unknown;
    response: Response;
  }>;

/** No rows, or a time series of nothing but zeros. */
function isEmpty(a: ReportAnswer): boolean {
  const numeric = (a.columns as Column[]).filter((c) => c.type === 'integer' || c.type === 'number').map((c) => c.key);
  return (a.rows as Row[]).every((r) => numeric.every((k) => !r[k]));
}

function ReportIndex() {
  useEffect(() => void (document.title = 'Reports · Leadline'), []);
  return (
    <section>
      <h1 tabIndex={-1}>Reports</h1>
      <p>Pick a report; each takes a period and its own filters, and downloads as CSV.</p>
      <ul class="report-list">
        {REPORTS.map((r) => (
          <li>
            <a href={`/app/reports/${r.name}`}>{r.summary}</a>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** A regex the browser can use as a pattern attribute (the schema's, anchors dropped), if it compiles there. */
function htmlPattern(p?: string): string | undefined {
  if (!p) return undefined;
  const inner = p.replace(/^\^/, '').replace(/\$$/, '');
  try {
    new RegExp(`^(?:${inner})$`, 'v');
    return inner;
  } catch {
    return undefined;
  }
}

function FilterField({ report, param, value, onInput }: { report: string; param: ReportParam; value: string; onInput: (v: string) => void }) {
  const id = `${report}-${param.name}`;
  return (
    <div class="field">
      <label for={id}>{label(param.name)}</label>
      {param.enum ? (
        <select id={id} value={value} onChange={(e) => onInput(e.currentTarget.value)} aria-describedby={`${id}-hint`}>
          <option value="">Default</option>
          {param.enum.map((v) => (
            <option value={v}>{label(v)}</option>
          ))}
        </select>
      ) : (
        <input
          id={id}
          type="text"
          value={value}
          pattern={htmlPattern(param.pattern)}
          maxLength={param.maxLength}
          autocomplete="off"
          aria-describedby={`${id}-hint`}
          onInput={(e) => onInput(e.currentTarget.value)}
        />
      )}
      <p id={`${id}-hint`} class="hint">
        {param.description}
      </p>
    </div>
  );
}

function Chart({ answer }: { answer: ReportAnswer }) {
  const cols = answer.columns as Column[];
  const numeric = cols.filter((c) => c.type === 'integer' || c.type === 'number');
  const [measure, setMeasure] = useState(numeric[0]?.key ?? '');
  const key = numeric.some((c) => c.key === measure) ? measure : (numeric[0]?.key ?? '');
  // A string column beside the bucket (a score band, a currency) splits the rows into series.
  const group = cols.find((c) => c.type === 'string' && c.key !== 'bucket')?.key;
  const data = useMemo(() => {
    const rows = answer.rows as Row[];
    const x = [...new Set(rows.map((r) => String(r.bucket)))].sort();
    const groups = group ? [...new Set(rows.map((r) => String(r[group] ?? '')))].slice(0, 6) : [''];
    const series: ChartSeries[] = groups.map((g) => {
      const at = new Map(rows.filter((r) => !group || String(r[group] ?? '') === g).map((r) => [String(r.bucket), r[key]]));
      return { label: group ? `${label(group)} ${g || '(none)'}` : label(key), values: x.map((b) => (typeof at.get(b) === 'number' ? (at.get(b) as number) : null)) };
    });
    return { x: x.map((b) => Date.parse(b) / 1000), series };
  }, [answer, key, group]);
  if (!numeric.length || !answer.rows.length) return null;
  const col = numeric.find((c) => c.key === key)!;
  return (
    <div class="report-chart">
      <div class="field inline">
        <label for="chart-measure">Chart</label>
        <select id="chart-measure" value={key} onChange={(e) => setMeasure(e.currentTarget.value)}>
          {numeric.map((c) => (
            <option value={c.key}>{label(c.key)}</option>
          ))}
        </select>
      </div>
      <TimeChart
        title={`${label(key)} per ${answer.interval ?? 'bucket'}`}
        summary={`${col.description}, per ${answer.interval ?? 'bucket'}; the same figures are in the table below.`}
        x={data.x}
        series={data.series}
        tz={answer.tz}
        format={(v) => formatCell(v, col.type as CellType, col.key)}
        integer={col.type === 'integer'}
      />
    </div>
  );
}

function Table({ info, answer }: { info: ReportInfo; answer: ReportAnswer }) {
  const cols = answer.columns as Column[];
  const totals = answer.totals as Row;
  const hasTotals = Object.keys(totals).length > 0;
  const cell = (row: Row, c: Column) =>
    c.key === 'bucket' && typeof row.bucket === 'string' ? formatBucket(row.bucket, answer.interval, answer.tz) : formatCell(row[c.key], c.type as CellType, c.key);
  const numeric = (c: Column) => (c.type === 'integer' || c.type === 'number' ? 'num' : undefined);
  return (
    <div class="table-wrap" role="region" aria-label={`${info.summary}: table`} tabIndex={0}>
      <table>
        <caption>
          {info.summary}, {formatBucket(answer.from, 'day', answer.tz)} to {formatBucket(new Date(Date.parse(answer.to) - 1).toISOString(), 'day', answer.tz)} ({answer.tz})
        </caption>
        <thead>
          <tr>
            {cols.map((c) => (
              <th scope="col" class={numeric(c)} title={c.description}>
                {label(c.key)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {(answer.rows as Row[]).map((r) => (
            <tr>
              {cols.map((c) => (
                <td class={numeric(c)}>{cell(r, c)}</td>
              ))}
            </tr>
          ))}
        </tbody>
        {hasTotals && (
          <tfoot>
            <tr>
              {cols.map((c, i) =>
                i === 0 && !(c.key in totals) ? (
                  <th scope="row">Total</th>
                ) : (
                  <td class={numeric(c)}>{c.key in totals ? formatCell(totals[c.key], c.type as CellType, c.key) : ''}</td>
                ),
              )}
            </tr>
          </tfoot>
        )}
      </table>
    </div>
  );
}

/** Downloads the report as CSV (Accept: text/csv), saved under the name the server gives. */
function CsvButton({ info, query }: { info: ReportInfo; query: Record<string, string> }) {
  const [state, setState] = useState<{ busy: boolean; message: string | null; error: boolean }>({ busy: false, message: null, error: false });
  const download = async () => {
    setState({ busy: true, message: 'Preparing the CSV…', error: false });
    try {
      const { data, error, response } = await (api.GET(`/api/v1/reports/${info.name}` as '/api/v1/reports/traffic', {
        params: { query: query as never },
        headers: { Accept: 'text/csv' },
        parseAs: 'blob',
      }) as Promise<{ data?: Blob; error?: unknown; response: Response }>);
      if (error !== undefined || !data) throw new Error(errorMessage(error, response));
      const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? `${info.name}.csv`;
      const url = URL.createObjectURL(data);
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setState({ busy: false, message: `Downloaded ${name}.`, error: false });
    } catch (e) {
      setState({ busy: false, message: `The CSV could not be downloaded: ${e instanceof Error ? e.message : String(e)}`, error: true });
    }
  };
  return (
    <div class="csv">
      <button type="button" class="secondary" onClick={download} disabled={state.busy} aria-busy={state.busy ? 'true' : undefined}>
        {state.busy ? 'Downloading…' : 'Download CSV'}
      </button>
      <p class={state.error ? 'field-error' : 'hint'} role={state.error ? 'alert' : 'status'}>
        {state.message}
      </p>
    </div>
  );
}

function ReportPage({ info }: { info: ReportInfo }) {
  const { query: rawQuery, route } = useLocation();
  const urlQuery = rawQuery as Record<string, string>;
  const period = periodFromQuery(urlQuery);
  const query = queryOf(info, urlQuery, period);
  const key = search(query);
  const hasInterval = info.params.some((p) => p.name === 'interval');
  const filters = info.params.filter((p) => !PERIOD_PARAMS.has(p.name));
  const [draft, setDraft] = useState<Record<string, string>>({});
  useEffect(() => setDraft(Object.fromEntries(filters.map((p) => [p.name, urlQuery[p.name] ?? '']))), [info.name, key]);
  useEffect(() => void (document.title = `${info.summary} · Reports · Leadline`), [info.name]);

  const result = useLoad(() => load(getReport(info, query)), `${info.name}?${key}`);
  const interval = (INTERVALS as readonly string[]).includes(urlQuery.interval ?? '') ? (urlQuery.interval as Interval) : null;

  const apply = (p: Period, iv: Interval | null) => {
    const next: Record<string, string> = { from: p.from, to: p.to, tz: p.tz };
    if (hasInterval && iv) next.interval = iv;
    for (const f of filters) if (draft[f.name]?.trim()) next[f.name] = draft[f.name]!.trim();
    route(`/app/reports/${info.name}?${search(next)}`);
  };

  return (
    <section class="report">
      <p class="crumbs">
        <a href="/app/reports">All reports</a>
      </p>
      <h1 tabIndex={-1}>{info.summary}</h1>
      <div class="field inline">
        <label for="report-switch">Report</label>
        <select
          id="report-switch"
          value={info.name}
          onChange={(e) => route(`/app/reports/${e.currentTarget.value}?${search({ from: period.from, to: period.to, tz: period.tz })}`)}
        >
          {REPORTS.map((r) => (
            <option value={r.name}>{r.summary}</option>
          ))}
        </select>
      </div>
      <PeriodPicker id={`${info.name}-period`} period={period} interval={interval} withInterval={hasInterval} busy={result.state === 'loading'} onApply={apply}>
        {filters.length > 0 && (
          <details class="filters" open={filters.some((f) => urlQuery[f.name])}>
            <summary>Filters{filters.some((f) => urlQuery[f.name]) ? ' (set)' : ''}</summary>
            <div class="filter-grid">
              {filters.map((p) => (
                <FilterField report={info.name} param={p} value={draft[p.name] ?? ''} onInput={(v) => setDraft({ ...draft, [p.name]: v })} />
              ))}
            </div>
          </details>
        )}
      </PeriodPicker>
      <CsvButton info={info} query={query} />
      <div aria-busy={result.state === 'loading' ? 'true' : undefined}>
        {result.state === 'loading' && <Loading what="the report" />}
        {result.state === 'error' && <ErrorMessage message={result.message} retry={result.retry} />}
        {result.state === 'done' &&
          (isEmpty(result.data) ? (
            <Empty title="Nothing to report for this period.">
              <p>Try a longer period or fewer filters. Reports fill as the script tag records visits, forms and emails collect contacts, and deals are won.</p>
            </Empty>
          ) : (
            <>
              {result.data.columns.some((c) => c.key === 'bucket') && <Chart answer={result.data} />}
              <Table info={info} answer={result.data} />
            </>
          ))}
      </div>
    </section>
  );
}

export default function Reports() {
  const { params } = useRoute();
  if (!params.name) return <ReportIndex />;
  const info = REPORTS.find((r) => r.name === params.name);
  if (!info) {
    return (
      <section>
        <h1 tabIndex={-1}>No such report</h1>
        <Empty title={`There is no report called “${params.name}”.`}>
          <p>
            See <a href="/app/reports">every report</a>.
          </p>
        </Empty>
      </section>
    );
  }
  return <ReportPage info={info} />;
}
