import { describe, expect, it } from 'vitest';
import { expectError, makeApp } from './helpers';
import { addUser, asUser, firstAdmin, jsonOf } from './auth-helpers';
import { can, resourceOf } from '../api/core/access/permissions';

describe('roles', () => {
  it('sales creates deals and gives feedback but cannot edit campaigns or emails; the API refuses it with its session; viewer only reads; marketer cannot manage users; admin can', async () => {
    const t = await makeApp();
    const admin = await firstAdmin(t);
    const sales = await addUser(t, 'sales', 'sam@example.com');
    const viewer = await addUser(t, 'viewer', 'vic@example.com');
    const marketer = await addUser(t, 'marketer', 'mia@example.com');

    const contact = (await t.json('POST', '/api/v1/contacts', { email: 'lead@example.com' })).body.id;
    const campaign = (await t.json('POST', '/api/v1/campaigns', { name: 'Welcome', definition: { start: 'a', steps: [{ id: 'a', type: 'action', action: { type: 'add_tags', tags: ['x'] }, next: null }] } })).body;
    expect(campaign.id).toBeTruthy();
    const email = (await t.json('POST', '/api/v1/emails', { name: 'Hi', subject: 'Hi', html: '<p>Hi</p>' })).body.id;

    // Sales: contacts, deals, feedback.
    expect((await asUser(t, sales, 'PATCH', `/api/v1/contacts/${contact}`, { first_name: 'Lea' })).status).toBe(200);
    const deal = await jsonOf(asUser(t, sales, 'POST', '/api/v1/deals', { name: 'Big one', contact_id: contact, amount: 1000, currency: 'EUR' }));
    expect(deal.status, JSON.stringify(deal.body)).toBe(201);
    const fb = await jsonOf(asUser(t, sales, 'POST', `/api/v1/contacts/${contact}/sales-feedback`, { outcome: 'lost', reason: 'Budget' }));
    expect(fb.status, JSON.stringify(fb.body)).toBeLessThan(300);
    expect((await asUser(t, sales, 'GET', '/api/v1/campaigns')).status).toBe(200);
    // …but not campaigns or emails.
    const patch = await jsonOf(asUser(t, sales, 'PATCH', `/api/v1/campaigns/${campaign.id}`, { name: 'Hijacked' }));
    expectError(patch, 403, 'FORBIDDEN');
    expect(patch.body.error.message).toBe('Your role (sales) cannot change campaigns: that needs the marketer role or higher.');
    expectError(await jsonOf(asUser(t, sales, 'POST', '/api/v1/campaigns', { name: 'Mine' })), 403, 'FORBIDDEN');
    expectError(await jsonOf(asUser(t, sales, 'POST', `/api/v1/emails/${email}/send`, { contact_id: contact })), 403, 'FORBIDDEN');
    expectError(await jsonOf(asUser(t, sales, 'POST', '/api/v1/emails', { name: 'x', subject: 'x', html: 'x' })), 403, 'FORBIDDEN');
    expect((await t.json('GET', `/api/v1/campaigns/${campaign.id}`)).body.name).toBe('Welcome');

    // Viewer: reads only.
    expect((await asUser(t, viewer, 'GET', `/api/v1/contacts/${contact}`)).status).toBe(200);
    expect((await asUser(t, viewer, 'GET', '/api/v1/reports/funnel')).status).toBe(200);
    const vw = await jsonOf(asUser(t, viewer, 'PATCH', `/api/v1/contacts/${contact}`, { first_name: 'X' }));
    expectError(vw, 403, 'FORBIDDEN');
    expect(vw.body.error.message).toContain('viewer');
    expectError(await jsonOf(asUser(t, viewer, 'POST', '/api/v1/deals', { name: 'd', contact_id: contact })), 403, 'FORBIDDEN');
    expectError(await jsonOf(asUser(t, viewer, 'GET', '/api/v1/users')), 403, 'FORBIDDEN');
    expectError(await jsonOf(asUser(t, viewer, 'GET', '/api/v1/api-keys')), 403, 'FORBIDDEN');

    // Marketer: campaigns and emails, not users, keys or jobs.
    expect((await asUser(t, marketer, 'PATCH', `/api/v1/campaigns/${campaign.id}`, { name: 'Welcome 2' })).status).toBe(200);
    expect((await asUser(t, marketer, 'POST', `/api/v1/emails/${email}/send`, { contact_id: contact })).status).toBe(202);
    expectError(await jsonOf(asUser(t, marketer, 'POST', '/api/v1/users', { email: 'x@example.com', role: 'admin' })), 403, 'FORBIDDEN');
    expectError(await jsonOf(asUser(t, marketer, 'GET', '/api/v1/users')), 403, 'FORBIDDEN');
    expectError(await jsonOf(asUser(t, marketer, 'POST', '/api/v1/api-keys', { name: 'k', scopes: ['admin'] })), 403, 'FORBIDDEN');
    expectError(await jsonOf(asUser(t, marketer, 'POST', '/api/v1/jobs/reactions')), 403, 'FORBIDDEN');

    // Admin: users, keys, jobs.
    expect((await asUser(t, admin, 'GET', '/api/v1/users')).status).toBe(200);
    expect((await asUser(t, admin, 'POST', '/api/v1/api-keys', { name: 'k', scopes: ['read'] })).status).toBe(201);
    expect((await asUser(t, admin, 'POST', '/api/v1/jobs/reactions')).status).toBe(200);

    // A role change applies to the next request; removing a user ends their sessions.
    expect((await asUser(t, admin, 'PATCH', `/api/v1/users/${sales.user.id}`, { role: 'marketer' })).status).toBe(200);
    expect((await asUser(t, sales, 'PATCH', `/api/v1/campaigns/${campaign.id}`, { name: 'Now allowed' })).status).toBe(200);
    expect((await asUser(t, admin, 'DELETE', `/api/v1/users/${viewer.user.id}`)).status).toBe(200);
    expectError(await jsonOf(asUser(t, viewer, 'GET', '/api/v1/contacts')), 401, 'UNAUTHORIZED');
    // The last admin stays admin.
    expectError(await jsonOf(asUser(t, admin, 'PATCH', `/api/v1/users/${admin.user.id}`, { role: 'viewer' })), 409, 'CONFLICT');
    expectError(await jsonOf(asUser(t, admin, 'DELETE', `/api/v1/users/${admin.user.id}`)), 409, 'CONFLICT');
    // API keys keep their scopes: a write key cannot manage users.
    expectError(await t.json('GET', '/api/v1/users', undefined, { key: t.keys.write }), 403, 'FORBIDDEN');
    expect((await t.json('GET', '/api/v1/users')).status).toBe(200);
  });

  it('Idempotency-Key works with a session, keyed by the user', async () => {
    const t = await makeApp();
    const admin = await firstAdmin(t);
    const post = () => jsonOf(asUser(t, admin, 'POST', '/api/v1/contacts', { email: 'once@example.com' }, { 'idempotency-key': 'k1' }));
    const a = await post();
    const b = await post();
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.res.headers.get('idempotent-replayed')).toBe('true');
    expect(b.body).toEqual(a.body);
    // The admin key's "k1" is its own.
    expect((await t.call('POST', '/api/v1/contacts', { email: 'other@example.com' }, { headers: { 'idempotency-key': 'k1' } })).status).toBe(201);
  });

  it('every path of the API has a row in the permission table', async () => {
    const t = await makeApp({ memory: true });
    const doc = (await t.json('GET', '/api/v1/openapi.json')).body;
    const unlisted = Object.keys(doc.paths)
      .filter((p) => p.startsWith('/api/v1/'))
      .map((p) => p.replace(/\{[^}]+\}/g, '1'))
      .filter((p) => !resourceOf(p).listed && !p.startsWith('/api/v1/auth/'));
    expect(unlisted).toEqual([]);
    expect(can('sales', 'POST', '/api/v1/contacts/1/sales-feedback').allowed).toBe(true);
    expect(can('sales', 'PUT', '/api/v1/contacts/1/subscriptions').allowed).toBe(false);
    expect(can('marketer', 'POST', '/api/v1/deal-integrations').allowed).toBe(false);
    expect(can('viewer', 'GET', '/api/v1/nothing-new').allowed).toBe(false);
  });
});

