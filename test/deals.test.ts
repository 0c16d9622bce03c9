// Deals (issue 12, item 1): the API with its validation, what winning and losing does to the
// contact (events, forward-only stage moves per the pipeline settings), CRM integrations and the
// signed inbound webhook, sales feedback expressed as deals, and the revenue report over a fixed
// timeline with hand-computed figures (a DST change in Europe/Berlin, CSV).
import { describe, expect, it } from 'vitest';
import { createHmac, randomUUID } from 'node:crypto';
import { expectError, makeApp, type TestApp } from './helpers';

const count = async (t: TestApp, sql: string, args: (string | number)[] = []) => Number((await t.client.execute({ sql, args })).rows[0]!.n);
const contact = async (t: TestApp, email: string) => (await t.json('POST', '/api/v1/contacts', { email })).body.id as number;
const stageId = async (t: TestApp, name: string) => ((await t.json('GET', '/api/v1/stages')).body.data as { id: number; name: string }[]).find((s) => s.name === name)!.id;
const stageOf = async (t: TestApp, id: number) => {
  const v = (await t.client.execute({ sql: 'SELECT stage_id FROM contacts WHERE id = ?', args: [id] })).rows[0]!.stage_id;
  return v === null ? null : Number(v);
};
const events = async (t: TestApp, id: number, type: string) =>
  (await t.client.execute({ sql: 'SELECT props, created_at FROM events WHERE contact_id = ? AND type = ? ORDER BY id', args: [id, type] })).rows.map((r) => ({
    props: JSON.parse(String(r.props)),
    at: Number(r.created_at),
  }));

