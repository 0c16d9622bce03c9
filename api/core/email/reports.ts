import type { InValue, Row } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError } from '../errors';
import { resolveContactId } from '../contacts/contacts';
import { after, toPage, type Page, type PageInput } from '../util/cursor';
import { iso } from '../util/time';
import { EVENT } from '../spine/event-types';
import type { SkipReason } from './suppression';
import type { SendStatus } from './queue';

/**
 * What became of an email's (or a broadcast's) sends, in two aggregate queries:
 *
 * 1. The send rows, grouped by A/B variant and skip reason: sent, skipped, failed, and what
 *    happened after (each send row carries the first delivery, open, human open, click, human
 *    click, bounce and its type, complaint and unsubscribe), so unique counts are row counts.
 *    Served by email_sends_email_idx (email_id, status) or email_sends_broadcast_idx.
 * 2. The open and click events (totals, and the click map by destination URL), served by
 *    events_email_idx (json_extract(props, '$.email_id'), type), partial over those two types.
 *
 * Test sends are left out. "Human" leaves out what privacy proxies and link scanners did
 * (props.machine on the event, the human_* columns on the row); "raw" counts everything.
 * Rates are fractions (0–1, four decimals; null when the base is 0). Opens, clicks, complaints and
 * unsubscribes are over the delivered messages when the provider reports deliveries, else over the
 * sent ones (the local outbox, or Resend without its webhook): `rates.base` says which.
 */

export interface HumanRaw {
  human: number;
  raw: number;
}
export interface RateHumanRaw {
  human: number | null;
  raw: number | null;
}

export interface EmailStats {
  sent: number;
  queued: number;
  failed: number;
  skipped: { total: number; by_reason: Partial<Record<SkipReason, number>> };
  delivered: number;
  bounced: { total: number; hard: number; soft: number };
  complained: number;
  unsubscribed: number;
  opens: { unique: HumanRaw; total: HumanRaw };
  clicks: { unique: HumanRaw; total: HumanRaw };
  rates: {
    base: 'delivered' | 'sent';
    delivery: number | null;
    open: RateHumanRaw;
    click: RateHumanRaw;
    click_to_open: RateHumanRaw;
    bounce: number | null;
    complaint: number | null;
    unsubscribe: number | null;
  };
}

export interface LinkStats {
  url: string;
  clicks: { unique: HumanRaw; total: HumanRaw };
}

export interface EmailReport extends EmailStats {
  email_id: number;
  broadcast_id: number | null;
  links: LinkStats[];
  variants: ({ variant: string } & EmailStats)[];
}

interface Counts {
  sent: number;
  queued: number;
  failed: number;
  skipped: Map<string, number>;
  delivered: number;
  hard: number;
  soft: number;
  complained: number;
  unsubscribed: number;
  opened: number;
  humanOpened: number;
  clicked: number;
  humanClicked: number;
  opens: HumanRaw;
  clicks: HumanRaw;
  /** The same counts among delivered messages only: the numerators when the base is delivered. */
  ofDelivered: { opened: number; humanOpened: number; clicked: number; humanClicked: number; complained: number; unsubscribed: number };
}

const emptyCounts = (): Counts => ({
  sent: 0,
  queued: 0,
  failed: 0,
  skipped: new Map(),
  delivered: 0,
  hard: 0,
  soft: 0,
  complained: 0,
  unsubscribed: 0,
  opened: 0,
  humanOpened: 0,
  clicked: 0,
  humanClicked: 0,
  opens: { human: 0, raw: 0 },
  clicks: { human: 0, raw: 0 },
  ofDelivered: { opened: 0, humanOpened: 0, clicked: 0, humanClicked: 0, complained: 0, unsubscribed: 0 },
});

const rate = (n: number, of: number): number | null => (of > 0 ? Math.round((n / of) * 10_000) / 10_000 : null);

/**
 * Rates are over delivered messages once the provider reports deliveries, else over sent ones;
 * with delivered as the base, the numerators count delivered messages only, so a rate never
 * passes 100 % while delivery reports lag behind opens (or some were never received).
 */
