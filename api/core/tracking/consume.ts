import type { InStatement } from '@libsql/client';
import type { Ctx } from '../context';
import { hitStatements, type Hit } from './ingest';
import { absorbVisitorsByUid } from '../contacts/writes';
import type { QueuedMessage } from './queue';
import { isOpenRecord, openStatements, type OpenRecord } from '../email/tracking';

/**
 * The Queue consumer's side of ingestion (queue.ts is the producer's): a batch of messages
 * becomes one write transaction — the hits' visitors and events (hitStatements, as the group
 * commit writes them on Node) and the email opens (openStatements, as GET /o writes them without
 * a Queue) together with their ids in ingest_hits. A redelivered message whose
 * hit was written already (the consumer failed after the commit, or the Queue delivered twice)
 * finds its id there and adds nothing, so an event is never stored twice.
 *
 * A batch that fails as a whole is retried as a whole when the database is unreachable or busy;
 * when the database refused the data itself (a constraint, a value it cannot take), the messages
 * are written one by one so that one bad hit does not hold back the other 99. A message that keeps
 * failing goes to the dead-letter queue after the Queue's max_retries; what arrives there is tried
 * once more and, if it still fails, kept in ingest_dead with the reason.
 */

/** A message as the consumer sees it: its body and how often the Queue has delivered it. */
export interface Delivery {
  body: unknown;
  attempts: number;
}

/** What to tell the Queue about each message, in order: done with it, or deliver it again later. */
export type Outcome = 'ack' | 'retry';

/**
 * Running totals in ingest_counters, each added in the transaction that did the work:
 *   stored         messages written through the Queue (hits and email opens)
 *   redelivered    messages the Queue had delivered before (a failed or timed-out batch), handled now
 *   duplicates     hits already written, skipped (redelivery after a write, or a double delivery)
 *   dead_lettered  messages that reached the dead-letter queue (after max_retries failures)
 *   recovered      of those, with their hit in the database after all (written on that try, or found written)
 *   failed         messages that could not be written at all: rows of ingest_dead
 */
export const COUNTERS = ['stored', 'redelivered', 'duplicates', 'dead_lettered', 'recovered', 'failed'] as const;
export type Counter = (typeof COUNTERS)[number];
type Counts = Partial<Record<Counter, number>>;

interface Item {
  index: number;
  id: string;
  /** One of the two: a tracker's hit, or an email open. */
  hit?: Hit;
  open?: OpenRecord;
  redelivered: boolean;
}

const MAX_ID = 64;
const ERROR_CHARS = 500;

function isHit(h: unknown): h is Hit {
  if (!h || typeof h !== 'object') return false;
  const x = h as Partial<Hit>;
  if (!Number.isSafeInteger(x.siteId) || !Number.isFinite(x.at) || !Array.isArray(x.events)) return false;
  if (x.uid !== null && typeof x.uid !== 'string') return false;
  if (x.client !== null && (!x.client || typeof x.client !== 'object')) return false;
  return x.events.every((e) => e && typeof e === 'object' && typeof (e as { type?: unknown }).type === 'string');
}

/** The message when it is one this release can write (a hit or an email open); null for anything else. */
export function parseQueuedMessage(body: unknown): QueuedMessage | null {
  if (!body || typeof body !== 'object') return null;
  const m = body as Partial<QueuedMessage> & { hit?: unknown; open?: unknown };
  if (m.v !== 1 || typeof m.id !== 'string' || !m.id || m.id.length > MAX_ID) return null;
  if (m.kind === undefined) return isHit(m.hit) ? (m as QueuedMessage) : null;
  if (m.kind === 'email_open') return isOpenRecord(m.open) ? (m as QueuedMessage) : null;
  return null;
}

function counterStatements(counts: Counts): InStatement[] {
  const rows = Object.entries(counts).filter(([, n]) => n);
  if (!rows.length) return [];
  return [
    {
      sql: `INSERT INTO ingest_counters (name, n) SELECT value ->> 0, value ->> 1 FROM json_each(?) WHERE true
        ON CONFLICT(name) DO UPDATE SET n = n + excluded.n`,
      args: [JSON.stringify(rows)],
    },
  ];
}

const codeOf = (e: unknown) => String((e as { code?: unknown } | null)?.code ?? '');
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, ERROR_CHARS);

