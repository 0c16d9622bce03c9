import { useState } from 'preact/hooks';
import { api, load } from '../api/client';
import type { components } from '../api/schema';
import { SettingsFrame } from '../settings/frame';
import { allPages, Confirm, Field, SaveStatus, send, useSaver } from '../ui/editing';
import { formatInteger } from '../ui/format';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Settings → Points: point rules (which events score how much) and triggers (what happens when a
// contact's score crosses a threshold), each listed, created, edited and deleted here.

type Rule = components['schemas']['PointRule'];
type Trigger = components['schemas']['PointTrigger'];
type Action = Trigger['actions'][number];
type Named = { id: number; name: string };

const EVENT_TYPES = [
  'page_view',
  'custom',
  'outbound_click',
  'file_download',
  'form_submit',
  'asset_download',
  'focus_view',
  'focus_click',
  'slot_view',
  'slot_click',
  'email_sent',
  'email_opened',
  'email_clicked',
  'email_bounced',
  'sales_accepted',
  'deal_won',
];
const num = (t: string) => (t.trim() !== '' && Number.isFinite(Number(t)) ? Number(t) : (t as unknown as number));
const optNum = (t: string) => (t.trim() === '' ? undefined : num(t));
const page = <T,>(path: '/api/v1/point-rules' | '/api/v1/point-triggers' | '/api/v1/stages' | '/api/v1/segments') =>
  allPages<T>((cursor) => load(api.GET(path, { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } })) as never);

// ---- rules ----

