import type { InValue } from '@libsql/client';
import type { EmailSettings } from './settings';

/**
 * Why a send must not go out, as one SQL CASE (NULL: it may). Evaluated when the send row is
 * written and again when the send loop claims it, since an unsubscribe, a bounce or a cap can
 * come in between. Skipped sends are rows with this reason, never silently dropped.
 *
 * - invalid_address: the contact has no address.
 * - bounced / complained: do-not-contact for email or all with that reason (every kind: sending
 *   again to a dead or complaining address hurts the sender's reputation).
 * - do_not_contact: do-not-contact for all; for marketing emails also for email.
 * - unsubscribed: the contact left the email's category (marketing only).
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
   * Queueing counts every marketing send not yet done for the contact against its cap; claiming
   * counts those already sending with a lower id than this SQL (the row's own id), so that of
   * two racing sends the later one is the one skipped.
   */
  claimingId: string | null;
}

const DAY = 86_400_000;

export function skipReasonSql(t: SkipTerms, settings: EmailSettings, now: number): { sql: string; args: InValue[] } {
  const args: InValue[] = [];
  const dnc = (cond: string) => `${t.contact} IS NOT NULL AND EXISTS (SELECT 1 FROM do_not_contact d WHERE d.contact_id = ${t.contact} AND ${cond})`;
  const arms = [
    `WHEN ${t.address} IS NULL THEN 'invalid_address'`,
    `WHEN ${dnc("d.channel IN ('email', 'all') AND d.reason = 'bounced'")} THEN 'bounced'`,
    `WHEN ${dnc("d.channel IN ('email', 'all') AND d.reason = 'complained'")} THEN 'complained'`,
    `WHEN ${dnc(`(d.channel = 'all' OR (${t.marketing} = 1 AND d.channel = 'email'))`)} THEN 'do_not_contact'`,
    `WHEN ${t.marketing} = 1 AND ${t.category} IS NOT NULL AND ${t.contact} IS NOT NULL AND EXISTS (
        SELECT 1 FROM contact_subscriptions cs WHERE cs.contact_id = ${t.contact} AND cs.category_id = ${t.category} AND cs.subscribed = 0) THEN 'unsubscribed'`,
  ];
  const inFlight = t.claimingId === null ? "p.status IN ('pending', 'sending')" : `(p.status = 'sending' AND p.id < ${t.claimingId})`;
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
