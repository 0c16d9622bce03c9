/**
 * The public form endpoints: the contract between the server and the widget.
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
 *     "fields": [FIELD, …]         // in display order; progressive profiling applied
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
 * POST /f/:id   Content-Type: text/plain (no preflight) or application/json
 *   {
 *     "k": SITE_KEY,
 *     "v": VISITOR_ID | null,      // optional; null/absent in consent mode before consent
 *     "c"?: 1,                     // the visitor consented (sites with consent_required
 *                                  // ignore v without it, as /t does)
 *     "sid": "…",                  // client submission id, 8–64 of [A-Za-z0-9_-], random per
 *                                  // form display; resending the same sid stores nothing new
 *     "values": { key: value },    // every displayed field's key; "" or absent when empty.
 *                                  // checkbox_group: array of option values; consent: true/false;
 *                                  // number: number or numeric string; others: strings
 *     "t": 5230,                   // ms since the form rendered
 *     "hp": "",                    // the honeypot input's value
 *     "url": location.href,        // optional, the page the form is on
 *     "ref": document.referrer     // optional
 *   }
 *   200 { "ok": true, "message": "Thanks!" } | { "ok": true, "redirect": "https://…" }
 *       plus "asset_url": "https://leadline.example/a/SLUG" when the form delivers an asset.
 *       A 200 means the submission is committed, or was discarded as a bot's (honeypot
 *       filled, t < min_fill_ms, or a bot's user agent unless the site has allow_automation):
 *       the answer looks the same on purpose. A repeated sid answers the same again.
 *       Progressive profiling: a required field that was not displayed (its key absent
 *       from values) is not required; send displayed keys even when empty.
 *   422 { "error": { "code": "VALIDATION_FAILED", "message": "values.email: must be a valid email address",
 *         "requestId": "…", "details": [{ "field": "values.email", "message": "…" }, …] } }
 *       Field errors are named "values.<key>"; nothing is stored. Messages are English
 *       sentences without the field's label ("is required", "must be at most 255 characters").
 *   Other errors (same shape): 400 BAD_REQUEST (not JSON), 404 NOT_FOUND, 403
 *   ORIGIN_NOT_ALLOWED, 413 PAYLOAD_TOO_LARGE (> 64 KB), 415, 429 RATE_LIMITED (Retry-After).
 *   CORS headers are on every answer, errors included.
 *
 * POST /f/:id   Content-Type: application/x-www-form-urlencoded (the no-JS form, GET /f/:id/embed)
 *   _k site key, _sid submission id, _ts signed render time, _return page to go back to
 *   (must be on one of the site's allowed origins), the honeypot, and one entry per field
 *   (repeated for checkbox_group). Answers 303 to the redirect of after_submit, else to
 *   _return with ?leadline_form=ok (…=error on validation errors); without _return, an
 *   HTML page with the message (or the form again with its errors, 422).
 */
import { z } from 'zod';
import type { InStatement } from '@libsql/client';
import type { Ctx } from '../context';
import { AppError, isUniqueViolation, ValidationError, zodErrors, type FieldError } from '../errors';
import { originAllowed, siteByKey, type SiteRecord } from '../tracking/sites';
import { isBot } from '../tracking/enrich';
import { resolveVisitor } from '../tracking/identity';
import { upsertContacts } from '../contacts/upsert';
import { loadFieldDefs } from '../contacts/fields';
import { prepareContact } from '../contacts/prepare';
import { hmacSha256Hex, timingSafeEqualHex } from '../util/crypto';
import { cleanText, parseJsonInput } from '../util/text';
import { COUNTRY_CODES } from '../util/countries';
import { getActiveForm, type FormRecord } from './forms';
import { actionResponses, actionStatements } from './actions';
import { contactInputFor, knownTargets, parseTarget } from './mapping';
import { checkFieldValue, checkSubmission, TYPE_MAX_LENGTH } from './values';
import type { FormField } from './schema';

export const SITE_KEY = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be a site key');
export const VISITOR_ID = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'must be a visitor id (16–64 of A-Z a-z 0-9 _ -)');
export const SUBMISSION_ID = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8–64 of A-Z a-z 0-9 _ -');

const Value = z.union([z.string().max(10_000), z.number().finite(), z.boolean(), z.null(), z.array(z.string().max(200)).max(200)]);

