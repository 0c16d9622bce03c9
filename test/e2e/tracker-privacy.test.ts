// w.js in real Chromium: consent mode, opt-out, Do Not Track / GPC, and the local/automation skip.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hits, openPage, payloadsOf, siteKey, sleep, useEnv, waitHits, type Env } from './harness';

const env = useEnv();
const VID = /^[A-Za-z0-9]{22}$/;
const storage = () => ({ ls: { ...localStorage }, cookie: document.cookie });
/** Calls window.leadline(...args) in the page. */
const ll = (page: Page, ...args: unknown[]) => page.evaluate((a) => (window as any).leadline(...a), args);

/** Loads a page and proves w.js ran; then gives any request time to arrive before asserting none did. */
async function expectSilent(e: Env, url: string, site: string, init?: string) {
  const { context, page, errors } = await openPage(e.browser, init);
  await page.goto(url);
  await page.waitForFunction(() => typeof (window as any).leadline === 'function');
  await ll(page, 'track', 'ignored');
  await page.evaluate(() => history.pushState({}, '', '#moved'));
  await page.goto(`${e.site.url}/landing`); // a pagehide too
  await sleep(400);
  expect(await payloadsOf(e.collector, site)).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
}

/** Init-script source that makes navigator report these values (scripts run without closures). */
const overrideNavigator = (props: Record<string, unknown>) =>
  `for (const [k, v] of Object.entries(${JSON.stringify(props)})) Object.defineProperty(Navigator.prototype, k, { get: () => v, configurable: true });`;

