import type { InStatement } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError } from '../errors';
import { resolveContactId } from '../contacts/contacts';
import { oneContact, writePointsFromLog, type ContactSet } from '../contacts/writes';
import { after, toPage, type PageInput } from '../util/cursor';

/**
 * Statements that make contacts.points the sum of their point log again, with
 * a points_changed event (from, to, reason) wherever it changes. Idempotent:
 * applied twice, the second finds nothing to change.
 */
export function recomputeStatements(contactIdsJson: string, now: number, reason: string, actor: object): InStatement[] {
  const totals = `(SELECT pl.contact_id, sum(pl.delta) AS total FROM point_log pl
      WHERE pl.contact_id IN (SELECT value FROM json_each(?)) GROUP BY pl.contact_id)`;
  return [
    {
      sql: `INSERT INTO events (contact_id, type, props, created_at)
        SELECT c.id, 'points_changed', json_object('from', c.points, 'to', coalesce(t.total, 0), 'delta', coalesce(t.total, 0) - c.points,
          'reason', ?, 'actor', json(?)), ?
        FROM contacts c LEFT JOIN ${totals} t ON t.contact_id = c.id
        WHERE c.id IN (SELECT value FROM json_each(?)) AND c.points <> coalesce(t.total, 0)`,
      args: [reason, JSON.stringify(actor), now, contactIdsJson, contactIdsJson],
    },
    writePointsFromLog(contactIdsJson, now),
  ];
}


/**
 * A point-log row per contact (one, or a set) that adds, subtracts or sets its points; follow it
 * with recomputeStatements for contacts.points and the points_changed events.
 */
export function pointLogStatement(contacts: ContactSet, op: 'add' | 'subtract' | 'set', value: number, reason: string, now: number): InStatement {
  const delta = op === 'add' ? '?' : op === 'subtract' ? '-?' : '? - coalesce((SELECT sum(delta) FROM point_log WHERE contact_id = contacts.id), 0)';
  return {
    sql: `INSERT INTO point_log (contact_id, delta, reason, created_at) SELECT id, ${delta}, ?, ? FROM contacts WHERE id IN (SELECT contact_id FROM (${contacts.sql}))`,
    args: [value, reason, now, ...contacts.args],
  };
}

/** Add, subtract or set a contact's points by hand, with a reason kept in the log and on the timeline. */
export async function adjustPoints({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { contactId: number; op: 'add' | 'subtract' | 'set'; value: number; reason: string };
}): Promise<{ points: number }> {
  const id = await resolveContactId(ctx, input.contactId);
  const now = ctx.now();
  const out = await ctx.client.batch(
    [
      pointLogStatement(oneContact(id), input.op, input.value, input.reason, now),
      ...recomputeStatements(JSON.stringify([id]), now, input.reason, { type: 'api' }),
      { sql: 'SELECT points FROM contacts WHERE id = ?', args: [id] },
    ],
    'write',
  );
  const row = out[out.length - 1]!.rows[0];
  if (!row) throw new NotFoundError('Contact');
  return { points: Number(row.points) };
}

/** A contact's point log, newest first, a page at a time. */
export async function pointHistory({ ctx, input }: { ctx: Ctx; input: PageInput & { contactId: number } }) {
  const id = await resolveContactId(ctx, input.contactId);
  const exists = await ctx.client.execute({ sql: 'SELECT 1 FROM contacts WHERE id = ?', args: [id] });
  if (!exists.rows[0]) throw new NotFoundError('Contact');
  const a = after(input.cursor, null, 'id', true);
  const r = await ctx.client.execute({
    sql: `SELECT id, rule_id, event_id, delta, reason, created_at FROM point_log WHERE contact_id = ? AND ${a.sql} ORDER BY id DESC LIMIT ?`,
    args: [id, ...a.args, input.limit + 1],
  });
  return toPage(r.rows, input.limit, (x) => [null, Number(x.id)], (x) => ({
    id: Number(x.id),
    rule_id: x.rule_id === null ? null : Number(x.rule_id),
    event_id: x.event_id === null ? null : Number(x.event_id),
    delta: Number(x.delta),
    reason: String(x.reason),
    created_at: new Date(Number(x.created_at)).toISOString(),
  }));
}
