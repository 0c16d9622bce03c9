// Focus items in real Chromium against the real app: triggers, frequency across reloads and
// sessions (a new browser context is a new session), dialog accessibility, styles, events.
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { NONCE, sleep, waitFor } from './harness';
import { create, eventsOf, makeSite, noErrors, open, propsOf, rows, urlOf, useWidgetEnv, waitEvents, TIMEOUT } from './widgets-env';

const env = useWidgetEnv();
const DIALOG = '[data-leadline-focus] [role=dialog]';

/** A site with one focus item (a modal notice shown on load unless told otherwise). */
async function siteWith(item: Record<string, unknown>) {
  const site = await makeSite();
  const focus = await create('/api/v1/focus-items', {
    name: `Item ${randomBytes(3).toString('hex')}`,
    site_id: site.id,
    style: { type: 'modal' },
    content: { kind: 'notice', heading: 'Hello there', body: 'A notice.' },
    ...item,
  });
  return { site, focus };
}

const shown = (page: Page) => page.locator(DIALOG).count().then((n) => n > 0);
/** Loads the page and waits long enough for a load-triggered item to have appeared if it would. */
async function visit(page: Page, url: string) {
  await page.goto(url);
  await page.waitForFunction(() => (window as any).leadline?.l === 1);
  await page.waitForLoadState('networkidle');
}
const deepActiveId = (page: Page) =>
  page.evaluate(() => {
    let a = document.activeElement;
    while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
    return a ? a.id || a.className || a.tagName : null;
  });

