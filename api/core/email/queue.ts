import type { InStatement, InValue, Row } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError, ValidationError } from '../errors';
import { normalizeEmail } from '../contacts/values';
import { resolveContactId } from '../contacts/contacts';
import { randomToken } from '../util/crypto';
import { iso } from '../util/time';
import { after, toPage, type Page, type PageInput } from '../util/cursor';
import { loadEmail, type EmailRecord } from './emails';
import { isMarketing, type SendInput, type TestInput } from './schema';
import { getEmailSettings, type EmailSettings } from './settings';
import { skipReasonSql, type SkipReason } from './suppression';

/**
 * Send rows: every message starts as one (DESIGN.md, "Sends are rows first"), written with
 * INSERT … ON CONFLICT DO NOTHING under UNIQUE(email, address, reason) (and email, contact,
 * reason), so a retried request, a replayed campaign step or a second scheduler adds nothing.
 * Suppression is decided as the row is written (skipped rows carry the reason); the send loop
 * (loop.ts; the claim is batch.ts) decides it again when it claims the row.
 */

/**
 * Recipients for queueStatement: SQL yielding `contact_id` (may be NULL) and `addr` (normalised,
 * may be NULL), and with `variants` also `variant` (an A/B broadcast's sample: each row its own).
 */
export interface RecipientSource {
  sql: string;
  args: InValue[];
  variants?: boolean;
}

/** Contacts by id (a JSON array), each at its current address. */
export const contactsSource = (ids: number[]): RecipientSource => ({
  sql: 'SELECT c.id AS contact_id, c.email_normalized AS addr FROM json_each(?) j JOIN contacts c ON c.id = j.value',
  args: [JSON.stringify(ids)],
});

/** One address, linked to the contact that has it, if any (do-not-contact for "all" then applies). */
export const addressSource = (address: string): RecipientSource => ({
  sql: 'SELECT (SELECT id FROM contacts WHERE email_normalized = ?) AS contact_id, ? AS addr',
  args: [normalizeEmail(address), normalizeEmail(address)],
});

export interface QueueOptions {
  email: Pick<EmailRecord, 'id' | 'kind' | 'categoryId'>;
  reason: string;
  recipients: RecipientSource;
  settings: EmailSettings;
  now: number;
  /** When the rows are due (a scheduled broadcast: later); default now. */
  dueAt?: number;
  variables?: Record<string, unknown> | null;
  /** A test send: no suppression, no caps, not counted, no email_sent event. */
  isTest?: boolean;
  broadcastId?: number | null;
  variant?: string | null;
}

/**
 * One statement that writes the send rows for a set of recipients, suppression decided in
 * SQL, duplicates ignored. Broadcasts (broadcasts.ts) queue a segment's members with it, one
 * INSERT per chunk of contacts, with their broadcast id and (a source with `variants`) A/B variant.
 */
export function queueStatement(o: QueueOptions): InStatement {
  const marketing = isMarketing(o.email.kind) ? 1 : 0;
  const skip = o.isTest
    ? { sql: 'NULL', args: [] as InValue[] }
    : skipReasonSql({ contact: 'src.contact_id', address: 'src.addr', marketing: String(marketing), category: o.email.categoryId === null ? 'NULL' : String(o.email.categoryId), claimingId: null }, o.settings, o.now);
  return {
    sql: `INSERT INTO email_sends (email_id, contact_id, to_email, reason, broadcast_id, variant, marketing, is_test, variables,
        status, skip_reason, next_attempt_at, created_at, updated_at)
      SELECT ?, t.contact_id, t.addr, ?, ?, ${o.recipients.variants ? 't.variant' : '?'}, ?, ?, ?,
        CASE WHEN t.skip IS NULL THEN 'pending' ELSE 'skipped' END, t.skip, CASE WHEN t.skip IS NULL THEN ? END, ?, ?
      FROM (SELECT src.contact_id, src.addr, ${o.recipients.variants ? 'src.variant, ' : ''}${skip.sql} AS skip FROM (${o.recipients.sql}) src) t
      WHERE true
      ON CONFLICT DO NOTHING`,
    args: [
      o.email.id,
      o.reason,
      o.broadcastId ?? null,
      ...(o.recipients.variants ? [] : [o.variant ?? null]),
      marketing,
      o.isTest ? 1 : 0,
      o.variables ? JSON.stringify(o.variables) : null,
      o.dueAt ?? o.now,
      o.now,
      o.now,
      ...skip.args,
      ...o.recipients.args,
    ],
  };
}

export type SendStatus = 'pending' | 'sending' | 'sent' | 'skipped' | 'failed';

export interface SendView {
  id: number;
  email_id: number;
  contact_id: number | null;
  to: string | null;
  reason: string;
  status: SendStatus;
  skip_reason: SkipReason | null;
  is_test: boolean;
  attempts: number;
  provider_id: string | null;
  error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  sent_at: string | null;
}

