import type { Row } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError } from '../errors';
import { resolveContactId } from '../contacts/contacts';
import { decodeCursor, encodeCursor, type Page } from '../util/cursor';
import { iso } from '../util/time';

export interface EventView {
  id: number;
  type: string;
  name: string | null;
  url: string | null;
  referrer: string | null;
  title: string | null;
  props: Record<string, unknown>;
  site_id: number | null;
  visitor_id: number | null;
  contact_id: number | null;
  created_at: string;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));

export function eventView(r: Row): EventView {
  return {
    id: Number(r.id),
    type: String(r.type),
    // Events about a thing carry no name of their own: the timeline shows the thing's (its name now).
    name: str(r.name) ?? str(r.subject_name),
    url: str(r.url),
    referrer: str(r.referrer),
    title: str(r.title),
    props: r.props ? (JSON.parse(String(r.props)) as Record<string, unknown>) : {},
    site_id: num(r.site_id),
    visitor_id: num(r.visitor_id),
    contact_id: num(r.contact_id),
    created_at: iso(Number(r.created_at))!,
  };
}

/** A contact's timeline, newest first; a merged contact's old id shows the survivor's. */
/**
 * The name of what an event concerns, for the timeline: the email of email_* events, the form of
 * form_* events, the segment joined or left, the asset downloaded, the focus item or slot seen or clicked
 * (each looked up by the id in its props: one indexed read per event of the page).
 */
const SUBJECT_NAME = `CASE
  WHEN substr(ev.type, 1, 6) = 'email_' THEN (SELECT name FROM emails WHERE id = json_extract(ev.props, '$.email_id'))
  WHEN substr(ev.type, 1, 5) = 'form_' THEN (SELECT name FROM forms WHERE id = json_extract(ev.props, '$.form_id'))
  WHEN ev.type IN ('segment_joined', 'segment_left') THEN (SELECT name FROM segments WHERE id = json_extract(ev.props, '$.segment_id'))
  WHEN ev.type = 'asset_download' THEN (SELECT title FROM assets WHERE id = json_extract(ev.props, '$.asset_id'))
  WHEN substr(ev.type, 1, 6) = 'focus_' THEN (SELECT name FROM focus_items WHERE id = json_extract(ev.props, '$.focus_id'))
  WHEN substr(ev.type, 1, 5) = 'slot_' THEN (SELECT name FROM slots WHERE id = json_extract(ev.props, '$.slot_id'))
END`;

export async function listContactEvents({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { id: number; limit: number; cursor?: string; type?: string[]; from?: number; to?: number };
}): Promise<Page<EventView>> {
  const id = await resolveContactId(ctx, input.id);
  const exists = await ctx.client.execute({ sql: 'SELECT 1 FROM contacts WHERE id = ?', args: [id] });
  if (!exists.rows[0]) throw new NotFoundError('Contact');
  const where = ['contact_id = ?'];
  const args: (number | string)[] = [id];
  if (input.type?.length) {
    where.push('type IN (SELECT value FROM json_each(?))');
    args.push(JSON.stringify(input.type));
  }
  if (input.from !== undefined) where.push('created_at >= ?'), args.push(input.from);
  if (input.to !== undefined) where.push('created_at < ?'), args.push(input.to);
  if (input.cursor) where.push('id < ?'), args.push(decodeCursor(input.cursor)[1]);
  const res = await ctx.client.execute({
    sql: `SELECT ev.*, ${SUBJECT_NAME} AS subject_name FROM events ev WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`,
    args: [...args, input.limit + 1],
  });
  const more = res.rows.length > input.limit;
  const rows = more ? res.rows.slice(0, input.limit) : res.rows;
  return { data: rows.map(eventView), has_more: more, next_cursor: more ? encodeCursor([null, Number(rows[rows.length - 1]!.id)]) : null };
}

export interface VisitorView {
  id: number;
  site_id: number;
  visitor_id: string;
  contact_id: number | null;
  first_seen_at: string;
  last_seen_at: string;
  page_views: number;
  source: Record<string, string> | null;
  browser: string | null;
  os: string | null;
  device: string | null;
  country: string | null;
  recent_events: EventView[];
}

/** A visitor by its numeric id, or by site and the browser's visitor id. */
export async function getVisitor({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { id: number } | { siteId: number; uid: string };
}): Promise<VisitorView> {
  const res =
    'id' in input
      ? await ctx.client.execute({ sql: 'SELECT * FROM visitors WHERE id = ?', args: [input.id] })
      : await ctx.client.execute({ sql: 'SELECT * FROM visitors WHERE site_id = ? AND uid = ?', args: [input.siteId, input.uid] });
  const v = res.rows[0];
  if (!v) throw new NotFoundError('Visitor');
  const ev = await ctx.client.execute({ sql: 'SELECT * FROM events WHERE visitor_id = ? ORDER BY id DESC LIMIT 50', args: [v.id] });
  return {
    id: Number(v.id),
    site_id: Number(v.site_id),
    visitor_id: String(v.uid),
    contact_id: num(v.contact_id),
    first_seen_at: iso(Number(v.first_seen_at))!,
    last_seen_at: iso(Number(v.last_seen_at))!,
    page_views: Number(v.page_views),
    source: v.source ? (JSON.parse(String(v.source)) as Record<string, string>) : null,
    browser: str(v.browser),
    os: str(v.os),
    device: str(v.device),
    country: str(v.country),
    recent_events: ev.rows.map(eventView),
  };
}
