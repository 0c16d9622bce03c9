import type { InStatement, InValue } from '@libsql/client';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import type { Ctx } from '../context';
import { AppError, BadRequestError, isUniqueViolation } from '../errors';
import { doNotContactStatement } from '../contacts/dnc';
import { touch } from '../contacts/writes';
import { EVENT } from '../spine/event-types';
import { readJsonInput } from '../util/text';
import { SOFT_BOUNCE_LIMIT, SOFT_BOUNCE_WINDOW_MS } from './suppression';

/**
 * What Resend tells us after a message left (POST /webhooks/resend), applied to the send row.
 *
 * - Verified first: the Svix / Standard Webhooks signature (HMAC-SHA256 of `id.timestamp.body`
 *   with the base64 secret after `whsec_`) over the raw body, and the timestamp within 5 minutes
 *   of this server's clock (ctx.now, so tests can move it).
 * - Exactly once: the delivery's id (svix-id) is inserted into email_webhook_receipts in the same
 *   transaction as the effects. The insert is a plain INSERT: a redelivery racing the first
 *   fails on the primary key, its transaction rolls back whole, and it is answered as a duplicate.
 * - Out of order: every *_at column is set once, the first time; a bounce is final (a "delivered"
 *   arriving after it changes nothing, a soft bounce may become hard, never back), so the row only
 *   moves forward whatever order Resend's retries bring.
 * - Hard bounces (bounce.type Permanent), Resend's own suppressions and complaints put the
 *   contact on do-not-contact for email (reason bounced / complained) at once, through the one
 *   do-not-contact write. Soft bounces (Transient, Undetermined) are recorded; the third soft
 *   bounce of an address within 30 days puts it on do-not-contact (bounced) too. Sends to an
 *   address without a contact are suppressed by the same rules in suppression.ts.
 * - email.opened / email.clicked are acknowledged and dropped: Leadline tracks opens and clicks
 *   itself (its pixel and signed links, with machine opens told apart); Resend's tracking should
 *   stay off. email.delivery_delayed is acknowledged: Resend keeps trying, a delivery or a bounce
 *   follows.
 */

export const WEBHOOK_TOLERANCE_MS = 5 * 60_000;
// Resend retries for days at most; an older event time is not believed.
const MAX_EVENT_AGE_MS = 30 * 86_400_000;
/** A webhook body larger than this is refused (Resend's are a few KB). */
export const MAX_WEBHOOK_BODY = 64 * 1024;

export interface SignatureHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

// One verifier per secret (decoding it is the only set-up).
let verifier: { secret: string; wh: Webhook } | null = null;
const webhookFor = (secret: string): Webhook => {
  if (verifier?.secret !== secret) verifier = { secret, wh: new Webhook(secret) };
  return verifier.wh;
};

const enc = new TextEncoder();
const sameBytes = (a: string, b: string) => {
  const x = enc.encode(a);
  const y = enc.encode(b);
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
};

/**
 * Throws unless `headers` carry a valid v1 signature of `body` made within the tolerance of `now`.
 * The HMAC is the standardwebhooks package's (pure JavaScript: it runs in workerd as on Node);
 * the clock is ours, where the package's verify() reads Date.now().
 */
export function verifySignature(secret: string, headers: SignatureHeaders, body: string, now: number): void {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) throw new BadRequestError('Missing webhook signature headers: svix-id, svix-timestamp and svix-signature (or webhook-id, webhook-timestamp and webhook-signature).');
  if (id.length > 200 || signature.length > 2000 || !/^[0-9]{1,12}$/.test(timestamp)) throw new AppError('INVALID_SIGNATURE', 'Malformed webhook signature headers.');
  const at = Number(timestamp) * 1000;
  if (Math.abs(now - at) > WEBHOOK_TOLERANCE_MS) throw new AppError('INVALID_SIGNATURE', 'The webhook timestamp is more than 5 minutes away from this server\'s clock.');
  const expected = webhookFor(secret).sign(id, new Date(at), body).split(',')[1]!;
  const ok = signature.split(' ').some((v) => {
    const [version, sig] = v.split(',');
    return version === 'v1' && sig !== undefined && sameBytes(sig, expected);
  });
  if (!ok) throw new AppError('INVALID_SIGNATURE', 'The webhook signature does not match.');
}

const Tags = z.union([
  z.record(z.string(), z.unknown()),
  z.array(z.object({ name: z.unknown(), value: z.unknown() }).loose()),
]);

const ResendEvent = z
  .object({
    type: z.string().max(100),
    created_at: z.string().max(100).optional(),
    data: z
      .object({
        email_id: z.string().max(200).nullish(),
        created_at: z.string().max(100).optional(),
        to: z.union([z.array(z.unknown()), z.string()]).optional(),
        tags: Tags.optional(),
        bounce: z.object({ type: z.string().max(100).optional(), subType: z.string().max(100).optional(), message: z.string().optional() }).loose().optional(),
      })
      .loose(),
  })
  .loose();
