import { z } from 'zod';
import type { InStatement, Row } from '@libsql/client';
import type { Ctx } from '../context';
import { ConflictError, NotFoundError, isUniqueViolation } from '../errors';
import { iso } from '../util/time';
import { after, toPage, type Page, type PageInput } from '../util/cursor';
import { resolveContactId } from '../contacts/contacts';
import { conditions, type Filter } from '../segments/filter';
import { clearStage, oneContact, writeStage, type ContactSet } from '../contacts/writes';

export const StageInput = z.strictObject({
  name: z.string().trim().min(1).max(100),
  position: z.number().int().min(0).max(10_000),
  // Reaching this stage makes a lead marketing-qualified (the accuracy report counts from it).
  is_mql: z.boolean().default(false),
});
export const StagePatch = z.strictObject({
  name: StageInput.shape.name.optional(),
  position: StageInput.shape.position.optional(),
  is_mql: z.boolean().optional(),
});

export interface StageView {
  id: number;
  name: string;
  position: number;
  is_mql: boolean;
  contacts: number;
  created_at: string;
}

/** Who moved a contact to a stage, kept on the stage_changed event. */
export type Actor = { type: 'rule' | 'trigger' | 'api' | 'person' | 'form' | 'campaign' | 'deal'; id?: number; name?: string };

const view = (r: Row): StageView => ({
  id: Number(r.id),
  name: String(r.name),
  position: Number(r.position),
  is_mql: Number(r.is_mql) === 1,
  contacts: Number(r.contacts ?? 0),
  created_at: iso(Number(r.created_at))!,
});

const SELECT = 'stages.*, (SELECT count(*) FROM contacts c WHERE c.stage_id = stages.id) AS contacts';

/** Stages in funnel order, a page at a time. */
export async function listStages({ ctx, input }: { ctx: Ctx; input: PageInput }): Promise<Page<StageView>> {
  const a = after(input.cursor, 'position', 'id');
  const r = await ctx.client.execute({ sql: `SELECT ${SELECT} FROM stages WHERE ${a.sql} ORDER BY position, id LIMIT ?`, args: [...a.args, input.limit + 1] });
  return toPage(r.rows, input.limit, (x) => [Number(x.position), Number(x.id)], view);
}

export async function getStage({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<StageView> {
  const r = await ctx.client.execute({ sql: `SELECT ${SELECT} FROM stages WHERE id = ?`, args: [input.id] });
  if (!r.rows[0]) throw new NotFoundError('Stage');
  return view(r.rows[0]);
}

async function unique<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isUniqueViolation(e)) throw new ConflictError('A stage with this name already exists.');
    throw e;
  }
}

export async function createStage({ ctx, input }: { ctx: Ctx; input: z.infer<typeof StageInput> }): Promise<StageView> {
  const r = await unique(() =>
    ctx.client.execute({
      sql: 'INSERT INTO stages (name, position, is_mql, created_at) VALUES (?, ?, ?, ?) RETURNING id',
      args: [input.name, input.position, input.is_mql ? 1 : 0, ctx.now()],
    }),
  );
  return getStage({ ctx, input: { id: Number(r.rows[0]!.id) } });
}

export async function updateStage({ ctx, input }: { ctx: Ctx; input: { id: number; patch: z.infer<typeof StagePatch> } }): Promise<StageView> {
  const cur = await getStage({ ctx, input });
  await unique(() =>
    ctx.client.execute({
      sql: 'UPDATE stages SET name = ?, position = ?, is_mql = ? WHERE id = ?',
      args: [input.patch.name ?? cur.name, input.patch.position ?? cur.position, (input.patch.is_mql ?? cur.is_mql) ? 1 : 0, cur.id],
    }),
  );
  return getStage({ ctx, input });
}

/** Deleting a stage leaves its contacts without a stage; refused while a segment filter names it. */
export async function deleteStage({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  const stage = await getStage({ ctx, input });
  const users = (await ctx.client.execute(`SELECT id, name, filter FROM segments WHERE instr(filter, '"field":"stage"') > 0 ORDER BY id`)).rows.filter((r) =>
    conditions(JSON.parse(String(r.filter)) as Filter).some((c) => {
      if (!('field' in c) || c.field !== 'stage') return false;
      const values = Array.isArray(c.value) ? c.value : [c.value];
      return values.some((v) => v === stage.id || (typeof v === 'string' && v.trim().toLowerCase() === stage.name.toLowerCase()));
    }),
  );
  if (users.length) {
    throw new ConflictError(`Segments use this stage: ${users.slice(0, 20).map((r) => `${r.id} (${String(r.name)})`).join(', ')}. Change their filters first.`);
  }
  const out = await ctx.client.batch(
    [
      clearStage(input.id, ctx.now()),
      { sql: 'DELETE FROM stages WHERE id = ?', args: [input.id] },
    ],
    'write',
  );
  if (out[1]!.rowsAffected === 0) throw new NotFoundError('Stage');
}

/**
 * Statements moving contacts (one, or a set: see ContactSet) to a stage (or none): a
 * stage_changed event with the actor for each that moves, then the change. Nothing happens for
 * those already there.
 */
export function stageStatements(contacts: ContactSet, stageId: number | null, actor: Actor, now: number): InStatement[] {
  return [
    {
      sql: `INSERT INTO events (contact_id, type, props, created_at)
        SELECT id, 'stage_changed', json_object('from', stage_id, 'from_name', (SELECT name FROM stages WHERE id = contacts.stage_id),
          'to', ?, 'to_name', (SELECT name FROM stages WHERE id = ?), 'actor', json(?)), ?
        FROM contacts WHERE id IN (SELECT contact_id FROM (${contacts.sql})) AND stage_id IS NOT ?`,
      args: [stageId, stageId, JSON.stringify(actor), now, ...contacts.args, stageId],
    },
    writeStage(contacts, stageId, now),
  ];
}

export async function setContactStage({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { contactId: number; stageId: number | null; actor: Actor };
}): Promise<void> {
  const contactId = await resolveContactId(ctx, input.contactId);
  const exists = await ctx.client.execute({ sql: 'SELECT 1 FROM contacts WHERE id = ?', args: [contactId] });
  if (!exists.rows[0]) throw new NotFoundError('Contact');
  if (input.stageId !== null) await getStage({ ctx, input: { id: input.stageId } });
  await ctx.client.batch(stageStatements(oneContact(contactId), input.stageId, input.actor, ctx.now()), 'write');
}
