// Campaigns in Chromium against the real server (its scheduler and reactions running as in
// production): the list and the builder load clean at 1280 px and on a phone; a marketer builds
// segment source → send email → wait → decision with two branches in the visual builder, the
// server's 422 for an unfinished step shows on that step's node, the fix saves, publishing enrolls
// the segment's member and the counts on the nodes move when another contact joins; the builder
// works from the keyboard; a sales user gets a read-only campaign and the API refuses its session;
// archiving asks first and empties the campaign.
// Signed in as test/dashboard-signed-in.ts does it.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axe, expectCleanView, settled, startEnv, type Env, type Watched } from './dashboard-signed-in';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
}, 60_000);
afterAll(() => env?.stop());

const node = (page: Page, id: string) => page.locator(`.cb-node[data-step="${id}"]`);
const panel = (page: Page) => page.locator('.cb-panel');
/** Opens the "+" at a place and picks a kind of step from the panel's menu. */
async function addStep(page: Page, addId: string, choice: string) {
  await page.locator(`#${addId}`).click();
  await panel(page).getByRole('heading', { name: 'Add a step' }).waitFor();
  await panel(page).getByRole('button', { name: choice, exact: true }).click();
}
const counts = async (page: Page, id: string) => {
  const c = node(page, id).locator('.cb-counts');
  if (!(await c.count())) return null;
  return { entered: Number(await c.getAttribute('data-entered')), now: Number(await c.getAttribute('data-now')), done: Number(await c.getAttribute('data-done')) };
};

async function world() {
  const contact = async (email: string) => {
    const c = await env.call('POST', '/api/v1/contacts', { email });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    return c.body.id as number;
  };
  const email = async (name: string) => {
    const e = await env.call('POST', '/api/v1/emails', { name, subject: name, html: `<p>${name}</p>` });
    expect(e.status, JSON.stringify(e.body)).toBe(201);
    return e.body.id as number;
  };
  const seg = await env.call('POST', '/api/v1/segments', { name: 'Trial users', kind: 'static' });
  expect(seg.status).toBe(201);
  const join = async (contactId: number) => expect((await env.call('PUT', `/api/v1/segments/${seg.body.id}/members/${contactId}`)).status).toBeLessThan(300);
  return { contact, email, segment: seg.body.id as number, join };
}

