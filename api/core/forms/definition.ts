/**
 * The public form definition: the contract between the server and the widget.
 * (Submissions: submission.ts; the no-JavaScript form: embed.ts.)
 *
 * GET /f/:id?k=SITE_KEY&v=VISITOR_ID
 *   k  the site's public key (data-site); required
 *   v  the visitor id the tracker keeps (16–64 of [A-Za-z0-9_-]); optional
 *      (leave it out in consent mode before consent)
 *   Sent from a page on one of the site's allowed origins (Origin header, or
 *   the Referer's origin when there is none). CORS: Access-Control-Allow-Origin
 *   echoes the Origin, Vary: Origin; Cache-Control: private, no-store.
 *   200 {
 *     "id": 12,
 *     "submit_url": "https://leadline.example/f/12",    // POST here
 *     "submit_label": "Send",
 *     "honeypot": "website",       // render a visually hidden, non-focusable
 *                                  // (tabindex=-1, autocomplete=off, aria-hidden)
 *                                  // input with this name; send its value as "hp"
 *     "min_fill_ms": 1500,         // submissions sooner than this after rendering are discarded
 *     "success": { "type": "message", "message": "Thanks!" }
 *              | { "type": "redirect", "url": "https://…" },
 *     "fields": [FIELD, …]         // in display order; progressive profiling applied (it hides
 *                                  // fields the contact has values for only for a browser that
 *                                  // proved it is that contact, never for one that only claimed it)
 *   }
 *   FIELD: {
 *     "key": "first_name",         // the name to send the value under
 *     "type": "text" | "email" | "tel" | "number" | "textarea" | "select" | "radio"
 *           | "checkbox_group" | "country" | "date" | "hidden" | "consent",
 *     "label": "First name",
 *     "required": true,
 *     "placeholder"?: string, "help"?: string,
 *     "options"?: [{ "value": "a", "label": "A" }, …],   // select, radio, checkbox_group, country
 *     "rules"?: { "pattern"?: string,        // full match: new RegExp('^(?:' + p + ')$', 'u')
 *                 "pattern_message"?: string, // the error text when the pattern fails
 *                 "min_length"?: n, "max_length"?: n,  // text-like types; max_length always given for them
 *                 "min"?: n | "YYYY-MM-DD", "max"?: n | "YYYY-MM-DD" },  // number / date
 *     "default"?: string | number | string[],   // a static default from the definition
 *     "value"?: string | number | string[],     // prefill: what THIS visitor sent to this form
 *                                               // last time (text, number, select, radio,
 *                                               // checkbox_group, country only); never contact data
 *     "source"?: "utm_source" | "utm_medium" | "utm_campaign" | "utm_term" | "utm_content"
 *              | "referrer" | "page_url"       // hidden fields: fill from the host page
 *   }
 *   Hidden fields with a static value are not sent (the server fills them).
 *   Errors: 404 NOT_FOUND (no such active form, unknown site key), 403
 *   ORIGIN_NOT_ALLOWED, 422 VALIDATION_FAILED (bad k or v), 429 RATE_LIMITED.
 *
 */
import type { Ctx } from '../context';
import { COUNTRY_CODES } from '../util/countries';
import { requireSite } from '../tracking/site-access';
import { findVisitor, provenContact, type VisitorRef } from '../tracking/visitors';
import { getActiveForm, type FormRecord } from './forms';
import { knownTargets } from './mapping';
import { checkFieldValue, TYPE_MAX_LENGTH } from './values';
import type { FormField } from './field';

/** The name of the honeypot input: something a form-filling bot wants to fill, and no field's key. */
export function honeypotName(form: Pick<FormRecord, 'fields'>): string {
  const keys = new Set(form.fields.map((f) => f.key));
  let name = 'website';
  for (let n = 2; keys.has(name); n++) name = `website_${n}`;
  return name;
}

// Fields that are never hidden by progressive profiling: the identifying
// email, fields that write nowhere, consent (asked every time) and hidden ones.
const alwaysShown = (f: FormField) => f.type === 'hidden' || f.type === 'consent' || f.maps_to === null || f.maps_to === 'email';

/** The fields shown to a visitor whose contact has values for `known` targets. */
export function displayedFields(form: Pick<FormRecord, 'fields' | 'progressive_profiling'>, known: Set<string>): FormField[] {
  const pp = form.progressive_profiling;
  if (!pp.enabled) return form.fields;
  let budget = pp.max_new_fields ?? Infinity;
  return form.fields.filter((f) => {
    if (alwaysShown(f)) return true;
    if (known.has(f.maps_to!)) return false;
    if (budget <= 0) return false;
    budget--;
    return true;
  });
}

