import type { InStatement, Row } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError, ValidationError, zodErrors, type FieldError } from '../errors';
import { decodeCursor, toPage, type Page } from '../util/cursor';
import { iso } from '../util/time';
import { focusItemsChanged } from '../tracking/sites';
import {
  checkDefinition,
  FocusItemInput,
  resolveVariants,
  type Definition,
  type FocusItemPatch,
} from './schema';

export interface FocusItem extends Definition {
  id: number;
  name: string;
  site_id: number | null;
  active: boolean;
  is_sample: boolean;
  created_at: string;
  updated_at: string;
}

/** An active item as the public endpoint needs it. */
export interface LiveItem extends Definition {
  id: number;
}

function definitionOf(input: Omit<FocusItemInput, 'name'>): Definition {
  const { style, content, trigger, targeting, frequency, variants } = input;
  return { style, content, trigger, targeting, frequency, variants };
}

function view(r: Row): FocusItem {
  const def = JSON.parse(String(r.definition)) as Definition;
  return {
    id: Number(r.id),
    name: String(r.name),
    site_id: r.site_id === null ? null : Number(r.site_id),
    active: Number(r.active) === 1,
    is_sample: Number(r.is_sample) === 1,
    style: def.style,
    content: def.content,
    trigger: def.trigger,
    targeting: def.targeting,
    frequency: def.frequency,
    variants: def.variants,
    created_at: iso(Number(r.created_at))!,
    updated_at: iso(Number(r.updated_at))!,
  };
}

// Active items per site, briefly cached: GET /focus runs on page views. Writes
// clear this process's cache; other processes (Workers isolates) see edits
// within ITEMS_CACHE_MS. Keyed by ctx because each ctx is its own database.
const ITEMS_CACHE_MS = 10_000;
const MAX_LIVE_ITEMS = 200;
const liveCache = new WeakMap<Ctx, Map<number, { items: LiveItem[]; until: number }>>();

function clearLiveCache(ctx: Ctx) {
  liveCache.delete(ctx);
  // POST /t tells w.js whether a site has focus items to ask for.
  focusItemsChanged(ctx);
}

export async function liveItemsForSite(ctx: Ctx, siteId: number): Promise<LiveItem[]> {
  const now = ctx.now();
  let perSite = liveCache.get(ctx);
  const hit = perSite?.get(siteId);
  if (hit && hit.until > now) return hit.items;
  const res = await ctx.client.execute({
    sql: 'SELECT id, definition FROM focus_items WHERE active = 1 AND (site_id = ? OR site_id IS NULL) ORDER BY id LIMIT ?',
    args: [siteId, MAX_LIVE_ITEMS],
  });
  const items = res.rows.map((r) => ({ id: Number(r.id), ...(JSON.parse(String(r.definition)) as Definition) }));
  if (!perSite) liveCache.set(ctx, (perSite = new Map()));
  if (perSite.size > 10_000) perSite.clear();
  perSite.set(siteId, { items, until: now + ITEMS_CACHE_MS });
  return items;
}

/**
 * What only the database can tell: the site, forms and segments named exist,
 * and regex URL rules compile in the database's REGEXP (which GET /focus uses:
 * it runs in linear time, so a pattern cannot be turned against the server).
 */
async function checkReferences(ctx: Ctx, siteId: number | null, def: Definition): Promise<FieldError[]> {
  const out: FieldError[] = [];
  const formIds = new Map<number, string>();
  try {
    resolveVariants(def).forEach((v, i) => {
      if (v.content.kind !== 'form') return;
      const field = def.variants.length && def.variants[i]!.overrides.content?.form_id !== undefined ? `variants.${i}.overrides.content.form_id` : 'content.form_id';
      if (!formIds.has(v.content.form_id)) formIds.set(v.content.form_id, field);
    });
  } catch {
    return out; // checkDefinition has reported the invalid variant
  }
  const stmts: InStatement[] = [
    { sql: 'SELECT id FROM sites WHERE id = ?', args: [siteId ?? 0] },
    { sql: 'SELECT id FROM forms WHERE id IN (SELECT value FROM json_each(?))', args: [JSON.stringify([...formIds.keys()])] },
    { sql: 'SELECT id FROM segments WHERE id IN (SELECT value FROM json_each(?))', args: [JSON.stringify(def.targeting.segment_ids)] },
  ];
  const [sites, forms, segments] = await ctx.client.batch(stmts, 'read');
  if (siteId !== null && !sites!.rows.length) out.push({ field: 'site_id', message: `no site with id ${siteId}` });
  const foundForms = new Set(forms!.rows.map((r) => Number(r.id)));
  for (const [id, field] of formIds) if (!foundForms.has(id)) out.push({ field, message: `no form with id ${id}` });
  const foundSegments = new Set(segments!.rows.map((r) => Number(r.id)));
  def.targeting.segment_ids.forEach((id, i) => {
    if (!foundSegments.has(id)) out.push({ field: `targeting.segment_ids.${i}`, message: `no segment with id ${id}` });
  });
  for (const [i, rule] of def.targeting.urls.entries()) {
    if (rule.op !== 'regex') continue;
    try {
      await ctx.client.execute({ sql: "SELECT '' REGEXP ?", args: [rule.value] });
    } catch {
      out.push({ field: `targeting.urls.${i}.value`, message: 'is not a regular expression the database supports (no lookaround, backreferences or inline flags)' });
    }
  }
  return out;
}

