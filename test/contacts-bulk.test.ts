import { describe, it, expect } from 'vitest';
import { makeApp, expectError, type TestApp } from './helpers';

async function csv(t: TestApp, body: string, query = '', headers: Record<string, string> = { 'content-type': 'text/csv' }) {
  return t.json('POST', `/api/v1/contacts/import${query}`, body, { headers });
}

describe('batch upsert', () => {
  it('creates and updates in one call, reporting each row; invalid rows are not written', async () => {
    const t = await makeApp();
    await t.json('POST', '/api/v1/fields', { key: 'plan', label: 'Plan', type: 'select', options: ['free', 'pro'] });
    const existing = await t.json('POST', '/api/v1/contacts', { email: 'old@example.com', first_name: 'Old' });
    const r = await t.json('POST', '/api/v1/contacts/batch', {
      contacts: [
        { email: 'new1@example.com', first_name: 'New', fields: { plan: 'pro' }, tags: ['import'] },
        { email: 'OLD@example.com', last_name: 'Timer' },
        { email: 'broken', first_name: 'X' },
        { email: 'new2@example.com', fields: { plan: 'enterprise' } },
        { email: 'new1@example.com', city: 'Oslo' }, // same person twice in one batch
        { first_name: 'No email' },
        'not an object',
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ created: 2, updated: 2, rejected: 3 });
    const byIndex = r.body.results;
    expect(byIndex[0]).toMatchObject({ index: 0, status: 'created' });
    expect(byIndex[1]).toMatchObject({ index: 1, status: 'updated', id: existing.body.id });
    expect(byIndex[2]).toMatchObject({ status: 'rejected', errors: [{ field: 'email' }] });
    expect(byIndex[3]).toMatchObject({ status: 'rejected', errors: [{ field: 'fields.plan' }] });
    expect(byIndex[4]).toMatchObject({ status: 'updated', id: byIndex[0].id });
    expect(byIndex[5]).toMatchObject({ status: 'created' });
    expect(byIndex[6]).toMatchObject({ status: 'rejected' });

    const new1 = await t.json('GET', `/api/v1/contacts/${byIndex[0].id}`);
    expect(new1.body).toMatchObject({ first_name: 'New', city: 'Oslo', fields: { plan: 'pro' }, tags: ['import'] });
    const old = await t.json('GET', `/api/v1/contacts/${existing.body.id}`);
    expect(old.body).toMatchObject({ first_name: 'Old', last_name: 'Timer' });
    const n = await t.client.execute('SELECT count(*) AS n FROM contacts');
    expect(Number(n.rows[0]!.n)).toBe(3); // old, new1 and the one without email; nothing for rejected rows
  });

  it('accepts 1,000 contacts and refuses 1,001', async () => {
    const t = await makeApp();
    const rows = Array.from({ length: 1000 }, (_, i) => ({ email: `p${i}@example.com`, tags: ['bulk'] }));
    const r = await t.json('POST', '/api/v1/contacts/batch', { contacts: rows });
    expect(r.body).toMatchObject({ created: 1000, updated: 0, rejected: 0 });
    const again = await t.json('POST', '/api/v1/contacts/batch', { contacts: rows });
    expect(again.body).toMatchObject({ created: 0, updated: 1000 });
    const tagged = await t.client.execute("SELECT count(*) AS n FROM contact_tags");
    expect(Number(tagged.rows[0]!.n)).toBe(1000);
    const tooMany = await t.json('POST', '/api/v1/contacts/batch', { contacts: [...rows, { email: 'x@example.com' }] });
    expectError(tooMany, 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/contacts/batch', { contacts: [] }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/contacts/batch', { contacts: rows, extra: true }), 422, 'VALIDATION_FAILED');
  });
});

