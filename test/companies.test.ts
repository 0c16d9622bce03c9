import { describe, it, expect } from 'vitest';
import { expectError, makeApp, type TestApp } from './helpers';
import { expectNot500, HOSTILE_IDS, HOSTILE_QUERIES, routeContract } from './route-contract';

async function company(t: TestApp, body: Record<string, unknown>) {
  const r = await t.json('POST', '/api/v1/companies', body);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

async function contact(t: TestApp, email: string) {
  const r = await t.json('POST', '/api/v1/contacts', { email });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { id: number };
}

const link = (t: TestApp, companyId: number, contactId: number, body: Record<string, unknown> = {}) =>
  t.json('PUT', `/api/v1/companies/${companyId}/contacts/${contactId}`, body);

const companiesOf = async (t: TestApp, contactId: number) => {
  const r = await t.json('GET', `/api/v1/contacts/${contactId}`, undefined, { key: t.keys.read });
  expect(r.status).toBe(200);
  return r.body.companies as { id: number; name: string; domain: string | null; is_primary: boolean }[];
};

const countRows = async (t: TestApp, table: string) => Number((await t.client.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);

function clock(start = Date.UTC(2026, 0, 1)) {
  let t = start;
  return () => (t += 1000);
}

describe('companies: CRUD', () => {
  it('creates, reads, updates and deletes a company', async () => {
    const t = await makeApp({ now: clock() });
    const full = {
      name: '  Acme Corp ',
      domain: ' Acme.COM ',
      website: 'https://acme.com/',
      industry: 'Manufacturing',
      employees: 250,
      annual_revenue: 12_000_000,
      city: 'Berlin',
      country: 'de',
    };
    const r = await t.json('POST', '/api/v1/companies', full, { key: t.keys.write });
    expect(r.status).toBe(201);
    const c = r.body;
    expect(c).toMatchObject({
      name: 'Acme Corp',
      domain: 'acme.com',
      website: 'https://acme.com/',
      industry: 'Manufacturing',
      employees: 250,
      annual_revenue: 12_000_000,
      city: 'Berlin',
      country: 'DE',
      contacts: 0,
    });
    expect(new Date(c.created_at).toISOString()).toBe(c.created_at);

    const got = await t.json('GET', `/api/v1/companies/${c.id}`, undefined, { key: t.keys.read });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(c);

    const p = await t.json('PATCH', `/api/v1/companies/${c.id}`, { industry: 'Robotics', employees: null, country: 'fr' });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ name: 'Acme Corp', domain: 'acme.com', industry: 'Robotics', employees: null, country: 'FR' });
    expect(p.body.created_at).toBe(c.created_at);
    expect(p.body.updated_at > c.updated_at).toBe(true);
    // An empty patch changes nothing but is fine.
    const empty = await t.json('PATCH', `/api/v1/companies/${c.id}`, {});
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ industry: 'Robotics', country: 'FR' });

    const del = await t.json('DELETE', `/api/v1/companies/${c.id}`, undefined, { key: t.keys.write });
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ id: c.id, deleted: true });
    expectError(await t.json('GET', `/api/v1/companies/${c.id}`), 404, 'NOT_FOUND');
    expectError(await t.json('DELETE', `/api/v1/companies/${c.id}`), 404, 'NOT_FOUND');
  });

  it('needs only a name; optional fields start null', async () => {
    const t = await makeApp();
    const c = await company(t, { name: 'Solo' });
    expect(c).toMatchObject({ name: 'Solo', domain: null, website: null, industry: null, employees: null, annual_revenue: null, city: null, country: null });
    for (const body of [{}, { name: '' }, { name: '   ' }, { name: null }, { name: 'x'.repeat(201) }, { name: 5 }]) {
      const r = await t.json('POST', '/api/v1/companies', body);
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details.map((d: any) => d.field)).toContain('name');
    }
    // A name cannot be cleared.
    expectError(await t.json('PATCH', `/api/v1/companies/${c.id}`, { name: null }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('PATCH', `/api/v1/companies/${c.id}`, { name: ' ' }), 422, 'VALIDATION_FAILED');
  });

  it('stores empty optional text as null, not as an empty string', async () => {
    const t = await makeApp();
    const c = await company(t, { name: 'Blank', domain: '', website: '', industry: '  ', city: '', country: '' });
    expect(c).toMatchObject({ domain: null, website: null, industry: null, city: null, country: null });
    const d = await company(t, { name: 'Full', domain: 'full.io', website: 'https://full.io', city: 'Oslo', country: 'NO' });
    const p = await t.json('PATCH', `/api/v1/companies/${d.id}`, { domain: '', website: ' ', city: '', country: '' });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ domain: null, website: null, city: null, country: null });
    // Two companies without a domain do not collide.
    await company(t, { name: 'Also blank', domain: '' });
  });

  it('rejects bad domain, website, country and numbers with 422 naming the field, writing nothing', async () => {
    const t = await makeApp();
    const bad: [Record<string, unknown>, string][] = [
      [{ domain: 'not a domain' }, 'domain'],
      [{ domain: 'localhost' }, 'domain'],
      [{ domain: 'https://acme.com' }, 'domain'],
      [{ domain: 'acme.com/path' }, 'domain'],
      [{ domain: '-acme.com' }, 'domain'],
      [{ domain: 'acme-.com' }, 'domain'],
      [{ domain: 'acme.c' }, 'domain'],
      [{ domain: 'acme.123' }, 'domain'],
      [{ domain: 'acme.com.' }, 'domain'],
      [{ domain: 'a'.repeat(64) + '.com' }, 'domain'],
      [{ domain: 'acme_corp.com' }, 'domain'],
      [{ domain: 'acme..com' }, 'domain'],
      [{ domain: 'a'.repeat(250) + '.com' }, 'domain'],
      [{ domain: 5 }, 'domain'],
      [{ website: 'acme.com' }, 'website'],
      [{ website: 'javascript:alert(1)' }, 'website'],
      [{ website: 'ftp://acme.com' }, 'website'],
      [{ website: 'https://' + 'a'.repeat(2050) + '.com' }, 'website'],
      [{ country: 'Germany' }, 'country'],
      [{ country: 'XX' }, 'country'],
      [{ country: 49 }, 'country'],
      [{ employees: -1 }, 'employees'],
      [{ employees: 1.5 }, 'employees'],
      [{ employees: '10' }, 'employees'],
      [{ employees: 10_000_001 }, 'employees'],
      [{ annual_revenue: 1e16 }, 'annual_revenue'],
      [{ industry: 'x'.repeat(101) }, 'industry'],
      [{ city: 'x'.repeat(101) }, 'city'],
    ];
    for (const [body, field] of bad) {
      const r = await t.json('POST', '/api/v1/companies', { name: 'Bad Co', ...body });
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details.map((d: any) => d.field), JSON.stringify(body).slice(0, 80)).toContain(field);
    }
    expect(await countRows(t, 'companies')).toBe(0);
    const c = await company(t, { name: 'Good Co', domain: 'good.co', website: 'http://good.co', country: 'GB' });
    for (const [body, field] of bad) {
      const r = await t.json('PATCH', `/api/v1/companies/${c.id}`, { industry: 'changed', ...body });
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details.map((d: any) => d.field)).toContain(field);
    }
    expect((await t.json('GET', `/api/v1/companies/${c.id}`)).body).toEqual(c);
  });

  it('accepts real-world domain names', async () => {
    const t = await makeApp();
    for (const domain of ['a.io', 'sub.example.co.uk', 'x-y.z9.dev', '123.example.com', 'xn--bcher-kva.example', 'a'.repeat(63) + '.com']) {
      const r = await t.json('POST', '/api/v1/companies', { name: domain, domain });
      expect(r.status, `${domain}: ${JSON.stringify(r.body)}`).toBe(201);
      expect(r.body.domain).toBe(domain);
    }
  });

  it('rejects non-finite and huge numbers sent as raw JSON', async () => {
    const t = await makeApp();
    for (const raw of ['{"name":"X","employees":1e999}', '{"name":"X","annual_revenue":-1e999}', '{"name":"X","employees":9999999999999999999}']) {
      const r = await t.json('POST', '/api/v1/companies', raw, { headers: { 'content-type': 'application/json' } });
      expectError(r, 422, 'VALIDATION_FAILED');
    }
    expect(await countRows(t, 'companies')).toBe(0);
  });

  it('keeps domains unique, case-insensitively (409)', async () => {
    const t = await makeApp();
    const a = await company(t, { name: 'Acme', domain: 'Acme.com' });
    expect(a.domain).toBe('acme.com');
    for (const domain of ['acme.com', 'ACME.COM', ' acme.com ']) {
      expectError(await t.json('POST', '/api/v1/companies', { name: 'Acme clone', domain }), 409, 'CONFLICT');
    }
    expect(await countRows(t, 'companies')).toBe(1);
    const b = await company(t, { name: 'Beta', domain: 'beta.io' });
    expectError(await t.json('PATCH', `/api/v1/companies/${b.id}`, { name: 'Beta renamed', domain: 'ACME.com' }), 409, 'CONFLICT');
    expect((await t.json('GET', `/api/v1/companies/${b.id}`)).body).toMatchObject({ name: 'Beta', domain: 'beta.io' });
    // Re-saving a company's own domain is not a conflict; freeing a domain lets another take it.
    expect((await t.json('PATCH', `/api/v1/companies/${a.id}`, { domain: 'ACME.COM' })).status).toBe(200);
    expect((await t.json('PATCH', `/api/v1/companies/${a.id}`, { domain: null })).body.domain).toBeNull();
    expect((await t.json('PATCH', `/api/v1/companies/${b.id}`, { domain: 'acme.com' })).body.domain).toBe('acme.com');
  });

  it('answers 404 for unknown companies', async () => {
    const t = await makeApp();
    expectError(await t.json('GET', '/api/v1/companies/999999'), 404, 'NOT_FOUND');
    expectError(await t.json('PATCH', '/api/v1/companies/999999', { name: 'X' }), 404, 'NOT_FOUND');
    expectError(await t.json('DELETE', '/api/v1/companies/999999'), 404, 'NOT_FOUND');
    expect(await countRows(t, 'companies')).toBe(0);
  });
});

