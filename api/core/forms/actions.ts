import { z } from 'zod';
import type { InStatement } from '@libsql/client';
import type { Ctx } from '../context';
import { ACTIONS, type ActionRun } from '../scoring/actions';
import { oneContact } from '../contacts/writes';
import { prepareContact, TagName } from '../contacts/prepare';
import { writeField } from '../contacts/writes';
import type { FieldDef } from '../contacts/fields';
import { contactInputFor } from './mapping';

/** What a submit action runs against: the submission just stored, and who sent it. */
export interface FormActionRun {
  formId: number;
  /** The browser's submission id (sid), unique per form. */
  clientId: string;
  contactId: number | null;
  visitorId: number | null;
  now: number;
}

interface FormActionDef<S extends z.ZodType> {
  params: S;
  /** Skipped when the submission is not tied to a contact (an anonymous visitor). */
  needsContact: boolean;
  /** Checks (and normalises) the params against the database when the form is saved. */
  prepare?(ctx: Ctx, params: z.infer<S>, defs: Map<string, FieldDef>): Promise<Prepared<z.infer<S>>> | Prepared<z.infer<S>>;
  /** Statements run in the same transaction as the submission. */
  statements?(run: FormActionRun, params: z.infer<S>): InStatement[];
  /** What the browser gets back in the success answer (e.g. asset_url). */
  respond?(ctx: Ctx, params: z.infer<S>, baseUrl: string): Promise<Record<string, unknown>>;
}

type Prepared<P> = { ok: true; params: P } | { ok: false; message: string };

const def = <S extends z.ZodType>(d: FormActionDef<S>) => d;

// The scoring registry's actions run with a guard that always holds: the
// submission insert in the same transaction is the once-only guard.
function scoringRun(run: FormActionRun): ActionRun {
  return {
    contacts: oneContact(run.contactId!),
    now: run.now,
    actor: { type: 'form', id: run.formId },
    key: `form:${run.formId}:${run.clientId}:contact:`,
    about: { source: 'form', form_id: run.formId, client_id: run.clientId },
  };
}

async function exists(ctx: Ctx, table: 'segments' | 'assets', id: number): Promise<boolean> {
  const r = await ctx.client.execute({ sql: `SELECT 1 FROM ${table} WHERE id = ?`, args: [id] });
  return r.rows.length > 0;
}

