import type { InValue } from '@libsql/client';
import type { Ctx } from '../../context';

// The touches of a contact's own timeline, per dimension. Identification has already re-pointed
// the anonymous visits and events to the contact and a merge moves the merged contact's rows to
// the survivor, so reading by contact_id covers both. Touches are read for the converting
// contacts only, in batches of ids through the contact indexes (sessions_contact_idx,
// events_contact_type_idx).

export const VISIT_DIMENSIONS = ['channel', 'source', 'medium', 'utm_campaign', 'referrer', 'landing_page'] as const;
export const EVENT_DIMENSIONS = ['form', 'focus', 'email', 'campaign'] as const;
export const DIMENSIONS = [...VISIT_DIMENSIONS, ...EVENT_DIMENSIONS] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Dimensions whose touches are on no site (email clicks): the site filter cannot apply to them. */
export const SITELESS: readonly Dimension[] = ['email', 'campaign'];

export interface Touch {
  at: number;
  id: number;
  key: string;
}

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

/** Contacts per statement: json_each over this many ids, each joined through an index. */
const BATCH = 2000;

// The site is tested with a unary plus so the planner never reads the site's index instead of
// the contact's (sessions_site_started_idx would scan the whole site's visits per contact).
function touchSql(dim: Dimension, site: number | null): string {
  if (isVisitDimension(dim)) {
    return `SELECT s.contact_id AS c, s.started_at AS t, s.id AS i, ${VISIT_KEY[dim]} AS k
      FROM json_each(?1) j CROSS JOIN sessions s
      WHERE s.contact_id = j.value AND s.started_at <= ?2${site === null ? '' : ' AND +s.site_id = ?3'}`;
  }
  const d = EVENT_TOUCH[dim];
  return `SELECT e.contact_id AS c, e.created_at AS t, e.id AS i, ${d.key} AS k
    FROM json_each(?1) j CROSS JOIN events e ${d.join}
    WHERE e.contact_id = j.value AND ${d.where} AND e.created_at <= ?2 AND k IS NOT NULL${site === null ? '' : ' AND +e.site_id = ?3'}`;
}

/**
 * Every touch in `dim` of these contacts up to `until` (inclusive), per contact in time order
 * (ties by id). `site` keeps the touches on that site.
 */
export async function readTouches(ctx: Ctx, dim: Dimension, until: Map<number, number>, site: number | null): Promise<Map<number, Touch[]>> {
  const sql = touchSql(dim, site);
  const ids = [...until.keys()];
  const out = new Map<number, Touch[]>();
  for (let i = 0; i < ids.length; i += BATCH) {
    const batch = ids.slice(i, i + BATCH);
    let last = 0;
    for (const c of batch) last = Math.max(last, until.get(c)!);
    const args: InValue[] = [JSON.stringify(batch), last];
    if (site !== null) args.push(site);
    const res = await ctx.client.execute({ sql, args });
    for (const r of res.rows) {
      const c = Number(r.c);
      const t = Number(r.t);
      // Read up to the batch's latest conversion; a contact's own later touches are not needed.
      if (t > until.get(c)!) continue;
      const list = out.get(c);
      const touch = { at: t, id: Number(r.i), key: String(r.k) };
      if (list) list.push(touch);
      else out.set(c, [touch]);
    }
  }
  for (const list of out.values()) list.sort((a, b) => a.at - b.at || a.id - b.id);
  return out;
}

/** The keys of the touches at or before `at` (touches in time order). */
export function keysUntil(touches: readonly Touch[] | undefined, at: number): string[] {
  if (!touches) return [];
  let lo = 0;
  let hi = touches.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (touches[mid]!.at <= at) lo = mid + 1;
    else hi = mid;
  }
  const keys = new Array<string>(lo);
  for (let i = 0; i < lo; i++) keys[i] = touches[i]!.key;
  return keys;
}
