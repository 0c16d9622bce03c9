// The built Node server (dist/node.mjs) as a child process on 127.0.0.1, and a raw HTTP/1.1
// client that counts the bytes as they arrive on the socket (fetch would decode them first).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The project's root: the nearest folder above this file with a package.json (test/, or dist/bench/ when a benchmark bundles this file). */
export const root = (() => {
  let dir = join(import.meta.dirname, '..');
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

export function ensureBuilt(): void {
  if (!existsSync(join(root, 'dist/node.mjs'))) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface NodeServer {
  port: number;
  dir: string;
  dbPath: string;
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (null when ended by a signal). */
  exited: Promise<number | null>;
  /** Sends a signal and waits for the exit (bounded); SIGKILL if it does not come. */
  stop: (signal?: NodeJS.Signals, waitMs?: number) => Promise<number | null>;
}

export const ADMIN_KEY = 'test-admin-key-that-is-long-enough';

/** Starts dist/node.mjs on a free port with its own database file; resolves once it is listening (logged at LOG_LEVEL info). */
export async function startNode(env: Record<string, string> = {}): Promise<NodeServer> {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'leadline-node-'));
  const dbPath = join(dir, 'leadline.db');
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, 'dist/node.mjs')], {
    cwd: dir,
    env: { PATH: process.env.PATH!, PORT: String(port), DATABASE_URL: `file:${dbPath}`, ADMIN_API_KEY: ADMIN_KEY, LOG_LEVEL: 'info', ...env },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop: NodeServer['stop'] = async (signal = 'SIGTERM', waitMs = 15_000) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), waitMs)))]);
    clearTimeout(timer);
    if (code === 'timeout') {
      child.kill('SIGKILL');
      throw new Error(`server did not exit within ${waitMs} ms of ${signal}:\n${out}`);
    }
    return code;
  };
  const started = Date.now();
  while (!/listening/.test(out)) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}`);
    if (Date.now() - started > 15_000) {
      child.kill('SIGKILL');
      throw new Error(`server did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { port, dir, dbPath, child, output: () => out, exited, stop };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** The body as sent (still encoded), with chunked framing removed. */
  body: Buffer;
  /** Every byte received on the socket: status line, headers and body. */
  wireBytes: number;
  /** Bytes received after the header block (the body as framed on the wire). */
  bodyWireBytes: number;
  /** Chunks in a chunked body (0 otherwise): more than one means it was sent as it was made. */
  chunks: number;
}

/** One request on its own connection (Connection: close), read to the end of the socket. */
export function rawRequest(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(opts.timeoutMs ?? 10_000, () => socket.destroy(new Error('timed out')));
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      socket.destroy();
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (e) {
        reject(e);
      }
    };
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      // Some servers (workerd) keep the connection a while despite Connection: close.
      if (isComplete(Buffer.concat(chunks), opts.method === 'HEAD')) finish();
    });
    socket.on('error', (e) => (done ? undefined : reject(e)));
    socket.on('end', finish);
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    const headers: Record<string, string> = { host: `127.0.0.1:${port}`, connection: 'close', ...opts.headers };
    if (body) headers['content-length'] = String(body.length);
    const head = `${opts.method ?? 'GET'} ${opts.path} HTTP/1.1\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`;
    // write, not end: a half-closed socket makes Node's server drop an answer still being made.
    socket.write(body ? Buffer.concat([Buffer.from(head), body]) : head);
  });
}

function isComplete(all: Buffer, head: boolean): boolean {
  const end = all.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const text = all.subarray(0, end).toString('latin1');
  const status = Number(text.split(' ')[1]);
  if (head || status === 204 || status === 304) return true;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(text);
  if (length) return all.length - end - 4 >= Number(length[1]);
  if (/\r\ntransfer-encoding:\s*chunked/i.test(text)) return all.subarray(all.length - 5).toString('latin1') === '0\r\n\r\n';
  return false;
}

function parseResponse(all: Buffer): RawResponse {
  const end = all.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no complete response head in ${all.length} bytes`);
  const [statusLine, ...lines] = all.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const framed = all.subarray(end + 4);
  let body = framed;
  let chunks = 0;
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts: Buffer[] = [];
    let at = 0;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const eol = framed.indexOf('\r\n', at);
      const size = parseInt(framed.subarray(at, eol).toString('latin1'), 16);
      if (!(size > 0)) break;
      parts.push(framed.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
    chunks = parts.length;
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body, wireBytes: all.length, bodyWireBytes: framed.length, chunks };
}
