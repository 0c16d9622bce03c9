import { useLocation } from 'preact-iso/router';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { can } from '../access';
import { api, loadJson as load } from '../api/client';
import type { paths } from '../api/schema';
import { contactName, loadSegments, loadStages, runEach, type Contact, type Segment, type Stage } from '../ui/contacts';
import { toCsv } from '../ui/csv';
import { formatDateTime, formatInteger } from '../ui/format';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Contacts: search, filters (tag, stage, segment, points), the sortable columns the API sorts by,
// one page at a time through the API's keyset cursor (next; previous from the cursors this tab
// came through), a selection kept across pages with bulk actions (tag, add to a segment, erase,
// CSV of the selection), and the CSV of everything the filters match. The URL holds the query.

type ListQuery = NonNullable<paths['/api/v1/contacts']['get']['parameters']['query']>;
type Sort = NonNullable<ListQuery['sort']>;

const SORTS: { key: Sort; label: string }[] = [
  { key: 'created_at', label: 'Created' },
  { key: 'updated_at', label: 'Updated' },
  { key: 'last_active_at', label: 'Last active' },
];
const FILTERS = ['q', 'tag', 'stage_id', 'segment_id', 'points_min', 'points_max'] as const;
const PAGE_SIZES = [25, 50, 100];

const int = (s: string | undefined) => (s && /^-?\d{1,10}$/.test(s) ? Number(s) : undefined);
const posInt = (s: string | undefined) => (s && /^[1-9]\d{0,15}$/.test(s) ? Number(s) : undefined);

/** The API's query from the page's URL query (anything malformed is left out, not sent). */
export function listQuery(q: Record<string, string>): ListQuery {
  const sort = SORTS.some((s) => s.key === q.sort) ? (q.sort as Sort) : 'created_at';
  const out: ListQuery = { sort, order: q.order === 'asc' ? 'asc' : 'desc', limit: PAGE_SIZES.includes(Number(q.limit)) ? Number(q.limit) : 50 };
  if (q.q?.trim()) out.q = q.q.trim().slice(0, 100);
  if (q.tag?.trim()) out.tag = q.tag.trim().slice(0, 64);
  if (posInt(q.stage_id)) out.stage_id = posInt(q.stage_id);
  if (posInt(q.segment_id)) out.segment_id = posInt(q.segment_id);
  if (int(q.points_min) !== undefined) out.points_min = int(q.points_min);
  if (int(q.points_max) !== undefined) out.points_max = int(q.points_max);
  if (q.cursor) out.cursor = q.cursor.slice(0, 500);
  return out;
}

const toSearch = (q: Record<string, string | number | null | undefined>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
};

// The cursors this tab went through, per filter, so "Previous page" can go back without the API
// paginating backwards (the cursor of page n is what page n-1 answered).
const trail = new Map<string, string[]>();

