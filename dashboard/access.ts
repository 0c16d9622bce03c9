// What the signed-in user's role may do, so the dashboard shows only what it can use. A mirror of
// api/core/access/permissions.ts (the server's table, which is what actually decides: every
// request is checked there, and a 403 names what the role lacks). Kept small and by hand because
// the dashboard talks to the server only through the API; when a resource's row changes there,
// change it here too. The messages read like the server's.
import { currentSession } from './auth';

export const ROLES = ['viewer', 'sales', 'marketer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Each area: the server's label for it, the least role that may see it, the least that may change it. */
const AREAS = {
  users: ['users', 'admin', 'admin'],
  'api-keys': ['API keys', 'admin', 'admin'],
  contacts: ['contacts', 'viewer', 'sales'],
  companies: ['companies', 'viewer', 'sales'],
  deals: ['deals', 'viewer', 'sales'],
  'sales-feedback': ['sales feedback', 'viewer', 'sales'],
  scoring: ['scoring', 'viewer', 'marketer'],
  'contact-scoring': ['points and stages', 'viewer', 'marketer'],
  'tags-fields': ['tags and fields', 'viewer', 'marketer'],
  sites: ['sites', 'viewer', 'marketer'],
  segments: ['segments', 'viewer', 'marketer'],
  campaigns: ['campaigns', 'viewer', 'marketer'],
  emails: ['emails', 'viewer', 'marketer'],
  forms: ['forms', 'viewer', 'marketer'],
  'focus-items': ['focus items', 'viewer', 'marketer'],
  pages: ['landing pages', 'viewer', 'marketer'],
  'page-previews': ['landing pages', 'viewer', 'marketer'],
  slots: ['slots', 'viewer', 'marketer'],
  previews: ['previews', 'viewer', 'viewer'],
  settings: ['settings', 'viewer', 'marketer'],
  webhooks: ['webhooks', 'viewer', 'marketer'],
  reports: ['reports', 'viewer', 'marketer'],
} as const satisfies Record<string, readonly [string, Role, Role]>;

export type Area = keyof typeof AREAS;
export type Action = 'see' | 'change';

const rank = (r: Role) => ROLES.indexOf(r);

/** The signed-in user's role (the least one if the server answered something this dashboard does not know). */
export function currentRole(): Role {
  const s = currentSession();
  const r = s.state === 'signed-in' ? s.user.role : '';
  return (ROLES as readonly string[]).includes(r) ? (r as Role) : 'viewer';
}

const needed = (area: Area, action: Action): Role => AREAS[area][action === 'see' ? 1 : 2];

export const can = (area: Area, action: Action, role: Role = currentRole()) => rank(role) >= rank(needed(area, action));

/** Why not, as the server says it: "Your role (sales) cannot change segments: that needs the marketer role or higher." */
export function refusal(area: Area, action: Action, role: Role = currentRole()): string {
  const n = needed(area, action);
  return `Your role (${role}) cannot ${action} ${AREAS[area][0]}: that needs the ${n} role${n === 'admin' ? '' : ' or higher'}.`;
}
