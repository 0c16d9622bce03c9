import { useLocation } from 'preact-iso/router';
import { useEffect, useState } from 'preact/hooks';
import { can } from '../access';
import { api, load } from '../api/client';
import { STATUS_LABELS } from '../campaigns/describe';
import { listAll, type Campaign } from '../campaigns/data';
import { formatDateTime, formatInteger } from '../ui/format';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Campaigns: every campaign with its status, how many contacts are in it now (the report's
// active passes, read for the campaigns that were ever published) and when it last changed.

type Status = Campaign['status'];

/** Contacts in each published campaign now, a few reports at a time. */
function useActive(campaigns: Campaign[] | null): Map<number, number | 'error'> {
  const [counts, setCounts] = useState(new Map<number, number | 'error'>());
  useEffect(() => {
    if (!campaigns) return;
    let alive = true;
    const queue = campaigns.filter((c) => c.version !== null);
    const worker = async () => {
      for (let c = queue.shift(); c && alive; c = queue.shift()) {
        const id = c.id;
        const n = await load(api.GET('/api/v1/campaigns/{id}/report', { params: { path: { id } } })).then(
          (r) => r.passes.active,
          () => 'error' as const,
        );
        if (alive) setCounts((m) => new Map(m).set(id, n));
      }
    };
    void Promise.all([worker(), worker(), worker()]);
    return () => void (alive = false);
  }, [campaigns]);
  return counts;
}

export default function Campaigns() {
  const { query, route } = useLocation();
  const status = (['draft', 'active', 'paused', 'archived'] as const).find((s) => s === query.status);
  const list = useLoad(() => listAll<Campaign>('/api/v1/campaigns', 500).then((all) => (status ? all.filter((c) => c.status === status) : all)), status ?? '');
  const active = useActive(list.state === 'done' ? list.data : null);
  const mayChange = can('campaigns', 'change');
  useEffect(() => void (document.title = 'Campaigns · Leadline'), []);
  return (
    <section class="campaigns">
      <div class="title-row">
        <h1 tabIndex={-1}>Campaigns</h1>
        {mayChange && (
          <a class="button" href="/app/campaigns/new">
            New campaign
          </a>
        )}
      </div>
      {query.deleted && (
        <p class="status saved" role="status">
          Campaign “{query.deleted}” deleted.
        </p>
      )}
      <p class="lead">Automated journeys: contacts enter from a segment, a form or an event, then go through emails, waits, decisions and actions.</p>
      <div class="field inline">
        <label for="campaign-status">Show</label>
        <select id="campaign-status" value={status ?? ''} onChange={(e) => route(`/app/campaigns${e.currentTarget.value ? `?status=${e.currentTarget.value}` : ''}`, true)}>
          <option value="">All campaigns</option>
          {(Object.keys(STATUS_LABELS) as Status[]).map((s) => (
            <option value={s}>{STATUS_LABELS[s]}</option>
          ))}
        </select>
      </div>
      {list.state === 'loading' && <Loading what="campaigns" />}
      {list.state === 'error' && <ErrorMessage message={list.message} retry={list.retry} />}
      {list.state === 'done' &&
        (list.data.length === 0 ? (
          status ? (
            <Empty title={`No ${STATUS_LABELS[status].toLowerCase()} campaigns.`}>
              <p>
                <a href="/app/campaigns">Show all campaigns</a>.
              </p>
            </Empty>
          ) : (
            <Empty title="No campaigns yet.">
              <p>
                A campaign takes contacts through steps on its own: for example, everyone who joins the “Trial users” segment gets a welcome email, waits two
                days, and gets a nudge if they did not open it. Build the steps, then publish it to start.
              </p>
              <p>{mayChange ? <a href="/app/campaigns/new">Create your first campaign</a> : 'A marketer or an admin can create one.'}</p>
            </Empty>
          )
        ) : (
          <div class="table-wrap" role="region" aria-label="Campaigns" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">
                    Contacts in it
                  </th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {list.data.map((c) => {
                  const n = active.get(c.id);
                  return (
                    <tr>
                      <th scope="row">
                        <a href={`/app/campaigns/${c.id}`}>{c.name}</a>
                        {c.description && <span class="hint block">{c.description}</span>}
                      </th>
                      <td>
                        <span class={`campaign-status ${c.status}`}>{STATUS_LABELS[c.status]}</span>
                        {c.version !== null && <span class="hint"> v{c.version}</span>}
                      </td>
                      <td class="num" data-active={typeof n === 'number' ? n : undefined}>
                        {c.version === null ? formatInteger(0) : n === undefined ? '…' : n === 'error' ? '?' : formatInteger(n)}
                      </td>
                      <td>{formatDateTime(c.updated_at)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ))}
    </section>
  );
}
