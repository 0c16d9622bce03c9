// Outbound HTTP: which destinations webhooks may reach, and how the one helper
// bounds a call. Every socket here goes to 127.0.0.1; private and metadata
// addresses are only ever refused before a connection is made.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { makeApp, expectError, type TestApp } from './helpers';
import { runJob } from './tracking-helpers';
import { addressAllowed, hostnameAllowed, OUTBOUND_ERRORS, OutboundError, urlProblem, type OutboundRequest, type OutboundTransport } from '../api/core/util/outbound';
import { checkedLookup, nodeOutbound, type Resolve } from '../api/entry/outbound-node';
import { runWebhooks } from '../api/core/scoring/webhooks';
import { parseConfig } from '../api/env';

const strict = { allowLoopback: false };
const loose = { allowLoopback: true };

// Written as people write them; WHATWG URL parsing turns the numeric forms into 127.0.0.1 etc.
const PRIVATE_URLS = [
  'http://10.0.0.1/hook',
  'http://10.255.255.255:8080/',
  'http://172.16.0.1/',
  'http://172.31.255.1/',
  'http://192.168.1.1/',
  'http://100.64.0.1/',
  'http://100.100.100.200/latest/meta-data/', // Alibaba metadata (CGNAT range)
  'http://169.254.169.254/latest/meta-data/iam/',
  'http://169.254.170.2/v2/credentials', // ECS task credentials
  'http://0.0.0.0/',
  'http://0/',
  'http://224.0.0.1/',
  'http://255.255.255.255/',
  'http://240.0.0.1/',
  'http://192.0.0.192/', // Oracle Cloud metadata (IETF protocol assignments)
  'http://[fd00::1]/',
  'http://[fd00:ec2::254]/latest/meta-data/', // AWS metadata over IPv6
  'http://[fe80::1]/',
  'http://[ff02::1]/',
  'http://[::]/',
  'http://[::ffff:10.0.0.1]/',
  'http://[::ffff:a9fe:a9fe]/', // 169.254.169.254, IPv4-mapped
  'http://[64:ff9b::a00:1]/', // NAT64 of 10.0.0.1
  'http://[2002:a00:1::1]/', // 6to4 of 10.0.0.1
  'http://[::a00:1]/', // IPv4-compatible 10.0.0.1
  'http://metadata.google.internal/computeMetadata/v1/',
  'http://METADATA.GOOGLE.INTERNAL./computeMetadata/v1/',
  'http://metadata/computeMetadata/v1/',
  'http://metadata.goog/',
  'http://instance-data/latest/',
  'http://ip-10-0-0-1.ec2.internal/',
  'http://printer.local/',
  'http://router.home.arpa/',
  'http://intranet/',
  'http://0xa.1/', // 10.0.0.1
  'http://167772161/', // 10.0.0.1
  'http://012.0.0.1/', // 10.0.0.1
  'http://0xa9.0xfe.0xa9.0xfe/', // 169.254.169.254
  'http://2852039166/', // 169.254.169.254
];
const LOOPBACK_URLS = [
  'http://127.0.0.1:8080/',
  'http://127.8.9.10/',
  'http://2130706433/',
  'http://0x7f.1/',
  'http://0x7f000001/',
  'http://0177.0.0.1/',
  'http://127.1/',
  'http://①②⑦.0.0.1/',
  'http://[::1]/',
  'http://[::ffff:127.0.0.1]/',
  'http://[0:0:0:0:0:0:0:1]/',
  'http://localhost/',
  'http://LOCALHOST:3000/',
  'http://localhost./',
  'http://api.localhost/',
];

