import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeApp, type TestApp } from './helpers';
import { PUBLIC_ROUTES } from '../api/routes/public-docs';

// The OpenAPI document as clients meet it: structurally complete, lint-clean under Redocly's
// recommended rules, and good enough for openapi-typescript to give every README example a
// typed call. Temporary files live in the OS temp directory, never in the work tree.

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..');
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

let t: TestApp;
let doc: any;
let dir: string;
beforeAll(async () => {
  t = await makeApp({ memory: true });
  // The origin a reader of the quick start uses; Redocly rightly warns about "localhost".
  const res = await t.app.request('http://127.0.0.1:8787/api/v1/openapi.json');
  expect(res.status).toBe(200);
  doc = await res.json();
  dir = mkdtempSync(join(tmpdir(), 'leadline-openapi-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const operations = () =>
  Object.entries<any>(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method], where: `${method.toUpperCase()} ${path}` })),
  );

describe('the OpenAPI document', () => {
  it('names every operation, tags it with a defined tag and says who may call it', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: 'http://127.0.0.1:8787' })]);
    expect(doc.info.license).toEqual({ name: 'MIT', identifier: 'MIT' });
    const tags = new Map<string, string>(doc.tags.map((x: any) => [x.name, x.description]));
    const ids = new Set<string>();
    const problems: string[] = [];
    for (const { path, op, where } of operations()) {
      if (!/^[a-z][A-Za-z0-9]*$/.test(op.operationId ?? '')) problems.push(`${where}: operationId ${op.operationId}`);
      if (ids.has(op.operationId)) problems.push(`${where}: duplicate operationId ${op.operationId}`);
      ids.add(op.operationId);
      if (!op.summary) problems.push(`${where}: no summary`);
      if (!op.tags?.length || !op.tags.every((x: string) => tags.get(x))) problems.push(`${where}: tag ${op.tags} not defined with a description`);
      // The sign-in endpoints (/api/v1/auth/…) take no credentials; the session's own take its cookie.
      const signIn = path.startsWith('/api/v1/auth/') && JSON.stringify(op.security) === '[]';
      const api = path.startsWith('/api/v1/') && !signIn;
      // Pages an admin opens in a browser (the outbox) take the API key as a Basic auth password.
      const page = JSON.stringify(op.security) === JSON.stringify([{ basicAuth: [] }]);
      const session = path.startsWith('/api/v1/auth/') && JSON.stringify(op.security) === JSON.stringify([{ sessionCookie: [] }]);
      if (api && !session && JSON.stringify(op.security) !== JSON.stringify([{ bearerAuth: [] }, { sessionCookie: [] }])) problems.push(`${where}: not bearerAuth or sessionCookie`);
      if (!api && !page && JSON.stringify(op.security) !== '[]') problems.push(`${where}: public, but security is not []`);
      if (!api && !page && op.tags[0] !== (signIn ? 'Auth' : 'Public (no API key)')) problems.push(`${where}: public, but tagged ${op.tags}`);
      if (page && op.tags[0] === 'Public (no API key)') problems.push(`${where}: needs a key, but tagged public`);
    }
    expect(problems).toEqual([]);
    expect(ids.size).toBeGreaterThan(90);
    // Every defined tag is used.
    expect([...tags.keys()].filter((name) => !operations().some(({ op }) => op.tags.includes(name)))).toEqual([]);
  });

  it('documents 429 and X-Request-Id everywhere, the rate-limit headers on the API, Idempotency-Key on its writes', () => {
    const deref = (r: any) => (r.$ref ? doc.components.responses[r.$ref.split('/').pop()] : r);
    const problems: string[] = [];
    for (const { path, method, op, where } of operations()) {
      const api = path.startsWith('/api/v1/') && JSON.stringify(op.security) !== '[]';
      if (!op.responses['429']) problems.push(`${where}: no 429`);
      else if (!deref(op.responses['429']).headers?.['Retry-After']) problems.push(`${where}: 429 without Retry-After`);
      if (!op.responses['405'] || !deref(op.responses['405']).headers?.Allow) problems.push(`${where}: no 405 with Allow`);
      for (const [status, raw] of Object.entries<any>(op.responses)) {
        const r = deref(raw);
        if (!r.headers?.['X-Request-Id']) problems.push(`${where} ${status}: no X-Request-Id`);
        if (api && status !== '401' && !r.headers?.['RateLimit-Remaining']) problems.push(`${where} ${status}: no RateLimit-*`);
        if (/^[45]/.test(status) && status !== '503' && !r.content?.['application/json']) problems.push(`${where} ${status}: not the Error shape`);
      }
      if (api) {
        for (const status of ['400', '401', '403', '422']) if (!op.responses[status]) problems.push(`${where}: no ${status}`);
        const idem = (op.parameters ?? []).some((p: any) => p.$ref === '#/components/parameters/Idempotency-Key');
        if (idem !== (method !== 'get')) problems.push(`${where}: Idempotency-Key ${idem ? 'on a read' : 'missing'}`);
      }
    }
    expect(problems).toEqual([]);
    const ok = doc.paths['/api/v1/contacts'].post.responses['201'];
    expect(Object.keys(ok.headers)).toEqual(expect.arrayContaining(['X-Request-Id', 'RateLimit-Limit', 'RateLimit-Policy', 'Idempotent-Replayed']));
    for (const [path, status] of [
      ['/api/v1/contacts/export.csv', '200'],
      ['/api/v1/forms/{id}/results.csv', '200'],
      ['/api/v1/contacts/{id}/export', '200'],
      ['/a/{slug}', '200'],
    ]) {
      expect(doc.paths[path].get.responses[status].headers['Content-Disposition'], path).toBeTruthy();
    }
    expect(doc.components.responses.RateLimited.headers).toHaveProperty('Retry-After');
    expect(doc.components.responses.PublicRateLimited.headers).not.toHaveProperty('RateLimit-Remaining');
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toContain('RATE_LIMITED');
  });

  it('types timestamps, the recursive segment filter and the actions', () => {
    const schemas = doc.components.schemas;
    const untyped: string[] = [];
    const walk = (s: any, where: string) => {
      if (!s || typeof s !== 'object') return;
      for (const [key, prop] of Object.entries<any>(s.properties ?? {})) {
        const types = [prop.type, ...(prop.anyOf ?? []).map((x: any) => x.type)].flat();
        if (key.endsWith('_at') && types.includes('string') && prop.format !== 'date-time') untyped.push(`${where}.${key}`);
      }
      for (const [k, v] of Object.entries(s)) if (k !== 'properties') walk(v, where);
      for (const [k, v] of Object.entries<any>(s.properties ?? {})) walk(v, `${where}.${k}`);
    };
    for (const [name, s] of Object.entries(schemas)) walk(s, name);
    expect(untyped).toEqual([]);
    expect(schemas.Contact.properties.email.format).toBe('email');

    const filter = schemas.SegmentFilter;
    expect(filter.anyOf.length).toBe(8);
    expect(JSON.stringify(filter)).toContain('"$ref":"#/components/schemas/SegmentFilter"');
    for (const name of ['SegmentInput', 'SegmentPatch', 'SegmentPreview', 'Segment']) {
      expect(JSON.stringify(schemas[name].properties.filter), name).toContain('#/components/schemas/SegmentFilter');
    }
    expect(schemas.PointTrigger.properties.actions.items.oneOf.map((a: any) => a.properties.type.enum[0])).toEqual([
      'change_stage',
      'add_tags',
      'remove_tags',
      'add_to_segment',
      'remove_from_segment',
      'webhook',
    ]);
    expect(schemas.Form.properties.actions.items.oneOf.length).toBeGreaterThan(5);
    // Answers carry the server's defaults; requests may leave them out.
    const bar = (s: any) => s.properties.style.oneOf.find((o: any) => o.properties.type.enum[0] === 'bar');
    expect(bar(schemas.FocusItem).required).toEqual(expect.arrayContaining(['position', 'sticky', 'colors']));
    expect(bar(schemas.FocusItemInput).required).toEqual(['type']);
    expect(schemas.PointRuleInput.required).not.toContain('repeatable');
  });

  it('documents every endpoint outside the API the app serves (public endpoints, admin pages), and only those', () => {
    const served = new Set(
      t.app.routes
        .filter((r) => r.method !== 'ALL' && !r.path.startsWith('/api/') && !r.path.startsWith('/internal/'))
        .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z]+)(\{[^}]*\})?/g, '{$1}')}`),
    );
    // Not API: the docs page, the sample site, the dashboard's static files.
    for (const path of ['/docs', '/demo', '/app']) for (const r of [...served]) if (r.endsWith(` ${path}`) || r.includes(` ${path}/`)) served.delete(r);
    const documented = new Set([
      ...PUBLIC_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`),
      ...operations()
        .filter(({ op }) => JSON.stringify(op.security) === JSON.stringify([{ basicAuth: [] }]))
        .map(({ path, method }) => `${method.toUpperCase()} ${path}`),
    ]);
    expect([...served].sort()).toEqual([...documented].sort());
  });
});

