import type { OpenAPIHono } from '@hono/zod-openapi';
import { ERROR_RESPONSES, ErrorSchema, errorResponseName, type AppEnv, type ErrorStatus } from './shared';
import { VERSION } from '../version';

// The OpenAPI document's frame (info, tags, security) and the pass that finishes what the route
// definitions leave out because it is the same everywhere: the headers every answer carries, the
// Idempotency-Key every write takes, and the shared error answers. One place, so no route can
// forget them and the document stays what a client generator and Redocly's rules want.

/** Tags in the order a reader meets them; every operation's tag must be one of these. */
export const TAGS = [
  { name: 'Contacts', description: 'People, identified by email (unique, trimmed, case-insensitive), with built-in and custom fields, tags and points. Batch upsert, CSV import and export.' },
  { name: 'Fields', description: 'Custom contact fields: typed, checked on every write, no migration needed.' },
  { name: 'Tags', description: 'Free-form labels on contacts.' },
  { name: 'Do not contact', description: 'Per-channel opt-outs (email, sms, all) with a reason.' },
  { name: 'Companies', description: 'Organisations contacts belong to (one primary each).' },
  { name: 'Privacy', description: 'Everything stored about one contact, for data-subject access requests; erasure is DELETE /contacts/{id}.' },
  { name: 'Sites', description: 'Websites carrying the script tag: their public key, allowed origins, privacy settings, time zone and identify secret.' },
  { name: 'Timeline', description: 'Events of a contact or anonymous visitor, and linking a browser to a contact.' },
  { name: 'Stages', description: 'The funnel: Attract, Engage, Convert (marketing-qualified), Close, Delight, or your own.' },
  { name: 'Points', description: 'Lead scoring: point rules score events, triggers act when a score crosses a threshold, the point log says why.' },
  { name: 'Sales', description: "Sales' verdict on qualified leads (the lead-scoring and follow-up reports read it)." },
  { name: 'Webhooks', description: 'Outbound webhooks: subscriptions to business events (Standard Webhooks signatures, retries, in order per contact), the catalogue of event types, and the delivery log shared with trigger and campaign webhook actions.' },
  { name: 'Segments', description: 'Saved filters whose membership stays current as contacts change and events arrive, and static lists.' },
  { name: 'Forms', description: 'Embeddable forms: fields, what a submission does, and the submissions.' },
  { name: 'Focus items', description: 'Bars, modals, slide-ins and full-screen pop-ups shown by the script tag, with targeting, frequency and A/B variants.' },
  { name: 'Pages', description: 'Landing pages served at /p/{slug}: sections (Markdown, sanitised HTML, images, forms, buttons, columns, heroes) rendered as static HTML with the tracking tag, drafts, preview links, page sets per host name.' },
  {
    name: 'Slots',
    description:
      'Dynamic web content: places on the site\'s own pages (`<div data-leadline-slot="hero">`) that the script tag fills per visitor from ordered rules (anonymous or known browser, funnel stage, segment filter), with views and clicks as events.',
  },
  { name: 'Assets', description: 'Downloadable files, optionally gated by a form.' },
  {
    name: 'Emails',
    description:
      'Emails with Liquid personalisation, previews, tests and sends. Every send is a row first (unique per email, recipient and reason), delivered exactly once by the send loop through Resend or, without RESEND_API_KEY, into the outbox.',
  },
  {
    name: 'Broadcasts',
    description:
      'An email of kind broadcast sent once to the members of segments, now or at send_at, optionally with an A/B subject test; rows are written set-based by the emails job, suppressed contacts as skipped rows.',
  },
  { name: 'Email categories', description: 'Subscription categories contacts can leave one by one; marketing emails belong to one.' },
  { name: 'Email settings', description: 'Installation-wide email settings: frequency caps.' },
  { name: 'Outbox', description: 'Messages that would have been sent, when no provider is configured; readable in a browser at /outbox/{id} by admins.' },
  {
    name: 'Campaigns',
    description:
      'Automations that move contacts through a graph of steps (actions, decisions, conditions, waits, splits) toward goals. Definitions are versioned: publishing freezes a version, contacts in flight keep theirs. Every step runs exactly once per contact and pass, guarded by a unique key.',
  },
  {
    name: 'Deals',
    description:
      'Sales opportunities (contact, company, amount and currency, open/won/lost): winning or losing one is an event and moves the contact along the funnel per the pipeline settings. CRMs push deals through a signed webhook (POST /webhooks/deals).',
  },
  {
    name: 'Reports',
    description:
      'GET /api/v1/reports/{name}: a table `{columns, rows, totals}` (or CSV with `Accept: text/csv`) over a period (`from`, `to`) in a time zone (`tz`), read from hourly rollups, visits and stage entries that spine reactions keep current (the reports-rebuild job recounts them from the event log).',
  },
  {
    name: 'Auth',
    description:
      'Signing in to the dashboard: email and password, invitations, password resets, the first admin’s setup link, and the session (an HttpOnly `ll_session` cookie; writes made with it need `X-CSRF-Token` and this server’s Origin). Sign-in endpoints need no credentials; failures lock an account or address out with growing waits (429, Retry-After).',
  },
  {
    name: 'Users',
    description:
      'The people who sign in to the dashboard, with a role each: viewer (reads), sales (also contacts, companies, deals, sales feedback), marketer (everything but users, API keys, jobs, CRM integrations), admin. Admins only.',
  },
  { name: 'API keys', description: 'Keys for this API (admin scope). Secrets are shown once and stored hashed.' },
  { name: 'Jobs', description: 'Run a scheduled job now (admin scope).' },
  {
    name: 'Public (no API key)',
    description:
      "What a site's pages call: the script tag, events, forms, focus items and downloads, plus the health check. No API key: the site's public key and its allowed origins decide; every endpoint has a per-IP rate limit.",
  },
];

