// The dashboard in real Chromium against the real server (dist/node.mjs on 127.0.0.1): the
// sign-in page loads under the strict CSP without console errors and without serious or critical
// axe-core violations, at 1280 px and on a phone, and a failed sign-in shows the server's message;
// signed in (the first admin made through the setup link the server prints, then the sign-in
// page, as test/dashboard-signed-in.ts does it), Home and Reports load clean.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axe, cspViolations, settled, startEnv, type Env } from './dashboard-signed-in';

let env: Env;
let url: string;
beforeAll(async () => {
  env = await startEnv();
  url = env.url;
}, 60_000);
afterAll(() => env?.stop());

const open = (viewport?: { width: number; height: number }) => env.open(viewport);

describe('the sign-in page in Chromium', () => {
  for (const viewport of [
    { width: 1280, height: 900 },
    { width: 390, height: 844 },
  ]) {
    it(`loads at ${viewport.width} px with no console errors, no CSP violation, no serious or critical axe violation`, async () => {
      const w = await open(viewport);
      await w.page.goto(`${url}/app/reports/traffic`);
      await w.page.getByRole('heading', { name: 'Sign in' }).waitFor();
      // Signed out anywhere: the sign-in page, remembering where the user was going.
      expect(new URL(w.page.url()).pathname).toBe('/app/login');
      expect(new URL(w.page.url()).searchParams.get('next')).toBe('/app/reports/traffic');
      // The title is set in an effect, after the heading's first paint.
      await expect.poll(() => w.page.title()).toBe('Sign in · Leadline');
      // Nothing overflows sideways on a phone.
      expect(await w.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      expect(await axe(w.page)).toEqual([]);
      expect(await cspViolations(w.page)).toEqual([]);
      expect(w.errors).toEqual([]);
      await w.close();
    }, 60_000);
  }

  it('is keyboard-operable with visible focus, and shows the server’s message when sign-in fails', async () => {
    const w = await open();
    await w.page.goto(`${url}/app`);
    await w.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await w.page.keyboard.press('Tab');
    expect(await w.page.evaluate(() => document.activeElement?.id)).toBe('email');
    // The focus ring is drawn (an outline of at least 2 px).
    expect(await w.page.evaluate(() => parseFloat(getComputedStyle(document.activeElement!).outlineWidth))).toBeGreaterThanOrEqual(2);
    await w.page.keyboard.type('nobody@example.com');
    await w.page.keyboard.press('Tab');
    await w.page.keyboard.type('not the password');
    const [answer] = await Promise.all([
      w.page.waitForResponse((r) => r.url() === `${url}/api/v1/auth/login`),
      w.page.keyboard.press('Enter'),
    ]);
    expect(answer.status()).toBeGreaterThanOrEqual(400);
    const body = await answer.json();
    const alert = w.page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toContain(body.error.message);
    expect(await w.page.getByRole('button', { name: 'Sign in' }).isEnabled()).toBe(true);
    expect(await axe(w.page)).toEqual([]);
    expect(w.errors).toEqual([]);
    await w.close();
  }, 60_000);

  it('says so when the setup link has no token', async () => {
    const w = await open();
    await w.page.goto(`${url}/app/setup`);
    await w.page.getByRole('heading', { name: 'Set up your account' }).waitFor();
    expect(await w.page.getByRole('alert').innerText()).toContain('no token');
    expect(await axe(w.page)).toEqual([]);
    expect(w.errors).toEqual([]);
    await w.close();
  }, 60_000);
});

describe('the signed-in views in Chromium', () => {
  it('Home: figures against the previous period, funnel, sources; no console error, no serious axe violation', async () => {
    // Data the views show, made through the API as an integration would.
    for (const email of ['one@example.com', 'two@example.com']) {
      expect((await env.call('POST', '/api/v1/contacts', { email })).status).toBe(201);
    }
    const w = await env.signIn();
    await w.page.goto(`${url}/app`);
    await w.page.getByRole('heading', { name: 'Visitors' }).waitFor({ timeout: 20_000 });
    await settled(w.page);
    for (const name of ['New contacts', 'Marketing-qualified leads', 'Won revenue', 'Funnel', 'Top sources']) await w.page.getByRole('heading', { name }).waitFor();
    expect(await w.page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Home' }).getAttribute('aria-current')).toBe('page');
    expect(await axe(w.page)).toEqual([]);
    expect(await cspViolations(w.page)).toEqual([]);
    expect(w.errors).toEqual([]);
  }, 90_000);

  it('Reports: every report loads; a time series draws a chart; CSV downloads; no serious axe violation', async () => {
    const w = await env.signIn();
    await w.page.goto(`${url}/app/reports`);
    await w.page.locator('.report-list a').first().waitFor({ timeout: 20_000 });
    const links = await w.page.locator('.report-list a').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).pathname));
    expect(links.length).toBeGreaterThan(10);
    for (const path of links) {
      await w.page.goto(`${url}${path}`);
      await settled(w.page);
      expect(await w.page.locator('.error').count(), path).toBe(0);
    }
    await w.page.goto(`${url}/app/reports/traffic?interval=day`);
    await settled(w.page);
    const [download] = await Promise.all([w.page.waitForEvent('download'), w.page.getByRole('button', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^traffic-.*\.csv$/);
    expect(await axe(w.page)).toEqual([]);
    expect(await cspViolations(w.page)).toEqual([]);
    expect(w.errors).toEqual([]);
  }, 180_000);
});
