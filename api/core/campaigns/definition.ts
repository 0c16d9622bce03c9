import { z } from 'zod';
import type { Ctx } from '../context';
import { ValidationError, type FieldError } from '../errors';
import { ACTIONS } from '../scoring/actions';
import { Filter } from '../segments/filter';
import { checkFilter } from '../segments/segments';
import { CORE_COLUMNS } from '../contacts/prepare';
import { policyOf, urlProblem } from '../util/outbound';
import { WEEKDAYS } from '../util/zones';

/**
 * What a campaign is: a graph of steps from `start`, each step naming the next by id, with the
 * sources that enroll contacts, the goals that take them out as conversions and the re-entry
 * policy. Validated in two layers: the shape here (zod), the meaning in checkDefinition (cycles,
 * unreachable steps, things that must exist, waits that must end). A path never repeats a step,
 * so a pass runs each step at most once: the (campaign, step, contact, rotation) key holds.
 */

const StepId = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, _ and -, at most 40');
const Next = StepId.nullable().default(null).describe('The next step, or null: the pass ends here (completed)');
const Id = z.number().int().positive();

const Match = z.strictObject({
  op: z.enum(['equals', 'contains', 'starts_with', 'ends_with']),
  value: z.string().min(1).max(500),
});

/** Something the contact does, looked up in the event log (in this pass: since it entered). */
export const EventMatch = z.strictObject({
  event: z.enum(['email_opened', 'email_clicked', 'page_view', 'form_submit', 'asset_download', 'custom', 'slot_click']),
  email_id: Id.optional().describe('email_opened / email_clicked: that email only'),
  url: Match.optional().describe('page_view: the page URL; email_clicked: the link'),
  form_id: Id.optional().describe('form_submit: that form only'),
  asset_id: Id.optional().describe('asset_download: that asset only'),
  slot_id: Id.optional().describe('slot_click: a click inside that slot (dynamic web content) only'),
  variant: z.string().min(1).max(40).optional().describe('slot_click: inside that variant of the slot only ("default": the page\'s own content)'),
  name: z.string().min(1).max(100).optional().describe('custom: the event name (required for custom)'),
});
export type EventMatch = z.infer<typeof EventMatch>;

/** Where the contact is: at or above a points threshold, at a stage or beyond it. */
export const StateMatch = z.union([
  z.strictObject({ points_at_least: z.number().int().min(-1_000_000).max(1_000_000) }),
  z.strictObject({ stage_id: Id }),
]);
export const DecisionOn = z.union([EventMatch, StateMatch]);
export type DecisionOn = z.infer<typeof DecisionOn>;

const Duration = z
  .strictObject({
    days: z.number().int().min(0).max(3650).optional(),
    hours: z.number().int().min(0).max(100_000).optional(),
    minutes: z.number().int().min(0).max(10_000_000).optional(),
  })
  .refine((d) => (d.days ?? 0) + (d.hours ?? 0) + (d.minutes ?? 0) > 0, 'a duration must be longer than 0');
const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour');

export const WaitSpec = z.union([
  z.strictObject({ for: Duration }),
  z.strictObject({
    until: z
      .string()
      .max(40)
      .refine((s) => /^\d{4}-\d\d-\d\dT/.test(s) && !Number.isNaN(Date.parse(s)), 'an ISO 8601 date-time'),
  }),
  z.strictObject({
    window: z
      .strictObject({ days: z.array(z.enum(WEEKDAYS)).min(1).max(7), from: HHMM, to: HHMM })
      .refine((w) => w.from < w.to, 'the window must end after it starts (from < to, same day)'),
  }),
]);
export type WaitSpec = z.infer<typeof WaitSpec>;


const FieldName = z
  .string()
  .max(80)
  .refine((f) => /^fields\.[a-z][a-z0-9_]{0,63}$/.test(f) || ((CORE_COLUMNS as readonly string[]).includes(f) && f !== 'email'), 'a contact column (not email) or fields.<key>');

