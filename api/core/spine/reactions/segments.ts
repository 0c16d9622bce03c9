import type { Reaction } from '../types';
import { segmentStatementsForEvents, segmentsOnContactChanges } from '../../segments/incremental';

/** Segment membership follows each contact's new events (segments/incremental.ts). */
export const segments: Reaction = {
  name: 'segments',
  handle: (ctx, events) => segmentStatementsForEvents(ctx, events),
};

/** …and each change of contact data, found by contacts.updated_at rather than by events. */
export const segmentsOnContactData = { name: 'segments-contact-changes', run: segmentsOnContactChanges };
