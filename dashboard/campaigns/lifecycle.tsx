// The campaign's toolbar: save, and the lifecycle as the API has it — publish (the working copy
// becomes the next version; unsaved changes are saved first), pause, resume, archive (asking
// first: every contact in it leaves) and delete (drafts and archived campaigns) — each saying
// what happened, or the server's reason.
import { useState } from 'preact/hooks';
import { api } from '../api/client';
import { Confirm, send, useSaver } from '../ui/editing';
import { formatInteger } from '../ui/format';
import type { Campaign, Report } from './data';

export function Lifecycle(props: {
  campaign: Campaign;
  /** Saves unsaved changes; resolves false when the save failed (its errors are shown). */
  saveFirst: () => Promise<boolean>;
  dirty: boolean;
  busy: boolean;
  onSaveClick: () => void;
  onChanged: (c: Campaign) => void;
  onDeleted: () => void;
  /** Before a publish: the working copy the server will check is the one saved now. */
  onPublishing: () => void;
  saver: ReturnType<typeof useSaver>;
}) {
  const c = props.campaign;
  const life = props.saver;
  const [confirm, setConfirm] = useState<'archive' | 'delete' | null>(null);
  const path = { params: { path: { id: c.id } } };
  const publish = async () => {
    if (props.dirty && !(await props.saveFirst())) return;
    props.onPublishing();
    const r = await life.run(
      () => send(api.POST('/api/v1/campaigns/{id}/publish', path)),
      (p) =>
        `Published version ${p.version}.${p.status === 'paused' ? ' The campaign is paused: resume it to run the new version.' : ''} ${formatInteger(p.enrolled)} ${p.enrolled === 1 ? 'contact' : 'contacts'} entered now.`,
    );
    if (r) props.onChanged(r);
  };
  const status = async (what: 'pause' | 'resume' | 'archive', done: string) => {
    const call = () =>
      what === 'pause' ? api.POST('/api/v1/campaigns/{id}/pause', path) : what === 'resume' ? api.POST('/api/v1/campaigns/{id}/resume', path) : api.POST('/api/v1/campaigns/{id}/archive', path);
    const r = await life.run(() => send(call()), done);
    setConfirm(null);
    if (r) props.onChanged(r);
  };
  const remove = async () => {
    const r = await life.run(() => send(api.DELETE('/api/v1/campaigns/{id}', path)), 'Deleted.');
    setConfirm(null);
    if (r) props.onDeleted();
  };
  const archived = c.status === 'archived';
  return (
    <div class="cb-toolbar" role="group" aria-label="Campaign actions">
      <div class="actions">
        {!archived && (
          <button type="button" onClick={props.onSaveClick} disabled={props.busy} aria-busy={props.busy ? 'true' : undefined}>
            {props.busy ? 'Saving…' : 'Save changes'}
          </button>
        )}
        {!archived && (
          <button type="button" class={c.status === 'draft' ? '' : 'secondary'} onClick={publish} disabled={life.busy || props.busy}>
            {c.status === 'draft' ? 'Publish' : props.dirty ? 'Save and publish a new version' : 'Publish a new version'}
          </button>
        )}
        {c.status === 'active' && (
          <button type="button" class="secondary" onClick={() => status('pause', 'Paused: no step runs and nobody new enters until you resume.')} disabled={life.busy}>
            Pause
          </button>
        )}
        {c.status === 'paused' && (
          <button type="button" class="secondary" onClick={() => status('resume', 'Resumed: contacts go on where they stopped.')} disabled={life.busy}>
            Resume
          </button>
        )}
        {!archived && c.status !== 'draft' && !confirm && (
          <button type="button" class="secondary danger-text" onClick={() => setConfirm('archive')}>
            Archive
          </button>
        )}
        {(archived || c.status === 'draft') && !confirm && (
          <button type="button" class="secondary danger-text" onClick={() => setConfirm('delete')}>
            Delete campaign
          </button>
        )}
        {!archived && <span class="hint">{props.dirty ? 'Unsaved changes.' : 'No unsaved changes.'}</span>}
      </div>
      {confirm === 'archive' && (
        <Confirm
          question={<>Archive “{c.name}”? Every contact in it leaves now and nothing in it runs again. An archived campaign cannot be published again.</>}
          yes="Archive"
          busy={life.busy}
          onYes={() => status('archive', 'Archived: every contact left the campaign.')}
          onNo={() => setConfirm(null)}
        />
      )}
      {confirm === 'delete' && (
        <Confirm question={<>Delete “{c.name}”? Its versions and history go with it.</>} yes="Delete" busy={life.busy} onYes={remove} onNo={() => setConfirm(null)} />
      )}
    </div>
  );
}

/** The passes of the published versions: entered, in it now, finished, converted. */
export function Passes({ report, error }: { report: Report | null; error: string | null }) {
  if (error) return <p class="hint">The counts could not be read: {error}</p>;
  if (!report) return null;
  const p = report.passes;
  return (
    <dl class="cb-passes" aria-label="Contacts in this campaign">
      <div>
        <dt>In it now</dt>
        <dd data-active={p.active}>{formatInteger(p.active)}</dd>
      </div>
      <div>
        <dt>Entered</dt>
        <dd>{formatInteger(p.entered)}</dd>
      </div>
      <div>
        <dt>Completed</dt>
        <dd>{formatInteger(p.completed)}</dd>
      </div>
      <div>
        <dt>Exited</dt>
        <dd>{formatInteger(p.exited)}</dd>
      </div>
      <div>
        <dt>Converted</dt>
        <dd>{formatInteger(p.converted)}</dd>
      </div>
    </dl>
  );
}