/** Everything a campaign step can do to a contact. The scoring actions are the same registry triggers use. */
export const CampaignAction = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('send_email'), email_id: Id }),
  ACTIONS.add_tags.params.extend({ type: z.literal('add_tags') }),
  ACTIONS.remove_tags.params.extend({ type: z.literal('remove_tags') }),
  ACTIONS.change_stage.params.extend({ type: z.literal('change_stage') }),
  ACTIONS.add_to_segment.params.extend({ type: z.literal('add_to_segment') }),
  ACTIONS.remove_from_segment.params.extend({ type: z.literal('remove_from_segment') }),
  // The scoring action's `secret` is documented for triggers; here checkDefinition refuses it (the campaign's secret signs).
  ACTIONS.webhook.params.extend({
    type: z.literal('webhook'),
    secret: ACTIONS.webhook.params.shape.secret.describe("Leave it out: campaign webhooks are signed with the campaign's secret (422 when given)"),
  }),
  z.strictObject({ type: z.literal('points'), op: z.enum(['add', 'subtract', 'set']), value: z.number().int().min(-1_000_000).max(1_000_000) }),
  z.strictObject({
    type: z.literal('set_fields'),
    fields: z.record(FieldName, z.union([z.string().max(2000), z.number(), z.boolean(), z.null()])).refine((f) => Object.keys(f).length >= 1 && Object.keys(f).length <= 20, '1 to 20 fields'),
  }),
  z
    .strictObject({
      type: z.literal('notify'),
      email_id: Id.describe('A transactional email; the contact is in its variables as `lead` (id, email, first_name, last_name, points, stage)'),
      to: z.string().email().max(254).optional().describe('Who is told, e.g. the sales team'),
      to_field: FieldName.optional().describe("A contact field holding the person's address, e.g. fields.owner_email"),
    })
    .refine((n) => (n.to === undefined) !== (n.to_field === undefined), 'give exactly one of to and to_field'),
  z.strictObject({ type: z.literal('enroll'), campaign_id: Id }),
  z.strictObject({ type: z.literal('exit') }),
]);
export type CampaignAction = z.infer<typeof CampaignAction>;

export const Step = z.discriminatedUnion('type', [
  z.strictObject({ id: StepId, type: z.literal('action'), name: z.string().max(200).optional(), action: CampaignAction, next: Next }),
  z.strictObject({
    id: StepId,
    type: z.literal('decision'),
    name: z.string().max(200).optional(),
    on: DecisionOn,
    timeout: Duration.describe('How long to wait for it; then the `no` branch'),
    yes: Next,
    no: Next,
  }),
  z.strictObject({ id: StepId, type: z.literal('condition'), name: z.string().max(200).optional(), filter: Filter, yes: Next, no: Next }),
  z.strictObject({ id: StepId, type: z.literal('wait'), name: z.string().max(200).optional(), wait: WaitSpec, next: Next }),
  z.strictObject({
    id: StepId,
    type: z.literal('split'),
    name: z.string().max(200).optional(),
    branches: z
      .array(z.strictObject({ percent: z.number().int().min(1).max(99), next: Next }))
      .min(2)
      .max(5)
      .refine((b) => b.reduce((a, x) => a + x.percent, 0) === 100, 'the percentages must add up to 100'),
  }),
]);
export type Step = z.infer<typeof Step>;

export const Source = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('segment'), segment_id: Id, exit_on_leave: z.boolean().default(false) }),
  z.strictObject({ type: z.literal('form'), form_id: Id }),
  z.strictObject({ type: z.literal('event'), name: z.string().min(1).max(100).describe('A custom event name') }),
]);
export type Source = z.infer<typeof Source>;

export const Goal = z.union([
  z.strictObject({ id: StepId, name: z.string().max(200).optional(), on: DecisionOn }),
  z.strictObject({ id: StepId, name: z.string().max(200).optional(), filter: Filter }),
]);
export type Goal = z.infer<typeof Goal>;

export const Definition = z.strictObject({
  sources: z.array(Source).max(20).default([]),
  start: StepId,
  steps: z.array(Step).min(1).max(200),
  goals: z.array(Goal).max(20).default([]),
  reentry: z
    .union([z.literal('never'), z.strictObject({ after_days: z.number().int().min(1).max(3650) })])
    .default('never')
    .describe("'never', or again N days after the previous pass ended (each pass is a new rotation)"),
});
export type Definition = z.infer<typeof Definition>;

