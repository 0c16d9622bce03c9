import type { InStatement } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError, ValidationError } from '../errors';
import { iso } from '../util/time';
import { EVENT } from '../spine/event-types';
import { resolveContactId } from '../contacts/contacts';
import { clearDoNotContact, setDoNotContact, type DncChannel, type DncReason } from '../contacts/dnc';

/**
 * A contact's choices about marketing email, in one place: which subscription categories it
 * left (contact_subscriptions, subscribed = 0; no row is subscribed) and whether it left
 * everything (a do-not-contact entry on channel email with reason 'unsubscribed', written by
 * the contacts' own DNC functions). The send path reads the same rows in SQL (suppression.ts),
 * so a change here is in force for the next send.
 *
 * Every leave that changes something is an email_unsubscribed event (props email_id, send_id,
 * category_id: null for everything, via). Rejoining is not an event: it is the state again.
 * Only the entry a person made by leaving everything ('unsubscribed' on email) is ever lifted
 * here; bounced, complained and manual entries, and any entry for all channels, stay.
 */

export interface CategoryState {
  category_id: number;
  key: string;
  name: string;
  description: string | null;
  subscribed: boolean;
  /** When the contact last changed it; null: never (subscribed by default). */
  updated_at: string | null;
}

export interface SubscriptionsView {
  contact_id: number;
  /** Left all marketing email (do-not-contact on email, reason unsubscribed). */
  unsubscribed_from_all: boolean;
  /** A do-not-contact entry for email or all that stops marketing email whatever the categories say. */
  email_blocked: { channel: DncChannel; reason: DncReason } | null;
  categories: CategoryState[];
}

/** Where a change came from, for the event. */
export interface ChangeOrigin {
  via: 'one_click' | 'preferences' | 'api';
  emailId: number | null;
  sendId: number | null;
}

export async function contactExists(ctx: Ctx, id: number): Promise<boolean> {
  const r = await ctx.client.execute({ sql: 'SELECT 1 FROM contacts WHERE id = ?', args: [id] });
  return r.rows.length > 0;
}

export async function readSubscriptions(ctx: Ctx, contactId: number): Promise<SubscriptionsView> {
  const [contact, cats, dnc] = await ctx.client.batch(
    [
      { sql: 'SELECT id FROM contacts WHERE id = ?', args: [contactId] },
      {
        sql: `SELECT c.id, c.key, c.name, c.description, s.subscribed, s.updated_at FROM email_categories c
          LEFT JOIN contact_subscriptions s ON s.category_id = c.id AND s.contact_id = ? ORDER BY c.id`,
        args: [contactId],
      },
      { sql: "SELECT channel, reason FROM do_not_contact WHERE contact_id = ? AND channel IN ('email', 'all') ORDER BY channel = 'all', channel", args: [contactId] },
    ],
    'read',
  );
  if (!contact!.rows.length) throw new NotFoundError('Contact');
  const entries = dnc!.rows.map((r) => ({ channel: String(r.channel) as DncChannel, reason: String(r.reason) as DncReason }));
  const own = entries.some((e) => e.channel === 'email' && e.reason === 'unsubscribed');
  const blocking = entries.find((e) => !(e.channel === 'email' && e.reason === 'unsubscribed')) ?? null;
  return {
    contact_id: contactId,
    unsubscribed_from_all: own,
    email_blocked: blocking,
    categories: cats!.rows.map((r) => ({
      category_id: Number(r.id),
      key: String(r.key),
      name: String(r.name),
      description: r.description === null ? null : String(r.description),
      subscribed: r.subscribed === null || Number(r.subscribed) !== 0,
      updated_at: r.updated_at === null ? null : iso(Number(r.updated_at)),
    })),
  };
}

const eventStatement = (contactId: number, categoryId: number | null, origin: ChangeOrigin, now: number, onlyIfChanged: boolean): InStatement => ({
  sql: `INSERT INTO events (contact_id, type, props, created_at)
    SELECT ?, '${EVENT.email_unsubscribed}', json_object('email_id', ?, 'send_id', ?, 'category_id', ?, 'via', ?), ?
    WHERE ${onlyIfChanged ? 'changes() > 0' : 'true'}`,
  args: [contactId, origin.emailId, origin.sendId, categoryId, origin.via, now],
});

/** The send the link came from: its unsubscribed_at, the first time. */
const markSend = (sendId: number, now: number): InStatement => ({
  sql: 'UPDATE email_sends SET unsubscribed_at = ?, updated_at = ? WHERE id = ? AND unsubscribed_at IS NULL',
  args: [now, now, sendId],
});

/**
 * Sets the contact's state for the categories given (others keep theirs), in one transaction
 * with the events. Categories that do not exist (any more) are passed over.
 */
