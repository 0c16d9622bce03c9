import { z } from 'zod';
import type { InValue, Row } from '@libsql/client';
import type { Ctx } from '../context';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { iso } from '../util/time';
import { after, toPage, type Page, type PageInput } from '../util/cursor';
import { loadEmail } from './emails';
import { checkSubject } from './render';

/**
 * Broadcasts: an email of kind `broadcast` sent once to the members of one or more segments,
 * now or at `send_at`, optionally with an A/B subject test.
 *
 * Rows first, set-based. A broadcast's send rows are written by INSERT … SELECT from segment
 * membership (the union of its segments, each contact once), one statement per chunk of about
 * CHUNK members by contact id, with suppression and caps decided in that SQL (queue.ts), and
 * ON CONFLICT DO NOTHING. The broadcast row keeps a cursor (the last contact id whose rows are
 * written), moved in the same transaction as the chunk's rows, so a crash mid-way continues
 * where it stopped, and two runs racing write each row once.
 *
 * The reason of every row is `broadcast:<email id>`: an email is broadcast to a contact at most
 * once. A later broadcast of the same email (after the first finished or was cancelled) reaches
 * only the contacts that have no row yet: new segment members, and those a cancel left out.
 *
 * Life: scheduled (created; due at send_at, or now) → sending (the `emails` job starts it when
 * due: Node's job runner and the Workers Cron Trigger both run that job) → sent (every row is
 * written and none is pending or sending), or cancelled. `draft` is not made by the API.
 *
 * Running them (chunks, cursor, A/B decision) is broadcast-run.ts.
 *
 * A/B subject test: a deterministic pseudo-random sample of about sample_percent of the
 * recipients (a hash of broadcast and contact id, so a rerun picks the same contacts) gets the
 * subject variants, split about evenly (email_sends.variant 'a', 'b', …). decide_after seconds
 * after the broadcast started, once the whole sample went out, the variant with the highest human open rate (metric "open":
 * sends with human_opened_at ÷ sent sends of the variant) or human click rate (metric "click",
 * human_clicked_at) wins; a tie goes to the earlier variant (a before b). The winner is kept on
 * the broadcast, and everyone else gets rows with no variant, rendered with the winning subject.
 */

export const LETTERS = 'abcd';
export const BROADCAST_STATUSES = ['draft', 'scheduled', 'sending', 'sent', 'cancelled'] as const;
export type BroadcastStatus = (typeof BROADCAST_STATUSES)[number];
export const AB_METRICS = ['open', 'click'] as const;
const MAX_AHEAD_MS = 366 * 86_400_000;

const oneLine = z
  .string()
  .trim()
  .min(1)
  .max(998)
  .refine((v) => !/[\r\n]/.test(v), 'must be one line');

export const AbTestInput = z.strictObject({
  subjects: z.array(oneLine).min(2).max(4).meta({ description: "Subject variants a, b, c, d (Liquid, like an email's subject); 2–4" }),
  sample_percent: z.number().int().min(1).max(50).meta({ description: 'Share of the recipients in the test, 1–50 %, split about evenly between the variants' }),
  metric: z.enum(AB_METRICS).meta({ description: 'open: highest human open rate wins; click: highest human click rate' }),
  decide_after: z
    .number()
    .int()
    .min(60)
    .max(30 * 86_400)
    .meta({ description: 'Seconds after the broadcast starts when the winner is picked (60 s to 30 days)' }),
});
export type AbTestInput = z.infer<typeof AbTestInput>;

export const BroadcastInput = z.strictObject({
  segment_ids: z
    .array(z.number().int().positive())
    .min(1)
    .max(20)
    .refine((v) => new Set(v).size === v.length, 'must not repeat a segment')
    .meta({ description: 'Segments whose members get it (their union: a contact in two gets it once)' }),
  send_at: z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description: 'When to start (ISO 8601 with a time zone or Z); absent or past: now. At most a year ahead' }),
  ab_test: AbTestInput.optional(),
});
export type BroadcastInput = z.infer<typeof BroadcastInput>;

export interface AbState extends AbTestInput {
  results?: { variant: string; sent: number; opened: number; clicked: number; rate: number }[];
}

