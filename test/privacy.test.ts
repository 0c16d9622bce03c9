import { describe, it, expect } from 'vitest';
import type { Client } from '@libsql/client';
import { makeApp, expectError, type TestApp } from './helpers';
import { makeSite, track, vid, sign, runJob, count } from './tracking-helpers';
import { CONTACT_DATA, NOT_CONTACT_COLUMNS, OTHER_TABLES, VISITOR_DATA } from '../api/core/contacts/owned-data';
import { settleDeferred } from '../api/routes/defer';
import { queuedMessage } from '../api/core/tracking/queue';

describe('privacy: export and erase one contact', () => {
  it('exports everything stored about a contact as JSON', async () => {
    const t = await makeApp();
    const c = await t.json('POST', '/api/v1/contacts', { email: 'subject@example.com', first_name: 'Sub', tags: ['gdpr'] });
    const co = await t.json('POST', '/api/v1/companies', { name: 'Acme', domain: 'acme.com' });
    await t.json('PUT', `/api/v1/companies/${co.body.id}/contacts/${c.body.id}`, { is_primary: true });
    await t.json('PUT', `/api/v1/contacts/${c.body.id}/do-not-contact/email`, { reason: 'unsubscribed' });
    const res = await t.call('GET', `/api/v1/contacts/${c.body.id}/export`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain(`contact-${c.body.id}.json`);
    const data = await res.json();
    expect(data.contact).toMatchObject({ email: 'subject@example.com', tags: ['gdpr'], do_not_contact: [{ channel: 'email', reason: 'unsubscribed' }] });
    expect(data.companies).toEqual([{ id: co.body.id, name: 'Acme', domain: 'acme.com', is_primary: true }]);
    expect(Date.parse(data.exported_at)).not.toBeNaN();
    expectError(await t.json('GET', '/api/v1/contacts/4242/export'), 404, 'NOT_FOUND');
    expectError(await t.json('GET', `/api/v1/contacts/${c.body.id}/export`, undefined, { key: null }), 401, 'UNAUTHORIZED');
  });

  it('erases a contact and all its rows in one call, leaving other contacts alone', async () => {
    const t = await makeApp();
    const a = await t.json('POST', '/api/v1/contacts', { email: 'erase@example.com', tags: ['x'] });
    const b = await t.json('POST', '/api/v1/contacts', { email: 'keep@example.com', tags: ['x'] });
    const co = await t.json('POST', '/api/v1/companies', { name: 'Acme' });
    for (const id of [a.body.id, b.body.id]) {
      await t.json('PUT', `/api/v1/companies/${co.body.id}/contacts/${id}`, { is_primary: false });
      await t.json('PUT', `/api/v1/contacts/${id}/do-not-contact/sms`, { reason: 'manual' });
    }
    expectError(await t.json('DELETE', `/api/v1/contacts/${a.body.id}`, undefined, { key: t.keys.read }), 403, 'FORBIDDEN');
    const del = await t.json('DELETE', `/api/v1/contacts/${a.body.id}`);
    expect(del).toEqual({ status: 200, body: { id: a.body.id, deleted: true } });
    expectError(await t.json('GET', `/api/v1/contacts/${a.body.id}`), 404, 'NOT_FOUND');
    for (const table of ['contact_tags', 'do_not_contact', 'company_contacts']) {
      const left = await t.client.execute({ sql: `SELECT count(*) AS n FROM ${table} WHERE contact_id = ?`, args: [a.body.id] });
      expect(Number(left.rows[0]!.n), table).toBe(0);
      const kept = await t.client.execute({ sql: `SELECT count(*) AS n FROM ${table} WHERE contact_id = ?`, args: [b.body.id] });
      expect(Number(kept.rows[0]!.n), table).toBe(1);
    }
    // The email is free again: a new contact gets a new id.
    const again = await t.json('POST', '/api/v1/contacts', { email: 'erase@example.com' });
    expect(again.status).toBe(201);
    expect(again.body.tags).toEqual([]);
  });
});

// Column names that say "this row is about a contact or one of its browsers".
// email_id names an email (a message definition), not anyone's address.
const PERSONAL_COLUMN = /(^|_)(contact|visitor|survivor)_id$|(^|_)email($|_)(?!id$)/;

/**
 * Checks the owned-data registry against a real schema: every table is either
 * reached by erasure (CONTACT_DATA, VISITOR_DATA) or listed in OTHER_TABLES
 * with a reason; every registered column exists; and no column named like a
 * contact or visitor reference (or an email) is left out.
 */
async function registryProblems(client: Client): Promise<string[]> {
  const tables = (await client.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).rows.map((r) => String(r.name));
  const covered = new Map<string, string[]>();
  for (const { table, column } of [...CONTACT_DATA, ...VISITOR_DATA]) covered.set(table, [...(covered.get(table) ?? []), column]);
  const problems: string[] = [];
  for (const table of tables) {
    const columns = (await client.execute({ sql: 'SELECT name FROM pragma_table_info(?)', args: [table] })).rows.map((r) => String(r.name));
    const reached = covered.get(table);
    const other = Object.hasOwn(OTHER_TABLES, table);
    if (!reached && !other) problems.push(`${table}: not in the owned-data registry (CONTACT_DATA/VISITOR_DATA, or OTHER_TABLES with a reason)`);
    if (reached && other) problems.push(`${table}: both erased and listed in OTHER_TABLES`);
    for (const column of reached ?? []) if (!columns.includes(column)) problems.push(`${table}.${column}: registered, but the table has no such column`);
    for (const column of columns) {
      if (table !== 'contacts' && PERSONAL_COLUMN.test(column) && !reached?.includes(column) && !Object.hasOwn(NOT_CONTACT_COLUMNS, `${table}.${column}`)) problems.push(`${table}.${column}: can hold contact data, erasure does not reach it`);
    }
  }
  for (const table of [...covered.keys(), ...Object.keys(OTHER_TABLES)]) if (!tables.includes(table)) problems.push(`${table}: registered, but there is no such table`);
  return problems;
}

describe('the owned-data registry', () => {
  it('covers every table and contact column of the migrated schema', async () => {
    const t = await makeApp({ memory: true });
    expect(await registryProblems(t.client)).toEqual([]);
    for (const reason of Object.values(OTHER_TABLES)) expect(reason.length).toBeGreaterThan(10);
  });

  it('fails for a new table, a new contact column, or a stale entry', async () => {
    const t = await makeApp({ memory: true });
    await t.client.executeMultiple(`
      CREATE TABLE sms_sends (id INTEGER PRIMARY KEY, contact_id INTEGER, to_email TEXT);
      ALTER TABLE segments ADD owner_contact_id INTEGER;
      ALTER TABLE point_log RENAME COLUMN visitor_id TO browser_id;
    `);
    expect(await registryProblems(t.client)).toEqual([
      'point_log.visitor_id: registered, but the table has no such column',
      'segments.owner_contact_id: can hold contact data, erasure does not reach it',
      'sms_sends: not in the owned-data registry (CONTACT_DATA/VISITOR_DATA, or OTHER_TABLES with a reason)',
      'sms_sends.contact_id: can hold contact data, erasure does not reach it',
      'sms_sends.to_email: can hold contact data, erasure does not reach it',
    ]);
  });
});

/** Every row of every column of every table whose text contains `needle` (case-insensitive). */
async function findEverywhere(t: TestApp, needle: string): Promise<string[]> {
  const hits: string[] = [];
  const tables = (await t.client.execute("SELECT name FROM sqlite_master WHERE type = 'table'")).rows.map((r) => String(r.name));
  for (const table of tables) {
    const columns = (await t.client.execute({ sql: 'SELECT name FROM pragma_table_info(?)', args: [table] })).rows.map((r) => String(r.name));
    for (const column of columns) {
      const n = await count(t, `SELECT count(*) AS n FROM "${table}" WHERE instr(lower(CAST("${column}" AS TEXT)), ?) > 0`, [needle.toLowerCase()]);
      if (n) hits.push(`${table}.${column}: ${n}`);
    }
  }
  return hits;
}

describe('erasure reaches every copy of a contact', () => {
  it('leaves the email nowhere in the database, webhook deliveries included, and other contacts alone', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const email = 'Erase.Me+7f3a@Example.com';
    const page = (path: string) => ({ t: 'pv', u: `https://shop.example.com${path}` });
    await t.json('POST', '/api/v1/point-rules', { name: 'Page', event_type: 'page_view', delta: 1 });
    await t.json('POST', '/api/v1/point-triggers', { name: 'Hook', threshold: 10, actions: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }, { type: 'add_tags', tags: ['hooked'] }] });
    // A browser that was anonymous first, then identified as the contact.
    await track(t, { k: site.public_key, v: vid(1), e: [page('/pricing')] });
    await track(t, { k: site.public_key, v: vid(1), e: [page('/signup')], id: { email, sig: sign(site.secret, email) } });
    await runJob(t);
    const [subject] = (await t.json('GET', '/api/v1/contacts')).body.data;
    expect(subject.email.toLowerCase()).toBe(email.toLowerCase());
    const id: number = subject.id;
    await t.json('PATCH', `/api/v1/contacts/${id}`, { first_name: 'Zebulonia' });
    await t.json('POST', `/api/v1/contacts/${id}/points`, { op: 'add', value: 20, reason: 'Webinar' });
    const keep = await t.json('POST', '/api/v1/contacts', { email: 'keep@example.com' });
    await t.json('POST', `/api/v1/contacts/${keep.body.id}/points`, { op: 'add', value: 20, reason: 'Webinar' });
    await runJob(t);
    expect(await count(t, 'SELECT count(*) AS n FROM webhook_deliveries WHERE contact_id = ?', [id])).toBe(1);
    expect((await findEverywhere(t, email)).some((h) => h.startsWith('webhook_deliveries.body'))).toBe(true);
    expect(await findEverywhere(t, 'Zebulonia')).not.toEqual([]);
    // Tracking Queue messages the consumer could not write, kept for an operator: one of this
    // contact's browser, one of another browser (as the consumer stores them: the message as sent).
    const dead = (uid: string) => ({ sql: "INSERT INTO ingest_dead (hit_id, body, attempts, error, created_at) VALUES ('h', ?, 1, 'x', 0)", args: [JSON.stringify(queuedMessage({ hit: { siteId: site.id, uid, at: 0, client: null, country: null, source: null, events: [] } }))] });
    await t.client.batch([dead(vid(1)), dead(vid(2))], 'write');

    expect((await t.json('DELETE', `/api/v1/contacts/${id}`)).status).toBe(200);
    expect(await findEverywhere(t, email)).toEqual([]);
    expect(await findEverywhere(t, 'Zebulonia')).toEqual([]);
    expect(await findEverywhere(t, vid(1))).toEqual([]);
    expect(await findEverywhere(t, vid(2))).toEqual(['ingest_dead.body: 1']);
    expect(await count(t, 'SELECT count(*) AS n FROM point_log WHERE visitor_id IS NOT NULL AND visitor_id NOT IN (SELECT id FROM visitors)')).toBe(0);
    expect(await findEverywhere(t, 'keep@example.com')).toContain('webhook_deliveries.body: 1');
  });

  it('a merge moves webhook deliveries to the survivor, so erasing the survivor removes them', async () => {
    const t = await makeApp();
    await t.json('POST', '/api/v1/point-triggers', { name: 'Hook', threshold: 10, actions: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }] });
    const a = await t.json('POST', '/api/v1/contacts', { email: 'survivor@example.com' });
    const b = await t.json('POST', '/api/v1/contacts', { email: 'merged-away@example.com' });
    await t.json('POST', `/api/v1/contacts/${b.body.id}/points`, { op: 'add', value: 20, reason: 'x' });
    await runJob(t);
    expect((await t.json('POST', `/api/v1/contacts/${a.body.id}/merge`, { contact_id: b.body.id })).status).toBe(200);
    expect(await count(t, 'SELECT count(*) AS n FROM webhook_deliveries WHERE contact_id = ?', [a.body.id])).toBe(1);
    // A delivery queued before deliveries knew their contact (contact_id NULL) is found by the id in its body.
    await t.client.execute({
      sql: "INSERT INTO webhook_deliveries (source, dedupe_key, url, secret, body, next_attempt_at, created_at) VALUES ('trigger:1', 'legacy', 'http://127.0.0.1:9/', 's', ?, 0, 0)",
      args: [JSON.stringify({ type: 'point_trigger.fired', data: { contact: { id: b.body.id, email: 'merged-away@example.com' } } })],
    });
    await t.json('DELETE', `/api/v1/contacts/${a.body.id}`);
    expect(await findEverywhere(t, 'merged-away@example.com')).toEqual([]);
    expect(await findEverywhere(t, 'survivor@example.com')).toEqual([]);
  });
});

