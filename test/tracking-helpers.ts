import { createHmac } from 'node:crypto';
import type { TestApp } from './helpers';
import type { HitQueue, QueuedMessage } from '../api/core/tracking/queue';

export const CHROME_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

export async function makeSite(t: TestApp, body: Record<string, unknown> = {}) {
  const r = await t.json('POST', '/api/v1/sites', { name: 'Site', allowed_origins: ['https://shop.example.com'], ...body });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return r.body as { id: number; public_key: string; secret: string };
}

export const vid = (n: number | string = 1) => `visitor${String(n).padStart(12, '0')}`;

/** POST /t as a browser on `origin` would send it (text/plain, like sendBeacon). */
export function track(t: TestApp, payload: unknown, opts: { origin?: string | null; ua?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': opts.ua ?? CHROME_UA, ...opts.headers };
  if (opts.origin !== null) headers.origin = opts.origin ?? 'https://shop.example.com';
  return t.app.request('/t', { method: 'POST', headers, body: typeof payload === 'string' ? payload : JSON.stringify(payload) });
}

export function sign(secret: string, email: string) {
  return createHmac('sha256', secret).update(email.trim().toLowerCase()).digest('hex');
}

export async function runJob(t: TestApp, name = 'reactions') {
  const r = await t.json('POST', `/api/v1/jobs/${name}`);
  if (r.status !== 200) throw new Error(JSON.stringify(r.body));
  return r.body.result;
}

export async function count(t: TestApp, sql: string, args: (string | number)[] = []) {
  const r = await t.client.execute({ sql, args });
  return Number(r.rows[0]!.n);
}

/** The tracking Queue as its producer sees it (a stand-in for the Workers binding): it keeps what it accepts, or refuses everything while `down`. */
export function memoryQueue() {
  const sent: QueuedMessage[] = [];
  const q = {
    down: false as boolean,
    sent,
    async send(body: QueuedMessage) {
      if (q.down) throw new Error('Queue send failed: the test says no');
      sent.push(structuredClone(body));
    },
    async sendBatch(messages: { body: QueuedMessage }[]) {
      if (q.down) throw new Error('Queue send failed: the test says no');
      for (const m of messages) sent.push(structuredClone(m.body));
    },
  } satisfies HitQueue & { down: boolean; sent: QueuedMessage[] };
  return q;
}
