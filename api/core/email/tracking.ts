import type { InStatement, Row } from '@libsql/client';
import type { Ctx } from '../context';
import { EVENT } from '../spine/event-types';
import { verifyToken } from './tokens';
import { machineReason } from './machine';
import { destinationTracked, handoffToken, withHandoff } from './identify';
import { MAX_URL } from './track-links';
import { enqueueOr } from '../tracking/queue';
import type { Ingestor } from '../tracking/ingest';

/**
 * What GET /o/{token} and GET /c/{token} record. Each open or click is an event on the spine
 * (email_opened / email_clicked, props email_id, send_id, broadcast_id when the send belongs to a
 * broadcast, machine; a click also link, its index in the message, and url, the destination):
 * total opens and clicks are counted from events, unique ones from the send row's first-time
 * columns (opened_at, clicked_at; human_* only for what a person did, see machine.ts), the
 * click map by URL. A click is an open too: it sets opened_at (and human_opened_at) when the
 * pixel was never loaded (images off) or only by a proxy. Test sends are not counted.
 */

export interface Request {
  method: string;
  userAgent: string | null;
  ip: string | null;
}

interface SendRow {
  id: number;
  emailId: number;
  contactId: number | null;
  broadcastId: number | null;
  isTest: boolean;
  sentAt: number | null;
  deliveredAt: number | null;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

async function loadSend(ctx: Ctx, id: number): Promise<SendRow | null> {
  const r = await ctx.client.execute({
    sql: 'SELECT id, email_id, contact_id, broadcast_id, is_test, sent_at, delivered_at FROM email_sends WHERE id = ?',
    args: [id],
  });
  const x: Row | undefined = r.rows[0];
  if (!x) return null;
  return {
    id: Number(x.id),
    emailId: Number(x.email_id),
    contactId: num(x.contact_id),
    broadcastId: num(x.broadcast_id),
    isTest: Number(x.is_test) === 1,
    sentAt: num(x.sent_at),
    deliveredAt: num(x.delivered_at),
  };
}

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

function props(send: SendRow, machine: boolean, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    email_id: send.emailId,
    send_id: send.id,
    ...(send.broadcastId !== null && { broadcast_id: send.broadcastId }),
    ...extra,
    machine,
  });
}

const firstTime = (col: string, human: string) =>
  `${col} = coalesce(${col}, ?1), ${human} = CASE WHEN ?2 THEN coalesce(${human}, ?1) ELSE ${human} END`;

/**
 * An open, as it is written: the send, whether a machine made it, and when. The request decides
 * `machine` (it alone knows the user agent and address); the write reads everything else from the
 * send row, so an open that waited in the tracking Queue lands on the contact the send has by
 * then (merged since, say), and on nothing when the send was erased in between.
 */
export interface OpenRecord {
  sendId: number;
  machine: boolean;
  at: number;
}

/** The statements that write an open (the tracking Queue's consumer writes them too, core/tracking/consume.ts). */
export function openStatements(open: OpenRecord): InStatement[] {
  // ?2: a person's open (not a machine's), as firstTime() takes it.
  const args = [open.at, open.machine ? 0 : 1, open.sendId];
  return [
    { sql: `UPDATE email_sends SET ${firstTime('opened_at', 'human_opened_at')} WHERE id = ?3 AND is_test = 0`, args },
    {
      // props as props() writes them: email_id, send_id, broadcast_id when there is one, machine.
      sql: `INSERT INTO events (contact_id, type, props, created_at)
        SELECT contact_id, '${EVENT.email_opened}', CASE WHEN broadcast_id IS NULL
          THEN json_object('email_id', email_id, 'send_id', id, 'machine', json(CASE WHEN ?2 THEN 'false' ELSE 'true' END))
          ELSE json_object('email_id', email_id, 'send_id', id, 'broadcast_id', broadcast_id, 'machine', json(CASE WHEN ?2 THEN 'false' ELSE 'true' END)) END, ?1
        FROM email_sends WHERE id = ?3 AND is_test = 0`,
      args,
    },
  ];
}

