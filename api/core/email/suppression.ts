import type { InValue } from '@libsql/client';
import type { EmailSettings } from './settings';

/**
 * Why a send must not go out, as one SQL CASE (NULL: it may). Evaluated when the send row is
 * written and again when the send loop claims it, since an unsubscribe, a bounce or a cap can
 * come in between. Skipped sends are rows with this reason, never silently dropped.
 *
 * - invalid_address: the contact has no address.
 * - bounced / complained: do-not-contact for email or all with that reason (every kind: sending
 *   again to a dead or complaining address hurts the sender's reputation). Provider webhooks
 *   (provider-events.ts) write those entries: a hard bounce or a complaint at once, soft bounces
 *   from the third within 30 days. A send to an address without a contact has no entry to
 *   read: its address's own sends decide (a hard bounce, a complaint, or 3 soft bounces in 30 days).
 * - do_not_contact: do-not-contact for all; for marketing emails also for email.
 * - unsubscribed: the contact left the email's category, or all marketing email (marketing only).
 * - frequency_cap: the contact had its marketing emails for the day or week (marketing only).
 */
export const SKIP_REASONS = ['invalid_address', 'bounced', 'complained', 'do_not_contact', 'unsubscribed', 'frequency_cap'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface SkipTerms {
  /** SQL for the contact id (may be NULL), the address, 1/0 marketing, the category id (may be NULL). */
  contact: string;
  address: string;
  marketing: string;
  category: string;
  /**
   * Queueing counts the contact's marketing sends already sending against its cap; claiming
   * counts those sending with a lower id than this SQL (the row's own id), so that of two racing
   * sends the later one is the one skipped.
   */
  claimingId: string | null;
}

const DAY = 86_400_000;
/** An address soft-bouncing this often within the window is suppressed (provider-events.ts, below). */
export const SOFT_BOUNCE_LIMIT = 3;
export const SOFT_BOUNCE_WINDOW_MS = 30 * DAY;

export function skipReasonSql(t: SkipTerms, settings: EmailSettings, now: number): { sql: string; args: InValue[] } {
  const args: InValue[] = [now - SOFT_BOUNCE_WINDOW_MS];
  const dnc = (cond: string) => `${t.contact} IS NOT NULL AND EXISTS (SELECT 1 FROM do_not_contact d WHERE d.contact_id = ${t.contact} AND ${cond})`;
  // Only for sends without a contact (transactional to an address): SQLite evaluates AND lazily,
  // so a contact's send never runs these subqueries.
  const byAddress = (cond: string) => `${t.contact} IS NULL AND EXISTS (SELECT 1 FROM email_sends b WHERE b.to_email = ${t.address} AND ${cond})`;
  const arms = [
    `WHEN ${t.address} IS NULL THEN 'invalid_address'`,
    `WHEN ${byAddress("b.bounce_type = 'hard'")} THEN 'bounced'`,
    `WHEN ${byAddress('b.complained_at IS NOT NULL')} THEN 'complained'`,
    `WHEN ${t.contact} IS NULL AND (SELECT count(*) FROM email_sends b WHERE b.to_email = ${t.address} AND b.bounce_type = 'soft' AND b.bounced_at >= ?) >= ${SOFT_BOUNCE_LIMIT} THEN 'bounced'`,
    `WHEN ${dnc("d.channel IN ('email', 'all') AND d.reason = 'bounced'")} THEN 'bounced'`,
    `WHEN ${dnc("d.channel IN ('email', 'all') AND d.reason = 'complained'")} THEN 'complained'`,
    // Leaving all marketing email (the preference centre, one-click without a category) is a
    // do-not-contact entry on email with reason unsubscribed: reported as what it is.
    `WHEN ${t.marketing} = 1 AND ${dnc("d.channel = 'email' AND d.reason = 'unsubscribed'")} THEN 'unsubscribed'`,
    `WHEN ${dnc(`(d.channel = 'all' OR (${t.marketing} = 1 AND d.channel = 'email'))`)} THEN 'do_not_contact'`,
    `WHEN ${t.marketing} = 1 AND ${t.category} IS NOT NULL AND ${t.contact} IS NOT NULL AND EXISTS (
        SELECT 1 FROM contact_subscriptions cs WHERE cs.contact_id = ${t.contact} AND cs.category_id = ${t.category} AND cs.subscribed = 0) THEN 'unsubscribed'`,
  ];
  // Queueing counts what is being sent now; claiming also what is being sent with a lower id. A
  // pending row is not counted: it may still be skipped (an unsubscribe, a bounce) and must not
  // cap the contact out of an email it never gets (for a broadcast, for good: its row stays).
  const inFlight = t.claimingId === null ? "p.status = 'sending'" : `(p.status = 'sending' AND p.id < ${t.claimingId})`;
  for (const [cap, window] of [
    [settings.frequency_cap.per_day, DAY],
    [settings.frequency_cap.per_week, 7 * DAY],
  ] as const) {
    if (cap === null) continue;
    arms.push(`WHEN ${t.marketing} = 1 AND ${t.contact} IS NOT NULL AND (
        SELECT count(*) FROM email_sends p WHERE p.contact_id = ${t.contact} AND p.marketing = 1 AND p.is_test = 0
          AND ((p.status = 'sent' AND p.sent_at >= ?) OR ${inFlight})) >= ? THEN 'frequency_cap'`);
    args.push(now - window, cap);
  }
  return { sql: `CASE ${arms.join(' ')} END`, args };
}
