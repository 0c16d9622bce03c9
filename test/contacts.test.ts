import { describe, it, expect } from 'vitest';
import { makeApp, expectError } from './helpers';

describe('contacts', () => {
  it('creates, reads, updates and lists a contact', async () => {
    const t = await makeApp();
    const created = await t.json('POST', '/api/v1/contacts', {
      email: '  Grace.Hopper@Navy.mil ',
      first_name: 'Grace',
      last_name: 'Hopper',
      phone: '+1 555 0100',
      country: 'us',
      tags: ['Pioneer', 'pioneer '],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      email: 'Grace.Hopper@Navy.mil',
      first_name: 'Grace',
      country: 'US',
      tags: ['pioneer'],
      points: 0,
      fields: {},
      do_not_contact: [],
    });
    const id = created.body.id;
    const got = await t.json('GET', `/api/v1/contacts/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id, last_name: 'Hopper', companies: [] });

    const patched = await t.json('PATCH', `/api/v1/contacts/${id}`, { job_title: 'Rear Admiral', phone: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ job_title: 'Rear Admiral', phone: null, first_name: 'Grace' });
    expect(Date.parse(patched.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.body.updated_at));

    const list = await t.json('GET', '/api/v1/contacts');
    expect(list.body.data.map((c: any) => c.id)).toEqual([id]);
  });

  it('creating an existing email (any case, any spacing) updates that contact and answers 200', async () => {
    const t = await makeApp();
    const a = await t.json('POST', '/api/v1/contacts', { email: 'ada@example.com', first_name: 'Ada' });
    const b = await t.json('POST', '/api/v1/contacts', { email: ' ADA@Example.COM', last_name: 'Lovelace', tags: ['vip'] });
    expect(a.status).toBe(201);
    expect(b.status).toBe(200);
    expect(b.body.id).toBe(a.body.id);
    expect(b.body).toMatchObject({ email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace', tags: ['vip'] });
    const n = await t.client.execute('SELECT count(*) AS n FROM contacts');
    expect(Number(n.rows[0]!.n)).toBe(1);
  });

  it('concurrent creates of one email make exactly one contact', async () => {
    const t = await makeApp();
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        t.json('POST', '/api/v1/contacts', { email: i % 2 ? 'race@example.com' : 'RACE@example.com ', first_name: `n${i}` }),
      ),
    );
    expect(results.every((r) => r.status === 200 || r.status === 201)).toBe(true);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const n = await t.client.execute("SELECT count(*) AS n FROM contacts WHERE email_normalized = 'race@example.com'");
    expect(Number(n.rows[0]!.n)).toBe(1);
  });

  it('the database itself refuses a duplicate normalised email', async () => {
    const t = await makeApp();
    await t.json('POST', '/api/v1/contacts', { email: 'dup@example.com' });
    await expect(
      t.client.execute("INSERT INTO contacts (email, email_normalized, created_at, updated_at) VALUES ('x', 'dup@example.com', 0, 0)"),
    ).rejects.toThrow(/UNIQUE/);
  });

  it('changing the email to another contact\'s answers 409 and changes nothing', async () => {
    const t = await makeApp();
    const a = await t.json('POST', '/api/v1/contacts', { email: 'a@example.com', first_name: 'A' });
    await t.json('POST', '/api/v1/contacts', { email: 'b@example.com' });
    const r = await t.json('PATCH', `/api/v1/contacts/${a.body.id}`, { email: 'B@example.com', first_name: 'Changed' });
    expectError(r, 409, 'CONFLICT');
    const got = await t.json('GET', `/api/v1/contacts/${a.body.id}`);
    expect(got.body).toMatchObject({ email: 'a@example.com', first_name: 'A' });
  });

  it('rejects bad values with 422 naming the field and writes nothing', async () => {
    const t = await makeApp();
    const cases: [unknown, string][] = [
      [{ email: 'not-an-email' }, 'email'],
      [{ email: 'a@b.co', country: 'Atlantis' }, 'country'],
      [{ email: 'a@b.co', phone: 'call me' }, 'phone'],
      [{ email: 'a@b.co', first_name: 'x'.repeat(101) }, 'first_name'],
      [{ email: 'a@b.co', first_name: 42 }, 'first_name'],
      [{ email: 'a@b.co', nickname: 'x' }, 'nickname'],
      [{ email: 'a@b.co', fields: { nope: 1 } }, 'fields.nope'],
      [{ email: 'a@b.co', tags: ['x'.repeat(65)] }, 'tags.0'],
    ];
    for (const [body, field] of cases) {
      const r = await t.json('POST', '/api/v1/contacts', body);
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details.map((d: any) => d.field)).toContain(field);
    }
    const n = await t.client.execute('SELECT count(*) AS n FROM contacts');
    expect(Number(n.rows[0]!.n)).toBe(0);
  });

  it('answers 400 for malformed JSON, 415 for a wrong content type, 413 for an oversized body, 404 for unknown ids', async () => {
    const t = await makeApp();
    expectError(await t.json('POST', '/api/v1/contacts', '{"email": ', { headers: { 'content-type': 'application/json' } }), 400, 'BAD_REQUEST');
    expectError(await t.json('POST', '/api/v1/contacts', 'email=a@b.co', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await t.json('POST', '/api/v1/contacts', { email: 'a@b.co', first_name: 'x'.repeat(1_100_000) }), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await t.json('POST', '/api/v1/contacts', [1, 2]), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/contacts', 'null', { headers: { 'content-type': 'application/json' } }), 422, 'VALIDATION_FAILED');
    for (const id of ['999999', 'abc', '-1', '1e999', '99999999999999999999', '0x10', '1.5']) {
      const r = await t.json('GET', `/api/v1/contacts/${id}`);
      expect([404, 422]).toContain(r.status);
      expect(r.body.error.code).toMatch(/NOT_FOUND|VALIDATION_FAILED/);
    }
    expectError(await t.json('PATCH', '/api/v1/contacts/999', { first_name: 'x' }), 404, 'NOT_FOUND');
    expectError(await t.json('DELETE', '/api/v1/contacts/999'), 404, 'NOT_FOUND');
    expectError(await t.json('GET', '/api/v1/nothing-here'), 404, 'NOT_FOUND');
  });

  it('a chunked body over the limit is refused with 413', async () => {
    const t = await makeApp();
    const big = new TextEncoder().encode(JSON.stringify({ email: 'a@b.co', first_name: 'x'.repeat(1_200_000) }));
    const body = new ReadableStream({
      start(c) {
        for (let i = 0; i < big.length; i += 65536) c.enqueue(big.slice(i, i + 65536));
        c.close();
      },
    });
    const res = await t.app.request('/api/v1/contacts', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.keys.admin}`, 'content-type': 'application/json' },
      body,
      // @ts-expect-error Node's fetch needs duplex for stream bodies
      duplex: 'half',
    });
    expect(res.status).toBe(413);
  });

  it('lists with search, tag filter, sorting and cursor pagination', async () => {
    let clock = 1_700_000_000_000;
    const t = await makeApp({ now: () => (clock += 1000) });
    const people = [
      ['alice@acme.com', 'Alice', 'Smith'],
      ['bob@acme.com', 'Bob', 'Stone'],
      ['carol@other.org', 'Carol', 'Alison'],
      ['dave@other.org', 'Dave', 'Brown'],
      ['erin@acme.com', 'Erin', 'Smythe'],
    ];
    const ids: number[] = [];
    for (const [email, first, last] of people) {
      const r = await t.json('POST', '/api/v1/contacts', { email, first_name: first, last_name: last, tags: email!.endsWith('acme.com') ? ['acme'] : [] });
      ids.push(r.body.id);
    }
    const emails = async (q: string) => (await t.json('GET', `/api/v1/contacts?${q}`)).body.data.map((c: any) => c.email);
    expect(await emails('q=ali')).toEqual(['carol@other.org', 'alice@acme.com']); // last name Alison, first name Alice
    expect(await emails('q=BOB')).toEqual(['bob@acme.com']);
    expect(await emails('q=sm')).toEqual(['erin@acme.com', 'alice@acme.com']);
    expect(await emails('q=%25')).toEqual([]); // no LIKE wildcards
    expect(await emails('tag=ACME&order=asc')).toEqual(['alice@acme.com', 'bob@acme.com', 'erin@acme.com']);

    // Walk every page of 2 in both orders: complete, no overlap.
    for (const order of ['asc', 'desc']) {
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const r: any = await t.json('GET', `/api/v1/contacts?limit=2&order=${order}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(r.status).toBe(200);
        seen.push(...r.body.data.map((c: any) => c.id));
        cursor = r.body.next_cursor;
        expect(r.body.has_more).toBe(cursor !== null);
      } while (cursor);
      expect(seen).toEqual(order === 'asc' ? ids : [...ids].reverse());
    }

    // updated_at order follows the last change.
    await t.json('PATCH', `/api/v1/contacts/${ids[0]}`, { city: 'Paris' });
    expect((await t.json('GET', '/api/v1/contacts?sort=updated_at&limit=1')).body.data[0].id).toBe(ids[0]);

    // last_active_at: contacts never active (NULL) come last in desc order, and paging through them works.
    await t.client.execute({ sql: 'UPDATE contacts SET last_active_at = ? WHERE id = ?', args: [5, ids[2]!] });
    await t.client.execute({ sql: 'UPDATE contacts SET last_active_at = ? WHERE id = ?', args: [9, ids[3]!] });
    for (const order of ['desc', 'asc']) {
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const r: any = await t.json('GET', `/api/v1/contacts?sort=last_active_at&order=${order}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...r.body.data.map((c: any) => c.id));
        cursor = r.body.next_cursor;
      } while (cursor);
      const expected = order === 'desc' ? [ids[3], ids[2], ids[4], ids[1], ids[0]] : [ids[0], ids[1], ids[4], ids[2], ids[3]];
      expect(seen).toEqual(expected);
    }

    expectError(await t.json('GET', '/api/v1/contacts?cursor=garbage'), 400, 'BAD_REQUEST');
    expectError(await t.json('GET', '/api/v1/contacts?limit=1000'), 422, 'VALIDATION_FAILED');
    expectError(await t.json('GET', '/api/v1/contacts?sort=email'), 422, 'VALIDATION_FAILED');
  });

  it('contacts without an email can be created and are never merged by accident', async () => {
    const t = await makeApp();
    const a = await t.json('POST', '/api/v1/contacts', { first_name: 'Anon', phone: '+44 20 7946 0000', tags: ['walk-in'] });
    const b = await t.json('POST', '/api/v1/contacts', { first_name: 'Anon' });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(a.body.id).not.toBe(b.body.id);
    expect(a.body.tags).toEqual(['walk-in']);
  });
});

