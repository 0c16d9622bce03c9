import { useLocation, useRoute } from 'preact-iso/router';
import { useEffect } from 'preact/hooks';
import { api, load, loadJson } from '../api/client';
import { can, refusal } from '../access';
import { Editor } from '../focus/editor';
import { typeName, type FocusItem } from '../focus/model';
import { listAll, loadLists } from '../forms/lists';
import { formatInteger, formatPercent } from '../ui/format';
import { Empty, ErrorMessage, Loading, Refused } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Focus items (pop-ups, bars, slide-ins, full screens): the list with the last 30 days' views
// and conversions (the focus-items report), and an item's page (dashboard/focus/: the editor
// beside a live preview drawn by the real widget chunk, how it gets on a site, its stats).

const KIND_NAMES = { notice: 'Notice', link: 'Link', form: 'Form' } as const;

/** Views and conversions per item over the report's default period (30 days), summed over variants. */
async function totals(): Promise<Map<number, { views: number; conversions: number }>> {
  const report = await loadJson(api.GET('/api/v1/reports/focus-items'));
  const out = new Map<number, { views: number; conversions: number }>();
  for (const r of report.rows) {
    if (r.focus_id === null) continue;
    const t = out.get(r.focus_id) ?? { views: 0, conversions: 0 };
    out.set(r.focus_id, { views: t.views + (r.views ?? 0), conversions: t.conversions + (r.conversions ?? 0) });
  }
  return out;
}

function FocusList() {
  const { query } = useLocation();
  const items = useLoad(() => listAll<FocusItem>('/api/v1/focus-items'), 'list');
  const numbers = useLoad(totals, 'totals');
  const editable = can('focus-items', 'change');
  useEffect(() => void (document.title = 'Focus items · Leadline'), []);
  const n = numbers.state === 'done' ? numbers.data : null;
  return (
    <section>
      <div class="title-row">
        <h1 tabIndex={-1}>Focus items</h1>
        {editable && (
          <a class="button" href="/app/focus-items/new">
            New focus item
          </a>
        )}
      </div>
      {query.deleted && (
        <p class="status saved" role="status">
          Focus item “{query.deleted}” deleted.
        </p>
      )}
      <p class="lead">Pop-ups, bars and slide-ins that show on your pages through the script tag, to the visitors you choose, with a notice, a link or a form.</p>
      {items.state === 'loading' && <Loading what="focus items" />}
      {items.state === 'error' && <ErrorMessage message={items.message} retry={items.retry} />}
      {items.state === 'done' &&
        (items.data.length === 0 ? (
          <Empty title="No focus items yet.">
            <p>{editable ? <><a href="/app/focus-items/new">Create your first focus item</a>: it shows on every page that carries your site’s script tag.</> : 'A marketer or an admin can create one.'}</p>
          </Empty>
        ) : (
          <>
            <div class="table-wrap" role="region" aria-label="Focus items" tabIndex={0}>
              <table class="focus-list">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Type</th>
                    <th scope="col">Shows</th>
                    <th scope="col">Status</th>
                    <th scope="col" class="num">
                      Views
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
                  {items.data.map((f) => {
                    const c = n?.get(f.id) ?? { views: 0, conversions: 0 };
                    return (
                      <tr data-id={f.id}>
                        <th scope="row">
                          <a href={`/app/focus-items/${f.id}`}>{f.name}</a>
                        </th>
                        <td>{typeName(f.style.type)}</td>
                        <td>{KIND_NAMES[f.content.kind]}</td>
                        <td>{f.active ? 'Active' : 'Inactive'}</td>
                        <td class="num">{n ? formatInteger(c.views) : '–'}</td>
                        <td class="num">{n ? formatInteger(c.conversions) : '–'}</td>
                        <td class="num">{n && c.views ? formatPercent(c.conversions / c.views) : '–'}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            <p class="hint">Views and conversions of the last 30 days{numbers.state === 'error' ? ` could not be loaded: ${numbers.message}` : ''}. A conversion is a click on a notice’s or link’s button, or a form submitted.</p>
          </>
        ))}
    </section>
  );
}

function FocusPage({ id }: { id: number | null }) {
  const { route, query } = useLocation();
  const item = useLoad(() => (id ? load(api.GET('/api/v1/focus-items/{id}', { params: { path: { id } } })) : Promise.resolve(null)), String(id));
  const lists = useLoad(() => loadLists(['sites', 'segments', 'forms']), 'lists');
  if (item.state === 'loading' || lists.state === 'loading') return <Loading what="the focus item" />;
  if (item.state === 'error') return <ErrorMessage message={item.message} retry={item.retry} />;
  const l = lists.state === 'done' ? lists.data : { sites: [], segments: [], assets: [], forms: [] };
  return (
    <Editor
      key={item.data?.id ?? 'new'}
      item={item.data}
      lists={l}
      justSaved={query.saved === '1'}
      onCreated={(f) => route(`/app/focus-items/${f.id}?saved=1`, true)}
      onDeleted={(f) => route(`/app/focus-items?deleted=${encodeURIComponent(f.name)}`)}
    />
  );
}

export default function FocusItems() {
  const { params } = useRoute();
  if (!params.id) return <FocusList />;
  if (params.id === 'new') {
    return can('focus-items', 'change') ? (
      <FocusPage id={null} />
    ) : (
      <section>
        <h1 tabIndex={-1}>New focus item</h1>
        <Refused message={refusal('focus-items', 'change')} />
      </section>
    );
  }
  const id = Number(params.id);
  if (!Number.isSafeInteger(id) || id < 1) return <ErrorMessage message="There is no focus item at this address." />;
  return <FocusPage id={id} />;
}
