import type { InStatement, InValue } from '@libsql/client';
import type { Ctx } from '../context';
import { ValidationError } from '../errors';
import { loadFieldDefs } from '../contacts/fields';
import { compileFilter, type CompileEnv, type Compiled } from './compile';
import { Filter, referencedSegments } from './filter';

export interface SegmentRow {
  id: number;
  kind: 'dynamic' | 'static';
  filter: Filter | null;
  builtAt: number | null;
}

export async function compileEnv(ctx: Ctx): Promise<CompileEnv> {
  const stages = await ctx.client.execute('SELECT id, name FROM stages');
  return {
    now: ctx.now(),
    fields: await loadFieldDefs(ctx),
    stages: new Map(stages.rows.map((r) => [String(r.name).toLowerCase(), Number(r.id)])),
  };
}

interface Form {
  scoped: boolean;
  filter: { sql: string; args: InValue[] };
  scopeArgs: InValue[];
  props: string;
}

function form(segmentId: number, compiled: Compiled, scope: string | undefined): Form {
  const scoped = scope !== undefined;
  return {
    scoped,
    // A few contacts get the filter's scoped form (probes per contact), every contact its full form (sets).
    filter: scoped ? compiled.scoped : { sql: compiled.sql, args: compiled.args },
    scopeArgs: scoped ? [scope] : [],
    props: JSON.stringify({ segment_id: segmentId, via: 'filter' }),
  };
}

// Scoped, the listed contacts are the outer loop of join and leave by construction
// (CROSS JOIN fixes the order in SQLite), not by the planner's estimates: with the
// scope as one more IN on c.id the planner started from the tag's list of every
// tagged contact, and statistics taken while segment_members was small make it
// scan the whole table rather than seek the scope's rows.
const SCOPE = '(SELECT DISTINCT value AS id FROM json_each(?)) s CROSS JOIN';

/**
 * Contacts (every one, or only `scope`: a JSON array of ids) that match the
 * filter and are not members join, with segment_joined events (when `events`).
 * Manually excluded contacts never join through the filter.
 */
export function joinStatements(segmentId: number, compiled: Compiled, opts: { now: number; scope?: string; events: boolean }): InStatement[] {
  const f = form(segmentId, compiled, opts.scope);
  const out: InStatement[] = [
    {
      sql: `INSERT INTO segment_members (segment_id, contact_id, source, added_at) SELECT ?, c.id, 'filter', ?
        FROM ${f.scoped ? SCOPE : ''} contacts c WHERE ${f.scoped ? 'c.id = s.id AND ' : ''}(${f.filter.sql})
        AND NOT EXISTS (SELECT 1 FROM segment_members m WHERE m.segment_id = ? AND m.contact_id = c.id)
        AND NOT EXISTS (SELECT 1 FROM segment_exclusions x WHERE x.segment_id = ? AND x.contact_id = c.id)`,
      args: [segmentId, opts.now, ...f.scopeArgs, ...f.filter.args, segmentId, segmentId],
    },
  ];
  if (opts.events) {
    // The rows just inserted are the newest rowids, changes() of them: their
    // events come from them instead of running the filter a second time.
    out.push({
      sql: `INSERT INTO events (contact_id, type, props, created_at)
        SELECT contact_id, 'segment_joined', ?, ? FROM segment_members
        WHERE rowid > (SELECT max(rowid) FROM segment_members) - changes() AND segment_id = ?`,
      args: [f.props, opts.now, segmentId],
    });
  }
  return out;
}

/**
 * Members that joined through the filter and no longer match it leave (every
 * one, or only those in `scope`), with segment_left events first (when
 * `events`), from the same conditions. Manual members stay.
 */