describe('outbound policy (pure, no DNS)', () => {
  it('allows public unicast addresses only; loopback only when allowed', () => {
    for (const a of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '[2a00:1450:4001:82b::200e]']) {
      expect(addressAllowed(a, strict), a).toBe(true);
    }
    const refused = ['10.1.2.3', '172.16.0.1', '192.168.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '0.1.2.3', '224.0.0.1', '239.255.255.250', '255.255.255.255', '240.0.0.1', '198.18.0.1', '192.0.2.1', '::', 'fe80::1', 'fc00::1', 'fd00::1', 'fd00:ec2::254', 'ff02::1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '64:ff9b::a00:1', '2002:a00:1::1', '2001::1', '::a00:1', '2001:db8::1', 'not an ip', ''];
    for (const a of refused) {
      expect(addressAllowed(a, strict), a).toBe(false);
      expect(addressAllowed(a, loose), a).toBe(false);
    }
    for (const a of ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1']) {
      expect(addressAllowed(a, strict), a).toBe(false);
      expect(addressAllowed(a, loose), a).toBe(true);
    }
  });

  it('refuses private, link-local, unique-local, CGNAT, metadata and internal-name URLs in every spelling', () => {
    for (const u of PRIVATE_URLS) {
      expect(urlProblem(u, strict)?.reason, u).toBe('refused');
      expect(urlProblem(u, loose)?.reason, u).toBe('refused');
    }
    for (const u of LOOPBACK_URLS) {
      expect(urlProblem(u, strict)?.reason, u).toBe('refused');
      expect(urlProblem(u, loose), u).toBeNull();
    }
    for (const u of ['https://crm.example.com/hooks/leadline', 'http://93.184.216.34:8080/x', 'https://[2606:4700:4700::1111]/', 'https://hooks.slack.com/services/T/B/X']) {
      expect(urlProblem(u, strict), u).toBeNull();
    }
    expect(urlProblem('https://user:pass@crm.example.com/', loose)).toMatchObject({ reason: 'url', message: 'must not contain a user name or password' });
    expect(urlProblem('ftp://crm.example.com/', loose)?.reason).toBe('url');
    expect(urlProblem('not a url', loose)?.reason).toBe('url');
    expect(hostnameAllowed('metadata.google.internal.', loose)).toBe(false);
  });

  it('OUTBOUND_ALLOW_LOOPBACK is off unless set, and a bad value names the setting', () => {
    expect(parseConfig({}).OUTBOUND_ALLOW_LOOPBACK).toBe(false);
    expect(parseConfig({ OUTBOUND_ALLOW_LOOPBACK: 'true' }).OUTBOUND_ALLOW_LOOPBACK).toBe(true);
    expect(() => parseConfig({ OUTBOUND_ALLOW_LOOPBACK: 'yes please' })).toThrow(/OUTBOUND_ALLOW_LOOPBACK/);
  });
});

describe('refused when a webhook action is saved', () => {
  it('answers 422 naming the field, on create and on PATCH', async () => {
    const t = await makeApp({ env: { OUTBOUND_ALLOW_LOOPBACK: 'false' } });
    for (const url of [...PRIVATE_URLS, ...LOOPBACK_URLS]) {
      const res = await t.json('POST', '/api/v1/point-triggers', { name: 'x', threshold: 10, actions: [{ type: 'add_tags', tags: ['a'] }, { type: 'webhook', url }] });
      expectError(res, 422, 'VALIDATION_FAILED');
      expect(res.body.error.details, url).toEqual([{ field: 'actions.1.url', message: 'must not point to a private, loopback, link-local or metadata address' }]);
    }
    const ok = await t.json('POST', '/api/v1/point-triggers', { name: 'ok', threshold: 10, actions: [{ type: 'webhook', url: 'https://crm.example.com/hooks' }] });
    expect(ok.status).toBe(201);
    const patched = await t.json('PATCH', `/api/v1/point-triggers/${ok.body.id}`, { actions: [{ type: 'webhook', url: 'http://169.254.169.254/latest/' }] });
    expectError(patched, 422, 'VALIDATION_FAILED');
    expect(patched.body.error.details[0].field).toBe('actions.0.url');
    expectError(await t.json('POST', '/api/v1/point-triggers', { name: 'x', threshold: 1, actions: [{ type: 'webhook', url: 'https://u:p@crm.example.com/' }] }), 422, 'VALIDATION_FAILED');
    expect((await t.json('GET', `/api/v1/point-triggers/${ok.body.id}`)).body.actions[0].url).toBe('https://crm.example.com/hooks');
  });

  it('with loopback allowed, loopback is saved but private and metadata targets are still refused', async () => {
    const t = await makeApp();
    expect((await t.json('POST', '/api/v1/point-triggers', { name: 'l', threshold: 1, actions: [{ type: 'webhook', url: 'http://127.0.0.1:9/x' }] })).status).toBe(201);
    for (const url of ['http://10.0.0.1/', 'http://[fd00::1]/', 'http://metadata.google.internal/', 'http://2852039166/']) {
      const res = await t.json('POST', '/api/v1/point-triggers', { name: 'x', threshold: 1, actions: [{ type: 'webhook', url }] });
      expectError(res, 422, 'VALIDATION_FAILED');
      expect(res.body.error.details[0]).toEqual({ field: 'actions.0.url', message: 'must not point to a private, link-local or metadata address' });
    }
  });
});

