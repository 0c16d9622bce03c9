import type { Reaction } from '../types';
import { SYSTEM_EVENTS } from '../event-types';
import { writeLastActive } from '../../contacts/writes';


/** Keeps contacts.last_active_at at the time of their latest own event. */
export const contactActivity: Reaction = {
  name: 'contact-activity',
  handle(_ctx, events) {
    const latest = new Map<number, number>();
    for (const e of events) {
      if (e.contactId === null || SYSTEM_EVENTS.has(e.type)) continue;
      latest.set(e.contactId, Math.max(latest.get(e.contactId) ?? 0, e.createdAt));
    }
    if (!latest.size) return [];
    return [writeLastActive([...latest])];
  },
};