describe('CSV import and export', () => {
  it('maps headers automatically, upserts by email and reports rejected rows with their line', async () => {
    const t = await makeApp();
    await t.json('POST', '/api/v1/fields', { key: 'employees', label: 'Company size', type: 'number' });
    await t.json('POST', '/api/v1/fields', { key: 'newsletter', label: 'Newsletter', type: 'boolean' });
    await t.json('POST', '/api/v1/fields', { key: 'interests', label: 'Interests', type: 'multiselect', options: ['seo', 'ads', 'email'] });
    await t.json('POST', '/api/v1/contacts', { email: 'known@example.com', first_name: 'Known', city: 'Rome' });
    const file = [
      '\ufeffE-mail,First Name,Last Name,Company size,newsletter,Interests,Tags,Favourite colour',
      'ann@example.com,Ann,"Lee, Jr.",12,yes,seo|email,"lead;csv",blue',
      'KNOWN@example.com,,Updated,,,,,',
      '',
      'bad-email,Bad,,3,,,,',
      'num@example.com,Num,,many,,,,',
      '"multi@example.com","Multi ""Quoted""",Line,,no,ads,,',
    ].join('\r\n');
    const r = await csv(t, file, '?tags=Spring%20Fair');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ rows: 5, created: 2, updated: 1, rejected: 2 });
    expect(r.body.mapping).toMatchObject({
      'E-mail': 'email',
      'First Name': 'first_name',
      'Company size': 'fields.employees',
      Interests: 'fields.interests',
      Tags: 'tags',
    });
    expect(r.body.ignored_columns).toEqual(['Favourite colour']);
    expect(r.body.errors).toEqual([
      { line: 5, errors: [{ field: 'email', message: expect.any(String) }] },
      { line: 6, errors: [{ field: 'fields.employees', message: 'must be a number' }] },
    ]);
    const ann = (await t.json('GET', '/api/v1/contacts?q=ann')).body.data[0];
    expect(ann).toMatchObject({
      last_name: 'Lee, Jr.',
      fields: { employees: 12, newsletter: true, interests: ['seo', 'email'] },
      tags: ['csv', 'lead', 'spring fair'],
    });
    const known = (await t.json('GET', '/api/v1/contacts?q=known')).body.data[0];
    expect(known).toMatchObject({ first_name: 'Known', last_name: 'Updated', city: 'Rome' }); // empty cells change nothing
    const multi = (await t.json('GET', '/api/v1/contacts?q=multi')).body.data[0];
    expect(multi).toMatchObject({ first_name: 'Multi "Quoted"', fields: { newsletter: false, interests: ['ads'] } });
  });

  it('uses an explicit mapping and can skip columns', async () => {
    const t = await makeApp();
    const file = 'Mail,Vorname,Notes\nm@example.com,Max,secret\n';
    const r = await csv(t, file, `?mapping=${encodeURIComponent(JSON.stringify({ Mail: 'email', Vorname: 'first_name', Notes: '' }))}`);
    expect(r.body).toMatchObject({ created: 1, ignored_columns: ['Notes'] });
    expectError(await csv(t, file, `?mapping=${encodeURIComponent(JSON.stringify({ Mail: 'nonsense' }))}`), 400, 'BAD_REQUEST');
    expectError(await csv(t, file, '?mapping=%7Bnot-json'), 400, 'BAD_REQUEST');
  });

  it('refuses files it cannot use with a clear 4xx and writes nothing', async () => {
    const t = await makeApp();
    expectError(await csv(t, ''), 400, 'BAD_REQUEST');
    expectError(await csv(t, 'name,city\nAnn,Rome\n'), 400, 'BAD_REQUEST'); // no email column
    expectError(await csv(t, 'email,name\n"unterminated,x\n'), 400, 'BAD_REQUEST');
    expectError(await csv(t, 'email\na@b.co', '', { 'content-type': 'application/json' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await csv(t, 'email\n' + 'a@example.com\n'.repeat(800_000)), 413, 'PAYLOAD_TOO_LARGE');
    const n = await t.client.execute('SELECT count(*) AS n FROM contacts');
    expect(Number(n.rows[0]!.n)).toBe(0);
  });

  it('imports 5,000 rows in one request', async () => {
    const t = await makeApp();
    const lines = ['email,first_name', ...Array.from({ length: 5000 }, (_, i) => `user${i}@example.com,User ${i}`)];
    const r = await csv(t, lines.join('\n'));
    expect(r.body).toMatchObject({ rows: 5000, created: 5000, rejected: 0 });
  });

  it('exports a filtered list as CSV that imports back unchanged', async () => {
    const t = await makeApp();
    await t.json('POST', '/api/v1/fields', { key: 'plan', label: 'Plan', type: 'select', options: ['free', 'pro'] });
    for (let i = 0; i < 1203; i++) {
      // more than two export pages
      await t.ctx.client.execute({
        sql: "INSERT INTO contacts (email, email_normalized, first_name, custom, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        args: [`c${i}@example.com`, `c${i}@example.com`, `C${i}`, '{}', i, i],
      });
    }
    await t.json('POST', '/api/v1/contacts', { email: 'vip@example.com', first_name: '=HYPERLINK("http://evil")', last_name: 'Comma, "Quote"', fields: { plan: 'pro' }, tags: ['vip', 'b'] });
    const all = await t.call('GET', '/api/v1/contacts/export.csv');
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toContain('text/csv');
    const text = await all.text();
    const lines = text.trim().split('\r\n');
    expect(lines[0]).toBe('id,email,first_name,last_name,phone,job_title,city,country,plan,tags,points,created_at,updated_at,last_active_at');
    expect(lines).toHaveLength(1 + 1204);

    const vip = await t.call('GET', '/api/v1/contacts/export.csv?tag=vip');
    const vipText = await vip.text();
    const vipLines = vipText.trim().split('\r\n');
    expect(vipLines).toHaveLength(2);
    // Formula-looking cells are neutralised for spreadsheets; quotes and commas escaped.
    expect(vipLines[1]).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(vipLines[1]).toContain('"Comma, ""Quote"""');
    expect(vipLines[1]).toContain(',pro,b|vip,');

    // Round trip into a fresh workspace.
    const t2 = await makeApp();
    await t2.json('POST', '/api/v1/fields', { key: 'plan', label: 'Plan', type: 'select', options: ['free', 'pro'] });
    const back = await t2.json('POST', '/api/v1/contacts/import', vipText, { headers: { 'content-type': 'text/csv' } });
    expect(back.body).toMatchObject({ created: 1, rejected: 0 });
    const c = (await t2.json('GET', '/api/v1/contacts')).body.data[0];
    expect(c).toMatchObject({ email: 'vip@example.com', last_name: 'Comma, "Quote"', fields: { plan: 'pro' }, tags: ['b', 'vip'] });
  });
});

describe('a large CSV import', () => {
  it('gives the event loop a turn between slices of parsing and between batches of writing', async () => {
    const t = await makeApp();
    const lines = ['email,first_name', ...Array.from({ length: 30_000 }, (_, i) => `bulk${i}@example.com,Person ${i}`)];
    // Counts turns of the event loop (timers) while the import runs: a parse or a write loop
    // that never yields would leave other requests waiting all along.
    let turns = 0;
    let stop = false;
    const tick = () => {
      if (stop) return;
      turns++;
      setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
    const r = await t.call('POST', '/api/v1/contacts/import', lines.join('\n'), { headers: { 'content-type': 'text/csv' } });
    stop = true;
    expect(await r.json()).toMatchObject({ created: 30_000 });
    // ~1 MB: 4 slices of 256 KB and 30 batches of 1,000 rows, each followed by a turn.
    expect(turns).toBeGreaterThanOrEqual(30);
  });
});
