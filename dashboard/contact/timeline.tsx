// The contact's timeline: newest first, paged, each event named, anonymous history marked.
import { api, loadJson as load } from '../api/client';
import { type Stage } from '../ui/contacts';
import { formatDateTime, label } from '../ui/format';
import { Empty } from '../ui/status';
import { Paged, type Detail, type Deal, type TimelineEvent } from './parts';

const EVENT_LABELS: Record<string, string> = {
  page_view: 'Viewed a page',
  form_submit: 'Submitted a form',
  form_view: 'Saw a form',
  form_start: 'Started a form',
  identified: 'Identified',
  merged: 'Merged with another contact',
  points_changed: 'Points changed',
  stage_changed: 'Stage changed',
  segment_joined: 'Joined a segment',
  segment_left: 'Left a segment',
  sales_accepted: 'Accepted by sales',
  sales_rejected: 'Rejected by sales',
  deal_won: 'Deal won',
  deal_lost: 'Deal lost',
  email_sent: 'Email sent',
  email_opened: 'Opened an email',
  email_clicked: 'Clicked in an email',
};

function describe(e: TimelineEvent): string {
  const p = e.props as Record<string, unknown>;
  if (e.type === 'page_view') return e.title ? `${e.title} — ${e.url ?? ''}` : (e.url ?? '');
  if (e.type.startsWith('email_')) return e.name ?? '';
  if (e.type === 'custom') return e.name ?? '';
  if (e.type === 'points_changed') return [p.delta !== undefined ? `${Number(p.delta) > 0 ? '+' : ''}${String(p.delta)}` : '', p.reason ? String(p.reason) : ''].filter(Boolean).join(' ');
  if (e.type === 'identified') return `via ${String(p.via ?? p.source ?? 'a form')}`;
  if (e.type === 'stage_changed') return `${typeof p.from_name === 'string' ? p.from_name : 'no stage'} → ${typeof p.to_name === 'string' ? p.to_name : 'no stage'}`;
  // The form, segment, asset or focus item it concerns (by name), and where it happened.
  if (e.name) return [e.name, e.url].filter(Boolean).join(' — ');
  return e.url ?? (typeof p.reason === 'string' ? p.reason : '');
}

export function Timeline({ contact, reloadKey }: { contact: Detail; reloadKey: number }) {
  return (
    <Paged
      what="events"
      reloadKey={reloadKey}
      load={(cursor) => load(api.GET('/api/v1/contacts/{id}/events', { params: { path: { id: contact.id }, query: { limit: 25, cursor } } }))}
      empty={<Empty title="Nothing on the timeline yet.">
        <p>Visits, form submissions, emails, points and stage changes appear here as they happen. Put the script tag on your site to see visits.</p>
      </Empty>}
    >
      {(events) => {
        // Newest first: once a visitor's "identified" event has gone by, that visitor's older events
        // happened before anyone knew who they were.
        const identified = new Set<number>();
        return (
          <ol class="timeline">
            {events.map((e) => {
              const anon = e.visitor_id !== null && identified.has(e.visitor_id) && e.type !== 'identified';
              if (e.type === 'identified' && e.visitor_id !== null) identified.add(e.visitor_id);
              return (
                <li class={e.type === 'identified' ? 'identified' : undefined}>
                  <time dateTime={e.created_at}>{formatDateTime(e.created_at)}</time>
                  <div class="what">
                    <strong>{EVENT_LABELS[e.type] ?? label(e.type)}</strong>
                    {anon && <span class="anon">Anonymous visit, before identified</span>}
                    <div class="sub">{describe(e)}</div>
                  </div>
                </li>
              );
            })}
          </ol>
        );
      }}
    </Paged>
  );
}