// Another consumer wrote one of these hits between our look and our write.
const idTaken = (e: unknown) => codeOf(e).startsWith('SQLITE_CONSTRAINT') && /ingest_hits\.id/.test(messageOf(e));

/**
 * Whether the database refused the data (writing the same messages again fails the same way),
 * rather than being out of reach or busy. sqld reports SQLITE_ERROR as SQLITE_UNKNOWN.
 */
export function refusedData(e: unknown): boolean {
  return e instanceof BadHit || /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE|UNKNOWN|ERROR)/.test(codeOf(e));
}

class BadHit extends Error {}

/** Which of these hit ids are written already. */
async function storedAmong(ctx: Ctx, ids: string[]): Promise<Set<string>> {
  const r = await ctx.client.execute({ sql: 'SELECT id FROM ingest_hits WHERE id IN (SELECT value FROM json_each(?))', args: [JSON.stringify(ids)] });
  return new Set(r.rows.map((row) => String(row.id)));
}

/**
 * Writes the items' hits that are not written yet, with their ids, in one transaction; `extra`
 * counters go into the same transaction. Redelivered items are looked up first; for first
 * deliveries the primary key of ingest_hits is the guard (a race with another consumer fails
 * the transaction, and the write is tried again without the ids it found).
 */
async function writeOnce(ctx: Ctx, items: Item[], extra: Counts = {}): Promise<{ stored: number; duplicates: number }> {
  let done = items.some((i) => i.redelivered) ? await storedAmong(ctx, items.map((i) => i.id)) : new Set<string>();
  for (let round = 0; ; round++) {
    // Not written yet, each id once (a batch may carry a message twice).
    const seen = new Set(done);
    const fresh: Item[] = [];
    for (const i of items) {
      if (seen.has(i.id)) continue;
      seen.add(i.id);
      fresh.push(i);
    }
    const duplicates = items.length - fresh.length;
    const now = ctx.now();
    let stmts: InStatement[];
    try {
      const hits = fresh.flatMap((i) => (i.hit ? [i.hit] : []));
      stmts = hits.length ? hitStatements(hits) : [];
      for (const i of fresh) if (i.open) stmts.push(...openStatements(i.open));
    } catch (e) {
      throw new BadHit(`a message could not be turned into statements: ${messageOf(e)}`);
    }
    if (fresh.length) stmts.unshift({ sql: 'INSERT INTO ingest_hits (id, stored_at) SELECT value, ? FROM json_each(?)', args: [now, JSON.stringify(fresh.map((i) => i.id))] });
    // A browser identified while its first hits were still queued: the attribution reaction may
    // have run before them, so their first touch goes to the contact here.
    const pairs = [...new Set(fresh.flatMap((i) => (i.hit?.uid ? [JSON.stringify([i.hit.siteId, i.hit.uid])] : [])))];
    if (pairs.length) stmts.push(absorbVisitorsByUid(`[${pairs.join(',')}]`));
    stmts.push(...counterStatements({ ...extra, stored: fresh.length, duplicates, redelivered: items.filter((i) => i.redelivered).length }));
    try {
      if (stmts.length) await ctx.client.batch(stmts, 'write');
      return { stored: fresh.length, duplicates };
    } catch (e) {
      if (round >= 2 || !idTaken(e)) throw e;
      done = await storedAmong(ctx, items.map((i) => i.id));
    }
  }
}

interface Dead {
  index: number;
  id: string | null;
  body: unknown;
  attempts: number;
  error: string;
}

async function recordDead(ctx: Ctx, dead: Dead[], extra: Counts): Promise<void> {
  const rows = dead.map((d) => [d.id, JSON.stringify(d.body) ?? 'null', d.attempts, d.error]);
  await ctx.client.batch(
    [
      {
        sql: `INSERT INTO ingest_dead (hit_id, body, attempts, error, created_at)
          SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, ? FROM json_each(?)`,
        args: [ctx.now(), JSON.stringify(rows)],
      },
      ...counterStatements({ ...extra, failed: dead.length }),
    ],
    'write',
  );
}

export interface ConsumeResult {
  outcomes: Outcome[];
  stored: number;
  duplicates: number;
  /** Kept in ingest_dead (or to be retried when even that failed). */
  dead: number;
}