function Filters(props: { query: Record<string, string>; stages: Stage[] | null; segments: Segment[] | null; apply: (q: Record<string, string>) => void }) {
  const { query } = props;
  const [text, setText] = useState({ q: query.q ?? '', tag: query.tag ?? '', points_min: query.points_min ?? '', points_max: query.points_max ?? '' });
  // Follow the URL when it changes from elsewhere (back button, "Clear filters").
  useEffect(() => setText({ q: query.q ?? '', tag: query.tag ?? '', points_min: query.points_min ?? '', points_max: query.points_max ?? '' }), [query.q, query.tag, query.points_min, query.points_max]);
  const timer = useRef<number | undefined>(undefined);
  const typed = (k: keyof typeof text, v: string) => {
    const next = { ...text, [k]: v };
    setText(next);
    // Search as you type, once typing pauses.
    clearTimeout(timer.current);
    timer.current = setTimeout(() => props.apply(next), 350) as unknown as number;
  };
  useEffect(() => () => clearTimeout(timer.current), []);
  const pointsProblem =
    text.points_min && text.points_max && int(text.points_min) !== undefined && int(text.points_max) !== undefined && int(text.points_min)! > int(text.points_max)!
      ? 'The minimum is above the maximum: no contact can match.'
      : (text.points_min && int(text.points_min) === undefined) || (text.points_max && int(text.points_max) === undefined)
        ? 'Points are whole numbers.'
        : null;
  return (
    <form
      class="contact-filters"
      role="search"
      aria-label="Contacts"
      onSubmit={(e) => {
        e.preventDefault();
        clearTimeout(timer.current);
        props.apply(text);
      }}
    >
      <div class="field grow">
        <label for="contacts-q">Search</label>
        <input id="contacts-q" type="search" value={text.q} maxLength={100} autocomplete="off" placeholder="Email or name, from its start" onInput={(e) => typed('q', e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="contacts-tag">Tag</label>
        <input id="contacts-tag" type="text" value={text.tag} maxLength={64} autocomplete="off" onInput={(e) => typed('tag', e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="contacts-stage">Stage</label>
        <select id="contacts-stage" value={query.stage_id ?? ''} onChange={(e) => props.apply({ stage_id: e.currentTarget.value })}>
          <option value="">Any stage</option>
          {props.stages?.map((s) => <option value={String(s.id)}>{s.name}</option>)}
        </select>
      </div>
      <div class="field">
        <label for="contacts-segment">Segment</label>
        <select id="contacts-segment" value={query.segment_id ?? ''} onChange={(e) => props.apply({ segment_id: e.currentTarget.value })}>
          <option value="">Any segment</option>
          {props.segments?.map((s) => <option value={String(s.id)}>{s.name}</option>)}
        </select>
      </div>
      <div class="field points">
        <label for="contacts-pmin">Points from</label>
        <input id="contacts-pmin" type="number" inputMode="numeric" step={1} value={text.points_min} aria-describedby={pointsProblem ? 'contacts-points-problem' : undefined} aria-invalid={pointsProblem ? 'true' : undefined} onInput={(e) => typed('points_min', e.currentTarget.value)} />
      </div>
      <div class="field points">
        <label for="contacts-pmax">to</label>
        <input id="contacts-pmax" type="number" inputMode="numeric" step={1} value={text.points_max} aria-describedby={pointsProblem ? 'contacts-points-problem' : undefined} aria-invalid={pointsProblem ? 'true' : undefined} onInput={(e) => typed('points_max', e.currentTarget.value)} />
      </div>
      <div class="field actions">
        <button type="submit">Search</button>
      </div>
      {pointsProblem && (
        <p id="contacts-points-problem" class="field-error" role="alert">
          {pointsProblem}
        </p>
      )}
    </form>
  );
}

type Bulk = { state: 'idle' } | { state: 'running'; what: string; done: number; total: number } | { state: 'done'; ok: string; failed: { who: string; message: string }[] };

function BulkBar(props: { selected: Map<number, Contact>; segments: Segment[] | null; stages: Stage[] | null; clear: () => void; changed: () => void }) {
  const n = props.selected.size;
  const [tag, setTag] = useState('');
  const [tagProblem, setTagProblem] = useState<string | null>(null);
  const [segment, setSegment] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [bulk, setBulk] = useState<Bulk>({ state: 'idle' });
  const stop = useRef(false);
  useEffect(() => () => void (stop.current = true), []);

  async function run(what: string, verb: string, work: (c: Contact) => Promise<unknown>, after?: (done: Contact[]) => void) {
    const items = [...props.selected.values()];
    setBulk({ state: 'running', what, done: 0, total: items.length });
    const r = await runEach(items, work, { onProgress: (done) => setBulk({ state: 'running', what, done, total: items.length }), stop: () => stop.current });
    after?.(r.done);
    setBulk({
      state: 'done',
      ok: `${verb} ${formatInteger(r.done.length)} contact${r.done.length === 1 ? '' : 's'}.`,
      failed: r.failed.map((f) => ({ who: contactName(f.item), message: f.message })),
    });
    props.changed();
  }

  const addTag = (e: Event) => {
    e.preventDefault();
    const t = tag.trim();
    if (!t) return setTagProblem('Enter the tag to add.');
    if (t.length > 64) return setTagProblem('Tags are at most 64 characters.');
    setTagProblem(null);
    void run('Tagging', `Tagged`, (c) => load(api.POST('/api/v1/contacts/{id}/tags', { params: { path: { id: c.id } }, body: { tags: [t] } })));
  };
  const addToSegment = (e: Event) => {
    e.preventDefault();
    const s = props.segments?.find((x) => String(x.id) === segment);
    if (!s) return;
    void run(`Adding to ${s.name}`, `Added to ${s.name}:`, (c) =>
      load(api.PUT('/api/v1/segments/{id}/members/{contactId}', { params: { path: { id: s.id, contactId: c.id } } })),
    );
  };
  const erase = () => {
    setConfirming(false);
    void run('Erasing', 'Erased', (c) => load(api.DELETE('/api/v1/contacts/{id}', { params: { path: { id: c.id } } })), (done) => {
      for (const c of done) props.selected.delete(c.id);
    });
  };
  const exportSelection = () => {
    const contacts = [...props.selected.values()];
    const keys = [...new Set(contacts.flatMap((c) => Object.keys(c.fields)))].sort();
    const stageName = (id: number | null) => props.stages?.find((s) => s.id === id)?.name ?? id ?? '';
    const rows: unknown[][] = [
      ['id', 'email', 'first_name', 'last_name', 'phone', 'job_title', 'city', 'country', ...keys, 'tags', 'points', 'stage', 'created_at', 'updated_at', 'last_active_at'],
      ...contacts.map((c) => [c.id, c.email, c.first_name, c.last_name, c.phone, c.job_title, c.city, c.country, ...keys.map((k) => c.fields[k]), c.tags, c.points, stageName(c.stage_id), c.created_at, c.updated_at, c.last_active_at]),
    ];
    const url = URL.createObjectURL(new Blob([toCsv(rows)], { type: 'text/csv;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `contacts-selection-${contacts.length}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    setBulk({ state: 'done', ok: `Downloaded ${formatInteger(contacts.length)} selected contact${contacts.length === 1 ? '' : 's'} as CSV.`, failed: [] });
  };

  const running = bulk.state === 'running';
  // Only what the role may do (dashboard/access.ts); downloading is reading.
  const mayEdit = can('contacts', 'change');
  const maySegment = can('segments', 'change');
  if (n === 0 && bulk.state === 'idle') return null;
  return (
    <section class="bulk" aria-labelledby="bulk-heading">
      <h2 id="bulk-heading" class="visually-hidden">
        Bulk actions
      </h2>
      <p class="bulk-count">
        <strong>{formatInteger(n)}</strong> selected{' '}
        {n > 0 && (
          <button type="button" class="link" onClick={props.clear} disabled={running}>
            Clear selection
          </button>
        )}
      </p>
      {n > 0 && (
        <div class="bulk-actions">
          {mayEdit && (
            <form onSubmit={addTag} class="inline-form">
              <label for="bulk-tag">Tag</label>
              <input id="bulk-tag" value={tag} maxLength={64} onInput={(e) => setTag(e.currentTarget.value)} aria-invalid={tagProblem ? 'true' : undefined} aria-describedby={tagProblem ? 'bulk-tag-problem' : undefined} />
              <button type="submit" disabled={running}>
                Add tag
              </button>
              {tagProblem && (
                <p id="bulk-tag-problem" class="field-error" role="alert">
                  {tagProblem}
                </p>
              )}
            </form>
          )}
          {maySegment && (
            <form onSubmit={addToSegment} class="inline-form">
              <label for="bulk-segment">Segment</label>
              <select id="bulk-segment" value={segment} onChange={(e) => setSegment(e.currentTarget.value)}>
                <option value="">Choose…</option>
                {props.segments?.map((s) => <option value={String(s.id)}>{s.name}</option>)}
              </select>
              <button type="submit" disabled={running || !segment}>
                Add to segment
              </button>
            </form>
          )}
          <button type="button" class="secondary" onClick={exportSelection} disabled={running}>
            Download selection (CSV)
          </button>
          {!mayEdit ? null : confirming ? (
            <div class="confirm" role="group" aria-labelledby="bulk-erase-q">
              <p id="bulk-erase-q">
                Erase {formatInteger(n)} contact{n === 1 ? '' : 's'} and everything stored about them? This cannot be undone.
              </p>
              <button type="button" class="danger" onClick={erase}>
                Erase {formatInteger(n)}
              </button>
              <button type="button" class="secondary" onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </div>
          ) : (
            <button type="button" class="secondary danger-text" onClick={() => setConfirming(true)} disabled={running}>
              Erase…
            </button>
          )}
        </div>
      )}
      <div role="status" class="bulk-status">
        {bulk.state === 'running' && (
          <>
            <span>
              {bulk.what}: {formatInteger(bulk.done)} of {formatInteger(bulk.total)}…
            </span>
            <progress max={bulk.total} value={bulk.done} aria-label={`${bulk.what} progress`} />
            <button type="button" class="secondary" onClick={() => (stop.current = true)}>
              Stop
            </button>
          </>
        )}
        {bulk.state === 'done' && <p class="saved">{bulk.ok}</p>}
      </div>
      {bulk.state === 'done' && bulk.failed.length > 0 && (
        <div class="error" role="alert">
          <p>
            {formatInteger(bulk.failed.length)} could not be changed:
          </p>
          <ul>
            {bulk.failed.slice(0, 20).map((f) => (
              <li>
                {f.who}: {f.message}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

function SortHeader(props: { s: (typeof SORTS)[number]; query: ListQuery; sortBy: (s: Sort) => void }) {
  const active = props.query.sort === props.s.key;
  const dir = active ? (props.query.order === 'asc' ? 'ascending' : 'descending') : undefined;
  return (
    <th scope="col" aria-sort={dir ?? 'none'}>
      <button type="button" class="sort" onClick={() => props.sortBy(props.s.key)}>
        {props.s.label}
        <span aria-hidden="true">{active ? (props.query.order === 'asc' ? ' ▲' : ' ▼') : ' ↕'}</span>
        <span class="visually-hidden">{active ? `, sorted ${dir}; sort ${dir === 'ascending' ? 'descending' : 'ascending'}` : ', sort'}</span>
      </button>
    </th>
  );
}

export default function Contacts() {
  const { query, route } = useLocation();
  const q = listQuery(query);
  const filterKey = JSON.stringify({ ...q, cursor: undefined });
  const key = JSON.stringify(q);
  const [version, setVersion] = useState(0);
  useEffect(() => void (document.title = 'Contacts · Leadline'), []);

  const list = useLoad(() => load(api.GET('/api/v1/contacts', { params: { query: q } })), `${key}#${version}`);
  const [stages, setStages] = useState<Stage[] | null>(null);
  const [segments, setSegments] = useState<Segment[] | null>(null);
  useEffect(() => {
    // Only for the filters and the stage column: the list does not wait for them.
    loadStages().then(setStages, () => setStages([]));
    loadSegments().then(setSegments, () => setSegments([]));
  }, []);
  const stageName = useMemo(() => new Map((stages ?? []).map((s) => [s.id, s.name])), [stages]);

  const [selected, setSelected] = useState(() => new Map<number, Contact>());
  const [, redraw] = useState(0);
  // A new filter is a new list: the selection was made in the old one.
  const lastFilter = useRef(filterKey);
  if (lastFilter.current !== filterKey) {
    lastFilter.current = filterKey;
    if (selected.size) setSelected(new Map());
  }

  const go = (changes: Record<string, string | undefined>, replace = false) => {
    const next: Record<string, string | undefined> = { ...query, ...changes };
    route(`/app/contacts${toSearch(next)}`, replace);
  };
  const apply = (f: Record<string, string>) => {
    const changes: Record<string, string | undefined> = { cursor: undefined };
    for (const k of FILTERS) if (k in f) changes[k] = f[k]?.trim() || undefined;
    // Typing refines one search: replace the history entry instead of stacking one per pause.
    go(changes, 'q' in f || 'tag' in f);
  };
  const sortBy = (s: Sort) => go({ sort: s, order: q.sort === s && q.order === 'desc' ? 'asc' : 'desc', cursor: undefined });
  const filtered = FILTERS.some((k) => query[k]);

  const nextPage = (next: string) => {
    let t = trail.get(filterKey) ?? [];
    const i = q.cursor ? t.indexOf(q.cursor) : -1;
    // Arrived at this page by a link: its own cursor starts the trail.
    if (q.cursor && i < 0) t = [q.cursor];
    trail.set(filterKey, [...t.slice(0, q.cursor ? Math.max(i, 0) + 1 : 0), next]);
    go({ cursor: next });
  };
  const prevPage = () => {
    const t = trail.get(filterKey) ?? [];
    const i = q.cursor ? t.indexOf(q.cursor) : -1;
    go({ cursor: i > 0 ? t[i - 1] : undefined });
  };

  const exportHref = `/api/v1/contacts/export.csv${toSearch({ ...q, cursor: undefined, limit: undefined })}`;
  const page = list.state === 'done' ? list.data : null;
  const pageIds = page?.data.map((c) => c.id) ?? [];
  const allOnPage = pageIds.length > 0 && pageIds.every((id) => selected.has(id));
  const someOnPage = pageIds.some((id) => selected.has(id));
  const toggle = (c: Contact, on: boolean) => {
    if (on) selected.set(c.id, c);
    else selected.delete(c.id);
    redraw((n) => n + 1);
  };

  return (
    <div class="contacts">
      <div class="title-row">
        <h1 tabIndex={-1}>Contacts</h1>
        {can('contacts', 'change') && (
          <a class="button secondary" href="/app/contacts/import">
            Import CSV
          </a>
        )}
      </div>
      <Filters query={query} stages={stages} segments={segments} apply={apply} />
      <BulkBar
        selected={selected}
        segments={segments}
        stages={stages}
        clear={() => setSelected(new Map())}
        changed={() => {
          redraw((n) => n + 1);
          setVersion((v) => v + 1);
        }}
      />
      <div class="list-tools">
        <p class="hint">
          {filtered ? 'Showing contacts that match the filters.' : 'Showing every contact.'} {q.q && <>Search finds emails and names that start with what you type.</>}
        </p>
        <div class="field inline">
          <label for="contacts-limit">Per page</label>
          <select id="contacts-limit" value={String(q.limit)} onChange={(e) => go({ limit: e.currentTarget.value, cursor: undefined })}>
            {PAGE_SIZES.map((n) => (
              <option value={String(n)}>{n}</option>
            ))}
          </select>
        </div>
        <a href={exportHref} download class="button secondary">
          Export {filtered ? 'matching' : 'all'} (CSV)
        </a>
      </div>
      <section aria-labelledby="contacts-table-caption" aria-busy={list.state === 'loading' ? 'true' : undefined}>
        {list.state === 'loading' && <Loading what="contacts" />}
        {list.state === 'error' && <ErrorMessage message={list.message} retry={list.retry} />}
        {page && page.data.length === 0 && (
          filtered ? (
            <Empty title="No contact matches these filters.">
              <p>
                Search matches the start of an email, first or last name. Try fewer filters, or{' '}
                <a href="/app/contacts">clear them all</a>.
              </p>
            </Empty>
          ) : q.cursor ? (
            <Empty title="No more contacts.">
              <p>
                <a href={`/app/contacts${toSearch({ ...query, cursor: undefined })}`}>Back to the first page</a>.
              </p>
            </Empty>
          ) : (
            <Empty title="No contacts yet.">
              <p>
                Contacts appear when a visitor submits a form with an email, when your site identifies a visitor, or through the API.
                {can('contacts', 'change') && (
                  <>
                    {' '}
                    To bring in a list you have, <a href="/app/contacts/import">import a CSV file</a>.
                  </>
                )}
              </p>
            </Empty>
          )
        )}
        {page && page.data.length > 0 && (
          <>
            <div class="table-wrap" role="region" aria-labelledby="contacts-table-caption" tabIndex={0}>
              <table class="contacts-table">
                <caption id="contacts-table-caption">
                  Contacts{q.cursor ? ' (a later page)' : ''}: {formatInteger(page.data.length)} shown
                </caption>
                <thead>
                  <tr>
                    <th scope="col" class="check">
                      <input
                        type="checkbox"
                        aria-label="Select every contact on this page"
                        checked={allOnPage}
                        indeterminate={someOnPage && !allOnPage}
                        onChange={(e) => {
                          for (const c of page.data) toggle(c, e.currentTarget.checked);
                        }}
                      />
                    </th>
                    <th scope="col">Contact</th>
                    <th scope="col" class="num">
                      Points
                    </th>
                    <th scope="col">Stage</th>
                    <th scope="col">Tags</th>
                    {SORTS.map((s) => (
                      <SortHeader s={s} query={q} sortBy={sortBy} />
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {page.data.map((c) => (
                    <tr class={selected.has(c.id) ? 'selected' : undefined}>
                      <td class="check">
                        <input type="checkbox" aria-label={`Select ${contactName(c)}`} checked={selected.has(c.id)} onChange={(e) => toggle(c, e.currentTarget.checked)} />
                      </td>
                      <th scope="row" class="who-cell">
                        <a href={`/app/contacts/${c.id}`}>{contactName(c)}</a>
                        {c.email && contactName(c) !== c.email && <span class="sub">{c.email}</span>}
                      </th>
                      <td class="num">{formatInteger(c.points)}</td>
                      <td>{c.stage_id === null ? '–' : (stageName.get(c.stage_id) ?? (stages ? `#${c.stage_id}` : '…'))}</td>
                      <td class="tags-cell">{c.tags.length ? c.tags.map((t) => <span class="tag">{t}</span>) : '–'}</td>
                      <td>{formatDateTime(c.created_at)}</td>
                      <td>{formatDateTime(c.updated_at)}</td>
                      <td>{c.last_active_at ? formatDateTime(c.last_active_at) : '–'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <nav class="pager" aria-label="Pages">
              <button type="button" class="secondary" disabled={!q.cursor} onClick={prevPage}>
                Previous page
              </button>
              {q.cursor && (
                <a href={`/app/contacts${toSearch({ ...query, cursor: undefined })}`} class="button secondary">
                  First page
                </a>
              )}
              <button type="button" class="secondary" disabled={!page.has_more || !page.next_cursor} onClick={() => page.next_cursor && nextPage(page.next_cursor)}>
                Next page
              </button>
            </nav>
          </>
        )}
      </section>
    </div>
  );
}
