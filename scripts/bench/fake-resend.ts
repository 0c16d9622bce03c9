// A stand-in for Resend's POST /emails/batch on 127.0.0.1 for the email benchmark: the same
// idempotency promises as test/fixtures/fake-resend.ts (a key seen before with the same
// payload answers the first answer and delivers nothing; another payload is 409
// invalid_idempotent_request; a key still being answered is 409 concurrent_idempotent_requests),
// no rate limit, and it keeps no message bodies (100,000 newsletters of 20 KB would not fit):
// only receipts per send, by the leadline_send tag every message carries.
import { createServer, type IncomingMessage } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface BenchResend {
  url: string;
  /** Deliveries per send id (the leadline_send tag). */
  receipts: Map<number, number>;
  /** Messages delivered (each counted once per delivery). */
  delivered: number;
  requests: number;
  replays: number;
  bytes: number;
  close(): Promise<void>;
}

const read = (req: IncomingMessage) =>
  new Promise<Buffer>((done, fail) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => done(Buffer.concat(parts)));
    req.on('error', fail);
  });

export async function startBenchResend(apiKey: string): Promise<BenchResend> {
  const stored = new Map<string, { hash: string; body: string }>();
  const inFlight = new Set<string>();
  const fake: BenchResend = { url: '', receipts: new Map(), delivered: 0, requests: 0, replays: 0, bytes: 0, close: async () => {} };
  const server = createServer(async (req, res) => {
    const raw = await read(req);
    const answer = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    };
    if (req.method !== 'POST' || req.url !== '/emails/batch') return answer(404, '{"statusCode":404,"name":"not_found","message":"Not found"}');
    if (req.headers.authorization !== `Bearer ${apiKey}`) return answer(401, '{"statusCode":401,"name":"invalid_api_key","message":"API key is invalid"}');
    fake.requests++;
    fake.bytes += raw.length;
    const key = (req.headers['idempotency-key'] as string | undefined) ?? null;
    const hash = createHash('sha256').update(raw).digest('hex');
    if (key) {
      const prior = stored.get(key);
      if (prior) {
        if (prior.hash !== hash) return answer(409, '{"statusCode":409,"name":"invalid_idempotent_request","message":"Same idempotency key used with a different request payload."}');
        fake.replays++;
        return answer(200, prior.body);
      }
      if (inFlight.has(key)) return answer(409, '{"statusCode":409,"name":"concurrent_idempotent_requests","message":"Same idempotency key used while original request is still in progress."}');
      inFlight.add(key);
    }
    try {
      const emails = JSON.parse(raw.toString('utf8')) as { tags?: { name: string; value: string }[] }[];
      const data = emails.map((e) => {
        const tag = e.tags?.find((t) => t.name === 'leadline_send');
        if (tag) {
          const id = Number(tag.value);
          fake.receipts.set(id, (fake.receipts.get(id) ?? 0) + 1);
        }
        fake.delivered++;
        return { id: randomUUID() };
      });
      const body = JSON.stringify(req.headers['x-batch-validation'] === 'permissive' ? { data, errors: [] } : { data });
      if (key) stored.set(key, { hash, body });
      return answer(200, body);
    } finally {
      if (key) inFlight.delete(key);
    }
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return fake;
}
