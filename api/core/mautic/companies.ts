import type { Ctx } from '../context';
import { BadRequestError, NotFoundError, ValidationError, type FieldError } from '../errors';
import { createCompany, deleteCompany, getCompany, linkContact, listCompanies, unlinkContact, updateCompany, type CompanyInput, type CompanyView } from '../companies/companies';
import { COMPANY_FIELDS, countryCode, countryName, INDUSTRIES } from './fields';
import { keyedById, offsetPage, type Window } from './paging';

/** A Leadline company in Mautic's layout (CompanyApiController's `company`). */
export function mauticCompany(c: CompanyView) {
  const value = (column: string | null): unknown => {
    if (column === null) return null;
    const v = c[column as keyof CompanyView];
    return column === 'country' && typeof v === 'string' ? countryName(v) : (v ?? null);
  };
  const groups: Record<string, Record<string, unknown>> = { core: {}, professional: {} };
  const all: Record<string, unknown> = { id: c.id };
  COMPANY_FIELDS.forEach((f, i) => {
    const v = value(f.column);
    all[f.alias] = v;
    groups[f.group]![f.alias] = { id: String(100 + i), label: f.label, alias: f.alias, type: f.type, group: f.group, field_order: String(i), object: 'company', value: v };
  });
  return {
    isPublished: true,
    dateAdded: c.created_at,
    dateModified: c.updated_at,
    createdBy: null,
    createdByUser: null,
    modifiedBy: null,
    modifiedByUser: null,
    id: c.id,
    score: 0,
    owner: null,
    fields: { ...groups, other: [], all },
  };
}

/** A Mautic company body (companyname, companycity, …) as Leadline's company input; other aliases are ignored. */
export function mapCompanyBody(body: Record<string, unknown>, opts: { replace: boolean }): Partial<CompanyInput> {
  const out: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  const blankClears = opts.replace || body.overwriteWithBlank === true || body.overwriteWithBlank === 1;
  for (const f of COMPANY_FIELDS) {
    if (f.column === null) continue;
    if (opts.replace && f.column !== 'name') out[f.column] = null;
    if (!Object.hasOwn(body, f.alias)) continue;
    let v = body[f.alias];
    if (v === null || (typeof v === 'string' && v.trim() === '')) {
      if (!blankClears || f.column === 'name') continue;
      out[f.column] = null;
      continue;
    }
    if (f.column === 'employees' || f.column === 'annual_revenue') {
      const n = typeof v === 'string' ? Number(v.replace(/[, ]/g, '')) : v;
      if (typeof n !== 'number' || !Number.isFinite(n)) {
        errors.push({ field: f.alias, message: 'must be a number' });
        continue;
      }
      v = Math.round(n);
    } else if (typeof v === 'number') v = String(v);
    if (f.column === 'country' && typeof v === 'string') v = countryCode(v);
    out[f.column] = v;
  }
  if (errors.length) throw new ValidationError(errors);
  return out as Partial<CompanyInput>;
}

/** The company with this name (case-insensitive, the oldest if several), else a new one: Mautic's company de-duplication. */
export async function findOrCreateCompany(ctx: Ctx, name: string, rest: Partial<CompanyInput> = {}): Promise<number> {
  const found = await findCompanyByName(ctx, name);
  if (found !== null) return found;
  return (await createCompany({ ctx, input: { ...rest, name } as CompanyInput })).id;
}

async function findCompanyByName(ctx: Ctx, name: string): Promise<number | null> {
  const r = await ctx.client.execute({ sql: 'SELECT id FROM companies WHERE lower(name) = lower(?) ORDER BY id LIMIT 1', args: [name.trim()] });
  return r.rows[0] ? Number(r.rows[0].id) : null;
}

export async function listMauticCompanies({ ctx, input }: { ctx: Ctx; input: Window & { search?: string } }) {
  const q = input.search?.trim() || undefined;
  if (q && q.length > 200) throw new BadRequestError('search may be at most 200 characters.');
  const lower = q?.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
  const { total, items } = await offsetPage(
    ctx,
    {
      from: 'companies',
      // The same prefix match as Leadline's own list (core/companies/companies.ts).
      where: lower ? { sql: '(lower(name) >= ? AND lower(name) < ? OR domain >= ? AND domain < ?)', args: [lower, lower + '\u{10FFFF}', lower.toLowerCase(), lower.toLowerCase() + '\u{10FFFF}'] } : undefined,
      sort: null,
      list: (p) => listCompanies({ ctx, input: { ...p, q } }),
    },
    input,
  );
  return { total: total, companies: keyedById(items.map(mauticCompany)) };
}

export async function getMauticCompany({ ctx, input }: { ctx: Ctx; input: { id: number } }) {
  return { company: mauticCompany(await getCompany({ ctx, input })) };
}

/** POST /companies/new: a company with this name already there is updated (200), else one is created (201). */
export async function newMauticCompany({ ctx, input }: { ctx: Ctx; input: Record<string, unknown> }) {
  const values = mapCompanyBody(input, { replace: false });
  if (typeof values.name !== 'string' || !values.name.trim()) throw new ValidationError([{ field: 'companyname', message: 'is required' }]);
  const existing = await findCompanyByName(ctx, values.name);
  if (existing !== null) return { company: mauticCompany(await updateCompany({ ctx, input: { id: existing, patch: values } })), created: false };
  return { company: mauticCompany(await createCompany({ ctx, input: values as CompanyInput })), created: true };
}

/** PATCH merges (404 when missing); PUT replaces, and creates a missing company (201). */
export async function editMauticCompany({ ctx, input }: { ctx: Ctx; input: { id: number; body: Record<string, unknown>; replace: boolean } }) {
  try {
    await getCompany({ ctx, input });
  } catch (e) {
    if (e instanceof NotFoundError && input.replace) return newMauticCompany({ ctx, input: input.body });
    throw e;
  }
  const values = mapCompanyBody(input.body, { replace: input.replace });
  return { company: mauticCompany(await updateCompany({ ctx, input: { id: input.id, patch: values } })), created: false };
}

export async function deleteMauticCompany({ ctx, input }: { ctx: Ctx; input: { id: number } }) {
  const shaped = mauticCompany(await getCompany({ ctx, input }));
  await deleteCompany({ ctx, input });
  return { company: { ...shaped, id: null } };
}

export async function mauticCompanyContact({ ctx, input }: { ctx: Ctx; input: { companyId: number; contactId: number; add: boolean } }) {
  if (input.add) await linkContact({ ctx, input: { companyId: input.companyId, contactId: input.contactId, isPrimary: false } });
  else {
    await getCompany({ ctx, input: { id: input.companyId } });
    await unlinkContact({ ctx, input });
  }
  return { success: 1 };
}

/** The company fields for /fields/company (with Mautic's industry choices). */
export function companyFieldList() {
  return COMPANY_FIELDS.map((f, i) => ({
    id: 100 + i,
    alias: f.alias,
    label: f.label,
    type: f.type,
    group: f.group,
    order: i + 1,
    object: 'company' as const,
    options: f.alias === 'companyindustry' ? INDUSTRIES.map((x) => ({ label: x, value: x })) : null,
  }));
}
