// The focus item editor: look, content, trigger, targeting, frequency and A/B variants beside a
// live preview drawn by the real widget chunk from what the server would hand visitors for the
// draft (POST /api/v1/focus-items/preview); how it gets onto a site; its stats once saved.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/client';
import { can, refusal } from '../access';
import type { Lists } from '../forms/lists';
import { WidgetPreview } from '../preview/widget-preview';
import { PreviewProblems, useServerPreview } from '../preview/use-server-preview';
import { Confirm, Field, SaveStatus, send, useSaver } from '../ui/editing';
import { scriptTag, SnippetBox } from '../ui/embed';
import { Refused } from '../ui/status';
import { ContentPanel, StylePanel } from './look-panel';
import { bodyOf, draftOf, TRIGGERS, type Draft, type FocusItem } from './model';
import { FrequencyPanel, TargetingPanel, TriggerPanel } from './rules-panel';
import { FocusStats } from './stats';
import { VariantsPanel } from './variants-panel';

/** "content.cta.url" as a person reads it. */
const where = (field: string) => {
  const v = /^variants\.(\d+)\.?(.*)$/.exec(field);
  const rest = (v ? v[2]! : field).replace(/^overrides\./, '').replace(/[._]/g, ' ');
  return `${v ? `Variant ${Number(v[1]) + 1}${rest ? `, ${rest}` : ''}` : rest}:`;
};

// In the preview the item shows at once, every time: the trigger and frequency are the site's business.
const AT_ONCE = { trigger: { type: 'load' as const }, frequency: { mode: 'every_page' as const, days: null, stop_after_conversion: false, stop_after_close: false, max_displays: null } };

