import type { Reaction } from '../types';

/**
 * When a visitor is identified, everything it did while anonymous becomes the
 * contact's: its events, its first-touch source and first-seen time, and its
 * latest activity. Events already attributed to someone else (another person
 * on a shared browser) stay theirs.
 */
export const attribution: Reaction = {
  name: 'attribution',
  types: ['identified'],
  handle(_ctx, events) {
    return events
      .filter((e) => e.visitorId !== null && e.contactId !== null)
      .flatMap((e) => [
        { sql: 'UPDATE events SET contact_id = ? WHERE visitor_id = ? AND contact_id IS NULL', args: [e.contactId, e.visitorId] },
        {
          sql: `UPDATE contacts SET
              first_source = CASE WHEN contacts.first_seen_at IS NULL OR v.first_seen_at < contacts.first_seen_at
                THEN coalesce(v.source, contacts.first_source) ELSE coalesce(contacts.first_source, v.source) END,
              first_seen_at = min(coalesce(contacts.first_seen_at, v.first_seen_at), v.first_seen_at),
              last_active_at = max(coalesce(contacts.last_active_at, 0), v.last_seen_at)
            FROM visitors v WHERE v.id = ? AND contacts.id = ?`,
          args: [e.visitorId, e.contactId],
        },
      ]);
  },
};
