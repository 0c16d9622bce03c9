import { useLocation, useRoute } from 'preact-iso/router';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { can, refusal, type Area } from '../access';
import { api, loadJson as load } from '../api/client';
import type { components } from '../api/schema';
import { currentSession } from '../auth';
import { contactName, loadStages, writeResult, type FieldProblem, type Stage } from '../ui/contacts';
import { formatDateTime, formatInteger, formatMoney, label } from '../ui/format';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';

// One contact: who they are (editable, each server error next to the field it names), tags,
// stage, points and their history, sales feedback, deals, companies, segments, campaigns, emails
// and the timeline — newest first, paged, with what they did as an anonymous visitor before they
// were identified.

type Detail = components['schemas']['ContactDetail'];
type Field = components['schemas']['Field'];
type Deal = components['schemas']['Deal'];
type TimelineEvent = components['schemas']['Event'];
type Page<T> = { data: T[]; has_more: boolean; next_cursor: string | null };

const CORE: { key: keyof Detail & string; label: string; type?: string; max: number }[] = [
  { key: 'email', label: 'Email', type: 'email', max: 254 },
  { key: 'first_name', label: 'First name', max: 100 },
  { key: 'last_name', label: 'Last name', max: 100 },
  { key: 'phone', label: 'Phone', type: 'tel', max: 40 },
  { key: 'job_title', label: 'Job title', max: 120 },
  { key: 'city', label: 'City', max: 100 },
  { key: 'country', label: 'Country', max: 60 },
];

/** Where a role may not change something: what it lacks, in place of the form (dashboard/access.ts). */
function CannotChange({ area }: { area: Area }) {
  return <p class="hint cannot">{refusal(area, 'change')}</p>;
}

/** Saving… / Saved. / the server's message, announced politely (errors assertively). */
type Save = { state: 'idle' } | { state: 'saving' } | { state: 'saved'; message: string } | { state: 'error'; message: string };
function SaveStatus({ save, id }: { save: Save; id?: string }) {
  return (
    <span id={id} role={save.state === 'error' ? 'alert' : 'status'} class={save.state === 'error' ? 'field-error' : save.state === 'saved' ? 'saved' : 'hint'}>
      {save.state === 'saving' ? 'Saving…' : save.state === 'saved' ? save.message : save.state === 'error' ? save.message : ''}
    </span>
  );
}

function Card(props: { id: string; title: string; children: ComponentChildren; busy?: boolean }) {
  return (
    <section class="card" aria-labelledby={props.id} aria-busy={props.busy ? 'true' : undefined}>
      <h2 id={props.id}>{props.title}</h2>
      {props.children}
    </section>
  );
}

/** A cursor-paginated list shown a page at a time, "Show more" appending the next page. */
function Paged<T>(props: { load: (cursor?: string) => Promise<Page<T>>; what: string; empty: ComponentChildren; reloadKey?: string | number; children: (items: T[]) => ComponentChildren }) {
  const [items, setItems] = useState<T[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: true, error: null });
  const run = useRef(0);
  const fetchPage = async (cursor?: string) => {
    const n = ++run.current;
    setState({ busy: true, error: null });
    try {
      const p = await props.load(cursor);
      if (n !== run.current) return;
      setItems((old) => (cursor ? [...(old ?? []), ...p.data] : p.data));
      setNext(p.has_more ? p.next_cursor : null);
      setState({ busy: false, error: null });
    } catch (e) {
      if (n === run.current) setState({ busy: false, error: e instanceof Error ? e.message : String(e) });
    }
  };
  useEffect(() => void fetchPage(), [props.reloadKey]);
  return (
    <div aria-busy={state.busy ? 'true' : undefined}>
      {items && items.length === 0 && props.empty}
      {items && items.length > 0 && props.children(items)}
      {state.busy && <Loading what={props.what} />}
      {state.error && <ErrorMessage message={state.error} retry={() => fetchPage(items?.length ? (next ?? undefined) : undefined)} />}
      {!state.busy && next && (
        <button type="button" class="secondary more-button" onClick={() => fetchPage(next)}>
          Show more {props.what}
        </button>
      )}
    </div>
  );
}

