import { z } from 'zod';
import type { Ctx } from '../context';
import { ConflictError, NotFoundError } from '../errors';
import { iso } from '../util/time';
import { resolveContactId } from '../contacts/contacts';
import { campaignRecord, loadVersion } from './campaigns';
import { endPassStatements, enrollStatements } from './enroll';

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
  const ids = [...new Set(await Promise.all(input.contactIds.map((id) => resolveContactId(ctx, id))))];
  const now = ctx.now();
  await ctx.client.batch(
    enrollStatements({ id: c.id, version: c.version, definition: def }, { source: 'manual', candidates: { sql: 'SELECT value AS contact_id FROM json_each(?)', args: [JSON.stringify(ids)] }, now }),
    'write',
  );
  const r = await ctx.client.execute({
    sql: 'SELECT contact_id FROM campaign_enrollments WHERE campaign_id = ? AND entered_at = ? AND source = ? AND contact_id IN (SELECT value FROM json_each(?))',
    args: [c.id, now, 'manual', JSON.stringify(ids)],
  });
  const enrolled = new Set(r.rows.map((x) => Number(x.contact_id)));
  return { enrolled: enrolled.size, not_enrolled: ids.filter((id) => !enrolled.has(id)) };
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

/** GET /contacts/{id}/campaigns: every pass of the contact, newest first, each with the path it took. */
export async function contactCampaigns({ ctx, input }: { ctx: Ctx; input: { contactId: number } }) {
  const id = await resolveContactId(ctx, input.contactId);
  const exists = await ctx.client.execute({ sql: 'SELECT 1 FROM contacts WHERE id = ?', args: [id] });
  if (!exists.rows[0]) throw new NotFoundError('Contact');
  const passes = await ctx.client.execute({
    sql: `SELECT e.*, c.name FROM campaign_enrollments e JOIN campaigns c ON c.id = e.campaign_id WHERE e.contact_id = ? ORDER BY e.entered_at DESC, e.id DESC LIMIT 200`,
    args: [id],
  });
  const steps = await ctx.client.execute({
    sql: 'SELECT * FROM campaign_steps WHERE contact_id = ? ORDER BY id',
    args: [id],
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
  return { data };
}
