// Runtime test of the Workers entry: the bundle `wrangler deploy` would upload runs inside workerd
// (through Miniflare) and talks to a libSQL database over Hrana/HTTP, as it would to Turso. It catches
// what the Node-side tests cannot: Node-only imports or globals reaching the Worker bundle, libraries
// that misbehave in workerd (csv-parse, @libsql/client/web), and the entry's own start-up path.
// Needs no network: wrangler's dry run only bundles, and the database is a local fixture.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Miniflare } from 'miniflare';
import { startMiniflare } from './workerd';
import { unstable_readConfig } from 'wrangler';
import Database from 'libsql';
import { startHranaServer } from './fixtures/hrana-server';
import { startFakeResend } from './fixtures/fake-resend';
import { expectError } from './helpers';
import { migrations } from '../api/db/migrations/index';
import { sha256Hex } from '../api/core/util/crypto';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const TOKEN = 'hrana-test-token-0123456789';
const ADMIN_KEY = 'll_worker_runtime_admin_key_0123456789';
const ORIGIN = 'http://leadline.test';

type Json = { status: number; body: any };

function run(cmd: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<string> {
  return new Promise((done, fail) => {
    execFile(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${args.join(' ')} failed: ${err.message}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`));
      else done(stdout + stderr);
    });
  });
}

describe('Worker bundle in workerd against libSQL over HTTP', () => {
  let dir: string;
  let scriptPath: string;
  let config: ReturnType<typeof unstable_readConfig>;
  let db: Awaited<ReturnType<typeof startHranaServer>>;
  let dbPath: string;
  let mf: Miniflare | undefined;
  // workerd's stdout/stderr, shown when a request fails so the Worker's own error is visible.
  const runtimeLog: string[] = [];

  // Everything the Worker gets in production comes from wrangler.toml ([vars], dates, flags) plus
  // the secrets, which tests supply here.
  const workerOptions = (secrets: Record<string, string>) => ({
    modules: true as const,
    scriptPath,
    // Module names are paths relative to this root; the default (cwd) would need "../" to reach tmp.
    modulesRoot: dirname(scriptPath),
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    bindings: { ...config.vars, LOG_LEVEL: 'silent', ...secrets },
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.on('data', (b) => runtimeLog.push(String(b)));
      stderr.on('data', (b) => runtimeLog.push(String(b)));
    },
  });

  const startWorker = (secrets: Record<string, string>) => startMiniflare(workerOptions(secrets), join(dir, 'miniflare'), () => runtimeLog.join(''));

  async function call(target: Miniflare, method: string, path: string, body?: unknown, opts: { key?: string | null; type?: string } = {}): Promise<Json> {
    const headers: Record<string, string> = {};
    const key = opts.key === undefined ? ADMIN_KEY : opts.key;
    if (key) headers.authorization = `Bearer ${key}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      headers['content-type'] = opts.type ?? 'application/json';
    }
    const res = await target.dispatchFetch(`${ORIGIN}${path}`, { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: the assertion below shows the text
    }
    return { status: res.status, body: parsed };
  }
  // Assertion message: the answer plus what workerd printed, so a failing Worker explains itself.
  const why = (r: Json) => `${r.status} ${JSON.stringify(r.body)}\n--- workerd output ---\n${runtimeLog.join('')}`;
  const api = (method: string, path: string, body?: unknown, opts?: { key?: string | null; type?: string }) => call(mf!, method, path, body, opts);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'leadline-worker-'));
    mkdirSync(join(dir, 'miniflare'));
    config = unstable_readConfig({ config: join(ROOT, 'wrangler.toml') });
    const outdir = join(dir, 'bundle');
    // Exactly what `npm run build:worker` / `wrangler deploy` bundles, written to a temp dir. The
    // banner (and with it the npm update check) is off so the build never waits on the network.
    await run(
      process.execPath,
      [join(ROOT, 'node_modules/.bin/wrangler'), 'deploy', '--dry-run', '--outdir', outdir, '--config', join(ROOT, 'wrangler.toml')],
      {
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        WRANGLER_HIDE_BANNER: 'true',
        WRANGLER_LOG_PATH: join(dir, 'wrangler-logs'),
      },
      120_000,
    );
    scriptPath = join(outdir, `${basename(config.main!, extname(config.main!))}.js`);
    if (!existsSync(scriptPath)) throw new Error(`wrangler wrote no ${scriptPath}`);

    dbPath = join(dir, 'leadline.db');
    db = await startHranaServer({ path: dbPath, authToken: TOKEN });
    mf = await startWorker({ DATABASE_URL: db.url, DATABASE_AUTH_TOKEN: TOKEN, ADMIN_API_KEY: ADMIN_KEY });
  }, 180_000);

  afterAll(async () => {
    try {
      await mf?.dispose();
    } finally {
      try {
        await db?.close();
      } finally {
        if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      }
    }
  }, 60_000);

  it('answers /health with the database reachable', async () => {
    const r = await api('GET', '/health', undefined, { key: null });
    expect(r.status, why(r)).toBe(200);
    expect(r.body).toMatchObject({ ok: true, db: 'ok' });
  });

  it('ran the migrations and registered ADMIN_API_KEY (hashed) in the database file', async () => {
    const health = await api('GET', '/health', undefined, { key: null });
    expect(health.status, why(health)).toBe(200);
    const file = new Database(dbPath, { readonly: true });
    try {
      const tables = (file.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
      expect(tables).toEqual(expect.arrayContaining(['contacts', 'api_keys', '_migrations']));
      const tags = (file.prepare('SELECT tag FROM _migrations ORDER BY tag').all() as { tag: string }[]).map((r) => r.tag);
      expect(tags).toEqual(migrations.map((m) => m.tag).sort());
      const keys = file.prepare('SELECT hash, scopes, revoked_at FROM api_keys').all() as { hash: string; scopes: string; revoked_at: number | null }[];
      expect(keys).toEqual([{ hash: await sha256Hex(ADMIN_KEY), scopes: 'admin', revoked_at: null }]);
    } finally {
      file.close();
    }
  });

  it('creates a contact, reads it back, and matches the email case-insensitively', async () => {
    const created = await api('POST', '/api/v1/contacts', { email: 'Ada.Worker@Example.com', first_name: 'Ada', tags: ['edge'] });
    expect(created.status, why(created)).toBe(201);
    expect(created.body).toMatchObject({ email: 'Ada.Worker@Example.com', first_name: 'Ada', tags: ['edge'] });
    const id = created.body.id;
    expect(typeof id).toBe('number');

    const read = await api('GET', `/api/v1/contacts/${id}`);
    expect(read.status, why(read)).toBe(200);
    expect(read.body).toMatchObject({ id, email: 'Ada.Worker@Example.com', first_name: 'Ada', companies: [] });

    const again = await api('POST', '/api/v1/contacts', { email: '  ADA.WORKER@example.COM ', last_name: 'Lovelace' });
    expect(again.status, why(again)).toBe(200);
    expect(again.body).toMatchObject({ id, first_name: 'Ada', last_name: 'Lovelace' });

    const file = new Database(dbPath, { readonly: true });
    try {
      expect(file.prepare("SELECT count(*) AS n FROM contacts WHERE lower(email) = 'ada.worker@example.com'").all()).toEqual([{ n: 1 }]);
    } finally {
      file.close();
    }
  });

  it('answers 401 with the JSON error shape without an API key', async () => {
    expectError(await api('GET', '/api/v1/contacts', undefined, { key: null }), 401, 'UNAUTHORIZED');
    expectError(await api('GET', '/api/v1/contacts', undefined, { key: 'll_not_a_key_at_all' }), 401, 'UNAUTHORIZED');
  });

  it('serves the OpenAPI document without a key', async () => {
    const r = await api('GET', '/api/v1/openapi.json', undefined, { key: null });
    expect(r.status, why(r)).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    expect(Object.keys(r.body.paths)).toEqual(expect.arrayContaining(['/api/v1/contacts', '/api/v1/contacts/import']));
  });

  it('renders a landing page with sanitised Markdown and HTML and a form (marked, sanitize-html in workerd)', async () => {
    const site = await api('POST', '/api/v1/sites', { name: 'Pages', allowed_origins: [ORIGIN] });
    const form = await api('POST', '/api/v1/forms', { name: 'Join', fields: [{ key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true }] });
    const sections = [{ type: 'markdown', markdown: '## Edge <img src=x onerror=alert(1)>' }, { type: 'html', html: '<p onclick="x()">Hi <script>x()</script><a href="javascript:x()">l</a></p>' }, { type: 'form', form_id: form.body.id }];
    const page = await api('POST', '/api/v1/pages', { site_id: site.body.id, slug: 'edge', title: 'Edge', sections });
    expect(page.status, why(page)).toBe(201);
    expect((await api('POST', `/api/v1/pages/${page.body.id}/publish`)).status).toBe(200);
    const r = await api('GET', '/p/edge', undefined, { key: null });
    expect(r.status, why(r)).toBe(200);
    const html = String(r.body);
    expect(html).toContain('<h2>Edge <img src="x" loading="lazy" /></h2>');
    expect(html).toContain('<p>Hi <a>l</a></p>');
    expect(html).toContain(`action="${ORIGIN}/f/${form.body.id}"`);
    expect(html).not.toMatch(/onerror|onclick|javascript:/);
  });

  it('imports contacts from text/csv (csv-parse runs in workerd)', async () => {
    const existing = await api('POST', '/api/v1/contacts', { email: 'lin.csv@example.com', first_name: 'Lin' });
    expect(existing.status, why(existing)).toBe(201);
    // BOM, CRLF, quoted commas, a multi-value tag cell, an existing email in other case, a bad row.
    const csv = '\uFEFFEmail,First Name,Tags\r\ngrace.csv@example.com,Grace,"a|b"\r\n"LIN.CSV@Example.com","Lin, Jr.",\r\nnot-an-email,Bad,\r\n';
    const r = await api('POST', '/api/v1/contacts/import?tags=imported', csv, { type: 'text/csv' });
    expect(r.status, why(r)).toBe(200);
    expect(r.body).toMatchObject({
      rows: 3,
      created: 1,
      updated: 1,
      rejected: 1,
      mapping: { Email: 'email', 'First Name': 'first_name', Tags: 'tags' },
      ignored_columns: [],
    });
    expect(r.body.errors).toEqual([{ line: 4, errors: [expect.objectContaining({ field: 'email' })] }]);

    const list = await api('GET', '/api/v1/contacts?tag=imported');
    expect(list.status, why(list)).toBe(200);
    const byEmail = Object.fromEntries(list.body.data.map((c: any) => [c.email.toLowerCase(), c]));
    expect(Object.keys(byEmail).sort()).toEqual(['grace.csv@example.com', 'lin.csv@example.com']);
    expect(byEmail['grace.csv@example.com']).toMatchObject({ first_name: 'Grace', tags: ['a', 'b', 'imported'] });
    expect(byEmail['lin.csv@example.com']).toMatchObject({ id: existing.body.id, first_name: 'Lin, Jr.' });
  });

  it('renders an email (Liquid, juice, html-to-text in workerd) and sends it into the outbox from the cron job', async () => {
    const c = await api('POST', '/api/v1/contacts', { email: 'mail.worker@example.com', first_name: '<b>Wo</b>' });
    expect(c.status, why(c)).toBe(201);
    const e = await api('POST', '/api/v1/emails', {
      name: 'Edge',
      subject: 'Hi {{ contact.first_name }}',
      html: '<style>p { color: red }</style><p>Hello {{ contact.first_name | default: "you" }}</p><a href="{{ unsubscribe_url }}">Leave</a>',
    });
    expect(e.status, why(e)).toBe(201);
    const bad = await api('POST', '/api/v1/emails', { name: 'Bad', subject: 'x', html: 'a\n{{ x | nope }}' });
    expectError(bad, 422, 'VALIDATION_FAILED');
    expect(bad.body.error.message).toMatch(/^html: line 2/);
    const p = await api('POST', `/api/v1/emails/${e.body.id}/preview`, { contact_id: c.body.id });
    expect(p.status, why(p)).toBe(200);
    expect(p.body.html).toContain('<p style="color: red;">Hello &lt;b&gt;Wo&lt;/b&gt;</p>');
    expect(p.body.text).toMatch(/^Hello <b>Wo<\/b>\n\nLeave \[http/);
    const s = await api('POST', `/api/v1/emails/${e.body.id}/send`, { contact_id: c.body.id });
    expect(s.status, why(s)).toBe(202);
    // What the Cron Trigger runs.
    const worker = (await mf!.getWorker()) as unknown as { scheduled(o: { cron: string }): Promise<unknown> };
    await worker.scheduled({ cron: '* * * * *' });
    await vi.waitFor(async () => {
      const box = await api('GET', '/api/v1/outbox');
      expect(box.body.data, why(box)).toEqual([expect.objectContaining({ to: 'mail.worker@example.com', subject: 'Hi <b>Wo</b>' })]);
    }, { timeout: 10_000 });
    // Its unsubscribe link works in workerd: the preference centre, and a one-click POST as Gmail sends it (multipart).
    const [m] = (await api('GET', '/api/v1/outbox')).body.data;
    const message = (await api('GET', `/api/v1/outbox/${m.id}`)).body;
    const token = /\/u\/([^>?]+)>/.exec(message.headers['List-Unsubscribe'])![1]!;
    const pageRes = await mf!.dispatchFetch(`${ORIGIN}/u/${token}`, { headers: { accept: 'text/html' } });
    expect(pageRes.status).toBe(200);
    expect(pageRes.headers.get('content-security-policy')).toMatch(/style-src 'sha256-/);
    expect(await pageRes.text()).toContain('Save my choices');
    const oneClick = await mf!.dispatchFetch(`${ORIGIN}/u/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
      body: '--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b--\r\n',
    });
    expect(oneClick.status).toBe(200);
    expect(await oneClick.text()).toBe('');
    const subs = await api('GET', `/api/v1/contacts/${c.body.id}/subscriptions`);
    expect(subs.body.categories[0], why(subs)).toMatchObject({ key: 'marketing', subscribed: false });
  });

  it('starts a scheduled broadcast from the Cron Trigger: rows from the segment, sent into the outbox, then "sent"', async () => {
    const ids: number[] = [];
    for (const name of ['Ann', 'Bo']) {
      const c = await api('POST', '/api/v1/contacts', { email: `${name.toLowerCase()}.broadcast@example.com`, first_name: name });
      expect(c.status, why(c)).toBe(201);
      ids.push(c.body.id);
    }
    const seg = await api('POST', '/api/v1/segments', { name: 'Edge readers', kind: 'static' });
    expect(seg.status, why(seg)).toBe(201);
    for (const id of ids) expect((await api('PUT', `/api/v1/segments/${seg.body.id}/members/${id}`)).status).toBeLessThan(300);
    const e = await api('POST', '/api/v1/emails', { name: 'Edge news', kind: 'broadcast', subject: 'Edge news for {{ contact.first_name }}', html: '<p>News</p>' });
    expect(e.status, why(e)).toBe(201);
    const b = await api('POST', `/api/v1/emails/${e.body.id}/broadcast`, { segment_ids: [seg.body.id], send_at: new Date(Date.now() + 1500).toISOString() });
    expect(b.status, why(b)).toBe(202);
    expect(b.body.status).toBe('scheduled');
    await new Promise((r) => setTimeout(r, 1600));
    const worker = (await mf!.getWorker()) as unknown as { scheduled(o: { cron: string }): Promise<unknown> };
    await vi.waitFor(async () => {
      await worker.scheduled({ cron: '* * * * *' });
      const got = await api('GET', `/api/v1/broadcasts/${b.body.id}`);
      expect(got.body.status, why(got)).toBe('sent');
    }, { timeout: 15_000, interval: 500 });
    const box = await api('GET', '/api/v1/outbox?limit=100');
    const subjects = box.body.data.map((m: any) => m.subject).filter((x: string) => x.startsWith('Edge news'));
    expect(subjects.sort()).toEqual(['Edge news for Ann', 'Edge news for Bo']);
  });

  it('runs a campaign from the Cron Trigger: publish enrolls the segment, steps run once (email into the outbox, tag), a custom event decides', async () => {
    const c = await api('POST', '/api/v1/contacts', { email: 'edge.campaign@example.com', first_name: 'Edna' });
    expect(c.status, why(c)).toBe(201);
    const seg = await api('POST', '/api/v1/segments', { name: 'Edge campaign', kind: 'static' });
    expect((await api('PUT', `/api/v1/segments/${seg.body.id}/members/${c.body.id}`)).status).toBeLessThan(300);
    const e = await api('POST', '/api/v1/emails', { name: 'Edge welcome', kind: 'template', subject: 'Welcome to the edge, {{ contact.first_name }}', html: '<p>Hi</p>' });
    expect(e.status, why(e)).toBe(201);
    const camp = await api('POST', '/api/v1/campaigns', {
      name: 'Edge onboarding',
      definition: {
        sources: [{ type: 'segment', segment_id: seg.body.id }],
        start: 'welcome',
        steps: [
          { id: 'welcome', type: 'action', action: { type: 'send_email', email_id: e.body.id }, next: 'trial' },
          { id: 'trial', type: 'decision', on: { event: 'custom', name: 'edge_trial' }, timeout: { days: 3 }, yes: 'tag', no: null },
          { id: 'tag', type: 'action', action: { type: 'add_tags', tags: ['edge-trial'] }, next: null },
        ],
      },
    });
    expect(camp.status, why(camp)).toBe(201);
    const pub = await api('POST', `/api/v1/campaigns/${camp.body.id}/publish`);
    expect(pub.status, why(pub)).toBe(200);
    expect(pub.body.enrolled).toBe(1);
    const worker = (await mf!.getWorker()) as unknown as { scheduled(o: { cron: string }): Promise<unknown> };
    await vi.waitFor(async () => {
      await worker.scheduled({ cron: '* * * * *' });
      const box = await api('GET', '/api/v1/outbox?limit=100');
      expect(box.body.data.map((m: any) => m.subject)).toContain('Welcome to the edge, Edna');
    }, { timeout: 15_000, interval: 500 });
    // The contact does it (a custom event, as the tracker stores one): the spine decides in the next cron.
    const file = new Database(dbPath);
    try {
      file.prepare("INSERT INTO events (contact_id, type, name, created_at) VALUES (?, 'custom', 'edge_trial', ?)").run(c.body.id, Date.now());
    } finally {
      file.close();
    }
    await vi.waitFor(async () => {
      await worker.scheduled({ cron: '* * * * *' });
      const path = await api('GET', `/api/v1/contacts/${c.body.id}/campaigns`);
      expect(path.body.data[0].status, why(path)).toBe('completed');
      expect(path.body.data[0].path.map((s: any) => s.step_id)).toEqual(['welcome', 'trial', 'tag']);
    }, { timeout: 15_000, interval: 500 });
    const got = await api('GET', `/api/v1/contacts/${c.body.id}`);
    expect(got.body.tags).toContain('edge-trial');
  });

  it('keeps reports current from the Cron Trigger and answers them as JSON and CSV: traffic from rollups, revenue and attribution of a won deal', async () => {
    const site = await api('POST', '/api/v1/sites', { name: 'Edge reports', allowed_origins: ['https://edge.example'] });
    expect(site.status, why(site)).toBe(201);
    const c = await api('POST', '/api/v1/contacts', { email: 'edge.reports@example.com' });
    expect(c.status, why(c)).toBe(201);
    // Two visits of the contact's browser as the tracker stores them: one from Google (two
    // pages), one direct an hour later (a bounce).
    const t0 = Date.now() - 3 * 3_600_000;
    const file = new Database(dbPath);
    try {
      const v = file
        .prepare("INSERT INTO visitors (site_id, uid, contact_id, first_seen_at, last_seen_at, page_views) VALUES (?, 'edge-reports-uid-0001', ?, ?, ?, 3) RETURNING id")
        .get(site.body.id, c.body.id, t0, t0) as { id: number };
      const view = file.prepare("INSERT INTO events (site_id, visitor_id, contact_id, type, url, referrer, created_at) VALUES (?, ?, ?, 'page_view', ?, ?, ?)");
      view.run(site.body.id, v.id, c.body.id, 'https://edge.example/', 'https://www.google.com/', t0);
      view.run(site.body.id, v.id, c.body.id, 'https://edge.example/pricing', 'https://edge.example/', t0 + 60_000);
      view.run(site.body.id, v.id, c.body.id, 'https://edge.example/docs', null, t0 + 3_600_000);
    } finally {
      file.close();
    }
    const deal = await api('POST', '/api/v1/deals', { contact_id: c.body.id, name: 'Edge plan', amount: 900, currency: 'USD', stage: 'won' });
    expect(deal.status, why(deal)).toBe(201);
    const worker = (await mf!.getWorker()) as unknown as { scheduled(o: { cron: string }): Promise<unknown> };
    const q = `site=${site.body.id}&from=${new Date(t0 - 3_600_000).toISOString()}&to=${new Date(Date.now() + 3_600_000).toISOString()}`;
    await vi.waitFor(async () => {
      await worker.scheduled({ cron: '* * * * *' });
      const traffic = await api('GET', `/api/v1/reports/traffic?${q}&interval=day`);
      expect(traffic.status, why(traffic)).toBe(200);
      expect(traffic.body.totals).toMatchObject({ visitors: 1, sessions: 2, pageviews: 3, bounce_rate: 0.5 });
    }, { timeout: 15_000, interval: 500 });
    const csv = await mf!.dispatchFetch(`${ORIGIN}/api/v1/reports/traffic-breakdown?${q}&by=channel`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, accept: 'text/csv' } });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toMatch(/^key,/);
    expect(lines.slice(1, -1).map((l) => l.split(',')[0]).sort()).toEqual(['direct', 'organic_search']);
    expect(lines.at(-1)).toMatch(/^total,/);
    const revenue = await api('GET', `/api/v1/reports/revenue?from=${new Date(t0).toISOString().slice(0, 10)}&currency=USD`);
    expect(revenue.status, why(revenue)).toBe(200);
    expect(revenue.body.totals).toMatchObject({ currency: 'USD', deals_won: 1, revenue: 900 });
    const attribution = await api('GET', `/api/v1/reports/attribution?currency=USD&model=first_touch&dimension=channel&from=${new Date(t0).toISOString().slice(0, 10)}`);
    expect(attribution.status, why(attribution)).toBe(200);
    expect(attribution.body.rows).toEqual([expect.objectContaining({ key: 'organic_search', revenue: 900 })]);
  });

  it('sends through Resend (the SDK in workerd) to a fake on 127.0.0.1, with the call\'s Idempotency-Key', async () => {
    const fake = await startFakeResend({ apiKey: 're_worker_test_key' });
    const withResend = await startWorker({
      DATABASE_URL: db.url,
      DATABASE_AUTH_TOKEN: TOKEN,
      ADMIN_API_KEY: ADMIN_KEY,
      RESEND_API_KEY: 're_worker_test_key',
      RESEND_BASE_URL: fake.url,
      PUBLIC_URL: 'https://leadline.example.com',
    });
    try {
      const e = await call(withResend, 'POST', '/api/v1/emails', { name: 'Receipt', kind: 'transactional', subject: 'Order {{ order }}', html: '<p>{{ order }} <a href="https://shop.example.com/o/{{ order }}">Track</a></p>' });
      expect(e.status, why(e)).toBe(201);
      const s = await call(withResend, 'POST', `/api/v1/emails/${e.body.id}/send`, { to: 'buyer@example.com', variables: { order: 'W-1' } });
      expect(s.status, why(s)).toBe(202);
      const run = await call(withResend, 'POST', '/api/v1/jobs/emails');
      expect(run.status, why(run)).toBe(200);
      await vi.waitFor(async () => {
        const r = await call(withResend, 'GET', `/api/v1/email-sends/${s.body.id}`);
        expect(r.body.status, why(r)).toBe('sent');
      }, { timeout: 10_000 });
      expect(fake.delivered).toEqual([expect.objectContaining({ to: 'buyer@example.com', subject: 'Order W-1', html: expect.stringMatching(/^<p>W-1 <a href="[^"]+\/c\/[\w.-]+">Track<\/a><\/p><img src="[^"]+\/o\/[\w.-]+"/) })]);
      expect([...fake.requestsByKey.keys()]).toEqual([expect.stringMatching(/^leadline\//)]);
      // The tracked links answer in workerd too: the pixel, and the signed redirect.
      const html = String(fake.delivered[0]!.html);
      const pixel = await withResend.dispatchFetch(`${ORIGIN}/o/${/\/o\/([\w.-]+)/.exec(html)![1]}`, { headers: { 'user-agent': 'Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko)' } });
      expect([pixel.status, pixel.headers.get('content-type'), (await pixel.arrayBuffer()).byteLength]).toEqual([200, 'image/gif', 43]);
      const click = await withResend.dispatchFetch(`${ORIGIN}/c/${/\/c\/([\w.-]+)/.exec(html)![1]}`, { redirect: 'manual' });
      expect([click.status, click.headers.get('location')]).toEqual([302, 'https://shop.example.com/o/W-1']);
      await click.arrayBuffer();
      const tampered = await withResend.dispatchFetch(`${ORIGIN}/c/x${/\/c\/([\w.-]+)/.exec(html)![1]}`, { redirect: 'manual' });
      expect([tampered.status, tampered.headers.get('location')]).toEqual([400, null]);
      await tampered.arrayBuffer();
    } finally {
      await withResend.dispose();
      await fake.close();
    }
  });

  it('verifies a signed Resend webhook in workerd and lands the bounce: do-not-contact, report, next send skipped', async () => {
    const fake = await startFakeResend({ apiKey: 're_worker_test_key' });
    const secret = `whsec_${Buffer.from('worker-webhook-secret-0123456789').toString('base64')}`;
    const w = await startWorker({
      DATABASE_URL: db.url,
      DATABASE_AUTH_TOKEN: TOKEN,
      ADMIN_API_KEY: ADMIN_KEY,
      RESEND_API_KEY: 're_worker_test_key',
      RESEND_BASE_URL: fake.url,
      PUBLIC_URL: 'https://leadline.example.com',
      RESEND_WEBHOOK_SECRET: secret,
    });
    // Signed as Svix signs, with node:crypto, independent of the Worker's code.
    const hook = async (payload: unknown, opts: { secret?: string } = {}) => {
      const body = JSON.stringify(payload);
      const id = `msg_${Math.random().toString(36).slice(2)}`;
      const ts = Math.floor(Date.now() / 1000);
      const key = Buffer.from((opts.secret ?? secret).replace(/^whsec_/, ''), 'base64');
      const signature = `v1,${createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')}`;
      const res = await w.dispatchFetch(`${ORIGIN}/webhooks/resend`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'svix-id': id, 'svix-timestamp': String(ts), 'svix-signature': signature },
        body,
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    try {
      const c = await call(w, 'POST', '/api/v1/contacts', { email: 'bounce.worker@example.com' });
      expect(c.status, why(c)).toBe(201);
      const e = await call(w, 'POST', '/api/v1/emails', { name: 'Bounce me', subject: 'Hi', html: '<p>Hi</p>' });
      const s = await call(w, 'POST', `/api/v1/emails/${e.body.id}/send`, { contact_id: c.body.id });
      expect(s.status, why(s)).toBe(202);
      let providerId = '';
      await vi.waitFor(async () => {
        await call(w, 'POST', '/api/v1/jobs/emails');
        const r = await call(w, 'GET', `/api/v1/email-sends/${s.body.id}`);
        expect(r.body.status, why(r)).toBe('sent');
        providerId = r.body.provider_id;
      }, { timeout: 10_000 });
      const bounce = { type: 'email.bounced', created_at: new Date().toISOString(), data: { email_id: providerId, to: ['bounce.worker@example.com'], bounce: { type: 'Permanent', subType: 'General', message: 'no such user' } } };
      const forged = await hook(bounce, { secret: `whsec_${Buffer.from('not-the-secret-at-all-000').toString('base64')}` });
      expect(forged.status, JSON.stringify(forged.body)).toBe(403);
      const ok = await hook(bounce);
      expect(ok, runtimeLog.join('')).toEqual({ status: 200, body: { ok: true, result: 'applied', type: 'email.bounced' } });
      const contact = await call(w, 'GET', `/api/v1/contacts/${c.body.id}`);
      expect(contact.body.do_not_contact, why(contact)).toEqual([expect.objectContaining({ channel: 'email', reason: 'bounced' })]);
      const report = await call(w, 'GET', `/api/v1/emails/${e.body.id}/report`);
      expect(report.body, why(report)).toMatchObject({ sent: 1, bounced: { total: 1, hard: 1, soft: 0 }, rates: { bounce: 1 } });
      const next = await call(w, 'POST', `/api/v1/emails/${e.body.id}/send`, { contact_id: c.body.id });
      expect(next.body, why(next)).toMatchObject({ status: 'skipped', skip_reason: 'bounced' });
    } finally {
      await w.dispose();
      await fake.close();
    }
  });

  it('answers 503 with the JSON error shape when the database rejects the auth token', async () => {
    const wrong = await startWorker({ DATABASE_URL: db.url, DATABASE_AUTH_TOKEN: 'not-the-token', ADMIN_API_KEY: ADMIN_KEY });
    try {
      expectError(await call(wrong, 'GET', '/health', undefined, { key: null }), 503, 'UNAVAILABLE');
      expectError(await call(wrong, 'GET', '/api/v1/contacts'), 503, 'UNAVAILABLE');
      // The cause is the database refusing the token, met again by the second request: a failed
      // start-up is retried, not cached. (The entry logs each failure; workerd's stdio arrives async.)
      const refusals = () => runtimeLog.join('').match(/LibsqlError[^\n]*\b401\b/g)?.length ?? 0;
      await vi.waitFor(() => expect(refusals(), runtimeLog.join('')).toBe(2), { timeout: 10_000 });
    } finally {
      await wrong.dispose();
    }
    // The instance with the right token is unaffected.
    const ok = await api('GET', '/health', undefined, { key: null });
    expect(ok.status, why(ok)).toBe(200);
  });
});
