import { useState } from 'preact/hooks';
import { api, load } from '../api/client';
import type { components } from '../api/schema';
import { SettingsFrame } from '../settings/frame';
import { allPages, Confirm, CopyButton, Field, SaveStatus, send, useSaver } from '../ui/editing';
import { formatDateTime } from '../ui/format';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Settings → Sites: register a site, copy its script tag, check that hits arrive, edit its
// origins and privacy settings, rotate its identify secret, delete it.

type Site = components['schemas']['Site'];

export const scriptTag = (publicKey: string) => `<script async src="${location.origin}/w.js" data-site="${publicKey}"></script>`;

const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

interface SiteDraft {
  name: string;
  origins: string;
  timezone: string;
  consent_required: boolean;
  respect_dnt: boolean;
  anonymize_ip: boolean;
  allow_automation: boolean;
  retention_days: string;
}

const draftOf = (s?: Site): SiteDraft => ({
  name: s?.name ?? '',
  origins: s?.allowed_origins.join('\n') ?? '',
  timezone: s?.timezone ?? '',
  consent_required: s?.settings.consent_required ?? false,
  respect_dnt: s?.settings.respect_dnt ?? true,
  anonymize_ip: s?.settings.anonymize_ip ?? false,
  allow_automation: s?.settings.allow_automation ?? false,
  retention_days: String(s?.settings.retention_days ?? 180),
});

function bodyOf(d: SiteDraft) {
  const days = Number(d.retention_days);
  return {
    name: d.name.trim(),
    allowed_origins: lines(d.origins),
    timezone: d.timezone.trim() || null,
    settings: {
      consent_required: d.consent_required,
      respect_dnt: d.respect_dnt,
      anonymize_ip: d.anonymize_ip,
      allow_automation: d.allow_automation,
      // A number the server checks (1–3650); text that is no number is sent as is, to be refused by name.
      retention_days: (d.retention_days.trim() !== '' && Number.isFinite(days) ? days : d.retention_days) as number,
    },
  };
}

function SiteForm(props: { idPrefix: string; initial?: Site; submit: string; onSave: (body: ReturnType<typeof bodyOf>) => Promise<unknown>; onCancel?: () => void; saver: ReturnType<typeof useSaver> }) {
  const [d, setD] = useState(draftOf(props.initial));
  const set = (p: Partial<SiteDraft>) => setD((x) => ({ ...x, ...p }));
  const id = (n: string) => `${props.idPrefix}-${n}`;
  const e = props.saver.fieldError;
  const check = (key: 'consent_required' | 'respect_dnt' | 'anonymize_ip' | 'allow_automation', label: string) => (
    <label class="check" for={id(key)}>
      <input id={id(key)} type="checkbox" checked={d[key]} onChange={(ev) => set({ [key]: ev.currentTarget.checked })} /> {label}
    </label>
  );
  return (
    <form
      class="stack"
      noValidate
      onSubmit={(ev) => {
        ev.preventDefault();
        void props.onSave(bodyOf(d));
      }}
    >
      <div class="form-grid">
        <Field id={id('name')} label="Name" error={e('name')}>
          {(a) => <input {...a} type="text" required maxLength={200} value={d.name} onInput={(ev) => set({ name: ev.currentTarget.value })} />}
        </Field>
        <Field id={id('timezone')} label="Time zone (optional)" hint="An IANA name such as Europe/Paris; empty: UTC." error={e('timezone')}>
          {(a) => <input {...a} type="text" maxLength={64} value={d.timezone} onInput={(ev) => set({ timezone: ev.currentTarget.value })} />}
        </Field>
      </div>
      <Field
        id={id('origins')}
        label="Allowed origins, one per line"
        hint="Hits are accepted only from these, e.g. https://www.example.com or https://*.example.com for every subdomain."
        error={e('allowed_origins')}
      >
        {(a) => <textarea {...a} rows={3} value={d.origins} onInput={(ev) => set({ origins: ev.currentTarget.value })} />}
      </Field>
      <fieldset>
        <legend>Privacy</legend>
        {check('respect_dnt', 'Respect Do Not Track and Global Privacy Control')}
        {check('consent_required', 'Record nothing until the visitor consents (the site calls the consent API)')}
        {check('anonymize_ip', 'Anonymise IP addresses before the country look-up')}
        {check('allow_automation', 'Store hits from automated browsers (for testing)')}
        <Field id={id('retention')} label="Keep anonymous visitors for (days)" error={e('settings.retention_days') ?? e('settings')} class="narrow-field">
          {(a) => <input {...a} type="number" min={1} max={3650} class="narrow" value={d.retention_days} onInput={(ev) => set({ retention_days: ev.currentTarget.value })} />}
        </Field>
      </fieldset>
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
      <SaveStatus status={props.saver.status} shown={['name', 'timezone', 'allowed_origins', 'settings']} />
    </form>
  );
}

