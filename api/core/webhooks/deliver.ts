import type { InStatement, Row } from '@libsql/client';
import { Webhook } from 'standardwebhooks';
import type { Ctx } from '../context';
import { hmacSha256Hex, randomToken } from '../util/crypto';
import { coalescedRunner } from '../util/kick';
import { sendOutbound } from '../util/outbound';

/**
 * The one sender of webhooks: subscription deliveries and the webhook actions of point triggers
 * and campaigns alike, all rows of webhook_deliveries. Safe to run any number of times at once
 * (the job's timer, the Workers cron, kicks after reactions, several processes), as the email
 * send loop is (email/loop.ts):
 *
 * 1. Claim: one `UPDATE … RETURNING` leases due rows to this run (lease_owner; attempts + 1;
 *    next_attempt_at = the lease's end, so a crashed holder's rows fall due again by themselves).
 *    In order per contact: a subscription's row is claimed only when no earlier row of the same
 *    subscription and contact (or anonymous browser) is still pending — in flight or waiting
 *    for a retry — so a receiver sees one contact's events in the order they happened.
 *    Rows of disabled subscriptions wait (a ping goes anyway: it tests a receiver being fixed).
 * 2. Sign (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature, one signature
 *    per secret in force) and send through the outbound helper (SSRF guard, no redirects,
 *    bounded time and answer), outside any transaction.
 * 3. Complete, fenced: every write checks `id = ? AND lease_owner = ? AND attempts = ?`, so a
 *    holder whose lease ran out and was re-claimed writes nothing.
 *
 * A failure is retried with exponential backoff (10 s, doubling, at most 4 h apart) for 24 hours
 * from the first attempt; then the row is failed and its subscription disabled, with the error
 * on it. A retry sends the same message: same webhook-id and body, a new timestamp and signature.
 */

export const LEASE_MS = 60_000;
export const RETRY_WINDOW_MS = 24 * 3_600_000;
const FIRST_RETRY_MS = 10_000;
const MAX_RETRY_MS = 4 * 3_600_000;
/** Rows claimed (and sent concurrently) per round of a lane. */
const BATCH = 50;

/** The wait after the n-th failed attempt. */
export const retryDelay = (attempts: number) => Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), MAX_RETRY_MS);

/** The legacy signature of trigger and campaign webhooks: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>, as Stripe signs. */
export async function signWebhook(secret: string, body: string, unixSeconds: number): Promise<string> {
  return `t=${unixSeconds},v1=${await hmacSha256Hex(secret, `${unixSeconds}.${body}`)}`;
}

// Keyed HMACs by secret (base64-decoding a key per message is waste); a few hundred at most.
const signers = new Map<string, Webhook | null>();
function signer(secret: string): Webhook | null {
  let w = signers.get(secret);
  if (w === undefined) {
    try {
      w = new Webhook(secret);
    } catch {
      // A trigger secret a client chose that is no whsec_ key: it signs Leadline-Signature only.
      w = null;
    }
    if (signers.size > 500) signers.clear();
    signers.set(secret, w);
  }
  return w;
}

/** webhook-signature: `v1,<base64>` per secret, space-separated (receivers accept any that verifies). */
export function standardSignature(secrets: string[], msgId: string, at: Date, payload: string): string | null {
  const parts = secrets.map((s) => signer(s)?.sign(msgId, at, payload)).filter((x): x is string => !!x);
  return parts.length ? parts.join(' ') : null;
}

/** The message id: the same for every attempt and replay of a delivery. */
export const messageId = (id: number) => `msg_${id}`;

/** The secrets that sign a subscription's deliveries now: the current one, and the previous one during its overlap. */
export async function signingSecrets(ctx: Ctx, ids: number[], now: number): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  if (!ids.length) return out;
  const r = await ctx.client.execute({
    sql: 'SELECT id, secret, previous_secret, previous_secret_until FROM webhook_subscriptions WHERE id IN (SELECT value FROM json_each(?))',
    args: [JSON.stringify([...new Set(ids)])],
  });
  for (const x of r.rows) {
    const keep = x.previous_secret !== null && x.previous_secret_until !== null && Number(x.previous_secret_until) > now;
    out.set(Number(x.id), keep ? [String(x.secret), String(x.previous_secret)] : [String(x.secret)]);
  }
  return out;
}

const CLAIMED = 'id, url, secret, body, subscription_id, event_type, attempts, first_attempt_at, source';

// Due rows are walked in due order and the walk stops at the limit: no reading and sorting of
// every pending row (the planner may prefer another plan once ANALYZE has seen a backlog).
const WALK_DUE = 'INDEXED BY webhook_deliveries_pending_idx';

