import { useEffect, useRef, useState } from 'preact/hooks';
import { api, loadJson as load } from '../api/client';
import { writeResult } from '../ui/contacts';
import { CORE_TARGETS, importSlices, mappingProblem, parseCsv, suggestMapping, type CsvRecord, type FieldChoice } from '../ui/csv';
import { formatInteger, label } from '../ui/format';
import { ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Import contacts from a CSV file: pick the file, check how each column maps to a field (the
// server's own guesses first), then the file goes to POST /contacts/import a slice of whole rows
// at a time, with progress and a Stop button; the report lists each rejected row by its line in
// the file with the server's reason per field.

const SLICE_ROWS = 1000;
const MAX_BYTES = 50 * 1024 * 1024;
const MAX_ROWS = 1_000_000;

interface Parsed {
  name: string;
  text: string;
  records: CsvRecord[];
}
interface RowError {
  line: number;
  errors: { field: string; message: string }[];
}
type Run =
  | { state: 'idle' }
  | { state: 'running'; done: number; total: number; created: number; updated: number; rejected: number; errors: RowError[] }
  | { state: 'finished'; stopped: boolean; failed: string | null; done: number; total: number; created: number; updated: number; rejected: number; errors: RowError[] };

const targetLabel = (t: string, custom: FieldChoice[]) =>
  t === 'tags' ? 'Tags' : t.startsWith('fields.') ? (custom.find((f) => `fields.${f.key}` === t)?.label ?? t.slice(7)) : label(t);

export default function ContactsImport() {
  useEffect(() => void (document.title = 'Import contacts · Leadline'), []);
  const fields = useLoad(() => load(api.GET('/api/v1/fields', { params: { query: { limit: 100 } } })).then((p) => p.data.map((f) => ({ key: f.key, label: f.label }))), 'fields');
  const [file, setFile] = useState<Parsed | null>(null);
  const [fileProblem, setFileProblem] = useState<string | null>(null);
  const [reading, setReading] = useState(false);
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [tags, setTags] = useState('');
  const [run, setRun] = useState<Run>({ state: 'idle' });
  const stop = useRef(false);
  const custom = fields.state === 'done' ? fields.data : [];

  const choose = async (f: File | undefined) => {
    setRun({ state: 'idle' });
    setFile(null);
    setFileProblem(null);
    if (!f) return;
    if (f.size > MAX_BYTES) return setFileProblem(`This file is ${formatInteger(Math.round(f.size / 1048576))} MB; the limit is 50 MB. Split it into smaller files.`);
    setReading(true);
    try {
      const text = await f.text();
      const records = parseCsv(text);
      if (records.length === 0) return setFileProblem('The file is empty: its first row must name the columns (for example email,first_name).');
      if (records.length === 1) return setFileProblem('The file has a header row but no contacts under it.');
      if (records.length - 1 > MAX_ROWS) return setFileProblem(`The file has more than ${formatInteger(MAX_ROWS)} rows; split it into smaller files.`);
      if (records[0]!.cells.length > 200) return setFileProblem('The file has more than 200 columns.');
      setFile({ name: f.name, text, records });
      setMapping(suggestMapping(records[0]!.cells, custom));
    } catch (e) {
      setFileProblem(`The file could not be read: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setReading(false);
    }
  };

  const problem = file ? mappingProblem(mapping) : null;
  const start = async (e: Event) => {
    e.preventDefault();
    if (!file || problem) return;
    stop.current = false;
    const slices = importSlices(file.text, file.records, SLICE_ROWS);
    const total = file.records.length - 1;
    const acc = { done: 0, total, created: 0, updated: 0, rejected: 0, errors: [] as RowError[] };
    setRun({ state: 'running', ...acc });
    const query = { mapping: JSON.stringify(mapping), ...(tags.trim() ? { tags: tags.trim() } : {}) };
    for (const s of slices) {
      if (stop.current) return setRun({ state: 'finished', stopped: true, failed: null, ...acc });
      const r = await writeResult(
        api.POST('/api/v1/contacts/import', {
          params: { query },
          body: s.csv,
          headers: { 'Content-Type': 'text/csv' },
          bodySerializer: (b: string) => b,
        }),
      );
      if (!r.ok) {
        const at = file.records[s.first + 1]?.line;
        return setRun({ state: 'finished', stopped: false, failed: `Rows from line ${at ?? '?'} on were not imported: ${r.message}`, ...acc });
      }
      acc.done += s.rows;
      acc.created += r.data.created;
      acc.updated += r.data.updated;
      acc.rejected += r.data.rejected;
      for (const x of r.data.errors) if (acc.errors.length < 5000) acc.errors.push({ line: s.fileLine(x.line), errors: x.errors });
      setRun({ state: 'running', ...acc, errors: [...acc.errors] });
    }
    setRun({ state: 'finished', stopped: false, failed: null, ...acc });
  };

  const running = run.state === 'running';
  const headers = file?.records[0]!.cells ?? [];
  const sample = file?.records.slice(1, 3) ?? [];
  return (
    <div class="contacts-import">
      <p class="crumbs">
        <a href="/app/contacts">Contacts</a>
      </p>
      <h1 tabIndex={-1}>Import contacts</h1>
      <p>
        Upload a CSV file whose first row names the columns. Each row becomes a contact, matched by email: an existing contact is updated (empty cells change
        nothing), a new email creates one. Separate several tags in a cell with | or ;.
      </p>
      {fields.state === 'loading' && <Loading what="your contact fields" />}
      {fields.state === 'error' && <ErrorMessage message={fields.message} retry={fields.retry} />}
      <section class="card" aria-labelledby="import-file-heading">
        <h2 id="import-file-heading">1. Choose the file</h2>
        <div class="field">
          <label for="import-file">CSV file</label>
          <input
            id="import-file"
            type="file"
            accept=".csv,text/csv,text/plain"
            disabled={running || fields.state !== 'done'}
            aria-invalid={fileProblem ? 'true' : undefined}
            aria-describedby={fileProblem ? 'import-file-problem' : 'import-file-hint'}
            onChange={(e) => void choose(e.currentTarget.files?.[0])}
          />
          <p id="import-file-hint" class="hint">
            Up to 50 MB. Sent in slices of {formatInteger(SLICE_ROWS)} rows, so you can follow the progress.
          </p>
          {fileProblem && (
            <p id="import-file-problem" class="field-error" role="alert">
              {fileProblem}
            </p>
          )}
        </div>
        {reading && <Loading what="the file" />}
        {file && (
          <p role="status">
            {file.name}: {formatInteger(file.records.length - 1)} row{file.records.length === 2 ? '' : 's'}, {formatInteger(headers.length)} column
            {headers.length === 1 ? '' : 's'}.
          </p>
        )}
      </section>
      {file && (
        <form onSubmit={start} noValidate>
          <section class="card" aria-labelledby="import-map-heading">
            <h2 id="import-map-heading">2. Match the columns to fields</h2>
            <div class="table-wrap" role="region" aria-labelledby="import-map-heading" tabIndex={0}>
              <table class="mapping">
                <thead>
                  <tr>
                    <th scope="col">Column</th>
                    <th scope="col">First values</th>
                    <th scope="col">Goes to</th>
                  </tr>
                </thead>
                <tbody>
                  {headers.map((h, i) => (
                    <tr>
                      <th scope="row">{h || `(column ${i + 1}, no name)`}</th>
                      <td>{sample.map((r) => r.cells[i]).filter(Boolean).join(', ') || '–'}</td>
                      <td>
                        <select
                          aria-label={`Field for column ${h || i + 1}`}
                          value={mapping[h] ?? ''}
                          disabled={running}
                          onChange={(e) => setMapping({ ...mapping, [h]: e.currentTarget.value })}
                        >
                          <option value="">Skip this column</option>
                          <optgroup label="Contact">
                            {CORE_TARGETS.map((t) => (
                              <option value={t}>{label(t)}</option>
                            ))}
                            <option value="tags">Tags</option>
                          </optgroup>
                          {custom.length > 0 && (
                            <optgroup label="Custom fields">
                              {custom.map((f) => (
                                <option value={`fields.${f.key}`}>{f.label}</option>
                              ))}
                            </optgroup>
                          )}
                        </select>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {problem && (
              <p class="field-error" role="alert" id="import-mapping-problem">
                {problem}
              </p>
            )}
            <div class="field">
              <label for="import-tags">Tags for every imported contact (optional)</label>
              <input id="import-tags" value={tags} maxLength={1000} disabled={running} placeholder="e.g. trade-show-2026" onInput={(e) => setTags(e.currentTarget.value)} aria-describedby="import-tags-hint" />
              <p id="import-tags-hint" class="hint">
                Separate several with commas.
              </p>
            </div>
          </section>
          <section class="card" aria-labelledby="import-run-heading">
            <h2 id="import-run-heading">3. Import</h2>
            <div class="form-actions">
              <button type="submit" disabled={running || !!problem} aria-describedby={problem ? 'import-mapping-problem' : undefined}>
                {running ? 'Importing…' : `Import ${formatInteger(file.records.length - 1)} rows`}
              </button>
              {running && (
                <button type="button" class="secondary" onClick={() => (stop.current = true)}>
                  Stop after this slice
                </button>
              )}
            </div>
            <div role="status" class="import-progress">
              {run.state !== 'idle' && (
                <>
                  <p>
                    {run.state === 'running' ? 'Importing: ' : run.stopped ? 'Stopped: ' : run.failed ? 'Stopped by an error: ' : 'Done: '}
                    {formatInteger(run.done)} of {formatInteger(run.total)} rows processed.
                  </p>
                  <progress max={run.total} value={run.done} aria-label="Import progress" />
                </>
              )}
            </div>
            {run.state === 'finished' && run.failed && <ErrorMessage message={run.failed} />}
            {run.state !== 'idle' && (
              <div class="import-report">
                <dl>
                  <div>
                    <dt>Created</dt>
                    <dd>{formatInteger(run.created)}</dd>
                  </div>
                  <div>
                    <dt>Updated</dt>
                    <dd>{formatInteger(run.updated)}</dd>
                  </div>
                  <div>
                    <dt>Rejected</dt>
                    <dd>{formatInteger(run.rejected)}</dd>
                  </div>
                </dl>
                {run.state === 'finished' && !run.failed && (
                  <p>
                    <a href="/app/contacts?sort=updated_at">See the contacts, most recently changed first</a>.
                  </p>
                )}
                {run.errors.length > 0 && (
                  <div class="table-wrap" role="region" aria-labelledby="import-errors-caption" tabIndex={0}>
                    <table class="row-errors">
                      <caption id="import-errors-caption">
                        Rejected rows{run.rejected > run.errors.length ? ` (the first ${formatInteger(run.errors.length)})` : ''}: fix them in the file and import it
                        again (rows already imported are updated, not duplicated).
                      </caption>
                      <thead>
                        <tr>
                          <th scope="col">Line</th>
                          <th scope="col">Field</th>
                          <th scope="col">Problem</th>
                        </tr>
                      </thead>
                      <tbody>
                        {run.errors.flatMap((r) =>
                          r.errors.map((x, i) => (
                            <tr>
                              {i === 0 ? <th scope="row">{r.line}</th> : <td />}
                              <td>{x.field ? targetLabel(x.field, custom) : '–'}</td>
                              <td>{x.message}</td>
                            </tr>
                          )),
                        )}
                      </tbody>
                    </table>
                  </div>
                )}
              </div>
            )}
          </section>
        </form>
      )}
    </div>
  );
}
