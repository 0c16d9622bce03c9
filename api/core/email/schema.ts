import { z } from 'zod';
import { isEmail } from '../contacts/values';
import { isCleanIdentifier } from '../util/text';

export const EMAIL_KINDS = ['template', 'broadcast', 'transactional'] as const;
export type EmailKind = (typeof EMAIL_KINDS)[number];

/** Unsubscribes and frequency caps apply to every kind but transactional. */
export const isMarketing = (kind: string): boolean => kind !== 'transactional';

// Headers carry these: a line break would start another header.
const oneLine = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .refine((v) => !/[\r\n]/.test(v), 'must be one line');

export const Address = z
  .string()
  .trim()
  .max(254)
  .refine((v) => isEmail(v) && isCleanIdentifier(v), 'must be a valid email address')
  .meta({ format: 'email' });

const CONTENT_MAX = 512 * 1024;

export const EmailInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  kind: z.enum(EMAIL_KINDS).default('template'),
  subject: oneLine(998).pipe(z.string().min(1)).meta({ description: 'Liquid; rendered as plain text' }),
  preheader: oneLine(500).nullable().optional().meta({ description: 'Liquid; the summary inbox lists show after the subject' }),
  from_name: oneLine(200).nullable().optional().meta({ description: 'Sender name; null: the name in EMAIL_FROM' }),
  from_email: Address.nullable().optional().meta({ description: 'Sender address; null: the address in EMAIL_FROM' }),
  reply_to: Address.nullable().optional(),
  html: z.string().min(1).max(CONTENT_MAX).meta({ description: 'Liquid; output is HTML-escaped unless `| raw`. CSS in <style> is inlined when saved' }),
  text: z.string().max(CONTENT_MAX).nullable().optional().meta({ description: 'Liquid; the plain-text part. Null: generated from the HTML' }),
  category_id: z
    .number()
    .int()
    .positive()
    .nullable()
    .optional()
    .meta({ description: 'Subscription category. Marketing kinds default to the category with key "marketing"; transactional emails ignore category unsubscribes' }),
});
export type EmailInput = z.infer<typeof EmailInput>;

export const EmailPatch = z.strictObject({
  name: EmailInput.shape.name.optional(),
  kind: z.enum(EMAIL_KINDS).optional(),
  subject: EmailInput.shape.subject.optional(),
  preheader: EmailInput.shape.preheader,
  from_name: EmailInput.shape.from_name,
  from_email: EmailInput.shape.from_email,
  reply_to: EmailInput.shape.reply_to,
  html: EmailInput.shape.html.optional(),
  text: EmailInput.shape.text,
  category_id: EmailInput.shape.category_id,
});
export type EmailPatch = z.infer<typeof EmailPatch>;

export const CategoryInput = z.strictObject({
  key: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'must be 1–64 characters of a-z, 0-9, _ and -, starting with a letter'),
  name: z.string().trim().min(1).max(200),
  description: z.string().trim().max(1000).nullable().optional(),
});
export type CategoryInput = z.infer<typeof CategoryInput>;
export const CategoryPatch = CategoryInput.partial();
export type CategoryPatch = z.infer<typeof CategoryPatch>;

/** Variable names a send may not give: the template's own. */
export const RESERVED_VARIABLES = ['contact', 'company', 'points', 'stage', 'unsubscribe_url', 'preferences_url'] as const;

export const Variables = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a Liquid name: letters, digits and _'), z.unknown())
  .refine((v) => JSON.stringify(v).length <= 16_384, 'must be at most 16 KB as JSON')
  .superRefine((v, c) => {
    for (const k of RESERVED_VARIABLES) {
      if (Object.hasOwn(v, k)) c.addIssue({ code: 'custom', path: [k], message: 'is given by Leadline; use another name' });
    }
  })
  .meta({ description: 'Extra Liquid variables, at the top level: `{{ order_id }}`. Not: contact, company, points, stage, unsubscribe_url, preferences_url' });
export type Variables = Record<string, unknown>;

export const SendInput = z
  .strictObject({
    contact_id: z.number().int().positive().optional(),
    to: Address.optional().meta({ description: 'Transactional emails only: an address, with or without a contact' }),
    variables: Variables.optional(),
  })
  .refine((v) => (v.contact_id === undefined) !== (v.to === undefined), { message: 'give either contact_id or to', path: ['contact_id'] });
export type SendInput = z.infer<typeof SendInput>;

export const TestInput = z.strictObject({
  to: Address,
  contact_id: z.number().int().positive().optional().meta({ description: 'Render for this contact; without it, for an empty one' }),
  variables: Variables.optional(),
});
export type TestInput = z.infer<typeof TestInput>;

export const PreviewInput = z.strictObject({
  contact_id: z.number().int().positive().optional().meta({ description: 'Render for this contact; without it, for an empty one' }),
  variables: Variables.optional(),
});
export type PreviewInput = z.infer<typeof PreviewInput>;

const Cap = z.number().int().min(1).max(1000).nullable();
export const SettingsPatch = z.strictObject({
  frequency_cap: z
    .strictObject({
      per_day: Cap.optional().meta({ description: 'At most this many marketing emails per contact in 24 hours; null: no cap' }),
      per_week: Cap.optional().meta({ description: 'At most this many marketing emails per contact in 7 days; null: no cap' }),
    })
    .optional(),
});
export type SettingsPatch = z.infer<typeof SettingsPatch>;