/** Whether a value is an OpenRecord (a message from the Queue is checked before it is written). */
export const isOpenRecord = (v: unknown): v is OpenRecord =>
  !!v && typeof v === 'object' && isId((v as OpenRecord).sendId) && typeof (v as OpenRecord).machine === 'boolean' && Number.isSafeInteger((v as OpenRecord).at);

/**
 * Records an open for the send in a genuine open token; anything else records nothing. With a
 * tracking Queue (`enqueue`, Workers) the open is handed to it and written by its consumer; if the
 * Queue does not take it, it is written here.
 */
export async function recordOpen(
  ctx: Ctx,
  input: { token: string; request: Request },
  ingestor?: Pick<Ingestor, 'enqueue'>,
): Promise<{ recorded: boolean; machine?: boolean; queued?: boolean }> {
  const payload = await verifyToken(ctx, 'open', input.token);
  if (!payload || !isId(payload[0])) return { recorded: false };
  const send = await loadSend(ctx, payload[0]);
  if (!send || send.isTest) return { recorded: false };
  const now = ctx.now();
  const machine = machineReason({ kind: 'open', ...input.request, now, sentAt: send.sentAt, deliveredAt: send.deliveredAt }) !== null;
  const open: OpenRecord = { sendId: send.id, machine, at: now };
  const how = await enqueueOr(ingestor, { kind: 'email_open', open }, () => ctx.client.batch(openStatements(open), 'write'));
  return { recorded: true, machine, ...(how === 'queued' && { queued: true }) };
}

export type ClickResult = { ok: false } | { ok: true; location: string; recorded: boolean; machine?: boolean };

/**
 * Where a click token leads, with the click recorded. Not ok for anything but a genuine click
 * token carrying an http(s) URL (the route answers 400 then, never a redirect). A person's click
 * on a send to a contact gets a short-lived identify token (ll_t) on the destination, which the
 * tracker on a landing page carrying the tag brings back (identify.ts); machines and test sends
 * do not (a scanner's sandboxed browser must not become the contact, nor a test's reviewer).
 */
/** The send, link index and destination of a genuine click token, or null. */
export async function readClickToken(ctx: Ctx, token: string): Promise<{ sendId: number; link: number; url: string } | null> {
  const payload = await verifyToken(ctx, 'click', token);
  if (!payload || !isId(payload[0]) || !Number.isSafeInteger(payload[1]) || typeof payload[2] !== 'string') return null;
  const [sendId, link, url] = payload as [number, number, string];
  if (!/^https?:\/\//i.test(url) || url.length > MAX_URL) return null;
  return { sendId, link, url };
}

export async function followClick(ctx: Ctx, input: { token: string; request: Request }): Promise<ClickResult> {
  const read = await readClickToken(ctx, input.token);
  if (!read) return { ok: false };
  const { sendId, link, url } = read;
  const send = await loadSend(ctx, sendId);
  // A genuine link whose send is gone (erased with its contact) still leads where it said.
  if (!send || send.isTest) return { ok: true, location: url, recorded: false };
  const now = ctx.now();
  const machine = machineReason({ kind: 'click', ...input.request, now, sentAt: send.sentAt, deliveredAt: send.deliveredAt }) !== null;
  const stmts: InStatement[] = [
    {
      sql: `UPDATE email_sends SET ${firstTime('clicked_at', 'human_clicked_at')}, ${firstTime('opened_at', 'human_opened_at')} WHERE id = ?3`,
      args: [now, machine ? 0 : 1, send.id],
    },
    {
      sql: `INSERT INTO events (contact_id, type, url, props, created_at) VALUES (?, '${EVENT.email_clicked}', ?, ?, ?)`,
      args: [send.contactId, url, props(send, machine, { link }), now],
    },
  ];
  await ctx.client.batch(stmts, 'write');
  // The handoff goes only to a person, for a contact, on a page of a site's allowed origins.
  const handoff = !machine && send.contactId !== null && (await destinationTracked(ctx, url));
  const location = handoff ? withHandoff(url, await handoffToken(ctx, send.id)) : url;
  return { ok: true, location, recorded: true, machine };
}
