import type { Row } from '@libsql/client';
import type { Ctx } from '../context';
import { ConflictError, isUniqueViolation, NotFoundError, ValidationError, zodErrors, type FieldError } from '../errors';
import { checkFilter } from '../segments/segments';
import { focusItemsChanged } from '../tracking/sites';
import { decodeCursor, toPage, type Page } from '../util/cursor';
import { iso } from '../util/time';
import { clearLiveSlots } from './resolve';
import { loadFieldDefs } from '../contacts/fields';
import { variantHtml } from './content';
import { tokenErrors } from '../personalise/html';
import { mayHaveTokens } from '../personalise/tokens';
import { SlotInput, type Definition, type SlotPatch, type SlotRule, type SlotVariant } from './schema';

// Slots (dynamic web content): create, read, list, change, delete. Every write clears this
// process's cache of live slots (core/slots/resolve.ts) and the per-site flag POST /t answers
// with, so the next page view sees what was just saved; other processes within 10 seconds.

export interface SlotView {
  id: number;
  site_id: number;
  name: string;
  description: string;
  active: boolean;
  variants: SlotVariant[];
  rules: SlotRule[];
  created_at: string;
  updated_at: string;
}

export function view(r: Row): SlotView {
  const def = JSON.parse(String(r.definition)) as Definition;
  return {
    id: Number(r.id),
    site_id: Number(r.site_id),
    name: String(r.name),
    description: String(r.description),
    active: Number(r.active) === 1,
    variants: def.variants,
    rules: def.rules,
    created_at: iso(Number(r.created_at))!,
    updated_at: iso(Number(r.updated_at))!,
  };
}

function changed(ctx: Ctx) {
  clearLiveSlots(ctx);
  // POST /t tells w.js whether a site has focus items or slots to ask GET /focus for.
  focusItemsChanged(ctx);
}

/** Problems of the definition alone: unique variant keys, rules naming a variant. */
function shapeProblems(def: Definition): FieldError[] {
  const out: FieldError[] = [];
  const keys = new Set<string>();
  def.variants.forEach((v, i) => {
    if (keys.has(v.key)) out.push({ field: `variants.${i}.key`, message: `another variant is already called "${v.key}"` });
    keys.add(v.key);
  });
  def.rules.forEach((r, i) => {
    if (!keys.has(r.variant)) out.push({ field: `rules.${i}.variant`, message: `no variant called "${r.variant}"` });
  });
  return out;
}

/** What only the database can tell: the site and stages exist, filters compile (and their regexes run in its REGEXP). */
async function referenceProblems(ctx: Ctx, siteId: number, def: Definition): Promise<FieldError[]> {
  const out: FieldError[] = [];
  const stageIds = def.rules.flatMap((r) => ('stage_id' in r.when ? [r.when.stage_id] : []));
  const [sites, stages] = await ctx.client.batch(
    [
      { sql: 'SELECT id FROM sites WHERE id = ?', args: [siteId] },
      { sql: 'SELECT id FROM stages WHERE id IN (SELECT value FROM json_each(?))', args: [JSON.stringify(stageIds)] },
    ],
    'read',
  );
  if (!sites!.rows.length) out.push({ field: 'site_id', message: `no site with id ${siteId}` });
  const found = new Set(stages!.rows.map((r) => Number(r.id)));
  for (const [i, r] of def.rules.entries()) {
    if ('stage_id' in r.when && !found.has(r.when.stage_id)) out.push({ field: `rules.${i}.when.stage_id`, message: `no stage with id ${r.when.stage_id}` });
    if (!('filter' in r.when)) continue;
    try {
      await checkFilter(ctx, 'dynamic', r.when.filter);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      const at = `rules.${i}.when.filter`;
      out.push(...(e.details ?? [{ field: 'filter', message: e.message }]).map((d) => ({ field: d.field.replace(/^filter/, at), message: d.message })));
    }
  }
  return out;
}

