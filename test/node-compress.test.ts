// Response compression on the Node server (Workers compress at the edge): JSON and HTML above
// 1 KB are gzipped by Hono's compress middleware when the client accepts it; the /t hot path,
// small answers, the pre-compressed scripts and streamed CSV exports are left alone. Measured
// on the wire, from the built server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { ADMIN_KEY, rawRequest, startNode, type NodeServer } from './node-server';

const ORIGIN = 'https://shop.example.com';
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const auth = { authorization: `Bearer ${ADMIN_KEY}` };

describe('compression on the Node server', () => {
  let server: NodeServer;
  beforeAll(async () => {
    server = await startNode();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('gzips large JSON and HTML for clients that accept it, and only for them', async () => {
    const sizes: string[] = [];
    // JSON, and HTML (the sample page behind /demo: /docs is now a small page that loads its script).
    for (const path of ['/api/v1/openapi.json', '/demo']) {
      const plain = await rawRequest(server.port, { path });
      const gz = await rawRequest(server.port, { path, headers: { 'accept-encoding': 'gzip, deflate, br' } });
      const refused = await rawRequest(server.port, { path, headers: { 'accept-encoding': 'gzip;q=0' } });
      expect(plain.status).toBe(200);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(refused.headers['content-encoding']).toBeUndefined();
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(gz.headers.vary).toMatch(/accept-encoding/i);
      expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
      expect(gz.bodyWireBytes).toBeLessThan(plain.bodyWireBytes * 0.6);
      sizes.push(`${path}: ${plain.bodyWireBytes} B → ${gz.bodyWireBytes} B gzip on the wire`);
    }
    console.log(sizes.join('\n'));
  });

  it('leaves answers under 1 KB uncompressed, with their length', async () => {
    for (const accept of ['gzip', '*', 'br, gzip;q=0.8']) {
      const res = await rawRequest(server.port, { path: '/health', headers: { 'accept-encoding': accept } });
      expect(res.status).toBe(200);
      expect(res.headers['content-encoding'], accept).toBeUndefined();
      expect(Number(res.headers['content-length'])).toBe(res.bodyWireBytes);
    }
    const notFound = await rawRequest(server.port, { path: '/nope', headers: { 'accept-encoding': 'gzip' } });
    expect(notFound.status).toBe(404);
    expect(notFound.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(notFound.body.toString()).error.code).toBe('NOT_FOUND');
  });

  it('does not touch the /t hot path', async () => {
    const site = await rawRequest(server.port, {
      method: 'POST',
      path: '/api/v1/sites',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Compress', allowed_origins: [ORIGIN] }),
    });
    const key = JSON.parse(site.body.toString()).public_key as string;
    const hit = await rawRequest(server.port, {
      method: 'POST',
      path: '/t',
      headers: { 'content-type': 'text/plain', origin: ORIGIN, 'user-agent': UA, 'accept-encoding': 'gzip, deflate, br' },
      body: JSON.stringify({ k: key, v: 'compressvisitor0001', e: [{ t: 'pv', u: `${ORIGIN}/` }] }),
    });
    expect(hit.status).toBe(202);
    expect(hit.headers['content-encoding']).toBeUndefined();
    expect(hit.headers.vary ?? '').not.toMatch(/accept-encoding/i);
    expect(JSON.parse(hit.body.toString())).toMatchObject({ ok: true, stored: 1 });
  });

  it('still streams CSV exports, uncompressed', async () => {
    for (let b = 0; b < 3; b++) {
      const contacts = Array.from({ length: 600 }, (_, i) => ({ email: `csv-${b}-${i}@example.com` }));
      const r = await rawRequest(server.port, {
        method: 'POST',
        path: '/api/v1/contacts/batch',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ contacts }),
      });
      expect(r.status).toBe(200);
    }
    const res = await rawRequest(server.port, { path: '/api/v1/contacts/export.csv', headers: { ...auth, 'accept-encoding': 'gzip, br' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['transfer-encoding']).toBe('chunked');
    // The export writes a page of 500 rows at a time; each went out as it was made.
    expect(res.chunks).toBeGreaterThan(1);
    expect(res.body.toString().trim().split('\r\n')).toHaveLength(1 + 1800);
  });
});
