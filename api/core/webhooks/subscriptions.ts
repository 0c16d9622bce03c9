import { z } from 'zod';
import type { InStatement, Row } from '@libsql/client';
import type { Ctx } from '../context';
import { ConflictError, NotFoundError, ValidationError, type FieldError } from '../errors';
import { after, toPage, type Page, type PageInput } from '../util/cursor';
import { webhookSecret } from '../util/crypto';
import { policyOf, urlProblem } from '../util/outbound';
import { iso } from '../util/time';
import { kickWebhooks } from './deliver';
import { FILTER_KEYS, filtersOf, WEBHOOK_EVENT_TYPES, type FilterKey, type WebhookEventType } from './catalogue';

/**
 * Webhook subscriptions: a URL, the catalogue's event types it wants, optional filters, and a
 * Standard Webhooks signing secret (whsec_…). This module is also the small core API other
 * adapters build on (a Mautic-compatible /api/hooks: createSubscription, listSubscriptions,
 * getSubscription, deleteSubscription).
 *
 * How the secret is protected: HMAC signing needs the key itself, so it cannot be hashed like
 * an API key; it is stored as issued, in this table only (deliveries do not copy it: the sender
 * reads it when it signs). It is answered once, by create and rotate-secret, never by a read,
 * a list, the delivery log or a log line; reading it takes the database itself. Rotation keeps
 * the previous secret signing beside the new one for an overlap window, then drops it.
 */

const TABLE_ID = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const WebhookFilters = z.strictObject(Object.fromEntries(FILTER_KEYS.map((k) => [k, TABLE_ID.optional()])) as Record<FilterKey, z.ZodOptional<typeof TABLE_ID>>);
export type WebhookFilters = Partial<Record<FilterKey, number>>;

const Url = z.string().trim().min(1).max(2048);
const EventTypes = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length)
  .refine((a) => new Set(a).size === a.length, 'must not repeat an event type');
const Description = z.string().trim().max(200).nullable();

export const WebhookInput = z.strictObject({
  url: Url,
  event_types: EventTypes,
  filters: WebhookFilters.optional(),
  description: Description.optional(),
});
export type WebhookInput = z.output<typeof WebhookInput>;

export const WebhookPatch = z.strictObject({
  url: Url.optional(),
  event_types: EventTypes.optional(),
  filters: WebhookFilters.optional(),
  description: Description.optional(),
  // disabled: stop delivering (what is queued waits); active: deliver again, from where it stopped.
  status: z.enum(['active', 'disabled']).optional(),
});
export type WebhookPatch = z.output<typeof WebhookPatch>;

/** Overlap of a rotation: the previous secret keeps signing this long (default a day, at most a week). */
const DEFAULT_OVERLAP_S = 86_400;
export const MAX_OVERLAP_S = 7 * 86_400;

export interface WebhookView {
  id: number;
  url: string;
  description: string | null;
  event_types: WebhookEventType[];
  filters: WebhookFilters;
  status: 'active' | 'disabled';
  /** failures: disabled by the sender after 24 hours of failed retries; manual: by a PATCH. */
  disabled_reason: 'failures' | 'manual' | null;
  disabled_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
  /** While a rotation's overlap lasts, the previous secret signs too, until then. */
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
}
export type WebhookWithSecret = WebhookView & { secret: string };

export interface SubscriptionRecord {
  id: number;
  url: string;
  eventTypes: WebhookEventType[];
  filters: WebhookFilters;
  status: string;
  startEventId: number;
  createdAt: number;
}

export const record = (r: Row): SubscriptionRecord => ({
  id: Number(r.id),
  url: String(r.url),
  eventTypes: JSON.parse(String(r.event_types)) as WebhookEventType[],
  filters: JSON.parse(String(r.filters)) as WebhookFilters,
  status: String(r.status),
  startEventId: Number(r.start_event_id),
  createdAt: Number(r.created_at),
});

const at = (v: unknown) => iso(v === null || v === undefined ? null : Number(v));

