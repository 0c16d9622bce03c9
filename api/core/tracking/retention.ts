import type { Ctx } from '../context';
import { expireStatements } from './visitors';

const DAY = 86_400_000;
const CHUNK = 5000;

/**
 * Removes never-identified visitors (and their events and visits) not seen within their
 * site's retention period, and events sent without any visitor id (before
 * consent) older than that. Identified visitors are contacts' history and stay.
 */
export async function runRetention(ctx: Ctx): Promise<{ visitors: number; events: number }> {
  const sites = await ctx.client.execute('SELECT id, retention_days FROM sites');
  let visitors = 0;
  let events = 0;
  for (const s of sites.rows) {
    const cutoff = ctx.now() - Number(s.retention_days) * DAY;
    const siteId = Number(s.id);
    for (;;) {
      const done = await ctx.client.batch(expireStatements(siteId, cutoff, CHUNK), 'write');
      const vi = done[done.length - 1]!;
      events += done[0]!.rowsAffected; // events are the first of VISITOR_DATA
      visitors += vi.rowsAffected;
      if (vi!.rowsAffected < CHUNK) break;
    }
    const orphan = await ctx.client.execute({
      sql: 'DELETE FROM events WHERE site_id = ? AND visitor_id IS NULL AND contact_id IS NULL AND created_at < ?',
      args: [siteId, cutoff],
    });
    events += orphan.rowsAffected;
  }
  return { visitors, events };
}
