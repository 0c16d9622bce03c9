// Shared pieces of the webhook tests: a receiver on 127.0.0.1 that records what it gets and
// answers as told, a Standard Webhooks verifier written from the specification (not the
// standardwebhooks package the server signs with), and a way to let the spine and the sender
// finish their work.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { TestApp } from './helpers';
import { runReactions } from '../api/core/spine/run';
import { kickWebhooks } from '../api/core/webhooks/deliver';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
}

export interface Receiver {
  url: (path?: string) => string;
  port: number;
  got: Received[];
  /** Answers the next requests with these statuses (then 204 again); a function decides per request. */
  answer: (statuses: number[] | ((r: Received) => number)) => void;
  clear: () => void;
  close: () => Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const got: Received[] = [];
  let plan: number[] | ((r: Received) => number) = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        // not JSON: kept as text
      }
      const r: Received = { path: req.url ?? '', headers: req.headers, body, json };
      got.push(r);
      if (req.url === '/redirect') return void res.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere` }).end();
      const status = typeof plan === 'function' ? plan(r) : (plan.shift() ?? 204);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? `refused by the receiver for ${r.json?.data?.contact?.email ?? 'nobody'}` : 'ok thanks');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    got,
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    answer: (p) => (plan = typeof p === 'function' ? p : [...p]),
    clear: () => {
      got.length = 0;
      plan = [];
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * Standard Webhooks verification, by the specification: the key is the base64 after `whsec_`;
 * the signed content is `<webhook-id>.<webhook-timestamp>.<body>`; webhook-signature holds
 * space-separated `v1,<base64 HMAC-SHA256>` entries, any of which may match.
 */
export function verifies(secret: string, r: Pick<Received, 'headers' | 'body'>): boolean {
  const id = r.headers['webhook-id'];
  const ts = r.headers['webhook-timestamp'];
  const sig = r.headers['webhook-signature'];
  if (typeof id !== 'string' || typeof ts !== 'string' || typeof sig !== 'string' || !/^\d+$/.test(ts)) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${ts}.${r.body}`).digest();
  return sig.split(' ').some((part) => {
    const [version, value] = part.split(',');
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** Runs the reactions (which queue deliveries and wake the sender), then waits for the sender to finish. */
export async function settle(t: TestApp): Promise<void> {
  await runReactions(t.ctx);
  await kickWebhooks(t.ctx);
}

/** The deliveries table as it is, oldest first. */
export async function deliveries(t: TestApp, where = '1', args: (string | number)[] = []) {
  const r = await t.client.execute({ sql: `SELECT * FROM webhook_deliveries WHERE ${where} ORDER BY id`, args });
  return r.rows as unknown as Record<string, any>[];
}

export async function subscribe(t: TestApp, body: Record<string, unknown>) {
  const r = await t.json('POST', '/api/v1/webhooks', body);
  if (r.status !== 201) throw new Error(`subscribe: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { id: number; secret: string; [k: string]: any };
}
