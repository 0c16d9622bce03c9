import { z } from 'zod';
import type { Ctx } from '../context';
import { ConflictError, NotFoundError, ValidationError, isUniqueViolation } from '../errors';
import { touchContact } from '../contacts/contacts';
import { touchCompanyContacts } from '../contacts/writes';
import { checkValue } from '../contacts/values';
import { decodeCursor, encodeCursor, type Page } from '../util/cursor';
import { iso } from '../util/time';
import type { Row } from '@libsql/client';

const text = (max: number) => z.string().trim().max(max).nullable().optional();

// Labels of 1–63 letters, digits and inner hyphens; a top-level label of at least
// two characters that starts with a letter. Empty is allowed here and means
// "no domain" (see blankToNull).
const DOMAIN_RE = /^$|^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

export const CompanyInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  domain: z.string().trim().toLowerCase().max(253).regex(DOMAIN_RE, 'must be a domain name like example.com').nullable().optional(),
  website: text(2048),
  industry: text(100),
  employees: z.number().int().min(0).max(10_000_000).nullable().optional(),
  annual_revenue: z.number().int().min(0).max(1e15).nullable().optional(),
  city: text(100),
  country: text(60),
});
export type CompanyInput = z.infer<typeof CompanyInput>;
export const CompanyPatch = CompanyInput.partial();

const COLS = ['name', 'domain', 'website', 'industry', 'employees', 'annual_revenue', 'city', 'country'] as const;

export interface CompanyView {
  id: number;
  name: string;
  domain: string | null;
  website: string | null;
  industry: string | null;
  employees: number | null;
  annual_revenue: number | null;
  city: string | null;
  country: string | null;
  contacts: number;
  created_at: string;
  updated_at: string;
}

const SELECT = `id, ${COLS.join(', ')}, created_at, updated_at,
  (SELECT count(*) FROM company_contacts cc WHERE cc.company_id = companies.id) AS contacts`;

function view(r: Row): CompanyView {
  const n = (v: unknown) => (v === null ? null : Number(v));
  const s = (v: unknown) => (v === null ? null : String(v));
  return {
    id: Number(r.id),
    name: String(r.name),
    domain: s(r.domain),
    website: s(r.website),
    industry: s(r.industry),
    employees: n(r.employees),
    annual_revenue: n(r.annual_revenue),
    city: s(r.city),
    country: s(r.country),
    contacts: Number(r.contacts),
    created_at: iso(Number(r.created_at))!,
    updated_at: iso(Number(r.updated_at))!,
  };
}

// An empty optional text (after trimming) is stored as null, as contacts do,
// so "" never shows up as a value and never takes part in domain uniqueness.
function blankToNull(input: Partial<CompanyInput>): Partial<CompanyInput> {
  const out: Record<string, unknown> = { ...input };
  for (const col of COLS) if (col !== 'name' && out[col] === '') out[col] = null;
  return out as Partial<CompanyInput>;
}

function checkSemantic(raw: Partial<CompanyInput>) {
  const input = blankToNull(raw);
  const out: Record<string, unknown> = { ...input };
  const errors = [];
  if (input.website) {
    const r = checkValue('url', input.website);
    if (!r.ok) errors.push({ field: 'website', message: r.message });
  }
  if (input.country) {
    const r = checkValue('country', input.country);
    if (r.ok) out.country = r.value;
    else errors.push({ field: 'country', message: r.message });
  }
  if (errors.length) throw new ValidationError(errors);
  return out;
}

async function write<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isUniqueViolation(e)) throw new ConflictError('A company with this domain already exists.');
    throw e;
  }
}

export async function createCompany({ ctx, input }: { ctx: Ctx; input: CompanyInput }): Promise<CompanyView> {
  const values = checkSemantic(input);
  const cols = COLS.filter((c) => values[c] !== undefined);
  const now = ctx.now();
  const res = await write(() =>
    ctx.client.execute({
      sql: `INSERT INTO companies (${[...cols, 'created_at', 'updated_at'].join(', ')})
        VALUES (${[...cols, 'created_at', 'updated_at'].map(() => '?').join(', ')}) RETURNING id`,
      args: [...cols.map((c) => values[c] as string | number | null), now, now],
    }),
  );
  return getCompany({ ctx, input: { id: Number(res.rows[0]!.id) } });
}