function ScriptTag({ site }: { site: { id: number; public_key: string } }) {
  const tag = scriptTag(site.public_key);
  return (
    <div class="script-tag">
      <p>Paste this tag on every page of the site, before &lt;/body&gt; or in the &lt;head&gt;:</p>
      <pre class="code" id={`tag-${site.id}`}>
        <code>{tag}</code>
      </pre>
      <CopyButton text={tag} label="Copy the script tag" target={`tag-${site.id}`} />
    </div>
  );
}

function Secret({ id, label, value, onDone }: { id: string; label: string; value: string; onDone: () => void }) {
  return (
    <div class="secret" role="region" aria-label={label}>
      <p>
        <strong>{label}</strong> — shown this once. Keep it on your server (it signs identify calls: HMAC-SHA256 of the email).
      </p>
      <pre class="code" id={id}>
        <code>{value}</code>
      </pre>
      <div class="actions">
        <CopyButton text={value} label="Copy the secret" target={id} />
        <button type="button" class="secondary" onClick={onDone}>
          I have saved it
        </button>
      </div>
    </div>
  );
}

type Check = { state: 'idle' | 'checking' } | { state: 'done'; received: boolean; last: string | null; at: number } | { state: 'error'; message: string };

function Installation({ site }: { site: Site }) {
  const [c, setC] = useState<Check>({ state: 'idle' });
  const check = async () => {
    setC({ state: 'checking' });
    try {
      const r = await send(api.GET('/api/v1/sites/{id}/installation', { params: { path: { id: site.id } } }));
      setC({ state: 'done', received: r.received, last: r.last_hit_at, at: Date.now() });
    } catch (e) {
      setC({ state: 'error', message: (e as Error).message });
    }
  };
  return (
    <div class="installation">
      <button type="button" class="secondary" onClick={check} disabled={c.state === 'checking'}>
        {c.state === 'checking' ? 'Checking…' : 'Check installation'}
      </button>
      <div role="status" class="install-result">
        {c.state === 'done' &&
          (c.received ? (
            <p class="saved">
              Hits arrived: the tag is working. The last one was {formatDateTime(c.last!)}.
            </p>
          ) : (
            <p>
              <strong>No hits yet.</strong> Open a page that carries the tag, then check again. No hits after that? The page’s origin must be one of
              the allowed origins{site.allowed_origins.length ? ` (${site.allowed_origins.join(', ')})` : ' — this site has none yet: edit it to add yours'}, and
              visits with Do Not Track or from automated browsers are not recorded.
            </p>
          ))}
        {c.state === 'error' && <p class="field-error">Could not check: {c.message}</p>}
      </div>
    </div>
  );
}

