// One form field: label, control, help and error, wired for assistive technology
// (label for=, required, aria-invalid, aria-describedby naming the help and the error).
// Ids need only be unique inside the widget's shadow root.
import type { Field as F, Value } from './types';

const INPUT: Record<string, 'email' | 'tel' | 'number' | 'date'> = { email: 'email', tel: 'tel', number: 'number', date: 'date' };
const AUTO: Record<string, string> = { email: 'email', tel: 'tel', country: 'country' };

export function Field({ f, value, error, set }: { f: F; value: Value | undefined; error?: string; set: (v: Value) => void }) {
  const id = 'f-' + f.key;
  const described = [f.help && id + '-h', error && id + '-e'].filter(Boolean).join(' ') || undefined;
  const a = { 'aria-invalid': error ? ('true' as const) : undefined, 'aria-describedby': described };
  const r = f.rules || {};
  const text = typeof value == 'string' ? value : '';
  const list = Array.isArray(value) ? value : [];
  const opts = f.options || [];
  const input = (e: Event) => set((e.currentTarget as HTMLInputElement).value);
  const tail = (
    <>
      {f.help && (
        <p class="help" id={id + '-h'}>
          {f.help}
        </p>
      )}
      {error && (
        <p class="err" id={id + '-e'}>
          {error}
        </p>
      )}
    </>
  );

  if (f.type == 'radio' || f.type == 'checkbox_group') {
    const radio = f.type == 'radio';
    return (
      <fieldset class="fld" {...a} role={radio ? 'radiogroup' : undefined}>
        <legend>
          {f.label}
          {f.required && <span aria-hidden="true"> *</span>}
        </legend>
        {opts.map((o, i) => (
          <label class="opt">
            <input
              type={radio ? 'radio' : 'checkbox'}
              id={i ? `${id}-${i}` : id}
              name={f.key}
              value={o.value}
              required={radio && f.required}
              checked={radio ? text == o.value : list.includes(o.value)}
              onChange={() => set(radio ? o.value : list.includes(o.value) ? list.filter((x) => x != o.value) : [...list, o.value])}
            />
            {o.label}
          </label>
        ))}
        {tail}
      </fieldset>
    );
  }

  if (f.type == 'consent')
    return (
      <div class="fld">
        <label class="opt">
          <input type="checkbox" id={id} name={f.key} required={f.required} checked={value === true} onChange={(e) => set(e.currentTarget.checked)} {...a} />
          {f.label}
          {f.required && <span aria-hidden="true"> *</span>}
        </label>
        {tail}
      </div>
    );

  const common = { id, name: f.key, required: f.required, value: text, onInput: input, placeholder: f.placeholder, autocomplete: AUTO[f.type], ...a };
  return (
    <div class="fld">
      <label for={id}>
        {f.label}
        {f.required && <span aria-hidden="true"> *</span>}
      </label>
      {f.type == 'textarea' ? (
        <textarea {...common} rows={4} minLength={r.min_length} maxLength={r.max_length} />
      ) : f.type == 'select' || f.type == 'country' ? (
        <select {...common} onChange={input}>
          <option value="">{f.placeholder || 'Choose…'}</option>
          {opts.map((o) => (
            <option value={o.value}>{o.label}</option>
          ))}
        </select>
      ) : (
        <input
          {...common}
          type={(INPUT[f.type] || 'text') as 'text'}
          min={r.min}
          max={r.max}
          minLength={r.min_length}
          maxLength={r.max_length}
        />
      )}
      {tail}
    </div>
  );
}
