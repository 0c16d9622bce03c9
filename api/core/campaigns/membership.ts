import { z } from 'zod';
import type { Ctx } from '../context';
import { ConflictError, NotFoundError } from '../errors';
import { iso } from '../util/time';
import { after, encodeCursor, type PageInput } from '../util/cursor';
import { resolveContactId } from '../contacts/contacts';
import { campaignRecord, loadVersion } from './campaigns';
import { endPassStatements, enrollStatements } from './enroll';
import { entryGoals } from './match';
import { compileEnv } from '../segments/membership';

/** Contacts in and out of a campaign by hand (the API), and where a contact is in each campaign. */

export const EnrollInput = z.strictObject({
  contact_ids: z.array(z.number().int().positive()).min(1).max(1000),
});

/**
 * Enrolls contacts (merged ids resolve to their survivor). Answers how many got a new pass and
 * which ids were not enrolled: already in it, not allowed back yet by the re-entry policy, or
 * unknown. Only active campaigns take contacts (409 otherwise).
 */
export async function enrollContacts({ ctx, input }: { ctx: Ctx; input: { id: number; contactIds: number[] } }) {
  const c = await campaignRecord(ctx, input.id);
  if (c.status !== 'active' || c.version === null) throw new ConflictError(`Only active campaigns take contacts; this one is ${c.status}.`);
  const def = await loadVersion(ctx, c.id, c.version);
  if (!def) throw new NotFoundError('Campaign version');
  // Merged ids count as their survivor: one look-up for the whole list, not one per id.
  const given = [...new Set(input.contactIds)];
  const aliases = await ctx.client.execute({ sql: 'SELECT old_id, contact_id FROM contact_aliases WHERE old_id IN (SELECT value FROM json_each(?))', args: [JSON.stringify(given)] });
  const survivor = new Map(aliases.rows.map((a) => [Number(a.old_id), Number(a.contact_id)]));
  const resolved = (id: number) => survivor.get(id) ?? id;
  const ids = [...new Set(given.map(resolved))];
  const now = ctx.now();
  const list = JSON.stringify(ids);
  // One write transaction: the highest pass id before and the passes after tell exactly who got a
  // new pass here (a contact enrolled earlier at the same instant is not counted again).
  const out = await ctx.client.batch(
    [
      { sql: 'SELECT coalesce(max(id), 0) AS last FROM campaign_enrollments', args: [] },
      ...enrollStatements({ id: c.id, version: c.version, definition: def, goals: entryGoals(def, now, await compileEnv(ctx)) }, { source: 'manual', candidates: { sql: 'SELECT value AS contact_id FROM json_each(?)', args: [list] }, now }),
      { sql: 'SELECT contact_id, id FROM campaign_enrollments WHERE campaign_id = ? AND contact_id IN (SELECT value FROM json_each(?))', args: [c.id, list] },
    ],
    'write',
  );
  const before = Number(out[0]!.rows[0]!.last);
  const r = { rows: out.at(-1)!.rows.filter((x) => Number(x.id) > before) };
  const enrolled = new Set(r.rows.map((x) => Number(x.contact_id)));
  return { enrolled: enrolled.size, not_enrolled: given.filter((id) => !enrolled.has(resolved(id))) };
}

/** Takes a contact out of a campaign now: its pass ends as exited (reason removed), its open steps are cancelled. */
export async function removeContact({ ctx, input }: { ctx: Ctx; input: { id: number; contactId: number } }): Promise<void> {
  const c = await campaignRecord(ctx, input.id);
  const id = await resolveContactId(ctx, input.contactId);
  const ids = JSON.stringify([id]);
  const out = await ctx.client.batch(
    endPassStatements(c.id, { status: 'exited', reason: 'removed', where: { sql: 'contact_id = ?', args: [id] }, contacts: ids, now: ctx.now() }),
    'write',
  );
  if (out[0]!.rowsAffected === 0) throw new NotFoundError('Active pass of this contact in this campaign');
}

const at = (v: unknown) => iso(v === null || v === undefined ? null : Number(v));

/**
 * GET /contacts/{id}/campaigns: every pass of the contact, newest first, each with the path it took.
 * Paged like every list (keyset on the pass id); the path is read for the page's passes only.
 */
export async function contactCampaigns({ ctx, input }: { ctx: Ctx; input: PageInput & { contactId: number } }) {
  const id = await resolveContactId(ctx, input.contactId);
  const exists = await ctx.client.execute({ sql: 'SELECT 1 FROM contacts WHERE id = ?', args: [id] });
  if (!exists.rows[0]) throw new NotFoundError('Contact');
  const a = after(input.cursor, null, 'e.id', true);
  const all = await ctx.client.execute({
    sql: `SELECT e.*, c.name FROM campaign_enrollments e JOIN campaigns c ON c.id = e.campaign_id WHERE e.contact_id = ? AND ${a.sql} ORDER BY e.id DESC LIMIT ?`,
    args: [id, ...a.args, input.limit + 1],
  });
  const more = all.rows.length > input.limit;
  const passes = { rows: more ? all.rows.slice(0, input.limit) : all.rows };
  const steps = await ctx.client.execute({
    sql: "SELECT * FROM campaign_steps WHERE contact_id = ? AND (campaign_id, rotation) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?)) ORDER BY id",
    args: [id, JSON.stringify(passes.rows.map((p) => [Number(p.campaign_id), Number(p.rotation)]))],
  });
  const data = passes.rows.map((p) => {
    const path = steps.rows
      .filter((s) => Number(s.campaign_id) === Number(p.campaign_id) && Number(s.rotation) === Number(p.rotation))
      .map((s) => ({
        step_id: String(s.step_id),
        status: String(s.status),
        branch: s.branch === null ? null : String(s.branch),
        skip_reason: s.skip_reason === null ? null : String(s.skip_reason),
        error: s.error === null ? null : String(s.error),
        reached_at: at(s.created_at)!,
        due_at: s.status === 'pending' || s.status === 'waiting' ? at(s.due_at) : null,
        completed_at: at(s.completed_at),
      }));
    const open = path.find((s) => s.status === 'pending' || s.status === 'waiting' || s.status === 'failed');
    return {
      campaign: { id: Number(p.campaign_id), name: String(p.name) },
      rotation: Number(p.rotation),
      version: Number(p.version),
      status: String(p.status),
      source: String(p.source),
      end_reason: p.end_reason === null ? null : String(p.end_reason),
      goal: p.goal === null ? null : String(p.goal),
      entered_at: at(p.entered_at)!,
      ended_at: at(p.ended_at),
      current_step: open?.step_id ?? null,
      path,
    };
  });
  const last = passes.rows.at(-1);
  return { data, has_more: more, next_cursor: more && last ? encodeCursor([null, Number(last.id)]) : null };
}
