// w.js in real Chromium: what it records and how it sends it. Privacy rules: tracker-privacy.test.ts.
import { describe, expect, it } from 'vitest';
import { hits, openPage, payloadsOf, siteKey, useEnv, waitFor, waitHits } from './harness';

const env = useEnv();
const SNIPPET = 'window.leadline=window.leadline||function(){(leadline.q=leadline.q||[]).push(arguments)};';
const VID = /^[A-Za-z0-9]{22}$/;

describe('w.js records', () => {
  it('a page view with URL, UTM, referrer, title, screen and language, under a strict CSP', async () => {
    const { context, page, errors } = await openPage(env.browser);
    const site = siteKey();
    const url = `${env.site.url}${env.site.page({ site })}?utm_source=news&utm_medium=email&utm_campaign=spring`;
    await page.goto(url, { referer: 'http://news.example/item/1' });
    const [pv] = await waitHits(env.collector, site, (h) => h.t === 'pv');
    expect(pv).toMatchObject({ k: site, b: 1, u: url, r: 'http://news.example/item/1', ti: `Page ${site}` });
    expect(pv.sw).toBeGreaterThan(0);
    expect(pv.sh).toBeGreaterThan(0);
    expect(pv.l).toMatch(/^[a-z]{2}/);
    expect(pv.v).toMatch(VID);
    // The id is first-party and lives in both places, so either one restores it.
    const stored = await page.evaluate(() => [localStorage.getItem('ll_vid'), document.cookie]);
    expect(stored[0]).toBe(pv.v);
    expect(stored[1]).toContain(`ll_vid=${pv.v}`);
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    await waitHits(env.collector, site, (h) => h.t === 'pv' && h.v === pv.v, 2);
    await page.evaluate(() => (document.cookie = 'll_vid=;path=/;max-age=0'));
    await page.reload();
    await waitHits(env.collector, site, (h) => h.t === 'pv' && h.v === pv.v, 3);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('one page view per distinct URL across pushState, replaceState, popstate and hashchange', async () => {
    const { context, page, errors } = await openPage(env.browser);
    const site = siteKey();
    const base = `${env.site.url}${env.site.page({ site })}`;
    await page.goto(base);
    const pvs = async (n: number) => (await waitHits(env.collector, site, (h) => h.t === 'pv', n)).map((h) => h.u);
    await pvs(1);
    await page.evaluate(() => {
      history.pushState({}, '', location.pathname + '/a');
      history.pushState({}, '', location.pathname); // same URL again: nothing
      history.replaceState({}, '', location.pathname); // same URL: nothing
    });
    await pvs(2);
    await page.evaluate(() => history.replaceState({}, '', location.pathname.replace(/a$/, 'b')));
    await pvs(3);
    await page.evaluate(() => history.back()); // popstate: back to .../a
    await pvs(4);
    await page.evaluate(() => (location.hash = 'x')); // popstate and hashchange: one view
    const urls = await pvs(5);
    await page.waitForTimeout(300);
    expect((await hits(env.collector, site)).filter((h) => h.t === 'pv').map((h) => h.u)).toEqual(urls);
    expect(urls).toEqual([base, `${base}/a`, `${base}/b`, `${base}/a`, `${base}/a#x`]);
    // Each navigation closes the engagement of the URL before it.
    const eng = await waitHits(env.collector, site, (h) => h.t === 'eng', 4);
    expect(eng.map((h) => h.u)).toEqual(urls.slice(0, 4));
    // SPA page views name the previous URL as referrer.
    expect((await hits(env.collector, site)).filter((h) => h.t === 'pv')[1].r).toBe(base);
    // A manual page view is sent even when the URL has not changed.
    await page.evaluate(() => (window as any).leadline('page'));
    expect((await pvs(6))[5]).toBe(`${base}/a#x`);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('outbound clicks without holding up the navigation, in the same tab, a new tab and by middle click', async () => {
    const { context, page } = await openPage(env.browser);
    const site = siteKey();
    const out = `${env.site.other}/landing`;
    const body =
      `<a id="blank" href="${out}?via=blank" target="_blank">blank</a> <a id="mid" href="${out}?via=middle">mid</a> ` +
      `<a id="same" href="${out}?via=same"><span>same</span></a> <a id="local" href="/landing">local</a>`;
    await page.goto(`${env.site.url}${env.site.page({ site, body })}`);
    await waitHits(env.collector, site, (h) => h.t === 'pv');
    const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#blank')]);
    await popup.waitForURL(`${out}?via=blank`);
    await page.click('#mid', { button: 'middle' });
    await page.click('#local', { modifiers: ['Control'] }); // same host: not outbound
    const started = Date.now();
    await Promise.all([page.waitForURL(`${out}?via=same`), page.click('#same span')]);
    expect(Date.now() - started).toBeLessThan(3_000);
    const outs = await waitHits(env.collector, site, (h) => h.t === 'out', 3);
    expect(outs.map((h) => h.h).sort()).toEqual([`${out}?via=blank`, `${out}?via=middle`, `${out}?via=same`]);
    expect(outs[0].u).toMatch(/\/p\/\d+$/);
    await page.waitForTimeout(300);
    expect((await hits(env.collector, site)).filter((h) => h.t === 'out')).toHaveLength(3);
    await context.close();
  });

  it('file downloads by extension and by download attribute, never preventing the default', async () => {
    const { context, page, errors } = await openPage(env.browser);
    const site = siteKey();
    const body = `<a id="zip" href="/files/kit.ZIP">zip</a> <a id="attr" href="/files/data" download>data</a> <a id="pdf" href="${env.site.other}/files/report.pdf">pdf</a>`;
    // The page's own bubble-phase listener sees whether anything cancelled the click.
    const script = 'window.prevented=[];addEventListener("click",function(e){prevented.push(e.defaultPrevented)});';
    await page.goto(`${env.site.url}${env.site.page({ site, body, script })}`);
    await waitHits(env.collector, site, (h) => h.t === 'pv');
    for (const id of ['zip', 'attr', 'pdf']) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#${id}`)]);
      await download.cancel();
    }
    const dls = await waitHits(env.collector, site, (h) => h.t === 'dl', 3);
    expect(dls.map((h) => h.h).sort()).toEqual(
      [`${env.site.url}/files/data`, `${env.site.url}/files/kit.ZIP`, `${env.site.other}/files/report.pdf`].sort(),
    );
    expect((await hits(env.collector, site)).some((h) => h.t === 'out')).toBe(false);
    expect(await page.evaluate(() => (window as any).prevented)).toEqual([false, false, false]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('replays calls queued before the script loaded, in order, then takes calls directly', async () => {
    const { context, page, errors } = await openPage(env.browser);
    const site = siteKey();
    const script =
      SNIPPET +
      `leadline('track','first',{n:1});leadline('track','second',{n:2,ok:true,big:'${'x'.repeat(600)}',o:{a:1}});` +
      // Broken calls in the queue are skipped, not fatal to the rest.
      `leadline('identify');leadline('nonsense');leadline('track','third');`;
    await page.goto(`${env.site.url}${env.site.page({ site, script })}`);
    const evs = await waitHits(env.collector, site, (h) => h.t === 'ev', 3);
    expect(evs.map((h) => h.n)).toEqual(['first', 'second', 'third']);
    expect(evs[0].p).toEqual({ n: 1 });
    // Props are bounded and flat as the server requires.
    expect(evs[1].p).toEqual({ n: 2, ok: true, big: 'x'.repeat(500), o: '[object Object]' });
    // The page view of the load comes first, in the same request as the replayed calls.
    const all = await hits(env.collector, site);
    expect(all.map((h) => h.t)).toEqual(['pv', 'ev', 'ev', 'ev']);
    expect(await payloadsOf(env.collector, site)).toHaveLength(1);
    expect(await page.evaluate(() => 'q' in (window as any).leadline)).toBe(false);
    await page.evaluate(() => (window as any).leadline('track', 'later', { plan: 'pro' }));
    const [later] = await waitHits(env.collector, site, (h) => h.n === 'later');
    expect(later).toMatchObject({ t: 'ev', p: { plan: 'pro' }, v: all[0].v });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('clicks on elements tagged with data-leadline-event, with their props', async () => {
    const { context, page } = await openPage(env.browser);
    const site = siteKey();
    const body =
      '<button id="b" data-leadline-event="signup" data-leadline-prop-plan="pro" data-leadline-prop-seat-count="3"><b>Sign up</b></button>' +
      '<button id="plain">plain</button>';
    await page.goto(`${env.site.url}${env.site.page({ site, body })}`);
    await waitHits(env.collector, site, (h) => h.t === 'pv');
    await page.click('#plain');
    await page.click('#b b');
    const [ev] = await waitHits(env.collector, site, (h) => h.t === 'ev');
    expect(ev).toMatchObject({ n: 'signup', p: { plan: 'pro', 'seat-count': '3' } });
    await page.waitForTimeout(300);
    expect((await hits(env.collector, site)).filter((h) => h.t === 'ev')).toHaveLength(1);
    await context.close();
  });

  it('engagement once per page on pagehide: visible time and deepest scroll', async () => {
    const { context, page } = await openPage(env.browser);
    const site = siteKey();
    const url = `${env.site.url}${env.site.page({ site, body: '<div class="tall">tall</div>' })}`;
    await page.goto(url);
    await waitHits(env.collector, site, (h) => h.t === 'pv');
    await page.evaluate(() => scrollTo(0, document.documentElement.scrollHeight / 2));
    await page.waitForTimeout(300);
    await page.evaluate(() => scrollTo(0, 0));
    await page.waitForTimeout(100);
    await page.goto(`${env.site.url}/landing`);
    const [eng] = await waitHits(env.collector, site, (h) => h.t === 'eng');
    expect(eng.u).toBe(url);
    expect(eng.d).toBeGreaterThanOrEqual(300);
    expect(eng.d).toBeLessThan(30_000);
    expect(eng.s).toBeGreaterThanOrEqual(50);
    expect(eng.s).toBeLessThanOrEqual(100);
    await page.waitForTimeout(300);
    expect((await hits(env.collector, site)).filter((h) => h.t === 'eng')).toHaveLength(1);
    await context.close();
  });

  it('identify sends the signed email with the visitor id', async () => {
    const { context, page } = await openPage(env.browser);
    const site = siteKey();
    await page.goto(`${env.site.url}${env.site.page({ site })}`);
    const [pv] = await waitHits(env.collector, site, (h) => h.t === 'pv');
    const sig = 'ab'.repeat(32);
    await page.evaluate((sig) => (window as any).leadline('identify', { email: 'Ada@Example.com', sig }), sig);
    const sent = await waitFor(async () => (await payloadsOf(env.collector, site)).find((p) => p.id), 'identify');
    expect(sent).toEqual({ k: site, v: pv.v, b: 1, e: [], id: { email: 'Ada@Example.com', sig } });
    await context.close();
  });

  it('before-send can change an event or drop it', async () => {
    const { context, page } = await openPage(env.browser);
    const site = siteKey();
    const script =
      'window.scrub=function(e){if(e.n==="secret")return null;if(e.n==="off")return false;' +
      'e.u=e.u.replace(/\\?.*/,"");e.p=e.p||{};e.p.seen=1;return e};';
    const path = env.site.page({ site, script, attrs: 'data-before-send="scrub"' });
    await page.goto(`${env.site.url}${path}?email=ada@example.com`);
    const [pv] = await waitHits(env.collector, site, (h) => h.t === 'pv');
    expect(pv.u).toBe(`${env.site.url}${path}`);
    expect(pv.p).toEqual({ seen: 1 });
    await page.evaluate(() => {
      const ll = (window as any).leadline;
      ll('track', 'secret');
      ll('track', 'off');
      ll('track', 'kept', { a: 'b' });
    });
    const [kept] = await waitHits(env.collector, site, (h) => h.n === 'kept');
    expect(kept.p).toEqual({ a: 'b', seen: 1 });
    await page.waitForTimeout(300);
    expect((await hits(env.collector, site)).map((h) => h.n ?? h.t)).toEqual(['pv', 'kept']);
    await context.close();
  });
});
