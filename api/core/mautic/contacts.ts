import type { Ctx } from '../context';
import { AppError, BadRequestError, NotFoundError, ValidationError } from '../errors';
import { CONTACT_SELECT, createContact, deleteContact, getContact, hydrate, updateContact, type ContactView } from '../contacts/contacts';
import { loadFieldDefs } from '../contacts/fields';
import { removeTag } from '../contacts/tags';
import { clearDoNotContact, setDoNotContact } from '../contacts/dnc';
import { linkContact } from '../companies/companies';
import { getStage, setContactStage } from '../scoring/stages';
import { compileFilter } from '../segments/compile';
import { compileEnv } from '../segments/membership';
import type { Filter } from '../segments/filter';
import { mapContactBody, mauticContact, REASON_OF_CODE, type ContactExtras, type MappedContact } from './contact-shape';
import { contactFields, type ContactField } from './fields';
import { keyedById, MAX_LIMIT, type Window } from './paging';
import { orderSql, parseSearch, parseWhere, segmentAlias, type SearchEnv, type WhereClause } from './search';
import { findOrCreateCompany } from './companies';

export type MauticContact = ReturnType<typeof mauticContact>;

async function searchEnv(ctx: Ctx): Promise<SearchEnv & { fields: ContactField[] }> {
  const [defs, segs, stages] = await Promise.all([
    loadFieldDefs(ctx),
    ctx.client.execute('SELECT id, name FROM segments ORDER BY id'),
    ctx.client.execute('SELECT id, name FROM stages'),
  ]);
  const segments = new Map<string, number[]>();
  for (const r of segs.rows) {
    const id = Number(r.id);
    for (const key of [segmentAlias(String(r.name)), String(id)]) (segments.get(key) ?? segments.set(key, []).get(key)!).push(id);
  }
  return { fields: contactFields(defs), stages: new Map(stages.rows.map((r) => [String(r.name).toLowerCase(), Number(r.id)])), segments };
}

/** What Mautic's layout adds to contacts (primary company, stage, tag ids), three queries for a page. */
async function extrasOf(ctx: Ctx, contacts: ContactView[]): Promise<Map<number, ContactExtras>> {
  const ids = JSON.stringify(contacts.map((c) => c.id));
  const tags = JSON.stringify([...new Set(contacts.flatMap((c) => c.tags))]);
  const [companies, stages, tagRows] = await ctx.client.batch(
    [
      {
        sql: `SELECT cc.contact_id, co.name FROM company_contacts cc JOIN companies co ON co.id = cc.company_id
          WHERE cc.contact_id IN (SELECT value FROM json_each(?)) AND cc.is_primary = 1`,
        args: [ids],
      },
      { sql: 'SELECT id, name, position FROM stages WHERE id IN (SELECT stage_id FROM contacts WHERE id IN (SELECT value FROM json_each(?)))', args: [ids] },
      { sql: 'SELECT id, name FROM tags WHERE name IN (SELECT value FROM json_each(?))', args: [tags] },
    ],
    'read',
  );
  const company = new Map(companies!.rows.map((r) => [Number(r.contact_id), String(r.name)]));
  const stage = new Map(stages!.rows.map((r) => [Number(r.id), { id: Number(r.id), name: String(r.name), position: Number(r.position) }]));
  const tagIds = new Map(tagRows!.rows.map((r) => [String(r.name), Number(r.id)]));
  return new Map(contacts.map((c) => [c.id, { company: company.get(c.id) ?? null, stage: c.stage_id === null ? null : (stage.get(c.stage_id) ?? null), tagIds }]));
}

export async function shapeContacts(ctx: Ctx, contacts: ContactView[], fields?: ContactField[]): Promise<MauticContact[]> {
  if (!contacts.length) return [];
  const f = fields ?? contactFields(await loadFieldDefs(ctx));
  const extras = await extrasOf(ctx, contacts);
  return contacts.map((c) => mauticContact(c, f, extras.get(c.id)!));
}