function stats(c: Counts): EmailStats {
  const base = c.delivered > 0 ? 'delivered' : 'sent';
  const of = base === 'delivered' ? c.delivered : c.sent;
  const num = base === 'delivered' ? c.ofDelivered : c;
  const bounced = c.hard + c.soft;
  return {
    sent: c.sent,
    queued: c.queued,
    failed: c.failed,
    skipped: { total: [...c.skipped.values()].reduce((a, b) => a + b, 0), by_reason: Object.fromEntries([...c.skipped].sort()) },
    delivered: c.delivered,
    bounced: { total: bounced, hard: c.hard, soft: c.soft },
    complained: c.complained,
    unsubscribed: c.unsubscribed,
    opens: { unique: { human: c.humanOpened, raw: c.opened }, total: c.opens },
    clicks: { unique: { human: c.humanClicked, raw: c.clicked }, total: c.clicks },
    rates: {
      base,
      delivery: rate(c.delivered, c.sent),
      open: { human: rate(num.humanOpened, of), raw: rate(num.opened, of) },
      click: { human: rate(num.humanClicked, of), raw: rate(num.clicked, of) },
      click_to_open: { human: rate(c.humanClicked, c.humanOpened), raw: rate(c.clicked, c.opened) },
      bounce: rate(bounced, c.sent),
      complaint: rate(num.complained, of),
      unsubscribe: rate(num.unsubscribed, of),
    },
  };
}

const n = (v: unknown) => Number(v ?? 0);

