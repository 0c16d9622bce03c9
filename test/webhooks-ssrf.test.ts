// Webhook subscriptions and the SSRF guard: with loopback not allowed (as in production),
// private, loopback, link-local and metadata URLs are refused when saved; a public-looking name
// that resolves to such an address is refused at delivery, after DNS, before any request; a
// redirect is a failure and is not followed. The receiver listens on 127.0.0.1 and must never
// be reached where the guard is on.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeApp, expectError, type TestApp } from './helpers';
import { settle, startReceiver, subscribe, type Receiver } from './webhooks-helpers';
import { nodeOutbound, type Resolve } from '../api/entry/outbound-node';
import { OUTBOUND_ERRORS } from '../api/core/util/outbound';

let rx: Receiver;
beforeAll(async () => (rx = await startReceiver()));
afterAll(() => rx.close());
beforeEach(() => rx.clear());

const guarded = () => makeApp({ env: { OUTBOUND_ALLOW_LOOPBACK: 'false' } });
const resolvesTo = (address: string): Resolve => async () => [{ address, family: address.includes(':') ? 6 : 4 }];

async function onePing(t: TestApp, id: number) {
  const r = await t.json('POST', `/api/v1/webhooks/${id}/ping`);
  expect(r.status).toBe(200);
  return r.body;
}

describe('webhook subscriptions behind the SSRF guard', () => {
  it('refuses private, loopback, link-local and metadata URLs when saved, in every spelling', async () => {
    const t = await guarded();
    const urls = [
      rx.url(),
      'http://localhost:8080/',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://[::1]/',
      'http://10.0.0.1/',
      'http://172.16.5.4/',
      'http://192.168.1.1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/',
      'http://[::ffff:10.0.0.1]/',
      'http://metadata.google.internal/',
      'http://intranet/',
    ];
    for (const url of urls) {
      const r = await t.json('POST', '/api/v1/webhooks', { url, event_types: ['contact.created'] });
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details, url).toEqual([{ field: 'url', message: 'must not point to a private, loopback, link-local or metadata address' }]);
    }
  });

  it('refuses a name that resolves to a private or loopback address at delivery, before any request, and logs only that', async () => {
    for (const address of ['10.1.2.3', '127.0.0.1', '169.254.169.254', 'fd00::1']) {
      const t = await guarded();
      t.ctx.outbound = nodeOutbound({ resolve: resolvesTo(address) });
      const sub = await subscribe(t, { url: `http://hooks.example.com:${rx.port}/hook`, event_types: ['contact.created'] });
      const ping = await onePing(t, sub.id);
      expect(ping, address).toMatchObject({ status: 'failed', last_status_code: null, last_error: OUTBOUND_ERRORS.refused });
      // And an event's delivery, retried later, with the reason on the subscription.
      await t.json('POST', '/api/v1/contacts', { email: 'ssrf@example.com' });
      await settle(t);
      const log = (await t.json('GET', `/api/v1/webhooks/${sub.id}/deliveries?event_type=contact.created`)).body.data;
      expect(log, address).toMatchObject([{ status: 'pending', attempts: 1, last_error: OUTBOUND_ERRORS.refused }]);
      expect((await t.json('GET', `/api/v1/webhooks/${sub.id}`)).body.last_error).toBe(OUTBOUND_ERRORS.refused);
    }
    expect(rx.got).toEqual([]);
  });

  it('does not follow a redirect: the delivery fails with the 3xx and the target is never called', async () => {
    const t = await makeApp();
    t.ctx.outbound = nodeOutbound();
    const sub = await subscribe(t, { url: rx.url('/redirect'), event_types: ['contact.created'] });
    const ping = await onePing(t, sub.id);
    expect(ping).toMatchObject({ status: 'failed', last_status_code: 302, last_error: 'HTTP 302: redirects are not followed' });
    expect(rx.got.map((r) => r.path)).toEqual(['/redirect']);
  });

  it('a URL that became private after it was saved never reaches the transport', async () => {
    const t = await guarded();
    let calls = 0;
    t.ctx.outbound = async () => {
      calls++;
      throw new Error('must not be called');
    };
    const sub = await subscribe(t, { url: 'https://crm.example.com/hooks', event_types: ['contact.created'] });
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[::ffff:127.0.0.1]/', 'http://0x7f000001/']) {
      await t.client.execute({ sql: 'UPDATE webhook_subscriptions SET url = ? WHERE id = ?', args: [url, sub.id] });
      expect(await onePing(t, sub.id), url).toMatchObject({ status: 'failed', last_error: OUTBOUND_ERRORS.refused });
    }
    expect(calls).toBe(0);
  });

  it('with loopback allowed (tests, local development) a loopback receiver is reached through the Node transport', async () => {
    const t = await makeApp();
    t.ctx.outbound = nodeOutbound();
    const sub = await subscribe(t, { url: `http://localhost:${rx.port}/local`, event_types: ['contact.created'] });
    expect(await onePing(t, sub.id)).toMatchObject({ status: 'delivered', last_status_code: 204 });
    expect(rx.got.map((r) => r.path)).toEqual(['/local']);
    // Private ranges stay refused even so.
    expectError(await t.json('POST', '/api/v1/webhooks', { url: 'http://10.0.0.1/', event_types: ['contact.created'] }), 422, 'VALIDATION_FAILED');
  });
});
