/**
 * Every event type the log holds, declared once. Events are what contacts and
 * visitors did (from the tracker, forms, downloads, sales) and what the system
 * did to contacts (points, stages, segments, merges). Reactions
 * (spine/registry.ts) consume them; reports and timelines read them.
 */
export const EVENT = {
  // From the tracker (POST /t): the wire codes are in tracking/payload.ts.
  page_view: 'page_view',
  custom: 'custom',
  outbound_click: 'outbound_click',
  file_download: 'file_download',
  engagement: 'engagement',
  focus_view: 'focus_view',
  focus_click: 'focus_click',
  focus_close: 'focus_close',
  // A slot (dynamic web content, core/slots/) shown and a click inside one, from the widget chunk
  // with props { slot_id, slot, variant } (variant "default": the page's own content).
  slot_view: 'slot_view',
  slot_click: 'slot_click',
  // A form rendered (once per render) and its first input or focus (once per render), from the
  // forms chunk with props.form_id: the reports' form funnel. They are what the visitor did, like
  // focus_view: not system events (activity, behaviour filters and point rules may use them).
  form_view: 'form_view',
  form_start: 'form_start',
  // From the other public endpoints.
  form_submit: 'form_submit',
  asset_download: 'asset_download',
  // Identity: a visitor resolved to a contact; two contacts merged into one.
  identified: 'identified',
  merged: 'merged',
  // Scoring and segments.
  points_changed: 'points_changed',
  stage_changed: 'stage_changed',
  segment_joined: 'segment_joined',
  segment_left: 'segment_left',
  // Sales feedback.
  sales_accepted: 'sales_accepted',
  sales_rejected: 'sales_rejected',
  deal_won: 'deal_won',
  deal_lost: 'deal_lost',
  // Email (written by the email channel; props email_id, send_id). Sent, delivered, bounced
  // and complained happen to the contact; opens, clicks and unsubscribes are what the contact
  // did (props.machine marks an open or click a privacy proxy or link scanner caused).
  email_sent: 'email_sent',
  email_delivered: 'email_delivered',
  email_bounced: 'email_bounced',
  email_complained: 'email_complained',
  email_opened: 'email_opened',
  email_clicked: 'email_clicked',
  email_unsubscribed: 'email_unsubscribed',
} as const;

export type EventType = (typeof EVENT)[keyof typeof EVENT];

/** What the system writes about a contact, not something the contact did: no points, no activity. */
export const SYSTEM_EVENTS: ReadonlySet<string> = new Set<string>([
  EVENT.merged,
  EVENT.points_changed,
  EVENT.stage_changed,
  EVENT.segment_joined,
  EVENT.segment_left,
  EVENT.email_sent,
  EVENT.email_delivered,
  EVENT.email_bounced,
  EVENT.email_complained,
]);

/**
 * System events a point rule may still score, as Mautic's "is sent an email" does: they
 * happened to the contact (no activity stamp, no behaviour filter), but a marketer may weigh
 * them, e.g. +1 per newsletter sent or -20 for a bounce. The rule's email_id filter picks one email.
 */
export const SCORABLE_SYSTEM_EVENTS: ReadonlySet<string> = new Set<string>([
  EVENT.email_sent,
  EVENT.email_delivered,
  EVENT.email_bounced,
  EVENT.email_complained,
]);

/** Whether point rules may score this event type. */
export const isScorable = (type: string): boolean => !SYSTEM_EVENTS.has(type) || SCORABLE_SYSTEM_EVENTS.has(type);

/** Events that are no behaviour of the contact's at all (system events and identification). */
export const NOT_BEHAVIOUR: ReadonlySet<string> = new Set<string>([...SYSTEM_EVENTS, EVENT.identified]);

/** A set of event types as an SQL list literal, for `type IN (…)`: constants only, never user input. */
export const sqlList = (types: ReadonlySet<string>) => [...types].map((t) => `'${t}'`).join(', ');
