import type { InStatement } from '@libsql/client';
import type { Ctx } from '../context';
import { createGroupCommit, type GroupCommit } from './group-commit';
import { stringifyWellFormed } from '../util/text';
import type { ClientInfo, Source } from './enrich';
import { countViewStatement, hitStatement } from './visitors';
import { uncountAdoptedView } from '../reports/rollups/adopt';
import type { QueuedBody } from './queue';

export interface StoredEvent {
  type: string;
  name?: string | null;
  url?: string | null;
  referrer?: string | null;
  title?: string | null;
  props?: Record<string, unknown> | null;
  /** A page view resent on consent: it takes over the matching anonymous view (see adopt). */
  adopt?: boolean;
}

/** One request's worth of events from one browser, enriched and ready to store. */
export interface Hit {
  siteId: number;
  // null: consent not given yet; the events are kept but tied to no visitor.
  uid: string | null;
  at: number;
  // null: the request says nothing about the device (a download link followed from anywhere).
  client: ClientInfo | null;
  country: string | null;
  source: Source | null;
  events: StoredEvent[];
}

// Rows per statement; larger flushes are split so one statement stays reasonable.
const CHUNK = 2000;

// How long after a page view counted without a visitor that visitor may still consent on it
// and take it over. It also bounds the search: events has no index by site and URL.
export const ADOPT_WINDOW_MS = 30 * 60_000;

// The newest anonymous view of the site that looks exactly like the resent one (the same URL,
// referrer, title and props, as the tracker sends both from one object). Walks the
// (type, created_at) index backwards from now, so a recent view is found after a few rows.
const ANON_VIEW = `SELECT id FROM events
  WHERE type = 'page_view' AND created_at >= ? AND site_id = ? AND visitor_id IS NULL
    AND url IS ? AND referrer IS ? AND title IS ? AND props IS ?
  ORDER BY created_at DESC, id DESC LIMIT 1`;

/**
 * Consent given on a page already counted without a visitor: the visitor takes that view over,
 * in the same transaction, so the page is counted once and is on the visitor's timeline. The
 * row moves to a new id at the end of the log, so the reactions (points, segments) see it as
 * the visitor's event; no other row refers to an anonymous event. Found no such view (consent
 * given twice, a replay, a view older than the window): nothing is added.
 */
function adopt(h: Hit & { uid: string }, e: StoredEvent): InStatement[] {
  const match = [h.at - ADOPT_WINDOW_MS, h.siteId, e.url ?? null, e.referrer ?? null, e.title ?? null, e.props ? stringifyWellFormed(e.props) : null];
  return [
    countViewStatement(h.siteId, h.uid, { sql: `EXISTS (${ANON_VIEW})`, args: match }),
    // The reports counted it already as a page view; it will be counted again at its new id.
    uncountAdoptedView({ sql: ANON_VIEW, args: match }, e.url ?? null),
    {
      sql: `UPDATE events SET id = (SELECT max(id) + 1 FROM events), visitor_id = v.id, contact_id = v.contact_id
        FROM (SELECT id, contact_id FROM visitors WHERE site_id = ? AND uid = ?) v
        WHERE events.id = (${ANON_VIEW})`,
      args: [h.siteId, h.uid, ...match],
    },
  ];
}