export async function mauticContactById(ctx: Ctx, id: number): Promise<MauticContact> {
  return (await shapeContacts(ctx, [await getContact({ ctx, input: { id } })]))[0]!;
}

export interface ListInput extends Window {
  search?: string;
  orderBy?: string;
  orderByDir?: string;
  where: WhereClause[];
}

/** GET /contacts: Mautic's search, where[], order and offset paging over Leadline's contacts. */
export async function listMauticContacts({ ctx, input }: { ctx: Ctx; input: ListInput }) {
  const env = await searchEnv(ctx);
  const parts: Filter[] = [];
  const searched = parseSearch(input.search, env);
  if (searched) parts.push(searched);
  const { filters, ids } = parseWhere(input.where, env);
  parts.push(...filters);
  const order = orderSql(input.orderBy, input.orderByDir, env);
  const where: string[] = [];
  const args: (string | number | null)[] = [];
  if (parts.length) {
    const compiled = compileFilter(parts.length === 1 ? parts[0]! : { all: parts }, await compileEnv(ctx));
    where.push(compiled.sql);
    args.push(...(compiled.args as (string | number | null)[]));
  }
  if (ids) {
    where.push('c.id IN (SELECT value FROM json_each(?))');
    args.push(JSON.stringify(ids));
  }
  const w = where.length ? `WHERE ${where.map((x) => `(${x})`).join(' AND ')}` : '';
  const cols = CONTACT_SELECT.split(', ').map((col) => `c.${col}`).join(', ');
  const [count, rows] = await ctx.client.batch(
    [
      { sql: `SELECT count(*) AS n FROM contacts c ${w}`, args },
      { sql: `SELECT ${cols} FROM contacts c ${w} ORDER BY ${order} LIMIT ? OFFSET ?`, args: [...args, Math.min(input.limit, MAX_LIMIT), input.start] },
    ],
    'read',
  );
  const contacts = await shapeContacts(ctx, await hydrate(ctx, rows!.rows), env.fields);
  // Mautic answers the contacts' total as a string (a SQL count, uncast).
  return { total: String(count!.rows[0]!.n), contacts: keyedById(contacts) };
}

function checkMapped(m: MappedContact): void {
  if (m.errors.length) throw new ValidationError(m.errors);
}

/** Everything a body asks for beyond fields and tags is checked before anything is written. */
async function checkExtras(ctx: Ctx, m: MappedContact): Promise<void> {
  checkMapped(m);
  if (typeof m.stage === 'number') {
    try {
      await getStage({ ctx, input: { id: m.stage } });
    } catch (e) {
      if (e instanceof NotFoundError) throw new ValidationError([{ field: 'stage', message: `no stage ${m.stage}` }]);
      throw e;
    }
  }
  for (const [i, d] of m.dnc.entries()) {
    if (d.channel !== 'email' && d.channel !== 'sms') throw new ValidationError([{ field: `doNotContact.${i}.channel`, message: 'must be email or sms' }]);
  }
}

/** The parts of a Mautic write that are not contact fields: removed tags, company, stage, do-not-contact. */
async function applyExtras(ctx: Ctx, id: number, m: MappedContact): Promise<void> {
  for (const tag of m.tagsToRemove) await removeTag({ ctx, input: { id, tag } });
  if (m.company) {
    const companyId = await findOrCreateCompany(ctx, m.company);
    await linkContact({ ctx, input: { companyId, contactId: id, isPrimary: true } });
  }
  if (m.stage !== undefined) await setContactStage({ ctx, input: { contactId: id, stageId: m.stage, actor: { type: 'api', name: 'Mautic API' } } });
  for (const d of m.dnc) {
    const channel = d.channel as 'email' | 'sms';
    if (d.reason === 0) await clearDoNotContact({ ctx, input: { id, channel } });
    else await setDoNotContact({ ctx, input: { id, channel, reason: REASON_OF_CODE[d.reason]!, comment: d.comments } });
  }
}

async function fieldsOf(ctx: Ctx) {
  return contactFields(await loadFieldDefs(ctx));
}

