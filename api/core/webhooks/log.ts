import type { Row } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError } from '../errors';
import { randomToken } from '../util/crypto';
import { iso } from '../util/time';
import { after, toPage, type Page, type PageInput } from '../util/cursor';
import { kickWebhooks, messageId, sendNow } from './deliver';
import { body } from './payloads';
import { getSubscription, requireActive } from './subscriptions';

/**
 * The delivery log: every delivery (subscriptions' and the webhook actions of triggers and
 * campaigns), with its last attempt's request headers and the start of the receiver's answer
 * (at most 300 characters), manual replay, and the test ping. Erasing a contact deletes its
 * deliveries, request and answer included (contacts/owned-data.ts).
 */

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryView {
  id: number;
  /** The message id receivers see (webhook-id): the same on every attempt and replay. */
  message_id: string;
  source: string;
  subscription_id: number | null;
  event_type: string | null;
  event_id: number | null;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  body: unknown;
  /** The last attempt: when, the headers sent (signatures, never a secret), the receiver's status and the start of its answer. */
  last_attempt: {
    at: string;
    request_headers: Record<string, string>;
    response_status: number | null;
    response_excerpt: string | null;
    duration_ms: number | null;
  } | null;
  created_at: string;
  delivered_at: string | null;
}

const at = (v: unknown) => iso(v === null || v === undefined ? null : Number(v));
const int = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export const deliveryView = (r: Row): DeliveryView => ({
  id: Number(r.id),
  message_id: messageId(Number(r.id)),
  source: String(r.source),
  subscription_id: int(r.subscription_id),
  event_type: r.event_type === null || r.event_type === undefined ? null : String(r.event_type),
  event_id: int(r.event_id),
  url: String(r.url),
  status: String(r.status) as DeliveryStatus,
  attempts: Number(r.attempts),
  next_attempt_at: r.status === 'pending' ? at(r.next_attempt_at) : null,
  last_status_code: int(r.last_status_code),
  last_error: r.last_error === null ? null : String(r.last_error),
  body: JSON.parse(String(r.body)) as unknown,
  last_attempt:
    r.last_attempt_at === null || r.last_attempt_at === undefined
      ? null
      : {
          at: at(r.last_attempt_at)!,
          request_headers: JSON.parse(String(r.request_headers ?? '{}')) as Record<string, string>,
          response_status: int(r.last_status_code),
          response_excerpt: r.response_excerpt === null ? null : String(r.response_excerpt),
          duration_ms: int(r.duration_ms),
        },
  created_at: at(r.created_at)!,
  delivered_at: at(r.delivered_at),
});

// Everything but the secret of trigger and campaign rows.
const COLUMNS = `id, source, subscription_id, event_type, event_id, url, status, attempts, next_attempt_at, last_status_code, last_error, body,
  last_attempt_at, request_headers, response_excerpt, duration_ms, created_at, delivered_at`;

/** The delivery log, newest first, a page at a time. */
export async function listDeliveries({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: PageInput & { status?: DeliveryStatus; source?: string; subscription_id?: number; event_type?: string };
}): Promise<Page<DeliveryView>> {
  const a = after(input.cursor, null, 'id', true);
  const where: string[] = [a.sql];
  const args: (string | number)[] = [...a.args];
  if (input.status) where.push('status = ?'), args.push(input.status);
  if (input.source) where.push('source = ?'), args.push(input.source);
  if (input.subscription_id !== undefined) where.push('subscription_id = ?'), args.push(input.subscription_id);
  if (input.event_type) where.push('event_type = ?'), args.push(input.event_type);
  const r = await ctx.client.execute({
    sql: `SELECT ${COLUMNS} FROM webhook_deliveries WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`,
    args: [...args, input.limit + 1],
  });
  return toPage(r.rows, input.limit, (x) => [null, Number(x.id)], deliveryView);
}

/** One subscription's deliveries (404 when it does not exist). */
export async function listSubscriptionDeliveries({ ctx, input }: { ctx: Ctx; input: PageInput & { id: number; status?: DeliveryStatus; event_type?: string } }) {
  await getSubscription({ ctx, input: { id: input.id } });
  return listDeliveries({ ctx, input: { limit: input.limit, cursor: input.cursor, status: input.status, event_type: input.event_type, subscription_id: input.id } });
}

