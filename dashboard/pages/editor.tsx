// The landing page editor: the head (address, title, description, Open Graph image, language,
// site and own domain), the sections, save (the server's 422 shown on the input it names),
// publish and unpublish, delete; beside it the page as the server renders it.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/client';
import type { components } from '../api/schema';
import { can, refusal } from '../access';
import { ApiProblem, Confirm, Field, SaveStatus, send, useSaver } from '../ui/editing';
import { formatDateTime } from '../ui/format';
import { Refused } from '../ui/status';
import { useLeaveGuard } from '../ui/leave-guard';
import { bodyOf, draftOf, fingerprint, HEAD_FIELDS, type Draft, type Page } from './model';
import { liveUrl, PagePreview } from './preview';
import { SectionsEditor } from './sections';
import { AbTestPanel } from './ab-test';

type S = components['schemas'];
export interface Lists {
  sites: S['Site'][];
  forms: S['Form'][];
}

/** A taken address is a 409 without a field: it is the slug's (or the host's) to fix. */
const slugConflict = (e: unknown) => {
  if (e instanceof ApiProblem && e.status === 409) throw new ApiProblem(e.message, [{ field: 'slug', message: e.message }], 409);
  throw e;
};

export function PageEditor(props: { page: Page | null; lists: Lists; justSaved: boolean; onCreated: (p: Page) => void; onDeleted: (p: Page) => void }) {
  const [page, setPage] = useState(props.page);
  const [d, setD] = useState<Draft>(() => draftOf(props.page, String(props.lists.sites[0]?.id ?? '')));
  const [saved, setSaved] = useState(() => fingerprint(d));
  const [confirming, setConfirming] = useState(false);
  const saver = useSaver();
  const publisher = useSaver();
  const deleter = useSaver();
  const editable = can('pages', 'change');
  const errors = saver.state === 'error' ? saver.fields : {};
  const set = (p: Partial<Draft>) => setD((x) => ({ ...x, ...p }));
  const dirty = editable && fingerprint(d) !== saved;
  useLeaveGuard(dirty);
  const title = page ? page.title : 'New landing page';
  useEffect(() => void (document.title = `${title} · Landing pages · Leadline`), [title]);

  /** Saves the draft; resolves with the saved page, or undefined when the server refused it. */
  const save = async (): Promise<Page | undefined> => {
    const body = bodyOf(d);
    const sent = fingerprint(d);
    if (!page) {
      const created = await saver.run(() => send(api.POST('/api/v1/pages', { body })).catch(slugConflict), 'Page saved as a draft.');
      if (created) {
        setSaved(sent);
        props.onCreated(created);
      }
      return created;
    }
    const updated = await saver.run(() => send(api.PATCH('/api/v1/pages/{id}', { params: { path: { id: page.id } }, body })).catch(slugConflict), 'Saved.');
    if (updated) {
      setPage(updated);
      setSaved(sent);
    }
    return updated;
  };
  const onSubmit = (e: Event) => {
    e.preventDefault();
    void save();
  };
  const publish = async (on: boolean) => {
    if (!page) return;
    // What is published is what is saved: unsaved changes are saved first, or nothing is published.
    if (on && dirty && !(await save())) return;
    const id = page.id;
    const call = on ? api.POST('/api/v1/pages/{id}/publish', { params: { path: { id } } }) : api.POST('/api/v1/pages/{id}/unpublish', { params: { path: { id } } });
    const r = await publisher.run(() => send(call), on ? 'Published: the page is live.' : 'Unpublished: the page is a draft again (404 for visitors).');
    if (r) setPage(r);
  };
  const remove = async () => {
    if (!page) return;
    const ok = await deleter.run(() => send(api.DELETE('/api/v1/pages/{id}', { params: { path: { id: page.id } } })), 'Deleted.');
    if (ok !== undefined) {
      setSaved(fingerprint(d));
      props.onDeleted(page);
    }
  };

  /** The A/B panel changed the page: its settings (the draft stays), or its content (a winner: the draft is the page's). */
  const onAbPage = (p: Page, content: boolean) => {
    setPage(p);
    if (!content) return;
    const next = draftOf(p);
    setD(next);
    setSaved(fingerprint(next));
  };

  const sites = props.lists.sites;
  return (
    <section class="page-editor">
      <p class="crumbs">
        <a href="/app/pages">Landing pages</a>
      </p>
      <div class="title-row">
        <h1 tabIndex={-1}>{title}</h1>
        {page && (
          <p class="page-state">
            <span class={`badge ${page.status === 'published' ? 'good' : ''}`}>{page.status === 'published' ? 'Published' : 'Draft'}</span>
            {page.status === 'published' && (
              <>
                {' '}
                at{' '}
                <a href={liveUrl(page)} target="_blank" rel="noopener">
                  {liveUrl(page)}
                  <span class="sr-only"> (new tab)</span>
                </a>
              </>
            )}
          </p>
        )}
      </div>
      {props.justSaved && saver.state === 'idle' && (
        <p class="status saved" role="status">
          Page saved as a draft.
        </p>
      )}
      {!editable && <Refused message={refusal('pages', 'change')} />}
      <div class="editor-columns">
        <form class="stack" noValidate onSubmit={onSubmit} aria-label="Landing page">
          <fieldset class="bare stack" disabled={!editable}>
            <div class="card stack">
              <h2>Page</h2>
              <div class="form-grid">
                <Field id="page-title" label="Title" hint="In the browser tab and in search results." error={errors.title}>
                  {(a) => <input {...a} value={d.title} onInput={(x) => set({ title: x.currentTarget.value })} />}
                </Field>
                <Field id="page-slug" label="Address (slug)" hint={`/p/${d.slug.trim() || 'your-slug'} — a-z, 0-9 and "-". A new slug keeps the old address as a redirect.`} error={errors.slug}>
                  {(a) => <input {...a} value={d.slug} autocomplete="off" spellcheck={false} onInput={(x) => set({ slug: x.currentTarget.value })} />}
                </Field>
                <Field id="page-description" label="Meta description" hint="Under the title in search results and link previews." error={errors.description}>
                  {(a) => <textarea {...a} rows={2} value={d.description} onInput={(x) => set({ description: x.currentTarget.value })} />}
                </Field>
                <Field id="page-og-image" label="Open Graph image (optional)" hint="https://… shown when the page is shared." error={errors.og_image}>
                  {(a) => <input {...a} type="url" value={d.og_image} onInput={(x) => set({ og_image: x.currentTarget.value })} />}
                </Field>
                <Field id="page-language" label="Language" hint="A tag such as en, de or pt-BR." error={errors.language}>
                  {(a) => <input {...a} value={d.language} autocomplete="off" spellcheck={false} onInput={(x) => set({ language: x.currentTarget.value })} />}
                </Field>
                <Field id="page-site" label="Site" hint={sites.length ? 'Its tracking tag and forms are on the page.' : 'No sites yet: add one in Settings → Sites.'} error={errors.site_id}>
                  {(a) => (
                    <select {...a} value={d.site_id} onChange={(x) => set({ site_id: x.currentTarget.value })}>
                      {!sites.some((s) => String(s.id) === d.site_id) && <option value={d.site_id}>{d.site_id ? `Site ${d.site_id}` : 'Choose a site…'}</option>}
                      {sites.map((s) => (
                        <option value={String(s.id)}>{s.name}</option>
                      ))}
                    </select>
                  )}
                </Field>
                <Field
                  id="page-host"
                  label="Own domain (optional)"
                  hint="A host name such as pages.example.com, pointed at this server: the page answers there only. Empty: on this server’s address."
                  error={errors.host}
                >
                  {(a) => <input {...a} value={d.host} autocomplete="off" spellcheck={false} placeholder="pages.example.com" onInput={(x) => set({ host: x.currentTarget.value })} />}
                </Field>
              </div>
            </div>

            <SectionsEditor d={d} set={set} errors={errors} forms={props.lists.forms} />
          </fieldset>

          {editable && (
            <div class="actions">
              <button type="submit" disabled={saver.busy}>
                {page ? 'Save page' : 'Create page'}
              </button>
              {page && page.status === 'draft' && (
                <button type="button" class="secondary" disabled={saver.busy || publisher.busy} onClick={() => void publish(true)}>
                  {dirty ? 'Save and publish' : 'Publish'}
                </button>
              )}
              {page && page.status === 'published' && (
                <button type="button" class="secondary" disabled={publisher.busy} onClick={() => void publish(false)}>
                  Unpublish
                </button>
              )}
              {page && !confirming && (
                <button type="button" class="secondary danger-text" onClick={() => setConfirming(true)}>
                  Delete page
                </button>
              )}
              {dirty && <span class="hint">Unsaved changes{page?.status === 'published' ? ': saving them changes the live page at once' : ''}.</span>}
            </div>
          )}
          {confirming && page && (
            <Confirm
              question={`Delete “${page.title}”? Its address and old addresses answer 404 from then on.`}
              yes="Delete page"
              busy={deleter.busy}
              onYes={remove}
              onNo={() => setConfirming(false)}
            />
          )}
          <SaveStatus status={saver.status} shown={[...HEAD_FIELDS, ...d.sections.map((_, i) => `sections.${i}`)]} />
          <SaveStatus status={publisher.status} />
          <SaveStatus status={deleter.status} />
          {page && (
            <p class="hint">
              Version {page.version}, updated {formatDateTime(page.updated_at)}
              {page.published_at ? `, first published ${formatDateTime(page.published_at)}` : ''}.
            </p>
          )}
        </form>
        <PagePreview page={page} body={bodyOf(d)} changed={dirty} />
      </div>
      {page && <AbTestPanel page={page} forms={props.lists.forms} dirty={dirty} onPage={onAbPage} />}
    </section>
  );
}
