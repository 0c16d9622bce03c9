import type { InStatement, InValue } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError } from '../errors';
import { getContact, touchContact, type ContactView, type DncChannel, type DncReason } from './contacts';

export { DNC_CHANNELS, DNC_REASONS, type DncChannel, type DncReason } from './contacts';

export interface DncInput {
  id: number;
  channel: DncChannel;
  reason: DncReason;
  comment?: string | null;
  /**
   * An entry already there stays as it is (a person leaving by an unsubscribe link must not turn
   * a 'bounced' or 'complained' entry into an 'unsubscribed' one); otherwise reason and comment
   * are updated.
   */
  keepExisting?: boolean;
  /** An entry already there is replaced only when its reason is one of these (others stay as they are). */
  replaceOnly?: DncReason[];
}

/**
 * The one write of a do-not-contact entry, as a statement, for callers that must commit it with
 * other writes (provider webhooks: the receipt and the bounce in one transaction). Nothing is
 * written when the contact does not exist, or when `when` (SQL over the contact row) is false.
 * Setting it again updates reason and comment (unless keepExisting), keeps the date.
 */
export function doNotContactStatement(input: DncInput, now: number, when?: { sql: string; args: InValue[] }): InStatement {
  return {
    sql: `INSERT INTO do_not_contact (contact_id, channel, reason, comment, created_at)
      SELECT id, ?, ?, ?, ? FROM contacts WHERE id = ?${when ? ` AND (${when.sql})` : ''}
      ON CONFLICT(contact_id, channel) DO ${
        input.keepExisting
          ? 'NOTHING'
          : `UPDATE SET reason = excluded.reason, comment = excluded.comment${input.replaceOnly ? ` WHERE do_not_contact.reason IN (SELECT value FROM json_each(?))` : ''}`
      }`,
    // A blank comment is no comment.
    args: [input.channel, input.reason, input.comment?.trim() || null, now, input.id, ...(when?.args ?? []), ...(input.replaceOnly && !input.keepExisting ? [JSON.stringify(input.replaceOnly)] : [])],
  };
}

/** Marks a contact do-not-contact on a channel; setting it again updates reason and comment (unless keepExisting), keeps the date. */
export async function setDoNotContact({ ctx, input }: { ctx: Ctx; input: DncInput }): Promise<ContactView> {
  const res = await ctx.client.execute(doNotContactStatement(input, ctx.now()));
  // With keepExisting nothing is written for an entry already there; getContact below tells a missing contact.
  if (res.rowsAffected === 0 && !input.keepExisting) throw new NotFoundError('Contact');
  await touchContact(ctx, input.id);
  return getContact({ ctx, input: { id: input.id } });
}

/** Lifts a contact's do-not-contact entry on a channel; with onlyReason, only an entry with that reason (others stay). */
export async function clearDoNotContact({ ctx, input }: { ctx: Ctx; input: { id: number; channel: DncChannel; onlyReason?: DncReason } }): Promise<ContactView> {
  const contact = await getContact({ ctx, input: { id: input.id } });
  const res = await ctx.client.execute(
    input.onlyReason
      ? { sql: 'DELETE FROM do_not_contact WHERE contact_id = ? AND channel = ? AND reason = ?', args: [input.id, input.channel, input.onlyReason] }
      : { sql: 'DELETE FROM do_not_contact WHERE contact_id = ? AND channel = ?', args: [input.id, input.channel] },
  );
  if (input.onlyReason && res.rowsAffected === 0) return contact;
  await touchContact(ctx, input.id);
  return { ...contact, do_not_contact: contact.do_not_contact.filter((d) => d.channel !== input.channel) };
}

/** True when the contact must not be contacted on this channel (a channel entry or "all"). */
export async function isDoNotContact(ctx: Ctx, contactId: number, channel: Exclude<DncChannel, 'all'>): Promise<boolean> {
  const r = await ctx.client.execute({
    sql: "SELECT 1 FROM do_not_contact WHERE contact_id = ? AND channel IN (?, 'all') LIMIT 1",
    args: [contactId, channel],
  });
  return r.rows.length > 0;
}
