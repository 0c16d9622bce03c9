import type { InStatement } from '@libsql/client';
import type { Ctx } from '../context';

// Writers' clocks may disagree a little (Workers isolates), and a write may stamp updated_at a
// moment before the last walk committed: each walk re-reads a window behind its watermark,
// which is harmless because what the walkers write is idempotent.
const OVERLAP_MS = 5_000;
const CHUNK = 2000;

/**
 * Walks the contacts whose data changed since the walker's watermark (contacts.updated_at moves on
 * every field, tag, company, do-not-contact, points and stage change), a chunk at a time in
 * (updated_at, id) order. Each chunk's statements commit with the new watermark (app_state
 * `key`), so a crash re-walks at most a chunk. Used by segment upkeep and campaign goals.
 */
export async function walkChangedContacts(
  ctx: Ctx,
  o: { key: string; maxChunks: number; statements: (ids: Set<number>) => Promise<InStatement[]> },
): Promise<number> {
  const wm = await ctx.client.execute({ sql: 'SELECT value FROM app_state WHERE key = ?', args: [o.key] });
  let since = wm.rows[0] ? Number(wm.rows[0].value) : 0;
  let lastU = Math.max(0, since - OVERLAP_MS);
  let lastId = 0;
  let checked = 0;
  for (let i = 0; i < o.maxChunks; i++) {
    const r = await ctx.client.execute({
      // A row-value comparison is what lets SQLite seek the index instead of scanning it.
      sql: 'SELECT id, updated_at FROM contacts WHERE (updated_at, id) > (?, ?) ORDER BY updated_at, id LIMIT ?',
      args: [lastU, lastId, CHUNK],
    });
    // When no contact changed, nothing to read or write (the watermark stays where it is).
    if (!r.rows.length) break;
    lastU = Number(r.rows[r.rows.length - 1]!.updated_at);
    lastId = Number(r.rows[r.rows.length - 1]!.id);
    since = Math.max(since, lastU);
    await ctx.client.batch(
      [
        ...(await o.statements(new Set(r.rows.map((x) => Number(x.id))))),
        {
          sql: 'INSERT INTO app_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))',
          args: [o.key, String(since)],
        },
      ],
      'write',
    );
    checked += r.rows.length;
    if (r.rows.length < CHUNK) break;
  }
  return checked;
}

/**
 * Moves a walker's watermark to the latest change without reading the contacts: for a walker
 * with nothing to check (no campaign passes), the same place a walk would leave it.
 */
export async function skipChangedContacts(ctx: Ctx, key: string): Promise<void> {
  const r = await ctx.client.execute({
    sql: 'SELECT (SELECT max(updated_at) FROM contacts) AS latest, (SELECT CAST(value AS INTEGER) FROM app_state WHERE key = ?) AS at',
    args: [key],
  });
  const latest = r.rows[0]!.latest === null ? null : Number(r.rows[0]!.latest);
  if (latest === null || (r.rows[0]!.at !== null && Number(r.rows[0]!.at) >= latest)) return;
  await ctx.client.execute({
    sql: 'INSERT INTO app_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))',
    args: [key, String(latest)],
  });
}
