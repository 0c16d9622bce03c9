// SIGTERM drains the built Node server (DESIGN.md: in-flight requests finish, the group commit
// flushes, then exit 0). The server runs as `npm start` runs it; a bounded stream of POST /t hits
// and API writes is kept in flight over keep-alive and fresh connections while the signal
// arrives, plus one /t whose body is still arriving. Afterwards the database file is reopened:
// every request that got a 2xx must be in it, none may have got a 5xx, and nothing may hang.
import { afterAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { connect } from 'node:net';
import { createClient } from '@libsql/client';
import { ADMIN_KEY, startNode, type NodeServer } from './node-server';
import { createDrain } from '../api/entry/node-shutdown';

const ORIGIN = 'https://shop.example.com';
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const WORKERS = 24;
const PER_WORKER = 150; // upper bound on requests per worker
const SIGNAL_AFTER = 300; // completed requests before SIGTERM
const REQUEST_TIMEOUT_MS = 8000; // longer than this counts as hung

type Outcome = { kind: 't' | 'contact' | 'probe'; id: string; afterSignal: boolean; status?: number; error?: string };

function request(
  port: number,
  agent: http.Agent | false,
  opts: { method: string; path: string; headers: Record<string, string>; body?: string },
): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, agent, method: opts.method, path: opts.path, headers: opts.headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode }));
      res.on('error', (e) => resolve({ error: `response: ${(e as NodeJS.ErrnoException).code ?? e.message}` }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('hung'), { code: 'HUNG' })));
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end(opts.body);
  });
}

describe('SIGTERM on the Node server', () => {
  let server: NodeServer | undefined;
  afterAll(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  });

  it('answers everything in flight, loses nothing acknowledged, refuses or answers late comers, and exits 0', async () => {
    server = await startNode({ PUBLIC_RATE_LIMIT: '1000000' });
    const { port } = server;
    const auth = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
    const site = await fetch(`http://127.0.0.1:${port}/api/v1/sites`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'Drain', allowed_origins: [ORIGIN] }),
    }).then((r) => r.json() as Promise<{ public_key: string }>);

    const outcomes: Outcome[] = [];
    let signalled = false;
    let completed = 0;
    let signalSent!: () => void;
    const signalTime = new Promise<void>((r) => (signalSent = r));
    const hit = (id: string) => ({
      method: 'POST',
      path: '/t',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: ORIGIN, 'user-agent': UA },
      body: JSON.stringify({ k: site.public_key, v: `drainvisitor${id.padStart(8, '0')}`, e: [{ t: 'ev', u: `${ORIGIN}/p`, n: `hit-${id}` }] }),
    });
    const contact = (id: string) => ({ method: 'POST', path: '/api/v1/contacts', headers: auth, body: JSON.stringify({ email: `drain-${id}@example.com` }) });

    // Half the workers reuse keep-alive connections (those must be closed after their answer),
    // half open a fresh connection per request (those must be refused once the server stops listening).
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: WORKERS });
    const worker = async (w: number) => {
      const agent = w % 2 === 0 ? keepAlive : false;
      for (let i = 0; i < PER_WORKER; i++) {
        const id = `${w}-${i}`;
        const kind = i % 3 === 2 ? 'contact' : 't';
        const afterSignal = signalled;
        const r = await request(port, agent, kind === 't' ? hit(id) : contact(id));
        outcomes.push({ kind, id, afterSignal, ...r });
        if (++completed === SIGNAL_AFTER) signalSent();
        // Once the server is gone there is nothing left to send to.
        if (afterSignal && r.error) break;
      }
    };

    // One /t whose body is half sent when the signal arrives: read from the socket by the Node
    // entry (api/entry/node-body.ts), it must still be read to the end, stored and answered.
    const slow = new Promise<{ status: number; raw: string }>((resolve, reject) => {
      const body = hit('slow').body;
      const s = connect(port, '127.0.0.1');
      let raw = '';
      s.on('data', (d) => (raw += d.toString()));
      s.on('end', () => resolve({ status: Number(raw.split(' ')[1]), raw }));
      s.on('error', reject);
      s.write(
        `POST /t HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nOrigin: ${ORIGIN}\r\nUser-Agent: ${UA}\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 20)}`,
      );
      void signalTime.then(() => setTimeout(() => s.write(body.slice(20)), 300));
    });

    const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
    await signalTime;
    signalled = true;
    server.child.kill('SIGTERM');
    // New connections after the signal: each must be refused or answered, never left hanging.
    const probes = (async () => {
      for (let i = 0; i < 20; i++) {
        const r = await request(port, false, { method: 'GET', path: '/health', headers: {} });
        outcomes.push({ kind: 'probe', id: String(i), afterSignal: true, ...r });
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    await Promise.all([...workers, probes]);
    const slowResult = await slow;
    keepAlive.destroy();
    const code = await server.stop('SIGTERM');
    const log = server.output();

    const errors = outcomes.filter((o) => o.error);
    const statuses: Record<string, number> = {};
    for (const o of outcomes) statuses[o.status ?? o.error!] = (statuses[o.status ?? o.error!] ?? 0) + 1;
    const inFlight = /"msg":"draining before exit"[^\n]*"inFlight":(\d+)/.exec(log)?.[1];
    console.log(
      `drain: ${outcomes.length} requests (${outcomes.filter((o) => o.afterSignal).length} sent after SIGTERM), ` +
        `${inFlight} in flight at the signal; outcomes ${JSON.stringify(statuses)}; slow /t ${slowResult.status}; exit ${code}`,
    );

    expect(code, log).toBe(0);
    expect(log).toMatch(/"msg":"drained; exiting"/);
    expect(Number(inFlight)).toBeGreaterThan(0);
    expect(outcomes.filter((o) => (o.status ?? 0) >= 500), log).toEqual([]);
    expect(errors.filter((o) => o.error === 'HUNG' || o.error?.startsWith('response')), log).toEqual([]);
    // Before the signal nothing may fail; after it, only a refused or closed connection.
    expect(errors.filter((o) => !o.afterSignal)).toEqual([]);
    for (const o of errors) expect(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']).toContain(o.error);
    expect(slowResult.status, slowResult.raw).toBe(202);

    const db = createClient({ url: `file:${server.dbPath}` });
    try {
      const names = new Set((await db.execute(`SELECT name FROM events WHERE type = 'custom'`)).rows.map((r) => String(r.name)));
      const emails = new Set((await db.execute('SELECT email FROM contacts')).rows.map((r) => String(r.email)));
      const ackedHits = outcomes.filter((o) => o.kind === 't' && o.status === 202);
      const ackedContacts = outcomes.filter((o) => o.kind === 'contact' && o.status === 201);
      expect(ackedHits.length).toBeGreaterThan(SIGNAL_AFTER / 2);
      expect(ackedHits.filter((o) => !names.has(`hit-${o.id}`))).toEqual([]);
      expect(names.has('hit-slow')).toBe(true);
      expect(ackedContacts.filter((o) => !emails.has(`drain-${o.id}@example.com`))).toEqual([]);
      // Every 2xx is in the database; every other answer was a 2xx too (nothing got a 4xx here).
      expect(outcomes.filter((o) => o.status !== undefined && o.kind !== 'probe' && o.status !== 202 && o.status !== 201)).toEqual([]);
    } finally {
      db.close();
    }
  }, 60_000);
});

