import type { Ctx } from '../context';
import { BadRequestError } from '../errors';
import { getContact, resolveContactId, CONTACT_SELECT, type ContactView } from './contacts';
import { moveStatements } from './owned-data';
import { CORE_COLUMNS } from './prepare';
import { recomputeStatements } from '../scoring/points';

/**
 * Merges one contact into another: its events, visitors, tags, companies,
 * do-not-contact entries and points move to the survivor; the survivor's field
 * values win and the merged contact's fill the gaps. The merge is recorded with
 * a snapshot, and the merged id keeps resolving to the survivor.
 */
export async function mergeContacts({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { survivorId: number; mergedId: number; reason: string };
}): Promise<ContactView> {
  const survivorId = await resolveContactId(ctx, input.survivorId);
  const mergedId = await resolveContactId(ctx, input.mergedId);
  if (survivorId === mergedId) throw new BadRequestError('A contact cannot be merged into itself.');
  const merged = await getContact({ ctx, input: { id: mergedId } });
  await getContact({ ctx, input: { id: survivorId } });
  const raw = await ctx.client.execute({ sql: `SELECT ${CONTACT_SELECT} FROM contacts WHERE id = ?`, args: [mergedId] });
  const m = raw.rows[0]!;
  const now = ctx.now();
  const fill = CORE_COLUMNS.filter((c) => c !== 'email').map((c) => `${c} = coalesce(${c}, ?)`);
  await ctx.client.batch(
    [
      ...moveStatements(survivorId, mergedId),
      {
        sql: 'INSERT INTO contact_merges (survivor_id, merged_id, reason, snapshot, created_at) VALUES (?, ?, ?, ?, ?)',
        args: [survivorId, mergedId, input.reason, JSON.stringify(merged), now],
      },
      // Earlier merges into the merged contact now point at the survivor too.
      { sql: 'UPDATE contact_aliases SET contact_id = ? WHERE contact_id = ?', args: [survivorId, mergedId] },
      { sql: 'INSERT OR REPLACE INTO contact_aliases (old_id, contact_id, merged_at) VALUES (?, ?, ?)', args: [mergedId, survivorId, now] },
      // On the timeline, and a signal for reactions that the survivor's history grew.
      {
        sql: `INSERT INTO events (contact_id, type, props, created_at) VALUES (?, 'merged', ?, ?)`,
        args: [survivorId, JSON.stringify({ merged_id: mergedId, reason: input.reason }), now],
      },
      // Deleted before the survivor takes over its email, which must stay unique.
      { sql: 'DELETE FROM contacts WHERE id = ?', args: [mergedId] },
      {
        sql: `UPDATE contacts SET ${fill.join(', ')},
            email = coalesce(email, ?), email_normalized = coalesce(email_normalized, ?),
            custom = json_patch(?, custom),
            first_seen_at = min(coalesce(first_seen_at, ?), coalesce(?, first_seen_at)),
            first_source = CASE WHEN first_seen_at IS NULL OR (? IS NOT NULL AND ? < first_seen_at) THEN coalesce(?, first_source) ELSE coalesce(first_source, ?) END,
            last_active_at = max(coalesce(last_active_at, 0), coalesce(?, 0)),
            created_at = min(created_at, ?),
            updated_at = ?
          WHERE id = ?`,
        args: [
          ...CORE_COLUMNS.filter((c) => c !== 'email').map((c) => m[c] ?? null),
          m.email ?? null,
          merged.email ? merged.email.trim().toLowerCase() : null,
          String(m.custom ?? '{}'),
          m.first_seen_at ?? null,
          m.first_seen_at ?? null,
          m.first_seen_at ?? null,
          m.first_seen_at ?? null,
          m.first_source ?? null,
          m.first_source ?? null,
          m.last_active_at ?? null,
          Number(m.created_at),
          now,
          survivorId,
        ],
      },
      // last_active_at of 0 means "never": keep it NULL.
      { sql: 'UPDATE contacts SET last_active_at = NULL WHERE id = ? AND last_active_at = 0', args: [survivorId] },
      // Points are the sum of the (moved) point log.
      ...recomputeStatements(JSON.stringify([survivorId]), now, 'merge', { type: 'api' }),
    ],
    'write',
  );
  return getContact({ ctx, input: { id: survivorId } });
}
