import type { FieldError } from '../errors';
import { hmacSha256Hex, randomToken, timingSafeEqualHex } from '../util/crypto';
import type { SiteRecord } from '../tracking/sites';
import type { FormRecord } from './forms';
import { countries, displayedFields, honeypotName } from './definition';
import type { FormField } from './field';
import { TYPE_MAX_LENGTH } from './values';
import { escapeHtml } from '../util/html';

// The no-JavaScript form: plain HTML that posts to /f/:id and comes back.
// Everything from the definition or the request is escaped.

export const esc = escapeHtml;

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:1rem;color:#1a1a1a;background:#fff}
form,.done{max-width:32rem}.f{margin:0 0 1rem}label,legend{display:block;font-weight:600;margin-bottom:.25rem}
fieldset{border:0;margin:0 0 1rem;padding:0}fieldset label,.check label{display:inline;font-weight:400}
input:not([type=checkbox]):not([type=radio]),select,textarea{box-sizing:border-box;width:100%;padding:.5rem;font:inherit;border:1px solid #767676;border-radius:4px}
textarea{min-height:6rem}.help{margin:.25rem 0 0;color:#555;font-size:.9em}.err{margin:.25rem 0 0;color:#b00020;font-weight:600}
.summary{border:2px solid #b00020;padding:.5rem 1rem;margin-bottom:1rem}[aria-invalid=true]{border-color:#b00020!important}
button{font:inherit;padding:.5rem 1.25rem;border:0;border-radius:4px;background:#1f4fd1;color:#fff;cursor:pointer}
.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${esc(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

const INPUT_TYPE: Partial<Record<FormField['type'], string>> = { text: 'text', email: 'email', tel: 'tel', number: 'number', date: 'date' };
const AUTOCOMPLETE: Record<string, string> = {
  email: 'email',
  first_name: 'given-name',
  last_name: 'family-name',
  phone: 'tel',
  job_title: 'organization-title',
  city: 'address-level2',
  country: 'country',
};

function attrs(list: [string, unknown][]): string {
  return list
    .filter(([, v]) => v !== undefined && v !== null && v !== false)
    .map(([k, v]) => (v === true ? ` ${k}` : ` ${k}="${esc(v)}"`))
    .join('');
}

function asList(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : v === undefined || v === null || v === '' ? [] : [String(v)];
}

function fieldHtml(f: FormField, value: unknown, error: string | undefined): string {
  const id = `lf-${f.key}`;
  const described = [f.help ? `${id}-help` : null, error ? `${id}-err` : null].filter(Boolean).join(' ') || undefined;
  const star = f.required ? '<span aria-hidden="true"> *</span>' : '';
  const help = f.help ? `<p class="help" id="${id}-help">${esc(f.help)}</p>` : '';
  const err = error ? `<p class="err" id="${id}-err">${esc(error)}</p>` : '';
  const common: [string, unknown][] = [
    ['name', f.key],
    ['required', f.required],
    ['aria-describedby', described],
    ['aria-invalid', error ? 'true' : undefined],
  ];
  const r = f.rules;
  const current = value ?? f.default ?? undefined;
  switch (f.type) {
    case 'radio':
    case 'checkbox_group': {
      const chosen = new Set(asList(current));
      const type = f.type === 'radio' ? 'radio' : 'checkbox';
      const opts = (f.options ?? [])
        .map((o, i) => {
          const oid = `${id}-${i}`;
          // A checkbox group cannot say "at least one" in HTML: the server checks it.
          const a = attrs([
            ['type', type],
            ['id', oid],
            ['name', f.key],
            ['value', o.value],
            ['checked', chosen.has(o.value)],
            ['required', type === 'radio' && f.required],
          ]);
          return `<div><input${a}> <label for="${oid}">${esc(o.label)}</label></div>`;
        })
        .join('');
      return `<fieldset class="f"${attrs([['aria-describedby', described]])}><legend>${esc(f.label)}${star}</legend>${opts}${help}${err}</fieldset>`;
    }
    case 'consent':
      return `<div class="f check"><input${attrs([['type', 'checkbox'], ['id', id], ['value', '1'], ['checked', value === true || value === '1' || value === 'on'], ...common])}> <label for="${id}">${esc(f.label)}${star}</label>${help}${err}</div>`;
    case 'select':
    case 'country': {
      const options = f.type === 'country' ? countries() : (f.options ?? []);
      const chosen = asList(current)[0];
      const opts = options.map((o) => `<option${attrs([['value', o.value], ['selected', o.value === chosen]])}>${esc(o.label)}</option>`).join('');
      const autocomplete = f.maps_to ? AUTOCOMPLETE[f.maps_to] : undefined;
      return `<div class="f"><label for="${id}">${esc(f.label)}${star}</label><select${attrs([['id', id], ['autocomplete', autocomplete], ...common])}><option value="">Choose…</option>${opts}</select>${help}${err}</div>`;
    }
    case 'textarea': {
      const a = attrs([['id', id], ['placeholder', f.placeholder], ['maxlength', r.max_length ?? TYPE_MAX_LENGTH.textarea], ['minlength', r.min_length], ...common]);
      return `<div class="f"><label for="${id}">${esc(f.label)}${star}</label><textarea${a}>${esc(asList(current)[0] ?? '')}</textarea>${help}${err}</div>`;
    }
    default: {
      const type = INPUT_TYPE[f.type] ?? 'text';
      const a = attrs([
        ['type', type],
        ['id', id],
        ['value', asList(current)[0]],
        ['placeholder', f.placeholder],
        ['autocomplete', f.maps_to ? AUTOCOMPLETE[f.maps_to] : undefined],
        ['maxlength', f.type === 'number' || f.type === 'date' ? undefined : (r.max_length ?? TYPE_MAX_LENGTH[f.type])],
        ['minlength', r.min_length],
        ['pattern', r.pattern],
        ['title', r.pattern ? r.pattern_message : undefined],
        ['min', r.min],
        ['max', r.max],
        ['step', f.type === 'number' ? 'any' : undefined],
        ...common,
      ]);
      return `<div class="f"><label for="${id}">${esc(f.label)}${star}</label><input${a}>${help}${err}</div>`;
    }
  }
}

/**
 * The form as a page. `values` and `errors` come back after a failed post
 * (the values are what this browser just sent, escaped).
 */
export function renderEmbed(o: EmbedInput): string {
  return page(o.form.name, embedForm(o));
}

export interface EmbedInput {
  form: FormRecord;
  action: string;
  siteKey: string;
  stamp: string;
  returnUrl: string | null;
  values?: Record<string, unknown>;
  errors?: FieldError[];
  /** The submission id to carry (a landing page's cached copy puts a placeholder here); random by default. */
  sid?: string;
}

/** The form alone (the error summary, the form), for a page of one's own: landing pages use it. */
export function embedForm(o: EmbedInput): string {
  const byKey = new Map((o.errors ?? []).map((e) => [e.field.replace(/^values\./, ''), e.message]));
  // Without JavaScript there is no visitor id: nothing is known, so profiling shows the first fields.
  const fields = displayedFields(o.form, new Set()).filter((f) => f.type !== 'hidden');
  const labelOf = new Map(o.form.fields.map((f) => [f.key, f.label]));
  const summary = byKey.size
    ? `<div class="summary" role="alert"><p><strong>Please correct the following:</strong></p><ul>${[...byKey]
        .map(([k, m]) => `<li>${labelOf.has(k) ? `<a href="#lf-${esc(k)}">${esc(labelOf.get(k))}</a>` : esc(k)}: ${esc(m)}</li>`)
        .join('')}</ul></div>`
    : '';
  const hidden = [
    ['_k', o.siteKey],
    ['_sid', o.sid ?? randomToken(24)],
    ['_ts', o.stamp],
    ...(o.returnUrl ? [['_return', o.returnUrl]] : []),
  ]
    .map(([n, v]) => `<input type="hidden" name="${esc(n)}" value="${esc(v)}">`)
    .join('');
  const hp = honeypotName(o.form);
  const trap = `<div class="hp" aria-hidden="true"><label for="lf-hp">Leave this empty</label><input type="text" id="lf-hp" name="${esc(hp)}" tabindex="-1" autocomplete="off"></div>`;
  const body = fields.map((f) => fieldHtml(f, o.values?.[f.key], byKey.get(f.key))).join('');
  return `${summary}<form method="post" action="${esc(o.action)}" accept-charset="utf-8"${attrs([['aria-label', o.form.name]])}>${hidden}${trap}${body}<button type="submit">${esc(o.form.submit_label)}</button></form>`;
}

/** The page shown after a no-JS post when there is nowhere to go back to. */
export function renderDone(form: FormRecord, message: string, assetUrl?: string): string {
  const link = assetUrl ? `<p><a href="${esc(assetUrl)}">Download</a></p>` : '';
  return page(form.name, `<div class="done" role="status"><p>${esc(message)}</p>${link}</div>`);
}

// The no-JS form carries its render time, signed with the site secret, so the
// minimum fill time holds without JavaScript.
export async function renderStamp(site: SiteRecord, formId: number, now: number): Promise<string> {
  return `${now}.${(await hmacSha256Hex(site.secret, `form-render:${formId}:${now}`)).slice(0, 32)}`;
}

/** Milliseconds since a stamp was made; 0 when it is forged, null when there is none. */
export async function elapsedSinceStamp(site: SiteRecord, formId: number, stamp: string | null, now: number): Promise<number | null> {
  if (!stamp) return null;
  const m = /^(\d{1,15})\.([0-9a-f]{32})$/.exec(stamp);
  if (!m) return 0;
  const expected = (await hmacSha256Hex(site.secret, `form-render:${formId}:${m[1]}`)).slice(0, 32);
  return timingSafeEqualHex(expected, m[2]!) ? Math.max(0, now - Number(m[1])) : 0;
}
