// The side panel that edits one step: its name, and per kind what it waits for, decides on,
// checks or does, each setting fed by the API's lists and showing the server's error for it;
// and deleting the step (asking first when steps under it go with it).
import { useMemo, useState } from 'preact/hooks';
import { Builder, type Catalogue, type NodeErrors } from '../segments/builder';
import { locate, toFilter, toModel, type Filter, type Node } from '../segments/filter-model';
import { customField } from '../segments/vocabulary';
import { Confirm, Field } from '../ui/editing';
import { ActionSettings } from './action-settings';
import { EVENT_LABELS, stepTitle, type Lists } from './describe';
import { DurationFields, IdPicker, IntField, TextField } from './inputs';
import { partError, removalPlan, type Definition, type Problem, type Step } from './model';

type Decision = Extract<Step, { type: 'decision' }>;
type On = Decision['on'];
type OnKind = keyof typeof EVENT_LABELS | 'points' | 'stage';

export interface StepPanelProps {
  step: Step;
  def: Definition;
  lists: Lists;
  problems?: Problem[];
  campaignId: number | null;
  onChange: (s: Step) => void;
  onDelete: () => void;
  onSplitRemove: (index: number) => void;
}

export function StepSettings(props: StepPanelProps) {
  const { step, problems } = props;
  const id = `cs-${step.id}`;
  const [confirming, setConfirming] = useState(false);
  const plan = useMemo(() => removalPlan(props.def, step.id), [props.def, step.id]);
  const general = problems?.filter((p) => p.part === '' || p.part === 'id');
  return (
    <div class="stack cb-settings">
      {!!general?.length && (
        <div class="error" role="alert">
          {general.map((p) => (
            <p>{p.message}</p>
          ))}
        </div>
      )}
      <TextField
        id={`${id}-name`}
        label="Name (optional)"
        maxLength={200}
        value={step.name}
        error={partError(problems, 'name')}
        hint={`Step id: ${step.id} (the API and the report name it so).`}
        onChange={(v) => {
          const { name: _n, ...rest } = step;
          props.onChange((v ? { ...rest, name: v } : rest) as Step);
        }}
      />
      {step.type === 'action' && (
        <ActionSettings id={id} action={step.action} lists={props.lists} problems={problems} campaignId={props.campaignId} onChange={(action) => props.onChange({ ...step, action })} />
      )}
      {step.type === 'wait' && <WaitSettings id={id} step={step} problems={problems} onChange={props.onChange} />}
      {step.type === 'decision' && <DecisionSettings id={id} step={step} lists={props.lists} problems={problems} onChange={props.onChange} />}
      {step.type === 'condition' && <ConditionSettings step={step} lists={props.lists} problems={problems} onChange={props.onChange} />}
      {step.type === 'split' && <SplitSettings id={id} step={step} problems={problems} onChange={props.onChange} onRemove={props.onSplitRemove} />}
      <div class="actions">
        {!confirming && (
          <button type="button" class="secondary danger-text" onClick={() => (plan.alsoRemoved.length ? setConfirming(true) : props.onDelete())}>
            Delete step
          </button>
        )}
      </div>
      {confirming && (
        <Confirm
          question={
            <>
              Delete “{stepTitle(step)}” and the {plan.alsoRemoved.length} {plan.alsoRemoved.length === 1 ? 'step' : 'steps'} only its branches lead to? Nothing is deleted on the
              server until you save.
            </>
          }
          yes="Delete steps"
          onYes={props.onDelete}
          onNo={() => setConfirming(false)}
        />
      )}
    </div>
  );
}

const toLocalInput = (iso: string) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
const DAYS = [
  ['mon', 'Monday'],
  ['tue', 'Tuesday'],
  ['wed', 'Wednesday'],
  ['thu', 'Thursday'],
  ['fri', 'Friday'],
  ['sat', 'Saturday'],
  ['sun', 'Sunday'],
] as const;

