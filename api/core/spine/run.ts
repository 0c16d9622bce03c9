import type { Ctx } from '../context';
import { CHANGE_WATCHERS, REACTIONS } from './registry';
import type { Reaction, SpineEvent } from './types';

const CHUNK = 1000;

async function cursorOf(ctx: Ctx, name: string): Promise<number> {
  const r = await ctx.client.execute({ sql: 'SELECT last_event_id FROM reaction_cursors WHERE name = ?', args: [name] });
  return r.rows[0] ? Number(r.rows[0].last_event_id) : 0;
}

async function runOne(ctx: Ctx, reaction: Reaction, maxChunks: number): Promise<number> {
  let processed = 0;
  let cursor = await cursorOf(ctx, reaction.name);
  for (let i = 0; i < maxChunks; i++) {
    const res = await ctx.client.execute({
      sql: `SELECT id, type, site_id, visitor_id, contact_id, name, url, props, created_at FROM events WHERE id > ? ORDER BY id LIMIT ?`,
      args: [cursor, CHUNK],
    });
    if (!res.rows.length) break;
    const events: SpineEvent[] = res.rows.map((r) => ({
      id: Number(r.id),
      type: String(r.type),
      siteId: r.site_id === null ? null : Number(r.site_id),
      visitorId: r.visitor_id === null ? null : Number(r.visitor_id),
      contactId: r.contact_id === null ? null : Number(r.contact_id),
      name: r.name === null ? null : String(r.name),
      url: r.url === null ? null : String(r.url),
      props: r.props === null ? null : String(r.props),
      createdAt: Number(r.created_at),
    }));
    const relevant = reaction.types ? events.filter((e) => reaction.types!.includes(e.type)) : events;
    const last = events[events.length - 1]!.id;
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
    cursor = last;
    processed += events.length;
    if (events.length < CHUNK) break;
  }
  return processed;
}

/** Runs every reaction over the events it has not consumed yet (bounded per call). */
export async function runReactions(ctx: Ctx, opts: { maxChunks?: number } = {}): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of REACTIONS) out[r.name] = await runOne(ctx, r, opts.maxChunks ?? 50);
  for (const w of CHANGE_WATCHERS) out[w.name] = await w.run(ctx);
  return out;
}

// One runner per context at a time; a kick during a run asks for one more run.
const state = new WeakMap<Ctx, { running: Promise<void>; again: boolean }>();

/** Runs the reactions soon, coalescing kicks that arrive while a run is going. */
export function kickReactions(ctx: Ctx): Promise<void> {
  const s = state.get(ctx);
  if (s) {
    s.again = true;
    return s.running;
  }
  const entry = { again: false, running: Promise.resolve() };
  entry.running = (async () => {
    try {
      do {
        entry.again = false;
        await runReactions(ctx);
      } while (entry.again);
    } catch (e) {
      ctx.log.error('reactions failed; the next job run retries', { error: e instanceof Error ? e.message : String(e) });
    } finally {
      state.delete(ctx);
    }
  })();
  state.set(ctx, entry);
  return entry.running;
}
