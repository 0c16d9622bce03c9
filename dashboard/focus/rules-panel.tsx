// When and to whom a focus item shows: its trigger, its targeting (site, pages, devices, new or
// returning, anonymous or known, segments: applied by the server) and how often (applied by the
// visitor's browser).
import type { components } from '../api/schema';
import { Field } from '../ui/editing';
import { DEVICES, TRIGGERS, URL_OPS, urlRule, type Draft, type Frequency, type Targeting, type TriggerType, type UrlOp } from './model';

type Err = (name: string) => string | undefined;
type Set = (p: Partial<Draft>) => void;

export function TriggerPanel({ d, set, e }: { d: Draft; set: Set; e: Err }) {
  return (
    <fieldset class="card stack">
      <legend>Trigger</legend>
      <div class="form-grid">
        <Field id="focus-trigger" label="Shows" error={e('trigger.type') ?? e('trigger')}>
          {(a) => (
            <select {...a} value={d.trigger} onChange={(x) => set({ trigger: x.currentTarget.value as TriggerType })}>
              {TRIGGERS.map(([v, l]) => (
                <option value={v}>{l}</option>
              ))}
            </select>
          )}
        </Field>
        {d.trigger === 'delay' && (
          <Field id="focus-seconds" label="Seconds after the page loads" error={e('trigger.seconds')}>
            {(a) => <input {...a} inputMode="numeric" value={d.seconds} onInput={(x) => set({ seconds: x.currentTarget.value })} />}
          </Field>
        )}
        {d.trigger === 'scroll' && (
          <Field id="focus-percent" label="Percent of the page scrolled" error={e('trigger.percent')}>
            {(a) => <input {...a} inputMode="numeric" value={d.percent} onInput={(x) => set({ percent: x.currentTarget.value })} />}
          </Field>
        )}
        {d.trigger === 'click' && (
          <Field id="focus-selector" label="Elements clicked (CSS selector)" hint="Tag, #id, .class or [attr=&quot;value&quot;], joined by spaces, > or commas." error={e('trigger.selector')}>
            {(a) => <input {...a} value={d.selector} placeholder="#pricing .buy" onInput={(x) => set({ selector: x.currentTarget.value })} />}
          </Field>
        )}
        {d.trigger === 'pageviews' && (
          <Field id="focus-count" label="From page view number" error={e('trigger.count')}>
            {(a) => <input {...a} inputMode="numeric" value={d.count} onInput={(x) => set({ count: x.currentTarget.value })} />}
          </Field>
        )}
      </div>
    </fieldset>
  );
}