export function view(r: Row, now: number): WebhookView {
  const s = record(r);
  const until = r.previous_secret_until === null ? null : Number(r.previous_secret_until);
  return {
    id: s.id,
    url: s.url,
    description: r.description === null ? null : String(r.description),
    event_types: s.eventTypes,
    filters: s.filters,
    status: s.status as WebhookView['status'],
    disabled_reason: r.disabled_reason === null ? null : (String(r.disabled_reason) as WebhookView['disabled_reason']),
    disabled_at: at(r.disabled_at),
    last_error: r.last_error === null ? null : String(r.last_error),
    last_error_at: at(r.last_error_at),
    previous_secret_expires_at: r.previous_secret !== null && until !== null && until > now ? iso(until) : null,
    created_at: at(r.created_at)!,
    updated_at: at(r.updated_at)!,
  };
}

// Everything but the secrets: what reads select.
const PUBLIC_COLUMNS =
  'id, url, description, event_types, filters, start_event_id, status, disabled_reason, disabled_at, last_error, last_error_at, previous_secret, previous_secret_until, created_at, updated_at';

// The objects filters name, by the filter.
const FILTER_TABLES: Record<FilterKey, string> = {
  form_id: 'forms',
  segment_id: 'segments',
  email_id: 'emails',
  asset_id: 'assets',
  focus_id: 'focus_items',
  stage_id: 'stages',
};

/** The URL may be called and every filter names an existing object and narrows a chosen type; 422 naming the field otherwise. */
async function check(ctx: Ctx, input: { url?: string; event_types: WebhookEventType[]; filters: WebhookFilters }): Promise<void> {
  const problems: FieldError[] = [];
  if (input.url !== undefined) {
    const p = urlProblem(input.url, policyOf(ctx.config));
    if (p) problems.push({ field: 'url', message: p.message });
  }
  for (const key of FILTER_KEYS) {
    const id = input.filters[key];
    if (id === undefined) continue;
    const narrows = input.event_types.filter((t) => filtersOf(t).includes(key));
    if (!narrows.length) {
      const types = WEBHOOK_EVENT_TYPES.filter((t) => filtersOf(t).includes(key));
      problems.push({ field: `filters.${key}`, message: `narrows ${types.join(', ')} only; subscribe to one of them or leave it out` });
      continue;
    }
    const r = await ctx.client.execute({ sql: `SELECT 1 FROM ${FILTER_TABLES[key]} WHERE id = ?`, args: [id] });
    if (!r.rows[0]) problems.push({ field: `filters.${key}`, message: `no such ${key.slice(0, -3).replace('focus', 'focus item')}` });
  }
  if (problems.length) throw new ValidationError(problems);
}

async function row(ctx: Ctx, id: number): Promise<Row> {
  const r = await ctx.client.execute({ sql: `SELECT ${PUBLIC_COLUMNS} FROM webhook_subscriptions WHERE id = ?`, args: [id] });
  if (!r.rows[0]) throw new NotFoundError('Webhook');
  return r.rows[0];
}

/** Creates a subscription; its secret is in this answer only. Events stored before it are not delivered to it. */
export async function createSubscription({ ctx, input }: { ctx: Ctx; input: WebhookInput }): Promise<WebhookWithSecret> {
  const filters = input.filters ?? {};
  await check(ctx, { url: input.url, event_types: input.event_types, filters });
  const now = ctx.now();
  const secret = webhookSecret();
  const r = await ctx.client.execute({
    sql: `INSERT INTO webhook_subscriptions (url, description, event_types, filters, secret, start_event_id, status, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, (SELECT coalesce(max(id), 0) FROM events), 'active', ?, ?) RETURNING ${PUBLIC_COLUMNS}`,
    args: [input.url, input.description ?? null, JSON.stringify(input.event_types), JSON.stringify(filters), secret, now, now],
  });
  return { ...view(r.rows[0]!, now), secret };
}

