// What a focus item looks like and says: its kind (pop-up, bar, slide-in, full screen) and
// where it sits, its colours, and its content (a notice, a link with a call to action, a form).
import type { components } from '../api/schema';
import { ColourPanel } from '../ui/colours';
import { Field } from '../ui/editing';
import { CORNERS, DEFAULT_COLORS, KINDS, STYLE_TYPES, type Corner, type Draft, type Kind, type StyleType } from './model';

type Err = (name: string) => string | undefined;

export function StylePanel({ d, set, e }: { d: Draft; set: (p: Partial<Draft>) => void; e: Err }) {
  return (
    <fieldset class="card stack">
      <legend>Look</legend>
      <div class="form-grid">
        <Field id="focus-type" label="Type" error={e('style.type')}>
          {(a) => (
            <select {...a} value={d.type} onChange={(x) => set({ type: x.currentTarget.value as StyleType })}>
              {STYLE_TYPES.map(([v, l]) => (
                <option value={v}>{l}</option>
              ))}
            </select>
          )}
        </Field>
        {d.type === 'bar' && (
          <Field id="focus-position" label="Position" error={e('style.position')}>
            {(a) => (
              <select {...a} value={d.position} onChange={(x) => set({ position: x.currentTarget.value as Draft['position'] })}>
                <option value="top">Top of the page</option>
                <option value="bottom">Bottom of the page</option>
              </select>
            )}
          </Field>
        )}
        {d.type === 'slide_in' && (
          <Field id="focus-corner" label="Corner" error={e('style.corner')}>
            {(a) => (
              <select {...a} value={d.corner} onChange={(x) => set({ corner: x.currentTarget.value as Corner })}>
                {CORNERS.map(([v, l]) => (
                  <option value={v}>{l}</option>
                ))}
              </select>
            )}
          </Field>
        )}
      </div>
      {d.type === 'bar' && (
        <label class="check" for="focus-sticky">
          <input id="focus-sticky" type="checkbox" checked={d.sticky} onChange={(x) => set({ sticky: x.currentTarget.checked })} /> Stays in view while the page scrolls
        </label>
      )}
      <ColourPanel id="focus-colour" legend="Colours" value={d.colors} base={DEFAULT_COLORS} onChange={(colors) => set({ colors })} error={(k) => e(`style.colors.${k}`)} />
    </fieldset>
  );
}

export function ContentPanel({ d, set, e, forms }: { d: Draft; set: (p: Partial<Draft>) => void; e: Err; forms: components['schemas']['Form'][] }) {
  const chosen = forms.find((f) => String(f.id) === d.form_id);
  return (
    <fieldset class="card stack">
      <legend>Content</legend>
      <div class="form-grid">
        <Field id="focus-kind" label="Shows" error={e('content.kind')}>
          {(a) => (
            <select {...a} value={d.kind} onChange={(x) => set({ kind: x.currentTarget.value as Kind })}>
              {KINDS.map(([v, l]) => (
                <option value={v}>{l}</option>
              ))}
            </select>
          )}
        </Field>
        <Field id="focus-heading" label="Heading" error={e('content.heading')}>
          {(a) => <input {...a} value={d.heading} onInput={(x) => set({ heading: x.currentTarget.value })} />}
        </Field>
        <Field id="focus-body" label="Text" hint="Plain text; line breaks are kept." error={e('content.body')} class="wide">
          {(a) => <textarea {...a} rows={3} value={d.body} onInput={(x) => set({ body: x.currentTarget.value })} />}
        </Field>
        {d.kind === 'link' && (
          <>
            <Field id="focus-cta-label" label="Button label" error={e('content.cta.label') ?? e('content.cta')}>
              {(a) => <input {...a} value={d.cta_label} onInput={(x) => set({ cta_label: x.currentTarget.value })} />}
            </Field>
            <Field id="focus-cta-url" label="Button goes to" hint="An address starting with https:// or http://." error={e('content.cta.url')}>
              {(a) => <input {...a} type="url" value={d.cta_url} onInput={(x) => set({ cta_url: x.currentTarget.value })} />}
            </Field>
          </>
        )}
        {d.kind === 'form' && (
          <Field
            id="focus-form"
            label="Form"
            hint={forms.length === 0 ? <>No forms yet: <a href="/app/forms/new">create one</a> first.</> : chosen && !chosen.active ? 'This form is switched off: visitors would not see the item until it is on.' : undefined}
            error={e('content.form_id')}
          >
            {(a) => (
              <select {...a} value={d.form_id} onChange={(x) => set({ form_id: x.currentTarget.value })}>
                <option value="">Choose…</option>
                {forms.map((f) => (
                  <option value={String(f.id)}>
                    {f.name}
                    {f.active ? '' : ' (off)'}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
      </div>
    </fieldset>
  );
}
