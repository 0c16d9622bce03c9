import { z } from '@hono/zod-openapi';
import { EMAIL_KINDS } from '../../core/email/schema';
import { SKIP_REASONS } from '../../core/email/suppression';
import { Email, Timestamp } from '../shared';

export const EmailSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    kind: z.enum(EMAIL_KINDS),
    subject: z.string(),
    preheader: z.string().nullable(),
    from_name: z.string().nullable().openapi({ description: 'Null: the name in EMAIL_FROM' }),
    from_email: Email.nullable().openapi({ description: 'Null: the address in EMAIL_FROM' }),
    reply_to: Email.nullable(),
    html: z.string().openapi({ description: 'As written (Liquid); sends use it with its CSS inlined' }),
    text: z.string().nullable().openapi({ description: 'As written; null: generated from the HTML (see a preview)' }),
    category_id: z.number().int().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Email');

export const SendSchema = z
  .object({
    id: z.number().int(),
    email_id: z.number().int(),
    contact_id: z.number().int().nullable(),
    to: Email.nullable().openapi({ description: 'Normalised; null when the contact has no address' }),
    reason: z.string().openapi({ description: '"api:<key id>:<Idempotency-Key>", "api:<random>", "test:<random>", later "broadcast:…" and "campaign:…"' }),
    status: z.enum(['pending', 'sending', 'sent', 'skipped', 'failed']),
    skip_reason: z.enum(SKIP_REASONS).nullable(),
    is_test: z.boolean(),
    attempts: z.number().int().openapi({ description: 'Times the send loop claimed it' }),
    provider_id: z.string().nullable().openapi({ description: "Resend's email id, or outbox-<id>" }),
    error: z.string().nullable(),
    next_attempt_at: Timestamp.nullable().openapi({ description: 'When a pending send is due' }),
    created_at: Timestamp,
    sent_at: Timestamp.nullable(),
  })
  .openapi('EmailSend');

export const PreviewSchema = z
  .object({
    from: z.string(),
    to: Email.nullable(),
    reply_to: Email.nullable(),
    subject: z.string(),
    headers: z.record(z.string(), z.string()),
    html: z.string(),
    text: z.string(),
  })
  .openapi('EmailPreview');
