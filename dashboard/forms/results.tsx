// A saved form's numbers: the funnel from the `forms` report (views → starts → submissions →
// contacts) and the submissions themselves, newest first, paged, with the CSV download.
import { useState } from 'preact/hooks';
import { api, load, loadJson } from '../api/client';
import { formatDateTime, formatInteger, formatPercent } from '../ui/format';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';
import { str, type Form } from './model';

const DAYS = [7, 30, 90];
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function Stats({ form }: { form: Form }) {
  const [days, setDays] = useState(30);
  const report = useLoad(() => loadJson(api.GET('/api/v1/reports/forms', { params: { query: { from: dayOf(Date.now() - (days - 1) * 864e5) } } })), `${form.id}:${days}:${form.updated_at}`);
  const row = report.state === 'done' ? report.data.rows.find((r) => r.form_id === form.id) : undefined;
  const steps: [string, number][] = [
    ['Views', row?.views ?? 0],
    ['Starts', row?.starts ?? 0],
    ['Submissions', row?.submissions ?? 0],
    ['Contacts', row?.contacts ?? 0],
  ];
  return (
    <section class="card" aria-labelledby="stats-heading">
      <div class="row-between">
        <h2 id="stats-heading">Funnel</h2>
        <label>
          Period{' '}
          <select value={days} onChange={(x) => setDays(Number(x.currentTarget.value))}>
            {DAYS.map((n) => (
              <option value={n}>Last {n} days</option>
            ))}
          </select>
        </label>
      </div>
      {report.state === 'loading' && <Loading what="the funnel" />}
      {report.state === 'error' && <ErrorMessage message={report.message} retry={report.retry} />}
      {report.state === 'done' && (
        <ol class="funnel form-funnel">
          {steps.map(([name, n], i) => (
            <li data-step={name.toLowerCase()}>
              <span class="funnel-name">{name}</span> <strong class="funnel-count">{formatInteger(n)}</strong>
              {i > 0 && steps[0]![1] > 0 && <span class="hint"> ({formatPercent(n / steps[0]![1])} of views)</span>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function Results({ form }: { form: Form }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(
    () => load(api.GET('/api/v1/forms/{id}/results', { params: { path: { id: form.id }, query: { limit: 25, ...(cursor ? { cursor } : {}) } } })),
    `${form.id}:${cursor ?? ''}`,
  );
  const keys = form.fields.map((f) => f.key);
  return (
    <section class="card" aria-labelledby="results-heading">
      <div class="row-between">
        <h2 id="results-heading">Submissions</h2>
        <a href={`/api/v1/forms/${form.id}/results.csv`} download>
          Download CSV
        </a>
      </div>
      {page.state === 'loading' && <Loading what="submissions" />}
      {page.state === 'error' && <ErrorMessage message={page.message} retry={page.retry} />}
      {page.state === 'done' &&
        (page.data.data.length === 0 && !cursor ? (
          <Empty title="No submissions yet." />
        ) : (
          <>
            <div class="table-wrap" role="region" aria-label="Submissions" tabIndex={0}>
              <table class="results">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    {keys.map((k) => (
                      <th scope="col">{form.fields.find((f) => f.key === k)?.label ?? k}</th>
                    ))}
                    <th scope="col">Contact</th>
                    <th scope="col">Page</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.data.map((r) => (
                    <tr>
                      <th scope="row">{formatDateTime(r.created_at)}</th>
                      {keys.map((k) => (
                        <td>{str(r.values[k])}</td>
                      ))}
                      <td>{r.contact_id ? <a href={`/app/contacts/${r.contact_id}`}>#{r.contact_id}</a> : '—'}</td>
                      <td>{r.page_url ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div class="actions">
              <button type="button" class="secondary" disabled={!cursors.length} onClick={() => setCursors(cursors.slice(0, -1))}>
                Newer
              </button>
              <button type="button" class="secondary" disabled={!page.data.has_more} onClick={() => page.data.next_cursor && setCursors([...cursors, page.data.next_cursor])}>
                Older
              </button>
            </div>
          </>
        ))}
    </section>
  );
}
