import type { Ctx } from '../context';
import { BadRequestError, NotFoundError, ValidationError, zodErrors } from '../errors';
import { getForm, listForms, listResults, type FormView } from '../forms/forms';
import { getEmail, listEmails, NOT_SYSTEM, type EmailView } from '../email/emails';
import { SendInput } from '../email/schema';
import { sendEmail } from '../email/queue';
import { createBroadcast, listBroadcasts } from '../email/broadcasts';
import { getCampaign, listCampaigns, type CampaignView } from '../campaigns/campaigns';
import { enrollContacts, removeContact } from '../campaigns/membership';
import { CONTACT_SELECT, getContact, hydrate } from '../contacts/contacts';
import { offsetPage, type Window } from './paging';
import { segmentAlias } from './search';

const audit = { createdBy: null, createdByUser: null, modifiedBy: null, modifiedByUser: null };
// Mautic's stats tables answer raw SQL rows: dates as "Y-m-d H:i:s".
const sqlDate = (isoDate: string | null) => (isoDate ? isoDate.slice(0, 19).replace('T', ' ') : null);

/** A form in Mautic's layout; fields keyed by their position (Leadline's fields have keys, not ids). */
export function mauticForm(f: FormView) {
  const fields: Record<string, unknown> = {};
  f.fields.forEach((x, i) => {
    fields[String(i + 1)] = {
      id: i + 1,
      label: x.label,
      showLabel: true,
      alias: x.key,
      type: x.type,
      defaultValue: x.default ?? null,
      isRequired: x.required,
      validationMessage: x.rules.pattern_message ?? null,
      helpMessage: x.help,
      order: i + 1,
      properties: { placeholder: x.placeholder, ...(x.options ? { list: x.options } : {}) },
      leadField: x.maps_to,
    };
  });
  return {
    id: f.id,
    isPublished: f.active,
    dateAdded: f.created_at,
    dateModified: f.updated_at,
    ...audit,
    name: f.name,
    alias: segmentAlias(f.name).replace(/-/g, '_'),
    description: null,
    category: null,
    publishUp: null,
    publishDown: null,
    cachedHtml: null,
    template: null,
    formType: 'standalone',
    fields,
    actions: {},
    submissionCount: f.submissions,
  };
}

export async function listMauticForms({ ctx, input }: { ctx: Ctx; input: Window }) {
  const { total, items } = await offsetPage(ctx, { from: 'forms', sort: null, list: (p) => listForms({ ctx, input: p }) }, input);
  return { total, forms: items.map(mauticForm) };
}

export const getMauticForm = async ({ ctx, input }: { ctx: Ctx; input: { id: number } }) => ({ form: mauticForm(await getForm({ ctx, input })) });

/** GET /forms/{id}/submissions: newest first, each with its contact's basic fields. */
export async function mauticFormSubmissions({ ctx, input }: { ctx: Ctx; input: Window & { id: number } }) {
  const form = await getForm({ ctx, input });
  const { total, items } = await offsetPage(
    ctx,
    { from: 'form_submissions', where: { sql: 'form_id = ?', args: [form.id] }, sort: null, desc: true, list: (p) => listResults({ ctx, input: { ...p, id: form.id } }) },
    input,
  );
  const ids = [...new Set(items.map((s) => s.contact_id).filter((x): x is number => x !== null))];
  const rows = ids.length ? (await ctx.client.execute({ sql: `SELECT ${CONTACT_SELECT} FROM contacts WHERE id IN (SELECT value FROM json_each(?))`, args: [JSON.stringify(ids)] })).rows : [];
  const leads = new Map((await hydrate(ctx, rows)).map((c) => [c.id, c]));
  const submissions = items.map((s) => {
    const c = s.contact_id === null ? undefined : leads.get(s.contact_id);
    return {
      id: s.id,
      ipAddress: { ip: null },
      form: { id: form.id, name: form.name, alias: mauticForm(form).alias, category: null },
      lead: c ? { id: c.id, points: c.points, color: null, firstname: c.first_name, lastname: c.last_name, position: c.job_title, email: c.email, phone: c.phone, city: c.city, country: c.country } : null,
      trackingId: null,
      dateSubmitted: s.created_at,
      referer: s.page_url ?? s.referrer,
      page: null,
      results: s.values,
    };
  });
  return { total: String(total), submissions };
}

/** An email in Mautic's layout: Leadline's broadcast emails are Mautic's segment ("list") emails, the others its template emails. */
export function mauticEmail(e: EmailView) {
  return {
    id: e.id,
    isPublished: true,
    dateAdded: e.created_at,
    dateModified: e.updated_at,
    ...audit,
    name: e.name,
    subject: e.subject,
    language: 'en',
    category: e.category_id === null ? null : { id: e.category_id },
    fromAddress: e.from_email,
    fromName: e.from_name,
    replyToAddress: e.reply_to,
    bccAddress: null,
    customHtml: e.html,
    plainText: e.text,
    template: null,
    emailType: e.kind === 'broadcast' ? 'list' : 'template',
    publishUp: null,
    publishDown: null,
    revision: 1,
    assetAttachments: [],
    variantParent: null,
    variantChildren: [],
    translationParent: null,
    translationChildren: [],
    unsubscribeForm: null,
    dynamicContent: [],
    lists: [],
  };
}


export async function listMauticEmails({ ctx, input }: { ctx: Ctx; input: Window }) {
  const { total, items } = await offsetPage(ctx, { from: 'emails', where: { sql: NOT_SYSTEM, args: [] }, sort: null, desc: true, list: (p) => listEmails({ ctx, input: p }) }, input);
  return { total, emails: items.map(mauticEmail) };
}

export const getMauticEmail = async ({ ctx, input }: { ctx: Ctx; input: { id: number } }) => ({ email: mauticEmail(await getEmail({ ctx, input })) });