/** The statements that write hits: their visitors, their events, views taken over on consent. */
export function hitStatements(hits: Hit[]): InStatement[] {
  const visitors = new Map<string, { site: number; uid: string; first: number; last: number; pv: number; device: Hit | null; source: Hit | null }>();
  const rows: unknown[] = [];
  const adopted: InStatement[] = [];
  for (const h of hits) {
    const pv = h.events.filter((e) => e.type === 'page_view' && !e.adopt).length;
    if (h.uid) {
      const key = `${h.siteId}\u0000${h.uid}`;
      const v = visitors.get(key);
      if (v) {
        v.first = Math.min(v.first, h.at);
        // The latest hit's device and country win (of hits that tell the device); the earliest
        // hit with a source is the first touch (a later event without one, or a hit redelivered
        // out of order, must not take it away).
        if (h.client && (!v.device || h.at >= v.device.at)) v.device = h;
        v.last = Math.max(v.last, h.at);
        v.pv += pv;
        if (h.source && (!v.source || h.at < v.source.at)) v.source = h;
      } else visitors.set(key, { site: h.siteId, uid: h.uid, first: h.at, last: h.at, pv, device: h.client ? h : null, source: h.source ? h : null });
    }
    for (const e of h.events) {
      if (e.adopt) {
        // Without a visitor there is nobody to give the view to, and it is counted already.
        if (h.uid) adopted.push(...adopt(h as Hit & { uid: string }, e));
        continue;
      }
      rows.push([h.siteId, h.uid, e.type, e.name ?? null, e.url ?? null, e.referrer ?? null, e.title ?? null, e.props ? stringifyWellFormed(e.props) : null, h.at]);
    }
  }
  // Visitors and events are written only for sites that still exist: a hit checked against a
  // site cached in another isolate (core/tracking/sites.ts), or waiting in the Queue, may arrive
  // after the site was deleted, and must not bring its rows back.
  const out: InStatement[] = [];
  const vrows = [...visitors.values()].map((v) => [
    v.site,
    v.uid,
    v.first,
    v.last,
    v.pv,
    v.source ? stringifyWellFormed(v.source.source) : null,
    v.device?.client?.browser ?? null,
    v.device?.client?.os ?? null,
    v.device?.client?.device ?? null,
    v.device?.country ?? null,
  ]);
  for (let i = 0; i < vrows.length; i += CHUNK) out.push(hitStatement(stringifyWellFormed(vrows.slice(i, i + CHUNK))));
  for (let i = 0; i < rows.length; i += CHUNK) {
    out.push({
      // Events of an identified visitor belong to its contact from the start.
      sql: `INSERT INTO events (site_id, visitor_id, contact_id, type, name, url, referrer, title, props, created_at)
        SELECT j.value ->> 0, v.id, v.contact_id, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, j.value ->> 6, j.value ->> 7, j.value ->> 8
        FROM json_each(?) j
        LEFT JOIN visitors v ON v.site_id = j.value ->> 0 AND v.uid = j.value ->> 1
        WHERE j.value ->> 0 IN (SELECT id FROM sites)`,
      args: [stringifyWellFormed(rows.slice(i, i + CHUNK))],
    });
  }
  // After the inserts: an anonymous view written in this same flush can be taken over too.
  out.push(...adopted);
  return out;
}

/** Writes hits in one transaction. */
export async function storeHits(ctx: Ctx, hits: Hit[]): Promise<void> {
  const stmts = hitStatements(hits);
  if (stmts.length) await ctx.client.batch(stmts, 'write');
}

/**
 * Where collect() hands hits: the group commit here, or a Queue on Workers (`queued`, queue.ts),
 * which also takes other messages (`enqueue`: an email open).
 */
export type Ingestor = GroupCommit<Hit> & { queued?: boolean; enqueue?: (bodies: QueuedBody[]) => Promise<void> };

/**
 * Each caller's hits in a transaction of their own, nothing shared between callers: the direct
 * path of a Worker without a Queue. workerd cancels a request whose answer waits on another
 * request's I/O as hung, so the group commit, which commits one request's hits in another's
 * flush, cannot run there.
 */
export function directIngestor(ctx: Ctx): Ingestor {
  return { add: (hits) => storeHits(ctx, hits), drain: async () => {} };
}

export function createIngestor(ctx: Ctx, opts: { maxItems?: number; maxWaitMs?: number } = {}): Ingestor {
  return createGroupCommit<Hit>({
    flush: (hits) => storeHits(ctx, hits),
    maxItems: opts.maxItems ?? 500,
    maxWaitMs: opts.maxWaitMs ?? 2,
  });
}