export type ResendEvent = z.output<typeof ResendEvent>;

export type ProviderResult = 'applied' | 'duplicate' | 'ignored' | 'unknown_message';

const HANDLED = new Set(['email.sent', 'email.delivered', 'email.delivery_delayed', 'email.bounced', 'email.suppressed', 'email.complained']);

/** The leadline_send tag, however Resend lists tags (an object, or name/value pairs). */
function sendTag(tags: z.output<typeof Tags> | undefined): number | null {
  if (!tags) return null;
  const raw = Array.isArray(tags) ? tags.find((t) => t.name === 'leadline_send')?.value : Object.hasOwn(tags, 'leadline_send') ? tags.leadline_send : undefined;
  const s = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw : '';
  return /^[1-9][0-9]{0,15}$/.test(s) && Number.isSafeInteger(Number(s)) ? Number(s) : null;
}

const recipients = (to: unknown): string[] =>
  (Array.isArray(to) ? to : [to]).filter((x): x is string => typeof x === 'string').map((x) => {
    const m = /<([^<>]+)>\s*$/.exec(x);
    return (m ? m[1]! : x).trim().toLowerCase();
  });

interface SendRow {
  id: number;
  contactId: number | null;
  to: string | null;
  isTest: boolean;
}

/**
 * The send a Resend event is about: by Resend's id, else by our tag (only while we never learnt
 * Resend's id, and to the same address). The effects touch only columns the send loop never
 * writes, so they may land on a row the loop still holds.
 */
async function findSend(ctx: Ctx, event: ResendEvent): Promise<SendRow | null> {
  const cols = 'id, contact_id, to_email, is_test, provider_id';
  const row = (r: Record<string, unknown>): SendRow => ({
    id: Number(r.id),
    contactId: r.contact_id === null ? null : Number(r.contact_id),
    to: r.to_email === null ? null : String(r.to_email),
    isTest: Number(r.is_test) === 1,
  });
  const providerId = event.data.email_id;
  if (providerId) {
    const r = await ctx.client.execute({ sql: `SELECT ${cols} FROM email_sends WHERE provider_id = ?`, args: [providerId] });
    if (r.rows[0]) return row(r.rows[0]);
  }
  const tagged = sendTag(event.data.tags);
  if (tagged === null) return null;
  // Any status a message may have left in: still 'sending' when Resend's webhook outruns the loop's
  // own record of the call, 'pending' or 'failed' when Resend took a call that answered with an error.
  const r = await ctx.client.execute({ sql: `SELECT ${cols} FROM email_sends WHERE id = ? AND provider_id IS NULL AND status <> 'skipped'`, args: [tagged] });
  const found = r.rows[0];
  // Another installation sharing the Resend account has its own send 42: the address must match too.
  if (!found || found.to_email === null || !recipients(event.data.to).includes(String(found.to_email))) return null;
  return row(found);
}

/** When it happened, as Resend says; our clock when that is missing, in the future or implausibly old. */
function eventTime(event: ResendEvent, now: number): number {
  const t = Date.parse(event.created_at ?? event.data.created_at ?? '');
  return Number.isFinite(t) && t <= now && t > now - MAX_EVENT_AGE_MS ? Math.floor(t) : now;
}

const spineEvent = (type: string, sendId: number, at: number, condition: string, extra: { sql: string; args: InValue[] } = { sql: '', args: [] }): InStatement => ({
  sql: `INSERT INTO events (contact_id, type, props, created_at)
    SELECT contact_id, '${type}', json_object('email_id', email_id, 'send_id', id${extra.sql}), ?
    FROM email_sends WHERE id = ? AND contact_id IS NOT NULL AND is_test = 0 AND ${condition}`,
  args: [...extra.args, at, sendId],
});

