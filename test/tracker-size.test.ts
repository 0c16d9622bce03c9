import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const FILE = 'dist/widgets/w.js';
// DESIGN.md: ≤ 2,048 B gzip -9 and ≤ 1,850 B brotli as served (the server serves both).
const GZIP_BUDGET = 2048;
const BROTLI_BUDGET = 1850;

describe('w.js bundle', () => {
  // `npm test` builds first; a bare `vitest run` of this file builds on its own.
  if (!existsSync(FILE)) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  const code = readFileSync(FILE, 'utf8');

  it('stays within the size budget', () => {
    const gzip = gzipSync(code, { level: 9 }).length;
    const brotli = brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
    console.log(`w.js: ${code.length} B minified, ${gzip} B gzip -9 (budget ${GZIP_BUDGET}), ${brotli} B brotli (budget ${BROTLI_BUDGET})`);
    expect(gzip).toBeLessThanOrEqual(GZIP_BUDGET);
    expect(brotli).toBeLessThanOrEqual(BROTLI_BUDGET);
  });

  it('needs nothing a strict CSP forbids', () => {
    expect(code).not.toMatch(/\beval\(|new Function|document\.write/);
  });

  it('matches the module the server embeds', async () => {
    // A variable specifier keeps `tsc --noEmit` independent of a prior build.
    const generated = '../api/generated/widgets';
    const { W_JS, W_JS_ETAG, W_JS_BR_BASE64, W_JS_GZIP_BASE64 } = await import(generated);
    expect(W_JS).toBe(code);
    expect(W_JS_ETAG).toMatch(/^"[0-9a-f]{16}"$/);
    // The pre-compressed copies served by Accept-Encoding (sizes as served: widget-size.test.ts).
    expect(brotliDecompressSync(Buffer.from(W_JS_BR_BASE64, 'base64')).toString()).toBe(code);
    expect(gunzipSync(Buffer.from(W_JS_GZIP_BASE64, 'base64')).toString()).toBe(code);
  });
});