describe('checked by the tools clients use', () => {
  it('passes `redocly lint` with the recommended rules: 0 errors, 0 warnings, offline', async () => {
    writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc, null, 2));
    writeFileSync(join(dir, 'redocly.yaml'), 'extends:\n  - recommended\n');
    // Anything that reaches for the network fails loudly instead of waiting.
    writeFileSync(
      join(dir, 'offline.cjs'),
      `const deny = (what) => { process.stderr.write('NETWORK ATTEMPT: ' + what + '\\n'); throw new Error('offline: ' + what); };
require('net').Socket.prototype.connect = function () { deny('connect'); };
require('dns').lookup = () => deny('dns');
globalThis.fetch = async (u) => deny('fetch ' + u);\n`,
    );
    const cli = join(ROOT, 'node_modules/@redocly/cli/bin/cli.js');
    const { stdout, stderr } = await run(process.execPath, [cli, 'lint', 'openapi.json', '--config', 'redocly.yaml', '--format', 'json'], {
      cwd: dir,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NODE_OPTIONS: `--require ${join(dir, 'offline.cjs')}` },
      maxBuffer: 64 * 1024 * 1024,
    }).catch((e) => e as { stdout: string; stderr: string });
    expect(stderr).not.toContain('NETWORK ATTEMPT');
    const report = JSON.parse(stdout);
    console.log(`redocly lint (recommended): ${report.totals.errors} errors, ${report.totals.warnings} warnings`);
    const problems = report.problems.map((p: any) => `${p.severity} ${p.ruleId} ${p.location?.[0]?.pointer}: ${p.message}`);
    expect(problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('generates a client with openapi-typescript that types each README example (tsc: 0 errors)', async () => {
    const { generate } = await import('@leadline/openapi-types');
    writeFileSync(join(dir, 'schema.d.ts'), await generate(doc));
    writeFileSync(join(dir, 'readme-calls.ts'), README_CALLS);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, noEmit: true, skipLibCheck: true, lib: ['ES2023', 'DOM'], types: [] },
        files: ['readme-calls.ts'],
      }),
    );
    // openapi-fetch resolves from the project's node_modules.
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const tsc = join(ROOT, 'node_modules/.bin/tsc');
    const out = await run(tsc, ['-p', join(dir, 'tsconfig.json')], { cwd: dir }).then(
      (r) => ({ code: 0, text: r.stdout + r.stderr }),
      (e) => ({ code: e.code as number, text: String(e.stdout) + String(e.stderr) }),
    );
    const errors = out.text.split('\n').filter((l) => /error TS\d+/.test(l));
    console.log(`tsc on the generated client and ${README_CALL_COUNT} typed README calls: ${errors.length} errors`);
    expect(errors).toEqual([]);
    expect(out.code).toBe(0);
  });
});

