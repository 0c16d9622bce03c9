import type { z } from 'zod';
import type { ResultSet } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError, ValidationError, isUniqueViolation } from '../errors';
import { resolveContactId } from '../contacts/contacts';
import { after, toPage, type Page, type PageInput } from '../util/cursor';
import { dealWriteStatements } from './effects';
import {
  dealRecord,
  dealView,
  DealFields,
  instantOf,
  sourceJson,
  toCents,
  type DealCreate,
  type DealListFilter,
  type DealUpdate,
  type DealRecord,
  type DealState,
  type DealView,
} from './schema';

/**
 * Sales opportunities. A deal belongs to a contact (a merged contact's old id resolves to the
 * survivor), optionally to a company, and is open, won or lost. Becoming won or lost is an event
 * on the contact's timeline and moves the contact along the funnel (effects.ts); everything one
 * call changes commits in one batch.
 *
 * closed_at: given, or (left out, or null) the moment the deal becomes won or lost, kept while it
 * stays so; an open deal has none, and reopening a deal clears it. A date means noon UTC that day
 * (schema.ts instantOf).
 */

/** The fields a write names, already checked by DealFields (amount in major units, dates as text). */
export type DealChanges = Partial<z.output<typeof DealFields>> & { contact_id?: number; company_id?: number | null };

const COLUMNS = 'id, contact_id, company_id, name, amount_cents, currency, stage, expected_close_date, closed_at, owner, source, lost_reason, integration_id, external_id, created_at, updated_at';

export async function dealById(ctx: Ctx, id: number): Promise<DealRecord | null> {
  const r = await ctx.client.execute({ sql: `SELECT ${COLUMNS} FROM deals WHERE id = ?`, args: [id] });
  return r.rows[0] ? dealRecord(r.rows[0]) : null;
}

export async function dealByExternalId(ctx: Ctx, integrationId: number, externalId: string): Promise<DealRecord | null> {
  const r = await ctx.client.execute({ sql: `SELECT ${COLUMNS} FROM deals WHERE integration_id = ? AND external_id = ?`, args: [integrationId, externalId] });
  return r.rows[0] ? dealRecord(r.rows[0]) : null;
}

/**
 * The deal after a change, before any database check (pure): the fields given over the current
 * ones; on create, `name` and `currency` must be given. Throws 422 naming the field.
 */
export function nextState(current: DealState | null, c: DealChanges, now: number): DealState {
  const missing = current ? [] : (['contact_id', 'name', 'currency'] as const).filter((k) => c[k] === undefined);
  if (missing.length) throw new ValidationError(missing.map((field) => ({ field, message: 'is required for a new deal' })));
  const pick = <K extends keyof DealChanges, T>(k: K, old: T | undefined, fallback: T): T => (c[k] !== undefined ? (c[k] as T) : old !== undefined ? old : fallback);
  const stage = c.stage ?? current?.stage ?? 'open';
  let closedAt: number | null;
  if (stage === 'open') {
    if (typeof c.closed_at === 'string') throw new ValidationError([{ field: 'closed_at', message: 'an open deal has no closed_at; set stage to won or lost' }]);
    closedAt = null;
  } else if (typeof c.closed_at === 'string') {
    closedAt = instantOf(c.closed_at);
  } else {
    // Kept while the deal stays won (or lost); the moment it becomes so otherwise.
    closedAt = current && current.stage === stage && current.closedAt !== null ? current.closedAt : now;
  }
  return {
    contactId: c.contact_id ?? current!.contactId,
    companyId: pick('company_id', current?.companyId, null),
    name: c.name ?? current!.name,
    amountCents: c.amount !== undefined ? toCents(c.amount) : (current?.amountCents ?? 0),
    currency: c.currency ?? current!.currency,
    stage,
    expectedCloseDate: pick('expected_close_date', current?.expectedCloseDate, null),
    closedAt,
    owner: pick('owner', current?.owner, null),
    source: c.source !== undefined ? sourceJson(c.source) : (current?.source ?? null),
    lostReason: pick('lost_reason', current?.lostReason, null),
  };
}

/** Whether a change would leave the deal as it is. */
export function sameState(a: DealState, b: DealState): boolean {
  return STATE_KEYS.every((k) => a[k] === b[k]);
}

const STATE_KEYS: readonly (keyof DealState)[] = [
  'contactId',
  'companyId',
  'name',
  'amountCents',
  'currency',
  'stage',
  'expectedCloseDate',
  'closedAt',
  'owner',
  'source',
  'lostReason',
];

/**
 * The contact (a merged one's survivor) and the company must exist: 422 naming the field. The
 * company is checked when it changes (a deal saved again keeps the one it has).
 */
export async function checkRefs(ctx: Ctx, s: DealState, before?: DealState | null): Promise<DealState> {
  const contactId = await resolveContactId(ctx, s.contactId);
  const company = before && before.companyId === s.companyId ? null : s.companyId;
  const r = await ctx.client.execute({
    sql: 'SELECT EXISTS (SELECT 1 FROM contacts WHERE id = ?) AS contact, ? IS NULL OR EXISTS (SELECT 1 FROM companies WHERE id = ?) AS company',
    args: [contactId, company, company],
  });
  const errors = [];
  if (!Number(r.rows[0]!.contact)) errors.push({ field: 'contact_id', message: `no contact with id ${s.contactId}` });
  if (!Number(r.rows[0]!.company)) errors.push({ field: 'company_id', message: `no company with id ${s.companyId}` });
  if (errors.length) throw new ValidationError(errors);
  return { ...s, contactId };
}

const contactGone = (s: DealState) => new ValidationError([{ field: 'contact_id', message: `no contact with id ${s.contactId}` }]);