/** Every check a save makes (the item alone, then against the database); answers the definition stored. */
export async function validate(ctx: Ctx, input: Omit<FocusItemInput, 'name'>): Promise<Definition> {
  const def = definitionOf(input);
  const problems = checkDefinition(def);
  problems.push(...(await checkReferences(ctx, input.site_id, def)));
  if (problems.length) throw new ValidationError(problems);
  return def;
}

export async function createFocusItem({ ctx, input }: { ctx: Ctx; input: FocusItemInput }): Promise<FocusItem> {
  const def = await validate(ctx, input);
  const now = ctx.now();
  const res = await ctx.client.execute({
    sql: `INSERT INTO focus_items (name, site_id, definition, active, is_sample, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    args: [input.name, input.site_id, JSON.stringify(def), input.active ? 1 : 0, input.is_sample ? 1 : 0, now, now],
  });
  clearLiveCache(ctx);
  return view(res.rows[0]!);
}

export async function getFocusItem({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<FocusItem> {
  const res = await ctx.client.execute({ sql: 'SELECT * FROM focus_items WHERE id = ?', args: [input.id] });
  if (!res.rows[0]) throw new NotFoundError('Focus item');
  return view(res.rows[0]);
}

export async function listFocusItems({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { limit: number; cursor?: string; site_id?: number; active?: boolean };
}): Promise<Page<FocusItem>> {
  const where = ['id > ?'];
  const args: (number | string)[] = [input.cursor ? decodeCursor(input.cursor)[1] : 0];
  if (input.site_id !== undefined) where.push('site_id = ?'), args.push(input.site_id);
  if (input.active !== undefined) where.push('active = ?'), args.push(input.active ? 1 : 0);
  const res = await ctx.client.execute({
    sql: `SELECT * FROM focus_items WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`,
    args: [...args, input.limit + 1],
  });
  return toPage(res.rows, input.limit, (r) => [null, Number(r.id)], view);
}

export async function updateFocusItem({ ctx, input }: { ctx: Ctx; input: { id: number; patch: FocusItemPatch } }): Promise<FocusItem> {
  if (!Object.keys(input.patch).length) throw new ValidationError('Nothing to change.');
  const current = await getFocusItem({ ctx, input: { id: input.id } });
  const { id: _id, created_at: _c, updated_at: _u, ...rest } = current;
  const parsed = FocusItemInput.safeParse({ ...rest, ...input.patch });
  if (!parsed.success) throw new ValidationError(zodErrors(parsed.error));
  const merged = parsed.data;
  const def = await validate(ctx, merged);
  const res = await ctx.client.execute({
    sql: `UPDATE focus_items SET name = ?, site_id = ?, definition = ?, active = ?, is_sample = ?, updated_at = ? WHERE id = ? RETURNING *`,
    args: [merged.name, merged.site_id, JSON.stringify(def), merged.active ? 1 : 0, merged.is_sample ? 1 : 0, ctx.now(), input.id],
  });
  clearLiveCache(ctx);
  if (!res.rows[0]) throw new NotFoundError('Focus item');
  return view(res.rows[0]);
}

/** Deletes the item; its events stay in the log (stats of a deleted item are gone with it). */
export async function deleteFocusItem({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  const res = await ctx.client.execute({ sql: 'DELETE FROM focus_items WHERE id = ?', args: [input.id] });
  clearLiveCache(ctx);
  if (res.rowsAffected === 0) throw new NotFoundError('Focus item');
}
