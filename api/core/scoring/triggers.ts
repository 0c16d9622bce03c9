import { z } from 'zod';
import type { InStatement, Row } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError } from '../errors';
import { iso } from '../util/time';
import { randomToken } from '../util/crypto';
import type { SpineEvent } from '../spine/types';
import { Action, actionStatements } from './actions';

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

const view = (r: Row): Trigger => ({
  id: Number(r.id),
  name: String(r.name),
  threshold: Number(r.threshold),
  actions: JSON.parse(String(r.actions)) as Action[],
  active: Number(r.active) === 1,
  fired: Number(r.fired ?? 0),
  created_at: iso(Number(r.created_at))!,
  updated_at: iso(Number(r.updated_at))!,
});

const SELECT = 'point_triggers.*, (SELECT count(*) FROM trigger_fires f WHERE f.trigger_id = point_triggers.id) AS fired';

// Webhook actions get their signing secret when saved, like Stripe's endpoints.
function withSecrets(actions: Action[]): Action[] {
  return actions.map((a) => (a.type === 'webhook' && !a.secret ? { ...a, secret: 'whsec_' + randomToken(32) } : a));
}

export async function createTrigger({ ctx, input }: { ctx: Ctx; input: TriggerInput }): Promise<Trigger> {
  const now = ctx.now();
  const r = await ctx.client.execute({
    sql: 'INSERT INTO point_triggers (name, threshold, actions, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
    args: [input.name, input.threshold, JSON.stringify(withSecrets(input.actions as Action[])), input.active ? 1 : 0, now, now],
  });
  return getTrigger({ ctx, input: { id: Number(r.rows[0]!.id) } });
}

export async function getTrigger({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<Trigger> {
  const r = await ctx.client.execute({ sql: `SELECT ${SELECT} FROM point_triggers WHERE id = ?`, args: [input.id] });
  if (!r.rows[0]) throw new NotFoundError('Trigger');
  return view(r.rows[0]);
}

export async function listTriggers({ ctx }: { ctx: Ctx }): Promise<Trigger[]> {
  return (await ctx.client.execute(`SELECT ${SELECT} FROM point_triggers ORDER BY id`)).rows.map(view);
}

export async function updateTrigger({ ctx, input }: { ctx: Ctx; input: { id: number; patch: z.infer<typeof TriggerPatch> } }): Promise<Trigger> {
  const cur = await getTrigger({ ctx, input });
  const actions = input.patch.actions ? withSecrets(input.patch.actions as Action[]) : cur.actions;
  await ctx.client.execute({
    sql: 'UPDATE point_triggers SET name = ?, threshold = ?, actions = ?, active = ?, updated_at = ? WHERE id = ?',
    args: [input.patch.name ?? cur.name, input.patch.threshold ?? cur.threshold, JSON.stringify(actions), (input.patch.active ?? cur.active) ? 1 : 0, ctx.now(), cur.id],
  });
  return getTrigger({ ctx, input });
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
  const triggers = (await listTriggers({ ctx })).filter((t) => t.active);
  if (!triggers.length) return [];
  const stmts: InStatement[] = [];
  for (const e of events) {
    if (e.contactId === null || !e.props) continue;
    const { from, to } = JSON.parse(e.props) as { from: number; to: number };
    for (const t of triggers) {
      if (!(from < t.threshold && to >= t.threshold)) continue;
      stmts.push({
        sql: 'INSERT INTO trigger_fires (trigger_id, contact_id, event_id, fired_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
        args: [t.id, e.contactId, e.id, e.createdAt],
      });
      const run = {
        contactId: e.contactId,
        now: ctx.now(),
        actor: { type: 'trigger' as const, id: t.id, name: t.name },
        guard: { sql: 'EXISTS (SELECT 1 FROM trigger_fires WHERE trigger_id = ? AND contact_id = ? AND event_id = ?)', args: [t.id, e.contactId, e.id] },
        key: `trigger:${t.id}:contact:${e.contactId}`,
        about: { type: 'point_trigger.fired', source: `trigger:${t.id}`, trigger: { id: t.id, name: t.name, threshold: t.threshold }, points: { from, to } },
      };
      for (const a of t.actions) stmts.push(...actionStatements(run, a));
    }
  }
  return stmts;
}