describe('w.js privacy', () => {
  it('consent mode: no storage and v:null until consent(true); consent(false) forgets the id', async () => {
    const { context, page, errors } = await openPage(env.browser);
    const site = siteKey();
    const url = `${env.site.url}${env.site.page({ site, attrs: 'data-consent="required"' })}`;
    await page.goto(url);
    const [pv] = await waitHits(env.collector, site, (h) => h.t === 'pv');
    expect(pv.v).toBeNull();
    // Identify without a visitor is dropped; the events beside it still go.
    await page.evaluate(() => {
      (window as any).leadline('identify', { email: 'ada@example.com', sig: 'ab'.repeat(32) });
      (window as any).leadline('track', 'before');
    });
    await waitHits(env.collector, site, (h) => h.n === 'before' && h.v === null);
    expect((await payloadsOf(env.collector, site)).some((p) => p.id)).toBe(false);
    expect(await page.evaluate(storage)).toEqual({ ls: {}, cookie: '' });

    await ll(page, 'consent', true);
    const after = await page.evaluate(storage);
    expect(after.ls).toEqual({ ll_vid: expect.stringMatching(VID), ll_consent: '1' });
    expect(after.cookie).toBe(`ll_vid=${after.ls.ll_vid}`);
    await ll(page, 'track', 'after');
    const [ev] = await waitHits(env.collector, site, (h) => h.n === 'after');
    expect(ev.v).toBe(after.ls.ll_vid);
    // Consent is remembered by the next page load.
    await page.reload();
    await waitHits(env.collector, site, (h) => h.t === 'pv' && h.v === after.ls.ll_vid);

    await ll(page, 'consent', false);
    expect(await page.evaluate(storage)).toEqual({ ls: {}, cookie: '' });
    await ll(page, 'track', 'withdrawn');
    const [gone] = await waitHits(env.collector, site, (h) => h.n === 'withdrawn');
    expect(gone.v).toBeNull();
    await page.reload();
    await waitHits(env.collector, site, (h) => h.t === 'pv' && h.v === null, 2);
    expect(await page.evaluate(storage)).toEqual({ ls: {}, cookie: '' });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('consent(true) on a counted page resends its view once, marked for the server to take over', async () => {
    const { context, page, errors } = await openPage(env.browser);
    const site = siteKey();
    await page.goto(`${env.site.url}${env.site.page({ site, attrs: 'data-consent="required"' })}`);
    const [anon] = await waitHits(env.collector, site, (h) => h.t === 'pv');
    await ll(page, 'consent', true);
    const [view] = await waitHits(env.collector, site, (h) => h.t === 'pv' && !!h.v);
    const { t, u, r, ti, sw, sh, l } = anon;
    expect(view).toMatchObject({ t, u, r, ti, sw, sh, l, a: 1, v: expect.stringMatching(VID) });
    expect((await payloadsOf(env.collector, site)).find((p) => p.v)?.c).toBe(1);
    // Already consented: nothing more to take over.
    await ll(page, 'consent', true);
    await ll(page, 'track', 'after');
    await waitHits(env.collector, site, (h) => h.n === 'after');
    expect((await hits(env.collector, site)).filter((h) => h.t === 'pv')).toHaveLength(2);
    // A later page view is an ordinary one.
    await page.evaluate(() => history.pushState({}, '', '?next'));
    const [next] = await waitHits(env.collector, site, (h) => h.t === 'pv' && h.u.endsWith('?next'));
    expect(next.a).toBeUndefined();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a queued consent(true) applies to the first page view', async () => {
    const { context, page } = await openPage(env.browser);
    const site = siteKey();
    const script = "window.leadline=function(){(leadline.q=leadline.q||[]).push(arguments)};leadline('consent',true);";
    await page.goto(`${env.site.url}${env.site.page({ site, script, attrs: 'data-consent="required"' })}`);
    const [pv] = await waitHits(env.collector, site, (h) => h.t === 'pv');
    expect(pv.v).toMatch(VID);
    // Nothing was counted without the visitor, so there is no view to take over.
    await sleep(300);
    expect((await hits(env.collector, site)).filter((h) => h.t === 'pv').map((h) => h.a)).toEqual([undefined]);
    await context.close();
  });

  it('opt-out sends nothing at all, across page loads, until opt-in', async () => {
    const { context, page } = await openPage(env.browser);
    const site = siteKey();
    const body = '<a id="out" href="https://elsewhere.example/">out</a>';
    await page.goto(`${env.site.url}${env.site.page({ site, body })}`);
    await waitHits(env.collector, site, (h) => h.t === 'pv');
    await ll(page, 'optout');
    expect(await page.evaluate(() => localStorage.getItem('ll_optout'))).toBe('1');
    await ll(page, 'track', 'nope');
    await ll(page, 'page');
    await page.evaluate(() => history.pushState({}, '', '?next'));
    await page.reload(); // pagehide of the old page, page view of the new one
    await page.waitForFunction(() => (window as any).leadline?.l === 1);
    await ll(page, 'track', 'nope');
    await sleep(400);
    expect((await hits(env.collector, site)).map((h) => h.t)).toEqual(['pv']);

    await ll(page, 'optin');
    await ll(page, 'track', 'back');
    await waitHits(env.collector, site, (h) => h.n === 'back');
    expect((await hits(env.collector, site)).map((h) => h.n ?? h.t)).toEqual(['pv', 'back']);
    await context.close();
  });

  it('honours Do Not Track and Global Privacy Control only with data-respect-dnt', async () => {
    const dnt = overrideNavigator({ doNotTrack: '1' });
    const gpc = overrideNavigator({ globalPrivacyControl: true });
    for (const init of [dnt, gpc]) {
      const site = siteKey();
      await expectSilent(env, `${env.site.url}${env.site.page({ site, attrs: 'data-respect-dnt' })}`, site, init);
    }
    const site = siteKey();
    const { context, page } = await openPage(env.browser, dnt);
    await page.goto(`${env.site.url}${env.site.page({ site })}`);
    await waitHits(env.collector, site, (h) => h.t === 'pv');
    await context.close();
  });

  it('skips loopback pages and automated browsers unless data-allow-local', async () => {
    const human = overrideNavigator({ webdriver: false });
    // Loopback host, not automated: skipped for the host.
    let site = siteKey();
    await expectSilent(env, `${env.site.url}${env.site.page({ site, local: true })}`, site, human);
    // Public-looking host, automated: skipped for the automation.
    site = siteKey();
    await expectSilent(env, `${env.site.named}${env.site.page({ site, local: true })}`, site);
    // Public-looking host, not automated: tracked, without the automation flag.
    site = siteKey();
    const { context, page } = await openPage(env.browser, human);
    await page.goto(`${env.site.named}${env.site.page({ site, local: true })}`);
    const [pv] = await waitHits(env.collector, site, (h) => h.t === 'pv');
    expect(pv.b).toBeUndefined();
    expect(pv.v).toMatch(VID);
    await context.close();
  });
});
