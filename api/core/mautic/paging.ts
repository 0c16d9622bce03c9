import type { InValue } from '@libsql/client';
import type { Ctx } from '../context';
import { BadRequestError } from '../errors';
import { encodeCursor, type CursorValue, type Page } from '../util/cursor';

/** Mautic pages by offset: `start` (rows to skip) and `limit` (30 by default). */
export const DEFAULT_LIMIT = 30;
/** Mautic's own batch limit (api_batch_max_limit); a larger page is refused, not silently cut. */
export const MAX_LIMIT = 200;
/** Offsets past this are refused: deep offset pages cost a scan each. */
export const MAX_START = 1_000_000;

export interface Window {
  start: number;
  limit: number;
}

/**
 * Reads `start` and `limit` as Mautic takes them. A missing limit is 30; limit 0 (Mautic: "no
 * limit") is the largest page, 200; more than 200 is refused with a 400 naming the bound.
 */
export function windowOf(q: { start?: string; limit?: string }): Window {
  const int = (name: string, v: string | undefined, dflt: number, max: number) => {
    if (v === undefined || v === '') return dflt;
    if (!/^[0-9]{1,10}$/.test(v)) throw new BadRequestError(`${name} must be a whole number from 0 to ${max}.`);
    const n = Number(v);
    if (n > max) throw new BadRequestError(`${name} must be at most ${max}${name === 'limit' ? ' (page through larger sets with start)' : ''}.`);
    return n;
  };
  const limit = int('limit', q.limit, DEFAULT_LIMIT, MAX_LIMIT);
  return { start: int('start', q.start, 0, MAX_START), limit: limit === 0 ? MAX_LIMIT : limit };
}

/**
 * How one of Leadline's keyset-paged lists is ordered, so that an offset can be turned into the
 * cursor of the row before it: the table (with the list's own condition) and the sort column
 * (null: the id alone). The list function itself then builds the page, so a Mautic page holds
 * exactly what Leadline's own list answers.
 */
export interface Ordered<T> {
  from: string;
  where?: { sql: string; args: InValue[] };
  sort: string | null;
  desc?: boolean;
  list: (input: { limit: number; cursor?: string }) => Promise<Page<T>>;
}

/** One Mautic page of a Leadline list, with the total count of its rows. */
export async function offsetPage<T>(ctx: Ctx, o: Ordered<T>, w: Window): Promise<{ total: number; items: T[] }> {
  const where = o.where ? `WHERE ${o.where.sql}` : '';
  const args = o.where?.args ?? [];
  const dir = o.desc ? 'DESC' : 'ASC';
  const order = o.sort ? `${o.sort} ${dir}, id ${dir}` : `id ${dir}`;
  const [count, anchor] = await ctx.client.batch(
    [
      { sql: `SELECT count(*) AS n FROM ${o.from} ${where}`, args },
      { sql: `SELECT ${o.sort ?? 'NULL'} AS v, id FROM ${o.from} ${where} ORDER BY ${order} LIMIT 1 OFFSET ?`, args: [...args, Math.max(w.start - 1, 0)] },
    ],
    'read',
  );
  const total = Number(count!.rows[0]!.n);
  if (w.start >= total) return { total, items: [] };
  const row = anchor!.rows[0];
  const cursor = w.start === 0 || !row ? undefined : encodeCursor([row.v === null ? null : (row.v as CursorValue[0]), Number(row.id)]);
  const page = await o.list({ limit: w.limit, cursor });
  return { total, items: page.data };
}

/** Every row of a Leadline list (a contact's segments, its campaigns), page by page, up to a bound. */
export async function allOf<T>(list: (input: { limit: number; cursor?: string }) => Promise<Page<T>>, max = 1000): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list({ limit: Math.min(200, max - out.length), cursor });
    out.push(...page.data);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && out.length < max);
  return out;
}

/**
 * A list Mautic answers keyed by id (PHP's ordered array as a JSON object: `{"47": {...}}`, or
 * `[]` when empty). JSON.parse and JSON.stringify put integer-like keys in ascending order, so
 * the routes write these by hand (serializeMautic) to keep the requested order on the wire.
 */
export class KeyedById<T extends { id: number | null }> {
  constructor(readonly items: T[]) {}
}

export const keyedById = <T extends { id: number | null }>(items: T[]) => new KeyedById(items);

/** The answer's JSON text, with KeyedById lists (at the top level) in their own order. */
export function serializeMautic(body: Record<string, unknown>): string {
  const parts = Object.entries(body).map(([k, v]) => {
    const value =
      v instanceof KeyedById
        ? v.items.length
          ? `{${v.items.map((it, i) => `${JSON.stringify(String(it.id ?? i))}:${JSON.stringify(it)}`).join(',')}}`
          : '[]'
        : JSON.stringify(v);
    return `${JSON.stringify(k)}:${value}`;
  });
  return `{${parts.join(',')}}`;
}
