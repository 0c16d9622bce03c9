// What the contacts views share: names for people, the stages and segments the filters and pages
// offer, running one call per selected contact with progress, and the server's field errors.
import { api, errorMessage, loadJson as load } from '../api/client';
import type { components } from '../api/schema';

export type Contact = components['schemas']['Contact'];
export type Stage = components['schemas']['Stage'];
export type Segment = components['schemas']['Segment'];

/** "Ada Lovelace", else the email, else "Contact #12". */
export function contactName(c: Pick<Contact, 'id' | 'email' | 'first_name' | 'last_name'>): string {
  const name = [c.first_name, c.last_name].filter(Boolean).join(' ').trim();
  return name || c.email || `Contact #${c.id}`;
}

/** Every item of a cursor-paginated list of small things (stages, segments), up to `max`. */
async function all<T>(page: (cursor?: string) => Promise<{ data: T[]; next_cursor: string | null }>, max = 500): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    out.push(...p.data);
    cursor = p.next_cursor ?? undefined;
  } while (cursor && out.length < max);
  return out;
}

// Loaded once per page load: the lists are small and change rarely; a view that changes them
// (the stage of a contact does not) would clear them.
let stages: Promise<Stage[]> | null = null;
let segments: Promise<Segment[]> | null = null;

export function loadStages(): Promise<Stage[]> {
  stages ??= all((cursor) => load(api.GET('/api/v1/stages', { params: { query: { limit: 100, cursor } } }))).then(
    (s) => s.sort((a, b) => a.position - b.position),
    (e) => {
      stages = null;
      throw e;
    },
  );
  return stages;
}

export function loadSegments(): Promise<Segment[]> {
  segments ??= all((cursor) => load(api.GET('/api/v1/segments', { params: { query: { limit: 100, cursor } } }))).then(
    (s) => s.sort((a, b) => a.name.localeCompare(b.name)),
    (e) => {
      segments = null;
      throw e;
    },
  );
  return segments;
}

export interface EachResult<T> {
  done: T[];
  failed: { item: T; message: string }[];
}

/**
 * Runs `work` for every item, a few at a time (the server is not flooded, the page stays
 * responsive), reporting progress; a failure is recorded with the server's message and the rest
 * go on. `stop()` returning true ends it after the calls under way.
 */
export async function runEach<T>(
  items: T[],
  work: (item: T) => Promise<unknown>,
  opts: { concurrency?: number; onProgress?: (finished: number) => void; stop?: () => boolean } = {},
): Promise<EachResult<T>> {
  const result: EachResult<T> = { done: [], failed: [] };
  let next = 0;
  let finished = 0;
  const lane = async () => {
    while (next < items.length && !opts.stop?.()) {
      const item = items[next++]!;
      try {
        await work(item);
        result.done.push(item);
      } catch (e) {
        result.failed.push({ item, message: e instanceof Error ? e.message : String(e) });
      }
      opts.onProgress?.(++finished);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, items.length) }, lane));
  return result;
}

export interface FieldProblem {
  field: string;
  message: string;
}

/** A failed write's message and the fields it names (422 details; a 409 on a contact is about its email). */
export async function writeResult<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<
  { ok: true; data: T } | { ok: false; message: string; fields: FieldProblem[] }
> {
  let r: { data?: T; error?: unknown; response: Response };
  try {
    r = await call;
  } catch (e) {
    return { ok: false, message: errorMessage(e), fields: [] };
  }
  if (r.response.ok && r.error === undefined) return { ok: true, data: r.data as T };
  const err = (r.error as { error?: { code?: string; details?: { field?: unknown; message?: unknown }[] } } | undefined)?.error;
  const fields = (err?.details ?? [])
    .filter((d) => typeof d.field === 'string' && d.field && typeof d.message === 'string')
    .map((d) => ({ field: String(d.field), message: String(d.message) }));
  return { ok: false, message: errorMessage(r.error, r.response), fields };
}
