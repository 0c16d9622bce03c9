// Webhook subscriptions through the API: the catalogue, CRUD, the secret shown once, hostile
// input, what each event type carries (the objects as the API answers them), filters, and
// erasure scrubbing the delivery log. Deliveries go to a receiver on 127.0.0.1 (makeApp allows
// loopback, as OUTBOUND_ALLOW_LOOPBACK=true does) and are verified by the specification.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeApp, expectError, type TestApp } from './helpers';
import { count, makeSite, sign, track, vid } from './tracking-helpers';
import { deliveries, settle, startReceiver, subscribe, verifies, type Receiver } from './webhooks-helpers';
import { createSubscription, deleteSubscription, listSubscriptions } from '../api/core/webhooks/subscriptions';

let rx: Receiver;
beforeAll(async () => (rx = await startReceiver()));
afterAll(() => rx.close());
beforeEach(() => rx.clear());

const ORIGIN = 'https://shop.example.com';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
let sid = 0;
async function submitForm(t: TestApp, formId: number, site: { public_key: string }, values: Record<string, unknown>) {
  const res = await t.app.request(`/f/${formId}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', origin: ORIGIN, 'user-agent': CHROME },
    body: JSON.stringify({ sid: `sid_wh_${++sid}`, t: 5000, hp: '', url: `${ORIGIN}/landing`, k: site.public_key, v: vid(100 + sid), values }),
  });
  if (res.status >= 300) throw new Error(`submit: ${res.status} ${await res.text()}`);
}
const formBody = (name: string) => ({
  name,
  fields: [
    { key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true },
    { key: 'first_name', label: 'First name', type: 'text', maps_to: 'first_name' },
  ],
});

describe('the catalogue and the subscription API', () => {
  it('publishes the event types with what they carry and the filters that narrow them', async () => {
    const t = await makeApp();
    const r = await t.json('GET', '/api/v1/webhooks/event-types', undefined, { key: t.keys.read });
    expect(r.status).toBe(200);
    const types = r.body.data.map((e: any) => e.type);
    for (const want of ['contact.created', 'contact.updated', 'contact.deleted', 'contact.merged', 'contact.identified', 'form.submitted', 'segment.joined', 'segment.left', 'points.changed', 'stage.changed', 'deal.won', 'asset.downloaded', 'focus.converted', 'email.sent', 'email.opened', 'email.clicked', 'email.bounced', 'email.unsubscribed']) {
      expect(types).toContain(want);
    }
    expect(r.body.data.find((e: any) => e.type === 'form.submitted')).toMatchObject({ filters: ['form_id'], source: 'form_submit' });
  });

  it('creates, reads, lists, updates and deletes; the secret is in the create answer only', async () => {
    const t = await makeApp();
    const created = await t.json('POST', '/api/v1/webhooks', { url: rx.url(), event_types: ['contact.created'], description: 'CRM' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ url: rx.url(), event_types: ['contact.created'], filters: {}, status: 'active', disabled_reason: null, last_error: null, description: 'CRM' });
    const secret: string = created.body.secret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9]{32}$/);
    const id = created.body.id;
    for (const path of [`/api/v1/webhooks/${id}`, '/api/v1/webhooks', `/api/v1/webhooks/${id}/deliveries`, '/api/v1/webhook-deliveries']) {
      const res = await t.call('GET', path, undefined, { key: t.keys.read });
      expect(res.status, path).toBe(200);
      const text = await res.text();
      expect(text, path).not.toContain(secret);
      expect(text, path).not.toContain('whsec_');
    }
    const patched = await t.json('PATCH', `/api/v1/webhooks/${id}`, { event_types: ['contact.created', 'contact.deleted'], description: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ event_types: ['contact.created', 'contact.deleted'], description: null });
    expect(patched.body.secret).toBeUndefined();
    const list = await t.json('GET', '/api/v1/webhooks?status=active');
    expect(list.body.data.map((w: any) => w.id)).toEqual([id]);
    expect((await t.json('DELETE', `/api/v1/webhooks/${id}`)).body).toEqual({ id, deleted: true });
    expectError(await t.json('GET', `/api/v1/webhooks/${id}`), 404, 'NOT_FOUND');
    expectError(await t.json('DELETE', `/api/v1/webhooks/${id}`), 404, 'NOT_FOUND');
  });

  it('refuses bad URLs, unknown or repeated event types, unknown fields and filters that narrow nothing, writing nothing', async () => {
    const t = await makeApp();
    const form = (await t.json('POST', '/api/v1/forms', formBody('F'))).body;
    const bad: [unknown, string][] = [
      [{ url: 'ftp://example.com/x', event_types: ['contact.created'] }, 'url'],
      [{ url: 'javascript:alert(1)', event_types: ['contact.created'] }, 'url'],
      [{ url: 'not a url', event_types: ['contact.created'] }, 'url'],
      [{ url: 'https://user:pw@crm.example.com/', event_types: ['contact.created'] }, 'url'],
      [{ url: `https://crm.example.com/${'a'.repeat(3000)}`, event_types: ['contact.created'] }, 'url'],
      [{ url: 'http://169.254.169.254/latest/meta-data/', event_types: ['contact.created'] }, 'url'],
      [{ url: 'http://10.0.0.1/hook', event_types: ['contact.created'] }, 'url'],
      [{ url: rx.url(), event_types: ['contact.exploded'] }, 'event_types.0'],
      [{ url: rx.url(), event_types: ['__proto__'] }, 'event_types.0'],
      [{ url: rx.url(), event_types: [] }, 'event_types'],
      [{ url: rx.url(), event_types: ['contact.created', 'contact.created'] }, 'event_types'],
      [{ url: rx.url(), event_types: 'contact.created' }, 'event_types'],
      [{ url: rx.url(), event_types: ['contact.created'], filters: { form_id: form.id } }, 'filters.form_id'],
      [{ url: rx.url(), event_types: ['form.submitted'], filters: { form_id: 999_999 } }, 'filters.form_id'],
      [{ url: rx.url(), event_types: ['form.submitted'], filters: { colour: 'red' } }, 'filters.colour'],
      [{ url: rx.url(), event_types: ['form.submitted'], filters: { form_id: -1 } }, 'filters.form_id'],
      [{ url: rx.url(), event_types: ['contact.created'], secret: 'whsec_mine' }, ''],
      [{ event_types: ['contact.created'] }, 'url'],
    ];
    for (const [body, field] of bad) {
      const r = await t.json('POST', '/api/v1/webhooks', body);
      expectError(r, 422, 'VALIDATION_FAILED');
      if (field) expect(r.body.error.details.map((d: any) => d.field), JSON.stringify(body).slice(0, 100)).toContain(field);
    }
    expectError(await t.json('POST', '/api/v1/webhooks', '{"url":', { headers: { 'content-type': 'application/json' } }), 400, 'BAD_REQUEST');
    expectError(await t.json('POST', '/api/v1/webhooks', { url: rx.url(), event_types: ['contact.created'] }, { key: t.keys.read }), 403, 'FORBIDDEN');
    expect(await count(t, 'SELECT count(*) AS n FROM webhook_subscriptions')).toBe(0);
    const ok = await subscribe(t, { url: rx.url(), event_types: ['form.submitted'], filters: { form_id: form.id } });
    // PATCH checks the whole: dropping the type a filter narrows needs the filter gone too.
    const orphan = await t.json('PATCH', `/api/v1/webhooks/${ok.id}`, { event_types: ['contact.created'] });
    expectError(orphan, 422, 'VALIDATION_FAILED');
    expect(orphan.body.error.details[0].field).toBe('filters.form_id');
    expectError(await t.json('PATCH', `/api/v1/webhooks/${ok.id}`, { url: 'http://[fd00:ec2::254]/' }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('PATCH', `/api/v1/webhooks/${ok.id}`, { status: 'paused' }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', `/api/v1/webhooks/${ok.id}/rotate-secret?overlap_seconds=-5`), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', `/api/v1/webhooks/${ok.id}/rotate-secret?overlap_seconds=99999999`), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/webhooks/999999/ping'), 404, 'NOT_FOUND');
    expectError(await t.json('POST', '/api/v1/webhook-deliveries/999999/replay'), 404, 'NOT_FOUND');
    expect((await t.json('GET', `/api/v1/webhooks/${ok.id}`)).body).toMatchObject({ event_types: ['form.submitted'], url: rx.url() });
  });

  it('offers a small core API (create, list, delete) for other adapters', async () => {
    const t = await makeApp();
    const made = await createSubscription({ ctx: t.ctx, input: { url: rx.url('/mautic'), event_types: ['contact.updated'] } });
    expect(made.secret).toMatch(/^whsec_/);
    expect((await listSubscriptions({ ctx: t.ctx, input: { limit: 10 } })).data.map((s) => s.url)).toEqual([rx.url('/mautic')]);
    await deleteSubscription({ ctx: t.ctx, input: { id: made.id } });
    expect((await listSubscriptions({ ctx: t.ctx, input: { limit: 10 } })).data).toEqual([]);
  });
});

