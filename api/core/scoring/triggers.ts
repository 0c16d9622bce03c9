import { z } from 'zod';
import type { InStatement, Row } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError, ValidationError } from '../errors';
import { iso } from '../util/time';
import { after, toPage, type Page, type PageInput } from '../util/cursor';
import { webhookSecret } from '../util/crypto';
import { policyOf, urlProblem } from '../util/outbound';
import { eventProps, type SpineEvent } from '../spine/types';
import { Action, actionStatements } from './actions';
import { oneContact } from '../contacts/writes';

export const TriggerInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  threshold: z.number().int().min(-1_000_000).max(1_000_000),
  actions: z.array(Action).min(1).max(20),
  active: z.boolean().default(true),
});
export type TriggerInput = z.infer<typeof TriggerInput>;
export const TriggerPatch = z.strictObject({
  name: TriggerInput.shape.name.optional(),
  threshold: TriggerInput.shape.threshold.optional(),
  actions: TriggerInput.shape.actions.optional(),
  active: z.boolean().optional(),
});

export interface Trigger {
  id: number;
  name: string;
  threshold: number;
  actions: Action[];
  active: boolean;
  fired: number;
  created_at: string;
  updated_at: string;
}

// What is stored: webhook actions carry their signing secrets. Only the
// reaction that queues deliveries, and the create/rotate answers, see them.
type TriggerRecord = Trigger;

const record = (r: Row): TriggerRecord => ({
  id: Number(r.id),
  name: String(r.name),
  threshold: Number(r.threshold),
  actions: JSON.parse(String(r.actions)) as Action[],
  active: Number(r.active) === 1,
  fired: Number(r.fired ?? 0),
  created_at: iso(Number(r.created_at))!,
  updated_at: iso(Number(r.updated_at))!,
});

/**
 * A trigger as the API shows it. A signing secret is shown once, when it is
 * made (create, rotate, or a PATCH that minted one: `show` lists those
 * actions), as site secrets are; a read key never sees one.
 */
function publicView(t: TriggerRecord, show: ReadonlySet<number> = new Set()): Trigger {
  return {
    ...t,
    actions: t.actions.map((a, i) => {
      if (a.type !== 'webhook' || show.has(i)) return a;
      const { secret: _secret, ...rest } = a;
      return rest as Action;
    }),
  };
}

const webhookIndexes = (actions: Action[]) => new Set(actions.flatMap((a, i) => (a.type === 'webhook' ? [i] : [])));

const SELECT = 'point_triggers.*, (SELECT count(*) FROM trigger_fires f WHERE f.trigger_id = point_triggers.id) AS fired';

const mintSecret = webhookSecret;

/**
 * Webhook actions get their signing secret when saved, like Stripe's
 * endpoints. An action sent without one keeps the stored secret of the
 * action with the same URL (each stored secret is reused once), so sending
 * back what GET shows changes no secret; only a new URL mints one.
 */
function withSecrets(actions: Action[], current: Action[] = []): { actions: Action[]; minted: Set<number> } {
  const stored = new Map<string, string[]>();
  for (const a of current) {
    if (a.type === 'webhook' && typeof a.secret === 'string') stored.set(String(a.url), [...(stored.get(String(a.url)) ?? []), a.secret]);
  }
  const minted = new Set<number>();
  const out = actions.map((a, i) => {
    if (a.type !== 'webhook' || a.secret) return a;
    const kept = stored.get(String(a.url))?.shift();
    if (kept) return { ...a, secret: kept };
    minted.add(i);
    return { ...a, secret: mintSecret() };
  });
  return { actions: out, minted };
}

// Obviously private targets are refused when saved, naming the field; the
// outbound helper refuses them again at delivery (names that resolve to a
// private address can only be caught there).
function refusePrivateTargets(ctx: Ctx, actions: Action[]): void {
  const policy = policyOf(ctx.config);
  const problems = actions.flatMap((a, i) => {
    const problem = a.type === 'webhook' ? urlProblem(String(a.url), policy) : null;
    return problem ? [{ field: `actions.${i}.url`, message: problem.message }] : [];
  });
  if (problems.length) throw new ValidationError(problems);
}

async function triggerRecord(ctx: Ctx, id: number): Promise<TriggerRecord> {
  const r = await ctx.client.execute({ sql: `SELECT ${SELECT} FROM point_triggers WHERE id = ?`, args: [id] });
  if (!r.rows[0]) throw new NotFoundError('Trigger');
  return record(r.rows[0]);
}

/** Triggers as stored, webhook secrets included: for the reaction that queues deliveries, never for an API answer. */
export async function triggerRecords(ctx: Ctx): Promise<TriggerRecord[]> {
  return (await ctx.client.execute(`SELECT ${SELECT} FROM point_triggers ORDER BY id`)).rows.map(record);
}

export async function createTrigger({ ctx, input }: { ctx: Ctx; input: TriggerInput }): Promise<Trigger> {
  refusePrivateTargets(ctx, input.actions as Action[]);
  const now = ctx.now();
  const { actions } = withSecrets(input.actions as Action[]);
  const r = await ctx.client.execute({
    sql: 'INSERT INTO point_triggers (name, threshold, actions, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
    args: [input.name, input.threshold, JSON.stringify(actions), input.active ? 1 : 0, now, now],
  });
  return publicView(await triggerRecord(ctx, Number(r.rows[0]!.id)), webhookIndexes(actions));
}

