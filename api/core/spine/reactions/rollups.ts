import type { Reaction } from '../types';
import { chunkStatements } from '../../reports/rollups/chunk';
import { LIVE_AFTER, ROLLUPS } from '../../reports/rollups/cursor';

/**
 * Keeps the reports' hourly counters (rollups) and the visits (sessions) current. Counting is
 * additive, so its statements cover only the events above the cursor as committed (LIVE_AFTER),
 * never the list it was handed: an overlapping runner counts nothing twice. During a rebuild it
 * counts nothing (reports/rollups/cursor.ts says why and how the rebuild hands back).
 */
export const rollups: Reaction = {
  name: ROLLUPS,
  handle: (ctx, events) => chunkStatements(ctx, events, { after: LIVE_AFTER, last: events[events.length - 1]!.id }),
};
