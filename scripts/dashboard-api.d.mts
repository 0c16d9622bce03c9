export interface ReportParamInfo { name: string; description: string; enum?: string[]; pattern?: string; maxLength?: number }
export const DASHBOARD_API_FILES: string[];
export const REFRESH_HINT: string;
export function reportsOf(doc: object): { name: string; summary: string; params: ReportParamInfo[] }[];
export function dashboardApiFiles(doc: object): Promise<Record<string, string>>;
