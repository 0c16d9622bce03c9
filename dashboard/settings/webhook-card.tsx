// Settings → Webhooks: one endpoint — what it receives, its status (a disabled one says why, with
// "Re-enable"), and its actions: send a test event (the receiver's answer shown), edit, disable,
// rotate the signing secret (the overlap explained), delete, and its delivery log.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../api/client';
import { Confirm, CopyButton, send, useSaver } from '../ui/editing';
import { formatDateTime } from '../ui/format';
import { ErrorMessage } from '../ui/status';
import { useLoad } from '../ui/use-load';
import { Answer, DeliveryLog, type Delivery } from './webhook-deliveries';
import { FILTERS, filterOptions, WebhookForm, type CatalogueEntry, type FilterKey, type Webhook } from './webhook-form';

/** A signing secret, shown once (after create or rotate), with a copy button and the warning. */
export function Secret({ id, label, value, children, onDone }: { id: string; label: string; value: string; children?: ComponentChildren; onDone: () => void }) {
  return (
    <div class="secret" role="region" aria-label={label}>
      <p>
        <strong>{label}.</strong> Copy it now and keep it on the receiving server: it is shown this once and cannot be shown again. The receiver verifies each
        delivery’s <code>webhook-signature</code> with it (any Standard Webhooks library does).
      </p>
      {children}
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

function FilterName({ which, value }: { which: FilterKey; value: number }) {
  const list = useLoad(() => filterOptions(which), which);
  const name = list.state === 'done' ? list.data.find((o) => o.id === value)?.name : undefined;
  return (
    <li>
      {FILTERS[which].label.replace(/^Only /, 'only ')}: {name ? `“${name}”` : `#${value}`}
    </li>
  );
}

const OVERLAPS: [number, string][] = [
  [0, 'None: the old secret stops at once'],
  [3600, 'An hour'],
  [86_400, 'A day (the default)'],
  [7 * 86_400, 'A week'],
];

function RotatePanel({ w, busy, onRotate, onCancel }: { w: Webhook; busy: boolean; onRotate: (overlap: number) => void; onCancel: () => void }) {
  const [overlap, setOverlap] = useState(86_400);
  const sel = `rotate-${w.id}-overlap`;
  return (
    <div class="confirm stack" role="group" aria-label="Rotate the signing secret">
      <p>
        A new secret is made and shown once. During the overlap, every delivery carries two signatures — one made with the old secret, one with the new —
        so the receiver keeps verifying with the old secret until you switch it to the new one. After the overlap only the new secret signs.
      </p>
      <div class="field inline">
        <label for={sel}>Overlap</label>
        <select id={sel} value={String(overlap)} onChange={(e) => setOverlap(Number(e.currentTarget.value))}>
          {OVERLAPS.map(([s, l]) => (
            <option value={String(s)}>{l}</option>
          ))}
        </select>
      </div>
      <div class="actions">
        <button type="button" class="danger" disabled={busy} onClick={() => onRotate(overlap)}>
          {busy ? 'Working…' : 'Rotate secret'}
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}

type Ping = { state: 'idle' | 'sending' } | { state: 'done'; d: Delivery } | { state: 'error'; message: string };

export function WebhookCard(props: { w: Webhook; catalogue: CatalogueEntry[]; onChanged: (w: Webhook) => void; onDeleted: () => void }) {
  const { w } = props;
  const [editing, setEditing] = useState(false);
  const [confirm, setConfirm] = useState<'delete' | 'rotate' | null>(null);
  const [secret, setSecret] = useState<{ value: string; until: string | null } | null>(null);
  const [ping, setPing] = useState<Ping>({ state: 'idle' });
  const [showLog, setShowLog] = useState(false);
  const [refresh, setRefresh] = useState(0);
  const saver = useSaver();
  const act = useSaver();
  const path = { params: { path: { id: w.id } } };
  const disabled = w.status === 'disabled';
  const filters = Object.entries(w.filters).filter(([, v]) => typeof v === 'number') as [FilterKey, number][];

  const setStatus = async (status: 'active' | 'disabled') => {
    const n = await act.run(
      () => send(api.PATCH('/api/v1/webhooks/{id}', { ...path, body: { status } })),
      status === 'active' ? 'Re-enabled: what waited is being delivered, in order.' : 'Disabled: nothing is sent until it is re-enabled; what happens meanwhile waits.',
    );
    if (n) props.onChanged(n);
  };
  const sendPing = async () => {
    setPing({ state: 'sending' });
    try {
      const d = await send(api.POST('/api/v1/webhooks/{id}/ping', path));
      setPing({ state: 'done', d });
      setShowLog(true);
      setRefresh((n) => n + 1);
    } catch (e) {
      setPing({ state: 'error', message: (e as Error).message });
    }
  };

  return (
    <li class="card" data-webhook={w.id}>
      <div class="row-between">
        <h3 id={`webhook-${w.id}`}>
          <code>{w.url}</code>
        </h3>
        {disabled ? <span class="badge bad">Disabled</span> : <span class="badge good">Active</span>}
      </div>
      {disabled && (
        <div class="error" role="note" aria-label={`Endpoint ${w.url} is disabled`}>
          <p>
            <strong>
              {w.disabled_reason === 'failures' ? 'Disabled after 24 hours of failed deliveries' : 'Disabled by hand'}
              {w.disabled_at ? ` on ${formatDateTime(w.disabled_at)}` : ''}.
            </strong>{' '}
            Nothing is sent to it; events that happen meanwhile wait and go out, in order, once it is re-enabled.
            {w.disabled_reason === 'failures' && ' Fix the receiver first (“Send test event” checks it).'}
          </p>
          {w.last_error && <p>Last error: {w.last_error}</p>}
          <button type="button" onClick={() => setStatus('active')} disabled={act.busy}>
            Re-enable
          </button>
        </div>
      )}
      <dl class="facts">
        {w.description && (
          <>
            <dt>Description</dt>
            <dd>{w.description}</dd>
          </>
        )}
        <dt>Events</dt>
        <dd>
          {w.event_types.map((t, i) => (
            <>
              {i > 0 && ', '}
              <code>{t}</code>
            </>
          ))}
        </dd>
        <dt>Filters</dt>
        <dd>
          {filters.length ? (
            <ul class="card-list">
              {filters.map(([k, v]) => (
                <FilterName which={k} value={v} />
              ))}
            </ul>
          ) : (
            'none: every event of these types'
          )}
        </dd>
        {w.previous_secret_expires_at && (
          <>
            <dt>Secret rotation</dt>
            <dd>The previous secret signs too until {formatDateTime(w.previous_secret_expires_at)}.</dd>
          </>
        )}
        {!disabled && w.last_error && w.last_error_at && (
          <>
            <dt>Last error</dt>
            <dd>
              {w.last_error} <span class="hint">({formatDateTime(w.last_error_at)})</span>
            </dd>
          </>
        )}
      </dl>
      {secret && (
        <Secret id={`webhook-${w.id}-secret`} label={`New signing secret for ${w.url}`} value={secret.value} onDone={() => setSecret(null)}>
          {secret.until && <p>Until {formatDateTime(secret.until)} deliveries are signed with both the previous secret and this one.</p>}
        </Secret>
      )}
      {editing ? (
        <WebhookForm
          idPrefix={`webhook-${w.id}`}
          catalogue={props.catalogue}
          initial={w}
          submit="Save changes"
          saver={saver}
          onCancel={() => setEditing(false)}
          onSave={async (body) => {
            const n = await saver.run(() => send(api.PATCH('/api/v1/webhooks/{id}', { ...path, body })), 'Saved.');
            if (n) {
              props.onChanged(n);
              setEditing(false);
            }
          }}
        />
      ) : (
        <div class="actions">
          <button type="button" class="secondary" onClick={sendPing} disabled={ping.state === 'sending'}>
            {ping.state === 'sending' ? 'Sending…' : 'Send test event'}
          </button>
          <button type="button" class="secondary" onClick={() => (saver.reset(), setEditing(true))}>
            Edit
          </button>
          {!disabled && (
            <button type="button" class="secondary" onClick={() => setStatus('disabled')} disabled={act.busy}>
              Disable
            </button>
          )}
          <button type="button" class="secondary" onClick={() => (act.reset(), setConfirm('rotate'))}>
            Rotate secret
          </button>
          <button type="button" class="secondary danger-text" onClick={() => (act.reset(), setConfirm('delete'))}>
            Delete
          </button>
          <button type="button" class="secondary" aria-expanded={showLog} aria-controls={`webhook-${w.id}-log`} onClick={() => setShowLog(!showLog)}>
            {showLog ? 'Hide delivery log' : 'Delivery log'}
          </button>
          {saver.state === 'saved' && (
            <span class="saved" role="status">
              {saver.message}
            </span>
          )}
        </div>
      )}
      <div role="status" class="ping-result">
        {ping.state === 'done' &&
          (ping.d.status === 'delivered' ? (
            <p class="saved">
              Test event delivered: <Answer d={ping.d} />
            </p>
          ) : (
            <p class="bad-text">
              Test event not delivered: <Answer d={ping.d} />
            </p>
          ))}
        {ping.state === 'error' && <p class="field-error">Could not send the test event: {ping.message}</p>}
      </div>
      {confirm === 'rotate' && (
        <RotatePanel
          w={w}
          busy={act.busy}
          onCancel={() => setConfirm(null)}
          onRotate={async (overlap) => {
            const r = await act.run(() => send(api.POST('/api/v1/webhooks/{id}/rotate-secret', { ...path, params: { ...path.params, query: { overlap_seconds: overlap } } })), 'Secret rotated.');
            if (r) {
              const { secret: value, ...rest } = r;
              setSecret({ value, until: rest.previous_secret_expires_at });
              props.onChanged(rest);
            }
            setConfirm(null);
          }}
        />
      )}
      {confirm === 'delete' && (
        <Confirm
          question={<>Delete the endpoint {w.url}? Nothing more is sent to it, and its delivery log is deleted with it.</>}
          yes="Delete endpoint"
          busy={act.busy}
          onNo={() => setConfirm(null)}
          onYes={async () => {
            if (await act.run(() => send(api.DELETE('/api/v1/webhooks/{id}', path)), 'Deleted.')) props.onDeleted();
            setConfirm(null);
          }}
        />
      )}
      {act.state === 'saved' && (
        <p class="saved" role="status">
          {act.message}
        </p>
      )}
      {act.state === 'error' && <ErrorMessage message={act.message} />}
      <div id={`webhook-${w.id}-log`} hidden={!showLog}>
        {showLog && (
          <>
            <h4>Delivery log</h4>
            <DeliveryLog webhookId={w.id} refresh={refresh} disabled={disabled} />
          </>
        )}
      </div>
    </li>
  );
}
