import type { InStatement } from '@libsql/client';
import type { Ctx } from '../context';
import { skipChangedContacts, walkChangedContacts } from '../contacts/changes';
import { eventProps, type SpineEvent } from '../spine/types';
import { filtersOf, filterValue, type WebhookEventType } from './catalogue';
import { body, contactDetails, payloadBuilder, type ContactDetail, type Item } from './payloads';
import { activeSubscriptions, type SubscriptionRecord } from './subscriptions';
import { kickWebhooks } from './deliver';

/**
 * Queues deliveries: one row per (subscription, event, type), under a unique dedupe key, so a
 * reaction run again over the same events (a crash, two runners) queues nothing twice. Three
 * feeds: the spine's events (the webhooks reaction), the contact rows that changed
 * (contact.created and contact.updated, by the watermark walk the segments use), and erasure
 * (contact.deleted, in the erasing transaction). The sender (deliver.ts) sends each
 * subscription's deliveries for one contact in the order of their ids.
 */

// Rows per INSERT: each carries a payload of a few KB.
const ROWS_PER_STATEMENT = 200;

export interface QueuedRow {
  sub: number;
  key: string;
  type: WebhookEventType;
  event: number | null;
  contact: number | null;
  visitor: number | null;
  body: string;
  /** contact.updated of a contact created in this walk's window: queued only if its contact.created is (see contactStatements). */
  needs?: string;
  /** …and that row was queued before this change. */
  changedAt?: number;
}

const dedupeKey = (sub: number, rest: string) => `webhook:${sub}:${rest}`;

/** Multi-row INSERTs; a subscription disabled or deleted meanwhile gets nothing (the join). */
export function insertStatements(rows: QueuedRow[], now: number): InStatement[] {
  const out: InStatement[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const part = rows.slice(i, i + ROWS_PER_STATEMENT).map((r) => ({ s: r.sub, k: r.key, t: r.type, e: r.event, c: r.contact, v: r.visitor, b: r.body, n: r.needs ?? null, a: r.changedAt ?? null }));
    out.push({
      sql: `INSERT INTO webhook_deliveries (source, dedupe_key, url, secret, body, contact_id, visitor_id, subscription_id, event_type, event_id, next_attempt_at, created_at)
        SELECT 'webhook:' || s.id, j.value ->> 'k', s.url, '', j.value ->> 'b', j.value ->> 'c', j.value ->> 'v', s.id, j.value ->> 't', j.value ->> 'e', ?, ?
        FROM json_each(?) j JOIN webhook_subscriptions s ON s.id = j.value ->> 's' AND s.status = 'active'
        WHERE j.value ->> 'n' IS NULL OR EXISTS (SELECT 1 FROM webhook_deliveries x WHERE x.dedupe_key = j.value ->> 'n' AND x.created_at < j.value ->> 'a')
        ON CONFLICT(dedupe_key) DO NOTHING`,
      args: [now, now, JSON.stringify(part)],
    });
  }
  return out;
}

/** Whether a subscription wants this (event, type): the type, after its start, through its filters. */
function wants(s: SubscriptionRecord, item: Item): boolean {
  if (!s.eventTypes.includes(item.type) || item.event.id <= s.startEventId) return false;
  const p = eventProps(item.event);
  for (const key of filtersOf(item.type)) {
    const want = s.filters[key];
    if (want !== undefined && Number(filterValue(key, p)) !== want) return false;
  }
  return true;
}

// Contexts whose reaction or walk queued something since the sender was last kicked.
const queued = new WeakSet<Ctx>();

/** The webhooks reaction: deliveries for the events of a chunk, for the subscriptions that want them. */
export async function webhookStatements(ctx: Ctx, events: SpineEvent[]): Promise<InStatement[]> {
  const subs = await activeSubscriptions(ctx);
  if (!subs.length) return [];
  // Contacts created (or changed) by now are told first: a receiver hears of a contact's
  // creation before its form submission or identification. (Committed before this chunk's rows.)
  await walkContacts(ctx, subs);
  const wanted = new Set(subs.flatMap((s) => s.eventTypes));
  const start = Math.min(...subs.map((s) => s.startEventId));
  const build = payloadBuilder(ctx);
  const items: Item[] = [];
  for (const event of events) {
    if (event.id <= start) continue;
    for (const type of await build.typesOf(event)) if (wanted.has(type)) items.push({ event, type });
  }
  const matched = items.map((item) => ({ item, subs: subs.filter((s) => wants(s, item)) })).filter((m) => m.subs.length);
  if (!matched.length) return [];
  const contacts = await contactDetails(ctx, matched.flatMap((m) => (m.item.event.contactId === null ? [] : [m.item.event.contactId])));
  const rows: QueuedRow[] = [];
  for (const { item, subs: to } of matched) {
    const e = item.event;
    let contact: ContactDetail | null = null;
    if (e.contactId !== null) {
      contact = contacts.get(e.contactId) ?? null;
      // Erased since: there is nobody left to tell about.
      if (!contact) continue;
    }
    const data = await build.data(item, contact);
    if (!data) continue;
    const text = body(item.type, e.createdAt, { ...data, event_id: e.id });
    for (const s of to) {
      rows.push({ sub: s.id, key: dedupeKey(s.id, `event:${e.id}:${item.type}`), type: item.type, event: e.id, contact: e.contactId, visitor: e.contactId === null ? e.visitorId : null, body: text });
    }
  }
  if (rows.length) queued.add(ctx);
  return insertStatements(rows, ctx.now());
}

