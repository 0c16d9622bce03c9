// The small controls the step and source panels are made of: a picker over a list the API gave,
// whole numbers, durations, comma-separated tags. Each is labelled and shows the server's error
// for the part of the step it edits.
import { useState } from 'preact/hooks';
import { Field } from '../ui/editing';
import type { Named } from './describe';

/** A select over a list from the API; an id the list lacks (deleted since) stays choosable, marked. */
export function IdPicker(props: {
  id: string;
  label: string;
  value: number | null | undefined;
  options: Named[];
  error?: string;
  hint?: string;
  /** The first option's words; `undefined` is written when it is chosen. */
  none?: string;
  onChange: (v: number | undefined) => void;
}) {
  const known = props.value === null || props.value === undefined || props.options.some((o) => o.id === props.value);
  return (
    <Field id={props.id} label={props.label} error={props.error} hint={props.hint}>
      {(a) => (
        <select {...a} value={props.value ?? ''} onChange={(e) => props.onChange(e.currentTarget.value ? Number(e.currentTarget.value) : undefined)}>
          <option value="">{props.none ?? 'Choose…'}</option>
          {!known && <option value={props.value!}>#{props.value} (not found)</option>}
          {props.options.map((o) => (
            <option value={o.id}>{o.name}</option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** A whole number; empty is `undefined` (the server names what is missing). */
export function IntField(props: { id: string; label: string; value: number | undefined; error?: string; hint?: string; min?: number; max?: number; onChange: (v: number | undefined) => void }) {
  return (
    <Field id={props.id} label={props.label} error={props.error} hint={props.hint} class="narrow-field">
      {(a) => (
        <input
          {...a}
          type="number"
          inputMode="numeric"
          step={1}
          min={props.min}
          max={props.max}
          value={props.value ?? ''}
          onInput={(e) => {
            const t = e.currentTarget.value.trim();
            props.onChange(t === '' || Number.isNaN(Number(t)) ? undefined : Math.trunc(Number(t)));
          }}
        />
      )}
    </Field>
  );
}

export type Duration = { days?: number; hours?: number; minutes?: number };

/** Days, hours and minutes; a part left empty is left out. */
export function DurationFields(props: { id: string; legend: string; value: Duration; error?: string; onChange: (d: Duration) => void }) {
  const set = (k: keyof Duration, v: number | undefined) => {
    const next = { ...props.value };
    if (v === undefined || v === 0) delete next[k];
    else next[k] = v;
    props.onChange(next);
  };
  return (
    <fieldset class="cb-duration" aria-describedby={props.error ? `${props.id}-error` : undefined}>
      <legend>{props.legend}</legend>
      <div class="cb-row">
        <IntField id={`${props.id}-days`} label="Days" min={0} max={3650} value={props.value.days} onChange={(v) => set('days', v)} />
        <IntField id={`${props.id}-hours`} label="Hours" min={0} value={props.value.hours} onChange={(v) => set('hours', v)} />
        <IntField id={`${props.id}-minutes`} label="Minutes" min={0} value={props.value.minutes} onChange={(v) => set('minutes', v)} />
      </div>
      {props.error && (
        <p class="field-error" id={`${props.id}-error`}>
          {props.error}
        </p>
      )}
    </fieldset>
  );
}

/** Tags typed as "vip, trial"; the text is kept as typed while the list follows it. */
export function TagsField(props: { id: string; label: string; value: string[]; known: string[]; error?: string; onChange: (tags: string[]) => void }) {
  const [text, setText] = useState(props.value.join(', '));
  return (
    <Field id={props.id} label={props.label} error={props.error} hint={`Separate tags with commas.${props.known.length ? ` In use: ${props.known.slice(0, 8).join(', ')}${props.known.length > 8 ? '…' : ''}` : ''}`}>
      {(a) => (
        <input
          {...a}
          type="text"
          maxLength={2000}
          value={text}
          onInput={(e) => {
            setText(e.currentTarget.value);
            props.onChange(
              e.currentTarget.value
                .split(',')
                .map((t) => t.trim())
                .filter(Boolean),
            );
          }}
        />
      )}
    </Field>
  );
}

export function TextField(props: { id: string; label: string; value: string | undefined; error?: string; hint?: string; type?: 'text' | 'email' | 'url'; maxLength?: number; onChange: (v: string) => void }) {
  return (
    <Field id={props.id} label={props.label} error={props.error} hint={props.hint}>
      {(a) => <input {...a} {...({ type: props.type ?? 'text' } as { type: 'text' })} maxLength={props.maxLength ?? 500} value={props.value ?? ''} onInput={(e) => props.onChange(e.currentTarget.value)} />}
    </Field>
  );
}