export async function getCompany({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<CompanyView> {
  const res = await ctx.client.execute({ sql: `SELECT ${SELECT} FROM companies WHERE id = ?`, args: [input.id] });
  if (!res.rows[0]) throw new NotFoundError('Company');
  return view(res.rows[0]);
}

export async function updateCompany({ ctx, input }: { ctx: Ctx; input: { id: number; patch: Partial<CompanyInput> } }): Promise<CompanyView> {
  const values = checkSemantic(input.patch);
  const cols = COLS.filter((c) => values[c] !== undefined);
  const res = await write(() =>
    ctx.client.execute({
      sql: `UPDATE companies SET ${[...cols, 'updated_at'].map((c) => `${c} = ?`).join(', ')} WHERE id = ?`,
      args: [...cols.map((c) => values[c] as string | number | null), ctx.now(), input.id],
    }),
  );
  if (res.rowsAffected === 0) throw new NotFoundError('Company');
  await touchLinkedContacts(ctx, input.id);
  return getCompany({ ctx, input: { id: input.id } });
}

// Company fields are contact data for segments, which re-check contacts by updated_at.
async function touchLinkedContacts(ctx: Ctx, companyId: number) {
  await ctx.client.execute(touchCompanyContacts(companyId, ctx.now()));
}

export async function deleteCompany({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  const out = await ctx.client.batch(
    [
      touchCompanyContacts(input.id, ctx.now()),
      { sql: 'DELETE FROM company_contacts WHERE company_id = ?', args: [input.id] },
      // Its deals stay, without a company.
      { sql: 'UPDATE deals SET company_id = NULL, updated_at = ? WHERE company_id = ?', args: [ctx.now(), input.id] },
      { sql: 'DELETE FROM companies WHERE id = ?', args: [input.id] },
    ],
    'write',
  );
  if (out[3]!.rowsAffected === 0) throw new NotFoundError('Company');
}

export async function listCompanies({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { limit: number; cursor?: string; q?: string };
}): Promise<Page<CompanyView>> {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (input.q) {
    // SQLite's lower() folds ASCII only, so q is folded the same way: "Ärzte"
    // must still find "Ärzte GmbH". Strings compare as UTF-8 bytes, so the
    // range ends at the highest code point, not at U+FFFF (emoji sort above it).
    const q = input.q.trim().replace(/[A-Z]/g, (ch) => ch.toLowerCase());
    const d = q.toLowerCase(); // domains are stored fully lower-cased
    where.push('(lower(name) >= ? AND lower(name) < ? OR domain >= ? AND domain < ?)');
    args.push(q, q + '\u{10FFFF}', d, d + '\u{10FFFF}');
  }
  if (input.cursor) {
    where.push('id > ?');
    args.push(decodeCursor(input.cursor)[1]);
  }
  const res = await ctx.client.execute({
    sql: `SELECT ${SELECT} FROM companies ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id LIMIT ?`,
    args: [...args, input.limit + 1],
  });
  const more = res.rows.length > input.limit;
  const rows = more ? res.rows.slice(0, input.limit) : res.rows;
  return {
    data: rows.map(view),
    has_more: more,
    next_cursor: more ? encodeCursor([null, Number(rows[rows.length - 1]!.id)]) : null,
  };
}

export interface ContactCompany {
  id: number;
  name: string;
  domain: string | null;
  is_primary: boolean;
}

/** Links a contact to a company; is_primary moves the contact's primary flag here. */
export async function linkContact({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { companyId: number; contactId: number; isPrimary: boolean };
}): Promise<ContactCompany[]> {
  await getCompany({ ctx, input: { id: input.companyId } });
  const c = await ctx.client.execute({ sql: 'SELECT 1 FROM contacts WHERE id = ?', args: [input.contactId] });
  if (!c.rows[0]) throw new NotFoundError('Contact');
  const now = ctx.now();
  await ctx.client.batch(
    [
      ...(input.isPrimary
        ? [{ sql: 'UPDATE company_contacts SET is_primary = 0 WHERE contact_id = ? AND company_id <> ?', args: [input.contactId, input.companyId] }]
        : []),
      {
        sql: `INSERT INTO company_contacts (company_id, contact_id, is_primary, created_at) VALUES (?, ?, ?, ?)
          ON CONFLICT(company_id, contact_id) DO UPDATE SET is_primary = excluded.is_primary`,
        args: [input.companyId, input.contactId, input.isPrimary ? 1 : 0, now],
      },
    ],
    'write',
  );
  await touchContact(ctx, input.contactId);
  return contactCompanies(ctx, input.contactId);
}

export async function unlinkContact({ ctx, input }: { ctx: Ctx; input: { companyId: number; contactId: number } }): Promise<void> {
  const res = await ctx.client.execute({
    sql: 'DELETE FROM company_contacts WHERE company_id = ? AND contact_id = ?',
    args: [input.companyId, input.contactId],
  });
  if (res.rowsAffected === 0) throw new NotFoundError('Link between this company and contact');
  await touchContact(ctx, input.contactId);
}

export async function contactCompanies(ctx: Ctx, contactId: number): Promise<ContactCompany[]> {
  const res = await ctx.client.execute({
    sql: `SELECT c.id, c.name, c.domain, cc.is_primary FROM company_contacts cc JOIN companies c ON c.id = cc.company_id
      WHERE cc.contact_id = ? ORDER BY cc.is_primary DESC, c.name`,
    args: [contactId],
  });
  return res.rows.map((r) => ({
    id: Number(r.id),
    name: String(r.name),
    domain: r.domain === null ? null : String(r.domain),
    is_primary: Number(r.is_primary) === 1,
  }));
}
