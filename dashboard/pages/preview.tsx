// A page's preview: the HTML the server renders for it (through a signed preview link, so a
// draft shows too), drawn in the editor after each save; and fresh preview links to share.
import { useState } from 'preact/hooks';
import { api } from '../api/client';
import { can } from '../access';
import { CopyButton, send } from '../ui/editing';
import { formatDateTime } from '../ui/format';
import { ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';
import { PageFrame } from './frame';
import type { Page } from './model';

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

export function PagePreview({ page, changed }: { page: Page | null; changed: boolean }) {
  // Read-only roles cannot ask for preview links: they see the published page, when it is on this server.
  const shown = page && (can('pages', 'change') || (page.status === 'published' && !page.host)) ? page : null;
  const html = useLoad(() => (shown ? renderedHtml(shown) : Promise.resolve('')), shown ? `${shown.id}:${shown.version}` : '');
  const [blocked, setBlocked] = useState(0);
  return (
    <aside class="preview-column" aria-labelledby="page-preview-heading">
      <h2 id="page-preview-heading">Preview</h2>
      {!page ? (
        <p class="hint">Create the page to see it here as visitors will.</p>
      ) : !shown ? (
        <p class="hint">{page.status === 'published' ? 'This page lives on its own domain: open it there.' : 'A draft: a marketer can show it with a preview link.'}</p>
      ) : (
        <>
          <p class="hint">
            The page as the server renders it{can('pages', 'change') ? ', as last saved' : ''}. Scripts do not run here; the form is its no-JavaScript version, and
            submitting it sends nothing.
          </p>
          {changed && (
            <p class="hint warning" role="status">
              Unsaved changes are not in the preview yet: save to see them.
            </p>
          )}
          {html.state === 'loading' && <Loading what="the preview" />}
          {html.state === 'error' && <ErrorMessage message={html.message} retry={html.retry} />}
          {html.state === 'done' && <PageFrame html={html.data} title={`Preview of ${page.title}`} onReady={setBlocked} />}
          {blocked > 0 && (
            <p class="hint">
              {blocked} {blocked === 1 ? 'image' : 'images'} from other sites not shown here (the dashboard loads nothing from elsewhere); visitors see them.
            </p>
          )}
        </>
      )}
      {page && can('pages', 'change') && <PreviewLink page={page} />}
    </aside>
  );
}

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
