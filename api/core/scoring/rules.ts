import { z } from 'zod';
import type { InStatement, Row } from '@libsql/client';
import type { Ctx } from '../context';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { iso } from '../util/time';
import { after, toPage, type Page, type PageInput } from '../util/cursor';
import { eventProps, type SpineEvent } from '../spine/types';
import { EVENT, isScorable } from '../spine/event-types';
import { recomputeStatements } from './points';
import { pointsStatement } from '../tracking/visitors';

const Match = z.strictObject({
  op: z.enum(['equals', 'contains', 'starts_with', 'ends_with', 'regex']),
  value: z.string().min(1).max(500),
});

// What an event must look like for the rule to score it; every given part must hold.
export const RuleFilter = z.strictObject({
  url: Match.optional(),
  name: z.string().max(100).optional().describe('custom event name'),
  prop: z.strictObject({ key: z.string().max(64), value: z.union([z.string().max(500), z.number(), z.boolean()]) }).optional(),
  form_id: z.number().int().positive().optional(),
  asset_id: z.number().int().positive().optional(),
  focus_id: z.number().int().positive().optional(),
  slot_id: z.number().int().positive().optional().describe('slot_view / slot_click: that slot only'),
  email_id: z.number().int().positive().optional(),
});
export type RuleFilter = z.infer<typeof RuleFilter>;

export const PointRuleInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  event_type: z.string().trim().min(1).max(50),
  filter: RuleFilter.default({}),
  delta: z.number().int().min(-100_000).max(100_000).refine((d) => d !== 0, 'must not be 0'),
  repeatable: z.boolean().default(true),
  cap: z
    .strictObject({ count: z.number().int().min(1).max(100_000), period: z.enum(['day', 'week', 'month']) })
    .nullable()
    .optional(),
  active: z.boolean().default(true),
});
export type PointRuleInput = z.infer<typeof PointRuleInput>;
export const PointRulePatch = z.strictObject({
  name: PointRuleInput.shape.name.optional(),
  filter: RuleFilter.optional(),
  delta: PointRuleInput.shape.delta.optional(),
  repeatable: z.boolean().optional(),
  cap: PointRuleInput.shape.cap,
  active: z.boolean().optional(),
});

export interface PointRule {
  id: number;
  name: string;
  event_type: string;
  filter: RuleFilter;
  delta: number;
  repeatable: boolean;
  cap: { count: number; period: 'day' | 'week' | 'month' } | null;
  active: boolean;
  /** Set when the rule scores a form's give_points action: the form owns it (edit the form to change it). */
  form_id: number | null;
  created_at: string;
  updated_at: string;
}

function view(r: Row): PointRule {
  return {
    id: Number(r.id),
    name: String(r.name),
    event_type: String(r.event_type),
    filter: JSON.parse(String(r.filter)) as RuleFilter,
    delta: Number(r.delta),
    repeatable: Number(r.repeatable) === 1,
    cap: r.cap_count === null ? null : { count: Number(r.cap_count), period: String(r.cap_period) as 'day' },
    active: Number(r.active) === 1,
    form_id: r.form_id === null || r.form_id === undefined ? null : Number(r.form_id),
    created_at: iso(Number(r.created_at))!,
    updated_at: iso(Number(r.updated_at))!,
  };
}

/**
 * Regex URL filters run in the database's REGEXP, as segment filters and focus
 * items do: it runs in linear time, so a pattern like (a|a)+ cannot stall the
 * process on a long URL, as JavaScript's backtracking engine would.
 */
async function checkRule(ctx: Ctx, event_type: string, filter: RuleFilter) {
  if (!isScorable(event_type)) throw new ValidationError([{ field: 'event_type', message: 'system events cannot score points' }]);
  if (filter.url?.op === 'regex') {
    try {
      await ctx.client.execute({ sql: "SELECT '' REGEXP ?", args: [filter.url.value] });
    } catch {
      throw new ValidationError([
        { field: 'filter.url.value', message: 'is not a regular expression the database supports (no lookaround, backreferences, (?:…) groups or inline flags)' },
      ]);
    }
  }
}