const TagList = z.array(TagName).min(1).max(20);
const SegmentParams = z.strictObject({ segment_id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

/**
 * What a form can do on submit, in one registry. Adding an action is adding an
 * entry: its params are validated when the form is saved, its statements run
 * in the submission's transaction, and `respond` adds to the browser's answer.
 */
export const FORM_ACTIONS = {
  add_tags: def({
    params: z.strictObject({ tags: TagList }),
    needsContact: true,
    statements: (run, p) => ACTIONS.add_tags.statements(scoringRun(run), p),
  }),
  remove_tags: def({
    params: z.strictObject({ tags: TagList }),
    needsContact: true,
    statements: (run, p) => ACTIONS.remove_tags.statements(scoringRun(run), p),
  }),
  add_to_segment: def({
    params: SegmentParams,
    needsContact: true,
    prepare: async (ctx, p) => ((await exists(ctx, 'segments', p.segment_id)) ? { ok: true, params: p } : { ok: false, message: `segment ${p.segment_id} does not exist` }),
    statements: (run, p) => ACTIONS.add_to_segment.statements(scoringRun(run), p),
  }),
  remove_from_segment: def({
    params: SegmentParams,
    needsContact: true,
    prepare: async (ctx, p) => ((await exists(ctx, 'segments', p.segment_id)) ? { ok: true, params: p } : { ok: false, message: `segment ${p.segment_id} does not exist` }),
    statements: (run, p) => ACTIONS.remove_from_segment.statements(scoringRun(run), p),
  }),
  set_field: def({
    params: z.strictObject({
      // A contact field: first_name, city… or fields.<custom key>.
      field: z.string().max(80),
      value: z.union([z.string().max(10_000), z.number().finite(), z.boolean(), z.array(z.string().max(200)).max(200), z.null()]),
    }),
    needsContact: true,
    prepare: (_ctx, p, defs) => {
      if (p.field === 'email') return { ok: false, message: 'the email cannot be set by an action' };
      const input = contactInputFor(p.field, p.value, defs);
      if (!input) return { ok: false, message: `${p.field} is not a contact field` };
      const r = prepareContact(input, defs, { lenient: true });
      if (!r.ok) return { ok: false, message: r.errors[0]!.message };
      // Stored normalised (country codes upper-cased, numbers as numbers…).
      const value = p.field.startsWith('fields.') ? r.value.custom![p.field.slice(7)] : r.value.cols[p.field];
      return { ok: true, params: { field: p.field, value: (value ?? null) as typeof p.value } };
    },
    statements: (run, p) => [writeField(oneContact(run.contactId!), p.field, p.value, run.now)],
  }),
  give_points: def({
    params: z.strictObject({
      points: z
        .number()
        .int()
        .min(-10_000)
        .max(10_000)
        .refine((n) => n !== 0, 'must not be 0'),
      reason: z.string().trim().min(1).max(200).default('form submitted'),
    }),
    // Scored like every event, by a point rule the form owns (formPointRules):
    // caps, anonymous visitors and triggers behave as for any rule.
    needsContact: false,
  }),
  deliver_asset: def({
    params: z.strictObject({ asset_id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }),
    needsContact: false,
    prepare: async (ctx, p) => ((await exists(ctx, 'assets', p.asset_id)) ? { ok: true, params: p } : { ok: false, message: `asset ${p.asset_id} does not exist` }),
    respond: async (ctx, p, baseUrl) => {
      const r = await ctx.client.execute({ sql: 'SELECT slug FROM assets WHERE id = ?', args: [p.asset_id] });
      const slug = r.rows[0]?.slug;
      return slug === undefined || slug === null ? {} : { asset_url: `${baseUrl}/a/${encodeURIComponent(String(slug))}` };
    },
  }),
} as const;

export type FormActionType = keyof typeof FORM_ACTIONS;

export const FormAction = z.discriminatedUnion(
  'type',
  Object.entries(FORM_ACTIONS).map(([type, d]) => (d.params as z.ZodObject).extend({ type: z.literal(type) })) as unknown as [
    z.ZodObject<{ type: z.ZodLiteral<string> }>,
    ...z.ZodObject<{ type: z.ZodLiteral<string> }>[],
  ],
);
export type FormAction = { type: FormActionType } & Record<string, unknown>;

type AnyDef = FormActionDef<z.ZodType>;
const defOf = (a: FormAction) => FORM_ACTIONS[a.type] as unknown as AnyDef;
const paramsOf = (a: FormAction) => defOf(a).params.parse(Object.fromEntries(Object.entries(a).filter(([k]) => k !== 'type')));

/** Validates one action for saving; answers the action as it is stored, or what is wrong with it. */
export async function prepareAction(ctx: Ctx, a: FormAction, defs: Map<string, FieldDef>): Promise<{ ok: true; action: FormAction } | { ok: false; message: string }> {
  const d = defOf(a);
  const params = paramsOf(a);
  if (!d.prepare) return { ok: true, action: { type: a.type, ...(params as object) } };
  const r = await d.prepare(ctx, params, defs);
  return r.ok ? { ok: true, action: { type: a.type, ...(r.params as object) } } : r;
}

export function actionStatements(run: FormActionRun, actions: FormAction[]): InStatement[] {
  return actions.flatMap((a) => {
    const d = defOf(a);
    if (!d.statements || (d.needsContact && run.contactId === null)) return [];
    return d.statements(run, paramsOf(a));
  });
}

/** The point rules a form's give_points actions become (see scoring/rules.ts formRuleStatements). */
export function formPointRules(actions: FormAction[]): { points: number; reason: string }[] {
  return actions.filter((a) => a.type === 'give_points').map((a) => paramsOf(a) as { points: number; reason: string });
}

export async function actionResponses(ctx: Ctx, actions: FormAction[], baseUrl: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const a of actions) {
    const d = defOf(a);
    if (d.respond) Object.assign(out, await d.respond(ctx, paramsOf(a), baseUrl));
  }
  return out;
}
