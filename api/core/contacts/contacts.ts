import type { InStatement, Row } from '@libsql/client';
import type { Ctx } from '../context';
import { ConflictError, NotFoundError, ValidationError, isUniqueViolation } from '../errors';
import { decodeCursor, encodeCursor, type Page } from '../util/cursor';
import { iso } from '../util/time';
import { loadFieldDefs } from './fields';
import { CORE_COLUMNS, normalizeTag, prepareContact } from './prepare';
import { upsertContacts } from './upsert';
import { eraseStatements } from './owned-data';
import { touch, writeValues } from './writes';
import { contactDeletedStatement } from '../webhooks/deleted';

export const DNC_CHANNELS = ['email', 'sms', 'all'] as const;
export const DNC_REASONS = ['unsubscribed', 'bounced', 'complained', 'manual'] as const;
export type DncChannel = (typeof DNC_CHANNELS)[number];
export type DncReason = (typeof DNC_REASONS)[number];

export interface DncEntry {
  channel: DncChannel;
  reason: DncReason;
  comment: string | null;
  created_at: string;
}

export interface ContactView {
  id: number;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  phone: string | null;
  job_title: string | null;
  city: string | null;
  country: string | null;
  fields: Record<string, unknown>;
  tags: string[];
  points: number;
  stage_id: number | null;
  do_not_contact: DncEntry[];
  created_at: string;
  updated_at: string;
  last_active_at: string | null;
  first_seen_at: string | null;
  first_source: Record<string, string> | null;
}

export const CONTACT_SELECT = `id, ${CORE_COLUMNS.join(', ')}, custom, points, stage_id, created_at, updated_at, last_active_at, first_seen_at, first_source`;

function parseCustom(text: unknown): Record<string, unknown> {
  const obj = JSON.parse(String(text ?? '{}')) as Record<string, unknown>;
  // JSON null means "no value" (a cleared field), so it is not shown.
  for (const k of Object.keys(obj)) if (obj[k] === null) delete obj[k];
  return obj;
}

const str = (v: unknown) => (v === null || v === undefined ? null : String(v));

/** Adds tags and do-not-contact entries to raw contact rows, two queries per page. */
export async function hydrate(ctx: Ctx, rows: Row[]): Promise<ContactView[]> {
  if (rows.length === 0) return [];
  const ids = JSON.stringify(rows.map((r) => Number(r.id)));
  const [tagRows, dncRows] = await ctx.client.batch(
    [
      {
        sql: `SELECT ct.contact_id, t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
          WHERE ct.contact_id IN (SELECT value FROM json_each(?)) ORDER BY t.name`,
        args: [ids],
      },
      {
        sql: `SELECT contact_id, channel, reason, comment, created_at FROM do_not_contact
          WHERE contact_id IN (SELECT value FROM json_each(?)) ORDER BY channel`,
        args: [ids],
      },
    ],
    'read',
  );
  const tags = new Map<number, string[]>();
  for (const r of tagRows!.rows) {
    const id = Number(r.contact_id);
    (tags.get(id) ?? tags.set(id, []).get(id)!).push(String(r.name));
  }
  const dnc = new Map<number, DncEntry[]>();
  for (const r of dncRows!.rows) {
    const id = Number(r.contact_id);
    (dnc.get(id) ?? dnc.set(id, []).get(id)!).push({
      channel: String(r.channel) as DncChannel,
      reason: String(r.reason) as DncReason,
      comment: str(r.comment),
      created_at: iso(Number(r.created_at))!,
    });
  }
  return rows.map((r) => {
    const id = Number(r.id);
    return {
      id,
      email: str(r.email),
      first_name: str(r.first_name),
      last_name: str(r.last_name),
      phone: str(r.phone),
      job_title: str(r.job_title),
      city: str(r.city),
      country: str(r.country),
      fields: parseCustom(r.custom),
      tags: tags.get(id) ?? [],
      points: Number(r.points),
      stage_id: r.stage_id === null || r.stage_id === undefined ? null : Number(r.stage_id),
      do_not_contact: dnc.get(id) ?? [],
      created_at: iso(Number(r.created_at))!,
      updated_at: iso(Number(r.updated_at))!,
      last_active_at: iso(r.last_active_at === null ? null : Number(r.last_active_at)),
      first_seen_at: iso(r.first_seen_at === null ? null : Number(r.first_seen_at)),
      first_source: r.first_source === null ? null : (JSON.parse(String(r.first_source)) as Record<string, string>),
    };
  });
}