describe('the Node transport', () => {
  let server: Server;
  let port = 0;
  const seen: IncomingMessage[] = [];
  let hugeWritten = 0;
  let hugeClosed: Promise<void> = Promise.resolve();
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      req.resume();
      const path = req.url ?? '';
      if (path === '/ok') res.writeHead(204).end();
      else if (path === '/redirect') res.writeHead(302, { location: `http://127.0.0.1:${port}/ok` }).end();
      else if (path === '/error') res.writeHead(500, { 'content-type': 'text/plain' }).end('receiver exploded:\n\u0000\u001b[31m stack');
      else if (path === '/slow') setTimeout(() => res.writeHead(204).end(), 5_000).unref();
      else if (path === '/huge') {
        // Up to 64 MB, written as fast as the client reads; stops when it hangs up.
        hugeWritten = 0;
        const chunk = Buffer.alloc(64 * 1024, 'x');
        res.writeHead(200, { 'content-type': 'text/plain' });
        hugeClosed = new Promise((r) => res.on('close', () => r()));
        const pump = () => {
          while (hugeWritten < 64 * 1024 * 1024 && !res.destroyed) {
            hugeWritten += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });

  const request = (url: string, o: Partial<OutboundRequest> = {}): OutboundRequest => ({
    url: new URL(url),
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"hello":"world"}',
    timeoutMs: 5_000,
    maxResponseBytes: 4096,
    policy: loose,
    ...o,
  });
  const toLoopback: Resolve = async () => [{ address: '127.0.0.1', family: 4 }];
  const reasonOf = (p: Promise<unknown>) => p.then(() => 'delivered', (e) => (e instanceof OutboundError ? e.reason : `raw: ${e}`));

  it('refuses a name that resolves to a loopback address unless loopback is allowed, before any request is sent', async () => {
    seen.length = 0;
    const transport = nodeOutbound({ resolve: toLoopback });
    const url = `http://hooks.example.com:${port}/ok`;
    expect(await reasonOf(transport(request(url, { policy: strict })))).toBe('refused');
    expect(seen).toHaveLength(0);
    // The real resolver: localhost is 127.0.0.1 (and maybe ::1).
    expect(await reasonOf(nodeOutbound()(request(`http://localhost:${port}/ok`, { policy: strict })))).toBe('refused');
    expect(seen).toHaveLength(0);
    const res = await transport(request(url));
    expect(res.status).toBe(204);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers.host).toBe(`hooks.example.com:${port}`);
  });

  it('checks the address actually connected to, also for literal IPs (which skip lookup)', async () => {
    seen.length = 0;
    expect(await reasonOf(nodeOutbound()(request(`http://127.0.0.1:${port}/ok`, { policy: strict })))).toBe('refused');
    expect(await reasonOf(nodeOutbound()(request(`http://[::ffff:127.0.0.1]:${port}/ok`, { policy: strict })))).toBe('refused');
    expect(seen).toHaveLength(0);
  });

  it('refuses when any answer of the lookup is private, not only the first (no socket is opened)', async () => {
    const answers = (list: string[]): Resolve => async () => list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    const lookupOf = (resolve: Resolve, all: boolean) =>
      new Promise<unknown>((done) => checkedLookup(resolve, strict)('hooks.example.com', { all }, (err, address) => done(err ?? address)));
    expect(await lookupOf(answers(['93.184.216.34', '10.0.0.1']), true)).toBeInstanceOf(OutboundError);
    expect(await lookupOf(answers(['93.184.216.34', '::ffff:169.254.169.254']), false)).toBeInstanceOf(OutboundError);
    expect(await lookupOf(answers(['2606:4700:4700::1111', 'fd00:ec2::254']), true)).toBeInstanceOf(OutboundError);
    expect(await lookupOf(answers(['93.184.216.34', '2606:4700:4700::1111']), true)).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:4700:4700::1111', family: 6 },
    ]);
    expect(await lookupOf(answers(['93.184.216.34']), false)).toBe('93.184.216.34');
    const failed = await lookupOf(async () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND 10.0.0.7:22'), { code: 'ENOTFOUND' })), false);
    expect(failed).toBeInstanceOf(OutboundError);
    expect((failed as Error).message).toBe('connection failed');
  });

  it('does not follow redirects', async () => {
    seen.length = 0;
    const res = await nodeOutbound()(request(`http://127.0.0.1:${port}/redirect`));
    expect(res.status).toBe(302);
    expect(seen.map((r) => r.url)).toEqual(['/redirect']);
  });

  it('gives up on a slow receiver at the deadline', async () => {
    const started = Date.now();
    expect(await reasonOf(nodeOutbound()(request(`http://127.0.0.1:${port}/slow`, { timeoutMs: 300 })))).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('reads at most maxResponseBytes of a huge answer, then hangs up', async () => {
    const res = await nodeOutbound()(request(`http://127.0.0.1:${port}/huge`));
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(4096);
    await hugeClosed;
    expect(hugeWritten).toBeLessThan(16 * 1024 * 1024);
  });

  it('sends only what it is given: no credentials, no cookies, no proxy headers', async () => {
    seen.length = 0;
    await nodeOutbound()(request(`http://127.0.0.1:${port}/ok`));
    expect(Object.keys(seen[0]!.headers).sort()).toEqual(['connection', 'content-length', 'content-type', 'host']);
  });

  it('reports a closed port as a plain connection failure', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await reasonOf(nodeOutbound()(request(`http://127.0.0.1:${closedPort}/`)))).toBe('failed');
  });
});

