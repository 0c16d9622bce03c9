import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import { AppError, NotFoundError, ValidationError, zodErrors } from '../../core/errors';
import { getActiveForm } from '../../core/forms/forms';
import { honeypotName, publicDefinition } from '../../core/forms/definition';
import { parseSubmitBody, submitForm, type SubmitBody, type SubmitOutcome } from '../../core/forms/submission';
import { elapsedSinceStamp, renderDone, renderEmbed, renderStamp } from '../../core/forms/embed';
import { checkReturnUrl, requireSite, SITE_KEY, SUBMISSION_ID, VISITOR_ID } from '../../core/tracking/site-access';
import { randomToken } from '../../core/util/crypto';
import { cleanText } from '../../core/util/text';
import type { AppEnv } from '../shared';
import { originOf } from '../public';

// Thin adapters for GET/POST /f/:id and GET /f/:id/embed; the contract is
// documented in core/forms/public.ts.

type C = Context<AppEnv>;


/** Where this server is reachable, for URLs handed to other origins. */
export function baseUrl(c: C): string {
  const pub = c.get('ctx').config.PUBLIC_URL;
  return pub ? pub.replace(/\/+$/, '') : new URL(c.req.url).origin;
}

function formId(c: C): number {
  const id = Number(c.req.param('id'));
  if (!Number.isSafeInteger(id) || id < 1) throw new NotFoundError('Form');
  return id;
}

function queryParam<T>(c: C, name: string, schema: z.ZodType<T>): T | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return undefined;
  const r = schema.safeParse(raw);
  if (!r.success) throw new ValidationError(zodErrors(r.error, name));
  return r.data;
}

function withParam(url: string, value: 'ok' | 'error'): string {
  const u = new URL(url);
  u.searchParams.set('leadline_form', value);
  return u.href;
}

async function handleUrlencoded(c: C, id: number) {
  const ctx = c.get('ctx');
  const form = await getActiveForm(ctx, id);
  const params = new URLSearchParams(await c.req.text());
  const k = params.get('_k') ?? '';
  const site = await requireSite(ctx, k);
  const rawReturn = params.get('_return');
  const returnUrl = rawReturn ? checkReturnUrl(site, rawReturn) : null;
  const values: Record<string, unknown> = {};
  for (const f of form.fields) {
    const all = params.getAll(f.key);
    if (!all.length) continue;
    values[f.key] = f.type === 'checkbox_group' ? all.map(cleanText) : cleanText(all[0]!);
  }
  const sid = params.get('_sid') ?? '';
  const elapsed = await elapsedSinceStamp(site, id, params.get('_ts'), ctx.now());
  const body: SubmitBody = {
    k,
    v: null,
    sid: SUBMISSION_ID.safeParse(sid).success ? sid : randomToken(24),
    values: values as SubmitBody['values'],
    t: elapsed ?? Number.MAX_SAFE_INTEGER,
    hp: params.get(honeypotName(form)) ?? '',
    url: returnUrl,
    ref: null,
  };
  let outcome: SubmitOutcome;
  try {
    outcome = await submitForm({
      ctx,
      input: { formId: id, body, origin: originOf(c), alsoAllowedOrigin: new URL(baseUrl(c)).origin, userAgent: c.req.header('user-agent') ?? null, baseUrl: baseUrl(c) },
    });
  } catch (e) {
    if (!(e instanceof ValidationError) || e.details?.some((d) => d.field === '_return')) throw e;
    if (returnUrl) return c.redirect(withParam(returnUrl, 'error'), 303);
    const stamp = await renderStamp(site, id, ctx.now());
    const html = renderEmbed({ form, action: `${baseUrl(c)}/f/${id}`, siteKey: k, stamp, returnUrl: null, values, errors: e.details });
    return c.html(html, 422, { 'Cache-Control': 'no-store' });
  }
  const a = outcome.answer;
  if (a.redirect) return c.redirect(a.redirect, 303);
  if (returnUrl) return c.redirect(withParam(returnUrl, 'ok'), 303);
  return c.html(renderDone(form, a.message ?? 'Thank you!', a.asset_url), 200, { 'Cache-Control': 'no-store' });
}

// CORS (preflight included) and the per-IP limits come from routes/public.ts.
export const formsPublicRoutes = new Hono<AppEnv>()
  .get('/f/:id{[0-9]+}', async (c) => {
    c.header('Cache-Control', 'private, no-store');
    const origin = originOf(c);
    const k = queryParam(c, 'k', SITE_KEY);
    if (!k) throw new ValidationError([{ field: 'k', message: 'the site key is required' }]);
    const v = queryParam(c, 'v', VISITOR_ID) ?? null;
    const def = await publicDefinition({ ctx: c.get('ctx'), input: { formId: formId(c), k, v, origin, baseUrl: baseUrl(c) } });
    return c.json(def, 200);
  })
  .post('/f/:id{[0-9]+}', async (c) => {
    const type = (c.req.header('content-type') ?? '').toLowerCase();
    const id = formId(c);
    const origin = originOf(c);
    if (type.startsWith('application/x-www-form-urlencoded')) return handleUrlencoded(c, id);
    if (!type.startsWith('application/json') && !type.startsWith('text/plain')) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send JSON (as application/json or text/plain), or a URL-encoded HTML form.');
    }
    const ctx = c.get('ctx');
    const body = parseSubmitBody(await c.req.text());
    const outcome = await submitForm({
      ctx,
      input: { formId: id, body, origin, userAgent: c.req.header('user-agent') ?? null, baseUrl: baseUrl(c) },
    });
    return c.json(outcome.answer, 200);
  })
  .get('/f/:id{[0-9]+}/embed', async (c) => {
    const ctx = c.get('ctx');
    const form = await getActiveForm(ctx, formId(c));
    const k = queryParam(c, 'k', SITE_KEY);
    if (!k) throw new ValidationError([{ field: 'k', message: 'the site key is required' }]);
    const site = await requireSite(ctx, k);
    const ret = c.req.query('return');
    const returnUrl = ret ? checkReturnUrl(site, ret, 'return') : null;
    const html = renderEmbed({ form, action: `${baseUrl(c)}/f/${form.id}`, siteKey: k, stamp: await renderStamp(site, form.id, ctx.now()), returnUrl });
    const ancestors = ["'self'", ...site.allowed_origins].join(' ');
    return c.html(html, 200, {
      'Cache-Control': 'no-store',
      'Content-Security-Policy': `default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors ${ancestors}`,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'strict-origin-when-cross-origin',
    });
  });