describe('deals API', () => {
  it('creates, reads, lists, updates and deletes deals, amounts in major units', async () => {
    const t = await makeApp();
    const a = await contact(t, 'ada@example.com');
    const b = await contact(t, 'bob@example.com');
    const company = (await t.json('POST', '/api/v1/companies', { name: 'Acme' })).body.id;
    const created = await t.json('POST', '/api/v1/deals', {
      contact_id: a,
      company_id: company,
      name: 'Acme – 50 seats',
      amount: 12000.5,
      currency: 'EUR',
      expected_close_date: '2026-06-30',
      owner: 'sam@example.com',
      source: { lead_source: 'webinar', seats: 50, partner: false },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      contact_id: a,
      company_id: company,
      amount: 12000.5,
      currency: 'EUR',
      stage: 'open',
      closed_at: null,
      expected_close_date: '2026-06-30',
      owner: 'sam@example.com',
      source: { lead_source: 'webinar', seats: 50, partner: false },
      integration_id: null,
      external_id: null,
    });
    const id = created.body.id;
    // Stored in minor units.
    expect(await count(t, 'SELECT amount_cents AS n FROM deals WHERE id = ?', [id])).toBe(1200050);
    expect((await t.json('GET', `/api/v1/deals/${id}`)).body).toEqual(created.body);

    await t.json('POST', '/api/v1/deals', { contact_id: b, name: 'Bob small', amount: 99.99, currency: 'USD', owner: 'kim@example.com' });
    await t.json('POST', '/api/v1/deals', { contact_id: b, name: 'Bob won', amount: 10, currency: 'USD', stage: 'won', closed_at: '2026-01-15' });
    const all = await t.json('GET', '/api/v1/deals?limit=2');
    expect(all.body.data.map((d: any) => d.name)).toEqual(['Acme – 50 seats', 'Bob small']);
    expect(all.body.has_more).toBe(true);
    const next = await t.json('GET', `/api/v1/deals?limit=2&cursor=${all.body.next_cursor}`);
    expect(next.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(next.body.data.map((d: any) => d.name)).toEqual(['Bob won']);
    // A date closes at noon UTC that day.
    expect(next.body.data[0].closed_at).toBe('2026-01-15T12:00:00.000Z');
    expect((await t.json('GET', `/api/v1/deals?contact_id=${b}`)).body.data).toHaveLength(2);
    expect((await t.json('GET', '/api/v1/deals?stage=won')).body.data.map((d: any) => d.name)).toEqual(['Bob won']);
    expect((await t.json('GET', '/api/v1/deals?owner=kim@example.com')).body.data.map((d: any) => d.name)).toEqual(['Bob small']);
    expect((await t.json('GET', '/api/v1/deals?updated_since=2099-01-01')).body.data).toEqual([]);
    expect((await t.json('GET', '/api/v1/deals?updated_since=2000-01-01T00:00:00Z')).body.data).toHaveLength(3);
    expectError(await t.json('GET', '/api/v1/deals?stage=maybe'), 422, 'VALIDATION_FAILED');
    expectError(await t.json('GET', '/api/v1/deals?updated_since=yesterday'), 422, 'VALIDATION_FAILED');
    expectError(await t.json('GET', '/api/v1/deals?cursor=bogus'), 400, 'BAD_REQUEST');

    // PATCH changes what it names; null clears.
    const patched = await t.json('PATCH', `/api/v1/deals/${id}`, { amount: 11000, owner: null, source: null, company_id: null });
    expect(patched.body).toMatchObject({ amount: 11000, owner: null, source: null, company_id: null, name: 'Acme – 50 seats', expected_close_date: '2026-06-30' });
    expectError(await t.json('PATCH', '/api/v1/deals/999999', { amount: 1 }), 404, 'NOT_FOUND');
    // A deleted company leaves its deals without one; they stay editable.
    const gone = (await t.json('POST', '/api/v1/companies', { name: 'Gone Ltd' })).body.id;
    await t.json('PATCH', `/api/v1/deals/${id}`, { company_id: gone });
    expect((await t.json('DELETE', `/api/v1/companies/${gone}`)).status).toBe(200);
    expect((await t.json('GET', `/api/v1/deals/${id}`)).body.company_id).toBeNull();
    expect((await t.json('PATCH', `/api/v1/deals/${id}`, { amount: 11001 })).body.amount).toBe(11001);
    expect((await t.json('DELETE', `/api/v1/deals/${id}`)).body).toEqual({ id, deleted: true });
    expectError(await t.json('GET', `/api/v1/deals/${id}`), 404, 'NOT_FOUND');
    expectError(await t.json('DELETE', `/api/v1/deals/${id}`), 404, 'NOT_FOUND');
  });

  it('refuses bad amounts, currencies, dates, references and source fields with 422, writing nothing', async () => {
    const t = await makeApp();
    const a = await contact(t, 'ada@example.com');
    const base = { contact_id: a, name: 'Deal', amount: 10, currency: 'EUR' };
    const bad: [Record<string, unknown>, string][] = [
      [{ currency: 'eur' }, 'currency'],
      [{ currency: 'EURO' }, 'currency'],
      [{ amount: 10.005 }, 'amount'],
      [{ amount: 0.001 }, 'amount'],
      [{ amount: -1 }, 'amount'],
      [{ amount: 1e12 + 1 }, 'amount'],
      [{ amount: '10' }, 'amount'],
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(201) }, 'name'],
      [{ stage: 'pending' }, 'stage'],
      [{ expected_close_date: '2026-02-30' }, 'expected_close_date'],
      [{ closed_at: 'tomorrow' }, 'closed_at'],
      [{ closed_at: '2026-03-01T10:00:00' }, 'closed_at'], // no offset
      [{ closed_at: '2026-03-01T10:00:00Z' }, 'closed_at'], // an open deal has none
      [{ contact_id: 999999 }, 'contact_id'],
      [{ company_id: 999999 }, 'company_id'],
      [{ owner: 'sam\u0000@example.com' }, 'owner'],
      [{ source: { 'lead\u0007source': 'x' } }, 'source.lead\ufffdsource'],
      [{ source: { nested: { a: 1 } } }, 'source.nested'],
      [{ source: { ['k'.repeat(65)]: 'x' } }, `source.${'k'.repeat(65)}`],
      [{ source: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, i])) }, 'source'],
      [{ external_id: 'x' }, 'external_id'],
    ];
    for (const [patch, field] of bad) {
      const r = await t.json('POST', '/api/v1/deals', { ...base, ...patch });
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details.map((d: any) => d.field), JSON.stringify(patch)).toContain(field);
    }
    // "__proto__" as a source key is refused at the boundary, as everywhere.
    const proto = await t.call('POST', '/api/v1/deals', `{"contact_id":${a},"name":"P","amount":1,"currency":"EUR","source":{"__proto__":{"polluted":true}}}`, {
      headers: { 'content-type': 'application/json' },
    });
    expect(proto.status).toBe(422);
    expect(({} as any).polluted).toBeUndefined();
    expect(await count(t, 'SELECT count(*) AS n FROM deals')).toBe(0);
    expect(await count(t, 'SELECT count(*) AS n FROM events WHERE type LIKE ?', ['deal_%'])).toBe(0);

    // Free text with a control character is stored cleaned (U+FFFD), as company names are.
    const ok = await t.json('POST', '/api/v1/deals', { ...base, name: 'A\u0000B', source: { constructor: 'x', toString: 1 } });
    expect(ok.status).toBe(201);
    expect(ok.body.name).toBe('A\ufffdB');
    expect(ok.body.source).toEqual({ constructor: 'x', toString: 1 });
    // At most two decimals, exactly: 0.1 + 0.2 style amounts are cents, not floats.
    const cents = await t.json('POST', '/api/v1/deals', { ...base, amount: 19.99 });
    expect(cents.body.amount).toBe(19.99);
    expect(await count(t, 'SELECT amount_cents AS n FROM deals WHERE id = ?', [cents.body.id])).toBe(1999);
    expect((await t.json('POST', '/api/v1/deals', { ...base, amount: 1e12 })).status).toBe(201);

    const id = ok.body.id;
    const unknown = await t.json('PATCH', `/api/v1/deals/${id}`, { amount: 5, probability: 0.5 });
    expectError(unknown, 422, 'VALIDATION_FAILED');
    expect(unknown.body.error.details).toEqual([{ field: 'probability', message: 'unknown field' }]);
    expectError(await t.json('PATCH', `/api/v1/deals/${id}`, { contact_id: 424242 }), 422, 'VALIDATION_FAILED');
    expect((await t.json('GET', `/api/v1/deals/${id}`)).body.amount).toBe(10);
  });

  it("a merged contact's old id resolves to the survivor", async () => {
    const t = await makeApp();
    const survivor = await contact(t, 's@example.com');
    const merged = await contact(t, 'm@example.com');
    expect((await t.json('POST', `/api/v1/contacts/${survivor}/merge`, { contact_id: merged })).status).toBe(200);
    const d = await t.json('POST', '/api/v1/deals', { contact_id: merged, name: 'Via old id', amount: 1, currency: 'EUR' });
    expect(d.status).toBe(201);
    expect(d.body.contact_id).toBe(survivor);
    expect((await t.json('GET', `/api/v1/deals?contact_id=${merged}`)).body.data.map((x: any) => x.id)).toEqual([d.body.id]);
  });
});

