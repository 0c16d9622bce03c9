// A slot's rules, top to bottom: the first whose condition holds shows its content; when none
// holds the page keeps its own. Each rule is a card (condition, content name, format, content
// and its preview) moved and removed with the page sections' buttons (dashboard/pages/reorder.tsx).
import type { components } from '../api/schema';
import { Field } from '../ui/editing';
import { focusSoon, moved, ReorderButtons, useAnnouncer } from '../pages/reorder';
import { CONDITIONS, freeKey, ruleDraft, type Condition, type RuleDraft, type SlotDraft } from './model';
import { ContentPreview } from './preview';

type S = components['schemas'];
const MAX = 20;

export const conditionLabel = (r: RuleDraft, segments: S['Segment'][], stages: S['Stage'][]) => {
  if (r.condition === 'segment') return `in segment “${segments.find((s) => String(s.id) === r.segment)?.name ?? r.segment}”`;
  if (r.condition === 'stage') return `at stage “${stages.find((s) => String(s.id) === r.stage)?.name ?? r.stage}”`;
  if (r.condition === 'filter') return 'matching a filter';
  return CONDITIONS.find(([c]) => c === r.condition)![1].toLowerCase();
};

export function RulesEditor(props: { d: SlotDraft; set: (p: Partial<SlotDraft>) => void; segments: S['Segment'][]; stages: S['Stage'][]; error: (field: string) => string | undefined }) {
  const { d, set, segments, stages } = props;
  const [live, say] = useAnnouncer();
  const put = (uid: number, p: Partial<RuleDraft>) => set({ rules: d.rules.map((r) => (r.uid === uid ? { ...r, ...p } : r)) });
  const add = () => {
    const r = ruleDraft(freeKey(d));
    set({ rules: [...d.rules, r] });
    say(`Rule ${d.rules.length + 1} added.`);
    focusSoon(`#rule-${r.uid}-condition`);
  };
  return (
    <fieldset class="card stack slot-rules">
      <legend>Rules</legend>
      <p class="hint">Tried top to bottom: the first that holds shows its content. When none holds, the page keeps its default content. Segment, stage and known hold only for a browser that proved who it is.</p>
      {props.error('rules') && <p class="field-error">{props.error('rules')}</p>}
      {d.rules.length === 0 && <p class="hint">No rules: every visitor sees the default content.</p>}
      <ol class="card-list stack">
        {d.rules.map((r, i) => {
          const id = (n: string) => `rule-${r.uid}-${n}`;
          const what = `rule ${i + 1}`;
          return (
            <li key={r.uid} class="card rule-card" data-key={r.key}>
              <fieldset class="stack bare">
                <legend>Rule {i + 1}</legend>
                <div class="form-grid">
                  <Field id={id('condition')} label="Shows when" error={props.error(`rules.${i}.when`)}>
                    {(a) => (
                      <select {...a} value={r.condition} onChange={(x) => put(r.uid, { condition: x.currentTarget.value as Condition })}>
                        {CONDITIONS.map(([c, l]) => (
                          <option value={c}>{l}</option>
                        ))}
                        {r.condition === 'filter' && <option value="filter">The contact matches a filter (set through the API)</option>}
                      </select>
                    )}
                  </Field>
                  {r.condition === 'segment' && (
                    <Field id={id('segment')} label="Segment" error={props.error(`rules.${i}.when.filter.segment`)}>
                      {(a) => (
                        <select {...a} value={r.segment} onChange={(x) => put(r.uid, { segment: x.currentTarget.value })}>
                          <option value="">Choose a segment…</option>
                          {segments.map((s) => (
                            <option value={String(s.id)}>{s.name}</option>
                          ))}
                        </select>
                      )}
                    </Field>
                  )}
                  {r.condition === 'stage' && (
                    <Field id={id('stage')} label="Stage" error={props.error(`rules.${i}.when.stage_id`)}>
                      {(a) => (
                        <select {...a} value={r.stage} onChange={(x) => put(r.uid, { stage: x.currentTarget.value })}>
                          <option value="">Choose a stage…</option>
                          {stages.map((s) => (
                            <option value={String(s.id)}>{s.name}</option>
                          ))}
                        </select>
                      )}
                    </Field>
                  )}
                  <Field id={id('key')} label="Content name" hint="In the stats and events (a-z, 0-9, - and _)." error={props.error(`rules.${i}.variant`)}>
                    {(a) => <input {...a} value={r.key} autocomplete="off" spellcheck={false} onInput={(x) => put(r.uid, { key: x.currentTarget.value })} />}
                  </Field>
                  <Field id={id('format')} label="Format">
                    {(a) => (
                      <select {...a} value={r.format} onChange={(x) => put(r.uid, { format: x.currentTarget.value as RuleDraft['format'] })}>
                        <option value="markdown">Markdown</option>
                        <option value="html">HTML</option>
                      </select>
                    )}
                  </Field>
                </div>
                <Field id={id('content')} label="Content" hint="Sanitised when shown: no scripts, styles, frames or event handlers.">
                  {(a) => <textarea {...a} rows={4} value={r.content} onInput={(x) => put(r.uid, { content: x.currentTarget.value })} />}
                </Field>
                <ContentPreview format={r.format} content={r.content} title={`Preview of rule ${i + 1}’s content`} />
                <ReorderButtons
                  uid={r.uid}
                  i={i}
                  count={d.rules.length}
                  what={what}
                  onMove={(by) => {
                    set({ rules: moved(d.rules, i, by) });
                    say(`Rule moved to position ${i + by + 1} of ${d.rules.length}.`);
                  }}
                  onRemove={() => {
                    set({ rules: d.rules.filter((x) => x.uid !== r.uid) });
                    say(`Rule ${i + 1} removed.`);
                    const next = d.rules[i + 1] ?? d.rules[i - 1];
                    focusSoon(next ? `[data-move="${next.uid}:up"]` : '#add-rule', next ? `[data-move="${next.uid}:down"]` : '#add-rule', '#add-rule');
                  }}
                />
              </fieldset>
            </li>
          );
        })}
      </ol>
      <div class="actions">
        <button type="button" id="add-rule" class="secondary" onClick={add} disabled={d.rules.length >= MAX}>
          Add rule
        </button>
      </div>
      {live}
    </fieldset>
  );
}