const at = (v: unknown) => iso(v === null || v === undefined ? null : Number(v));

export const sendView = (r: Row): SendView => ({
  id: Number(r.id),
  email_id: Number(r.email_id),
  contact_id: r.contact_id === null ? null : Number(r.contact_id),
  to: r.to_email === null ? null : String(r.to_email),
  reason: String(r.reason),
  status: String(r.status) as SendStatus,
  skip_reason: r.skip_reason === null ? null : (String(r.skip_reason) as SkipReason),
  is_test: Number(r.is_test) === 1,
  attempts: Number(r.attempts),
  provider_id: r.provider_id === null ? null : String(r.provider_id),
  error: r.error === null ? null : String(r.error),
  next_attempt_at: r.status === 'pending' ? at(r.next_attempt_at) : null,
  created_at: at(r.created_at)!,
  sent_at: at(r.sent_at),
});

/**
 * The reason of an API send: the request's Idempotency-Key (per API key) when it has one, so a
 * retry days later still finds the same row; else a fresh id, so each call is a send of its own.
 */
export const apiReason = (apiKeyId: number, idempotencyKey: string | undefined): string =>
  idempotencyKey ? `api:${apiKeyId}:${idempotencyKey}` : `api:${randomToken(20)}`;

async function queueOne(ctx: Ctx, o: Omit<QueueOptions, 'settings' | 'now'>, key: { contactId: number } | { address: string }): Promise<SendView> {
  const now = ctx.now();
  await ctx.client.execute(queueStatement({ ...o, settings: await getEmailSettings({ ctx }), now }));
  const r = await ctx.client.execute(
    'contactId' in key
      ? { sql: 'SELECT * FROM email_sends WHERE email_id = ? AND contact_id = ? AND reason = ?', args: [o.email.id, key.contactId, o.reason] }
      : { sql: 'SELECT * FROM email_sends WHERE email_id = ? AND to_email = ? AND reason = ?', args: [o.email.id, normalizeEmail(key.address), o.reason] },
  );
  return sendView(r.rows[0]!);
}

async function existingContact(ctx: Ctx, id: number): Promise<number> {
  const resolved = await resolveContactId(ctx, id);
  const r = await ctx.client.execute({ sql: 'SELECT id FROM contacts WHERE id = ?', args: [resolved] });
  if (!r.rows[0]) throw new ValidationError([{ field: 'contact_id', message: 'no such contact' }]);
  return resolved;
}

/** POST /emails/{id}/send: one send row (pending, or skipped with the reason). */
export async function sendEmail({ ctx, input }: { ctx: Ctx; input: { emailId: number; body: SendInput; reason: string } }): Promise<SendView> {
  const email = await loadEmail(ctx, input.emailId);
  const base = { email, reason: input.reason, variables: input.body.variables ?? null };
  if (input.body.to !== undefined) {
    if (email.kind !== 'transactional') throw new ValidationError([{ field: 'to', message: 'sending to an address needs a transactional email; send marketing emails to a contact_id' }]);
    return queueOne(ctx, { ...base, recipients: addressSource(input.body.to) }, { address: input.body.to });
  }
  const contactId = await existingContact(ctx, input.body.contact_id!);
  return queueOne(ctx, { ...base, recipients: contactsSource([contactId]) }, { contactId });
}

/** POST /emails/{id}/test: to any address, past suppression, marked as a test. */
export async function sendTest({ ctx, input }: { ctx: Ctx; input: { emailId: number; body: TestInput } }): Promise<SendView> {
  const email = await loadEmail(ctx, input.emailId);
  const contactId = input.body.contact_id === undefined ? null : await existingContact(ctx, input.body.contact_id);
  const address = normalizeEmail(input.body.to);
  return queueOne(
    ctx,
    {
      email,
      reason: `test:${randomToken(20)}`,
      isTest: true,
      variables: input.body.variables ?? null,
      recipients: { sql: 'SELECT ? AS contact_id, ? AS addr', args: [contactId, address] },
    },
    { address },
  );
}

export async function getSend({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<SendView> {
  const r = await ctx.client.execute({ sql: 'SELECT * FROM email_sends WHERE id = ?', args: [input.id] });
  if (!r.rows[0]) throw new NotFoundError('Send');
  return sendView(r.rows[0]);
}

/** An email's sends, newest first. */
export async function listSends({ ctx, input }: { ctx: Ctx; input: PageInput & { emailId: number; status?: SendStatus } }): Promise<Page<SendView>> {
  await loadEmail(ctx, input.emailId);
  const a = after(input.cursor, null, 'id', true);
  const where = ['email_id = ?', a.sql];
  const args: InValue[] = [input.emailId, ...a.args];
  if (input.status) where.push('status = ?'), args.push(input.status);
  const r = await ctx.client.execute({ sql: `SELECT * FROM email_sends WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`, args: [...args, input.limit + 1] });
  return toPage(r.rows, input.limit, (x) => [null, Number(x.id)], sendView);
}