function SiteCard({ site, onChanged, onDeleted }: { site: Site; onChanged: (s: Site) => void; onDeleted: () => void }) {
  const [editing, setEditing] = useState(false);
  const [confirm, setConfirm] = useState<'delete' | 'rotate' | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const saver = useSaver();
  const act = useSaver();
  const heading = `site-${site.id}-name`;
  return (
    <li class="card">
      <h3 id={heading}>
        {site.name}
        {site.is_sample && <span class="badge"> (sample site)</span>}
      </h3>
      <dl class="facts">
        <dt>Public key</dt>
        <dd>
          <code>{site.public_key}</code>
        </dd>
        <dt>Allowed origins</dt>
        <dd>{site.allowed_origins.length ? site.allowed_origins.join(', ') : <span class="bad-text">none — no hits are accepted until you add one</span>}</dd>
        <dt>Time zone</dt>
        <dd>{site.timezone ?? 'UTC'}</dd>
      </dl>
      <ScriptTag site={site} />
      <Installation site={site} />
      {secret && <Secret id={`secret-${site.id}`} label={`New identify secret for ${site.name}`} value={secret} onDone={() => setSecret(null)} />}
      {editing ? (
        <SiteForm
          idPrefix={`site-${site.id}`}
          initial={site}
          submit="Save changes"
          saver={saver}
          onCancel={() => setEditing(false)}
          onSave={async (body) => {
            const s = await saver.run(() => send(api.PATCH('/api/v1/sites/{id}', { params: { path: { id: site.id } }, body })), 'Saved.');
            if (s) {
              onChanged(s);
              setEditing(false);
            }
          }}
        />
      ) : (
        <div class="actions">
          <button type="button" class="secondary" onClick={() => (saver.reset(), setEditing(true))}>
            Edit
          </button>
          <button type="button" class="secondary" onClick={() => setConfirm('rotate')}>
            Rotate identify secret
          </button>
          <button type="button" class="secondary danger-text" onClick={() => setConfirm('delete')}>
            Delete
          </button>
          {saver.state === 'saved' && (
            <span class="saved" role="status">
              {saver.message}
            </span>
          )}
        </div>
      )}
      {confirm === 'delete' && (
        <Confirm
          question={<>Delete “{site.name}”? Its anonymous visitors and their events are deleted; identified contacts and their history stay.</>}
          yes="Delete site"
          busy={act.busy}
          onNo={() => setConfirm(null)}
          onYes={async () => {
            if (await act.run(() => send(api.DELETE('/api/v1/sites/{id}', { params: { path: { id: site.id } } })), 'Deleted.')) onDeleted();
            setConfirm(null);
          }}
        />
      )}
      {confirm === 'rotate' && (
        <Confirm
          question="Rotate the identify secret? The old one stops working at once: your server’s signed identify calls fail until they use the new one."
          yes="Rotate"
          busy={act.busy}
          onNo={() => setConfirm(null)}
          onYes={async () => {
            const r = await act.run(() => send(api.POST('/api/v1/sites/{id}/rotate-secret', { params: { path: { id: site.id } } })), 'Secret rotated.');
            if (r) setSecret(r.secret);
            setConfirm(null);
          }}
        />
      )}
      {act.state === 'error' && <ErrorMessage message={act.message} />}
    </li>
  );
}

export default function SitesSettings() {
  const list = useLoad(() => allPages<Site>((cursor) => load(api.GET('/api/v1/sites', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }))), 'sites');
  const [sites, setSites] = useState<Site[] | null>(null);
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<components['schemas']['SiteWithSecret'] | null>(null);
  const saver = useSaver();
  const shown = sites ?? (list.state === 'done' ? list.data : null);
  return (
    <SettingsFrame title="Sites" intro="Each site gets a public key for its script tag. Hits are accepted only from the site’s allowed origins.">
      {created && (
        <div class="card created" role="region" aria-label="Site created">
          <p class="saved" role="status">
            Site “{created.name}” created.
          </p>
          <ScriptTag site={created} />
          <Secret id="secret-new" label="Identify secret" value={created.secret} onDone={() => setCreated(null)} />
        </div>
      )}
      {adding ? (
        <div class="card">
          <h2>Add a site</h2>
          <SiteForm
            idPrefix="new-site"
            submit="Create site"
            saver={saver}
            onCancel={() => setAdding(false)}
            onSave={async (body) => {
              const s = await saver.run(() => send(api.POST('/api/v1/sites', { body })), 'Site created.');
              if (s) {
                setCreated(s);
                setAdding(false);
                setSites([...(shown ?? []), s]);
              }
            }}
          />
        </div>
      ) : (
        <p>
          <button type="button" onClick={() => (saver.reset(), setAdding(true))}>
            Add a site
          </button>
        </p>
      )}
      {list.state === 'loading' && <Loading what="sites" />}
      {list.state === 'error' && <ErrorMessage message={list.message} retry={list.retry} />}
      {shown &&
        (shown.length === 0 ? (
          <Empty title="No sites yet.">
            <p>Add your site above: you get a script tag to paste on every page, and can check here that its hits arrive.</p>
          </Empty>
        ) : (
          <ul class="card-list">
            {shown.map((s) => (
              <SiteCard
                key={s.id}
                site={s}
                onChanged={(n) => setSites(shown.map((x) => (x.id === n.id ? n : x)))}
                onDeleted={() => setSites(shown.filter((x) => x.id !== s.id))}
              />
            ))}
          </ul>
        ))}
    </SettingsFrame>
  );
}