export function Editor(props: { item: FocusItem | null; lists: Lists; justSaved: boolean; onCreated: (f: FocusItem) => void; onDeleted: (f: FocusItem) => void }) {
  const [item, setItem] = useState(props.item);
  const [d, setD] = useState(() => draftOf(props.item));
  const [confirming, setConfirming] = useState(false);
  const [variant, setVariant] = useState('a');
  const [replay, setReplay] = useState(0);
  const saver = useSaver();
  const deleter = useSaver();
  const e = saver.fieldError;
  const set = (p: Partial<Draft>) => setD((x) => ({ ...x, ...p }));
  const title = item ? item.name : 'New focus item';
  const editable = can('focus-items', 'change');
  useEffect(() => void (document.title = `${title} · Focus items · Leadline`), [title]);

  const save = async (ev: Event) => {
    ev.preventDefault();
    const body = bodyOf(d);
    if (!item) {
      const created = await saver.run(() => send(api.POST('/api/v1/focus-items', { body })), 'Focus item saved.');
      if (created) props.onCreated(created);
      return;
    }
    const updated = await saver.run(() => send(api.PATCH('/api/v1/focus-items/{id}', { params: { path: { id: item.id } }, body })), 'Saved.');
    if (updated) setItem(updated);
  };
  const remove = async () => {
    if (!item) return;
    const ok = await deleter.run(() => send(api.DELETE('/api/v1/focus-items/{id}', { params: { path: { id: item.id } } })), 'Deleted.');
    if (ok !== undefined) props.onDeleted(item);
  };

  const { name: _name, active: _active, ...draft } = bodyOf(d);
  const preview = useServerPreview(
    () => send(api.POST('/api/v1/focus-items/preview', { params: { query: item ? { id: item.id } : {} }, body: draft })),
    `${item?.id ?? 0}:${JSON.stringify(draft)}`,
  );
  const items = preview.data?.items ?? [];
  const shown = items.find((i) => i.variant === variant) ?? items[0];
  const form = shown?.content.kind === 'form' ? preview.data!.forms[shown.content.form_id] : undefined;
  const answer = form?.success.type === 'message' ? form.success.message : form ? `Preview: a visitor would now go to ${form.success.url}` : 'Thank you!';
  const trigger = TRIGGERS.find(([t]) => t === d.trigger)?.[1].toLowerCase() ?? d.trigger;

  return (
    <section class="focus-editor">
      <p class="crumbs">
        <a href="/app/focus-items">Focus items</a>
      </p>
      <h1 tabIndex={-1}>{title}</h1>
      {props.justSaved && saver.state === 'idle' && (
        <p class="status saved" role="status">
          Focus item saved.
        </p>
      )}
      {!editable && <Refused message={refusal('focus-items', 'change')} />}
      <div class="editor-columns">
        <form class="stack" noValidate onSubmit={save} aria-label="Focus item">
          <div class="card stack">
            <Field id="focus-name" label="Name" hint="For you; visitors do not see it." error={e('name')}>
              {(a) => <input {...a} value={d.name} onInput={(x) => set({ name: x.currentTarget.value })} />}
            </Field>
            <label class="check" for="focus-active">
              <input id="focus-active" type="checkbox" checked={d.active} onChange={(x) => set({ active: x.currentTarget.checked })} /> Active (shown on sites)
            </label>
          </div>
          <StylePanel d={d} set={set} e={e} />
          <ContentPanel d={d} set={set} e={e} forms={props.lists.forms} />
          <TriggerPanel d={d} set={set} e={e} />
          <TargetingPanel d={d} set={set} e={e} sites={props.lists.sites} segments={props.lists.segments} />
          <FrequencyPanel d={d} set={set} e={e} />
          <VariantsPanel d={d} set={set} e={e} />
          {editable && (
            <div class="actions">
              <button type="submit" disabled={saver.busy}>
                {item ? 'Save focus item' : 'Create focus item'}
              </button>
              {item && !confirming && (
                <button type="button" class="secondary danger-text" onClick={() => setConfirming(true)}>
                  Delete focus item
                </button>
              )}
            </div>
          )}
          {confirming && item && (
            <Confirm question={`Delete “${item.name}”? Its stats go with it.`} yes="Delete focus item" busy={deleter.busy} onYes={remove} onNo={() => setConfirming(false)} />
          )}
          <SaveStatus status={saver.status} shown={['name', 'site_id', 'style', 'content', 'trigger', 'targeting', 'frequency', 'variants']} />
          <SaveStatus status={deleter.status} />
        </form>

        <aside class="preview-column" aria-labelledby="preview-heading">
          <h2 id="preview-heading">Preview</h2>
          <p class="hint">
            Drawn by the widget script itself, at once; on your site it shows {trigger}. Clicking or submitting here counts and stores nothing.
          </p>
          {items.length > 1 && (
            <Field id="focus-preview-variant" label="Variant shown">
              {(a) => (
                <select {...a} value={shown?.variant} onChange={(x) => setVariant(x.currentTarget.value)}>
                  {items.map((i) => (
                    <option value={i.variant}>Variant {i.variant.toUpperCase()}</option>
                  ))}
                </select>
              )}
            </Field>
          )}
          {shown ? (
            <>
              <WidgetPreview key={replay} message={{ type: 'focus', item: { ...shown, ...AT_ONCE }, forms: preview.data!.forms, answer }} title="Focus item preview" fresh height={440} />
              <button type="button" class="secondary" onClick={() => setReplay((n) => n + 1)}>
                Show it again
              </button>
            </>
          ) : (
            !preview.message && <div class="widget-preview" aria-busy="true" />
          )}
          {form && preview.data!.inactive_form_ids.includes(form.id) && <p class="hint warning">This form is switched off: visitors would not see the item until it is on.</p>}
          <PreviewProblems preview={preview} label={where} />
          <SnippetBox
            id="focus-install"
            title="On your site"
            sites={props.lists.sites}
            site={props.lists.sites.find((s) => String(s.id) === d.site)?.public_key}
            snippet={scriptTag}
            label="Script tag"
            copy="Copy script tag"
            intro={
              <p>
                Focus items show through your site’s script tag: there is no snippet per item. Once the tag below is on your pages, an active item shows to the visitors it targets
                {d.site ? '' : ' on every site'}.
              </p>
            }
          />
        </aside>
      </div>
      {item && <FocusStats item={item} />}
    </section>
  );
}