export const SubmitBody = z.strictObject({
  k: SITE_KEY,
  v: VISITOR_ID.nullable().optional(),
  c: z.literal(1).optional(),
  sid: SUBMISSION_ID,
  values: z.record(z.string().max(64), Value).refine((o) => Object.keys(o).length <= 100, 'at most 100 values'),
  t: z.number().finite().min(0),
  hp: z.string().max(1000).optional(),
  url: z.string().max(2048).nullable().optional(),
  ref: z.string().max(2048).nullable().optional(),
  // Set when the form was shown inside a focus item, so the item gets the conversion.
  focus_id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  focus_variant: z.string().max(20).optional(),
});
export type SubmitBody = z.infer<typeof SubmitBody>;

export type SubmitAnswer = { ok: true; message?: string; redirect?: string; asset_url?: string };
export type SubmitOutcome = { status: 'stored' | 'duplicate' | 'discarded'; answer: SubmitAnswer; form: FormRecord; site: SiteRecord };

/** Parses a JSON submission body (a 400 for non-JSON, a 422 naming bad keys). */
export function parseSubmitBody(text: string): SubmitBody {
  const parsed = SubmitBody.safeParse(parseJsonInput(text));
  if (!parsed.success) throw new ValidationError(zodErrors(parsed.error));
  return parsed.data;
}

/** The name of the honeypot input: something a form-filling bot wants to fill, and no field's key. */
export function honeypotName(form: FormRecord): string {
  const keys = new Set(form.fields.map((f) => f.key));
  let name = 'website';
  for (let n = 2; keys.has(name); n++) name = `website_${n}`;
  return name;
}

async function siteFor(ctx: Ctx, key: string, origin: string | null, alsoAllowed: string | null = null): Promise<SiteRecord> {
  const site = await siteByKey(ctx, key);
  if (!site) throw new AppError('NOT_FOUND', 'Unknown site key.');
  if (!originAllowed(site, origin) && !(alsoAllowed !== null && origin === alsoAllowed)) {
    throw new AppError('ORIGIN_NOT_ALLOWED', `Origin ${origin ?? '(none)'} is not allowed for this site.`);
  }
  return site;
}

async function visitorOf(ctx: Ctx, siteId: number, uid: string | null): Promise<{ id: number; contactId: number | null } | null> {
  if (!uid) return null;
  const r = await ctx.client.execute({ sql: 'SELECT id, contact_id FROM visitors WHERE site_id = ? AND uid = ?', args: [siteId, uid] });
  const row = r.rows[0];
  return row ? { id: Number(row.id), contactId: row.contact_id === null ? null : Number(row.contact_id) } : null;
}

// Fields that are never hidden by progressive profiling: the identifying
// email, fields that write nowhere, consent (asked every time) and hidden ones.
const alwaysShown = (f: FormField) => f.type === 'hidden' || f.type === 'consent' || f.maps_to === null || f.maps_to === 'email';

/** The fields shown to a visitor whose contact has values for `known` targets. */
export function displayedFields(form: FormRecord, known: Set<string>): FormField[] {
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
    const c = checkFieldValue(f, prefill);
    if (c.ok === true) out.value = c.value;
  }
  return out;
}

/** The form as the widget renders it for this visitor (see the contract above). */
export async function publicDefinition({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { formId: number; k: string; v: string | null; origin: string | null; baseUrl: string };
}) {
  const form = await getActiveForm(ctx, input.formId);
  const site = await siteFor(ctx, input.k, input.origin);
  const visitor = await visitorOf(ctx, site.id, input.v);
  const known = form.progressive_profiling.enabled ? await knownTargets(ctx, visitor?.contactId ?? null) : new Set<string>();
  let last: Record<string, unknown> = {};
  if (visitor) {
    const r = await ctx.client.execute({
      sql: 'SELECT "values" FROM form_submissions WHERE visitor_id = ? AND form_id = ? ORDER BY id DESC LIMIT 1',
      args: [visitor.id, form.id],
    });
    if (r.rows[0]) last = JSON.parse(String(r.rows[0].values)) as Record<string, unknown>;
  }
  const fields = displayedFields(form, known)
    // A static hidden value is the server's business.
    .filter((f) => !(f.type === 'hidden' && f.default !== null))
    .map((f) => publicField(f, Object.hasOwn(last, f.key) ? last[f.key] : undefined));
  return {
    id: form.id,
    submit_url: `${input.baseUrl}/f/${form.id}`,
    submit_label: form.submit_label,
    honeypot: honeypotName(form),
    min_fill_ms: form.min_fill_ms,
    success: form.after_submit,
    fields,
  };
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

function httpUrlOrNull(s: string | null | undefined): string | null {
  if (!s) return null;
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:' ? s : null;
  } catch {
    return null;
  }
}