/** POST /contacts/new: creates the contact, or updates the one with this email (Mautic's duplicate check). */
export async function newMauticContact({ ctx, input }: { ctx: Ctx; input: Record<string, unknown> }): Promise<{ contact: MauticContact; created: boolean }> {
  const m = mapContactBody(input, await fieldsOf(ctx), { replace: false });
  await checkExtras(ctx, m);
  const { contact, created } = await createContact({ ctx, input: m.input });
  await applyExtras(ctx, contact.id, m);
  return { contact: await mauticContactById(ctx, contact.id), created };
}

/**
 * PATCH /contacts/{id}/edit merges the given fields into the contact (404 when it does not
 * exist); PUT replaces: fields the body does not give are cleared, and a missing contact is
 * created (201), as Mautic does.
 */
export async function editMauticContact({ ctx, input }: { ctx: Ctx; input: { id: number; body: Record<string, unknown>; replace: boolean } }) {
  let exists = true;
  try {
    await getContact({ ctx, input: { id: input.id } });
  } catch (e) {
    if (!(e instanceof NotFoundError) || !input.replace) throw e;
    exists = false;
  }
  const fields = await fieldsOf(ctx);
  if (!exists) {
    const created = await newMauticContact({ ctx, input: input.body });
    return { contact: created.contact, created: true };
  }
  const m = mapContactBody(input.body, fields, { replace: input.replace });
  await checkExtras(ctx, m);
  const updated = await updateContact({ ctx, input: { id: input.id, patch: m.input } });
  await applyExtras(ctx, updated.id, m);
  return { contact: await mauticContactById(ctx, updated.id), created: false };
}

/** DELETE /contacts/{id}/delete: answers the erased contact as Mautic does, with id null. */
export async function deleteMauticContact({ ctx, input }: { ctx: Ctx; input: { id: number } }) {
  const shaped = await mauticContactById(ctx, input.id);
  await deleteContact({ ctx, input });
  return { ...shaped, id: null, fields: { ...shaped.fields, all: { ...shaped.fields.all, id: null } } };
}

const BATCH_MAX = MAX_LIMIT;

/**
 * POST /contacts/batch/new: each row is created or updated on its own (as Mautic's batch does),
 * so one bad row does not stop the others; its error is reported under its index.
 */
export async function batchNewMauticContacts({ ctx, input }: { ctx: Ctx; input: unknown }) {
  const rows = Array.isArray(input) ? input : input && typeof input === 'object' ? Object.values(input) : null;
  if (!rows) throw new BadRequestError('The body must be a list of contacts.');
  if (rows.length > BATCH_MAX) throw new BadRequestError(`A batch holds at most ${BATCH_MAX} contacts; this one has ${rows.length}.`);
  const contacts: (MauticContact | undefined)[] = [];
  const statusCodes: number[] = [];
  const errors: Record<string, { message: string; code: number; type: string }> = {};
  for (const [i, row] of rows.entries()) {
    if (!row || typeof row !== 'object' || Array.isArray(row)) {
      statusCodes[i] = 400;
      errors[i] = { message: 'Each contact must be an object of field aliases.', code: 400, type: 'api' };
      continue;
    }
    try {
      const r = await newMauticContact({ ctx, input: row as Record<string, unknown> });
      contacts[i] = r.contact;
      statusCodes[i] = r.created ? 201 : 200;
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      const code = e.code === 'VALIDATION_FAILED' ? 422 : e.code === 'CONFLICT' ? 409 : 400;
      statusCodes[i] = code;
      errors[i] = { message: e.message, code, type: 'api' };
    }
  }
  // PHP keys the answer by the request's index: a list when every row made it, else an object.
  const failed = Object.keys(errors).length > 0;
  const body: Record<string, unknown> = {
    contacts: failed ? Object.fromEntries(contacts.flatMap((c, i) => (c ? [[String(i), c]] : []))) : contacts,
    statusCodes,
  };
  if (failed) body.errors = errors;
  return body;
}
