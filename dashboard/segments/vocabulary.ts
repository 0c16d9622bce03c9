// What the builder offers, in words: the fields a condition can name, the operators that apply
// to each kind of field (as api/core/segments/compile.ts accepts them), and the behaviours.
import type { Behaviour, Channel, Op, Scalar, UrlOp, Value } from './filter-model';

export type Kind = 'text' | 'number' | 'bool' | 'date' | 'list' | 'stage';

export interface FieldChoice {
  name: string;
  label: string;
  kind: Kind;
  group: 'Contact' | 'Custom fields' | 'Company';
  /** A select or multiselect custom field's options. */
  options?: string[];
}

export const CONTACT_FIELDS: FieldChoice[] = [
  { name: 'email', label: 'Email', kind: 'text' },
  { name: 'first_name', label: 'First name', kind: 'text' },
  { name: 'last_name', label: 'Last name', kind: 'text' },
  { name: 'phone', label: 'Phone', kind: 'text' },
  { name: 'job_title', label: 'Job title', kind: 'text' },
  { name: 'city', label: 'City', kind: 'text' },
  { name: 'country', label: 'Country', kind: 'text' },
  { name: 'points', label: 'Points', kind: 'number' },
  { name: 'stage', label: 'Stage', kind: 'stage' },
  { name: 'created_at', label: 'Created', kind: 'date' },
  { name: 'updated_at', label: 'Last updated', kind: 'date' },
  { name: 'last_active_at', label: 'Last active', kind: 'date' },
  { name: 'first_seen_at', label: 'First seen', kind: 'date' },
].map((f) => ({ ...f, kind: f.kind as Kind, group: 'Contact' as const }));

export const COMPANY_FIELDS: FieldChoice[] = [
  { name: 'company.name', label: 'Company name', kind: 'text' },
  { name: 'company.domain', label: 'Company domain', kind: 'text' },
  { name: 'company.industry', label: 'Company industry', kind: 'text' },
  { name: 'company.city', label: 'Company city', kind: 'text' },
  { name: 'company.country', label: 'Company country', kind: 'text' },
  { name: 'company.employees', label: 'Company employees', kind: 'number' },
  { name: 'company.annual_revenue', label: 'Company annual revenue', kind: 'number' },
].map((f) => ({ ...f, kind: f.kind as Kind, group: 'Company' as const }));

/** A custom field (GET /api/v1/fields) as a choice. */
export function customField(f: { key: string; label: string; type: string; options: string[] | null }): FieldChoice {
  const kind: Kind =
    f.type === 'number' ? 'number' : f.type === 'boolean' ? 'bool' : f.type === 'date' || f.type === 'datetime' ? 'date' : f.type === 'multiselect' ? 'list' : 'text';
  return { name: `fields.${f.key}`, label: f.label || f.key, kind, group: 'Custom fields', ...(f.options ? { options: f.options } : {}) };
}

export const OP_LABELS: Record<Op, string> = {
  equals: 'is',
  not_equals: 'is not',
  gt: 'is greater than',
  gte: 'is at least',
  lt: 'is less than',
  lte: 'is at most',
  between: 'is between',
  in: 'is one of',
  not_in: 'is none of',
  contains: 'contains',
  starts_with: 'starts with',
  ends_with: 'ends with',
  empty: 'is empty',
  not_empty: 'is not empty',
  regex: 'matches the pattern',
};

const DATE_LABELS: Partial<Record<Op, string>> = {
  equals: 'is on',
  not_equals: 'is not on',
  gt: 'is after',
  gte: 'is on or after',
  lt: 'is before',
  lte: 'is on or before',
  between: 'is between',
};
const LIST_LABELS: Partial<Record<Op, string>> = { equals: 'includes', contains: 'contains', not_equals: 'does not include', in: 'includes any of', not_in: 'includes none of' };

export function opLabel(kind: Kind, op: Op): string {
  return (kind === 'date' ? DATE_LABELS[op] : kind === 'list' ? LIST_LABELS[op] : undefined) ?? OP_LABELS[op];
}

