// One broadcast: its progress while it sends (its report, polled), its results and click map, A/B
// results, and the actions its state allows (cancel, send now, delete).
import { useEffect, useState } from 'preact/hooks';
import { can } from '../access';
import { api, load } from '../api/client';
import { ClickMap, Stats } from './report';
import { Confirm, SaveStatus, send, useSaver } from '../ui/editing';
import { formatDateTime, formatInteger } from '../ui/format';
import { ErrorMessage, Loading } from '../ui/status';
import { STATUS, every, names, type Broadcast, type Email, type Report, type Segment } from './broadcast-shared';

function useBroadcast(id: number) {
  const [state, setState] = useState<{ b: Broadcast; r: Report; email: Email | null; segments: Segment[] } | { error: string } | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    (async () => {
      try {
        const [b, r] = await Promise.all([
          load(api.GET('/api/v1/broadcasts/{id}', { params: { path: { id } } })),
          load(api.GET('/api/v1/broadcasts/{id}/report', { params: { path: { id } } })),
        ]);
        const prev = state && 'b' in state ? state : null;
        const email = prev?.email ?? (await load(api.GET('/api/v1/emails/{id}', { params: { path: { id: b.email_id } } })).catch(() => null));
        const segments = prev?.segments ?? (await every<Segment>('/api/v1/segments').catch(() => []));
        if (!alive) return;
        setState({ b, r, email, segments });
        // While it runs, follow it: every 2 seconds.
        if (b.status === 'scheduled' || b.status === 'sending' || r.queued > 0) timer = setTimeout(() => setTick((t) => t + 1), 2000);
      } catch (e) {
        if (alive) setState({ error: (e as Error).message });
      }
    })();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [id, tick]);
  return { state, refresh: () => setTick((t) => t + 1) };
}

export function BroadcastDetail({ id }: { id: number }) {
  const { state, refresh } = useBroadcast(id);
  const [confirming, setConfirming] = useState(false);
  const canceller = useSaver();
  const name = state && 'b' in state ? (state.email?.name ?? `Email ${state.b.email_id}`) : null;
  useEffect(() => void (document.title = `${name ? `${name} · ` : ''}Broadcast · Leadline`), [name]);
  return (
    <section class="broadcast">
      <p class="crumbs">
        <a href="/app/broadcasts">Broadcasts</a>
      </p>
      <h1 tabIndex={-1}>{name ? `Broadcast: ${name}` : 'Broadcast'}</h1>
      {!state && <Loading what="the broadcast" />}
      {state && 'error' in state && <ErrorMessage message={state.error} retry={refresh} />}
      {state && 'b' in state && (
        <>
          <dl class="facts">
            <dt>Status</dt>
            <dd data-status={state.b.status}>{STATUS[state.b.status]}</dd>
            <dt>Segments</dt>
            <dd>{names(state.b.segment_ids, state.segments)}</dd>
            <dt>Starts</dt>
            <dd>{formatDateTime(state.b.send_at)}</dd>
            {state.b.started_at && (
              <>
                <dt>Started</dt>
                <dd>{formatDateTime(state.b.started_at)}</dd>
              </>
            )}
            {state.b.finished_at && (
              <>
                <dt>Finished</dt>
                <dd>{formatDateTime(state.b.finished_at)}</dd>
              </>
            )}
          </dl>
          <Progress r={state.r} status={state.b.status} />
          {state.b.ab_test && <AbResults b={state.b} r={state.r} />}
          {(state.b.status === 'scheduled' || state.b.status === 'sending') &&
            can('emails', 'change') &&
            (confirming ? (
              <Confirm
                question="Cancel this broadcast? Messages not yet handed to the provider are not sent."
                yes="Cancel broadcast"
                busy={canceller.busy}
                onNo={() => setConfirming(false)}
                onYes={async () => {
                  await canceller.run(() => send(api.POST('/api/v1/broadcasts/{id}/cancel', { params: { path: { id } } })), (c) => `Cancelled; ${c.cancelled_sends} messages not sent.`);
                  setConfirming(false);
                  refresh();
                }}
              />
            ) : (
              <div class="actions">
                <button type="button" class="danger" onClick={() => setConfirming(true)}>
                  Cancel broadcast…
                </button>
              </div>
            ))}
          <SaveStatus status={canceller.status} />
          <Stats r={state.r} />
          <ClickMap emailId={state.b.email_id} links={state.r.links} />
        </>
      )}
    </section>
  );
}

function AbResults({ b, r }: { b: Broadcast; r: Report }) {
  const t = b.ab_test!;
  const letter = (i: number) => String.fromCharCode(97 + i);
  return (
    <section aria-labelledby="ab-heading">
      <h2 id="ab-heading">Subject test</h2>
      <p class="lead">
        {t.sample_percent}% of the recipients, by {t.metric === 'open' ? 'opens' : 'clicks'} by people;{' '}
        {t.winner ? `subject ${t.winner.toUpperCase()} won${t.decided_at ? ` (${formatDateTime(t.decided_at)})` : ''}.` : t.decide_at ? `the winner is picked ${formatDateTime(t.decide_at)}.` : 'the winner is picked after the start.'}
      </p>
      <div class="table-wrap" role="region" aria-label="Subject variants" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">Variant</th>
              <th scope="col">Subject</th>
              <th scope="col" class="num">
                Sent
              </th>
              <th scope="col" class="num">
                Opened
              </th>
              <th scope="col" class="num">
                Clicked
              </th>
            </tr>
          </thead>
          <tbody>
            {t.subjects.map((subject, i) => {
              const v = r.variants.find((x) => x.variant === letter(i));
              return (
                <tr>
                  <th scope="row">
                    {letter(i).toUpperCase()}
                    {t.winner === letter(i) && <span class="badge good"> winner</span>}
                  </th>
                  <td>{subject}</td>
                  <td class="num">{formatInteger(v?.sent ?? 0)}</td>
                  <td class="num">{formatInteger(v?.opens.unique.human ?? 0)}</td>
                  <td class="num">{formatInteger(v?.clicks.unique.human ?? 0)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Progress({ r, status }: { r: Report; status: Broadcast['status'] }) {
  const done = r.sent + r.skipped.total + r.failed;
  const total = done + r.queued;
  return (
    <div class="progress-wrap">
      <label for="broadcast-progress">Progress</label>
      <progress id="broadcast-progress" max={Math.max(total, 1)} value={status === 'sent' && total === 0 ? 1 : done} />
      <p class="hint" role="status">
        {status === 'scheduled'
          ? 'Waiting to start.'
          : `${formatInteger(done)} of ${formatInteger(total)} done: ${formatInteger(r.sent)} sent, ${formatInteger(r.skipped.total)} skipped, ${formatInteger(r.failed)} failed, ${formatInteger(r.queued)} queued.`}
      </p>
    </div>
  );
}