export interface BroadcastView {
  id: number;
  email_id: number;
  segment_ids: number[];
  status: BroadcastStatus;
  send_at: string;
  ab_test: (AbState & { winner: string | null; decided_at: string | null; decide_at: string | null }) | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

const at = (v: unknown) => (v === null || v === undefined ? null : iso(Number(v)));

export function parseAb(v: unknown): AbState | null {
  if (v === null || v === undefined) return null;
  return JSON.parse(String(v)) as AbState;
}

export function broadcastView(r: Row): BroadcastView {
  const ab = parseAb(r.ab);
  const started = r.started_at === null ? null : Number(r.started_at);
  return {
    id: Number(r.id),
    email_id: Number(r.email_id),
    segment_ids: JSON.parse(String(r.segment_ids)) as number[],
    status: String(r.status) as BroadcastStatus,
    send_at: at(r.send_at)!,
    ab_test: ab && {
      ...ab,
      winner: r.winner === null ? null : String(r.winner),
      decided_at: at(r.decided_at),
      decide_at: started === null ? null : iso(started + ab.decide_after * 1000),
    },
    created_at: at(r.created_at)!,
    started_at: at(r.started_at),
    finished_at: at(r.finished_at),
  };
}

export const broadcastReason = (emailId: number) => `broadcast:${emailId}`;

/** POST /emails/{id}/broadcast: a scheduled broadcast (due now unless send_at is later). */
export async function createBroadcast({ ctx, input }: { ctx: Ctx; input: { emailId: number; body: BroadcastInput } }): Promise<BroadcastView> {
  const email = await loadEmail(ctx, input.emailId);
  if (email.kind !== 'broadcast') {
    throw new ValidationError([{ field: 'kind', message: `email ${email.id} is a ${email.kind} email; only emails of kind "broadcast" are broadcast to segments (PATCH its kind first)` }]);
  }
  const now = ctx.now();
  const { body } = input;
  let sendAt = now;
  if (body.send_at !== undefined) {
    const t = Date.parse(body.send_at);
    if (!Number.isFinite(t)) throw new ValidationError([{ field: 'send_at', message: 'must be an ISO 8601 date and time' }]);
    if (t > now + MAX_AHEAD_MS) throw new ValidationError([{ field: 'send_at', message: 'must be at most a year ahead' }]);
    sendAt = Math.max(t, now);
  }
  const found = await ctx.client.execute({ sql: 'SELECT id FROM segments WHERE id IN (SELECT value FROM json_each(?))', args: [JSON.stringify(body.segment_ids)] });
  const known = new Set(found.rows.map((r) => Number(r.id)));
  const missing = body.segment_ids.map((id, i) => ({ id, i })).filter((x) => !known.has(x.id));
  if (missing.length) throw new ValidationError(missing.map((x) => ({ field: `segment_ids.${x.i}`, message: `no segment ${x.id}` })));
  if (body.ab_test) {
    for (const [i, subject] of body.ab_test.subjects.entries()) await checkSubject(subject, `ab_test.subjects.${i}`);
  }
  // One unfinished broadcast per email at a time (its rows share the email's broadcast reason).
  const r = await ctx.client.execute({
    sql: `INSERT INTO email_broadcasts (email_id, segment_ids, send_at, status, ab, created_at, updated_at)
      SELECT ?, ?, ?, 'scheduled', ?, ?, ?
      WHERE NOT EXISTS (SELECT 1 FROM email_broadcasts WHERE email_id = ? AND status IN ('draft', 'scheduled', 'sending'))
      RETURNING *`,
    args: [email.id, JSON.stringify(body.segment_ids), sendAt, body.ab_test ? JSON.stringify(body.ab_test) : null, now, now, email.id],
  });
  if (!r.rows[0]) throw new ConflictError('A broadcast of this email is scheduled or sending; cancel it or wait for it to finish.');
  return broadcastView(r.rows[0]);
}

export async function getBroadcast({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<BroadcastView> {
  const r = await ctx.client.execute({ sql: 'SELECT * FROM email_broadcasts WHERE id = ?', args: [input.id] });
  if (!r.rows[0]) throw new NotFoundError('Broadcast');
  return broadcastView(r.rows[0]);
}

/** Newest first. */
export async function listBroadcasts({ ctx, input }: { ctx: Ctx; input: PageInput & { status?: BroadcastStatus; email_id?: number } }): Promise<Page<BroadcastView>> {
  const a = after(input.cursor, null, 'id', true);
  const where = [a.sql];
  const args: InValue[] = [...a.args];
  if (input.status) where.push('status = ?'), args.push(input.status);
  if (input.email_id !== undefined) where.push('email_id = ?'), args.push(input.email_id);
  const r = await ctx.client.execute({ sql: `SELECT * FROM email_broadcasts WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`, args: [...args, input.limit + 1] });
  return toPage(r.rows, input.limit, (x) => [null, Number(x.id)], broadcastView);
}

/**
 * Stops a broadcast that has not finished: no more rows are written, and rows not yet in a
 * provider call are removed (so a later broadcast of the email can reach those contacts).
 * Sends already made, and those in a call (they may have been delivered), stay.
 */
export async function cancelBroadcast({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<BroadcastView & { cancelled_sends: number }> {
  const now = ctx.now();
  const [upd, del] = await ctx.client.batch(
    [
      {
        sql: `UPDATE email_broadcasts SET status = 'cancelled', finished_at = ?, updated_at = ? WHERE id = ? AND status IN ('draft', 'scheduled', 'sending') RETURNING *`,
        args: [now, now, input.id],
      },
      {
        sql: `DELETE FROM email_sends WHERE broadcast_id = ? AND status = 'pending' AND batch_key IS NULL
          AND EXISTS (SELECT 1 FROM email_broadcasts WHERE id = ? AND status = 'cancelled')`,
        args: [input.id, input.id],
      },
    ],
    'write',
  );
  if (!upd!.rows[0]) {
    const cur = await getBroadcast({ ctx, input });
    throw new ConflictError(`This broadcast is ${cur.status}; only a scheduled or sending broadcast can be cancelled.`);
  }
  return { ...broadcastView(upd!.rows[0]), cancelled_sends: del!.rowsAffected };
}

// ---------------------------------------------------------------------------
// Writing the rows

/**
 * The subject each send of these broadcasts renders, for the send loop: a sample row's variant,
 * else (A/B decided) the winner's, else null (the email's own subject).
 */
export async function broadcastSubjects(ctx: Ctx, ids: number[]): Promise<Map<number, (variant: string | null) => string | null>> {
  const out = new Map<number, (variant: string | null) => string | null>();
  if (!ids.length) return out;
  const r = await ctx.client.execute({
    sql: 'SELECT id, ab, winner FROM email_broadcasts WHERE ab IS NOT NULL AND id IN (SELECT value FROM json_each(?))',
    args: [JSON.stringify([...new Set(ids)])],
  });
  for (const row of r.rows) {
    const ab = parseAb(row.ab)!;
    const winner = row.winner === null ? null : String(row.winner);
    const subjectOf = (v: string | null) => (v === null ? null : (ab.subjects[LETTERS.indexOf(v)] ?? null));
    out.set(Number(row.id), (variant) => subjectOf(variant) ?? subjectOf(winner));
  }
  return out;
}
