import { sqliteTable, integer, text, index, uniqueIndex, primaryKey } from 'drizzle-orm/sqlite-core';
import { sql } from 'drizzle-orm';

// Subscription categories a contact can leave one by one (the preference centre lists them).
export const emailCategories = sqliteTable('email_categories', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  key: text('key').notNull().unique(),
  name: text('name').notNull(),
  description: text('description'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const emails = sqliteTable('emails', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  kind: text('kind').notNull(), // template | broadcast | transactional
  subject: text('subject').notNull(),
  preheader: text('preheader'),
  // NULL: the configured EMAIL_FROM, read when the message is rendered.
  fromName: text('from_name'),
  fromAddress: text('from_address'),
  replyTo: text('reply_to'),
  // As the author wrote them (Liquid inside).
  html: text('html').notNull(),
  text: text('text'),
  // What sends render: CSS inlined into the HTML, and the text given or generated from
  // the HTML, both still Liquid. Made when the email is saved, so no send pays for it.
  htmlCompiled: text('html_compiled').notNull(),
  textCompiled: text('text_compiled').notNull(),
  categoryId: integer('category_id'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * One row per message Leadline means to send, written before any provider call
 * (DESIGN.md, "Sends are rows first"). The unique keys are the exactly-once
 * guard: one email to one address (or contact) per reason.
 */
export const emailSends = sqliteTable(
  'email_sends',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    emailId: integer('email_id').notNull(),
    contactId: integer('contact_id'),
    // Normalised (trimmed, lower-cased); NULL when the contact has no address (skipped).
    toEmail: text('to_email'),
    // Why it is sent: "api:<key>", "test:<id>", "broadcast:<id>", "campaign:<…>".
    reason: text('reason').notNull(),
    broadcastId: integer('broadcast_id'),
    variant: text('variant'), // A/B: which subject variant
    // Not transactional when queued: unsubscribes and frequency caps apply.
    marketing: integer('marketing').notNull(),
    isTest: integer('is_test').notNull().default(0),
    // Extra Liquid variables given with the send (JSON object).
    variables: text('variables'),
    status: text('status').notNull(), // pending | sending | sent | skipped | failed
    skipReason: text('skip_reason'),
    providerId: text('provider_id'),
    // Bumped on every claim: with lease_owner it fences a holder whose lease ran out.
    attempts: integer('attempts').notNull().default(0),
    // Provider failures (5xx, network): after a few the send is failed.
    failures: integer('failures').notNull().default(0),
    leaseOwner: text('lease_owner'),
    leaseUntil: integer('lease_until'),
    // When a pending row is due; while sending, when its lease runs out (one index serves both).
    nextAttemptAt: integer('next_attempt_at'),
    // The provider call's Idempotency-Key once the row went into a call: a re-claim re-sends that call.
    batchKey: text('batch_key'),
    sentAt: integer('sent_at'),
    // What happened after: each set once, the first time (provider webhooks find the row by
    // provider_id, or by the leadline_send tag on the message; tracking by the send id in its
    // token). human_*: opens and clicks not made by privacy proxies or link scanners.
    deliveredAt: integer('delivered_at'),
    openedAt: integer('opened_at'),
    humanOpenedAt: integer('human_opened_at'),
    clickedAt: integer('clicked_at'),
    humanClickedAt: integer('human_clicked_at'),
    bouncedAt: integer('bounced_at'),
    // hard | soft, with bounced_at (provider webhooks; a soft bounce may become hard, never back).
    bounceType: text('bounce_type'),
    complainedAt: integer('complained_at'),
    unsubscribedAt: integer('unsubscribed_at'),
    error: text('error'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('email_sends_email_to_reason_uq').on(t.emailId, t.toEmail, t.reason),
    // A contact without an address has a NULL to_email, which the key above does not compare.
    uniqueIndex('email_sends_email_contact_reason_uq').on(t.emailId, t.contactId, t.reason).where(sql`contact_id IS NOT NULL`),
    index('email_sends_due_idx').on(t.nextAttemptAt).where(sql`status IN ('pending', 'sending')`),
    index('email_sends_batch_idx').on(t.batchKey).where(sql`status IN ('pending', 'sending') AND batch_key IS NOT NULL`),
    index('email_sends_contact_idx').on(t.contactId, t.sentAt),
    index('email_sends_to_idx').on(t.toEmail),
    index('email_sends_email_idx').on(t.emailId, t.status),
    index('email_sends_broadcast_idx').on(t.broadcastId).where(sql`broadcast_id IS NOT NULL`),
    uniqueIndex('email_sends_provider_uq').on(t.providerId).where(sql`provider_id IS NOT NULL`),
    // The complaint-rate alert reads the last 1,000 messages sent.
    index('email_sends_sent_idx').on(t.sentAt).where(sql`status = 'sent'`),
  ],
);

// What would have been sent, when no provider is configured (the local outbox driver).
export const emailOutbox = sqliteTable(
  'email_outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    // One message per send: writing it twice is a no-op, as a provider's idempotency key is.
    sendId: integer('send_id').notNull().unique(),
    contactId: integer('contact_id'),
    toEmail: text('to_email').notNull(),
    fromHeader: text('from_header').notNull(),
    subject: text('subject').notNull(),
    headers: text('headers').notNull(), // JSON object
    html: text('html').notNull(),
    text: text('text').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('email_outbox_contact_idx').on(t.contactId), index('email_outbox_to_idx').on(t.toEmail)],
);

// A contact's choice per category; no row means subscribed.
export const contactSubscriptions = sqliteTable(
  'contact_subscriptions',
  {
    contactId: integer('contact_id').notNull(),
    categoryId: integer('category_id').notNull(),
    subscribed: integer('subscribed').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.contactId, t.categoryId] }), index('contact_subscriptions_category_idx').on(t.categoryId)],
);

export const emailBroadcasts = sqliteTable(
  'email_broadcasts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    emailId: integer('email_id').notNull(),
    segmentIds: text('segment_ids').notNull(), // JSON array
    sendAt: integer('send_at'),
    status: text('status').notNull(), // draft | scheduled | sending | sent | cancelled
    ab: text('ab'), // JSON: subject variants, sample, winner metric, decision time, results
    // While sending (core/email/broadcasts.ts): queue (writing every recipient's row), sample
    // (A/B: the sample's rows), testing (A/B: waiting to decide), rest (A/B: the others' rows,
    // winning subject), sending (every row written; waiting for them to go out).
    phase: text('phase'),
    // The pass writing rows has written them for every member up to this contact id (resumable).
    cursor: integer('cursor'),
    // A/B: the winning variant ('a', 'b', …) and when it was picked.
    winner: text('winner'),
    decidedAt: integer('decided_at'),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('email_broadcasts_due_idx').on(t.status, t.sendAt)],
);

// Provider webhook deliveries already handled (by their svix-id), so a redelivery does nothing.
export const emailWebhookReceipts = sqliteTable('email_webhook_receipts', {
  id: text('id').primaryKey(),
  type: text('type'),
  receivedAt: integer('received_at').notNull(),
});
