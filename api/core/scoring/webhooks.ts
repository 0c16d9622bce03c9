import type { Row } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError } from '../errors';
import { hmacSha256Hex } from '../util/crypto';
import { iso } from '../util/time';
import { after, toPage, type PageInput } from '../util/cursor';
import { sendOutbound } from '../util/outbound';

// Backoff after each failed attempt; after the last one the delivery is failed.
const BACKOFF_MS = [10_000, 60_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 6 * 3_600_000];

/** Signature header: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>, as Stripe signs. */
export async function signWebhook(secret: string, body: string, unixSeconds: number): Promise<string> {
  return `t=${unixSeconds},v1=${await hmacSha256Hex(secret, `${unixSeconds}.${body}`)}`;
}

async function attempt(ctx: Ctx, d: Row): Promise<void> {
  const body = String(d.body);
  const now = ctx.now();
  const { status, error } = await sendOutbound(ctx, {
    url: String(d.url),
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': 'Leadline-Webhooks/1',
      'Leadline-Delivery': String(d.id),
      'Leadline-Signature': await signWebhook(String(d.secret), body, Math.floor(now / 1000)),
    },
    body,
  });
  const attempts = Number(d.attempts) + 1;
  if (!error) {
    await ctx.client.execute({
      sql: "UPDATE webhook_deliveries SET status = 'delivered', attempts = ?, last_status_code = ?, last_error = NULL, delivered_at = ? WHERE id = ?",
      args: [attempts, status, now, d.id],
    });
    return;
  }
  const wait = BACKOFF_MS[attempts - 1];
  await ctx.client.execute({
    sql: 'UPDATE webhook_deliveries SET status = ?, attempts = ?, last_status_code = ?, last_error = ?, next_attempt_at = ? WHERE id = ?',
    args: [wait === undefined ? 'failed' : 'pending', attempts, status, error, now + (wait ?? 0), d.id],
  });
}

/** Sends due webhook deliveries (bounded per run) through the outbound helper; failures are retried with backoff. */
export async function runWebhooks(ctx: Ctx): Promise<{ attempted: number }> {
  const due = await ctx.client.execute({
    sql: "SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT 50",
    args: [ctx.now()],
  });
  await Promise.all(due.rows.map((d) => attempt(ctx, d)));
  return { attempted: due.rows.length };
}

const view = (r: Row) => ({
  id: Number(r.id),
  source: String(r.source),
  url: String(r.url),
  status: String(r.status) as 'pending' | 'delivered' | 'failed',
  attempts: Number(r.attempts),
  next_attempt_at: r.status === 'pending' ? iso(Number(r.next_attempt_at)) : null,
  last_status_code: r.last_status_code === null ? null : Number(r.last_status_code),
  last_error: r.last_error === null ? null : String(r.last_error),
  body: JSON.parse(String(r.body)) as unknown,
  created_at: iso(Number(r.created_at))!,
  delivered_at: iso(r.delivered_at === null ? null : Number(r.delivered_at)),
});

/** The delivery log, newest first, a page at a time. */
export async function listDeliveries({ ctx, input }: { ctx: Ctx; input: PageInput & { status?: string; source?: string } }) {
  const a = after(input.cursor, null, 'id', true);
  const where: string[] = [a.sql];
  const args: (string | number)[] = [...a.args];
  if (input.status) where.push('status = ?'), args.push(input.status);
  if (input.source) where.push('source = ?'), args.push(input.source);
  const r = await ctx.client.execute({
    sql: `SELECT * FROM webhook_deliveries WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`,
    args: [...args, input.limit + 1],
  });
  return toPage(r.rows, input.limit, (x) => [null, Number(x.id)], view);
}

/** Queues a delivery again now (e.g. after fixing the receiver). */
export async function retryDelivery({ ctx, input }: { ctx: Ctx; input: { id: number } }) {
  const r = await ctx.client.execute({
    sql: "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ? WHERE id = ? AND status <> 'delivered' RETURNING *",
    args: [ctx.now(), input.id],
  });
  if (!r.rows[0]) throw new NotFoundError('Undelivered webhook delivery');
  return view(r.rows[0]);
}
