import { useLocation, useRoute } from 'preact-iso/router';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { can, refusal } from '../access';
import { api, load } from '../api/client';
import type { components } from '../api/schema';
import { Builder, type Catalogue, type NodeErrors } from '../segments/builder';
import { complete, countConditions, emptyGroup, locate, toFilter, toModel, type Filter, type Node } from '../segments/filter-model';
import { customField } from '../segments/vocabulary';
import { allPages, ApiProblem, Confirm, Field, SaveStatus, send, useSaver } from '../ui/editing';
import { formatDateTime, formatInteger } from '../ui/format';
import { Empty, ErrorMessage, Loading, Refused } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Segments: the list with member counts, and the editor — name, description, kind, and for a
// dynamic segment the visual filter builder with a live count of the contacts it matches
// (POST /api/v1/segments/preview, debounced).

type Segment = components['schemas']['Segment'];

const listAll = <T,>(path: '/api/v1/segments' | '/api/v1/fields' | '/api/v1/stages' | '/api/v1/forms' | '/api/v1/assets' | '/api/v1/emails' | '/api/v1/tags', max = 1000) =>
  allPages<T>((cursor) => load(api.GET(path, { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }) as never), max);

function SegmentList() {
  const { query } = useLocation();
  const list = useLoad(() => listAll<Segment>('/api/v1/segments'), 'list');
  const mayChange = can('segments', 'change');
  return (
    <section class="segments">
      <div class="title-row">
        <h1 tabIndex={-1}>Segments</h1>
        {mayChange && (
          <a class="button" href="/app/segments/new">
            New segment
          </a>
        )}
      </div>
      {query.deleted && (
        <p class="status saved" role="status">
          Segment “{query.deleted}” deleted.
        </p>
      )}
      <p class="lead">Saved filters over contacts’ fields, tags, points, stage and behaviour. Dynamic segments keep their members current as contacts change.</p>
      {list.state === 'loading' && <Loading what="segments" />}
      {list.state === 'error' && <ErrorMessage message={list.message} retry={list.retry} />}
      {list.state === 'done' &&
        (list.data.length === 0 ? (
          <Empty title="No segments yet.">
            <p>
              Create one to group contacts — for example “visited pricing twice in 30 days and has over 50 points”. Campaigns, broadcasts and reports can
              then target it. {mayChange ? <a href="/app/segments/new">Create your first segment</a> : 'A marketer or an admin can create one'}.
            </p>
          </Empty>
        ) : (
          <div class="table-wrap" role="region" aria-label="Segments" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Kind</th>
                  <th scope="col" class="num">
                    Members
                  </th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {list.data.map((s) => (
                  <tr>
                    <th scope="row">
                      {mayChange ? <a href={`/app/segments/${s.id}`}>{s.name}</a> : s.name}
                      {s.broken && (
                        <span class="badge bad" title={s.broken}>
                          {' '}
                          needs attention
                        </span>
                      )}
                      {s.description && <span class="hint block">{s.description}</span>}
                    </th>
                    <td>{s.kind === 'dynamic' ? 'Dynamic (filter)' : 'Static (by hand)'}</td>
                    <td class="num">{formatInteger(s.members)}</td>
                    <td>{formatDateTime(s.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </section>
  );
}

async function loadCatalogue(): Promise<Catalogue> {
  // Each list fills one select; one that fails leaves its select with what the filter names.
  const get = async <T,>(p: Promise<T[]>): Promise<T[]> => p.catch(() => []);
  const [fields, stages, segments, forms, assets, emails, tags] = await Promise.all([
    get(listAll<components['schemas']['Field']>('/api/v1/fields')),
    get(listAll<components['schemas']['Stage']>('/api/v1/stages')),
    get(listAll<Segment>('/api/v1/segments')),
    get(listAll<components['schemas']['Form']>('/api/v1/forms')),
    get(listAll<components['schemas']['Asset']>('/api/v1/assets')),
    get(listAll<components['schemas']['Email']>('/api/v1/emails')),
    get(listAll<components['schemas']['Tag']>('/api/v1/tags', 500)),
  ]);
  return {
    customFields: fields.map(customField),
    stages: stages.map((s) => ({ id: s.id, name: s.name })),
    segments: segments.map((s) => ({ id: s.id, name: s.name })),
    forms: forms.map((f) => ({ id: f.id, name: f.name })),
    assets: assets.map((a) => ({ id: a.id, name: a.title || a.filename })),
    emails: emails.map((e) => ({ id: e.id, name: e.name })),
    tags: tags.map((t) => t.name),
  };
}

type Count = { state: 'idle' | 'counting' } | { state: 'done'; count: number; key: string } | { state: 'error'; message: string; details: { field: string; message: string }[] };

/** The live count: the filter previewed a moment after the last edit; answers to older filters are dropped. */
function useLiveCount(root: Node | null): Count {
  const [count, setCount] = useState<Count>({ state: 'idle' });
  const key = root && complete(root) ? JSON.stringify(toFilter(root)) : '';
  const latest = useRef('');
  useEffect(() => {
    latest.current = key;
    if (!key) return setCount({ state: 'idle' });
    setCount((c) => (c.state === 'done' && c.key === key ? c : { state: 'counting' }));
    const t = setTimeout(async () => {
      try {
        const r = await send(api.POST('/api/v1/segments/preview', { body: { filter: JSON.parse(key) as Filter } }));
        if (latest.current === key) setCount({ state: 'done', count: r.count, key });
      } catch (e) {
        if (latest.current === key) setCount({ state: 'error', message: (e as Error).message, details: e instanceof ApiProblem ? e.details : [] });
      }
    }, 400);
    return () => clearTimeout(t);
  }, [key]);
  return count;
}

/** Field errors ("filter.all.1.value") by the node they name. */
function nodeErrors(root: Node | null, details: { field: string; message: string }[]): NodeErrors {
  const out: NodeErrors = new Map();
  if (!root) return out;
  for (const d of details) {
    const at = locate(root, d.field);
    if (!at) continue;
    const list = out.get(at.node.id) ?? [];
    list.push({ part: at.part, message: at.part ? `${at.part}: ${d.message}` : d.message });
    out.set(at.node.id, list);
  }
  return out;
}

function SegmentEditor({ id }: { id: number | null }) {
  const { route, query } = useLocation();
  const seg = useLoad(() => (id ? load(api.GET('/api/v1/segments/{id}', { params: { path: { id } } })) : Promise.resolve(null)), String(id));
  const cat = useLoad(loadCatalogue, 'catalogue');
  if (seg.state === 'loading' || cat.state === 'loading') return <Loading what="the segment" />;
  if (seg.state === 'error') return <ErrorMessage message={seg.message} retry={seg.retry} />;
  const catalogue: Catalogue =
    cat.state === 'done' ? { ...cat.data, segments: cat.data.segments.filter((s) => s.id !== id) } : { customFields: [], stages: [], segments: [], forms: [], assets: [], emails: [], tags: [] };
  return (
    <>
      {cat.state === 'error' && <ErrorMessage message={`Lists for the selects could not be loaded: ${cat.message}`} retry={cat.retry} />}
      <EditorForm key={seg.data?.id ?? 'new'} segment={seg.data} catalogue={catalogue} justSaved={query.saved === '1'} onCreated={(s) => route(`/app/segments/${s.id}?saved=1`, true)} onDeleted={(s) => route(`/app/segments?deleted=${encodeURIComponent(s.name)}`)} />
    </>
  );
}

function EditorForm(props: { segment: Segment | null; catalogue: Catalogue; justSaved: boolean; onCreated: (s: Segment) => void; onDeleted: (s: Segment) => void }) {
  const s = props.segment;
  const [name, setName] = useState(s?.name ?? '');
  const [description, setDescription] = useState(s?.description ?? '');
  const [kind, setKind] = useState<'dynamic' | 'static'>(s?.kind ?? 'dynamic');
  const [root, setRoot] = useState<Node>(() => (s?.filter ? toModel(s.filter) : emptyGroup()));
  const [members, setMembers] = useState(s?.members ?? null);
  const [confirming, setConfirming] = useState(false);
  const saver = useSaver();
  const deleter = useSaver();
  const dynamic = kind === 'dynamic';
  const count = useLiveCount(dynamic ? root : null);
  const filter = useMemo(() => toFilter(root), [root]);
  const changed = !s || name !== s.name || (description || null) !== (s.description || null) || (dynamic && JSON.stringify(filter) !== JSON.stringify(s.filter));

  useEffect(() => void (document.title = `${s ? s.name : 'New segment'} · Segments · Leadline`), [s?.name]);

  // Errors from saving beat those from counting: both name nodes by their path.
  const saveDetails = saver.state === 'error' ? Object.entries(saver.fields).map(([field, message]) => ({ field, message })) : [];
  const errors = nodeErrors(root, saveDetails.some((d) => d.field.startsWith('filter')) ? saveDetails : count.state === 'error' ? count.details : []);
  const filterError = errors.size === 0 ? (saveDetails.find((d) => d.field === 'filter')?.message ?? (count.state === 'error' && !count.details.length ? count.message : undefined)) : undefined;

  const save = async (e: Event) => {
    e.preventDefault();
    const body = { name: name.trim(), description: description.trim() || null };
    if (!s) {
      const created = await saver.run(() => send(api.POST('/api/v1/segments', { body: { ...body, kind, ...(dynamic ? { filter } : {}) } })), 'Segment saved.');
      if (created) props.onCreated(created);
      return;
    }
    const updated = await saver.run(
      () => send(api.PATCH('/api/v1/segments/{id}', { params: { path: { id: s.id } }, body: { ...body, ...(dynamic ? { filter } : {}) } })),
      (u) => `Saved. ${formatInteger(u.members)} ${u.members === 1 ? 'member' : 'members'} now.`,
    );
    if (updated) {
      Object.assign(s, updated);
      setMembers(updated.members);
    }
  };

  const remove = async () => {
    if (!s) return;
    const ok = await deleter.run(() => send(api.DELETE('/api/v1/segments/{id}', { params: { path: { id: s.id } } })), 'Deleted.');
    setConfirming(false);
    if (ok) props.onDeleted(s);
  };

  return (
    <section class="segment-editor">
      <p class="crumbs">
        <a href="/app/segments">Segments</a>
      </p>
      <h1 tabIndex={-1}>{s ? s.name : 'New segment'}</h1>
      {s && (
        <p class="lead">
          {s.kind === 'dynamic' ? 'Dynamic segment' : 'Static segment'} · {formatInteger(members ?? 0)} {members === 1 ? 'member' : 'members'}
          {s.built_at && <> · built {formatDateTime(s.built_at)}</>}
        </p>
      )}
      {s?.broken && (
        <div class="error" role="alert">
          <p>This segment’s filter no longer works, so its members are not kept current: {s.broken}</p>
        </div>
      )}
      <form class="stack" onSubmit={save} noValidate>
        <div class="form-grid">
          <Field id="seg-name" label="Name" error={saver.fieldError('name')}>
            {(a) => <input {...a} type="text" required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
          </Field>
          <Field id="seg-description" label="Description (optional)" error={saver.fieldError('description')}>
            {(a) => <input {...a} type="text" maxLength={2000} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />}
          </Field>
        </div>
        {!s && (
          <fieldset class="choice">
            <legend>Kind</legend>
            <label class="check">
              <input type="radio" name="seg-kind" value="dynamic" checked={dynamic} onChange={() => setKind('dynamic')} /> Dynamic: members are the contacts matching a filter
            </label>
            <label class="check">
              <input type="radio" name="seg-kind" value="static" checked={!dynamic} onChange={() => setKind('static')} /> Static: a list you keep by hand (add contacts from their page or the API)
            </label>
          </fieldset>
        )}
        {dynamic && (
          <section aria-labelledby="filter-heading" class="filter-section">
            <h2 id="filter-heading">Filter</h2>
            <LiveCount count={count} empty={countConditions(root) === 0} />
            {filterError && (
              <p class="field-error" id="filter-error">
                {filterError}
              </p>
            )}
            <Builder root={root} onChange={setRoot} catalogue={props.catalogue} errors={errors} />
            <details class="json">
              <summary>The filter as JSON (for the API)</summary>
              <pre>
                <code>{JSON.stringify(filter, null, 2)}</code>
              </pre>
            </details>
          </section>
        )}
        <div class="actions">
          <button type="submit" disabled={saver.busy} aria-busy={saver.busy ? 'true' : undefined}>
            {saver.busy ? 'Saving…' : s ? 'Save changes' : 'Create segment'}
          </button>
          {s && !changed && saver.state === 'idle' && <span class="hint">No unsaved changes.</span>}
          {s && !confirming && (
            <button type="button" class="secondary danger-text" onClick={() => setConfirming(true)}>
              Delete segment
            </button>
          )}
        </div>
        <SaveStatus status={props.justSaved && saver.state === 'idle' ? { state: 'saved', message: 'Segment saved.' } : saver.status} shown={['name', 'description', ...(errors.size || filterError ? saveDetails.map((d) => d.field) : [])]} />
        {s && confirming && (
          <Confirm question={<>Delete “{s.name}”? Its {formatInteger(members ?? 0)} memberships go with it; contacts stay.</>} yes="Delete" busy={deleter.busy} onYes={remove} onNo={() => setConfirming(false)} />
        )}
        {deleter.state === 'error' && <ErrorMessage message={deleter.message} />}
      </form>
    </section>
  );
}

function LiveCount({ count, empty }: { count: Count; empty: boolean }) {
  return (
    <p class="live-count" role="status" aria-live="polite">
      {count.state === 'idle' && (empty ? 'Add a condition to see how many contacts match.' : 'Finish the empty groups to see how many contacts match.')}
      {count.state === 'counting' && (
        <>
          <span class="spinner" aria-hidden="true" /> Counting…
        </>
      )}
      {count.state === 'done' && (
        <>
          <strong class="count" data-count={count.count}>
            {formatInteger(count.count)}
          </strong>{' '}
          {count.count === 1 ? 'contact matches' : 'contacts match'} this filter now.
        </>
      )}
      {count.state === 'error' && <>Cannot count yet: {count.message}</>}
    </p>
  );
}

export default function Segments() {
  const { params } = useRoute();
  useEffect(() => {
    if (!params.id) document.title = 'Segments · Leadline';
  }, [params.id]);
  if (!params.id) return <SegmentList />;
  if (!can('segments', 'change')) {
    // The editor is for roles that may change segments; the server would refuse the save anyway.
    return (
      <section class="segment-editor">
        <p class="crumbs">
          <a href="/app/segments">Segments</a>
        </p>
        <h1 tabIndex={-1}>{params.id === 'new' ? 'New segment' : 'Edit segment'}</h1>
        <Refused message={refusal('segments', 'change')}>
          <p>
            You can see every segment and how many members it has in the <a href="/app/segments">list of segments</a>. An admin can change your role in
            Settings → Users and roles.
          </p>
        </Refused>
      </section>
    );
  }
  if (params.id === 'new') return <SegmentEditor id={null} />;
  const id = /^[1-9]\d{0,15}$/.test(params.id) ? Number(params.id) : NaN;
  if (Number.isNaN(id)) {
    return (
      <section>
        <h1 tabIndex={-1}>Segment not found</h1>
        <p>
          There is no segment at this address. See <a href="/app/segments">all segments</a>.
        </p>
      </section>
    );
  }
  return <SegmentEditor id={id} />;
}
