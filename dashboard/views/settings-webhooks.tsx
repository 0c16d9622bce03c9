import { useState } from 'preact/hooks';
import { api, load } from '../api/client';
import type { components } from '../api/schema';
import { SettingsFrame } from '../settings/frame';
import { Secret, WebhookCard } from '../settings/webhook-card';
import { WebhookForm, type Webhook } from '../settings/webhook-form';
import { allPages, send, useSaver } from '../ui/editing';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Settings → Webhooks: the endpoints that receive signed events, as a Stripe-style dashboard has
// them — add one (event types from the server's catalogue, optional filters), its signing secret
// shown once, a test event, the delivery log with replays, re-enabling, rotation and deletion.

export default function WebhooksSettings() {
  const data = useLoad(
    () =>
      Promise.all([
        load(api.GET('/api/v1/webhooks/event-types')),
        allPages<Webhook>((cursor) => load(api.GET('/api/v1/webhooks', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }))),
      ]),
    'webhooks',
  );
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<components['schemas']['WebhookWithSecret'] | null>(null);
  const saver = useSaver();
  const catalogue = data.state === 'done' ? data.data[0].data : [];
  const shown = hooks ?? (data.state === 'done' ? data.data[1] : null);
  const disabled = shown?.filter((w) => w.status === 'disabled').length ?? 0;
  return (
    <SettingsFrame
      title="Webhooks"
      intro="Leadline POSTs each event your endpoints subscribe to, signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature). Failures are retried for 24 hours; then the endpoint is disabled until you re-enable it."
    >
      {created && (
        <div class="card" role="region" aria-label="Endpoint created">
          <p class="saved" role="status">
            Endpoint {created.url} created. Events of its types are sent from now on.
          </p>
          <Secret id="webhook-new-secret" label="Signing secret" value={created.secret} onDone={() => setCreated(null)} />
        </div>
      )}
      {data.state === 'loading' && <Loading what="webhooks" />}
      {data.state === 'error' && <ErrorMessage message={data.message} retry={data.retry} />}
      {data.state === 'done' &&
        (adding ? (
          <div class="card">
            <h2>Add an endpoint</h2>
            <WebhookForm
              idPrefix="new-webhook"
              catalogue={catalogue}
              submit="Add endpoint"
              saver={saver}
              onCancel={() => setAdding(false)}
              onSave={async (body) => {
                const w = await saver.run(() => send(api.POST('/api/v1/webhooks', { body })), 'Endpoint created.');
                if (w) {
                  setCreated(w);
                  setAdding(false);
                  const { secret: _s, ...rest } = w;
                  setHooks([...(shown ?? []), rest]);
                }
              }}
            />
          </div>
        ) : (
          <p>
            <button type="button" onClick={() => (saver.reset(), setAdding(true))}>
              Add an endpoint
            </button>
          </p>
        ))}
      {shown && (
        <>
          <h2>Endpoints</h2>
          {disabled > 0 && (
            <p class="bad-text" role="note">
              {disabled === 1 ? 'One endpoint is disabled' : `${disabled} endpoints are disabled`}: its events wait until it is re-enabled.
            </p>
          )}
          {shown.length === 0 ? (
            <Empty title="No endpoints yet.">
              <p>Add one above to have contacts, form submissions, segment changes or email events POSTed to your server as they happen.</p>
            </Empty>
          ) : (
            <ul class="card-list">
              {shown.map((w) => (
                <WebhookCard
                  key={w.id}
                  w={w}
                  catalogue={catalogue}
                  onChanged={(n) => setHooks(shown.map((x) => (x.id === n.id ? n : x)))}
                  onDeleted={() => setHooks(shown.filter((x) => x.id !== w.id))}
                />
              ))}
            </ul>
          )}
        </>
      )}
    </SettingsFrame>
  );
}
