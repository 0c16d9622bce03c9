import type { InStatement, Row } from '@libsql/client';
import { LRUCache } from 'lru-cache';
import type { Ctx } from '../context';
import { EVENT } from '../spine/event-types';
import { sha256Hex } from '../util/crypto';
import { emailRecord, type EmailRecord } from './emails';
import { composeMessage } from './compose';
import { broadcastSubjects } from './broadcasts';
import { addressOnly, loadRecipients } from './recipients';
import { getEmailSettings, installationId } from './settings';
import { skipReasonSql } from './suppression';
import type { CallOutcome, DriverMessage, MessageResult } from './driver';

/**
 * One provider call's worth of sends, as the send loop (loop.ts, which describes the protocol)
 * handles it: claimed under a lease, checked again, rendered and keyed (claimBatch), and the
 * provider's answer recorded, fenced (completeBatch).
 */

export const LEASE_MS = 60_000;
/** After this many failed calls (5xx, network) a send is failed; rate limits do not count. */
export const MAX_FAILURES = 6;
const BACKOFF_MS = [30_000, 120_000, 600_000, 1_800_000, 7_200_000];

export interface ClaimedRow {
  id: number;
  attempts: number;
  failures: number;
  emailId: number;
  contactId: number | null;
  to: string | null;
  marketing: boolean;
  isTest: boolean;
  variables: Record<string, unknown> | null;
  batchKey: string | null;
  broadcastId: number | null;
  variant: string | null;
}

export interface ClaimedBatch {
  owner: string;
  rows: ClaimedRow[];
  /** Stored on the rows: a re-claimed call re-sends under it. */
  key: string;
  /** Rows that left the call when claimed: skipped by suppression, failed to render. */
  dropped: { skipped: number; failed: number };
  messages: DriverMessage[];
}

const claimed = (r: Row): ClaimedRow => ({
  id: Number(r.id),
  attempts: Number(r.attempts),
  failures: Number(r.failures),
  emailId: Number(r.email_id),
  contactId: r.contact_id === null ? null : Number(r.contact_id),
  to: r.to_email === null ? null : String(r.to_email),
  marketing: Number(r.marketing) === 1,
  isTest: Number(r.is_test) === 1,
  variables: r.variables === null ? null : (JSON.parse(String(r.variables)) as Record<string, unknown>),
  batchKey: r.batch_key === null ? null : String(r.batch_key),
  broadcastId: r.broadcast_id === null || r.broadcast_id === undefined ? null : Number(r.broadcast_id),
  variant: r.variant === null || r.variant === undefined ? null : String(r.variant),
});

// What a claim reads back: only what sending needs (a row has thirty-odd columns).
const CLAIMED_COLUMNS = 'id, attempts, failures, email_id, contact_id, to_email, marketing, is_test, variables, batch_key, broadcast_id, variant';

/** Rows as the fence sees them: [id, attempts] pairs for json_each. */
const fence = (rows: ClaimedRow[]) => JSON.stringify(rows.map((r) => ({ id: r.id, attempts: r.attempts })));
const FENCED = "email_sends.id = j.value ->> '$.id' AND email_sends.lease_owner = ? AND email_sends.attempts = j.value ->> '$.attempts'";

const LEASE_SET = 'lease_owner = ?, lease_until = ?, next_attempt_at = ?, attempts = attempts + 1, updated_at = ?';

// The installation id never changes once made: read once per context, not once per call.
const installations = new WeakMap<Ctx, Promise<string>>();

/** The Idempotency-Key of a call: the same rows give the same key, in any process, after any crash. */
export async function callKey(ctx: Ctx, ids: number[]): Promise<string> {
  const sorted = [...ids].sort((a, b) => a - b).join(',');
  let id = installations.get(ctx);
  if (!id) {
    id = installationId(ctx);
    installations.set(ctx, id);
    id.catch(() => installations.delete(ctx));
  }
  return `leadline/${await id}/${(await sha256Hex(sorted)).slice(0, 40)}`;
}