function RuleForm(props: { initial?: Rule; onSaved: (r: Rule) => void; onCancel: () => void }) {
  const r = props.initial;
  const f = r?.filter ?? {};
  const [d, setD] = useState({
    name: r?.name ?? '',
    event_type: r?.event_type ?? 'page_view',
    delta: String(r?.delta ?? 5),
    repeatable: r?.repeatable ?? true,
    cap_count: r?.cap ? String(r.cap.count) : '',
    cap_period: r?.cap?.period ?? 'day',
    active: r?.active ?? true,
    url_op: f.url?.op ?? '',
    url_value: f.url?.value ?? '',
    ev_name: f.name ?? '',
    prop_key: f.prop?.key ?? '',
    prop_value: f.prop === undefined ? '' : String(f.prop.value),
    form_id: f.form_id ? String(f.form_id) : '',
    asset_id: f.asset_id ? String(f.asset_id) : '',
    focus_id: f.focus_id ? String(f.focus_id) : '',
    slot_id: f.slot_id ? String(f.slot_id) : '',
    email_id: f.email_id ? String(f.email_id) : '',
  });
  const set = (p: Partial<typeof d>) => setD((x) => ({ ...x, ...p }));
  const saver = useSaver();
  const e = saver.fieldError;
  const p = `rule-${r?.id ?? 'new'}`;
  const text = (k: keyof typeof d, label: string, opts: { hint?: string; error?: string; type?: 'text' | 'number'; list?: string; disabled?: boolean } = {}) => (
    <Field id={`${p}-${k}`} label={label} hint={opts.hint} error={opts.error}>
      {(a) => (
        <input
          {...a}
          type={opts.type ?? 'text'}
          list={opts.list}
          disabled={opts.disabled}
          value={String(d[k])}
          onInput={(ev) => set({ [k]: ev.currentTarget.value } as Partial<typeof d>)}
        />
      )}
    </Field>
  );
  const body = () => {
    const filter: Rule['filter'] = {};
    if (d.url_op) filter.url = { op: d.url_op as NonNullable<Rule['filter']['url']>['op'], value: d.url_value };
    if (d.ev_name) filter.name = d.ev_name;
    if (d.prop_key) filter.prop = { key: d.prop_key, value: d.prop_value === 'true' ? true : d.prop_value === 'false' ? false : d.prop_value };
    for (const k of ['form_id', 'asset_id', 'focus_id', 'slot_id', 'email_id'] as const) if (d[k]) filter[k] = num(d[k]);
    return {
      name: d.name.trim(),
      filter,
      delta: num(d.delta),
      repeatable: d.repeatable,
      cap: d.cap_count.trim() ? { count: num(d.cap_count), period: d.cap_period as 'day' } : null,
      active: d.active,
    };
  };
  return (
    <form
      class="stack card"
      noValidate
      onSubmit={async (ev) => {
        ev.preventDefault();
        const saved = await saver.run(
          () =>
            send(
              r
                ? api.PATCH('/api/v1/point-rules/{id}', { params: { path: { id: r.id } }, body: body() })
                : api.POST('/api/v1/point-rules', { body: { ...body(), event_type: d.event_type.trim() } }),
            ),
          'Rule saved.',
        );
        if (saved) props.onSaved(saved);
      }}
    >
      <h3>{r ? `Edit “${r.name}”` : 'New point rule'}</h3>
      <datalist id="event-types">
        {EVENT_TYPES.map((t) => (
          <option value={t} />
        ))}
      </datalist>
      <div class="form-grid">
        {text('name', 'Name', { error: e('name') })}
        {text('event_type', 'Event type', { list: 'event-types', error: e('event_type'), disabled: !!r, hint: r ? 'Fixed once the rule exists.' : 'e.g. page_view, form_submit, custom.' })}
        {text('delta', 'Points (negative to subtract)', { type: 'number', error: e('delta') })}
      </div>
      <fieldset>
        <legend>Only events that match (every part given must hold)</legend>
        <div class="form-grid">
          <Field id={`${p}-url_op`} label="URL" error={e('filter.url')}>
            {(a) => (
              <select {...a} value={d.url_op} onChange={(ev) => set({ url_op: ev.currentTarget.value })}>
                <option value="">any URL</option>
                <option value="contains">contains</option>
                <option value="equals">is</option>
                <option value="starts_with">starts with</option>
                <option value="ends_with">ends with</option>
                <option value="regex">matches the pattern</option>
              </select>
            )}
          </Field>
          {d.url_op && text('url_value', 'URL text', { error: e('filter.url.value') })}
          {text('ev_name', 'Custom event name', { error: e('filter.name') })}
          {text('prop_key', 'Property name', { error: e('filter.prop.key') })}
          {d.prop_key && text('prop_value', 'Property value', { error: e('filter.prop.value') })}
          {text('form_id', 'Form id', { type: 'number', error: e('filter.form_id') })}
          {text('asset_id', 'Asset id', { type: 'number', error: e('filter.asset_id') })}
          {text('focus_id', 'Focus item id', { type: 'number', error: e('filter.focus_id') })}
          {text('slot_id', 'Slot id', { type: 'number', error: e('filter.slot_id') })}
          {text('email_id', 'Email id', { type: 'number', error: e('filter.email_id') })}
        </div>
      </fieldset>
      <fieldset>
        <legend>How often</legend>
        <label class="check" for={`${p}-repeatable`}>
          <input id={`${p}-repeatable`} type="checkbox" checked={d.repeatable} onChange={(ev) => set({ repeatable: ev.currentTarget.checked })} /> Score every matching event
          (unchecked: once per contact)
        </label>
        <div class="form-grid">
          {text('cap_count', 'At most (times; empty: no cap)', { type: 'number', error: e('cap.count') ?? e('cap') })}
          <Field id={`${p}-cap_period`} label="per">
            {(a) => (
              <select {...a} value={d.cap_period} onChange={(ev) => set({ cap_period: ev.currentTarget.value as 'day' })}>
                <option value="day">day</option>
                <option value="week">week</option>
                <option value="month">month</option>
              </select>
            )}
          </Field>
        </div>
      </fieldset>
      <label class="check" for={`${p}-active`}>
        <input id={`${p}-active`} type="checkbox" checked={d.active} onChange={(ev) => set({ active: ev.currentTarget.checked })} /> Active
      </label>
      <div class="actions">
        <button type="submit" disabled={saver.busy}>
          {saver.busy ? 'Saving…' : r ? 'Save changes' : 'Create rule'}
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
      <SaveStatus status={saver.status} shown={['name', 'event_type', 'delta', 'filter', 'cap']} />
    </form>
  );
}

