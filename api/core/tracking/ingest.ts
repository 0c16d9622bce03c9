import type { InStatement } from '@libsql/client';
import type { Ctx } from '../context';
import { createGroupCommit, type GroupCommit } from './group-commit';
import { stringifyWellFormed } from '../util/text';
import type { ClientInfo, Source } from './enrich';
import { hitStatement } from './visitors';

export interface StoredEvent {
  type: string;
  name?: string | null;
  url?: string | null;
  referrer?: string | null;
  title?: string | null;
  props?: Record<string, unknown> | null;
}

/** One request's worth of events from one browser, enriched and ready to store. */
export interface Hit {
  siteId: number;
  // null: consent not given yet; the events are kept but tied to no visitor.
  uid: string | null;
  at: number;
  client: ClientInfo;
  country: string | null;
  source: Source | null;
  events: StoredEvent[];
}

// Rows per statement; larger flushes are split so one statement stays reasonable.
const CHUNK = 2000;


function statements(hits: Hit[]): InStatement[] {
  const visitors = new Map<string, { site: number; uid: string; first: number; last: number; pv: number; hit: Hit }>();
  const rows: unknown[] = [];
  for (const h of hits) {
    const pv = h.events.filter((e) => e.type === 'page_view').length;
    if (h.uid) {
      const key = `${h.siteId}\u0000${h.uid}`;
      const v = visitors.get(key);
      if (v) {
        v.first = Math.min(v.first, h.at);
        v.last = Math.max(v.last, h.at);
        v.pv += pv;
        v.hit = h; // the latest hit's device wins
      } else visitors.set(key, { site: h.siteId, uid: h.uid, first: h.at, last: h.at, pv, hit: h });
    }
    for (const e of h.events) {
      rows.push([h.siteId, h.uid, e.type, e.name ?? null, e.url ?? null, e.referrer ?? null, e.title ?? null, e.props ? stringifyWellFormed(e.props) : null, h.at]);
    }
  }
  const out: InStatement[] = [];
  const vrows = [...visitors.values()].map((v) => [
    v.site,
    v.uid,
    v.first,
    v.last,
    v.pv,
    v.hit.source ? stringifyWellFormed(v.hit.source) : null,
    v.hit.client.browser,
    v.hit.client.os,
    v.hit.client.device,
    v.hit.country,
  ]);
  for (let i = 0; i < vrows.length; i += CHUNK) out.push(hitStatement(stringifyWellFormed(vrows.slice(i, i + CHUNK))));
  for (let i = 0; i < rows.length; i += CHUNK) {
    out.push({
      // Events of an identified visitor belong to its contact from the start.
      sql: `INSERT INTO events (site_id, visitor_id, contact_id, type, name, url, referrer, title, props, created_at)
        SELECT j.value ->> 0, v.id, v.contact_id, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, j.value ->> 6, j.value ->> 7, j.value ->> 8
        FROM json_each(?) j
        LEFT JOIN visitors v ON v.site_id = j.value ->> 0 AND v.uid = j.value ->> 1
        WHERE true`,
      args: [stringifyWellFormed(rows.slice(i, i + CHUNK))],
    });
  }
  return out;
}

/** Writes hits in one transaction. */
export async function storeHits(ctx: Ctx, hits: Hit[]): Promise<void> {
  const stmts = statements(hits);
  if (stmts.length) await ctx.client.batch(stmts, 'write');
}

export type Ingestor = GroupCommit<Hit>;

export function createIngestor(ctx: Ctx, opts: { maxItems?: number; maxWaitMs?: number } = {}): Ingestor {
  return createGroupCommit<Hit>({
    flush: (hits) => storeHits(ctx, hits),
    maxItems: opts.maxItems ?? 500,
    maxWaitMs: opts.maxWaitMs ?? 2,
  });
}
