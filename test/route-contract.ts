import { it, expect } from 'vitest';
import { expectError, makeApp } from './helpers';

// The promises every authenticated /api/v1 route keeps, checked route by route:
// auth and scope, body parsing and limits, strict bodies, hostile path ids.

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path with placeholder ids; the ids need not exist (these checks run before any lookup). */
  path: string;
  /** A valid JSON body for routes that take one. */
  body?: Record<string, unknown>;
  /** Path templates with `{id}` for the hostile-id sweep, e.g. '/api/v1/fields/{id}'. */
  idTemplate?: string;
}

const MB = 1024 * 1024;
export const HOSTILE_IDS = ['abc', '-1', '0', '1.5', '1e999', '9999999999999999999', '0x10', '%20', '%00', "1'%20OR%201=1", 'x'.repeat(500)];

const label = (r: RouteSpec) => `${r.method} ${r.path}`;

export function routeContract(routes: RouteSpec[]) {
  const isWrite = (r: RouteSpec) => r.method !== 'GET';
  const withBody = routes.filter((r) => r.body !== undefined);

  it('answers 401 with the error shape when no key is sent, or a bad one', async () => {
    const t = await makeApp();
    for (const r of routes) {
      expectError(await t.json(r.method, r.path, r.body, { key: null }), 401, 'UNAUTHORIZED');
      expectError(await t.json(r.method, r.path, r.body, { key: 'll_not_a_real_key' }), 401, 'UNAUTHORIZED');
    }
  });

  it('answers 403 to a read-only key on write routes, and lets it read', async () => {
    const t = await makeApp();
    for (const r of routes) {
      const res = await t.json(r.method, r.path, r.body, { key: t.keys.read });
      if (isWrite(r)) expectError(res, 403, 'FORBIDDEN');
      else expect(res.status, label(r)).not.toBe(403);
    }
  });

  it('answers 400 to malformed JSON', async () => {
    const t = await makeApp();
    for (const r of withBody) {
      for (const bad of ['{"a":', '{name: 1}', 'nul', '']) {
        const res = await t.json(r.method, r.path, bad, { headers: { 'content-type': 'application/json' } });
        // An empty body is "no JSON" too; either way it is a 4xx with the error shape, never a 500.
        if (bad === '') expect([400, 422], label(r)).toContain(res.status);
        else expectError(res, 400, 'BAD_REQUEST');
        expect(res.body.error.requestId, label(r)).toBeTruthy();
      }
    }
  });

  it('answers 415 to a JSON route sent another content type', async () => {
    const t = await makeApp();
    for (const r of withBody) {
      const text = JSON.stringify(r.body);
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        expectError(await t.json(r.method, r.path, text, { headers: { 'content-type': type } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      }
    }
  });

  it('answers 422 naming an unknown body field', async () => {
    const t = await makeApp();
    for (const r of withBody) {
      const res = await t.json(r.method, r.path, { ...r.body, bogus_field: 1 });
      expectError(res, 422, 'VALIDATION_FAILED');
      expect(res.body.error.details, label(r)).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'bogus_field' })]));
    }
  });

  it('answers 413 to a body over 1 MB, with or without a declared length', async () => {
    const t = await makeApp();
    const big = JSON.stringify({ ...(withBody[0]?.body ?? {}), pad: 'x'.repeat(MB) });
    for (const r of routes.filter(isWrite)) {
      // Streamed (no Content-Length): counted while reading.
      expectError(await t.json(r.method, r.path, big, { headers: { 'content-type': 'application/json' } }), 413, 'PAYLOAD_TOO_LARGE');
      // Declared length: refused before reading.
      const res = await t.app.request(r.path, {
        method: r.method,
        headers: { authorization: `Bearer ${t.keys.admin}`, 'content-type': 'application/json', 'content-length': String(big.length) },
        body: big,
      });
      const text = await res.text();
      expectError({ status: res.status, body: JSON.parse(text) }, 413, 'PAYLOAD_TOO_LARGE');
    }
  });

  it('never answers 500 to hostile ids, and keeps the error shape', async () => {
    const t = await makeApp();
    for (const r of routes.filter((x) => x.idTemplate)) {
      for (const id of HOSTILE_IDS) {
        const path = r.idTemplate!.replaceAll('{id}', id);
        const res = await t.json(r.method, path, r.body);
        expect(res.status, `${r.method} ${path}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${r.method} ${path}`).toBeLessThan(500);
        expect(typeof res.body?.error?.code, `${r.method} ${path}`).toBe('string');
        expect(res.body.error.requestId, `${r.method} ${path}`).toBeTruthy();
      }
    }
  });
}

/** A 2xx, or a 4xx with the error shape; never a 5xx. */
export function expectNot500(res: { status: number; body: any }, what: string) {
  expect(res.status, what).toBeLessThan(500);
  if (res.status >= 400) {
    expect(typeof res.body?.error?.code, what).toBe('string');
    expect(res.body.error.requestId, what).toBeTruthy();
  }
}

/** Query strings that must never give a 500 on list routes (forged cursors may give a page). */
export const HOSTILE_QUERIES = [
  'limit=0',
  'limit=101',
  'limit=abc',
  'limit=1e999',
  'limit=-5',
  'limit=9999999999999999999',
  'cursor=!!!',
  'cursor=' + 'a'.repeat(201),
  // Well-formed base64url of JSON that is not a cursor.
  'cursor=' + btoa('{"a":1}').replace(/=+$/, ''),
  'cursor=' + btoa('[1e999,1]').replace(/=+$/, ''),
  'cursor=' + btoa('["x",1.5]').replace(/=+$/, ''),
  'cursor=' + btoa('[null,-1]').replace(/=+$/, ''),
];
