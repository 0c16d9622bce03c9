import { describe, expect, it } from 'vitest';
import { makeApp } from './helpers';
import { basic, expectMauticError, mautic } from './mautic-helpers';
import { can, resourceOf } from '../api/core/access/permissions';
import { isMauticPath } from '../api/routes/mautic/shared';
import { addUser, firstAdmin } from './auth-helpers';

describe('Mautic API: hostile input is a 4xx in Mautic’s error shape, never a 5xx or a partial write', () => {
  it('refuses bad JSON, deep nesting, __proto__, a wrong content type, lists where objects belong, and oversized bodies', async () => {
    const t = await makeApp({ memory: true });
    const count = async () => (await mautic(t, 'GET', '/api/contacts')).body.total;
    const json = { 'content-type': 'application/json' };
    expectMauticError(await mautic(t, 'POST', '/api/contacts/new', undefined, { raw: '{"email": "a@example.com"', headers: json }), 400, /JSON/);
    expectMauticError(await mautic(t, 'POST', '/api/contacts/new', undefined, { raw: '[[[[' .repeat(40) + ']]]]'.repeat(40), headers: json }), 400, /nest/);
    expectMauticError(await mautic(t, 'POST', '/api/contacts/new', undefined, { raw: '{"email":"p@example.com","__proto__":{"admin":true}}', headers: json }), 422, /__proto__/);
    expectMauticError(await mautic(t, 'POST', '/api/contacts/new', undefined, { raw: '{"email":"p@example.com","tags":{"__proto__":1}}', headers: json }), 422, /__proto__/);
    expectMauticError(await mautic(t, 'POST', '/api/contacts/new', undefined, { raw: 'email=p@example.com', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, /JSON/);
    expectMauticError(await mautic(t, 'POST', '/api/contacts/new', undefined, { raw: '{"email":"p@example.com"}', headers: { 'content-type': 'text/plain' } }), 415);
    expectMauticError(await mautic(t, 'POST', '/api/contacts/new', undefined, { raw: '"just a string"', headers: json }), 400);
    expectMauticError(await mautic(t, 'POST', '/api/contacts/new', [{ email: 'p@example.com' }]), 400, /object/);
    expectMauticError(await mautic(t, 'POST', '/api/contacts/new', undefined, { raw: JSON.stringify({ email: 'big@example.com', firstname: 'x'.repeat(2 * 1024 * 1024) }), headers: json }), 413);
    expectMauticError(await mautic(t, 'POST', '/api/contacts/new', { email: 'p@example.com', firstname: 'x'.repeat(101) }), 422, /firstname/);
    expectMauticError(await mautic(t, 'POST', '/api/contacts/new', { email: 'p@example.com', firstname: { nested: true } }), 422);
    expectMauticError(await mautic(t, 'POST', '/api/contacts/new', { email: 'p@example.com', tags: [{ a: 1 }] }), 422, /tags/);
    expectMauticError(await mautic(t, 'POST', '/api/contacts/new', { email: 'p@example.com', stage: 'first' }), 422, /stage/);
    expectMauticError(await mautic(t, 'POST', '/api/contacts/new', { email: 'p@example.com', doNotContact: 'yes' }), 422);
    expect(await count()).toBe('0');
    // An empty body (or none at all) is an empty object, as Mautic takes it.
    expect((await mautic(t, 'POST', '/api/contacts/new', undefined, { raw: '', headers: json })).status).toBe(201);
    expect((await mautic(t, 'POST', '/api/contacts/new', {})).status).toBe(201);
    expect((await mautic(t, 'POST', '/api/tags/new', undefined, { raw: '   ', headers: json })).status).toBe(422);
    // A GET with a JSON body (n8n sends {}) or any other body is read as a GET.
    expect((await t.app.request('/api/contacts', { method: 'GET', headers: { authorization: basic(t.keys.admin) } })).status).toBe(200);
  });

  it('refuses huge or malformed paging, sorting, search and where[] values', async () => {
    const t = await makeApp({ memory: true });
    await mautic(t, 'POST', '/api/contacts/new', { email: 'a@example.com' });
    await t.json('POST', '/api/v1/fields', { key: 'shoe_size', label: 'Shoe size', type: 'number' });
    await t.json('POST', '/api/v1/fields', { key: 'born', label: 'Born', type: 'date' });
    for (const q of [
      'search=shoe_size:abc',
      'where[0][col]=shoe_size&where[0][expr]=eq&where[0][val]=abc',
      'limit=201',
      'limit=99999999999999999999',
      'limit=-1',
      'limit=abc',
      'start=-5',
      'start=1e3',
      'start=10000001',
      'orderBy=password',
      'orderBy=email;DROP TABLE contacts',
      'orderBy=a,b,c,d',
      'orderByDir=sideways',
      `search=${'x '.repeat(50)}`,
      `search=email:${'%25a%25b'}`,
      `search=${'y'.repeat(300)}`,
      'search=unknown:thing',
      'search=is:admin',
      'where[0][col]=email&where[0][expr]=regexp&where[0][val]=.*',
      'where[0][col]=password&where[0][expr]=eq&where[0][val]=x',
      'where[0][col]=id&where[0][expr]=eq&where[0][val]=1 OR 1=1',
      'where[0][expr]=eq&where[0][val]=x',
      'where[0][col]=points&where[0][expr]=eq&where[0][val]=many',
    ]) {
      expectMauticError(await mautic(t, 'GET', `/api/contacts?${q}`), 400);
    }
    expectMauticError(await mautic(t, 'GET', '/api/contacts?search=%00'), 400);
    // A value the filter compiler refuses (not a date) is a 4xx too.
    expect((await mautic(t, 'GET', '/api/contacts?search=born:yesterday-ish')).status).toBe(422);
    for (const q of ['page=0', 'page=1001', 'limit=0', 'limit=201', 'page=x']) expectMauticError(await mautic(t, 'GET', `/api/contacts/1/activity?${q}`), 400);
    for (const path of ['/api/segments?limit=500', '/api/companies?start=x', '/api/tags?limit=1000', '/api/fields/contact?limit=999', '/api/forms?limit=300', '/api/emails?limit=201', '/api/campaigns?start=-1', '/api/stages?limit=9e9']) {
      expectMauticError(await mautic(t, 'GET', path), 400);
    }
    // limit=0 is Mautic's "no limit": the largest page here.
    expect((await mautic(t, 'GET', '/api/contacts?limit=0')).status).toBe(200);
    expect((await mautic(t, 'GET', '/api/contacts?limit=200&start=0')).body.total).toBe('1');
    expect((await mautic(t, 'GET', '/api/contacts', undefined, { key: null })).status).toBe(401);
  });

  it('answers unknown paths, ids and methods in Mautic’s shape, and never 5xx on odd ids', async () => {
    const t = await makeApp({ memory: true });
    for (const path of ['/api/contacts/0', '/api/contacts/-1', '/api/contacts/1.5', '/api/contacts/99999999999999999999', '/api/contacts/%20', '/api/segments/abc', '/api/companies/1e5', '/api/hooks/abc', '/api/assets', '/api/notes/1']) {
      const r = await mautic(t, 'GET', path);
      expect(r.status, path).toBe(404);
      expectMauticError(r, 404);
    }
    const wrongMethod = await mautic(t, 'DELETE', '/api/contacts');
    expectMauticError(wrongMethod, 405);
    expect(wrongMethod.res.headers.get('allow')).toContain('GET');
    expectMauticError(await mautic(t, 'POST', '/api/contacts/1/points/plus/99999999'), 400);
    expectMauticError(await mautic(t, 'POST', '/api/contacts/1/dnc/email/explode'), 404);
    expectMauticError(await mautic(t, 'POST', '/api/segments/1/contacts/add', { ids: 'nope' }), 404); // no segment 1 yet
    const seg = (await mautic(t, 'POST', '/api/segments/new', { name: 'S' })).body.list;
    expectMauticError(await mautic(t, 'POST', `/api/segments/${seg.id}/contacts/add`, { ids: Array.from({ length: 201 }, (_, i) => i + 1) }), 400);
    expectMauticError(await mautic(t, 'POST', `/api/segments/${seg.id}/contacts/add`, { ids: ['1; DROP'] }), 400);
    expectMauticError(await mautic(t, 'POST', '/api/emails/1/send', { lists: 'x' }), 404);
    // The v1 API keeps its own error shape, and so does any /api/ path that is not a Mautic resource.
    for (const path of ['/api/v1/contacts/999', '/api/v2/contacts', '/api/v1', '/api/nothing']) {
      const v1 = await t.json('GET', path);
      expect(v1.body.error.code, path).toBe('NOT_FOUND');
    }
  });
});

describe('Mautic API: permissions as on /api/v1', () => {
  it('every Mautic route has a row in the permission table, with its v1 equivalent’s resource', async () => {
    const t = await makeApp({ memory: true });
    const paths = [...new Set(t.app.routes.filter((r) => r.method !== 'ALL' && isMauticPath(r.path)).map((r) => r.path))];
    expect(paths.length).toBeGreaterThan(40);
    const unlisted = paths.map((p) => p.replace(/:[A-Za-z]+/g, '1')).filter((p) => !resourceOf(p).listed);
    expect(unlisted).toEqual([]);
    const same = (mautic: string, v1: string) => expect(resourceOf(mautic).label, mautic).toBe(resourceOf(v1).label);
    same('/api/contacts/1/edit', '/api/v1/contacts/1');
    same('/api/contacts/1/points/plus/5', '/api/v1/contacts/1/points');
    same('/api/contacts/1/segments', '/api/v1/contacts/1/segments');
    same('/api/contacts/1/campaigns', '/api/v1/contacts/1/campaigns');
    same('/api/companies/new', '/api/v1/companies');
    same('/api/segments/1/contact/2/add', '/api/v1/segments/1');
    same('/api/stages', '/api/v1/stages');
    same('/api/tags/new', '/api/v1/tags');
    same('/api/fields/contact', '/api/v1/fields');
    same('/api/forms/1/submissions', '/api/v1/forms/1');
    same('/api/emails/1/send', '/api/v1/emails/1');
    same('/api/campaigns/1/contact/2/add', '/api/v1/campaigns/1');
    same('/api/hooks/1/edit', '/api/v1/webhooks/1');
    expect(can('sales', 'POST', '/api/contacts/new').allowed).toBe(true);
    expect(can('sales', 'POST', '/api/segments/new').allowed).toBe(false);
    expect(can('viewer', 'GET', '/api/users/self').allowed).toBe(true);
  });

  it('a dashboard session works with its role’s rights and its CSRF proof, as on /api/v1', async () => {
    const t = await makeApp();
    await firstAdmin(t);
    const sales = await addUser(t, 'sales', 'sam@example.com');
    const as = (method: string, path: string, body?: unknown, csrf = true) =>
      mautic(t, method, path, body, { key: null, headers: { cookie: sales.cookie, origin: 'http://localhost', ...(csrf ? { 'x-csrf-token': sales.csrf } : {}) } });
    expect((await as('POST', '/api/contacts/new', { email: 'lead@example.com' })).status).toBe(201);
    const refused = await as('POST', '/api/segments/new', { name: 'Not mine' });
    expectMauticError(refused, 403, /sales.*segments/);
    expectMauticError(await as('POST', '/api/contacts/new', { email: 'x@example.com' }, false), 403);
    expect((await as('GET', '/api/users/self')).body).toMatchObject({ email: 'sam@example.com', role: { name: 'sales', isAdmin: false } });
  });
});
