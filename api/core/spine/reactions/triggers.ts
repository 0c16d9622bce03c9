import type { Reaction } from '../types';
import { EVENT } from '../event-types';
import { fireTriggers } from '../../scoring/triggers';

/** Point triggers fire when a score crosses their threshold upward (scoring/triggers.ts). */
export const triggers: Reaction = {
  name: 'triggers',
  types: [EVENT.points_changed],
  handle: (ctx, events) => fireTriggers(ctx, events),
};
