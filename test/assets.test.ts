import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeApp, expectError, type TestApp } from './helpers';
import { makeSite, vid, sign, track } from './tracking-helpers';
import { routeContract } from './route-contract';
import { memoryStorage } from '../api/core/assets/storage';
import { assetsDirFor, diskStorage } from '../api/entry/storage-disk';
import { r2Storage, r2StorageFromEnv, type R2BucketLike } from '../api/entry/storage-r2';
import { settleDeferred } from '../api/routes/defer';

const PDF = new TextEncoder().encode('%PDF-1.4\n% a tiny test document\n%%EOF\n');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function upload(
  t: TestApp,
  file: { bytes: Uint8Array; name: string; type?: string },
  fields: Record<string, string> = {},
  opts: { key?: string } = {},
) {
  const form = new FormData();
  form.set('file', new File([file.bytes as Uint8Array<ArrayBuffer>], file.name, { type: file.type ?? '' }));
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  const res = await t.app.request('/api/v1/assets', { method: 'POST', headers: { authorization: `Bearer ${opts.key ?? t.keys.admin}` }, body: form });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function uploadRaw(t: TestApp, bytes: Uint8Array, query: string, type = 'application/octet-stream') {
  const res = await t.app.request(`/api/v1/assets?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.keys.admin}`, 'content-type': type },
    body: bytes as Uint8Array<ArrayBuffer>,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const download = (t: TestApp, path: string, headers: Record<string, string> = {}) => t.app.request(path, { headers });

async function makeForm(t: TestApp) {
  const r = await t.client.execute(`INSERT INTO forms (name, definition, created_at, updated_at) VALUES ('Gate', '{}', 0, 0) RETURNING id`);
  return Number(r.rows[0]!.id);
}

describe('assets: upload and manage', () => {
  it('stores a multipart upload with its hash, type and a slug from the title, and lists, reads, updates and deletes it', async () => {
    const storage = memoryStorage();
    const t = await makeApp({ storage });
    const r = await upload(t, { bytes: PDF, name: 'Pricing Guide 2026.pdf', type: 'application/pdf' }, { title: 'The Pricing Guide' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      slug: 'the-pricing-guide',
      title: 'The Pricing Guide',
      filename: 'Pricing Guide 2026.pdf',
      content_type: 'application/pdf',
      size: PDF.byteLength,
      sha256: sha(PDF),
      gate_form_id: null,
      is_sample: false,
      url: '/a/the-pricing-guide',
    });
    expect(r.body.storage_key).toBeUndefined();
    expect(storage.keys()).toHaveLength(1);
    const id = r.body.id;

    // The same title again gets its own slug.
    const again = await upload(t, { bytes: PDF, name: 'guide.pdf', type: 'application/pdf' }, { title: 'The Pricing Guide' });
    expect(again.body.slug).toMatch(/^the-pricing-guide-[a-z0-9]{6}$/);
    // No title: from the file name.
    const plain = await upload(t, { bytes: PDF, name: 'C:\\fakepath\\Über Report.PDF', type: 'application/pdf' });
    expect(plain.body).toMatchObject({ filename: 'Über Report.PDF', title: 'Über Report', slug: 'uber-report' });

    const list = await t.json('GET', '/api/v1/assets?limit=2');
    expect(list.body.data.map((a: any) => a.id)).toEqual([id, again.body.id]);
    expect(list.body.has_more).toBe(true);
    expect((await t.json('GET', `/api/v1/assets/${id}`)).body).toEqual(r.body);

    const patched = await t.json('PATCH', `/api/v1/assets/${id}`, { title: 'Guide', slug: 'guide-2026', filename: 'guide.pdf' });
    expect(patched.body).toMatchObject({ title: 'Guide', slug: 'guide-2026', filename: 'guide.pdf', url: '/a/guide-2026' });
    expectError(await t.json('PATCH', `/api/v1/assets/${id}`, { slug: 'uber-report' }), 409, 'CONFLICT');
    expectError(await t.json('PATCH', `/api/v1/assets/${id}`, { slug: 'Bad Slug' }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('PATCH', `/api/v1/assets/${id}`, { gate_form_id: 4242 }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('PATCH', `/api/v1/assets/${id}`, {}), 422, 'VALIDATION_FAILED');
    expect((await download(t, '/a/guide-2026')).status).toBe(200);
    expect((await download(t, '/a/the-pricing-guide')).status).toBe(404);

    expect(storage.keys()).toHaveLength(3);
    expect((await t.json('DELETE', `/api/v1/assets/${id}`)).body).toEqual({ id, deleted: true });
    expect(storage.keys()).toHaveLength(2);
    expectError(await t.json('GET', `/api/v1/assets/${id}`), 404, 'NOT_FOUND');
    expect((await download(t, '/a/guide-2026')).status).toBe(404);
    expectError(await t.json('DELETE', `/api/v1/assets/${id}`), 404, 'NOT_FOUND');
  });

  it('takes a raw body with ?filename= and the Content-Type as the declared type', async () => {
    const t = await makeApp();
    const bytes = new Uint8Array(300_000).map((_, i) => i % 251);
    const r = await uploadRaw(t, bytes, 'filename=data.bin&title=Raw%20data&slug=raw-data', 'Application/X-Custom; foo=bar');
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ slug: 'raw-data', title: 'Raw data', filename: 'data.bin', content_type: 'application/x-custom', size: 300_000, sha256: sha(bytes) });
    const res = await download(t, '/a/raw-data');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    const text = await uploadRaw(t, new TextEncoder().encode('a,b\n1,2\n'), 'filename=x.csv', 'text/csv; charset=UTF-8');
    expect(text.body.content_type).toBe('text/csv; charset=utf-8');
    expectError(await uploadRaw(t, bytes, 'filename=y.bin&slug=raw-data'), 409, 'CONFLICT');
  });

  it('refuses bad uploads with 4xx and stores nothing', async () => {
    const storage = memoryStorage();
    const t = await makeApp({ storage });
    const cases: [Promise<{ status: number; body: any }>, number, string, string?][] = [
      [uploadRaw(t, PDF, 'title=x'), 422, 'VALIDATION_FAILED', 'filename'],
      [uploadRaw(t, PDF, 'filename=..'), 422, 'VALIDATION_FAILED', 'filename'],
      [uploadRaw(t, PDF, 'filename=' + 'x'.repeat(201)), 422, 'VALIDATION_FAILED', 'filename'],
      [uploadRaw(t, PDF, 'filename=a.pdf', 'not a type'), 422, 'VALIDATION_FAILED', 'content_type'],
      [uploadRaw(t, new Uint8Array(0), 'filename=a.pdf'), 422, 'VALIDATION_FAILED', 'file'],
      [uploadRaw(t, PDF, 'filename=a.pdf&slug=-bad-'), 422, 'VALIDATION_FAILED', 'slug'],
      [uploadRaw(t, PDF, 'filename=a.pdf&gate_form_id=abc'), 422, 'VALIDATION_FAILED', 'gate_form_id'],
      [uploadRaw(t, PDF, 'filename=a.pdf&gate_form_id=4242'), 422, 'VALIDATION_FAILED', 'gate_form_id'],
      [uploadRaw(t, PDF, 'filename=a.pdf', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [upload(t, { bytes: PDF, name: 'a.pdf' }, { bogus: '1' }), 422, 'VALIDATION_FAILED', 'bogus'],
      [upload(t, { bytes: PDF, name: 'a.pdf' }, { title: 'x'.repeat(201) }), 422, 'VALIDATION_FAILED', 'title'],
      [upload(t, { bytes: PDF, name: 'a.pdf' }, {}, { key: t.keys.read }), 403, 'FORBIDDEN'],
    ];
    for (const [p, status, code, field] of cases) {
      const r = await p;
      expectError(r, status, code);
      if (field) expect(r.body.error.details.map((d: any) => d.field)).toContain(field);
    }
    const noFile = new FormData();
    noFile.set('title', 'x');
    const res = await t.app.request('/api/v1/assets', { method: 'POST', headers: { authorization: `Bearer ${t.keys.admin}` }, body: noFile });
    expectError({ status: res.status, body: await res.json() }, 422, 'VALIDATION_FAILED');
    const broken = await t.app.request('/api/v1/assets', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.keys.admin}`, 'content-type': 'multipart/form-data; boundary=zzz' },
      body: 'not multipart at all',
    });
    expectError({ status: broken.status, body: await broken.json() }, 400, 'BAD_REQUEST');
    expect(storage.keys()).toEqual([]);
    expect((await t.json('GET', '/api/v1/assets')).body.data).toEqual([]);
  });

  it('answers 413 to a file over 25 MB, declared or streamed', async () => {
    const storage = memoryStorage();
    const t = await makeApp({ storage });
    const big = new Uint8Array(25 * 1024 * 1024 + 1);
    expectError(await uploadRaw(t, big, 'filename=big.bin'), 413, 'PAYLOAD_TOO_LARGE');
    const declared = await t.app.request('/api/v1/assets?filename=big.bin', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.keys.admin}`, 'content-type': 'application/octet-stream', 'content-length': String(big.byteLength) },
      body: big,
    });
    expectError({ status: declared.status, body: await declared.json() }, 413, 'PAYLOAD_TOO_LARGE');
    expectError(await upload(t, { bytes: big, name: 'big.bin' }), 413, 'PAYLOAD_TOO_LARGE');
    expect(storage.keys()).toEqual([]);
  });

  it('answers 503 where no storage is configured', async () => {
    const t = await makeApp({ storage: null });
    expectError(await uploadRaw(t, PDF, 'filename=a.pdf'), 503, 'STORAGE_UNAVAILABLE');
  });
});

describe('GET /a/:slug', () => {
  it('streams the file with its type, length, disposition and ETag, and answers 304 to a matching If-None-Match', async () => {
    const t = await makeApp();
    await uploadRaw(t, PDF, `slug=guide&filename=${encodeURIComponent('Guide "2026".pdf')}`, 'application/pdf');
    const res = await download(t, '/a/guide');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-length')).toBe(String(PDF.byteLength));
    expect(res.headers.get('content-disposition')).toBe(`inline; filename="Guide _2026_.pdf"; filename*=UTF-8''Guide%20%222026%22.pdf`);
    expect(res.headers.get('etag')).toBe(`"${sha(PDF)}"`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(PDF);
    const cached = await download(t, '/a/guide', { 'if-none-match': `"${sha(PDF)}"` });
    expect(cached.status).toBe(304);
    expect(await cached.text()).toBe('');
    const head = await t.app.request('/a/guide', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(PDF.byteLength));
    expectError({ status: (await download(t, '/a/nope')).status, body: await (await download(t, '/a/nope')).json() }, 404, 'NOT_FOUND');
    expect((await download(t, '/a/..%2F..%2Fetc')).status).toBe(404);
  });

  it('serves HTML, SVG and unknown types as attachments with nosniff, under a safe file name', async () => {
    const t = await makeApp();
    const html = new TextEncoder().encode('<script>alert(document.cookie)</script>');
    await uploadRaw(t, html, 'filename=page.html&slug=page', 'text/html');
    await upload(t, { bytes: new TextEncoder().encode('<svg onload="alert(1)"/>'), name: 'logo.svg', type: 'image/svg+xml' }, { slug: 'logo' });
    await uploadRaw(t, PDF, `slug=odd&filename=${encodeURIComponent('naïve\r\nSet-Cookie: x=1.bin')}`, '');
    for (const [slug, type] of [
      ['page', 'text/html'],
      ['logo', 'image/svg+xml'],
      ['odd', 'application/octet-stream'],
    ]) {
      const res = await download(t, `/a/${slug}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; /);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const odd = await download(t, '/a/odd');
    expect(odd.headers.get('content-disposition')).toBe(`attachment; filename="naiveSet-Cookie: x=1.bin"; filename*=UTF-8''na%C3%AFveSet-Cookie%3A%20x%3D1.bin`);
    expect(odd.headers.get('set-cookie')).toBeNull();
  });

  it('records an asset_download event for the visitor (created if new) and its contact', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const a = await upload(t, { bytes: PDF, name: 'g.pdf', type: 'application/pdf' }, { slug: 'g' });
    // Without k and v: served, nothing recorded.
    expect((await download(t, '/a/g')).status).toBe(200);
    expect((await t.client.execute("SELECT count(*) AS n FROM events WHERE type = 'asset_download'")).rows[0]!.n).toBe(0);

    expect((await download(t, `/a/g?k=${site.public_key}&v=${vid(1)}`)).status).toBe(200);
    const v = await t.client.execute({ sql: 'SELECT id, contact_id FROM visitors WHERE uid = ?', args: [vid(1)] });
    expect(v.rows).toHaveLength(1);
    await track(t, { k: site.public_key, v: vid(2), e: [], id: { email: 'ada@example.com', sig: sign(site.secret, 'ada@example.com') } });
    expect((await download(t, `/a/g?k=${site.public_key}&v=${vid(2)}`)).status).toBe(200);
    await settleDeferred();
    const ev = await t.client.execute(
      "SELECT e.site_id, e.visitor_id, e.contact_id, e.props, v.uid FROM events e JOIN visitors v ON v.id = e.visitor_id WHERE e.type = 'asset_download' ORDER BY e.id",
    );
    expect(ev.rows.map((r) => [r.uid, r.site_id, r.contact_id === null, JSON.parse(String(r.props))])).toEqual([
      [vid(1), site.id, true, { asset_id: a.body.id, slug: 'g' }],
      [vid(2), site.id, false, { asset_id: a.body.id, slug: 'g' }],
    ]);
    // The contact's timeline has it.
    const contactId = ev.rows[1]!.contact_id;
    const timeline = await t.json('GET', `/api/v1/contacts/${contactId}/events`);
    expect(timeline.status).toBe(200);
    expect(JSON.stringify(timeline.body)).toContain('asset_download');

    expectError({ status: 404, body: await (await download(t, `/a/g?k=pk_unknownsite00&v=${vid(1)}`)).json() }, 404, 'NOT_FOUND');
    const bad = await download(t, `/a/g?k=${site.public_key}&v=short`);
    expectError({ status: bad.status, body: await bad.json() }, 422, 'VALIDATION_FAILED');
  });

  it('serves a gated file only after that visitor submitted the form: 403 FORM_REQUIRED (JSON) or a 303 to the form for browsers', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const form = await makeForm(t);
    const other = await makeForm(t);
    const a = await upload(t, { bytes: PDF, name: 'wp.pdf', type: 'application/pdf' }, { slug: 'white-paper', gate_form_id: String(form) });
    expect(a.body.gate_form_id).toBe(form);
    const path = `/a/white-paper?k=${site.public_key}&v=${vid(1)}`;

    for (const p of ['/a/white-paper', path]) {
      const res = await download(t, p);
      expect(res.status).toBe(403);
      const body = await res.json();
      expectError({ status: 403, body }, 403, 'FORM_REQUIRED');
      expect(body.error.form_id).toBe(form);
    }
    const browser = await download(t, path, { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    expect(browser.status).toBe(303);
    const to = new URL(browser.headers.get('location')!);
    expect(to.pathname).toBe(`/f/${form}/embed`);
    expect(to.searchParams.get('k')).toBe(site.public_key);
    expect(to.searchParams.get('v')).toBe(vid(1));
    const back = new URL(to.searchParams.get('return')!);
    expect(back.origin).toBe(to.origin);
    expect(back.pathname + back.search).toBe(path);

    // Another form's submission does not open it; this one's does.
    const visitor = await t.client.execute({
      sql: 'INSERT INTO visitors (site_id, uid, first_seen_at, last_seen_at) VALUES (?, ?, 0, 0) RETURNING id',
      args: [site.id, vid(1)],
    });
    const submit = (formId: number, visitorId: unknown, contactId: unknown = null) =>
      t.client.execute({
        sql: `INSERT INTO form_submissions (form_id, visitor_id, contact_id, "values", created_at) VALUES (?, ?, ?, '{}', 0)`,
        args: [formId, visitorId as number, contactId as number | null],
      });
    await submit(other, visitor.rows[0]!.id);
    expect((await download(t, path)).status).toBe(403);
    await submit(form, visitor.rows[0]!.id);
    const ok = await download(t, path);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toBe('private, no-store');
    expect(new Uint8Array(await ok.arrayBuffer())).toEqual(PDF);
    // Still closed to other visitors and to requests without a visitor.
    expect((await download(t, `/a/white-paper?k=${site.public_key}&v=${vid(2)}`)).status).toBe(403);
    expect((await download(t, '/a/white-paper')).status).toBe(403);

    // A browser known as a contact who submitted the form elsewhere gets it too.
    await track(t, { k: site.public_key, v: vid(3), e: [], id: { email: 'bo@example.com', sig: sign(site.secret, 'bo@example.com') } });
    const c = await t.client.execute({ sql: 'SELECT contact_id FROM visitors WHERE uid = ?', args: [vid(3)] });
    await submit(form, null, c.rows[0]!.contact_id);
    expect((await download(t, `/a/white-paper?k=${site.public_key}&v=${vid(3)}`)).status).toBe(200);

    // Ungating opens it for everyone.
    await t.json('PATCH', `/api/v1/assets/${a.body.id}`, { gate_form_id: null });
    expect((await download(t, '/a/white-paper')).status).toBe(200);
  });

  it('rate limits per client', async () => {
    const t = await makeApp({ env: { PUBLIC_RATE_LIMIT: '2' } });
    await uploadRaw(t, PDF, 'filename=a.pdf&slug=a', 'application/pdf');
    expect((await download(t, '/a/a')).status).toBe(200);
    expect((await download(t, '/a/a')).status).toBe(200);
    const r = await download(t, '/a/a');
    expectError({ status: r.status, body: await r.json() }, 429, 'RATE_LIMITED');
  });
});

describe('asset storage backends', () => {
  it('keeps files on disk beside the database, under safe keys only, and streams them back', async () => {
    expect(assetsDirFor('file:./data/leadline.db')).toBe(join(process.cwd(), 'data', 'assets'));
    expect(assetsDirFor('file:/srv/ll/db.sqlite')).toBe('/srv/ll/assets');
    expect(assetsDirFor('libsql://x.turso.io')).toBe(join(process.cwd(), 'data', 'assets'));

    const dir = join(mkdtempSync(join(tmpdir(), 'leadline-assets-')), 'assets');
    const storage = diskStorage(dir);
    const t = await makeApp({ storage });
    const r = await upload(t, { bytes: PDF, name: 'd.pdf', type: 'application/pdf' }, { slug: 'd' });
    expect(r.status).toBe(201);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^asset_[A-Za-z0-9]{32}$/);
    const res = await download(t, '/a/d');
    expect(res.headers.get('content-length')).toBe(String(PDF.byteLength));
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(PDF);
    await t.json('DELETE', `/api/v1/assets/${r.body.id}`);
    expect(existsSync(join(dir, files[0]!))).toBe(false);
    expect(await storage.get('asset_missing')).toBeNull();
    await storage.delete('asset_missing');
    for (const key of ['../escape', 'a/b', '.hidden', '', 'x'.repeat(129)]) {
      await expect(storage.put(key, PDF, 'application/pdf')).rejects.toThrow(/unsafe storage key/);
      await expect(storage.get(key)).rejects.toThrow(/unsafe storage key/);
    }
  });

  it('maps onto an R2 bucket binding bound as ASSETS', async () => {
    const objects = new Map<string, { bytes: Uint8Array; type?: string }>();
    const bucket: R2BucketLike = {
      async put(key, value, o) {
        objects.set(key, { bytes: value, type: o?.httpMetadata?.contentType });
      },
      async get(key) {
        const o = objects.get(key);
        return o ? { body: new Blob([o.bytes as Uint8Array<ArrayBuffer>]).stream(), size: o.bytes.byteLength } : null;
      },
      async delete(key) {
        objects.delete(key);
      },
    };
    expect(r2StorageFromEnv({})).toBeUndefined();
    expect(r2StorageFromEnv({ ASSETS: 'not a bucket' })).toBeUndefined();
    const t = await makeApp({ storage: r2StorageFromEnv({ ASSETS: bucket }) });
    const r = await upload(t, { bytes: PDF, name: 'r.pdf', type: 'application/pdf' }, { slug: 'r' });
    expect([...objects.values()].map((o) => o.type)).toEqual(['application/pdf']);
    expect(new Uint8Array(await (await download(t, '/a/r')).arrayBuffer())).toEqual(PDF);
    await t.json('DELETE', `/api/v1/assets/${r.body.id}`);
    expect(objects.size).toBe(0);
    await expect(r2Storage(bucket).put('../x', PDF, 'x/y')).rejects.toThrow();
  });
});

describe('assets: HTTP contract', () => {
  routeContract([
    { method: 'GET', path: '/api/v1/assets' },
    { method: 'GET', path: '/api/v1/assets/1', idTemplate: '/api/v1/assets/{id}' },
    { method: 'PATCH', path: '/api/v1/assets/1', body: { title: 'x' }, idTemplate: '/api/v1/assets/{id}' },
    { method: 'DELETE', path: '/api/v1/assets/1', idTemplate: '/api/v1/assets/{id}' },
  ]);
});
