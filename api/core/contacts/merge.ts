import type { Ctx } from '../context';
import { BadRequestError } from '../errors';
import { getContact, resolveContactId, CONTACT_SELECT, type ContactView } from './contacts';
import { moveStatements } from './owned-data';
import { absorbMerged } from './writes';
import { EVENT } from '../spine/event-types';

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
  const raw = await ctx.client.execute({ sql: `SELECT ${CONTACT_SELECT}, email_normalized FROM contacts WHERE id = ?`, args: [mergedId] });
  const now = ctx.now();
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
      // On the timeline, and the signal for reactions: the survivor's history and
      // point log grew (the points reaction sums the moved log again).
      {
        sql: `INSERT INTO events (contact_id, type, props, created_at) VALUES (?, '${EVENT.merged}', ?, ?)`,
        args: [survivorId, JSON.stringify({ merged_id: mergedId, reason: input.reason }), now],
      },
      ...absorbMerged(survivorId, mergedId, raw.rows[0]!, now),
    ],
    'write',
  );
  return getContact({ ctx, input: { id: survivorId } });
}