export async function getContact({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<ContactView> {
  const res = await ctx.client.execute({
    sql: `SELECT ${CONTACT_SELECT} FROM contacts WHERE id = coalesce((SELECT contact_id FROM contact_aliases WHERE old_id = ?), ?)`,
    args: [input.id, input.id],
  });
  if (!res.rows[0]) throw new NotFoundError('Contact');
  return (await hydrate(ctx, res.rows))[0]!;
}

/** Create, or update the contact that already has this email (answering which). */
export async function createContact({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: unknown;
}): Promise<{ contact: ContactView; created: boolean }> {
  const summary = await upsertContacts({ ctx, input: { rows: [input] } });
  const r = summary.results[0]!;
  if (r.status === 'rejected') throw new ValidationError(r.errors);
  return { contact: await getContact({ ctx, input: { id: r.id } }), created: r.status === 'created' };
}

export async function updateContact({ ctx, input }: { ctx: Ctx; input: { id: number; patch: unknown } }): Promise<ContactView> {
  const r = prepareContact(input.patch, await loadFieldDefs(ctx));
  if (!r.ok) throw new ValidationError(r.errors);
  const p = r.value;
  const id = await resolveContactId(ctx, input.id);
  const now = ctx.now();
  const stmts: InStatement[] = [writeValues(id, p, now, 'replace', true)!];
  if (p.tags.length) stmts.push(...tagStatements(id, p.tags, now));
  try {
    const [res] = await ctx.client.batch(stmts, 'write');
    if (!res!.rows[0]) throw new NotFoundError('Contact');
  } catch (e) {
    if (isUniqueViolation(e)) throw new ConflictError('Another contact already has this email.');
    throw e;
  }
  return getContact({ ctx, input: { id: id } });
}

export function tagStatements(contactId: number, names: string[], now: number): InStatement[] {
  const json = JSON.stringify(names);
  return [
    { sql: 'INSERT INTO tags (name, created_at) SELECT value, ? FROM json_each(?) WHERE true ON CONFLICT(name) DO NOTHING', args: [now, json] },
    {
      sql: `INSERT INTO contact_tags (contact_id, tag_id, created_at)
        SELECT ?, id, ? FROM tags WHERE name IN (SELECT value FROM json_each(?)) ON CONFLICT DO NOTHING`,
      args: [contactId, now, json],
    },
    // Tags are contact data: segments re-check contacts by updated_at.
    touch([contactId], now),
  ];
}

/** Erases a contact and everything stored about it, in one transaction. */
export async function deleteContact({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  const id = await resolveContactId(ctx, input.id);
  const stmts = eraseStatements(id);
  // contact.deleted for the webhooks that want it, before the row goes (the row is last).
  stmts.splice(stmts.length - 1, 0, contactDeletedStatement(id, ctx.now()));
  const out = await ctx.client.batch(stmts, 'write');
  if (out[out.length - 1]!.rowsAffected === 0) throw new NotFoundError('Contact');
}

/** Marks a contact changed (tags, companies, do-not-contact): segments re-check it by updated_at. */
export async function touchContact(ctx: Ctx, id: number): Promise<void> {
  await ctx.client.execute(touch([id], ctx.now()));
}

/** A merged contact's old id resolves to the contact it was merged into. */
export async function resolveContactId(ctx: Ctx, id: number): Promise<number> {
  const r = await ctx.client.execute({ sql: 'SELECT contact_id FROM contact_aliases WHERE old_id = ?', args: [id] });
  return r.rows[0] ? Number(r.rows[0].contact_id) : id;
}

export type ContactSort = 'created_at' | 'updated_at' | 'last_active_at';

export interface ListContactsInput {
  limit: number;
  cursor?: string;
  q?: string;
  tag?: string;
  company_id?: number;
  segment_id?: number;
  stage_id?: number;
  points_min?: number;
  points_max?: number;
  sort: ContactSort;
  order: 'asc' | 'desc';
}

// Upper bound for a prefix range: every string starting with p sorts below it.
const prefixEnd = (p: string) => p + '\u{10FFFF}';

export async function listContactRows(ctx: Ctx, input: ListContactsInput): Promise<{ rows: Row[]; next: string | null }> {
  const where: string[] = [];
  const args: (string | number | null)[] = [];
  if (input.q) {
    // Emails are normalised with full Unicode lower-casing; SQLite's lower() on
    // names folds ASCII only, so the name prefix is folded the same way.
    const e = input.q.trim().toLowerCase();
    const n = input.q.trim().replace(/[A-Z]/g, (ch) => ch.toLowerCase());
    // Ranges instead of LIKE so each branch can use its index.
    where.push(`(email_normalized >= ? AND email_normalized < ?
      OR lower(first_name) >= ? AND lower(first_name) < ?
      OR lower(last_name) >= ? AND lower(last_name) < ?)`);
    args.push(e, prefixEnd(e), n, prefixEnd(n), n, prefixEnd(n));
  }
  if (input.tag) {
    where.push('id IN (SELECT ct.contact_id FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE t.name = ?)');
    args.push(normalizeTag(input.tag));
  }
  if (input.company_id) {
    where.push('id IN (SELECT contact_id FROM company_contacts WHERE company_id = ?)');
    args.push(input.company_id);
  }
  if (input.segment_id) {
    where.push('id IN (SELECT contact_id FROM segment_members WHERE segment_id = ?)');
    args.push(input.segment_id);
  }
  if (input.stage_id) {
    where.push('stage_id = ?');
    args.push(input.stage_id);
  }
  if (input.points_min !== undefined) {
    where.push('points >= ?');
    args.push(input.points_min);
  }
  if (input.points_max !== undefined) {
    where.push('points <= ?');
    args.push(input.points_max);
  }
  const col = input.sort;
  const desc = input.order === 'desc';
  if (input.cursor) {
    const [v, id] = decodeCursor(input.cursor);
    // Keyset condition for (col, id) with SQLite's NULLS-lowest ordering.
    if (v === null) {
      where.push(desc ? `(${col} IS NULL AND id < ?)` : `(${col} IS NULL AND id > ?) OR ${col} IS NOT NULL`);
      args.push(id);
    } else if (desc) {
      where.push(`(${col} < ? OR (${col} = ? AND id < ?) OR ${col} IS NULL)`);
      args.push(v, v, id);
    } else {
      where.push(`(${col} > ? OR (${col} = ? AND id > ?))`);
      args.push(v, v, id);
    }
  }
  const dir = desc ? 'DESC' : 'ASC';
  const res = await ctx.client.execute({
    sql: `SELECT ${CONTACT_SELECT} FROM contacts ${where.length ? 'WHERE ' + where.map((w) => `(${w})`).join(' AND ') : ''}
      ORDER BY ${col} ${dir}, id ${dir} LIMIT ?`,
    args: [...args, input.limit + 1],
  });
  const more = res.rows.length > input.limit;
  const rows = more ? res.rows.slice(0, input.limit) : res.rows;
  const last = rows[rows.length - 1];
  const sortValue = last?.[col] ?? null;
  return { rows, next: more && last ? encodeCursor([sortValue === null ? null : Number(sortValue), Number(last.id)]) : null };
}

export async function listContacts({ ctx, input }: { ctx: Ctx; input: ListContactsInput }): Promise<Page<ContactView>> {
  const { rows, next } = await listContactRows(ctx, input);
  return { data: await hydrate(ctx, rows), has_more: next !== null, next_cursor: next };
}
