// Settings → Webhooks: one endpoint's delivery log, newest first and a page at a time (the API's
// keyset cursor: "Older deliveries" asks for the page after the last one shown), each with its
// status, attempts, next retry and the receiver's answer; "Replay" sends one again.
import { useEffect, useState } from 'preact/hooks';
import { api, load } from '../api/client';
import type { components } from '../api/schema';
import { send, useSaver } from '../ui/editing';
import { formatDateTime } from '../ui/format';
import { Empty, ErrorMessage, Loading } from '../ui/status';

export type Delivery = components['schemas']['WebhookDelivery'];

const PAGE = 10;

/** "delivered", "failed", "retrying" — what the status means to the person reading the log. */
export function DeliveryStatus({ d }: { d: Delivery }) {
  if (d.status === 'delivered') return <span class="badge good">Delivered</span>;
  if (d.status === 'failed') return <span class="badge bad">Failed</span>;
  return <span class="badge">{d.attempts ? 'Retrying' : 'Waiting'}</span>;
}

/** The receiver's answer: its status code and the start of what it said, or why there was none. */
export function Answer({ d }: { d: Delivery }) {
  const a = d.last_attempt;
  if (!a) return <span class="hint">not sent yet</span>;
  return (
    <span>
      {a.response_status !== null ? <strong>HTTP {a.response_status}</strong> : <strong class="bad-text">{d.last_error ?? 'no answer'}</strong>}
      {a.duration_ms !== null && <span class="hint"> in {a.duration_ms} ms</span>}
      {a.response_excerpt && (
        <>
          {' '}
          <code>{a.response_excerpt}</code>
        </>
      )}
      {/* The error, unless it only repeats the status and the excerpt (a redirect says it is not followed). */}
      {a.response_status !== null && d.last_error && ![`HTTP ${a.response_status}`, `HTTP ${a.response_status}: ${a.response_excerpt}`].includes(d.last_error) && <span class="block bad-text">{d.last_error}</span>}
    </span>
  );
}

type Log = { state: 'loading' } | { state: 'error'; message: string } | { state: 'done'; rows: Delivery[]; next: string | null; more: 'idle' | 'loading' | string };

export function DeliveryLog({ webhookId, refresh, disabled }: { webhookId: number; refresh: number; disabled: boolean }) {
  const [log, setLog] = useState<Log>({ state: 'loading' });
  const [again, setAgain] = useState(0);
  const replay = useSaver();
  const get = (cursor?: string) =>
    load(api.GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id: webhookId }, query: { limit: PAGE, ...(cursor ? { cursor } : {}) } } }));
  useEffect(() => {
    let live = true;
    setLog((l) => (l.state === 'done' ? l : { state: 'loading' }));
    get().then(
      (p) => live && setLog({ state: 'done', rows: p.data, next: p.has_more ? p.next_cursor : null, more: 'idle' }),
      (e: Error) => live && setLog({ state: 'error', message: e.message }),
    );
    return () => void (live = false);
  }, [webhookId, refresh, again]);

  const older = async () => {
    if (log.state !== 'done' || !log.next) return;
    setLog({ ...log, more: 'loading' });
    try {
      const p = await get(log.next);
      setLog({ state: 'done', rows: [...log.rows, ...p.data.filter((d) => !log.rows.some((r) => r.id === d.id))], next: p.has_more ? p.next_cursor : null, more: 'idle' });
    } catch (e) {
      setLog({ ...log, more: (e as Error).message });
    }
  };

  const doReplay = async (d: Delivery) => {
    const r = await replay.run(
      () => send(api.POST('/api/v1/webhook-deliveries/{id}/replay', { params: { path: { id: d.id } } })),
      (n) => `Replayed ${n.event_type ?? 'the delivery'} (${n.message_id}): ${n.status === 'delivered' ? `delivered, HTTP ${n.last_status_code}` : n.status === 'failed' ? 'failed' : 'waiting its turn or for a retry'}.`,
    );
    if (r && log.state === 'done') setLog({ ...log, rows: log.rows.map((x) => (x.id === r.id ? r : x)) });
  };

  const caption = `Deliveries to endpoint ${webhookId}`;
  return (
    <div class="stack">
      <div class="row-between">
        <p class="hint">Newest first. Failed attempts are retried with a growing delay (10 s, doubling, at most 4 h apart) for 24 hours.</p>
        <button type="button" class="secondary small" onClick={() => setAgain((n) => n + 1)}>
          Refresh the log
        </button>
      </div>
      {log.state === 'loading' && <Loading what="deliveries" />}
      {log.state === 'error' && <ErrorMessage message={log.message} retry={() => setAgain((n) => n + 1)} />}
      {replay.state === 'saved' && (
        <p class="saved" role="status">
          {replay.message}
        </p>
      )}
      {replay.state === 'error' && <ErrorMessage message={replay.message} />}
      {log.state === 'done' &&
        (log.rows.length === 0 ? (
          <Empty title="Nothing delivered yet.">
            <p>Events of the chosen types that happen from now on are listed here. “Send test event” sends one at once.</p>
          </Empty>
        ) : (
          <div class="table-wrap" role="region" aria-label={caption} tabIndex={0}>
            <table>
              <caption class="sr-only">{caption}</caption>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">
                    Attempts
                  </th>
                  <th scope="col">Next retry</th>
                  <th scope="col">Response</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {log.rows.map((d) => (
                  <tr data-delivery={d.id}>
                    <th scope="row">
                      <code>{d.event_type ?? '–'}</code>
                      <span class="hint block">{d.message_id}</span>
                    </th>
                    <td>
                      <DeliveryStatus d={d} />
                    </td>
                    <td class="num">{d.attempts}</td>
                    <td>{d.next_attempt_at ? formatDateTime(d.next_attempt_at) : '–'}</td>
                    <td class="response">
                      <Answer d={d} />
                    </td>
                    <td>{formatDateTime(d.created_at)}</td>
                    <td>
                      <button
                        type="button"
                        class="secondary small"
                        disabled={replay.busy || (disabled && d.event_type !== 'webhook.ping')}
                        title={disabled && d.event_type !== 'webhook.ping' ? 'Re-enable the endpoint to replay its deliveries' : undefined}
                        aria-label={`Replay ${d.event_type ?? 'delivery'} ${d.message_id}`}
                        onClick={() => doReplay(d)}
                      >
                        Replay
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      {log.state === 'done' && log.next && (
        <p>
          <button type="button" class="secondary" onClick={older} disabled={log.more === 'loading'}>
            {log.more === 'loading' ? 'Loading…' : 'Older deliveries'}
          </button>
        </p>
      )}
      {log.state === 'done' && log.more !== 'idle' && log.more !== 'loading' && <ErrorMessage message={log.more} retry={older} />}
    </div>
  );
}
