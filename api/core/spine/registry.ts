import type { Reaction } from './types';
import type { Ctx } from '../context';
import { attribution } from './reactions/attribution';
import { points } from './reactions/points';
import { triggers } from './reactions/triggers';
import { funnel } from './reactions/funnel';
import { contactActivity } from './reactions/contact-activity';
import { segments, segmentsOnContactData } from './reactions/segments';
import { campaignGoalsOnContactData, campaigns, campaignStepsDue } from './reactions/campaigns';
import { rollups } from './reactions/rollups';
import { webhooks, webhooksOnContactData } from './reactions/webhooks';
import { pageTests, pageTestWinners } from './reactions/page-tests';

/**
 * Every reaction to stored events, in one place: reading this list is reading
 * the whole flow from "event stored" to its consequences. Each is a thin
 * adapter in ./reactions/ over its area's logic. Within one run they go in
 * this order: attribution gives anonymous history to contacts; points scores
 * events (writing points_changed); triggers fire on those (and may move stages);
 * funnel keeps each contact's stage entries (entered, left, score at entry, first
 * sales feedback), after points so an entry's score includes the points logged
 * up to it; activity stamps last_active_at; segments re-check the contacts the
 * events touched; campaigns enroll (segment_joined written by segments comes round
 * in the next chunk), convert and decide; rollups counts every event into the
 * reports' hourly counters and visits (after attribution, so a visit starts with its
 * contact when the same chunk identified it); page tests count landing page A/B views and
 * conversions per variant; webhooks, after them all, queue deliveries of the
 * events to the subscriptions that want them, the contacts in them as the chunk left them.
 */
export const REACTIONS: Reaction[] = [attribution, points, triggers, funnel, contactActivity, segments, campaigns, rollups, pageTests, webhooks];

/** Work driven by changed contact rows rather than events, run after the reactions. */
export const CHANGE_WATCHERS: { name: string; run: (ctx: Ctx) => Promise<number> }[] = [
  segmentsOnContactData,
  campaignGoalsOnContactData,
  campaignStepsDue,
  // contact.created / contact.updated deliveries, then a kick of the webhook sender.
  webhooksOnContactData,
  // Landing page A/B tests whose counts changed: the automatic winner.
  pageTestWinners,
];