describe('winning and losing', () => {
  it('won is a deal_won event at closed_at and moves the contact to Close; re-saving won writes nothing; won → open → won writes again', async () => {
    let now = Date.UTC(2026, 2, 1, 9);
    const t = await makeApp({ now: () => now });
    const [convert, close] = [await stageId(t, 'Convert'), await stageId(t, 'Close')];
    const c = await contact(t, 'lead@example.com');
    await t.json('PUT', `/api/v1/contacts/${c}/stage`, { stage_id: convert });
    const d = (await t.json('POST', '/api/v1/deals', { contact_id: c, name: 'Big one', amount: 5000, currency: 'EUR', owner: 'sam@example.com' })).body;
    expect(await events(t, c, 'deal_won')).toEqual([]);
    expect(await stageOf(t, c)).toBe(convert);

    now = Date.UTC(2026, 2, 3, 15);
    const won = await t.json('PATCH', `/api/v1/deals/${d.id}`, { stage: 'won' });
    expect(won.body).toMatchObject({ stage: 'won', closed_at: '2026-03-03T15:00:00.000Z' });
    expect(await events(t, c, 'deal_won')).toEqual([
      { props: { deal_id: d.id, name: 'Big one', amount: 5000, currency: 'EUR', value: 5000, owner: 'sam@example.com' }, at: now },
    ]);
    expect(await stageOf(t, c)).toBe(close);
    const moves = await events(t, c, 'stage_changed');
    expect(moves.at(-1)!.props).toMatchObject({ from: convert, to: close, to_name: 'Close', actor: { type: 'deal', id: d.id } });

    // Saved as won again (another amount): no second event, closed_at kept.
    now += 3_600_000;
    const again = await t.json('PATCH', `/api/v1/deals/${d.id}`, { stage: 'won', amount: 5200 });
    expect(again.body).toMatchObject({ amount: 5200, closed_at: '2026-03-03T15:00:00.000Z' });
    expect(await events(t, c, 'deal_won')).toHaveLength(1);
    // Reopened: closed_at cleared, no event, the contact stays at Close (never backwards).
    const reopened = await t.json('PATCH', `/api/v1/deals/${d.id}`, { stage: 'open' });
    expect(reopened.body.closed_at).toBeNull();
    expect(await stageOf(t, c)).toBe(close);
    // Won again on a given date: a second deal_won at that date.
    await t.json('PATCH', `/api/v1/deals/${d.id}`, { stage: 'won', closed_at: '2026-03-10' });
    const twice = await events(t, c, 'deal_won');
    expect(twice).toHaveLength(2);
    expect(twice[1]).toEqual({ props: expect.objectContaining({ deal_id: d.id, amount: 5200, value: 5200 }), at: Date.UTC(2026, 2, 10, 12) });
    expect(await count(t, "SELECT count(*) AS n FROM events WHERE type = 'stage_changed' AND contact_id = ?", [c])).toBe(2);
  });

  it('concurrent saves of one deal as won write one deal_won and one stage move', async () => {
    const t = await makeApp();
    const c = await contact(t, 'race@example.com');
    const d = (await t.json('POST', '/api/v1/deals', { contact_id: c, name: 'Race', amount: 10, currency: 'EUR' })).body;
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => t.json('PATCH', `/api/v1/deals/${d.id}`, { stage: 'won', amount: 10 + i })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await events(t, c, 'deal_won')).toHaveLength(1);
    expect(await count(t, "SELECT count(*) AS n FROM events WHERE type = 'stage_changed' AND contact_id = ?", [c])).toBe(1);
  });

  it('never moves a contact backwards: a customer in Delight stays there when another deal is won', async () => {
    const t = await makeApp();
    const delight = await stageId(t, 'Delight');
    const c = await contact(t, 'happy@example.com');
    await t.json('PUT', `/api/v1/contacts/${c}/stage`, { stage_id: delight });
    const d = await t.json('POST', '/api/v1/deals', { contact_id: c, name: 'Upsell', amount: 300, currency: 'EUR', stage: 'won' });
    expect(d.status).toBe(201);
    expect(await events(t, c, 'deal_won')).toHaveLength(1);
    expect(await stageOf(t, c)).toBe(delight);
    expect(await count(t, "SELECT count(*) AS n FROM events WHERE type = 'stage_changed' AND contact_id = ?", [c])).toBe(1);
    // A contact without a stage moves to Close.
    const fresh = await contact(t, 'fresh@example.com');
    await t.json('POST', '/api/v1/deals', { contact_id: fresh, name: 'First', amount: 1, currency: 'EUR', stage: 'won' });
    expect(await stageOf(t, fresh)).toBe(await stageId(t, 'Close'));
  });

  it('lost is a deal_lost event; it moves the contact only when lost_stage_id is set, and only forward', async () => {
    const t = await makeApp();
    const [attract, engage, convert] = [await stageId(t, 'Attract'), await stageId(t, 'Engage'), await stageId(t, 'Convert')];
    const c = await contact(t, 'lost@example.com');
    await t.json('PUT', `/api/v1/contacts/${c}/stage`, { stage_id: attract });
    const d = (await t.json('POST', '/api/v1/deals', { contact_id: c, name: 'Maybe', amount: 80, currency: 'EUR' })).body;
    await t.json('PATCH', `/api/v1/deals/${d.id}`, { stage: 'lost', lost_reason: 'Too expensive' });
    expect((await events(t, c, 'deal_lost')).map((e) => e.props)).toEqual([{ deal_id: d.id, reason: 'Too expensive' }]);
    expect(await stageOf(t, c)).toBe(attract);

    const settings = await t.json('PATCH', '/api/v1/pipeline-settings', { lost_stage_id: engage });
    expect(settings.body.lost_stage_id).toBe(engage);
    await t.json('POST', '/api/v1/deals', { contact_id: c, name: 'Second', amount: 1, currency: 'EUR', stage: 'lost' });
    expect(await stageOf(t, c)).toBe(engage);
    // From Convert, Engage is backwards: the contact stays.
    const later = await contact(t, 'later@example.com');
    await t.json('PUT', `/api/v1/contacts/${later}/stage`, { stage_id: convert });
    await t.json('POST', '/api/v1/deals', { contact_id: later, name: 'Third', amount: 1, currency: 'EUR', stage: 'lost' });
    expect(await stageOf(t, later)).toBe(convert);
    expect(await events(t, later, 'deal_lost')).toHaveLength(1);

    // open_stage_id: a new open deal moves the contact there.
    await t.json('PATCH', '/api/v1/pipeline-settings', { open_stage_id: convert });
    const opener = await contact(t, 'opener@example.com');
    await t.json('POST', '/api/v1/deals', { contact_id: opener, name: 'Fresh', amount: 1, currency: 'EUR' });
    expect(await stageOf(t, opener)).toBe(convert);
  });

  it('pipeline settings: defaults, validation, scopes', async () => {
    const t = await makeApp();
    const [close, delight] = [await stageId(t, 'Close'), await stageId(t, 'Delight')];
    const read = await t.json('GET', '/api/v1/pipeline-settings', undefined, { key: t.keys.read });
    expect(read.body).toEqual({ won_stage_id: close, delight_stage_id: delight, lost_stage_id: null, open_stage_id: null, follow_up_hours: 24 });
    expectError(await t.json('PATCH', '/api/v1/pipeline-settings', { follow_up_hours: 8 }, { key: t.keys.read }), 403, 'FORBIDDEN');
    const unknown = await t.json('PATCH', '/api/v1/pipeline-settings', { won_stage_id: 999999 });
    expectError(unknown, 422, 'VALIDATION_FAILED');
    expect(unknown.body.error.details[0].field).toBe('won_stage_id');
    expectError(await t.json('PATCH', '/api/v1/pipeline-settings', { follow_up_hours: 0 }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('PATCH', '/api/v1/pipeline-settings', { mql_stage_id: 1 }), 422, 'VALIDATION_FAILED');
    expect((await t.json('PATCH', '/api/v1/pipeline-settings', { follow_up_hours: 8, won_stage_id: null }, { key: t.keys.write })).body).toMatchObject({ follow_up_hours: 8, won_stage_id: null });
    // No won stage: winning moves nobody.
    const c = await contact(t, 'x@example.com');
    await t.json('POST', '/api/v1/deals', { contact_id: c, name: 'W', amount: 1, currency: 'EUR', stage: 'won' });
    expect(await stageOf(t, c)).toBeNull();
    expect(await events(t, c, 'deal_won')).toHaveLength(1);
  });
});

