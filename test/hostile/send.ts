// Sends a generated request in process (app.request) or over HTTP to a real server.
import http from 'node:http';
import type { HostileRequest } from './generate';
import type { Answer } from './judge';

const ANSWER_WITHIN_MS = 20_000;

/** The body as a stream of pieces, so the app sees no Content-Length, as with a chunked upload. */
function pieces(body: string | Uint8Array): ReadableStream<Uint8Array> {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const size = Math.max(1, Math.ceil(bytes.length / 7));
  let at = 0;
  return new ReadableStream({
    pull(ctrl) {
      if (at >= bytes.length) return ctrl.close();
      ctrl.enqueue(bytes.subarray(at, (at += size)));
    },
  });
}

export type Sent = { answer: Answer } | { unsendable: string } | { error: string };

async function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ANSWER_WITHIN_MS} ms: ${what}`)), ANSWER_WITHIN_MS)))]);
  } finally {
    clearTimeout(timer);
  }
}

export async function sendInProcess(fetchLike: (req: Request) => Response | Promise<Response>, req: HostileRequest): Promise<Sent> {
  let request: Request;
  try {
    const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers: req.headers };
    if (req.body !== undefined) {
      init.body = req.stream ? pieces(req.body) : (req.body as BodyInit);
      if (req.stream) init.duplex = 'half';
    }
    request = new Request(`http://localhost${req.path}`, init);
  } catch (e) {
    return { unsendable: (e as Error).message };
  }
  try {
    const res = await bounded(Promise.resolve(fetchLike(request)), `${req.method} ${req.path.slice(0, 100)}`);
    const text = await bounded(res.text(), 'reading the answer');
    return { answer: { status: res.status, contentType: res.headers.get('content-type') ?? '', text } };
  } catch (e) {
    return { error: (e as Error).stack ?? String(e) };
  }
}

export function sendHttp(port: number, agent: http.Agent, req: HostileRequest): Promise<Sent> {
  if (req.declared !== undefined) return Promise.resolve({ unsendable: 'a declared length that is not the body’s' });
  return new Promise((resolve) => {
    const body = req.body === undefined ? undefined : typeof req.body === 'string' ? Buffer.from(req.body) : Buffer.from(req.body);
    const headers: Record<string, string> = { ...req.headers };
    if (body && !req.stream) headers['content-length'] = String(body.length);
    // Node's client frames a GET or DELETE body only when told to; unframed, the body would read as the next request.
    if (body && req.stream) headers['transfer-encoding'] = 'chunked';
    // After an early 413 (body unread) or a 431 the server may close the connection under a keep-alive
    // client; such requests get a connection of their own, so the next request is not the one to see it.
    const headBytes = req.path.length + Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
    const own = !!req.expect?.includes(413) || headBytes > 16 * 1024;
    let r: http.ClientRequest;
    try {
      r = http.request({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent: own ? false : agent, timeout: ANSWER_WITHIN_MS });
    } catch (e) {
      return resolve({ unsendable: (e as Error).message });
    }
    r.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () =>
        resolve({ answer: { status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') } }),
      );
      res.on('error', (e) => resolve({ error: `response: ${e.message}` }));
    });
    r.on('timeout', () => r.destroy(new Error(`no answer within ${ANSWER_WITHIN_MS} ms`)));
    r.on('error', (e) => resolve({ error: `${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}` }));
    if (body && req.stream) {
      const size = Math.max(1, Math.ceil(body.length / 7));
      for (let at = 0; at < body.length; at += size) r.write(body.subarray(at, at + size));
      r.end();
    } else r.end(body);
  });
}