function Profile({ contact, fields, saved }: { contact: Detail; fields: Field[]; saved: (c: Detail) => void }) {
  const mayEdit = can('contacts', 'change');
  const initial = () => {
    const v: Record<string, string> = {};
    for (const f of CORE) v[f.key] = (contact[f.key] as string | null) ?? '';
    for (const f of fields) {
      const x = contact.fields[f.key];
      v[`fields.${f.key}`] = x === undefined || x === null ? '' : Array.isArray(x) ? x.join('|') : String(x);
    }
    return v;
  };
  const [values, setValues] = useState(initial);
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const [save, setSave] = useState<Save>({ state: 'idle' });
  useEffect(() => setValues(initial()), [contact.id, fields.length]);
  const problemOf = (key: string) => problems.find((p) => p.field === key || p.field.startsWith(`${key}.`));
  const firstInvalid = useRef<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    const before = initial();
    const patch: Record<string, unknown> = {};
    const custom: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) {
      if (v === before[k]) continue;
      const value = v.trim() === '' ? null : v.trim();
      if (k.startsWith('fields.')) {
        const def = fields.find((f) => `fields.${f.key}` === k);
        custom[k.slice(7)] = value !== null && def?.type === 'multiselect' ? value.split(/[|;,]/).map((s) => s.trim()).filter(Boolean) : value;
      } else patch[k] = value;
    }
    if (Object.keys(custom).length) patch.fields = custom;
    if (!Object.keys(patch).length) return setSave({ state: 'saved', message: 'Nothing changed.' });
    setSave({ state: 'saving' });
    setProblems([]);
    const r = await writeResult(api.PATCH('/api/v1/contacts/{id}', { params: { path: { id: contact.id } }, body: patch as never }));
    if (r.ok) {
      setSave({ state: 'saved', message: 'Saved.' });
      saved({ ...contact, ...r.data });
      return;
    }
    // A taken email is a 409 without details: it is about the email field.
    const named = r.fields.length ? r.fields : /email/i.test(r.message) && 'email' in patch ? [{ field: 'email', message: r.message }] : [];
    setProblems(named);
    setSave({ state: 'error', message: named.length ? `Not saved: ${named.length === 1 ? 'one field needs' : `${named.length} fields need`} a change.` : `Not saved: ${r.message}` });
    firstInvalid.current = named[0]?.field ?? null;
    requestAnimationFrame(() => {
      const f = firstInvalid.current;
      if (f) document.getElementById(`profile-${f.replace(/\W/g, '-')}`)?.focus();
    });
  };

  const input = (key: string, text: string, opts: { type?: string; max?: number; field?: Field } = {}) => {
    const id = `profile-${key.replace(/\W/g, '-')}`;
    const p = problemOf(key);
    const common = {
      id,
      'aria-invalid': p ? ('true' as const) : undefined,
      'aria-describedby': p ? `${id}-error` : undefined,
    };
    const f = opts.field;
    return (
      <div class="field">
        <label for={id}>{text}</label>
        {f?.type === 'select' && f.options ? (
          <select {...common} value={values[key]} onChange={(e) => setValues({ ...values, [key]: e.currentTarget.value })}>
            <option value="">–</option>
            {f.options.map((o) => (
              <option value={o}>{o}</option>
            ))}
          </select>
        ) : f?.type === 'boolean' ? (
          <select {...common} value={values[key]} onChange={(e) => setValues({ ...values, [key]: e.currentTarget.value })}>
            <option value="">–</option>
            <option value="true">Yes</option>
            <option value="false">No</option>
          </select>
        ) : (
          <input
            {...common}
            type={(f?.type === 'date' ? 'date' : opts.type === 'tel' ? 'tel' : 'text') as 'text'}
            inputMode={(opts.type === 'email' ? 'email' : f?.type === 'number' ? 'decimal' : undefined) as 'email' | undefined}
            autocomplete="off"
            maxLength={opts.max ?? 1000}
            value={values[key]}
            onInput={(e) => setValues({ ...values, [key]: e.currentTarget.value })}
          />
        )}
        {f?.type === 'multiselect' && <p class="hint">Separate values with |</p>}
        {p && (
          <p id={`${id}-error`} class="field-error">
            {p.message}
          </p>
        )}
      </div>
    );
  };

  return (
    <form onSubmit={submit} noValidate>
      <fieldset class="bare" disabled={!mayEdit}>
        <legend class="sr-only">Profile fields</legend>
        <div class="form-grid">
          {CORE.map((f) => input(f.key, f.label, { type: f.type, max: f.max }))}
          {fields.map((f) => input(`fields.${f.key}`, f.label, { field: f }))}
        </div>
      </fieldset>
      {mayEdit ? (
        <div class="form-actions">
          <button type="submit" disabled={save.state === 'saving'}>
            {save.state === 'saving' ? 'Saving…' : 'Save profile'}
          </button>
          <SaveStatus save={save} />
        </div>
      ) : (
        <CannotChange area="contacts" />
      )}
    </form>
  );
}

