import type { Ctx } from '../context';
import { CHANGE_WATCHERS, REACTIONS } from './registry';
import type { SpineEvent } from './types';
import { coalescedRunner } from '../util/kick';
import { nextTurn } from '../util/turn';

const CHUNK = 1000;

/** The columns of events a reaction sees, for SELECT … RETURNING lists. */
export const SPINE_COLUMNS = 'id, type, site_id, visitor_id, contact_id, name, url, referrer, props, created_at';

/** An events row (SPINE_COLUMNS) as reactions see it. */
export function toEvent(r: Record<string, unknown>): SpineEvent {
  return {
    id: Number(r.id),
    type: String(r.type),
    siteId: r.site_id === null ? null : Number(r.site_id),
    visitorId: r.visitor_id === null ? null : Number(r.visitor_id),
    contactId: r.contact_id === null ? null : Number(r.contact_id),
    name: r.name === null ? null : String(r.name),
    url: r.url === null ? null : String(r.url),
    referrer: r.referrer === null ? null : String(r.referrer),
    props: r.props === null ? null : String(r.props),
    createdAt: Number(r.created_at),
  };
}

/**
 * Runs every reaction over the events it has not consumed yet (bounded per
 * call). Each round reads one chunk of the log (1,000 events; `chunk`: other
 * boundaries, for tests) from the lowest cursor, shared by all reactions; each
 * reaction then commits its effects together with its own cursor. Events the
 * reactions write (points_changed, segment_joined…) are picked up by the next round.
 * The event loop gets a turn between rounds.
 */
export async function runReactions(ctx: Ctx, opts: { maxChunks?: number; chunk?: number } = {}): Promise<Record<string, number>> {
  const out: Record<string, number> = Object.fromEntries(REACTIONS.map((r) => [r.name, 0]));
  for (let round = 0; round < (opts.maxChunks ?? 50); round++) {
    const rows = await ctx.client.execute('SELECT name, last_event_id FROM reaction_cursors');
    const cursors = new Map(rows.rows.map((r) => [String(r.name), Number(r.last_event_id)]));
    const from = Math.min(...REACTIONS.map((r) => cursors.get(r.name) ?? 0));
    const res = await ctx.client.execute({
      sql: `SELECT ${SPINE_COLUMNS} FROM events WHERE id > ? ORDER BY id LIMIT ?`,
      args: [from, opts.chunk ?? CHUNK],
    });
    if (!res.rows.length) break;
    const events = res.rows.map(toEvent);
    const last = events[events.length - 1]!.id;
    for (const reaction of REACTIONS) {
      const cursor = cursors.get(reaction.name) ?? 0;
      const unseen = events.filter((e) => e.id > cursor);
      if (!unseen.length) continue;
      const relevant = reaction.types ? unseen.filter((e) => reaction.types!.includes(e.type)) : unseen;
      const stmts = relevant.length ? await reaction.handle(ctx, relevant) : [];
      await ctx.client.batch(
        [
          ...stmts,
          {
            sql: `INSERT INTO reaction_cursors (name, last_event_id, updated_at) VALUES (?, ?, ?)
              ON CONFLICT(name) DO UPDATE SET last_event_id = max(last_event_id, excluded.last_event_id), updated_at = excluded.updated_at`,
            args: [reaction.name, last, ctx.now()],
          },
        ],
        'write',
      );
      out[reaction.name]! += unseen.length;
    }
    // A turn of the event loop per chunk (util/turn.ts): a backlog of 50 chunks would otherwise
    // hold the server, and every statement's native memory, until the whole run is over.
    await nextTurn();
  }
  for (const w of CHANGE_WATCHERS) out[w.name] = await w.run(ctx);
  return out;
}

// One runner per context at a time. Kicks within KICK_DELAY_MS share one run,
// so a stream of hits costs one run per interval, not one per hit.
const KICK_DELAY_MS = 200;
const reactionRunner = coalescedRunner('reactions', (ctx) => runReactions(ctx), { delayMs: KICK_DELAY_MS });

/** Whether a run of the reactions is already scheduled or running for this context (a kick would join it). */
export const reactionsScheduled = reactionRunner.scheduled;

/** Runs the reactions soon, coalescing kicks that arrive before or during a run. */
export const kickReactions: (ctx: Ctx, opts?: { delayMs?: number }) => Promise<void> = reactionRunner.kick;
