import { useLocation, useRoute } from 'preact-iso/router';
import { useEffect, useState } from 'preact/hooks';
import { api, load, loadJson } from '../api/client';
import type { components } from '../api/schema';
import { publicForm } from '../preview/public-form';
import { WidgetPreview } from '../preview/widget-preview';
import { allPages, Confirm, CopyButton, Field, SaveStatus, send, useSaver } from '../ui/editing';
import { formatDateTime, formatInteger, formatPercent } from '../ui/format';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Forms: the list with submission counts; the editor (fields of every type the API takes, with
// required and validation rules; actions; settings) beside a live preview rendered by the real
// widget chunk; the embed snippet; the funnel from the `forms` report; the submissions, paged.

type Form = components['schemas']['Form'];
type Site = components['schemas']['Site'];
type FieldType = components['schemas']['FormField']['type'];
type Action = Form['actions'][number];

const TYPES: [FieldType, string][] = [
  ['text', 'Text'],
  ['email', 'Email'],
  ['tel', 'Phone'],
  ['number', 'Number'],
  ['textarea', 'Long text'],
  ['select', 'Drop-down'],
  ['radio', 'Radio buttons'],
  ['checkbox_group', 'Checkboxes'],
  ['country', 'Country'],
  ['date', 'Date'],
  ['hidden', 'Hidden'],
  ['consent', 'Consent'],
];
const WITH_OPTIONS = new Set<FieldType>(['select', 'radio', 'checkbox_group']);
const WITH_PATTERN = new Set<FieldType>(['text', 'email', 'tel', 'textarea']);
const WITH_LENGTH = new Set<FieldType>(['text', 'email', 'tel', 'textarea', 'hidden']);
const WITH_PLACEHOLDER = new Set<FieldType>(['text', 'email', 'tel', 'number', 'textarea']);
const SOURCES = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'referrer', 'page_url'];
const TARGETS = ['email', 'first_name', 'last_name', 'phone', 'job_title', 'city', 'country'];

export const scriptTag = (key: string) => `<script async src="${location.origin}/w.js" data-site="${key}"></script>`;
export const formSnippet = (id: number, key: string) => `${scriptTag(key)}\n<div data-leadline-form="${id}"></div>`;

let uid = 0;
interface FieldDraft {
  uid: number;
  key: string;
  label: string;
  type: FieldType;
  maps_to: string;
  required: boolean;
  placeholder: string;
  help: string;
  options: string;
  pattern: string;
  pattern_message: string;
  min_length: string;
  max_length: string;
  min: string;
  max: string;
  default: string;
  source: string;
}
interface ActionDraft {
  uid: number;
  type: Action['type'];
  text: string;
  number: string;
  field: string;
}
interface Draft {
  name: string;
  submit_label: string;
  after: 'message' | 'redirect';
  message: string;
  url: string;
  profiling: boolean;
  max_new: string;
  min_fill_ms: string;
  active: boolean;
  fields: FieldDraft[];
  actions: ActionDraft[];
}

const str = (v: unknown) => (v === null || v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v));

const fieldDraft = (f?: Partial<components['schemas']['FormField']>): FieldDraft => ({
  uid: ++uid,
  key: f?.key ?? '',
  label: f?.label ?? '',
  type: f?.type ?? 'text',
  maps_to: f?.maps_to ?? '',
  required: f?.required ?? false,
  placeholder: f?.placeholder ?? '',
  help: f?.help ?? '',
  options: (f?.options ?? []).map((o) => (o.label && o.label !== o.value ? `${o.value}|${o.label}` : o.value)).join('\n'),
  pattern: f?.rules?.pattern ?? '',
  pattern_message: f?.rules?.pattern_message ?? '',
  min_length: str(f?.rules?.min_length),
  max_length: str(f?.rules?.max_length),
  min: str(f?.rules?.min),
  max: str(f?.rules?.max),
  default: str(f?.default),
  source: f?.source ?? '',
});

