import type { Reaction } from '../types';
import { absorbVisitor } from '../../contacts/writes';

/**
 * When a visitor is identified, everything it did while anonymous becomes the
 * contact's: its events and visits, its first-touch source and first-seen time, and its
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
        // Its visits too (reports: sessions, attribution's visit touches).
        { sql: 'UPDATE sessions SET contact_id = ? WHERE visitor_id = ? AND contact_id IS NULL', args: [e.contactId, e.visitorId] },
        absorbVisitor(e.contactId!, e.visitorId!),
      ]);
  },
};