export async function getTrigger({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<Trigger> {
  return publicView(await triggerRecord(ctx, input.id));
}

export async function listTriggers({ ctx, input }: { ctx: Ctx; input: PageInput }): Promise<Page<Trigger>> {
  const a = after(input.cursor, null, 'id');
  const r = await ctx.client.execute({ sql: `SELECT ${SELECT} FROM point_triggers WHERE ${a.sql} ORDER BY id LIMIT ?`, args: [...a.args, input.limit + 1] });
  return toPage(r.rows, input.limit, (x) => [null, Number(x.id)], (x) => publicView(record(x)));
}

export async function updateTrigger({ ctx, input }: { ctx: Ctx; input: { id: number; patch: z.infer<typeof TriggerPatch> } }): Promise<Trigger> {
  if (input.patch.actions) refusePrivateTargets(ctx, input.patch.actions as Action[]);
  const cur = await triggerRecord(ctx, input.id);
  const { actions, minted } = input.patch.actions ? withSecrets(input.patch.actions as Action[], cur.actions) : { actions: cur.actions, minted: new Set<number>() };
  await ctx.client.execute({
    sql: 'UPDATE point_triggers SET name = ?, threshold = ?, actions = ?, active = ?, updated_at = ? WHERE id = ?',
    args: [input.patch.name ?? cur.name, input.patch.threshold ?? cur.threshold, JSON.stringify(actions), (input.patch.active ?? cur.active) ? 1 : 0, ctx.now(), cur.id],
  });
  return publicView(await triggerRecord(ctx, cur.id), minted);
}

/**
 * New signing secrets for every webhook action of a trigger, answered once.
 * The old ones stop at once, for deliveries still waiting too: a receiver
 * that switched to the new secret must be able to verify their retries.
 */
export async function rotateTriggerSecrets({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<Trigger> {
  const cur = await triggerRecord(ctx, input.id);
  const hooks = webhookIndexes(cur.actions);
  if (!hooks.size) throw new ValidationError('This trigger has no webhook action, so it has no secret to rotate.');
  const actions = cur.actions.map((a) => (a.type === 'webhook' ? { ...a, secret: mintSecret() } : a));
  await ctx.client.batch(
    [
      { sql: 'UPDATE point_triggers SET actions = ?, updated_at = ? WHERE id = ?', args: [JSON.stringify(actions), ctx.now(), cur.id] },
      ...[...hooks].map((i) => ({
        sql: "UPDATE webhook_deliveries SET secret = ? WHERE source = ? AND url = ? AND secret = ? AND status <> 'delivered'",
        args: [String(actions[i]!.secret), `trigger:${cur.id}`, String(actions[i]!.url), String(cur.actions[i]!.secret ?? '')],
      })),
    ],
    'write',
  );
  return publicView(await triggerRecord(ctx, cur.id), hooks);
}

export async function deleteTrigger({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  const out = await ctx.client.batch(
    [
      { sql: 'DELETE FROM trigger_fires WHERE trigger_id = ?', args: [input.id] },
      { sql: 'DELETE FROM point_triggers WHERE id = ?', args: [input.id] },
    ],
    'write',
  );
  if (out[1]!.rowsAffected === 0) throw new NotFoundError('Trigger');
}

/**
 * Fires triggers when a contact's points cross their threshold upward. The
 * (trigger, contact) primary key makes it once per contact, ever; every action
 * runs behind a guard that holds only for the event that won that key, so
 * concurrent or replayed events cannot fire twice.
 */
export async function fireTriggers(ctx: Ctx, events: SpineEvent[]): Promise<InStatement[]> {
  const triggers = (await triggerRecords(ctx)).filter((t) => t.active);
  if (!triggers.length) return [];
  const stmts: InStatement[] = [];
  for (const e of events) {
    if (e.contactId === null || !e.props) continue;
    const { from, to } = eventProps(e) as { from: number; to: number };
    for (const t of triggers) {
      if (!(from < t.threshold && to >= t.threshold)) continue;
      stmts.push({
        sql: 'INSERT INTO trigger_fires (trigger_id, contact_id, event_id, fired_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
        args: [t.id, e.contactId, e.id, e.createdAt],
      });
      const run = {
        // Only the event that won the (trigger, contact) key acts: concurrent or replayed ones find it taken.
        contacts: oneContact(e.contactId, { sql: 'EXISTS (SELECT 1 FROM trigger_fires WHERE trigger_id = ? AND contact_id = ? AND event_id = ?)', args: [t.id, e.contactId, e.id] }),
        now: ctx.now(),
        actor: { type: 'trigger' as const, id: t.id, name: t.name },
        key: `trigger:${t.id}:contact:`,
        about: { type: 'point_trigger.fired', source: `trigger:${t.id}`, trigger: { id: t.id, name: t.name, threshold: t.threshold }, points: { from, to } },
      };
      for (const a of t.actions) stmts.push(...actionStatements(run, a));
    }
  }
  return stmts;
}