describe('what deliveries carry', () => {
  it('contact.created, contact.updated and points.changed carry the contact exactly as GET /contacts/{id} answers it', async () => {
    const t = await makeApp();
    const sub = await subscribe(t, { url: rx.url(), event_types: ['contact.created', 'contact.updated', 'points.changed'] });
    const c = (await t.json('POST', '/api/v1/contacts', { email: 'ada@example.com', first_name: 'Ada', tags: ['vip'] })).body;
    await settle(t);
    const detail = (await t.json('GET', `/api/v1/contacts/${c.id}`)).body;
    expect(rx.got.map((r) => r.json.type)).toEqual(['contact.created']);
    expect(rx.got[0]!.json).toEqual({ type: 'contact.created', timestamp: detail.created_at, data: { contact: detail } });
    expect(verifies(sub.secret, rx.got[0]!)).toBe(true);

    rx.clear();
    const co = (await t.json('POST', '/api/v1/companies', { name: 'Acme' })).body;
    await t.json('PUT', `/api/v1/companies/${co.id}/contacts/${c.id}`, { is_primary: true });
    await t.json('POST', `/api/v1/contacts/${c.id}/points`, { op: 'add', value: 7, reason: 'Webinar' });
    await settle(t);
    const after = (await t.json('GET', `/api/v1/contacts/${c.id}`)).body;
    expect(after.companies).toEqual([{ id: co.id, name: 'Acme', domain: null, is_primary: true }]);
    // Changes close together may be told once or twice (as the reactions happened to run); the last tells the contact as it is.
    const byType = Object.fromEntries(rx.got.map((r) => [r.json.type, r.json]));
    expect(Object.keys(byType).sort()).toEqual(['contact.updated', 'points.changed']);
    expect(byType['points.changed'].data).toMatchObject({ contact: after, points: { from: 0, to: 7, delta: 7, reason: 'Webinar' } });
    expect(byType['contact.updated'].data).toEqual({ contact: after });
    expect(rx.got.every((r) => verifies(sub.secret, r))).toBe(true);
  });

  it('form.submitted with the form and the submission, contact.identified, segment.joined; filters narrow what is sent', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const wanted = (await t.json('POST', '/api/v1/forms', formBody('Wanted'))).body;
    const other = (await t.json('POST', '/api/v1/forms', formBody('Other'))).body;
    const seg = (await t.json('POST', '/api/v1/segments', { name: 'Named Ada', filter: { field: 'first_name', op: 'equals', value: 'Ada' } })).body;
    const forms = await subscribe(t, { url: rx.url('/forms'), event_types: ['form.submitted'], filters: { form_id: wanted.id } });
    await subscribe(t, { url: rx.url('/all'), event_types: ['form.submitted', 'contact.identified', 'segment.joined'] });
    await submitForm(t, wanted.id, site, { email: 'ada@example.com', first_name: 'Ada' });
    await submitForm(t, other.id, site, { email: 'bob@example.com', first_name: 'Bob' });
    await settle(t);
    await settle(t);
    const at = (path: string) => rx.got.filter((r) => r.path === path).map((r) => r.json);
    expect(at('/forms').map((j) => j.data.form.id)).toEqual([wanted.id]);
    const ada = (await t.json('GET', '/api/v1/contacts?q=ada')).body.data[0];
    const submitted = at('/forms')[0];
    expect(submitted.data.form).toEqual((await t.json('GET', `/api/v1/forms/${wanted.id}`)).body);
    expect(submitted.data.submission).toEqual((await t.json('GET', `/api/v1/forms/${wanted.id}/results`)).body.data[0]);
    expect(submitted.data.contact.id).toBe(ada.id);
    expect(verifies(forms.secret, rx.got.find((r) => r.path === '/forms')!)).toBe(true);
    const all = at('/all');
    expect(all.filter((j) => j.type === 'form.submitted').map((j) => j.data.form.name).sort()).toEqual(['Other', 'Wanted']);
    expect(all.filter((j) => j.type === 'contact.identified').map((j) => j.data.contact.email).sort()).toEqual(['ada@example.com', 'bob@example.com']);
    const joined = all.filter((j) => j.type === 'segment.joined');
    expect(joined.map((j) => [j.data.contact.email, j.data.segment.id])).toEqual([['ada@example.com', seg.id]]);
    expect(joined[0].data.segment).toMatchObject({ id: seg.id, name: 'Named Ada' });
  });

  it("a new contact's creation is told before anything else about it (a form submission, its identification)", async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const form = (await t.json('POST', '/api/v1/forms', formBody('Signup'))).body;
    await subscribe(t, { url: rx.url('/seq'), event_types: ['contact.created', 'contact.identified', 'form.submitted'] });
    await submitForm(t, form.id, site, { email: 'first@example.com', first_name: 'First' });
    await settle(t);
    await settle(t);
    expect(rx.got.map((r) => r.json.type)).toEqual(['contact.created', 'contact.identified', 'form.submitted']);
    expect(new Set(rx.got.map((r) => r.json.data.contact.email))).toEqual(new Set(['first@example.com']));
  });

  it('events from before a subscription existed are not delivered to it', async () => {
    const t = await makeApp();
    const c = (await t.json('POST', '/api/v1/contacts', { email: 'early@example.com' })).body;
    await t.json('POST', `/api/v1/contacts/${c.id}/points`, { op: 'add', value: 3, reason: 'before' });
    await subscribe(t, { url: rx.url(), event_types: ['points.changed', 'contact.created'] });
    await settle(t);
    expect(rx.got).toEqual([]);
    await t.json('POST', `/api/v1/contacts/${c.id}/points`, { op: 'add', value: 4, reason: 'after' });
    await settle(t);
    expect(rx.got.map((r) => r.json.data.points.reason)).toEqual(['after']);
  });
});

