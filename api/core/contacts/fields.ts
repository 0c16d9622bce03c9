import { asc, eq, gt, sql } from 'drizzle-orm';
import type { Ctx } from '../context';
import { fields } from '../../db/schema/index';
import { ConflictError, NotFoundError, ValidationError, type FieldError } from '../errors';
import { checkValue, CORE_FIELDS, type FieldType } from './values';
import { removeCustomValue } from './writes';
import { decodeCursor, toPage, type Page } from '../util/cursor';
import { iso } from '../util/time';

export { CORE_FIELDS } from './values';
const RESERVED = new Set([...Object.keys(CORE_FIELDS), 'id', 'tags', 'fields', 'points', 'created_at', 'updated_at', 'last_active_at']);

export interface FieldDef {
  id: number;
  key: string;
  label: string;
  type: FieldType;
  options: string[] | null;
  created_at: string;
  updated_at: string;
}

type Row = typeof fields.$inferSelect;

function view(r: Row): FieldDef {
  return {
    id: r.id,
    key: r.key,
    label: r.label,
    type: r.type as FieldType,
    options: r.options ? (JSON.parse(r.options) as string[]) : null,
    created_at: iso(r.createdAt)!,
    updated_at: iso(r.updatedAt)!,
  };
}

function checkOptions(type: FieldType, options: string[] | null | undefined): string[] | null {
  const needs = type === 'select' || type === 'multiselect';
  if (!needs) {
    if (options && options.length) throw new ValidationError([{ field: 'options', message: `only select and multiselect fields take options` }]);
    return null;
  }
  if (!options || options.length === 0) throw new ValidationError([{ field: 'options', message: `${type} fields need at least one option` }]);
  const unique = [...new Set(options)];
  if (unique.length !== options.length) throw new ValidationError([{ field: 'options', message: 'options must be unique' }]);
  if (options.some((o) => /[|;]/.test(o))) throw new ValidationError([{ field: 'options', message: 'options may not contain | or ; (they separate CSV values)' }]);
  return options;
}

export async function createField({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { key: string; label: string; type: FieldType; options?: string[] | null };
}): Promise<FieldDef> {
  if (RESERVED.has(input.key)) throw new ConflictError(`"${input.key}" is a built-in contact field.`);
  const options = checkOptions(input.type, input.options);
  const now = ctx.now();
  const [row] = await ctx.db
    .insert(fields)
    .values({ key: input.key, label: input.label, type: input.type, options: options ? JSON.stringify(options) : null, createdAt: now, updatedAt: now })
    .onConflictDoNothing()
    .returning();
  if (!row) throw new ConflictError(`A field with key "${input.key}" already exists.`);
  return view(row);
}

export async function listFields({ ctx, input }: { ctx: Ctx; input: { limit: number; cursor?: string } }): Promise<Page<FieldDef>> {
  const after = input.cursor ? decodeCursor(input.cursor)[1] : 0;
  const rows = await ctx.db.select().from(fields).where(gt(fields.id, after)).orderBy(asc(fields.id)).limit(input.limit + 1);
  return toPage(rows, input.limit, (r) => [null, r.id], view);
}

export async function getField({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<FieldDef> {
  const [row] = await ctx.db.select().from(fields).where(eq(fields.id, input.id));
  if (!row) throw new NotFoundError('Field');
  return view(row);
}

export async function updateField({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { id: number; label?: string; options?: string[] | null };
}): Promise<FieldDef> {
  const current = await getField({ ctx, input: { id: input.id } });
  const options = input.options === undefined ? current.options : checkOptions(current.type, input.options);
  const [row] = await ctx.db
    .update(fields)
    .set({ label: input.label ?? current.label, options: options ? JSON.stringify(options) : null, updatedAt: ctx.now() })
    .where(eq(fields.id, input.id))
    .returning();
  return view(row!);
}

// Removing a field also removes its values from every contact, in one transaction.
export async function deleteField({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  const current = await getField({ ctx, input });
  // Stored filters are compact JSON, so a condition on this field reads exactly so.
  const users = await ctx.client.execute({
    sql: `SELECT id, name FROM segments WHERE instr(filter, ?) > 0 ORDER BY id LIMIT 20`,
    args: [JSON.stringify({ field: `fields.${current.key}` }).slice(1, -1)],
  });
  if (users.rows.length) {
    throw new ConflictError(
      `Segments use this field: ${users.rows.map((r) => `${r.id} (${String(r.name)})`).join(', ')}. Change their filters first.`,
    );
  }
  await ctx.client.batch(
    [
      removeCustomValue(current.key),
      { sql: 'DELETE FROM fields WHERE id = ?', args: [input.id] },
    ],
    'write',
  );
}

export async function loadFieldDefs(ctx: Ctx): Promise<Map<string, FieldDef>> {
  const rows = await ctx.db.select().from(fields);
  return new Map(rows.map((r) => [r.key, view(r)]));
}

// Validates a patch of custom values against the definitions; unknown keys are errors.
export function checkCustomValues(
  defs: Map<string, FieldDef>,
  values: Record<string, unknown>,
  opts: { lenient?: boolean; prefix?: string } = {},
): { values: Record<string, unknown>; errors: FieldError[] } {
  const out: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  const prefix = opts.prefix ?? 'fields.';
  for (const [key, raw] of Object.entries(values)) {
    const def = defs.get(key);
    if (!def) {
      errors.push({ field: prefix + key, message: 'no such custom field: create it under /api/v1/fields first' });
      continue;
    }
    // A blank string clears the value, as it does for the built-in columns.
    const value = typeof raw === 'string' && raw.trim() === '' ? null : raw;
    const r = checkValue(def.type, value, { options: def.options, lenient: opts.lenient });
    if (r.ok) out[key] = r.value;
    else errors.push({ field: prefix + key, message: r.message });
  }
  return { values: out, errors };
}

export const countFields = (ctx: Ctx) => ctx.db.select({ n: sql<number>`count(*)` }).from(fields);
