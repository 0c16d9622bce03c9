// A columns section: 2–4 columns side by side (stacked on phones), each a list of text, HTML,
// image, form and button items that can be added, moved within the column and removed.
import { useState } from 'preact/hooks';
import type { components } from '../api/schema';
import { Field } from '../ui/editing';
import { columnDraft, LEAF_LABELS, leafDraft, labelOf, type ColumnDraft, type LeafDraft, type LeafType, type SectionDraft } from './model';
import { focusSoon, moved, ReorderButtons } from './reorder';
import { LeafFields } from './section-fields';

type Form = components['schemas']['Form'];

export function ColumnsFields(props: {
  s: SectionDraft;
  set: (p: Partial<SectionDraft>) => void;
  /** The server's error at this section's path + "columns…". */
  err: (field: string) => string | undefined;
  forms: Form[];
  say: (m: string) => void;
}) {
  const { s, set, err, say } = props;
  const setColumn = (j: number, items: LeafDraft[]) => set({ columns: s.columns.map((c, x) => (x === j ? { ...c, items } : c)) });
  const addColumn = () => {
    const c = columnDraft([leafDraft('markdown')]);
    set({ columns: [...s.columns, c] });
    say(`Column ${s.columns.length + 1} added.`);
    focusSoon(`#col-${c.uid} textarea`);
  };
  const removeColumn = (j: number) => {
    set({ columns: s.columns.filter((_, x) => x !== j) });
    say(`Column ${j + 1} removed.`);
    focusSoon(`[data-add-column="${s.uid}"]`);
  };
  return (
    <div class="stack">
      {err('columns') && <p class="field-error">{err('columns')}</p>}
      <div class={`columns-editor cols-${s.columns.length}`}>
        {s.columns.map((c, j) => (
          <Column
            key={c.uid}
            c={c}
            j={j}
            err={(f) => err(`columns.${j}.${f}`)}
            forms={props.forms}
            setItems={(items) => setColumn(j, items)}
            onRemove={s.columns.length > 2 ? () => removeColumn(j) : undefined}
            say={say}
          />
        ))}
      </div>
      <div class="actions">
        <button type="button" class="secondary small" data-add-column={s.uid} disabled={s.columns.length >= 4} onClick={addColumn}>
          Add a column
        </button>
        <span class="hint">2 to 4 columns.</span>
      </div>
    </div>
  );
}

function Column(props: {
  c: ColumnDraft;
  j: number;
  err: (field: string) => string | undefined;
  forms: Form[];
  setItems: (items: LeafDraft[]) => void;
  onRemove?: () => void;
  say: (m: string) => void;
}) {
  const { c, j, setItems, say } = props;
  const [adding, setAdding] = useState<LeafType>('markdown');
  const items = c.items;
  const add = () => {
    const l = leafDraft(adding);
    setItems([...items, l]);
    say(`${labelOf(adding)} added to column ${j + 1}.`);
    focusSoon(`#leaf-${l.uid} input, #leaf-${l.uid} textarea, #leaf-${l.uid} select`);
  };
  return (
    <fieldset class="column stack" id={`col-${c.uid}`}>
      <legend>Column {j + 1}</legend>
      {items.length === 0 && <p class="hint">Empty.</p>}
      <ol class="card-list stack">
        {items.map((l, k) => {
          const what = `item ${k + 1} of column ${j + 1}: ${labelOf(l.type)}`;
          return (
            <li key={l.uid} id={`leaf-${l.uid}`} class="leaf-card">
              <fieldset class="stack">
                <legend>
                  {k + 1}. {labelOf(l.type)}
                </legend>
                <LeafFields
                  s={l}
                  id={`leaf-${l.uid}`}
                  set={(p) => setItems(items.map((x) => (x.uid === l.uid ? { ...x, ...p } : x)))}
                  err={(f) => props.err(`${k}.${f}`)}
                  forms={props.forms}
                />
                <ReorderButtons
                  uid={l.uid}
                  i={k}
                  count={items.length}
                  what={what}
                  onMove={(by) => {
                    setItems(moved(items, k, by));
                    say(`${labelOf(l.type)} moved to place ${k + by + 1} of column ${j + 1}.`);
                  }}
                  onRemove={() => {
                    setItems(items.filter((x) => x.uid !== l.uid));
                    say(`${labelOf(l.type)} removed from column ${j + 1}.`);
                    focusSoon(`#col-${c.uid} [data-add-leaf]`);
                  }}
                />
              </fieldset>
            </li>
          );
        })}
      </ol>
      <div class="actions add-block">
        <Field id={`col-${c.uid}-add`} label="New item" class="inline">
          {(a) => (
            <select {...a} value={adding} onChange={(x) => setAdding(x.currentTarget.value as LeafType)}>
              {LEAF_LABELS.map(([t, label]) => (
                <option value={t}>{label}</option>
              ))}
            </select>
          )}
        </Field>
        <button type="button" class="secondary small" data-add-leaf onClick={add}>
          Add<span class="sr-only"> to column {j + 1}</span>
        </button>
        {props.onRemove && (
          <button type="button" class="secondary small danger-text" onClick={props.onRemove}>
            Remove column {j + 1}
          </button>
        )}
      </div>
    </fieldset>
  );
}