/** A re-claimable call whose lease ran out or whose retry is due, taken whole. */
async function claimKeyed(ctx: Ctx, owner: string, now: number): Promise<ClaimedRow[]> {
  const until = now + LEASE_MS;
  const r = await ctx.client.execute({
    sql: `UPDATE email_sends SET status = 'sending', ${LEASE_SET}
      WHERE status IN ('pending', 'sending') AND next_attempt_at <= ? AND batch_key = (
        -- Keyed rows are few (calls in flight or waiting for a retry); walking the due index
        -- instead would visit every due row (a whole broadcast) on every claim.
        SELECT batch_key FROM email_sends INDEXED BY email_sends_batch_idx
        WHERE status IN ('pending', 'sending') AND batch_key IS NOT NULL AND next_attempt_at <= ?
        ORDER BY next_attempt_at, id LIMIT 1)
      RETURNING ${CLAIMED_COLUMNS}`,
    args: [owner, until, until, now, now, now],
  });
  // In id order, as the first call had them (RETURNING's order is unspecified): a re-sent call
  // must be the same payload, or Resend refuses its key as reused for another request.
  return r.rows.map(claimed).sort((a, b) => a.id - b.id);
}

/** Due rows not yet in a call (pending, or sending for a holder that died before keying them). */
async function claimFresh(ctx: Ctx, owner: string, now: number, limit: number): Promise<ClaimedRow[]> {
  const until = now + LEASE_MS;
  const r = await ctx.client.execute({
    sql: `UPDATE email_sends SET status = 'sending', ${LEASE_SET}
      WHERE id IN (SELECT id FROM email_sends WHERE status IN ('pending', 'sending') AND next_attempt_at <= ? AND batch_key IS NULL
        ORDER BY next_attempt_at, id LIMIT ?)
      RETURNING ${CLAIMED_COLUMNS}`,
    args: [owner, until, until, now, now, limit],
  });
  return r.rows.map(claimed).sort((a, b) => a.id - b.id);
}

/** Suppression and caps as of now for freshly claimed rows; the skipped ones leave the call. */
async function recheck(ctx: Ctx, owner: string, rows: ClaimedRow[], now: number): Promise<ClaimedRow[]> {
  const candidates = rows.filter((r) => !r.isTest);
  if (!candidates.length) return rows;
  const settings = await getEmailSettings({ ctx });
  const skip = skipReasonSql(
    { contact: 's.contact_id', address: 's.to_email', marketing: 's.marketing', category: 'e.category_id', claimingId: 's.id' },
    settings,
    now,
  );
  // Only the rows to skip come back (usually none): every row read costs more than its SQL.
  const r = await ctx.client.execute({
    sql: `SELECT id, skip FROM (SELECT s.id, ${skip.sql} AS skip FROM email_sends s LEFT JOIN emails e ON e.id = s.email_id
      WHERE s.id IN (SELECT value FROM json_each(?))) WHERE skip IS NOT NULL`,
    args: [...skip.args, JSON.stringify(candidates.map((c) => c.id))],
  });
  const reasons = new Map(r.rows.map((x) => [Number(x.id), String(x.skip)]));
  if (!reasons.size) return rows;
  const skipped = rows.filter((x) => reasons.has(x.id));
  await ctx.client.execute({
    sql: `UPDATE email_sends SET status = 'skipped', skip_reason = j.value ->> '$.reason', lease_owner = NULL, lease_until = NULL,
        next_attempt_at = NULL, updated_at = ?
      FROM json_each(?) j WHERE ${FENCED}`,
    args: [now, JSON.stringify(skipped.map((x) => ({ id: x.id, attempts: x.attempts, reason: reasons.get(x.id) }))), owner],
  });
  return rows.filter((x) => !reasons.has(x.id));
}

// Emails by id and version (updated_at moves on every save): a broadcast renders one email a
// thousand calls in a row, and its row carries the HTML three times over. Per database client.
const emailCaches = new WeakMap<Ctx['client'], LRUCache<string, EmailRecord>>();

async function loadEmails(ctx: Ctx, ids: number[]): Promise<Map<number, EmailRecord>> {
  const list = JSON.stringify([...new Set(ids)]);
  const versions = await ctx.client.execute({ sql: 'SELECT id, updated_at FROM emails WHERE id IN (SELECT value FROM json_each(?))', args: [list] });
  let emailCache = emailCaches.get(ctx.client);
  if (!emailCache) emailCaches.set(ctx.client, (emailCache = new LRUCache<string, EmailRecord>({ max: 50 })));
  const out = new Map<number, EmailRecord>();
  const missing: number[] = [];
  for (const v of versions.rows) {
    const hit = emailCache.get(`${v.id}:${v.updated_at}`);
    if (hit) out.set(hit.id, hit);
    else missing.push(Number(v.id));
  }
  if (missing.length) {
    const r = await ctx.client.execute({ sql: 'SELECT * FROM emails WHERE id IN (SELECT value FROM json_each(?))', args: [JSON.stringify(missing)] });
    for (const x of r.rows) {
      const e = emailRecord(x);
      emailCache.set(`${e.id}:${e.updatedAt}`, e);
      out.set(e.id, e);
    }
  }
  return out;
}

