import type { Ctx } from '../context';
import { iso } from '../util/time';
import { COUNTED_UP_TO } from '../reports/rollups/cursor';
import { getSite } from './sites';

/** At most this many of the newest events are read for hits the visits have not counted yet. */
const RECENT_EVENTS = 100_000;

export interface Installation {
  /** Whether any hit from the script tag has been stored for this site. */
  received: boolean;
  /** When the newest one was, or null. */
  last_hit_at: string | null;
}

/**
 * "Is the script tag installed?": whether hits arrived for the site, and when the last one was.
 * Two bounded reads: the site's newest visits (sessions, by their (site_id, started_at) index),
 * and the events the visits have not counted yet (the rollups reaction's backlog, at most the
 * newest RECENT_EVENTS rows by primary key), so a hit shows up the moment it is committed.
 */
export async function siteInstallation({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<Installation> {
  await getSite({ ctx, input });
  const r = await ctx.client.execute({
    sql: `SELECT max(t) AS last FROM (
        SELECT max(last_at) AS t FROM (SELECT last_at FROM sessions WHERE site_id = ? ORDER BY started_at DESC LIMIT 50)
        UNION ALL
        SELECT max(created_at) AS t FROM events
          WHERE id > max(${COUNTED_UP_TO}, coalesce((SELECT max(id) FROM events), 0) - ?) AND site_id = ?
      )`,
    args: [input.id, RECENT_EVENTS, input.id],
  });
  const last = r.rows[0]?.last;
  const at = last === null || last === undefined ? null : Number(last);
  return { received: at !== null, last_hit_at: at === null ? null : iso(at) };
}
