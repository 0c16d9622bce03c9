// A slot's editor: its site, name (the data-leadline-slot value) and the snippet to paste with
// the default content inside it, its rules (dashboard/slots/rules.tsx), save and delete; and for a
// saved slot its views and clicks per content (GET /api/v1/slots/{id}/stats).
import { useEffect, useState } from 'preact/hooks';
import { api, load } from '../api/client';
import type { components } from '../api/schema';
import { can, refusal } from '../access';
import { Confirm, CopyButton, Field, SaveStatus, send, useSaver } from '../ui/editing';
import { formatInteger, formatPercent } from '../ui/format';
import { useLeaveGuard } from '../ui/leave-guard';
import { ErrorMessage, Loading, Refused } from '../ui/status';
import { useLoad } from '../ui/use-load';
import { bodyOf, draftOf, fieldLabel, fingerprint, snippetOf, type Slot, type SlotDraft } from './model';
import { conditionLabel, RulesEditor } from './rules';

type S = components['schemas'];
export interface SlotLists {
  sites: S['Site'][];
  segments: S['Segment'][];
  stages: S['Stage'][];
}

export function SlotEditor(props: { slot: Slot | null; lists: SlotLists; justSaved: boolean; onCreated: (s: Slot) => void; onDeleted: (s: Slot) => void }) {
  const [slot, setSlot] = useState(props.slot);
  const [d, setD] = useState<SlotDraft>(() => draftOf(props.slot, String(props.lists.sites[0]?.id ?? '')));
  const [saved, setSaved] = useState(() => fingerprint(d));
  const [fallback, setFallback] = useState('Your default content');
  const [confirming, setConfirming] = useState(false);
  const saver = useSaver();
  const deleter = useSaver();
  const editable = can('slots', 'change');
  const set = (p: Partial<SlotDraft>) => setD((x) => ({ ...x, ...p }));
  const dirty = editable && fingerprint(d) !== saved;
  useLeaveGuard(dirty);
  const title = slot ? `Slot “${slot.name}”` : 'New slot';
  useEffect(() => void (document.title = `${title} · Slots · Leadline`), [title]);
  const e = (f: string) => saver.fieldError(f);

  const save = async (ev: Event) => {
    ev.preventDefault();
    const body = bodyOf(d);
    const sent = fingerprint(d);
    if (!slot) {
      const created = await saver.run(() => send(api.POST('/api/v1/slots', { body })), 'Slot saved.');
      if (created) {
        setSaved(sent);
        props.onCreated(created);
      }
      return;
    }
    const updated = await saver.run(() => send(api.PATCH('/api/v1/slots/{id}', { params: { path: { id: slot.id } }, body })), 'Saved: visitors see the change from their next page view.');
    if (updated) {
      setSlot(updated);
      setSaved(sent);
    }
  };
  const remove = async () => {
    if (!slot) return;
    const ok = await deleter.run(() => send(api.DELETE('/api/v1/slots/{id}', { params: { path: { id: slot.id } } })), 'Deleted.');
    if (ok !== undefined) {
      setSaved(fingerprint(d));
      props.onDeleted(slot);
    }
  };
  const body = bodyOf(d);
  const failed = saver.state === 'error' ? saver.fields : {};
  const summary = { ...saver.status, ...(saver.state === 'error' ? { fields: Object.fromEntries(Object.entries(failed).map(([f, m]) => [fieldLabel(f, body), m])) } : {}) };
  const snippet = snippetOf(d.name, fallback);

  return (
    <section class="slot-editor">
      <p class="crumbs">
        <a href="/app/slots">Slots</a>
      </p>
      <h1 tabIndex={-1}>{title}</h1>
      {props.justSaved && saver.state === 'idle' && (
        <p class="status saved" role="status">
          Slot saved.
        </p>
      )}
      {!editable && <Refused message={refusal('slots', 'change')} />}
      <form class="stack" noValidate onSubmit={save} aria-label="Slot">
        <fieldset class="bare stack" disabled={!editable}>
          <div class="card stack">
            <h2>Slot</h2>
            <div class="form-grid">
              <Field id="slot-name" label="Name" hint="What your pages call it: a-z, 0-9, _ and -." error={e('name')}>
                {(a) => <input {...a} value={d.name} autocomplete="off" spellcheck={false} onInput={(x) => set({ name: x.currentTarget.value })} />}
              </Field>
              <Field id="slot-site" label="Site" hint={props.lists.sites.length ? 'Whose pages carry it.' : 'No sites yet: add one in Settings → Sites.'} error={e('site_id')}>
                {(a) => (
                  <select {...a} value={d.site_id} onChange={(x) => set({ site_id: x.currentTarget.value })}>
                    {!props.lists.sites.some((s) => String(s.id) === d.site_id) && <option value={d.site_id}>{d.site_id ? `Site ${d.site_id}` : 'Choose a site…'}</option>}
                    {props.lists.sites.map((s) => (
                      <option value={String(s.id)}>{s.name}</option>
                    ))}
                  </select>
                )}
              </Field>
              <Field id="slot-description" label="Description (optional)" error={e('description')}>
                {(a) => <input {...a} value={d.description} onInput={(x) => set({ description: x.currentTarget.value })} />}
              </Field>
            </div>
            <label class="check" for="slot-active">
              <input id="slot-active" type="checkbox" checked={d.active} onChange={(x) => set({ active: x.currentTarget.checked })} /> Active (an inactive slot leaves every page its default content)
            </label>
          </div>
          <div class="card stack">
            <h2>On your pages</h2>
            <Field id="slot-default" label="Default content" hint="What the page shows when no rule holds (and before the tag runs). It lives in your page, inside the snippet: Leadline does not store it.">
              {(a) => <textarea {...a} rows={2} value={fallback} onInput={(x) => setFallback(x.currentTarget.value)} />}
            </Field>
            <p class="hint">Paste this where the content goes, on pages with the site’s tracking tag:</p>
            <pre class="snippet" id="slot-snippet" tabIndex={0} aria-label="Snippet to paste">
              <code>{snippet}</code>
            </pre>
            <CopyButton text={snippet} label="Copy snippet" target="slot-snippet" />
          </div>
          <RulesEditor d={d} set={set} segments={props.lists.segments} stages={props.lists.stages} error={e} />
        </fieldset>
        {editable && (
          <div class="actions">
            <button type="submit" disabled={saver.busy}>
              {slot ? 'Save slot' : 'Create slot'}
            </button>
            {slot && !confirming && (
              <button type="button" class="secondary danger-text" onClick={() => setConfirming(true)}>
                Delete slot
              </button>
            )}
            {dirty && <span class="hint">Unsaved changes.</span>}
          </div>
        )}
        {confirming && slot && (
          <Confirm question={`Delete slot “${slot.name}”? Pages keep their default content in its place.`} yes="Delete slot" busy={deleter.busy} onYes={remove} onNo={() => setConfirming(false)} />
        )}
        <SaveStatus status={summary} shown={['name', 'site_id', 'description']} />
        <SaveStatus status={deleter.status} />
      </form>
      {slot && <SlotStats slot={slot} d={d} lists={props.lists} />}
    </section>
  );
}

