// Slots (dynamic web content) in real Chromium against the real app, on a third-origin page under
// a strict CSP (nonce-only scripts and styles, Trusted Types required): what an anonymous and a
// proven visitor see, views and clicks, no layout shift, and no extra request for a site without slots.
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { sign } from '../tracking-helpers';
import { waitFor } from './harness';
import { create, eventsOf, makeSite, noErrors, open, propsOf, urlOf, useWidgetEnv, waitEvents, TIMEOUT } from './widgets-env';

const env = useWidgetEnv();

// Before any page script: layout shifts (buffered, so none is missed) and the moments slot
// elements' contents are swapped. Injected by the browser's automation, so the page's CSP does not apply.
const MEASURE = `
window.__ll = { shifts: [], fills: [] };
new PerformanceObserver((l) => { for (const e of l.getEntries()) __ll.shifts.push({ value: e.value, input: e.hadRecentInput, t: e.startTime, node: e.sources && e.sources[0] && e.sources[0].node && (e.sources[0].node.id || e.sources[0].node.nodeName) }); })
  .observe({ type: 'layout-shift', buffered: true });
new MutationObserver((ms) => {
  for (const m of ms) {
    // A swap takes the slot's content out (the parser only ever adds).
    const slot = m.removedNodes.length && m.target.closest && m.target.closest('[data-leadline-slot]');
    if (slot) __ll.fills.push({ name: slot.getAttribute('data-leadline-slot'), t: performance.now() });
  }
}).observe(document, { childList: true, subtree: true });
`;

// Before any page script: what comes first once the page's script has GET /focus's answer parsed
// (its Response.json() resolved): the slot's swap, the next task (one queued right then) or the
// next frame. Injected by the browser's automation, so the page's CSP does not apply.
const ORDER = `
window.__order = [];
const json = Response.prototype.json;
Response.prototype.json = function () {
  const p = json.call(this);
  if (new URL(this.url).pathname === '/focus')
    p.then(() => {
      __order.push('answer');
      const ch = new MessageChannel();
      ch.port1.onmessage = () => __order.push('next task');
      ch.port2.postMessage(0);
      requestAnimationFrame(() => __order.push('next frame'));
    });
  return p;
};
new MutationObserver((ms) => {
  if (ms.some((m) => m.removedNodes.length && m.target.closest && m.target.closest('[data-leadline-slot]'))) __order.push('filled');
}).observe(document, { childList: true, subtree: true });
`;

interface Measured {
  /** Layout shift not caused by input, from `since` (page time) on. */
  cls: number;
  shifts: { value: number; t: number; node: string | null }[];
  fills: { name: string; t: number }[];
  focusEnd: number | null;
}

/** Layout shift (not caused by input) since `since`, when slot contents were swapped, and when GET /focus's answer arrived. */
const measured = (page: Page, since: number): Promise<Measured> =>
  page.evaluate(async (since) => {
    // Two frames: a shift from the latest change is reported by then.
    await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
    const ll = (window as any).__ll;
    const focus = performance.getEntriesByType('resource').find((e) => e.name.includes('/focus?')) as PerformanceResourceTiming | undefined;
    return {
      shifts: ll.shifts,
      cls: ll.shifts.filter((s: any) => !s.input && s.t >= since).reduce((a: number, s: any) => a + s.value, 0),
      fills: ll.fills,
      focusEnd: focus ? focus.responseEnd : null,
    };
  }, since);

const html = (page: Page, sel: string) => page.locator(sel).evaluate((el) => el.innerHTML);

async function slot(siteId: number, body: Record<string, unknown>) {
  return create<{ id: number; name: string }>('/api/v1/slots', { site_id: siteId, ...body });
}

