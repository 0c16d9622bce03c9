import { cohortsReport } from './cohorts';
import { followUpReport, overdueLeadsReport } from './follow-up';
import { funnelReport } from './funnel';
import { leadScoringReport } from './lead-scoring';

// The funnel reports (issue 12, item 3), read from stage_entries (kept by the funnel reaction,
// ./entries.ts), contacts and deals.
export const FUNNEL_REPORTS = [funnelReport, cohortsReport, leadScoringReport, followUpReport, overdueLeadsReport];

export { rebuildStageEntries } from './entries';
