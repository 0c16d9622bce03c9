// The form editor's draft: text the inputs hold, turned into the body the API takes (and the
// server judges: a number field that is not a number is sent as typed, to be refused by name).
import type { components } from '../api/schema';

export type Form = components['schemas']['Form'];
export type Site = components['schemas']['Site'];
export type FieldType = components['schemas']['FormField']['type'];
export type Action = Form['actions'][number];

export const TYPES: [FieldType, string][] = [
  ['text', 'Text'],
  ['email', 'Email'],
  ['tel', 'Phone'],
  ['number', 'Number'],
  ['textarea', 'Long text'],
  ['select', 'Drop-down'],
  ['radio', 'Radio buttons'],
  ['checkbox_group', 'Checkboxes'],
  ['country', 'Country'],
  ['date', 'Date'],
  ['hidden', 'Hidden'],
  ['consent', 'Consent'],
];
export const WITH_OPTIONS = new Set<FieldType>(['select', 'radio', 'checkbox_group']);
export const WITH_PATTERN = new Set<FieldType>(['text', 'email', 'tel', 'textarea']);
export const WITH_LENGTH = new Set<FieldType>(['text', 'email', 'tel', 'textarea', 'hidden']);
export const WITH_PLACEHOLDER = new Set<FieldType>(['text', 'email', 'tel', 'number', 'textarea']);
export const SOURCES = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'referrer', 'page_url'];
export const TARGETS = ['email', 'first_name', 'last_name', 'phone', 'job_title', 'city', 'country'];

let uid = 0;
export interface FieldDraft {
  uid: number;
  key: string;
  label: string;
  type: FieldType;
  maps_to: string;
  required: boolean;
  placeholder: string;
  help: string;
  options: string;
  pattern: string;
  pattern_message: string;
  min_length: string;
  max_length: string;
  min: string;
  max: string;
  default: string;
  source: string;
}
export interface ActionDraft {
  uid: number;
  type: Action['type'];
  text: string;
  number: string;
  field: string;
}
export interface Draft {
  name: string;
  submit_label: string;
  after: 'message' | 'redirect';
  message: string;
  url: string;
  profiling: boolean;
  max_new: string;
  min_fill_ms: string;
  active: boolean;
  fields: FieldDraft[];
  actions: ActionDraft[];
}

export const str = (v: unknown) => (v === null || v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v));

export const fieldDraft = (f?: Partial<components['schemas']['FormField']>): FieldDraft => ({
  uid: ++uid,
  key: f?.key ?? '',
  label: f?.label ?? '',
  type: f?.type ?? 'text',
  maps_to: f?.maps_to ?? '',
  required: f?.required ?? false,
  placeholder: f?.placeholder ?? '',
  help: f?.help ?? '',
  options: (f?.options ?? []).map((o) => (o.label && o.label !== o.value ? `${o.value}|${o.label}` : o.value)).join('\n'),
  pattern: f?.rules?.pattern ?? '',
  pattern_message: f?.rules?.pattern_message ?? '',
  min_length: str(f?.rules?.min_length),
  max_length: str(f?.rules?.max_length),
  min: str(f?.rules?.min),
  max: str(f?.rules?.max),
  default: str(f?.default),
  source: f?.source ?? '',
});

export const actionDraft = (a?: Action): ActionDraft => ({
  uid: ++uid,
  type: a?.type ?? 'add_tags',
  text: a ? ('tags' in a ? a.tags.join(', ') : 'reason' in a ? a.reason : 'value' in a ? str(a.value) : '') : '',
  number: a ? ('segment_id' in a ? String(a.segment_id) : 'points' in a ? String(a.points) : 'asset_id' in a ? String(a.asset_id) : '') : '',
  field: a && 'field' in a ? a.field : '',
});

export const draftOf = (f: Form | null): Draft => ({
  name: f?.name ?? '',
  submit_label: f?.submit_label ?? 'Submit',
  after: f?.after_submit.type ?? 'message',
  message: f?.after_submit.type === 'message' ? f.after_submit.message : 'Thank you!',
  url: f?.after_submit.type === 'redirect' ? f.after_submit.url : '',
  profiling: f?.progressive_profiling.enabled ?? false,
  max_new: str(f?.progressive_profiling.max_new_fields),
  min_fill_ms: String(f?.min_fill_ms ?? 1500),
  active: f?.active ?? true,
  fields: f ? f.fields.map(fieldDraft) : [fieldDraft({ key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true })],
  actions: (f?.actions ?? []).map(actionDraft),
});

/** A number when the text is one; else the text, for the server to refuse by name. */
export const num = (s: string) => (s.trim() === '' ? undefined : Number.isFinite(Number(s)) ? Number(s) : s);
const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function fieldBody(f: FieldDraft) {
  const t = f.type;
  const rules: Record<string, unknown> = {};
  if (WITH_PATTERN.has(t) && f.pattern) rules.pattern = f.pattern;
  if (WITH_PATTERN.has(t) && f.pattern_message.trim()) rules.pattern_message = f.pattern_message.trim();
  if (WITH_LENGTH.has(t)) (rules.min_length = num(f.min_length)), (rules.max_length = num(f.max_length));
  if (t === 'number') (rules.min = num(f.min)), (rules.max = num(f.max));
  if (t === 'date') (rules.min = f.min || undefined), (rules.max = f.max || undefined);
  const options = f.options
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const at = l.indexOf('|');
      return at < 0 ? l : { value: l.slice(0, at).trim(), label: l.slice(at + 1).trim() || undefined };
    });
  const dflt = f.default.trim();
  return {
    key: f.key.trim(),
    ...(t === 'hidden' && !f.label.trim() ? {} : { label: f.label.trim() }),
    type: t,
    maps_to: f.maps_to || null,
    required: t === 'hidden' ? false : f.required,
    ...(WITH_PLACEHOLDER.has(t) && f.placeholder.trim() ? { placeholder: f.placeholder.trim() } : {}),
    ...(f.help.trim() ? { help: f.help.trim() } : {}),
    ...(WITH_OPTIONS.has(t) ? { options: options.length ? options : null } : {}),
    rules: JSON.parse(JSON.stringify(rules)),
    ...(dflt && t !== 'consent' ? { default: t === 'number' ? num(dflt) : t === 'checkbox_group' ? list(dflt) : dflt } : {}),
    ...(t === 'hidden' && f.source ? { source: f.source } : {}),
  } as components['schemas']['FormInput']['fields'][number];
}

function actionBody(a: ActionDraft): Action {
  switch (a.type) {
    case 'add_tags':
    case 'remove_tags':
      return { type: a.type, tags: list(a.text) };
    case 'add_to_segment':
    case 'remove_from_segment':
      return { type: a.type, segment_id: num(a.number) as number };
    case 'give_points':
      return { type: a.type, points: num(a.number) as number, reason: a.text.trim() || 'form submitted' };
    case 'deliver_asset':
      return { type: a.type, asset_id: num(a.number) as number };
    case 'set_field':
      return { type: a.type, field: a.field.trim(), value: a.text };
  }
}

export function bodyOf(d: Draft) {
  return {
    name: d.name.trim(),
    fields: d.fields.map(fieldBody),
    submit_label: d.submit_label.trim(),
    after_submit: d.after === 'message' ? { type: 'message' as const, message: d.message.trim() } : { type: 'redirect' as const, url: d.url.trim() },
    progressive_profiling: { enabled: d.profiling, max_new_fields: (num(d.max_new) ?? null) as number | null },
    actions: d.actions.map(actionBody),
    min_fill_ms: num(d.min_fill_ms) as number,
    active: d.active,
  };
}
