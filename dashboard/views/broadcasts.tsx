import { useLocation, useRoute } from 'preact-iso/router';
import { useEffect, useState } from 'preact/hooks';
import { can, refusal } from '../access';
import { api, load } from '../api/client';
import { EmailSubnav } from '../emails/common';
import { Field, SaveStatus, send, useSaver } from '../ui/editing';
import { formatDateTime, formatInteger } from '../ui/format';
import { Empty, ErrorMessage, Loading, Refused } from '../ui/status';
import { useLoad } from '../ui/use-load';
import { BroadcastDetail } from '../emails/broadcast-detail';
import { STATUS, every, names, type Broadcast, type Email, type Segment } from '../emails/broadcast-shared';

// Broadcasts: an email of kind "broadcast" sent once to the members of segments, now or at a
// chosen time; the list, the form (email, segments with their member counts, when), and each
// broadcast's progress and results as it goes (its report, polled while it sends).

async function loadList() {
  const [broadcasts, emails, segments] = await Promise.all([
    load(api.GET('/api/v1/broadcasts', { params: { query: { limit: 50 } } })).then((p) => p.data),
    every<Email>('/api/v1/emails', { kind: 'broadcast' }).catch(() => [] as Email[]),
    every<Segment>('/api/v1/segments').catch(() => [] as Segment[]),
  ]);
  return { broadcasts, emails, segments };
}

