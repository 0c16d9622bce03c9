import type { Ctx } from '../context';
import { CORE_FIELDS, type FieldDef } from '../contacts/fields';
import type { FieldType } from '../contacts/values';
import { CORE_COLUMNS, prepareContact } from '../contacts/prepare';
import type { FieldError } from '../errors';
import type { FormField } from './field';

// Where a form field's value goes on the contact: a built-in column (email,
// first_name…) or a custom field written as `fields.<key>`.

export type Target = { kind: 'core'; name: string; type: FieldType } | { kind: 'custom'; name: string; key: string; type: FieldType; options: string[] | null };

export function parseTarget(mapsTo: string, defs: Map<string, FieldDef>): Target | null {
  if (mapsTo.startsWith('fields.')) {
    const d = defs.get(mapsTo.slice(7));
    return d ? { kind: 'custom', name: mapsTo, key: d.key, type: d.type, options: d.options } : null;
  }
  const type = Object.hasOwn(CORE_FIELDS, mapsTo) ? CORE_FIELDS[mapsTo] : undefined;
  return type ? { kind: 'core', name: mapsTo, type } : null;
}

/** The contact input (as prepareContact takes it) that sets one field, or null when the target is not a contact field. */
export function contactInputFor(mapsTo: string, value: unknown, defs: Map<string, FieldDef>): Record<string, unknown> | null {
  const t = parseTarget(mapsTo, defs);
  if (!t) return null;
  return t.kind === 'core' ? { [t.name]: value } : { fields: { [t.key]: value } };
}

/** The mapping targets (`first_name`, `fields.plan`…) that hold a value for this contact. */
export async function knownTargets(ctx: Ctx, contactId: number | null): Promise<Set<string>> {
  const known = new Set<string>();
  if (contactId === null) return known;
  const r = await ctx.client.execute({ sql: `SELECT ${CORE_COLUMNS.join(', ')}, custom FROM contacts WHERE id = ?`, args: [contactId] });
  const row = r.rows[0];
  if (!row) return known;
  for (const c of CORE_COLUMNS) if (row[c] !== null && row[c] !== '') known.add(c);
  const custom = JSON.parse(String(row.custom ?? '{}')) as Record<string, unknown>;
  for (const [k, v] of Object.entries(custom)) {
    if (v !== null && v !== '' && !(Array.isArray(v) && v.length === 0)) known.add(`fields.${k}`);
  }
  return known;
}

/**
 * What the checked values write to the contact: every mapped value, checked by
 * the contact's own rules too (errors named `values.<key>`), and the email the
 * submission identifies its sender by.
 */
export function contactValues(form: { fields: FormField[] }, values: Record<string, unknown>, defs: Map<string, FieldDef>) {
  const input: Record<string, unknown> = {};
  const keyOfTarget = new Map<string, string>();
  let email: string | null = null;
  for (const f of form.fields) {
    if (f.maps_to === null || !Object.hasOwn(values, f.key)) continue;
    if (f.maps_to === 'email') {
      email = values[f.key] as string;
      continue;
    }
    const target = parseTarget(f.maps_to, defs);
    if (!target) continue; // the custom field was deleted since the form was saved
    const v = values[f.key];
    // A number written to a text field is its text.
    const part = contactInputFor(f.maps_to, typeof v === 'number' && target.type !== 'number' ? String(v) : v, defs)!;
    if (part.fields) input.fields = { ...(input.fields as object), ...(part.fields as object) };
    else Object.assign(input, part);
    keyOfTarget.set(f.maps_to, f.key);
  }
  const prepared = prepareContact(input, defs, { lenient: true });
  const errors: FieldError[] = [];
  if (!prepared.ok) {
    for (const e of prepared.errors) {
      const key = keyOfTarget.get(e.field);
      if (key) errors.push({ field: `values.${key}`, message: e.message });
    }
  }
  return { email, prepared: prepared.ok ? prepared.value : null, errors };
}
