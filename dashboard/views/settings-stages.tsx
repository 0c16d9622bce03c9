import { useState } from 'preact/hooks';
import { api, load } from '../api/client';
import type { components } from '../api/schema';
import { SettingsFrame } from '../settings/frame';
import { allPages, Confirm, Field, SaveStatus, send, useSaver } from '../ui/editing';
import { formatInteger } from '../ui/format';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Settings → Stages: the funnel in order (position), which stage makes a lead marketing-qualified,
// create, rename, move up and down, delete.

type Stage = components['schemas']['Stage'];

const byPosition = (a: Stage, b: Stage) => a.position - b.position || a.id - b.id;
const toNumber = (t: string) => (t.trim() !== '' && Number.isFinite(Number(t)) ? Number(t) : (t as unknown as number));

function StageForm(props: { idPrefix: string; initial?: Stage; nextPosition: number; submit: string; onSaved: (s: Stage) => void; onCancel?: () => void }) {
  const [name, setName] = useState(props.initial?.name ?? '');
  const [position, setPosition] = useState(String(props.initial?.position ?? props.nextPosition));
  const [mql, setMql] = useState(props.initial?.is_mql ?? false);
  const saver = useSaver();
  const id = (n: string) => `${props.idPrefix}-${n}`;
  return (
    <form
      class="stack"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const body = { name: name.trim(), position: toNumber(position), is_mql: mql };
        const s = await saver.run(
          () => send(props.initial ? api.PATCH('/api/v1/stages/{id}', { params: { path: { id: props.initial.id } }, body }) : api.POST('/api/v1/stages', { body })),
          'Saved.',
        );
        if (s) {
          if (!props.initial) setName('');
          props.onSaved(s);
        }
      }}
    >
      <div class="form-grid">
        <Field id={id('name')} label="Name" error={saver.fieldError('name')}>
          {(a) => <input {...a} type="text" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <Field id={id('position')} label="Position" hint="Stages are shown and counted in this order (0–10,000)." error={saver.fieldError('position')}>
          {(a) => <input {...a} type="number" min={0} max={10000} class="narrow" value={position} onInput={(e) => setPosition(e.currentTarget.value)} />}
        </Field>
      </div>
      <label class="check" for={id('mql')}>
        <input id={id('mql')} type="checkbox" checked={mql} onChange={(e) => setMql(e.currentTarget.checked)} /> Reaching this stage makes a lead marketing-qualified (MQL)
      </label>
      <div class="actions">
        <button type="submit" disabled={saver.busy}>
          {saver.busy ? 'Saving…' : props.submit}
        </button>
        {props.onCancel && (
          <button type="button" class="secondary" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
      <SaveStatus status={saver.status} shown={['name', 'position']} />
    </form>
  );
}

export default function StagesSettings() {
  const list = useLoad(() => allPages<Stage>((cursor) => load(api.GET('/api/v1/stages', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }))), 'stages');
  const [stages, setStages] = useState<Stage[] | null>(null);
  const [editing, setEditing] = useState<number | null>(null);
  const [deleting, setDeleting] = useState<Stage | null>(null);
  const act = useSaver();
  const shown = (stages ?? (list.state === 'done' ? list.data : null))?.slice().sort(byPosition) ?? null;
  const put = (s: Stage) => setStages([...(shown ?? []).filter((x) => x.id !== s.id), s]);

  // Moving swaps positions with the neighbour (equal positions: the neighbour's plus or minus one).
  const move = async (i: number, dir: -1 | 1) => {
    if (!shown) return;
    const a = shown[i]!;
    const b = shown[i + dir]!;
    const pa = b.position === a.position ? a.position + dir : b.position;
    const pb = b.position === a.position ? a.position : a.position;
    await act.run(async () => {
      const [na, nb] = await Promise.all([
        send(api.PATCH('/api/v1/stages/{id}', { params: { path: { id: a.id } }, body: { position: Math.max(0, pa) } })),
        send(api.PATCH('/api/v1/stages/{id}', { params: { path: { id: b.id } }, body: { position: Math.max(0, pb) } })),
      ]);
      setStages(shown.map((x) => (x.id === na.id ? na : x.id === nb.id ? nb : x)));
    }, `“${a.name}” moved ${dir < 0 ? 'up' : 'down'}.`);
  };

  return (
    <SettingsFrame title="Stages" intro="Contacts move through the stages by point triggers, campaigns, won deals, sales or the API. The funnel report counts them in this order.">
      <div class="card">
        <h2>Add a stage</h2>
        <StageForm idPrefix="new-stage" nextPosition={shown?.length ? shown[shown.length - 1]!.position + 1 : 0} submit="Add stage" onSaved={put} />
      </div>
      <h2>The funnel</h2>
      {list.state === 'loading' && <Loading what="stages" />}
      {list.state === 'error' && <ErrorMessage message={list.message} retry={list.retry} />}
      <div aria-live="polite">{act.state === 'saved' && <p class="saved">{act.message}</p>}</div>
      {act.state === 'error' && <ErrorMessage message={act.message} />}
      {deleting && (
        <Confirm
          question={<>Delete the stage “{deleting.name}”? Its {formatInteger(deleting.contacts)} contacts are left without a stage.</>}
          yes="Delete stage"
          busy={act.busy}
          onNo={() => setDeleting(null)}
          onYes={async () => {
            const d = deleting;
            if (await act.run(() => send(api.DELETE('/api/v1/stages/{id}', { params: { path: { id: d.id } } })), `Stage “${d.name}” deleted.`)) setStages((shown ?? []).filter((x) => x.id !== d.id));
            setDeleting(null);
          }}
        />
      )}
      {shown &&
        (shown.length === 0 ? (
          <Empty title="No stages.">
            <p>Add the stages of your funnel above, e.g. Lead, MQL (marked marketing-qualified), SQL, Customer.</p>
          </Empty>
        ) : (
          <ol class="card-list">
            {shown.map((s, i) => (
              <li class="card" key={s.id}>
                {editing === s.id ? (
                  <StageForm
                    idPrefix={`stage-${s.id}`}
                    initial={s}
                    nextPosition={s.position}
                    submit="Save changes"
                    onSaved={(n) => {
                      put(n);
                      setEditing(null);
                    }}
                    onCancel={() => setEditing(null)}
                  />
                ) : (
                  <div class="row-between">
                    <div>
                      <h3>
                        {s.name} {s.is_mql && <span class="badge good">MQL</span>}
                      </h3>
                      <p class="hint">
                        Position {s.position} · {formatInteger(s.contacts)} {s.contacts === 1 ? 'contact' : 'contacts'}
                      </p>
                    </div>
                    <div class="actions">
                      <button type="button" class="secondary small" disabled={i === 0 || act.busy} onClick={() => move(i, -1)} aria-label={`Move up ${s.name}`}>
                        Move up
                      </button>
                      <button type="button" class="secondary small" disabled={i === shown.length - 1 || act.busy} onClick={() => move(i, 1)} aria-label={`Move down ${s.name}`}>
                        Move down
                      </button>
                      <button type="button" class="secondary small" onClick={() => setEditing(s.id)} aria-label={`Edit ${s.name}`}>
                        Edit
                      </button>
                      <button type="button" class="secondary small danger-text" onClick={() => (act.reset(), setDeleting(s))} aria-label={`Delete ${s.name}`}>
                        Delete
                      </button>
                    </div>
                  </div>
                )}
              </li>
            ))}
          </ol>
        ))}
    </SettingsFrame>
  );
}