/** The report over the sends `where` selects (SQL over email_sends s), for one email. */
async function report(ctx: Ctx, emailId: number, broadcastId: number | null): Promise<EmailReport> {
  const scope = broadcastId === null ? { sql: 's.email_id = ?', args: [emailId] as InValue[] } : { sql: 's.broadcast_id = ?', args: [broadcastId] as InValue[] };
  const [sends, events] = await ctx.client.batch(
    [
      {
        sql: `SELECT s.variant, s.skip_reason,
            sum(s.status = 'sent') AS sent, sum(s.status IN ('pending', 'sending')) AS queued, sum(s.status = 'failed') AS failed,
            sum(s.status = 'skipped') AS skipped,
            sum(s.delivered_at IS NOT NULL AND s.bounced_at IS NULL) AS delivered,
            sum(s.bounce_type = 'hard') AS hard, sum(s.bounce_type = 'soft') AS soft,
            sum(s.complained_at IS NOT NULL) AS complained, sum(s.unsubscribed_at IS NOT NULL) AS unsubscribed,
            sum(s.opened_at IS NOT NULL) AS opened, sum(s.human_opened_at IS NOT NULL) AS human_opened,
            sum(s.clicked_at IS NOT NULL) AS clicked, sum(s.human_clicked_at IS NOT NULL) AS human_clicked,
            sum(s.delivered_at IS NOT NULL AND s.bounced_at IS NULL AND s.opened_at IS NOT NULL) AS d_opened,
            sum(s.delivered_at IS NOT NULL AND s.bounced_at IS NULL AND s.human_opened_at IS NOT NULL) AS d_human_opened,
            sum(s.delivered_at IS NOT NULL AND s.bounced_at IS NULL AND s.clicked_at IS NOT NULL) AS d_clicked,
            sum(s.delivered_at IS NOT NULL AND s.bounced_at IS NULL AND s.human_clicked_at IS NOT NULL) AS d_human_clicked,
            sum(s.delivered_at IS NOT NULL AND s.bounced_at IS NULL AND s.complained_at IS NOT NULL) AS d_complained,
            sum(s.delivered_at IS NOT NULL AND s.bounced_at IS NULL AND s.unsubscribed_at IS NOT NULL) AS d_unsubscribed
          FROM email_sends s WHERE ${scope.sql} AND s.is_test = 0
          GROUP BY s.variant, s.skip_reason`,
        args: scope.args,
      },
      {
        // The index's expression and condition, written as it is, so SQLite uses it.
        sql: `SELECT s.variant, e.type, CASE WHEN e.type = '${EVENT.email_clicked}' THEN e.url END AS url,
            count(*) AS total, sum(coalesce(json_extract(e.props, '$.machine'), 0) = 0) AS human,
            count(DISTINCT s.id) AS uniq,
            count(DISTINCT CASE WHEN coalesce(json_extract(e.props, '$.machine'), 0) = 0 THEN s.id END) AS uniq_human
          FROM events e JOIN email_sends s ON s.id = json_extract(e.props, '$.send_id')
          WHERE json_extract(e.props, '$.email_id') = ? AND e.type IN ('email_opened', 'email_clicked') AND ${scope.sql} AND s.is_test = 0
          GROUP BY s.variant, e.type, 3`,
        args: [emailId, ...scope.args],
      },
    ],
    'read',
  );
  const all = emptyCounts();
  const byVariant = new Map<string, Counts>();
  const countsOf = (variant: unknown) => {
    if (variant === null || variant === undefined) return null;
    const k = String(variant);
    let c = byVariant.get(k);
    if (!c) byVariant.set(k, (c = emptyCounts()));
    return c;
  };
  for (const r of sends!.rows) {
    for (const c of [all, countsOf(r.variant)]) {
      if (!c) continue;
      c.sent += n(r.sent);
      c.queued += n(r.queued);
      c.failed += n(r.failed);
      if (r.skip_reason !== null && n(r.skipped) > 0) c.skipped.set(String(r.skip_reason), (c.skipped.get(String(r.skip_reason)) ?? 0) + n(r.skipped));
      c.delivered += n(r.delivered);
      c.hard += n(r.hard);
      c.soft += n(r.soft);
      c.complained += n(r.complained);
      c.unsubscribed += n(r.unsubscribed);
      c.opened += n(r.opened);
      c.humanOpened += n(r.human_opened);
      c.clicked += n(r.clicked);
      c.humanClicked += n(r.human_clicked);
      c.ofDelivered.opened += n(r.d_opened);
      c.ofDelivered.humanOpened += n(r.d_human_opened);
      c.ofDelivered.clicked += n(r.d_clicked);
      c.ofDelivered.humanClicked += n(r.d_human_clicked);
      c.ofDelivered.complained += n(r.d_complained);
      c.ofDelivered.unsubscribed += n(r.d_unsubscribed);
    }
  }
  const links = new Map<string, LinkStats>();
  for (const r of events!.rows) {
    const clicked = r.type === EVENT.email_clicked;
    for (const c of [all, countsOf(r.variant)]) {
      if (!c) continue;
      const into = clicked ? c.clicks : c.opens;
      into.raw += n(r.total);
      into.human += n(r.human);
    }
    if (clicked && r.url !== null) {
      const url = String(r.url);
      let l = links.get(url);
      if (!l) links.set(url, (l = { url, clicks: { unique: { human: 0, raw: 0 }, total: { human: 0, raw: 0 } } }));
      // A send's clicks fall in one variant, so unique counts add up across variants.
      l.clicks.total.raw += n(r.total);
      l.clicks.total.human += n(r.human);
      l.clicks.unique.raw += n(r.uniq);
      l.clicks.unique.human += n(r.uniq_human);
    }
  }
  return {
    email_id: emailId,
    broadcast_id: broadcastId,
    ...stats(all),
    links: [...links.values()].sort((a, b) => b.clicks.total.raw - a.clicks.total.raw || (a.url < b.url ? -1 : 1)),
    variants: [...byVariant].sort(([a], [b]) => (a < b ? -1 : 1)).map(([variant, c]) => ({ variant, ...stats(c) })),
  };
}

