import type { Ctx } from '../context';
import { NotFoundError, ValidationError, type FieldError } from '../errors';
import { hmacSha256Hex, timingSafeEqualHex } from '../util/crypto';
import { EVENT } from '../spine/event-types';
import { ensureVisitor, linkStatement, type VisitorRef } from '../tracking/visitors';
import type { SiteRecord } from '../tracking/sites';
import { isEmail, normalizeEmail } from './values';
import { upsertContacts } from './upsert';
import { resolveContactId } from './contacts';
import { mergeContacts } from './merge';
import type { FieldDef } from './fields';

/**
 * Who a browser or a submission is: the one place that decides, for every
 * path — a form submission, a signed identify from the site's backend, an API
 * link, a signed email link, an import (through upsertContacts).
 *
 * A browser is unproven (anonymous), claimed (it typed an email into a form:
 * its events count for scoring, but it gets nothing derived from the contact)
 * or proven (signed identify, API link, signed email link): only proven
 * browsers see personalisation. visitors.proven_at keeps the difference.
 */

/** How the browser came to be linked; the first three prove it, a form only claims it. */
export type Via = 'identify' | 'api' | 'email' | 'form';
const PROVES: Record<Via, boolean> = { identify: true, api: true, email: true, form: false };

/** The signature a site's backend computes for identify: HMAC-SHA256 of the normalised email. */
export function identifySignature(secret: string, email: string): Promise<string> {
  return hmacSha256Hex(secret, normalizeEmail(email));
}

export async function verifyIdentify(site: SiteRecord, email: string, sig: string): Promise<boolean> {
  return timingSafeEqualHex(await identifySignature(site.secret, email), sig.toLowerCase());
}

export type Identity = { email: string } | { contactId: number };

/** The contact with this email, created if new (a submission without a browser, a deal a CRM pushed); field errors are named `field`. */
export async function contactByEmail(ctx: Ctx, email: string, field = 'email', defs?: Map<string, FieldDef>): Promise<{ id: number; created: boolean }> {
  if (!isEmail(email.trim())) throw new ValidationError([{ field, message: 'must be a valid email address' }]);
  const row = (await upsertContacts({ ctx, input: { rows: [{ email }], defs } })).results[0]!;
  if (row.status === 'rejected') throw new ValidationError(row.errors.map((e: FieldError) => ({ ...e, field })));
  return { id: row.id, created: row.status === 'created' };
}

/**
 * Resolves a visitor to a contact: the contact with this email (created if
 * new), or a given contact. The visitor is linked (proven or only claimed, by
 * `via`), and an `identified` event is stored; the attribution reaction then
 * gives the visitor's earlier events and first-touch source to the contact. If
 * the visitor was linked to another contact without an email (known only by
 * this browser), the two are one person and are merged; if that contact has
 * its own email, this is another person on the same browser and only the link moves.
 */
export async function resolveVisitor({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { siteId: number; uid: string; identity: Identity; via: Via; emailField?: string; defs?: Map<string, FieldDef> };
}): Promise<{ contactId: number; created: boolean; visitorId: number; proven: boolean }> {
  let contactId: number;
  let created = false;
  if ('email' in input.identity) {
    const c = await contactByEmail(ctx, input.identity.email, input.emailField, input.defs);
    contactId = c.id;
    created = c.created;
  } else {
    contactId = await resolveContactId(ctx, input.identity.contactId);
    const exists = await ctx.client.execute({ sql: 'SELECT 1 FROM contacts WHERE id = ?', args: [contactId] });
    if (!exists.rows[0]) throw new NotFoundError('Contact');
  }
  const visitor = await ensureVisitor(ctx, input.siteId, input.uid);
  const previous = visitor.contactId;
  if (previous !== null && previous !== contactId) {
    const r = await ctx.client.execute({ sql: 'SELECT email_normalized FROM contacts WHERE id = ?', args: [previous] });
    if (r.rows[0] && r.rows[0].email_normalized === null) {
      await mergeContacts({ ctx, input: { survivorId: contactId, mergedId: previous, reason: `visitor ${input.via}` } });
    }
  }
  const now = ctx.now();
  const proven = PROVES[input.via] || (visitor.proven && previous === contactId);
  await ctx.client.batch(
    [
      linkStatement(visitor.id, contactId, PROVES[input.via], now),
      {
        sql: `INSERT INTO events (site_id, visitor_id, contact_id, type, props, created_at) VALUES (?, ?, ?, '${EVENT.identified}', ?, ?)`,
        args: [input.siteId, visitor.id, contactId, JSON.stringify({ via: input.via }), now],
      },
    ],
    'write',
  );
  return { contactId, created, visitorId: visitor.id, proven };
}

/**
 * Who sent a form submission, in one call: with an email, its contact (and the
 * browser, when it has a visitor id, is linked as a claim); without one, the
 * browser's visitor (started here if new) and the contact it is already linked to.
 */
export async function resolveSubmitter(
  ctx: Ctx,
  input: { siteId: number; uid: string | null; email: string | null; emailField: string; visitor: VisitorRef | null; defs?: Map<string, FieldDef> },
): Promise<{ contactId: number | null; visitorId: number | null }> {
  if (input.email !== null) {
    if (input.uid) {
      const r = await resolveVisitor({
        ctx,
        input: { siteId: input.siteId, uid: input.uid, identity: { email: input.email }, via: 'form', emailField: input.emailField, defs: input.defs },
      });
      return { contactId: r.contactId, visitorId: r.visitorId };
    }
    return { contactId: (await contactByEmail(ctx, input.email, input.emailField, input.defs)).id, visitorId: null };
  }
  if (!input.uid) return { contactId: null, visitorId: null };
  const v = input.visitor ?? (await ensureVisitor(ctx, input.siteId, input.uid));
  return { contactId: v.contactId, visitorId: v.id };
}