describe('users API', () => {
  it('invites, lists, updates, resends and removes; refuses duplicates and bad input', async () => {
    const t = await makeApp();
    const created = await t.json('POST', '/api/v1/users', { email: 'new@example.com', role: 'viewer', name: 'New' });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(['created_at', 'email', 'id', 'invited', 'last_login_at', 'name', 'role']);
    expectError(await t.json('POST', '/api/v1/users', { email: 'NEW@example.com', role: 'viewer' }), 409, 'CONFLICT');
    expectError(await t.json('POST', '/api/v1/users', { email: 'not an email', role: 'viewer' }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/users', { email: 'a@example.com', role: 'owner' }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/users', { email: 'a@example.com', role: 'viewer', admin: true }), 422, 'VALIDATION_FAILED');
    expect((await t.json('POST', `/api/v1/users/${created.body.id}/invitation`)).status).toBe(202);
    expect((await t.json('PATCH', `/api/v1/users/${created.body.id}`, { name: 'Renamed', role: 'sales' })).body).toMatchObject({ name: 'Renamed', role: 'sales' });
    expectError(await t.json('GET', '/api/v1/users/999'), 404, 'NOT_FOUND');
    for (const id of ['abc', '-1', '0', '1.5', '%00']) expect((await t.json('GET', `/api/v1/users/${id}`)).status).toBe(422);
    expect((await t.json('DELETE', `/api/v1/users/${created.body.id}`)).body).toEqual({ id: created.body.id, deleted: true });
    expect((await t.json('GET', '/api/v1/users')).body).toEqual({ data: [], has_more: false, next_cursor: null });
  });
});
