import type { Ctx } from '../context';
import { NotFoundError } from '../errors';
import { decodeCursor, encodeCursor, type Page } from '../util/cursor';
import { iso } from '../util/time';
import { getContact, tagStatements, type ContactView } from './contacts';
import { normalizeTag } from './prepare';
import { touch } from './writes';

export interface TagView {
  id: number;
  name: string;
  contacts: number;
  created_at: string;
}

async function requireContact(ctx: Ctx, id: number) {
  const r = await ctx.client.execute({ sql: 'SELECT 1 FROM contacts WHERE id = ?', args: [id] });
  if (!r.rows[0]) throw new NotFoundError('Contact');
}

export async function addTags({ ctx, input }: { ctx: Ctx; input: { id: number; tags: string[] } }): Promise<ContactView> {
  await requireContact(ctx, input.id);
  const names = [...new Set(input.tags.map(normalizeTag))];
  await ctx.client.batch(tagStatements(input.id, names, ctx.now()), 'write');
  return getContact({ ctx, input: { id: input.id } });
}

export async function removeTag({ ctx, input }: { ctx: Ctx; input: { id: number; tag: string } }): Promise<ContactView> {
  await requireContact(ctx, input.id);
  await ctx.client.batch(
    [
      { sql: 'DELETE FROM contact_tags WHERE contact_id = ? AND tag_id = (SELECT id FROM tags WHERE name = ?)', args: [input.id, normalizeTag(input.tag)] },
      touch([input.id], ctx.now()),
    ],
    'write',
  );
  return getContact({ ctx, input: { id: input.id } });
}

export async function listTags({ ctx, input }: { ctx: Ctx; input: { limit: number; cursor?: string } }): Promise<Page<TagView>> {
  const after = input.cursor ? String(decodeCursor(input.cursor)[0] ?? '') : '';
  const res = await ctx.client.execute({
    sql: `SELECT t.id, t.name, t.created_at, (SELECT count(*) FROM contact_tags ct WHERE ct.tag_id = t.id) AS contacts
      FROM tags t WHERE t.name > ? ORDER BY t.name LIMIT ?`,
    args: [after, input.limit + 1],
  });
  const more = res.rows.length > input.limit;
  const rows = more ? res.rows.slice(0, input.limit) : res.rows;
  const last = rows[rows.length - 1];
  return {
    data: rows.map((r) => ({ id: Number(r.id), name: String(r.name), contacts: Number(r.contacts), created_at: iso(Number(r.created_at))! })),
    has_more: more,
    next_cursor: more && last ? encodeCursor([String(last.name), Number(last.id)]) : null,
  };
}

/** Deletes a tag and removes it from every contact; answers the stored (normalised) name. */
export async function deleteTag({ ctx, input }: { ctx: Ctx; input: { name: string } }): Promise<{ name: string }> {
  const name = normalizeTag(input.name);
  const out = await ctx.client.batch(
    [
      { sql: 'DELETE FROM contact_tags WHERE tag_id = (SELECT id FROM tags WHERE name = ?)', args: [name] },
      { sql: 'DELETE FROM tags WHERE name = ?', args: [name] },
    ],
    'write',
  );
  if (out[1]!.rowsAffected === 0) throw new NotFoundError('Tag');
  return { name };
}

/** Creates a tag on its own, for no contact yet (the Mautic API's POST /tags/new); an existing tag is answered as it is. */
export async function createTag({ ctx, input }: { ctx: Ctx; input: { name: string } }): Promise<{ tag: { id: number; name: string }; created: boolean }> {
  const name = normalizeTag(input.name);
  const ins = await ctx.client.execute({ sql: 'INSERT INTO tags (name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING RETURNING id', args: [name, ctx.now()] });
  if (ins.rows[0]) return { tag: { id: Number(ins.rows[0].id), name }, created: true };
  const r = await ctx.client.execute({ sql: 'SELECT id FROM tags WHERE name = ?', args: [name] });
  return { tag: { id: Number(r.rows[0]!.id), name }, created: false };
}
