import { describe, it, expect } from 'vitest';
import { makeApp, expectError } from './helpers';
import { bootstrapAdminKey } from '../api/core/access/api-keys';

describe('API keys and scopes', () => {
  it('creates a key whose secret is shown once and stored only as a hash', async () => {
    const t = await makeApp();
    const created = await t.json('POST', '/api/v1/api-keys', { name: 'CRM sync', scopes: ['read', 'write'] });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^ll_[A-Za-z0-9]{40}$/);
    expect(created.body).toMatchObject({ name: 'CRM sync', scopes: ['read', 'write'], revoked_at: null });
    expect(created.body.secret.startsWith(created.body.prefix)).toBe(true);

    const stored = await t.client.execute('SELECT * FROM api_keys');
    expect(JSON.stringify(stored.rows)).not.toContain(created.body.secret);

    const list = await t.json('GET', '/api/v1/api-keys');
    expect(list.status).toBe(200);
    const listed = list.body.data.find((k: any) => k.id === created.body.id);
    expect(listed).toMatchObject({ name: 'CRM sync', prefix: created.body.prefix });
    expect(listed.secret).toBeUndefined();
    expect(JSON.stringify(list.body)).not.toContain(created.body.secret);

    // The new key works for its scopes and records its use.
    const r = await t.json('GET', '/api/v1/contacts', undefined, { key: created.body.secret });
    expect(r.status).toBe(200);
    const after = await t.json('GET', '/api/v1/api-keys');
    expect(after.body.data.find((k: any) => k.id === created.body.id).last_used_at).not.toBeNull();
  });

  it('revoked keys stop working at once', async () => {
    const t = await makeApp();
    const { body } = await t.json('POST', '/api/v1/api-keys', { name: 'temp', scopes: ['read'] });
    expect((await t.json('GET', '/api/v1/contacts', undefined, { key: body.secret })).status).toBe(200);
    const revoked = await t.json('DELETE', `/api/v1/api-keys/${body.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).not.toBeNull();
    expectError(await t.json('GET', '/api/v1/contacts', undefined, { key: body.secret }), 401, 'UNAUTHORIZED');
    expectError(await t.json('DELETE', '/api/v1/api-keys/99999'), 404, 'NOT_FOUND');
  });

  it('answers 401 without a key or with a bad one, 403 for a missing scope', async () => {
    const t = await makeApp();
    expectError(await t.json('GET', '/api/v1/contacts', undefined, { key: null }), 401, 'UNAUTHORIZED');
    expectError(await t.json('GET', '/api/v1/contacts', undefined, { key: 'll_notakey' }), 401, 'UNAUTHORIZED');
    expectError(
      await t.json('GET', '/api/v1/contacts', undefined, { key: null, headers: { authorization: 'Basic abc' } }),
      401,
      'UNAUTHORIZED',
    );
    // read < write < admin
    expect((await t.json('GET', '/api/v1/contacts', undefined, { key: t.keys.read })).status).toBe(200);
    expectError(await t.json('POST', '/api/v1/contacts', { email: 'a@b.co' }, { key: t.keys.read }), 403, 'FORBIDDEN');
    expect((await t.json('POST', '/api/v1/contacts', { email: 'a@b.co' }, { key: t.keys.write })).status).toBe(201);
    expectError(await t.json('GET', '/api/v1/api-keys', undefined, { key: t.keys.write }), 403, 'FORBIDDEN');
    expectError(await t.json('POST', '/api/v1/api-keys', { name: 'x', scopes: ['admin'] }, { key: t.keys.write }), 403, 'FORBIDDEN');
    expect((await t.json('GET', '/api/v1/api-keys', undefined, { key: t.keys.admin })).status).toBe(200);
    // A failed request still carries a request id, also as a header.
    const res = await t.call('GET', '/api/v1/contacts', undefined, { key: null });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('validates key creation input', async () => {
    const t = await makeApp();
    expectError(await t.json('POST', '/api/v1/api-keys', { name: '', scopes: ['read'] }), 422, 'VALIDATION_FAILED');
    const r = await t.json('POST', '/api/v1/api-keys', { name: 'x', scopes: ['root'] });
    expectError(r, 422, 'VALIDATION_FAILED');
    expect(r.body.error.details[0].field).toBe('scopes.0');
    expectError(await t.json('POST', '/api/v1/api-keys', { name: 'x', scopes: ['read'], extra: 1 }), 422, 'VALIDATION_FAILED');
  });

  it('ADMIN_API_KEY is accepted as an admin key, and a rotated one stops the old', async () => {
    const adminKey = 'env-admin-key-0123456789abcdef';
    const t = await makeApp({ env: { ADMIN_API_KEY: adminKey } });
    await bootstrapAdminKey({ ctx: t.ctx });
    expect((await t.json('GET', '/api/v1/api-keys', undefined, { key: adminKey })).status).toBe(200);
    const rows = await t.client.execute('SELECT hash FROM api_keys');
    expect(JSON.stringify(rows.rows)).not.toContain(adminKey);

    const rotated = 'rotated-admin-key-0123456789abcdef';
    await bootstrapAdminKey({ ctx: { ...t.ctx, config: { ...t.ctx.config, ADMIN_API_KEY: rotated } } });
    expect((await t.json('GET', '/api/v1/api-keys', undefined, { key: rotated })).status).toBe(200);
    expectError(await t.json('GET', '/api/v1/api-keys', undefined, { key: adminKey }), 401, 'UNAUTHORIZED');
  });

  it('generates an admin key only for a database without keys', async () => {
    const t = await makeApp();
    expect((await bootstrapAdminKey({ ctx: t.ctx })).generated).toBeUndefined();
    await t.client.execute('DELETE FROM api_keys');
    const { generated } = await bootstrapAdminKey({ ctx: t.ctx });
    expect(generated).toMatch(/^ll_/);
    expect((await t.json('GET', '/api/v1/api-keys', undefined, { key: generated })).status).toBe(200);
    expect((await bootstrapAdminKey({ ctx: t.ctx })).generated).toBeUndefined();
  });
});