/** Renders the claimed rows' messages; a row that cannot be rendered fails (a template error repeats). */
async function render(ctx: Ctx, rows: ClaimedRow[]): Promise<{ messages: DriverMessage[]; failed: { row: ClaimedRow; error: string }[] }> {
  const emails = await loadEmails(ctx, rows.map((r) => r.emailId));
  const recipients = await loadRecipients(ctx, rows.flatMap((r) => (r.contactId === null ? [] : [r.contactId])));
  const subjects = await broadcastSubjects(ctx, rows.flatMap((r) => (r.broadcastId === null ? [] : [r.broadcastId])));
  const messages: DriverMessage[] = [];
  const failed: { row: ClaimedRow; error: string }[] = [];
  for (const row of rows) {
    const email = emails.get(row.emailId);
    if (!email) {
      failed.push({ row, error: 'the email was deleted' });
      continue;
    }
    try {
      const message = await composeMessage(ctx, {
        email,
        recipient: (row.contactId !== null ? recipients.get(row.contactId) : undefined) ?? addressOnly(row.to),
        to: row.to!,
        variables: row.variables,
        mode: row.isTest ? 'test' : 'send',
        subject: row.broadcastId === null ? null : (subjects.get(row.broadcastId)?.(row.variant) ?? null),
        target: { sendId: row.id, contactId: row.contactId, toEmail: row.to, categoryId: email.categoryId, marketing: row.marketing },
      });
      messages.push({ ...message, sendId: row.id, contactId: row.contactId });
    } catch (e) {
      failed.push({ row, error: `rendering failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 500) });
    }
  }
  return { messages, failed };
}

function failStatement(owner: string, failed: { row: ClaimedRow; error: string }[], now: number): InStatement {
  return {
    sql: `UPDATE email_sends SET status = 'failed', error = j.value ->> '$.error', lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL, updated_at = ?
      FROM json_each(?) j WHERE ${FENCED}`,
    args: [now, JSON.stringify(failed.map(({ row, error }) => ({ id: row.id, attempts: row.attempts, error }))), owner],
  };
}

/** Back to pending, still keyed (a later claim takes them together), not counted as a failure. */
async function release(ctx: Ctx, owner: string, rows: ClaimedRow[], at: number, keepKey: boolean, error?: string): Promise<void> {
  await ctx.client.execute({
    sql: `UPDATE email_sends SET status = 'pending', lease_owner = NULL, lease_until = NULL, next_attempt_at = ?, ${keepKey ? '' : 'batch_key = NULL, '}${error === undefined ? '' : 'error = ?, '}updated_at = ?
      FROM json_each(?) j WHERE ${FENCED}`,
    args: [at, ...(error === undefined ? [] : [error.slice(0, 500)]), ctx.now(), fence(rows), owner],
  });
}

/**
 * Claims the next call's worth of due sends for `owner` and gets them ready: rechecked,
 * rendered, keyed. Null when nothing is due. Exported for tests that stop a loop half-way.
 */
export async function claimBatch(ctx: Ctx, opts: { owner: string; limit: number }): Promise<ClaimedBatch | null> {
  const now = ctx.now();
  let rows = await claimKeyed(ctx, opts.owner, now);
  const keyed = rows.length > 0;
  if (!keyed) rows = await claimFresh(ctx, opts.owner, now, opts.limit);
  if (!rows.length) return null;
  const dropped = { skipped: 0, failed: 0 };
  if (!keyed) {
    const kept = await recheck(ctx, opts.owner, rows, now);
    dropped.skipped = rows.length - kept.length;
    rows = kept;
  }
  const { messages, failed } = await render(ctx, rows);
  if (failed.length) {
    await ctx.client.execute(failStatement(opts.owner, failed, now));
    dropped.failed = failed.length;
    const gone = new Set(failed.map((f) => f.row.id));
    rows = rows.filter((r) => !gone.has(r.id));
  }
  if (!rows.length) return { owner: opts.owner, rows, key: '', dropped, messages: [] };
  // A re-claimed call keeps its key; a new one gets it now, before the provider hears of it.
  const key = keyed ? rows[0]!.batchKey! : await callKey(ctx, rows.map((r) => r.id));
  if (!keyed) {
    const r = await ctx.client.execute({ sql: `UPDATE email_sends SET batch_key = ? FROM json_each(?) j WHERE ${FENCED}`, args: [key, fence(rows), opts.owner] });
    if (r.rowsAffected !== rows.length) {
      // Some rows were taken from us (a lease that ran out under a very slow run): no call with
      // a key that does not name exactly the rows that carry it.
      await release(ctx, opts.owner, rows, now, false);
      return { owner: opts.owner, rows: [], key: '', dropped, messages: [] };
    }
  }
  return { owner: opts.owner, rows, key, dropped, messages };
}

function backoff(failures: number, hint: number | null): number {
  return Math.max(BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)]!, hint ?? 0);
}

export interface CompleteResult {
  sent: number;
  failed: number;
  retried: number;
}

/** Records what the provider said, fenced, with the email_sent events in the same transaction. */
export async function completeBatch(ctx: Ctx, batch: ClaimedBatch, outcome: CallOutcome): Promise<CompleteResult> {
  const now = ctx.now();
  const { owner, rows } = batch;
  if (outcome.kind === 'retry') {
    if (outcome.rateLimited) {
      // Waiting is no failure (a rate limit, a key to fix); the row says why it waits.
      // Rows of a call the provider took nothing of leave their key: the next claim checks them
      // again (an unsubscribe while they waited stops them) and may call with others.
      await release(ctx, owner, rows, now + Math.max(outcome.waitMs ?? 1000, 1000), !outcome.nothingTaken, outcome.error);
      return { sent: 0, failed: 0, retried: rows.length };
    }
    // One decision for the whole call: its rows must stay one call (same key, same messages),
    // or a part re-sent under the key would be taken for the whole.
    const worst = Math.max(...rows.map((r) => r.failures));
    const giveUp = worst + 1 >= MAX_FAILURES;
    const r = await ctx.client.execute({
      sql: `UPDATE email_sends SET failures = failures + 1, error = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?, status = ?, next_attempt_at = ?
        FROM json_each(?) j WHERE ${FENCED} RETURNING status`,
      args: [outcome.error.slice(0, 500), now, giveUp ? 'failed' : 'pending', giveUp ? null : now + backoff(worst, outcome.waitMs), fence(rows), owner],
    });
    const failed = r.rows.filter((x) => x.status === 'failed').length;
    return { sent: 0, failed, retried: r.rows.length - failed };
  }
  const results: MessageResult[] =
    outcome.kind === 'failed' ? rows.map((r) => ({ sendId: r.id, ok: false, error: outcome.error })) : outcome.results;
  const attemptsOf = new Map(rows.map((r) => [r.id, r.attempts]));
  const json = JSON.stringify(
    results.map((x) => ({ id: x.sendId, attempts: attemptsOf.get(x.sendId), ok: x.ok, provider: x.ok ? x.providerId : null, error: x.ok ? null : x.error.slice(0, 500) })),
  );
  // All accepted (the usual case): the count of rows changed says it all, no row read back.
  const allOk = results.every((x) => x.ok);
  const [, updated] = await ctx.client.batch(
    [
      // Before the rows change, while the fence still names them.
      {
        sql: `INSERT INTO events (contact_id, type, props, created_at)
          SELECT s.contact_id, '${EVENT.email_sent}', json_object('email_id', s.email_id, 'send_id', s.id), ?
          FROM json_each(?) j JOIN email_sends s ON s.id = j.value ->> '$.id'
          WHERE j.value ->> '$.ok' AND s.lease_owner = ? AND s.attempts = j.value ->> '$.attempts' AND s.status = 'sending'
            AND s.is_test = 0 AND s.contact_id IS NOT NULL`,
        args: [now, json, owner],
      },
      {
        sql: `UPDATE email_sends SET status = CASE WHEN j.value ->> '$.ok' THEN 'sent' ELSE 'failed' END,
            provider_id = j.value ->> '$.provider', error = j.value ->> '$.error',
            sent_at = CASE WHEN j.value ->> '$.ok' THEN ? END,
            lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL, updated_at = ?
          FROM json_each(?) j WHERE ${FENCED}${allOk ? '' : ' RETURNING status'}`,
        args: [now, now, json, owner],
      },
    ],
    'write',
  );
  if (allOk) return { sent: updated!.rowsAffected, failed: 0, retried: 0 };
  const sent = updated!.rows.filter((x) => x.status === 'sent').length;
  return { sent, failed: updated!.rows.length - sent, retried: 0 };
}
