import type { Reaction } from '../types';
import { scoreEvents } from '../../scoring/rules';

/** Point rules score what contacts and visitors do (scoring/rules.ts). */
export const points: Reaction = {
  name: 'points',
  handle: (ctx, events) => scoreEvents(ctx, events),
};
