// A/B variants: each a share of the visitors (weights adding up to 100) and what it changes of
// the item (kind, heading, text, button label, colours); what it leaves empty is the item's.
import { ColourPanel, type Colours } from '../ui/colours';
import { Field } from '../ui/editing';
import { nextKey, STYLE_TYPES, variantDraft, type Draft, type Overrides, type StyleType, type VariantDraft } from './model';

type Err = (name: string) => string | undefined;

export function VariantsPanel({ d, set, e }: { d: Draft; set: (p: Partial<Draft>) => void; e: Err }) {
  const update = (i: number, f: (v: VariantDraft) => VariantDraft) => set({ variants: d.variants.map((v, j) => (j === i ? f(v) : v)) });
  const setPart = (i: number, part: 'style' | 'content', key: string, value: unknown) =>
    update(i, (v) => {
      const next = { ...(v.overrides[part] ?? {}) } as Record<string, unknown>;
      if (value === '' || value === undefined) delete next[key];
      else next[key] = value;
      return { ...v, overrides: { ...v.overrides, [part]: next } as Overrides };
    });
  const start = () => set({ variants: [variantDraft('a', 50), variantDraft('b', 50)] });
  const add = () => set({ variants: [...d.variants, variantDraft(nextKey(d.variants), 0)] });
  const sum = d.variants.reduce((s, v) => s + (Number(v.weight) || 0), 0);
  return (
    <fieldset class="card stack">
      <legend>A/B variants</legend>
      {d.variants.length === 0 ? (
        <p class="hint">None: every visitor sees the item as it is. Variants split visitors by weight and change parts of it; the stats compare them.</p>
      ) : (
        <p class="hint">
          Weights add up to {sum}
          {sum === 100 ? '.' : ' (they must add up to 100).'} Empty fields are the item’s.
        </p>
      )}
      {e('variants') && <p class="field-error">{e('variants')}</p>}
      <ol class="card-list stack">
        {d.variants.map((v, i) => {
          const id = (n: string) => `variant-${v.uid}-${n}`;
          const ve = (n: string) => e(`variants.${i}.${n}`);
          const style = v.overrides.style ?? {};
          const content = v.overrides.content ?? {};
          const colours = style.colors;
          return (
            <li class="card stack" key={v.uid}>
              <fieldset class="stack">
                <legend>Variant {v.key.toUpperCase()}</legend>
                <div class="form-grid">
                  <Field id={id('weight')} label="Weight (% of visitors)" error={ve('weight')}>
                    {(a) => <input {...a} inputMode="numeric" value={v.weight} onInput={(x) => update(i, (w) => ({ ...w, weight: x.currentTarget.value }))} />}
                  </Field>
                  <Field id={id('type')} label="Type" error={ve('overrides.style')}>
                    {(a) => (
                      <select {...a} value={style.type ?? ''} onChange={(x) => setPart(i, 'style', 'type', x.currentTarget.value as StyleType)}>
                        <option value="">As the item</option>
                        {STYLE_TYPES.map(([t, l]) => (
                          <option value={t}>{l}</option>
                        ))}
                      </select>
                    )}
                  </Field>
                  <Field id={id('heading')} label="Heading" error={ve('overrides.content.heading')}>
                    {(a) => <input {...a} value={content.heading ?? ''} placeholder={d.heading} onInput={(x) => setPart(i, 'content', 'heading', x.currentTarget.value)} />}
                  </Field>
                  <Field id={id('body')} label="Text" error={ve('overrides.content.body') ?? ve('overrides.content')}>
                    {(a) => <input {...a} value={content.body ?? ''} placeholder={d.body} onInput={(x) => setPart(i, 'content', 'body', x.currentTarget.value)} />}
                  </Field>
                  {d.kind === 'link' && !content.kind && (
                    <Field id={id('cta-label')} label="Button label" error={ve('overrides.content.cta.label')}>
                      {(a) => (
                        <input
                          {...a}
                          value={content.cta?.label ?? ''}
                          placeholder={d.cta_label}
                          onInput={(x) => setPart(i, 'content', 'cta', x.currentTarget.value ? { label: x.currentTarget.value, url: content.cta?.url ?? d.cta_url } : undefined)}
                        />
                      )}
                    </Field>
                  )}
                </div>
                <label class="check" for={id('own-colours')}>
                  <input id={id('own-colours')} type="checkbox" checked={!!colours} onChange={(x) => setPart(i, 'style', 'colors', x.currentTarget.checked ? { ...d.colors } : undefined)} /> Own
                  colours
                </label>
                {colours && (
                  <ColourPanel
                    id={id('colour')}
                    legend={`Colours of variant ${v.key.toUpperCase()}`}
                    value={colours}
                    base={d.colors}
                    onChange={(c: Colours) => setPart(i, 'style', 'colors', c)}
                    error={(k) => ve(`overrides.style.colors.${k}`)}
                  />
                )}
                <div class="actions">
                  <button type="button" class="secondary danger-text" onClick={() => set({ variants: d.variants.filter((_, j) => j !== i) })}>
                    Remove variant {v.key.toUpperCase()}
                  </button>
                </div>
              </fieldset>
            </li>
          );
        })}
      </ol>
      <div class="actions">
        {d.variants.length === 0 ? (
          <button type="button" class="secondary" onClick={start}>
            Start an A/B test
          </button>
        ) : (
          d.variants.length < 10 && (
            <button type="button" class="secondary" onClick={add}>
              Add a variant
            </button>
          )
        )}
      </div>
    </fieldset>
  );
}