// Prefill repeats what this browser itself sent; types that may carry more
// sensitive data (email, phone, free text, dates) are never repeated.
const PREFILL_TYPES = new Set<FormField['type']>(['text', 'number', 'select', 'radio', 'checkbox_group', 'country']);

let countryOptions: { value: string; label: string }[] | undefined;
/** Country options with English names, sorted by name. */
export function countries(): { value: string; label: string }[] {
  if (!countryOptions) {
    let names: Intl.DisplayNames | null = null;
    try {
      names = new Intl.DisplayNames(['en'], { type: 'region' });
    } catch {
      names = null;
    }
    countryOptions = [...COUNTRY_CODES]
      .map((code) => ({ value: code, label: names?.of(code) ?? code }))
      .sort((a, b) => a.label.localeCompare(b.label, 'en'));
  }
  return countryOptions;
}

export function publicField(f: FormField, prefill: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { key: f.key, type: f.type, label: f.label, required: f.required };
  if (f.placeholder) out.placeholder = f.placeholder;
  if (f.help) out.help = f.help;
  if (f.options) out.options = f.options;
  else if (f.type === 'country') out.options = countries();
  const rules: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f.rules)) if (v !== null && v !== undefined) rules[k] = v;
  const cap = TYPE_MAX_LENGTH[f.type];
  if (cap !== undefined && rules.max_length === undefined) rules.max_length = cap;
  if (Object.keys(rules).length) out.rules = rules;
  if (f.default !== null && f.type !== 'hidden') out.default = f.default;
  if (f.source) out.source = f.source;
  if (prefill !== undefined && PREFILL_TYPES.has(f.type)) {
    // What this browser sent before: its pattern was checked then (and the widget checks it again).
    const c = checkFieldValue(f, prefill, () => true);
    if (c.ok === true) out.value = c.value;
  }
  return out;
}

/**
 * The contact fields progressive profiling may treat as known for this
 * browser: only a proven browser's contact counts; one that merely typed an
 * email learns nothing about the contact behind it.
 */
export async function knownFor(ctx: Ctx, form: FormRecord, visitor: VisitorRef | null): Promise<Set<string>> {
  return form.progressive_profiling.enabled ? knownTargets(ctx, provenContact(visitor)) : new Set<string>();
}

/** The form as the widget renders it for this visitor (see the contract above). */
export async function publicDefinition({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { formId: number; k: string; v: string | null; origin: string | null; baseUrl: string };
}) {
  const site = await requireSite(ctx, input.k, { origin: input.origin });
  const form = await getActiveForm(ctx, input.formId);
  const visitor = await findVisitor(ctx, site.id, input.v);
  const known = await knownFor(ctx, form, visitor);
  let last: Record<string, unknown> = {};
  if (visitor) {
    const r = await ctx.client.execute({
      sql: 'SELECT "values" FROM form_submissions WHERE visitor_id = ? AND form_id = ? ORDER BY id DESC LIMIT 1',
      args: [visitor.id, form.id],
    });
    if (r.rows[0]) last = JSON.parse(String(r.rows[0].values)) as Record<string, unknown>;
  }
  return publicFormOf(form, { baseUrl: input.baseUrl, known, last });
}

export type PublicForm = ReturnType<typeof publicFormOf>;

/**
 * The answer of GET /f/:id for a form and what is known of the visitor: the fields it knows
 * (progressive profiling) and what this browser sent last time (prefill). Nothing known: what
 * a first-time visitor gets, which is what the dashboard previews (forms/preview.ts).
 */
export function publicFormOf(
  form: Pick<FormRecord, 'id' | 'fields' | 'submit_label' | 'min_fill_ms' | 'after_submit' | 'progressive_profiling'>,
  { baseUrl, known = new Set<string>(), last = {} }: { baseUrl: string; known?: Set<string>; last?: Record<string, unknown> },
) {
  const fields = displayedFields(form, known)
    // A static hidden value is the server's business.
    .filter((f) => !(f.type === 'hidden' && f.default !== null))
    .map((f) => publicField(f, Object.hasOwn(last, f.key) ? last[f.key] : undefined));
  return {
    id: form.id,
    submit_url: `${baseUrl}/f/${form.id}`,
    submit_label: form.submit_label,
    honeypot: honeypotName(form),
    min_fill_ms: form.min_fill_ms,
    success: form.after_submit,
    fields,
  };
}