describe('webhook deliveries through the outbound helper', () => {
  let server: Server;
  let port = 0;
  const hits: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      req.resume();
      if (req.url === '/redirect') res.writeHead(302, { location: `http://127.0.0.1:${port}/ok` }).end();
      else if (req.url === '/error') res.writeHead(500).end('receiver exploded:\n\u0000\u001b[31m stack');
      else if (req.url === '/slow') setTimeout(() => res.writeHead(204).end(), 5_000).unref();
      else res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });

  async function fire(t: TestApp, urls: string[]) {
    await t.json('POST', '/api/v1/point-triggers', { name: 'Hook', threshold: 1, actions: urls.map((url) => ({ type: 'webhook', url })) });
    const c = await t.json('POST', '/api/v1/contacts', { email: `hook${Math.random()}@example.com` });
    await t.json('POST', `/api/v1/contacts/${c.body.id}/points`, { op: 'add', value: 5, reason: 'x' });
    await runJob(t);
  }
  const log = async (t: TestApp) =>
    Object.fromEntries(((await t.json('GET', '/api/v1/webhook-deliveries', undefined, { key: t.keys.read })).body.data as any[]).map((d) => [d.url, d]));

  it('a public-looking name that resolves to loopback is refused at delivery, and the log says only that', async () => {
    hits.length = 0;
    const t = await makeApp({ env: { OUTBOUND_ALLOW_LOOPBACK: 'false' } });
    t.ctx.outbound = nodeOutbound({ resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    const url = `http://hooks.example.com:${port}/ok`;
    await fire(t, [url]);
    await runWebhooks(t.ctx);
    expect((await log(t))[url]).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null, last_error: OUTBOUND_ERRORS.refused });
    expect(hits).toEqual([]);
  });

  it('rows that point at private addresses (saved before this check) never reach the transport', async () => {
    const t = await makeApp({ env: { OUTBOUND_ALLOW_LOOPBACK: 'false' } });
    let calls = 0;
    t.ctx.outbound = async () => {
      calls++;
      throw new Error('must not be called');
    };
    const urls = ['http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1:22/', 'http://2130706433/', 'http://metadata.google.internal/', 'http://[fd00::1]/', 'http://localhost:6379/', 'http://user:pw@example.com/'];
    for (const [i, url] of urls.entries()) {
      await t.client.execute({
        sql: "INSERT INTO webhook_deliveries (source, dedupe_key, url, secret, body, next_attempt_at, created_at) VALUES ('trigger:1', ?, ?, 's', '{}', 0, 0)",
        args: [`k${i}`, url],
      });
    }
    await runWebhooks(t.ctx);
    expect(calls).toBe(0);
    const errors = Object.values(await log(t)).map((d: any) => [d.url, d.last_error]);
    expect(Object.fromEntries(errors)).toEqual({
      ...Object.fromEntries(urls.slice(0, -1).map((u) => [u, OUTBOUND_ERRORS.refused])),
      'http://user:pw@example.com/': OUTBOUND_ERRORS.url,
    });
  });

  it('logs a redirect as a failure without following it, a 5xx with a clean excerpt, and socket errors generically', async () => {
    hits.length = 0;
    const t = await makeApp();
    t.ctx.outbound = nodeOutbound();
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedUrl = `http://127.0.0.1:${(closed.address() as { port: number }).port}/gone`;
    await new Promise<void>((r) => closed.close(() => r()));
    const base = `http://127.0.0.1:${port}`;
    await fire(t, [`${base}/redirect`, `${base}/error`, closedUrl]);
    await runWebhooks(t.ctx);
    const d = await log(t);
    expect(d[`${base}/redirect`]).toMatchObject({ status: 'pending', last_status_code: 302, last_error: 'HTTP 302: redirects are not followed' });
    expect(d[`${base}/error`]).toMatchObject({ last_status_code: 500, last_error: 'HTTP 500: receiver exploded: [31m stack' });
    expect(d[closedUrl]).toMatchObject({ last_status_code: null, last_error: OUTBOUND_ERRORS.failed });
    expect(hits.sort()).toEqual(['/error', '/redirect']);
  });

  it('a slow receiver times out and is retried later', async () => {
    const t = await makeApp();
    const node = nodeOutbound();
    const shortDeadline: OutboundTransport = (req) => node({ ...req, timeoutMs: 300 });
    t.ctx.outbound = shortDeadline;
    const url = `http://127.0.0.1:${port}/slow`;
    await fire(t, [url]);
    const started = Date.now();
    await runWebhooks(t.ctx);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((await log(t))[url]).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null, last_error: OUTBOUND_ERRORS.timeout });
  });

  it('delivers to an allowed loopback receiver through the Node transport', async () => {
    hits.length = 0;
    const t = await makeApp();
    t.ctx.outbound = nodeOutbound();
    const url = `http://localhost:${port}/ok`;
    await fire(t, [url]);
    await runWebhooks(t.ctx);
    expect((await log(t))[url]).toMatchObject({ status: 'delivered', last_status_code: 204, last_error: null });
    expect(hits).toEqual(['/ok']);
  });
});
