/**
 * What each dashboard role may do, in one place: a table from API paths to resources, and for
 * each resource the least role that may read it and the least that may change it. Requests made
 * with a session (the dashboard, or anyone holding its cookie) pass `can` before their route
 * runs, so the dashboard can do nothing the role may not. API keys keep their scopes
 * (read < write < admin; routes/middleware.ts).
 *
 * Roles are ordered: viewer < sales < marketer < admin.
 * - viewer: reads everything but the admin resources.
 * - sales: also changes contacts (fields, tags, notes, do-not-contact, companies they belong to),
 *   companies and deals, and gives sales feedback; no emails, broadcasts, campaigns, segments,
 *   forms, focus items, landing pages, slots, assets, sites, settings, keys, users, webhooks or jobs.
 * - marketer: everything but users, API keys, jobs and the admin settings (CRM integrations).
 * - admin: everything.
 */
export const ROLES = ['viewer', 'sales', 'marketer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const rank = (r: Role) => ROLES.indexOf(r);

interface Resource {
  /** In a message: "… cannot change <label>". */
  label: string;
  read: Role;
  write: Role;
}

const sales = (label: string): Resource => ({ label, read: 'viewer', write: 'sales' });
const marketing = (label: string): Resource => ({ label, read: 'viewer', write: 'marketer' });
const admin = (label: string): Resource => ({ label, read: 'admin', write: 'admin' });

/** The one path → resource table, first match wins (so the narrower paths come first). */
const TABLE: [RegExp, Resource][] = [
  [/^\/api\/v1\/auth\/(me|logout)$/, { label: 'their own session', read: 'viewer', write: 'viewer' }],
  [/^\/api\/v1\/users(\/|$)/, admin('users')],
  [/^\/api\/v1\/api-keys(\/|$)/, admin('API keys')],
  [/^\/api\/v1\/jobs(\/|$)/, admin('jobs')],
  [/^\/api\/v1\/deal-integrations(\/|$)/, admin('CRM integrations')],
  // Under /contacts/{id}, what belongs to other areas.
  [/^\/api\/v1\/contacts\/[^/]+\/sales-feedback$/, sales('sales feedback')],
  [/^\/api\/v1\/contacts\/[^/]+\/(points|stage)$/, marketing('points and stages')],
  [/^\/api\/v1\/contacts\/[^/]+\/segments$/, marketing('segments')],
  [/^\/api\/v1\/contacts\/[^/]+\/(subscriptions|emails)$/, marketing('emails')],
  [/^\/api\/v1\/contacts\/[^/]+\/campaigns$/, marketing('campaigns')],
  [/^\/api\/v1\/contacts(\/|$)/, sales('contacts')],
  [/^\/api\/v1\/companies(\/|$)/, sales('companies')],
  [/^\/api\/v1\/deals(\/|$)/, sales('deals')],
  [/^\/api\/v1\/(tags|fields)(\/|$)/, marketing('tags and fields')],
  [/^\/api\/v1\/(sites|visitors)(\/|$)/, marketing('sites')],
  [/^\/api\/v1\/(stages|point-rules|point-triggers)(\/|$)/, marketing('scoring')],
  [/^\/api\/v1\/(webhooks|webhook-deliveries)(\/|$)/, marketing('webhooks')],
  [/^\/api\/v1\/segments(\/|$)/, marketing('segments')],
  // Previews store nothing and show what the body sent would look like: anyone signed in.
  [/^\/api\/v1\/(forms|focus-items)\/preview$/, { label: 'previews', read: 'viewer', write: 'viewer' }],
  [/^\/api\/v1\/forms(\/|$)/, marketing('forms')],
  [/^\/api\/v1\/focus-items(\/|$)/, marketing('focus items')],
  // A draft page's preview renders its forms and tokens as a save would check them: for those who may create pages.
  [/^\/api\/v1\/pages\/preview$/, marketing('landing pages')],
  [/^\/api\/v1\/pages(\/|$)/, marketing('landing pages')],
  [/^\/api\/v1\/slots(\/|$)/, marketing('slots')],
  [/^\/api\/v1\/assets(\/|$)/, marketing('assets')],
  [/^\/api\/v1\/(emails|email-sends|email-categories|outbox)(\/|$)/, marketing('emails')],
  [/^\/api\/v1\/broadcasts(\/|$)/, marketing('broadcasts')],
  [/^\/api\/v1\/campaigns(\/|$)/, marketing('campaigns')],
  [/^\/api\/v1\/(email-settings|pipeline-settings)$/, marketing('settings')],
  [/^\/api\/v1\/reports(\/|$)/, marketing('reports')],
  // The Mautic-compatible API (routes/mautic/): each path as its /api/v1 equivalent.
  [/^\/api\/users\/self$/, { label: 'their own session', read: 'viewer', write: 'viewer' }],
  [/^\/api\/contacts\/[^/]+\/points\//, marketing('points and stages')],
  [/^\/api\/contacts\/[^/]+\/segments$/, marketing('segments')],
  [/^\/api\/contacts\/[^/]+\/campaigns$/, marketing('campaigns')],
  [/^\/api\/contacts(\/|$)/, sales('contacts')],
  [/^\/api\/companies(\/|$)/, sales('companies')],
  [/^\/api\/(tags|fields)(\/|$)/, marketing('tags and fields')],
  [/^\/api\/stages(\/|$)/, marketing('scoring')],
  [/^\/api\/segments(\/|$)/, marketing('segments')],
  [/^\/api\/forms(\/|$)/, marketing('forms')],
  [/^\/api\/emails(\/|$)/, marketing('emails')],
  [/^\/api\/campaigns(\/|$)/, marketing('campaigns')],
  [/^\/api\/hooks(\/|$)/, marketing('webhooks')],
];

// A path in no row (a route added without one) is for admins only, until it gets its row.
const UNLISTED: Resource = admin('this part of the API');

export function resourceOf(path: string): { label: string; listed: boolean } {
  const row = TABLE.find(([re]) => re.test(path));
  return { label: (row?.[1] ?? UNLISTED).label, listed: !!row };
}

export type Decision = { allowed: true } | { allowed: false; message: string };

/** Whether a user with `role` may make this request; if not, a message naming what the role lacks. */
export function can(role: Role, method: string, path: string): Decision {
  const resource = TABLE.find(([re]) => re.test(path))?.[1] ?? UNLISTED;
  const reading = method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
  const needed = reading ? resource.read : resource.write;
  if (rank(role) >= rank(needed)) return { allowed: true };
  return {
    allowed: false,
    message: `Your role (${role}) cannot ${reading ? 'see' : 'change'} ${resource.label}: that needs the ${needed} role${needed === 'admin' ? '' : ' or higher'}.`,
  };
}

/** The API-key scopes a role amounts to, for code that reads scopes (rate limits, job runs). */
export function scopesOf(role: Role): ('read' | 'write' | 'admin')[] {
  return role === 'admin' ? ['admin'] : role === 'viewer' ? ['read'] : ['write'];
}

export const isRole = (v: unknown): v is Role => typeof v === 'string' && (ROLES as readonly string[]).includes(v);