export async function createPointRule({ ctx, input }: { ctx: Ctx; input: PointRuleInput }): Promise<PointRule> {
  await checkRule(ctx, input.event_type, input.filter);
  const now = ctx.now();
  const r = await ctx.client.execute({
    sql: `INSERT INTO point_rules (name, event_type, filter, delta, repeatable, cap_count, cap_period, active, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    args: [input.name, input.event_type, JSON.stringify(input.filter), input.delta, input.repeatable ? 1 : 0, input.cap?.count ?? null, input.cap?.period ?? null, input.active ? 1 : 0, now, now],
  });
  return view(r.rows[0]!);
}

export async function getPointRule({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<PointRule> {
  const r = await ctx.client.execute({ sql: 'SELECT * FROM point_rules WHERE id = ?', args: [input.id] });
  if (!r.rows[0]) throw new NotFoundError('Point rule');
  return view(r.rows[0]);
}

export async function listPointRules({ ctx, input }: { ctx: Ctx; input: PageInput }): Promise<Page<PointRule>> {
  const a = after(input.cursor, null, 'id');
  const r = await ctx.client.execute({ sql: `SELECT * FROM point_rules WHERE ${a.sql} ORDER BY id LIMIT ?`, args: [...a.args, input.limit + 1] });
  return toPage(r.rows, input.limit, (x) => [null, Number(x.id)], view);
}

/** Every rule, for scoring. */
async function allPointRules(ctx: Ctx): Promise<PointRule[]> {
  return (await ctx.client.execute('SELECT * FROM point_rules ORDER BY id')).rows.map(view);
}

function notOwned(rule: PointRule) {
  if (rule.form_id !== null) {
    throw new ConflictError(`Point rule ${rule.id} scores the give_points action of form ${rule.form_id}: change the form's actions instead.`);
  }
}

export async function updatePointRule({ ctx, input }: { ctx: Ctx; input: { id: number; patch: z.infer<typeof PointRulePatch> } }): Promise<PointRule> {
  const cur = await getPointRule({ ctx, input });
  notOwned(cur);
  const next = { ...cur, ...input.patch, cap: input.patch.cap === undefined ? cur.cap : input.patch.cap };
  await checkRule(ctx, cur.event_type, next.filter);
  const r = await ctx.client.execute({
    sql: `UPDATE point_rules SET name = ?, filter = ?, delta = ?, repeatable = ?, cap_count = ?, cap_period = ?, active = ?, updated_at = ?
      WHERE id = ? RETURNING *`,
    args: [next.name, JSON.stringify(next.filter), next.delta, next.repeatable ? 1 : 0, next.cap?.count ?? null, next.cap?.period ?? null, next.active ? 1 : 0, ctx.now(), cur.id],
  });
  return view(r.rows[0]!);
}

/** Points already given stay; the rule stops scoring. */
export async function deletePointRule({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  notOwned(await getPointRule({ ctx, input }));
  const r = await ctx.client.execute({ sql: 'DELETE FROM point_rules WHERE id = ?', args: [input.id] });
  if (r.rowsAffected === 0) throw new NotFoundError('Point rule');
}

/**
 * The rules a form's give_points actions are scored by, replacing the form's
 * earlier ones: each scores the form's form_submit events with its points,
 * through the same reaction as every rule. `formId` null: the form inserted
 * just before in the same transaction.
 */
export function formRuleStatements(formId: number | null, give: { points: number; reason: string }[], now: number): InStatement[] {
  const fid = formId === null ? '(SELECT max(id) FROM forms)' : '?';
  const fargs = formId === null ? [] : [formId];
  return [
    { sql: `DELETE FROM point_rules WHERE form_id = ${fid}`, args: fargs },
    ...give.map((g) => ({
      sql: `INSERT INTO point_rules (name, event_type, filter, delta, repeatable, active, form_id, created_at, updated_at)
        SELECT ?, '${EVENT.form_submit}', json_object('form_id', ${fid}), ?, 1, 1, ${fid}, ?, ?`,
      args: [g.reason, ...fargs, g.points, ...fargs, now, now],
    })),
  ];
}

function matchText(m: z.infer<typeof Match>, v: string | null): boolean {
  if (v === null) return false;
  switch (m.op) {
    case 'equals':
      return v === m.value;
    case 'contains':
      return v.includes(m.value);
    case 'starts_with':
      return v.startsWith(m.value);
    case 'ends_with':
      return v.endsWith(m.value);
    case 'regex':
      // Decided by the database beforehand (regexHits).
      return false;
  }
}

/** `regexHits` holds "ruleId:eventId" for the regex URL filters the database matched (see regexHits below). */
export function ruleMatches(rule: PointRule, e: SpineEvent, hits: ReadonlySet<string> = new Set()): boolean {
  if (!rule.active || rule.event_type !== e.type) return false;
  const f = rule.filter;
  if (f.url && (f.url.op === 'regex' ? !hits.has(`${rule.id}:${e.id}`) : !matchText(f.url, e.url))) return false;
  if (f.name !== undefined && e.name !== f.name) return false;
  if (f.prop || f.form_id || f.asset_id || f.focus_id || f.slot_id || f.email_id) {
    const props = eventProps(e);
    if (f.prop && (!Object.hasOwn(props, f.prop.key) || props[f.prop.key] !== f.prop.value)) return false;
    if (f.form_id && Number(props.form_id) !== f.form_id) return false;
    if (f.asset_id && Number(props.asset_id) !== f.asset_id) return false;
    if (f.focus_id && Number(props.focus_id) !== f.focus_id) return false;
    if (f.slot_id && Number(props.slot_id) !== f.slot_id) return false;
    if (f.email_id && Number(props.email_id) !== f.email_id) return false;
  }
  return true;
}

const PERIOD_MS = { day: 86_400_000, week: 7 * 86_400_000, month: 30 * 86_400_000 };

/**
 * Which events' URLs each regex rule matches, asked of the database in one
 * batch (one statement per rule over the URLs of the events it could score).
 * A stored pattern the database rejects matches nothing and is logged.
 */
async function regexHits(ctx: Ctx, rules: PointRule[], events: SpineEvent[]): Promise<Set<string>> {
  const hits = new Set<string>();
  const asks = rules
    .filter((r) => r.filter.url?.op === 'regex')
    .map((rule) => ({ rule, events: events.filter((e) => e.type === rule.event_type && e.url !== null) }))
    .filter((a) => a.events.length);
  if (!asks.length) return hits;
  const stmt = (a: (typeof asks)[number]) => ({
    sql: 'SELECT key FROM json_each(?) WHERE value REGEXP ?',
    args: [JSON.stringify(a.events.map((e) => e.url)), a.rule.filter.url!.value],
  });
  const record = (a: (typeof asks)[number], rows: { key: unknown }[]) => {
    for (const row of rows) hits.add(`${a.rule.id}:${a.events[Number(row.key)]!.id}`);
  };
  try {
    (await ctx.client.batch(asks.map(stmt), 'read')).forEach((res, i) => record(asks[i]!, res.rows as unknown as { key: unknown }[]));
  } catch {
    // One bad pattern fails the batch: ask rule by rule to find it.
    for (const a of asks) {
      try {
        record(a, (await ctx.client.execute(stmt(a))).rows as unknown as { key: unknown }[]);
      } catch (e) {
        ctx.log.warn('point rule regex could not be evaluated', { rule_id: a.rule.id, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }
  return hits;
}

/**
 * Scores events by the point rules (a form's give_points actions are rules the
 * form owns). Each scoring is a log row keyed by (rule, event), so replays add
 * nothing; once-per-contact rules are guarded by a unique index. Anonymous
 * visitors score too, and their points move to the contact when they are
 * identified; a merge moved the merged contact's log, so the survivor's sum is
 * taken again.
 */
export async function scoreEvents(ctx: Ctx, events: SpineEvent[]): Promise<InStatement[]> {
  const rules = (await allPointRules(ctx)).filter((r) => r.active);
  const hits = await regexHits(ctx, rules, events);
  const stmts: InStatement[] = [];
  const contacts = new Set<number>();
  const visitors = new Set<number>();
  const merged = new Set<number>();
  const now = ctx.now();
  for (const e of events) {
    if (e.type === EVENT.identified && e.visitorId !== null && e.contactId !== null) {
      // Points earned while anonymous become the contact's.
      stmts.push(
        { sql: 'UPDATE OR IGNORE point_log SET contact_id = ? WHERE visitor_id = ? AND contact_id IS NULL', args: [e.contactId, e.visitorId] },
        { sql: 'DELETE FROM point_log WHERE visitor_id = ? AND contact_id IS NULL', args: [e.visitorId] },
      );
      contacts.add(e.contactId);
      visitors.add(e.visitorId);
      continue;
    }
    if (e.type === EVENT.merged && e.contactId !== null) {
      merged.add(e.contactId);
      continue;
    }
    if (!isScorable(e.type) || (e.contactId === null && e.visitorId === null)) continue;
    for (const rule of rules) {
      if (!ruleMatches(rule, e, hits)) continue;
      const subject = e.contactId !== null ? 'contact_id' : 'visitor_id';
      const subjectId = e.contactId ?? e.visitorId!;
      const cap = rule.cap ? ` AND (SELECT count(*) FROM point_log WHERE rule_id = ? AND ${subject} = ? AND created_at >= ?) < ?` : '';
      const capArgs = rule.cap ? [rule.id, subjectId, e.createdAt - PERIOD_MS[rule.cap.period], rule.cap.count] : [];
      stmts.push({
        sql: `INSERT INTO point_log (contact_id, visitor_id, rule_id, event_id, once, delta, reason, created_at)
          SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE 1${cap} ON CONFLICT DO NOTHING`,
        args: [e.contactId, e.contactId === null ? e.visitorId : null, rule.id, e.id, rule.repeatable ? 0 : 1, rule.delta, rule.name, e.createdAt, ...capArgs],
      });
      if (e.contactId !== null) contacts.add(e.contactId);
      else visitors.add(e.visitorId!);
    }
  }
  if (merged.size) stmts.push(...recomputeStatements(JSON.stringify([...merged]), now, 'merge', { type: 'merge' }));
  if (contacts.size) stmts.push(...recomputeStatements(JSON.stringify([...contacts]), now, 'point rules', { type: 'rule' }));
  if (visitors.size) stmts.push(pointsStatement(JSON.stringify([...visitors])));
  return stmts;
}
