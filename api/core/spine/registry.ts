import type { Reaction } from './types';
import type { Ctx } from '../context';
import { contactActivity } from './reactions/contact-activity';
import { attribution } from './reactions/attribution';
import { pointsReaction } from '../scoring/rules';
import { triggersReaction } from '../scoring/triggers';
import { segmentsOnEvents, segmentsOnContactChanges } from '../segments/incremental';

/**
 * Every reaction to stored events, in one place: reading this list is reading
 * the whole flow from "event stored" to its consequences. Within one run they
 * go in this order: attribution gives anonymous history to contacts; points
 * scores events (writing points_changed); triggers fire on those; activity
 * stamps last_active_at; segments re-check the contacts the events touched.
 */
export const REACTIONS: Reaction[] = [attribution, pointsReaction, triggersReaction, contactActivity, segmentsOnEvents];

/** Work driven by changed contact rows rather than events, run after the reactions. */
export const CHANGE_WATCHERS: { name: string; run: (ctx: Ctx) => Promise<number> }[] = [
  { name: 'segments-contact-changes', run: segmentsOnContactChanges },
];