describe('Campaigns in Chromium', () => {
  it('the list loads clean with an empty state that says what to do; the builder loads clean at 1280 px and on a phone', async () => {
    const w = await env.signIn();
    await expectCleanView(w, `${env.url}/app/campaigns`, 'Campaigns');
    expect(await w.page.getByText('No campaigns yet.').count()).toBe(1);
    expect(await w.page.getByRole('link', { name: 'Create your first campaign' }).count()).toBe(1);
    expect(await w.page.getByRole('link', { name: 'New campaign' }).count()).toBe(1);
    expect(await w.page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Campaigns' }).getAttribute('aria-current')).toBe('page');
    await expectCleanView(w, `${env.url}/app/campaigns/new`, 'New campaign');
    await w.page.setViewportSize({ width: 375, height: 812 });
    try {
      await expectCleanView(w, `${env.url}/app/campaigns`, 'Campaigns');
      await expectCleanView(w, `${env.url}/app/campaigns/new`, 'New campaign');
    } finally {
      await w.page.setViewportSize({ width: 1280, height: 900 });
    }
  }, 90_000);

  let campaignId = 0;

  it('a marketer builds, sees the server’s error on the right step, fixes it, publishes; the step counts move when a contact joins the segment', async () => {
    const w = await env.signIn();
    const { page } = w;
    const { contact, email, segment, join } = await world();
    const welcome = await email('Welcome');
    const nudge = await email('Nudge');
    const first = await contact('first@example.com');
    await join(first);

    await page.goto(`${env.url}/app/campaigns/new`);
    await page.getByRole('heading', { name: 'New campaign', level: 1 }).waitFor();
    await settled(page);
    await page.getByLabel('Name', { exact: true }).fill('Onboarding');
    // Source: the segment.
    await page.getByRole('button', { name: 'Add a source' }).click();
    await panel(page).getByRole('button', { name: 'Join a segment' }).click();
    await panel(page).getByLabel('Segment', { exact: true }).selectOption({ label: 'Trial users' });
    expect(await page.locator('.cb-sources').innerText()).toContain('Joins the segment “Trial users”');
    // send email → wait → decision (yes: tag, no: a second email left unfinished).
    await addStep(page, 'cb-add-start-next', 'Send email');
    await panel(page).getByLabel('Email', { exact: true }).selectOption({ label: 'Welcome' });
    await addStep(page, 'cb-add-email-1-next', 'Wait');
    await panel(page).getByLabel('Days').fill('2');
    await addStep(page, 'cb-add-wait-1-next', 'Decision');
    await panel(page).getByLabel('Did the contact…').selectOption('email_opened');
    await panel(page).getByLabel('Email', { exact: true }).selectOption({ label: 'Welcome' });
    await addStep(page, 'cb-add-decision-1-yes', 'Add tags');
    await panel(page).getByLabel('Tags').fill('engaged, onboarded');
    await addStep(page, 'cb-add-decision-1-no', 'Send email');
    expect(await page.locator('.cb-node').evaluateAll((n) => n.map((x) => x.getAttribute('data-step')))).toEqual(['email-1', 'wait-1', 'decision-1', 'tag-1', 'email-2']);
    // The branches are drawn side by side under the decision: yes left of no.
    const [yes, no] = [await node(page, 'tag-1').boundingBox(), await node(page, 'email-2').boundingBox()];
    const decision = (await node(page, 'decision-1').boundingBox())!;
    expect(yes!.y).toBeGreaterThan(decision.y + decision.height);
    expect(Math.abs(yes!.y - no!.y)).toBeLessThan(2);
    expect(yes!.x + yes!.width).toBeLessThanOrEqual(no!.x);

    // Saved with the second email not chosen: the server's 422 names steps.N.action.email_id; the node shows it.
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${env.url}/api/v1/campaigns` && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Create campaign' }).click(),
    ]);
    expect(answer.status()).toBe(422);
    const body = await answer.json();
    const sent = JSON.parse(answer.request().postData()!);
    const detail = body.error.details.find((d: any) => /^definition\.steps\.\d+\.action\.email_id$/.test(d.field));
    expect(detail, JSON.stringify(body)).toBeDefined();
    expect(sent.definition.steps[Number(detail.field.split('.')[2])].id).toBe('email-2');
    await node(page, 'email-2').locator('.cb-errors').waitFor();
    expect(await node(page, 'email-2').locator('.cb-errors').innerText()).toContain(detail.message);
    expect(await page.locator('.cb-node.has-error').evaluateAll((n) => n.map((x) => x.getAttribute('data-step')))).toEqual(['email-2']);
    // And in the panel, at the picker it concerns.
    await node(page, 'email-2').getByRole('button').click();
    const picker = panel(page).getByLabel('Email', { exact: true });
    expect(await picker.getAttribute('aria-invalid')).toBe('true');
    expect(await panel(page).locator('.field-error').first().innerText()).toBe(detail.message);
    expect(await axe(page)).toEqual([]);

    await picker.selectOption({ label: 'Nudge' });
    await page.getByRole('button', { name: 'Create campaign' }).click();
    await page.waitForURL(/\/app\/campaigns\/\d+\?saved=1$/, { timeout: 15_000 });
    await page.getByRole('status').filter({ hasText: 'Campaign saved as a draft.' }).first().waitFor();
    campaignId = Number(/campaigns\/(\d+)/.exec(page.url())![1]);
    const stored = (await env.call('GET', `/api/v1/campaigns/${campaignId}`)).body;
    expect(stored.status).toBe('draft');
    // Each new step follows the one it was added after in definition.steps (the no branch's, added last, right after the decision).
    expect(stored.definition).toMatchObject({
      sources: [{ type: 'segment', segment_id: segment, exit_on_leave: false }],
      start: 'email-1',
      steps: [
        { id: 'email-1', type: 'action', action: { type: 'send_email', email_id: welcome }, next: 'wait-1' },
        { id: 'wait-1', type: 'wait', wait: { for: { days: 2 } }, next: 'decision-1' },
        { id: 'decision-1', type: 'decision', on: { event: 'email_opened', email_id: welcome }, timeout: { days: 3 }, yes: 'tag-1', no: 'email-2' },
        { id: 'email-2', type: 'action', action: { type: 'send_email', email_id: nudge }, next: null },
        { id: 'tag-1', type: 'action', action: { type: 'add_tags', tags: ['engaged', 'onboarded'] }, next: null },
      ],
    });
    await settled(page);
    expect(await page.getByText('No unsaved changes.').count()).toBe(1);
    expect(await page.locator('.cb-node.has-error').count()).toBe(0);

    // Publish: the segment's member enters and goes through the email to the wait.
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Published version 1. 1 contact entered now.' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('.title-row .campaign-status').innerText()).toBe('Published');
    await expect.poll(() => counts(page, 'wait-1'), { timeout: 20_000 }).toEqual({ entered: 1, now: 1, done: 0 });
    expect(await counts(page, 'email-1')).toEqual({ entered: 1, now: 0, done: 1 });

    // Another contact joins the segment: the nodes' counts move without a reload.
    const requests = w.requested.length;
    await join(await contact('second@example.com'));
    await expect.poll(() => counts(page, 'email-1'), { timeout: 30_000 }).toEqual({ entered: 2, now: 0, done: 2 });
    await expect.poll(() => counts(page, 'wait-1'), { timeout: 20_000 }).toEqual({ entered: 2, now: 2, done: 0 });
    expect(w.requested.slice(requests).filter((p) => p === `/api/v1/campaigns/${campaignId}/report`).length).toBeGreaterThan(0);
    expect(await page.locator('.cb-passes dd[data-active]').getAttribute('data-active')).toBe('2');

    // Pause and resume, each saying so.
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('status').filter({ hasText: /^Paused/ }).waitFor();
    expect((await env.call('GET', `/api/v1/campaigns/${campaignId}`)).body.status).toBe('paused');
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('status').filter({ hasText: /^Resumed/ }).waitFor();
    expect((await env.call('GET', `/api/v1/campaigns/${campaignId}`)).body.status).toBe('active');
    expect(await axe(page)).toEqual([]);

    // The list: published, two contacts in it.
    await expectCleanView(w, `${env.url}/app/campaigns`, 'Campaigns');
    const row = page.getByRole('row').filter({ hasText: 'Onboarding' });
    expect(await row.locator('.campaign-status').innerText()).toBe('Published');
    await expect.poll(() => row.locator('td[data-active]').getAttribute('data-active'), { timeout: 10_000 }).toBe('2');
    expect(w.errors).toEqual([]);
  }, 180_000);

  it('the builder works from the keyboard: add a step, edit it, close the panel back to its node; focus is visible; a phone scrolls the tree, not the page', async () => {
    const w = await env.signIn();
    const { page } = w;
    await page.goto(`${env.url}/app/campaigns/new`);
    await page.getByRole('heading', { name: 'New campaign', level: 1 }).waitFor();
    await settled(page);
    await page.locator('#cb-add-source').focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('cb-add-start-next');
    expect(await page.evaluate(() => parseFloat(getComputedStyle(document.activeElement!).outlineWidth))).toBeGreaterThanOrEqual(2);
    await page.keyboard.press('Enter');
    // The panel opens with the focus on its heading; Tab reaches the choices.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('cb-panel-title');
    for (let i = 0; i < 20 && (await page.evaluate(() => document.activeElement?.textContent)) !== 'Wait'; i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await node(page, 'wait-1').waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('cb-panel-title');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('cs-wait-1-name');
    await page.keyboard.type('Two days');
    expect(await node(page, 'wait-1').locator('.cb-title').innerText()).toBe('Two days');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('.cb-panel').count()).toBe(0);
    // The focus goes back in the frame after the panel closes (views/campaign.tsx closePanel).
    await expect.poll(() => page.evaluate(() => document.activeElement?.closest('.cb-node')?.getAttribute('data-step'))).toBe('wait-1');
    expect(await page.evaluate(() => parseFloat(getComputedStyle(document.activeElement!).outlineWidth))).toBeGreaterThanOrEqual(2);

    // A wide tree on a phone: the canvas scrolls sideways, the page does not.
    const phone = await env.openSameSession(w, { width: 375, height: 812 });
    await phone.page.goto(`${env.url}/app/campaigns/${campaignId}`);
    await phone.page.getByRole('heading', { name: 'Onboarding', level: 1 }).waitFor();
    await settled(phone.page);
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    const canvas = phone.page.locator('.cb-canvas');
    expect(await canvas.evaluate((c) => c.scrollWidth > c.clientWidth)).toBe(true);
    expect(await canvas.getAttribute('tabindex')).toBe('0');
    await node(phone.page, 'email-2').getByRole('button').click();
    await panel(phone.page).getByLabel('Email', { exact: true }).waitFor();
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    expect(await axe(phone.page)).toEqual([]);
    expect([...w.errors, ...phone.errors]).toEqual([]);
    await phone.close();
  }, 90_000);

  describe('a sales user', () => {
    let sales: Watched;
    beforeAll(async () => {
      await env.signIn();
      await env.addUser('sales', 'sam.sales@example.com', 'sam has a long password');
      sales = await env.signInAs('sam.sales@example.com', 'sam has a long password', '/app/campaigns', 'Campaigns');
    }, 60_000);

    it('sees campaigns but cannot edit one: no New campaign, a read-only tree that says why; the API refuses the same writes with its session', async () => {
      const { page } = sales;
      await settled(page);
      expect(await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Campaigns' }).count()).toBe(1);
      expect(await page.getByRole('link', { name: 'New campaign' }).count()).toBe(0);
      const expected = 'Your role (sales) cannot change campaigns: that needs the marketer role or higher.';
      await page.goto(`${env.url}/app/campaigns/new`);
      await page.getByRole('heading', { name: 'New campaign', level: 1 }).waitFor();
      expect(await page.getByRole('note').innerText()).toContain(expected);
      expect(await page.getByRole('button', { name: 'Create campaign' }).count()).toBe(0);

      await expectCleanView(sales, `${env.url}/app/campaigns/${campaignId}`, 'Onboarding');
      expect(await page.getByRole('note').innerText()).toContain(expected);
      expect(await page.locator('.cb-node').count()).toBe(5);
      for (const name of ['Save changes', /Publish/, 'Pause', 'Archive', 'Add a source']) expect(await page.getByRole('button', { name }).count(), String(name)).toBe(0);
      expect(await page.locator('.cb-add, button.cb-node-main').count()).toBe(0);
      expect(await page.getByLabel('Name', { exact: true }).count()).toBe(0);
      await expect.poll(() => counts(page, 'email-1'), { timeout: 15_000 }).toMatchObject({ entered: 2 });

      const refused = await page.evaluate(async (id) => {
        const { csrf_token } = await (await fetch('/api/v1/auth/me')).json();
        const headers = { 'content-type': 'application/json', 'x-csrf-token': csrf_token };
        const patch = await fetch(`/api/v1/campaigns/${id}`, { method: 'PATCH', headers, body: JSON.stringify({ name: 'Sales edit' }) });
        const pause = await fetch(`/api/v1/campaigns/${id}/pause`, { method: 'POST', headers });
        return { patch: patch.status, pause: pause.status, body: await patch.json() };
      }, campaignId);
      expect(refused).toMatchObject({ patch: 403, pause: 403, body: { error: { code: 'FORBIDDEN', message: expected } } });
      expect((await env.call('GET', `/api/v1/campaigns/${campaignId}`)).body).toMatchObject({ name: 'Onboarding', status: 'active' });
      expect(sales.errors.filter((e) => !/status of 403/.test(e))).toEqual([]);
    }, 90_000);
  });

  it('archiving asks first; then every contact has left, the campaign is read-only and can be deleted', async () => {
    const w = await env.signIn();
    const { page } = w;
    await page.goto(`${env.url}/app/campaigns/${campaignId}`);
    await page.getByRole('heading', { name: 'Onboarding', level: 1 }).waitFor();
    await settled(page);
    await page.getByRole('button', { name: 'Archive' }).click();
    const confirm = page.getByRole('group', { name: 'Confirm' });
    expect(await confirm.innerText()).toContain('Every contact in it leaves now');
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    expect((await env.call('GET', `/api/v1/campaigns/${campaignId}`)).body.status).toBe('active');
    await confirm.getByRole('button', { name: 'Archive' }).click();
    await page.getByRole('status').filter({ hasText: 'Archived: every contact left the campaign.' }).waitFor();
    expect(await page.locator('.title-row .campaign-status').innerText()).toBe('Archived');
    expect((await env.call('GET', `/api/v1/campaigns/${campaignId}/report`)).body.passes).toMatchObject({ active: 0, exited: 2 });
    await expect.poll(() => page.locator('.cb-passes dd[data-active]').getAttribute('data-active'), { timeout: 10_000 }).toBe('0');
    for (const name of ['Save changes', /Publish/, 'Pause', 'Resume']) expect(await page.getByRole('button', { name }).count(), String(name)).toBe(0);
    expect(await page.locator('.cb-add, button.cb-node-main').count()).toBe(0);
    expect(await axe(page)).toEqual([]);
    await page.getByRole('button', { name: 'Delete campaign' }).click();
    await page.getByRole('group', { name: 'Confirm' }).getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(/\/app\/campaigns\?deleted=Onboarding$/);
    await page.getByRole('status').filter({ hasText: 'Campaign “Onboarding” deleted.' }).waitFor();
    expect((await env.call('GET', `/api/v1/campaigns/${campaignId}`)).status).toBe(404);
    expect(w.errors).toEqual([]);
  }, 90_000);
});
