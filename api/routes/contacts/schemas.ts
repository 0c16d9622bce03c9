import { z } from '@hono/zod-openapi';
import { ContactInput } from '../../core/contacts/prepare';
import { DNC_CHANNELS, DNC_REASONS } from '../../core/contacts/dnc';
import { FIELD_TYPES } from '../../core/contacts/values';
import { Email, idNumber, Timestamp, PageQuery } from '../shared';

export const ContactInputSchema = ContactInput.extend({ email: ContactInput.shape.email.openapi({ format: 'email' }) }).openapi('ContactInput', {
  description:
    'Built-in fields at the top level, custom field values under `fields` (null clears a value), tags to add under `tags`. Unknown fields are rejected.',
  example: { email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace', fields: { plan: 'pro' }, tags: ['newsletter'] },
});

export const DncEntry = z
  .object({ channel: z.enum(DNC_CHANNELS), reason: z.enum(DNC_REASONS), comment: z.string().nullable(), created_at: Timestamp })
  .openapi('DoNotContact');

export const Contact = z
  .object({
    id: z.number().int(),
    email: Email.nullable(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    phone: z.string().nullable(),
    job_title: z.string().nullable(),
    city: z.string().nullable(),
    country: z.string().nullable(),
    fields: z.record(z.string(), z.unknown()),
    tags: z.array(z.string()),
    points: z.number().int(),
    stage_id: z.number().int().nullable().openapi({ description: 'The lifecycle stage the contact is at (GET /api/v1/stages), or null' }),
    do_not_contact: z.array(DncEntry),
    created_at: Timestamp,
    updated_at: Timestamp,
    last_active_at: Timestamp.nullable(),
    first_seen_at: Timestamp.nullable().openapi({ description: 'When its first tracked visit happened' }),
    first_source: z
      .record(z.string(), z.string())
      .nullable()
      .openapi({ description: 'First-touch source: utm_source, utm_medium, utm_campaign, utm_term, utm_content, referrer, landing_url' }),
  })
  .openapi('Contact');

export const ContactCompany = z
  .object({ id: z.number().int(), name: z.string(), domain: z.string().nullable(), is_primary: z.boolean() })
  .openapi('ContactCompany');

export const ContactDetail = Contact.extend({ companies: z.array(ContactCompany) }).openapi('ContactDetail');

export const ContactListQuery = PageQuery.extend({
  q: z.string().trim().min(1).max(100).optional().openapi({ description: 'Prefix of email, first name or last name' }),
  tag: z.string().trim().min(1).max(64).optional().openapi({ description: 'Only contacts with this tag' }),
  company_id: idNumber().optional().openapi({ description: 'Only contacts linked to this company' }),
  segment_id: idNumber().optional().openapi({ description: 'Only members of this segment', type: 'integer' }),
  stage_id: idNumber().optional().openapi({ description: 'Only contacts at this stage', type: 'integer' }),
  points_min: z.coerce.number().int().min(-1_000_000_000).max(1_000_000_000).optional().openapi({ description: 'Only contacts with at least this many points' }),
  points_max: z.coerce.number().int().min(-1_000_000_000).max(1_000_000_000).optional().openapi({ description: 'Only contacts with at most this many points' }),
  sort: z.enum(['created_at', 'updated_at', 'last_active_at']).default('created_at'),
  order: z.enum(['asc', 'desc']).default('desc'),
});

export const RowResult = z
  .object({
    index: z.number().int(),
    status: z.enum(['created', 'updated', 'rejected']),
    id: z.number().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('BatchRowResult');

export const Field = z
  .object({
    id: z.number().int(),
    key: z.string(),
    label: z.string(),
    type: z.enum(FIELD_TYPES),
    options: z.array(z.string()).nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Field');

export const FieldOptions = z.array(z.string().trim().min(1).max(100)).max(200);

export const Tag = z.object({ id: z.number().int(), name: z.string(), contacts: z.number().int(), created_at: Timestamp }).openapi('Tag');