describe('sales feedback through deals', () => {
  it('won creates a won deal (its event and stage move), lost closes the newest open deal or records one', async () => {
    const now = Date.UTC(2026, 4, 2, 8);
    const t = await makeApp({ now: () => now });
    const close = await stageId(t, 'Close');
    const c = await contact(t, 'fb@example.com');
    const won = await t.json('POST', `/api/v1/contacts/${c}/sales-feedback`, { outcome: 'won', value: 1234.567, currency: 'EUR', date: '2026-04-20' });
    expect(won.status).toBe(201);
    expect(won.body).toEqual({ event_id: expect.any(Number), type: 'deal_won', deal_id: expect.any(Number) });
    expect((await t.json('GET', `/api/v1/deals/${won.body.deal_id}`)).body).toMatchObject({
      contact_id: c,
      name: 'Won via sales feedback',
      amount: 1234.57,
      currency: 'EUR',
      stage: 'won',
      closed_at: '2026-04-20T12:00:00.000Z',
    });
    const ev = await events(t, c, 'deal_won');
    expect(ev).toEqual([{ props: expect.objectContaining({ deal_id: won.body.deal_id, value: 1234.57, currency: 'EUR' }), at: Date.UTC(2026, 3, 20, 12) }]);
    expect(await stageOf(t, c)).toBe(close);
    expectError(await t.json('POST', `/api/v1/contacts/${c}/sales-feedback`, { outcome: 'won', value: 1, currency: 'EUR', date: '2026-02-30' }), 422, 'VALIDATION_FAILED');

    const open = (await t.json('POST', '/api/v1/deals', { contact_id: c, name: 'Renewal', amount: 500, currency: 'USD' })).body;
    const lost = await t.json('POST', `/api/v1/contacts/${c}/sales-feedback`, { outcome: 'lost', reason: 'Budget' });
    expect(lost.body).toEqual({ event_id: expect.any(Number), type: 'deal_lost', deal_id: open.id });
    expect((await t.json('GET', `/api/v1/deals/${open.id}`)).body).toMatchObject({ stage: 'lost', lost_reason: 'Budget', closed_at: new Date(now).toISOString() });
    // No open deal left: a lost deal of amount 0, in the contact's last currency.
    const again = await t.json('POST', `/api/v1/contacts/${c}/sales-feedback`, { outcome: 'lost' });
    expect(again.body.deal_id).not.toBe(open.id);
    expect((await t.json('GET', `/api/v1/deals/${again.body.deal_id}`)).body).toMatchObject({ name: 'Lost via sales feedback', amount: 0, currency: 'USD', stage: 'lost' });
    // accepted and rejected stay plain events.
    const accepted = await t.json('POST', `/api/v1/contacts/${c}/sales-feedback`, { outcome: 'accepted' });
    expect(accepted.body).toEqual({ event_id: expect.any(Number), type: 'sales_accepted' });
    expect(await count(t, 'SELECT count(*) AS n FROM deals WHERE contact_id = ?', [c])).toBe(3);
    expectError(await t.json('POST', '/api/v1/contacts/999999/sales-feedback', { outcome: 'won', value: 1, currency: 'EUR' }), 404, 'NOT_FOUND');
  });
});

