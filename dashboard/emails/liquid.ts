// The personalisation tags the server's templates know (api/core/email/recipients.ts and
// compose.ts): the contact's built-in fields, its custom fields, tags, points and stage, the
// primary company, and the unsubscribe and preference links.

export interface Variable {
  /** The Liquid expression: contact.first_name */
  path: string;
  label: string;
  group: 'Contact' | 'Custom fields' | 'Company' | 'Links';
  /** Lists are shown joined. */
  list?: boolean;
  /** Links go in an href as they are; a fallback makes no sense for them. */
  link?: boolean;
}

export const BUILT_IN: Variable[] = [
  { path: 'contact.first_name', label: 'First name', group: 'Contact' },
  { path: 'contact.last_name', label: 'Last name', group: 'Contact' },
  { path: 'contact.email', label: 'Email', group: 'Contact' },
  { path: 'contact.phone', label: 'Phone', group: 'Contact' },
  { path: 'contact.job_title', label: 'Job title', group: 'Contact' },
  { path: 'contact.city', label: 'City', group: 'Contact' },
  { path: 'contact.country', label: 'Country', group: 'Contact' },
  { path: 'contact.points', label: 'Points', group: 'Contact' },
  { path: 'contact.stage', label: 'Stage', group: 'Contact' },
  { path: 'contact.tags', label: 'Tags', group: 'Contact', list: true },
  { path: 'company.name', label: 'Company name', group: 'Company' },
  { path: 'company.domain', label: 'Company domain', group: 'Company' },
  { path: 'company.website', label: 'Company website', group: 'Company' },
  { path: 'company.industry', label: 'Company industry', group: 'Company' },
  { path: 'company.city', label: 'Company city', group: 'Company' },
  { path: 'company.country', label: 'Company country', group: 'Company' },
  { path: 'unsubscribe_url', label: 'Unsubscribe link', group: 'Links', link: true },
  { path: 'preferences_url', label: 'Preference centre link', group: 'Links', link: true },
];

/** Custom field keys are Liquid names only when they are plain identifiers; others need the bracket form. */
export const customVariable = (key: string, label: string): Variable => ({
  path: /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `contact.fields.${key}` : `contact.fields["${key.replace(/["\\]/g, '')}"]`,
  label,
  group: 'Custom fields',
});

/** The tag to insert: the variable, joined if a list, with a fallback when one is given. */
export function liquidTag(v: Variable, fallback: string): string {
  const parts = [v.path];
  if (v.list) parts.push('join: ", "');
  const f = fallback.trim().replace(/"/g, "'");
  if (f && !v.link) parts.push(`default: "${f}"`);
  return `{{ ${parts.join(' | ')} }}`;
}
