import { z } from 'zod';
import type { Row } from '@libsql/client';
import { isCleanIdentifier } from '../util/text';
import { iso } from '../util/time';

// The shapes of a deal: what the API and the CRM webhook send, what is stored, what is answered.
// Money is stored in minor units (amount_cents) and spoken as `amount` in major units with at
// most two decimals plus an ISO 4217 `currency`.

export const DEAL_STAGES = ['open', 'won', 'lost'] as const;
export type DealStage = (typeof DEAL_STAGES)[number];

/** The most source fields a deal carries, and the longest key and string value. */
export const MAX_SOURCE_FIELDS = 20;

const DATE_ONLY = /^(\d{4})-(\d\d)-(\d\d)$/;
const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d)$/;
// Deals close in this era: a year outside it is a typo or a hostile value.
const FIRST_YEAR = 1970;
const LAST_YEAR = 9999;

function calendarDate(s: string): { y: number; m: number; d: number } | null {
  const m = DATE_ONLY.exec(s);
  if (!m) return null;
  const [y, mo, d] = [+m[1]!, +m[2]!, +m[3]!];
  const check = new Date(Date.UTC(y, mo - 1, d));
  if (y < FIRST_YEAR || y > LAST_YEAR || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null;
  return { y, m: mo, d };
}

/**
 * An instant given as an ISO date-time with an offset, or a date. A date means noon UTC that
 * day: it falls on that calendar day in every time zone from UTC−11 to UTC+11, so a deal closed
 * "on 2026-03-05" is counted on the 5th whatever zone a report is read in.
 */
export function instantOf(s: string): number | null {
  const d = calendarDate(s);
  if (d) return Date.UTC(d.y, d.m - 1, d.d, 12);
  if (!DATE_TIME.test(s)) return null;
  const ms = Date.parse(s);
  if (!Number.isFinite(ms)) return null;
  const y = new Date(ms).getUTCFullYear();
  return y >= FIRST_YEAR && y <= LAST_YEAR ? ms : null;
}

const twoDecimals = (n: number) => /^-?\d+(\.\d{1,2})?$/.test(String(n));

/** Major units, 0 to 10^12, at most two decimals (cents). */
export const Amount = z.number().min(0).max(1e12).refine(twoDecimals, 'may have at most 2 decimals');
export const Currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like EUR');
export const DateOnly = z.string().max(10).refine((s) => calendarDate(s) !== null, 'must be a calendar date YYYY-MM-DD');
export const Instant = z
  .string()
  .max(40)
  .refine((s) => instantOf(s) !== null, 'must be an ISO 8601 date-time with an offset (2026-03-05T14:00:00Z) or a date (2026-03-05)');
const Label = (max: number) => z.string().trim().min(1).max(max).refine(isCleanIdentifier, 'must not contain control characters');

/** Free source fields from the CRM or the seller (lead_source, campaign…): a flat object. */
export const DealSource = z
  .record(Label(64), z.union([z.string().max(500), z.number(), z.boolean()]))
  .refine((o) => Object.keys(o).length <= MAX_SOURCE_FIELDS, `may have at most ${MAX_SOURCE_FIELDS} fields`);

/** The deal's own fields, as both the API and the CRM webhook send them (all optional here). */
export const DealFields = z.object({
  name: z.string().trim().min(1).max(200),
  amount: Amount,
  currency: Currency,
  stage: z.enum(DEAL_STAGES),
  expected_close_date: DateOnly.nullable(),
  closed_at: Instant.nullable(),
  owner: Label(200).nullable(),
  source: DealSource.nullable(),
  lost_reason: z.string().trim().max(500).nullable(),
});

const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const DealInput = z.strictObject({
  contact_id: id,
  company_id: id.nullable().optional(),
  name: DealFields.shape.name,
  amount: Amount.default(0),
  currency: Currency,
  stage: DealFields.shape.stage.default('open'),
  expected_close_date: DealFields.shape.expected_close_date.optional(),
  closed_at: DealFields.shape.closed_at.optional(),
  owner: DealFields.shape.owner.optional(),
  source: DealFields.shape.source.optional(),
  lost_reason: DealFields.shape.lost_reason.optional(),
});
export type DealInput = z.input<typeof DealInput>;
export type DealCreate = z.output<typeof DealInput>;

export const DealPatch = z.strictObject({
  contact_id: id.optional(),
  company_id: id.nullable().optional(),
  name: DealFields.shape.name.optional(),
  amount: Amount.optional(),
  currency: Currency.optional(),
  stage: DealFields.shape.stage.optional(),
  expected_close_date: DealFields.shape.expected_close_date.optional(),
  closed_at: DealFields.shape.closed_at.optional(),
  owner: DealFields.shape.owner.optional(),
  source: DealFields.shape.source.optional(),
  lost_reason: DealFields.shape.lost_reason.optional(),
});
export type DealPatch = z.input<typeof DealPatch>;
export type DealUpdate = z.output<typeof DealPatch>;

export const DealListQuery = z.object({
  contact_id: id.optional(),
  stage: z.enum(DEAL_STAGES).optional(),
  owner: Label(200).optional(),
  updated_since: Instant.optional(),
});
export type DealListFilter = z.output<typeof DealListQuery>;

/** A deal as stored, in the units of its columns. */
export interface DealState {
  contactId: number;
  companyId: number | null;
  name: string;
  amountCents: number;
  currency: string;
  stage: DealStage;
  expectedCloseDate: string | null;
  closedAt: number | null;
  owner: string | null;
  /** Canonical JSON (keys sorted), or null. */
  source: string | null;
  lostReason: string | null;
}

export interface DealRecord extends DealState {
  id: number;
  integrationId: number | null;
  externalId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface DealView {
  id: number;
  contact_id: number;
  company_id: number | null;
  name: string;
  amount: number;
  currency: string;
  stage: DealStage;
  expected_close_date: string | null;
  closed_at: string | null;
  owner: string | null;
  source: Record<string, string | number | boolean> | null;
  lost_reason: string | null;
  integration_id: number | null;
  external_id: string | null;
  created_at: string;
  updated_at: string;
}

export const toCents = (amount: number) => Math.round(amount * 100);
export const fromCents = (cents: number) => cents / 100;

/** Source fields as stored: keys sorted, so equal sources are equal text. */
export function sourceJson(source: Record<string, string | number | boolean> | null | undefined): string | null {
  if (!source) return null;
  const entries = Object.entries(source).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length ? JSON.stringify(Object.fromEntries(entries)) : null;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));

export function dealRecord(r: Row): DealRecord {
  return {
    id: Number(r.id),
    contactId: Number(r.contact_id),
    companyId: num(r.company_id),
    name: String(r.name),
    amountCents: Number(r.amount_cents),
    currency: String(r.currency),
    stage: String(r.stage) as DealStage,
    expectedCloseDate: str(r.expected_close_date),
    closedAt: num(r.closed_at),
    owner: str(r.owner),
    source: str(r.source),
    lostReason: str(r.lost_reason),
    integrationId: num(r.integration_id),
    externalId: str(r.external_id),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function dealView(d: DealRecord): DealView {
  return {
    id: d.id,
    contact_id: d.contactId,
    company_id: d.companyId,
    name: d.name,
    amount: fromCents(d.amountCents),
    currency: d.currency,
    stage: d.stage,
    expected_close_date: d.expectedCloseDate,
    closed_at: iso(d.closedAt),
    owner: d.owner,
    // JSON.parse makes own properties only (a "__proto__" key stays a plain key); nothing indexes it.
    source: d.source === null ? null : (JSON.parse(d.source) as Record<string, string | number | boolean>),
    lost_reason: d.lostReason,
    integration_id: d.integrationId,
    external_id: d.externalId,
    created_at: iso(d.createdAt)!,
    updated_at: iso(d.updatedAt)!,
  };
}
