// What app.request cannot do: bodies cut short, chunked bodies over the limit,
// a client hanging up mid-body, broken framing. Raw sockets on 127.0.0.1.
import { connect } from 'node:net';

export interface SocketOutcome {
  name: string;
  /** Statuses read from the socket (several when requests were pipelined). */
  statuses: number[];
  /** The first answer's head and body start, for the report. */
  head: string;
}

type Step = { write: string | Buffer } | { wait: number } | { end: true } | { destroy: true };

/** Runs the steps on one connection and collects what comes back until close or `readMs` after the last step. */
function run(port: number, name: string, steps: Step[], readMs = 1000): Promise<SocketOutcome> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const all = Buffer.concat(chunks).toString('latin1');
      const statuses = [...all.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
      resolve({ name, statuses, head: all.slice(0, 300) });
    };
    // Every connection is bounded: steps plus the read window, at most 30 s.
    const timer = setTimeout(finish, 30_000);
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', () => undefined);
    sock.on('close', finish);
    sock.once('connect', async () => {
      for (const s of steps) {
        if (done) return;
        if ('write' in s) {
          if (!sock.writable) break;
          await new Promise<void>((r) => sock.write(s.write, () => r()));
        } else if ('wait' in s) await new Promise((r) => setTimeout(r, s.wait));
        else if ('end' in s) sock.end();
        else if ('destroy' in s) return finish();
      }
      setTimeout(finish, readMs);
    });
  });
}

// Connection: close, so a scenario ends when the server has answered rather than after the read window.
const head = (method: string, path: string, headers: Record<string, string>) =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

function chunked(total: number, piece = 256 * 1024): Step[] {
  const steps: Step[] = [];
  const block = Buffer.alloc(piece, 'x');
  for (let sent = 0; sent < total; sent += piece) {
    const n = Math.min(piece, total - sent);
    steps.push({ write: Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), block.subarray(0, n), Buffer.from('\r\n')]) });
  }
  return steps;
}

export interface Target {
  path: string;
  limit: number;
  headers: Record<string, string>;
  /** A small valid-looking body start. */
  start: string;
}

/** Each scenario against each target, then the odd ones once; at most a few hundred connections. */
export async function socketAttacks(port: number, targets: Target[]): Promise<SocketOutcome[]> {
  const out: SocketOutcome[] = [];
  for (const t of targets) {
    const h = (extra: Record<string, string>) => head('POST', t.path, { ...t.headers, ...extra });
    const tag = (s: string) => `${s} ${t.path}`;
    out.push(await run(port, tag('truncated, then FIN'), [{ write: h({ 'content-length': '1000' }) + t.start }, { wait: 50 }, { end: true }]));
    out.push(await run(port, tag('truncated, then RST'), [{ write: h({ 'content-length': '1000' }) + t.start }, { wait: 50 }, { destroy: true }]));
    out.push(await run(port, tag('headers only, then RST'), [{ write: h({ 'content-length': '10' }).slice(0, -10) }, { wait: 50 }, { destroy: true }]));
    // Over the limit by 64 KB: 10 and 25 MB for the CSV import and uploads, on loopback.
    const over = t.limit + 64 * 1024;
    out.push(await run(port, tag(`chunked ${over} bytes`), [{ write: h({ 'transfer-encoding': 'chunked' }) }, ...chunked(over), { write: '0\r\n\r\n' }], 3000));
    out.push(await run(port, tag('chunked, hang up mid-body'), [{ write: h({ 'transfer-encoding': 'chunked' }) }, ...chunked(100_000, 10_000).slice(0, 3), { wait: 30 }, { destroy: true }]));
    out.push(await run(port, tag('chunked, bad framing'), [{ write: h({ 'transfer-encoding': 'chunked' }) + 'zz\r\nabc\r\n0\r\n\r\n' }]));
    out.push(await run(port, tag('chunked, no terminator, FIN'), [{ write: h({ 'transfer-encoding': 'chunked' }) + `5\r\n{"a":\r\n` }, { end: true }]));
    out.push(await run(port, tag('Content-Length and chunked'), [{ write: h({ 'content-length': '4', 'transfer-encoding': 'chunked' }) + '0\r\n\r\n' }]));
    out.push(await run(port, tag('Content-Length twice'), [{ write: head('POST', t.path, { ...t.headers, 'content-length': '2' }).replace('\r\n\r\n', '\r\ncontent-length: 3\r\n\r\n') + '{}' }]));
    out.push(await run(port, tag('Content-Length short, rest pipelined'), [{ write: h({ 'content-length': '2' }) + '{}GARBAGE / HTTP/1.1\r\n\r\n' }]));
    out.push(await run(port, tag('declared over the limit, no body'), [{ write: h({ 'content-length': String(t.limit + 1) }) }], 2000));
    out.push(await run(port, tag('Expect: 100-continue over the limit'), [{ write: h({ 'content-length': String(t.limit + 1), expect: '100-continue' }) }], 2000));
    out.push(await run(port, tag('Content-Length: -1'), [{ write: h({ 'content-length': '-1' }) + t.start }]));
    out.push(await run(port, tag('slow body, five pieces'), [
      { write: h({ 'content-length': String(Buffer.byteLength(t.start) * 5) }) },
      ...Array.from({ length: 5 }, () => [{ wait: 100 }, { write: t.start }] as Step[]).flat(),
    ]));
  }
  const odd: [string, Step[]][] = [
    ['request line of NULs', [{ write: '\u0000\u0001\u0002\r\n\r\n' }]],
    ['unknown method', [{ write: head('FOO', '/health', {}) }]],
    ['absolute-form target', [{ write: head('GET', 'http://evil.example/health', {}) }]],
    ['HTTP/9.9', [{ write: 'GET /health HTTP/9.9\r\nHost: x\r\n\r\n' }]],
    ['raw bytes in the path', [{ write: Buffer.concat([Buffer.from('GET /f/'), Buffer.from([0xed, 0xa0, 0x80, 0xff]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]) }]],
    ['a 20 KB header', [{ write: head('GET', '/health', { 'x-big': 'a'.repeat(20_000) }) }]],
    ['a header with a NUL', [{ write: head('GET', '/health', { 'x-nul': 'a\u0000b' }) }]],
    ['obsolete line folding', [{ write: 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n' }]],
    ['HTTP/1.0 without Host', [{ write: 'GET /health HTTP/1.0\r\n\r\n' }]],
    // The adapter builds the request URL from Host: ones a URL cannot take.
    ...['[', 'a b', 'evil.example:99999', 'user@host', 'x'.repeat(3000)].map(
      (host): [string, Step[]] => [`Host: ${host.slice(0, 20)}`, [{ write: `GET /f/1/embed?k=xxxxxxxxxx HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n` }]],
    ),
    ['pipelined, second cut short', [{ write: head('GET', '/health', {}) + 'POST /t HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{' }, { wait: 50 }, { end: true }]],
  ];
  for (const [name, steps] of odd) out.push(await run(port, name, steps));
  // Many clients hanging up mid-body at once.
  const t = targets[0]!;
  const many = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      run(port, `hang-up crowd #${i}`, [{ write: head('POST', t.path, { ...t.headers, 'content-length': '5000' }) + t.start }, { wait: 20 + (i % 5) * 10 }, { destroy: true }], 0),
    ),
  );
  out.push(...many);
  return out;
}
