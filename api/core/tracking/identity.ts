import type { Ctx } from '../context';
import { NotFoundError, ValidationError } from '../errors';
import { hmacSha256Hex, timingSafeEqualHex } from '../util/crypto';
import { isEmail, normalizeEmail } from '../contacts/values';
import { upsertContacts } from '../contacts/upsert';
import { resolveContactId } from '../contacts/contacts';
import { mergeContacts } from '../contacts/merge';
import type { SiteRecord } from './sites';

/** The signature a site's backend computes for identify: HMAC-SHA256 of the normalised email. */
export function identifySignature(secret: string, email: string): Promise<string> {
  return hmacSha256Hex(secret, normalizeEmail(email));
}

export async function verifyIdentify(site: SiteRecord, email: string, sig: string): Promise<boolean> {
  return timingSafeEqualHex(await identifySignature(site.secret, email), sig.toLowerCase());
}

export type Identity = { email: string } | { contactId: number };

/**
 * Resolves a visitor to a contact: the contact with this email (created if
 * new), or a given contact. The visitor is linked, and an `identified` event
 * is stored; the attribution reaction then gives the visitor's earlier events
 * and first-touch source to the contact. If the visitor was linked to another
 * contact without an email (known only by this browser), the two are one
 * person and are merged; if that contact has its own email, this is another
 * person on the same browser and only the link moves.
 */
export async function resolveVisitor({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { siteId: number; uid: string; identity: Identity; via: 'identify' | 'form' | 'api' };
}): Promise<{ contactId: number; created: boolean; visitorId: number }> {
  let contactId: number;
  let created = false;
  if ('email' in input.identity) {
    if (!isEmail(input.identity.email.trim())) throw new ValidationError([{ field: 'email', message: 'must be a valid email address' }]);
    const r = await upsertContacts({ ctx, input: { rows: [{ email: input.identity.email }] } });
    const row = r.results[0]!;
    if (row.status === 'rejected') throw new ValidationError(row.errors);
    contactId = row.id;
    created = row.status === 'created';
  } else {
    contactId = await resolveContactId(ctx, input.identity.contactId);
    const exists = await ctx.client.execute({ sql: 'SELECT 1 FROM contacts WHERE id = ?', args: [contactId] });
    if (!exists.rows[0]) throw new NotFoundError('Contact');
  }
  const now = ctx.now();
  const [, current] = await ctx.client.batch(
    [
      {
        sql: `INSERT INTO visitors (site_id, uid, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?)
          ON CONFLICT(site_id, uid) DO NOTHING`,
        args: [input.siteId, input.uid, now, now],
      },
      {
        sql: `SELECT v.id, v.contact_id, c.email_normalized FROM visitors v LEFT JOIN contacts c ON c.id = v.contact_id
          WHERE v.site_id = ? AND v.uid = ?`,
        args: [input.siteId, input.uid],
      },
    ],
    'write',
  );
  const visitor = current!.rows[0]!;
  const visitorId = Number(visitor.id);
  const previous = visitor.contact_id === null ? null : Number(visitor.contact_id);
  if (previous !== null && previous !== contactId && visitor.email_normalized === null) {
    await mergeContacts({ ctx, input: { survivorId: contactId, mergedId: previous, reason: `visitor ${input.via}` } });
  }
  await ctx.client.batch(
    [
      { sql: 'UPDATE visitors SET contact_id = ? WHERE id = ?', args: [contactId, visitorId] },
      {
        sql: `INSERT INTO events (site_id, visitor_id, contact_id, type, props, created_at) VALUES (?, ?, ?, 'identified', ?, ?)`,
        args: [input.siteId, visitorId, contactId, JSON.stringify({ via: input.via }), now],
      },
    ],
    'write',
  );
  return { contactId, created, visitorId };
}
