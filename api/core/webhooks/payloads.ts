import type { Ctx } from '../context';
import { NotFoundError } from '../errors';
import { CONTACT_SELECT, hydrate, type ContactView } from '../contacts/contacts';
import type { ContactCompany } from '../companies/companies';
import { getForm } from '../forms/forms';
import { getSegment } from '../segments/segments';
import { getStage } from '../scoring/stages';
import { getDeal } from '../deals/deals';
import { getAsset, publicAsset } from '../assets/assets';
import { getFocusItem, type FocusItem } from '../focus/focus-items';
import { resolveVariants } from '../focus/schema';
import { conversionsOf, variantKey } from '../focus/stats';
import { getSend } from '../email/queue';
import { iso } from '../util/time';
import { EVENT } from '../spine/event-types';
import { eventProps, type SpineEvent } from '../spine/types';
import { SPINE_TYPES, type WebhookEventType } from './catalogue';

/**
 * What a delivery says, built when it is queued: `{ type, timestamp, data }` (the Standard
 * Webhooks payload shape), `data` holding the objects as the REST API answers them. Built once
 * per event and shared by every subscription that wants it; a retry or replay sends the same bytes.
 */

/** A contact as GET /contacts/{id} answers it. */
export type ContactDetail = ContactView & { companies: ContactCompany[] };

/** Contacts by id as GET /contacts/{id} answers them (four queries for any number); erased ones are missing. */
export async function contactDetails(ctx: Ctx, ids: Iterable<number>): Promise<Map<number, ContactDetail>> {
  const list = [...new Set(ids)];
  const out = new Map<number, ContactDetail>();
  if (!list.length) return out;
  const json = JSON.stringify(list);
  const [rows, companies] = await ctx.client.batch(
    [
      { sql: `SELECT ${CONTACT_SELECT} FROM contacts WHERE id IN (SELECT value FROM json_each(?))`, args: [json] },
      {
        sql: `SELECT cc.contact_id, c.id, c.name, c.domain, cc.is_primary FROM company_contacts cc JOIN companies c ON c.id = cc.company_id
          WHERE cc.contact_id IN (SELECT value FROM json_each(?)) ORDER BY cc.contact_id, cc.is_primary DESC, c.name`,
        args: [json],
      },
    ],
    'read',
  );
  const byContact = new Map<number, ContactCompany[]>();
  for (const r of companies!.rows) {
    const id = Number(r.contact_id);
    const c: ContactCompany = { id: Number(r.id), name: String(r.name), domain: r.domain === null ? null : String(r.domain), is_primary: Number(r.is_primary) === 1 };
    (byContact.get(id) ?? byContact.set(id, []).get(id)!).push(c);
  }
  for (const c of await hydrate(ctx, rows!.rows)) out.set(c.id, { ...c, companies: byContact.get(c.id) ?? [] });
  return out;
}

/** One lookup per object per chunk; a deleted object is null. */
function memo<T>(get: (id: number) => Promise<T>): (id: unknown) => Promise<T | null> {
  const seen = new Map<number, Promise<T | null>>();
  return (raw) => {
    const id = Number(raw);
    if (!Number.isSafeInteger(id) || id <= 0) return Promise.resolve(null);
    let p = seen.get(id);
    if (!p) {
      p = get(id).catch((e: unknown) => {
        if (e instanceof NotFoundError) return null;
        throw e;
      });
      seen.set(id, p);
    }
    return p;
  };
}

async function submission(ctx: Ctx, id: number) {
  const r = await ctx.client.execute({ sql: 'SELECT id, contact_id, "values", page_url, referrer, created_at FROM form_submissions WHERE id = ?', args: [id] });
  const x = r.rows[0];
  if (!x) throw new NotFoundError('Submission');
  return {
    id: Number(x.id),
    contact_id: x.contact_id === null ? null : Number(x.contact_id),
    values: JSON.parse(String(x.values)) as Record<string, unknown>,
    page_url: x.page_url === null ? null : String(x.page_url),
    referrer: x.referrer === null ? null : String(x.referrer),
    created_at: iso(Number(x.created_at))!,
  };
}