export const INFO = {
  title: 'Leadline API',
  version: VERSION,
  description:
    'Marketing automation API. Authenticate with `Authorization: Bearer <API key>`; keys have scopes read < write < admin. ' +
    'Lists are cursor-paginated (`limit`, `cursor` → `next_cursor`). Every error has the shape `{ "error": { "code", "message", "requestId", "details"? } }`. ' +
    'Writes take an `Idempotency-Key` (same key and body within 24 hours: the stored answer again, marked `Idempotent-Replayed: true`). ' +
    'Each API key has a per-minute request limit, told in the `RateLimit-*` headers; over it the answer is 429 with `Retry-After`. ' +
    'Unknown query parameters are refused (400), unknown body fields too (422).',
  license: { name: 'MIT', identifier: 'MIT' },
};

/** Registers what the route definitions refer to by name. */
export function registerDocumentParts(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key: `Authorization: Bearer ll_…`. Scopes read < write < admin: GET needs read, writes need write, API keys and jobs need admin.',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'sessionCookie', {
    type: 'apiKey',
    in: 'cookie',
    name: 'll_session',
    description:
      "The dashboard's session (POST /api/v1/auth/login). The user's role decides what it may do; writes also need `X-CSRF-Token` (from the sign-in answer or GET /api/v1/auth/me) and an Origin header naming this server.",
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'basicAuth', {
    type: 'http',
    scheme: 'basic',
    description: 'For pages opened in a browser (/outbox/{id}): any user name, an admin API key as the password.',
  });
  app.openAPIRegistry.register('Error', ErrorSchema);
}

type Json = Record<string, any>;

const h = (description: string, schema: Json = { type: 'string' }) => ({ description, schema });

const HEADERS: Record<string, Json> = {
  'X-Request-Id': h('Identifies this request in the server log; errors repeat it as `error.requestId`.'),
  'RateLimit-Limit': h('Requests this API key may make per window; on every answer given after the key was checked.', { type: 'integer' }),
  'RateLimit-Remaining': h('Requests left in the current window.', { type: 'integer' }),
  'RateLimit-Reset': h('Seconds until the window resets.', { type: 'integer' }),
  'RateLimit-Policy': h('The limit and its window in seconds, e.g. `600;w=60`.'),
  'Retry-After': h('Seconds to wait before trying again.', { type: 'integer' }),
  Allow: h('The methods this path takes, e.g. `GET, HEAD, POST`.'),
  'Content-Disposition': h('`attachment` (or `inline` for safe types) with the file name.'),
  'Idempotent-Replayed': h('`true` when this is the stored answer to an earlier request with the same Idempotency-Key.', { type: 'string', enum: ['true'] }),
};

const RATE_LIMIT_HEADERS = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy'];

const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes a retried write safe (Stripe semantics): the same key with the same method, path, query and body within 24 hours answers the stored response (with `Idempotent-Replayed: true`) instead of running again; the same key with another request, or while the first is still running, is 409 IDEMPOTENCY_CONFLICT. Answers that ran nothing (400, 401, 403, 413, 415, 422, 429, 5xx) are not kept. Keys are per API key.',
  schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
  example: '5f0c6d6e-8f8e-4d43-9a53-2b1f8f0b7d11',
};

const refTo = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const WRITES = new Set(['post', 'put', 'patch', 'delete']);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function errorResponse(status: ErrorStatus, api: boolean): Json {
  const headers: Json = { 'X-Request-Id': refTo('headers', 'X-Request-Id') };
  // 401 is answered before the key is known, so it carries no per-key counts.
  if (api && status !== 401) for (const name of RATE_LIMIT_HEADERS) headers[name] = refTo('headers', name);
  if (status === 429) headers['Retry-After'] = refTo('headers', 'Retry-After');
  if (status === 405) headers.Allow = refTo('headers', 'Allow');
  // What a write ran is kept for its key, refusals of this kind included.
  if (api && (status === 404 || status === 409)) headers['Idempotent-Replayed'] = refTo('headers', 'Idempotent-Replayed');
  const { text, publicText } = ERROR_RESPONSES[status];
  return { description: api ? text : (publicText ?? text), headers, content: { 'application/json': { schema: refTo('schemas', 'Error') } } };
}

/** Every `$ref` under `node`. */
function refsIn(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const x of node) refsIn(x, out);
  else if (isObj(node)) {
    if (typeof node.$ref === 'string') out.add(node.$ref);
    for (const v of Object.values(node)) refsIn(v, out);
  }
  return out;
}