export async function changeCategories(
  ctx: Ctx,
  contactId: number,
  changes: { categoryId: number; subscribed: boolean }[],
  origin: ChangeOrigin,
): Promise<{ left: number[]; rejoined: number[] }> {
  const now = ctx.now();
  const stmts: InStatement[] = [];
  for (const ch of changes) {
    if (ch.subscribed) {
      stmts.push({ sql: 'DELETE FROM contact_subscriptions WHERE contact_id = ? AND category_id = ? AND subscribed = 0', args: [contactId, ch.categoryId] });
    } else {
      // A row only for a contact and a category that exist; a changed row only when it was not left already.
      stmts.push({
        sql: `INSERT INTO contact_subscriptions (contact_id, category_id, subscribed, updated_at)
          SELECT ?, ?, 0, ? WHERE EXISTS (SELECT 1 FROM contacts WHERE id = ?) AND EXISTS (SELECT 1 FROM email_categories WHERE id = ?)
          ON CONFLICT(contact_id, category_id) DO UPDATE SET subscribed = 0, updated_at = excluded.updated_at WHERE subscribed <> 0`,
        args: [contactId, ch.categoryId, now, contactId, ch.categoryId],
      });
      stmts.push(eventStatement(contactId, ch.categoryId, origin, now, true));
    }
  }
  if (!stmts.length) return { left: [], rejoined: [] };
  const left: number[] = [];
  const rejoined: number[] = [];
  const leaves = changes.filter((c) => !c.subscribed);
  if (origin.sendId !== null && leaves.length) stmts.push(markSend(origin.sendId, now));
  const out = await ctx.client.batch(stmts, 'write');
  let i = 0;
  for (const ch of changes) {
    if (ch.subscribed) {
      if (out[i]!.rowsAffected > 0) rejoined.push(ch.categoryId);
      i += 1;
    } else {
      if (out[i]!.rowsAffected > 0) left.push(ch.categoryId);
      i += 2;
    }
  }
  return { left, rejoined };
}

/** Leaves all marketing email: do-not-contact on email, reason unsubscribed (an entry already there stays as it is). */
export async function leaveAll(ctx: Ctx, contactId: number, origin: ChangeOrigin): Promise<boolean> {
  const had = await ctx.client.execute({ sql: "SELECT 1 FROM do_not_contact WHERE contact_id = ? AND channel = 'email'", args: [contactId] });
  const now = ctx.now();
  if (!had.rows.length) {
    const comment = origin.via === 'one_click' ? 'one-click unsubscribe' : origin.via === 'preferences' ? 'preference centre' : 'API';
    await setDoNotContact({ ctx, input: { id: contactId, channel: 'email', reason: 'unsubscribed', comment, keepExisting: true } });
  }
  const stmts: InStatement[] = [];
  if (!had.rows.length) stmts.push(eventStatement(contactId, null, origin, now, false));
  if (origin.sendId !== null) stmts.push(markSend(origin.sendId, now));
  if (stmts.length) await ctx.client.batch(stmts, 'write');
  return !had.rows.length;
}

/** Lifts the contact's own "left everything" entry; any other entry stays. */
export async function rejoinAll(ctx: Ctx, contactId: number): Promise<boolean> {
  const had = await ctx.client.execute({ sql: "SELECT 1 FROM do_not_contact WHERE contact_id = ? AND channel = 'email' AND reason = 'unsubscribed'", args: [contactId] });
  if (!had.rows.length) return false;
  await clearDoNotContact({ ctx, input: { id: contactId, channel: 'email', onlyReason: 'unsubscribed' } });
  return true;
}

// ---- the API: GET/PUT /api/v1/contacts/{id}/subscriptions ----

export async function getContactSubscriptions({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<SubscriptionsView> {
  return readSubscriptions(ctx, await resolveContactId(ctx, input.id));
}

/** Sets the state of the categories named; others keep theirs. Leaving or rejoining everything is the do-not-contact endpoint's. */
export async function putContactSubscriptions({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { id: number; categories: { category_id: number; subscribed: boolean }[] };
}): Promise<SubscriptionsView> {
  const id = await resolveContactId(ctx, input.id);
  if (!(await contactExists(ctx, id))) throw new NotFoundError('Contact');
  const ids = input.categories.map((c) => c.category_id);
  const known = await ctx.client.execute({ sql: 'SELECT id FROM email_categories WHERE id IN (SELECT value FROM json_each(?))', args: [JSON.stringify(ids)] });
  const have = new Set(known.rows.map((r) => Number(r.id)));
  const errors = input.categories.flatMap((c, i) => (have.has(c.category_id) ? [] : [{ field: `categories.${i}.category_id`, message: 'no such email category' }]));
  if (errors.length) throw new ValidationError(errors);
  await changeCategories(
    ctx,
    id,
    input.categories.map((c) => ({ categoryId: c.category_id, subscribed: c.subscribed })),
    { via: 'api', emailId: null, sendId: null },
  );
  return readSubscriptions(ctx, id);
}
