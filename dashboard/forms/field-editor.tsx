// The form editor's fields: one card per field with what its type takes (options, pattern,
// lengths, bounds, the source of a hidden value), in order, each with the server's error beside it.
import { Field } from '../ui/editing';
import { fieldDraft, SOURCES, TARGETS, TYPES, WITH_LENGTH, WITH_OPTIONS, WITH_PATTERN, WITH_PLACEHOLDER, type Draft, type FieldDraft, type FieldType } from './model';

export function FieldsEditor({ d, set, e }: { d: Draft; set: (p: Partial<Draft>) => void; e: (name: string) => string | undefined }) {
  const setField = (i: number, p: Partial<FieldDraft>) => set({ fields: d.fields.map((f, j) => (j === i ? { ...f, ...p } : f)) });
  const move = (i: number, by: number) => {
    const fields = [...d.fields];
    const [f] = fields.splice(i, 1);
    fields.splice(i + by, 0, f!);
    set({ fields });
  };
  const fid = (i: number, n: string) => `field-${d.fields[i]!.uid}-${n}`;
  const fe = (i: number, n: string) => e(`fields.${i}.${n}`);
  return (
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
  );
}
