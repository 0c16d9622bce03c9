// Users, roles and passwords in the dashboard, in Chromium against the real server: an admin
// invites a marketer from Settings → Users and roles, the invitation is read from the outbox, the
// invited person accepts it in another browser and lands signed in as a marketer; the server's
// refusal to demote or remove the last admin is shown as it says it; "Forgot password?" and the
// emailed reset link set a new password; and the shell shows a sales or viewer user only what
// their role can use, while the API refuses the same write with their session (403).
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, axe, expectCleanView, settled, startEnv, type Env, type Watched } from './dashboard-signed-in';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
}, 60_000);
afterAll(() => env?.stop());

const MARKETER = { email: 'mia.marketer@example.com', name: 'Mia Marketer', password: 'mia has a long password' };

/** The session as the page's own request sees it. */
const me = (page: Page) => page.evaluate(async () => (await fetch('/api/v1/auth/me')).json());
const navLinks = (page: Page) => page.getByRole('navigation', { name: 'Sections' }).getByRole('link').allInnerTexts();
const row = (page: Page, email: string) => page.getByRole('row').filter({ hasText: email });

describe('Settings → Users and roles', () => {
  it('an admin invites a marketer; the invitation comes through the outbox; accepting it in another browser signs in as a marketer', async () => {
    const w = await env.signIn();
    await expectCleanView(w, `${env.url}/app/settings/users`, 'Users and roles');
    // The admin is listed, with a last sign-in.
    expect(await row(w.page, ADMIN.email).innerText()).not.toContain('never');
    await w.page.getByLabel('Email', { exact: true }).fill(MARKETER.email);
    await w.page.getByLabel('Role', { exact: true }).selectOption('marketer');
    const [answer] = await Promise.all([
      w.page.waitForResponse((r) => r.url() === `${env.url}/api/v1/users` && r.request().method() === 'POST'),
      w.page.getByRole('button', { name: 'Send invitation' }).click(),
    ]);
    expect(answer.status()).toBe(201);
    await w.page.getByRole('status').filter({ hasText: `Invitation sent to ${MARKETER.email}.` }).waitFor();
    expect(await row(w.page, MARKETER.email).innerText()).toContain('invited, not accepted yet');
    expect(await axe(w.page)).toEqual([]);

    const mail = await env.mail(MARKETER.email, /invited/);
    expect(mail.text).toContain(`${ADMIN.name} invited you to Leadline as marketer`);
    expect(mail.path).toMatch(/^\/app\/setup\?token=[A-Za-z0-9]+$/);

    // The invited person, in a browser of their own.
    const invited = await env.open();
    await invited.page.goto(`${env.url}${mail.path}`);
    await invited.page.getByRole('heading', { name: 'Set up your account' }).waitFor();
    // An invitation's address is the invited one: no email to type.
    expect(await invited.page.getByLabel('Email').count()).toBe(0);
    expect(await axe(invited.page)).toEqual([]);
    await invited.page.getByLabel('Your name').fill(MARKETER.name);
    await invited.page.getByLabel('Password').fill(MARKETER.password);
    await invited.page.getByRole('button', { name: 'Save and sign in' }).click();
    await invited.page.getByRole('heading', { name: 'Home', level: 1 }).waitFor({ timeout: 20_000 });
    expect((await me(invited.page)).user).toMatchObject({ email: MARKETER.email, name: MARKETER.name, role: 'marketer' });
    expect(await invited.page.locator('.top .role').innerText()).toBe('marketer');
    // A marketer has Settings, but not the admin's sections; opening Users directly says why, without asking the API.
    await invited.page.goto(`${env.url}/app/settings`);
    await settled(invited.page);
    const sections = await invited.page.locator('main a').allInnerTexts();
    expect(sections.join('|')).toContain('Sites');
    expect(sections.join('|')).not.toMatch(/Users and roles|API keys/);
    await invited.page.goto(`${env.url}/app/settings/users`);
    await invited.page.getByRole('heading', { name: 'Users and roles', level: 1 }).waitFor();
    expect(await invited.page.getByRole('note').innerText()).toContain('Your role (marketer) cannot change users: that needs the admin role.');
    expect(invited.requested).not.toContain('/api/v1/users');
    expect(invited.errors).toEqual([]);
    await invited.close();

    // The admin's list shows them signed in, with their role.
    await w.page.reload();
    await settled(w.page);
    const r = row(w.page, MARKETER.email);
    expect(await r.innerText()).not.toMatch(/invited|never/);
    expect(await r.getByRole('combobox').inputValue()).toBe('marketer');
    expect(w.errors).toEqual([]);
  }, 120_000);

  it('resends an invitation, changes a role, removes a user after confirming', async () => {
    const w = await env.signIn();
    await w.page.goto(`${env.url}/app/settings/users`);
    await settled(w.page);
    await w.page.getByLabel('Email', { exact: true }).fill('vic.viewer@example.com');
    await w.page.getByLabel('Role', { exact: true }).selectOption('viewer');
    await w.page.getByRole('button', { name: 'Send invitation' }).click();
    await w.page.getByRole('status').filter({ hasText: 'Invitation sent to vic.viewer@example.com.' }).waitFor();
    const first = await env.mail('vic.viewer@example.com', /invited/);

    await row(w.page, 'vic.viewer@example.com').getByRole('button', { name: 'Resend invitation to vic.viewer@example.com' }).click();
    await w.page.getByRole('status').filter({ hasText: 'Invitation sent to vic.viewer@example.com again.' }).waitFor();
    const second = await env.mail('vic.viewer@example.com', /invited/);
    expect(second.id).not.toBe(first.id);
    expect(second.token).not.toBe(first.token);

    await row(w.page, 'vic.viewer@example.com').getByRole('combobox').selectOption('sales');
    await row(w.page, 'vic.viewer@example.com').getByRole('button', { name: /^Change role/ }).click();
    await w.page.getByRole('status').filter({ hasText: 'is now sales.' }).waitFor();
    const users = (await env.call('GET', '/api/v1/users?limit=100')).body.data as { email: string; role: string }[];
    expect(users.find((u) => u.email === 'vic.viewer@example.com')?.role).toBe('sales');

    await row(w.page, 'vic.viewer@example.com').getByRole('button', { name: /^Remove/ }).click();
    const confirm = w.page.getByRole('group', { name: 'Confirm' });
    expect(await confirm.innerText()).toContain('vic.viewer@example.com');
    // Focus waits on "Cancel", so Enter does not remove anyone by accident.
    await expect.poll(() => w.page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Cancel');
    await confirm.getByRole('button', { name: 'Remove user' }).click();
    await w.page.getByRole('status').filter({ hasText: 'removed.' }).waitFor();
    expect(await row(w.page, 'vic.viewer@example.com').count()).toBe(0);
    const after = (await env.call('GET', '/api/v1/users?limit=100')).body.data as { email: string }[];
    expect(after.map((u) => u.email)).not.toContain('vic.viewer@example.com');
    expect(w.errors).toEqual([]);
  }, 120_000);

  it('shows the server’s refusal to demote or remove the last admin', async () => {
    const w = await env.signIn();
    await w.page.goto(`${env.url}/app/settings/users`);
    await settled(w.page);
    const mine = row(w.page, ADMIN.email);
    await mine.getByRole('combobox').selectOption('marketer');
    const [answer] = await Promise.all([
      w.page.waitForResponse((r) => /\/api\/v1\/users\/\d+$/.test(r.url()) && r.request().method() === 'PATCH'),
      mine.getByRole('button', { name: /^Change role/ }).click(),
    ]);
    expect(answer.status()).toBe(409);
    const message = (await answer.json()).error.message as string;
    expect(message).toMatch(/admin/i);
    const alert = w.page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toContain(message);
    // The picker shows the role the admin still has.
    expect(await row(w.page, ADMIN.email).getByRole('combobox').inputValue()).toBe('admin');
    expect(await axe(w.page)).toEqual([]);

    await row(w.page, ADMIN.email).getByRole('button', { name: /^Remove/ }).click();
    const [removal] = await Promise.all([
      w.page.waitForResponse((r) => /\/api\/v1\/users\/\d+$/.test(r.url()) && r.request().method() === 'DELETE'),
      w.page.getByRole('button', { name: 'Remove user' }).click(),
    ]);
    expect(removal.status()).toBe(409);
    const removalMessage = (await removal.json()).error.message as string;
    await w.page.getByRole('alert').filter({ hasText: removalMessage }).waitFor();
    expect((await me(w.page)).user.role).toBe('admin');
    expect(w.errors).toEqual([]);
  }, 90_000);
});

describe('Forgot password and the reset link', () => {
  it('asks for a link (the same answer for any address), and the emailed link sets a new password to sign in with', async () => {
    const ask = async (email: string) => {
      const w = await env.open();
      await w.page.goto(`${env.url}/app/login`);
      await w.page.getByRole('link', { name: 'Forgot password?' }).click();
      await w.page.getByRole('heading', { name: 'Reset your password' }).waitFor();
      await w.page.getByLabel('Email').fill(email);
      const [answer] = await Promise.all([
        w.page.waitForResponse((r) => r.url() === `${env.url}/api/v1/auth/password-reset`),
        w.page.getByRole('button', { name: 'Send the link' }).click(),
      ]);
      expect(answer.status()).toBe(202);
      const said = await w.page.getByRole('status').filter({ hasText: 'is on its way' }).innerText();
      expect(await axe(w.page)).toEqual([]);
      expect(w.errors).toEqual([]);
      await w.close();
      return said.replace(email, '<email>');
    };
    expect(await ask('nobody@example.com')).toBe(await ask(MARKETER.email));

    const mail = await env.mail(MARKETER.email, /reset/i);
    expect(mail.path).toMatch(/^\/app\/reset-password\?token=[A-Za-z0-9]+$/);
    const w = await env.open({ width: 390, height: 844 });
    await w.page.goto(`${env.url}${mail.path}`);
    await w.page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await expect.poll(() => w.page.title()).toBe('Choose a new password · Leadline');
    expect(await axe(w.page)).toEqual([]);
    const fresh = 'mia chose a brand new password';
    await w.page.getByLabel('New password').fill(fresh);
    const [answer] = await Promise.all([
      w.page.waitForResponse((r) => r.url() === `${env.url}/api/v1/auth/password-reset/confirm`),
      w.page.getByRole('button', { name: 'Set the new password' }).click(),
    ]);
    expect(answer.status()).toBe(204);
    await w.page.getByRole('heading', { name: 'Password changed' }).waitFor();
    expect(await w.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

    // The link worked once: opened again, it says so with the server's message.
    await w.page.goto(`${env.url}${mail.path}`);
    await w.page.getByLabel('New password').fill('yet another long password');
    const [again] = await Promise.all([
      w.page.waitForResponse((r) => r.url() === `${env.url}/api/v1/auth/password-reset/confirm`),
      w.page.getByRole('button', { name: 'Set the new password' }).click(),
    ]);
    expect(again.status()).toBe(400);
    await w.page.getByRole('alert').filter({ hasText: (await again.json()).error.message }).waitFor();
    expect(w.errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
    await w.close();

    // The old password is gone; the new one signs in on the sign-in page.
    const old = await fetch(`${env.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: env.url },
      body: JSON.stringify({ email: MARKETER.email, password: MARKETER.password }),
    });
    expect(old.status).toBe(401);
    const signed = await env.signInAs(MARKETER.email, fresh, undefined, 'Home');
    expect((await me(signed.page)).user.role).toBe('marketer');
    expect(signed.errors).toEqual([]);
    await signed.close();
  }, 120_000);
});

describe('the shell by role', () => {
  let sales: Watched;
  beforeAll(async () => {
    await env.signIn();
    await env.addUser('sales', 'sam.sales@example.com', 'sam has a long password');
    sales = await env.signInAs('sam.sales@example.com', 'sam has a long password', undefined, 'Home');
  }, 60_000);

  it('a sales user sees no Settings and no way to make a segment; the editor says what the role lacks; the API refuses the same write (403)', async () => {
    const { page } = sales;
    expect(await navLinks(page)).toEqual(['Home', 'Contacts', 'Segments', 'Forms', 'Focus items', 'Pages', 'Slots', 'Emails', 'Campaigns', 'Reports']);
    expect(await page.locator('.top .role').innerText()).toBe('sales');
    expect(await env.call('POST', '/api/v1/segments', { name: 'Made by the admin key', kind: 'static' }).then((r) => r.status)).toBe(201);
    await expectCleanView(sales, `${env.url}/app/segments`, 'Segments');
    expect(await page.getByRole('link', { name: 'New segment' }).count()).toBe(0);
    // Segments are listed, but not as links into the editor.
    expect(await page.getByRole('row').filter({ hasText: 'Made by the admin key' }).getByRole('link').count()).toBe(0);

    const expected = 'Your role (sales) cannot change segments: that needs the marketer role or higher.';
    for (const path of ['/app/segments/new', '/app/segments/1']) {
      await page.goto(`${env.url}${path}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      expect(await page.getByRole('note').innerText(), path).toContain(expected);
      expect(await page.getByRole('button', { name: /Create segment|Save changes/ }).count()).toBe(0);
    }
    expect(await axe(page)).toEqual([]);

    // The same write with this browser's session (cookie, CSRF token, Origin): the server says the same.
    const refused = await page.evaluate(async () => {
      const { csrf_token } = await (await fetch('/api/v1/auth/me')).json();
      const r = await fetch('/api/v1/segments', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf_token },
        body: JSON.stringify({ name: 'Sales list', kind: 'static' }),
      });
      return { status: r.status, body: await r.json() };
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('FORBIDDEN');
    expect(refused.body.error.message).toBe(expected);
    // Settings, opened by its address, says why there is nothing.
    await page.goto(`${env.url}/app/settings`);
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    expect(await page.getByRole('note').innerText()).toContain('Your role (sales) cannot change settings');
    expect(await page.locator('main a').count()).toBe(0);
    // Contacts: sales may change them, so importing is there; adding to a segment is not.
    await page.goto(`${env.url}/app/contacts`);
    await settled(page);
    expect(await page.getByRole('link', { name: 'Import CSV' }).count()).toBe(1);
    // One contact: sales edits the profile, tags, feedback and deals, but not stage and points.
    const someone = await env.call('POST', '/api/v1/contacts', { email: 'lead@example.com', tags: ['hot'] });
    await page.goto(`${env.url}/app/contacts/${someone.body.id}`);
    await page.getByRole('heading', { name: 'Timeline' }).waitFor({ timeout: 20_000 });
    await settled(page);
    for (const name of ['Save profile', 'Add tag', 'Accept lead', 'Create deal']) expect(await page.getByRole('button', { name }).count(), name).toBe(1);
    for (const name of ['Change stage', 'Save points']) expect(await page.getByRole('button', { name }).count(), name).toBe(0);
    expect(await page.getByText('Your role (sales) cannot change points and stages: that needs the marketer role or higher.').count()).toBe(2);
    expect(await axe(page)).toEqual([]);
    expect(sales.errors.filter((e) => !/status of 403/.test(e))).toEqual([]);
  }, 120_000);

  it('a viewer sees no Settings, no import and no bulk changes to contacts', async () => {
    await env.addUser('viewer', 'val.viewer@example.com', 'val has a long password');
    await env.call('POST', '/api/v1/contacts', { email: 'someone@example.com', tags: ['vip'] });
    const w = await env.signInAs('val.viewer@example.com', 'val has a long password', '/app/contacts', 'Contacts');
    expect(await navLinks(w.page)).toEqual(['Home', 'Contacts', 'Segments', 'Forms', 'Focus items', 'Pages', 'Slots', 'Emails', 'Campaigns', 'Reports']);
    await settled(w.page);
    expect(await w.page.getByRole('link', { name: 'Import CSV' }).count()).toBe(0);
    await w.page.getByRole('checkbox', { name: 'Select every contact on this page' }).check();
    await w.page.locator('.bulk-count').waitFor();
    expect(await w.page.getByRole('button', { name: 'Add tag' }).count()).toBe(0);
    expect(await w.page.getByRole('button', { name: 'Add to segment' }).count()).toBe(0);
    expect(await w.page.getByRole('button', { name: /^Erase/ }).count()).toBe(0);
    expect(await w.page.getByRole('button', { name: /Download selection/ }).count()).toBe(1);
    // One contact: everything to read, nothing to change.
    const someone = (await env.call('GET', '/api/v1/contacts?q=someone@example.com')).body.data[0];
    await w.page.goto(`${env.url}/app/contacts/${someone.id}`);
    await w.page.getByRole('heading', { name: 'Timeline' }).waitFor({ timeout: 20_000 });
    await settled(w.page);
    for (const name of ['Save profile', 'Add tag', 'Remove tag', 'Change stage', 'Save points', 'Accept lead', 'Create deal']) {
      expect(await w.page.getByRole('button', { name }).count(), name).toBe(0);
    }
    expect(await w.page.getByLabel('Email', { exact: true }).isDisabled()).toBe(true);
    expect(await w.page.getByText('Your role (viewer) cannot change contacts: that needs the sales role or higher.').count()).toBe(2);
    expect(await axe(w.page)).toEqual([]);
    await w.page.goto(`${env.url}/app/contacts/import`);
    await w.page.getByRole('heading', { name: 'Import contacts', level: 1 }).waitFor();
    expect(await w.page.getByRole('note').innerText()).toContain('Your role (viewer) cannot change contacts: that needs the sales role or higher.');
    expect(await axe(w.page)).toEqual([]);
    expect(w.errors).toEqual([]);
    await w.close();
  }, 90_000);
});
