import type { InStatement, InValue } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError } from '../errors';
import { actionStatements, type Action } from '../scoring/actions';
import { pointLogStatement, recomputeStatements } from '../scoring/points';
import { writeField, type ContactSet } from '../contacts/writes';
import { compileEnv } from '../segments/membership';
import { compileFilter } from '../segments/compile';
import { loadEmail } from '../email/emails';
import { queueStatement, addressSource } from '../email/queue';
import { getEmailSettings } from '../email/settings';
import { skipReasonSql } from '../email/suppression';
import { isMarketing } from '../email/schema';
import { durationMs, type CampaignAction, type Definition, type Step } from './definition';
import { entryGoals, matchSql } from './match';
import { waitEnd } from './timing';
import { enrollStatements } from './enroll';
import { loadVersion } from './campaigns';

/**
 * What each kind of step does with a group of claimed rows (same campaign, version, step,
 * rotation and phase): their outcomes, and the side effects to commit with them. Every side
 * effect sits behind the rows' fence (FENCE below), so a holder whose lease was taken over
 * commits nothing; sends and webhooks are also keyed for the outbox (email_sends' reason,
 * webhook_deliveries' dedupe key), so a step can never send twice.
 */

export interface Claimed {
  id: number;
  campaignId: number;
  version: number;
  contactId: number;
  rotation: number;
  stepId: string;
  status: 'pending' | 'waiting';
  attempts: number;
  failures: number;
  waitingSince: number | null;
  branch: string | null;
}

export interface Outcome {
  row: Claimed;
  /** done and skipped move on to `next`; waiting stays at the step until `dueAt` (or an event). */
  status: 'done' | 'skipped' | 'waiting';
  next: string | null;
  branch?: string | null;
  dueAt?: number;
  skip?: string;
  /** The pass ends with this step: completed (no next step), or exited (an exit action). */
  end?: 'completed' | 'exited';
}

export interface GroupResult {
  outcomes: Outcome[];
  effects: InStatement[];
  /** Sends were queued: the send loop should run. */
  sent?: boolean;
}

export interface RunContext {
  ctx: Ctx;
  owner: string;
  now: number;
  campaign: { id: number; name: string; secret: string };
  def: Definition;
  step: Step;
  rows: Claimed[];
}

/** SQL that holds only while the holder still owns the row (lease owner, attempt, still open). */
export const fence = (owner: string, row: Claimed) => ({
  sql: "EXISTS (SELECT 1 FROM campaign_steps WHERE id = ? AND lease_owner = ? AND attempts = ? AND status IN ('pending', 'waiting'))",
  args: [row.id, owner, row.attempts] as InValue[],
});

/** The rows of a group as [{id, attempts}] for json_each, and SQL yielding the contacts whose rows are still held. */
export const fenceJson = (rows: Claimed[]) => JSON.stringify(rows.map((r) => ({ id: r.id, attempts: r.attempts })));
export const FENCED_CONTACTS = `SELECT s.contact_id FROM json_each(?) j JOIN campaign_steps s ON s.id = j.value ->> '$.id'
  AND s.lease_owner = ? AND s.attempts = j.value ->> '$.attempts' AND s.status IN ('pending', 'waiting')`;

const nextAfter = (step: Step, branch?: string | null): string | null => {
  if (step.type === 'action' || step.type === 'wait') return step.next;
  if (step.type === 'split') return step.branches[Number(branch)]?.next ?? null;
  return branch === 'yes' ? step.yes : step.no;
};

const done = (row: Claimed, step: Step, branch: string | null = null, extra: Partial<Outcome> = {}): Outcome => {
  const next = nextAfter(step, branch);
  return { row, status: 'done', next, branch, end: next === null ? 'completed' : undefined, ...extra };
};

