// What a form field is, shared by the definition checks (schema.ts) and the
// value checks (values.ts) without either importing the other.

export const FORM_FIELD_TYPES = [
  'text',
  'email',
  'tel',
  'number',
  'textarea',
  'select',
  'radio',
  'checkbox_group',
  'country',
  'date',
  'hidden',
  'consent',
] as const;
export type FormFieldType = (typeof FORM_FIELD_TYPES)[number];

export const HIDDEN_SOURCES = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'referrer', 'page_url'] as const;
export type HiddenSource = (typeof HIDDEN_SOURCES)[number];

/** A field as stored and returned: every key present, null when unset. */
export interface FormField {
  key: string;
  label: string;
  type: FormFieldType;
  maps_to: string | null;
  required: boolean;
  placeholder: string | null;
  help: string | null;
  options: { value: string; label: string }[] | null;
  rules: {
    pattern?: string | null;
    pattern_message?: string | null;
    min_length?: number | null;
    max_length?: number | null;
    min?: number | string | null;
    max?: number | string | null;
  };
  default: string | number | boolean | string[] | null;
  source: HiddenSource | null;
}