describe('companies: list', () => {
  it('filters by name or domain prefix, case-insensitively', async () => {
    const t = await makeApp();
    await company(t, { name: 'Acme', domain: 'acme.com' });
    await company(t, { name: 'acorn Labs', domain: 'oak.dev' });
    await company(t, { name: 'Beta', domain: 'acmebeta.io' });
    await company(t, { name: 'Gamma' });
    const names = async (q: string) => {
      const r = await t.json('GET', `/api/v1/companies?q=${encodeURIComponent(q)}`, undefined, { key: t.keys.read });
      expect(r.status).toBe(200);
      return r.body.data.map((c: any) => c.name);
    };
    expect(await names('ac')).toEqual(['Acme', 'acorn Labs', 'Beta']);
    expect(await names('ACME')).toEqual(['Acme', 'Beta']);
    expect(await names('oak.')).toEqual(['acorn Labs']);
    expect(await names(' gam ')).toEqual(['Gamma']);
    expect(await names('zzz')).toEqual([]);
    expect(await names('%')).toEqual([]);
    expect(await names('_')).toEqual([]);
    expectError(await t.json('GET', `/api/v1/companies?q=${'x'.repeat(101)}`), 422, 'VALIDATION_FAILED');
  });

  it('finds names that start with non-ASCII letters or have emoji after the prefix', async () => {
    const t = await makeApp();
    await company(t, { name: 'Ärzte GmbH' });
    await company(t, { name: 'Acme😀' });
    await company(t, { name: 'Acme\u{10FFFE} Labs' });
    await company(t, { name: 'Zürich Re' });
    const names = async (q: string) =>
      (await t.json('GET', `/api/v1/companies?q=${encodeURIComponent(q)}`)).body.data.map((c: any) => c.name);
    expect(await names('Ärzte')).toEqual(['Ärzte GmbH']);
    expect(await names('ÄRZTE g')).toEqual(['Ärzte GmbH']);
    expect(await names('acme')).toEqual(['Acme😀', 'Acme\u{10FFFE} Labs']);
    expect(await names('acme😀')).toEqual(['Acme😀']);
    expect(await names('ZÜ')).toEqual([]); // only ASCII folds, as in SQLite's lower()
    expect(await names('zü')).toEqual(['Zürich Re']);
  });

  it('pages with a cursor: no overlap, everything seen, q kept across pages', async () => {
    const t = await makeApp();
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await company(t, { name: `Co ${i}`, domain: `co${i}.com` }));
    await company(t, { name: 'Other' });
    const walk = async (extra: string) => {
      const seen: number[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const r: any = await t.json('GET', `/api/v1/companies?limit=2${extra}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(r.status).toBe(200);
        sizes.push(r.body.data.length);
        seen.push(...r.body.data.map((c: any) => c.id));
        cursor = r.body.next_cursor;
        expect(r.body.has_more).toBe(cursor !== null);
      } while (cursor && sizes.length < 10);
      return { seen, sizes };
    };
    const filtered = await walk('&q=co');
    expect(filtered.sizes).toEqual([2, 2, 1]);
    expect(filtered.seen).toEqual(made.map((c) => c.id));
    const all = await walk('');
    expect(all.sizes).toEqual([2, 2, 2]);
    expect(new Set(all.seen).size).toBe(6);
  });

  it('never answers 500 to hostile list queries', async () => {
    const t = await makeApp();
    await company(t, { name: 'Acme' });
    for (const q of HOSTILE_QUERIES) expectNot500(await t.json('GET', `/api/v1/companies?${q}`), q);
    for (const q of ['q=', 'q=%00', "q='%20OR%201=1", 'q=%F0%9F%98%80', 'q=\uffff']) expectNot500(await t.json('GET', `/api/v1/companies?${q}`), q);
    expectError(await t.json('GET', '/api/v1/companies?cursor=nonsense'), 400, 'BAD_REQUEST');
  });
});

describe('companies: contacts', () => {
  it('links and unlinks contacts; counts follow', async () => {
    const t = await makeApp();
    const acme = await company(t, { name: 'Acme', domain: 'acme.com' });
    const ada = await contact(t, 'ada@example.com');
    const bob = await contact(t, 'bob@example.com');
    const r = await t.json('PUT', `/api/v1/companies/${acme.id}/contacts/${ada.id}`, {}, { key: t.keys.write });
    expect(r.status).toBe(200);
    expect(r.body).toEqual([{ id: acme.id, name: 'Acme', domain: 'acme.com', is_primary: false }]);
    await link(t, acme.id, bob.id);
    // Linking twice is idempotent.
    expect((await link(t, acme.id, bob.id)).status).toBe(200);
    expect((await t.json('GET', `/api/v1/companies/${acme.id}`)).body.contacts).toBe(2);

    const un = await t.json('DELETE', `/api/v1/companies/${acme.id}/contacts/${ada.id}`, undefined, { key: t.keys.write });
    expect(un.status).toBe(200);
    expect(un.body).toEqual({ company_id: acme.id, contact_id: ada.id, deleted: true });
    expect(await companiesOf(t, ada.id)).toEqual([]);
    expect((await t.json('GET', `/api/v1/companies/${acme.id}`)).body.contacts).toBe(1);
    expectError(await t.json('DELETE', `/api/v1/companies/${acme.id}/contacts/${ada.id}`), 404, 'NOT_FOUND');
  });

  it('keeps one primary company per contact; is_primary moves', async () => {
    const t = await makeApp();
    const acme = await company(t, { name: 'Acme', domain: 'acme.com' });
    const beta = await company(t, { name: 'Beta' });
    const gamma = await company(t, { name: 'Gamma' });
    const ada = await contact(t, 'ada@example.com');
    const bob = await contact(t, 'bob@example.com');

    await link(t, acme.id, ada.id, { is_primary: true });
    await link(t, gamma.id, ada.id);
    expect(await companiesOf(t, ada.id)).toEqual([
      { id: acme.id, name: 'Acme', domain: 'acme.com', is_primary: true },
      { id: gamma.id, name: 'Gamma', domain: null, is_primary: false },
    ]);
    // Bob's primary is his own business.
    await link(t, acme.id, bob.id, { is_primary: true });

    const moved = await link(t, beta.id, ada.id, { is_primary: true });
    expect(moved.status).toBe(200);
    expect(moved.body).toEqual([
      { id: beta.id, name: 'Beta', domain: null, is_primary: true },
      { id: acme.id, name: 'Acme', domain: 'acme.com', is_primary: false },
      { id: gamma.id, name: 'Gamma', domain: null, is_primary: false },
    ]);
    expect(await companiesOf(t, ada.id)).toEqual(moved.body);
    expect((await companiesOf(t, ada.id)).filter((c) => c.is_primary)).toHaveLength(1);
    // An existing link can become primary too.
    const back = await link(t, gamma.id, ada.id, { is_primary: true });
    expect(back.body.filter((c: any) => c.is_primary).map((c: any) => c.id)).toEqual([gamma.id]);
    expect(await companiesOf(t, bob.id)).toEqual([{ id: acme.id, name: 'Acme', domain: 'acme.com', is_primary: true }]);
    // PUT sets the link as sent: without is_primary the link stays but is not primary.
    const demoted = await link(t, gamma.id, ada.id, {});
    expect(demoted.body.map((c: any) => c.id).sort()).toEqual([acme.id, beta.id, gamma.id].sort());
    expect(demoted.body.some((c: any) => c.is_primary)).toBe(false);
    await link(t, gamma.id, ada.id, { is_primary: true });
    // Unlinking the primary leaves no primary.
    await t.json('DELETE', `/api/v1/companies/${gamma.id}/contacts/${ada.id}`);
    expect((await companiesOf(t, ada.id)).some((c) => c.is_primary)).toBe(false);
  });

  it('lists a company\'s contacts with company_id', async () => {
    const t = await makeApp();
    const acme = await company(t, { name: 'Acme' });
    const beta = await company(t, { name: 'Beta' });
    const ada = await contact(t, 'ada@example.com');
    const bob = await contact(t, 'bob@example.com');
    await contact(t, 'cy@example.com');
    await link(t, acme.id, ada.id);
    await link(t, acme.id, bob.id);
    await link(t, beta.id, bob.id);
    const emails = async (id: number) =>
      (await t.json('GET', `/api/v1/contacts?company_id=${id}`, undefined, { key: t.keys.read })).body.data.map((c: any) => c.email).sort();
    expect(await emails(acme.id)).toEqual(['ada@example.com', 'bob@example.com']);
    expect(await emails(beta.id)).toEqual(['bob@example.com']);
    expect(await emails(999999)).toEqual([]);
    for (const id of ['abc', '-1', '1e999', '9999999999999999999']) {
      expectError(await t.json('GET', `/api/v1/contacts?company_id=${id}`), 422, 'VALIDATION_FAILED');
    }
  });

  it('never answers 500 to a forged cursor when listing a company\'s contacts', async () => {
    // A forged cursor such as [1e999, 1] decodes to Infinity; it must be refused, not bound.
    const t = await makeApp();
    const acme = await company(t, { name: 'Acme' });
    await link(t, acme.id, (await contact(t, 'ada@example.com')).id);
    for (const q of HOSTILE_QUERIES) expectNot500(await t.json('GET', `/api/v1/contacts?company_id=${acme.id}&${q}`), q);
  });

  it('deleting a company unlinks its contacts and keeps them', async () => {
    const t = await makeApp();
    const acme = await company(t, { name: 'Acme' });
    const beta = await company(t, { name: 'Beta' });
    const ada = await contact(t, 'ada@example.com');
    await link(t, acme.id, ada.id, { is_primary: true });
    await link(t, beta.id, ada.id);
    expect((await t.json('DELETE', `/api/v1/companies/${acme.id}`)).status).toBe(200);
    const got = await t.json('GET', `/api/v1/contacts/${ada.id}`);
    expect(got.status).toBe(200);
    expect(got.body.email).toBe('ada@example.com');
    expect(got.body.companies).toEqual([{ id: beta.id, name: 'Beta', domain: null, is_primary: false }]);
    expect((await t.json('GET', `/api/v1/contacts?company_id=${acme.id}`)).body.data).toEqual([]);
    expect(await countRows(t, 'company_contacts')).toBe(1);
  });

  it('deleting a contact unlinks it from its companies', async () => {
    const t = await makeApp();
    const acme = await company(t, { name: 'Acme' });
    const ada = await contact(t, 'ada@example.com');
    await link(t, acme.id, ada.id, { is_primary: true });
    expect((await t.json('DELETE', `/api/v1/contacts/${ada.id}`)).status).toBe(200);
    expect((await t.json('GET', `/api/v1/companies/${acme.id}`)).body.contacts).toBe(0);
  });

  it('answers 404 for an unknown company or contact, and writes nothing', async () => {
    const t = await makeApp();
    const acme = await company(t, { name: 'Acme' });
    const ada = await contact(t, 'ada@example.com');
    expectError(await link(t, 999999, ada.id), 404, 'NOT_FOUND');
    expectError(await link(t, acme.id, 999999, { is_primary: true }), 404, 'NOT_FOUND');
    expectError(await t.json('DELETE', `/api/v1/companies/999999/contacts/${ada.id}`), 404, 'NOT_FOUND');
    expectError(await t.json('DELETE', `/api/v1/companies/${acme.id}/contacts/999999`), 404, 'NOT_FOUND');
    expect(await countRows(t, 'company_contacts')).toBe(0);
    for (const body of [{ is_primary: 'yes' }, { is_primary: 1 }, { is_primary: null }]) {
      const r = await link(t, acme.id, ada.id, body);
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details.map((d: any) => d.field)).toContain('is_primary');
    }
  });
});

describe('companies: HTTP contract', () => {
  routeContract([
    { method: 'POST', path: '/api/v1/companies', body: { name: 'Acme' } },
    { method: 'GET', path: '/api/v1/companies' },
    { method: 'GET', path: '/api/v1/companies/1', idTemplate: '/api/v1/companies/{id}' },
    { method: 'PATCH', path: '/api/v1/companies/1', body: { name: 'Acme' }, idTemplate: '/api/v1/companies/{id}' },
    { method: 'DELETE', path: '/api/v1/companies/1', idTemplate: '/api/v1/companies/{id}' },
    { method: 'PUT', path: '/api/v1/companies/1/contacts/1', body: { is_primary: true }, idTemplate: '/api/v1/companies/{id}/contacts/1' },
    { method: 'DELETE', path: '/api/v1/companies/1/contacts/1', idTemplate: '/api/v1/companies/{id}/contacts/1' },
  ]);

  it('never answers 500 to a hostile contact id in link routes', async () => {
    const t = await makeApp();
    const acme = await company(t, { name: 'Acme' });
    for (const id of HOSTILE_IDS) {
      for (const method of ['PUT', 'DELETE'] as const) {
        const r = await t.json(method, `/api/v1/companies/${acme.id}/contacts/${id}`, method === 'PUT' ? {} : undefined);
        expectNot500(r, `${method} ${id}`);
        expect(r.status, `${method} ${id}`).toBeGreaterThanOrEqual(400);
      }
    }
    const r = await t.json('PUT', `/api/v1/companies/${acme.id}/contacts/abc`, {});
    expect(r.body.error.details.map((d: any) => d.field)).toContain('contactId');
  });
});
