// The inputs of one section by its kind (text, HTML, image, form, button, hero), each with the
// server's error for it right below. A section in a column uses the same inputs (leaves).
import type { components } from '../api/schema';
import { Field } from '../ui/editing';
import type { LeafDraft, SectionDraft } from './model';

type Form = components['schemas']['Form'];

export interface FieldsProps<T> {
  s: T;
  /** Prefix of the inputs' ids (unique on the page). */
  id: string;
  set: (p: Partial<T>) => void;
  /** The server's error at this section's path + a field name ("src", "cta.label"). */
  err: (field: string) => string | undefined;
  forms: Form[];
}

const textInput = (value: string, onValue: (v: string) => void, type: 'text' | 'url' = 'text') => (a: object) => (
  <input {...a} {...({ type } as object)} value={value} onInput={(x) => onValue(x.currentTarget.value)} />
);

export function LeafFields({ s, id, set, err, forms }: FieldsProps<LeafDraft>) {
  const f = (n: string) => `${id}-${n}`;
  switch (s.type) {
    case 'markdown':
    case 'html':
      return (
        <Field
          id={f('text')}
          label={s.type === 'markdown' ? 'Text (Markdown)' : 'HTML'}
          hint={s.type === 'markdown' ? '## Heading, **bold**, [link](https://…), - lists. Rendered on the server, then sanitised.' : 'Sanitised when shown: no scripts, styles, frames or event handlers.'}
          error={err(s.type)}
        >
          {(a) => <textarea {...a} class={s.type === 'html' ? 'code' : undefined} rows={6} value={s.text} onInput={(x) => set({ text: x.currentTarget.value } as Partial<LeafDraft>)} />}
        </Field>
      );
    case 'image':
      return (
        <div class="form-grid">
          <Field id={f('src')} label="Image address" hint="https://…" error={err('src')}>
            {textInput(s.src, (v) => set({ src: v }), 'url')}
          </Field>
          <Field id={f('alt')} label="Alternative text" hint="What the image shows, for people who cannot see it. Empty for decoration." error={err('alt')}>
            {textInput(s.alt, (v) => set({ alt: v }))}
          </Field>
          <Field id={f('width')} label="Width (px)" error={err('width')}>
            {(a) => <input {...a} inputMode="numeric" value={s.width} onInput={(x) => set({ width: x.currentTarget.value })} />}
          </Field>
          <Field id={f('height')} label="Height (px)" error={err('height')}>
            {(a) => <input {...a} inputMode="numeric" value={s.height} onInput={(x) => set({ height: x.currentTarget.value })} />}
          </Field>
          <Field id={f('link')} label="Links to (optional)" error={err('link')}>
            {textInput(s.link, (v) => set({ link: v }))}
          </Field>
        </div>
      );
    case 'form':
      return (
        <div class="form-grid">
          <Field id={f('form')} label="Form" hint={forms.length ? undefined : 'No forms yet: make one under Forms first.'} error={err('form_id')}>
            {(a) => (
              <select {...a} value={s.form_id} onChange={(x) => set({ form_id: x.currentTarget.value })}>
                <option value="">Choose a form…</option>
                {/* A form the list does not hold (deleted since) stays chosen, for the server to name. */}
                {s.form_id && !forms.some((x) => String(x.id) === s.form_id) && <option value={s.form_id}>Form {s.form_id}</option>}
                {forms.map((x) => (
                  <option value={String(x.id)}>
                    {x.name}
                    {x.active ? '' : ' (inactive: not shown)'}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field id={f('heading')} label="Heading above it (optional)" error={err('heading')}>
            {textInput(s.heading, (v) => set({ heading: v }))}
          </Field>
        </div>
      );
    case 'cta':
      return (
        <div class="form-grid">
          <Field id={f('label')} label="Button text" error={err('label')}>
            {textInput(s.label, (v) => set({ label: v }))}
          </Field>
          <Field id={f('url')} label="Links to" hint="https://…, /a-path or #anchor" error={err('url')}>
            {textInput(s.url, (v) => set({ url: v }))}
          </Field>
          <Field id={f('button-id')} label="Button id (optional)" hint="Names this button in an A/B test’s goal: letters, digits, - and _." error={err('id')}>
            {textInput(s.button_id, (v) => set({ button_id: v }))}
          </Field>
          <Field id={f('style')} label="Style" error={err('style')}>
            {(a) => (
              <select {...a} value={s.style} onChange={(x) => set({ style: x.currentTarget.value as LeafDraft['style'] })}>
                <option value="primary">Filled</option>
                <option value="secondary">Outlined</option>
              </select>
            )}
          </Field>
        </div>
      );
  }
}

export function HeroFields({ s, id, set, err }: FieldsProps<SectionDraft>) {
  const f = (n: string) => `${id}-${n}`;
  return (
    <div class="form-grid">
      <Field id={f('heading')} label="Heading" hint="The page’s h1." error={err('heading')}>
        {textInput(s.heading, (v) => set({ heading: v }))}
      </Field>
      <Field id={f('subheading')} label="Subheading (optional)" error={err('subheading')}>
        {textInput(s.subheading, (v) => set({ subheading: v }))}
      </Field>
      <Field id={f('image')} label="Image address (optional)" hint="https://…" error={err('image')}>
        {textInput(s.image, (v) => set({ image: v }), 'url')}
      </Field>
      <Field id={f('image-alt')} label="Image’s alternative text" error={err('image_alt')}>
        {textInput(s.image_alt, (v) => set({ image_alt: v }))}
      </Field>
      <Field id={f('cta-label')} label="Button text (optional)" error={err('cta.label')}>
        {textInput(s.cta_label, (v) => set({ cta_label: v }))}
      </Field>
      <Field id={f('cta-url')} label="Button links to" hint="https://…, /a-path or #anchor" error={err('cta.url')}>
        {textInput(s.cta_url, (v) => set({ cta_url: v }))}
      </Field>
      <Field id={f('cta-id')} label="Button id (optional)" hint="Names this button in an A/B test’s goal: letters, digits, - and _." error={err('cta.id')}>
        {textInput(s.cta_id, (v) => set({ cta_id: v }))}
      </Field>
    </div>
  );
}
