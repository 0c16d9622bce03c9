import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeApp } from './helpers';
import { DASHBOARD_API_FILES, REFRESH_HINT, dashboardApiFiles, reportsOf } from '../scripts/dashboard-api.mjs';

// The dashboard's typed client (dashboard/api/schema.d.ts) and its list of reports
// (dashboard/api/reports.ts) are generated from the OpenAPI document and checked in. When an
// API schema changes, this fails until they are regenerated, so the dashboard never compiles
// against an API that no longer exists.

const root = join(import.meta.dirname, '..');

describe('the dashboard’s generated API files', () => {
  it('match a fresh generation from the current OpenAPI document', async () => {
    const t = await makeApp({ memory: true });
    const doc = await (await t.app.request('http://127.0.0.1:8787/api/v1/openapi.json')).json();
    t.client.close();
    const fresh = await dashboardApiFiles(doc);
    expect(Object.keys(fresh).sort()).toEqual([...DASHBOARD_API_FILES].sort());
    for (const [path, text] of Object.entries(fresh)) {
      const checkedIn = readFileSync(join(root, path), 'utf8');
      if (checkedIn !== text) throw new Error(`${path} is stale: the OpenAPI document changed since it was generated. ${REFRESH_HINT}`);
    }
  }, 60_000);

  it('list every report the API serves, with its query parameters', async () => {
    const t = await makeApp({ memory: true });
    const doc = await (await t.app.request('/api/v1/openapi.json')).json();
    t.client.close();
    const { REPORTS } = await import('../api/core/reports/registry');
    const reports = reportsOf(doc);
    expect(reports.map((r) => r.name)).toEqual(REPORTS.map((r) => r.name));
    const traffic = reports.find((r) => r.name === 'traffic')!;
    expect(traffic.params.map((p) => p.name)).toEqual(expect.arrayContaining(['from', 'to', 'tz', 'interval', 'site']));
    expect(traffic.params.find((p) => p.name === 'interval')!.enum).toEqual(['hour', 'day', 'week', 'month']);
  }, 60_000);
});