export const nextOf = (s: Step): (string | null)[] =>
  s.type === 'action' || s.type === 'wait' ? [s.next] : s.type === 'split' ? s.branches.map((b) => b.next) : [s.yes, s.no];

export const durationMs = (d: { days?: number; hours?: number; minutes?: number }) => ((d.days ?? 0) * 1440 + (d.hours ?? 0) * 60 + (d.minutes ?? 0)) * 60_000;

export function stepMap(def: Definition): Map<string, Step> {
  return new Map(def.steps.map((s) => [s.id, s]));
}

/** The graph's own faults: duplicate ids, dangling references, cycles, unreachable steps. */
function graphProblems(def: Definition): FieldError[] {
  const out: FieldError[] = [];
  const steps = new Map<string, number>();
  def.steps.forEach((s, i) => {
    if (steps.has(s.id)) out.push({ field: `steps.${i}.id`, message: `duplicate step id "${s.id}"` });
    steps.set(s.id, i);
  });
  if (!steps.has(def.start)) out.push({ field: 'start', message: `no step "${def.start}"` });
  def.steps.forEach((s, i) => {
    for (const n of nextOf(s)) if (n !== null && !steps.has(n)) out.push({ field: `steps.${i}`, message: `step "${s.id}" leads to "${n}", which does not exist` });
  });
  if (out.length) return out;
  // Depth-first from start: a grey node seen again is a cycle; white nodes left are unreachable.
  const byId = stepMap(def);
  const colour = new Map<string, 'grey' | 'black'>();
  const visit = (id: string, path: string[]): void => {
    colour.set(id, 'grey');
    for (const n of nextOf(byId.get(id)!)) {
      if (n === null) continue;
      if (colour.get(n) === 'grey') {
        out.push({ field: `steps.${steps.get(id)}`, message: `cycle: ${[...path, id, n].slice(path.indexOf(n) >= 0 ? path.indexOf(n) : 0).join(' → ')}` });
        continue;
      }
      if (!colour.has(n)) visit(n, [...path, id]);
    }
    colour.set(id, 'black');
  };
  visit(def.start, []);
  def.steps.forEach((s, i) => {
    if (!colour.has(s.id)) out.push({ field: `steps.${i}`, message: `step "${s.id}" cannot be reached from start` });
  });
  const goals = new Set<string>();
  def.goals.forEach((g, i) => {
    if (goals.has(g.id)) out.push({ field: `goals.${i}.id`, message: `duplicate goal id "${g.id}"` });
    goals.add(g.id);
  });
  return out;
}

async function exists(ctx: Ctx, table: string, id: number, where = ''): Promise<boolean> {
  const r = await ctx.client.execute({ sql: `SELECT 1 FROM ${table} WHERE id = ?${where}`, args: [id] });
  return r.rows.length > 0;
}

async function filterProblems(ctx: Ctx, filter: Filter, field: string): Promise<FieldError[]> {
  try {
    await checkFilter(ctx, 'dynamic', filter);
    return [];
  } catch (e) {
    if (e instanceof ValidationError) return (e.details ?? []).map((d) => ({ field: `${field}${d.field.replace(/^filter/, '')}`, message: d.message }));
    throw e;
  }
}

function matchProblems(on: DecisionOn, field: string): FieldError[] {
  if (!('event' in on)) return [];
  const allowed: Record<EventMatch['event'], (keyof EventMatch)[]> = {
    email_opened: ['email_id'],
    email_clicked: ['email_id', 'url'],
    page_view: ['url'],
    form_submit: ['form_id'],
    asset_download: ['asset_id'],
    custom: ['name'],
    slot_click: ['slot_id', 'variant'],
  };
  const out = (Object.keys(on) as (keyof EventMatch)[])
    .filter((k) => k !== 'event' && !allowed[on.event].includes(k))
    .map((k) => ({ field: `${field}.${k}`, message: `does not apply to ${on.event}` }));
  if (on.event === 'custom' && !on.name) out.push({ field: `${field}.name`, message: 'a custom event decision needs the event name' });
  if (on.event === 'page_view' && !on.url) out.push({ field: `${field}.url`, message: 'a page visit needs a URL to match' });
  return out;
}

