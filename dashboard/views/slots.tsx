import { useLocation, useRoute } from 'preact-iso/router';
import { useEffect } from 'preact/hooks';
import { api, load } from '../api/client';
import { can, refusal } from '../access';
import { listAll } from '../forms/lists';
import { SlotEditor, type SlotLists } from '../slots/editor';
import type { Slot } from '../slots/model';
import { allPages } from '../ui/editing';
import { formatDateTime } from '../ui/format';
import { Empty, ErrorMessage, Loading, Refused } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Slots (dynamic web content): the list, and a slot's editor (dashboard/slots/: the snippet,
// the ordered rules, the stats). Reached from the landing pages' list.

type S = SlotLists;

async function loadLists(): Promise<SlotLists> {
  // A list that cannot be read is empty rather than blocking the editor.
  const [sites, segments, stages] = await Promise.all([
    listAll<S['sites'][number]>('/api/v1/sites').catch(() => []),
    listAll<S['segments'][number]>('/api/v1/segments').catch(() => []),
    allPages<S['stages'][number]>((cursor) => load(api.GET('/api/v1/stages', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }))).catch(() => []),
  ]);
  return { sites, segments, stages };
}

function SlotList() {
  const { query } = useLocation();
  const slots = useLoad(() => allPages<Slot>((cursor) => load(api.GET('/api/v1/slots', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }))), 'list');
  const lists = useLoad(loadLists, 'lists');
  const editable = can('slots', 'change');
  useEffect(() => void (document.title = 'Slots · Leadline'), []);
  const siteName = (id: number) => (lists.state === 'done' ? lists.data.sites.find((s) => s.id === id)?.name : undefined) ?? `Site ${id}`;
  return (
    <section>
      <p class="crumbs">
        <a href="/app/pages">Landing pages</a>
      </p>
      <div class="title-row">
        <h1 tabIndex={-1}>Slots</h1>
        {editable && (
          <a class="button" href="/app/slots/new">
            New slot
          </a>
        )}
      </div>
      {query.deleted && (
        <p class="status saved" role="status">
          Slot “{query.deleted}” deleted.
        </p>
      )}
      <p class="lead">Places on your own site’s pages whose content changes with the visitor: by segment, stage, or known or anonymous.</p>
      {slots.state === 'loading' && <Loading what="slots" />}
      {slots.state === 'error' && <ErrorMessage message={slots.message} retry={slots.retry} />}
      {slots.state === 'done' &&
        (slots.data.length === 0 ? (
          <Empty title="No slots yet.">
            <p>{editable ? <><a href="/app/slots/new">Create your first slot</a>: a name, the snippet for your page, and who sees what.</> : 'A marketer or an admin can create one.'}</p>
          </Empty>
        ) : (
          <div class="table-wrap" role="region" aria-label="Slots" tabIndex={0}>
            <table class="slots-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Site</th>
                  <th scope="col">Rules</th>
                  <th scope="col">Status</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {slots.data.map((s) => (
                  <tr>
                    <th scope="row">
                      <a href={`/app/slots/${s.id}`}>{s.name}</a>
                    </th>
                    <td>{siteName(s.site_id)}</td>
                    <td class="num">{s.rules.length}</td>
                    <td>{s.active ? <span class="badge good">Active</span> : <span class="badge">Inactive</span>}</td>
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

function EditSlot({ id }: { id: number | null }) {
  const { route, query } = useLocation();
  const slot = useLoad(() => (id ? load(api.GET('/api/v1/slots/{id}', { params: { path: { id } } })) : Promise.resolve(null)), String(id));
  const lists = useLoad(loadLists, 'lists');
  if (slot.state === 'loading' || lists.state === 'loading') return <Loading what="the slot" />;
  if (slot.state === 'error') return <ErrorMessage message={slot.message} retry={slot.retry} />;
  return (
    <SlotEditor
      key={slot.data?.id ?? 'new'}
      slot={slot.data}
      lists={lists.state === 'done' ? lists.data : { sites: [], segments: [], stages: [] }}
      justSaved={query.saved === '1'}
      onCreated={(s) => route(`/app/slots/${s.id}?saved=1`, true)}
      onDeleted={(s) => route(`/app/slots?deleted=${encodeURIComponent(s.name)}`)}
    />
  );
}

export default function Slots() {
  const { params } = useRoute();
  if (!params.id) return <SlotList />;
  if (params.id === 'new') {
    return can('slots', 'change') ? (
      <EditSlot id={null} />
    ) : (
      <section>
        <h1 tabIndex={-1}>New slot</h1>
        <Refused message={refusal('slots', 'change')} />
      </section>
    );
  }
  const id = Number(params.id);
  if (!Number.isSafeInteger(id) || id < 1) return <ErrorMessage message="There is no slot at this address." />;
  return <EditSlot id={id} />;
}
