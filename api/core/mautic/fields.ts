import type { FieldDef } from '../contacts/fields';
import { COUNTRY_CODES } from '../util/countries';

/**
 * Mautic's contact and company fields, by alias, and where each lives in Leadline. Mautic ships
 * these fields in every install; clients (n8n, Zapier, the PHP and Node libraries) read them from
 * `fields.all` and send them by alias. A Mautic alias that Leadline has no built-in home for
 * (mobile, state, zipcode, …) maps to the custom field with the same key when one exists;
 * otherwise it reads as null and is ignored on writes (as Mautic ignores unknown parameters).
 */

/** Where a Mautic contact alias reads and writes in Leadline. */
export type ContactTarget =
  | { kind: 'column'; key: 'email' | 'first_name' | 'last_name' | 'phone' | 'job_title' | 'city' | 'country' }
  | { kind: 'company' } // the primary company's name
  | { kind: 'points' } // read-only here (points move through /points/plus|minus)
  | { kind: 'last_active' } // read-only
  | { kind: 'custom'; def: FieldDef }
  | { kind: 'none' };

interface StandardField {
  alias: string;
  label: string;
  type: string;
  group: 'core' | 'social' | 'personal' | 'professional';
  builtin?: ContactTarget;
}

const col = (key: Extract<ContactTarget, { kind: 'column' }>['key']): ContactTarget => ({ kind: 'column', key });

// In the order (and so with the ids) of a fresh Mautic install.
export const STANDARD_CONTACT_FIELDS: readonly StandardField[] = [
  { alias: 'title', label: 'Title', type: 'lookup', group: 'core' },
  { alias: 'firstname', label: 'First Name', type: 'text', group: 'core', builtin: col('first_name') },
  { alias: 'lastname', label: 'Last Name', type: 'text', group: 'core', builtin: col('last_name') },
  { alias: 'company', label: 'Primary company', type: 'text', group: 'core', builtin: { kind: 'company' } },
  { alias: 'position', label: 'Position', type: 'text', group: 'core', builtin: col('job_title') },
  { alias: 'email', label: 'Email', type: 'email', group: 'core', builtin: col('email') },
  { alias: 'mobile', label: 'Mobile', type: 'tel', group: 'core' },
  { alias: 'phone', label: 'Phone', type: 'tel', group: 'core', builtin: col('phone') },
  { alias: 'points', label: 'Points', type: 'number', group: 'core', builtin: { kind: 'points' } },
  { alias: 'fax', label: 'Fax', type: 'tel', group: 'core' },
  { alias: 'address1', label: 'Address Line 1', type: 'text', group: 'core' },
  { alias: 'address2', label: 'Address Line 2', type: 'text', group: 'core' },
  { alias: 'city', label: 'City', type: 'text', group: 'core', builtin: col('city') },
  { alias: 'state', label: 'State', type: 'region', group: 'core' },
  { alias: 'zipcode', label: 'Zip Code', type: 'text', group: 'core' },
  { alias: 'country', label: 'Country', type: 'country', group: 'core', builtin: col('country') },
  { alias: 'preferred_locale', label: 'Preferred Locale', type: 'locale', group: 'core' },
  { alias: 'timezone', label: 'Preferred Timezone', type: 'timezone', group: 'core' },
  { alias: 'last_active', label: 'Date Last Active', type: 'datetime', group: 'core', builtin: { kind: 'last_active' } },
  { alias: 'attribution_date', label: 'Attribution Date', type: 'datetime', group: 'core' },
  { alias: 'attribution', label: 'Attribution', type: 'number', group: 'core' },
  { alias: 'website', label: 'Website', type: 'url', group: 'core' },
  { alias: 'facebook', label: 'Facebook', type: 'text', group: 'social' },
  { alias: 'foursquare', label: 'Foursquare', type: 'text', group: 'social' },
  { alias: 'instagram', label: 'Instagram', type: 'text', group: 'social' },
  { alias: 'linkedin', label: 'LinkedIn', type: 'text', group: 'social' },
  { alias: 'skype', label: 'Skype', type: 'text', group: 'social' },
  { alias: 'twitter', label: 'Twitter', type: 'text', group: 'social' },
];

/** Leadline's own custom fields are numbered after Mautic's standard ones. */
export const CUSTOM_FIELD_ID_OFFSET = 1000;

export interface ContactField {
  id: number;
  alias: string;
  label: string;
  type: string;
  group: string;
  target: ContactTarget;
  options: string[] | null;
}