/**
 * Handles one batch of the tracking queue (`deadLetter`: of its dead-letter queue) and says what
 * to do with each message. Nothing here acknowledges anything: the caller does, after this resolves.
 */
export async function consumeHits(ctx: Ctx, deliveries: readonly Delivery[], opts: { deadLetter: boolean }): Promise<ConsumeResult> {
  const outcomes: Outcome[] = deliveries.map(() => 'ack');
  const items: Item[] = [];
  const dead: Dead[] = [];
  deliveries.forEach((d, index) => {
    const m = parseQueuedMessage(d.body);
    if (m) items.push({ index, id: m.id, ...(m.kind === 'email_open' ? { open: m.open } : { hit: m.hit }), redelivered: !opts.deadLetter && d.attempts > 1 });
    // Never writable, however often it is tried: kept as it came, with the reason.
    else dead.push({ index, id: null, body: d.body, attempts: d.attempts, error: 'not a tracking queue message this release can write' });
  });
  // On the dead-letter queue every message counts once, in the transaction that settles it.
  const arrived = (n: number): Counts => (opts.deadLetter ? { dead_lettered: n } : {});
  let stored = 0;
  let duplicates = 0;
  const add = (r: { stored: number; duplicates: number }) => {
    stored += r.stored;
    duplicates += r.duplicates;
  };

  try {
    if (items.length) add(await writeOnce(ctx, items, { ...arrived(items.length), ...(opts.deadLetter && { recovered: items.length }) }));
  } catch (e) {
    if (!refusedData(e)) {
      ctx.log.warn('tracking queue batch failed, retried as a whole', { messages: items.length, error: messageOf(e) });
      for (const i of items) outcomes[i.index] = 'retry';
    } else {
      ctx.log.warn('tracking queue batch refused, written one by one', { messages: items.length, error: messageOf(e) });
      let unreachable = false;
      for (const i of items) {
        if (unreachable) {
          outcomes[i.index] = 'retry';
          continue;
        }
        try {
          add(await writeOnce(ctx, [i], { ...arrived(1), ...(opts.deadLetter && { recovered: 1 }) }));
        } catch (e1) {
          if (!refusedData(e1)) unreachable = true;
          if (opts.deadLetter && !unreachable) dead.push({ index: i.index, id: i.id, body: deliveries[i.index]!.body, attempts: deliveries[i.index]!.attempts, error: messageOf(e1) });
          else outcomes[i.index] = 'retry';
        }
      }
    }
  }

  if (dead.length) {
    try {
      await recordDead(ctx, dead, arrived(dead.length));
      ctx.log.error('tracking queue messages could not be written; kept in ingest_dead', { messages: dead.length, error: dead[0]!.error });
    } catch (e) {
      ctx.log.error('tracking queue messages could not be written nor kept; retried', { messages: dead.length, error: messageOf(e) });
      for (const d of dead) outcomes[d.index] = 'retry';
    }
  }
  return { outcomes, stored, duplicates, dead: dead.length };
}

/** The counters, every name present (0 when nothing was counted yet). */
export async function ingestCounters(ctx: Ctx): Promise<Record<Counter, number>> {
  const r = await ctx.client.execute('SELECT name, n FROM ingest_counters');
  const out = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<Counter, number>;
  for (const row of r.rows) if ((COUNTERS as readonly string[]).includes(String(row.name))) out[String(row.name) as Counter] = Number(row.n);
  return out;
}

const DAY = 86_400_000;
const CHUNK = 5000;

/**
 * Forgets hit ids older than a day (the Queue redelivers within minutes: max_retries × retry_delay
 * plus a consumer's time limit) and dead messages older than seven days. For the retention job.
 */
export async function pruneIngest(ctx: Ctx): Promise<{ ids: number; dead: number }> {
  let ids = 0;
  for (;;) {
    const r = await ctx.client.execute({
      sql: 'DELETE FROM ingest_hits WHERE id IN (SELECT id FROM ingest_hits WHERE stored_at < ? ORDER BY stored_at LIMIT ?)',
      args: [ctx.now() - DAY, CHUNK],
    });
    ids += r.rowsAffected;
    if (r.rowsAffected < CHUNK) break;
  }
  const dead = await ctx.client.execute({ sql: 'DELETE FROM ingest_dead WHERE created_at < ?', args: [ctx.now() - 7 * DAY] });
  return { ids, dead: dead.rowsAffected };
}
