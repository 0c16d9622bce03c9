import { z } from 'zod';
import type { InStatement, Row } from '@libsql/client';
import type { Ctx } from '../context';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { iso } from '../util/time';
import { webhookSecret } from '../util/crypto';
import { after, toPage, type Page, type PageInput } from '../util/cursor';
import { checkDefinition, Definition, parseDefinition } from './definition';
import { cancelOpenSteps, enrollStatements, type Enrollable } from './enroll';
import { entryGoals } from './match';
import { compileEnv } from '../segments/membership';

/**
 * Campaigns as the API sees them: a working copy (`definition`) that is edited freely, and
 * published versions that are frozen. Lifecycle: draft → (publish) active ⇄ paused → archived.
 * Publishing again makes a new version for new enrollments; contacts in flight keep theirs.
 * Pausing stops steps from running (their rows wait, in place); archiving ends every pass.
 */

export const CAMPAIGN_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export const CampaignInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).nullable().optional(),
  definition: Definition,
});
export type CampaignInput = z.infer<typeof CampaignInput>;
export const CampaignPatch = z.strictObject({
  name: CampaignInput.shape.name.optional(),
  description: CampaignInput.shape.description,
  definition: Definition.optional(),
});

export interface CampaignView {
  id: number;
  name: string;
  description: string | null;
  status: CampaignStatus;
  version: number | null;
  definition: Definition;
  /** Only in the answers to create and rotate-secret. */
  secret?: string;
  created_at: string;
  updated_at: string;
  published_at: string | null;
  archived_at: string | null;
}

export interface CampaignRecord extends CampaignView {
  secret: string;
}

const record = (r: Row): CampaignRecord => ({
  id: Number(r.id),
  name: String(r.name),
  description: r.description === null ? null : String(r.description),
  status: String(r.status) as CampaignStatus,
  version: r.version === null ? null : Number(r.version),
  definition: JSON.parse(String(r.definition)) as Definition,
  secret: String(r.secret),
  created_at: iso(Number(r.created_at))!,
  updated_at: iso(Number(r.updated_at))!,
  published_at: iso(r.published_at === null ? null : Number(r.published_at)),
  archived_at: iso(r.archived_at === null ? null : Number(r.archived_at)),
});

const view = (c: CampaignRecord): CampaignView => {
  const { secret: _secret, ...rest } = c;
  return rest;
};

/**
 * checkDefinition names fields inside the definition ("steps.2.action.email_id"); the API's
 * bodies carry it as `definition`, so its problems are named from there, as the schema's are.
 */
async function checkWorkingCopy(ctx: Ctx, def: Definition, selfId?: number): Promise<void> {
  try {
    await checkDefinition(ctx, def, selfId);
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError((e.details ?? []).map((d) => ({ field: d.field ? `definition.${d.field}` : 'definition', message: d.message })));
    throw e;
  }
}

export async function campaignRecord(ctx: Ctx, id: number): Promise<CampaignRecord> {
  const r = await ctx.client.execute({ sql: 'SELECT * FROM campaigns WHERE id = ?', args: [id] });
  if (!r.rows[0]) throw new NotFoundError('Campaign');
  return record(r.rows[0]);
}

// Published versions never change: parsed once per context.
const versions = new WeakMap<Ctx, Map<string, Promise<Definition | null>>>();

