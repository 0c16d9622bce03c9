import type { Ctx } from '../context';
import { BadRequestError, NotFoundError, ValidationError } from '../errors';
import { addMember, createSegment, deleteSegment, getSegment, listSegments, removeMember, updateSegment, type SegmentView } from '../segments/segments';
import { getStage, listStages, setContactStage, type StageView } from '../scoring/stages';
import { createTag, listTags } from '../contacts/tags';
import { TagName } from '../contacts/prepare';
import { getContact } from '../contacts/contacts';
import { listFields, loadFieldDefs } from '../contacts/fields';
import type { AuthenticatedKey } from '../access/api-keys';
import type { SessionUser } from '../access/sessions';
import { companyFieldList } from './companies';
import { contactFields, fieldShape } from './fields';
import { offsetPage, type Window } from './paging';
import { segmentAlias } from './search';

const audit = { createdBy: null, createdByUser: null, modifiedBy: null, modifiedByUser: null };

/** A segment in Mautic's layout (ListApiController's `list`). Leadline's filter language is not Mautic's: `filters` is empty. */
export function mauticSegment(s: SegmentView) {
  return {
    id: s.id,
    isPublished: true,
    dateAdded: s.created_at,
    dateModified: s.updated_at,
    ...audit,
    category: null,
    name: s.name,
    publicName: s.name,
    alias: segmentAlias(s.name),
    description: s.description,
    filters: [],
    isGlobal: true,
    isPreferenceCenter: false,
  };
}

export async function listMauticSegments({ ctx, input }: { ctx: Ctx; input: Window }) {
  const { total, items } = await offsetPage(ctx, { from: 'segments', sort: null, list: (p) => listSegments({ ctx, input: p }) }, input);
  return { total, lists: items.map(mauticSegment) };
}

export const getMauticSegment = async ({ ctx, input }: { ctx: Ctx; input: { id: number } }) => ({ list: mauticSegment(await getSegment({ ctx, input })) });

function segmentText(body: Record<string, unknown>) {
  if (Array.isArray(body.filters) && body.filters.length) {
    throw new ValidationError([{ field: 'filters', message: "Mautic's segment filters are not supported here: create a dynamic segment with Leadline's filter under /api/v1/segments" }]);
  }
  const str = (k: string, max: number) => {
    const v = body[k];
    if (v === undefined) return undefined;
    if (v === null) return null;
    if (typeof v !== 'string' || v.trim().length > max) throw new ValidationError([{ field: k, message: `must be text of at most ${max} characters` }]);
    return v.trim();
  };
  return { name: str('name', 200), description: str('description', 2000) };
}

/** POST /segments/new: a segment without filters, whose members are added by hand (Leadline's static segment). */
export async function newMauticSegment({ ctx, input }: { ctx: Ctx; input: Record<string, unknown> }) {
  const { name, description } = segmentText(input);
  if (!name) throw new ValidationError([{ field: 'name', message: 'is required' }]);
  return { list: mauticSegment(await createSegment({ ctx, input: { name, description: description ?? null, kind: 'static' } })) };
}

export async function editMauticSegment({ ctx, input }: { ctx: Ctx; input: { id: number; body: Record<string, unknown>; replace: boolean } }) {
  try {
    await getSegment({ ctx, input });
  } catch (e) {
    if (e instanceof NotFoundError && input.replace) return { ...(await newMauticSegment({ ctx, input: input.body })), created: true };
    throw e;
  }
  const { name, description } = segmentText(input.body);
  if (name === null) throw new ValidationError([{ field: 'name', message: 'must not be empty' }]);
  const patch = { name, description: input.replace && description === undefined ? null : description };
  return { list: mauticSegment(await updateSegment({ ctx, input: { id: input.id, patch } })), created: false };
}

export async function deleteMauticSegment({ ctx, input }: { ctx: Ctx; input: { id: number } }) {
  const shaped = mauticSegment(await getSegment({ ctx, input }));
  await deleteSegment({ ctx, input });
  return { list: { ...shaped, id: null } };
}

export async function mauticSegmentContact({ ctx, input }: { ctx: Ctx; input: { id: number; contactId: number; add: boolean } }) {
  const args = { id: input.id, contactId: input.contactId, via: 'mautic-api' };
  await (input.add ? addMember({ ctx, input: args }) : removeMember({ ctx, input: args }));
  return { success: 1 };
}

/** POST /segments/{id}/contacts/add with `ids`: each id's outcome under `details`. */
export async function mauticSegmentContacts({ ctx, input }: { ctx: Ctx; input: { id: number; body: Record<string, unknown> } }) {
  await getSegment({ ctx, input });
  const raw = input.body.ids;
  const ids = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
  if (!ids || !ids.length || ids.length > 200 || ids.some((x) => !/^[1-9][0-9]{0,14}$/.test(String(x).trim()))) {
    throw new BadRequestError('ids must list 1 to 200 contact ids.');
  }
  const details: Record<string, { success: boolean }> = {};
  for (const id of ids.map((x) => Number(String(x).trim()))) {
    try {
      await addMember({ ctx, input: { id: input.id, contactId: id, via: 'mautic-api' } });
      details[id] = { success: true };
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
      details[id] = { success: false };
    }
  }
  return { success: 1, details };
}

