import { Hono, type Context } from 'hono';
import { DOCS_UI_FILE } from '../generated/docs-ui';
import { NotFoundError } from '../core/errors';
import { sendPrecompressed, type Variants } from './widgets';
import type { AppEnv } from './shared';

// The API reference at /docs: Scalar's standalone renderer (search, "try it", code samples) over
// /api/v1/openapi.json, served by this server and nothing else. The page is a shell; the
// renderer is one same-origin script (content-hashed, cached for good) and the settings another,
// so the CSP allows scripts from this origin only, never inline. Scalar injects its styles, hence
// 'unsafe-inline' for styles. Its web fonts, telemetry, AI agent and MCP links are switched off:
// the page works offline and asks no one else for anything.

export const DOCS_UI_PATH = `/docs/${DOCS_UI_FILE}`;

/** Where the renderer's bytes come from: files on Node; on Workers a static asset answers first. */
export type DocsUi = () => Promise<Variants | null>;

const SETTINGS = `Scalar.createApiReference('#app', ${JSON.stringify({
  url: '/api/v1/openapi.json',
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: 'never',
  persistAuth: false,
  hideClientButton: false,
  authentication: { preferredSecurityScheme: 'bearerAuth' },
  metaData: { title: 'Leadline API' },
})});\n`;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Leadline API</title><meta name="description" content="Leadline REST API reference"></head>
<body><noscript><p>This API reference needs JavaScript. The OpenAPI document it shows is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p></noscript>
<div id="app"></div>
<script src="${DOCS_UI_PATH}"></script>
<script src="/docs/settings.js"></script>
</body></html>
`;

function csp(c: Context<AppEnv>): string {
  // "Try it" calls the API: this origin, and PUBLIC_URL's when the document names that server.
  const pub = c.get('ctx').config.PUBLIC_URL;
  let api = "'self'";
  if (pub) {
    try {
      api += ` ${new URL(pub).origin}`;
    } catch {
      // PUBLIC_URL is checked at start; nothing to add if it somehow is not a URL.
    }
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src ${api}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function docsRoutes(deps: { ui?: DocsUi }) {
  return new Hono<AppEnv>()
    .get('/docs', (c) =>
      c.html(PAGE, 200, {
        'Content-Security-Policy': csp(c),
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        // The page names the renderer by its hash: a new version is a new page.
        'Cache-Control': 'no-cache',
      }),
    )
    .get('/docs/settings.js', (c) =>
      c.body(SETTINGS, 200, {
        'Content-Type': 'application/javascript; charset=utf-8',
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
      }),
    )
    .get(DOCS_UI_PATH, async (c) => {
      const all = await deps.ui?.();
      // On Workers the static asset answers before the Worker runs; this is a deploy without it.
      if (!all) throw new NotFoundError('The API reference script (deploy with the [assets] of wrangler.toml)');
      return sendPrecompressed(c, all, { 'Cache-Control': 'public, max-age=31536000, immutable' });
    });
}
