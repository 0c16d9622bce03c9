// The form editor's actions: what each stored submission does (tags, segments, points, a
// contact field, a file to deliver).
import { Field } from '../ui/editing';
import { actionDraft, type Action, type ActionDraft, type Draft } from './model';
import type { Lists } from './lists';

export function ActionsEditor({ d, set, e, lists }: { d: Draft; set: (p: Partial<Draft>) => void; e: (name: string) => string | undefined; lists: Lists }) {
  const setAction = (i: number, p: Partial<ActionDraft>) => set({ actions: d.actions.map((a, j) => (j === i ? { ...a, ...p } : a)) });
  return (
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
                      {lists.segments.map((s) => (
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
                      {lists.assets.map((s) => (
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
  );
}