export async function getSubscription({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<WebhookView> {
  return view(await row(ctx, input.id), ctx.now());
}

/** Oldest first, a page at a time. */
export async function listSubscriptions({ ctx, input }: { ctx: Ctx; input: PageInput & { status?: 'active' | 'disabled' } }): Promise<Page<WebhookView>> {
  const a = after(input.cursor, null, 'id');
  const where = [a.sql];
  const args: (string | number)[] = [...a.args];
  if (input.status) where.push('status = ?'), args.push(input.status);
  const r = await ctx.client.execute({
    sql: `SELECT ${PUBLIC_COLUMNS} FROM webhook_subscriptions WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`,
    args: [...args, input.limit + 1],
  });
  const now = ctx.now();
  return toPage(r.rows, input.limit, (x) => [null, Number(x.id)], (x) => view(x, now));
}

export async function updateSubscription({ ctx, input }: { ctx: Ctx; input: { id: number; patch: WebhookPatch } }): Promise<WebhookView> {
  const cur = record(await row(ctx, input.id));
  const p = input.patch;
  const eventTypes = p.event_types ?? cur.eventTypes;
  const filters = p.filters ?? cur.filters;
  await check(ctx, { url: p.url, event_types: eventTypes, filters });
  const now = ctx.now();
  const sets = ['url = ?', 'event_types = ?', 'filters = ?', 'updated_at = ?'];
  const args: (string | number | null)[] = [p.url ?? cur.url, JSON.stringify(eventTypes), JSON.stringify(filters), now];
  if (p.description !== undefined) sets.push('description = ?'), args.push(p.description);
  const stmts: InStatement[] = [{ sql: `UPDATE webhook_subscriptions SET ${sets.join(', ')} WHERE id = ?`, args: [...args, cur.id] }];
  // Deliveries still waiting go to the new address.
  if (p.url !== undefined && p.url !== cur.url) {
    stmts.push({ sql: "UPDATE webhook_deliveries SET url = ? WHERE subscription_id = ? AND status = 'pending'", args: [p.url, cur.id] });
  }
  if (p.status === 'disabled') {
    stmts.push({
      sql: "UPDATE webhook_subscriptions SET status = 'disabled', disabled_reason = 'manual', disabled_at = ? WHERE id = ? AND status = 'active'",
      args: [now, cur.id],
    });
  } else if (p.status === 'active') {
    stmts.push({ sql: "UPDATE webhook_subscriptions SET status = 'active', disabled_reason = NULL, disabled_at = NULL WHERE id = ?", args: [cur.id] });
  }
  await ctx.client.batch(stmts, 'write');
  // Re-enabled: what waited goes out now, not at the next tick.
  if (p.status === 'active') void kickWebhooks(ctx);
  return getSubscription({ ctx, input: { id: cur.id } });
}

/** Deletes a subscription and its delivery log; nothing more is sent to it. */
export async function deleteSubscription({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  const out = await ctx.client.batch(
    [
      { sql: 'DELETE FROM webhook_deliveries WHERE subscription_id = ?', args: [input.id] },
      { sql: 'DELETE FROM webhook_subscriptions WHERE id = ?', args: [input.id] },
    ],
    'write',
  );
  if (out[1]!.rowsAffected === 0) throw new NotFoundError('Webhook');
}

/**
 * A new signing secret, answered once. For `overlap_seconds` (default a day) the previous one
 * signs too — every delivery carries both signatures (Standard Webhooks allows several in
 * webhook-signature), so a receiver can switch whenever it likes — then only the new one does.
 */
export async function rotateSubscriptionSecret({ ctx, input }: { ctx: Ctx; input: { id: number; overlapSeconds?: number } }): Promise<WebhookWithSecret> {
  const now = ctx.now();
  const overlap = Math.min(Math.max(0, input.overlapSeconds ?? DEFAULT_OVERLAP_S), MAX_OVERLAP_S) * 1000;
  const secret = webhookSecret();
  const r = await ctx.client.execute({
    sql: `UPDATE webhook_subscriptions SET previous_secret = CASE WHEN ? > 0 THEN secret END, previous_secret_until = CASE WHEN ? > 0 THEN ? END,
        secret = ?, updated_at = ? WHERE id = ? RETURNING ${PUBLIC_COLUMNS}`,
    args: [overlap, overlap, now + overlap, secret, now, input.id],
  });
  if (!r.rows[0]) throw new NotFoundError('Webhook');
  return { ...view(r.rows[0], now), secret };
}

/** Subscriptions that are delivering now (the reaction queues for these only). */
export async function activeSubscriptions(ctx: Ctx): Promise<SubscriptionRecord[]> {
  const r = await ctx.client.execute("SELECT id, url, event_types, filters, status, start_event_id, created_at FROM webhook_subscriptions WHERE status = 'active' ORDER BY id");
  return r.rows.map(record);
}

/** A replay or a ping needs the subscription; replays also need it active (409 otherwise: what waits would jump the queue). */
export async function requireActive(ctx: Ctx, id: number): Promise<void> {
  const r = await row(ctx, id);
  if (String(r.status) !== 'active') throw new ConflictError('This webhook is disabled: PATCH it to "status": "active" first (deliveries then resume in order).');
}
