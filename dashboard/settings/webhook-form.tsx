// Settings → Webhooks: the form that creates or edits an endpoint — its URL, the event types it
// wants (the server's catalogue, grouped by area, each with what it tells), optional filters (one
// form, one segment… picked from the API, offered only for the types they narrow) and a
// description. The server's field errors show next to their fields.
import { useState } from 'preact/hooks';
import { api, load } from '../api/client';
import type { components } from '../api/schema';
import { allPages, Field, SaveStatus, useSaver } from '../ui/editing';
import { useLoad } from '../ui/use-load';

export type Webhook = components['schemas']['Webhook'];
export type CatalogueEntry = components['schemas']['WebhookEventTypes']['data'][number];
type EventType = CatalogueEntry['type'];
export type FilterKey = CatalogueEntry['filters'][number];
export type WebhookBody = { url: string; event_types: EventType[]; filters: components['schemas']['WebhookFilters']; description: string | null };

/** The areas event types are grouped by (the part before the dot), in the catalogue's order. */
const AREAS: Record<string, string> = {
  contact: 'Contacts',
  form: 'Forms',
  segment: 'Segments',
  points: 'Points',
  stage: 'Stages',
  deal: 'Deals',
  asset: 'Assets',
  focus: 'Focus items',
  email: 'Email',
};
const areaOf = (t: string) => t.split('.')[0]!;

/** Each filter: what it picks, and the list it picks from (every page, as { id, name }). */
export const FILTERS: Record<FilterKey, { label: string; any: string; list: () => Promise<{ id: number; name: string }[]> }> = {
  form_id: { label: 'Only this form', any: 'Any form', list: () => pages((q) => load(api.GET('/api/v1/forms', { params: { query: q } }))) },
  segment_id: { label: 'Only this segment', any: 'Any segment', list: () => pages((q) => load(api.GET('/api/v1/segments', { params: { query: q } }))) },
  email_id: { label: 'Only this email', any: 'Any email', list: () => pages((q) => load(api.GET('/api/v1/emails', { params: { query: q } }))) },
  asset_id: { label: 'Only this asset', any: 'Any asset', list: () => pages((q) => load(api.GET('/api/v1/assets', { params: { query: q } })), (a) => a.title) },
  focus_id: { label: 'Only this focus item', any: 'Any focus item', list: () => pages((q) => load(api.GET('/api/v1/focus-items', { params: { query: q } }))) },
  stage_id: { label: 'Only moves to this stage', any: 'Any stage', list: () => pages((q) => load(api.GET('/api/v1/stages', { params: { query: q } }))) },
};
export const FILTER_KEYS = Object.keys(FILTERS) as FilterKey[];

type Q = { limit: number; cursor?: string };
function pages<T extends { id: number }>(get: (q: Q) => Promise<{ data: T[]; has_more: boolean; next_cursor: string | null }>, nameOf: (x: T) => string = (x) => (x as { name?: string }).name ?? `#${x.id}`) {
  return allPages<T>((cursor) => get({ limit: 100, ...(cursor ? { cursor } : {}) })).then((xs) => xs.map((x) => ({ id: x.id, name: nameOf(x) })));
}

// One request per list for the page's life: the form and every endpoint's summary share it.
const cache = new Map<FilterKey, Promise<{ id: number; name: string }[]>>();
export const filterOptions = (key: FilterKey) => {
  let p = cache.get(key);
  if (!p) {
    p = FILTERS[key].list();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
};

/** The filter keys that narrow at least one of these types. */
export const relevantFilters = (catalogue: CatalogueEntry[], types: string[]) => FILTER_KEYS.filter((k) => catalogue.some((e) => types.includes(e.type) && e.filters.includes(k)));

interface Draft {
  url: string;
  description: string;
  types: EventType[];
  filters: Partial<Record<FilterKey, string>>;
}

const draftOf = (w?: Webhook): Draft => ({
  url: w?.url ?? '',
  description: w?.description ?? '',
  types: w?.event_types ?? [],
  filters: Object.fromEntries(Object.entries(w?.filters ?? {}).map(([k, v]) => [k, String(v)])),
});

function bodyOf(d: Draft, catalogue: CatalogueEntry[]): WebhookBody {
  const filters: WebhookBody['filters'] = {};
  // Only filters that narrow a chosen type: one left from a type since unticked is dropped, not refused.
  for (const k of relevantFilters(catalogue, d.types)) if (d.filters[k]) filters[k] = Number(d.filters[k]);
  return { url: d.url.trim(), event_types: d.types, filters, description: d.description.trim() || null };
}

function FilterPicker(props: { id: string; which: FilterKey; value: string; error?: string; onChange: (v: string) => void }) {
  const f = FILTERS[props.which];
  const list = useLoad(() => filterOptions(props.which), props.which);
  return (
    <Field id={props.id} label={f.label} error={props.error ?? (list.state === 'error' ? `Could not load the list: ${list.message}` : undefined)}>
      {(a) => (
        <select {...a} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)} aria-busy={list.state === 'loading' ? 'true' : undefined}>
          <option value="">{f.any}</option>
          {list.state === 'done' && list.data.map((o) => <option value={String(o.id)}>{o.name}</option>)}
          {/* Set to something not in the list (deleted meanwhile): still shown, so saving does not silently drop it. */}
          {props.value && list.state === 'done' && !list.data.some((o) => String(o.id) === props.value) && <option value={props.value}>#{props.value}</option>}
        </select>
      )}
    </Field>
  );
}

