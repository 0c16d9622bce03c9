import { describe, it, expect } from 'vitest';
import { createServer, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { makeApp, expectError, type TestApp } from './helpers';
import { CHROME_UA, count, makeSite, runJob, sign, track, vid } from './tracking-helpers';
import { readNodeBody } from '../api/entry/node-body';
import type { Logger } from '../api/core/context';

// The one rule for what clients send (api/core/util/text.ts): control characters
// and lone surrogates in text become U+FFFD; identifiers that carried them are
// refused with 422; JSON nests at most 64 deep; prototype-named keys are plain keys.

const ORIGIN = 'https://shop.example.com';
const NUL_EMAIL = 'ada\u0000evil@example.com';
const SURROGATE_EMAIL = 'ada\ud800@example.com';

async function formFor(t: TestApp) {
  const r = await t.json('POST', '/api/v1/forms', {
    name: 'Signup',
    fields: [
      { key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true },
      { key: 'first_name', label: 'First name', type: 'text', maps_to: 'first_name' },
      { key: 'note', label: 'Note', type: 'textarea', maps_to: null },
    ],
  });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return r.body.id as number;
}

let sid = 0;
async function submitJson(t: TestApp, formId: number, key: string, values: Record<string, unknown>, raw?: string) {
  const body = raw ?? JSON.stringify({ k: key, v: vid(7), sid: `boundary_${++sid}`, values, t: 5000, hp: '' });
  const res = await t.app.request(`/f/${formId}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', origin: ORIGIN, 'user-agent': CHROME_UA },
    body,
  });
  return { status: res.status, body: await res.json() };
}

async function submitUrlencoded(t: TestApp, formId: number, key: string, fields: Record<string, string>) {
  const res = await t.app.request(`/f/${formId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, 'user-agent': CHROME_UA },
    body: new URLSearchParams({ _k: key, _sid: `boundary_${++sid}`, ...fields }).toString(),
  });
  return { status: res.status, text: await res.text() };
}

const contactCount = (t: TestApp) => count(t, 'SELECT count(*) AS n FROM contacts');

/** Reads every text column of every row back: the libsql client aborts the process on invalid UTF-8. */
async function readEverything(t: TestApp) {
  const tables = await t.client.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  let rows = 0;
  for (const r of tables.rows) rows += (await t.client.execute(`SELECT * FROM "${String(r.name)}"`)).rows.length;
  return rows;
}

