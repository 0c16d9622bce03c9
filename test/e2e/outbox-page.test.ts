// The outbox page in a real browser, as an admin opens it: the Basic auth prompt, the message's
// HTML shown in its sandboxed frame and never run, whatever the email or the contact holds.
import { describe, expect, it } from 'vitest';
import { useAppInBrowser } from './harness';

const env = useAppInBrowser();
const api = env.api;

describe('/outbox/{id} in Chromium', () => {
  it('asks for the key, shows the message, and runs nothing from it', async () => {
    const c = await api('POST', '/api/v1/contacts', { email: 'page@example.com', first_name: '<img src=x onerror="top.document.title=\'owned by data\'">' });
    const e = await api('POST', '/api/v1/emails', {
      name: 'Hostile',
      subject: 'Hello {{ contact.first_name }}',
      html:
        '<h1 id="greeting">Hello {{ contact.first_name }}</h1>' +
        '<script>document.body.setAttribute("data-ran", "script"); top.document.title = "owned by author"; alert(1)</script>' +
        '<img src="x" onerror="document.body.setAttribute(\'data-ran\', \'handler\'); top.document.title=\'owned by handler\'">' +
        '<form action="https://evil.example/"><button id="go">Go</button></form>',
    });
    expect(e.status).toBe(201);
    expect((await api('POST', `/api/v1/emails/${e.body.id}/send`, { contact_id: c.body.id })).status).toBe(202);
    await api('POST', '/api/v1/jobs/emails');
    const [m] = (await api('GET', '/api/v1/outbox')).body.data;
    const path = `/outbox/${m.id}`;

    // No credentials: the prompt (a browser shows its sign-in dialog for this answer).
    const bare = await fetch(`${env.url}${path}`);
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toMatch(/^Basic /);

    const context = await env.browser.newContext({ httpCredentials: { username: 'admin', password: env.key } });
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const res = await page.goto(`${env.url}${path}`);
    expect(res?.status()).toBe(200);
    const title = 'Outbox: Hello <img src=x onerror="top.document.title=\'owned by data\'">';
    await expect.poll(() => page.title()).toBe(title);
    const frame = page.frameLocator('iframe[sandbox]');
    await expect.poll(() => frame.locator('#greeting').textContent()).toBe('Hello <img src=x onerror="top.document.title=\'owned by data\'">');
    // The frame's document really is the message, scripts and handlers included, and none of them ran.
    const inFrame = page.frames().find((f) => f !== page.mainFrame())!;
    await page.waitForTimeout(300);
    expect(await inFrame.evaluate(() => [document.querySelectorAll('script').length, document.body.getAttribute('data-ran')])).toEqual([1, null]);
    expect(await page.title()).toBe(title);
    expect(dialogs).toEqual([]);
    await page.screenshot({ path: `${process.env.OUTBOX_SCREENSHOT ?? '/tmp/leadline-outbox-page.png'}`, fullPage: true });
    await context.close();
  });
});