export async function getDelivery({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<DeliveryView> {
  const r = await ctx.client.execute({ sql: `SELECT ${COLUMNS} FROM webhook_deliveries WHERE id = ?`, args: [input.id] });
  if (!r.rows[0]) throw new NotFoundError('Webhook delivery');
  return deliveryView(r.rows[0]);
}

/** Queues an undelivered delivery again now (e.g. after fixing the receiver). */
export async function retryDelivery({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<DeliveryView> {
  const r = await ctx.client.execute({
    sql: `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, first_attempt_at = NULL WHERE id = ? AND status <> 'delivered' RETURNING ${COLUMNS}`,
    args: [ctx.now(), input.id],
  });
  if (!r.rows[0]) throw new NotFoundError('Undelivered webhook delivery');
  void kickWebhooks(ctx);
  return deliveryView(r.rows[0]);
}

/**
 * Sends a delivery again, whatever became of it: the same message (webhook-id and body), newly
 * signed, with a fresh 24-hour retry window. Its subscription must be active (409): a disabled
 * one's deliveries wait for it. Sent at once unless an earlier delivery for the same contact is
 * still waiting (then in its turn); the answer is the delivery as it is after that attempt.
 */
export async function replayDelivery({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<DeliveryView> {
  const cur = await getDelivery({ ctx, input });
  if (cur.subscription_id !== null && cur.event_type !== 'webhook.ping') await requireActive(ctx, cur.subscription_id);
  const r = await ctx.client.execute({
    sql: "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, first_attempt_at = NULL, lease_owner = NULL WHERE id = ?",
    args: [ctx.now(), input.id],
  });
  if (!r.rowsAffected) throw new NotFoundError('Webhook delivery');
  await sendNow(ctx, input.id);
  return getDelivery({ ctx, input });
}

/**
 * A test ping: a `webhook.ping` message signed and sent to the subscription's URL now, once (not
 * retried, and its failure does not count against the subscription, which may be disabled:
 * ping it while fixing the receiver). The answer is its log entry.
 */
export async function pingSubscription({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<DeliveryView> {
  const sub = await getSubscription({ ctx, input });
  const now = ctx.now();
  const r = await ctx.client.execute({
    sql: `INSERT INTO webhook_deliveries (source, dedupe_key, url, secret, body, subscription_id, event_type, next_attempt_at, created_at)
      VALUES (?, ?, ?, '', ?, ?, 'webhook.ping', ?, ?) RETURNING id`,
    args: [`webhook:${sub.id}`, `webhook:${sub.id}:ping:${randomToken(20)}`, sub.url, body('webhook.ping', now, { webhook_id: sub.id, message: 'A test ping from Leadline.' }), sub.id, now, now],
  });
  const id = Number(r.rows[0]!.id);
  await sendNow(ctx, id);
  return getDelivery({ ctx, input: { id } });
}

/** How long finished deliveries (delivered or failed) stay in the log, as Stripe keeps its event deliveries. */
export const DELIVERY_LOG_DAYS = 30;
const PRUNE_CHUNK = 5000;

/**
 * Deletes finished deliveries older than DELIVERY_LOG_DAYS, oldest first, a chunk per statement
 * (ids grow with creation time, so each chunk is read from the start of the table). Pending ones
 * stay whatever their age: the sender still owes them. The retention job runs it.
 */
export async function pruneDeliveries(ctx: Ctx): Promise<number> {
  const cutoff = ctx.now() - DELIVERY_LOG_DAYS * 86_400_000;
  let deleted = 0;
  for (;;) {
    const r = await ctx.client.execute({
      sql: `DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries
        WHERE created_at < ? AND status <> 'pending' ORDER BY id LIMIT ?)`,
      args: [cutoff, PRUNE_CHUNK],
    });
    deleted += r.rowsAffected;
    if (r.rowsAffected < PRUNE_CHUNK) return deleted;
  }
}