const actionDraft = (a?: Action): ActionDraft => ({
  uid: ++uid,
  type: a?.type ?? 'add_tags',
  text: a ? ('tags' in a ? a.tags.join(', ') : 'reason' in a ? a.reason : 'value' in a ? str(a.value) : '') : '',
  number: a ? ('segment_id' in a ? String(a.segment_id) : 'points' in a ? String(a.points) : 'asset_id' in a ? String(a.asset_id) : '') : '',
  field: a && 'field' in a ? a.field : '',
});

const draftOf = (f: Form | null): Draft => ({
  name: f?.name ?? '',
  submit_label: f?.submit_label ?? 'Submit',
  after: f?.after_submit.type ?? 'message',
  message: f?.after_submit.type === 'message' ? f.after_submit.message : 'Thank you!',
  url: f?.after_submit.type === 'redirect' ? f.after_submit.url : '',
  profiling: f?.progressive_profiling.enabled ?? false,
  max_new: str(f?.progressive_profiling.max_new_fields),
  min_fill_ms: String(f?.min_fill_ms ?? 1500),
  active: f?.active ?? true,
  fields: f ? f.fields.map(fieldDraft) : [fieldDraft({ key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true })],
  actions: (f?.actions ?? []).map(actionDraft),
});

/** A number when the text is one; else the text, for the server to refuse by name. */
const num = (s: string) => (s.trim() === '' ? undefined : Number.isFinite(Number(s)) ? Number(s) : s);
const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function fieldBody(f: FieldDraft) {
  const t = f.type;
  const rules: Record<string, unknown> = {};
  if (WITH_PATTERN.has(t) && f.pattern) rules.pattern = f.pattern;
  if (WITH_PATTERN.has(t) && f.pattern_message.trim()) rules.pattern_message = f.pattern_message.trim();
  if (WITH_LENGTH.has(t)) (rules.min_length = num(f.min_length)), (rules.max_length = num(f.max_length));
  if (t === 'number') (rules.min = num(f.min)), (rules.max = num(f.max));
  if (t === 'date') (rules.min = f.min || undefined), (rules.max = f.max || undefined);
  const options = f.options
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const at = l.indexOf('|');
      return at < 0 ? l : { value: l.slice(0, at).trim(), label: l.slice(at + 1).trim() || undefined };
    });
  const dflt = f.default.trim();
  return {
    key: f.key.trim(),
    ...(t === 'hidden' && !f.label.trim() ? {} : { label: f.label.trim() }),
    type: t,
    maps_to: f.maps_to || null,
    required: t === 'hidden' ? false : f.required,
    ...(WITH_PLACEHOLDER.has(t) && f.placeholder.trim() ? { placeholder: f.placeholder.trim() } : {}),
    ...(f.help.trim() ? { help: f.help.trim() } : {}),
    ...(WITH_OPTIONS.has(t) ? { options: options.length ? options : null } : {}),
    rules: JSON.parse(JSON.stringify(rules)),
    ...(dflt && t !== 'consent' ? { default: t === 'number' ? num(dflt) : t === 'checkbox_group' ? list(dflt) : dflt } : {}),
    ...(t === 'hidden' && f.source ? { source: f.source } : {}),
  } as components['schemas']['FormInput']['fields'][number];
}

function actionBody(a: ActionDraft): Action {
  switch (a.type) {
    case 'add_tags':
    case 'remove_tags':
      return { type: a.type, tags: list(a.text) };
    case 'add_to_segment':
    case 'remove_from_segment':
      return { type: a.type, segment_id: num(a.number) as number };
    case 'give_points':
      return { type: a.type, points: num(a.number) as number, reason: a.text.trim() || 'form submitted' };
    case 'deliver_asset':
      return { type: a.type, asset_id: num(a.number) as number };
    case 'set_field':
      return { type: a.type, field: a.field.trim(), value: a.text };
  }
}

function bodyOf(d: Draft) {
  return {
    name: d.name.trim(),
    fields: d.fields.map(fieldBody),
    submit_label: d.submit_label.trim(),
    after_submit: d.after === 'message' ? { type: 'message' as const, message: d.message.trim() } : { type: 'redirect' as const, url: d.url.trim() },
    progressive_profiling: { enabled: d.profiling, max_new_fields: (num(d.max_new) ?? null) as number | null },
    actions: d.actions.map(actionBody),
    min_fill_ms: num(d.min_fill_ms) as number,
    active: d.active,
  };
}