/** A published version's definition (null when there is none). */
export function loadVersion(ctx: Ctx, campaignId: number, version: number): Promise<Definition | null> {
  let cache = versions.get(ctx);
  if (!cache) versions.set(ctx, (cache = new Map()));
  const key = `${campaignId}:${version}`;
  let p = cache.get(key);
  if (!p) {
    if (cache.size > 500) cache.clear();
    p = ctx.client
      .execute({ sql: 'SELECT definition FROM campaign_versions WHERE campaign_id = ? AND version = ?', args: [campaignId, version] })
      .then((r) => (r.rows[0] ? (JSON.parse(String(r.rows[0].definition)) as Definition) : null));
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

/** Active (published, not paused or archived) campaigns with their current definitions: what the spine reaction enrolls into. */
export async function activeCampaigns(ctx: Ctx): Promise<(Enrollable & { name: string; definition: Definition; publishedAt: number; secret: string })[]> {
  const r = await ctx.client.execute("SELECT id, name, version, published_at, secret FROM campaigns WHERE status = 'active' ORDER BY id");
  const out = [];
  for (const row of r.rows) {
    const def = await loadVersion(ctx, Number(row.id), Number(row.version));
    if (def) out.push({ id: Number(row.id), name: String(row.name), version: Number(row.version), definition: def, publishedAt: Number(row.published_at), secret: String(row.secret) });
  }
  return out;
}

export async function createCampaign({ ctx, input: raw }: { ctx: Ctx; input: CampaignInput }): Promise<CampaignRecord> {
  const input = { ...raw, definition: parseDefinition(raw.definition) };
  await checkWorkingCopy(ctx, input.definition);
  const now = ctx.now();
  const r = await ctx.client.execute({
    sql: "INSERT INTO campaigns (name, description, status, definition, secret, created_at, updated_at) VALUES (?, ?, 'draft', ?, ?, ?, ?) RETURNING *",
    args: [input.name, input.description ?? null, JSON.stringify(input.definition), webhookSecret(), now, now],
  });
  // The answer to create is one of the two that show the secret (rotate is the other).
  return record(r.rows[0]!);
}

export async function getCampaign({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<CampaignView> {
  return view(await campaignRecord(ctx, input.id));
}

export async function listCampaigns({ ctx, input }: { ctx: Ctx; input: PageInput & { status?: CampaignStatus } }): Promise<Page<CampaignView>> {
  const a = after(input.cursor, null, 'id', true);
  const where = [a.sql];
  const args = [...a.args];
  if (input.status) where.push('status = ?'), args.push(input.status);
  const r = await ctx.client.execute({ sql: `SELECT * FROM campaigns WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`, args: [...args, input.limit + 1] });
  return toPage(r.rows, input.limit, (x) => [null, Number(x.id)], (x) => view(record(x)));
}

export async function updateCampaign({ ctx, input }: { ctx: Ctx; input: { id: number; patch: z.infer<typeof CampaignPatch> } }): Promise<CampaignView> {
  const cur = await campaignRecord(ctx, input.id);
  if (cur.status === 'archived') throw new ConflictError('This campaign is archived; archived campaigns cannot change.');
  if (input.patch.definition) input.patch.definition = parseDefinition(input.patch.definition);
  if (input.patch.definition) await checkWorkingCopy(ctx, input.patch.definition, cur.id);
  await ctx.client.execute({
    sql: 'UPDATE campaigns SET name = ?, description = ?, definition = ?, updated_at = ? WHERE id = ?',
    args: [
      input.patch.name ?? cur.name,
      input.patch.description === undefined ? cur.description : input.patch.description,
      JSON.stringify(input.patch.definition ?? cur.definition),
      ctx.now(),
      cur.id,
    ],
  });
  return getCampaign({ ctx, input: { id: cur.id } });
}

/** Deleting is for campaigns that never ran or were archived: their history goes with them. */
export async function deleteCampaign({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  const cur = await campaignRecord(ctx, input.id);
  if (cur.status === 'active' || cur.status === 'paused') throw new ConflictError('Archive the campaign before deleting it (contacts are in it).');
  await ctx.client.batch(
    ['campaign_steps', 'campaign_enrollments', 'campaign_versions'].map((t) => ({ sql: `DELETE FROM ${t} WHERE campaign_id = ?`, args: [cur.id] })).concat([
      { sql: 'DELETE FROM campaigns WHERE id = ?', args: [cur.id] },
    ]),
    'write',
  );
}

/** Segment sources enroll the segments' current members when a version is published: a list of statement lists, one per source. */
function segmentEnrollments(c: Enrollable & { definition: Definition }, now: number): InStatement[][] {
  return c.definition.sources.flatMap((s) =>
    s.type === 'segment'
      ? [enrollStatements(c, { source: `segment:${s.segment_id}`, candidates: { sql: 'SELECT contact_id FROM segment_members WHERE segment_id = ?', args: [s.segment_id] }, now })]
      : [],
  );
}

/**
 * Freezes the working copy as the next version and makes it the one new enrollments get; the
 * campaign becomes active (a paused one stays paused). Enrolling the segment sources' members is
 * set-based (INSERT … SELECT), in the same transaction.
 */
export async function publishCampaign({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<CampaignView & { enrolled: number }> {
  const cur = await campaignRecord(ctx, input.id);
  if (cur.status === 'archived') throw new ConflictError('This campaign is archived; archived campaigns cannot be published again.');
  await checkWorkingCopy(ctx, cur.definition, cur.id);
  const now = ctx.now();
  const version = (cur.version ?? 0) + 1;
  const status = cur.status === 'paused' ? 'paused' : 'active';
  const enroll = segmentEnrollments({ id: cur.id, version, definition: cur.definition, goals: entryGoals(cur.definition, now, await compileEnv(ctx)) }, now);
  const out = await ctx.client.batch(
    [
      // The version number is claimed by the insert: a racing publish of the same version fails on the key.
      { sql: 'INSERT INTO campaign_versions (campaign_id, version, definition, created_at) VALUES (?, ?, ?, ?)', args: [cur.id, version, JSON.stringify(cur.definition), now] },
      { sql: 'UPDATE campaigns SET version = ?, status = ?, published_at = coalesce(published_at, ?), updated_at = ? WHERE id = ?', args: [version, status, now, now, cur.id] },
      ...enroll.flat(),
    ],
    'write',
  ).catch((e: unknown) => {
    if (String(e).includes('UNIQUE')) throw new ConflictError('The campaign was published by another request at the same time; read it again.');
    throw e;
  });
  // The first statement of each source's list inserts its passes.
  let at = 2;
  let enrolled = 0;
  for (const list of enroll) {
    enrolled += out[at]!.rowsAffected;
    at += list.length;
  }
  return { ...(await getCampaign({ ctx, input: { id: cur.id } })), enrolled };
}

async function setStatus(ctx: Ctx, id: number, from: CampaignStatus[], to: CampaignStatus, what: string): Promise<CampaignView> {
  const cur = await campaignRecord(ctx, id);
  if (!from.includes(cur.status)) throw new ConflictError(`Only ${from.join(' or ')} campaigns can be ${what}; this one is ${cur.status}.`);
  await ctx.client.execute({ sql: 'UPDATE campaigns SET status = ?, updated_at = ? WHERE id = ? AND status = ?', args: [to, ctx.now(), id, cur.status] });
  return getCampaign({ ctx, input: { id } });
}

export const pauseCampaign = ({ ctx, input }: { ctx: Ctx; input: { id: number } }) => setStatus(ctx, input.id, ['active'], 'paused', 'paused');
export const resumeCampaign = ({ ctx, input }: { ctx: Ctx; input: { id: number } }) => setStatus(ctx, input.id, ['paused'], 'active', 'resumed');

/** Ends every pass (exited, reason archived) and cancels their open steps; nothing runs again. */
export async function archiveCampaign({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<CampaignView> {
  const cur = await campaignRecord(ctx, input.id);
  if (cur.status === 'archived') throw new ConflictError('This campaign is archived already.');
  const now = ctx.now();
  await ctx.client.batch(
    [
      { sql: "UPDATE campaigns SET status = 'archived', archived_at = ?, updated_at = ? WHERE id = ?", args: [now, now, cur.id] },
      { sql: "UPDATE campaign_enrollments SET status = 'exited', end_reason = 'archived', ended_at = ? WHERE campaign_id = ? AND status = 'active'", args: [now, cur.id] },
      cancelOpenSteps(cur.id, null, now),
    ],
    'write',
  );
  return getCampaign({ ctx, input: { id: cur.id } });
}

/** A new signing secret for the campaign's webhook actions, answered once; waiting deliveries switch to it. */
export async function rotateCampaignSecret({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<CampaignRecord> {
  const cur = await campaignRecord(ctx, input.id);
  const secret = webhookSecret();
  await ctx.client.batch(
    [
      { sql: 'UPDATE campaigns SET secret = ?, updated_at = ? WHERE id = ?', args: [secret, ctx.now(), cur.id] },
      { sql: "UPDATE webhook_deliveries SET secret = ? WHERE source = ? AND status <> 'delivered'", args: [secret, `campaign:${cur.id}`] },
    ],
    'write',
  );
  return campaignRecord(ctx, cur.id);
}
