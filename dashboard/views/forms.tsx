import { useLocation, useRoute } from 'preact-iso/router';
import { useEffect } from 'preact/hooks';
import { api, load } from '../api/client';
import { can, refusal } from '../access';
import { Editor } from '../forms/editor';
import { listAll, loadLists } from '../forms/lists';
import type { Form } from '../forms/model';
import { formatDateTime, formatInteger } from '../ui/format';
import { Empty, ErrorMessage, Loading, Refused } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Forms: the list with submission counts, and a form's page (dashboard/forms/: the editor beside
// a live preview drawn by the real widget chunk, the embed snippet, the funnel, the submissions).

function FormList() {
  const { query } = useLocation();
  const forms = useLoad(() => listAll<Form>('/api/v1/forms'), 'list');
  const editable = can('forms', 'change');
  useEffect(() => void (document.title = 'Forms · Leadline'), []);
  return (
    <section>
      <div class="title-row">
        <h1 tabIndex={-1}>Forms</h1>
        {editable && (
          <a class="button" href="/app/forms/new">
            New form
          </a>
        )}
      </div>
      {query.deleted && (
        <p class="status saved" role="status">
          Form “{query.deleted}” deleted.
        </p>
      )}
      <p class="lead">Forms on your pages turn visitors into contacts. Each one shows through the script tag, with a preview here of exactly what visitors see.</p>
      {forms.state === 'loading' && <Loading what="forms" />}
      {forms.state === 'error' && <ErrorMessage message={forms.message} retry={forms.retry} />}
      {forms.state === 'done' &&
        (forms.data.length === 0 ? (
          <Empty title="No forms yet.">
            <p>{editable ? <><a href="/app/forms/new">Create your first form</a>, then paste its snippet on a page of your site.</> : 'A marketer or an admin can create one.'}</p>
          </Empty>
        ) : (
          <div class="table-wrap" role="region" aria-label="Forms" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">
                    Submissions
                  </th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {forms.data.map((f) => (
                  <tr>
                    <th scope="row">
                      <a href={`/app/forms/${f.id}`}>{f.name}</a>
                    </th>
                    <td>{f.active ? 'Active' : 'Inactive'}</td>
                    <td class="num">{formatInteger(f.submissions)}</td>
                    <td>{formatDateTime(f.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </section>
  );
}

function FormPage({ id }: { id: number | null }) {
  const { route, query } = useLocation();
  const form = useLoad(() => (id ? load(api.GET('/api/v1/forms/{id}', { params: { path: { id } } })) : Promise.resolve(null)), String(id));
  const lists = useLoad(() => loadLists(['sites', 'segments', 'assets']), 'lists');
  if (form.state === 'loading' || lists.state === 'loading') return <Loading what="the form" />;
  if (form.state === 'error') return <ErrorMessage message={form.message} retry={form.retry} />;
  const l = lists.state === 'done' ? lists.data : { sites: [], segments: [], assets: [], forms: [] };
  return (
    <Editor
      key={form.data?.id ?? 'new'}
      form={form.data}
      lists={l}
      justSaved={query.saved === '1'}
      onCreated={(f) => route(`/app/forms/${f.id}?saved=1`, true)}
      onDeleted={(f) => route(`/app/forms?deleted=${encodeURIComponent(f.name)}`)}
    />
  );
}

export default function Forms() {
  const { params } = useRoute();
  if (!params.id) return <FormList />;
  if (params.id === 'new') {
    return can('forms', 'change') ? (
      <FormPage id={null} />
    ) : (
      <section>
        <h1 tabIndex={-1}>New form</h1>
        <Refused message={refusal('forms', 'change')} />
      </section>
    );
  }
  const id = Number(params.id);
  if (!Number.isSafeInteger(id) || id < 1) return <ErrorMessage message="There is no form at this address." />;
  return <FormPage id={id} />;
}