/** Signs as a CRM would with the standardwebhooks scheme, with node:crypto (independent of the code under test). */
function sign(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

interface Delivery {
  integration?: number | string | null;
  secret: string;
  id?: string;
  timestamp?: number;
  signature?: string;
  contentType?: string;
}

async function deliver(t: TestApp, payload: unknown, o: Delivery) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const id = o.id ?? `msg_${randomUUID()}`;
  const ts = o.timestamp ?? Math.floor(t.ctx.now() / 1000);
  const headers = {
    'content-type': o.contentType ?? 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': o.signature ?? sign(o.secret, id, ts, body),
  };
  const q = o.integration === null ? '' : `?integration=${o.integration}`;
  const res = await t.app.request(`/webhooks/deals${q}`, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, id };
}

describe('CRM integrations and POST /webhooks/deals', () => {
  it('shows an integration secret once, on create and rotate', async () => {
    const t = await makeApp();
    const made = await t.json('POST', '/api/v1/deal-integrations', { name: 'Pipedrive' });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ name: 'Pipedrive', webhook_path: `/webhooks/deals?integration=${made.body.id}` });
    expect(made.body.secret).toMatch(/^whsec_[A-Za-z0-9]{32}$/);
    const got = await t.json('GET', `/api/v1/deal-integrations/${made.body.id}`);
    expect(got.body).not.toHaveProperty('secret');
    expect(JSON.stringify((await t.json('GET', '/api/v1/deal-integrations')).body)).not.toContain('whsec_');
    const rotated = await t.json('POST', `/api/v1/deal-integrations/${made.body.id}/rotate-secret`);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(made.body.secret);
    expectError(await t.json('POST', '/api/v1/deal-integrations', { name: '' }), 422, 'VALIDATION_FAILED');
    expectError(await t.json('POST', '/api/v1/deal-integrations/999999/rotate-secret'), 404, 'NOT_FOUND');
    expect((await t.json('DELETE', `/api/v1/deal-integrations/${made.body.id}`)).body).toEqual({ id: made.body.id, deleted: true });
    expectError(await t.json('GET', `/api/v1/deal-integrations/${made.body.id}`), 404, 'NOT_FOUND');
  });

  it('creates, leaves unchanged on redelivery, updates and deletes deals a CRM pushes', async () => {
    let now = Date.UTC(2026, 5, 1, 10);
    const t = await makeApp({ now: () => now });
    const close = await stageId(t, 'Close');
    const integ = (await t.json('POST', '/api/v1/deal-integrations', { name: 'CRM' })).body;
    const o = { integration: integ.id, secret: integ.secret };
    const upsert = (data: Record<string, unknown>) => ({ type: 'deal.upserted', data: { external_id: 'crm-1', ...data } });

    const first = upsert({ contact: { email: 'New.Person@Example.com' }, name: 'From CRM', amount: 2500, currency: 'GBP', owner: 'rep@example.com', source: { pipeline: 'inbound' } });
    const created = await deliver(t, first, { ...o, id: 'msg_1' });
    expect(created).toMatchObject({ status: 200, body: { ok: true, result: 'created', deal_id: expect.any(Number) } });
    const dealId = created.body.deal_id;
    const deal = (await t.json('GET', `/api/v1/deals/${dealId}`)).body;
    expect(deal).toMatchObject({ name: 'From CRM', amount: 2500, currency: 'GBP', stage: 'open', integration_id: integ.id, external_id: 'crm-1', source: { pipeline: 'inbound' } });
    // The unknown email became a contact, through the identity module (normalised email).
    const person = (await t.json('GET', `/api/v1/contacts/${deal.contact_id}`)).body;
    expect(person.email.toLowerCase()).toBe('new.person@example.com');

    // The same delivery again (a retry of the same webhook-id): nothing written.
    const before = await count(t, 'SELECT count(*) AS n FROM events');
    const updatedAt = deal.updated_at;
    now += 60_000;
    expect((await deliver(t, first, { ...o, id: 'msg_1' })).body).toEqual({ ok: true, deal_id: dealId, result: 'unchanged' });
    expect(await count(t, 'SELECT count(*) AS n FROM events')).toBe(before);
    expect((await t.json('GET', `/api/v1/deals/${dealId}`)).body.updated_at).toBe(updatedAt);
    expect(await count(t, 'SELECT count(*) AS n FROM contacts')).toBe(1);

    // Won, by a later delivery naming only what changed; the contact is known by id now.
    const won = await deliver(t, upsert({ contact: { id: deal.contact_id }, stage: 'won', closed_at: '2026-05-30T16:00:00Z' }), o);
    expect(won.body).toEqual({ ok: true, deal_id: dealId, result: 'updated' });
    expect((await t.json('GET', `/api/v1/deals/${dealId}`)).body).toMatchObject({ stage: 'won', amount: 2500, owner: 'rep@example.com', closed_at: '2026-05-30T16:00:00.000Z' });
    expect(await events(t, deal.contact_id, 'deal_won')).toEqual([
      { props: { deal_id: dealId, name: 'From CRM', amount: 2500, currency: 'GBP', value: 2500, owner: 'rep@example.com' }, at: Date.UTC(2026, 4, 30, 16) },
    ]);
    expect(await stageOf(t, deal.contact_id)).toBe(close);

    // A second deal for an existing contact by email: no new contact.
    expect((await deliver(t, { type: 'deal.upserted', data: { external_id: 'crm-2', contact: { email: 'new.person@example.com' }, name: 'Second', currency: 'GBP' } }, o)).body.result).toBe('created');
    expect(await count(t, 'SELECT count(*) AS n FROM contacts')).toBe(1);

    const deleted = await deliver(t, { type: 'deal.deleted', data: { external_id: 'crm-1' } }, { ...o, id: 'msg_del' });
    expect(deleted.body).toEqual({ ok: true, deal_id: dealId, result: 'deleted' });
    expectError(await t.json('GET', `/api/v1/deals/${dealId}`), 404, 'NOT_FOUND');
    expect((await deliver(t, { type: 'deal.deleted', data: { external_id: 'crm-1' } }, { ...o, id: 'msg_del' })).body).toEqual({ ok: true, deal_id: null, result: 'unchanged' });
    // The events stay on the timeline.
    expect(await events(t, deal.contact_id, 'deal_won')).toHaveLength(1);
  });

  it('refuses forged, stale, unknown, mistyped, oversized and malformed deliveries with 4xx, writing nothing', async () => {
    const now = Date.UTC(2026, 5, 1, 10);
    const t = await makeApp({ now: () => now });
    const integ = (await t.json('POST', '/api/v1/deal-integrations', { name: 'CRM' })).body;
    const other = (await t.json('POST', '/api/v1/deal-integrations', { name: 'Other' })).body;
    const o = { integration: integ.id, secret: integ.secret };
    const good = { type: 'deal.upserted', data: { external_id: 'x-1', contact: { email: 'someone@example.com' }, name: 'D', amount: 1, currency: 'EUR' } };
    const rows = async () => [await count(t, 'SELECT count(*) AS n FROM deals'), await count(t, 'SELECT count(*) AS n FROM contacts'), await count(t, 'SELECT count(*) AS n FROM events')];
    const empty = await rows();

    expectError(await deliver(t, good, { ...o, signature: `v1,${'A'.repeat(44)}` }), 403, 'INVALID_SIGNATURE');
    expectError(await deliver(t, good, { ...o, secret: other.secret }), 403, 'INVALID_SIGNATURE');
    expectError(await deliver(t, good, { ...o, timestamp: Math.floor(now / 1000) - 6 * 60 }), 403, 'INVALID_SIGNATURE');
    expectError(await deliver(t, good, { ...o, timestamp: Math.floor(now / 1000) + 6 * 60 }), 403, 'INVALID_SIGNATURE');
    expectError(await deliver(t, good, { ...o, integration: 999999 }), 403, 'INVALID_SIGNATURE');
    expectError(await deliver(t, good, { ...o, integration: null }), 400, 'BAD_REQUEST');
    expectError(await deliver(t, good, { ...o, integration: 'abc' }), 400, 'BAD_REQUEST');
    expectError(await deliver(t, good, { ...o, contentType: 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const big = { ...good, data: { ...good.data, name: 'x'.repeat(70 * 1024) } };
    expectError(await deliver(t, big, o), 413, 'PAYLOAD_TOO_LARGE');
    // Signed, but not what it should be.
    expectError(await deliver(t, '{"type":"deal.upserted",', o), 400, 'BAD_REQUEST');
    expectError(await deliver(t, { ...good, type: 'deal.created' }, o), 422, 'VALIDATION_FAILED');
    const invalid = await deliver(t, { ...good, data: { ...good.data, amount: -5, currency: 'euro' } }, o);
    expectError(invalid, 422, 'VALIDATION_FAILED');
    expect(invalid.body.error.details.map((d: any) => d.field).sort()).toEqual(['data.amount', 'data.currency']);
    expectError(await deliver(t, { ...good, data: { ...good.data, contact: undefined } }, o), 422, 'VALIDATION_FAILED');
    expectError(await deliver(t, { ...good, data: { ...good.data, contact: { id: 999999 } } }, o), 422, 'VALIDATION_FAILED');
    expectError(await deliver(t, { ...good, data: { ...good.data, currency: undefined } }, o), 422, 'VALIDATION_FAILED');
    expectError(await deliver(t, { ...good, data: { ...good.data, closed_at: '2026-05-01' } }, o), 422, 'VALIDATION_FAILED');
    expectError(await deliver(t, `{"type":"deal.upserted","data":{"external_id":"x","__proto__":{"a":1}}}`, o), 422, 'VALIDATION_FAILED');
    expectError(await deliver(t, { ...good, data: { ...good.data, external_id: 'x\u0001y' } }, o), 422, 'VALIDATION_FAILED');
    expectError(await deliver(t, { ...good, extra: 1 }, o), 422, 'VALIDATION_FAILED');
    expect(await rows()).toEqual(empty);

    // A rotated secret: the old one is refused, the new one works.
    const rotated = (await t.json('POST', `/api/v1/deal-integrations/${integ.id}/rotate-secret`)).body;
    expectError(await deliver(t, good, o), 403, 'INVALID_SIGNATURE');
    expect(await rows()).toEqual(empty);
    expect((await deliver(t, good, { ...o, secret: rotated.secret })).body.result).toBe('created');
  });
});

describe('the revenue report', () => {
  // A fixed timeline around the switch to summer time in Berlin (Sunday 2026-03-29, 02:00 → 03:00).
  // Berlin days of the period 2026-03-28 … 2026-03-30, in UTC:
  //   28th [03-27T23:00Z, 03-28T23:00Z)  29th [03-28T23:00Z, 03-29T22:00Z) (23 hours)  30th [03-29T22:00Z, 03-30T22:00Z)
  const T = (s: string) => Date.parse(s);
  async function timeline() {
    let now = T('2026-03-20T10:00:00Z');
    const t = await makeApp({ now: () => now });
    const [c1, c2, c3, c4] = [await contact(t, 'c1@example.com'), await contact(t, 'c2@example.com'), await contact(t, 'c3@example.com'), await contact(t, 'c4@example.com')];
    const deal = async (at: string, body: Record<string, unknown>) => {
      now = T(at);
      const r = await t.json('POST', '/api/v1/deals', { currency: 'EUR', name: 'D', ...body });
      if (r.status !== 201) throw new Error(JSON.stringify(r.body));
      return r.body.id as number;
    };
    // H: created before the period, still open (open pipeline 300).
    await deal('2026-03-20T10:00:00Z', { contact_id: c3, amount: 300 });
    // G: lost before the period.
    await deal('2026-03-20T11:00:00Z', { contact_id: c3, amount: 50, stage: 'lost', closed_at: '2026-03-27T12:00:00Z' });
    // F: created before the period (Berlin 27th 23:30), won on the 28th at 01:30 Berlin.
    await deal('2026-03-27T22:30:00Z', { contact_id: c3, amount: 700, stage: 'won', closed_at: '2026-03-28T00:30:00Z' });
    // A: created on the 28th at 00:30 Berlin, open; won on the 29th at 23:30 Berlin (summer time).
    const a = await deal('2026-03-27T23:30:00Z', { contact_id: c1, amount: 1000 });
    // B: created on the 28th at 23:30 Berlin; won at 00:30 Berlin on the 30th.
    await deal('2026-03-28T22:30:00Z', { contact_id: c2, amount: 250.5, stage: 'won', closed_at: '2026-03-29T22:30:00Z' });
    // C: created on the 29th, lost "on 2026-03-29" (a date: noon UTC, the 29th in Berlin).
    await deal('2026-03-29T12:00:00Z', { contact_id: c1, amount: 400, stage: 'lost', closed_at: '2026-03-29' });
    // E: US dollars, won on the 29th: in the USD report only.
    await deal('2026-03-29T09:00:00Z', { contact_id: c4, amount: 5000, currency: 'USD', stage: 'won', closed_at: '2026-03-29T10:00:00Z' });
    now = T('2026-03-29T21:30:00Z');
    expect((await t.json('PATCH', `/api/v1/deals/${a}`, { stage: 'won' })).status).toBe(200);
    // D: created on the 30th, open (open pipeline 99.99).
    await deal('2026-03-30T10:00:00Z', { contact_id: c3, amount: 99.99 });
    now = T('2026-04-02T08:00:00Z');
    return { t, c1, c2 };
  }

  it('counts won, lost and created deals per Berlin day, in one currency, with totals and the open pipeline', async () => {
    const { t } = await timeline();
    const r = await t.json('GET', '/api/v1/reports/revenue?from=2026-03-28&to=2026-03-30&tz=Europe/Berlin&interval=day&currency=EUR');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ report: 'revenue', from: '2026-03-27T23:00:00.000Z', to: '2026-03-30T22:00:00.000Z', tz: 'Europe/Berlin', interval: 'day' });
    expect(r.body.rows).toEqual([
      // 28th: won F (700); created A (1000) and B (250.50).
      { bucket: '2026-03-27T23:00:00.000Z', currency: 'EUR', deals_won: 1, revenue: 700, average_deal: 700, deals_lost: 0, win_rate: 1, new_deals: 2, pipeline_created: 1250.5, open_pipeline: null },
      // 29th: won A (1000), lost C; created C (400). E is in USD.
      { bucket: '2026-03-28T23:00:00.000Z', currency: 'EUR', deals_won: 1, revenue: 1000, average_deal: 1000, deals_lost: 1, win_rate: 0.5, new_deals: 1, pipeline_created: 400, open_pipeline: null },
      // 30th: won B (250.50); created D (99.99).
      { bucket: '2026-03-29T22:00:00.000Z', currency: 'EUR', deals_won: 1, revenue: 250.5, average_deal: 250.5, deals_lost: 0, win_rate: 1, new_deals: 1, pipeline_created: 99.99, open_pipeline: null },
    ]);
    // 3 won for 700 + 1000 + 250.50 = 1950.50, average 195050 / 3 = 65016.67 cents → 650.17;
    // win rate 3 / (3 + 1); 4 created for 1000 + 250.50 + 400 + 99.99 = 1750.49; open now: H 300 + D 99.99.
    expect(r.body.totals).toEqual({ currency: 'EUR', deals_won: 3, revenue: 1950.5, average_deal: 650.17, deals_lost: 1, win_rate: 0.75, new_deals: 4, pipeline_created: 1750.49, open_pipeline: 399.99 });

    // Default currency: the one with the most won revenue in the period (USD 5000 > EUR 1950.50).
    const usd = await t.json('GET', '/api/v1/reports/revenue?from=2026-03-28&to=2026-03-30&tz=Europe/Berlin');
    expect(usd.body.totals).toMatchObject({ currency: 'USD', deals_won: 1, revenue: 5000, new_deals: 1, pipeline_created: 5000, open_pipeline: 0 });
    expect(usd.body.rows.map((x: any) => x.revenue)).toEqual([0, 5000, 0]);

    // In UTC days the same deals fall differently: B's win (03-29T22:30Z) moves to the 29th, A's
    // creation (03-27T23:30Z) to the 27th (outside the period); F's win stays on the 28th, D on the 30th.
    const utc = await t.json('GET', '/api/v1/reports/revenue?from=2026-03-28&to=2026-03-30&currency=EUR');
    expect(utc.body.rows.map((x: any) => [x.bucket, x.deals_won, x.revenue, x.new_deals])).toEqual([
      ['2026-03-28T00:00:00.000Z', 1, 700, 1],
      ['2026-03-29T00:00:00.000Z', 2, 1250.5, 1],
      ['2026-03-30T00:00:00.000Z', 0, 0, 1],
    ]);

    expectError(await t.json('GET', '/api/v1/reports/revenue?currency=eur'), 422, 'VALIDATION_FAILED');
    expectError(await t.json('GET', '/api/v1/reports/revenue?site=1'), 400, 'BAD_REQUEST');
    expectError(await t.json('GET', '/api/v1/reports/revenue?segment=999999'), 404, 'NOT_FOUND');
  });

  it('filters by segment and by first-touch UTM, and answers CSV', async () => {
    const { t, c1, c2 } = await timeline();
    const seg = (await t.json('POST', '/api/v1/segments', { name: 'Key accounts', kind: 'static' })).body.id;
    await t.json('PUT', `/api/v1/segments/${seg}/members/${c1}`);
    const q = 'from=2026-03-28&to=2026-03-30&tz=Europe/Berlin&currency=EUR';
    // c1: A won (1000) and C lost, both created in the period (1000 + 400), nothing open.
    const bySegment = await t.json('GET', `/api/v1/reports/revenue?${q}&segment=${seg}`);
    expect(bySegment.body.totals).toEqual({ currency: 'EUR', deals_won: 1, revenue: 1000, average_deal: 1000, deals_lost: 1, win_rate: 0.5, new_deals: 2, pipeline_created: 1400, open_pipeline: 0 });

    await t.client.execute({ sql: 'UPDATE contacts SET first_source = ? WHERE id = ?', args: [JSON.stringify({ utm_source: 'newsletter', utm_medium: 'email' }), c2] });
    // c2: B only.
    const byUtm = await t.json('GET', `/api/v1/reports/revenue?${q}&utm_source=newsletter&utm_medium=email`);
    expect(byUtm.body.totals).toMatchObject({ deals_won: 1, revenue: 250.5, deals_lost: 0, new_deals: 1, pipeline_created: 250.5 });
    expect((await t.json('GET', `/api/v1/reports/revenue?${q}&utm_source=newsletter&utm_medium=cpc`)).body.totals).toMatchObject({ deals_won: 0, revenue: 0, win_rate: null, average_deal: null });

    const csv = await t.call('GET', `/api/v1/reports/revenue?${q}`, undefined, { headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(await csv.text()).toBe(
      [
        'bucket,currency,deals_won,revenue,average_deal,deals_lost,win_rate,new_deals,pipeline_created,open_pipeline',
        '2026-03-27T23:00:00.000Z,EUR,1,700,700,0,1,2,1250.5,',
        '2026-03-28T23:00:00.000Z,EUR,1,1000,1000,1,0.5,1,400,',
        '2026-03-29T22:00:00.000Z,EUR,1,250.5,250.5,0,1,1,99.99,',
        'total,EUR,3,1950.5,650.17,1,0.75,4,1750.49,399.99',
        '',
      ].join('\r\n'),
    );
  });
});