/** An event and a type it is told as. */
export interface Item {
  event: SpineEvent;
  type: WebhookEventType;
}

/** Builds the `data` of each (event, type): the loaders are shared by a chunk's events. */
export function payloadBuilder(ctx: Ctx) {
  const forms = memo((id) => getForm({ ctx, input: { id } }));
  const submissions = memo((id) => submission(ctx, id));
  const segments = memo((id) => getSegment({ ctx, input: { id } }));
  const stages = memo((id) => getStage({ ctx, input: { id } }));
  const deals = memo((id) => getDeal({ ctx, input: { id } }));
  const assets = memo(async (id) => publicAsset(await getAsset({ ctx, input: { id } })));
  const focusItems = memo((id) => getFocusItem({ ctx, input: { id } }));
  const sends = memo((id) => getSend({ ctx, input: { id } }));

  /** The webhook types an event is told as (focus conversions depend on the item's kind). */
  async function typesOf(e: SpineEvent): Promise<WebhookEventType[]> {
    const out: WebhookEventType[] = [];
    const mapped = SPINE_TYPES[e.type];
    if (mapped) out.push(mapped);
    if (e.type === EVENT.focus_click || e.type === EVENT.form_submit) {
      const p = eventProps(e);
      if (p.focus_id !== undefined && p.focus_id !== null) {
        const item = await focusItems(p.focus_id);
        if (item && converts(item, e.type, p)) out.push('focus.converted');
      }
    }
    return out;
  }

  async function data(item: Item, contact: ContactDetail | null): Promise<Record<string, unknown> | null> {
    const e = item.event;
    const p = eventProps(e);
    switch (item.type) {
      case 'contact.identified':
        return { contact, visitor_id: e.visitorId, site_id: e.siteId, via: p.via ?? null };
      case 'contact.merged':
        return { contact, merged_id: p.merged_id ?? null };
      case 'form.submitted': {
        const form = await forms(p.form_id);
        return form && { contact, form, submission: await submissions(p.submission_id) };
      }
      case 'segment.joined':
      case 'segment.left': {
        const segment = await segments(p.segment_id);
        return segment && { contact, segment, via: p.via ?? null };
      }
      case 'points.changed':
        return { contact, points: { from: p.from ?? null, to: p.to ?? null, delta: p.delta ?? null, reason: p.reason ?? null, actor: p.actor ?? null } };
      case 'stage.changed':
        return { contact, from_stage: await stages(p.from), to_stage: await stages(p.to), actor: p.actor ?? null };
      case 'deal.won': {
        const deal = await deals(p.deal_id);
        return deal && { contact, deal };
      }
      case 'asset.downloaded': {
        const asset = await assets(p.asset_id);
        return asset && { contact, visitor_id: e.visitorId, asset };
      }
      case 'focus.converted': {
        const focus = await focusItems(p.focus_id);
        return focus && { contact, visitor_id: e.visitorId, focus_item: focus, variant: variantOf(e.type, p) };
      }
      default:
        // The email events.
        return { contact, send: await sends(p.send_id), email_id: p.email_id ?? null, details: p, ...(e.url ? { url: e.url } : {}) };
    }
  }
  return { typesOf, data };
}

const variantOf = (type: string, p: Record<string, unknown>) => (type === EVENT.form_submit ? (p.focus_variant ?? p.variant ?? null) : (p.variant ?? null));

/** As the item's stats count conversions: clicks of a notice or link variant, submissions of a form variant. */
function converts(item: FocusItem, type: string, p: Record<string, unknown>): boolean {
  const key = variantKey(variantOf(type, p));
  const variants = resolveVariants(item);
  const kind = (variants.find((v) => v.key === key) ?? variants[0])?.content.kind ?? 'notice';
  return conversionsOf(kind, { clicks: type === EVENT.focus_click ? 1 : 0, submissions: type === EVENT.form_submit ? 1 : 0 }) > 0;
}

/** The body of a delivery. */
export const body = (type: string, at: number, data: Record<string, unknown>) => JSON.stringify({ type, timestamp: new Date(at).toISOString(), data });
