// The dashboard's role table (dashboard/access.ts) is a hand-kept mirror of the server's
// (api/core/access/permissions.ts), because the dashboard does not import server code. This keeps
// the two from drifting: for every area the dashboard knows, an API path of that area, and every
// role, the dashboard hides exactly what the server would refuse, in the server's words.
import { describe, expect, it, vi } from 'vitest';
import { can as serverCan, ROLES as SERVER_ROLES } from '../api/core/access/permissions';

// access.ts reads the session from auth.ts, which talks to the browser; only the table is tested here.
vi.mock('../dashboard/auth', () => ({ currentSession: () => ({ state: 'signed-out' }) }));
const { can, refusal, ROLES, currentRole } = await import('../dashboard/access');

const PATHS: Record<Parameters<typeof can>[0], string> = {
  users: '/api/v1/users',
  'api-keys': '/api/v1/api-keys',
  contacts: '/api/v1/contacts/1',
  companies: '/api/v1/companies',
  deals: '/api/v1/deals',
  'sales-feedback': '/api/v1/contacts/1/sales-feedback',
  scoring: '/api/v1/stages',
  'contact-scoring': '/api/v1/contacts/1/stage',
  'tags-fields': '/api/v1/fields',
  sites: '/api/v1/sites',
  segments: '/api/v1/segments',
  campaigns: '/api/v1/campaigns',
  emails: '/api/v1/emails',
  forms: '/api/v1/forms',
  'focus-items': '/api/v1/focus-items/1',
  pages: '/api/v1/pages/1/publish',
  slots: '/api/v1/slots/1/stats',
  previews: '/api/v1/forms/preview',
  'page-previews': '/api/v1/pages/preview',
  settings: '/api/v1/email-settings',
  webhooks: '/api/v1/webhooks',
  reports: '/api/v1/reports/traffic',
};

describe('dashboard/access.ts mirrors api/core/access/permissions.ts', () => {
  it('has the same roles in the same order', () => {
    expect([...ROLES]).toEqual([...SERVER_ROLES]);
  });

  for (const [area, path] of Object.entries(PATHS) as [keyof typeof PATHS, string][]) {
    it(`${area} (${path})`, () => {
      for (const role of ROLES) {
        for (const [action, method] of [
          ['see', 'GET'],
          ['change', 'POST'],
        ] as const) {
          const server = serverCan(role, method, path);
          expect(can(area, action, role), `${role} ${action} ${area}`).toBe(server.allowed);
          if (!server.allowed) expect(refusal(area, action, role)).toBe(server.message);
        }
      }
    });
  }

  it('treats an unknown or missing role as the least one', () => {
    expect(currentRole()).toBe('viewer');
  });
});
