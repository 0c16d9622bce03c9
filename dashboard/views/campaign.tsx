import { useLocation, useRoute } from 'preact-iso/router';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { can, refusal } from '../access';
import { api, load } from '../api/client';
import { loadLists, useReport, type Campaign } from '../campaigns/data';
import { emptyLists, partLabel, stepTitle, STATUS_LABELS, type Lists } from '../campaigns/describe';
import { Lifecycle, Passes } from '../campaigns/lifecycle';
import { canonical, emptyDefinition, mapProblems, noProblems, toTree, type Definition } from '../campaigns/model';
import { nodeDomId } from '../campaigns/node';
import { CampaignSettings, Panel } from '../campaigns/panel';
import { addDomId, CampaignTree, type Selection } from '../campaigns/tree';
import { CopyButton, Field, SaveStatus, send, useSaver, type SaveState } from '../ui/editing';
import { formatDateTime } from '../ui/format';
import { ErrorMessage, Loading, Refused } from '../ui/status';
import { useLoad } from '../ui/use-load';

// One campaign: the visual builder (sources, then the steps as a tree, a side panel to edit the
// selected step), save, the lifecycle (publish, pause, resume, archive) and the live counts of
// the published version on each step. Roles that may not change campaigns see it read-only.

/** A refusal whose every problem is shown at its step, source or goal says so, instead of the first path. */
function friendly(s: SaveState, what = 'saved'): SaveState {
  if (s.state !== 'error') return s;
  const fields = Object.keys(s.fields);
  if (!fields.length || !fields.every((f) => /^definition\.(steps|sources|goals)\.\d+/.test(f))) return s;
  return { ...s, message: `Not ${what}: ${fields.length === 1 ? 'one problem' : `${fields.length} problems`} to fix in the campaign, marked in red below.` };
}

/** The signing secret of a campaign just created, handed to the page that opens it (shown once). */
let createdSecret: { id: number; secret: string } | null = null;

export default function CampaignPage() {
  const { params } = useRoute();
  const mayChange = can('campaigns', 'change');
  if (params.id === 'new') {
    if (!mayChange)
      return (
        <section>
          <p class="crumbs">
            <a href="/app/campaigns">Campaigns</a>
          </p>
          <h1 tabIndex={-1}>New campaign</h1>
          <Refused message={refusal('campaigns', 'change')} />
        </section>
      );
    return <Loader id={null} />;
  }
  const id = /^[1-9]\d{0,15}$/.test(params.id ?? '') ? Number(params.id) : NaN;
  if (Number.isNaN(id))
    return (
      <section>
        <h1 tabIndex={-1}>Campaign not found</h1>
        <p>
          There is no campaign at this address. See <a href="/app/campaigns">all campaigns</a>.
        </p>
      </section>
    );
  return <Loader id={id} />;
}

function Loader({ id }: { id: number | null }) {
  const c = useLoad(() => (id ? load(api.GET('/api/v1/campaigns/{id}', { params: { path: { id } } })) : Promise.resolve(null)), String(id));
  const lists = useLoad(loadLists, 'lists');
  if (c.state === 'loading' || lists.state === 'loading') return <Loading what="the campaign" />;
  if (c.state === 'error')
    return (
      <section>
        <p class="crumbs">
          <a href="/app/campaigns">Campaigns</a>
        </p>
        <h1 tabIndex={-1}>Campaign</h1>
        <ErrorMessage message={c.message} retry={c.retry} />
      </section>
    );
  return (
    <>
      {lists.state === 'error' && <ErrorMessage message={`Lists for the pickers could not be loaded: ${lists.message}`} retry={lists.retry} />}
      <Builder key={c.data?.id ?? 'new'} campaign={c.data} lists={lists.state === 'done' ? lists.data : emptyLists()} />
    </>
  );
}