describe('identifiers with control characters or lone surrogates are refused with 422', () => {
  it('a validly signed identify whose email has a lone surrogate or NUL answers 422 and stores nothing', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    for (const email of [SURROGATE_EMAIL, NUL_EMAIL, 'ada\u0007@example.com']) {
      // The site's backend signed exactly what the user typed.
      const res = await track(t, { k: site.public_key, v: vid(1), e: [{ t: 'pv', u: `${ORIGIN}/` }], id: { email, sig: sign(site.secret, email) } });
      expectError({ status: res.status, body: await res.json() }, 422, 'VALIDATION_FAILED');
    }
    expect(await contactCount(t)).toBe(0);
    expect(await count(t, 'SELECT count(*) AS n FROM events')).toBe(0);
    await readEverything(t);
  });

  it('NUL in an email is refused on every path: API create, batch, CSV import, form JSON, no-JS form', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const formId = await formFor(t);

    expectError(await t.json('POST', '/api/v1/contacts', { email: NUL_EMAIL }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/contacts', { email: SURROGATE_EMAIL }), 422, 'VALIDATION_FAILED');

    const batch = await t.json('POST', '/api/v1/contacts/batch', { contacts: [{ email: NUL_EMAIL }, { email: 'ok@example.com' }] });
    expect(batch.status).toBe(200);
    expect(batch.body.results[0]).toMatchObject({ status: 'rejected', errors: [{ field: 'email' }] });
    expect(batch.body.results[1]).toMatchObject({ status: 'created' });

    const csv = await t.call('POST', '/api/v1/contacts/import', `email,first_name\n${NUL_EMAIL},Ada\nbob@example.com,Bob\n`, {
      headers: { 'content-type': 'text/csv' },
    });
    const report = await csv.json();
    expect(report).toMatchObject({ created: 1, rejected: 1, errors: [{ line: 2, errors: [{ field: 'email' }] }] });

    const json = await submitJson(t, formId, site.public_key, { email: NUL_EMAIL, first_name: 'Ada' });
    expectError(json, 422, 'VALIDATION_FAILED');
    expect(json.body.error.details).toEqual([expect.objectContaining({ field: 'values.email' })]);

    const plain = await submitUrlencoded(t, formId, site.public_key, { email: NUL_EMAIL, first_name: 'Ada' });
    expect(plain.status).toBe(422);
    expect(plain.text).toContain('valid email');

    // Only the two clean addresses exist, neither cut at a NUL.
    const emails = (await t.client.execute('SELECT email FROM contacts ORDER BY email')).rows.map((r) => r.email);
    expect(emails).toEqual(['bob@example.com', 'ok@example.com']);
    expect(await count(t, 'SELECT count(*) AS n FROM form_submissions')).toBe(0);
  });

  it('a tag with a control character is refused, on the contact and in a segment filter', async () => {
    const t = await makeApp();
    expectError(await t.json('POST', '/api/v1/contacts', { email: 'a@example.com', tags: ['v\u0000ip'] }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/segments', { name: 'S', filter: { tag: 'v\u0001ip' } }), 422, 'VALIDATION_FAILED');
    expect(await count(t, 'SELECT count(*) AS n FROM tags')).toBe(0);
  });
});

describe('control characters in text become U+FFFD, never cut the text short', () => {
  it('the same on the API, form JSON, no-JS forms, CSV and /t', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const formId = await formFor(t);

    const api = await t.json('POST', '/api/v1/contacts', { email: 'api@example.com', first_name: 'Ada\u0000Lovelace', city: 'Lon\ud800don' });
    expect(api.status).toBe(201);
    expect(api.body).toMatchObject({ first_name: 'Ada\ufffdLovelace', city: 'Lon\ufffddon' });

    const json = await submitJson(t, formId, site.public_key, { email: 'form@example.com', first_name: 'Gr\u0000ace', note: 'line\u0000two\nthree' });
    expect(json.status).toBe(200);
    const plain = await submitUrlencoded(t, formId, site.public_key, { email: 'plain@example.com', first_name: 'Al\u0000an' });
    expect(plain.status).toBe(200);
    const csv = await t.call('POST', '/api/v1/contacts/import', 'email,first_name\ncsv@example.com,Ka\u0000te\n', { headers: { 'content-type': 'text/csv' } });
    expect(csv.status).toBe(200);

    const names = Object.fromEntries((await t.client.execute('SELECT email, first_name FROM contacts')).rows.map((r) => [r.email, r.first_name]));
    expect(names).toEqual({
      'api@example.com': 'Ada\ufffdLovelace',
      'form@example.com': 'Gr\ufffdace',
      'plain@example.com': 'Al\ufffdan',
      'csv@example.com': 'Ka\ufffdte',
    });
    const note = await t.client.execute('SELECT "values" FROM form_submissions ORDER BY id LIMIT 1');
    expect(JSON.parse(String(note.rows[0]!.values)).note).toBe('line\ufffdtwo\nthree');

    const hit = await track(t, { k: site.public_key, v: vid(2), e: [{ t: 'pv', u: `${ORIGIN}/p`, ti: 'Ti\u0000tle \ud83d\ude00 \udc00', p: { k: 'v\u0000' } }] });
    expect(hit.status).toBe(202);
    const ev = await t.client.execute("SELECT title, props FROM events WHERE type = 'page_view'");
    expect(ev.rows[0]!.title).toBe('Ti\ufffdtle \ud83d\ude00 \ufffd');
    expect(JSON.parse(String(ev.rows[0]!.props)).k).toBe('v\ufffd');
    await readEverything(t);
  });

  it('a query string with control characters is refused with 400', async () => {
    const t = await makeApp();
    expectError(await t.json('GET', '/api/v1/contacts?q=a%00b'), 400, 'BAD_REQUEST');
    expectError(await t.json('GET', '/api/v1/contacts?q=%ED%A0%80'), 400, 'BAD_REQUEST');
    expect((await t.json('GET', '/api/v1/contacts?q=a%20b')).status).toBe(200);
  });
});

describe('JSON nested thousands deep', () => {
  const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

  it('answers 400 naming the limit on the public and private write paths, and stores nothing', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const formId = await formFor(t);
    for (const deep of [deepArray(5000), deepObject(5000)]) {
      const values = `{"k":"${site.public_key}","sid":"deep_${++sid}","t":5000,"values":{"email":"d@example.com","note":${deep}}}`;
      const f = await submitJson(t, formId, site.public_key, {}, values);
      expectError(f, 400, 'BAD_REQUEST');
      expect(f.body.error.message).toMatch(/64 levels/);
      for (const path of ['/api/v1/contacts', '/api/v1/segments', '/api/v1/forms', '/api/v1/contacts/batch', '/api/v1/point-rules']) {
        const r = await t.json('POST', path, `{"name":"x","filter":${deep}}`, { headers: { 'content-type': 'application/json' } });
        expectError(r, 400, 'BAD_REQUEST');
      }
      const hit = await track(t, `{"k":"${site.public_key}","v":null,"e":[{"t":"ev","u":"${ORIGIN}/","p":${deep}}]}`);
      expectError({ status: hit.status, body: await hit.json() }, 400, 'BAD_REQUEST');
    }
    // 64 levels are fine where the schema allows nesting (a segment filter of nested "not"s is refused by its own size rule, as a 422).
    const ok = await t.json('POST', '/api/v1/segments', `{"name":"x","filter":${'{"not":'.repeat(60)}{"tag":"a"}${'}'.repeat(60)}}`, {
      headers: { 'content-type': 'application/json' },
    });
    expectError(ok, 422, 'VALIDATION_FAILED');
    expect(await contactCount(t)).toBe(0);
    expect(await count(t, 'SELECT count(*) AS n FROM events')).toBe(0);
  });
});

