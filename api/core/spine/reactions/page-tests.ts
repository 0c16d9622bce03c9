import type { Reaction } from '../types';
import { EVENT } from '../event-types';
import { pageTestStatements, REACTION } from '../../pages/test-events';
import { decideWinners } from '../../pages/winner';

/** Landing page A/B tests: visitors, views and conversions per variant (pages/test-events.ts). */
export const pageTests: Reaction = {
  name: REACTION,
  types: [EVENT.page_view, EVENT.form_submit, EVENT.custom],
  handle: (ctx, events) => pageTestStatements(ctx, events),
};

/** The automatic winner of tests whose counts changed (pages/winner.ts). */
export const pageTestWinners = { name: 'page-test-winners', run: decideWinners };