/** The effects of one event on its send, in the order the transaction runs them (events before the columns they test). */
function effects(event: ResendEvent, send: SendRow, at: number, now: number): InStatement[] {
  const out: InStatement[] = [];
  // Do-not-contact only for a real send to the contact's current address (a test goes to any
  // address; a contact may have changed address since).
  const dnc = (reason: 'bounced' | 'complained', comment: string, when?: { sql: string; args: InValue[] }) => {
    if (send.contactId === null || send.isTest || send.to === null) return;
    const same = { sql: 'email_normalized = ?', args: [send.to] as InValue[] };
    const guard = when ? { sql: `${same.sql} AND (${when.sql})`, args: [...same.args, ...when.args] } : same;
    // It replaces what the mail system wrote before (an unsubscribe, an earlier bounce or
    // complaint), never an entry a person made (manual, with its comment).
    out.push(doNotContactStatement({ id: send.contactId, channel: 'email', reason, comment, replaceOnly: ['unsubscribed', 'bounced', 'complained'] }, now, guard));
    out.push(touch([send.contactId], now));
  };
  switch (event.type) {
    case 'email.sent':
      if (event.data.email_id) {
        out.push({
          sql: `UPDATE email_sends SET provider_id = ?, updated_at = ? WHERE id = ? AND provider_id IS NULL AND status = 'sent'
            AND NOT EXISTS (SELECT 1 FROM email_sends o WHERE o.provider_id = ?)`,
          args: [event.data.email_id, now, send.id, event.data.email_id],
        });
      }
      break;
    case 'email.delivered':
      out.push(spineEvent(EVENT.email_delivered, send.id, at, 'delivered_at IS NULL AND bounced_at IS NULL'));
      out.push({ sql: 'UPDATE email_sends SET delivered_at = ?, updated_at = ? WHERE id = ? AND delivered_at IS NULL AND bounced_at IS NULL', args: [at, now, send.id] });
      break;
    case 'email.bounced':
    case 'email.suppressed': {
      const bounce = event.data.bounce;
      // Resend's email.bounced is a rejection it gave up on; Transient and Undetermined ones are soft.
      const type = event.type === 'email.suppressed' || !bounce?.type || /^permanent$/i.test(bounce.type) ? 'hard' : 'soft';
      // An event for the message's first bounce, and again when a soft one turns out hard.
      const news = type === 'hard' ? "(bounced_at IS NULL OR bounce_type = 'soft')" : 'bounced_at IS NULL';
      out.push(spineEvent(EVENT.email_bounced, send.id, at, news, { sql: ", 'bounce_type', ?", args: [type] }));
      out.push({
        sql: "UPDATE email_sends SET bounced_at = coalesce(bounced_at, ?), bounce_type = CASE WHEN bounce_type = 'hard' THEN 'hard' ELSE ? END, updated_at = ? WHERE id = ?",
        args: [at, type, now, send.id],
      });
      const detail = [bounce?.type, bounce?.subType].filter(Boolean).join('/').slice(0, 100);
      if (type === 'hard') dnc('bounced', event.type === 'email.suppressed' ? 'Resend: on its suppression list' : `Resend: hard bounce${detail ? ` (${detail})` : ''}`);
      else if (send.to !== null) {
        dnc('bounced', `Resend: ${SOFT_BOUNCE_LIMIT} soft bounces within 30 days`, {
          sql: "(SELECT count(*) FROM email_sends b WHERE b.to_email = ? AND b.bounce_type = 'soft' AND b.bounced_at >= ?) >= ?",
          args: [send.to, now - SOFT_BOUNCE_WINDOW_MS, SOFT_BOUNCE_LIMIT],
        });
      }
      break;
    }
    case 'email.complained':
      out.push(spineEvent(EVENT.email_complained, send.id, at, 'complained_at IS NULL'));
      out.push({ sql: 'UPDATE email_sends SET complained_at = ?, updated_at = ? WHERE id = ? AND complained_at IS NULL', args: [at, now, send.id] });
      dnc('complained', 'Resend: the recipient marked it as spam');
      break;
    // email.delivery_delayed: nothing to record; Resend keeps trying.
  }
  return out;
}

/** A verified webhook body: parsed, matched to its send, applied once. */
export async function applyProviderEvent({ ctx, input }: { ctx: Ctx; input: { deliveryId: string; body: string } }): Promise<{ result: ProviderResult; type: string }> {
  const parsed = ResendEvent.safeParse(readJsonInput(input.body).value);
  if (!parsed.success) throw new BadRequestError('Not a Resend webhook event: expected {"type", "data"}.');
  const event = parsed.data;
  if (!HANDLED.has(event.type)) return { result: 'ignored', type: event.type };
  const seen = await ctx.client.execute({ sql: 'SELECT 1 FROM email_webhook_receipts WHERE id = ?', args: [input.deliveryId] });
  if (seen.rows[0]) return { result: 'duplicate', type: event.type };
  const send = await findSend(ctx, event);
  if (!send) {
    ctx.log.debug('provider webhook for a message this installation did not send; ignored', { type: event.type, provider_id: event.data.email_id });
    return { result: 'unknown_message', type: event.type };
  }
  const now = ctx.now();
  try {
    await ctx.client.batch(
      [{ sql: 'INSERT INTO email_webhook_receipts (id, type, received_at) VALUES (?, ?, ?)', args: [input.deliveryId, event.type, now] }, ...effects(event, send, eventTime(event, now), now)],
      'write',
    );
  } catch (e) {
    if (isUniqueViolation(e)) return { result: 'duplicate', type: event.type };
    throw e;
  }
  return { result: 'applied', type: event.type };
}