const describeRule = (r: Rule) => {
  const f = r.filter;
  const parts = [f.url && `URL ${f.url.op.replace('_', ' ')} “${f.url.value}”`, f.name && `named “${f.name}”`, f.prop && `${f.prop.key} = ${String(f.prop.value)}`];
  for (const k of ['form_id', 'asset_id', 'focus_id', 'slot_id', 'email_id'] as const) if (f[k]) parts.push(`${k.replace('_id', '')} #${f[k]}`);
  return [r.event_type, ...parts.filter(Boolean)].join(', ');
};

function Rules() {
  const list = useLoad(() => page<Rule>('/api/v1/point-rules'), 'rules');
  const [rules, setRules] = useState<Rule[] | null>(null);
  const [form, setForm] = useState<Rule | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Rule | null>(null);
  const act = useSaver();
  const shown = rules ?? (list.state === 'done' ? list.data : null);
  return (
    <section aria-labelledby="rules-heading">
      <div class="title-row">
        <h2 id="rules-heading">Point rules</h2>
        {form === null && (
          <button type="button" onClick={() => (act.reset(), setForm('new'))}>
            New point rule
          </button>
        )}
      </div>
      {form !== null && (
        <RuleForm
          key={form === 'new' ? 'new' : form.id}
          initial={form === 'new' ? undefined : form}
          onCancel={() => setForm(null)}
          onSaved={(r) => {
            setRules([...(shown ?? []).filter((x) => x.id !== r.id), r].sort((a, b) => a.id - b.id));
            setForm(null);
            act.run(async () => undefined, `Rule “${r.name}” saved.`);
          }}
        />
      )}
      <div aria-live="polite">{act.state === 'saved' && <p class="saved">{act.message}</p>}</div>
      {act.state === 'error' && <ErrorMessage message={act.message} />}
      {deleting && (
        <Confirm
          question={<>Delete the rule “{deleting.name}”? Points it gave stay with the contacts.</>}
          yes="Delete rule"
          busy={act.busy}
          onNo={() => setDeleting(null)}
          onYes={async () => {
            const d = deleting;
            if (await act.run(() => send(api.DELETE('/api/v1/point-rules/{id}', { params: { path: { id: d.id } } })), `Rule “${d.name}” deleted.`)) setRules((shown ?? []).filter((x) => x.id !== d.id));
            setDeleting(null);
          }}
        />
      )}
      {list.state === 'loading' && <Loading what="point rules" />}
      {list.state === 'error' && <ErrorMessage message={list.message} retry={list.retry} />}
      {shown &&
        (shown.length === 0 ? (
          <Empty title="No point rules yet.">
            <p>Add one to score what contacts do, e.g. +10 for a visit to /pricing (at most 3 times a day), +25 for a demo request form.</p>
          </Empty>
        ) : (
          <div class="table-wrap" role="region" aria-label="Point rules" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Scores</th>
                  <th scope="col" class="num">
                    Points
                  </th>
                  <th scope="col">How often</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {shown.map((r) => (
                  <tr>
                    <th scope="row">{r.name}</th>
                    <td>{describeRule(r)}</td>
                    <td class="num">{r.delta > 0 ? `+${r.delta}` : r.delta}</td>
                    <td>{(r.repeatable ? 'every time' : 'once') + (r.cap ? `, at most ${r.cap.count} a ${r.cap.period}` : '')}</td>
                    <td>{r.active ? 'active' : 'paused'}</td>
                    <td>
                      {r.form_id ? (
                        <span class="hint">
                          Set by form #{r.form_id}: it changes with the form
                        </span>
                      ) : (
                        <div class="actions">
                          <button type="button" class="secondary small" onClick={() => setForm(r)} aria-label={`Edit ${r.name}`}>
                            Edit
                          </button>
                          <button type="button" class="secondary small danger-text" onClick={() => (act.reset(), setDeleting(r))} aria-label={`Delete ${r.name}`}>
                            Delete
                          </button>
                        </div>
                      )}
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

// ---- triggers ----

const ACTION_TYPES: { value: Action['type']; label: string }[] = [
  { value: 'change_stage', label: 'Move to stage' },
  { value: 'add_tags', label: 'Add tags' },
  { value: 'remove_tags', label: 'Remove tags' },
  { value: 'add_to_segment', label: 'Add to segment' },
  { value: 'remove_from_segment', label: 'Remove from segment' },
  { value: 'webhook', label: 'Notify a webhook' },
];

function blankAction(type: Action['type']): Action {
  switch (type) {
    case 'change_stage':
      return { type, stage_id: null };
    case 'add_tags':
    case 'remove_tags':
      return { type, tags: [] };
    case 'add_to_segment':
    case 'remove_from_segment':
      return { type, segment_id: 0 };
    case 'webhook':
      return { type, url: '' };
  }
}

function ActionEditor(props: { prefix: string; index: number; action: Action; stages: Named[]; segments: Named[]; error?: string; onChange: (a: Action) => void; onRemove: () => void }) {
  const a = props.action;
  const id = (n: string) => `${props.prefix}-a${props.index}-${n}`;
  const invalid = props.error ? { 'aria-invalid': 'true' as const, 'aria-describedby': id('error') } : {};
  return (
    <li class="cond">
      <div class="cond-row">
        <div class="field">
          <label for={id('type')}>Action {props.index + 1}</label>
          <select id={id('type')} value={a.type} onChange={(e) => props.onChange(blankAction(e.currentTarget.value as Action['type']))}>
            {ACTION_TYPES.map((t) => (
              <option value={t.value}>{t.label}</option>
            ))}
          </select>
        </div>
        {a.type === 'change_stage' && (
          <div class="field">
            <label for={id('stage')}>Stage</label>
            <select id={id('stage')} {...invalid} value={a.stage_id === null ? '' : String(a.stage_id)} onChange={(e) => props.onChange({ ...a, stage_id: e.currentTarget.value ? Number(e.currentTarget.value) : null })}>
              <option value="">No stage (clear it)</option>
              {props.stages.map((s) => (
                <option value={String(s.id)}>{s.name}</option>
              ))}
            </select>
          </div>
        )}
        {(a.type === 'add_tags' || a.type === 'remove_tags') && (
          <div class="field">
            <label for={id('tags')}>Tags, separated by commas</label>
            <input
              id={id('tags')}
              {...invalid}
              type="text"
              value={a.tags.join(', ')}
              onInput={(e) =>
                props.onChange({
                  ...a,
                  tags: e.currentTarget.value
                    .split(',')
                    .map((t) => t.trim())
                    .filter(Boolean),
                })
              }
            />
          </div>
        )}
        {(a.type === 'add_to_segment' || a.type === 'remove_from_segment') && (
          <div class="field">
            <label for={id('segment')}>Segment</label>
            <select id={id('segment')} {...invalid} value={a.segment_id ? String(a.segment_id) : ''} onChange={(e) => props.onChange({ ...a, segment_id: Number(e.currentTarget.value) })}>
              <option value="" disabled>
                Choose a segment
              </option>
              {!props.segments.some((s) => s.id === a.segment_id) && a.segment_id > 0 && <option value={String(a.segment_id)}>#{a.segment_id}</option>}
              {props.segments.map((s) => (
                <option value={String(s.id)}>{s.name}</option>
              ))}
            </select>
          </div>
        )}
        {a.type === 'webhook' && (
          <div class="field grow">
            <label for={id('url')}>URL (https)</label>
            <input id={id('url')} {...invalid} type="url" maxLength={2048} value={a.url} onInput={(e) => props.onChange({ type: 'webhook', url: e.currentTarget.value })} />
          </div>
        )}
        <button type="button" class="secondary small danger-text" onClick={props.onRemove} aria-label={`Remove action ${props.index + 1}`}>
          Remove
        </button>
      </div>
      {props.error && (
        <p class="field-error" id={id('error')}>
          {props.error}
        </p>
      )}
    </li>
  );
}

function TriggerForm(props: { initial?: Trigger; stages: Named[]; segments: Named[]; onSaved: (t: Trigger) => void; onCancel: () => void }) {
  const t = props.initial;
  const [name, setName] = useState(t?.name ?? '');
  const [threshold, setThreshold] = useState(String(t?.threshold ?? 100));
  const [active, setActive] = useState(t?.active ?? true);
  // Webhook secrets are never read back; sent without one, the server keeps the stored secret for that URL.
  const [actions, setActions] = useState<Action[]>(t?.actions.map((a) => (a.type === 'webhook' ? { type: 'webhook' as const, url: a.url } : a)) ?? [blankAction('change_stage')]);
  const saver = useSaver();
  const p = `trigger-${t?.id ?? 'new'}`;
  const actionError = (i: number) => saver.fieldError(`actions.${i}`);
  return (
    <form
      class="stack card"
      noValidate
      onSubmit={async (ev) => {
        ev.preventDefault();
        const body = { name: name.trim(), threshold: num(threshold), actions, active };
        const saved = await saver.run(
          () => send(t ? api.PATCH('/api/v1/point-triggers/{id}', { params: { path: { id: t.id } }, body }) : api.POST('/api/v1/point-triggers', { body })),
          'Trigger saved.',
        );
        if (saved) props.onSaved(saved);
      }}
    >
      <h3>{t ? `Edit “${t.name}”` : 'New trigger'}</h3>
      <div class="form-grid">
        <Field id={`${p}-name`} label="Name" error={saver.fieldError('name')}>
          {(a) => <input {...a} type="text" maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <Field id={`${p}-threshold`} label="When a contact’s points reach" error={saver.fieldError('threshold')}>
          {(a) => <input {...a} type="number" value={threshold} onInput={(e) => setThreshold(e.currentTarget.value)} />}
        </Field>
      </div>
      <fieldset>
        <legend>Then</legend>
        <ol class="nodes">
          {actions.map((a, i) => (
            <ActionEditor
              prefix={p}
              index={i}
              action={a}
              stages={props.stages}
              segments={props.segments}
              error={actionError(i)}
              onChange={(n) => setActions(actions.map((x, j) => (j === i ? n : x)))}
              onRemove={() => setActions(actions.filter((_, j) => j !== i))}
            />
          ))}
        </ol>
        {saver.fieldError('actions') && !actions.some((_, i) => actionError(i)) && <p class="field-error">{saver.fieldError('actions')}</p>}
        <button type="button" class="secondary small" onClick={() => setActions([...actions, blankAction('add_tags')])}>
          Add an action
        </button>
      </fieldset>
      <label class="check" for={`${p}-active`}>
        <input id={`${p}-active`} type="checkbox" checked={active} onChange={(e) => setActive(e.currentTarget.checked)} /> Active
      </label>
      <div class="actions">
        <button type="submit" disabled={saver.busy}>
          {saver.busy ? 'Saving…' : t ? 'Save changes' : 'Create trigger'}
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
      <SaveStatus status={saver.status} shown={['name', 'threshold', 'actions']} />
    </form>
  );
}

function describeAction(a: Action, stages: Named[], segments: Named[]): string {
  const seg = (id: number) => segments.find((s) => s.id === id)?.name ?? `#${id}`;
  switch (a.type) {
    case 'change_stage':
      return a.stage_id === null ? 'clear the stage' : `move to ${stages.find((s) => s.id === a.stage_id)?.name ?? `stage #${a.stage_id}`}`;
    case 'add_tags':
      return `tag ${a.tags.join(', ')}`;
    case 'remove_tags':
      return `untag ${a.tags.join(', ')}`;
    case 'add_to_segment':
      return `add to ${seg(a.segment_id)}`;
    case 'remove_from_segment':
      return `remove from ${seg(a.segment_id)}`;
    case 'webhook':
      return `notify ${a.url}`;
  }
}

function Triggers() {
  const list = useLoad(async () => {
    const [triggers, stages, segments] = await Promise.all([page<Trigger>('/api/v1/point-triggers'), page<Named>('/api/v1/stages'), page<Named>('/api/v1/segments')]);
    return { triggers, stages: stages.map(({ id, name }) => ({ id, name })), segments: segments.map(({ id, name }) => ({ id, name })) };
  }, 'triggers');
  const [triggers, setTriggers] = useState<Trigger[] | null>(null);
  const [form, setForm] = useState<Trigger | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Trigger | null>(null);
  const [secrets, setSecrets] = useState<{ url: string; secret: string }[]>([]);
  const act = useSaver();
  const data = list.state === 'done' ? list.data : null;
  const shown = triggers ?? data?.triggers ?? null;
  return (
    <section aria-labelledby="triggers-heading">
      <div class="title-row">
        <h2 id="triggers-heading">Triggers</h2>
        {form === null && data && (
          <button type="button" onClick={() => (act.reset(), setForm('new'))}>
            New trigger
          </button>
        )}
      </div>
      {secrets.length > 0 && (
        <div class="secret" role="region" aria-label="Webhook signing secrets">
          <p>
            <strong>Webhook signing secrets</strong> — shown this once. Deliveries carry <code>Leadline-Signature</code>, an HMAC-SHA256 with this secret.
          </p>
          <ul>
            {secrets.map((s) => (
              <li>
                {s.url}: <code>{s.secret}</code>
              </li>
            ))}
          </ul>
          <button type="button" class="secondary" onClick={() => setSecrets([])}>
            I have saved them
          </button>
        </div>
      )}
      {form !== null && data && (
        <TriggerForm
          key={form === 'new' ? 'new' : form.id}
          initial={form === 'new' ? undefined : form}
          stages={data.stages}
          segments={data.segments}
          onCancel={() => setForm(null)}
          onSaved={(t) => {
            setSecrets(t.actions.flatMap((a) => (a.type === 'webhook' && a.secret ? [{ url: a.url, secret: a.secret }] : [])));
            setTriggers([...(shown ?? []).filter((x) => x.id !== t.id), t].sort((a, b) => a.id - b.id));
            setForm(null);
            act.run(async () => undefined, `Trigger “${t.name}” saved.`);
          }}
        />
      )}
      <div aria-live="polite">{act.state === 'saved' && <p class="saved">{act.message}</p>}</div>
      {act.state === 'error' && <ErrorMessage message={act.message} />}
      {deleting && (
        <Confirm
          question={<>Delete the trigger “{deleting.name}”? What it already did stays.</>}
          yes="Delete trigger"
          busy={act.busy}
          onNo={() => setDeleting(null)}
          onYes={async () => {
            const d = deleting;
            if (await act.run(() => send(api.DELETE('/api/v1/point-triggers/{id}', { params: { path: { id: d.id } } })), `Trigger “${d.name}” deleted.`))
              setTriggers((shown ?? []).filter((x) => x.id !== d.id));
            setDeleting(null);
          }}
        />
      )}
      {list.state === 'loading' && <Loading what="triggers" />}
      {list.state === 'error' && <ErrorMessage message={list.message} retry={list.retry} />}
      {shown &&
        data &&
        (shown.length === 0 ? (
          <Empty title="No triggers yet.">
            <p>Add one to act when a contact’s score crosses a threshold, e.g. at 100 points move them to “SQL” and notify your CRM by webhook.</p>
          </Empty>
        ) : (
          <div class="table-wrap" role="region" aria-label="Triggers" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col" class="num">
                    At points
                  </th>
                  <th scope="col">Then</th>
                  <th scope="col" class="num">
                    Fired for
                  </th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {shown.map((t) => (
                  <tr>
                    <th scope="row">{t.name}</th>
                    <td class="num">{formatInteger(t.threshold)}</td>
                    <td>{t.actions.map((a) => describeAction(a, data.stages, data.segments)).join('; ')}</td>
                    <td class="num">{formatInteger(t.fired)}</td>
                    <td>{t.active ? 'active' : 'paused'}</td>
                    <td>
                      <div class="actions">
                        <button type="button" class="secondary small" onClick={() => setForm(t)} aria-label={`Edit ${t.name}`}>
                          Edit
                        </button>
                        <button type="button" class="secondary small danger-text" onClick={() => (act.reset(), setDeleting(t))} aria-label={`Delete ${t.name}`}>
                          Delete
                        </button>
                      </div>
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

export default function PointsSettings() {
  return (
    <SettingsFrame title="Points" intro="Every event a contact makes is scored by the active rules; crossing a trigger’s threshold runs its actions once per contact.">
      <Rules />
      <Triggers />
    </SettingsFrame>
  );
}