function Builder(props: { campaign: Campaign | null; lists: Lists }) {
  const { route, query } = useLocation();
  const [saved, setSaved] = useState(props.campaign);
  const [name, setName] = useState(props.campaign?.name ?? '');
  const [description, setDescription] = useState(props.campaign?.description ?? '');
  const [def, setDef] = useState<Definition>(props.campaign?.definition ?? emptyDefinition());
  const [selection, setSelection] = useState<Selection>(null);
  const [secret] = useState(() => (createdSecret && createdSecret.id === props.campaign?.id ? createdSecret.secret : null));
  const saver = useSaver();
  const life = useSaver();
  // The definition the server's last error paths count in (what was sent, or the stored copy it published).
  const sent = useRef<Definition>(def);
  const mayChange = can('campaigns', 'change');
  const readOnly = !mayChange || saved?.status === 'archived';
  const tree = useMemo(() => toTree(def), [def]);
  const { report, error: reportError, refresh } = useReport(saved?.id ?? null, saved !== null && saved.version !== null);
  const counts = useMemo(() => new Map((report?.steps ?? []).map((s) => [s.step_id, s])), [report]);
  const failed = saver.state === 'error' ? saver : life.state === 'error' ? life : null;
  const problems = failed ? mapProblems(sent.current, Object.entries(failed.fields).map(([field, message]) => ({ field, message }))) : noProblems();
  const dirty = !saved || name.trim() !== saved.name || (description.trim() || null) !== (saved.description || null) || canonical(def) !== canonical(saved.definition);

  useEffect(() => {
    createdSecret = null;
  }, []);
  useEffect(() => void (document.title = `${saved ? saved.name : 'New campaign'} · Campaigns · Leadline`), [saved?.name]);

  const save = async (): Promise<boolean> => {
    sent.current = def;
    const body = { name: name.trim(), description: description.trim() || null, definition: def };
    if (!saved) {
      const created = await saver.run(() => send(api.POST('/api/v1/campaigns', { body })), 'Campaign saved as a draft.');
      if (created) {
        createdSecret = { id: created.id, secret: created.secret };
        route(`/app/campaigns/${created.id}?saved=1`, true);
      }
      return !!created;
    }
    const updated = await saver.run(
      () => send(api.PATCH('/api/v1/campaigns/{id}', { params: { path: { id: saved.id } }, body })),
      saved.status === 'draft' ? 'Saved.' : 'Saved. Publish a new version for contacts to get these changes.',
    );
    if (updated) {
      setSaved(updated);
      setDef(updated.definition);
      life.reset();
    }
    return !!updated;
  };

  /** Closes the panel; the focus goes back to what opened it (or the tree, if that is gone). */
  const closePanel = () => {
    const sel = selection;
    setSelection(null);
    requestAnimationFrame(() => {
      const target =
        sel?.kind === 'step'
          ? document.querySelector<HTMLElement>(`#${nodeDomId(sel.id)} .cb-node-main`)
          : sel?.kind === 'add'
            ? document.getElementById(addDomId(sel.place))
            : sel?.kind === 'source'
              ? document.getElementById(`cb-source-${sel.index}`)
              : sel?.kind === 'new-source'
                ? document.getElementById('cb-add-source')
                : null;
      (target ?? document.querySelector<HTMLElement>('.cb-canvas'))?.focus();
    });
  };
  const showStep = (id: string) => {
    setSelection({ kind: 'step', id });
    document.getElementById(nodeDomId(id))?.scrollIntoView({ block: 'nearest', inline: 'center' });
  };

  const stepProblems = [...problems.steps.entries()];
  const c = saved;
  return (
    <section class="campaign-builder">
      <p class="crumbs">
        <a href="/app/campaigns">Campaigns</a>
      </p>
      <div class="title-row">
        <h1 tabIndex={-1}>{c ? c.name : 'New campaign'}</h1>
        {c && <span class={`campaign-status ${c.status}`}>{STATUS_LABELS[c.status]}</span>}
      </div>
      <p class="lead">
        {!c && 'Add a source and the steps, then save: the campaign is a draft until you publish it.'}
        {c?.status === 'draft' && 'Draft: nothing runs and nobody enters until you publish it.'}
        {c && c.status !== 'draft' && (
          <>
            Version {c.version} is {c.status === 'active' ? 'running' : c.status}
            {c.published_at && <> · first published {formatDateTime(c.published_at)}</>}. Edits here take effect when you publish a new version.
          </>
        )}
      </p>
      {!mayChange && (
        <Refused message={refusal('campaigns', 'change')}>
          <p>You can see the campaign and how many contacts are at each step. An admin can change your role in Settings → Users and roles.</p>
        </Refused>
      )}
      {secret && (
        <div class="secret" role="note">
          <p>
            Webhook steps of this campaign are signed with this secret. It is shown once: <code id="cb-secret">{secret}</code>
          </p>
          <CopyButton text={secret} label="Copy the secret" target="cb-secret" />
        </div>
      )}
      {!readOnly && (
        <div class="form-grid">
          <Field id="cb-name" label="Name" error={saver.fieldError('name')}>
            {(a) => <input {...a} type="text" required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
          </Field>
          <Field id="cb-description" label="Description (optional)" error={saver.fieldError('description')}>
            {(a) => <input {...a} type="text" maxLength={2000} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />}
          </Field>
        </div>
      )}
      {c && mayChange ? (
        <Lifecycle
          campaign={c}
          dirty={dirty}
          busy={saver.busy}
          saveFirst={save}
          onSaveClick={() => void save()}
          saver={life}
          onPublishing={() => {
            sent.current = def;
            saver.reset();
          }}
          onChanged={(u) => {
            setSaved({ ...c, ...u });
            refresh();
          }}
          onDeleted={() => route(`/app/campaigns?deleted=${encodeURIComponent(c.name)}`)}
        />
      ) : (
        !c && (
          <div class="actions cb-toolbar">
            <button type="button" onClick={() => void save()} disabled={saver.busy} aria-busy={saver.busy ? 'true' : undefined}>
              {saver.busy ? 'Saving…' : 'Create campaign'}
            </button>
          </div>
        )
      )}
      <SaveStatus status={query.saved === '1' && saver.state === 'idle' && life.state === 'idle' ? { state: 'saved', message: 'Campaign saved as a draft.' } : friendly(saver.status)} shown={['name', 'description', 'definition']} />
      <SaveStatus status={friendly(life.status, 'published')} shown={['definition']} />
      {stepProblems.length > 0 && (
        <div class="cb-problems">
          <p>
            {stepProblems.length === 1 ? 'One step needs' : `${stepProblems.length} steps need`} attention (marked in red below):
          </p>
          <ul>
            {stepProblems.map(([id, list]) => {
              const s = def.steps.find((x) => x.id === id);
              return (
                <li>
                  <button type="button" class="link" onClick={() => showStep(id)}>
                    {s ? `${stepTitle(s)} (${id})` : id}
                  </button>
                  : {list.map((p) => `${p.part ? `${partLabel(p.part)}: ` : ''}${p.message}`).join('; ')}
                </li>
              );
            })}
          </ul>
        </div>
      )}
      {problems.general.filter((g) => g.field !== 'name' && g.field !== 'description').length > 0 && (
        <ul class="cb-general-errors">
          {problems.general
            .filter((g) => g.field !== 'name' && g.field !== 'description')
            .map((g) => (
              <li class="field-error">{`${g.field.replace(/^definition\.?/, '') || 'Campaign'}: ${g.message}`}</li>
            ))}
        </ul>
      )}
      <Passes report={report} error={reportError} />
      <div class={`cb-layout${selection && !readOnly ? ' with-panel' : ''}`}>
        <CampaignTree def={def} tree={tree} lists={props.lists} counts={counts} problems={problems} selection={selection} onSelect={readOnly ? undefined : setSelection} />
        {selection && !readOnly && (
          <Panel selection={selection} def={def} lists={props.lists} problems={problems} campaignId={c?.id ?? null} onDef={setDef} onSelect={setSelection} onClose={closePanel} />
        )}
      </div>
      <CampaignSettings def={def} problems={problems} readOnly={readOnly} onDef={setDef} />
    </section>
  );
}