describe('erasure and merging reach campaigns', () => {
  it("a contact's passes, steps, webhook deliveries and the notifications about it go with it; a merge moves them first", async () => {
    const t = await makeApp();
    const alert = await t.json('POST', '/api/v1/emails', { name: 'Hot lead', kind: 'transactional', subject: 'Lead {{ lead.email }}', html: '<p>{{ lead.first_name }} {{ lead.email }}</p>' });
    expect(alert.status).toBe(201);
    const campaign = await t.json('POST', '/api/v1/campaigns', {
      name: 'Alert sales',
      definition: {
        start: 'tag',
        steps: [
          { id: 'tag', type: 'action', action: { type: 'add_tags', tags: ['alerted'] }, next: 'notify' },
          { id: 'notify', type: 'action', action: { type: 'notify', email_id: alert.body.id, to: 'sales@example.com' }, next: 'hook' },
          { id: 'hook', type: 'action', action: { type: 'webhook', url: 'http://127.0.0.1:9/hook' }, next: 'wait' },
          { id: 'wait', type: 'wait', wait: { for: { days: 3 } }, next: null },
        ],
      },
    });
    expect(campaign.status).toBe(201);
    expect((await t.json('POST', `/api/v1/campaigns/${campaign.body.id}/publish`)).status).toBe(200);
    const keep = await t.json('POST', '/api/v1/contacts', { email: 'keep-lead@example.com', first_name: 'Keepina' });
    const survivor = await t.json('POST', '/api/v1/contacts', { email: 'survivor-lead@example.com' });
    const merged = await t.json('POST', '/api/v1/contacts', { email: 'merged-lead@example.com', first_name: 'Quillon' });
    const ids = [keep.body.id, merged.body.id];
    expect((await t.json('POST', `/api/v1/campaigns/${campaign.body.id}/contacts`, { contact_ids: ids })).body).toEqual({ enrolled: 2, not_enrolled: [] });
    await settleDeferred();
    await runJob(t, 'emails');
    expect(await count(t, "SELECT count(*) AS n FROM email_outbox WHERE to_email = 'sales@example.com'")).toBe(2);
    expect(await count(t, 'SELECT count(*) AS n FROM webhook_deliveries WHERE contact_id = ?', [merged.body.id])).toBe(1);
    expect((await findEverywhere(t, 'merged-lead@example.com')).some((h) => h.startsWith('email_outbox.html'))).toBe(true);

    expect((await t.json('POST', `/api/v1/contacts/${survivor.body.id}/merge`, { contact_id: merged.body.id })).status).toBe(200);
    for (const table of ['campaign_enrollments', 'campaign_steps']) {
      expect(await count(t, `SELECT count(*) AS n FROM ${table} WHERE contact_id = ?`, [merged.body.id]), table).toBe(0);
      expect(await count(t, `SELECT count(*) AS n FROM ${table} WHERE contact_id = ?`, [survivor.body.id]), table).toBeGreaterThan(0);
    }
    expect((await t.json('GET', `/api/v1/contacts/${survivor.body.id}/campaigns`)).body.data).toEqual([
      expect.objectContaining({ status: 'active', current_step: 'wait', campaign: { id: campaign.body.id, name: 'Alert sales' } }),
    ]);

    expect((await t.json('DELETE', `/api/v1/contacts/${survivor.body.id}`)).status).toBe(200);
    for (const table of ['campaign_enrollments', 'campaign_steps', 'webhook_deliveries']) {
      expect(await count(t, `SELECT count(*) AS n FROM ${table} WHERE contact_id IN (?, ?)`, [survivor.body.id, merged.body.id]), table).toBe(0);
    }
    expect(await findEverywhere(t, 'merged-lead@example.com')).toEqual([]);
    expect(await findEverywhere(t, 'Quillon')).toEqual([]);
    // The other contact's pass and the notification about it stay.
    expect(await count(t, 'SELECT count(*) AS n FROM campaign_enrollments WHERE contact_id = ?', [keep.body.id])).toBe(1);
    expect(await findEverywhere(t, 'keep-lead@example.com')).toEqual(expect.arrayContaining([expect.stringMatching(/^email_outbox\.html/)]));
  });
});
