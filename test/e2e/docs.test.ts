// The API reference at /docs in a real browser, as a developer meets it on a machine with no
// internet: it renders from this server alone, search finds operations, and "try it" calls the API.
import { resolve } from 'node:path';
import { nodeCompress } from '../../api/entry/node-compress';
import { nodeDocsUi } from '../../api/entry/node-docs';
import { describe, expect, it } from 'vitest';
import { useAppInBrowser } from './harness';

// As the Node entry builds it: the build's files for the renderer, compression on.
const env = useAppInBrowser({ deps: { docsUi: nodeDocsUi(resolve(__dirname, '../../dist')), compress: nodeCompress() } });

describe('/docs in Chromium', () => {
  it('renders from this server alone; search and "try it" work under its CSP', async () => {
    const page = await env.browser.newPage({ viewport: { width: 1280, height: 900 } });
    const elsewhere: string[] = [];
    const problems: string[] = [];
    const apiCalls: string[] = [];
    await page.addInitScript(() => {
      (window as any).__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => (window as any).__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('request', (r) => r.url().startsWith(`${env.url}/health`) && apiCalls.push(`${r.method()} ${new URL(r.url()).pathname}`));
    // Anything for another origin is refused and remembered: the page must not need it.
    await page.route((u) => !u.href.startsWith(env.url), (r) => {
      elsewhere.push(r.request().url());
      return r.abort();
    });

    await page.goto(`${env.url}/docs`);
    await page.getByText('Create or update a contact').first().waitFor({ timeout: 30_000 });

    await page.keyboard.press('Control+k');
    await page.getByRole('combobox', { name: 'Enter search query' }).fill('segment filter');
    await page.getByRole('listbox').getByText('Count the contacts a filter matches, without saving').waitFor({ timeout: 10_000 });
    await page.keyboard.press('Escape');

    await page.goto(`${env.url}/docs#tag/public-no-api-key/GET/health`);
    await page.getByText('Liveness and database check').first().waitFor({ timeout: 30_000 });
    await page.locator('button', { hasText: /Test Request\s*\(get \/health\)/ }).first().click();
    const send = page.getByRole('button', { name: /^Send/ }).first();
    await send.waitFor();
    const [answer] = await Promise.all([page.waitForResponse((r) => r.url() === `${env.url}/health`, { timeout: 10_000 }), send.click()]);
    expect(answer.status()).toBe(200);
    await page.getByText('200 OK').first().waitFor({ timeout: 10_000 });
    expect(apiCalls).toContain('GET /health');

    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
    // The one refusal is zod's probe for eval (it falls back to plain code), not anything the page needs.
    const violations: string[] = await page.evaluate(() => (window as any).__csp);
    expect(violations.filter((v) => v !== 'script-src eval')).toEqual([]);
    await page.close();
  }, 90_000);
});
