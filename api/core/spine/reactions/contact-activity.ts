import type { Reaction } from '../types';

// Events the system writes about a contact, not things the contact did.
export const SYSTEM_EVENT_TYPES = new Set(['merged', 'points_changed', 'stage_changed', 'segment_joined', 'segment_left', 'email_sent']);

/** Keeps contacts.last_active_at at the time of their latest own event. */
export const contactActivity: Reaction = {
  name: 'contact-activity',
  handle(_ctx, events) {
    const latest = new Map<number, number>();
    for (const e of events) {
      if (e.contactId === null || SYSTEM_EVENT_TYPES.has(e.type)) continue;
      latest.set(e.contactId, Math.max(latest.get(e.contactId) ?? 0, e.createdAt));
    }
    if (!latest.size) return [];
    return [
      {
        sql: `UPDATE contacts SET last_active_at = max(coalesce(last_active_at, 0), j.value ->> 1)
          FROM json_each(?) j WHERE contacts.id = j.value ->> 0`,
        args: [JSON.stringify([...latest])],
      },
    ];
  },
};