export function leaveStatements(segmentId: number, compiled: Compiled, opts: { now: number; scope?: string; events: boolean }): InStatement[] {
  const f = form(segmentId, compiled, opts.scope);
  const where = `${f.scoped ? 'm.contact_id = s.id AND ' : ''}m.segment_id = ? AND m.source = 'filter'
    AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = m.contact_id AND coalesce((${f.filter.sql}), 0))`;
  const leavers = `FROM ${f.scoped ? SCOPE : ''} segment_members m WHERE ${where}`;
  const args = [...f.scopeArgs, segmentId, ...f.filter.args];
  const out: InStatement[] = [];
  if (opts.events) {
    out.push({ sql: `INSERT INTO events (contact_id, type, props, created_at) SELECT m.contact_id, 'segment_left', ?, ? ${leavers}`, args: [f.props, opts.now, ...args] });
  }
  out.push(
    f.scoped
      ? {
          // The one statement whose outer loop cannot be a CROSS JOIN: stale statistics
          // would have it scan segment_members whole to delete a few rows. INDEXED BY
          // makes that plan an error instead (what SQLite documents it for).
          sql: `DELETE FROM segment_members INDEXED BY segment_members_contact_idx WHERE contact_id IN (SELECT m.contact_id ${leavers}) AND segment_id = ?`,
          args: [...args, segmentId],
        }
      : { sql: `DELETE FROM segment_members AS m WHERE ${where}`, args },
  );
  return out;
}

/**
 * Set-based statements that bring a dynamic segment's membership in line with
 * its filter, for every contact or only `scope` (a JSON array of ids): joins,
 * then leaves, each with its events when `events`, so the log and the
 * membership agree.
 */
export function membershipStatements(segmentId: number, compiled: Compiled, opts: { now: number; scope?: string; events: boolean }): InStatement[] {
  return [...joinStatements(segmentId, compiled, opts), ...leaveStatements(segmentId, compiled, opts)];
}

export function parseSegmentRow(r: Record<string, unknown>): SegmentRow {
  return {
    id: Number(r.id),
    kind: String(r.kind) as SegmentRow['kind'],
    filter: r.filter ? Filter.parse(JSON.parse(String(r.filter))) : null,
    builtAt: r.built_at === null || r.built_at === undefined ? null : Number(r.built_at),
  };
}

/** Full rebuild of one dynamic segment, set-based, in one transaction. */
export async function rebuildSegment(ctx: Ctx, segmentId: number, env?: CompileEnv): Promise<{ members: number }> {
  const r = await ctx.client.execute({ sql: 'SELECT * FROM segments WHERE id = ?', args: [segmentId] });
  if (!r.rows[0]) return { members: 0 };
  const seg = parseSegmentRow(r.rows[0]);
  const e = env ?? (await compileEnv(ctx));
  const stmts: InStatement[] = [];
  if (seg.kind === 'dynamic' && seg.filter) {
    // The first build is the segment's starting point, not a wave of "joined" events.
    stmts.push(...membershipStatements(seg.id, compileFilter(seg.filter, e), { now: e.now, events: seg.builtAt !== null }));
  }
  stmts.push({ sql: 'UPDATE segments SET built_at = ? WHERE id = ?', args: [e.now, seg.id] });
  stmts.push({ sql: 'SELECT count(*) AS n FROM segment_members WHERE segment_id = ?', args: [seg.id] });
  const out = await ctx.client.batch(stmts, 'write');
  return { members: Number(out[out.length - 1]!.rows[0]!.n) };
}

/** Rebuilds every dynamic segment, those other segments depend on first. */
export async function rebuildAll(ctx: Ctx): Promise<Record<string, number>> {
  const rows = await ctx.client.execute("SELECT * FROM segments WHERE kind = 'dynamic' ORDER BY id");
  const segs = rows.rows.map(parseSegmentRow);
  const env = await compileEnv(ctx);
  const order = dependencyOrder(segs);
  const out: Record<string, number> = {};
  for (const s of order) {
    // One broken filter (a deleted field or stage) must not stop the others.
    try {
      out[s.id] = (await rebuildSegment(ctx, s.id, env)).members;
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      ctx.log.warn('segment filter does not compile; rebuild skipped', { segment: s.id, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}

/** Segments ordered so each comes after the segments its filter refers to. */
export function dependencyOrder(segs: SegmentRow[]): SegmentRow[] {
  const byId = new Map(segs.map((s) => [s.id, s]));
  const seen = new Set<number>();
  const out: SegmentRow[] = [];
  const visit = (s: SegmentRow) => {
    if (seen.has(s.id)) return;
    seen.add(s.id);
    if (s.filter) {
      for (const dep of referencedSegments(s.filter)) {
        const d = byId.get(dep);
        if (d) visit(d);
      }
    }
    out.push(s);
  };
  segs.forEach(visit);
  return out;
}
