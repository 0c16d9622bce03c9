import type { InStatement } from '@libsql/client';
import type { Ctx } from '../context';

export interface SpineEvent {
  id: number;
  type: string;
  siteId: number | null;
  visitorId: number | null;
  contactId: number | null;
  name: string | null;
  url: string | null;
  referrer: string | null;
  props: string | null;
  createdAt: number;
}

/**
 * A reaction consumes stored events in id order. It returns the statements
 * that apply its effects; they commit together with its cursor, so a crash
 * either applies a chunk fully or leaves it to be applied again. Statements
 * must be idempotent (safe to apply twice), because two runners can overlap.
 */
export interface Reaction {
  name: string;
  /** Event types it cares about; others only advance its cursor. */
  types?: readonly string[];
  handle(ctx: Ctx, events: SpineEvent[]): Promise<InStatement[]> | InStatement[];
}

// One parse per event, whichever reactions read its props: a run hands the same event objects to each.
const parsed = new WeakMap<SpineEvent, Record<string, unknown>>();

/** An event's props as an object ({} when it has none). */
export function eventProps(e: SpineEvent): Record<string, unknown> {
  let p = parsed.get(e);
  if (!p) {
    p = e.props ? (JSON.parse(e.props) as Record<string, unknown>) : {};
    parsed.set(e, p);
  }
  return p;
}

/**
 * The cursor of reaction `name` as it is committed, as an SQL expression. A reaction whose
 * effects are additive (counters) bounds its statements by it, `id > ${unseenAfter('x')} AND
 * id <= last`: they run in the batch that moves the cursor to `last`, so two runners that read
 * the same events still count each once (the second one's range is empty). `name` is a constant.
 */
export const unseenAfter = (name: string) => `(SELECT coalesce(max(last_event_id), 0) FROM reaction_cursors WHERE name = '${name}')`;