/** A _return URL is followed only to a page on one of the site's allowed origins. */
export function checkReturnUrl(site: SiteRecord, url: string, field = '_return'): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ValidationError([{ field, message: 'must be an absolute URL' }]);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || url.length > 2048 || !originAllowed(site, u.origin)) {
    throw new ValidationError([{ field, message: "must be a page on one of the site's allowed origins" }]);
  }
  return u.href;
}

async function answerFor(ctx: Ctx, form: FormRecord, baseUrl: string): Promise<SubmitAnswer> {
  const extra = await actionResponses(ctx, form.actions, baseUrl);
  const base: SubmitAnswer =
    form.after_submit.type === 'redirect' ? { ok: true, redirect: form.after_submit.url } : { ok: true, message: form.after_submit.message };
  return { ...base, ...(extra as Partial<SubmitAnswer>) };
}

/**
 * Takes one submission: checks it (422 with field errors, nothing stored),
 * silently discards bots' (honeypot, too fast, a bot's user agent), resolves
 * the visitor to a contact when an email is given (the same resolution signed
 * identify uses), writes the mapped values to the contact, and stores the
 * submission, a form_submit event and the actions' effects in one transaction.
 */
export async function submitForm({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: {
    formId: number;
    body: SubmitBody;
    origin: string | null;
    /** An origin accepted besides the site's (the server's own, for the no-JS form page). */
    alsoAllowedOrigin?: string | null;
    userAgent: string | null;
    baseUrl: string;
    /** The no-JS form's page to go back to; checked against the site's origins. */
    returnUrl?: string | null;
  };
}): Promise<SubmitOutcome> {
  const form = await getActiveForm(ctx, input.formId);
  const b = input.body;
  const site = await siteFor(ctx, b.k, input.origin, input.alsoAllowedOrigin ?? null);
  if (input.returnUrl) checkReturnUrl(site, input.returnUrl);
  const answer = () => answerFor(ctx, form, input.baseUrl);
  const done = async (status: SubmitOutcome['status']): Promise<SubmitOutcome> => ({ status, answer: await answer(), form, site });

  const bot = site.settings.allow_automation ? !input.userAgent : isBot(input.userAgent);
  if (bot || (b.hp !== undefined && b.hp !== '') || b.t < form.min_fill_ms) return done('discarded');

  const dup = await ctx.client.execute({ sql: 'SELECT 1 FROM form_submissions WHERE form_id = ? AND client_id = ?', args: [form.id, b.sid] });
  if (dup.rows.length) return done('duplicate');

  const uid = site.settings.consent_required && b.c !== 1 ? null : (b.v ?? null);
  const visitor = await visitorOf(ctx, site.id, uid);
  const known = form.progressive_profiling.enabled ? await knownTargets(ctx, visitor?.contactId ?? null) : new Set<string>();
  const shown = new Set(displayedFields(form, known).map((f) => f.key));
  const pageUrl = httpUrlOrNull(b.url);
  const referrer = httpUrlOrNull(b.ref);
  const { values, errors } = checkSubmission(form.fields, b.values, {
    offered: (key) => shown.has(key) || Object.hasOwn(b.values, key),
    pageUrl,
    referrer,
  });

  // The contact gets every mapped value, checked by the contact's own rules too.
  const defs = await loadFieldDefs(ctx);
  const contactInput: Record<string, unknown> = {};
  const keyOfTarget = new Map<string, string>();
  let email: string | null = null;
  for (const f of form.fields) {
    if (f.maps_to === null || !(f.key in values)) continue;
    if (f.maps_to === 'email') {
      email = values[f.key] as string;
      continue;
    }
    const target = parseTarget(f.maps_to, defs);
    if (!target) continue; // the custom field was deleted since the form was saved
    const v = values[f.key];
    // A number written to a text field is its text.
    const part = contactInputFor(f.maps_to, typeof v === 'number' && target.type !== 'number' ? String(v) : v, defs)!;
    if (part.fields) contactInput.fields = { ...(contactInput.fields as object), ...(part.fields as object) };
    else Object.assign(contactInput, part);
    keyOfTarget.set(f.maps_to, f.key);
  }
  const prepared = prepareContact(contactInput, defs, { lenient: true });
  if (!prepared.ok) {
    for (const e of prepared.errors) {
      const key = keyOfTarget.get(e.field);
      if (key) errors.push({ field: `values.${key}`, message: e.message });
    }
  }
  if (errors.length) throw new ValidationError(dedupe(errors));

  let contactId = visitor?.contactId ?? null;
  let visitorId = visitor?.id ?? null;
  if (email !== null) {
    if (uid) {
      const r = await resolveVisitor({ ctx, input: { siteId: site.id, uid, identity: { email }, via: 'form' } });
      contactId = r.contactId;
      visitorId = r.visitorId;
    } else {
      const r = (await upsertContacts({ ctx, input: { rows: [{ email }] } })).results[0]!;
      if (r.status === 'rejected') throw new ValidationError(r.errors.map((e) => ({ ...e, field: `values.${keyOfEmail(form)}` })));
      contactId = r.id;
    }
  } else if (uid && !visitor) {
    // A browser the tracker has not reported yet: its visitor row starts here.
    const now = ctx.now();
    const [, row] = await ctx.client.batch(
      [
        { sql: 'INSERT INTO visitors (site_id, uid, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?) ON CONFLICT(site_id, uid) DO NOTHING', args: [site.id, uid, now, now] },
        { sql: 'SELECT id, contact_id FROM visitors WHERE site_id = ? AND uid = ?', args: [site.id, uid] },
      ],
      'write',
    );
    visitorId = Number(row!.rows[0]!.id);
    contactId = row!.rows[0]!.contact_id === null ? null : Number(row!.rows[0]!.contact_id);
  }

  const now = ctx.now();
  const stmts: InStatement[] = [];
  if (contactId !== null && prepared.ok) {
    const sets: string[] = [];
    const args: (string | number | null)[] = [];
    for (const [col, v] of Object.entries(prepared.value.cols)) {
      if (col === 'email' || v === null) continue;
      sets.push(`${col} = ?`);
      args.push(v);
    }
    if (prepared.value.custom && Object.keys(prepared.value.custom).length) {
      sets.push('custom = json_patch(custom, ?)');
      args.push(JSON.stringify(prepared.value.custom));
    }
    if (sets.length) stmts.push({ sql: `UPDATE contacts SET ${sets.join(', ')}, updated_at = ? WHERE id = ?`, args: [...args, now, contactId] });
  }
  stmts.push(
    {
      sql: `INSERT INTO form_submissions (form_id, contact_id, visitor_id, client_id, "values", page_url, referrer, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      args: [form.id, contactId, visitorId, b.sid, JSON.stringify(values), pageUrl, referrer, now],
    },
    {
      sql: `INSERT INTO events (site_id, visitor_id, contact_id, type, url, referrer, props, created_at)
        SELECT ?, ?, ?, 'form_submit', ?, ?, json_patch(json_object('form_id', form_id, 'submission_id', id), ?), ?
        FROM form_submissions WHERE form_id = ? AND client_id = ?`,
      args: [
        site.id,
        visitorId,
        contactId,
        pageUrl,
        referrer,
        JSON.stringify(b.focus_id ? { focus_id: b.focus_id, focus_variant: b.focus_variant ?? null } : {}),
        now,
        form.id,
        b.sid,
      ],
    },
    ...actionStatements({ formId: form.id, clientId: b.sid, contactId, visitorId, now }, form.actions),
  );
  try {
    await ctx.client.batch(stmts, 'write');
  } catch (e) {
    // The same sid committed meanwhile (a double click racing itself): one submission.
    if (isUniqueViolation(e)) return done('duplicate');
    throw e;
  }
  return done('stored');
}

function keyOfEmail(form: FormRecord): string {
  return form.fields.find((f) => f.maps_to === 'email')?.key ?? 'email';
}

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => (seen.has(e.field) ? false : (seen.add(e.field), true)));
}
