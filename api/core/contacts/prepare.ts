import { z } from 'zod';
import { zodErrors, type FieldError } from '../errors';
import { checkCustomValues, CORE_FIELDS, type FieldDef } from './fields';
import { checkValue, CORE_COLUMNS, normalizeEmail } from './values';
import { isCleanIdentifier } from '../util/text';

/** A tag as it is written: trimmed, 1–64 characters, no control characters. */
export const TagName = z.string().trim().min(1).max(64).refine(isCleanIdentifier, 'must not contain control characters');

const nullableText = (max: number) => z.string().max(max).nullable().optional();

// The shape a contact is written with: built-in fields at the top level, custom
// field values under `fields`, tags to add under `tags`.
export const ContactInput = z.strictObject({
  email: nullableText(254),
  first_name: nullableText(100),
  last_name: nullableText(100),
  phone: nullableText(40),
  job_title: nullableText(120),
  city: nullableText(100),
  country: nullableText(60),
  // Keys follow the field-key pattern, which also refuses "__proto__" and friends.
  fields: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'no such custom field'), z.unknown()).optional(),
  tags: z.array(TagName).max(50).optional(),
});
export type ContactInput = z.infer<typeof ContactInput>;

export { CORE_COLUMNS } from './values';

export interface PreparedContact {
  // Built-in columns that were given (null clears); email_normalized follows email.
  cols: Record<string, string | null>;
  custom: Record<string, unknown> | undefined;
  tags: string[];
  emailNorm: string | null | undefined;
}

export function normalizeTag(t: string): string {
  return t.trim().toLowerCase().replace(/\s+/g, ' ');
}

/**
 * Checks one contact against the built-in rules and the custom field
 * definitions. Returns the columns to write or the list of problems.
 * `lenient` accepts the text forms CSV files carry.
 */
export function prepareContact(
  raw: unknown,
  defs: Map<string, FieldDef>,
  opts: { lenient?: boolean } = {},
): { ok: true; value: PreparedContact } | { ok: false; errors: FieldError[] } {
  const parsed = ContactInput.safeParse(raw);
  if (!parsed.success) return { ok: false, errors: zodErrors(parsed.error) };
  const input = parsed.data;
  const errors: FieldError[] = [];
  const cols: Record<string, string | null> = {};
  for (const col of CORE_COLUMNS) {
    const v = input[col as keyof ContactInput];
    if (v === undefined) continue;
    const trimmed = typeof v === 'string' ? v.trim() : v;
    if (trimmed === '' || trimmed === null) {
      cols[col] = null;
      continue;
    }
    const r = checkValue(CORE_FIELDS[col]!, trimmed);
    if (r.ok) cols[col] = r.value as string;
    else errors.push({ field: col, message: r.message });
  }
  let custom: Record<string, unknown> | undefined;
  if (input.fields) {
    const r = checkCustomValues(defs, input.fields, { lenient: opts.lenient });
    errors.push(...r.errors);
    custom = r.values;
  }
  if (errors.length) return { ok: false, errors };
  const emailNorm = cols.email === undefined ? undefined : cols.email === null ? null : normalizeEmail(cols.email);
  return { ok: true, value: { cols, custom, tags: [...new Set((input.tags ?? []).map(normalizeTag))], emailNorm } };
}
