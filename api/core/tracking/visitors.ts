import type { InStatement, InValue } from '@libsql/client';
import type { Ctx } from '../context';
import { VISITOR_DATA } from '../contacts/owned-data';

/**
 * Every write to the `visitors` table, in one module: the tracker's hits,
 * a browser's first form submission or download, the link to a contact (and
 * whether it is proven), anonymous points, retention and site deletion.
 * (Merging and erasing contacts move and delete rows of every table that holds
 * contact data through the owned-data registry.)
 */

export interface VisitorRef {
  id: number;
  contactId: number | null;
  /** The link to the contact is proven (signed identify, API link, signed email link), not only claimed by a form. */
  proven: boolean;
}

const ref = (r: Record<string, unknown>): VisitorRef => ({
  id: Number(r.id),
  contactId: r.contact_id === null ? null : Number(r.contact_id),
  proven: r.contact_id !== null && r.proven_at !== null && r.proven_at !== undefined,
});

/** A row holding a visitor's id, contact_id and proven_at, as a VisitorRef (for reads joined with other tables). */
export const visitorRef = ref;

/** The contact a browser has proven it is, or null: what personalisation may use. */
export const provenContact = (v: VisitorRef | null): number | null => (v && v.proven ? v.contactId : null);

/**
 * Visitors as the tracker reports them, many per statement: `rowsJson` is a
 * JSON array of [site, uid, first, last, page views, source JSON, browser, os,
 * device, country]. The first-touch source is written once, on the first hit.
 */
export function hitStatement(rowsJson: string): InStatement {
  return {
    sql: `INSERT INTO visitors (site_id, uid, first_seen_at, last_seen_at, page_views, source, browser, os, device, country)
      SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9
      FROM json_each(?) WHERE value ->> 0 IN (SELECT id FROM sites)
      ON CONFLICT(site_id, uid) DO UPDATE SET
        last_seen_at = max(visitors.last_seen_at, excluded.last_seen_at),
        page_views = visitors.page_views + excluded.page_views,
        source = coalesce(visitors.source, excluded.source),
        browser = coalesce(excluded.browser, visitors.browser),
        os = coalesce(excluded.os, visitors.os),
        device = coalesce(excluded.device, visitors.device),
        country = coalesce(excluded.country, visitors.country)`,
    args: [rowsJson],
  };
}

/** One more page view for a browser's visitor, when `when` holds (a view it took over on consent). */
export function countViewStatement(siteId: number, uid: string, when: { sql: string; args: InValue[] }): InStatement {
  return { sql: `UPDATE visitors SET page_views = page_views + 1 WHERE site_id = ? AND uid = ? AND ${when.sql}`, args: [siteId, uid, ...when.args] };
}

const SELECT = 'SELECT id, contact_id, proven_at FROM visitors WHERE site_id = ? AND uid = ?';

export async function findVisitor(ctx: Ctx, siteId: number, uid: string | null): Promise<VisitorRef | null> {
  if (!uid) return null;
  const r = await ctx.client.execute({ sql: SELECT, args: [siteId, uid] });
  return r.rows[0] ? ref(r.rows[0]) : null;
}

/** The visitor row of a browser, started here if the tracker has not reported it yet; `seen` moves its last-seen time. */
export async function ensureVisitor(ctx: Ctx, siteId: number, uid: string, opts: { seen?: boolean } = {}): Promise<VisitorRef> {
  const now = ctx.now();
  const [, row] = await ctx.client.batch(
    [
      {
        sql: `INSERT INTO visitors (site_id, uid, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?)
          ON CONFLICT(site_id, uid) DO ${opts.seen ? 'UPDATE SET last_seen_at = max(visitors.last_seen_at, excluded.last_seen_at)' : 'NOTHING'}`,
        args: [siteId, uid, now, now],
      },
      { sql: SELECT, args: [siteId, uid] },
    ],
    'write',
  );
  return ref(row!.rows[0]!);
}

/**
 * Links a visitor to a contact. A proven link keeps (or starts) its proof; a
 * claimed one keeps the proof only when the browser was already proven to be
 * this same contact — claiming another person's email proves nothing.
 */
export function linkStatement(visitorId: number, contactId: number, proven: boolean, now: number): InStatement {
  return {
    sql: `UPDATE visitors SET
        proven_at = CASE WHEN contact_id IS ? AND proven_at IS NOT NULL THEN proven_at WHEN ? THEN ? ELSE NULL END,
        contact_id = ?
      WHERE id = ?`,
    args: [contactId, proven ? 1 : 0, now, contactId, visitorId],
  };
}

/** Anonymous points: a visitor's share of the point log not yet given to a contact. */
export function pointsStatement(visitorIdsJson: string): InStatement {
  return {
    sql: `UPDATE visitors SET points = coalesce((SELECT sum(delta) FROM point_log WHERE visitor_id = visitors.id AND contact_id IS NULL), 0)
      WHERE id IN (SELECT value FROM json_each(?))`,
    args: [visitorIdsJson],
  };
}

/**
 * Never-identified visitors of a site not seen since `cutoff`, with their events and visits
 * (sessions): at most `limit` visitors a call. The visitors row goes last. The hourly report
 * counters (rollups) keep counting those events: they name nobody.
 */
export function expireStatements(siteId: number, cutoff: number, limit: number): InStatement[] {
  const oldest = `SELECT id FROM visitors WHERE site_id = ? AND contact_id IS NULL AND last_seen_at < ? ORDER BY last_seen_at LIMIT ?`;
  return [
    // Everything the browser left (events, visits, points, which page variant it saw…), then the browser.
    ...VISITOR_DATA.map(({ table, column }) => ({ sql: `DELETE FROM ${table} WHERE ${column} IN (${oldest})`, args: [siteId, cutoff, limit] })),
    { sql: `DELETE FROM visitors WHERE id IN (${oldest})`, args: [siteId, cutoff, limit] },
  ];
}

/** A deleted site's visitors (their identified events stay with their contacts). */
export function deleteForSite(siteId: number): InStatement {
  return { sql: 'DELETE FROM visitors WHERE site_id = ?', args: [siteId] };
}
