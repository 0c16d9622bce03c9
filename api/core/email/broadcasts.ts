import { z } from 'zod';
import type { InValue, Row } from '@libsql/client';
import type { Ctx } from '../context';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { iso } from '../util/time';
import { after, toPage, type Page, type PageInput } from '../util/cursor';
import { loadEmail } from './emails';
import { queueStatement, type RecipientSource } from './queue';
import { checkSubject } from './render';
import { getEmailSettings } from './settings';

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
 * A/B subject test: a deterministic pseudo-random sample of about sample_percent of the
 * recipients (a hash of broadcast and contact id, so a rerun picks the same contacts) gets the
 * subject variants, split about evenly (email_sends.variant 'a', 'b', …). decide_after seconds
 * after the broadcast started, once the whole sample went out, the variant with the highest human open rate (metric "open":
 * sends with human_opened_at ÷ sent sends of the variant) or human click rate (metric "click",
 * human_clicked_at) wins; a tie goes to the earlier variant (a before b). The winner is kept on
 * the broadcast, and everyone else gets rows with no variant, rendered with the winning subject.
 */

export const CHUNK = 5_000;

/**
 * Whether any of a broadcast's rows is still to go out (pending or sending). An A/B test is
 * decided only once its whole sample went out (rates over half a sample, with the rest held
 * back by pacing or a provider outage, would pick a winner by chance); a broadcast is sent when
 * none is left. The due index holds only pending and sending rows (the broadcast index would
 * walk every row already sent, on every run).
 */
async function anyUnsent(ctx: Ctx, broadcastId: number): Promise<boolean> {
  const left = await ctx.client.execute({
    sql: "SELECT 1 FROM email_sends INDEXED BY email_sends_due_idx WHERE status IN ('pending', 'sending') AND next_attempt_at IS NOT NULL AND broadcast_id = ? LIMIT 1",
    args: [broadcastId],
  });
  return left.rows.length > 0;
}
const MAX_ID = Number.MAX_SAFE_INTEGER;
const LETTERS = 'abcd';
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

