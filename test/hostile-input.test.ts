// The hostile-input walk (issue 8): every operation of the OpenAPI document and
// every public endpoint gets generated hostile requests — wrong types for every
// field the schema names, huge and deep values, control characters and lone
// surrogates, prototype-named keys, wrong content types, broken and streamed
// bodies, bad ids, cursors and limits, every kind of key — and must answer
// without a 5xx, with the one error shape on every 4xx, while the process lives
// and its memory stays bounded. Then a slice runs against the built Node server
// on 127.0.0.1 for what app.request cannot do (bodies cut short, chunked over
// the limit, clients hanging up).
//
// Seeded: the same seed every run unless HOSTILE_SEED=<n> (replays a run, exactly with
// HOSTILE_CONCURRENCY=1) or HOSTILE_SEED=random (explores).
// Bounded: HOSTILE_REQUESTS (in process), HOSTILE_HTTP_REQUESTS (real server)
// and HOSTILE_MAX_MS (wall clock for the in-process walk) are the knobs.
import { afterAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { readFileSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeApp, type TestApp } from './helpers';
import type { Logger } from '../api/core/context';
import { createApiKey } from '../api/core/access/api-keys';
import { Rng, seedFromEnv } from './hostile/prng';
import { CHROME, Generator, JOB_NAMES, type HostileRequest, type Keys } from './hostile/generate';
import { slowestPingDuring } from './hostile/stall';
import { HOSTILE_WEBHOOK_SECRET, makeFixtures, ORIGIN } from './hostile/fixtures';
import { describeFailure, fullGc, groupFailures, mb, RssMeter, Stats, type Failure } from './hostile/judge';
import { sendHttp, sendInProcess, type Sent } from './hostile/send';
import { socketAttacks, type Target } from './hostile/socket';
import { ADMIN_KEY, root, startNode, type NodeServer } from './node-server';

const SEED = seedFromEnv();
const REQUESTS = Number(process.env.HOSTILE_REQUESTS ?? 20_000);
const HTTP_REQUESTS = Number(process.env.HOSTILE_HTTP_REQUESTS ?? 2000);
const MAX_MS = Number(process.env.HOSTILE_MAX_MS ?? 75_000);
const CONCURRENCY = Math.max(1, Number(process.env.HOSTILE_CONCURRENCY ?? 4));
const ROUND = 250; // requests between fixture refreshes and job runs
const RACES_PER_ROUND = 3;
const RSS_BOUND = 300 * 1024 * 1024;
const TRACE_RSS = process.env.HOSTILE_RSS_TRACE === '1';
const TRACE_SOCKETS = process.env.HOSTILE_SOCKET_TRACE === '1';

/**
 * Over real sockets some refusals come from Node's HTTP parser, before the app: a request head over
 * 16 KB gets an empty 431 (or the connection closed while the client still writes), and an early
 * 413 may close the connection under a client still sending its body.
 */
function refusedByNode(f: Failure): boolean {
  const headBytes = f.req.path.length + Object.entries(f.req.headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
  const reset = f.problem.startsWith('no answer') && /EPIPE|ECONNRESET/.test(f.problem);
  if (headBytes > 16 * 1024) return reset || (f.answer?.status === 431 && f.answer.text === '');
  return reset && !!f.req.expect?.includes(413);
}

const summary: string[] = [`hostile-input seed=${SEED} (replay: HOSTILE_SEED=${SEED})`];
console.log(summary[0]);

afterAll(() => {
  console.log(['', '==== hostile-input summary ====', ...summary, ''].join('\n'));
});

function capturingLog(): Logger & { errors: { msg: string; data?: Record<string, unknown> }[] } {
  const errors: { msg: string; data?: Record<string, unknown> }[] = [];
  return {
    errors,
    debug() {},
    info() {},
    warn() {},
    error: (msg, data) => errors.push({ msg, data }),
  };
}

function record(stats: Stats, req: HostileRequest, sent: Sent) {
  if ('unsendable' in sent) {
    stats.unsendable++;
    return;
  }
  if ('error' in sent) {
    stats.requests++;
    stats.failures.push({ req, problem: `no answer: ${sent.error.split('\n').slice(0, 4).join(' | ')}` });
    return;
  }
  stats.record(req, sent.answer);
}

function report(label: string, stats: Stats, failures: Failure[]): string {
  const groups = groupFailures(failures);
  const lines = [`${label}: ${failures.length} failing requests in ${groups.length} groups (seed ${SEED})`];
  for (const [key, g] of groups.slice(0, 40)) lines.push('', `[${g.count}×] ${key}`, describeFailure(g.first));
  return lines.join('\n');
}

/**
 * The walk sends DELETE /api/v1/api-keys/{id} with ids like " 1", "+1", "01" and "0x10", which the
 * id schema reads as 1 and 16: the keys it authenticates with get ids past those (and past 100, "1E+2").
 */
async function keysOutOfReach(t: TestApp) {
  for (let i = 0; i < 120; i++) await createApiKey({ ctx: t.ctx, input: { name: `filler ${i}`, scopes: ['read'] } });
  for (const scope of ['read', 'write', 'admin'] as const) t.keys[scope] = (await createApiKey({ ctx: t.ctx, input: { name: `walker ${scope}`, scopes: [scope] } })).secret;
}

/** Every row of every table read back: the libsql client aborts the process on invalid UTF-8 stored in a row. */
async function readEverything(t: TestApp) {
  const tables = await t.client.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  let rows = 0;
  for (const r of tables.rows) rows += (await t.client.execute(`SELECT * FROM "${String(r.name)}"`)).rows.length;
  return rows;
}

/**
 * Runs `count` requests, `CONCURRENCY` at a time. Each is generated when a
 * worker is free (generation is synchronous, so the sequence is the seed's
 * whatever the interleaving), and dropped once judged: the walk holds only
 * the requests in flight, not a batch of big bodies.
 */
async function runBatch(count: number, make: () => HostileRequest, send: (r: HostileRequest) => Promise<Sent>, stats: Stats, onEach?: (r: HostileRequest) => void) {
  let made = 0;
  const worker = async () => {
    while (made < count) {
      made++;
      const req = make();
      const started = Date.now();
      record(stats, req, await send(req));
      stats.timed(req, Date.now() - started);
      onEach?.(req);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
}

describe('hostile input never gets a 5xx, never kills the process, never eats the memory', () => {
  it('walks every operation of the OpenAPI document and every public endpoint (in process)', { timeout: MAX_MS + 120_000 }, async () => {
    const started = Date.now();
    const t = await makeApp({ env: { PUBLIC_RATE_LIMIT: '1000000', API_RATE_LIMIT: '1000000', RESEND_WEBHOOK_SECRET: HOSTILE_WEBHOOK_SECRET } });
    await keysOutOfReach(t);
    const log = capturingLog();
    t.ctx.log = log;
    const doc = await (await t.app.request('/api/v1/openapi.json')).json();
    const rng = new Rng(SEED);
    const gen = new Generator(rng, doc, t.keys as Keys);
    gen.fx = await makeFixtures(t);
    const stats = new Stats();
    const seen = new Set<string>();
    fullGc();
    const meter = new RssMeter();
    const send = (req: HostileRequest) => sendInProcess((r) => t.app.request(r), req);

    let rounds = 0;
    while (stats.requests < REQUESTS && Date.now() - started < MAX_MS) {
      const n = Math.min(ROUND, REQUESTS - stats.requests);
      const make = () => {
        const r = gen.next();
        seen.add(r.template);
        return r;
      };
      await runBatch(n, make, send, stats, (req) => {
        const before = meter.last;
        const now = meter.sample();
        // Which requests grow the memory (HOSTILE_RSS_TRACE=1, best read with HOSTILE_CONCURRENCY=1).
        if (TRACE_RSS && now - before > 10 * 1024 * 1024) console.log(`RSS +${mb(now - before)} → ${mb(now)} after ${req.method} ${req.path.slice(0, 80)} [${req.kind.slice(0, 120)}]`);
      });
      // A few bursts of requests that race on the same objects.
      for (let i = 0; i < RACES_PER_ROUND; i++) {
        const burst = gen.raceBurst();
        for (const r of burst) seen.add(r.template);
        await Promise.all(burst.map(async (req) => record(stats, req, await send(req))));
      }
      // Reactions, webhooks, segment rebuilds and retention over whatever was just stored: each must finish.
      const jobs: HostileRequest[] = JOB_NAMES.map((name) => ({
        method: 'POST',
        path: `/internal/jobs/${name}`,
        headers: { authorization: `Bearer ${t.keys.admin}` },
        kind: 'job run after a round',
        template: 'POST /internal/jobs/{name}',
        expect: [200],
      }));
      await runBatch(jobs.length, () => jobs.shift()!, send, stats);
      rounds++;
      // A full collection between rounds, as an idle moment gives a server: the bound then measures
      // what the app keeps and what one round's requests blow up, not how lazily V8 gives pages back.
      fullGc();
      meter.sample();
      // New objects for the next round: the walk deletes some.
      gen.fx = await makeFixtures(t);
    }
    const rows = await readEverything(t);
    const health = await t.app.request('/health');
    const after = meter.stop();
    const ms = Date.now() - started;

    const missed = gen.ops.map((o) => `${o.method} ${o.path}`).filter((k) => !seen.has(k));
    const neverOk = gen.ops.map((o) => `${o.method} ${o.path}`).filter((k) => !stats.succeeded.has(k));
    summary.push(
      `in process: ${stats.requests} requests (${stats.unsendable} unsendable by the client) in ${rounds} rounds, ${(ms / 1000).toFixed(1)} s, concurrency ${CONCURRENCY}`,
      `  statuses: ${stats.histogram()}`,
      `  RSS before ${mb(meter.before)}, peak ${mb(meter.peak)}, after ${mb(after)} (bound: peak ≤ before + ${mb(RSS_BOUND)})`,
      `  operations walked: ${gen.ops.length - missed.length}/${gen.ops.length}${missed.length ? ` (missed: ${missed.join(', ')})` : ''}; rows read back: ${rows}`,
      `  operations that never got a 2xx (the walk did not get past validation there): ${neverOk.join(', ') || 'none'}`,
      `  slowest: ${stats.slowest.map((x) => `${x.ms} ms ${x.what}`).join('; ')}`,
      `  failures: ${stats.failures.length}; error-level log lines: ${log.errors.length}`,
    );

    if (stats.failures.length) console.log(report('in process', stats, stats.failures));
    const errorGroups = new Map<string, number>();
    for (const e of log.errors) {
      const k = `${e.msg} ${String((e.data as any)?.error ?? '').split('\n')[0]!.slice(0, 200)} ${(e.data as any)?.path ?? ''}`;
      errorGroups.set(k, (errorGroups.get(k) ?? 0) + 1);
    }
    if (errorGroups.size) console.log(['error-level log lines:', ...[...errorGroups].map(([k, n]) => `  [${n}×] ${k}`)].join('\n'));

    expect(health.status).toBe(200);
    expect(meter.peak - meter.before, 'RSS growth at peak').toBeLessThan(RSS_BOUND);
    expect(stats.failures.length, `failures (seed ${SEED}); see the report above`).toBe(0);
    expect([...errorGroups.keys()], `error-level log lines (seed ${SEED})`).toEqual([]);
    // Operations are walked in turn, so a few hundred requests reach every one of them.
    if (stats.requests >= 1000) expect(missed).toEqual([]);
  });

  describe('against the built Node server on 127.0.0.1', () => {
    let server: NodeServer | undefined;
    afterAll(async () => {
      if (server && server.child.exitCode === null && server.child.signalCode === null) await server.stop('SIGTERM').catch(() => server!.child.kill('SIGKILL'));
    });

    it('survives bodies cut short, chunked over the limit and clients hanging up, and keeps answering /health', { timeout: 180_000 }, async () => {
      warnIfStale();
      const t0 = Date.now();
      server = await startNode({ PUBLIC_RATE_LIMIT: '1000000', API_RATE_LIMIT: '1000000', LOG_LEVEL: 'info', RESEND_WEBHOOK_SECRET: HOSTILE_WEBHOOK_SECRET });
      const { port } = server;
      const rss = () => procStatus(server!.child.pid!);
      const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      const t = httpTestApp(port);
      // As in process: the walker's keys get ids that hostile ids (" 1", "0x10", "1E+2") do not reach; the bootstrap key is id 1.
      for (let i = 0; i < 120; i++) await t.json('POST', '/api/v1/api-keys', { name: `filler ${i}`, scopes: ['read'] });
      const keys: Keys = { admin: '', write: '', read: '' };
      for (const scope of ['read', 'write', 'admin'] as const) keys[scope] = (await t.json('POST', '/api/v1/api-keys', { name: scope, scopes: [scope] })).body.secret;
      t.key = keys.admin;
      const doc = (await t.json('GET', '/api/v1/openapi.json')).body;
      const gen = new Generator(new Rng((SEED + 1) >>> 0), doc, keys);
      gen.fx = await makeFixtures(t as unknown as TestApp);
      const before = rss();
      const t1 = Date.now();

      // A slice of the same generated requests, over real sockets.
      const stats = new Stats();
      const health = () => t.call('GET', '/health').then((r) => r.status);
      let lastRss = before.rss;
      await runBatch(HTTP_REQUESTS, () => gen.next(), (r) => sendHttp(port, agent, r), stats, (req) => {
        if (!TRACE_RSS) return;
        const now = rss().rss;
        if (now - lastRss > 10 * 1024 * 1024) console.log(`server RSS +${mb(now - lastRss)} → ${mb(now)} after ${req.method} ${req.path.slice(0, 80)} [${req.kind.slice(0, 120)}]`);
        lastRss = now;
      });
      const failures = stats.failures.filter((f) => !refusedByNode(f));
      const t2 = Date.now();
      const afterHttp = rss();

      // Raw sockets: each scenario against each public and private body-taking endpoint.
      const targets: Target[] = [
        { path: '/t', limit: 32 * 1024, headers: { 'content-type': 'text/plain', origin: ORIGIN }, start: `{"k":"${gen.fx.site.public_key}","v":null,` },
        { path: `/f/${gen.fx.formId}`, limit: 64 * 1024, headers: { 'content-type': 'text/plain', origin: ORIGIN }, start: `{"k":"${gen.fx.site.public_key}",` },
        { path: `/f/${gen.fx.formId}`, limit: 64 * 1024, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN }, start: `_k=${gen.fx.site.public_key}&email=` },
        { path: `/u/${gen.fx.unsubscribeToken}`, limit: 64 * 1024, headers: { 'content-type': 'application/x-www-form-urlencoded' }, start: 'List-Unsubscribe=One-Click&pad=' },
        { path: '/webhooks/resend', limit: 64 * 1024, headers: { 'content-type': 'application/json', 'svix-id': 'msg_socket', 'svix-timestamp': String(Math.floor(Date.now() / 1000)), 'svix-signature': 'v1,x' }, start: '{"type":"email.delivered","data":{"email_id":"' },
        { path: '/api/v1/contacts', limit: 1024 * 1024, headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.admin}` }, start: '{"email":"x' },
        { path: '/api/v1/contacts/import', limit: 10 * 1024 * 1024, headers: { 'content-type': 'text/csv', authorization: `Bearer ${keys.admin}` }, start: 'email\na@example.com\n' },
        { path: '/api/v1/assets?filename=a.bin', limit: 25 * 1024 * 1024, headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${keys.admin}` }, start: 'bytes' },
        { path: '/internal/jobs/reactions', limit: 1024 * 1024, headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.admin}` }, start: '{"a":' },
      ];
      const sockets = await socketAttacks(port, targets);
      const t3 = Date.now();
      const socketStatuses = new Map<number | 'closed', number>();
      for (const o of sockets) {
        if (!o.statuses.length) socketStatuses.set('closed', (socketStatuses.get('closed') ?? 0) + 1);
        for (const s of o.statuses) socketStatuses.set(s, (socketStatuses.get(s) ?? 0) + 1);
      }
      const socketFailures = sockets.filter((o) => o.statuses.some((s) => s >= 500));
      const healthAfter = await health();
      const alive = server.child.exitCode === null && server.child.signalCode === null;
      const after = rss();
      const errorLines = server
        .output()
        .split('\n')
        .filter((l) => /"level":"error"|unhandled|Uncaught|FATAL|panicked/.test(l));

      summary.push(
        `real server (dist/node.mjs, pid ${server.child.pid}): ${stats.requests} generated requests over HTTP (${stats.unsendable} unsendable) + ${sockets.length} raw-socket scenarios`,
        `  time: start and fixtures ${((t1 - t0) / 1000).toFixed(1)} s, HTTP ${((t2 - t1) / 1000).toFixed(1)} s, sockets ${((t3 - t2) / 1000).toFixed(1)} s`,
        `  statuses (HTTP): ${stats.histogram()}`,
        `  statuses (sockets): ${[...socketStatuses].map(([s, n]) => `${s}: ${n}`).join(', ')}`,
        `  server RSS before ${mb(before.rss)}, peak ${mb(after.hwm)} (${mb(afterHttp.hwm)} by the end of the HTTP slice), after ${mb(after.rss)}; alive: ${alive}; /health after: ${healthAfter}`,
        `  failures: ${failures.length} HTTP, ${socketFailures.length} socket; error-level log lines: ${errorLines.length}`,
      );
      if (failures.length) console.log(report('real server', stats, failures));
      for (const o of socketFailures) console.log(`socket scenario "${o.name}" got ${o.statuses.join(', ')}:\n${o.head}`);
      if (TRACE_SOCKETS) for (const o of sockets) console.log(`socket: ${o.name} → ${o.statuses.join(', ') || 'closed'}`);
      if (errorLines.length) console.log(['server error lines:', ...errorLines.slice(0, 30)].join('\n'));

      expect(alive).toBe(true);
      expect(healthAfter).toBe(200);
      expect(after.hwm - before.rss, 'server RSS growth at peak').toBeLessThan(RSS_BOUND);
      expect(failures.length, `HTTP failures (seed ${SEED})`).toBe(0);
      expect(socketFailures.map((o) => o.name)).toEqual([]);
      expect(errorLines).toEqual([]);
      agent.destroy();
      // And it still drains and exits cleanly.
      expect(await server.stop('SIGTERM')).toBe(0);
    });
  });
});

// Patterns come from API keys, the strings they run on from anyone (page URLs, emails, form values).
describe('regular expressions from the API cannot stall the server', () => {
  const CATASTROPHIC = '(a|a)+$'; // exponential in a backtracking engine; linear in the database's REGEXP
  const LONG = 'a'.repeat(40) + '!';
  let server: NodeServer | undefined;
  afterAll(() => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  });

  it('point-rule, segment and focus-item regexes: the server keeps answering while they run on hostile strings', { timeout: 60_000 }, async () => {
    server = await startNode({ PUBLIC_RATE_LIMIT: '1000000', API_RATE_LIMIT: '1000000' });
    const t = httpTestApp(server.port);
    const site = (await t.json('POST', '/api/v1/sites', { name: 'S', allowed_origins: [ORIGIN] })).body;
    const made = await Promise.all([
      t.json('POST', '/api/v1/point-rules', { name: 'R', event_type: 'page_view', delta: 1, filter: { url: { op: 'regex', value: CATASTROPHIC } } }),
      t.json('POST', '/api/v1/segments', { name: 'S1', filter: { behaviour: 'visited', url: { op: 'regex', value: CATASTROPHIC } } }),
      t.json('POST', '/api/v1/segments', { name: 'S2', filter: { field: 'first_name', op: 'regex', value: CATASTROPHIC } }),
      t.json('POST', '/api/v1/focus-items', {
        name: 'F',
        site_id: site.id,
        style: { type: 'bar' },
        content: { kind: 'notice', heading: 'Hi' },
        trigger: { type: 'load' },
        targeting: { urls: [{ op: 'regex', value: CATASTROPHIC }] },
      }),
    ]);
    // Saved, or refused with a 4xx; never a 5xx.
    for (const m of made) expect(m.status, JSON.stringify(m.body)).toBeLessThan(500);
    const url = `${ORIGIN}/${LONG}`;
    const slowest = await slowestPingDuring(server.port, async () => {
      await t.json('POST', '/api/v1/contacts', { email: 'stall@example.com', first_name: LONG });
      await t.app.request('/t', {
        method: 'POST',
        headers: { 'content-type': 'text/plain', origin: ORIGIN, 'user-agent': CHROME },
        body: JSON.stringify({ k: site.public_key, v: 'stallvisitor00000001', e: [{ t: 'pv', u: url }] }),
      });
      await t.call('GET', `/focus?k=${site.public_key}&v=stallvisitor00000001&u=${encodeURIComponent(url)}`, undefined, { headers: { origin: ORIGIN } });
      for (const job of JOB_NAMES) await t.call('POST', `/internal/jobs/${job}`);
    });
    expect(slowest, 'slowest /health answer (ms) while the patterns ran').toBeLessThan(1500);
    expect(await server.stop('SIGTERM')).toBe(0);
  });

  // Form field patterns are checked by the database's linear-time REGEXP on the server (forms/patterns.ts).
  it('a form field pattern such as (a|a)+ does not stall the server on a 41-character value', { timeout: 60_000 }, async () => {
    const own = await startNode({ PUBLIC_RATE_LIMIT: '1000000', API_RATE_LIMIT: '1000000' });
    try {
      const t = httpTestApp(own.port);
      const site = (await t.json('POST', '/api/v1/sites', { name: 'S', allowed_origins: [ORIGIN] })).body;
      const form = await t.json('POST', '/api/v1/forms', {
        name: 'F',
        fields: [
          { key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true },
          { key: 'code', label: 'Code', type: 'text', rules: { pattern: '(a|a)+' } },
        ],
      });
      expect(form.status, JSON.stringify(form.body)).toBe(201);
      let answer = 0;
      const slowest = await slowestPingDuring(own.port, async () => {
        const res = await t.app.request(`/f/${form.body.id}`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain', origin: ORIGIN, 'user-agent': CHROME },
          body: JSON.stringify({ k: site.public_key, v: null, sid: 'stallsubmission1', values: { email: 'x@example.com', code: LONG }, t: 5000 }),
        });
        answer = res.status;
      });
      expect(slowest, 'slowest /health answer (ms) while the pattern ran').toBeLessThan(1500);
      // LONG does not match (a|a)+ in full: refused, quickly.
      expect(answer).toBe(422);
    } finally {
      own.child.kill('SIGKILL');
    }
  });
});

/** The parts of TestApp the fixtures use, over HTTP. */
function httpTestApp(port: number) {
  const base = `http://127.0.0.1:${port}`;
  const self = { key: ADMIN_KEY, call, json, app: { request: (path: string, init: RequestInit) => fetch(base + path, init) } };
  async function call(method: string, path: string, body?: unknown, o: { key?: string | null; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...o.headers };
    const key = o.key === undefined ? self.key : o.key;
    if (key) headers.authorization = `Bearer ${key}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      if (typeof body !== 'string') headers['content-type'] ??= 'application/json';
    }
    return fetch(base + path, { method, headers, body: payload });
  }
  async function json(method: string, path: string, body?: unknown, o?: { key?: string | null; headers?: Record<string, string> }) {
    const res = await call(method, path, body, o);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }
  return self;
}

function procStatus(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** The real server runs dist/node.mjs: say so when it is older than the source (npm test builds first). */
function warnIfStale() {
  let newest = 0;
  const walk = (dir: string, depth = 0) => {
    if (depth > 6) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(join(root, 'api'));
  try {
    if (statSync(join(root, 'dist/node.mjs')).mtimeMs < newest) console.log('note: dist/node.mjs is older than api/; run `node scripts/build.mjs` to test the current source on the real server');
  } catch {}
}