/** GET /emails/{id}/report: every send of the email (API, campaign and broadcast sends alike). */
export async function emailReport({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<EmailReport> {
  const r = await ctx.client.execute({ sql: 'SELECT id FROM emails WHERE id = ?', args: [input.id] });
  if (!r.rows[0]) throw new NotFoundError('Email');
  return report(ctx, input.id, null);
}

/** GET /broadcasts/{id}/report: the sends of one broadcast. */
export async function broadcastReport({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<EmailReport> {
  const r = await ctx.client.execute({ sql: 'SELECT email_id FROM email_broadcasts WHERE id = ?', args: [input.id] });
  if (!r.rows[0]) throw new NotFoundError('Broadcast');
  return report(ctx, Number(r.rows[0].email_id), input.id);
}

export interface ContactEmailView {
  send_id: number;
  email_id: number;
  email_name: string | null;
  subject: string | null;
  broadcast_id: number | null;
  variant: string | null;
  to: string | null;
  status: SendStatus;
  skip_reason: SkipReason | null;
  bounce_type: 'hard' | 'soft' | null;
  error: string | null;
  created_at: string;
  sent_at: string | null;
  delivered_at: string | null;
  opened_at: string | null;
  human_opened_at: string | null;
  clicked_at: string | null;
  human_clicked_at: string | null;
  bounced_at: string | null;
  complained_at: string | null;
  unsubscribed_at: string | null;
}

const at = (v: unknown) => iso(v === null || v === undefined ? null : Number(v));
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));

const contactEmailView = (r: Row): ContactEmailView => ({
  send_id: Number(r.id),
  email_id: Number(r.email_id),
  email_name: str(r.email_name),
  subject: str(r.subject),
  broadcast_id: r.broadcast_id === null ? null : Number(r.broadcast_id),
  variant: str(r.variant),
  to: str(r.to_email),
  status: String(r.status) as SendStatus,
  skip_reason: str(r.skip_reason) as SkipReason | null,
  bounce_type: str(r.bounce_type) as ContactEmailView['bounce_type'],
  error: str(r.error),
  created_at: at(r.created_at)!,
  sent_at: at(r.sent_at),
  delivered_at: at(r.delivered_at),
  opened_at: at(r.opened_at),
  human_opened_at: at(r.human_opened_at),
  clicked_at: at(r.clicked_at),
  human_clicked_at: at(r.human_clicked_at),
  bounced_at: at(r.bounced_at),
  complained_at: at(r.complained_at),
  unsubscribed_at: at(r.unsubscribed_at),
});

/** GET /contacts/{id}/emails: the contact's sends, newest first (tests left out), with what happened to each. */
export async function contactEmails({ ctx, input }: { ctx: Ctx; input: PageInput & { id: number } }): Promise<Page<ContactEmailView>> {
  const id = await resolveContactId(ctx, input.id);
  const exists = await ctx.client.execute({ sql: 'SELECT 1 FROM contacts WHERE id = ?', args: [id] });
  if (!exists.rows[0]) throw new NotFoundError('Contact');
  const a = after(input.cursor, null, 's.id', true);
  const r = await ctx.client.execute({
    sql: `SELECT s.*, e.name AS email_name, e.subject FROM email_sends s LEFT JOIN emails e ON e.id = s.email_id
      WHERE s.contact_id = ? AND s.is_test = 0 AND ${a.sql} ORDER BY s.id DESC LIMIT ?`,
    args: [id, ...a.args, input.limit + 1],
  });
  return toPage(r.rows, input.limit, (x) => [null, Number(x.id)], contactEmailView);
}

export const COMPLAINT_WINDOW = 1000;
export const COMPLAINT_THRESHOLD = 0.001;

export interface EmailAlert {
  code: 'complaint_rate';
  rate: number;
  window: number;
  complaints: number;
  threshold: number;
  message: string;
}

/**
 * Account-level alerts: the complaint rate of the last 1,000 messages sent (tests left out) above
 * 0.1%, the level past which mailbox providers start to filter a sender. Read through
 * email_sends_sent_idx (sent_at, partial over sent rows).
 */
export async function emailAlerts(ctx: Ctx): Promise<EmailAlert[]> {
  const r = await ctx.client.execute({
    sql: `SELECT count(*) AS sent, coalesce(sum(complained_at IS NOT NULL), 0) AS complaints FROM (
        SELECT complained_at FROM email_sends WHERE status = 'sent' AND is_test = 0 ORDER BY sent_at DESC LIMIT ?)`,
    args: [COMPLAINT_WINDOW],
  });
  const sent = n(r.rows[0]?.sent);
  const complaints = n(r.rows[0]?.complaints);
  if (!sent || complaints / sent <= COMPLAINT_THRESHOLD) return [];
  const value = Math.round((complaints / sent) * 100_000) / 100_000;
  return [
    {
      code: 'complaint_rate',
      rate: value,
      window: sent,
      complaints,
      threshold: COMPLAINT_THRESHOLD,
      message: `${complaints} of the last ${sent} emails sent were marked as spam (${(value * 100).toFixed(2)}%, above ${COMPLAINT_THRESHOLD * 100}%). Mailbox providers filter senders past this level: check who is mailed and how they signed up.`,
    },
  ];
}