/** The definition with its defaults filled in (as the API's validation gives it), or a 422 naming the fields. */
export function parseDefinition(input: unknown): Definition {
  const r = Definition.safeParse(input);
  if (r.success) return r.data;
  throw new ValidationError(r.error.issues.slice(0, 20).map((i) => ({ field: ['definition', ...i.path].join('.'), message: i.message })));
}

/**
 * Everything that must hold before a definition is saved or published: the graph, and every
 * email, segment, stage, form, asset and campaign it names exists (and fits its use), filters
 * compile, webhook targets are public. Throws one ValidationError listing every problem.
 */
export async function checkDefinition(ctx: Ctx, def: Definition, selfId?: number): Promise<void> {
  const out = graphProblems(def);
  const policy = policyOf(ctx.config);
  for (const [i, s] of def.steps.entries()) {
    const f = `steps.${i}`;
    if (s.type === 'condition') out.push(...(await filterProblems(ctx, s.filter, `${f}.filter`)));
    if (s.type === 'decision') {
      out.push(...matchProblems(s.on, `${f}.on`));
      if ('email_id' in s.on && s.on.email_id && !(await exists(ctx, 'emails', s.on.email_id))) out.push({ field: `${f}.on.email_id`, message: 'no such email' });
      if ('stage_id' in s.on && !(await exists(ctx, 'stages', s.on.stage_id))) out.push({ field: `${f}.on.stage_id`, message: 'no such stage' });
      if ('slot_id' in s.on && s.on.slot_id && !(await exists(ctx, 'slots', s.on.slot_id))) out.push({ field: `${f}.on.slot_id`, message: 'no such slot' });
    }
    if (s.type !== 'action') continue;
    const a = s.action;
    if (a.type === 'send_email' && !(await exists(ctx, 'emails', a.email_id))) out.push({ field: `${f}.action.email_id`, message: 'no such email' });
    if (a.type === 'notify' && !(await exists(ctx, 'emails', a.email_id, " AND kind = 'transactional'")))
      out.push({ field: `${f}.action.email_id`, message: 'no such transactional email (notifications go to your team, not to the contact)' });
    if ((a.type === 'add_to_segment' || a.type === 'remove_from_segment') && !(await exists(ctx, 'segments', a.segment_id as number)))
      out.push({ field: `${f}.action.segment_id`, message: 'no such segment' });
    if (a.type === 'change_stage' && a.stage_id !== null && !(await exists(ctx, 'stages', a.stage_id as number))) out.push({ field: `${f}.action.stage_id`, message: 'no such stage' });
    if (a.type === 'enroll' && (a.campaign_id === selfId || !(await exists(ctx, 'campaigns', a.campaign_id))))
      out.push({ field: `${f}.action.campaign_id`, message: a.campaign_id === selfId ? 'a campaign cannot enroll into itself (use re-entry)' : 'no such campaign' });
    if (a.type === 'webhook') {
      const problem = urlProblem(String(a.url), policy);
      if (problem) out.push({ field: `${f}.action.url`, message: problem.message });
      if (a.secret !== undefined) out.push({ field: `${f}.action.secret`, message: "campaign webhooks are signed with the campaign's secret; leave it out" });
    }
  }
  for (const [i, src] of def.sources.entries()) {
    if (src.type === 'segment' && !(await exists(ctx, 'segments', src.segment_id))) out.push({ field: `sources.${i}.segment_id`, message: 'no such segment' });
    if (src.type === 'form' && !(await exists(ctx, 'forms', src.form_id))) out.push({ field: `sources.${i}.form_id`, message: 'no such form' });
  }
  for (const [i, g] of def.goals.entries()) {
    if ('filter' in g) out.push(...(await filterProblems(ctx, g.filter, `goals.${i}.filter`)));
    else out.push(...matchProblems(g.on, `goals.${i}.on`));
  }
  if (out.length) throw new ValidationError(out);
}