/** A stage in Mautic's layout: Leadline's funnel position is Mautic's weight. */
export function mauticStage(s: StageView) {
  return { id: s.id, isPublished: true, dateAdded: s.created_at, dateModified: null, ...audit, name: s.name, category: null, description: null, weight: s.position, publishUp: null, publishDown: null };
}

export async function listMauticStages({ ctx, input }: { ctx: Ctx; input: Window }) {
  const { total, items } = await offsetPage(ctx, { from: 'stages', sort: 'position', list: (p) => listStages({ ctx, input: p }) }, input);
  return { total, stages: items.map(mauticStage) };
}

/** POST /stages/{id}/contact/{cid}/add|remove: remove takes the contact out of the stage only when it is in it. */
export async function mauticStageContact({ ctx, input }: { ctx: Ctx; input: { id: number; contactId: number; add: boolean } }) {
  await getStage({ ctx, input });
  const actor = { type: 'api' as const, name: 'Mautic API' };
  if (input.add) await setContactStage({ ctx, input: { contactId: input.contactId, stageId: input.id, actor } });
  else {
    const contact = await getContact({ ctx, input: { id: input.contactId } });
    if (contact.stage_id === input.id) await setContactStage({ ctx, input: { contactId: contact.id, stageId: null, actor } });
  }
  return { success: 1 };
}

export async function listMauticTags({ ctx, input }: { ctx: Ctx; input: Window }) {
  const { total, items } = await offsetPage(ctx, { from: 'tags', sort: 'name', list: (p) => listTags({ ctx, input: p }) }, input);
  return { total, tags: items.map((t) => ({ id: t.id, tag: t.name, description: null })) };
}

/** POST /tags/new {tag}: tags are lower-cased in Leadline; an existing tag answers 200. */
export async function newMauticTag({ ctx, input }: { ctx: Ctx; input: Record<string, unknown> }) {
  const parsed = TagName.safeParse(input.tag);
  if (!parsed.success) throw new ValidationError([{ field: 'tag', message: 'must be a tag name of 1 to 64 characters' }]);
  const { tag, created } = await createTag({ ctx, input: { name: parsed.data } });
  return { tag: { id: tag.id, tag: tag.name, description: null }, created };
}

/** GET /fields/contact: Mautic's standard contact fields (mapped to Leadline's where it has them) and the custom fields. */
export async function mauticContactFields({ ctx, input }: { ctx: Ctx; input: Window }) {
  const defs = await loadFieldDefs(ctx);
  // The custom fields' dates, from Leadline's own field list.
  const created = new Map<string, string>();
  for (let cursor: string | undefined, n = 0; n < 100; n++) {
    const page = await listFields({ ctx, input: { limit: 200, cursor } });
    for (const f of page.data) created.set(f.key, f.created_at);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  const all = contactFields(defs).map((f, i) =>
    fieldShape({
      ...f,
      order: i + 1,
      object: 'lead',
      options: f.options ? f.options.map((o) => ({ label: o, value: o })) : null,
      createdAt: f.target.kind === 'custom' ? (created.get(f.target.def.key) ?? null) : null,
    }),
  );
  return { total: all.length, fields: all.slice(input.start, input.start + input.limit) };
}

export function mauticCompanyFields({ input }: { input: Window }) {
  const all = companyFieldList().map((f) => fieldShape(f));
  return { total: all.length, fields: all.slice(input.start, input.start + input.limit) };
}

/** GET /users/self: the signed-in user, or for an API key a user standing for the key. */
export async function mauticSelf({ ctx, input: caller }: { ctx: Ctx; input: { apiKey: AuthenticatedKey; user?: SessionUser } }) {
  const keyName = caller.user ? null : ((await ctx.client.execute({ sql: 'SELECT name FROM api_keys WHERE id = ?', args: [caller.apiKey.id] })).rows[0]?.name as string | undefined);
  const admin = caller.user ? caller.user.role === 'admin' : caller.apiKey.scopes.includes('admin');
  const name = caller.user?.name ?? keyName ?? `API key ${caller.apiKey.id}`;
  const [firstName, ...rest] = name.split(' ');
  return {
    isPublished: true,
    dateAdded: null,
    ...audit,
    id: caller.user ? caller.user.id : caller.apiKey.id,
    username: caller.user?.email ?? name,
    firstName: firstName ?? name,
    lastName: rest.join(' '),
    email: caller.user?.email ?? null,
    position: null,
    role: {
      id: admin ? 1 : 2,
      name: caller.user ? caller.user.role : caller.apiKey.scopes.join(', '),
      description: caller.user ? `Leadline role: ${caller.user.role}` : `Leadline API key with scope ${caller.apiKey.scopes.join(', ')}`,
      isAdmin: admin,
      rawPermissions: null,
    },
    timezone: null,
    locale: null,
    lastLogin: null,
    lastActive: null,
    onlineStatus: 'online',
    signature: null,
  };
}