describe('focus items', () => {
  it(
    'a modal is a dialog that takes focus, traps Tab, closes on Escape and gives focus back; view and close are events',
    async () => {
      const { site, focus } = await siteWith({
        content: { kind: 'link', heading: 'Our guide', body: 'Read it', cta: { label: 'Get it', url: 'https://example.com/guide' } },
        trigger: { type: 'click', selector: '#open' },
        frequency: { mode: 'every_page' },
      });
      const { page, errors } = await open();
      await visit(page, urlOf({ key: site.public_key, body: '<button id="open">Open</button>' }));
      expect(await shown(page)).toBe(false);
      await page.focus('#open');
      await page.keyboard.press('Enter');
      const dialog = page.locator(DIALOG);
      await dialog.waitFor();
      expect(await dialog.getAttribute('aria-modal')).toBe('true');
      const labelledBy = (await dialog.getAttribute('aria-labelledby'))!;
      await expect(page.locator(`[data-leadline-focus] [id="${labelledBy}"]`).textContent()).resolves.toBe('Our guide');
      await expect(page.getByRole('dialog', { name: 'Our guide' }).count()).resolves.toBe(1);
      // Focus moved into the dialog; Tab and Shift+Tab cycle inside it (close button, call to action).
      const seen = new Set<string | null>();
      for (let i = 0; i < 5; i++) {
        await page.keyboard.press('Tab');
        seen.add(await deepActiveId(page));
      }
      for (let i = 0; i < 3; i++) {
        await page.keyboard.press('Shift+Tab');
        seen.add(await deepActiveId(page));
      }
      expect([...seen].sort()).toEqual(['btn', 'x']);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      expect(await deepActiveId(page)).toBe('open');

      const [view] = await waitEvents(site.id, 1, 'focus_view');
      expect(propsOf(view)).toEqual({ focus_id: focus.id, variant: 'a' });
      const [close] = await waitEvents(site.id, 1, 'focus_close');
      expect(propsOf(close)).toEqual({ focus_id: focus.id, variant: 'a' });
      expect(close.visitor_id).toBe(view.visitor_id);

      // The trigger fires again (every page), and the call to action is a click event and a navigation.
      await page.click('#open');
      await Promise.all([page.waitForURL('https://example.com/guide'), page.click(`${DIALOG} a.btn`)]).catch(() => undefined);
      const [click] = await waitEvents(site.id, 1, 'focus_click');
      expect(propsOf(click)).toEqual({ focus_id: focus.id, variant: 'a' });
      noErrors(errors);
    },
    TIMEOUT,
  );

  it(
    'triggers: load, delay, scroll, exit intent, click and page views',
    async () => {
      const { page, errors } = await open();
      const page_ = (key: string, body = '') => urlOf({ key, body: `<div class="tall">${body}</div>` });

      let { site } = await siteWith({ trigger: { type: 'load' } });
      await visit(page, page_(site.public_key));
      await page.locator(DIALOG).waitFor();

      ({ site } = await siteWith({ trigger: { type: 'delay', seconds: 2 } }));
      const started = Date.now();
      await page.goto(page_(site.public_key));
      await sleep(1000 - (Date.now() - started));
      expect(await shown(page)).toBe(false);
      await page.locator(DIALOG).waitFor();
      expect(Date.now() - started).toBeGreaterThanOrEqual(2000);

      ({ site } = await siteWith({ trigger: { type: 'scroll', percent: 50 } }));
      await visit(page, page_(site.public_key));
      await page.mouse.wheel(0, 600);
      await sleep(300);
      expect(await shown(page)).toBe(false);
      await page.evaluate(() => scrollTo(0, document.documentElement.scrollHeight * 0.6));
      await page.locator(DIALOG).waitFor();

      ({ site } = await siteWith({ trigger: { type: 'exit_intent' } }));
      await visit(page, page_(site.public_key));
      await page.mouse.move(300, 300);
      await page.mouse.move(300, 200, { steps: 3 }); // moving about inside the page: nothing
      expect(await shown(page)).toBe(false);
      await page.mouse.move(300, -10, { steps: 4 }); // out through the top, towards the tabs
      await page.locator(DIALOG).waitFor();

      ({ site } = await siteWith({ trigger: { type: 'click', selector: '.buy a' } }));
      await visit(page, page_(site.public_key, '<p class="buy"><a id="buy" href="#buy">Buy</a></p>'));
      await page.click('#before');
      expect(await shown(page)).toBe(false);
      await page.click('#buy');
      await page.locator(DIALOG).waitFor();

      // Page views are counted per browser (origin), so a fresh one starts from zero.
      ({ site } = await siteWith({ trigger: { type: 'pageviews', count: 3 }, frequency: { mode: 'every_page' } }));
      const url = page_(site.public_key);
      const fresh = await open();
      for (const expected of [false, false, true, true]) {
        await visit(fresh.page, url);
        if (expected) await fresh.page.locator(DIALOG).waitFor();
        else expect(await shown(fresh.page)).toBe(false);
      }
      noErrors(errors);
      noErrors(fresh.errors);
    },
    TIMEOUT,
  );

  it(
    'frequency: once per session, every N days, stop after close, stop after conversion, max displays',
    async () => {
      // Once per session: not again on reload; again in a new session (a new context).
      let { site } = await siteWith({ frequency: { mode: 'once_per_session', stop_after_conversion: false } });
      let url = urlOf({ key: site.public_key });
      const first = await open();
      await visit(first.page, url);
      await first.page.locator(DIALOG).waitFor();
      await visit(first.page, url);
      expect(await shown(first.page)).toBe(false);
      const second = await open();
      await visit(second.page, url);
      await second.page.locator(DIALOG).waitFor();

      // Every 2 days: not on the next load; again once the last display is 3 days old.
      ({ site } = await siteWith({ frequency: { mode: 'every_n_days', days: 2 } }));
      url = urlOf({ key: site.public_key });
      const { page, errors } = await open();
      await visit(page, url);
      await page.locator(DIALOG).waitFor();
      await visit(page, url);
      expect(await shown(page)).toBe(false);
      await page.evaluate(() => {
        const s = JSON.parse(localStorage.getItem('ll_f')!);
        for (const k in s) s[k].t -= 3 * 864e5;
        localStorage.setItem('ll_f', JSON.stringify(s));
      });
      await visit(page, url);
      await page.locator(DIALOG).waitFor();

      // Every page until closed.
      ({ site } = await siteWith({ frequency: { mode: 'every_page', stop_after_close: true } }));
      url = urlOf({ key: site.public_key });
      await visit(page, url);
      await page.locator(DIALOG).waitFor();
      await visit(page, url);
      await page.locator(`${DIALOG} button.x`).click();
      await visit(page, url);
      expect(await shown(page)).toBe(false);

      // Every page until the call to action is clicked.
      ({ site } = await siteWith({
        style: { type: 'bar', position: 'bottom' },
        content: { kind: 'link', heading: 'Sale', body: '', cta: { label: 'Shop', url: `${env.site}/landing` } },
        frequency: { mode: 'every_page', stop_after_conversion: true },
      }));
      url = urlOf({ key: site.public_key });
      await visit(page, url);
      await page.locator(DIALOG).waitFor();
      await Promise.all([page.waitForURL(`${env.site}/landing`), page.click(`${DIALOG} a.btn`)]);
      await visit(page, url);
      expect(await shown(page)).toBe(false);

      // At most twice.
      ({ site } = await siteWith({ style: { type: 'slide_in' }, frequency: { mode: 'every_page', max_displays: 2 } }));
      url = urlOf({ key: site.public_key });
      for (const expected of [true, true, false, false]) {
        await visit(page, url);
        if (expected) await page.locator(DIALOG).waitFor();
        else expect(await shown(page)).toBe(false);
      }
      expect(await eventsOf(site.id, 'focus_view')).toHaveLength(2);
      noErrors(errors);
    },
    TIMEOUT,
  );

  it(
    'styles: bars, slide-in corners and full screen; motion only when the visitor allows it',
    async () => {
      const { page, errors } = await open();
      const box = async () => (await page.locator(DIALOG).boundingBox())!;
      const vp = page.viewportSize()!;

      let { site } = await siteWith({ style: { type: 'bar', position: 'bottom', sticky: true }, frequency: { mode: 'every_page' } });
      await visit(page, urlOf({ key: site.public_key, body: '<div class="tall"></div>' }));
      await page.locator(DIALOG).waitFor();
      let b = await box();
      expect(b.y + b.height).toBeCloseTo(vp.height, 0);
      expect(b.width).toBeCloseTo(vp.width, 0);
      expect(await page.locator(DIALOG).getAttribute('aria-modal')).toBeNull();
      // A bar does not take focus from the page.
      expect(await deepActiveId(page)).toBe('BODY');

      ({ site } = await siteWith({ style: { type: 'bar', position: 'top', sticky: false } }));
      await visit(page, urlOf({ key: site.public_key, body: '<div class="tall"></div>' }));
      await page.locator(DIALOG).waitFor();
      expect((await box()).y).toBeCloseTo(0, 0);
      await page.evaluate(() => scrollTo(0, 500));
      expect((await box()).y).toBeLessThan(-400); // scrolls away with the page

      ({ site } = await siteWith({ style: { type: 'slide_in', corner: 'top_left' } }));
      await visit(page, urlOf({ key: site.public_key }));
      await page.locator(DIALOG).waitFor();
      b = await box();
      expect(b.x).toBeLessThan(40);
      expect(b.y).toBeLessThan(40);
      expect(b.width).toBeLessThan(vp.width / 2);

      ({ site } = await siteWith({ style: { type: 'full_screen', colors: { background: '#102030', text: '#ffffff', button: '#ff0000' } } }));
      const url = urlOf({ key: site.public_key });
      await visit(page, url);
      await page.locator(DIALOG).waitFor();
      b = await box();
      expect([b.x, b.y, b.width, b.height]).toEqual([0, 0, vp.width, vp.height]);
      expect(await page.locator(DIALOG).evaluate((el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).animationName])).toEqual([
        'rgb(16, 32, 48)',
        'll-in',
      ]);

      const calm = await open({ reducedMotion: 'reduce' });
      await visit(calm.page, url);
      await calm.page.locator(DIALOG).waitFor();
      expect(await calm.page.locator(DIALOG).evaluate((el) => getComputedStyle(el).animationName)).toBe('none');
      noErrors(errors);
      noErrors(calm.errors);
    },
    TIMEOUT,
  );

  it(
    'a form in a modal: submitting it identifies the visitor and ends the item (a conversion)',
    async () => {
      const form = await create('/api/v1/forms', {
        name: `Newsletter ${randomBytes(3).toString('hex')}`,
        fields: [{ key: 'email', type: 'email', label: 'Email', maps_to: 'email', required: true }],
        after_submit: { type: 'message', message: 'Subscribed.' },
        min_fill_ms: 0,
      });
      const { site } = await siteWith({ content: { kind: 'form', heading: 'Newsletter', body: '', form_id: form.id }, frequency: { mode: 'every_page' } });
      const { page, errors } = await open();
      const url = urlOf({ key: site.public_key });
      await visit(page, url);
      await page.locator(`${DIALOG} input[name=email]`).waitFor();
      const email = `fx+${randomBytes(3).toString('hex')}@example.com`;
      await page.fill(`${DIALOG} input[name=email]`, email);
      await page.keyboard.press('Enter');
      await expect(page.locator(`${DIALOG} [role=status]`).textContent()).resolves.toBe('Subscribed.');
      const [sub] = await rows('SELECT * FROM form_submissions WHERE form_id = ?', [form.id]);
      expect(sub.contact_id).not.toBeNull();
      await visit(page, url);
      expect(await shown(page)).toBe(false);
      noErrors(errors);
    },
    TIMEOUT,
  );

  it(
    'nothing is asked or shown for an opted-out visitor, nor before consent in consent mode',
    async () => {
      const { site } = await siteWith({ frequency: { mode: 'every_page' } });
      const { page, errors } = await open();
      const focusAsked: string[] = [];
      page.on('request', (r) => r.url().includes('/focus?') && focusAsked.push(r.url()));
      await visit(page, urlOf({ key: site.public_key, attrs: 'data-consent="required"' }));
      expect(await shown(page)).toBe(false);
      expect(focusAsked).toHaveLength(0);
      // Consent makes this page the visitor's view: its items are asked for then.
      await page.evaluate(() => (window as any).leadline('consent', true));
      await page.locator(DIALOG).waitFor();
      expect(focusAsked).toHaveLength(1);
      await visit(page, urlOf({ key: site.public_key, attrs: 'data-consent="required"' }));
      await page.locator(DIALOG).waitFor();
      await page.evaluate(() => (window as any).leadline('optout'));
      await visit(page, urlOf({ key: site.public_key }));
      expect(await shown(page)).toBe(false);
      expect(focusAsked).toHaveLength(2);
      noErrors(errors);
    },
    TIMEOUT,
  );

  it(
    'single-page apps: asked again for each distinct URL; an item of the page before whose trigger has not fired is cancelled',
    async () => {
      const site = await makeSite();
      const item = (name: string, path: string, trigger: Record<string, unknown>) =>
        create('/api/v1/focus-items', {
          name,
          site_id: site.id,
          style: { type: 'modal' },
          content: { kind: 'notice', heading: name, body: '' },
          trigger,
          targeting: { urls: [{ op: 'contains', value: path }] },
          frequency: { mode: 'every_page' },
        });
      await item('Pricing', '/pricing', { type: 'load' });
      await item('Later', '/start', { type: 'delay', seconds: 1 });
      const { page, errors } = await open();
      const asked: string[] = [];
      page.on('request', (r) => r.url().includes('/focus?') && asked.push(new URL(r.url()).searchParams.get('u')!));
      const base = urlOf({ key: site.public_key });
      await visit(page, `${base}/start`);
      expect(asked).toEqual([`${base}/start`]);
      expect(await shown(page)).toBe(false);
      await page.evaluate(() => history.pushState({}, '', location.pathname.replace('/start', '/pricing')));
      await page.getByRole('dialog', { name: 'Pricing' }).waitFor();
      // The delayed item was for /start: it does not show on /pricing.
      await sleep(1500);
      expect(await page.locator(DIALOG).count()).toBe(1);
      // The same URL again is no new page view; another URL is.
      await page.evaluate(() => history.replaceState({ x: 1 }, '', location.href));
      await page.evaluate(() => history.pushState({}, '', location.pathname.replace('/pricing', '/about')));
      // GET /focus follows the answer to the page view: wait for it, then for anything more.
      await waitFor(async () => asked.length >= 3, 'GET /focus for /about');
      await sleep(300);
      expect(asked).toEqual([`${base}/start`, `${base}/pricing`, `${base}/about`]);
      // Moving on to a page with no items (nothing is handed to the chunk) still stops the delayed one.
      await page.keyboard.press('Escape');
      const answered = page.waitForResponse((r) => r.url().includes('/focus?'));
      await page.evaluate(() => history.pushState({}, '', location.pathname.replace('/about', '/start')));
      await answered;
      await page.evaluate(() => history.pushState({}, '', location.pathname.replace('/start', '/contact')));
      await sleep(1500);
      expect(await shown(page)).toBe(false);
      noErrors(errors);
    },
    TIMEOUT,
  );

  it(
    'a site without active focus items is not asked at all; an item created for it is asked for from the next page view',
    async () => {
      const site = await makeSite();
      const { page, errors } = await open();
      const asked: string[] = [];
      page.on('request', (r) => r.url().includes('/focus?') && asked.push(r.url()));
      const chunk: string[] = [];
      page.on('request', (r) => r.url().includes('/w-chunk.js') && chunk.push(r.url()));
      await visit(page, urlOf({ key: site.public_key }));
      await page.evaluate(() => history.pushState({}, '', location.pathname + '/next'));
      await waitEvents(site.id, 2, 'page_view');
      await page.waitForLoadState('networkidle');
      expect(asked).toEqual([]);
      expect(chunk).toEqual([]);
      await create('/api/v1/focus-items', {
        name: 'New',
        site_id: site.id,
        style: { type: 'modal' },
        content: { kind: 'notice', heading: 'New', body: '' },
      });
      await page.evaluate(() => history.pushState({}, '', location.pathname + '/later'));
      await page.locator(DIALOG).waitFor();
      expect(asked).toHaveLength(1);
      expect(chunk).toHaveLength(1);
      noErrors(errors);
    },
    TIMEOUT,
  );

  it(
    'the chunk still works for a w.js cached from before, which hands over its GET /focus request',
    async () => {
      const site = await makeSite();
      const item = { id: 999_999, variant: 'a', style: { type: 'bar', position: 'top' }, content: { kind: 'notice', heading: 'Old tag', body: '' }, trigger: { type: 'load' }, frequency: { mode: 'every_page' } };
      // What the old w.js did once it had started: import the chunk and pass the pending GET /focus answer.
      const load = `import(${JSON.stringify(env.api + '/w-chunk.js')}).then((m) => m.default(Promise.resolve(${JSON.stringify([item])})))`;
      const body = `<script type="module" nonce="${NONCE}">const go = () => (window.leadline?.l ? ${load} : setTimeout(go, 20)); go();</script>`;
      const { page, errors } = await open();
      await visit(page, urlOf({ key: site.public_key, body }));
      await page.getByRole('dialog', { name: 'Old tag' }).waitFor();
      noErrors(errors);
    },
    TIMEOUT,
  );
});