const WATERMARK = 'webhooks_contacts_watermark';
// As contacts/changes.ts: each walk re-reads this much behind its watermark.
const OVERLAP_MS = 5_000;

/**
 * contact.created and contact.updated, from contact rows changed since the last walk (updated_at
 * moves on every change of contact data). A contact created within the walk's window is told
 * as created, once per contact (its key); any other change as updated, once per updated_at (its
 * key), with the contact as it is when the walk reads it, so changes close together are told
 * once. A change to a contact whose creation is told in the same window is told only if that
 * creation was queued before the change (otherwise the creation already shows it).
 */
async function contactStatements(ctx: Ctx, subs: SubscriptionRecord[], since: number, ids: Set<number>): Promise<InStatement[]> {
  const contacts = await contactDetails(ctx, ids);
  const now = ctx.now();
  const fresh = since - OVERLAP_MS;
  const updates: QueuedRow[] = [];
  const creations: QueuedRow[] = [];
  for (const c of contacts.values()) {
    const created = Date.parse(c.created_at);
    const updated = Date.parse(c.updated_at);
    for (const s of subs) {
      const createdKey = dedupeKey(s.id, `contact.created:${c.id}`);
      const base = { sub: s.id, event: null, contact: c.id, visitor: null };
      if (created > fresh && created >= s.createdAt && s.eventTypes.includes('contact.created')) {
        creations.push({ ...base, key: createdKey, type: 'contact.created', body: body('contact.created', created, { contact: c }) });
      }
      if (updated > created && updated >= s.createdAt && s.eventTypes.includes('contact.updated')) {
        const recent = created > fresh && s.eventTypes.includes('contact.created');
        updates.push({
          ...base,
          key: dedupeKey(s.id, `contact.updated:${c.id}:${updated}`),
          type: 'contact.updated',
          body: body('contact.updated', updated, { contact: c }),
          ...(recent ? { needs: createdKey, changedAt: updated } : {}),
        });
      }
    }
  }
  if (updates.length || creations.length) queued.add(ctx);
  // Updates first: "was the creation queued before" must not see this walk's own.
  return [...insertStatements(updates, now), ...insertStatements(creations, now)];
}

/** Walks the contacts changed since the last walk for the subscriptions that want contact.created or contact.updated (only moves the watermark when none does). */
async function walkContacts(ctx: Ctx, all: SubscriptionRecord[]): Promise<number> {
  const subs = all.filter((s) => s.eventTypes.includes('contact.created') || s.eventTypes.includes('contact.updated'));
  if (!subs.length) {
    await skipChangedContacts(ctx, WATERMARK);
    return 0;
  }
  const wm = await ctx.client.execute({ sql: 'SELECT value FROM app_state WHERE key = ?', args: [WATERMARK] });
  const since = wm.rows[0] ? Number(wm.rows[0].value) : 0;
  return walkChangedContacts(ctx, { key: WATERMARK, maxChunks: 10, statements: (ids) => contactStatements(ctx, subs, since, ids) });
}

/**
 * The change watcher: the walk, for changes no event tells of (a field set through the API),
 * then a kick of the sender when anything was queued in this run, so a delivery follows its
 * event in well under a second.
 */
export async function webhooksOnContactChanges(ctx: Ctx): Promise<number> {
  const checked = await walkContacts(ctx, await activeSubscriptions(ctx));
  if (queued.has(ctx)) {
    queued.delete(ctx);
    // Not awaited: the sender runs beside the reactions (one run per context at a time), and
    // the webhooks job picks up whatever a stopped process left.
    void kickWebhooks(ctx);
  }
  return checked;
}