function BroadcastList() {
  const list = useLoad(loadList, 'list');
  useEffect(() => void (document.title = 'Broadcasts · Leadline'), []);
  return (
    <section class="broadcasts">
      <div class="title-row">
        <h1 tabIndex={-1}>Broadcasts</h1>
        {can('emails', 'change') && (
          <a class="button" href="/app/broadcasts/new">
            New broadcast
          </a>
        )}
      </div>
      <EmailSubnav />
      <p class="lead">An email of kind Broadcast, sent once to the members of segments, now or at a time you choose.</p>
      {list.state === 'loading' && <Loading what="broadcasts" />}
      {list.state === 'error' && <ErrorMessage message={list.message} retry={list.retry} />}
      {list.state === 'done' &&
        (list.data.broadcasts.length === 0 ? (
          <Empty title="No broadcasts yet.">
            <p>
              Write an email of kind Broadcast, then {can('emails', 'change') ? <a href="/app/broadcasts/new">send it to a segment</a> : 'a marketer or an admin can send it to a segment'}.
            </p>
          </Empty>
        ) : (
          <div class="table-wrap" role="region" aria-label="Broadcasts" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Segments</th>
                  <th scope="col">Status</th>
                  <th scope="col">Starts</th>
                </tr>
              </thead>
              <tbody>
                {list.data.broadcasts.map((b) => (
                  <tr>
                    <th scope="row">
                      <a href={`/app/broadcasts/${b.id}`}>{list.data.emails.find((e) => e.id === b.email_id)?.name ?? `Email ${b.email_id}`}</a>
                    </th>
                    <td>{names(b.segment_ids, list.data.segments)}</td>
                    <td>{STATUS[b.status]}</td>
                    <td>{formatDateTime(b.send_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </section>
  );
}

/** A datetime-local value (the browser's time zone) as an ISO instant, or null when incomplete. */
const toIso = (local: string) => {
  const t = Date.parse(local);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
};

function NewBroadcast() {
  const { query, route } = useLocation();
  const data = useLoad(loadList, 'new');
  const [emailId, setEmailId] = useState(query.email ?? '');
  const [chosen, setChosen] = useState<number[]>([]);
  const [when, setWhen] = useState<'now' | 'later'>('now');
  const [at, setAt] = useState('');
  const [ab, setAb] = useState(false);
  const [subjectB, setSubjectB] = useState('');
  const [sample, setSample] = useState('20');
  const [metric, setMetric] = useState<'open' | 'click'>('open');
  const [hours, setHours] = useState('4');
  const saver = useSaver();
  useEffect(() => void (document.title = 'New broadcast · Broadcasts · Leadline'), []);
  if (data.state === 'loading') return <Loading what="emails and segments" />;
  if (data.state === 'error') return <ErrorMessage message={data.message} retry={data.retry} />;
  const { emails, segments } = data.data;
  const email = emailId || (emails[0] ? String(emails[0].id) : '');
  const reach = segments.filter((s) => chosen.includes(s.id)).reduce((n, s) => n + s.members, 0);

  const submit = async (e: Event) => {
    e.preventDefault();
    const sendAt = when === 'later' ? toIso(at) : null;
    const subjectA = emails.find((x) => String(x.id) === email)?.subject ?? '';
    const abTest = { subjects: [subjectA, subjectB.trim()], sample_percent: Number(sample), metric, decide_after: Math.round(Number(hours) * 3600) };
    const body = { segment_ids: chosen, ...(when === 'later' ? { send_at: sendAt ?? at } : {}), ...(ab ? { ab_test: abTest } : {}) };
    const b = await saver.run(() => send(api.POST('/api/v1/emails/{id}/broadcast', { params: { path: { id: Number(email) } }, body })), 'Broadcast scheduled.');
    if (b) route(`/app/broadcasts/${b.id}`);
  };

  return (
    <section class="broadcast-new">
      <p class="crumbs">
        <a href="/app/broadcasts">Broadcasts</a>
      </p>
      <h1 tabIndex={-1}>New broadcast</h1>
      {emails.length === 0 ? (
        <Empty title="No broadcast emails yet.">
          <p>
            Only emails of kind Broadcast can be broadcast. <a href="/app/emails/new">Write one</a> and choose “Broadcast” as its kind.
          </p>
        </Empty>
      ) : (
        <form class="stack" noValidate onSubmit={submit}>
          <Field id="broadcast-email" label="Email" hint="Emails of kind Broadcast." error={saver.fieldError('email_id')}>
            {(a) => (
              <select {...a} value={email} onChange={(e) => setEmailId(e.currentTarget.value)}>
                {emails.map((e) => (
                  <option value={String(e.id)}>
                    {e.name} — {e.subject}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <fieldset
            class="choice segments-pick"
            aria-describedby={saver.fieldError('segment_ids') ? 'broadcast-segments-error' : undefined}
            aria-invalid={saver.fieldError('segment_ids') ? 'true' : undefined}
          >
            <legend>Segments</legend>
            {segments.length === 0 && (
              <p class="hint">
                No segments yet: <a href="/app/segments/new">make one</a>.
              </p>
            )}
            {segments.map((s) => (
              <label class="check">
                <input
                  type="checkbox"
                  checked={chosen.includes(s.id)}
                  onChange={(e) => setChosen(e.currentTarget.checked ? [...chosen, s.id] : chosen.filter((x) => x !== s.id))}
                />{' '}
                {s.name} <span class="hint">({formatInteger(s.members)} {s.members === 1 ? 'member' : 'members'})</span>
              </label>
            ))}
            {saver.fieldError('segment_ids') && (
              <p class="field-error" id="broadcast-segments-error">
                {saver.fieldError('segment_ids')}
              </p>
            )}
            <p class="hint" role="status">
              {chosen.length ? `Up to ${formatInteger(reach)} contacts (a member of two segments gets it once; unsubscribed and do-not-contact are skipped).` : ''}
            </p>
          </fieldset>
          <fieldset class="choice">
            <legend>When</legend>
            <label class="check">
              <input type="radio" name="broadcast-when" checked={when === 'now'} onChange={() => setWhen('now')} /> Now
            </label>
            <label class="check">
              <input type="radio" name="broadcast-when" checked={when === 'later'} onChange={() => setWhen('later')} /> Later
            </label>
            {when === 'later' && (
              <Field id="broadcast-send-at" label="Start at (your time zone)" hint="At most a year ahead." error={saver.fieldError('send_at')}>
                {(a) => <input {...a} type="datetime-local" value={at} onInput={(e) => setAt(e.currentTarget.value)} />}
              </Field>
            )}
          </fieldset>
          <fieldset class="choice ab-test">
            <legend>Subject test (optional)</legend>
            <label class="check">
              <input type="checkbox" checked={ab} onChange={(e) => setAb(e.currentTarget.checked)} /> Test a second subject line on a sample first; the rest get the winner
            </label>
            {ab && (
              <div class="form-grid">
                <p class="hint">Subject A is the email’s: “{emails.find((x) => String(x.id) === email)?.subject}”.</p>
                <Field id="ab-subject-b" label="Subject B" error={saver.fieldError('ab_test.subjects')}>
                  {(a) => <input {...a} type="text" maxLength={998} value={subjectB} onInput={(e) => setSubjectB(e.currentTarget.value)} />}
                </Field>
                <Field id="ab-sample" label="Sample (% of recipients)" hint="1–50, split between A and B." error={saver.fieldError('ab_test.sample_percent')}>
                  {(a) => <input {...a} type="number" min={1} max={50} value={sample} onInput={(e) => setSample(e.currentTarget.value)} />}
                </Field>
                <Field id="ab-metric" label="The winner has the most" error={saver.fieldError('ab_test.metric')}>
                  {(a) => (
                    <select {...a} value={metric} onChange={(e) => setMetric(e.currentTarget.value as 'open' | 'click')}>
                      <option value="open">opens (by people)</option>
                      <option value="click">clicks (by people)</option>
                    </select>
                  )}
                </Field>
                <Field id="ab-hours" label="Decide after (hours)" hint="From the start; 1 minute to 30 days." error={saver.fieldError('ab_test.decide_after')}>
                  {(a) => <input {...a} type="number" min={0.02} max={720} step="any" value={hours} onInput={(e) => setHours(e.currentTarget.value)} />}
                </Field>
              </div>
            )}
          </fieldset>
          <div class="actions">
            <button type="submit" disabled={saver.busy}>
              {saver.busy ? 'Scheduling…' : when === 'now' ? 'Send now' : 'Schedule'}
            </button>
          </div>
          <SaveStatus status={saver.status} shown={['segment_ids', 'send_at', 'email_id', ...(ab ? ['ab_test.subjects', 'ab_test.sample_percent', 'ab_test.metric', 'ab_test.decide_after'] : [])]} />
        </form>
      )}
    </section>
  );
}
export default function Broadcasts() {
  const { params } = useRoute();
  if (params.id === 'new') {
    if (can('emails', 'change')) return <NewBroadcast />;
    return (
      <section class="broadcast-new">
        <p class="crumbs">
          <a href="/app/broadcasts">Broadcasts</a>
        </p>
        <h1 tabIndex={-1}>New broadcast</h1>
        <Refused message={refusal('emails', 'change')} />
      </section>
    );
  }
  if (params.id) {
    const id = Number(params.id);
    if (!Number.isSafeInteger(id) || id <= 0) return <ErrorMessage message="There is no broadcast at this address." />;
    return <BroadcastDetail key={id} id={id} />;
  }
  return <BroadcastList />;
}
