import type { InStatement } from '@libsql/client';
import type { Ctx } from '../../context';
import { SPINE_COLUMNS, toEvent } from '../../spine/run';
import { isUniqueViolation } from '../../errors';
import { nextTurn } from '../../util/turn';
import { chunkStatements } from './chunk';
import { REBUILD, REBUILD_AFTER, ROLLUPS } from './cursor';
import { COUNTED_TYPES } from './metrics';

const TYPES = COUNTED_TYPES.map((t) => `'${t}'`).join(', ');

export interface RebuildProgress {
  /** Events counted by this call so far (those of the types rollups count). */
  events: number;
  /** The last event id counted, and the highest id in the log when the rebuild last looked. */
  lastId: number;
  maxId: number;
  elapsedMs: number;
}

export interface RebuildOptions {
  /** Events per transaction (default 5,000; memory grows with it, see rebuildRollups). */
  chunk?: number;
  /** Stop after this long (the marker stays; the next call resumes). Default: until done. */
  budgetMs?: number;
  /** Only continue a rebuild that is under way; start none. */
  resumeOnly?: boolean;
  onProgress?: (p: RebuildProgress) => void;
}

export interface RebuildResult {
  /** Whether rollups and sessions are complete again (no rebuild under way). */
  done: boolean;
  /** Whether this call started the rebuild (false: it resumed one, or there was none to resume). */
  started: boolean;
  events: number;
  lastId: number | null;
}

async function position(ctx: Ctx): Promise<number | null> {
  const r = await ctx.client.execute({ sql: 'SELECT last_event_id FROM reaction_cursors WHERE name = ?', args: [REBUILD] });
  return r.rows[0] ? Number(r.rows[0].last_event_id) : null;
}

async function maxEventId(ctx: Ctx): Promise<number> {
  const r = await ctx.client.execute('SELECT coalesce(max(id), 0) AS m FROM events');
  return Number(r.rows[0]!.m);
}

/**
 * Recomputes rollups and sessions from the whole events table with the reaction's own
 * statements (chunk.ts), a chunk of events per transaction (bounded memory), then hands over
 * to the reaction with its cursor at the last event counted. Starts a rebuild, or resumes the one
 * under way. The `reports-rebuild` job calls it; so can a benchmark on a big database, with
 * `onProgress` to print how far it got. The process's memory grows with `chunk` (measured on the
 * reports benchmark's 10M events: peak RSS about 170 MB at 5,000, 210 MB at 10,000, 400 MB at
 * 50,000); larger chunks are faster (50,000 did 10–25% more events per second than 5,000 on a quiet
 * machine, 300k-event samples), so 5,000 trades some speed for the 256 MB process budget.
 */
export async function rebuildRollups(ctx: Ctx, opts: RebuildOptions = {}): Promise<RebuildResult> {
  const chunk = opts.chunk ?? 5000;
  const t0 = Date.now();
  let started = false;
  if ((await position(ctx)) === null) {
    if (opts.resumeOnly) return { done: true, started, events: 0, lastId: null };
    try {
      await ctx.client.batch(
        [
          // A plain insert: if another rebuild began meanwhile this fails as a whole, and resumes that one.
          { sql: 'INSERT INTO reaction_cursors (name, last_event_id, updated_at) VALUES (?, 0, ?)', args: [REBUILD, ctx.now()] },
          'DELETE FROM rollups',
          'DELETE FROM sessions',
        ],
        'write',
      );
      started = true;
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
  }
  let events = 0;
  for (;;) {
    const pos = await position(ctx);
    if (pos === null) return { done: true, started, events, lastId: null }; // another runner finished it
    if (opts.budgetMs !== undefined && Date.now() - t0 > opts.budgetMs) return { done: false, started, events, lastId: pos };
    // Only the events that count are read (the others would only be skipped); a short read
    // reached the end of the log as it was before the read, so the position moves there. (+type:
    // walk the log by id, never by the type index.)
    const end = await maxEventId(ctx);
    const res = await ctx.client.execute({ sql: `SELECT ${SPINE_COLUMNS} FROM events WHERE id > ? AND +type IN (${TYPES}) ORDER BY id LIMIT ?`, args: [pos, chunk] });
    const list = res.rows.map(toEvent);
    const last = list.length < chunk ? Math.max(end, list[list.length - 1]?.id ?? 0) : list[list.length - 1]!.id;
    if (last <= pos) {
      if (await finish(ctx, pos)) return { done: true, started, events, lastId: pos };
      continue; // the held-off reaction moved past events not counted yet
    }
    const stmts: InStatement[] = await chunkStatements(ctx, list, { after: REBUILD_AFTER, last });
    await ctx.client.batch(
      [...stmts, { sql: 'UPDATE reaction_cursors SET last_event_id = max(last_event_id, ?), updated_at = ? WHERE name = ?', args: [last, ctx.now(), REBUILD] }],
      'write',
    );
    events += list.length;
    opts.onProgress?.({ events, lastId: last, maxId: Math.max(end, last), elapsedMs: Date.now() - t0 });
    // A turn of the event loop per chunk: the finalizers of this chunk's statements free their
    // native memory (without it the process grew ~25 MB per 100k events), and a server answers
    // its requests while a rebuild runs.
    await nextTurn();
  }
}

/** Hands over to the reaction if nothing is left between the rebuild's position and its cursor. */
async function finish(ctx: Ctx, pos: number): Promise<boolean> {
  const nothingBetween = `NOT EXISTS (SELECT 1 FROM events WHERE id > ? AND id <= coalesce((SELECT last_event_id FROM reaction_cursors WHERE name = '${ROLLUPS}'), 0))`;
  const [, gone] = await ctx.client.batch(
    [
      {
        sql: `INSERT INTO reaction_cursors (name, last_event_id, updated_at) VALUES (?, ?, ?)
          ON CONFLICT (name) DO UPDATE SET last_event_id = max(last_event_id, excluded.last_event_id), updated_at = excluded.updated_at
          WHERE ${nothingBetween.replace('?', 'excluded.last_event_id')}`,
        args: [ROLLUPS, pos, ctx.now()],
      },
      {
        sql: `DELETE FROM reaction_cursors WHERE name = ? AND last_event_id = ?
          AND coalesce((SELECT last_event_id FROM reaction_cursors WHERE name = '${ROLLUPS}'), 0) >= ? AND ${nothingBetween}`,
        args: [REBUILD, pos, pos, pos],
      },
    ],
    'write',
  );
  return gone!.rowsAffected === 1;
}

/** Whether a rebuild is under way (its position), for status and tests. */
export const rebuildUnderWay = (ctx: Ctx) => position(ctx);
