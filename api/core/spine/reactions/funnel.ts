import type { Reaction } from '../types';
import { FUNNEL_EVENT_TYPES, stageEntryStatements } from '../../reports/funnel/entries';

/** Stage entries (when each contact entered and left each stage) for the funnel reports (reports/funnel/entries.ts). */
export const funnel: Reaction = {
  name: 'funnel',
  types: FUNNEL_EVENT_TYPES,
  handle: (_ctx, events) => stageEntryStatements(events),
};
