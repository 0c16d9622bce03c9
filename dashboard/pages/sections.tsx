// The page's body: its sections top to bottom, each a card with its inputs, the server's errors
// inside it, and buttons to move it up or down or remove it; new sections are added at the end.
import { useState } from 'preact/hooks';
import type { components } from '../api/schema';
import { Field } from '../ui/editing';
import { ColumnsFields } from './columns';
import { labelOf, SECTION_LABELS, sectionDraft, strayErrors, where, type Draft, type SectionDraft, type SectionType } from './model';
import { focusSoon, moved, ReorderButtons, useAnnouncer } from './reorder';
import { HeroFields, LeafFields } from './section-fields';

type Form = components['schemas']['Form'];

/** The most sections a page may have (the API's bound). */
const MAX = 50;

export function SectionsEditor(props: {
  d: Draft;
  set: (p: Partial<Draft>) => void;
  /** The server's errors by path ({} when the last save did not fail). */
  errors: Record<string, string>;
  forms: Form[];
  /** Before the ids that must be unique on the page (a variant's sections beside the page's), and the legend. */
  prefix?: string;
  legend?: string;
}) {
  const { d, set, errors, forms } = props;
  const addId = `${props.prefix ?? ''}add-section-type`;
  const sections = d.sections;
  const [adding, setAdding] = useState<SectionType>('markdown');
  const [live, say] = useAnnouncer();
  const put = (uid: number, p: Partial<SectionDraft>) => set({ sections: sections.map((s) => (s.uid === uid ? { ...s, ...p } : s)) });
  const add = () => {
    const s = sectionDraft(adding);
    set({ sections: [...sections, s] });
    say(`${labelOf(adding)} added as section ${sections.length + 1}.`);
    focusSoon(`#sec-${s.uid} input, #sec-${s.uid} textarea, #sec-${s.uid} select`);
  };
  return (
    <fieldset class="card stack page-sections">
      <legend>{props.legend ?? 'Sections'}</legend>
      <p class="hint">Shown top to bottom. A page without a hero gets its title as the heading.</p>
      {errors.sections && <p class="field-error">{errors.sections}</p>}
      {sections.length === 0 && <p class="hint">No sections yet: add a hero, some text, a form…</p>}
      <ol class="card-list stack">
        {sections.map((s, i) => {
          const what = `section ${i + 1}: ${labelOf(s.type)}`;
          const at = `sections.${i}`;
          const err = (f: string) => errors[`${at}.${f}`];
          const stray = strayErrors(errors, s, i);
          return (
            <li key={s.uid} id={`sec-${s.uid}`} class="card section-card" data-type={s.type}>
              <fieldset class="stack bare">
                <legend>
                  {i + 1}. {labelOf(s.type)}
                </legend>
                {stray.length > 0 && (
                  <ul class="field-error">
                    {stray.map(([f, m]) => (
                      <li>
                        {where(f)}: {m}
                      </li>
                    ))}
                  </ul>
                )}
                {s.type === 'hero' ? (
                  <HeroFields s={s} id={`sec-${s.uid}`} set={(p) => put(s.uid, p)} err={err} forms={forms} />
                ) : s.type === 'columns' ? (
                  <ColumnsFields s={s} set={(p) => put(s.uid, p)} err={err} forms={forms} say={say} />
                ) : (
                  <LeafFields s={{ ...s, type: s.type }} id={`sec-${s.uid}`} set={(p) => put(s.uid, p)} err={err} forms={forms} />
                )}
                <ReorderButtons
                  uid={s.uid}
                  i={i}
                  count={sections.length}
                  what={what}
                  onMove={(by) => {
                    set({ sections: moved(sections, i, by) });
                    say(`${labelOf(s.type)} moved to position ${i + by + 1} of ${sections.length}.`);
                  }}
                  onRemove={() => {
                    set({ sections: sections.filter((x) => x.uid !== s.uid) });
                    say(`Section ${i + 1} (${labelOf(s.type)}) removed.`);
                    const next = sections[i + 1] ?? sections[i - 1];
                    focusSoon(next ? `[data-move="${next.uid}:up"]` : `#${addId}`, next ? `[data-move="${next.uid}:down"]` : `#${addId}`, `#${addId}`);
                  }}
                />
              </fieldset>
            </li>
          );
        })}
      </ol>
      <div class="actions add-block">
        <Field id={addId} label="New section" class="inline">
          {(a) => (
            <select {...a} value={adding} onChange={(x) => setAdding(x.currentTarget.value as SectionType)}>
              {SECTION_LABELS.map(([t, label]) => (
                <option value={t}>{label}</option>
              ))}
            </select>
          )}
        </Field>
        <button type="button" class="secondary" onClick={add} disabled={sections.length >= MAX}>
          Add section
        </button>
      </div>
      {live}
    </fieldset>
  );
}