/** Leases up to `limit` due rows (see 1. above); `onlyId`: that row only. */
async function claim(ctx: Ctx, owner: string, now: number, limit: number, onlyId?: number): Promise<Row[]> {
  const r = await ctx.client.execute({
    sql: `UPDATE webhook_deliveries SET lease_owner = ?, next_attempt_at = ?, attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, ?)
      WHERE id IN (
        SELECT d.id FROM webhook_deliveries d ${onlyId === undefined ? WALK_DUE : ''}
        WHERE d.status = 'pending' AND d.next_attempt_at <= ? ${onlyId === undefined ? '' : 'AND d.id = ?'}
          AND (d.subscription_id IS NULL OR d.event_type = 'webhook.ping' OR ((SELECT status FROM webhook_subscriptions s WHERE s.id = d.subscription_id) = 'active' AND NOT (
            (d.contact_id IS NOT NULL AND EXISTS (SELECT 1 FROM webhook_deliveries e
              WHERE e.subscription_id = d.subscription_id AND e.contact_id = d.contact_id AND e.status = 'pending' AND e.id < d.id))
            OR (d.contact_id IS NULL AND d.visitor_id IS NOT NULL AND EXISTS (SELECT 1 FROM webhook_deliveries e
              WHERE e.visitor_id = d.visitor_id AND e.subscription_id = d.subscription_id AND e.contact_id IS NULL AND e.status = 'pending' AND e.id < d.id)))))
        ORDER BY d.next_attempt_at, d.id LIMIT ?)
      RETURNING ${CLAIMED}`,
    args: [owner, now + LEASE_MS, now, now, ...(onlyId === undefined ? [] : [onlyId]), limit],
  });
  return r.rows;
}

interface Attempt {
  row: Row;
  headers: Record<string, string>;
  status: number | null;
  error: string | null;
  excerpt: string;
  ms: number;
  at: number;
}

async function send(ctx: Ctx, row: Row, secrets: string[] | undefined): Promise<Attempt> {
  const at = ctx.now();
  const payload = String(row.body);
  const id = Number(row.id);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Leadline-Webhooks/1' };
  const msgId = messageId(id);
  const legacy = row.subscription_id === null;
  const keys = legacy ? [String(row.secret)] : (secrets ?? []);
  const signature = standardSignature(keys, msgId, new Date(at), payload);
  if (signature) {
    headers['webhook-id'] = msgId;
    headers['webhook-timestamp'] = String(Math.floor(at / 1000));
    headers['webhook-signature'] = signature;
  }
  if (legacy) {
    // What trigger and campaign receivers verify today.
    headers['leadline-delivery'] = String(id);
    headers['leadline-signature'] = await signWebhook(String(row.secret), payload, Math.floor(at / 1000));
  }
  const started = performance.now();
  // A subscription without a secret cannot be (its row went meanwhile): nothing is sent unsigned.
  const res = legacy || signature ? await sendOutbound(ctx, { url: String(row.url), headers, body: payload }) : { status: null, error: 'webhook deleted', excerpt: '' };
  return { row, headers, status: res.status, error: res.error, excerpt: res.excerpt, ms: Math.round(performance.now() - started), at };
}

/** The fenced write that records the successful attempts of a round, one statement for all (see 3. above). */
function completeDelivered(owner: string, done: Attempt[], now: number): InStatement[] {
  if (!done.length) return [];
  const rows = done.map((a) => ({ id: Number(a.row.id), n: Number(a.row.attempts), s: a.status, at: a.at, h: JSON.stringify(a.headers), x: a.excerpt || null, ms: a.ms }));
  return [
    {
      sql: `UPDATE webhook_deliveries SET status = 'delivered', lease_owner = NULL, last_status_code = j.value ->> 's', last_error = NULL, delivered_at = ?,
          last_attempt_at = j.value ->> 'at', request_headers = j.value ->> 'h', response_excerpt = j.value ->> 'x', duration_ms = j.value ->> 'ms'
        FROM json_each(?) j
        WHERE webhook_deliveries.id = j.value ->> 'id' AND webhook_deliveries.lease_owner = ? AND webhook_deliveries.attempts = j.value ->> 'n'`,
      args: [now, JSON.stringify(rows), owner],
    },
  ];
}

