import { describe, it, expect } from 'vitest';
import { makeApp, expectError } from './helpers';

describe('privacy: export and erase one contact', () => {
  it('exports everything stored about a contact as JSON', async () => {
    const t = await makeApp();
    const c = await t.json('POST', '/api/v1/contacts', { email: 'subject@example.com', first_name: 'Sub', tags: ['gdpr'] });
    const co = await t.json('POST', '/api/v1/companies', { name: 'Acme', domain: 'acme.com' });
    await t.json('PUT', `/api/v1/companies/${co.body.id}/contacts/${c.body.id}`, { is_primary: true });
    await t.json('PUT', `/api/v1/contacts/${c.body.id}/do-not-contact/email`, { reason: 'unsubscribed' });
    const res = await t.call('GET', `/api/v1/contacts/${c.body.id}/export`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain(`contact-${c.body.id}.json`);
    const data = await res.json();
    expect(data.contact).toMatchObject({ email: 'subject@example.com', tags: ['gdpr'], do_not_contact: [{ channel: 'email', reason: 'unsubscribed' }] });
    expect(data.companies).toEqual([{ id: co.body.id, name: 'Acme', domain: 'acme.com', is_primary: true }]);
    expect(Date.parse(data.exported_at)).not.toBeNaN();
    expectError(await t.json('GET', '/api/v1/contacts/4242/export'), 404, 'NOT_FOUND');
    expectError(await t.json('GET', `/api/v1/contacts/${c.body.id}/export`, undefined, { key: null }), 401, 'UNAUTHORIZED');
  });

  it('erases a contact and all its rows in one call, leaving other contacts alone', async () => {
    const t = await makeApp();
    const a = await t.json('POST', '/api/v1/contacts', { email: 'erase@example.com', tags: ['x'] });
    const b = await t.json('POST', '/api/v1/contacts', { email: 'keep@example.com', tags: ['x'] });
    const co = await t.json('POST', '/api/v1/companies', { name: 'Acme' });
    for (const id of [a.body.id, b.body.id]) {
      await t.json('PUT', `/api/v1/companies/${co.body.id}/contacts/${id}`, { is_primary: false });
      await t.json('PUT', `/api/v1/contacts/${id}/do-not-contact/sms`, { reason: 'manual' });
    }
    expectError(await t.json('DELETE', `/api/v1/contacts/${a.body.id}`, undefined, { key: t.keys.read }), 403, 'FORBIDDEN');
    const del = await t.json('DELETE', `/api/v1/contacts/${a.body.id}`);
    expect(del).toEqual({ status: 200, body: { id: a.body.id, deleted: true } });
    expectError(await t.json('GET', `/api/v1/contacts/${a.body.id}`), 404, 'NOT_FOUND');
    for (const table of ['contact_tags', 'do_not_contact', 'company_contacts']) {
      const left = await t.client.execute({ sql: `SELECT count(*) AS n FROM ${table} WHERE contact_id = ?`, args: [a.body.id] });
      expect(Number(left.rows[0]!.n), table).toBe(0);
      const kept = await t.client.execute({ sql: `SELECT count(*) AS n FROM ${table} WHERE contact_id = ?`, args: [b.body.id] });
      expect(Number(kept.rows[0]!.n), table).toBe(1);
    }
    // The email is free again: a new contact gets a new id.
    const again = await t.json('POST', '/api/v1/contacts', { email: 'erase@example.com' });
    expect(again.status).toBe(201);
    expect(again.body.tags).toEqual([]);
  });
});
