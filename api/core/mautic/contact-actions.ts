import type { Ctx } from '../context';
import { BadRequestError } from '../errors';
import { getContact } from '../contacts/contacts';
import { clearDoNotContact, setDoNotContact } from '../contacts/dnc';
import { adjustPoints } from '../scoring/points';
import { contactSegments } from '../segments/segments';
import { contactCompanies } from '../companies/companies';
import { contactCampaigns } from '../campaigns/membership';
import { listContactEvents } from '../tracking/history';
import { REASON_OF_CODE } from './contact-shape';
import { mauticContactById } from './contacts';
import { allOf, keyedById, offsetPage } from './paging';
import { segmentAlias } from './search';

const MAX_POINTS = 1_000_000;

/** POST /contacts/{id}/points/plus|minus/{n}: Mautic's manual point change, kept in the point log with its reason. */
export async function changeMauticPoints({ ctx, input }: { ctx: Ctx; input: { id: number; op: 'plus' | 'minus'; delta: string; body: Record<string, unknown> } }) {
  if (!/^[0-9]{1,7}$/.test(input.delta) || Number(input.delta) > MAX_POINTS) throw new BadRequestError(`Points must be a whole number from 0 to ${MAX_POINTS}.`);
  const b = input.body;
  // Mautic's PHP library spells these eventName/actionName in one place and eventname/actionname in another.
  const event = b.eventName ?? b.eventname;
  const action = b.actionName ?? b.actionname;
  const reason = [event, action].filter((x) => typeof x === 'string' && x.trim()).map((x) => String(x).trim().slice(0, 100)).join(': ') || 'Mautic API';
  await adjustPoints({ ctx, input: { contactId: input.id, op: input.op === 'plus' ? 'add' : 'subtract', value: Number(input.delta), reason } });
  return { success: 1 };
}

function dncChannel(channel: string): 'email' | 'sms' {
  if (channel !== 'email' && channel !== 'sms') throw new BadRequestError(`Do-not-contact channel "${channel}" is not one Leadline has (email, sms).`);
  return channel;
}

/** POST /contacts/{id}/dnc/{channel}/add: reason 1 unsubscribed, 2 bounced, 3 manual (the default); 0 is refused as Mautic does. */
export async function addMauticDnc({ ctx, input }: { ctx: Ctx; input: { id: number; channel: string; body: Record<string, unknown> } }) {
  const channel = dncChannel(input.channel);
  const raw = input.body.reason;
  const reason = raw === undefined || raw === null || raw === '' ? 3 : Number(raw);
  if (!Number.isInteger(reason) || !REASON_OF_CODE[reason]) throw new BadRequestError('Invalid reason code given: it needs to be an integer from 1 to 3 (1 unsubscribed, 2 bounced, 3 manual).');
  const comments = typeof input.body.comments === 'string' ? input.body.comments.slice(0, 500) : null;
  await setDoNotContact({ ctx, input: { id: input.id, channel, reason: REASON_OF_CODE[reason]!, comment: comments } });
  return { contact: await mauticContactById(ctx, input.id) };
}

/** POST /contacts/{id}/dnc/{channel}/remove: `recordFound` tells whether there was an entry to lift. */
export async function removeMauticDnc({ ctx, input }: { ctx: Ctx; input: { id: number; channel: string } }) {
  const channel = dncChannel(input.channel);
  const before = await getContact({ ctx, input: { id: input.id } });
  const recordFound = before.do_not_contact.some((d) => d.channel === channel);
  await clearDoNotContact({ ctx, input: { id: input.id, channel } });
  return { recordFound, contact: await mauticContactById(ctx, input.id) };
}

