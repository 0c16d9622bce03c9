// The contact's profile: core and custom fields, each server error next to the field it names.
import { useEffect, useRef, useState } from 'preact/hooks';
import { can } from '../access';
import { api } from '../api/client';
import { writeResult, type FieldProblem } from '../ui/contacts';
import { label } from '../ui/format';
import { CannotChange, SaveStatus, type Detail, type Field, type Save } from './parts';

const CORE: { key: keyof Detail & string; label: string; type?: string; max: number }[] = [
  { key: 'email', label: 'Email', type: 'email', max: 254 },
  { key: 'first_name', label: 'First name', max: 100 },
  { key: 'last_name', label: 'Last name', max: 100 },
  { key: 'phone', label: 'Phone', type: 'tel', max: 40 },
  { key: 'job_title', label: 'Job title', max: 120 },
  { key: 'city', label: 'City', max: 100 },
  { key: 'country', label: 'Country', max: 60 },
];

/** Where a role may not change something: what it lacks, in place of the form (dashboard/access.ts). */

export function Profile({ contact, fields, saved }: { contact: Detail; fields: Field[]; saved: (c: Detail) => void }) {
  const mayEdit = can('contacts', 'change');
  const initial = () => {
    const v: Record<string, string> = {};
    for (const f of CORE) v[f.key] = (contact[f.key] as string | null) ?? '';
    for (const f of fields) {
      const x = contact.fields[f.key];
      v[`fields.${f.key}`] = x === undefined || x === null ? '' : Array.isArray(x) ? x.join('|') : String(x);
    }
    return v;
  };
  const [values, setValues] = useState(initial);
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const [save, setSave] = useState<Save>({ state: 'idle' });
  useEffect(() => setValues(initial()), [contact.id, fields.length]);
  const problemOf = (key: string) => problems.find((p) => p.field === key || p.field.startsWith(`${key}.`));
  const firstInvalid = useRef<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    const before = initial();
    const patch: Record<string, unknown> = {};
    const custom: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) {
      if (v === before[k]) continue;
      const value = v.trim() === '' ? null : v.trim();
      if (k.startsWith('fields.')) {
        const def = fields.find((f) => `fields.${f.key}` === k);
        custom[k.slice(7)] = value !== null && def?.type === 'multiselect' ? value.split(/[|;,]/).map((s) => s.trim()).filter(Boolean) : value;
      } else patch[k] = value;
    }
    if (Object.keys(custom).length) patch.fields = custom;
    if (!Object.keys(patch).length) return setSave({ state: 'saved', message: 'Nothing changed.' });
    setSave({ state: 'saving' });
    setProblems([]);
    const r = await writeResult(api.PATCH('/api/v1/contacts/{id}', { params: { path: { id: contact.id } }, body: patch as never }));
    if (r.ok) {
      setSave({ state: 'saved', message: 'Saved.' });
      saved({ ...contact, ...r.data });
      return;
    }
    // A taken email is a 409 without details: it is about the email field.
    const named = r.fields.length ? r.fields : /email/i.test(r.message) && 'email' in patch ? [{ field: 'email', message: r.message }] : [];
    setProblems(named);
    setSave({ state: 'error', message: named.length ? `Not saved: ${named.length === 1 ? 'one field needs' : `${named.length} fields need`} a change.` : `Not saved: ${r.message}` });
    firstInvalid.current = named[0]?.field ?? null;
    requestAnimationFrame(() => {
      const f = firstInvalid.current;
      if (f) document.getElementById(`profile-${f.replace(/\W/g, '-')}`)?.focus();
    });
  };

  const input = (key: string, text: string, opts: { type?: string; max?: number; field?: Field } = {}) => {
    const id = `profile-${key.replace(/\W/g, '-')}`;
    const p = problemOf(key);
    const common = {
      id,
      'aria-invalid': p ? ('true' as const) : undefined,
      'aria-describedby': p ? `${id}-error` : undefined,
    };
    const f = opts.field;
    return (
      <div class="field">
        <label for={id}>{text}</label>
        {f?.type === 'select' && f.options ? (
          <select {...common} value={values[key]} onChange={(e) => setValues({ ...values, [key]: e.currentTarget.value })}>
            <option value="">–</option>
            {f.options.map((o) => (
              <option value={o}>{o}</option>
            ))}
          </select>
        ) : f?.type === 'boolean' ? (
          <select {...common} value={values[key]} onChange={(e) => setValues({ ...values, [key]: e.currentTarget.value })}>
            <option value="">–</option>
            <option value="true">Yes</option>
            <option value="false">No</option>
          </select>
        ) : (
          <input
            {...common}
            type={(f?.type === 'date' ? 'date' : opts.type === 'tel' ? 'tel' : 'text') as 'text'}
            inputMode={(opts.type === 'email' ? 'email' : f?.type === 'number' ? 'decimal' : undefined) as 'email' | undefined}
            autocomplete="off"
            maxLength={opts.max ?? 1000}
            value={values[key]}
            onInput={(e) => setValues({ ...values, [key]: e.currentTarget.value })}
          />
        )}
        {f?.type === 'multiselect' && <p class="hint">Separate values with |</p>}
        {p && (
          <p id={`${id}-error`} class="field-error">
            {p.message}
          </p>
        )}
      </div>
    );
  };

  return (
    <form onSubmit={submit} noValidate>
      <fieldset class="bare" disabled={!mayEdit}>
        <legend class="sr-only">Profile fields</legend>
        <div class="form-grid">
          {CORE.map((f) => input(f.key, f.label, { type: f.type, max: f.max }))}
          {fields.map((f) => input(`fields.${f.key}`, f.label, { field: f }))}
        </div>
      </fieldset>
      {mayEdit ? (
        <div class="form-actions">
          <button type="submit" disabled={save.state === 'saving'}>
            {save.state === 'saving' ? 'Saving…' : 'Save profile'}
          </button>
          <SaveStatus save={save} />
        </div>
      ) : (
        <CannotChange area="contacts" />
      )}
    </form>
  );
}

