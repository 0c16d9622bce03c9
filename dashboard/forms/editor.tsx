// The form editor: settings, fields and actions beside a live preview drawn by the real widget
// chunk from what the server would serve for the draft (POST /api/v1/forms/preview), the embed
// snippet, and for a saved form its funnel and submissions.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/client';
import type { components } from '../api/schema';
import { can, refusal } from '../access';
import { WidgetPreview } from '../preview/widget-preview';
import { PreviewProblems, useServerPreview } from '../preview/use-server-preview';
import { Confirm, Field, SaveStatus, send, useSaver } from '../ui/editing';
import { scriptTag, SnippetBox } from '../ui/embed';
import { formatInteger } from '../ui/format';
import { Refused } from '../ui/status';
import { ActionsEditor } from './actions-editor';
import { FieldsEditor } from './field-editor';
import type { Lists } from './lists';
import { bodyOf, draftOf, type Draft, type Form } from './model';
import { Results, Stats } from './results';

export const formSnippet = (id: number, key: string) => `${scriptTag(key)}\n<div data-leadline-form="${id}"></div>`;

type PublicForm = components['schemas']['PublicForm'];

/** "fields.1.options" as a person reads it: "Field 2, options:". */
const where = (field: string) => {
  const m = /^fields\.(\d+)\.?(.*)$/.exec(field);
  if (m) return `Field ${Number(m[1]) + 1}${m[2] ? `, ${m[2].replace(/^rules\./, '').replace(/_/g, ' ')}` : ''}:`;
  const a = /^actions\.(\d+)/.exec(field);
  return a ? `Action ${Number(a[1]) + 1}:` : `${field.replace(/[._]/g, ' ')}:`;
};

/** What the preview's submit answers: the message, or where a visitor would go. */
const answerOf = (def: PublicForm) => (def.success.type === 'message' ? def.success.message : `Preview: a visitor would now go to ${def.success.url}`);

export function Editor(props: { form: Form | null; lists: Lists; justSaved: boolean; onCreated: (f: Form) => void; onDeleted: (f: Form) => void }) {
  const [form, setForm] = useState(props.form);
  const [d, setD] = useState(() => draftOf(props.form));
  const [confirming, setConfirming] = useState(false);
  const saver = useSaver();
  const deleter = useSaver();
  const e = saver.fieldError;
  const set = (p: Partial<Draft>) => setD((x) => ({ ...x, ...p }));
  const title = form ? form.name : 'New form';
  const editable = can('forms', 'change');
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

  // The preview needs no name and no on/off switch: the rest is the form as it would be saved.
  const { name: _name, active: _active, ...draft } = bodyOf(d);
  const preview = useServerPreview(
    () => send(api.POST('/api/v1/forms/preview', { params: { query: form ? { id: form.id } : {} }, body: draft })),
    `${form?.id ?? 0}:${JSON.stringify(draft)}`,
  );
  const def = preview.data;

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
      {!editable && <Refused message={refusal('forms', 'change')} />}
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

          <FieldsEditor d={d} set={set} e={e} />
          <ActionsEditor d={d} set={set} e={e} lists={props.lists} />

          {editable && (
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
          )}
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
          <p class="hint">As visitors see it, drawn by the widget script itself from what the server would serve. Submitting here stores nothing.</p>
          {def ? (
            <WidgetPreview message={{ type: 'form', formId: def.id, forms: { [def.id]: def }, answer: answerOf(def) }} title="Form preview" />
          ) : (
            !preview.message && <div class="widget-preview" aria-busy="true" />
          )}
          <PreviewProblems preview={preview} label={where} />
          {form && (
            <SnippetBox
              id="form-embed"
              title="Embed"
              sites={props.lists.sites}
              snippet={(key) => formSnippet(form.id, key)}
              label="Embed snippet"
              copy="Copy snippet"
              after={(key) => (
                <p class="hint">
                  Without JavaScript: <code>{`${location.origin}/f/${form.id}/embed?k=${key}&return=URL`}</code> serves a plain HTML form.
                </p>
              )}
            />
          )}
        </aside>
      </div>
      {form && <Stats form={form} />}
      {form && <Results form={form} />}
    </section>
  );
}