describe('contact search beyond ASCII', () => {
  it('finds names starting with a capital non-ASCII letter and names with emoji', async () => {
    const t = await makeApp();
    await t.json('POST', '/api/v1/contacts', { email: 'oe@example.com', first_name: 'Örjan', last_name: 'Ångström' });
    await t.json('POST', '/api/v1/contacts', { email: 'emoji@example.com', first_name: 'Al🚀' });
    const find = async (q: string) => (await t.json('GET', `/api/v1/contacts?q=${encodeURIComponent(q)}`)).body.data.map((c: any) => c.email);
    expect(await find('Örjan')).toEqual(['oe@example.com']);
    expect(await find('Ångs')).toEqual(['oe@example.com']);
    expect(await find('al')).toEqual(['emoji@example.com']);
  });
});

describe('hostile strings', () => {
  it('lone surrogates from JSON escapes are stored as U+FFFD and never crash a read', async () => {
    const t = await makeApp();
    const raw = '{"email":"s@example.com","first_name":"x\\ud800y","fields":{}}';
    const r = await t.json('POST', '/api/v1/contacts', raw, { headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(201);
    expect(r.body.first_name).toBe('x\ufffdy');
    const batch = '{"contacts":[{"email":"b@example.com","last_name":"\\udc00"}]}';
    expect((await t.json('POST', '/api/v1/contacts/batch', batch, { headers: { 'content-type': 'application/json' } })).status).toBe(200);
    const list = await t.json('GET', '/api/v1/contacts');
    expect(list.body.data.map((c: any) => c.last_name)).toContain('\ufffd');
  });
});