export function WebhookForm(props: {
  idPrefix: string;
  catalogue: CatalogueEntry[];
  initial?: Webhook;
  submit: string;
  saver: ReturnType<typeof useSaver>;
  onSave: (body: WebhookBody) => void;
  onCancel?: () => void;
}) {
  const [d, setD] = useState(draftOf(props.initial));
  const id = (n: string) => `${props.idPrefix}-${n}`;
  const e = props.saver.fieldError;
  const groups = [...new Set(props.catalogue.map((c) => areaOf(c.type)))];
  const toggle = (t: EventType, on: boolean) => setD((x) => ({ ...x, types: on ? [...x.types.filter((y) => y !== t), t] : x.types.filter((y) => y !== t) }));
  const typesError = e('event_types');
  return (
    <form
      class="stack"
      noValidate
      onSubmit={(ev) => {
        ev.preventDefault();
        props.onSave(bodyOf(d, props.catalogue));
      }}
    >
      <div class="form-grid">
        <Field id={id('url')} label="Endpoint URL" hint="Where events are POSTed: a public http(s) address, e.g. https://crm.example.com/hooks/leadline." error={e('url')}>
          {(a) => <input {...a} type="url" required maxLength={2048} value={d.url} onInput={(ev) => setD({ ...d, url: ev.currentTarget.value })} />}
        </Field>
        <Field id={id('description')} label="Description (optional)" hint="What receives them, e.g. “CRM sync”." error={e('description')}>
          {(a) => <input {...a} type="text" maxLength={200} value={d.description} onInput={(ev) => setD({ ...d, description: ev.currentTarget.value })} />}
        </Field>
      </div>
      <fieldset class="bare" aria-describedby={typesError ? id('types-error') : id('types-hint')}>
        <legend>Events to send</legend>
        <p class="hint" id={id('types-hint')}>
          {d.types.length ? `${d.types.length} chosen.` : 'Choose at least one.'} Each event carries the objects as the API answers them (the contact as GET /contacts/{'{id}'}…).
        </p>
        {typesError && (
          <p class="field-error" id={id('types-error')}>
            {typesError}
          </p>
        )}
        <div class="columns">
          {groups.map((g) => (
            <fieldset>
              <legend>{AREAS[g] ?? g}</legend>
              {props.catalogue
                .filter((c) => areaOf(c.type) === g)
                .map((c) => (
                  <div>
                    <label class="check" for={id(`type-${c.type}`)}>
                      <input
                        id={id(`type-${c.type}`)}
                        type="checkbox"
                        checked={d.types.includes(c.type)}
                        aria-describedby={id(`about-${c.type}`)}
                        onChange={(ev) => toggle(c.type, ev.currentTarget.checked)}
                      />
                      <code>{c.type}</code>
                    </label>
                    <p class="hint" id={id(`about-${c.type}`)}>
                      {c.description}
                    </p>
                  </div>
                ))}
            </fieldset>
          ))}
        </div>
      </fieldset>
      {relevantFilters(props.catalogue, d.types).length > 0 && (
        <fieldset>
          <legend>Filters (optional)</legend>
          <p class="hint">Each narrows only the events that carry that object; the other events are all sent.</p>
          <div class="form-grid">
            {relevantFilters(props.catalogue, d.types).map((k) => (
              <FilterPicker id={id(`filter-${k}`)} which={k} value={d.filters[k] ?? ''} error={e(`filters.${k}`)} onChange={(v) => setD((x) => ({ ...x, filters: { ...x.filters, [k]: v } }))} />
            ))}
          </div>
        </fieldset>
      )}
      <div class="actions">
        <button type="submit" disabled={props.saver.busy}>
          {props.saver.busy ? 'Saving…' : props.submit}
        </button>
        {props.onCancel && (
          <button type="button" class="secondary" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
      <SaveStatus status={props.saver.status} shown={['url', 'description', 'event_types', 'filters']} />
    </form>
  );
}
