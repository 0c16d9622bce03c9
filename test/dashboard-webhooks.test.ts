// Settings → Webhooks in Chromium against the real server (OUTBOUND_ALLOW_LOOPBACK, so a receiver
// on 127.0.0.1 may be called, as the webhook tests do): a bad URL is refused next to its field;
// an endpoint made in the UI (event types from the catalogue, a segment filter picked from the
// API) shows its secret once; a test event reaches the receiver, signed with that secret, and
// the log; a real event (a contact created through the API) is delivered and listed; replay,
// disable and re-enable, rotation with an overlap (both secrets sign), delete. The log pages by
// the API's cursor. A sales or viewer user cannot change webhooks, in the UI nor with its session.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, axe, settled, startEnv, type Env } from './dashboard-signed-in';
import { startReceiver, verifies, type Receiver } from './webhooks-helpers';

let env: Env;
let rx: Receiver;
beforeAll(async () => {
  rx = await startReceiver();
  env = await startEnv({ OUTBOUND_ALLOW_LOOPBACK: 'true' });
}, 60_000);
afterAll(async () => {
  await env?.stop();
  await rx?.close();
});
beforeEach(() => rx.clear());

/** Waits (bounded) until the receiver got a message of this type, running the jobs that queue and send it. */
async function received(type: string, jobs = false) {
  const started = Date.now();
  for (;;) {
    const r = rx.got.find((g) => g.json?.type === type);
    if (r) return r;
    if (Date.now() - started > 20_000) throw new Error(`no ${type} at the receiver; got ${rx.got.map((g) => g.json?.type).join(', ')}`);
    if (jobs) for (const j of ['reactions', 'webhooks']) expect((await env.call('POST', `/api/v1/jobs/${j}`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('Settings → Webhooks in Chromium', () => {
  it('refuses a bad URL next to its field, then creates an endpoint whose secret is shown once; test event, real event, replay, disable, rotate, delete', async () => {
    const seg = await env.call('POST', '/api/v1/segments', { name: 'Trial users', kind: 'static' });
    expect(seg.status).toBe(201);
    const w = await env.signIn();
    const { page } = w;
    await page.goto(`${env.url}/app/settings/webhooks`);
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await settled(page);
    await page.getByText('No endpoints yet.').waitFor();

    // A private address: the server's 422 is shown at the URL field, and nothing is saved.
    await page.getByRole('button', { name: 'Add an endpoint' }).click();
    await page.getByLabel('Endpoint URL').fill('http://10.0.0.5/hook');
    await page.getByLabel('contact.created').check();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const urlError = page.locator('#new-webhook-url-error');
    await urlError.waitFor();
    expect(await urlError.innerText()).toMatch(/must not point to a private/);
    expect(await page.getByLabel('Endpoint URL').getAttribute('aria-invalid')).toBe('true');
    expect((await env.call('GET', '/api/v1/webhooks')).body.data).toEqual([]);
    expect(await axe(page)).toEqual([]);

    // The event types come grouped from the catalogue, each with its description; a segment filter is offered once a segment type is chosen.
    expect(await page.getByRole('group', { name: 'Segments' }).getByText('The contact joined a segment').count()).toBe(1);
    expect(await page.getByLabel('Only this segment').count()).toBe(0);
    await page.getByLabel('Endpoint URL').fill(rx.url('/ui'));
    await page.getByLabel('Description (optional)').fill('CRM sync');
    await page.getByLabel('segment.joined').check();
    await page.getByLabel('Only this segment').selectOption({ label: 'Trial users' });
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const created = page.getByRole('region', { name: 'Endpoint created' });
    await created.waitFor();
    const secret = await created.locator('pre code').innerText();
    expect(secret).toMatch(/^whsec_/);
    const [hook] = (await env.call('GET', '/api/v1/webhooks')).body.data;
    expect(hook).toMatchObject({ url: rx.url('/ui'), description: 'CRM sync', event_types: ['contact.created', 'segment.joined'], filters: { segment_id: seg.body.id }, status: 'active' });
    const card = page.locator(`li[data-webhook="${hook.id}"]`);
    expect(await card.innerText()).toContain('only this segment: “Trial users”');
    expect(await axe(page)).toEqual([]);
    await created.getByRole('button', { name: 'I have saved it' }).click();
    await created.waitFor({ state: 'detached' });
    // Once: not on the page any more, nor after a reload.
    await page.reload();
    await card.waitFor();
    expect(await page.content()).not.toContain(secret);

    // The test event reaches the receiver, signed with the secret, and is shown with the answer and in the log.
    await card.getByRole('button', { name: 'Send test event' }).click();
    await card.getByText('Test event delivered:').waitFor();
    expect(await card.locator('.ping-result').innerText()).toMatch(/Test event delivered: HTTP 204 in \d+ ms/);
    const ping = await received('webhook.ping');
    expect(ping.path).toBe('/ui');
    expect(verifies(secret, ping)).toBe(true);
    const log = card.getByRole('region', { name: `Deliveries to endpoint ${hook.id}` });
    await log.locator('tr', { hasText: 'webhook.ping' }).getByText('Delivered').waitFor();

    // A real event: a contact created through the API is delivered, then listed.
    expect((await env.call('POST', '/api/v1/contacts', { email: 'hook.person@example.com' })).status).toBe(201);
    const made = await received('contact.created', true);
    expect(made.json.data.contact.email).toBe('hook.person@example.com');
    expect(verifies(secret, made)).toBe(true);
    await card.getByRole('button', { name: 'Refresh the log' }).click();
    const row = log.locator('tr', { hasText: 'contact.created' });
    await row.getByText('Delivered').waitFor();
    expect(await row.innerText()).toMatch(/HTTP 204/);

    // Replay: the same message again (the same webhook-id), said in the page.
    rx.clear();
    await row.getByRole('button', { name: /^Replay contact\.created/ }).click();
    await card.getByText(/^Replayed contact\.created .*delivered, HTTP 204/).waitFor();
    const again = await received('contact.created');
    expect(again.headers['webhook-id']).toBe(made.headers['webhook-id']);
    expect(again.body).toBe(made.body);

    // Disable: flagged, replays wait; re-enable from the flag.
    await card.getByRole('button', { name: 'Disable' }).click();
    const flag = card.getByRole('note', { name: /is disabled/ });
    await flag.getByText('Disabled by hand').waitFor();
    expect(await card.locator('.badge', { hasText: 'Disabled' }).count()).toBe(1);
    expect(await row.getByRole('button', { name: /^Replay/ }).isDisabled()).toBe(true);
    expect((await env.call('GET', `/api/v1/webhooks/${hook.id}`)).body.status).toBe('disabled');
    expect(await axe(page)).toEqual([]);
    await flag.getByRole('button', { name: 'Re-enable' }).click();
    await flag.waitFor({ state: 'detached' });
    expect((await env.call('GET', `/api/v1/webhooks/${hook.id}`)).body.status).toBe('active');

    // Rotate with an hour's overlap: the new secret shown once; a delivery then carries both signatures.
    await card.getByRole('button', { name: 'Rotate secret' }).click();
    const panel = card.getByRole('group', { name: 'Rotate the signing secret' });
    expect(await panel.innerText()).toMatch(/two signatures/);
    await panel.getByLabel('Overlap').selectOption({ label: 'An hour' });
    await panel.getByRole('button', { name: 'Rotate secret' }).click();
    const fresh = card.getByRole('region', { name: /^New signing secret/ });
    await fresh.waitFor();
    const secret2 = await fresh.locator('pre code').innerText();
    expect(secret2).toMatch(/^whsec_/);
    expect(secret2).not.toBe(secret);
    expect(await card.innerText()).toMatch(/The previous secret signs too until/);
    rx.clear();
    await card.getByRole('button', { name: 'Send test event' }).click();
    const ping2 = await received('webhook.ping');
    expect(verifies(secret2, ping2)).toBe(true);
    expect(verifies(secret, ping2)).toBe(true);
    await fresh.getByRole('button', { name: 'I have saved it' }).click();

    // Delete, after a confirmation.
    await card.getByRole('button', { name: 'Delete' }).click();
    await card.getByRole('button', { name: 'Delete endpoint' }).click();
    await card.waitFor({ state: 'detached' });
    expect((await env.call('GET', '/api/v1/webhooks')).body.data).toEqual([]);
    await page.getByText('No endpoints yet.').waitFor();
    expect(w.errors).toEqual([]);
  }, 120_000);

  it('pages the delivery log by its cursor: ten at first, the older ones on asking', async () => {
    const hook = (await env.call('POST', '/api/v1/webhooks', { url: rx.url('/paged'), event_types: ['contact.created'] })).body;
    for (let i = 0; i < 12; i++) expect((await env.call('POST', `/api/v1/webhooks/${hook.id}/ping`)).body.status).toBe('delivered');
    const w = await env.signIn();
    await w.page.goto(`${env.url}/app/settings/webhooks`);
    const card = w.page.locator(`li[data-webhook="${hook.id}"]`);
    await card.getByRole('button', { name: 'Delivery log' }).click();
    const rows = card.locator('tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(10);
    await card.getByRole('button', { name: 'Older deliveries' }).click();
    await rows.nth(10).waitFor();
    expect(await rows.count()).toBe(12);
    const ids = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-delivery'))));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(12);
    expect(await card.getByRole('button', { name: 'Older deliveries' }).count()).toBe(0);
    expect(await axe(w.page)).toEqual([]);
    // On a phone the page fits the screen (the log scrolls in its own box).
    await w.page.setViewportSize({ width: 390, height: 844 });
    expect(await w.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    expect(await axe(w.page)).toEqual([]);
    await w.page.setViewportSize({ width: 1280, height: 900 });
    // A receiver that refuses: the test event says so, with its answer, and heads the log as failed.
    rx.answer([500]);
    await card.getByRole('button', { name: 'Send test event' }).click();
    await card.getByText('Test event not delivered:').waitFor();
    expect(await card.locator('.ping-result').innerText()).toMatch(/HTTP 500 in \d+ ms refused by the receiver/);
    // The log starts again from the newest page.
    await rows.first().getByText('Failed').waitFor();
    expect(await rows.first().innerText()).toMatch(/webhook\.ping[\s\S]*Failed[\s\S]*HTTP 500/);
    expect(await rows.count()).toBe(10);
    expect(w.errors).toEqual([]);
    await env.call('DELETE', `/api/v1/webhooks/${hook.id}`);
  }, 60_000);

  it('a sales or viewer user cannot change webhooks: not listed, the page says why, the API refuses its session (403)', async () => {
    for (const role of ['sales', 'viewer']) {
      const email = `${role}.hooks@example.com`;
      await env.addUser(role, email);
      const u = await env.signInAs(email, ADMIN.password, '/app/settings');
      await u.page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
      expect(await u.page.locator('main a[href="/app/settings/webhooks"]').count()).toBe(0);
      await u.page.goto(`${env.url}/app/settings/webhooks`);
      await u.page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
      const message = `Your role (${role}) cannot change webhooks: that needs the marketer role or higher.`;
      await u.page.getByText(message).waitFor();
      expect(await u.page.getByRole('button', { name: 'Add an endpoint' }).count()).toBe(0);
      const refused = await u.page.evaluate(async () => {
        const { csrf_token } = await (await fetch('/api/v1/auth/me')).json();
        const r = await fetch('/api/v1/webhooks', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrf_token },
          body: JSON.stringify({ url: 'https://crm.example.com/hook', event_types: ['contact.created'] }),
        });
        return { status: r.status, body: await r.json() };
      });
      expect(refused).toMatchObject({ status: 403, body: { error: { message } } });
      expect((await env.call('GET', '/api/v1/webhooks')).body.data.map((h: { url: string }) => h.url)).not.toContain('https://crm.example.com/hook');
      expect(await axe(u.page)).toEqual([]);
      expect(u.errors.filter((e) => !/status of 403/.test(e))).toEqual([]);
      await u.close();
    }
  }, 90_000);
});
