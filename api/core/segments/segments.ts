import { z } from 'zod';
import type { Row } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError, ValidationError } from '../errors';
import { after, decodeCursor, encodeCursor, toPage, type Page, type PageInput } from '../util/cursor';
import { iso } from '../util/time';
import { hydrate, resolveContactId, CONTACT_SELECT, type ContactView } from '../contacts/contacts';
import { compileFilter } from './compile';
import { Filter, filterSize, referencedSegments } from './filter';
import { compileEnv, parseSegmentRow, rebuildSegment } from './membership';
import type { CompileEnv } from './compile';

export const SegmentInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().trim().max(2000).nullable().optional(),
  kind: z.enum(['dynamic', 'static']).default('dynamic'),
  filter: Filter.nullable().optional(),
});
export type SegmentInput = z.infer<typeof SegmentInput>;
export const SegmentPatch = z.strictObject({
  name: SegmentInput.shape.name.optional(),
  description: SegmentInput.shape.description,
  filter: Filter.nullable().optional(),
});

export interface SegmentView {
  id: number;
  name: string;
  description: string | null;
  kind: 'dynamic' | 'static';
  filter: Filter | null;
  members: number;
  /** Why the filter no longer compiles, or null. */
  broken: string | null;
  built_at: string | null;
  created_at: string;
  updated_at: string;
}

function brokenReason(s: ReturnType<typeof parseSegmentRow>, env: CompileEnv): string | null {
  if (s.kind !== 'dynamic' || !s.filter) return null;
  try {
    compileFilter(s.filter, env);
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

function view(r: Row, env: CompileEnv): SegmentView {
  const s = parseSegmentRow(r);
  return {
    id: s.id,
    name: String(r.name),
    description: r.description === null ? null : String(r.description),
    kind: s.kind,
    filter: s.filter,
    members: Number(r.members ?? 0),
    broken: brokenReason(s, env),
    built_at: iso(s.builtAt),
    created_at: iso(Number(r.created_at))!,
    updated_at: iso(Number(r.updated_at))!,
  };
}

const SELECT = `*, (SELECT count(*) FROM segment_members m WHERE m.segment_id = segments.id) AS members`;

// Compiles once to catch unknown fields, bad values and self-references before saving.
export async function checkFilter(ctx: Ctx, kind: string, filter: Filter | null | undefined, selfId?: number) {
  if (kind === 'static') {
    if (filter) throw new ValidationError([{ field: 'filter', message: 'static segments have no filter; add members by hand' }]);
    return;
  }
  if (!filter) throw new ValidationError([{ field: 'filter', message: 'dynamic segments need a filter' }]);
  const size = filterSize(filter);
  if (size.conditions > 50 || size.depth > 6) throw new ValidationError([{ field: 'filter', message: 'at most 50 conditions nested 6 deep' }]);
  const env = await compileEnv(ctx);
  const compiled = compileFilter(filter, env);
  // SQLite's REGEXP has no lookaround, backreferences or inline flags that JavaScript
  // accepts; a pattern it cannot compile would fail every rebuild with a 500.
  for (const re of compiled.regexes) {
    try {
      await ctx.client.execute({ sql: "SELECT '' REGEXP ?", args: [re.pattern] });
    } catch {
      throw new ValidationError([{ field: re.path, message: 'is not a regular expression the database supports (no lookaround, backreferences or inline flags)' }]);
    }
  }
  // Membership of other segments must not loop back to this one.
  const seen = new Set<number>();
  const stack = [...compiled.deps.segments];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === selfId) throw new ValidationError([{ field: 'filter', message: 'a segment cannot depend on itself' }]);
    if (seen.has(id)) continue;
    seen.add(id);
    const r = await ctx.client.execute({ sql: 'SELECT * FROM segments WHERE id = ?', args: [id] });
    if (!r.rows[0]) throw new ValidationError([{ field: 'filter', message: `no segment ${id}` }]);
    const s = parseSegmentRow(r.rows[0]);
    if (s.filter) stack.push(...referencedSegments(s.filter));
  }
}

export async function createSegment({ ctx, input }: { ctx: Ctx; input: SegmentInput }): Promise<SegmentView> {
  await checkFilter(ctx, input.kind, input.filter);
  const now = ctx.now();
  const r = await ctx.client.execute({
    sql: 'INSERT INTO segments (name, description, kind, filter, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
    args: [input.name, input.description ?? null, input.kind, input.filter ? JSON.stringify(input.filter) : null, now, now],
  });
  const id = Number(r.rows[0]!.id);
  await rebuildSegment(ctx, id);
  return getSegment({ ctx, input: { id } });
}

