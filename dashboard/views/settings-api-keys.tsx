import { useState } from 'preact/hooks';
import { api, load } from '../api/client';
import type { components } from '../api/schema';
import { SettingsFrame } from '../settings/frame';
import { allPages, Confirm, CopyButton, Field, SaveStatus, send, useSaver } from '../ui/editing';
import { formatDateTime } from '../ui/format';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Settings → API keys: create a key (its secret shown once), see when each was last used, revoke.

type Key = components['schemas']['ApiKey'];
type Scope = Key['scopes'][number];

const SCOPES: { value: Scope; label: string }[] = [
  { value: 'read', label: 'read — GET requests' },
  { value: 'write', label: 'write — read, and create, change, delete' },
  { value: 'admin', label: 'admin — everything, API keys and jobs too' },
];

function NewKey({ onCreated }: { onCreated: (k: components['schemas']['CreatedApiKey']) => void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['read']);
  const saver = useSaver();
  return (
    <form
      class="stack card"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const k = await saver.run(() => send(api.POST('/api/v1/api-keys', { body: { name: name.trim(), scopes } })), 'Key created.');
        if (k) {
          setName('');
          onCreated(k);
        }
      }}
    >
      <h2>Create a key</h2>
      <Field id="key-name" label="Name" hint="What uses it, e.g. “CRM sync”." error={saver.fieldError('name')}>
        {(a) => <input {...a} type="text" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
      </Field>
      <fieldset aria-describedby={saver.fieldError('scopes') ? 'key-scopes-error' : undefined}>
        <legend>Scopes</legend>
        {SCOPES.map((s) => (
          <label class="check" for={`key-scope-${s.value}`}>
            <input
              id={`key-scope-${s.value}`}
              type="checkbox"
              checked={scopes.includes(s.value)}
              onChange={(e) => setScopes(e.currentTarget.checked ? [...scopes, s.value] : scopes.filter((x) => x !== s.value))}
            />{' '}
            {s.label}
          </label>
        ))}
        {saver.fieldError('scopes') && (
          <p class="field-error" id="key-scopes-error">
            {saver.fieldError('scopes')}
          </p>
        )}
      </fieldset>
      <div class="actions">
        <button type="submit" disabled={saver.busy}>
          {saver.busy ? 'Creating…' : 'Create key'}
        </button>
      </div>
      <SaveStatus status={saver.status} shown={['name', 'scopes']} />
    </form>
  );
}

export default function ApiKeysSettings() {
  const list = useLoad(() => allPages<Key>((cursor) => load(api.GET('/api/v1/api-keys', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }))), 'keys');
  const [keys, setKeys] = useState<Key[] | null>(null);
  const [secret, setSecret] = useState<components['schemas']['CreatedApiKey'] | null>(null);
  const [revoking, setRevoking] = useState<Key | null>(null);
  const act = useSaver();
  const shown = keys ?? (list.state === 'done' ? list.data : null);
  return (
    <SettingsFrame title="API keys" intro="Keys let programs call the REST API (Authorization: Bearer …). Each key’s secret is shown once, when it is created; the server keeps only a hash.">
      {secret && (
        <div class="secret" role="region" aria-label="New API key">
          <p>
            <strong>Key “{secret.name}” created.</strong> Copy its secret now: it is shown this once and cannot be shown again.
          </p>
          <pre class="code" id="key-secret">
            <code>{secret.secret}</code>
          </pre>
          <div class="actions">
            <CopyButton text={secret.secret} label="Copy the secret" target="key-secret" />
            <button type="button" class="secondary" onClick={() => setSecret(null)}>
              I have saved it
            </button>
          </div>
        </div>
      )}
      <NewKey
        onCreated={(k) => {
          setSecret(k);
          const { secret: _s, ...key } = k;
          setKeys([key, ...(shown ?? [])]);
        }}
      />
      <h2>Keys</h2>
      {list.state === 'loading' && <Loading what="API keys" />}
      {list.state === 'error' && <ErrorMessage message={list.message} retry={list.retry} />}
      {act.state === 'saved' && (
        <p class="saved" role="status">
          {act.message}
        </p>
      )}
      {act.state === 'error' && <ErrorMessage message={act.message} />}
      {revoking && (
        <Confirm
          question={<>Revoke “{revoking.name}” ({revoking.prefix}…)? It stops working at once, for everything that uses it.</>}
          yes="Revoke key"
          busy={act.busy}
          onNo={() => setRevoking(null)}
          onYes={async () => {
            const k = await act.run(() => send(api.DELETE('/api/v1/api-keys/{id}', { params: { path: { id: revoking.id } } })), `Key “${revoking.name}” revoked.`);
            if (k && shown) setKeys(shown.map((x) => (x.id === k.id ? k : x)));
            setRevoking(null);
          }}
        />
      )}
      {shown &&
        (shown.length === 0 ? (
          <Empty title="No API keys yet.">
            <p>Create one above for each program that calls the API, with the least scope it needs.</p>
          </Empty>
        ) : (
          <div class="table-wrap" role="region" aria-label="API keys" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Starts with</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {shown.map((k) => (
                  <tr>
                    <th scope="row">{k.name}</th>
                    <td>
                      <code>{k.prefix}…</code>
                    </td>
                    <td>{k.scopes.join(', ')}</td>
                    <td>{formatDateTime(k.created_at)}</td>
                    <td>{k.last_used_at ? formatDateTime(k.last_used_at) : 'never'}</td>
                    <td>
                      {k.revoked_at ? (
                        <span class="badge bad">revoked {formatDateTime(k.revoked_at)}</span>
                      ) : (
                        <button type="button" class="secondary small danger-text" onClick={() => (act.reset(), setRevoking(k))} aria-label={`Revoke ${k.name}`}>
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </SettingsFrame>
  );
}
