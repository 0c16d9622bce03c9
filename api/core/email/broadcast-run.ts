import type { InValue, Row } from '@libsql/client';
import type { Ctx } from '../context';
import { queueStatement, type RecipientSource } from './queue';
import { getEmailSettings } from './settings';
import { loadEmail } from './emails';
import { broadcastReason, LETTERS, parseAb, type AbState, type AbTestInput } from './broadcasts';

/**
 * Running broadcasts (the `emails` job calls runBroadcasts): starting those due, writing their
 * send rows chunk by chunk from segment membership behind a fenced cursor, deciding A/B subject
 * tests, and marking them sent. What a broadcast is, and its API, is broadcasts.ts.
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