// One typed call per example in the README's "API overview", "Scoring and segments", "Email" and "Campaigns", with
// what a caller reads back; type-level checks that the filter is the real union, not `never`.
const README_CALL_COUNT = 18;
const README_CALLS = `
import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

type Is<T extends true> = T;
type NotNever<T> = [T] extends [never] ? false : true;
type Filter = components['schemas']['SegmentFilter'];
export type FilterIsTyped = Is<NotNever<Filter>>;

const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:8787', headers: { Authorization: 'Bearer ll_example' } });

export async function readme() {
  // Custom fields first: the contact below uses "plan".
  const field = await client.POST('/api/v1/fields', { body: { key: 'plan', label: 'Plan', type: 'select', options: ['free', 'pro'] } });
  const fieldKey: string | undefined = field.data?.key;

  const contact = await client.POST('/api/v1/contacts', {
    body: { email: 'ada@example.com', first_name: 'Ada', tags: ['newsletter'], fields: { plan: 'pro' } },
    headers: { 'Idempotency-Key': '5d7c0c9e-ada-1' },
  });
  const email: string | null | undefined = contact.data?.email;
  const created: string | undefined = contact.data?.created_at;
  if (contact.error) {
    const code: components['schemas']['Error']['error']['code'] = contact.error.error.code;
    void code;
  }

  const list = await client.GET('/api/v1/contacts', { params: { query: { q: 'ada', tag: 'newsletter', sort: 'updated_at', order: 'desc', limit: 50 } } });
  const next: string | null | undefined = list.data?.next_cursor;
  const firstEmail = list.data?.data[0]?.email;

  const batch = await client.POST('/api/v1/contacts/batch', { body: { contacts: [{ email: 'a@example.com' }, { email: 'b@example.com' }] } });
  const rejected: number | undefined = batch.data?.rejected;

  const imported = await client.POST('/api/v1/contacts/import', {
    params: { query: { tags: 'fair-2026', mapping: JSON.stringify({ Vorname: 'first_name', Tarif: 'plan' }) } },
    body: 'E-Mail,Vorname,Tarif\\ngrace@example.com,Grace,pro\\nalan@example.com,Alan,free\\n',
    bodySerializer: (csv) => csv,
    headers: { 'Content-Type': 'text/csv' },
  });
  const importedRows: number | undefined = imported.data?.rows;

  const exported = await client.GET('/api/v1/contacts/export.csv', { params: { query: { tag: 'newsletter' } }, parseAs: 'text' });
  const csv: string | undefined = exported.data;

  const rule = await client.POST('/api/v1/point-rules', {
    body: { name: 'Visited pricing', event_type: 'page_view', filter: { url: { op: 'contains', value: '/pricing' } }, delta: 10, cap: { count: 3, period: 'day' } },
  });
  const period: 'day' | 'week' | 'month' | undefined = rule.data?.cap?.period;

  const trigger = await client.POST('/api/v1/point-triggers', {
    body: { name: 'MQL', threshold: 100, actions: [{ type: 'change_stage', stage_id: 3 }, { type: 'webhook', url: 'https://crm.example.com/hooks' }] },
  });
  const hook = trigger.data?.actions.find((a) => a.type === 'webhook');
  const secret: string | undefined = hook?.type === 'webhook' ? hook.secret : undefined;

  const filter: Filter = {
    all: [
      { field: 'fields.plan', op: 'equals', value: 'pro' },
      { tag: 'newsletter' },
      { behaviour: 'visited', url: { op: 'contains', value: '/pricing' }, min_count: 2, within_days: 30 },
    ],
  };
  const segment = await client.POST('/api/v1/segments', { body: { name: 'Hot pros', filter } });
  const members: number | undefined = segment.data?.members;
  const stored: Filter | null | undefined = segment.data?.filter;

  const welcome = await client.POST('/api/v1/emails', {
    body: { name: 'Welcome', subject: 'Welcome, {{ contact.first_name | default: "friend" }}', html: '<h1>Hi {{ contact.first_name | default: "there" }}</h1>' },
  });
  const kind: 'template' | 'broadcast' | 'transactional' | undefined = welcome.data?.kind;
  const preview = await client.POST('/api/v1/emails/{id}/preview', { params: { path: { id: 1 } }, body: { contact_id: 1 } });
  const previewHtml: string | undefined = preview.data?.html;
  const send = await client.POST('/api/v1/emails/{id}/send', { params: { path: { id: 1 } }, body: { contact_id: 1 }, headers: { 'Idempotency-Key': 'welcome-ada-1' } });
  const sendStatus: 'pending' | 'sending' | 'sent' | 'skipped' | 'failed' | undefined = send.data?.status;
  const skipReason: string | null | undefined = send.data?.skip_reason;
  const outbox = await client.GET('/api/v1/outbox');
  const sentSubject: string | undefined = outbox.data?.data[0]?.subject;

  const campaign = await client.POST('/api/v1/campaigns', {
    body: {
      name: 'Onboarding',
      definition: {
        sources: [{ type: 'segment', segment_id: 2 }],
        start: 'welcome',
        steps: [
          { id: 'welcome', type: 'action', action: { type: 'send_email', email_id: 3 }, next: 'pause' },
          { id: 'pause', type: 'wait', wait: { for: { days: 1 } }, next: 'clicked' },
          { id: 'clicked', type: 'decision', on: { event: 'email_clicked', email_id: 3 }, timeout: { hours: 4 }, yes: 'engaged', no: 'nudge' },
          { id: 'engaged', type: 'action', action: { type: 'add_tags', tags: ['engaged'] }, next: null },
          { id: 'nudge', type: 'action', action: { type: 'send_email', email_id: 4 }, next: null },
        ],
        goals: [{ id: 'upgraded', name: 'Upgraded', on: { event: 'custom', name: 'upgrade' } }],
        reentry: 'never',
      },
    },
  });
  const campaignSecret: string | undefined = campaign.data?.secret;
  const published = await client.POST('/api/v1/campaigns/{id}/publish', { params: { path: { id: 1 } } });
  const enrolledAtPublish: number | undefined = published.data?.enrolled;
  const enrolled = await client.POST('/api/v1/campaigns/{id}/contacts', { params: { path: { id: 1 } }, body: { contact_ids: [2] } });
  const notEnrolled: number[] | undefined = enrolled.data?.not_enrolled;
  const report = await client.GET('/api/v1/campaigns/{id}/report', { params: { path: { id: 1 } } });
  const conversionRate: number | undefined = report.data?.passes.conversion_rate;
  const passes = await client.GET('/api/v1/contacts/{id}/campaigns', { params: { path: { id: 1 } } });
  const currentStep: string | null | undefined = passes.data?.data[0]?.current_step;

  return {
    fieldKey, email, created, next, firstEmail, rejected, importedRows, csv, period, secret, members, stored, kind, previewHtml, sendStatus, skipReason, sentSubject,
    campaignSecret, enrolledAtPublish, notEnrolled, conversionRate, currentStep,
  };
}

// Nesting type-checks, and what is not a filter does not.
export const nested: Filter = { any: [{ not: { dnc: 'email' } }, { all: [{ segment: 3 }, { field: 'points', op: 'gte', value: 50 }] }] };
// @ts-expect-error not a condition the language has
export const unknownCondition: Filter = { colour: 'red' };
// @ts-expect-error an operator the language does not have
export const unknownOp: Filter = { field: 'points', op: 'bigger', value: 1 };
type Definition = components['schemas']['CampaignDefinition'];
// @ts-expect-error a step type campaigns do not have
export const unknownStep: Definition = { start: 'a', steps: [{ id: 'a', type: 'teleport', next: null }] };
`;