describe('keys named like Object.prototype members are plain keys', () => {
  it('POST /internal/jobs/constructor, __proto__ and toString answer 404', async () => {
    const t = await makeApp();
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expectError(await t.json('POST', `/internal/jobs/${name}`), 404, 'NOT_FOUND');
    }
  });

  it('a CSV column named constructor is ignored, and a mapping naming toString or __proto__ works', async () => {
    const t = await makeApp();
    const csv = (body: string, mapping?: string) =>
      t.call('POST', `/api/v1/contacts/import${mapping ? `?mapping=${encodeURIComponent(mapping)}` : ''}`, body, {
        headers: { 'content-type': 'text/csv' },
      });
    const a = await csv('email,constructor,toString,__proto__\na@example.com,x,y,z\n');
    expect(a.status).toBe(200);
    expect(await a.json()).toMatchObject({ created: 1, ignored_columns: ['constructor', 'toString', '__proto__'] });
    const b = await csv('toString,__proto__\nb@example.com,Bea\n', '{"toString":"email","__proto__":"first_name"}');
    expect(b.status).toBe(200);
    const report = JSON.parse(await b.text(), (k, v) => v);
    expect(report.created).toBe(1);
    expect(Object.entries(report.mapping)).toEqual([['toString', 'email'], ['__proto__', 'first_name']]);
    const bea = await t.client.execute("SELECT first_name FROM contacts WHERE email = 'b@example.com'");
    expect(bea.rows[0]!.first_name).toBe('Bea');
  });

  it('segment filters and form actions naming constructor are 422s, not 500s', async () => {
    const t = await makeApp();
    for (const field of ['constructor', 'company.constructor', 'toString', 'company.__proto__']) {
      expectError(await t.json('POST', '/api/v1/segments', { name: 'S', filter: { field, op: 'equals', value: 'x' } }), 422, 'VALIDATION_FAILED');
    }
    const form = await t.json('POST', '/api/v1/forms', {
      name: 'F',
      fields: [{ key: 'email', label: 'Email', type: 'email', maps_to: 'email' }],
      actions: [{ type: 'set_field', field: 'constructor', value: 'x' }],
    });
    expectError(form, 422, 'VALIDATION_FAILED');
    const mapped = await t.json('POST', '/api/v1/forms', { name: 'F', fields: [{ key: 'c', label: 'C', type: 'text', maps_to: 'constructor' }] });
    expectError(mapped, 422, 'VALIDATION_FAILED');
  });

  it('a "__proto__" key is refused like any unknown field, on the API, /f and /t', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const formId = await formFor(t);
    const api = await t.json('POST', '/api/v1/contacts', '{"email":"p@example.com","__proto__":{"admin":true}}', { headers: { 'content-type': 'application/json' } });
    expectError(api, 422, 'VALIDATION_FAILED');
    expect(api.body.error.details).toEqual([{ field: '__proto__', message: 'unknown field' }]);
    const f = await submitJson(t, formId, site.public_key, {}, `{"k":"${site.public_key}","sid":"proto_1","t":5000,"values":{"email":"p@example.com","__proto__":"x"}}`);
    expectError(f, 422, 'VALIDATION_FAILED');
    const hit = await track(t, `{"k":"${site.public_key}","v":null,"e":[{"t":"ev","u":"${ORIGIN}/","n":"x","p":{"__proto__":"x"}}]}`);
    expectError({ status: hit.status, body: await hit.json() }, 422, 'VALIDATION_FAILED');
    expect(await contactCount(t)).toBe(0);
  });
});

