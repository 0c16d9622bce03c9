import type { Ctx } from '../../context';
import type { Reaction } from '../types';
import { campaignStatements, takeDecided } from '../../campaigns/react';
import { runCampaigns } from '../../campaigns/run';
import { goalsOnContactChanges } from '../../campaigns/goals';

/** Campaigns enroll, exit, convert and decide on events (campaigns/react.ts). */
export const campaigns: Reaction = {
  name: 'campaigns',
  handle: (ctx, events) => campaignStatements(ctx, events),
};

/** …and when they enrolled contacts or decided decisions, the steps that became due run now, not at the next timer. */
export const campaignStepsDue = {
  name: 'campaign-steps',
  run: async (ctx: Ctx) => (takeDecided(ctx) ? (await runCampaigns(ctx, { budgetMs: 5_000 })).claimed : 0),
};

/** Goals given as filters are also reached by changes without an event (a tag or field set through the API). */
export const campaignGoalsOnContactData = { name: 'campaign-goals-contact-changes', run: goalsOnContactChanges };