describe('slots', () => {
  it(
    'an anonymous visitor sees the anonymous variant (and the page default where no rule holds); a proven visitor in a segment sees the segment variant',
    async () => {
      const site = await makeSite();
      const email = `vip-${randomBytes(3).toString('hex')}@example.com`;
      await create('/api/v1/contacts', { email, tags: ['vip'] });
      const segment = await create<{ id: number; members: number }>('/api/v1/segments', { name: `VIPs ${email}`, filter: { all: [{ tag: 'vip' }, { field: 'email', op: 'equals', value: email }] } });
      expect(segment.members).toBe(1);
      const hero = await slot(site.id, {
        name: 'hero',
        variants: [
          { key: 'anon', content: '**Hello stranger**, [sign up](https://example.com/signup)' },
          { key: 'vip', format: 'html', content: '<p class="vip">Welcome back, <em>VIP</em><img src="x" onerror="document.title=1"></p><script>document.title=2</script>' },
        ],
        rules: [
          { when: { filter: { segment: segment.id } }, variant: 'vip' },
          { when: { identity: 'anonymous' }, variant: 'anon' },
        ],
      });
      const promo = await slot(site.id, { name: 'promo', variants: [{ key: 'members', content: 'Members only' }], rules: [{ when: { identity: 'known' }, variant: 'members' }] });
      const { page, errors } = await open();
      const url = urlOf({ key: site.public_key, title: 'Slots', body: '<div data-leadline-slot="hero" id="hero"><p>Default hero</p></div><div data-leadline-slot="promo" id="promo"><p>Default promo</p></div>' });

      await page.goto(url);
      await page.locator('#hero strong').waitFor();
      expect(await html(page, '#hero')).toBe('<p><strong>Hello stranger</strong>, <a href="https://example.com/signup">sign up</a></p>\n');
      const views = await waitEvents(site.id, 2, 'slot_view');
      expect(views.map(propsOf)).toEqual(
        expect.arrayContaining([
          { slot_id: hero.id, slot: 'hero', variant: 'anon' },
          { slot_id: promo.id, slot: 'promo', variant: 'default' },
        ]),
      );
      expect(await html(page, '#promo')).toBe('<p>Default promo</p>');
      // A click inside the variant (not on its link) is a slot_click of that variant.
      await page.click('#hero strong');
      const [click] = await waitEvents(site.id, 1, 'slot_click');
      expect(propsOf(click)).toEqual({ slot_id: hero.id, slot: 'hero', variant: 'anon' });
      expect(click.visitor_id).toBe(views[0].visitor_id);
      // A single-page app's next view, whose slot element appears after the navigation, is filled too.
      await page.evaluate(() => {
        history.pushState({}, '', `${location.pathname}/next`);
        const el = document.createElement('div');
        el.setAttribute('data-leadline-slot', 'hero');
        el.id = 'hero2';
        el.append('Default hero, again');
        document.body.append(el);
      });
      await page.locator('#hero2 strong').waitFor();
      await waitEvents(site.id, 2, 'page_view');

      // The site's backend identifies the visitor with a signature: the browser is proven.
      await page.evaluate(([e, s]) => (window as any).leadline('identify', { email: e, sig: s }), [email, sign(site.secret, email)]);
      await waitEvents(site.id, 1, 'identified');
      await page.reload();
      await page.locator('#hero .vip').waitFor();
      expect(await html(page, '#hero')).toBe('<p class="vip">Welcome back, <em>VIP</em><img src="x" loading="lazy"></p>');
      await page.locator('#promo', { hasText: 'Members only' }).waitFor();
      const proven = await waitFor(async () => {
        const rows = (await eventsOf(site.id, 'slot_view')).filter((r) => propsOf(r).variant === 'vip');
        return rows.length > 0 && rows;
      }, 'the view of the VIP variant');
      expect(proven[0].contact_id).not.toBeNull();
      expect(await page.title()).toBe('Slots');
      // The page forbids images: the variant's img is refused as the page's own would be.
      noErrors(errors, [/img-src 'none'/]);
    },
    TIMEOUT,
  );

  it(
    'no layout shift: the default stays until the variant arrives, then swaps in one frame; the test sees the shift when no height is reserved',
    async () => {
      const site = await makeSite();
      await slot(site.id, {
        name: 'hero',
        variants: [{ key: 'tall', format: 'html', content: '<p>One</p><p>Two</p><p>Three</p><p>Four</p>' }],
        rules: [{ when: { identity: 'any' }, variant: 'tall' }],
      });
      const body = '<div class="slot" data-leadline-slot="hero" id="hero"><p>Default</p></div><p id="below">Below the slot</p>';
      const style = 'p{margin:0;line-height:20px}';
      const run = async (reserve: boolean) => {
        const { context, page, errors } = await open();
        await context.addInitScript(MEASURE);
        // GET /focus is held until the page has painted its default and the test has looked at it.
        // Shifts are counted from then on: the page's own first layout (its buttons taking their
        // style, on a busy machine sometimes a frame late) is not the slot's doing.
        let seen: { html: string; top: number; at: number } | undefined;
        await context.route('**/focus?*', async (route) => {
          const at = await page.evaluate(() => new Promise<number>((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok(performance.now())))));
          seen = { html: await html(page, '#hero'), top: await page.locator('#below').evaluate((el) => el.getBoundingClientRect().top), at };
          await route.continue();
        });
        await page.goto(urlOf({ key: site.public_key, body, style: style + (reserve ? '.slot{min-height:120px}' : '') }));
        await page.getByText('Four').waitFor();
        expect(seen?.html).toBe('<p>Default</p>');
        const m = await measured(page, seen!.at);
        const after = await page.locator('#below').evaluate((el) => el.getBoundingClientRect().top);
        noErrors(errors);
        return { ...m, moved: after - seen!.top, filled: await html(page, '#hero') };
      };

      const reserved = await run(true);
      expect(reserved.moved).toBe(0);
      expect(reserved.cls).toBe(0);
      expect(reserved.filled).toBe('<p>One</p><p>Two</p><p>Three</p><p>Four</p>');
      // The answer came after the default was painted, and the slot changed once, right after it.
      const fills = reserved.fills.filter((f) => f.name === 'hero');
      expect(fills.length).toBe(1);
      const afterResponse = fills[0]!.t - reserved.focusEnd!;
      console.log(`slot filled ${afterResponse.toFixed(1)} ms after GET /focus's answer ended (one frame: 16.7 ms)`);
      expect(afterResponse).toBeGreaterThanOrEqual(0);
      expect(afterResponse).toBeLessThan(50);

      // The control: the same swap without reserved height pushes the paragraph below down, and the measurement sees it.
      const unreserved = await run(false);
      expect(unreserved.moved).toBe(60);
      expect(unreserved.cls).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  it(
    "the slot is filled in the task that reads GET /focus's answer, before any other task or frame (first and repeat visit)",
    async () => {
      const site = await makeSite();
      await slot(site.id, { name: 'hero', variants: [{ key: 'v', content: '**Filled**' }], rules: [{ when: { identity: 'any' }, variant: 'v' }] });
      const { context, page, errors } = await open();
      await context.addInitScript(ORDER);
      // GET /focus is held until the chunk w.js asked for at once (the page has a slot) has arrived,
      // as it has on a real page by the time the page view's two round trips are done.
      await context.route('**/focus?*', async (route) => {
        await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.includes('/w-chunk.js')));
        await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
        await route.continue();
      });
      const url = urlOf({ key: site.public_key, body: '<div data-leadline-slot="hero" id="hero"><p>Default hero</p></div>' });
      for (const visit of ['first', 'repeat']) {
        await page.goto(url);
        await page.locator('#hero strong').waitFor();
        const order = await page.evaluate(async () => {
          await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
          return (window as any).__order as string[];
        });
        expect(order.slice(0, 2), visit).toEqual(['answer', 'filled']);
        // The task and the frame did come (the page would have seen either first), after the swap.
        expect([...order].sort(), visit).toEqual(['answer', 'filled', 'next frame', 'next task']);
      }
      noErrors(errors);
    },
    TIMEOUT,
  );

  it(
    'a site without slots (or focus items) makes no GET /focus request; once it has one, the page view makes exactly one',
    async () => {
      const site = await makeSite();
      const { page, errors } = await open();
      const asked: string[] = [];
      page.on('request', (r) => asked.push(`${r.method()} ${new URL(r.url()).pathname}`));
      const count = (path: string) => asked.filter((r) => r.endsWith(path)).length;
      // A page without a slot element: the page view and nothing else.
      await page.goto(urlOf({ key: site.public_key, body: '<p>Nothing to fill</p>' }));
      await waitEvents(site.id, 1, 'page_view');
      await page.waitForLoadState('networkidle');
      expect([count('/t'), count('/focus'), count('/w-chunk.js')]).toEqual([1, 0, 0]);
      // A page with a slot element loads the chunk alongside (ready for the slot's content), but asks
      // for no content while the site has no slot.
      asked.length = 0;
      const url = urlOf({ key: site.public_key, body: '<div data-leadline-slot="hero" id="hero"><p>Default hero</p></div>' });
      await page.goto(url);
      await waitEvents(site.id, 2, 'page_view');
      await page.waitForLoadState('networkidle');
      expect([count('/t'), count('/focus'), count('/w-chunk.js')]).toEqual([1, 0, 1]);
      expect(await html(page, '#hero')).toBe('<p>Default hero</p>');
      expect(await eventsOf(site.id, 'slot_view')).toEqual([]);

      await slot(site.id, { name: 'hero', variants: [{ key: 'v', content: 'Filled' }], rules: [{ when: { identity: 'any' }, variant: 'v' }] });
      asked.length = 0;
      await page.reload();
      await page.locator('#hero', { hasText: 'Filled' }).waitFor();
      await page.waitForLoadState('networkidle');
      // One page view (and a beacon with the slot's view).
      expect([count('/t'), count('/focus')]).toEqual([2, 1]);
      await waitEvents(site.id, 1, 'slot_view');
      noErrors(errors);
    },
    TIMEOUT,
  );
});