/** Component schemas reachable from `roots`, through other component schemas. */
function reachableSchemas(doc: Json, roots: unknown[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...refsIn(roots)];
  while (queue.length) {
    const ref = queue.pop()!;
    if (!ref.startsWith('#/components/schemas/')) continue;
    const name = ref.slice('#/components/schemas/'.length);
    if (seen.has(name)) continue;
    seen.add(name);
    queue.push(...refsIn(doc.components?.schemas?.[name]));
  }
  return seen;
}

/** Calls `fn` on `schema` and every subschema written inside it (not through $ref). */
function eachSchema(schema: unknown, fn: (s: Json) => void): void {
  if (!isObj(schema) || typeof schema.$ref === 'string') return;
  fn(schema);
  for (const key of ['items', 'additionalProperties', 'not', 'contains']) eachSchema(schema[key], fn);
  for (const key of ['anyOf', 'oneOf', 'allOf', 'prefixItems']) if (Array.isArray(schema[key])) for (const s of schema[key]) eachSchema(s, fn);
  if (isObj(schema.properties)) for (const s of Object.values(schema.properties)) eachSchema(s, fn);
}

/**
 * In an answer, a field with a server default is always there (the default was applied when the
 * value was stored), while zod-to-openapi marks it optional because requests may leave it out.
 */
function requireDefaults(schema: unknown): void {
  eachSchema(schema, (s) => {
    if (!isObj(s.properties)) return;
    const required = new Set<string>(Array.isArray(s.required) ? s.required : []);
    for (const [key, prop] of Object.entries(s.properties)) if (isObj(prop) && prop.default !== undefined) required.add(key);
    if (required.size) s.required = [...required];
  });
}

/**
 * In a request, a field with a default may be left out. Generators read `default` in a component
 * schema as "always present" (openapi-typescript makes such fields required, in requests too), so
 * components that requests use carry their defaults in words instead.
 */
function describeDefaults(schema: unknown): void {
  eachSchema(schema, (s) => {
    if (s.default === undefined) return;
    const note = `Default: \`${JSON.stringify(s.default)}\`.`;
    s.description = s.description ? `${s.description} ${note}` : note;
    delete s.default;
  });
}

/** Completes the generated document in place (see the top of this file) and returns it. */
export function finishDocument<T extends object>(generated: T): T {
  const doc = generated as Json;
  doc.info = INFO;
  doc.tags = TAGS;
  doc.security = [{ bearerAuth: [] }];
  const requestRoots: unknown[] = [];
  const responseRoots: unknown[] = [];
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!isObj(op)) continue;
      // The sign-in endpoints (security: none) have no caller's limits or Idempotency-Key slots.
      const api = path.startsWith('/api/v1/') && !(Array.isArray(op.security) && op.security.length === 0);
      const write = WRITES.has(method);
      if (api && write) op.parameters = [...(op.parameters ?? []), refTo('parameters', 'Idempotency-Key')];
      for (const [status, res] of Object.entries<Json>(op.responses ?? {})) {
        if (typeof res.$ref === 'string') continue;
        const headers: Json = { 'X-Request-Id': refTo('headers', 'X-Request-Id') };
        if (api) for (const name of RATE_LIMIT_HEADERS) headers[name] = refTo('headers', name);
        if (api && write && /^2/.test(status)) headers['Idempotent-Replayed'] = refTo('headers', 'Idempotent-Replayed');
        res.headers = { ...headers, ...res.headers };
      }
      requestRoots.push(op.parameters, op.requestBody);
      responseRoots.push(op.responses);
    }
  }

  const schemas: Json = doc.components?.schemas ?? {};
  const inRequests = reachableSchemas(doc, requestRoots);
  for (const name of reachableSchemas(doc, responseRoots)) if (!inRequests.has(name)) requireDefaults(schemas[name]);
  for (const name of inRequests) describeDefaults(schemas[name]);
  for (const responses of responseRoots) {
    for (const res of Object.values<Json>(isObj(responses) ? responses : {})) {
      for (const media of Object.values<Json>(res.content ?? {})) if (isObj(media.schema) && !media.schema.$ref) requireDefaults(media.schema);
    }
  }

  // Shared parts, only those referred to (Redocly warns about unused components).
  const components: Json = (doc.components ??= {});
  const used = refsIn(doc.paths);
  const responses: Json = (components.responses ??= {});
  for (const status of Object.keys(ERROR_RESPONSES).map(Number) as ErrorStatus[]) {
    for (const api of [true, false]) {
      const name = errorResponseName(status, api);
      if (used.has(`#/components/responses/${name}`)) responses[name] = errorResponse(status, api);
    }
  }
  if (used.has('#/components/parameters/Idempotency-Key')) (components.parameters ??= {})['Idempotency-Key'] = IDEMPOTENCY_KEY;
  const usedHeaders = refsIn([doc.paths, responses]);
  for (const [name, header] of Object.entries(HEADERS)) {
    if (usedHeaders.has(`#/components/headers/${name}`)) (components.headers ??= {})[name] = header;
  }
  return generated;
}
