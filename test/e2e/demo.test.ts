// The sample behind /demo, as a newcomer (or a newcomer's automated browser) meets it: headless
// Chromium, unmodified user agent, navigator.webdriver set. What the page says happens must happen.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from '@libsql/client';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { createCtx } from '../../api/core/context';
import { parseConfig } from '../../api/env';
import { prepareDatabase } from '../../api/db/open';
import { seedDemo } from '../../api/core/demo';
import { settleDeferred } from '../../api/routes/defer';
import { launchBrowser, waitFor } from './harness';

const env = {} as { url: string; client: Client; browser: Browser; siteId: number; close: () => Promise<void> };

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'leadline-demo-'));
  const dbUrl = `file:${join(dir, 'demo.db')}`;
  env.client = createClient({ url: dbUrl });
  await prepareDatabase(env.client, dbUrl);
  const ctx = createCtx({ client: env.client, config: parseConfig({ DATABASE_URL: dbUrl, LOG_LEVEL: 'error' }) });
  const app = createApp({ ctx, public: { clientIp: (c) => getConnInfo(c).remote.address ?? null } });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((ok) => server.once('listening', ok));
  env.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // As the Node entry seeds it on a first start: the sample site accepts the server's own origin.
  const state = await seedDemo({ ctx, input: { origins: [env.url] } });
  env.siteId = state!.site_id;
  env.browser = await launchBrowser();
  env.close = async () => {
    await env.browser.close();
    if ('closeAllConnections' in server) server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
    await settleDeferred();
    env.client.close();
    rmSync(dir, { recursive: true, force: true });
  };
}, 60_000);

afterAll(() => env.close?.(), 30_000);

const rows = async (sql: string, args: (string | number)[] = []) => (await env.client.execute({ sql, args })).rows.map((r) => ({ ...r }));

describe('/demo in an automated browser', () => {
  it(
    'records the visit and makes the subscriber a contact, as the page and its message say',
    async () => {
      const context = await env.browser.newContext();
      context.setDefaultTimeout(10_000);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${env.url}/demo`);
      expect(await page.evaluate(() => [navigator.webdriver, navigator.userAgent.includes('HeadlessChrome')])).toEqual([true, true]);
      // "Your visit is being recorded as an anonymous visitor".
      const [view] = await waitFor(async () => {
        const r = await rows("SELECT * FROM events WHERE site_id = ? AND type = 'page_view'", [env.siteId]);
        return r.length > 0 && r;
      }, 'the demo page view');
      expect(view.visitor_id).not.toBeNull();

      // "Subscribe below and that visitor becomes a contact, with this page view on its timeline."
      const form = page.locator('[data-leadline-form]');
      await form.locator('input[name=email]').fill('newcomer@example.com');
      await form.locator('input[type=checkbox]').check();
      await page.waitForTimeout(1200); // a person takes a moment (the form's min fill time)
      await form.locator('button[type=submit]').click();
      const message = (await form.locator('[role=status]').textContent())!;
      expect(message).toMatch(/^Thanks!/);
      const [contact] = await waitFor(async () => {
        const r = await rows('SELECT * FROM contacts WHERE email = ?', ['newcomer@example.com']);
        return r.length > 0 && r;
      }, 'the contact');
      await waitFor(async () => {
        const [v] = await rows('SELECT contact_id FROM visitors WHERE id = ?', [Number(view.visitor_id)]);
        return v?.contact_id === contact.id;
      }, 'the visitor linked to the contact');
      expect(errors).toEqual([]);
      await context.close();
    },
    30_000,
  );
});