/** Personalisation tokens in the variants: well formed, naming fields that exist, in text only (as they are delivered). */
async function tokenProblems(ctx: Ctx, def: Definition): Promise<FieldError[]> {
  const withTokens = def.variants.map((v, i) => ({ i, html: variantHtml(v) })).filter((x) => mayHaveTokens(x.html));
  if (!withTokens.length) return [];
  const custom = new Set((await loadFieldDefs(ctx)).keys());
  return withTokens.flatMap(({ i, html }) => tokenErrors(html, `variants.${i}.content`, 'html', custom));
}

async function validate(ctx: Ctx, input: SlotInput): Promise<Definition> {
  const def: Definition = { variants: input.variants, rules: input.rules };
  const problems = shapeProblems(def);
  problems.push(...(await referenceProblems(ctx, input.site_id, def)));
  problems.push(...(await tokenProblems(ctx, def)));
  if (problems.length) throw new ValidationError(problems);
  return def;
}

const duplicate = (name: string) => new ConflictError(`The site already has a slot called "${name}": choose another name.`);

export async function createSlot({ ctx, input }: { ctx: Ctx; input: SlotInput }): Promise<SlotView> {
  const def = await validate(ctx, input);
  const now = ctx.now();
  let res;
  try {
    res = await ctx.client.execute({
      sql: `INSERT INTO slots (site_id, name, description, definition, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      args: [input.site_id, input.name, input.description, JSON.stringify(def), input.active ? 1 : 0, now, now],
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicate(input.name);
    throw e;
  }
  changed(ctx);
  return view(res.rows[0]!);
}

export async function getSlot({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<SlotView> {
  const res = await ctx.client.execute({ sql: 'SELECT * FROM slots WHERE id = ?', args: [input.id] });
  if (!res.rows[0]) throw new NotFoundError('Slot');
  return view(res.rows[0]);
}

export async function listSlots({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { limit: number; cursor?: string; site_id?: number; active?: boolean };
}): Promise<Page<SlotView>> {
  const where = ['id > ?'];
  const args: number[] = [input.cursor ? decodeCursor(input.cursor)[1] : 0];
  if (input.site_id !== undefined) where.push('site_id = ?'), args.push(input.site_id);
  if (input.active !== undefined) where.push('active = ?'), args.push(input.active ? 1 : 0);
  const res = await ctx.client.execute({ sql: `SELECT * FROM slots WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`, args: [...args, input.limit + 1] });
  return toPage(res.rows, input.limit, (r) => [null, Number(r.id)], view);
}

export async function updateSlot({ ctx, input }: { ctx: Ctx; input: { id: number; patch: SlotPatch } }): Promise<SlotView> {
  if (!Object.keys(input.patch).length) throw new ValidationError('Nothing to change.');
  const cur = await getSlot({ ctx, input: { id: input.id } });
  const { site_id, name, description, active, variants, rules } = cur;
  const parsed = SlotInput.safeParse({ site_id, name, description, active, variants, rules, ...input.patch });
  if (!parsed.success) throw new ValidationError(zodErrors(parsed.error));
  const next = parsed.data;
  const def = await validate(ctx, next);
  let res;
  try {
    res = await ctx.client.execute({
      sql: 'UPDATE slots SET site_id = ?, name = ?, description = ?, definition = ?, active = ?, updated_at = ? WHERE id = ? RETURNING *',
      args: [next.site_id, next.name, next.description, JSON.stringify(def), next.active ? 1 : 0, ctx.now(), input.id],
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicate(next.name);
    throw e;
  }
  if (!res.rows[0]) throw new NotFoundError('Slot');
  changed(ctx);
  return view(res.rows[0]);
}

/** Its view and click events stay in the event log. */
export async function deleteSlot({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  const res = await ctx.client.execute({ sql: 'DELETE FROM slots WHERE id = ?', args: [input.id] });
  if (!res.rowsAffected) throw new NotFoundError('Slot');
  changed(ctx);
}