/** FNV-1a: the same contact always takes the same branch of a split, in any process. */
export function splitBucket(campaignId: number, stepId: string, contactId: number): number {
  let h = 0x811c9dc5;
  for (const ch of `${campaignId}:${stepId}:${contactId}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % 100;
}

export function splitBranch(step: Extract<Step, { type: 'split' }>, campaignId: number, contactId: number): number {
  const bucket = splitBucket(campaignId, step.id, contactId);
  let acc = 0;
  for (const [i, b] of step.branches.entries()) {
    acc += b.percent;
    if (bucket < acc) return i;
  }
  return step.branches.length - 1;
}

async function contactsMatching(ctx: Ctx, rows: Claimed[], cond: { sql: string; args: InValue[] }): Promise<Set<number>> {
  const r = await ctx.client.execute({
    sql: `SELECT s.contact_id FROM json_each(?) j JOIN campaign_steps s ON s.id = j.value
      JOIN campaign_enrollments en ON en.campaign_id = s.campaign_id AND en.contact_id = s.contact_id AND en.rotation = s.rotation
      WHERE ${cond.sql}`,
    args: [JSON.stringify(rows.map((x) => x.id)), ...cond.args],
  });
  return new Set(r.rows.map((x) => Number(x.contact_id)));
}

/** Decisions: yes when the contact did it in this pass (entered … until), else wait for it until the timeout. */
async function decision(rc: RunContext, step: Extract<Step, { type: 'decision' }>): Promise<GroupResult> {
  const timeout = durationMs(step.timeout);
  const entering = rc.rows.filter((r) => r.status === 'pending');
  const timedOut = rc.rows.filter((r) => r.status === 'waiting' && r.branch !== 'yes');
  const decided = rc.rows.filter((r) => r.status === 'waiting' && r.branch === 'yes');
  const until = entering.length ? String(rc.now) : 's.waiting_since + ' + timeout;
  const hits = entering.length || timedOut.length ? await contactsMatching(rc.ctx, [...entering, ...timedOut], matchSql(step.on, { contact: 's.contact_id', since: 'en.entered_at', until })) : new Set<number>();
  // Entering and timed-out rows never share a group (the phase is part of the group key).
  const outcomes = [
    ...decided.map((r) => done(r, step, 'yes')),
    ...entering.map((r) => (hits.has(r.contactId) ? done(r, step, 'yes') : ({ row: r, status: 'waiting', next: null, dueAt: rc.now + timeout } as Outcome))),
    ...timedOut.map((r) => done(r, step, hits.has(r.contactId) ? 'yes' : 'no')),
  ];
  return { outcomes, effects: [] };
}

async function condition(rc: RunContext, step: Extract<Step, { type: 'condition' }>): Promise<GroupResult> {
  const f = compileFilter(step.filter, await compileEnv(rc.ctx)).scoped;
  const hits = await contactsMatching(rc.ctx, rc.rows, { sql: `EXISTS (SELECT 1 FROM contacts c WHERE c.id = s.contact_id AND (${f.sql}))`, args: f.args });
  return { outcomes: rc.rows.map((r) => done(r, step, hits.has(r.contactId) ? 'yes' : 'no')), effects: [] };
}

/** The contact's zone: its `timezone` field, else its latest site's, else UTC (timing.ts checks the name). */
async function timeZones(ctx: Ctx, rows: Claimed[]): Promise<Map<number, string>> {
  const r = await ctx.client.execute({
    sql: `SELECT c.id, coalesce(json_extract(c.custom, '$.timezone'),
        (SELECT st.timezone FROM visitors v JOIN sites st ON st.id = v.site_id WHERE v.contact_id = c.id AND st.timezone IS NOT NULL ORDER BY v.last_seen_at DESC LIMIT 1), 'UTC') AS tz
      FROM contacts c WHERE c.id IN (SELECT value FROM json_each(?))`,
    args: [JSON.stringify(rows.map((x) => x.contactId))],
  });
  return new Map(r.rows.map((x) => [Number(x.id), String(x.tz)]));
}

async function wait(rc: RunContext, step: Extract<Step, { type: 'wait' }>): Promise<GroupResult> {
  if (rc.rows[0]!.status === 'waiting') return { outcomes: rc.rows.map((r) => done(r, step)), effects: [] };
  const zones = 'window' in step.wait ? await timeZones(rc.ctx, rc.rows) : new Map<number, string>();
  return {
    outcomes: rc.rows.map((r) => {
      const end = waitEnd(step.wait, rc.now, zones.get(r.contactId) ?? 'UTC');
      return end <= rc.now ? done(r, step) : { row: r, status: 'waiting', next: null, dueAt: end };
    }),
    effects: [],
  };
}

const reason = (rc: RunContext) => `campaign:${rc.campaign.id}:${rc.step.id}:${rc.rows[0]!.rotation}`;

/** Send email: one INSERT … SELECT of send rows for the held contacts; suppressed contacts' steps are skipped with the reason. */
async function sendEmail(rc: RunContext, a: Extract<CampaignAction, { type: 'send_email' }>): Promise<GroupResult> {
  const email = await loadEmail(rc.ctx, a.email_id);
  const settings = await getEmailSettings({ ctx: rc.ctx });
  const marketing = isMarketing(email.kind) ? 1 : 0;
  const skip = skipReasonSql({ contact: 'c.id', address: 'c.email_normalized', marketing: String(marketing), category: email.categoryId === null ? 'NULL' : String(email.categoryId), claimingId: null }, settings, rc.now);
  const skipped = await rc.ctx.client.execute({
    sql: `SELECT c.id, ${skip.sql} AS skip FROM contacts c WHERE c.id IN (SELECT value FROM json_each(?))`,
    args: [...skip.args, JSON.stringify(rc.rows.map((r) => r.contactId))],
  });
  const why = new Map(skipped.rows.filter((x) => x.skip !== null).map((x) => [Number(x.id), String(x.skip)]));
  const queue = queueStatement({
    email,
    reason: reason(rc),
    settings,
    now: rc.now,
    recipients: { sql: `SELECT c.id AS contact_id, c.email_normalized AS addr FROM (${FENCED_CONTACTS}) h JOIN contacts c ON c.id = h.contact_id`, args: [fenceJson(rc.rows), rc.owner] },
  });
  return {
    outcomes: rc.rows.map((r) => (why.has(r.contactId) ? done(r, rc.step, null, { status: 'skipped', skip: why.get(r.contactId) }) : done(r, rc.step))),
    effects: [queue],
    sent: true,
  };
}

/** Notify: a transactional email to a person (an address, or one a contact field holds) about the contact. */
async function notify(rc: RunContext, a: Extract<CampaignAction, { type: 'notify' }>): Promise<GroupResult> {
  const email = await loadEmail(rc.ctx, a.email_id);
  const settings = await getEmailSettings({ ctx: rc.ctx });
  const field = a.to_field ? (a.to_field.startsWith('fields.') ? `json_extract(c.custom, '$.${a.to_field.slice(7)}')` : `c.${a.to_field}`) : 'NULL';
  const leads = await rc.ctx.client.execute({
    sql: `SELECT c.id, c.email, c.first_name, c.last_name, c.points, (SELECT name FROM stages WHERE id = c.stage_id) AS stage, ${field} AS to_addr
      FROM contacts c WHERE c.id IN (SELECT value FROM json_each(?))`,
    args: [JSON.stringify(rc.rows.map((r) => r.contactId))],
  });
  const byId = new Map(leads.rows.map((x) => [Number(x.id), x]));
  const outcomes: Outcome[] = [];
  const effects: InStatement[] = [];
  for (const r of rc.rows) {
    const c = byId.get(r.contactId);
    const to = a.to ?? (c && typeof c.to_addr === 'string' && c.to_addr.includes('@') ? c.to_addr : null);
    if (!c || !to) {
      outcomes.push(done(r, rc.step, null, { status: 'skipped', skip: 'no_recipient' }));
      continue;
    }
    const lead = { id: r.contactId, email: c.email, first_name: c.first_name, last_name: c.last_name, points: Number(c.points), stage: c.stage };
    const src = addressSource(to);
    const g = fence(rc.owner, r);
    effects.push(
      queueStatement({
        email,
        reason: `${reason(rc)}:contact:${r.contactId}`,
        settings,
        now: rc.now,
        variables: { lead, campaign: { id: rc.campaign.id, name: rc.campaign.name } },
        recipients: { sql: `SELECT * FROM (${src.sql}) WHERE ${g.sql}`, args: [...src.args, ...g.args] },
      }),
    );
    outcomes.push(done(r, rc.step));
  }
  return { outcomes, effects, sent: effects.length > 0 };
}

/** Enroll in another campaign: set-based over the held contacts; skipped when that campaign is not active. */
async function enroll(rc: RunContext, a: Extract<CampaignAction, { type: 'enroll' }>): Promise<GroupResult> {
  const t = await rc.ctx.client.execute({ sql: "SELECT id, version FROM campaigns WHERE id = ? AND status = 'active'", args: [a.campaign_id] });
  const target = t.rows[0] ? await loadVersion(rc.ctx, a.campaign_id, Number(t.rows[0].version)) : null;
  if (!target) return { outcomes: rc.rows.map((r) => done(r, rc.step, null, { status: 'skipped', skip: 'campaign_not_active' })), effects: [] };
  return {
    outcomes: rc.rows.map((r) => done(r, rc.step)),
    effects: enrollStatements(
      { id: a.campaign_id, version: Number(t.rows[0]!.version), definition: target, goals: entryGoals(target, rc.now, await compileEnv(rc.ctx)) },
      { source: `campaign:${rc.campaign.id}`, candidates: { sql: FENCED_CONTACTS, args: [fenceJson(rc.rows), rc.owner] }, now: rc.now },
    ),
  };
}

/** The contacts of a group whose rows this holder still holds (its fence, set-based). */
const held = (rc: RunContext): ContactSet => ({ sql: FENCED_CONTACTS, args: [fenceJson(rc.rows), rc.owner] });

/**
 * The actions shared with point triggers and forms (scoring/actions.ts), points and fields: a
 * few statements for the whole group, over the contacts whose rows are still held.
 */
function forGroup(rc: RunContext, a: CampaignAction): GroupResult {
  const contacts = held(rc);
  const effects: InStatement[] = [];
  if (a.type === 'points') {
    effects.push(
      pointLogStatement(contacts, a.op, a.value, `campaign "${rc.campaign.name}", step ${rc.step.id}`, rc.now),
      ...recomputeStatements(JSON.stringify(rc.rows.map((r) => r.contactId)), rc.now, `campaign "${rc.campaign.name}"`, { type: 'campaign', id: rc.campaign.id }),
    );
  } else if (a.type === 'set_fields') {
    effects.push(...Object.entries(a.fields).map(([k, v]) => writeField(contacts, k, v, rc.now)));
  } else {
    const run = {
      contacts,
      now: rc.now,
      actor: { type: 'campaign' as const, id: rc.campaign.id, name: rc.campaign.name },
      // One delivery per campaign, step, pass and contact: `…:<rotation>:contact:<id>:<url>`.
      key: `campaign:${rc.campaign.id}:${rc.step.id}:${rc.rows[0]!.rotation}:contact:`,
      about: {
        type: 'campaign.action',
        source: `campaign:${rc.campaign.id}`,
        campaign: { id: rc.campaign.id, name: rc.campaign.name },
        step: { id: rc.step.id, name: rc.step.name ?? null },
        rotation: rc.rows[0]!.rotation,
      },
    };
    const action = (a.type === 'webhook' ? { ...a, secret: rc.campaign.secret } : a) as Action;
    effects.push(...actionStatements(run, action));
  }
  return { outcomes: rc.rows.map((r) => done(r, rc.step)), effects };
}

/** Runs one group: its outcomes and effects. Throws when the step cannot run (an email deleted, a filter that no longer compiles). */
export async function runGroup(rc: RunContext): Promise<GroupResult> {
  const step = rc.step;
  switch (step.type) {
    case 'decision':
      return decision(rc, step);
    case 'condition':
      return condition(rc, step);
    case 'wait':
      return wait(rc, step);
    case 'split':
      return { outcomes: rc.rows.map((r) => done(r, step, String(splitBranch(step, rc.campaign.id, r.contactId)))), effects: [] };
    case 'action': {
      const a = step.action;
      if (a.type === 'send_email') return sendEmail(rc, a);
      if (a.type === 'notify') return notify(rc, a);
      if (a.type === 'enroll') return enroll(rc, a);
      if (a.type === 'exit') return { outcomes: rc.rows.map((r) => ({ ...done(r, step), next: null, end: 'exited' as const })), effects: [] };
      return forGroup(rc, a);
    }
  }
  throw new NotFoundError('Step');
}