describe('the drain, in process', () => {
  const quietLog = () => {
    const lines: string[] = [];
    const at = (level: string) => (msg: string, data?: Record<string, unknown>) => void lines.push(`${level} ${msg} ${JSON.stringify(data ?? {})}`);
    return { lines, log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
  };

  it('gives up after its deadline with a log line and a non-zero exit when a request never finishes', async () => {
    const server = http.createServer((req, res) => {
      // Reads a body that never completes, as a stalled upload would.
      req.on('end', () => res.end('late'));
      req.resume();
    });
    const { lines, log } = quietLog();
    const exits: number[] = [];
    const finished: string[] = [];
    const drain = createDrain({
      server,
      log,
      deadlineMs: 400,
      exit: (code) => void exits.push(code),
      stopJobs: async () => void finished.push('jobs'),
      finish: async () => void finished.push('finish'),
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write('POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    void drain('SIGTERM');
    void drain('SIGINT'); // a second signal changes nothing
    for (let i = 0; i < 100 && !exits.length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(exits).toEqual([1]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(finished).toEqual(['jobs']);
    expect(lines.some((l) => l.startsWith('error drain did not finish in time'))).toBe(true);
    socket.destroy();
    server.closeAllConnections();
  });

  it('closes idle keep-alive connections, answers a request still arriving, and exits 0', async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    const { log } = quietLog();
    const exits: number[] = [];
    const drain = createDrain({ server, log, deadlineMs: 5000, exit: (code) => void exits.push(code), stopJobs: async () => {}, finish: async () => {} });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const agent = new http.Agent({ keepAlive: true });
    // An idle keep-alive connection, left open by the agent.
    expect((await request(port, agent, { method: 'GET', path: '/', headers: {} })).status).toBe(200);
    // A request whose head is in but whose body is not.
    const slow = connect(port, '127.0.0.1');
    let answer = '';
    slow.on('data', (d) => (answer += d.toString()));
    slow.write('POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc');
    await new Promise((r) => setTimeout(r, 100));
    void drain('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    slow.write('def');
    for (let i = 0; i < 100 && !exits.length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(exits).toEqual([0]);
    expect(answer).toMatch(/^HTTP\/1\.1 200[\s\S]*Connection: close[\s\S]*ok$/i);
    agent.destroy();
  });
});

describe('SIGINT on an idle Node server', () => {
  it('exits 0 at once, also when the signal comes twice (npm start forwards Ctrl-C)', async () => {
    const s = await startNode();
    s.child.kill('SIGINT');
    s.child.kill('SIGINT');
    const code = await s.stop('SIGINT', 5000);
    expect(code, s.output()).toBe(0);
    expect(s.output()).toMatch(/"msg":"drained; exiting"/);
  });
});
