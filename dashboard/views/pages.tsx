import { useLocation, useRoute } from 'preact-iso/router';
import { useEffect } from 'preact/hooks';
import { api, load } from '../api/client';
import { can, refusal } from '../access';
import { listAll } from '../forms/lists';
import { PageEditor, type Lists } from '../pages/editor';
import type { Page } from '../pages/model';
import { liveUrl, PreviewLink } from '../pages/preview';
import { allPages } from '../ui/editing';
import { formatDateTime } from '../ui/format';
import { Empty, ErrorMessage, Loading, Refused } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Landing pages: the list (status, address, the live page and a fresh preview link), and a
// page's editor (dashboard/pages/: head, sections, publish, and the page as the server renders it).

const allPagesList = () =>
  allPages<Page>((cursor) => load(api.GET('/api/v1/pages', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } })));

function PageList() {
  const { query } = useLocation();
  const pages = useLoad(async () => (await allPagesList()).sort((a, b) => b.updated_at.localeCompare(a.updated_at)), 'list');
  const editable = can('pages', 'change');
  useEffect(() => void (document.title = 'Landing pages · Leadline'), []);
  return (
    <section>
      <div class="title-row">
        <h1 tabIndex={-1}>Landing pages</h1>
        {editable && (
          <a class="button" href="/app/pages/new">
            New page
          </a>
        )}
      </div>
      {query.deleted && (
        <p class="status saved" role="status">
          Page “{query.deleted}” deleted.
        </p>
      )}
      <p class="lead">Pages this server hosts at /p/your-slug (or on your own domain): fast static HTML with your forms and the tracking tag built in.</p>
      <p>
        <a href="/app/slots">Slots: dynamic content on your own site’s pages</a>
      </p>
      {pages.state === 'loading' && <Loading what="landing pages" />}
      {pages.state === 'error' && <ErrorMessage message={pages.message} retry={pages.retry} />}
      {pages.state === 'done' &&
        (pages.data.length === 0 ? (
          <Empty title="No landing pages yet.">
            <p>{editable ? <><a href="/app/pages/new">Create your first page</a>: a hero, some text and a form, published in a minute.</> : 'A marketer or an admin can create one.'}</p>
          </Empty>
        ) : (
          <div class="table-wrap" role="region" aria-label="Landing pages" tabIndex={0}>
            <table class="pages-table">
              <thead>
                <tr>
                  <th scope="col">Title</th>
                  <th scope="col">Address</th>
                  <th scope="col">Status</th>
                  <th scope="col">Updated</th>
                  <th scope="col">Links</th>
                </tr>
              </thead>
              <tbody>
                {pages.data.map((p) => (
                  <tr>
                    <th scope="row">
                      <a href={`/app/pages/${p.id}`}>{p.title}</a>
                    </th>
                    <td>
                      {p.host ? `${p.host}` : ''}
                      {p.path}
                    </td>
                    <td>{p.status === 'published' ? <span class="badge good">Published</span> : <span class="badge">Draft</span>}</td>
                    <td>{formatDateTime(p.updated_at)}</td>
                    <td>
                      <span class="actions">
                        {p.status === 'published' && (
                          <a href={liveUrl(p)} target="_blank" rel="noopener">
                            Live page<span class="sr-only"> of {p.title} (new tab)</span>
                          </a>
                        )}
                        {editable && <PreviewLink page={p} compact />}
                      </span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </section>
  );
}

async function loadLists(): Promise<Lists> {
  // A list that cannot be read is empty rather than blocking the editor.
  const [sites, forms] = await Promise.all([listAll<Lists['sites'][number]>('/api/v1/sites').catch(() => []), listAll<Lists['forms'][number]>('/api/v1/forms').catch(() => [])]);
  return { sites, forms };
}

function EditPage({ id }: { id: number | null }) {
  const { route, query } = useLocation();
  const page = useLoad(() => (id ? load(api.GET('/api/v1/pages/{id}', { params: { path: { id } } })) : Promise.resolve(null)), String(id));
  const lists = useLoad(loadLists, 'lists');
  if (page.state === 'loading' || lists.state === 'loading') return <Loading what="the page" />;
  if (page.state === 'error') return <ErrorMessage message={page.message} retry={page.retry} />;
  return (
    <PageEditor
      key={page.data?.id ?? 'new'}
      page={page.data}
      lists={lists.state === 'done' ? lists.data : { sites: [], forms: [] }}
      justSaved={query.saved === '1'}
      onCreated={(p) => route(`/app/pages/${p.id}?saved=1`, true)}
      onDeleted={(p) => route(`/app/pages?deleted=${encodeURIComponent(p.title)}`)}
    />
  );
}

export default function Pages() {
  const { params } = useRoute();
  if (!params.id) return <PageList />;
  if (params.id === 'new') {
    return can('pages', 'change') ? (
      <EditPage id={null} />
    ) : (
      <section>
        <h1 tabIndex={-1}>New landing page</h1>
        <Refused message={refusal('pages', 'change')} />
      </section>
    );
  }
  const id = Number(params.id);
  if (!Number.isSafeInteger(id) || id < 1) return <ErrorMessage message="There is no landing page at this address." />;
  return <EditPage id={id} />;
}