export async function getSegment({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<SegmentView> {
  const r = await ctx.client.execute({ sql: `SELECT ${SELECT} FROM segments WHERE id = ?`, args: [input.id] });
  if (!r.rows[0]) throw new NotFoundError('Segment');
  return view(r.rows[0], await compileEnv(ctx));
}

export async function listSegments({ ctx, input }: { ctx: Ctx; input: { limit: number; cursor?: string } }): Promise<Page<SegmentView>> {
  const after = input.cursor ? decodeCursor(input.cursor)[1] : 0;
  const r = await ctx.client.execute({ sql: `SELECT ${SELECT} FROM segments WHERE id > ? ORDER BY id LIMIT ?`, args: [after, input.limit + 1] });
  const more = r.rows.length > input.limit;
  const rows = more ? r.rows.slice(0, input.limit) : r.rows;
  const env = await compileEnv(ctx);
  return { data: rows.map((x) => view(x, env)), has_more: more, next_cursor: more ? encodeCursor([null, Number(rows[rows.length - 1]!.id)]) : null };
}

/** Editing the filter rebuilds membership at once (with joined/left events). */
export async function updateSegment({ ctx, input }: { ctx: Ctx; input: { id: number; patch: z.infer<typeof SegmentPatch> } }): Promise<SegmentView> {
  const current = await getSegment({ ctx, input });
  const filter = input.patch.filter === undefined ? current.filter : input.patch.filter;
  if (input.patch.filter !== undefined) await checkFilter(ctx, current.kind, filter, current.id);
  await ctx.client.execute({
    sql: 'UPDATE segments SET name = ?, description = ?, filter = ?, updated_at = ? WHERE id = ?',
    args: [
      input.patch.name ?? current.name,
      input.patch.description === undefined ? current.description : input.patch.description,
      filter ? JSON.stringify(filter) : null,
      ctx.now(),
      current.id,
    ],
  });
  if (input.patch.filter !== undefined) await rebuildSegment(ctx, current.id);
  return getSegment({ ctx, input });
}

export async function deleteSegment({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  const users = await ctx.client.execute({ sql: 'SELECT id, kind, filter FROM segments WHERE id <> ? AND filter IS NOT NULL', args: [input.id] });
  for (const u of users.rows) {
    const s = parseSegmentRow(u);
    if (s.filter && referencedSegments(s.filter).has(input.id)) {
      throw new ValidationError([{ field: 'id', message: `segment ${s.id} refers to this segment; change its filter first` }]);
    }
  }
  const out = await ctx.client.batch(
    [
      { sql: 'DELETE FROM segment_members WHERE segment_id = ?', args: [input.id] },
      { sql: 'DELETE FROM segment_exclusions WHERE segment_id = ?', args: [input.id] },
      { sql: 'DELETE FROM segments WHERE id = ?', args: [input.id] },
    ],
    'write',
  );
  if (out[2]!.rowsAffected === 0) throw new NotFoundError('Segment');
}

/** Counts (and samples) the contacts a filter matches, without saving anything. */
export async function previewFilter({ ctx, input }: { ctx: Ctx; input: { filter: Filter } }): Promise<{ count: number; sample: number[] }> {
  await checkFilter(ctx, 'dynamic', input.filter);
  const c = compileFilter(input.filter, await compileEnv(ctx));
  const [count, sample] = await ctx.client.batch(
    [
      { sql: `SELECT count(*) AS n FROM contacts c WHERE ${c.sql}`, args: c.args },
      { sql: `SELECT c.id FROM contacts c WHERE ${c.sql} ORDER BY c.id LIMIT 10`, args: c.args },
    ],
    'read',
  );
  return { count: Number(count!.rows[0]!.n), sample: sample!.rows.map((r) => Number(r.id)) };
}

export async function listMembers({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { id: number; limit: number; cursor?: string };
}): Promise<Page<ContactView & { membership: string }>> {
  await getSegment({ ctx, input });
  const after = input.cursor ? decodeCursor(input.cursor)[1] : 0;
  const r = await ctx.client.execute({
    sql: `SELECT ${CONTACT_SELECT.split(', ').map((col) => `c.${col}`).join(', ')}, m.source AS membership FROM segment_members m JOIN contacts c ON c.id = m.contact_id
      WHERE m.segment_id = ? AND m.contact_id > ? ORDER BY m.contact_id LIMIT ?`,
    args: [input.id, after, input.limit + 1],
  });
  const more = r.rows.length > input.limit;
  const rows = more ? r.rows.slice(0, input.limit) : r.rows;
  const contacts = await hydrate(ctx, rows);
  return {
    data: contacts.map((c, i) => ({ ...c, membership: String(rows[i]!.membership) })),
    has_more: more,
    next_cursor: more ? encodeCursor([null, Number(rows[rows.length - 1]!.id)]) : null,
  };
}

/** Adds a contact by hand: it stays a member whatever the filter says. */
export async function addMember({ ctx, input: raw }: { ctx: Ctx; input: { id: number; contactId: number; via?: string } }): Promise<void> {
  await getSegment({ ctx, input: raw });
  // A merged contact's old id acts on the contact it was merged into.
  const input = { ...raw, contactId: await resolveContactId(ctx, raw.contactId) };
  const now = ctx.now();
  const out = await ctx.client.batch(
    [
      { sql: 'SELECT 1 FROM contacts WHERE id = ?', args: [input.contactId] },
      { sql: 'DELETE FROM segment_exclusions WHERE segment_id = ? AND contact_id = ?', args: [input.id, input.contactId] },
      {
        sql: `INSERT INTO events (contact_id, type, props, created_at) SELECT id, 'segment_joined', ?, ? FROM contacts WHERE id = ?
          AND NOT EXISTS (SELECT 1 FROM segment_members WHERE segment_id = ? AND contact_id = ?)`,
        args: [JSON.stringify({ segment_id: input.id, via: input.via ?? 'manual' }), now, input.contactId, input.id, input.contactId],
      },
      {
        sql: `INSERT INTO segment_members (segment_id, contact_id, source, added_at) SELECT ?, id, 'manual', ? FROM contacts WHERE id = ?
          ON CONFLICT(segment_id, contact_id) DO UPDATE SET source = 'manual'`,
        args: [input.id, now, input.contactId],
      },
    ],
    'write',
  );
  if (!out[0]!.rows[0]) throw new NotFoundError('Contact');
}

/** Removes a contact by hand: the filter will not bring it back until it is added by hand. */
export async function removeMember({ ctx, input: raw }: { ctx: Ctx; input: { id: number; contactId: number; via?: string } }): Promise<void> {
  await getSegment({ ctx, input: raw });
  const input = { ...raw, contactId: await resolveContactId(ctx, raw.contactId) };
  const now = ctx.now();
  const out = await ctx.client.batch(
    [
      { sql: 'SELECT 1 FROM contacts WHERE id = ?', args: [input.contactId] },
      {
        sql: `INSERT INTO events (contact_id, type, props, created_at) SELECT contact_id, 'segment_left', ?, ? FROM segment_members WHERE segment_id = ? AND contact_id = ?`,
        args: [JSON.stringify({ segment_id: input.id, via: input.via ?? 'manual' }), now, input.id, input.contactId],
      },
      { sql: 'DELETE FROM segment_members WHERE segment_id = ? AND contact_id = ?', args: [input.id, input.contactId] },
      {
        sql: `INSERT INTO segment_exclusions (segment_id, contact_id, created_at) SELECT ?, id, ? FROM contacts WHERE id = ? ON CONFLICT DO NOTHING`,
        args: [input.id, now, input.contactId],
      },
    ],
    'write',
  );
  if (!out[0]!.rows[0]) throw new NotFoundError('Contact');
}

/** The segments a contact is in, by name, a page at a time. */
export async function contactSegments({ ctx, input }: { ctx: Ctx; input: PageInput & { contactId: number } }) {
  const id = await resolveContactId(ctx, input.contactId);
  const a = after(input.cursor, 's.name', 's.id');
  const [exists, r] = await ctx.client.batch(
    [
      { sql: 'SELECT 1 FROM contacts WHERE id = ?', args: [id] },
      {
        sql: `SELECT s.id, s.name, s.kind, m.source, m.added_at FROM segment_members m JOIN segments s ON s.id = m.segment_id
          WHERE m.contact_id = ? AND ${a.sql} ORDER BY s.name, s.id LIMIT ?`,
        args: [id, ...a.args, input.limit + 1],
      },
    ],
    'read',
  );
  if (!exists!.rows[0]) throw new NotFoundError('Contact');
  return toPage(r!.rows, input.limit, (x) => [String(x.name), Number(x.id)], (x) => ({
    id: Number(x.id),
    name: String(x.name),
    kind: String(x.kind),
    membership: String(x.source),
    added_at: iso(Number(x.added_at))!,
  }));
}
