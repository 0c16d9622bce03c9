import type { Reaction } from './types';
import { contactActivity } from './reactions/contact-activity';
import { attribution } from './reactions/attribution';

/**
 * Every reaction to stored events, in one place: reading this list is reading
 * the whole flow from "event stored" to its consequences. Order matters within
 * one run: attribution first, so activity sees attributed events next time.
 */
export const REACTIONS: Reaction[] = [attribution, contactActivity];