const listAll = <T,>(path: '/api/v1/forms' | '/api/v1/sites' | '/api/v1/segments' | '/api/v1/assets') =>
  allPages<T>((cursor) => load(api.GET(path, { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }) as never));

function FormList() {
  const { query } = useLocation();
  const forms = useLoad(() => listAll<Form>('/api/v1/forms'), 'list');
  useEffect(() => void (document.title = 'Forms · Leadline'), []);
  return (
    <section>
      <div class="title-row">
        <h1 tabIndex={-1}>Forms</h1>
        <a class="button" href="/app/forms/new">
          New form
        </a>
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
            <p>
              <a href="/app/forms/new">Create your first form</a>, then paste its snippet on a page of your site.
            </p>
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

interface Lists {
  sites: Site[];
  segments: components['schemas']['Segment'][];
  assets: components['schemas']['Asset'][];
}

function FormPage({ id }: { id: number | null }) {
  const { route, query } = useLocation();
  const form = useLoad(() => (id ? load(api.GET('/api/v1/forms/{id}', { params: { path: { id } } })) : Promise.resolve(null)), String(id));
  const lists = useLoad(
    async (): Promise<Lists> => {
      const get = <T,>(p: Promise<T[]>) => p.catch(() => [] as T[]);
      const [sites, segments, assets] = await Promise.all([get(listAll<Site>('/api/v1/sites')), get(listAll<Lists['segments'][number]>('/api/v1/segments')), get(listAll<Lists['assets'][number]>('/api/v1/assets'))]);
      return { sites, segments, assets };
    },
    'lists',
  );
  if (form.state === 'loading' || lists.state === 'loading') return <Loading what="the form" />;
  if (form.state === 'error') return <ErrorMessage message={form.message} retry={form.retry} />;
  const l = lists.state === 'done' ? lists.data : { sites: [], segments: [], assets: [] };
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

function Editor(props: { form: Form | null; lists: Lists; justSaved: boolean; onCreated: (f: Form) => void; onDeleted: (f: Form) => void }) {
  const [form, setForm] = useState(props.form);
  const [d, setD] = useState(() => draftOf(props.form));
  const [confirming, setConfirming] = useState(false);
  const saver = useSaver();
  const deleter = useSaver();
  const e = saver.fieldError;
  const set = (p: Partial<Draft>) => setD((x) => ({ ...x, ...p }));
  const setField = (i: number, p: Partial<FieldDraft>) => setD((x) => ({ ...x, fields: x.fields.map((f, j) => (j === i ? { ...f, ...p } : f)) }));
  const setAction = (i: number, p: Partial<ActionDraft>) => setD((x) => ({ ...x, actions: x.actions.map((a, j) => (j === i ? { ...a, ...p } : a)) }));
  const move = (i: number, by: number) =>
    setD((x) => {
      const fields = [...x.fields];
      const [f] = fields.splice(i, 1);
      fields.splice(i + by, 0, f!);
      return { ...x, fields };
    });
  const title = form ? form.name : 'New form';
  useEffect(() => void (document.title = `${title} · Forms · Leadline`), [title]);

  const save = async (ev: Event) => {
    ev.preventDefault();
    const body = bodyOf(d);
    if (!form) {
      const created = await saver.run(() => send(api.POST('/api/v1/forms', { body })), 'Form saved.');
      if (created) props.onCreated(created);
      return;
    }
    const updated = await saver.run(() => send(api.PATCH('/api/v1/forms/{id}', { params: { path: { id: form.id } }, body })), 'Saved.');
    if (updated) setForm(updated);
  };
  const remove = async () => {
    if (!form) return;
    const ok = await deleter.run(() => send(api.DELETE('/api/v1/forms/{id}', { params: { path: { id: form.id } } })), 'Deleted.');
    if (ok !== undefined) props.onDeleted(form);
  };

  const previewId = form?.id ?? 1;
  const body = bodyOf(d);
  const message = {
    type: 'form' as const,
    formId: previewId,
    forms: { [previewId]: publicForm(previewId, { fields: body.fields, submit_label: body.submit_label }) },
    answer: d.after === 'message' ? d.message || 'Thank you!' : `Preview: a visitor would now go to ${d.url}`,
  };
  const fid = (i: number, n: string) => `field-${d.fields[i]!.uid}-${n}`;
  const fe = (i: number, n: string) => e(`fields.${i}.${n}`);

  return (
    <section class="form-editor">
      <p class="crumbs">
        <a href="/app/forms">Forms</a>
      </p>
      <h1 tabIndex={-1}>{title}</h1>
      {props.justSaved && saver.state === 'idle' && (
        <p class="status saved" role="status">
          Form saved.
        </p>
      )}
      <div class="editor-columns">
        <form class="stack" noValidate onSubmit={save} aria-label="Form definition">
          <div class="card stack">
            <h2>Settings</h2>
            <div class="form-grid">
              <Field id="form-name" label="Name" error={e('name')}>
                {(a) => <input {...a} value={d.name} onInput={(x) => set({ name: x.currentTarget.value })} />}
              </Field>
              <Field id="form-submit-label" label="Button label" error={e('submit_label')}>
                {(a) => <input {...a} value={d.submit_label} onInput={(x) => set({ submit_label: x.currentTarget.value })} />}
              </Field>
              <Field id="form-after" label="After submitting" error={e('after_submit.type')}>
                {(a) => (
                  <select {...a} value={d.after} onChange={(x) => set({ after: x.currentTarget.value as Draft['after'] })}>
                    <option value="message">Show a message</option>
                    <option value="redirect">Go to a page</option>
                  </select>
                )}
              </Field>
              {d.after === 'message' ? (
                <Field id="form-message" label="Message" error={e('after_submit.message')}>
                  {(a) => <input {...a} value={d.message} onInput={(x) => set({ message: x.currentTarget.value })} />}
                </Field>
              ) : (
                <Field id="form-url" label="Page address" error={e('after_submit.url')}>
                  {(a) => <input {...a} type="url" value={d.url} onInput={(x) => set({ url: x.currentTarget.value })} />}
                </Field>
              )}
              <Field id="form-min-fill" label="Minimum fill time (ms)" hint="Faster submissions are treated as bots’." error={e('min_fill_ms')}>
                {(a) => <input {...a} inputMode="numeric" value={d.min_fill_ms} onInput={(x) => set({ min_fill_ms: x.currentTarget.value })} />}
              </Field>
              <Field id="form-max-new" label="Progressive profiling: new fields per showing" hint="Empty: no limit." error={e('progressive_profiling.max_new_fields')}>
                {(a) => <input {...a} inputMode="numeric" value={d.max_new} disabled={!d.profiling} onInput={(x) => set({ max_new: x.currentTarget.value })} />}
              </Field>
            </div>
            <label class="check" for="form-profiling">
              <input id="form-profiling" type="checkbox" checked={d.profiling} onChange={(x) => set({ profiling: x.currentTarget.checked })} /> Progressive profiling (hide fields
              a proven contact has filled)
            </label>
            <label class="check" for="form-active">
              <input id="form-active" type="checkbox" checked={d.active} onChange={(x) => set({ active: x.currentTarget.checked })} /> Active (shown on sites)
            </label>
          </div>

          <fieldset class="card stack">
            <legend>Fields</legend>
            {e('fields') && !d.fields.some((_, i) => e(`fields.${i}`)) && <p class="field-error">{e('fields')}</p>}
            <ol class="card-list stack">
              {d.fields.map((f, i) => (
                <li class="card field-card" key={f.uid}>
                  <fieldset class="stack">
                    <legend>
                      Field {i + 1}: {f.label || f.key || 'untitled'}
                    </legend>
                    <div class="form-grid">
                      <Field id={fid(i, 'label')} label="Label" error={fe(i, 'label')}>
                        {(a) => <input {...a} value={f.label} onInput={(x) => setField(i, { label: x.currentTarget.value })} />}
                      </Field>
                      <Field id={fid(i, 'key')} label="Key" hint="a-z, 0-9 and _; the name values are sent under." error={fe(i, 'key')}>
                        {(a) => <input {...a} value={f.key} onInput={(x) => setField(i, { key: x.currentTarget.value })} />}
                      </Field>
                      <Field id={fid(i, 'type')} label="Type" error={fe(i, 'type')}>
                        {(a) => (
                          <select {...a} value={f.type} onChange={(x) => setField(i, { type: x.currentTarget.value as FieldType })}>
                            {TYPES.map(([v, l]) => (
                              <option value={v}>{l}</option>
                            ))}
                          </select>
                        )}
                      </Field>
                      <Field id={fid(i, 'maps-to')} label="Saves to contact field" hint="Built-in, or fields.<custom key>." error={fe(i, 'maps_to')}>
                        {(a) => (
                          <>
                            <input {...a} list="form-targets" value={f.maps_to} onInput={(x) => setField(i, { maps_to: x.currentTarget.value })} />
                          </>
                        )}
                      </Field>
                      {WITH_PLACEHOLDER.has(f.type) && (
                        <Field id={fid(i, 'placeholder')} label="Placeholder" error={fe(i, 'placeholder')}>
                          {(a) => <input {...a} value={f.placeholder} onInput={(x) => setField(i, { placeholder: x.currentTarget.value })} />}
                        </Field>
                      )}
                      <Field id={fid(i, 'help')} label="Help text" error={fe(i, 'help')}>
                        {(a) => <input {...a} value={f.help} onInput={(x) => setField(i, { help: x.currentTarget.value })} />}
                      </Field>
                      {WITH_OPTIONS.has(f.type) && (
                        <Field id={fid(i, 'options')} label="Options" hint="One per line; value|Label to show another label." error={fe(i, 'options')}>
                          {(a) => <textarea {...a} rows={4} value={f.options} onInput={(x) => setField(i, { options: x.currentTarget.value })} />}
                        </Field>
                      )}
                      {WITH_PATTERN.has(f.type) && (
                        <>
                          <Field id={fid(i, 'pattern')} label="Pattern" hint="A full match; plain groups ( ) only." error={fe(i, 'rules.pattern')}>
                            {(a) => <input {...a} value={f.pattern} onInput={(x) => setField(i, { pattern: x.currentTarget.value })} />}
                          </Field>
                          <Field id={fid(i, 'pattern-message')} label="Message when the pattern fails" error={fe(i, 'rules.pattern_message')}>
                            {(a) => <input {...a} value={f.pattern_message} onInput={(x) => setField(i, { pattern_message: x.currentTarget.value })} />}
                          </Field>
                        </>
                      )}
                      {WITH_LENGTH.has(f.type) && (
                        <>
                          <Field id={fid(i, 'min-length')} label="Minimum length" error={fe(i, 'rules.min_length')}>
                            {(a) => <input {...a} inputMode="numeric" value={f.min_length} onInput={(x) => setField(i, { min_length: x.currentTarget.value })} />}
                          </Field>
                          <Field id={fid(i, 'max-length')} label="Maximum length" error={fe(i, 'rules.max_length')}>
                            {(a) => <input {...a} inputMode="numeric" value={f.max_length} onInput={(x) => setField(i, { max_length: x.currentTarget.value })} />}
                          </Field>
                        </>
                      )}
                      {(f.type === 'number' || f.type === 'date') && (
                        <>
                          <Field id={fid(i, 'min')} label="Minimum" error={fe(i, 'rules.min')}>
                            {(a) => <input {...a} {...({ type: f.type === 'date' ? 'date' : 'text' } as object)} value={f.min} onInput={(x) => setField(i, { min: x.currentTarget.value })} />}
                          </Field>
                          <Field id={fid(i, 'max')} label="Maximum" error={fe(i, 'rules.max')}>
                            {(a) => <input {...a} {...({ type: f.type === 'date' ? 'date' : 'text' } as object)} value={f.max} onInput={(x) => setField(i, { max: x.currentTarget.value })} />}
                          </Field>
                        </>
                      )}
                      {f.type === 'hidden' && (
                        <Field id={fid(i, 'source')} label="Value from" error={fe(i, 'source')}>
                          {(a) => (
                            <select {...a} value={f.source} onChange={(x) => setField(i, { source: x.currentTarget.value })}>
                              <option value="">A fixed value (default)</option>
                              {SOURCES.map((s) => (
                                <option value={s}>{s}</option>
                              ))}
                            </select>
                          )}
                        </Field>
                      )}
                      {f.type !== 'consent' && (
                        <Field id={fid(i, 'default')} label="Default value" error={fe(i, 'default')}>
                          {(a) => <input {...a} value={f.default} onInput={(x) => setField(i, { default: x.currentTarget.value })} />}
                        </Field>
                      )}
                    </div>
                    {f.type !== 'hidden' && (
                      <label class="check" for={fid(i, 'required')}>
                        <input id={fid(i, 'required')} type="checkbox" checked={f.required} onChange={(x) => setField(i, { required: x.currentTarget.checked })} /> Required
                      </label>
                    )}
                    {fe(i, 'required') && <p class="field-error">{fe(i, 'required')}</p>}
                    <div class="actions">
                      <button type="button" class="secondary" disabled={i === 0} onClick={() => move(i, -1)}>
                        Move up<span class="sr-only"> field {i + 1}</span>
                      </button>
                      <button type="button" class="secondary" disabled={i === d.fields.length - 1} onClick={() => move(i, 1)}>
                        Move down<span class="sr-only"> field {i + 1}</span>
                      </button>
                      <button type="button" class="secondary danger-text" disabled={d.fields.length === 1} onClick={() => set({ fields: d.fields.filter((_, j) => j !== i) })}>
                        Remove<span class="sr-only"> field {i + 1}</span>
                      </button>
                    </div>
                  </fieldset>
                </li>
              ))}
            </ol>
            <datalist id="form-targets">
              {TARGETS.map((t) => (
                <option value={t} />
              ))}
            </datalist>
            <div class="actions">
              <button type="button" class="secondary" onClick={() => set({ fields: [...d.fields, fieldDraft()] })}>
                Add a field
              </button>
            </div>
          </fieldset>

          <fieldset class="card stack">
            <legend>Actions on each submission</legend>
            {d.actions.length === 0 && <p class="hint">None: submissions are stored and the contact is created or updated.</p>}
            <ol class="card-list stack">
              {d.actions.map((a, i) => {
                const aid = (n: string) => `action-${a.uid}-${n}`;
                const ae = e(`actions.${i}`);
                return (
                  <li class="form-grid" key={a.uid}>
                    <Field id={aid('type')} label={`Action ${i + 1}`} error={ae}>
                      {(x) => (
                        <select {...x} value={a.type} onChange={(v) => setAction(i, { type: v.currentTarget.value as Action['type'], text: '', number: '' })}>
                          <option value="add_tags">Add tags</option>
                          <option value="remove_tags">Remove tags</option>
                          <option value="add_to_segment">Add to segment</option>
                          <option value="remove_from_segment">Remove from segment</option>
                          <option value="give_points">Give points</option>
                          <option value="set_field">Set a contact field</option>
                          <option value="deliver_asset">Deliver a file</option>
                        </select>
                      )}
                    </Field>
                    {(a.type === 'add_tags' || a.type === 'remove_tags') && (
                      <Field id={aid('tags')} label="Tags" hint="Separated by commas.">
                        {(x) => <input {...x} value={a.text} onInput={(v) => setAction(i, { text: v.currentTarget.value })} />}
                      </Field>
                    )}
                    {(a.type === 'add_to_segment' || a.type === 'remove_from_segment') && (
                      <Field id={aid('segment')} label="Segment">
                        {(x) => (
                          <select {...x} value={a.number} onChange={(v) => setAction(i, { number: v.currentTarget.value })}>
                            <option value="">Choose…</option>
                            {props.lists.segments.map((s) => (
                              <option value={String(s.id)}>{s.name}</option>
                            ))}
                          </select>
                        )}
                      </Field>
                    )}
                    {a.type === 'deliver_asset' && (
                      <Field id={aid('asset')} label="File">
                        {(x) => (
                          <select {...x} value={a.number} onChange={(v) => setAction(i, { number: v.currentTarget.value })}>
                            <option value="">Choose…</option>
                            {props.lists.assets.map((s) => (
                              <option value={String(s.id)}>{s.title || s.filename}</option>
                            ))}
                          </select>
                        )}
                      </Field>
                    )}
                    {a.type === 'give_points' && (
                      <>
                        <Field id={aid('points')} label="Points">
                          {(x) => <input {...x} inputMode="numeric" value={a.number} onInput={(v) => setAction(i, { number: v.currentTarget.value })} />}
                        </Field>
                        <Field id={aid('reason')} label="Reason">
                          {(x) => <input {...x} value={a.text} onInput={(v) => setAction(i, { text: v.currentTarget.value })} />}
                        </Field>
                      </>
                    )}
                    {a.type === 'set_field' && (
                      <>
                        <Field id={aid('field')} label="Contact field">
                          {(x) => <input {...x} list="form-targets" value={a.field} onInput={(v) => setAction(i, { field: v.currentTarget.value })} />}
                        </Field>
                        <Field id={aid('value')} label="Value">
                          {(x) => <input {...x} value={a.text} onInput={(v) => setAction(i, { text: v.currentTarget.value })} />}
                        </Field>
                      </>
                    )}
                    <div class="actions">
                      <button type="button" class="secondary danger-text" onClick={() => set({ actions: d.actions.filter((_, j) => j !== i) })}>
                        Remove<span class="sr-only"> action {i + 1}</span>
                      </button>
                    </div>
                  </li>
                );
              })}
            </ol>
            <div class="actions">
              <button type="button" class="secondary" onClick={() => set({ actions: [...d.actions, actionDraft()] })}>
                Add an action
              </button>
            </div>
          </fieldset>

          <div class="actions">
            <button type="submit" disabled={saver.busy}>
              {form ? 'Save form' : 'Create form'}
            </button>
            {form && !confirming && (
              <button type="button" class="secondary danger-text" onClick={() => setConfirming(true)}>
                Delete form
              </button>
            )}
          </div>
          {confirming && form && (
            <Confirm
              question={`Delete “${form.name}” and its ${formatInteger(form.submissions)} stored submissions?`}
              yes="Delete form"
              busy={deleter.busy}
              onYes={remove}
              onNo={() => setConfirming(false)}
            />
          )}
          <SaveStatus status={saver.status} shown={['name', 'submit_label', 'after_submit', 'min_fill_ms', 'progressive_profiling', 'fields', 'actions']} />
          <SaveStatus status={deleter.status} />
        </form>

        <aside class="preview-column" aria-labelledby="preview-heading">
          <h2 id="preview-heading">Preview</h2>
          <p class="hint">As visitors see it, drawn by the widget script itself. Submitting here stores nothing.</p>
          <WidgetPreview message={message} title="Form preview" />
          {form && <Embed form={form} sites={props.lists.sites} />}
        </aside>
      </div>
      {form && <Stats form={form} />}
      {form && <Results form={form} />}
    </section>
  );
}

function Embed({ form, sites }: { form: Form; sites: Site[] }) {
  const [site, setSite] = useState(sites[0]?.public_key ?? '');
  const snippet = formSnippet(form.id, site || 'YOUR_SITE_KEY');
  return (
    <div class="card stack embed">
      <h2>Embed</h2>
      {sites.length === 0 ? (
        <p class="hint">
          Register a site under <a href="/app/settings/sites">Settings → Sites</a> to get its key.
        </p>
      ) : (
        <Field id="embed-site" label="Site">
          {(a) => (
            <select {...a} value={site} onChange={(x) => setSite(x.currentTarget.value)}>
              {sites.map((s) => (
                <option value={s.public_key}>{s.name}</option>
              ))}
            </select>
          )}
        </Field>
      )}
      <pre class="snippet" id="form-snippet" tabIndex={0} aria-label="Embed snippet">
        {snippet}
      </pre>
      <CopyButton text={snippet} label="Copy snippet" target="form-snippet" />
      <p class="hint">
        Without JavaScript: <code>{`${location.origin}/f/${form.id}/embed?k=${site || 'YOUR_SITE_KEY'}&return=URL`}</code> serves a plain HTML form.
      </p>
    </div>
  );
}

const DAYS = [7, 30, 90];
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function Stats({ form }: { form: Form }) {
  const [days, setDays] = useState(30);
  const report = useLoad(() => loadJson(api.GET('/api/v1/reports/forms', { params: { query: { from: dayOf(Date.now() - (days - 1) * 864e5) } } })), `${form.id}:${days}:${form.updated_at}`);
  const row = report.state === 'done' ? report.data.rows.find((r) => r.form_id === form.id) : undefined;
  const steps: [string, number][] = [
    ['Views', row?.views ?? 0],
    ['Starts', row?.starts ?? 0],
    ['Submissions', row?.submissions ?? 0],
    ['Contacts', row?.contacts ?? 0],
  ];
  return (
    <section class="card" aria-labelledby="stats-heading">
      <div class="row-between">
        <h2 id="stats-heading">Funnel</h2>
        <label>
          Period{' '}
          <select value={days} onChange={(x) => setDays(Number(x.currentTarget.value))}>
            {DAYS.map((n) => (
              <option value={n}>Last {n} days</option>
            ))}
          </select>
        </label>
      </div>
      {report.state === 'loading' && <Loading what="the funnel" />}
      {report.state === 'error' && <ErrorMessage message={report.message} retry={report.retry} />}
      {report.state === 'done' && (
        <ol class="funnel form-funnel">
          {steps.map(([name, n], i) => (
            <li data-step={name.toLowerCase()}>
              <span class="funnel-name">{name}</span> <strong class="funnel-count">{formatInteger(n)}</strong>
              {i > 0 && steps[0]![1] > 0 && <span class="hint"> ({formatPercent(n / steps[0]![1])} of views)</span>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function Results({ form }: { form: Form }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(
    () => load(api.GET('/api/v1/forms/{id}/results', { params: { path: { id: form.id }, query: { limit: 25, ...(cursor ? { cursor } : {}) } } })),
    `${form.id}:${cursor ?? ''}`,
  );
  const keys = form.fields.map((f) => f.key);
  return (
    <section class="card" aria-labelledby="results-heading">
      <div class="row-between">
        <h2 id="results-heading">Submissions</h2>
        <a href={`/api/v1/forms/${form.id}/results.csv`} download>
          Download CSV
        </a>
      </div>
      {page.state === 'loading' && <Loading what="submissions" />}
      {page.state === 'error' && <ErrorMessage message={page.message} retry={page.retry} />}
      {page.state === 'done' &&
        (page.data.data.length === 0 && !cursor ? (
          <Empty title="No submissions yet." />
        ) : (
          <>
            <div class="table-wrap" role="region" aria-label="Submissions" tabIndex={0}>
              <table class="results">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    {keys.map((k) => (
                      <th scope="col">{form.fields.find((f) => f.key === k)?.label ?? k}</th>
                    ))}
                    <th scope="col">Contact</th>
                    <th scope="col">Page</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.data.map((r) => (
                    <tr>
                      <th scope="row">{formatDateTime(r.created_at)}</th>
                      {keys.map((k) => (
                        <td>{str(r.values[k])}</td>
                      ))}
                      <td>{r.contact_id ? <a href={`/app/contacts/${r.contact_id}`}>#{r.contact_id}</a> : '—'}</td>
                      <td>{r.page_url ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div class="actions">
              <button type="button" class="secondary" disabled={!cursors.length} onClick={() => setCursors(cursors.slice(0, -1))}>
                Newer
              </button>
              <button type="button" class="secondary" disabled={!page.data.has_more} onClick={() => page.data.next_cursor && setCursors([...cursors, page.data.next_cursor])}>
                Older
              </button>
            </div>
          </>
        ))}
    </section>
  );
}

export default function Forms() {
  const { params } = useRoute();
  if (!params.id) return <FormList />;
  if (params.id === 'new') return <FormPage id={null} />;
  const id = Number(params.id);
  if (!Number.isSafeInteger(id) || id < 1) return <ErrorMessage message="There is no form at this address." />;
  return <FormPage id={id} />;
}
