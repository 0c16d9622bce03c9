import type { InValue } from '@libsql/client';

// The touches of a contact's own timeline, per dimension. Identification has already re-pointed
// the anonymous visits and events to the contact and a merge moves the merged contact's rows to
// the survivor, so reading by contact_id covers both. A conversion's touches are read through
// the contact's index (sessions_contact_idx; events_contact_type_idx), up to its own time.

export const VISIT_DIMENSIONS = ['channel', 'source', 'medium', 'utm_campaign', 'referrer', 'landing_page'] as const;
export const EVENT_DIMENSIONS = ['form', 'focus', 'email', 'campaign'] as const;
export const DIMENSIONS = [...VISIT_DIMENSIONS, ...EVENT_DIMENSIONS] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Dimensions whose touches are on no site (email clicks): the site filter cannot apply to them. */
export const SITELESS: readonly Dimension[] = ['email', 'campaign'];

// A visit is one touch; the key is a column of the session, with a name for a missing value.
const VISIT_KEY: Record<(typeof VISIT_DIMENSIONS)[number], string> = {
  channel: `coalesce(nullif(s.channel, ''), '(none)')`,
  source: `coalesce(nullif(s.source, ''), 'direct')`,
  medium: `coalesce(nullif(s.medium, ''), '(none)')`,
  utm_campaign: `coalesce(nullif(s.campaign, ''), '(none)')`,
  referrer: `coalesce(nullif(s.referrer, ''), '(none)')`,
  landing_page: `coalesce(nullif(s.entry_page, ''), '(none)')`,
};

// Human email clicks: the tracker marks scanners' clicks machine = true.
const HUMAN_CLICK = `e.type = 'email_clicked' AND (e.props ->> '$.machine') IS NOT 1`;

// Event touches: which events, and the key of each (ids may be stored as numbers or strings).
const EVENT_TOUCH: Record<(typeof EVENT_DIMENSIONS)[number], { join: string; where: string; key: string }> = {
  form: { join: '', where: `e.type = 'form_submit'`, key: `CAST(e.props ->> '$.form_id' AS TEXT)` },
  // A focus item's click, and a submission of the form a focus item showed.
  focus: { join: '', where: `e.type IN ('focus_click', 'form_submit')`, key: `CAST(e.props ->> '$.focus_id' AS TEXT)` },
  email: { join: '', where: HUMAN_CLICK, key: `CAST(e.props ->> '$.email_id' AS TEXT)` },
  // A click on a campaign's send: its reason is campaign:<id>:…
  campaign: {
    join: `JOIN email_sends x ON x.id = e.props ->> '$.send_id'`,
    where: `${HUMAN_CLICK} AND x.reason LIKE 'campaign:%:%'`,
    key: `substr(x.reason, 10, instr(substr(x.reason, 10), ':') - 1)`,
  },
};

export const isVisitDimension = (d: Dimension): d is (typeof VISIT_DIMENSIONS)[number] => (VISIT_DIMENSIONS as readonly string[]).includes(d);

/**
 * A scalar subquery: the JSON array of the keys of `contact`'s touches in `dim` at or before
 * `at` (SQL expressions of the outer query), in time order (ties by id). `site` keeps the
 * touches on that site; it is tested with a unary plus so the planner never reads the site's
 * index instead of the contact's (sessions_site_started_idx would scan all of a site's visits).
 */
export function touchKeys(dim: Dimension, site: number | null, contact: string, at: string): { sql: string; args: InValue[] } {
  const args: InValue[] = site === null ? [] : [site];
  if (isVisitDimension(dim)) {
    return {
      sql: `(SELECT json_group_array(${VISIT_KEY[dim]} ORDER BY s.started_at, s.id) FROM sessions s
        WHERE s.contact_id = ${contact} AND s.started_at <= ${at}${site === null ? '' : ' AND +s.site_id = ?'})`,
      args,
    };
  }
  const d = EVENT_TOUCH[dim];
  return {
    sql: `(SELECT json_group_array(${d.key} ORDER BY e.created_at, e.id) FROM events e ${d.join}
      WHERE e.contact_id = ${contact} AND ${d.where} AND e.created_at <= ${at} AND ${d.key} IS NOT NULL${site === null ? '' : ' AND +e.site_id = ?'})`,
    args,
  };
}
