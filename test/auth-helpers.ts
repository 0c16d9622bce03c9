import { expect } from 'vitest';
import { settleDeferred } from '../api/routes/defer';
import { runSendLoop } from '../api/core/email/loop';
import { bootstrapFirstAdmin } from '../api/core/access/users';
import type { TestApp } from './helpers';

export const ORIGIN = 'http://localhost';

export interface Signed {
  cookie: string;
  csrf: string;
  user: { id: number; email: string; name: string; role: string };
}

/** The ll_session cookie pair (name=value) of a Set-Cookie header, or null. */
export function sessionCookie(res: Response): string | null {
  const set = res.headers.get('set-cookie');
  const m = set && /(?:^|,\s*)(ll_session=[^;]*)/.exec(set);
  return m ? m[1]! : null;
}

/** A request as the dashboard makes it: the cookie, Origin and (on writes) the CSRF token. */
export function asUser(t: TestApp, s: Pick<Signed, 'cookie' | 'csrf'> | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const h: Record<string, string> = { origin: ORIGIN, ...headers };
  if (s) h.cookie = s.cookie;
  if (s && method !== 'GET' && !('x-csrf-token' in headers)) h['x-csrf-token'] = s.csrf;
  for (const [k, v] of Object.entries(headers)) if (v === '') delete h[k];
  if (body !== undefined) h['content-type'] ??= 'application/json';
  return t.app.request(path, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
}

export async function jsonOf(r: Response | Promise<Response>): Promise<{ status: number; body: any; res: Response }> {
  const res = await r;
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, res };
}

export async function login(t: TestApp, email: string, password: string, headers: Record<string, string> = {}): Promise<Signed> {
  const res = await asUser(t, null, 'POST', '/api/v1/auth/login', { email, password }, headers);
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return { cookie: sessionCookie(res)!, csrf: body.csrf_token, user: body.user };
}

/** Sends what is queued and answers the newest outbox message to `to` (admin key), with its link's token. */
export async function lastMail(t: TestApp, to: string): Promise<{ subject: string; text: string; html: string; token: string; link: string }> {
  await settleDeferred();
  await runSendLoop(t.ctx);
  const list = await t.json('GET', `/api/v1/outbox?to=${encodeURIComponent(to)}&limit=1`);
  expect(list.body.data.length, `no mail to ${to}`).toBe(1);
  const m = (await t.json('GET', `/api/v1/outbox/${list.body.data[0].id}`)).body;
  const link = /https?:\/\/\S+token=[A-Za-z0-9]+\S*/.exec(m.text)![0];
  return { subject: m.subject, text: m.text, html: m.html, link, token: new URL(link).searchParams.get('token')! };
}

/** Invites (admin key) and accepts: a user with this role who can sign in. */
export async function addUser(t: TestApp, role: string, email: string, password = 'correct horse battery'): Promise<Signed> {
  const inv = await t.json('POST', '/api/v1/users', { email, role });
  expect(inv.status, JSON.stringify(inv.body)).toBe(201);
  const { token } = await lastMail(t, email);
  const res = await asUser(t, null, 'POST', '/api/v1/auth/invitations/accept', { token, name: `${role} user`, password });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return { cookie: sessionCookie(res)!, csrf: body.csrf_token, user: body.user };
}

/** The first admin through the setup link, as a fresh install does it. */
export async function firstAdmin(t: TestApp, email = 'admin@example.com', password = 'correct horse battery', headers: Record<string, string> = {}): Promise<Signed> {
  const { link } = await bootstrapFirstAdmin({ ctx: t.ctx, input: { base: ORIGIN } });
  const token = new URL(link!).searchParams.get('token')!;
  const res = await asUser(t, null, 'POST', '/api/v1/auth/setup', { token, email, name: 'Ada Admin', password }, headers);
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return { cookie: sessionCookie(res)!, csrf: body.csrf_token, user: body.user };
}