function parseAb(v: unknown): AbState | null {
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
 * A pseudo-random number in [0, 2^31 − 1) per (broadcast, contact), in SQL (no hash functions
 * in SQLite): two rounds of an affine map and a squaring modulo the prime 2^31 − 1 (every
 * product stays below 2^63). Deterministic: a rerun or a racing run gets the same draw.
 */
function drawSql(contact: string, broadcastId: number): string {
  const P = 2147483647;
  const s1 = (broadcastId * 7919 + 104729) % P;
  const s2 = (broadcastId * 15485863 + 1299709) % P;
  const h1 = `((((${contact}) % ${P}) * 48271 + ${s1}) % ${P})`;
  const h2 = `((${h1} * ${h1}) % ${P})`;
  const h3 = `((${h2} * 16807 + ${s2}) % ${P})`;
  return `((${h3} * ${h3}) % ${P})`;
}

/** The same draw in JavaScript (tests check who is in the sample with it). */
export function abDraw(contactId: number, broadcastId: number): { bucket: number; variantIndex: (k: number) => number } {
  const P = 2147483647n;
  const s1 = BigInt((broadcastId * 7919 + 104729) % Number(P));
  const s2 = BigInt((broadcastId * 15485863 + 1299709) % Number(P));
  const h1 = ((BigInt(contactId) % P) * 48271n + s1) % P;
  const h2 = (h1 * h1) % P;
  const h3 = (h2 * 16807n + s2) % P;
  const h4 = (h3 * h3) % P;
  return { bucket: Number(h4 % 10000n), variantIndex: (k) => Number((h4 / 10000n) % BigInt(k)) };
}

interface BroadcastRow {
  id: number;
  emailId: number;
  segmentIds: number[];
  status: string;
  phase: string | null;
  cursor: number | null;
  ab: AbState | null;
  winner: string | null;
  startedAt: number | null;
}

const broadcastRow = (r: Row): BroadcastRow => ({
  id: Number(r.id),
  emailId: Number(r.email_id),
  segmentIds: JSON.parse(String(r.segment_ids)) as number[],
  status: String(r.status),
  phase: r.phase === null ? null : String(r.phase),
  cursor: r.cursor === null ? null : Number(r.cursor),
  ab: parseAb(r.ab),
  winner: r.winner === null ? null : String(r.winner),
  startedAt: r.started_at === null ? null : Number(r.started_at),
});

/** The end of the next chunk after `from`: at most CHUNK members of each segment lie in (from, end]. */
async function chunkEnd(ctx: Ctx, segmentIds: number[], from: number, size: number): Promise<number> {
  const r = await ctx.client.batch(
    segmentIds.map((id) => ({
      sql: 'SELECT contact_id FROM segment_members WHERE segment_id = ? AND contact_id > ? ORDER BY contact_id LIMIT 1 OFFSET ?',
      args: [id, from, size - 1],
    })),
    'read',
  );
  const ends = r.flatMap((x) => (x.rows[0] ? [Number(x.rows[0].contact_id)] : []));
  // Every segment has fewer than `size` members left: this chunk is the last.
  return ends.length ? Math.min(...ends) : MAX_ID;
}

/** The members in (from, to] of any of the segments, each once, at their current address; only while the broadcast is sending. */
function membersSource(b: BroadcastRow, from: number, to: number, sample: { percent: number; variants: number } | null): RecipientSource {
  const members = `SELECT DISTINCT m.contact_id FROM segment_members m
    WHERE m.segment_id IN (SELECT value FROM json_each(?)) AND m.contact_id > ? AND m.contact_id <= ?
      AND EXISTS (SELECT 1 FROM email_broadcasts b WHERE b.id = ? AND b.status = 'sending' AND b.phase = ?)`;
  const args: InValue[] = [JSON.stringify(b.segmentIds), from, to, b.id, b.phase];
  if (!sample) {
    return { sql: `SELECT c.id AS contact_id, c.email_normalized AS addr FROM (${members}) x JOIN contacts c ON c.id = x.contact_id`, args };
  }
  return {
    sql: `SELECT contact_id, addr, char(97 + (draw / 10000) % ${sample.variants}) AS variant FROM (
        SELECT c.id AS contact_id, c.email_normalized AS addr, ${drawSql('c.id', b.id)} AS draw FROM (${members}) x JOIN contacts c ON c.id = x.contact_id)
      WHERE draw % 10000 < ${sample.percent * 100}`,
    args,
    variants: true,
  };
}

/**
 * Writes the rows of one chunk and moves the cursor, in one transaction; false when someone
 * else moved it first (their rows are the same rows) or the broadcast left the phase.
 */
async function writeChunk(ctx: Ctx, b: BroadcastRow, size: number): Promise<{ rows: number; last: boolean; moved: boolean }> {
  const from = b.cursor ?? 0;
  const to = await chunkEnd(ctx, b.segmentIds, from, size);
  const email = await loadEmail(ctx, b.emailId);
  const now = ctx.now();
  const sample = b.phase === 'sample' && b.ab ? { percent: b.ab.sample_percent, variants: b.ab.subjects.length } : null;
  const [ins, upd] = await ctx.client.batch(
    [
      queueStatement({
        email,
        reason: broadcastReason(b.emailId),
        recipients: membersSource(b, from, to, sample),
        settings: await getEmailSettings({ ctx }),
        now,
        broadcastId: b.id,
      }),
      {
        sql: `UPDATE email_broadcasts SET cursor = ?, updated_at = ? WHERE id = ? AND status = 'sending' AND phase = ? AND coalesce(cursor, 0) = ?`,
        args: [to, now, b.id, b.phase, from],
      },
    ],
    'write',
  );
  const moved = upd!.rowsAffected === 1;
  if (moved) b.cursor = to;
  return { rows: ins!.rowsAffected, last: to === MAX_ID, moved };
}

/** Moves a broadcast from one phase to the next (fenced: only from `from`). */
async function nextPhase(ctx: Ctx, b: BroadcastRow, to: string, extra: { sql: string; args: InValue[] } = { sql: '', args: [] }): Promise<boolean> {
  const now = ctx.now();
  const r = await ctx.client.execute({
    sql: `UPDATE email_broadcasts SET phase = ?, cursor = NULL, updated_at = ?${extra.sql} WHERE id = ? AND status = 'sending' AND phase = ?`,
    args: [to, now, ...extra.args, b.id, b.phase],
  });
  if (r.rowsAffected !== 1) return false;
  b.phase = to;
  b.cursor = null;
  return true;
}

/** A/B: the variants' human rates and the winner (highest rate; a tie goes to the earlier variant). */
export async function abResults(ctx: Ctx, broadcastId: number, ab: AbTestInput): Promise<{ winner: string; results: NonNullable<AbState['results']> }> {
  const r = await ctx.client.execute({
    sql: `SELECT variant, count(*) FILTER (WHERE status = 'sent') AS sent,
        count(*) FILTER (WHERE status = 'sent' AND human_opened_at IS NOT NULL) AS opened,
        count(*) FILTER (WHERE status = 'sent' AND human_clicked_at IS NOT NULL) AS clicked
      FROM email_sends WHERE broadcast_id = ? AND variant IS NOT NULL GROUP BY variant`,
    args: [broadcastId],
  });
  const by = new Map(r.rows.map((x) => [String(x.variant), { sent: Number(x.sent), opened: Number(x.opened), clicked: Number(x.clicked) }]));
  const results = ab.subjects.map((_, i) => {
    const variant = LETTERS[i]!;
    const v = by.get(variant) ?? { sent: 0, opened: 0, clicked: 0 };
    const hits = ab.metric === 'open' ? v.opened : v.clicked;
    return { variant, ...v, hits, rate: v.sent ? Math.round((hits / v.sent) * 10_000) / 10_000 : 0 };
  });
  let best = results[0]!;
  // Compared as fractions (hits ÷ sent), exactly; strictly better only, so a tie keeps the earlier.
  for (const x of results.slice(1)) if (x.hits * Math.max(best.sent, 1) > best.hits * Math.max(x.sent, 1) && x.sent > 0) best = x;
  return { winner: best.variant, results: results.map(({ hits: _, ...x }) => x) };
}

export interface BroadcastRunResult {
  started: number;
  rows: number;
  decided: number;
  finished: number;
}

/**
 * The broadcasts' part of the `emails` job: starts the due ones, writes rows chunk by chunk
 * (within `budgetMs`; the next run goes on from the cursor), decides A/B tests whose time came,
 * and marks finished the broadcasts with nothing left to send. Safe to run concurrently.
 */
export async function runBroadcasts(ctx: Ctx, opts: { budgetMs?: number; chunk?: number; maxChunks?: number } = {}): Promise<BroadcastRunResult> {
  const out: BroadcastRunResult = { started: 0, rows: 0, decided: 0, finished: 0 };
  const startedAt = Date.now();
  const budget = opts.budgetMs ?? 5_000;
  let chunks = 0;
  const now = ctx.now();
  // Nothing to do is the common case: one read.
  const active = await ctx.client.execute({
    sql: "SELECT * FROM email_broadcasts WHERE status = 'sending' OR (status = 'scheduled' AND send_at <= ?) ORDER BY id",
    args: [now],
  });
  if (!active.rows.length) return out;
  const started = await ctx.client.execute({
    sql: `UPDATE email_broadcasts SET status = 'sending', phase = CASE WHEN ab IS NULL THEN 'queue' ELSE 'sample' END, cursor = NULL,
        started_at = ?, updated_at = ? WHERE status = 'scheduled' AND send_at <= ? RETURNING *`,
    args: [now, now, now],
  });
  out.started = started.rows.length;
  const byId = new Map<number, BroadcastRow>();
  for (const r of [...active.rows, ...started.rows]) byId.set(Number(r.id), broadcastRow(r));
  for (const b of [...byId.values()].sort((x, y) => x.id - y.id)) {
    if (b.status !== 'sending' && b.status !== 'scheduled') continue;
    // Rows chunk by chunk while the time lasts.
    while ((b.phase === 'queue' || b.phase === 'sample' || b.phase === 'rest') && Date.now() - startedAt < budget && chunks < (opts.maxChunks ?? Infinity)) {
      const w = await writeChunk(ctx, b, opts.chunk ?? CHUNK);
      chunks++;
      out.rows += w.rows;
      if (!w.moved) {
        // Another run moved the cursor or the phase (or a cancel came): read it again next run.
        b.phase = null;
        break;
      }
      if (w.last && !(await nextPhase(ctx, b, b.phase === 'sample' ? 'testing' : 'sending'))) b.phase = null;
    }
    if (b.phase === 'testing' && b.ab && b.startedAt !== null && ctx.now() >= b.startedAt + b.ab.decide_after * 1000 && !(await anyUnsent(ctx, b.id))) {
      const { winner, results } = await abResults(ctx, b.id, b.ab);
      const decided = await nextPhase(ctx, b, 'rest', {
        sql: ', winner = ?, decided_at = ?, ab = ?',
        args: [winner, ctx.now(), JSON.stringify({ ...b.ab, results })],
      });
      if (decided) out.decided++;
    }
    if (b.phase === 'sending') {
      if (!(await anyUnsent(ctx, b.id))) {
        const t = ctx.now();
        const r = await ctx.client.execute({
          sql: "UPDATE email_broadcasts SET status = 'sent', phase = NULL, finished_at = ?, updated_at = ? WHERE id = ? AND status = 'sending' AND phase = 'sending'",
          args: [t, t, b.id],
        });
        out.finished += r.rowsAffected;
      }
    }
  }
  return out;
}

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
