import type { Row } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError } from '../errors';
import { iso } from '../util/time';
import { after, toPage, type Page, type PageInput } from '../util/cursor';
import type { EmailDriver } from './driver';

/**
 * The local outbox: where messages go when no provider is configured (no RESEND_API_KEY), so
 * a new installation shows exactly what would have been sent. It behaves as a provider with
 * idempotency: one message per send row (UNIQUE send_id), so a call made again after a crash
 * stores nothing twice and answers the same id.
 */
export function outboxDriver(ctx: Ctx): EmailDriver {
  return {
    name: 'outbox',
    maxBatch: 100,
    async send({ messages }) {
      const rows = messages.map((m) => ({
        send_id: m.sendId,
        contact_id: m.contactId,
        to: m.to,
        from: m.from,
        subject: m.subject,
        headers: JSON.stringify({ From: m.from, To: m.to, ...(m.replyTo ? { 'Reply-To': m.replyTo } : {}), Subject: m.subject, ...m.headers }),
        html: m.html,
        text: m.text,
      }));
      const json = JSON.stringify(rows);
      const [, stored] = await ctx.client.batch(
        [
          {
            sql: `INSERT INTO email_outbox (send_id, contact_id, to_email, from_header, subject, headers, html, text, created_at)
              SELECT value ->> 'send_id', value ->> 'contact_id', value ->> 'to', value ->> 'from', value ->> 'subject',
                value ->> 'headers', value ->> 'html', value ->> 'text', ?
              FROM json_each(?) WHERE true ON CONFLICT(send_id) DO NOTHING`,
            args: [ctx.now(), json],
          },
          { sql: "SELECT id, send_id FROM email_outbox WHERE send_id IN (SELECT value ->> 'send_id' FROM json_each(?))", args: [json] },
        ],
        'write',
      );
      const idOf = new Map(stored!.rows.map((r) => [Number(r.send_id), Number(r.id)]));
      return { kind: 'done', results: messages.map((m) => ({ sendId: m.sendId, ok: true as const, providerId: `outbox-${idOf.get(m.sendId)}` })) };
    },
  };
}

export interface OutboxSummary {
  id: number;
  send_id: number;
  contact_id: number | null;
  to: string;
  from: string;
  subject: string;
  created_at: string;
}

export interface OutboxMessage extends OutboxSummary {
  email_id: number | null;
  headers: Record<string, string>;
  html: string;
  text: string;
}

const summary = (r: Row): OutboxSummary => ({
  id: Number(r.id),
  send_id: Number(r.send_id),
  contact_id: r.contact_id === null ? null : Number(r.contact_id),
  to: String(r.to_email),
  from: String(r.from_header),
  subject: String(r.subject),
  created_at: iso(Number(r.created_at))!,
});

/**
 * Sign-in messages (invitations, password resets: sends with a reason starting "auth:") carry
 * links that sign someone in; only admins see them here.
 */
const NOT_SIGN_IN = "NOT EXISTS (SELECT 1 FROM email_sends x WHERE x.id = send_id AND x.reason LIKE 'auth:%')";

/** Newest first; `to` narrows to one recipient. Sign-in messages only with `signIn` (admins). */
export async function listOutbox({ ctx, input }: { ctx: Ctx; input: PageInput & { to?: string; signIn?: boolean } }): Promise<Page<OutboxSummary>> {
  const a = after(input.cursor, null, 'id', true);
  const where = [a.sql];
  if (!input.signIn) where.push(NOT_SIGN_IN);
  const args: (string | number)[] = [...a.args];
  if (input.to) where.push('to_email = ?'), args.push(input.to.trim().toLowerCase());
  const r = await ctx.client.execute({
    sql: `SELECT id, send_id, contact_id, to_email, from_header, subject, created_at FROM email_outbox WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`,
    args: [...args, input.limit + 1],
  });
  return toPage(r.rows, input.limit, (x) => [null, Number(x.id)], summary);
}

export async function getOutboxMessage({ ctx, input }: { ctx: Ctx; input: { id: number; signIn?: boolean } }): Promise<OutboxMessage> {
  const r = await ctx.client.execute({
    sql: `SELECT o.*, s.email_id FROM email_outbox o LEFT JOIN email_sends s ON s.id = o.send_id WHERE o.id = ?${input.signIn ? '' : " AND (s.reason IS NULL OR s.reason NOT LIKE 'auth:%')"}`,
    args: [input.id],
  });
  const row = r.rows[0];
  if (!row) throw new NotFoundError('Outbox message');
  return {
    ...summary(row),
    email_id: row.email_id === null ? null : Number(row.email_id),
    headers: JSON.parse(String(row.headers)) as Record<string, string>,
    html: String(row.html),
    text: String(row.text),
  };
}
