import type { InStatement } from '@libsql/client';
import type { Ctx } from '../context';
import { eventProps, type SpineEvent } from '../spine/types';
import { EVENT } from '../spine/event-types';
import { compileFilter, type Compiled } from './compile';
import { compileEnv, joinStatements, leaveStatements } from './membership';
import { Filter } from './filter';
import { walkChangedContacts } from '../contacts/changes';

interface Live {
  id: number;
  compiled: Compiled;
}

// Said once per segment and reason, not at every run: the API shows the segment as `broken`.
const warned = new Set<string>();

// Every reactions run reads the live segments; validating each stored filter
// again costs more than the statements of a one-event check. A filter's text
// always parses to the same value, so parsed ones are kept (bounded).
const parsed = new Map<string, Filter>();
function parseFilter(text: string): Filter {
  let f = parsed.get(text);
  if (!f) {
    f = Filter.parse(JSON.parse(text));
    if (parsed.size >= 1000) parsed.clear();
    parsed.set(text, f);
  }
  return f;
}

async function liveSegments(ctx: Ctx): Promise<{ segs: Live[]; now: number }> {
  const rows = await ctx.client.execute("SELECT id, filter FROM segments WHERE kind = 'dynamic' AND filter IS NOT NULL AND built_at IS NOT NULL");
  if (!rows.rows.length) return { segs: [], now: ctx.now() };
  const env = await compileEnv(ctx);
  const segs: Live[] = [];
  for (const r of rows.rows) {
    const id = Number(r.id);
    // A filter can stop compiling when a field or stage it names is deleted; that
    // segment waits for its filter to be fixed, the others (and every reaction after
    // this one) carry on.
    try {
      segs.push({ id, compiled: compileFilter(parseFilter(String(r.filter)), env) });
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      if (!warned.has(`${id}:${reason}`)) {
        if (warned.size > 1000) warned.clear();
        warned.add(`${id}:${reason}`);
        ctx.log.warn('segment filter does not compile; skipped until it is fixed', { segment: id, error: reason });
      }
    }
  }
  return { segs, now: env.now };
}

/**
 * Re-checks the affected contacts of each segment. For one contact and one
 * segment only one side can change anything: a member cannot join, a contact
 * that is not a member through the filter cannot leave. One read of their
 * memberships halves the statements. It is read before the write transaction,
 * so it may be stale, but the statements still check everything inside it: a
 * stale read can only skip a check whose outcome the writer in between (a
 * manual change, a rebuild, another runner) decided on the same state, and any
 * later change of that state comes with its own re-check.
 */
async function statementsFor(ctx: Ctx, segs: Live[], affected: (s: Live) => Set<number>, now: number): Promise<InStatement[]> {
  const wanted = segs.map((s) => ({ s, ids: affected(s) })).filter((x) => x.ids.size);
  if (!wanted.length) return [];
  const all = new Set<number>();
  for (const w of wanted) for (const id of w.ids) all.add(id);
  const r = await ctx.client.execute({
    // From the listed contacts, by their index whatever the statistics say (see membership.ts).
    sql: `SELECT m.segment_id, m.contact_id, m.source FROM (SELECT DISTINCT value AS id FROM json_each(?)) s
      CROSS JOIN segment_members m INDEXED BY segment_members_contact_idx WHERE m.contact_id = s.id`,
    args: [JSON.stringify([...all])],
  });
  const sources = new Map<string, string>();
  for (const row of r.rows) sources.set(`${row.segment_id}:${row.contact_id}`, String(row.source));
  const out: InStatement[] = [];
  for (const { s, ids } of wanted) {
    const join: number[] = [];
    const leave: number[] = [];
    for (const id of ids) {
      const source = sources.get(`${s.id}:${id}`);
      if (source === undefined) join.push(id);
      else if (source === 'filter') leave.push(id);
    }
    if (join.length) out.push(...joinStatements(s.id, s.compiled, { now, scope: JSON.stringify(join), events: true }));
    if (leave.length) out.push(...leaveStatements(s.id, s.compiled, { now, scope: JSON.stringify(leave), events: true }));
  }
  return out;
}

/**
 * Keeps segment membership current as events arrive: a contact's new events
 * re-check only the segments whose filter reads that kind of event (or the
 * membership of a segment the contact just joined or left).
 */
export async function segmentStatementsForEvents(ctx: Ctx, events: SpineEvent[]): Promise<InStatement[]> {
  const withContact = events.filter((e) => e.contactId !== null);
  if (!withContact.length) return [];
  const { segs, now } = await liveSegments(ctx);
  return statementsFor(
    ctx,
    segs,
    (s) => {
      const ids = new Set<number>();
      for (const e of withContact) {
        if (e.type === EVENT.segment_joined || e.type === EVENT.segment_left) {
          const ref = e.props ? Number(eventProps(e).segment_id) : NaN;
          if (s.compiled.deps.segments.has(ref)) ids.add(e.contactId!);
        } else if (e.type === EVENT.identified || e.type === EVENT.merged) {
          // Attribution (which runs first) or a merge just gave the contact
          // events it did not have: any filter over events may now hold.
          const t = s.compiled.deps.eventTypes;
          if (t === 'any' || t.size) ids.add(e.contactId!);
        } else if (s.compiled.deps.eventTypes === 'any' || s.compiled.deps.eventTypes.has(e.type)) {
          ids.add(e.contactId!);
        }
      }
      return ids;
    },
    now,
  );
}

/**
 * Re-checks contacts whose data changed (contacts.updated_at moves on every
 * field, tag, company, do-not-contact, points and stage change) against the
 * segments whose filters read contact data.
 */
export async function segmentsOnContactChanges(ctx: Ctx): Promise<number> {
  let live: { relevant: Live[]; now: number } | null = null;
  return walkChangedContacts(ctx, {
    key: 'segments_contacts_watermark',
    maxChunks: 50,
    statements: async (ids) => {
      if (!live) {
        const { segs, now } = await liveSegments(ctx);
        live = {
          relevant: segs.filter((s) => {
            const d = s.compiled.deps;
            return d.contactColumns || d.tags || d.dnc || d.companies;
          }),
          now,
        };
      }
      return statementsFor(ctx, live.relevant, () => ids, live.now);
    },
  });
}
