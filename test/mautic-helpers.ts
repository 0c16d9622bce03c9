import { expect } from 'vitest';
import type { TestApp } from './helpers';

/** Mautic's clients send the API key as the password of HTTP Basic auth. */
export const basic = (key: string, user = 'n8n') => `Basic ${Buffer.from(`${user}:${key}`).toString('base64')}`;

export interface MauticReply {
  status: number;
  body: any;
  text: string;
  res: Response;
}

/** A request to the Mautic-compatible API; every answer must carry Mautic-Version and be JSON. */
export async function mautic(
  t: TestApp,
  method: string,
  path: string,
  body?: unknown,
  opts: { key?: string | null; headers?: Record<string, string>; raw?: string } = {},
): Promise<MauticReply> {
  const headers: Record<string, string> = { ...opts.headers };
  const key = opts.key === undefined ? t.keys.admin : opts.key;
  if (key) headers.authorization ??= basic(key);
  let payload: string | undefined = opts.raw;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await t.app.request(path, { method, headers, body: payload });
  const text = await res.text();
  expect(res.headers.get('mautic-version'), `${method} ${path}`).toBe('5.1.0');
  expect(res.headers.get('content-type'), `${method} ${path}`).toMatch(/^application\/json/);
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${path} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, body: parsed, text, res };
}

/** Asserts Mautic's error envelope with this status. */
export function expectMauticError(r: MauticReply, status: number, message?: RegExp) {
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${r.text.slice(0, 500)}`);
  expect(Object.keys(r.body)).toEqual(['errors']);
  expect(r.body.errors).toHaveLength(1);
  const e = r.body.errors[0];
  expect(e.code).toBe(status);
  expect(typeof e.message).toBe('string');
  expect(e.message.length).toBeGreaterThan(0);
  expect('details' in e && 'type' in e).toBe(true);
  if (message) expect(e.message).toMatch(message);
}