/**
 * POST /emails/{id}/contact/{cid}/send: queues the email for the contact. Mautic's `tokens`
 * ({"{name}": "value"}) become Liquid variables (`{{ name }}`). `success` is false, with the
 * reason under `failed`, when Leadline skipped the send (the contact is do-not-contact, …).
 */
export async function sendMauticEmailToContact({ ctx, input }: { ctx: Ctx; input: { id: number; contactId: number; body: Record<string, unknown>; reason: string } }) {
  await getContact({ ctx, input: { id: input.contactId } });
  const raw = input.body.tokens;
  if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) throw new BadRequestError('tokens must be an object of token names and values.');
  const variables = raw ? Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.replace(/^\{|\}$/g, ''), v])) : undefined;
  const body = SendInput.safeParse({ contact_id: input.contactId, ...(variables ? { variables } : {}) });
  if (!body.success) throw new ValidationError(zodErrors(body.error));
  const send = await sendEmail({ ctx, input: { emailId: input.id, body: body.data, reason: input.reason } });
  const ok = send.status !== 'skipped' && send.status !== 'failed';
  return { send, answer: ok ? { success: true } : { success: false, failed: send.skip_reason ?? send.error ?? send.status } };
}

/**
 * POST /emails/{id}/send: broadcasts a segment ("list") email to `lists` (segment ids), or to the
 * segments of its last broadcast. It is scheduled now and sent by the send loop, so sentCount
 * is 0 in the answer; the broadcast's id tells where to follow it.
 */
export async function sendMauticEmailToSegments({ ctx, input }: { ctx: Ctx; input: { id: number; body: Record<string, unknown> } }) {
  const email = await getEmail({ ctx, input });
  let ids: number[] | undefined;
  const lists = input.body.lists;
  if (lists !== undefined) {
    const arr = Array.isArray(lists) ? lists : [lists];
    if (!arr.length || arr.length > 20 || arr.some((x) => !/^[1-9][0-9]{0,14}$/.test(String(x)))) throw new BadRequestError('lists must hold 1 to 20 segment ids.');
    ids = [...new Set(arr.map(Number))];
  } else {
    const last = await listBroadcasts({ ctx, input: { limit: 1, email_id: email.id } });
    ids = last.data[0]?.segment_ids;
  }
  if (!ids?.length) throw new ValidationError([{ field: 'lists', message: 'Leadline emails have no segments of their own: give lists (segment ids), or broadcast the email once under /api/v1' }]);
  const broadcast = await createBroadcast({ ctx, input: { emailId: email.id, body: { segment_ids: ids } } });
  return { broadcast, answer: { success: 1, sentCount: 0, failedRecipients: 0, broadcastId: broadcast.id } };
}

/** A campaign in Mautic's layout: published when active; Leadline's step graph is not Mautic's event list. */
export function mauticCampaign(c: CampaignView) {
  return {
    id: c.id,
    isPublished: c.status === 'active',
    dateAdded: c.created_at,
    dateModified: c.updated_at,
    ...audit,
    name: c.name,
    description: c.description,
    category: null,
    publishUp: c.published_at,
    publishDown: c.archived_at,
    allowRestart: false,
    events: [],
    forms: [],
    lists: [],
    canvasSettings: { nodes: [], connections: [] },
    status: c.status,
  };
}

export async function listMauticCampaigns({ ctx, input }: { ctx: Ctx; input: Window }) {
  const { total, items } = await offsetPage(ctx, { from: 'campaigns', sort: null, desc: true, list: (p) => listCampaigns({ ctx, input: p }) }, input);
  return { total, campaigns: items.map(mauticCampaign) };
}

export const getMauticCampaign = async ({ ctx, input }: { ctx: Ctx; input: { id: number } }) => ({ campaign: mauticCampaign(await getCampaign({ ctx, input })) });

/** GET /campaigns/{id}/contacts: the campaign's passes as rows of Mautic's campaign_leads table. */
export async function mauticCampaignContacts({ ctx, input }: { ctx: Ctx; input: Window & { id: number } }) {
  await getCampaign({ ctx, input });
  const [count, rows] = await ctx.client.batch(
    [
      { sql: 'SELECT count(*) AS n FROM campaign_enrollments WHERE campaign_id = ?', args: [input.id] },
      { sql: 'SELECT * FROM campaign_enrollments WHERE campaign_id = ? ORDER BY id LIMIT ? OFFSET ?', args: [input.id, input.limit, input.start] },
    ],
    'read',
  );
  const at = (v: unknown) => (v === null ? null : sqlDate(new Date(Number(v)).toISOString()));
  const contacts = rows!.rows.map((r) => ({
    campaign_id: String(r.campaign_id),
    lead_id: String(r.contact_id),
    date_added: at(r.entered_at),
    manually_removed: r.end_reason === 'removed' ? '1' : '0',
    manually_added: r.source === 'manual' ? '1' : '0',
    rotation: String(r.rotation),
    date_last_exited: at(r.ended_at),
  }));
  return { total: String(count!.rows[0]!.n), contacts };
}

/** POST /campaigns/{id}/contact/{cid}/add|remove: success whether or not the contact was already in (or out), as in Mautic. */
export async function mauticCampaignContact({ ctx, input }: { ctx: Ctx; input: { id: number; contactId: number; add: boolean } }) {
  await getCampaign({ ctx, input });
  await getContact({ ctx, input: { id: input.contactId } });
  if (input.add) await enrollContacts({ ctx, input: { id: input.id, contactIds: [input.contactId] } });
  else {
    try {
      await removeContact({ ctx, input });
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e; // not in the campaign now: nothing to remove
    }
  }
  return { success: 1 };
}
