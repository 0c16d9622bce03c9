// Sales feedback (accepted, rejected, won) and the contact's deals.
import { useState } from 'preact/hooks';
import { can } from '../access';
import { api, loadJson as load } from '../api/client';
import { writeResult, type FieldProblem, type Stage } from '../ui/contacts';
import { formatDateTime, formatMoney, label } from '../ui/format';
import { CannotChange, SaveStatus, Paged, type Detail, type Deal, type Save } from './parts';

export function SalesFeedback({ contact, recorded }: { contact: Detail; recorded: () => void }) {
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

export function Deals({ contact, reloadKey, changed }: { contact: Detail; reloadKey: number; changed: () => void }) {
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