/** The operators the server accepts for a kind of field. */
export const OPS_FOR: Record<Kind, Op[]> = {
  text: ['equals', 'not_equals', 'contains', 'starts_with', 'ends_with', 'in', 'not_in', 'empty', 'not_empty', 'regex', 'gt', 'gte', 'lt', 'lte', 'between'],
  number: ['equals', 'not_equals', 'gt', 'gte', 'lt', 'lte', 'between', 'in', 'not_in', 'empty', 'not_empty'],
  bool: ['equals', 'not_equals', 'in', 'not_in', 'empty', 'not_empty'],
  stage: ['equals', 'not_equals', 'in', 'not_in', 'empty', 'not_empty'],
  date: ['equals', 'not_equals', 'gt', 'gte', 'lt', 'lte', 'between', 'empty', 'not_empty'],
  list: ['contains', 'not_equals', 'in', 'not_in', 'empty', 'not_empty', 'equals'],
};

export type Shape = 'none' | 'one' | 'two' | 'many';
export function shapeOf(op: Op): Shape {
  if (op === 'empty' || op === 'not_empty') return 'none';
  if (op === 'between') return 'two';
  if (op === 'in' || op === 'not_in') return 'many';
  return 'one';
}

/** A value that fits a new operator, kept from the old one where it can be. */
export function reshape(value: Value | undefined, op: Op, kind: Kind): Value | undefined {
  const shape = shapeOf(op);
  const first: Scalar | undefined = Array.isArray(value) ? value[0] : value;
  const blank: Scalar = kind === 'number' ? 0 : kind === 'bool' ? true : '';
  if (shape === 'none') return undefined;
  if (shape === 'one') return first ?? blank;
  if (shape === 'two') return Array.isArray(value) && value.length === 2 ? value : [first ?? blank, first ?? blank];
  return Array.isArray(value) ? value : first === undefined || first === '' ? [] : [first];
}

/** What a typed-in value means for a kind of field: numbers for numbers (else the text, which the server will refuse). */
export function parseTyped(text: string, kind: Kind): Scalar {
  if (kind === 'bool' && /^(true|false)$/i.test(text.trim())) return text.trim().toLowerCase() === 'true';
  if (kind === 'number' || kind === 'date') {
    const t = text.trim();
    if (kind === 'number' ? t !== '' && Number.isFinite(Number(t)) : /^-?\d{6,}$/.test(t)) return Number(t);
  }
  return text;
}

export const BEHAVIOURS: { value: Behaviour; label: string; parts: ('url' | 'form_id' | 'asset_id' | 'email_id' | 'name')[] }[] = [
  { value: 'visited', label: 'visited a page', parts: ['url'] },
  { value: 'submitted_form', label: 'submitted a form', parts: ['form_id', 'url'] },
  { value: 'downloaded_asset', label: 'downloaded an asset', parts: ['asset_id'] },
  { value: 'custom_event', label: 'did a custom event', parts: ['name', 'url'] },
  { value: 'opened_email', label: 'opened an email', parts: ['email_id'] },
  { value: 'clicked_email', label: 'clicked a link in an email', parts: ['email_id', 'url'] },
  { value: 'any_event', label: 'did anything', parts: ['url'] },
];

export const URL_OPS: { value: UrlOp; label: string }[] = [
  { value: 'contains', label: 'contains' },
  { value: 'equals', label: 'is' },
  { value: 'starts_with', label: 'starts with' },
  { value: 'ends_with', label: 'ends with' },
  { value: 'regex', label: 'matches the pattern' },
];

export const CHANNELS: { value: Channel; label: string }[] = [
  { value: 'email', label: 'email' },
  { value: 'sms', label: 'SMS' },
  { value: 'any', label: 'any channel' },
];

export const LEAF_KINDS = [
  { value: 'field', label: 'Field' },
  { value: 'behaviour', label: 'Behaviour' },
  { value: 'tag', label: 'Tag' },
  { value: 'dnc', label: 'Do not contact' },
  { value: 'segment', label: 'Other segment' },
] as const;

export const DATE_SUGGESTIONS = ['today', 'yesterday', 'tomorrow', '-7d', '-30d', '-90d', '+7d', 'this_month', 'last_month', 'next_month'];

/** A value for display in a text box. */
export const show = (v: Scalar | undefined) => (v === undefined ? '' : String(v));