// New deals get their id before the batch, so that the events and the stage change written with
// the deal can name it. The id comes after every id ever used (sqlite_sequence, as AUTOINCREMENT
// does); two creates racing for one id: the second's batch fails whole on the primary key and
// takes the next.
async function nextDealId(ctx: Ctx): Promise<number> {
  const r = await ctx.client.execute(
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'deals'), 0), coalesce((SELECT max(id) FROM deals), 0)) + 1 AS id",
  );
  return Number(r.rows[0]!.id);
}

const isIdClash = (e: unknown) => isUniqueViolation(e) && /deals\.id\b/.test(e instanceof Error ? e.message : '');

export interface SavedDeal {
  deal: DealRecord;
  /** The deal_won or deal_lost event this save wrote, if it wrote one. */
  eventId: number | null;
}

/** Inserts a checked deal with its events and stage change (the CRM webhook passes its integration). */
export async function insertDeal(ctx: Ctx, s: DealState, external?: { integrationId: number; externalId: string }): Promise<SavedDeal> {
  for (let attempt = 0; ; attempt++) {
    const id = await nextDealId(ctx);
    const now = ctx.now();
    const w = await dealWriteStatements(ctx, { id, before: null, next: s, now, external });
    try {
      const out = await ctx.client.batch(w.statements, 'write');
      if (out[0]!.rowsAffected === 0) throw contactGone(s);
      return { deal: (await dealById(ctx, id))!, eventId: w.eventAt === null ? null : eventIdOf(out[w.eventAt]) };
    } catch (e) {
      if (attempt < 5 && isIdClash(e)) continue;
      throw e;
    }
  }
}

/** Updates a deal to a checked state, with the events and stage change of its transition. */
export async function saveDeal(ctx: Ctx, before: DealRecord, s: DealState): Promise<SavedDeal> {
  const w = await dealWriteStatements(ctx, { id: before.id, before, next: s, now: ctx.now() });
  const out = await ctx.client.batch(w.statements, 'write');
  if (out[w.updateAt]!.rowsAffected === 0) {
    // Deleted meanwhile (or its contact erased): nothing of this call was written.
    if (await dealById(ctx, before.id)) throw contactGone(s);
    throw new NotFoundError('Deal');
  }
  return { deal: (await dealById(ctx, before.id))!, eventId: w.eventAt === null ? null : eventIdOf(out[w.eventAt]) };
}

const eventIdOf = (r: ResultSet | undefined) => (r?.rows[0] ? Number(r.rows[0].id) : null);

export async function createDealRecord({ ctx, input }: { ctx: Ctx; input: DealCreate }): Promise<SavedDeal> {
  const s = await checkRefs(ctx, nextState(null, input, ctx.now()));
  return insertDeal(ctx, s);
}

export async function createDeal({ ctx, input }: { ctx: Ctx; input: DealCreate }): Promise<DealView> {
  return dealView((await createDealRecord({ ctx, input })).deal);
}

export async function getDeal({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<DealView> {
  const d = await dealById(ctx, input.id);
  if (!d) throw new NotFoundError('Deal');
  return dealView(d);
}

export async function updateDealRecord({ ctx, input }: { ctx: Ctx; input: { id: number; patch: DealUpdate } }): Promise<SavedDeal> {
  const before = await dealById(ctx, input.id);
  if (!before) throw new NotFoundError('Deal');
  const s = await checkRefs(ctx, nextState(before, input.patch, ctx.now()), before);
  return saveDeal(ctx, before, s);
}

export async function updateDeal({ ctx, input }: { ctx: Ctx; input: { id: number; patch: DealUpdate } }): Promise<DealView> {
  return dealView((await updateDealRecord({ ctx, input })).deal);
}

/** Deletes a deal; its events stay on the timeline and the contact keeps its stage. */
export async function deleteDeal({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  const out = await ctx.client.batch(
    [
      // Deals are contact data: segments re-check the contact.
      { sql: 'UPDATE contacts SET updated_at = ? WHERE id = (SELECT contact_id FROM deals WHERE id = ?)', args: [ctx.now(), input.id] },
      { sql: 'DELETE FROM deals WHERE id = ?', args: [input.id] },
    ],
    'write',
  );
  if (out[1]!.rowsAffected === 0) throw new NotFoundError('Deal');
}

/** Deals in the order they were made, optionally of one contact, stage or owner, or changed since. */
export async function listDeals({ ctx, input }: { ctx: Ctx; input: PageInput & DealListFilter }): Promise<Page<DealView>> {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (input.contact_id !== undefined) {
    where.push('contact_id = ?');
    args.push(await resolveContactId(ctx, input.contact_id));
  }
  if (input.stage) {
    where.push('stage = ?');
    args.push(input.stage);
  }
  if (input.owner) {
    where.push('owner = ?');
    args.push(input.owner);
  }
  if (input.updated_since) {
    where.push('updated_at >= ?');
    args.push(instantOf(input.updated_since)!);
  }
  const a = after(input.cursor, null, 'id');
  where.push(a.sql);
  args.push(...a.args);
  const r = await ctx.client.execute({ sql: `SELECT ${COLUMNS} FROM deals WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`, args: [...args, input.limit + 1] });
  return toPage(r.rows, input.limit, (x) => [null, Number(x.id)], (x) => dealView(dealRecord(x)));
}

/** The contact's newest open deal, if any (sales feedback "lost" closes it). */
export async function newestOpenDeal(ctx: Ctx, contactId: number): Promise<DealRecord | null> {
  const r = await ctx.client.execute({
    sql: `SELECT ${COLUMNS} FROM deals WHERE contact_id = ? AND stage = 'open' ORDER BY created_at DESC, id DESC LIMIT 1`,
    args: [contactId],
  });
  return r.rows[0] ? dealRecord(r.rows[0]) : null;
}