/** Every contact field as a Mautic client sees it: the standard ones, then Leadline's other custom fields. */
export function contactFields(defs: Map<string, FieldDef>): ContactField[] {
  const out: ContactField[] = STANDARD_CONTACT_FIELDS.map((f, i) => {
    const def = defs.get(f.alias);
    const target: ContactTarget = f.builtin ?? (def ? { kind: 'custom', def } : { kind: 'none' });
    return { id: i + 1, alias: f.alias, label: def?.label ?? f.label, type: def ? def.type : f.type, group: f.group, target, options: def?.options ?? null };
  });
  const standard = new Set(STANDARD_CONTACT_FIELDS.map((f) => f.alias));
  for (const def of [...defs.values()].sort((a, b) => a.id - b.id)) {
    if (standard.has(def.key)) continue;
    out.push({ id: CUSTOM_FIELD_ID_OFFSET + def.id, alias: def.key, label: def.label, type: def.type, group: 'core', target: { kind: 'custom', def }, options: def.options });
  }
  return out;
}

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
let byName: Map<string, string> | undefined;

/** A country as Mautic stores it: its English name. */
export const countryName = (code: string): string => regionNames.of(code) ?? code;

/** A Mautic country (an English name, or an ISO code) as Leadline stores it: the ISO code; unknown names pass through to be refused there. */
export function countryCode(v: string): string {
  const t = v.trim();
  if (COUNTRY_CODES.has(t.toUpperCase())) return t.toUpperCase();
  byName ??= new Map([...COUNTRY_CODES].map((c) => [countryName(c).toLowerCase(), c]));
  return byName.get(t.toLowerCase()) ?? t;
}

/** Mautic's company fields (alias → Leadline company column; null: none in Leadline). */
export const COMPANY_FIELDS: readonly { alias: string; label: string; type: string; group: 'core' | 'professional'; column: string | null }[] = [
  { alias: 'companyaddress1', label: 'Address 1', type: 'text', group: 'core', column: null },
  { alias: 'companyaddress2', label: 'Address 2', type: 'text', group: 'core', column: null },
  { alias: 'companyemail', label: 'Company Email', type: 'email', group: 'core', column: null },
  { alias: 'companyphone', label: 'Phone', type: 'tel', group: 'core', column: null },
  { alias: 'companycity', label: 'City', type: 'text', group: 'core', column: 'city' },
  { alias: 'companystate', label: 'State', type: 'region', group: 'core', column: null },
  { alias: 'companyzipcode', label: 'Zip Code', type: 'text', group: 'core', column: null },
  { alias: 'companycountry', label: 'Country', type: 'country', group: 'core', column: 'country' },
  { alias: 'companyname', label: 'Company Name', type: 'text', group: 'core', column: 'name' },
  { alias: 'companywebsite', label: 'Website', type: 'url', group: 'core', column: 'website' },
  { alias: 'companydomain', label: 'Domain', type: 'text', group: 'core', column: 'domain' },
  { alias: 'companynumber_of_employees', label: 'Number of Employees', type: 'number', group: 'professional', column: 'employees' },
  { alias: 'companyfax', label: 'Fax', type: 'tel', group: 'professional', column: null },
  { alias: 'companyannual_revenue', label: 'Annual Revenue', type: 'number', group: 'professional', column: 'annual_revenue' },
  { alias: 'companyindustry', label: 'Industry', type: 'select', group: 'professional', column: 'industry' },
  { alias: 'companydescription', label: 'Description', type: 'text', group: 'professional', column: null },
];

// Mautic's industry choices: clients build pick lists from them (n8n reads properties.list).
// Leadline stores any industry text; these are offered, not enforced.
export const INDUSTRIES = [
  'Agriculture', 'Apparel', 'Banking', 'Biotechnology', 'Chemicals', 'Communications', 'Construction', 'Education',
  'Electronics', 'Energy', 'Engineering', 'Entertainment', 'Environmental', 'Finance', 'Food & Beverage', 'Government',
  'Healthcare', 'Hospitality', 'Insurance', 'Machinery', 'Manufacturing', 'Media', 'Not for Profit', 'Recreation',
  'Retail', 'Shipping', 'Technology', 'Telecommunications', 'Transportation', 'Utilities', 'Other',
];

/** A field in the layout of Mautic's /fields/{object} list. */
export function fieldShape(f: { id: number; alias: string; label: string; type: string; group: string; order: number; object: 'lead' | 'company'; options: { label: string; value: string }[] | null; createdAt?: string | null }) {
  return {
    isPublished: true,
    dateAdded: f.createdAt ?? null,
    createdBy: null,
    createdByUser: null,
    dateModified: null,
    modifiedBy: null,
    modifiedByUser: null,
    id: f.id,
    label: f.label,
    alias: f.alias,
    type: f.type,
    group: f.group,
    order: f.order,
    object: f.object,
    defaultValue: null,
    isRequired: false,
    isPubliclyUpdatable: false,
    isUniqueIdentifier: f.alias === 'email',
    properties: f.options ? { list: f.options } : [],
  };
}
