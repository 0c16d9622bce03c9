import type { InStatement } from '@libsql/client';
import type { Ctx } from '../context';
import { eventProps, type SpineEvent } from '../spine/types';
import { EVENT } from '../spine/event-types';
import { activeCampaigns, loadVersion } from './campaigns';
import { durationMs, stepMap } from './definition';
import { endPassStatements, idCandidates, enrollStatements } from './enroll';
import { entryGoals, matchSql } from './match';
import { compileEnv } from '../segments/membership';
import { goalStatements, hasActivePasses } from './goals';

/**
 * Campaigns on the event spine (DESIGN.md: decisions and goals are reactions, only timers are
 * polled). For each chunk of stored events, in order:
 *   - sources: segment_joined, form_submit and custom events enroll into active campaigns;
 *     segment_left ends passes of campaigns that exit on leaving;
 *   - goals: contacts the events touched that reached a goal end their pass as converted;
 *   - decisions: waiting decisions of those contacts that the events satisfy are decided `yes`
 *     and made due now: the scheduler moves the contact on (it alone runs steps, so a paused
 *     campaign holds them).
 * Every statement is idempotent (guarded by status), as the spine requires.
 */

const DECIDED = new WeakMap<Ctx, boolean>();

/** Whether the last chunks made steps due (the spine then runs the scheduler at once). */
export function takeDecided(ctx: Ctx): boolean {
  const v = DECIDED.get(ctx) ?? false;
  DECIDED.delete(ctx);
  return v;
}

const prop = (e: SpineEvent, key: string): unknown => eventProps(e)[key];

export async function campaignStatements(ctx: Ctx, events: SpineEvent[]): Promise<InStatement[]> {
  const withContact = events.filter((e) => e.contactId !== null);
  if (!withContact.length) return [];
  const camps = await activeCampaigns(ctx);
  // Nothing to enroll into and nobody in a campaign: nothing to decide or convert either.
  if (!camps.length && !(await hasActivePasses(ctx))) return [];
  const now = ctx.now();
  const out: InStatement[] = [];
  // Sources: enrollments gather per (campaign, source) and are written set-based, one pair of
  // statements per group; a leave that exits flushes its campaign's gathered joins first, so a
  // join then leave (or leave then join) within one chunk keeps its order.
  const enrolling: { campaignId: number; version: number }[] = [];
  const env = camps.some((c) => c.definition.goals.length) ? await compileEnv(ctx) : null;
  for (const c of camps) {
    const pending = new Map<string, number[]>();
    const enrollable = { ...c, goals: env ? entryGoals(c.definition, now, env) : [] };
    const flush = () => {
      for (const [source, ids] of pending) out.push(...enrollStatements(enrollable, { source, candidates: idCandidates(ids), now }));
      if (pending.size) enrolling.push({ campaignId: c.id, version: c.version });
      pending.clear();
    };
    for (const e of withContact) {
      if (e.createdAt < c.publishedAt) continue;
      for (const s of c.definition.sources) {
        const hit =
          (s.type === 'segment' && e.type === EVENT.segment_joined && Number(prop(e, 'segment_id')) === s.segment_id) ||
          (s.type === 'form' && e.type === EVENT.form_submit && Number(prop(e, 'form_id')) === s.form_id) ||
          (s.type === 'event' && e.type === EVENT.custom && e.name === s.name);
        if (hit) {
          const source = s.type === 'event' ? `event:${s.name}` : `${s.type}:${s.type === 'segment' ? s.segment_id : s.form_id}`;
          pending.set(source, [...(pending.get(source) ?? []), e.contactId!]);
        }
        if (s.type === 'segment' && s.exit_on_leave && e.type === EVENT.segment_left && Number(prop(e, 'segment_id')) === s.segment_id) {
          flush();
          const ids = JSON.stringify([e.contactId]);
          out.push(...endPassStatements(c.id, { status: 'exited', reason: 'segment_left', where: { sql: 'contact_id IN (SELECT value FROM json_each(?))', args: [ids] }, contacts: ids, now }));
        }
      }
    }
    flush();
  }
  const touched = JSON.stringify([...new Set(withContact.map((e) => e.contactId!))]);
  // Goals after sources: a contact enrolled by this chunk that already meets a goal converts at once.
  out.push(...(await goalStatements(ctx, touched, now, enrolling)));
  // Decisions: the touched contacts' waiting decisions, one UPDATE per decision step.
  const waiting = await ctx.client.execute({
    sql: `SELECT DISTINCT campaign_id, version, step_id FROM campaign_steps WHERE contact_id IN (SELECT value FROM json_each(?)) AND status = 'waiting' AND branch IS NULL`,
    args: [touched],
  });
  for (const w of waiting.rows) {
    const def = await loadVersion(ctx, Number(w.campaign_id), Number(w.version));
    const step = def ? stepMap(def).get(String(w.step_id)) : undefined;
    if (step?.type !== 'decision') continue;
    const cond = matchSql(step.on, {
      contact: 'campaign_steps.contact_id',
      since: '(SELECT en.entered_at FROM campaign_enrollments en WHERE en.campaign_id = campaign_steps.campaign_id AND en.contact_id = campaign_steps.contact_id AND en.rotation = campaign_steps.rotation)',
      until: `campaign_steps.waiting_since + ${durationMs(step.timeout)}`,
    });
    out.push({
      sql: `UPDATE campaign_steps SET branch = 'yes', due_at = min(due_at, ?)
        WHERE campaign_id = ? AND version = ? AND step_id = ? AND status = 'waiting' AND branch IS NULL
          AND contact_id IN (SELECT value FROM json_each(?)) AND ${cond.sql}`,
      args: [now, Number(w.campaign_id), Number(w.version), String(w.step_id), touched, ...cond.args],
    });
  }
  if (out.length) DECIDED.set(ctx, true);
  return out;
}
