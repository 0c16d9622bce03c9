/**
 * The public form submission: the contract between the server and the widget.
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
 *   200 { "ok": true, "message": "…" } | { "ok": true, "redirect": "https://…" }
 *       (the form's after_submit), plus "asset_url": "https://leadline.example/a/SLUG" when
 *       the form delivers an asset: the submission is committed. A repeated sid answers
 *       the same again. A submission discarded as a bot's (honeypot filled, t < min_fill_ms,
 *       or a bot's user agent unless the site has allow_automation) answers
 *       { "ok": true, "message": "Thanks!" } and nothing else: it does not tell a bot it was
 *       caught, and never claims what did not happen.
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
import { isUniqueViolation, ValidationError, zodErrors, type FieldError } from '../errors';
import { parseJsonInput } from '../util/text';
import { isBot } from '../tracking/enrich';
import { requireSite, SITE_KEY, SUBMISSION_ID, VISITOR_ID } from '../tracking/site-access';
import { findVisitor } from '../tracking/visitors';
import type { SiteRecord } from '../tracking/sites';
import { resolveSubmitter } from '../contacts/resolve';
import { loadFieldDefs } from '../contacts/fields';
import type { PreparedContact } from '../contacts/prepare';
import { writeValues } from '../contacts/writes';
import { EVENT } from '../spine/event-types';
import { stripHandoff } from '../email/identify';
import { getActiveForm, type FormRecord } from './forms';
import { actionResponses, actionStatements } from './actions';
import { displayedFields, knownFor } from './definition';
import { contactValues } from './mapping';
import { checkSubmission } from './values';
import { patternTestFor } from './patterns';

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

/** What a discarded submission is told: nothing it could take for a claim. */
const DISCARDED: SubmitAnswer = { ok: true, message: 'Thanks!' };

/** Parses a JSON submission body (a 400 for non-JSON, a 422 naming bad keys). */
export function parseSubmitBody(text: string): SubmitBody {
  const parsed = SubmitBody.safeParse(parseJsonInput(text));
  if (!parsed.success) throw new ValidationError(zodErrors(parsed.error));
  return parsed.data;
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

/**
 * Takes one submission, in order: the site and form; bots' submissions are
 * discarded quietly; a repeated submission id is the same submission; the
 * values are checked (422 with field errors, nothing stored); the sender is
 * resolved in one call (contacts/resolve.ts); then the contact's new values,
 * the submission, its form_submit event and the actions' effects are written
 * in one transaction.
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
  };
}): Promise<SubmitOutcome> {
  const b = input.body;
  const site = await requireSite(ctx, b.k, { origin: input.origin, alsoAllowed: input.alsoAllowedOrigin ?? null });
  const form = await getActiveForm(ctx, input.formId);
  const bot = site.settings.allow_automation ? !input.userAgent : isBot(input.userAgent);
  if (bot || (b.hp !== undefined && b.hp !== '') || b.t < form.min_fill_ms) return { status: 'discarded', answer: DISCARDED, form, site };
  const status = await store(ctx, site, form, b);
  return { status, answer: await answerFor(ctx, form, input.baseUrl), form, site };
}

/** Checks, resolves and writes one submission: 'duplicate' when its sid was stored already. */
async function store(ctx: Ctx, site: SiteRecord, form: FormRecord, b: SubmitBody): Promise<'stored' | 'duplicate'> {
  const dup = await ctx.client.execute({ sql: 'SELECT 1 FROM form_submissions WHERE form_id = ? AND client_id = ?', args: [form.id, b.sid] });
  if (dup.rows.length) return 'duplicate';

  // Without recorded consent a consent-required site keeps no visitor id, as /t does.
  const uid = site.settings.consent_required && b.c !== 1 ? null : (b.v ?? null);
  const visitor = await findVisitor(ctx, site.id, uid);
  const shown = new Set(displayedFields(form, await knownFor(ctx, form, visitor)).map((f) => f.key));
  // An email click-through's ll_t (core/email/identify.ts) is not kept with the submission.
  const noHandoff = (u: string | null) => (u !== null && u.includes('ll_t=') ? stripHandoff(u).url : u);
  const pageUrl = noHandoff(httpUrlOrNull(b.url));
  const referrer = noHandoff(httpUrlOrNull(b.ref));
  const rules = { offered: (key: string) => shown.has(key) || Object.hasOwn(b.values, key), pageUrl, referrer };
  const test = await patternTestFor(ctx, (t) => checkSubmission(form.fields, b.values, { ...rules, test: t }));
  const { values, errors } = checkSubmission(form.fields, b.values, { ...rules, test });
  const defs = await loadFieldDefs(ctx);
  const contact = contactValues(form, values, defs);
  errors.push(...contact.errors);
  if (errors.length) throw new ValidationError(dedupe(errors));

  const who = await resolveSubmitter(ctx, { siteId: site.id, uid, email: contact.email, emailField: `values.${keyOfEmail(form)}`, visitor, defs });
  const now = ctx.now();
  const stmts: InStatement[] = [
    ...contactWrite(who.contactId, contact.prepared, now),
    {
      sql: `INSERT INTO form_submissions (form_id, contact_id, visitor_id, client_id, "values", page_url, referrer, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      args: [form.id, who.contactId, who.visitorId, b.sid, JSON.stringify(values), pageUrl, referrer, now],
    },
    {
      sql: `INSERT INTO events (site_id, visitor_id, contact_id, type, url, referrer, props, created_at)
        SELECT ?, ?, ?, '${EVENT.form_submit}', ?, ?, json_patch(json_object('form_id', form_id, 'submission_id', id), ?), ?
        FROM form_submissions WHERE form_id = ? AND client_id = ?`,
      args: [
        site.id,
        who.visitorId,
        who.contactId,
        pageUrl,
        referrer,
        JSON.stringify(b.focus_id ? { focus_id: b.focus_id, focus_variant: b.focus_variant ?? null } : {}),
        now,
        form.id,
        b.sid,
      ],
    },
    ...actionStatements({ formId: form.id, clientId: b.sid, contactId: who.contactId, visitorId: who.visitorId, now }, form.actions),
  ];
  try {
    await ctx.client.batch(stmts, 'write');
  } catch (e) {
    // The same sid committed meanwhile (a double click racing itself): one submission.
    if (isUniqueViolation(e)) return 'duplicate';
    throw e;
  }
  return 'stored';
}

function contactWrite(contactId: number | null, p: PreparedContact | null, now: number): InStatement[] {
  const s = contactId !== null && p ? writeValues(contactId, p, now, 'fill') : null;
  return s ? [s] : [];
}

async function answerFor(ctx: Ctx, form: FormRecord, baseUrl: string): Promise<SubmitAnswer> {
  const extra = await actionResponses(ctx, form.actions, baseUrl);
  const base: SubmitAnswer =
    form.after_submit.type === 'redirect' ? { ok: true, redirect: form.after_submit.url } : { ok: true, message: form.after_submit.message };
  return { ...base, ...(extra as Partial<SubmitAnswer>) };
}

function keyOfEmail(form: FormRecord): string {
  return form.fields.find((f) => f.maps_to === 'email')?.key ?? 'email';
}

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => (seen.has(e.field) ? false : (seen.add(e.field), true)));
}
