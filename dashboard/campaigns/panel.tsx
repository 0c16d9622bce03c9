// The builder's side panel: what is selected in the tree — a step's settings, a source, or the
// menu of steps to add at a "+" — with the focus moved to its heading when it opens, and Escape
// or "Close" to go back to the tree. Also the campaign-wide settings (re-entry, goals).
import { useEffect, useRef } from 'preact/hooks';
import { Field } from '../ui/editing';
import { ACTION_LABELS, EVENT_LABELS, SOURCE_LABELS, STEP_HINTS, STEP_LABELS, stepTitle, type Lists } from './describe';
import { IdPicker, IntField, TextField } from './inputs';
import { ACTION_TYPES, freshId, insertStep, newStep, partError, removeBranch, removeStep, replaceStep, type Definition, type Problems, type Source, type StepType } from './model';
import { StepSettings } from './step-panel';
import type { Selection } from './tree';

export interface PanelProps {
  selection: Exclude<Selection, null>;
  def: Definition;
  lists: Lists;
  problems: Problems;
  campaignId: number | null;
  onDef: (d: Definition) => void;
  onSelect: (s: Selection) => void;
  /** Closes the panel, the focus going back to what opened it. */
  onClose: () => void;
}

export function Panel(props: PanelProps) {
  const { selection: sel, def } = props;
  const heading = useRef<HTMLHeadingElement>(null);
  const key = sel.kind === 'step' ? `s:${sel.id}` : sel.kind === 'source' ? `src:${sel.index}` : sel.kind === 'add' ? `add:${sel.place.from}:${sel.place.exit}` : 'new-source';
  useEffect(() => heading.current?.focus(), [key]);
  const step = sel.kind === 'step' ? def.steps.find((s) => s.id === sel.id) : undefined;
  const source = sel.kind === 'source' ? def.sources?.[sel.index] : undefined;
  const title = step ? `${stepTitle(step)}` : source ? 'Source' : sel.kind === 'add' ? 'Add a step' : sel.kind === 'new-source' ? 'Add a source' : 'Nothing selected';
  return (
    <aside
      class="cb-panel"
      aria-labelledby="cb-panel-title"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          props.onClose();
        }
      }}
    >
      <div class="row-between">
        <h2 id="cb-panel-title" tabIndex={-1} ref={heading}>
          {title}
        </h2>
        <button type="button" class="secondary small" onClick={props.onClose}>
          Close
        </button>
      </div>
      {step && (
        <StepSettings
          key={step.id}
          step={step}
          def={def}
          lists={props.lists}
          problems={props.problems.steps.get(step.id)}
          campaignId={props.campaignId}
          onChange={(s) => props.onDef(replaceStep(def, step.id, s))}
          onDelete={() => {
            props.onDef(removeStep(def, step.id));
            props.onClose();
          }}
          onSplitRemove={(i) => props.onDef(removeBranch(def, step.id, i))}
        />
      )}
      {sel.kind === 'step' && !step && <p>This step is gone.</p>}
      {sel.kind === 'add' && <AddMenu {...props} place={sel.place} />}
      {sel.kind === 'new-source' && <NewSource {...props} />}
      {source && sel.kind === 'source' && <SourceSettings {...props} index={sel.index} source={source} />}
    </aside>
  );
}