describe('erasure', () => {
  it("removes the contact's personal data from the delivery log (requests and answers) and tells contact.deleted with the id only", async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    await subscribe(t, { url: rx.url(), event_types: ['contact.created', 'contact.updated', 'contact.identified', 'contact.deleted'] });
    const email = 'Erase.Me+wh@Example.com';
    // An anonymous visit first, then the browser is identified.
    await track(t, { k: site.public_key, v: vid(7), e: [{ t: 'pv', u: `${ORIGIN}/pricing` }] });
    await track(t, { k: site.public_key, v: vid(7), e: [{ t: 'pv', u: `${ORIGIN}/signup` }], id: { email, sig: sign(site.secret, email) } });
    await settle(t);
    const id = (await t.json('GET', '/api/v1/contacts')).body.data[0].id;
    // One delivered (the receiver's answer echoes the email), one failing and waiting for a retry.
    rx.answer([500]);
    await t.json('PATCH', `/api/v1/contacts/${id}`, { first_name: 'Zebulonia' });
    await settle(t);
    const mentions = async () => count(t, "SELECT count(*) AS n FROM webhook_deliveries WHERE instr(lower(body || coalesce(response_excerpt, '') || coalesce(last_error, '')), 'erase.me') > 0 OR contact_id = ?", [id]);
    expect(await mentions()).toBeGreaterThanOrEqual(2);
    expect(await count(t, "SELECT count(*) AS n FROM webhook_deliveries WHERE response_excerpt LIKE '%erase.me%' OR last_error LIKE '%erase.me%'")).toBeGreaterThan(0);
    expect((await t.json('DELETE', `/api/v1/contacts/${id}`)).status).toBe(200);
    expect(await mentions()).toBe(0);
    expect(await count(t, "SELECT count(*) AS n FROM webhook_deliveries WHERE instr(lower(coalesce(request_headers, '')), 'zebulonia') > 0")).toBe(0);
    const left = await deliveries(t);
    expect(left.map((d) => d.event_type)).toEqual(['contact.deleted']);
    expect(JSON.parse(left[0]!.body)).toMatchObject({ type: 'contact.deleted', data: { contact: { id } } });
    rx.clear();
    await settle(t);
    expect(rx.got.map((r) => r.json)).toEqual([expect.objectContaining({ type: 'contact.deleted', data: { contact: { id } } })]);
  });
});
