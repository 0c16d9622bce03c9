import type { Ctx } from '../context';
import { resolveContactId } from '../contacts/contacts';
import { normalizeEmail } from '../contacts/values';
import { readUnsubscribeToken, type UnsubscribeTarget } from './links';
import { changeCategories, leaveAll, readSubscriptions, rejoinAll, type ChangeOrigin, type SubscriptionsView } from './subscriptions';

/**
 * What an unsubscribe link (/u/{token}) does: the RFC 8058 one-click POST and the preference
 * centre's actions, for the recipient the signed token names. The token is the only
 * credential: whoever holds it may change that recipient's choices, nothing else.
 */

export interface LinkHolder {
  target: UnsubscribeTarget;
  /** The contact now (a merged contact's old id resolves to the survivor); null: none (erased, or a send to an address no contact has). */
  contactId: number | null;
  emailId: number | null;
  /**
   * The category the link leaves: the token's, or when that one was deleted since, the email's
   * current category; null: the email has none, so the link leaves all marketing email.
   */
  categoryId: number | null;
  categoryName: string | null;
}

/** The holder of a genuine token, or null for anything else (the caller's 400). */
export async function openLink(ctx: Ctx, token: string): Promise<LinkHolder | null> {
  const target = await readUnsubscribeToken(ctx, token);
  if (!target) return null;
  let contactId: number | null = null;
  if (typeof target.recipient === 'number') {
    const id = await resolveContactId(ctx, target.recipient);
    const r = await ctx.client.execute({ sql: 'SELECT id FROM contacts WHERE id = ?', args: [id] });
    contactId = r.rows.length ? id : null;
  } else {
    const r = await ctx.client.execute({ sql: 'SELECT id FROM contacts WHERE email_normalized = ?', args: [normalizeEmail(target.recipient)] });
    contactId = r.rows.length ? Number(r.rows[0]!.id) : null;
  }
  const r = await ctx.client.execute({
    sql: `SELECT (SELECT email_id FROM email_sends WHERE id = ?) AS email_id,
        (SELECT name FROM email_categories WHERE id = ?) AS token_category,
        (SELECT e.category_id FROM email_sends s JOIN emails e ON e.id = s.email_id WHERE s.id = ?) AS email_category,
        (SELECT c.name FROM email_sends s JOIN emails e ON e.id = s.email_id JOIN email_categories c ON c.id = e.category_id WHERE s.id = ?) AS email_category_name`,
    args: [target.sendId, target.categoryId, target.sendId, target.sendId],
  });
  const row = r.rows[0]!;
  const emailId = row.email_id === null ? null : Number(row.email_id);
  let categoryId: number | null = null;
  let categoryName: string | null = null;
  if (target.categoryId !== null && row.token_category !== null) {
    categoryId = target.categoryId;
    categoryName = String(row.token_category);
  } else if (target.categoryId !== null && row.email_category !== null && row.email_category_name !== null) {
    categoryId = Number(row.email_category);
    categoryName = String(row.email_category_name);
  }
  return { target, contactId, emailId, categoryId, categoryName };
}

const origin = (h: LinkHolder, via: ChangeOrigin['via']): ChangeOrigin => ({ via, emailId: h.emailId, sendId: h.target.sendId });

async function markSendOnly(ctx: Ctx, h: LinkHolder): Promise<void> {
  if (h.target.sendId === null) return;
  await ctx.client.execute({
    sql: 'UPDATE email_sends SET unsubscribed_at = ?, updated_at = ? WHERE id = ? AND unsubscribed_at IS NULL',
    args: [ctx.now(), ctx.now(), h.target.sendId],
  });
}

export type LeaveOutcome = { kind: 'category'; changed: boolean } | { kind: 'all'; changed: boolean } | { kind: 'nobody' };

/** Leaves what the link names: its category, or everything when it names none. Safe to repeat. */
export async function leaveByLink(ctx: Ctx, h: LinkHolder, via: 'one_click' | 'preferences'): Promise<LeaveOutcome> {
  if (h.contactId === null) {
    // Nobody on record gets this email any more; the send still counts the click.
    await markSendOnly(ctx, h);
    return { kind: 'nobody' };
  }
  if (h.categoryId !== null) {
    const r = await changeCategories(ctx, h.contactId, [{ categoryId: h.categoryId, subscribed: false }], origin(h, via));
    return { kind: 'category', changed: r.left.length > 0 };
  }
  return { kind: 'all', changed: await leaveAll(ctx, h.contactId, origin(h, via)) };
}

export interface PreferenceResult {
  left: number[];
  rejoined: number[];
  leftAll: boolean;
  rejoinedAll: boolean;
}

export type PreferenceAction =
  | { action: 'leave' }
  | { action: 'leave_all' }
  | { action: 'rejoin_all' }
  /** The categories form: `shown` are the categories the page listed, `ticked` those left ticked. */
  | { action: 'save'; shown: number[]; ticked: number[] };

/**
 * A preference-centre form post. Only the categories the page showed change (one created since
 * stays as it is); ticking any while having left everything is asking for email again, so the
 * contact's own "left everything" entry is lifted.
 */
export async function applyPreferences(ctx: Ctx, h: LinkHolder, a: PreferenceAction): Promise<PreferenceResult> {
  const none: PreferenceResult = { left: [], rejoined: [], leftAll: false, rejoinedAll: false };
  if (h.contactId === null) return none;
  const id = h.contactId;
  switch (a.action) {
    case 'leave': {
      const out = await leaveByLink(ctx, h, 'preferences');
      if (out.kind === 'category') return { ...none, left: out.changed ? [h.categoryId!] : [] };
      return { ...none, leftAll: out.kind === 'all' && out.changed };
    }
    case 'leave_all':
      return { ...none, leftAll: await leaveAll(ctx, id, origin(h, 'preferences')) };
    case 'rejoin_all':
      return { ...none, rejoinedAll: await rejoinAll(ctx, id) };
    case 'save': {
      const ticked = new Set(a.ticked);
      const known = await ctx.client.execute({ sql: 'SELECT id FROM email_categories WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id', args: [JSON.stringify([...new Set(a.shown)])] });
      const shown = known.rows.map((r) => Number(r.id));
      const any = shown.some((c) => ticked.has(c));
      // Having left everything, the page shows nothing ticked: saving it so asks for nothing new.
      if (!any && (await readSubscriptions(ctx, id)).unsubscribed_from_all) return none;
      const r = await changeCategories(
        ctx,
        id,
        shown.map((c) => ({ categoryId: c, subscribed: ticked.has(c) })),
        origin(h, 'preferences'),
      );
      const rejoinedAll = any ? await rejoinAll(ctx, id) : false;
      return { left: r.left, rejoined: r.rejoined, leftAll: false, rejoinedAll };
    }
  }
}

export async function preferencesOf(ctx: Ctx, h: LinkHolder): Promise<SubscriptionsView | null> {
  return h.contactId === null ? null : readSubscriptions(ctx, h.contactId);
}
