// A page's preview: the HTML the server renders for it, drawn in the editor. Those who may change
// pages see the draft as it is now, unsaved edits included (POST /api/v1/pages/preview, a moment
// after the last edit, checked as a save would be: a draft the server refuses keeps the last good
// render, with its reasons); the others the page as saved, through its published address. And
// fresh preview links to share.
import { useState } from 'preact/hooks';
import { api } from '../api/client';
import { can } from '../access';
import { CopyButton, send } from '../ui/editing';
import { formatDateTime } from '../ui/format';
import { ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';
import { PreviewProblems, useServerPreview } from '../preview/use-server-preview';
import { PageFrame } from './frame';
import { where, type Body, type Page } from './model';

/** Where the page answers for visitors: its own host's address, or this server's. */
export const liveUrl = (p: Page) => (p.host ? `https://${p.host}${p.path}` : `${location.origin}${p.path}`);

const previewLink = (id: number, expires_in: number) => send(api.POST('/api/v1/pages/{id}/preview-link', { params: { path: { id } }, body: { expires_in } }));

/**
 * The rendered page's HTML. A preview link answers on this server whatever the page's host (the
 * token names the page), so its path is asked here, where the dashboard may fetch.
 */
async function renderedHtml(p: Page): Promise<string> {
  const path = can('pages', 'change') ? ((u) => u.pathname + u.search)(new URL((await previewLink(p.id, 300)).url)) : p.path;
  const r = await fetch(path, { credentials: 'same-origin', headers: { accept: 'text/html' } });
  if (!r.ok) throw new Error(`The page could not be rendered: the server answered ${r.status}.`);
  return r.text();
}

const NOTE = 'Scripts do not run here; the form is its no-JavaScript version, and submitting it sends nothing.';

/** "sections.2.columns.1.0.label" as a person reads it: "Section 3, column 2, item 1, label:". */
const fieldLabel = (field: string) => {
  const i = /^sections\.(\d+)/.exec(field)?.[1];
  return i === undefined ? `${field.replace(/_/g, ' ')}:` : `Section ${Number(i) + 1}${field === `sections.${i}` ? '' : `, ${where(field)}`}:`;
};

export function PagePreview({ page, body, changed }: { page: Page | null; body: Body; changed: boolean }) {
  return (
    <aside class="preview-column" aria-labelledby="page-preview-heading">
      <h2 id="page-preview-heading">Preview</h2>
      {can('page-previews', 'change') ? <DraftPreview body={body} /> : <SavedPreview page={page} changed={changed} />}
      {page && can('pages', 'change') && <PreviewLink page={page} />}
    </aside>
  );
}

/** The draft as it is now, rendered by the server a moment after the last edit (nothing is saved). */
function DraftPreview({ body }: { body: Body }) {
  const key = JSON.stringify(body);
  // Each answer remembers the draft it is for: from the edit on, until the answer for it, the preview is updating.
  const ask = async () => ({ key, html: (await send(api.POST('/api/v1/pages/preview', { body, parseAs: 'text' }))) as string });
  const preview = useServerPreview(ask, key, 400);
  const updating = preview.pending || (!preview.message && preview.data?.key !== key);
  const [blocked, setBlocked] = useState(0);
  return (
    <>
      <p class="hint">
        The page as the server renders it, unsaved changes included; personalisation tokens show their defaults. {NOTE}
      </p>
      <p class="hint preview-state" role="status">
        {updating ? 'Preview updating…' : ''}
      </p>
      {preview.data && <PageFrame html={preview.data.html} title={`Preview of ${body.title || 'the page'}`} onReady={setBlocked} />}
      <PreviewProblems preview={preview} label={fieldLabel} />
      <BlockedImages n={blocked} />
    </>
  );
}

/** For roles that cannot change pages: the page as saved and published on this server. */
function SavedPreview({ page, changed }: { page: Page | null; changed: boolean }) {
  const shown = page && (can('pages', 'change') || (page.status === 'published' && !page.host)) ? page : null;
  const html = useLoad(() => (shown ? renderedHtml(shown) : Promise.resolve('')), shown ? `${shown.id}:${shown.version}` : '');
  const [blocked, setBlocked] = useState(0);
  if (!page) return <p class="hint">Create the page to see it here as visitors will.</p>;
  if (!shown) return <p class="hint">{page.status === 'published' ? 'This page lives on its own domain: open it there.' : 'A draft: a marketer can show it with a preview link.'}</p>;
  return (
    <>
      <p class="hint">
        The page as the server renders it{can('pages', 'change') ? ', as last saved' : ''}. {NOTE}
      </p>
      {changed && (
        <p class="hint warning" role="status">
          Unsaved changes are not in the preview yet: save to see them.
        </p>
      )}
      {html.state === 'loading' && <Loading what="the preview" />}
      {html.state === 'error' && <ErrorMessage message={html.message} retry={html.retry} />}
      {html.state === 'done' && <PageFrame html={html.data} title={`Preview of ${page.title}`} onReady={setBlocked} />}
      <BlockedImages n={blocked} />
    </>
  );
}

const BlockedImages = ({ n }: { n: number }) =>
  n > 0 ? (
    <p class="hint">
      {n} {n === 1 ? 'image' : 'images'} from other sites not shown here (the dashboard loads nothing from elsewhere); visitors see them.
    </p>
  ) : null;

/** A fresh signed link to the page as it is (draft or not), to open or send to someone; it expires in a day. */
export function PreviewLink({ page, compact = false }: { page: Page; compact?: boolean }) {
  const [link, setLink] = useState<{ url: string; expires_at: string } | null>(null);
  const [problem, setProblem] = useState('');
  const [busy, setBusy] = useState(false);
  const make = async () => {
    setBusy(true);
    setProblem('');
    try {
      setLink(await previewLink(page.id, 86_400));
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e));
    }
    setBusy(false);
  };
  const id = `preview-link-${page.id}`;
  return (
    <div class={compact ? 'preview-link compact' : 'preview-link'}>
      {link ? (
        <span class="actions">
          <a href={link.url} target="_blank" rel="noopener" id={id} title={`Expires ${formatDateTime(link.expires_at)}`}>
            Open preview<span class="sr-only"> of {page.title} (new tab)</span>
          </a>
          {!compact && <span class="hint">Expires {formatDateTime(link.expires_at)}.</span>}
          <CopyButton text={link.url} label={compact ? 'Copy' : 'Copy link'} target={id} />
        </span>
      ) : (
        <button type="button" class={`secondary${compact ? ' small' : ''}`} onClick={make} disabled={busy}>
          {busy ? 'Making a link…' : 'Preview link'}
          <span class="sr-only"> for {page.title}</span>
        </button>
      )}
      {problem && (
        <p class="field-error" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