/** GET /contacts/{id}/segments: the segments the contact is in, keyed by id under `lists`. */
export async function mauticContactSegments({ ctx, input }: { ctx: Ctx; input: { id: number } }) {
  const rows = await allOf((p) => contactSegments({ ctx, input: { ...p, contactId: input.id } }));
  const lists = rows.map((s) => ({
    id: s.id,
    name: s.name,
    alias: segmentAlias(s.name),
    dateAdded: s.added_at,
    manuallyAdded: s.membership === 'manual',
    manuallyRemoved: false,
  }));
  return { total: lists.length, lists: keyedById(lists) };
}

/** GET /contacts/{id}/companies. */
export async function mauticContactCompanies({ ctx, input }: { ctx: Ctx; input: { id: number } }) {
  await getContact({ ctx, input });
  const rows = await contactCompanies(ctx, input.id);
  const companies = rows.map((c) => ({ company_id: String(c.id), companyname: c.name, companydomain: c.domain, is_primary: c.is_primary ? '1' : '0' }));
  return { total: companies.length, companies };
}

/** GET /contacts/{id}/campaigns: the contact's current (or last) pass of each campaign, keyed by campaign id. */
export async function mauticContactCampaigns({ ctx, input }: { ctx: Ctx; input: { id: number } }) {
  const passes = await allOf((p) => contactCampaigns({ ctx, input: { ...p, contactId: input.id } }));
  const seen = new Set<number>();
  const campaigns = [];
  for (const p of passes) {
    if (seen.has(p.campaign.id)) continue; // newest pass first
    seen.add(p.campaign.id);
    campaigns.push({
      id: p.campaign.id,
      name: p.campaign.name,
      dateAdded: p.entered_at,
      manuallyRemoved: p.status === 'exited' && p.end_reason === 'removed',
      manuallyAdded: p.source === 'manual',
      listMembership: [],
    });
  }
  return { total: campaigns.length, campaigns: keyedById(campaigns) };
}

// Leadline's event types as Mautic's timeline names them (types without one keep their own).
const EVENT_NAMES: Record<string, [string, string]> = {
  page_view: ['page.hit', 'Page hit'],
  form_submit: ['form.submitted', 'Form submitted'],
  asset_download: ['asset.download', 'Asset downloaded'],
  email_sent: ['email.sent', 'Email sent'],
  email_opened: ['email.read', 'Email read'],
  points_changed: ['point.gained', 'Point gained'],
  stage_changed: ['stage.changed', 'Stage changed'],
};

/** GET /contacts/{id}/activity: the contact's timeline in Mautic's paging (page, limit) and event layout. */
export async function mauticContactActivity({ ctx, input }: { ctx: Ctx; input: { id: number; page?: string; limit?: string } }) {
  const limit = input.limit === undefined || input.limit === '' ? 25 : Number(input.limit);
  const page = input.page === undefined || input.page === '' ? 1 : Number(input.page);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new BadRequestError('limit must be a whole number from 1 to 200.');
  if (!Number.isInteger(page) || page < 1 || page > 1000) throw new BadRequestError('page must be a whole number from 1 to 1000.');
  const contact = await getContact({ ctx, input });
  const { total, items: data } = await offsetPage(
    ctx,
    { from: 'events', where: { sql: 'contact_id = ?', args: [contact.id] }, sort: null, desc: true, list: (p) => listContactEvents({ ctx, input: { ...p, id: contact.id } }) },
    { start: (page - 1) * limit, limit },
  );
  const types: Record<string, string> = {};
  const events = data.map((e) => {
    const [event, label] = EVENT_NAMES[e.type] ?? [e.type, e.type];
    types[event] = label;
    return { event, eventId: `${event}${e.id}`, eventLabel: e.name ?? e.title ?? e.url ?? label, eventType: label, timestamp: e.created_at, contactId: String(e.contact_id ?? input.id), details: e.props };
  });
  return {
    events,
    filters: { search: '', includeEvents: [], excludeEvents: [] },
    order: ['timestamp', 'DESC'],
    types,
    total,
    page,
    limit,
    maxPages: Math.max(1, Math.ceil(total / limit)),
  };
}
