import { describe, it, expect } from 'vitest';
import { expectError, makeApp, type TestApp } from './helpers';
import { expectNot500, HOSTILE_IDS, HOSTILE_QUERIES, routeContract } from './route-contract';

async function contact(t: TestApp, email: string, extra: Record<string, unknown> = {}) {
  const r = await t.json('POST', '/api/v1/contacts', { email, ...extra });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { id: number; tags: string[] };
}

const tagsOf = async (t: TestApp, id: number) => (await t.json('GET', `/api/v1/contacts/${id}`)).body.tags as string[];
const emailsWithTag = async (t: TestApp, tag: string) => {
  const r = await t.json('GET', `/api/v1/contacts?tag=${encodeURIComponent(tag)}&limit=100`, undefined, { key: t.keys.read });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return (r.body.data as { email: string }[]).map((c) => c.email).sort();
};

// A clock that moves one minute per reading, so dates visibly differ.
function clock(start = Date.UTC(2026, 0, 1)) {
  let t = start;
  return () => (t += 60_000);
}

describe('tags', () => {
  it('adds tags trimmed, lower-cased and deduplicated, and keeps existing ones', async () => {
    const t = await makeApp();
    const c = await contact(t, 'ada@example.com');
    const r = await t.json('POST', `/api/v1/contacts/${c.id}/tags`, { tags: ['  VIP ', 'vip', 'Newsletter', 'Big   Deal', 'big deal'] }, { key: t.keys.write });
    expect(r.status).toBe(200);
    expect(r.body.id).toBe(c.id);
    expect(r.body.tags).toEqual(['big deal', 'newsletter', 'vip']);
    const again = await t.json('POST', `/api/v1/contacts/${c.id}/tags`, { tags: ['VIP', 'customer'] });
    expect(again.body.tags).toEqual(['big deal', 'customer', 'newsletter', 'vip']);
    expect(await tagsOf(t, c.id)).toEqual(['big deal', 'customer', 'newsletter', 'vip']);
    // One tag row per name however it was written.
    const list = await t.json('GET', '/api/v1/tags');
    expect(list.body.data.map((x: any) => x.name)).toEqual(['big deal', 'customer', 'newsletter', 'vip']);
  });

  it('rejects empty, overlong and too many tags with 422 and writes nothing', async () => {
    const t = await makeApp();
    const c = await contact(t, 'ada@example.com');
    for (const body of [
      { tags: [] },
      { tags: [''] },
      { tags: ['   '] },
      { tags: ['ok', 'x'.repeat(65)] },
      { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) },
      { tags: 'vip' },
      { tags: [1] },
      {},
    ]) {
      const r = await t.json('POST', `/api/v1/contacts/${c.id}/tags`, body);
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details[0].field).toMatch(/^tags/);
    }
    expect(await tagsOf(t, c.id)).toEqual([]);
    expect((await t.json('GET', '/api/v1/tags')).body.data).toEqual([]);
    // 64 characters and 50 tags are fine.
    const ok = await t.json('POST', `/api/v1/contacts/${c.id}/tags`, { tags: ['y'.repeat(64), ...Array.from({ length: 49 }, (_, i) => `t${i}`)] });
    expect(ok.status).toBe(200);
    expect(ok.body.tags).toHaveLength(50);
  });

  it('lists contacts by tag, case-insensitively', async () => {
    const t = await makeApp();
    const a = await contact(t, 'a@example.com');
    const b = await contact(t, 'b@example.com');
    await contact(t, 'c@example.com', { tags: ['other'] });
    await t.json('POST', `/api/v1/contacts/${a.id}/tags`, { tags: ['VIP'] });
    await t.json('POST', `/api/v1/contacts/${b.id}/tags`, { tags: ['vip', 'newsletter'] });
    expect(await emailsWithTag(t, 'vip')).toEqual(['a@example.com', 'b@example.com']);
    expect(await emailsWithTag(t, ' VIP ')).toEqual(['a@example.com', 'b@example.com']);
    expect(await emailsWithTag(t, 'newsletter')).toEqual(['b@example.com']);
    expect(await emailsWithTag(t, 'nobody-has-this')).toEqual([]);
    // Paged: limit=1 walks both without overlap.
    const p1 = await t.json('GET', '/api/v1/contacts?tag=vip&limit=1');
    expect(p1.body.has_more).toBe(true);
    const p2 = await t.json('GET', `/api/v1/contacts?tag=vip&limit=1&cursor=${p1.body.next_cursor}`);
    expect(p2.body.has_more).toBe(false);
    expect([p1.body.data[0].id, p2.body.data[0].id].sort()).toEqual([a.id, b.id].sort());
  });

  it('filters by a tag written with inner spaces the way it was stored', async () => {
    // Tags collapse runs of spaces ("Big   Deal" is stored "big deal"); the contacts
    // list filter must normalise the same way.
    const t = await makeApp();
    const a = await contact(t, 'a@example.com');
    await t.json('POST', `/api/v1/contacts/${a.id}/tags`, { tags: ['Big   Deal'] });
    expect(await emailsWithTag(t, 'big deal')).toEqual(['a@example.com']);
    expect(await emailsWithTag(t, 'Big   Deal')).toEqual(['a@example.com']);
  });

  it('removes a tag from one contact only', async () => {
    const t = await makeApp();
    const a = await contact(t, 'a@example.com', { tags: ['vip', 'newsletter'] });
    const b = await contact(t, 'b@example.com', { tags: ['vip'] });
    const r = await t.json('DELETE', `/api/v1/contacts/${a.id}/tags/VIP`, undefined, { key: t.keys.write });
    expect(r.status).toBe(200);
    expect(r.body.tags).toEqual(['newsletter']);
    expect(await tagsOf(t, a.id)).toEqual(['newsletter']);
    expect(await tagsOf(t, b.id)).toEqual(['vip']);
    expect(await emailsWithTag(t, 'vip')).toEqual(['b@example.com']);
    // Removing a tag the contact does not have is a no-op, not an error.
    const again = await t.json('DELETE', `/api/v1/contacts/${a.id}/tags/vip`);
    expect(again.status).toBe(200);
    expect(again.body.tags).toEqual(['newsletter']);
    // Encoded names with spaces and slashes work.
    await t.json('POST', `/api/v1/contacts/${a.id}/tags`, { tags: ['big deal', 'a/b'] });
    expect((await t.json('DELETE', `/api/v1/contacts/${a.id}/tags/Big%20Deal`)).body.tags).toEqual(['a/b', 'newsletter']);
    expect((await t.json('DELETE', `/api/v1/contacts/${a.id}/tags/a%2Fb`)).body.tags).toEqual(['newsletter']);
  });

  it('lists tags with contact counts, alphabetically and paged', async () => {
    const t = await makeApp();
    await contact(t, 'a@example.com', { tags: ['vip', 'newsletter'] });
    await contact(t, 'b@example.com', { tags: ['vip'] });
    const c = await contact(t, 'c@example.com', { tags: ['vip', 'alpha', 'zulu', 'mid'] });
    await t.json('DELETE', `/api/v1/contacts/${c.id}/tags/zulu`);
    const all = await t.json('GET', '/api/v1/tags', undefined, { key: t.keys.read });
    expect(all.status).toBe(200);
    expect(all.body.data.map((x: any) => [x.name, x.contacts])).toEqual([
      ['alpha', 1],
      ['mid', 1],
      ['newsletter', 1],
      ['vip', 3],
      ['zulu', 0],
    ]);
    for (const tag of all.body.data) {
      expect(typeof tag.id).toBe('number');
      expect(new Date(tag.created_at).toISOString()).toBe(tag.created_at);
    }
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const r: any = await t.json('GET', `/api/v1/tags?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      sizes.push(r.body.data.length);
      seen.push(...r.body.data.map((x: any) => x.name));
      cursor = r.body.next_cursor;
      expect(r.body.has_more).toBe(cursor !== null);
    } while (cursor && sizes.length < 10);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(['alpha', 'mid', 'newsletter', 'vip', 'zulu']);
  });

  it('deletes a tag everywhere', async () => {
    const t = await makeApp();
    const a = await contact(t, 'a@example.com', { tags: ['vip', 'newsletter'] });
    const b = await contact(t, 'b@example.com', { tags: ['vip'] });
    const r = await t.json('DELETE', '/api/v1/tags/%20VIP%20', undefined, { key: t.keys.write });
    expect(r.status).toBe(200);
    // The answer names the tag as stored.
    expect(r.body).toEqual({ name: 'vip', deleted: true });
    expect(await tagsOf(t, a.id)).toEqual(['newsletter']);
    expect(await tagsOf(t, b.id)).toEqual([]);
    expect(await emailsWithTag(t, 'vip')).toEqual([]);
    expect((await t.json('GET', '/api/v1/tags')).body.data.map((x: any) => x.name)).toEqual(['newsletter']);
    expectError(await t.json('DELETE', '/api/v1/tags/vip'), 404, 'NOT_FOUND');
    expectError(await t.json('DELETE', '/api/v1/tags/never-existed'), 404, 'NOT_FOUND');
    // The name can be used again, fresh.
    await t.json('POST', `/api/v1/contacts/${b.id}/tags`, { tags: ['vip'] });
    expect((await t.json('GET', '/api/v1/tags')).body.data.find((x: any) => x.name === 'vip').contacts).toBe(1);
  });

  it('answers 404 for unknown contacts and writes nothing', async () => {
    const t = await makeApp();
    expectError(await t.json('POST', '/api/v1/contacts/999999/tags', { tags: ['vip'] }), 404, 'NOT_FOUND');
    expectError(await t.json('DELETE', '/api/v1/contacts/999999/tags/vip'), 404, 'NOT_FOUND');
    expect((await t.json('GET', '/api/v1/tags')).body.data).toEqual([]);
    // A deleted contact is unknown too.
    const c = await contact(t, 'gone@example.com');
    expect((await t.json('DELETE', `/api/v1/contacts/${c.id}`)).status).toBe(200);
    expectError(await t.json('POST', `/api/v1/contacts/${c.id}/tags`, { tags: ['vip'] }), 404, 'NOT_FOUND');
  });

  it('never answers 500 to hostile tag names or list queries', async () => {
    const t = await makeApp();
    const c = await contact(t, 'a@example.com', { tags: ['vip'] });
    for (const name of ['%', '%ZZ', '%00', '%20', 'x'.repeat(65), "vip'%20OR%201=1", '..', '%2F']) {
      expectNot500(await t.json('DELETE', `/api/v1/tags/${name}`), `DELETE tag ${name}`);
      expectNot500(await t.json('DELETE', `/api/v1/contacts/${c.id}/tags/${name}`), `remove tag ${name}`);
    }
    expectError(await t.json('DELETE', `/api/v1/tags/${'x'.repeat(65)}`), 422, 'VALIDATION_FAILED');
    expect(await tagsOf(t, c.id)).toEqual(['vip']);
    for (const q of HOSTILE_QUERIES) expectNot500(await t.json('GET', `/api/v1/tags?${q}`), `tags ${q}`);
    for (const tag of ['', 'x'.repeat(65), '%00']) expectNot500(await t.json('GET', `/api/v1/contacts?tag=${tag}`), `tag=${tag}`);
    expectError(await t.json('GET', '/api/v1/tags?cursor=nonsense'), 400, 'BAD_REQUEST');
  });

  it('never answers 500 to a forged cursor when listing contacts by tag', async () => {
    // A forged cursor such as [1e999, 1] decodes to Infinity; it must be refused, not bound.
    const t = await makeApp();
    await contact(t, 'a@example.com', { tags: ['vip'] });
    for (const q of HOSTILE_QUERIES) expectNot500(await t.json('GET', `/api/v1/contacts?tag=vip&${q}`), `contacts by tag ${q}`);
  });
});

describe('do not contact', () => {
  it('marks a channel with reason and date, shown on the contact', async () => {
    const now = clock();
    const t = await makeApp({ now });
    const c = await contact(t, 'ada@example.com');
    const r = await t.json('PUT', `/api/v1/contacts/${c.id}/do-not-contact/email`, { reason: 'unsubscribed' }, { key: t.keys.write });
    expect(r.status).toBe(200);
    expect(r.body.do_not_contact).toEqual([{ channel: 'email', reason: 'unsubscribed', comment: null, created_at: expect.any(String) }]);
    const at = r.body.do_not_contact[0].created_at;
    expect(new Date(at).toISOString()).toBe(at);
    expect(Date.parse(at)).toBeGreaterThan(Date.UTC(2026, 0, 1));
    const got = await t.json('GET', `/api/v1/contacts/${c.id}`, undefined, { key: t.keys.read });
    expect(got.body.do_not_contact).toEqual(r.body.do_not_contact);
    // Also visible in the list.
    const list = await t.json('GET', '/api/v1/contacts');
    expect(list.body.data[0].do_not_contact).toEqual(r.body.do_not_contact);
  });

  it('setting again keeps the date and updates reason and comment', async () => {
    const t = await makeApp({ now: clock() });
    const c = await contact(t, 'ada@example.com');
    const first = await t.json('PUT', `/api/v1/contacts/${c.id}/do-not-contact/email`, { reason: 'unsubscribed', comment: '  via footer  ' });
    expect(first.body.do_not_contact[0]).toMatchObject({ reason: 'unsubscribed', comment: 'via footer' });
    const second = await t.json('PUT', `/api/v1/contacts/${c.id}/do-not-contact/email`, { reason: 'bounced', comment: 'hard bounce' });
    expect(second.status).toBe(200);
    expect(second.body.do_not_contact).toEqual([
      { channel: 'email', reason: 'bounced', comment: 'hard bounce', created_at: first.body.do_not_contact[0].created_at },
    ]);
    // A reason left out defaults to manual; a comment left out or blank is cleared.
    const third = await t.json('PUT', `/api/v1/contacts/${c.id}/do-not-contact/email`, {});
    expect(third.body.do_not_contact[0]).toEqual({ channel: 'email', reason: 'manual', comment: null, created_at: first.body.do_not_contact[0].created_at });
    const fourth = await t.json('PUT', `/api/v1/contacts/${c.id}/do-not-contact/email`, { reason: 'manual', comment: '   ' });
    expect(fourth.body.do_not_contact[0].comment).toBeNull();
  });

  it('keeps channels apart, including "all"', async () => {
    const t = await makeApp({ now: clock() });
    const c = await contact(t, 'ada@example.com');
    const other = await contact(t, 'bob@example.com');
    await t.json('PUT', `/api/v1/contacts/${c.id}/do-not-contact/sms`, { reason: 'manual' });
    await t.json('PUT', `/api/v1/contacts/${c.id}/do-not-contact/all`, { reason: 'manual', comment: 'asked by phone' });
    const r = await t.json('PUT', `/api/v1/contacts/${c.id}/do-not-contact/email`, { reason: 'bounced' });
    expect(r.body.do_not_contact.map((d: any) => [d.channel, d.reason])).toEqual([
      ['all', 'manual'],
      ['email', 'bounced'],
      ['sms', 'manual'],
    ]);
    const cleared = await t.json('DELETE', `/api/v1/contacts/${c.id}/do-not-contact/sms`);
    expect(cleared.body.do_not_contact.map((d: any) => d.channel)).toEqual(['all', 'email']);
    expect((await t.json('GET', `/api/v1/contacts/${other.id}`)).body.do_not_contact).toEqual([]);
  });

  it('rejects a bad channel, reason, comment or body field with 422', async () => {
    const t = await makeApp();
    const c = await contact(t, 'ada@example.com');
    const bad = [
      { channel: 'fax', body: { reason: 'manual' }, field: 'channel' },
      { channel: 'EMAIL', body: { reason: 'manual' }, field: 'channel' },
      { channel: 'email', body: { reason: 'spam' }, field: 'reason' },
      { channel: 'email', body: { reason: null }, field: 'reason' },
      { channel: 'email', body: { reason: 'manual', comment: 'x'.repeat(501) }, field: 'comment' },
      { channel: 'email', body: { reason: 'manual', comment: 5 }, field: 'comment' },
      { channel: 'email', body: { reason: 'manual', channel: 'sms' }, field: 'channel' },
    ];
    for (const b of bad) {
      const r = await t.json('PUT', `/api/v1/contacts/${c.id}/do-not-contact/${b.channel}`, b.body);
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details.map((d: any) => d.field), JSON.stringify(b)).toContain(b.field);
    }
    expectError(await t.json('DELETE', `/api/v1/contacts/${c.id}/do-not-contact/fax`), 422, 'VALIDATION_FAILED');
    expect((await t.json('GET', `/api/v1/contacts/${c.id}`)).body.do_not_contact).toEqual([]);
  });

  it('DELETE clears a channel, and clearing twice is fine', async () => {
    const t = await makeApp();
    const c = await contact(t, 'ada@example.com');
    await t.json('PUT', `/api/v1/contacts/${c.id}/do-not-contact/email`, { reason: 'unsubscribed' });
    const r = await t.json('DELETE', `/api/v1/contacts/${c.id}/do-not-contact/email`, undefined, { key: t.keys.write });
    expect(r.status).toBe(200);
    expect(r.body.do_not_contact).toEqual([]);
    expect((await t.json('GET', `/api/v1/contacts/${c.id}`)).body.do_not_contact).toEqual([]);
    const again = await t.json('DELETE', `/api/v1/contacts/${c.id}/do-not-contact/email`);
    expect(again.status).toBe(200);
    expect(again.body.do_not_contact).toEqual([]);
  });

  it('answers 404 for an unknown contact and writes nothing', async () => {
    const t = await makeApp();
    expectError(await t.json('PUT', '/api/v1/contacts/999999/do-not-contact/email', { reason: 'unsubscribed' }), 404, 'NOT_FOUND');
    expectError(await t.json('DELETE', '/api/v1/contacts/999999/do-not-contact/email'), 404, 'NOT_FOUND');
    const rows = await t.client.execute('SELECT count(*) AS n FROM do_not_contact');
    expect(Number(rows.rows[0]!.n)).toBe(0);
  });

  it('is removed with the contact', async () => {
    const t = await makeApp();
    const c = await contact(t, 'ada@example.com', { tags: ['vip'] });
    await t.json('PUT', `/api/v1/contacts/${c.id}/do-not-contact/email`, { reason: 'unsubscribed' });
    expect((await t.json('DELETE', `/api/v1/contacts/${c.id}`)).status).toBe(200);
    const rows = await t.client.execute('SELECT (SELECT count(*) FROM do_not_contact) + (SELECT count(*) FROM contact_tags) AS n');
    expect(Number(rows.rows[0]!.n)).toBe(0);
    expect((await t.json('GET', '/api/v1/tags')).body.data[0]).toMatchObject({ name: 'vip', contacts: 0 });
  });
});

describe('tags and do-not-contact: HTTP contract', () => {
  routeContract([
    { method: 'GET', path: '/api/v1/tags' },
    { method: 'DELETE', path: '/api/v1/tags/vip' },
    { method: 'POST', path: '/api/v1/contacts/1/tags', body: { tags: ['vip'] }, idTemplate: '/api/v1/contacts/{id}/tags' },
    { method: 'DELETE', path: '/api/v1/contacts/1/tags/vip', idTemplate: '/api/v1/contacts/{id}/tags/vip' },
    {
      method: 'PUT',
      path: '/api/v1/contacts/1/do-not-contact/email',
      body: { reason: 'unsubscribed' },
      idTemplate: '/api/v1/contacts/{id}/do-not-contact/email',
    },
    { method: 'DELETE', path: '/api/v1/contacts/1/do-not-contact/email', idTemplate: '/api/v1/contacts/{id}/do-not-contact/email' },
  ]);

  it('names a hostile id in the 422 details', async () => {
    const t = await makeApp();
    for (const id of HOSTILE_IDS) {
      const r = await t.json('POST', `/api/v1/contacts/${id}/tags`, { tags: ['vip'] });
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details.map((d: any) => d.field), id).toContain('id');
    }
  });
});
