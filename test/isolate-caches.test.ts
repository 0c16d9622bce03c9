// What must agree across Worker isolates: two app instances on one database stand in for two
// isolates (each has its own context, so its own caches), with a clock each. A change made through
// one takes effect there at once, and on the other within the TTL the code and the README state
// (10 s for sites and focus items), with nothing but the clock moved; an API key is never cached, so
// a revoke holds everywhere at once. And the per-IP limiter seam: a Rate Limiting binding decides
// when there is one, the in-memory count takes over when it fails.
import { describe, expect, it } from 'vitest';
import { createApp } from '../api/app';
import { createCtx } from '../api/core/context';
import type { RateLimitBinding } from '../api/core/access/rate-limits';
import { expectError, makeApp, type TestApp } from './helpers';
import { CHROME_UA, count, makeSite, vid } from './tracking-helpers';

const SHOP = 'https://shop.example.com';
const BLOG = 'https://blog.example.com';
// The worst case the README states for another isolate.
const STATED_TTL_MS = 10_000;

/** Two instances ("isolates") of the app on one database, each with its own context and clock. */
async function twoIsolates() {
  const clock = { a: 1_800_000_000_000, b: 1_800_000_000_000 };
  const a = await makeApp({ now: () => clock.a });
  const ctxB = createCtx({ client: a.client, config: a.ctx.config, now: () => clock.b });
  const b: TestApp = { ...a, ctx: ctxB, app: createApp({ ctx: ctxB }) };
  b.call = (method, path, body, o = {}) =>
    Promise.resolve(
      b.app.request(path, {
        method,
        headers: { authorization: `Bearer ${o.key ?? a.keys.admin}`, ...(body !== undefined && { 'content-type': 'application/json' }), ...o.headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
  b.json = async (method, path, body, o) => {
    const res = await b.call(method, path, body, o);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  return { a, b, clock };
}

const hit = (t: TestApp, key: string, origin: string) =>
  t.app.request('/t', {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': CHROME_UA, origin },
    body: JSON.stringify({ k: key, v: vid(7), e: [{ t: 'pv', u: `${origin}/` }] }),
  });

async function focusIds(t: TestApp, key: string): Promise<number[]> {
  const res = await t.app.request(`/focus?k=${key}&u=${encodeURIComponent(`${SHOP}/`)}`, { headers: { origin: SHOP, 'user-agent': CHROME_UA } });
  const body = (await res.json()) as any;
  if (res.status !== 200) throw new Error(JSON.stringify(body));
  return body.items.map((i: { id: number }) => i.id);
}

describe('caches that must agree across isolates', () => {
  it('an origin taken off a site’s allow-list: refused at once where it was changed, on another isolate within 10 s', async () => {
    const { a, b, clock } = await twoIsolates();
    const site = await makeSite(a, { allowed_origins: [SHOP, BLOG] });
    // Both isolates have the site cached, blog allowed.
    expect((await hit(a, site.public_key, BLOG)).status).toBe(202);
    expect((await hit(b, site.public_key, BLOG)).status).toBe(202);

    expect((await a.json('PATCH', `/api/v1/sites/${site.id}`, { allowed_origins: [SHOP] })).status).toBe(200);
    const here = await hit(a, site.public_key, BLOG);
    expectError({ status: here.status, body: await here.json() }, 403, 'ORIGIN_NOT_ALLOWED');

    // The other isolate answers from its cache until the stated TTL, and no longer.
    clock.b += STATED_TTL_MS - 1;
    expect((await hit(b, site.public_key, BLOG)).status).toBe(202);
    clock.b += 1;
    const there = await hit(b, site.public_key, BLOG);
    expectError({ status: there.status, body: await there.json() }, 403, 'ORIGIN_NOT_ALLOWED');
    expect((await hit(b, site.public_key, SHOP)).status).toBe(202);
  });

  it('a deleted site: nothing is written for it anywhere, and its key is refused on another isolate within 10 s', async () => {
    const { a, b, clock } = await twoIsolates();
    const site = await makeSite(a);
    expect((await hit(b, site.public_key, SHOP)).status).toBe(202);
    expect((await a.call('DELETE', `/api/v1/sites/${site.id}`)).status).toBe(200);
    expect((await hit(a, site.public_key, SHOP)).status).toBe(404);
    // Within the TTL the other isolate still takes the hit, but nothing is written for a site
    // that is gone (the write checks the database; /t answers once its hit is committed).
    expect((await hit(b, site.public_key, SHOP)).status).toBe(202);
    expect(await count(a, 'SELECT count(*) AS n FROM events WHERE site_id = ?', [site.id])).toBe(0);
    expect(await count(a, 'SELECT count(*) AS n FROM visitors WHERE site_id = ?', [site.id])).toBe(0);
    clock.b += STATED_TTL_MS;
    expect((await hit(b, site.public_key, SHOP)).status).toBe(404);
  });

  it('a paused focus item leaves GET /focus at once where it was paused, on another isolate within 10 s', async () => {
    const { a, b, clock } = await twoIsolates();
    const site = await makeSite(a);
    const item = await a.json('POST', '/api/v1/focus-items', {
      name: 'Offer',
      site_id: site.id,
      style: { type: 'bar', position: 'top', sticky: true, colors: { background: '#ffffff', text: '#111111', button: '#2563eb' } },
      content: { kind: 'link', heading: 'Spring sale', body: '20% off', cta: { label: 'Shop now', url: `${SHOP}/sale` } },
    });
    expect(item.status, JSON.stringify(item.body)).toBe(201);
    expect(await focusIds(a, site.public_key)).toEqual([item.body.id]);
    expect(await focusIds(b, site.public_key)).toEqual([item.body.id]);

    expect((await a.json('PATCH', `/api/v1/focus-items/${item.body.id}`, { active: false })).status).toBe(200);
    expect(await focusIds(a, site.public_key)).toEqual([]);
    clock.b += STATED_TTL_MS - 1;
    expect(await focusIds(b, site.public_key)).toEqual([item.body.id]);
    clock.b += 1;
    expect(await focusIds(b, site.public_key)).toEqual([]);
  });

  it('a revoked API key is refused on every isolate at once (keys are never cached)', async () => {
    const { a, b } = await twoIsolates();
    const made = await a.json('POST', '/api/v1/api-keys', { name: 'CRM sync', scopes: ['read'] });
    expect(made.status).toBe(201);
    const secret = made.body.secret as string;
    expect((await b.json('GET', '/api/v1/contacts', undefined, { key: secret })).status).toBe(200);
    expect((await a.json('DELETE', `/api/v1/api-keys/${made.body.key?.id ?? made.body.id}`)).status).toBe(200);
    // No clock moves: the very next request on the other isolate is refused.
    expectError(await b.json('GET', '/api/v1/contacts', undefined, { key: secret }), 401, 'UNAUTHORIZED');
  });
});

describe('the per-IP limiter seam', () => {
  const binding = (answer: () => Promise<{ success: boolean }>) => {
    const keys: string[] = [];
    const b: RateLimitBinding = { limit: ({ key }) => (keys.push(key), answer()) };
    return { b, keys };
  };
  const focus = (t: TestApp, key: string, ip: string) =>
    t.app.request(`/focus?k=${key}&u=${encodeURIComponent(`${SHOP}/`)}`, { headers: { origin: SHOP, 'user-agent': CHROME_UA, 'x-ip': ip } });
  const byHeader = { clientIp: (c: { req: { header: (n: string) => string | undefined } }) => c.req.header('x-ip') ?? null };

  it('with a binding, the binding decides (keyed by endpoint and IP): 429, the error shape, Retry-After its 60 s period', async () => {
    let allow = true;
    const { b, keys } = binding(async () => ({ success: allow }));
    const t = await makeApp({ memory: true, env: { PUBLIC_RATE_LIMIT: '1' }, public: { ...byHeader, rateLimits: { public: b } } });
    const site = await makeSite(t);
    // PUBLIC_RATE_LIMIT (1) is not what counts: the binding lets these through.
    for (let i = 0; i < 3; i++) expect((await focus(t, site.public_key, '192.0.2.1')).status).toBe(200);
    expect(keys).toEqual(['focus|192.0.2.1', 'focus|192.0.2.1', 'focus|192.0.2.1']);
    allow = false;
    const res = await focus(t, site.public_key, '192.0.2.1');
    expectError({ status: res.status, body: await res.json() }, 429, 'RATE_LIMITED');
    expect(res.headers.get('retry-after')).toBe('60');
  });

  it('a binding that fails: counted in this isolate’s memory instead (PUBLIC_RATE_LIMIT), neither all let through nor all refused', async () => {
    const { b } = binding(async () => {
      throw new Error('rate limiter unavailable');
    });
    const t = await makeApp({ memory: true, env: { PUBLIC_RATE_LIMIT: '2' }, public: { ...byHeader, rateLimits: { public: b } } });
    const site = await makeSite(t);
    expect((await focus(t, site.public_key, '192.0.2.2')).status).toBe(200);
    expect((await focus(t, site.public_key, '192.0.2.2')).status).toBe(200);
    const res = await focus(t, site.public_key, '192.0.2.2');
    expectError({ status: res.status, body: await res.json() }, 429, 'RATE_LIMITED');
    expect((await focus(t, site.public_key, '192.0.2.3')).status).toBe(200);
  });
});
