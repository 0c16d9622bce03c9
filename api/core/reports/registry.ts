import type { ReportDef } from './report';
import { attributionReport } from './attribution/report';
import { revenueReport } from './revenue';
import { FUNNEL_REPORTS } from './funnel/index';
import { trafficReport } from './traffic';
import { trafficBreakdownReport } from './traffic-breakdown';
import { pagesReport } from './pages';
import { formsReport } from './forms';
import { focusItemsReport } from './focus-items';
import { emailsReport } from './emails';
import { campaignsReport } from './campaigns';

/**
 * Every report GET /api/v1/reports/{name} serves, in one list (the route, the OpenAPI document
 * and the docs are made from it). Each lives in its own file beside this one.
 */
export const REPORTS: ReportDef[] = [
  trafficReport,
  trafficBreakdownReport,
  pagesReport,
  formsReport,
  focusItemsReport,
  emailsReport,
  campaignsReport,
  revenueReport,
  attributionReport,
  ...(FUNNEL_REPORTS as ReportDef[]),
];

export const findReport = (name: string) => REPORTS.find((r) => r.name === name);