function Tags({ contact, changed }: { contact: Detail; changed: (tags: string[]) => void }) {
  const mayEdit = can('contacts', 'change');
  const [tag, setTag] = useState('');
  const [save, setSave] = useState<Save>({ state: 'idle' });
  const add = async (e: Event) => {
    e.preventDefault();
    if (!tag.trim()) return setSave({ state: 'error', message: 'Enter a tag to add.' });
    setSave({ state: 'saving' });
    const r = await writeResult(api.POST('/api/v1/contacts/{id}/tags', { params: { path: { id: contact.id } }, body: { tags: [tag.trim()] } }));
    if (!r.ok) return setSave({ state: 'error', message: r.fields[0]?.message ? `Tag ${r.fields[0].message}` : r.message });
    setTag('');
    changed(r.data.tags);
    setSave({ state: 'saved', message: 'Tag added.' });
  };
  const remove = async (t: string) => {
    setSave({ state: 'saving' });
    const r = await writeResult(api.DELETE('/api/v1/contacts/{id}/tags/{tag}', { params: { path: { id: contact.id, tag: t } } }));
    if (!r.ok) return setSave({ state: 'error', message: r.message });
    changed(contact.tags.filter((x) => x !== t));
    setSave({ state: 'saved', message: `Removed “${t}”.` });
  };
  return (
    <>
      {contact.tags.length === 0 ? (
        <p class="hint">No tags yet. Tags group contacts for segments, campaigns and the list’s filter.</p>
      ) : (
        <ul class="plain-list inline-tags">
          {contact.tags.map((t) => (
            <li>
              <span class="tag">{t}</span>
              {mayEdit && (
                <button type="button" class="link" onClick={() => remove(t)} aria-label={`Remove tag ${t}`}>
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {mayEdit ? (
        <form onSubmit={add} class="inline-form">
          <label for="tag-add">New tag</label>
          <input id="tag-add" value={tag} maxLength={64} onInput={(e) => setTag(e.currentTarget.value)} aria-describedby="tag-status" />
          <button type="submit" disabled={save.state === 'saving'}>
            Add tag
          </button>
          <SaveStatus save={save} id="tag-status" />
        </form>
      ) : (
        <CannotChange area="contacts" />
      )}
    </>
  );
}

function StageAndPoints({ contact, stages, changed }: { contact: Detail; stages: Stage[] | null; changed: (c: Partial<Detail>) => void }) {
  const mayChange = can('contact-scoring', 'change');
  const [stage, setStage] = useState(contact.stage_id === null ? '' : String(contact.stage_id));
  const [stageSave, setStageSave] = useState<Save>({ state: 'idle' });
  const [adjust, setAdjust] = useState({ op: 'add', value: '', reason: '' });
  const [pointsSave, setPointsSave] = useState<Save>({ state: 'idle' });
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const [historyKey, setHistoryKey] = useState(0);

  const saveStage = async (e: Event) => {
    e.preventDefault();
    setStageSave({ state: 'saving' });
    const user = currentSession();
    const by = user.state === 'signed-in' ? user.user.name || user.user.email : undefined;
    const r = await writeResult(
      api.PUT('/api/v1/contacts/{id}/stage', { params: { path: { id: contact.id } }, body: { stage_id: stage ? Number(stage) : null, ...(by ? { by } : {}) } }),
    );
    if (!r.ok) return setStageSave({ state: 'error', message: r.message });
    changed({ stage_id: r.data.stage_id });
    setStageSave({ state: 'saved', message: 'Stage saved.' });
  };
  const savePoints = async (e: Event) => {
    e.preventDefault();
    const value = Number(adjust.value);
    const local: FieldProblem[] = [];
    if (!/^-?\d+$/.test(adjust.value.trim())) local.push({ field: 'value', message: 'Enter a whole number.' });
    if (!adjust.reason.trim()) local.push({ field: 'reason', message: 'Say why: it is kept in the point history.' });
    setProblems(local);
    if (local.length) return setPointsSave({ state: 'error', message: 'Not saved: see the fields above.' });
    setPointsSave({ state: 'saving' });
    const r = await writeResult(
      api.POST('/api/v1/contacts/{id}/points', { params: { path: { id: contact.id } }, body: { op: adjust.op as 'add', value, reason: adjust.reason.trim() } }),
    );
    if (!r.ok) {
      setProblems(r.fields);
      return setPointsSave({ state: 'error', message: r.message });
    }
    changed({ points: r.data.points });
    setAdjust({ op: 'add', value: '', reason: '' });
    setHistoryKey((k) => k + 1);
    setPointsSave({ state: 'saved', message: `Saved: ${formatInteger(r.data.points)} points.` });
  };
  const p = (f: string) => problems.find((x) => x.field === f);
  return (
    <>
      {mayChange ? (
        <form onSubmit={saveStage} class="inline-form">
          <label for="stage-select">Stage</label>
          <select id="stage-select" value={stage} onChange={(e) => setStage(e.currentTarget.value)}>
            <option value="">No stage</option>
            {stages?.map((s) => (
              <option value={String(s.id)}>
                {s.name}
                {s.is_mql ? ' (marketing-qualified)' : ''}
              </option>
            ))}
          </select>
          <button type="submit" disabled={stageSave.state === 'saving'}>
            Change stage
          </button>
          <SaveStatus save={stageSave} />
        </form>
      ) : (
        <CannotChange area="contact-scoring" />
      )}
      <h3 class="subhead">Points: {formatInteger(contact.points)}</h3>
      {mayChange ? (
        <form onSubmit={savePoints} noValidate>
          <div class="form-grid">
            <div class="field">
              <label for="points-op">Change</label>
              <select id="points-op" value={adjust.op} onChange={(e) => setAdjust({ ...adjust, op: e.currentTarget.value })}>
                <option value="add">Add</option>
                <option value="subtract">Subtract</option>
                <option value="set">Set to</option>
              </select>
            </div>
            <div class="field">
              <label for="points-value">Points</label>
              <input id="points-value" inputMode="numeric" value={adjust.value} onInput={(e) => setAdjust({ ...adjust, value: e.currentTarget.value })} aria-invalid={p('value') ? 'true' : undefined} aria-describedby={p('value') ? 'points-value-error' : undefined} />
              {p('value') && (
                <p id="points-value-error" class="field-error">
                  {p('value')!.message}
                </p>
              )}
            </div>
            <div class="field">
              <label for="points-reason">Reason</label>
              <input id="points-reason" maxLength={200} value={adjust.reason} onInput={(e) => setAdjust({ ...adjust, reason: e.currentTarget.value })} aria-invalid={p('reason') ? 'true' : undefined} aria-describedby={p('reason') ? 'points-reason-error' : undefined} />
              {p('reason') && (
                <p id="points-reason-error" class="field-error">
                  {p('reason')!.message}
                </p>
              )}
            </div>
          </div>
          <div class="form-actions">
            <button type="submit" disabled={pointsSave.state === 'saving'}>
              Save points
            </button>
            <SaveStatus save={pointsSave} />
          </div>
        </form>
      ) : (
        <CannotChange area="contact-scoring" />
      )}
      <h3 class="subhead">Point history</h3>
      <Paged
        what="point changes"
        reloadKey={historyKey}
        load={(cursor) => load(api.GET('/api/v1/contacts/{id}/points', { params: { path: { id: contact.id }, query: { limit: 10, cursor } } }))}
        empty={<p class="hint">No points yet. Point rules score what the contact does; you can also adjust them here.</p>}
      >
        {(items) => (
          <ul class="plain-list">
            {items.map((x) => (
              <li>
                <strong>{x.delta > 0 ? `+${formatInteger(x.delta)}` : formatInteger(x.delta)}</strong> {x.reason} <span class="sub">{formatDateTime(x.created_at)}</span>
              </li>
            ))}
          </ul>
        )}
      </Paged>
    </>
  );
}

function SalesFeedback({ contact, recorded }: { contact: Detail; recorded: () => void }) {
  const mayChange = can('sales-feedback', 'change');
  const [open, setOpen] = useState<null | 'accepted' | 'rejected' | 'won' | 'lost'>(null);
  const [form, setForm] = useState({ text: '', value: '', currency: 'EUR', date: '' });
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const [save, setSave] = useState<Save>({ state: 'idle' });
  const send = async (e: Event) => {
    e.preventDefault();
    if (!open) return;
    const body =
      open === 'accepted'
        ? { outcome: open, ...(form.text.trim() ? { note: form.text.trim() } : {}) }
        : open === 'rejected'
          ? { outcome: open, reason: form.text.trim() }
          : open === 'lost'
            ? { outcome: open, ...(form.text.trim() ? { reason: form.text.trim() } : {}) }
            : { outcome: open, value: form.value.trim() === '' ? NaN : Number(form.value), currency: form.currency.trim().toUpperCase(), ...(form.date ? { date: form.date } : {}) };
    setSave({ state: 'saving' });
    setProblems([]);
    const r = await writeResult(api.POST('/api/v1/contacts/{id}/sales-feedback', { params: { path: { id: contact.id } }, body: body as never }));
    if (!r.ok) {
      setProblems(r.fields);
      return setSave({ state: 'error', message: r.message });
    }
    setSave({ state: 'saved', message: `Recorded: ${open}${r.data.deal_id ? ` (deal #${r.data.deal_id})` : ''}.` });
    setOpen(null);
    setForm({ text: '', value: '', currency: form.currency, date: '' });
    recorded();
  };
  const p = (f: string) => problems.find((x) => x.field === f);
  const fieldErr = (f: string, id: string) =>
    p(f) && (
      <p id={`${id}-error`} class="field-error">
        {p(f)!.message}
      </p>
    );
  const attrs = (f: string, id: string) => ({ id, 'aria-invalid': p(f) ? ('true' as const) : undefined, 'aria-describedby': p(f) ? `${id}-error` : undefined });
  return (
    <>
      {mayChange ? (
        <>
          <div class="feedback-buttons" role="group" aria-label="Sales feedback">
            {(['accepted', 'rejected', 'won', 'lost'] as const).map((o) => (
              <button type="button" class={open === o ? '' : 'secondary'} aria-expanded={open === o} aria-controls="feedback-form" onClick={() => setOpen(open === o ? null : o)}>
                {o === 'accepted' ? 'Accept lead' : o === 'rejected' ? 'Reject lead' : o === 'won' ? 'Won' : 'Lost'}
              </button>
            ))}
          </div>
          {open && (
            <form id="feedback-form" onSubmit={send} noValidate class="feedback-form">
              <div class="form-grid">
                {open !== 'won' && (
                  <div class="field">
                    <label for="fb-text">{open === 'accepted' ? 'Note (optional)' : open === 'rejected' ? 'Reason' : 'Reason (optional)'}</label>
                    <input {...attrs(open === 'accepted' ? 'note' : 'reason', 'fb-text')} maxLength={open === 'accepted' ? 1000 : 500} value={form.text} onInput={(e) => setForm({ ...form, text: e.currentTarget.value })} />
                    {fieldErr(open === 'accepted' ? 'note' : 'reason', 'fb-text')}
                  </div>
                )}
                {open === 'won' && (
                  <>
                    <div class="field">
                      <label for="fb-value">Value</label>
                      <input {...attrs('value', 'fb-value')} inputMode="decimal" value={form.value} onInput={(e) => setForm({ ...form, value: e.currentTarget.value })} />
                      {fieldErr('value', 'fb-value')}
                    </div>
                    <div class="field">
                      <label for="fb-currency">Currency</label>
                      <input {...attrs('currency', 'fb-currency')} maxLength={3} value={form.currency} onInput={(e) => setForm({ ...form, currency: e.currentTarget.value })} />
                      {fieldErr('currency', 'fb-currency')}
                    </div>
                    <div class="field">
                      <label for="fb-date">Date (optional)</label>
                      <input {...attrs('date', 'fb-date')} type="date" value={form.date} onInput={(e) => setForm({ ...form, date: e.currentTarget.value })} />
                      {fieldErr('date', 'fb-date')}
                    </div>
                  </>
                )}
              </div>
              <div class="form-actions">
                <button type="submit" disabled={save.state === 'saving'}>
                  Record {open}
                </button>
              </div>
            </form>
          )}
          <p>
            <SaveStatus save={save} />
          </p>
        </>
      ) : (
        <CannotChange area="sales-feedback" />
      )}
    </>
  );
}

function Deals({ contact, reloadKey, changed }: { contact: Detail; reloadKey: number; changed: () => void }) {
  const mayChange = can('deals', 'change');
  const [form, setForm] = useState({ name: '', amount: '', currency: 'EUR', stage: 'open' });
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const [save, setSave] = useState<Save>({ state: 'idle' });
  const [key, setKey] = useState(0);
  const create = async (e: Event) => {
    e.preventDefault();
    setSave({ state: 'saving' });
    setProblems([]);
    const amount = form.amount.trim() === '' ? 0 : Number(form.amount);
    const r = await writeResult(
      api.POST('/api/v1/deals', {
        body: { contact_id: contact.id, name: form.name.trim(), amount: Number.isFinite(amount) ? amount : (form.amount as never), currency: form.currency.trim().toUpperCase(), stage: form.stage as 'open' },
      }),
    );
    if (!r.ok) {
      setProblems(r.fields);
      return setSave({ state: 'error', message: r.message });
    }
    setForm({ name: '', amount: '', currency: form.currency, stage: 'open' });
    setSave({ state: 'saved', message: `Deal “${r.data.name}” created.` });
    setKey((k) => k + 1);
    changed();
  };
  const move = async (d: Deal, stage: 'open' | 'won' | 'lost') => {
    setSave({ state: 'saving' });
    const r = await writeResult(api.PATCH('/api/v1/deals/{id}', { params: { path: { id: d.id } }, body: { stage } }));
    if (!r.ok) return setSave({ state: 'error', message: r.message });
    setSave({ state: 'saved', message: `“${d.name}” is ${stage}.` });
    setKey((k) => k + 1);
    changed();
  };
  const p = (f: string) => problems.find((x) => x.field === f);
  const attrs = (f: string, id: string) => ({ id, 'aria-invalid': p(f) ? ('true' as const) : undefined, 'aria-describedby': p(f) ? `${id}-error` : undefined });
  const err = (f: string, id: string) =>
    p(f) && (
      <p id={`${id}-error`} class="field-error">
        {p(f)!.message}
      </p>
    );
  return (
    <>
      <Paged
        what="deals"
        reloadKey={`${key}/${reloadKey}`}
        load={(cursor) => load(api.GET('/api/v1/deals', { params: { query: { contact_id: contact.id, limit: 20, cursor } } }))}
        empty={<p class="hint">No deals. Create one below, or record “Won” as sales feedback.</p>}
      >
        {(deals) => (
          <ul class="plain-list">
            {deals.map((d) => (
              <li>
                <strong>{d.name}</strong> — {formatMoney(d.amount, d.currency)}, <span class={`deal-${d.stage}`}>{d.stage}</span>
                {d.closed_at && <span class="sub">Closed {formatDateTime(d.closed_at)}</span>}
                {mayChange && (
                  <div class="feedback-buttons">
                    {d.stage !== 'won' && (
                      <button type="button" class="secondary" onClick={() => move(d, 'won')} aria-label={`Mark ${d.name} won`}>
                        Mark won
                      </button>
                    )}
                    {d.stage !== 'lost' && (
                      <button type="button" class="secondary" onClick={() => move(d, 'lost')} aria-label={`Mark ${d.name} lost`}>
                        Mark lost
                      </button>
                    )}
                    {d.stage !== 'open' && (
                      <button type="button" class="secondary" onClick={() => move(d, 'open')} aria-label={`Reopen ${d.name}`}>
                        Reopen
                      </button>
                    )}
                  </div>
                )}
              </li>
            ))}
          </ul>
        )}
      </Paged>
      {mayChange ? (
        <>
          <h3 class="subhead">New deal</h3>
          <form onSubmit={create} noValidate>
            <div class="form-grid">
              <div class="field">
                <label for="deal-name">Name</label>
                <input {...attrs('name', 'deal-name')} maxLength={200} value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} />
                {err('name', 'deal-name')}
              </div>
              <div class="field">
                <label for="deal-amount">Amount</label>
                <input {...attrs('amount', 'deal-amount')} inputMode="decimal" value={form.amount} onInput={(e) => setForm({ ...form, amount: e.currentTarget.value })} />
                {err('amount', 'deal-amount')}
              </div>
              <div class="field">
                <label for="deal-currency">Currency</label>
                <input {...attrs('currency', 'deal-currency')} maxLength={3} value={form.currency} onInput={(e) => setForm({ ...form, currency: e.currentTarget.value })} />
                {err('currency', 'deal-currency')}
              </div>
              <div class="field">
                <label for="deal-stage">Stage</label>
                <select id="deal-stage" value={form.stage} onChange={(e) => setForm({ ...form, stage: e.currentTarget.value })}>
                  <option value="open">Open</option>
                  <option value="won">Won</option>
                  <option value="lost">Lost</option>
                </select>
              </div>
            </div>
            <div class="form-actions">
              <button type="submit" disabled={save.state === 'saving'}>
                Create deal
              </button>
              <SaveStatus save={save} />
            </div>
          </form>
        </>
      ) : (
        <CannotChange area="deals" />
      )}
    </>
  );
}

const EVENT_LABELS: Record<string, string> = {
  page_view: 'Viewed a page',
  form_submit: 'Submitted a form',
  form_view: 'Saw a form',
  form_start: 'Started a form',
  identified: 'Identified',
  merged: 'Merged with another contact',
  points_changed: 'Points changed',
  stage_changed: 'Stage changed',
  segment_joined: 'Joined a segment',
  segment_left: 'Left a segment',
  sales_accepted: 'Accepted by sales',
  sales_rejected: 'Rejected by sales',
  deal_won: 'Deal won',
  deal_lost: 'Deal lost',
  email_sent: 'Email sent',
  email_opened: 'Opened an email',
  email_clicked: 'Clicked in an email',
};

function describe(e: TimelineEvent): string {
  const p = e.props as Record<string, unknown>;
  if (e.type === 'page_view') return e.title ? `${e.title} — ${e.url ?? ''}` : (e.url ?? '');
  if (e.type.startsWith('email_')) return e.name ?? '';
  if (e.type === 'custom') return e.name ?? '';
  if (e.type === 'points_changed') return [p.delta !== undefined ? `${Number(p.delta) > 0 ? '+' : ''}${String(p.delta)}` : '', p.reason ? String(p.reason) : ''].filter(Boolean).join(' ');
  if (e.type === 'identified') return `via ${String(p.via ?? p.source ?? 'a form')}`;
  if (e.type === 'stage_changed') return `${typeof p.from_name === 'string' ? p.from_name : 'no stage'} → ${typeof p.to_name === 'string' ? p.to_name : 'no stage'}`;
  // The form, segment, asset or focus item it concerns (by name), and where it happened.
  if (e.name) return [e.name, e.url].filter(Boolean).join(' — ');
  return e.url ?? (typeof p.reason === 'string' ? p.reason : '');
}

function Timeline({ contact, reloadKey }: { contact: Detail; reloadKey: number }) {
  return (
    <Paged
      what="events"
      reloadKey={reloadKey}
      load={(cursor) => load(api.GET('/api/v1/contacts/{id}/events', { params: { path: { id: contact.id }, query: { limit: 25, cursor } } }))}
      empty={<Empty title="Nothing on the timeline yet.">
        <p>Visits, form submissions, emails, points and stage changes appear here as they happen. Put the script tag on your site to see visits.</p>
      </Empty>}
    >
      {(events) => {
        // Newest first: once a visitor's "identified" event has gone by, that visitor's older events
        // happened before anyone knew who they were.
        const identified = new Set<number>();
        return (
          <ol class="timeline">
            {events.map((e) => {
              const anon = e.visitor_id !== null && identified.has(e.visitor_id) && e.type !== 'identified';
              if (e.type === 'identified' && e.visitor_id !== null) identified.add(e.visitor_id);
              return (
                <li class={e.type === 'identified' ? 'identified' : undefined}>
                  <time dateTime={e.created_at}>{formatDateTime(e.created_at)}</time>
                  <div class="what">
                    <strong>{EVENT_LABELS[e.type] ?? label(e.type)}</strong>
                    {anon && <span class="anon">Anonymous visit, before identified</span>}
                    <div class="sub">{describe(e)}</div>
                  </div>
                </li>
              );
            })}
          </ol>
        );
      }}
    </Paged>
  );
}

export default function ContactPage() {
  const { params } = useRoute();
  const { route } = useLocation();
  const id = /^[1-9]\d{0,15}$/.test(params.id ?? '') ? Number(params.id) : null;
  const loaded = useLoad(() => (id === null ? Promise.reject(new Error('There is no contact at this address.')) : load(api.GET('/api/v1/contacts/{id}', { params: { path: { id } } }))), String(id));
  const fields = useLoad(() => load(api.GET('/api/v1/fields', { params: { query: { limit: 100 } } })).then((p) => p.data), 'fields');
  const [contact, setContact] = useState<Detail | null>(null);
  const [stages, setStages] = useState<Stage[] | null>(null);
  const [timelineKey, setTimelineKey] = useState(0);
  useEffect(() => void loadStages().then(setStages, () => setStages([])), []);
  useEffect(() => {
    if (loaded.state === 'done') {
      setContact(loaded.data);
      // A merged contact's old id answers with the survivor: show the survivor's address.
      if (loaded.data.id !== id) route(`/app/contacts/${loaded.data.id}`, true);
    }
  }, [loaded.state]);
  useEffect(() => {
    document.title = `${contact ? contactName(contact) : 'Contact'} · Leadline`;
  }, [contact?.id, contact?.first_name, contact?.last_name, contact?.email]);

  if (loaded.state === 'loading' || (loaded.state === 'done' && !contact)) return <Loading what="the contact" />;
  if (loaded.state === 'error')
    return (
      <section>
        <h1 tabIndex={-1}>Contact</h1>
        <ErrorMessage message={loaded.message} retry={loaded.retry} />
        <p>
          <a href="/app/contacts">Back to contacts</a>
        </p>
      </section>
    );
  const c = contact!;
  const update = (patch: Partial<Detail>) => setContact({ ...c, ...patch });
  const refreshTimeline = () => setTimelineKey((k) => k + 1);
  const stageName = c.stage_id === null ? 'None' : (stages?.find((s) => s.id === c.stage_id)?.name ?? `#${c.stage_id}`);
  const source = c.first_source ? [c.first_source.utm_source, c.first_source.utm_medium, c.first_source.referrer].filter(Boolean).join(' / ') : '';

  return (
    <div class="contact">
      <p class="crumbs">
        <a href="/app/contacts">Contacts</a>
      </p>
      <div class="contact-head">
        <h1 tabIndex={-1}>{contactName(c)}</h1>
        {c.email && contactName(c) !== c.email && <span class="sub">{c.email}</span>}
      </div>
      <dl class="facts">
        <div>
          <dt>Points</dt>
          <dd>{formatInteger(c.points)}</dd>
        </div>
        <div>
          <dt>Stage</dt>
          <dd>{stageName}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatDateTime(c.created_at)}</dd>
        </div>
        <div>
          <dt>Last active</dt>
          <dd>{c.last_active_at ? formatDateTime(c.last_active_at) : 'Not yet'}</dd>
        </div>
        <div>
          <dt>First source</dt>
          <dd>{source || (c.first_seen_at ? 'Direct' : 'No visit tracked')}</dd>
        </div>
        <div>
          <dt>Do not contact</dt>
          <dd>{c.do_not_contact.length ? c.do_not_contact.map((d) => `${d.channel} (${d.reason})`).join(', ') : 'No'}</dd>
        </div>
      </dl>
      <div class="contact-grid">
        <div>
          <Card id="profile-heading" title="Profile">
            {fields.state === 'loading' && <Loading what="fields" />}
            {fields.state === 'error' && <ErrorMessage message={fields.message} retry={fields.retry} />}
            {fields.state === 'done' && <Profile contact={c} fields={fields.data} saved={(n) => (setContact(n), refreshTimeline())} />}
          </Card>
          <Card id="tags-heading" title="Tags">
            <Tags contact={c} changed={(tags) => update({ tags })} />
          </Card>
          <Card id="stage-heading" title="Stage and points">
            <StageAndPoints contact={c} stages={stages} changed={(p) => (update(p), refreshTimeline())} />
          </Card>
          <Card id="sales-heading" title="Sales feedback">
            <SalesFeedback contact={c} recorded={refreshTimeline} />
          </Card>
          <Card id="deals-heading" title="Deals">
            <Deals contact={c} reloadKey={timelineKey} changed={refreshTimeline} />
          </Card>
        </div>
        <div>
          <Card id="timeline-heading" title="Timeline">
            <Timeline contact={c} reloadKey={timelineKey} />
          </Card>
          <Card id="companies-heading" title="Companies">
            {c.companies.length === 0 ? (
              <p class="hint">Not linked to a company. Link one through the API (PUT /api/v1/companies/&#123;id&#125;/contacts/{c.id}).</p>
            ) : (
              <ul class="plain-list">
                {c.companies.map((co) => (
                  <li>
                    <strong>{co.name}</strong> {co.domain && <span class="sub">{co.domain}</span>} {co.is_primary && <span class="tag">primary</span>}
                  </li>
                ))}
              </ul>
            )}
          </Card>
          <Card id="segments-heading" title="Segments">
            <Paged
              what="segments"
              reloadKey={timelineKey}
              load={(cursor) => load(api.GET('/api/v1/contacts/{id}/segments', { params: { path: { id: c.id }, query: { limit: 25, cursor } } }))}
              empty={<p class="hint">In no segment. Segments gather contacts by their fields, tags, points, stage and behaviour.</p>}
            >
              {(items) => (
                <ul class="plain-list">
                  {items.map((s) => (
                    <li>
                      {s.name} <span class="sub">{s.membership === 'manual' ? 'added by hand' : 'matches the filter'}, since {formatDateTime(s.added_at)}</span>
                    </li>
                  ))}
                </ul>
              )}
            </Paged>
          </Card>
          <Card id="campaigns-heading" title="Campaigns">
            <Paged
              what="campaigns"
              load={(cursor) => load(api.GET('/api/v1/contacts/{id}/campaigns', { params: { path: { id: c.id }, query: { limit: 25, cursor } } }))}
              empty={<p class="hint">Not in a campaign.</p>}
            >
              {(items) => (
                <ul class="plain-list">
                  {items.map((x) => (
                    <li>
                      {x.campaign.name} <span class="sub">{x.status}{x.current_step ? `, at ${x.current_step}` : ''}; entered {formatDateTime(x.entered_at)}</span>
                    </li>
                  ))}
                </ul>
              )}
            </Paged>
          </Card>
          <Card id="emails-heading" title="Emails">
            <Paged
              what="emails"
              load={(cursor) => load(api.GET('/api/v1/contacts/{id}/emails', { params: { path: { id: c.id }, query: { limit: 25, cursor } } }))}
              empty={<p class="hint">No email sent to this contact yet.</p>}
            >
              {(items) => (
                <ul class="plain-list">
                  {items.map((m) => (
                    <li>
                      {m.email_name ?? m.subject ?? `Email #${m.email_id}`}{' '}
                      <span class="sub">
                        {m.status}
                        {m.skip_reason ? ` (${m.skip_reason.replace(/_/g, ' ')})` : ''}
                        {m.error ? `: ${m.error}` : ''} · {formatDateTime(m.sent_at ?? m.created_at)}
                      </span>
                    </li>
                  ))}
                </ul>
              )}
            </Paged>
          </Card>
        </div>
      </div>
    </div>
  );
}
