// The public definition (GET /f/:id, api/core/forms/definition.ts publicDefinition) of a form as
// it is being edited, for the preview: what the widget would get for a first-time visitor.
import { COUNTRY_CODES } from '../../api/core/util/countries';

export interface PublicFieldInput {
  key: string;
  label?: string;
  type: string;
  required?: boolean;
  placeholder?: string | null;
  help?: string | null;
  options?: (string | { value: string; label?: string })[] | null;
  rules?: Record<string, unknown>;
  default?: unknown;
  source?: string | null;
}

let countries: { value: string; label: string }[] | undefined;
function countryOptions() {
  if (!countries) {
    const names = new Intl.DisplayNames(['en'], { type: 'region' });
    countries = [...COUNTRY_CODES].map((value) => ({ value, label: names.of(value) ?? value })).sort((a, b) => a.label.localeCompare(b.label, 'en'));
  }
  return countries;
}

export function publicForm(id: number, form: { fields: PublicFieldInput[]; submit_label?: string; min_fill_ms?: number }) {
  return {
    id,
    submit_url: `${location.origin}/f/${id}`,
    submit_label: form.submit_label || 'Submit',
    honeypot: 'website',
    // The preview answers at once: no wait for a fill time meant for bots.
    min_fill_ms: 0,
    fields: form.fields
      .filter((f) => !(f.type === 'hidden' && f.default != null && f.default !== ''))
      .map((f) => {
        const out: Record<string, unknown> = { key: f.key, type: f.type, label: f.label || f.key, required: !!f.required };
        if (f.placeholder) out.placeholder = f.placeholder;
        if (f.help) out.help = f.help;
        if (f.options) out.options = f.options.map((o) => (typeof o === 'string' ? { value: o, label: o } : { value: o.value, label: o.label || o.value }));
        else if (f.type === 'country') out.options = countryOptions();
        const rules = Object.fromEntries(Object.entries(f.rules ?? {}).filter(([, v]) => v !== null && v !== undefined && v !== ''));
        if (Object.keys(rules).length) out.rules = rules;
        if (f.default != null && f.default !== '' && f.type !== 'hidden') out.default = f.default;
        if (f.source) out.source = f.source;
        return out;
      }),
  };
}