function SlotStats({ slot, d, lists }: { slot: Slot; d: SlotDraft; lists: SlotLists }) {
  const stats = useLoad(() => load(api.GET('/api/v1/slots/{id}/stats', { params: { path: { id: slot.id } } })), `${slot.id}:${slot.updated_at}`);
  const shownBy = (key: string) => {
    if (key === 'default') return 'when no rule holds';
    const i = d.rules.findIndex((r) => r.key === key);
    return i < 0 ? 'no rule now' : `rule ${i + 1}: ${conditionLabel(d.rules[i]!, lists.segments, lists.stages)}`;
  };
  return (
    <section class="card stack" aria-labelledby="slot-stats-heading">
      <h2 id="slot-stats-heading">Views and clicks</h2>
      {stats.state === 'loading' && <Loading what="the stats" />}
      {stats.state === 'error' && <ErrorMessage message={stats.message} retry={stats.retry} />}
      {stats.state === 'done' && (
        <div class="table-wrap" role="region" aria-label="Views and clicks per content" tabIndex={0}>
          <table class="slot-stats">
            <thead>
              <tr>
                <th scope="col">Content</th>
                <th scope="col">Shown</th>
                <th scope="col" class="num">
                  Views
                </th>
                <th scope="col" class="num">
                  Clicks
                </th>
                <th scope="col" class="num">
                  Click rate
                </th>
              </tr>
            </thead>
            <tbody>
              {stats.data.variants.map((v) => (
                <tr data-key={v.key}>
                  <th scope="row">{v.key === 'default' ? 'Default (the page’s own)' : v.key}</th>
                  <td>{shownBy(v.key)}</td>
                  <td class="num">{formatInteger(v.views)}</td>
                  <td class="num">{formatInteger(v.clicks)}</td>
                  <td class="num">{v.views ? formatPercent(v.click_rate) : '–'}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">All</th>
                <td />
                <td class="num">{formatInteger(stats.data.totals.views)}</td>
                <td class="num">{formatInteger(stats.data.totals.clicks)}</td>
                <td class="num">{stats.data.totals.views ? formatPercent(stats.data.totals.click_rate) : '–'}</td>
              </tr>
            </tfoot>
          </table>
        </div>
      )}
    </section>
  );
}