export function TargetingPanel({ d, set, e, sites, segments }: { d: Draft; set: Set; e: Err; sites: components['schemas']['Site'][]; segments: components['schemas']['Segment'][] }) {
  const setUrl = (i: number, p: Partial<Draft['urls'][number]>) => set({ urls: d.urls.map((u, j) => (j === i ? { ...u, ...p } : u)) });
  const toggle = <T,>(list: T[], v: T, on: boolean) => (on ? [...list, v] : list.filter((x) => x !== v));
  return (
    <fieldset class="card stack">
      <legend>Who sees it</legend>
      <div class="form-grid">
        <Field id="focus-site" label="Site" error={e('site_id')}>
          {(a) => (
            <select {...a} value={d.site} onChange={(x) => set({ site: x.currentTarget.value })}>
              <option value="">Every site</option>
              {sites.map((s) => (
                <option value={String(s.id)}>{s.name}</option>
              ))}
            </select>
          )}
        </Field>
        <Field id="focus-visitor" label="Visitors" error={e('targeting.visitor')}>
          {(a) => (
            <select {...a} value={d.visitor} onChange={(x) => set({ visitor: x.currentTarget.value as Targeting['visitor'] })}>
              <option value="all">New and returning</option>
              <option value="new">New visitors only</option>
              <option value="returning">Returning visitors only</option>
            </select>
          )}
        </Field>
        <Field id="focus-identity" label="Known contacts" hint="Known: the browser proved who it is (signed identify, an email link)." error={e('targeting.identity')}>
          {(a) => (
            <select {...a} value={d.identity} onChange={(x) => set({ identity: x.currentTarget.value as Targeting['identity'] })}>
              <option value="all">Anonymous and known</option>
              <option value="anonymous">Anonymous visitors only</option>
              <option value="known">Known contacts only</option>
            </select>
          )}
        </Field>
      </div>
      <fieldset class="stack">
        <legend>Pages</legend>
        <p class="hint">None: every page. Else any rule that matches; a value starting with “/” is compared with the path, any other with the whole address.</p>
        {e('targeting.urls') && <p class="field-error">{e('targeting.urls')}</p>}
        <ol class="card-list stack">
          {d.urls.map((u, i) => (
            <li class="url-rule" key={u.uid}>
              <Field id={`focus-url-${u.uid}-op`} label={`Rule ${i + 1}: the page address`}>
                {(a) => (
                  <select {...a} value={u.op} onChange={(x) => setUrl(i, { op: x.currentTarget.value as UrlOp })}>
                    {URL_OPS.map(([v, l]) => (
                      <option value={v}>{l}</option>
                    ))}
                  </select>
                )}
              </Field>
              <Field id={`focus-url-${u.uid}-value`} label={`Rule ${i + 1}: value`} error={e(`targeting.urls.${i}.value`)}>
                {(a) => <input {...a} value={u.value} placeholder="/pricing" onInput={(x) => setUrl(i, { value: x.currentTarget.value })} />}
              </Field>
              <button type="button" class="secondary danger-text" onClick={() => set({ urls: d.urls.filter((_, j) => j !== i) })}>
                Remove<span class="sr-only"> rule {i + 1}</span>
              </button>
            </li>
          ))}
        </ol>
        <div class="actions">
          <button type="button" class="secondary" onClick={() => set({ urls: [...d.urls, urlRule()] })}>
            Add a page rule
          </button>
        </div>
      </fieldset>
      <fieldset class="checks">
        <legend>Devices (none ticked: all)</legend>
        {DEVICES.map(([v, l]) => (
          <label class="check" for={`focus-device-${v}`}>
            <input id={`focus-device-${v}`} type="checkbox" checked={d.devices.includes(v)} onChange={(x) => set({ devices: toggle(d.devices, v, x.currentTarget.checked) })} /> {l}
          </label>
        ))}
        {e('targeting.devices') && <p class="field-error">{e('targeting.devices')}</p>}
      </fieldset>
      {segments.length > 0 && (
        <fieldset class="checks">
          <legend>Only contacts in these segments (none ticked: everyone)</legend>
          {segments.map((s) => (
            <label class="check" for={`focus-segment-${s.id}`}>
              <input id={`focus-segment-${s.id}`} type="checkbox" checked={d.segment_ids.includes(s.id)} onChange={(x) => set({ segment_ids: toggle(d.segment_ids, s.id, x.currentTarget.checked) })} />{' '}
              {s.name}
            </label>
          ))}
          {e('targeting.segment_ids') && <p class="field-error">{e('targeting.segment_ids')}</p>}
        </fieldset>
      )}
    </fieldset>
  );
}

export function FrequencyPanel({ d, set, e }: { d: Draft; set: Set; e: Err }) {
  return (
    <fieldset class="card stack">
      <legend>How often</legend>
      <div class="form-grid">
        <Field id="focus-mode" label="Shows" error={e('frequency.mode')}>
          {(a) => (
            <select {...a} value={d.mode} onChange={(x) => set({ mode: x.currentTarget.value as Frequency['mode'] })}>
              <option value="every_page">On every page</option>
              <option value="once_per_session">Once per visit</option>
              <option value="every_n_days">Once every few days</option>
            </select>
          )}
        </Field>
        {d.mode === 'every_n_days' && (
          <Field id="focus-days" label="Days between showings" error={e('frequency.days')}>
            {(a) => <input {...a} inputMode="numeric" value={d.days} onInput={(x) => set({ days: x.currentTarget.value })} />}
          </Field>
        )}
        <Field id="focus-max" label="At most this many times per visitor" hint="Empty: no limit." error={e('frequency.max_displays')}>
          {(a) => <input {...a} inputMode="numeric" value={d.max_displays} onInput={(x) => set({ max_displays: x.currentTarget.value })} />}
        </Field>
      </div>
      <label class="check" for="focus-stop-conversion">
        <input id="focus-stop-conversion" type="checkbox" checked={d.stop_after_conversion} onChange={(x) => set({ stop_after_conversion: x.currentTarget.checked })} /> Not again
        once the visitor clicked or submitted
      </label>
      <label class="check" for="focus-stop-close">
        <input id="focus-stop-close" type="checkbox" checked={d.stop_after_close} onChange={(x) => set({ stop_after_close: x.currentTarget.checked })} /> Not again once
        the visitor closed it
      </label>
    </fieldset>
  );
}
