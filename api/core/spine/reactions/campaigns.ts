import type { Ctx } from '../../context';
import type { Reaction } from '../types';
import { campaignStatements, takeDecided } from '../../campaigns/react';
import { runCampaigns } from '../../campaigns/run';

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