function AddMenu(props: PanelProps & { place: { from: string | null; exit?: string } }) {
  const add = (kind: StepType | (typeof ACTION_TYPES)[number]) => {
    const id = freshId(props.def, kind);
    props.onDef(insertStep(props.def, props.place, newStep(kind, id)));
    props.onSelect({ kind: 'step', id });
  };
  const from = props.place.from ? props.def.steps.find((s) => s.id === props.place.from) : undefined;
  return (
    <div class="stack">
      <p class="hint">
        {from ? `After “${stepTitle(from)}”${props.place.exit && props.place.exit !== 'next' ? `, on its ${props.place.exit === 'yes' ? 'Yes' : props.place.exit === 'no' ? 'No' : 'branch'} path` : ''}.` : 'At the start: the first step contacts reach.'}{' '}
        What came after goes on after the new step.
      </p>
      <section aria-labelledby="cb-add-actions">
        <h3 id="cb-add-actions">Actions</h3>
        <ul class="cb-choices">
          {ACTION_TYPES.map((t) => (
            <li>
              <button type="button" class="secondary small" onClick={() => add(t)}>
                {ACTION_LABELS[t]}
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="cb-add-flow">
        <h3 id="cb-add-flow">Waits and branches</h3>
        <ul class="cb-choices wide">
          {(['wait', 'decision', 'condition', 'split'] as const).map((t) => (
            <li>
              <button type="button" class="secondary small" aria-describedby={`cb-hint-${t}`} onClick={() => add(t)}>
                {STEP_LABELS[t]}
              </button>
              <span class="hint" id={`cb-hint-${t}`}>
                {STEP_HINTS[t]}
              </span>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

const newSource = (type: Source['type']): Source => (type === 'segment' ? ({ type, exit_on_leave: false } as Source) : type === 'form' ? ({ type } as Source) : { type, name: '' });

function NewSource(props: PanelProps) {
  const add = (type: Source['type']) => {
    const sources = [...(props.def.sources ?? []), newSource(type)];
    props.onDef({ ...props.def, sources });
    props.onSelect({ kind: 'source', index: sources.length - 1 });
  };
  return (
    <div class="stack">
      <p class="hint">Contacts enter the published campaign when they…</p>
      <ul class="cb-choices wide">
        <li>
          <button type="button" class="secondary small" onClick={() => add('segment')}>
            Join a segment
          </button>
          <span class="hint">Its members when you publish, and whoever joins later.</span>
        </li>
        <li>
          <button type="button" class="secondary small" onClick={() => add('form')}>
            Submit a form
          </button>
        </li>
        <li>
          <button type="button" class="secondary small" onClick={() => add('event')}>
            Send a custom event
          </button>
        </li>
      </ul>
    </div>
  );
}

function SourceSettings(props: PanelProps & { index: number; source: Source }) {
  const { index, source } = props;
  const problems = props.problems.sources.get(index);
  const id = `cs-source-${index}`;
  const set = (s: Source) => props.onDef({ ...props.def, sources: (props.def.sources ?? []).map((x, i) => (i === index ? s : x)) });
  const s = source as Source & Record<string, unknown>;
  return (
    <div class="stack">
      {problems?.some((p) => p.part === '') && <p class="field-error">{problems.find((p) => p.part === '')!.message}</p>}
      <Field id={`${id}-type`} label="Contacts enter when they" error={partError(problems, 'type')}>
        {(a) => (
          <select {...a} value={source.type} onChange={(e) => set(newSource(e.currentTarget.value as Source['type']))}>
            {(Object.keys(SOURCE_LABELS) as Source['type'][]).map((t) => (
              <option value={t}>{t === 'segment' ? 'join a segment' : t === 'form' ? 'submit a form' : 'send a custom event'}</option>
            ))}
          </select>
        )}
      </Field>
      {source.type === 'segment' && (
        <>
          <IdPicker id={`${id}-segment`} label="Segment" value={s.segment_id as number | undefined} options={props.lists.segments} error={partError(problems, 'segment_id')} onChange={(v) => set({ ...s, segment_id: v } as Source)} />
          <label class="check">
            <input type="checkbox" checked={!!source.exit_on_leave} onChange={(e) => set({ ...source, exit_on_leave: e.currentTarget.checked })} /> Take them out of the campaign when they leave
            the segment
          </label>
        </>
      )}
      {source.type === 'form' && <IdPicker id={`${id}-form`} label="Form" value={s.form_id as number | undefined} options={props.lists.forms} error={partError(problems, 'form_id')} onChange={(v) => set({ ...s, form_id: v } as Source)} />}
      {source.type === 'event' && <TextField id={`${id}-name`} label="Event name" maxLength={100} value={source.name} error={partError(problems, 'name')} onChange={(v) => set({ ...source, name: v })} />}
      <div class="actions">
        <button
          type="button"
          class="secondary danger-text"
          onClick={() => {
            props.onDef({ ...props.def, sources: (props.def.sources ?? []).filter((_, i) => i !== index) });
            props.onClose();
          }}
        >
          Remove source
        </button>
      </div>
    </div>
  );
}

/** Re-entry and the goals: how a contact may come back, and what ends a pass as a conversion. */
export function CampaignSettings({ def, problems, readOnly, onDef }: { def: Definition; problems: Problems; readOnly: boolean; onDef: (d: Definition) => void }) {
  const reentry = def.reentry ?? 'never';
  const again = typeof reentry === 'object';
  const reentryError = problems.general.find((g) => g.field.startsWith('definition.reentry'))?.message;
  return (
    <section aria-labelledby="cb-settings-title" class="cb-campaign-settings">
      <h2 id="cb-settings-title">Re-entry and goals</h2>
      <div class="cb-row">
        <Field id="cb-reentry" label="A contact who finished may enter again" error={reentryError}>
          {(a) => (
            <select {...a} disabled={readOnly} value={again ? 'after' : 'never'} onChange={(e) => onDef({ ...def, reentry: e.currentTarget.value === 'never' ? 'never' : { after_days: 30 } })}>
              <option value="never">Never</option>
              <option value="after">After some days</option>
            </select>
          )}
        </Field>
        {again && !readOnly && <IntField id="cb-reentry-days" label="Days after the last pass ended" min={1} max={3650} value={reentry.after_days} onChange={(v) => onDef({ ...def, reentry: { after_days: v as number } })} />}
        {again && readOnly && <p>after {reentry.after_days} days</p>}
      </div>
      <h3>Goals</h3>
      {!def.goals?.length ? (
        <p class="hint">No goals. A goal ends a contact’s pass as a conversion when reached (set through the API).</p>
      ) : (
        <ul class="card-list cb-goals">
          {def.goals.map((g, i) => (
            <li class={problems.goals.has(i) ? 'has-error' : ''}>
              <strong>{g.name || g.id}</strong>: {'filter' in g ? 'matches a filter' : 'event' in g.on ? EVENT_LABELS[g.on.event].toLowerCase() : 'points_at_least' in g.on ? `reaches ${g.on.points_at_least} points` : 'reaches a stage'}
              {problems.goals.get(i)?.map((p) => (
                <p class="field-error">{`${p.part ? `${p.part}: ` : ''}${p.message}`}</p>
              ))}
              {!readOnly && (
                <button type="button" class="secondary small" onClick={() => onDef({ ...def, goals: def.goals!.filter((_, j) => j !== i) })}>
                  Remove goal {g.name || g.id}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