function WaitSettings({ id, step, problems, onChange }: { id: string; step: Extract<Step, { type: 'wait' }>; problems?: Problem[]; onChange: (s: Step) => void }) {
  const w = step.wait;
  const mode = 'for' in w ? 'for' : 'until' in w ? 'until' : 'window';
  const set = (wait: typeof w) => onChange({ ...step, wait });
  return (
    <>
      <Field id={`${id}-wait-mode`} label="Wait">
        {(a) => (
          <select
            {...a}
            value={mode}
            onChange={(e) => {
              const m = e.currentTarget.value;
              set(m === 'for' ? { for: { days: 1 } } : m === 'until' ? { until: new Date(Date.now() + 86_400_000).toISOString() } : { window: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' } });
            }}
          >
            <option value="for">For a time</option>
            <option value="until">Until a date and time</option>
            <option value="window">Until a time window (contact’s time zone)</option>
          </select>
        )}
      </Field>
      {'for' in w && <DurationFields id={`${id}-for`} legend="How long" value={w.for} error={partError(problems, 'wait.for') ?? partError(problems, 'wait')} onChange={(d) => set({ for: d })} />}
      {'until' in w && (
        <Field id={`${id}-until`} label="Until" error={partError(problems, 'wait.until') ?? partError(problems, 'wait')} hint="In your browser’s time zone.">
          {(a) => <input {...a} type="datetime-local" value={toLocalInput(w.until)} onInput={(e) => e.currentTarget.value && set({ until: new Date(e.currentTarget.value).toISOString() })} />}
        </Field>
      )}
      {'window' in w && (
        <>
          <fieldset>
            <legend>On</legend>
            <div class="cb-days">
              {DAYS.map(([d, label]) => (
                <label class="check">
                  <input
                    type="checkbox"
                    checked={w.window.days.includes(d)}
                    onChange={(e) => set({ window: { ...w.window, days: e.currentTarget.checked ? DAYS.map(([x]) => x).filter((x) => x === d || w.window.days.includes(x)) : w.window.days.filter((x) => x !== d) } })}
                  />
                  {label}
                </label>
              ))}
            </div>
          </fieldset>
          <div class="cb-row">
            <Field id={`${id}-from`} label="From" error={partError(problems, 'wait.window.from')}>
              {(a) => <input {...a} type="time" value={w.window.from} onInput={(e) => set({ window: { ...w.window, from: e.currentTarget.value } })} />}
            </Field>
            <Field id={`${id}-to`} label="To" error={partError(problems, 'wait.window.to')}>
              {(a) => <input {...a} type="time" value={w.window.to} onInput={(e) => set({ window: { ...w.window, to: e.currentTarget.value } })} />}
            </Field>
          </div>
          {(partError(problems, 'wait.window.days') ?? partError(problems, 'wait.window')) && <p class="field-error">{partError(problems, 'wait.window.days') ?? partError(problems, 'wait.window')}</p>}
        </>
      )}
    </>
  );
}

const onKind = (on: On): OnKind => ('points_at_least' in on ? 'points' : 'stage_id' in on ? 'stage' : on.event);
const newOn = (k: OnKind): On =>
  k === 'points' ? { points_at_least: 50 } : k === 'stage' ? ({} as On & { stage_id: number }) : k === 'page_view' ? { event: k, url: { op: 'contains', value: '' } } : { event: k };

function DecisionSettings({ id, step, lists, problems, onChange }: { id: string; step: Decision; lists: Lists; problems?: Problem[]; onChange: (s: Step) => void }) {
  const on = step.on as Record<string, unknown> & On;
  const kind = onKind(step.on);
  const err = (p: string) => partError(problems, `on.${p}`);
  const set = (k: string, v: unknown) => {
    const next = { ...on, [k]: v };
    if (v === undefined) delete next[k];
    onChange({ ...step, on: next as On });
  };
  const url = on.url as { op: string; value: string } | undefined;
  return (
    <>
      <Field id={`${id}-on`} label="Did the contact…" error={err('event') ?? problems?.find((p) => p.part === 'on')?.message}>
        {(a) => (
          <select {...a} value={kind} onChange={(e) => onChange({ ...step, on: newOn(e.currentTarget.value as OnKind) })}>
            {(Object.keys(EVENT_LABELS) as (keyof typeof EVENT_LABELS)[]).map((k) => (
              <option value={k}>{EVENT_LABELS[k].toLowerCase()}</option>
            ))}
            <option value="points">reach a number of points</option>
            <option value="stage">reach a stage</option>
          </select>
        )}
      </Field>
      {(kind === 'email_opened' || kind === 'email_clicked') && (
        <IdPicker id={`${id}-on-email`} label="Email" none="Any email" value={on.email_id as number | undefined} options={lists.emails} error={err('email_id')} onChange={(v) => set('email_id', v)} />
      )}
      {kind === 'form_submit' && <IdPicker id={`${id}-on-form`} label="Form" none="Any form" value={on.form_id as number | undefined} options={lists.forms} error={err('form_id')} onChange={(v) => set('form_id', v)} />}
      {kind === 'asset_download' && <IdPicker id={`${id}-on-asset`} label="Asset" none="Any asset" value={on.asset_id as number | undefined} options={lists.assets} error={err('asset_id')} onChange={(v) => set('asset_id', v)} />}
      {kind === 'slot_click' && <IntField id={`${id}-on-slot`} label="Slot id (empty: any slot)" min={1} value={on.slot_id as number | undefined} error={err('slot_id')} onChange={(v) => set('slot_id', v)} />}
      {kind === 'custom' && <TextField id={`${id}-on-name`} label="Event name" maxLength={100} value={on.name as string | undefined} error={err('name')} onChange={(v) => set('name', v || undefined)} />}
      {kind === 'points' && <IntField id={`${id}-on-points`} label="At least (points)" value={on.points_at_least as number | undefined} error={err('points_at_least')} onChange={(v) => set('points_at_least', v)} />}
      {kind === 'stage' && <IdPicker id={`${id}-on-stage`} label="Stage (or beyond)" value={on.stage_id as number | undefined} options={lists.stages} error={err('stage_id')} onChange={(v) => set('stage_id', v)} />}
      {(kind === 'page_view' || kind === 'email_clicked') && (
        <div class="cb-row">
          <Field id={`${id}-on-url-op`} label={kind === 'page_view' ? 'Page URL' : 'Link URL (optional)'}>
            {(a) => (
              <select {...a} value={url?.op ?? ''} onChange={(e) => set('url', e.currentTarget.value ? { op: e.currentTarget.value, value: url?.value ?? '' } : undefined)}>
                {kind === 'email_clicked' && <option value="">Any link</option>}
                <option value="contains">contains</option>
                <option value="equals">is</option>
                <option value="starts_with">starts with</option>
                <option value="ends_with">ends with</option>
              </select>
            )}
          </Field>
          {url && <TextField id={`${id}-on-url`} label="URL text" value={url.value} error={err('url')} onChange={(v) => set('url', { ...url, value: v })} />}
        </div>
      )}
      <DurationFields id={`${id}-timeout`} legend="Wait for it up to (then: No)" value={step.timeout} error={partError(problems, 'timeout')} onChange={(timeout) => onChange({ ...step, timeout })} />
    </>
  );
}

function ConditionSettings({ step, lists, problems, onChange }: { step: Extract<Step, { type: 'condition' }>; lists: Lists; problems?: Problem[]; onChange: (s: Step) => void }) {
  const [root, setRoot] = useState<Node>(() => toModel(step.filter as Filter));
  const catalogue: Catalogue = {
    customFields: lists.fields.map(customField),
    stages: lists.stages,
    segments: lists.segments,
    forms: lists.forms,
    assets: lists.assets,
    emails: lists.emails,
    tags: lists.tags,
  };
  const errors: NodeErrors = new Map();
  for (const p of problems ?? []) {
    const at = locate(root, p.part);
    if (!at) continue;
    errors.set(at.node.id, [...(errors.get(at.node.id) ?? []), { part: at.part, message: at.part ? `${at.part}: ${p.message}` : p.message }]);
  }
  return (
    <section aria-label="Filter" class="cb-filter">
      <p class="hint">Checked when the contact reaches this step: Yes if they match now, else No.</p>
      <Builder
        root={root}
        catalogue={catalogue}
        errors={errors}
        onChange={(r) => {
          setRoot(r);
          onChange({ ...step, filter: toFilter(r) });
        }}
      />
    </section>
  );
}

function SplitSettings({ id, step, problems, onChange, onRemove }: { id: string; step: Extract<Step, { type: 'split' }>; problems?: Problem[]; onChange: (s: Step) => void; onRemove: (i: number) => void }) {
  const total = step.branches.reduce((a, b) => a + (b.percent || 0), 0);
  return (
    <fieldset>
      <legend>Branches (percent of contacts)</legend>
      {step.branches.map((b, i) => (
        <div class="cb-row">
          <IntField
            id={`${id}-b${i}`}
            label={`Branch ${i + 1} (%)`}
            min={1}
            max={99}
            value={b.percent}
            error={partError(problems, `branches.${i}`)}
            onChange={(v) => onChange({ ...step, branches: step.branches.map((x, j) => (j === i ? { ...x, percent: v as number } : x)) })}
          />
          {step.branches.length > 2 && (
            <button type="button" class="secondary small" onClick={() => onRemove(i)}>
              Remove branch {i + 1}
            </button>
          )}
        </div>
      ))}
      <p class={total === 100 ? 'hint' : 'field-error'}>Total: {total}% {total === 100 ? '' : '(must be 100%)'}</p>
      {partError(problems, 'branches') && <p class="field-error">{partError(problems, 'branches')}</p>}
      {step.branches.length < 5 && (
        <button type="button" class="secondary small" onClick={() => onChange({ ...step, branches: [...step.branches, { percent: 0, next: null }] })}>
          Add a branch
        </button>
      )}
    </fieldset>
  );
}
