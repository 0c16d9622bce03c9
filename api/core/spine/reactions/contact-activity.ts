import type { Reaction } from '../types';
import { EVENT, SYSTEM_EVENTS } from '../event-types';
import { writeLastActive } from '../../contacts/writes';


// An open or click a privacy proxy or link scanner made (core/email/machine.ts) is no sign of life.
const byMachine = (type: string, props: string | null) =>
  (type === EVENT.email_opened || type === EVENT.email_clicked) && props !== null && props.includes('"machine":true');

/** Keeps contacts.last_active_at at the time of their latest own event. */
export const contactActivity: Reaction = {
  name: 'contact-activity',
  handle(_ctx, events) {
    const latest = new Map<number, number>();
    for (const e of events) {
      if (e.contactId === null || SYSTEM_EVENTS.has(e.type) || byMachine(e.type, e.props)) continue;
      latest.set(e.contactId, Math.max(latest.get(e.contactId) ?? 0, e.createdAt));
    }
    if (!latest.size) return [];
    return [writeLastActive([...latest])];
  },
};