describe('a client aborting its request body', () => {
  it('is logged at debug level without a stack, and the server carries on', async () => {
    const lines: { level: string; msg: string; data?: Record<string, unknown> }[] = [];
    const log: Logger = {
      debug: (msg, data) => lines.push({ level: 'debug', msg, data }),
      info: (msg, data) => lines.push({ level: 'info', msg, data }),
      warn: (msg, data) => lines.push({ level: 'warn', msg, data }),
      error: (msg, data) => lines.push({ level: 'error', msg, data }),
    };
    const t = await makeApp({ public: { readBody: readNodeBody } });
    const site = await makeSite(t);
    t.ctx.log = log;
    const server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1', createServer });
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;
    try {
      for (const path of ['/t', '/api/v1/contacts']) {
        await new Promise<void>((resolve) => {
          const sock = connect(port, '127.0.0.1', () => {
            sock.write(
              `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nOrigin: ${ORIGIN}\r\nAuthorization: Bearer ${t.keys.admin}\r\nContent-Length: 1000\r\n\r\n{"k":"${site.public_key}",`,
            );
            setTimeout(() => {
              sock.destroy();
              resolve();
            }, 100);
          });
        });
      }
      await new Promise((r) => setTimeout(r, 200));
      // Still serving.
      const health = await new Promise<number>((resolve, reject) =>
        httpRequest({ host: '127.0.0.1', port, path: '/health' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .on('error', reject)
          .end(),
      );
      expect(health).toBe(200);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    const aborted = lines.filter((l) => l.msg === 'request aborted by the client');
    expect(aborted.length).toBeGreaterThanOrEqual(1);
    expect(aborted.every((l) => l.level === 'debug' && !JSON.stringify(l.data ?? {}).includes('    at '))).toBe(true);
  });
});

// Regressions found by the hostile-input walk (test/hostile-input.test.ts), each reduced to its smallest request.
describe('found by the hostile-input walk', () => {
  it('tags outside Latin-1 page through GET /tags (the cursor carries the name)', async () => {
    const t = await makeApp();
    // The longest name a tag may have, in characters that take three bytes each in UTF-8.
    const long = '漢'.repeat(64);
    const c = await t.json('POST', '/api/v1/contacts', { email: 'tags@example.com', tags: ['日本', 'émoji 😀', '\u202eltr', long, 'zz'] });
    expect(c.status).toBe(201);
    const names: string[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const page: { status: number; body: any } = await t.json('GET', `/api/v1/tags?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      names.push(...page.body.data.map((x: { name: string }) => x.name));
      cursor = page.body.next_cursor;
      if (!cursor) break;
    }
    expect(names.sort()).toEqual(['\u202eltr', 'zz', 'émoji 😀', '日本', long].sort());
  });

  it("a point rule's regex cannot stall the process: patterns run in the database's linear-time REGEXP", async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    // Overlapping alternation backtracks exponentially in JavaScript's engine: 26 characters take seconds there.
    const rule = await t.json('POST', '/api/v1/point-rules', { name: 'Pricing', event_type: 'page_view', delta: 5, filter: { url: { op: 'regex', value: '/(a|a)+$' } } });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const ok = await t.json('POST', '/api/v1/point-rules', { name: 'Plans', event_type: 'page_view', delta: 7, filter: { url: { op: 'regex', value: '/plans/[0-9]+$' } } });
    expect(ok.status).toBe(201);
    for (const path of [`/${'a'.repeat(26)}!`, '/plans/42', '/aaa']) {
      expect((await track(t, { k: site.public_key, v: vid(path.length), e: [{ t: 'pv', u: `${ORIGIN}${path}` }] })).status).toBe(202);
    }
    const started = Date.now();
    await runJob(t);
    expect(Date.now() - started).toBeLessThan(1500);
    const scored = await t.client.execute('SELECT r.name, v.uid FROM point_log l JOIN point_rules r ON r.id = l.rule_id JOIN visitors v ON v.id = l.visitor_id ORDER BY r.name');
    expect(scored.rows.map((r) => [r.name, r.uid])).toEqual([
      ['Plans', vid('/plans/42'.length)],
      ['Pricing', vid('/aaa'.length)],
    ]);
  });

  it('a point rule regex the database cannot run is refused when saved, as for segments and focus items', async () => {
    const t = await makeApp();
    for (const value of ['(?=a)b', '(?:x)y', '(a)\\1']) {
      const r = await t.json('POST', '/api/v1/point-rules', { name: 'R', event_type: 'page_view', delta: 1, filter: { url: { op: 'regex', value } } });
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details).toEqual([expect.objectContaining({ field: 'filter.url.value' })]);
    }
  });
});

describe('answers to hostile requests stay small', () => {
  it('lists at most 50 field errors, then says how many more', async () => {
    const t = await makeApp();
    const fields = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`f${i}_${'x'.repeat(300)}`, 1]));
    const r = await t.json('POST', '/api/v1/contacts', { email: 'many@example.com', fields });
    expectError(r, 422, 'VALIDATION_FAILED');
    expect(r.body.error.details).toHaveLength(51);
    expect(r.body.error.details[50].message).toBe('…and 450 more');
    expect(JSON.stringify(r.body).length).toBeLessThan(40_000);
  });

  it('a body over the limit is refused with Connection: close (it was not read)', async () => {
    const t = await makeApp();
    const res = await t.call('POST', '/api/v1/contacts', 'x'.repeat(10), { headers: { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) } });
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
  });
});
