import { useState } from 'preact/hooks';
import { api, load } from '../api/client';
import type { components } from '../api/schema';
import { SettingsFrame } from '../settings/frame';
import { allPages, Confirm, Field, SaveStatus, send, useSaver } from '../ui/editing';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Settings → Email: subscription categories (what a contact can leave one by one in the
// preference centre) and the sending settings the API has (frequency caps; deliverability alerts).

type Category = components['schemas']['EmailCategory'];
type Settings = components['schemas']['EmailSettings'];

function CategoryForm(props: { initial?: Category; onSaved: (c: Category) => void; onCancel?: () => void }) {
  const c = props.initial;
  const [key, setKey] = useState(c?.key ?? '');
  const [name, setName] = useState(c?.name ?? '');
  const [description, setDescription] = useState(c?.description ?? '');
  const saver = useSaver();
  const p = `cat-${c?.id ?? 'new'}`;
  return (
    <form
      class="stack"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const body = { key: key.trim(), name: name.trim(), description: description.trim() || null };
        const saved = await saver.run(
          () => send(c ? api.PATCH('/api/v1/email-categories/{id}', { params: { path: { id: c.id } }, body }) : api.POST('/api/v1/email-categories', { body })),
          'Category saved.',
        );
        if (saved) {
          if (!c) {
            setKey('');
            setName('');
            setDescription('');
          }
          props.onSaved(saved);
        }
      }}
    >
      <div class="form-grid">
        <Field id={`${p}-name`} label="Name" hint="What contacts see, e.g. “Product news”." error={saver.fieldError('name')}>
          {(a) => <input {...a} type="text" value={name} onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <Field id={`${p}-key`} label="Key" hint="For the API, e.g. product-news; unique." error={saver.fieldError('key')}>
          {(a) => <input {...a} type="text" value={key} onInput={(e) => setKey(e.currentTarget.value)} />}
        </Field>
        <Field id={`${p}-description`} label="Description (optional)" error={saver.fieldError('description')}>
          {(a) => <input {...a} type="text" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />}
        </Field>
      </div>
      <div class="actions">
        <button type="submit" disabled={saver.busy}>
          {saver.busy ? 'Saving…' : c ? 'Save changes' : 'Add category'}
        </button>
        {props.onCancel && (
          <button type="button" class="secondary" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
      <SaveStatus status={saver.status} shown={['key', 'name', 'description']} />
    </form>
  );
}

function Categories() {
  const list = useLoad(() => allPages<Category>((cursor) => load(api.GET('/api/v1/email-categories', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }))), 'categories');
  const [cats, setCats] = useState<Category[] | null>(null);
  const [editing, setEditing] = useState<number | null>(null);
  const [deleting, setDeleting] = useState<Category | null>(null);
  const act = useSaver();
  const shown = cats ?? (list.state === 'done' ? list.data : null);
  const put = (c: Category) => setCats([...(shown ?? []).filter((x) => x.id !== c.id), c].sort((a, b) => a.id - b.id));
  return (
    <section aria-labelledby="categories-heading">
      <h2 id="categories-heading">Subscription categories</h2>
      <p class="lead">Marketing emails belong to a category; contacts can leave one category and keep the others, from the preference centre.</p>
      <div class="card">
        <h3>Add a category</h3>
        <CategoryForm onSaved={put} />
      </div>
      {list.state === 'loading' && <Loading what="categories" />}
      {list.state === 'error' && <ErrorMessage message={list.message} retry={list.retry} />}
      <div aria-live="polite">{act.state === 'saved' && <p class="saved">{act.message}</p>}</div>
      {act.state === 'error' && <ErrorMessage message={act.message} />}
      {deleting && (
        <Confirm
          question={<>Delete the category “{deleting.name}”? Contacts’ choices about it go with it. (Not possible while an email uses it.)</>}
          yes="Delete category"
          busy={act.busy}
          onNo={() => setDeleting(null)}
          onYes={async () => {
            const d = deleting;
            if (await act.run(() => send(api.DELETE('/api/v1/email-categories/{id}', { params: { path: { id: d.id } } })), `Category “${d.name}” deleted.`))
              setCats((shown ?? []).filter((x) => x.id !== d.id));
            setDeleting(null);
          }}
        />
      )}
      {shown &&
        (shown.length === 0 ? (
          <Empty title="No categories yet.">
            <p>Add one per kind of marketing email you send (newsletter, product news, events), so contacts can leave one and keep the rest.</p>
          </Empty>
        ) : (
          <ul class="card-list">
            {shown.map((c) => (
              <li class="card" key={c.id}>
                {editing === c.id ? (
                  <CategoryForm
                    initial={c}
                    onSaved={(n) => {
                      put(n);
                      setEditing(null);
                    }}
                    onCancel={() => setEditing(null)}
                  />
                ) : (
                  <div class="row-between">
                    <div>
                      <h3>{c.name}</h3>
                      <p class="hint">
                        <code>{c.key}</code>
                        {c.description && <> · {c.description}</>}
                      </p>
                    </div>
                    <div class="actions">
                      <button type="button" class="secondary small" onClick={() => setEditing(c.id)} aria-label={`Edit ${c.name}`}>
                        Edit
                      </button>
                      <button type="button" class="secondary small danger-text" onClick={() => (act.reset(), setDeleting(c))} aria-label={`Delete ${c.name}`}>
                        Delete
                      </button>
                    </div>
                  </div>
                )}
              </li>
            ))}
          </ul>
        ))}
    </section>
  );
}

function SendingForm({ settings }: { settings: Settings }) {
  const [perDay, setPerDay] = useState(settings.frequency_cap.per_day === null ? '' : String(settings.frequency_cap.per_day));
  const [perWeek, setPerWeek] = useState(settings.frequency_cap.per_week === null ? '' : String(settings.frequency_cap.per_week));
  const saver = useSaver();
  const cap = (t: string) => (t.trim() === '' ? null : Number.isFinite(Number(t)) ? Number(t) : (t as unknown as number));
  return (
    <form
      class="stack card"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void saver.run(() => send(api.PATCH('/api/v1/email-settings', { body: { frequency_cap: { per_day: cap(perDay), per_week: cap(perWeek) } } })), 'Sending settings saved.');
      }}
    >
      <h3>Frequency caps</h3>
      <p class="hint">At most this many marketing emails per contact; a send over a cap is skipped and recorded. Tests and transactional emails are not capped. Empty: no cap.</p>
      <div class="form-grid">
        <Field id="cap-day" label="Per 24 hours" error={saver.fieldError('frequency_cap.per_day')}>
          {(a) => <input {...a} type="number" min={1} class="narrow" value={perDay} onInput={(e) => setPerDay(e.currentTarget.value)} />}
        </Field>
        <Field id="cap-week" label="Per 7 days" error={saver.fieldError('frequency_cap.per_week')}>
          {(a) => <input {...a} type="number" min={1} class="narrow" value={perWeek} onInput={(e) => setPerWeek(e.currentTarget.value)} />}
        </Field>
      </div>
      <div class="actions">
        <button type="submit" disabled={saver.busy}>
          {saver.busy ? 'Saving…' : 'Save sending settings'}
        </button>
      </div>
      <SaveStatus status={saver.status} shown={['frequency_cap.per_day', 'frequency_cap.per_week']} />
    </form>
  );
}

function Sending() {
  const s = useLoad(() => load(api.GET('/api/v1/email-settings')), 'email-settings');
  return (
    <section aria-labelledby="sending-heading">
      <h2 id="sending-heading">Sending</h2>
      {s.state === 'loading' && <Loading what="sending settings" />}
      {s.state === 'error' && <ErrorMessage message={s.message} retry={s.retry} />}
      {s.state === 'done' && (
        <>
          {s.data.alerts.length > 0 ? (
            <div class="error" role="alert">
              {s.data.alerts.map((a) => (
                <p>{a.message}</p>
              ))}
            </div>
          ) : (
            <p class="saved">No deliverability alerts: spam complaints are under the threshold.</p>
          )}
          <SendingForm settings={s.data} />
          <p class="hint">
            The email provider (Resend, or the local outbox when no key is set) and the sender addresses are set in the server’s configuration (
            <code>RESEND_API_KEY</code>, see the README).
          </p>
        </>
      )}
    </section>
  );
}

export default function EmailSettings() {
  return (
    <SettingsFrame title="Email">
      <Sending />
      <Categories />
    </SettingsFrame>
  );
}