/** The fenced writes that record a failed attempt (see 3. above). */
function completeFailed(owner: string, a: Attempt, now: number): InStatement[] {
  const r = a.row;
  const id = Number(r.id);
  const attempts = Number(r.attempts);
  const fence = [id, owner, attempts];
  const log = [a.at, JSON.stringify(a.headers), a.excerpt || null, a.ms];
  const first = Number(r.first_attempt_at);
  const ping = r.event_type === 'webhook.ping';
  const wait = retryDelay(attempts);
  // Final when the next try would fall outside the window (a ping is tried once).
  const final = ping || now + wait - first > RETRY_WINDOW_MS;
  const stmts: InStatement[] = [
    {
      sql: `UPDATE webhook_deliveries SET status = ?, lease_owner = NULL, last_status_code = ?, last_error = ?, next_attempt_at = ?,
          last_attempt_at = ?, request_headers = ?, response_excerpt = ?, duration_ms = ?
        WHERE id = ? AND lease_owner = ? AND attempts = ?`,
      args: [final ? 'failed' : 'pending', a.status, a.error, final ? now : now + wait, ...log, ...fence],
    },
  ];
  if (r.subscription_id !== null && !ping) {
    // The failure shows on the subscription; after 24 hours of them it is disabled. Only if this
    // holder's write above took (the same row, as it left it).
    const mine = "EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = ? AND lease_owner IS NULL AND attempts = ? AND last_attempt_at = ? AND status = ?)";
    stmts.push({
      sql: `UPDATE webhook_subscriptions SET last_error = ?, last_error_at = ?,
          status = CASE WHEN ? THEN 'disabled' ELSE status END,
          disabled_reason = CASE WHEN ? AND status = 'active' THEN 'failures' ELSE disabled_reason END,
          disabled_at = CASE WHEN ? AND status = 'active' THEN ? ELSE disabled_at END
        WHERE id = ? AND ${mine}`,
      args: [a.error, now, final ? 1 : 0, final ? 1 : 0, final ? 1 : 0, now, Number(r.subscription_id), id, attempts, a.at, final ? 'failed' : 'pending'],
    });
  }
  return stmts;
}

async function round(ctx: Ctx, owner: string, limit: number, onlyId?: number): Promise<Attempt[]> {
  const rows = await claim(ctx, owner, ctx.now(), limit, onlyId);
  if (!rows.length) return [];
  const subIds = rows.filter((r) => r.subscription_id !== null).map((r) => Number(r.subscription_id));
  const secrets = await signingSecrets(ctx, subIds, ctx.now());
  const attempts = await Promise.all(rows.map((r) => send(ctx, r, r.subscription_id === null ? undefined : secrets.get(Number(r.subscription_id)))));
  const now = ctx.now();
  await ctx.client.batch(
    [...completeDelivered(owner, attempts.filter((a) => !a.error), now), ...attempts.filter((a) => a.error).flatMap((a) => completeFailed(owner, a, now))],
    'write',
  );
  return attempts;
}

export interface WebhookRun {
  attempted: number;
  delivered: number;
  failed: number;
}

// Lanes running in a context, over all its runs (a kicked run and the job's can overlap).
const activeLanes = new WeakMap<Ctx, number>();
const MAX_LANES = 4;

/**
 * Sends what is due, round after round, for at most `budgetMs` (default 20 s) and `maxRounds`.
 * With `lanes` > 1 that many claim-send-complete loops run side by side, so rows are claimed and
 * completed while others are in flight.
 */
export async function runWebhooks(ctx: Ctx, opts: { budgetMs?: number; maxRounds?: number; lanes?: number } = {}): Promise<WebhookRun> {
  const out: WebhookRun = { attempted: 0, delivered: 0, failed: 0 };
  const started = Date.now();
  const budget = opts.budgetMs ?? 20_000;
  let rounds = opts.maxRounds ?? 200;
  const lane = async () => {
    const owner = randomToken(16);
    while (rounds-- > 0 && Date.now() - started < budget) {
      const done = await round(ctx, owner, BATCH);
      if (!done.length) break;
      out.attempted += done.length;
      for (const a of done) a.error ? out.failed++ : out.delivered++;
    }
  };
  const lanes = Math.max(1, Math.min(opts.lanes ?? 1, MAX_LANES - (activeLanes.get(ctx) ?? 0)));
  activeLanes.set(ctx, (activeLanes.get(ctx) ?? 0) + lanes);
  try {
    await Promise.all(Array.from({ length: lanes }, lane));
  } finally {
    activeLanes.set(ctx, activeLanes.get(ctx)! - lanes);
  }
  return out;
}

/** Sends one row now, if it is due and not waiting behind another (a ping, a replay). */
export async function sendNow(ctx: Ctx, id: number): Promise<void> {
  await round(ctx, randomToken(16), 1, id);
}

/** Runs the sender soon, coalescing kicks: one run per context at a time. Awaiting it waits for that run. */
export const kickWebhooks: (ctx: Ctx) => Promise<void> = coalescedRunner('webhooks', (ctx) => runWebhooks(ctx, { lanes: 2 })).kick;
