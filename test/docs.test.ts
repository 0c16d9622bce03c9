import { beforeAll, describe, expect, it } from 'vitest';
import { makeApp, type TestApp } from './helpers';
import { renderDocsPage } from '../api/routes/docs';

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace'];
// What a reader sees: tags dropped, entities decoded, whitespace collapsed.
const text = (html: string) =>
  html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

let t: TestApp;
beforeAll(async () => {
  t = await makeApp({ memory: true });
});

describe('GET /docs', () => {
  it('is a public HTML page listing every route with its errors and a curl example', async () => {
    const res = await t.call('GET', '/docs', undefined, { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/i);
    // Self-contained: no script, and nothing loaded from elsewhere (example URLs in text are fine).
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    const page = text(html);
    expect(page).toContain('Leadline API');
    expect(page).toContain('POST /api/v1/contacts');
    expect(page).toContain('GET /api/v1/api-keys');
    expect(page).toContain('Authorization: Bearer <API key>');

    const op = html.match(/<section class="op" id="op-post-api-v1-contacts"[\s\S]*?<\/section>/)?.[0];
    expect(op, 'the POST /api/v1/contacts section').toBeTruthy();
    const opText = text(op!);
    for (const status of ['201', '401', '403', '422']) expect(op).toContain(`>${status}</span>`);
    expect(opText).toContain('Missing or invalid API key');
    expect(opText).toContain('write scope');
    expect(opText).toContain('curl -X POST "$LEADLINE_URL/api/v1/contacts"');
    expect(opText).toContain('-H "Authorization: Bearer $LEADLINE_KEY"');
    expect(opText).toContain('"email": "ada@example.com"');
    // Request body fields are listed with their rules.
    expect(opText).toMatch(/email string \(email\) \| null \(email\) at most 254 characters/);

    const keys = text(html.match(/<section class="op" id="op-post-api-v1-api-keys"[\s\S]*?<\/section>/)![0]);
    expect(keys).toContain('admin scope');
    // Path templates must not reach curl as {id}: curl would treat the braces as a glob.
    expect(page).toContain('curl -X DELETE "$LEADLINE_URL/api/v1/api-keys/1"');
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
        if (!op.security?.length) problems.push(`${where}: no security`);
        for (const status of ['401', '403', '422']) if (!op.responses?.[status]) problems.push(`${where}: no ${status} response`);
      }
    }
    expect(count).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });
});

describe('renderDocsPage', () => {
  const evil = '<script>alert(1)</script>';
  const doc = {
    openapi: '3.1.0',
    info: { title: `T ${evil}`, version: '1"><img src=x onerror=alert(1)>', description: `Intro ${evil} with \`<b>code</b>\`` },
    tags: [{ name: `tag ${evil}`, description: evil }],
    components: {
      securitySchemes: { k: { type: 'http', scheme: 'bearer', description: evil } },
      schemas: {
        [`S${evil}`]: {
          type: 'object',
          description: evil,
          properties: { [`f${evil}`]: { type: 'string', enum: [evil], description: evil }, self: { $ref: `#/components/schemas/S${evil}` } },
          required: [`f${evil}`],
        },
      },
    },
    paths: {
      [`/x/${evil}/{id}`]: {
        post: {
          tags: [`tag ${evil}`],
          summary: evil,
          description: evil,
          security: [{ k: [] }],
          parameters: [{ name: `id${evil}`, in: 'path', required: true, description: evil, schema: { type: 'string', default: evil } }],
          requestBody: { content: { 'application/json': { schema: { $ref: `#/components/schemas/S${evil}` } } } },
          responses: { [`200${evil}`]: { description: evil } },
        },
      },
    },
  };

  it('escapes every string from the document and keeps ids to safe characters', () => {
    const html = renderDocsPage(doc);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<code>&lt;b&gt;code&lt;/b&gt;</code>');
    for (const [, id] of html.matchAll(/\bid="([^"]*)"/g)) expect(id).toMatch(/^[a-z0-9-]+$/);
    for (const [, href] of html.matchAll(/\bhref="([^"]*)"/g)) expect(href).toMatch(/^(#[a-z0-9-]+|\/api\/v1\/openapi\.json)$/);
    // The self-reference ends in a link instead of recursing, and the curl URL is shell-safe.
    expect(html).toContain('Recursive: see');
    expect(text(html)).toMatch(/curl -X POST "\$LEADLINE_URL\/x\/%3Cscript%3Ealert%281%29%3C\/script%3E\/ID[^"]*"/);
  });
});
