import type { Row } from '@libsql/client';
import type { Ctx } from '../context';
import { ConflictError, NotFoundError, isUniqueViolation } from '../errors';
import { iso } from '../util/time';
import { after, toPage, type Page, type PageInput } from '../util/cursor';
import type { CategoryInput, CategoryPatch } from './schema';

/** The category marketing emails get when none is given (seeded by the migration). */
export const DEFAULT_CATEGORY_KEY = 'marketing';

export interface CategoryView {
  id: number;
  key: string;
  name: string;
  description: string | null;
  created_at: string;
  updated_at: string;
}

const view = (r: Row): CategoryView => ({
  id: Number(r.id),
  key: String(r.key),
  name: String(r.name),
  description: r.description === null ? null : String(r.description),
  created_at: iso(Number(r.created_at))!,
  updated_at: iso(Number(r.updated_at))!,
});

async function write<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isUniqueViolation(e)) throw new ConflictError('A category with this key already exists.');
    throw e;
  }
}

export async function createCategory({ ctx, input }: { ctx: Ctx; input: CategoryInput }): Promise<CategoryView> {
  const now = ctx.now();
  const r = await write(() =>
    ctx.client.execute({
      sql: 'INSERT INTO email_categories (key, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING *',
      args: [input.key, input.name, input.description || null, now, now],
    }),
  );
  return view(r.rows[0]!);
}

export async function getCategory({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<CategoryView> {
  const r = await ctx.client.execute({ sql: 'SELECT * FROM email_categories WHERE id = ?', args: [input.id] });
  if (!r.rows[0]) throw new NotFoundError('Email category');
  return view(r.rows[0]);
}

export async function listCategories({ ctx, input }: { ctx: Ctx; input: PageInput }): Promise<Page<CategoryView>> {
  const a = after(input.cursor, null, 'id');
  const r = await ctx.client.execute({ sql: `SELECT * FROM email_categories WHERE ${a.sql} ORDER BY id LIMIT ?`, args: [...a.args, input.limit + 1] });
  return toPage(r.rows, input.limit, (x) => [null, Number(x.id)], view);
}

export async function updateCategory({ ctx, input }: { ctx: Ctx; input: { id: number; patch: CategoryPatch } }): Promise<CategoryView> {
  const p = input.patch;
  const sets: string[] = [];
  const args: (string | number | null)[] = [];
  if (p.key !== undefined) sets.push('key = ?'), args.push(p.key);
  if (p.name !== undefined) sets.push('name = ?'), args.push(p.name);
  if (p.description !== undefined) sets.push('description = ?'), args.push(p.description || null);
  const r = await write(() =>
    ctx.client.execute({ sql: `UPDATE email_categories SET ${[...sets, 'updated_at = ?'].join(', ')} WHERE id = ? RETURNING *`, args: [...args, ctx.now(), input.id] }),
  );
  if (!r.rows[0]) throw new NotFoundError('Email category');
  return view(r.rows[0]);
}

/** Refused while an email uses it; contacts' choices about it go with it. */
export async function deleteCategory({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  const used = await ctx.client.execute({ sql: 'SELECT count(*) AS n FROM emails WHERE category_id = ?', args: [input.id] });
  const n = Number(used.rows[0]!.n);
  if (n) throw new ConflictError(`${n} email(s) use this category; move them to another first.`);
  const out = await ctx.client.batch(
    [
      { sql: 'DELETE FROM email_categories WHERE id = ? AND NOT EXISTS (SELECT 1 FROM emails WHERE category_id = ?)', args: [input.id, input.id] },
      { sql: 'DELETE FROM contact_subscriptions WHERE category_id = ? AND NOT EXISTS (SELECT 1 FROM email_categories WHERE id = ?)', args: [input.id, input.id] },
    ],
    'write',
  );
  if (out[0]!.rowsAffected === 0) throw new NotFoundError('Email category');
}
