import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, makeApp, type TestApp } from './helpers';
import { DOCS_UI_PATH } from '../api/routes/docs';
import { nodeDocsUi } from '../api/entry/node-docs';

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace'];

let t: TestApp;
beforeAll(async () => {
  // The build's files, as the Node entry serves them (npm test builds first).
  t = await makeApp({ memory: true, docsUi: nodeDocsUi(resolve(__dirname, '../dist')) });
});

describe('GET /docs', () => {
  it('is a page that loads the renderer and its settings from this server only, under a CSP that allows nothing else', async () => {
    const res = await t.call('GET', '/docs', undefined, { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toMatch(/connect-src 'self'(;|$)/);
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/i);
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.map((m) => /\bsrc="([^"]+)"/.exec(m[1]!)?.[1])).toEqual([DOCS_UI_PATH, '/docs/settings.js']);
    // No inline code at all, and every URL the page names is on this origin.
    expect(scripts.every((m) => m[2]!.trim() === '')).toBe(true);
    for (const [, url] of html.matchAll(/\b(?:src|href)="([^"]*)"/g)) expect(url).toMatch(/^\/(?!\/)/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(DOCS_UI_PATH).toMatch(/^\/docs\/scalar\.[0-9a-f]{12}\.js$/);
  });

  it('turns off what would call out: web fonts, telemetry, the AI agent, MCP', async () => {
    const res = await t.call('GET', '/docs/settings.js', undefined, { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/javascript/);
    const js = await res.text();
    const settings = JSON.parse(js.slice(js.indexOf('{'), js.lastIndexOf('}') + 1));
    expect(settings).toMatchObject({ url: '/api/v1/openapi.json', withDefaultFonts: false, telemetry: false, agent: { disabled: true }, mcp: { disabled: true } });
  });

  it('serves the renderer pre-compressed by Accept-Encoding, cached for good', async () => {
    const sizes: Record<string, number> = {};
    for (const [accept, coding] of [
      ['br, gzip', 'br'],
      ['gzip', 'gzip'],
      [undefined, null],
    ] as const) {
      const res = await t.call('GET', DOCS_UI_PATH, undefined, { key: null, headers: accept ? { 'accept-encoding': accept } : {} });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-encoding')).toBe(coding);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('vary')).toBe('Accept-Encoding');
      expect(res.headers.get('content-type')).toMatch(/^application\/javascript/);
      const bytes = (await res.arrayBuffer()).byteLength;
      expect(bytes).toBe(Number(res.headers.get('content-length')));
      sizes[coding ?? 'identity'] = bytes;
      const again = await t.call('GET', DOCS_UI_PATH, undefined, { key: null, headers: { ...(accept ? { 'accept-encoding': accept } : {}), 'if-none-match': res.headers.get('etag')! } });
      expect(again.status).toBe(304);
    }
    console.log(`/docs renderer over the wire: ${JSON.stringify(sizes)} bytes`);
    expect(sizes.br).toBeLessThan(sizes.gzip!);
    expect(sizes.gzip).toBeLessThan(sizes.identity! / 3);
  });

  it('answers 404 for the renderer where the runtime has no bytes for it (a Worker deployed without its static assets)', async () => {
    const bare = await makeApp({ memory: true });
    const res = await bare.json('GET', DOCS_UI_PATH, undefined, { key: null });
    expectError(res, 404, 'NOT_FOUND');
  });
});

describe('GET /api/v1/openapi.json', () => {
  it('documents security, a summary and the common errors on every API operation', async () => {
    const res = await t.call('GET', '/api/v1/openapi.json', undefined, { key: null });
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const problems: string[] = [];
    let count = 0;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        count++;
        const where = `${method.toUpperCase()} ${path}`;
        if (!op.summary) problems.push(`${where}: no summary`);
        if (!path.startsWith('/api/v1/') || path === '/api/v1/openapi.json') continue;
        // The sign-in endpoints take no credentials (declared as security: []); they answer 4xx of their own.
        if (path.startsWith('/api/v1/auth/') && JSON.stringify(op.security) === '[]') {
          if (!op.responses?.['422'] && !op.responses?.['400']) problems.push(`${where}: no 4xx response`);
          continue;
        }
        if (!op.security?.length) problems.push(`${where}: no security`);
        for (const status of ['401', '403', '422']) if (!op.responses?.[status]) problems.push(`${where}: no ${status} response`);
      }
    }
    expect(count).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });
});
