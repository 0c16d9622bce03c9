import { describe, expect, it } from 'vitest';
import { makeApp, type TestApp } from './helpers';
import { basic, expectMauticError, mautic } from './mautic-helpers';

async function seed(t: TestApp) {
  expect((await t.json('POST', '/api/v1/fields', { key: 'mobile', label: 'Mobile phone', type: 'tel' })).status).toBe(201);
  expect((await t.json('POST', '/api/v1/fields', { key: 'plan', label: 'Plan', type: 'select', options: ['free', 'pro'] })).status).toBe(201);
  const ann = await mautic(t, 'POST', '/api/contacts/new', {
    email: 'Ann@Example.com',
    firstname: 'Ann',
    lastname: 'Lee',
    company: 'Acme GmbH',
    position: 'CTO',
    city: 'Berlin',
    country: 'Germany',
    mobile: '+49 170 1234567',
    plan: 'pro',
    tags: ['vip', 'newsletter'],
    title: '', // n8n sends its empty fields; Mautic skips blanks
    owner: 1, // Leadline contacts have no owner: ignored
  });
  expect(ann.status, ann.text).toBe(201);
  const bob = await mautic(t, 'POST', '/api/contacts/new', { email: 'bob@example.org', firstname: 'Bob', tags: 'newsletter,trial' });
  expect(bob.status, bob.text).toBe(201);
  const noEmail = await mautic(t, 'POST', '/api/contacts/new', { firstname: 'Nobody', phone: '+1 555 0100' });
  expect(noEmail.status, noEmail.text).toBe(201);
  return { ann: ann.body.contact, bob: bob.body.contact, anon: noEmail.body.contact };
}

describe('Mautic contacts', () => {
  it('creates in Mautic layout (fields.core, fields.all by alias), upserts by email (201 then 200), gets, and refuses unknown ids', async () => {
    const t = await makeApp({ memory: true });
    const { ann } = await seed(t);
    expect(ann.id).toBeTypeOf('number');
    expect(ann.fields.all).toMatchObject({
      id: ann.id,
      firstname: 'Ann',
      lastname: 'Lee',
      email: 'Ann@Example.com',
      company: 'Acme GmbH',
      position: 'CTO',
      city: 'Berlin',
      country: 'Germany',
      mobile: '+49 170 1234567',
      plan: 'pro',
      points: 0,
      title: null,
      zipcode: null,
    });
    expect(ann.fields.core.firstname).toMatchObject({ alias: 'firstname', label: 'First Name', type: 'text', group: 'core', value: 'Ann' });
    expect(ann.fields.core.mobile).toMatchObject({ alias: 'mobile', label: 'Mobile phone', value: '+49 170 1234567' });
    expect(ann.fields.social.twitter.value).toBeNull();
    expect(ann.fields.personal).toEqual([]);
    expect(ann.tags.map((x: { tag: string }) => x.tag).sort()).toEqual(['newsletter', 'vip']);
    expect(ann.tags.every((x: { id: unknown }) => typeof x.id === 'number')).toBe(true);
    expect(ann.dateIdentified).toBe(ann.dateAdded);
    // Leadline keeps the country as its code; the primary company is a real company.
    const v1 = (await t.json('GET', `/api/v1/contacts/${ann.id}`)).body;
    expect(v1).toMatchObject({ country: 'DE', job_title: 'CTO', fields: { mobile: '+49 170 1234567', plan: 'pro' } });
    expect(v1.companies).toEqual([expect.objectContaining({ name: 'Acme GmbH', is_primary: true })]);

    // Same email, any case: the existing contact is updated (200), not duplicated.
    const again = await mautic(t, 'POST', '/api/contacts/new', { email: 'ann@example.com', lastname: 'Lee-Smith' });
    expect(again.status).toBe(200);
    expect(again.body.contact.id).toBe(ann.id);
    expect(again.body.contact.fields.all).toMatchObject({ firstname: 'Ann', lastname: 'Lee-Smith' });

    const got = await mautic(t, 'GET', `/api/contacts/${ann.id}`);
    expect(got.status).toBe(200);
    expect(got.body.contact.fields.all.lastname).toBe('Lee-Smith');
    expectMauticError(await mautic(t, 'GET', '/api/contacts/9999'), 404);
    expectMauticError(await mautic(t, 'GET', '/api/contacts/abc'), 404);
    // A value Leadline refuses is a 4xx naming the field, and nothing is written.
    const bad = await mautic(t, 'POST', '/api/contacts/new', { email: 'not-an-email', firstname: 'X' });
    expectMauticError(bad, 422, /email/);
    expect(bad.body.errors[0].details).toHaveProperty('email');
    const total = (await mautic(t, 'GET', '/api/contacts?limit=1')).body.total;
    expect(total).toBe('3');
  });

  it('PATCH merges, PUT replaces (and creates a missing contact), overwriteWithBlank clears, tags add and -remove, stage by id', async () => {
    const t = await makeApp({ memory: true });
    const { ann } = await seed(t);
    const stage = (await t.json('POST', '/api/v1/stages', { name: 'Lead', position: 1 })).body;

    const patched = await mautic(t, 'PATCH', `/api/contacts/${ann.id}/edit`, { city: 'Hamburg', firstname: '', tags: ['-vip', 'customer'], stage: stage.id });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.contact.fields.all).toMatchObject({ firstname: 'Ann', city: 'Hamburg', lastname: 'Lee', plan: 'pro' });
    expect(patched.body.contact.tags.map((x: { tag: string }) => x.tag).sort()).toEqual(['customer', 'newsletter']);
    expect(patched.body.contact.stage).toMatchObject({ id: stage.id, name: 'Lead' });

    const blank = await mautic(t, 'PATCH', `/api/contacts/${ann.id}/edit`, { city: '', overwriteWithBlank: true });
    expect(blank.body.contact.fields.all).toMatchObject({ city: null, firstname: 'Ann' });

    const put = await mautic(t, 'PUT', `/api/contacts/${ann.id}/edit`, { email: 'ann@example.com', firstname: 'Annie' });
    expect(put.status).toBe(200);
    expect(put.body.contact.fields.all).toMatchObject({ firstname: 'Annie', lastname: null, position: null, mobile: null, plan: null, email: 'ann@example.com' });

    const created = await mautic(t, 'PUT', '/api/contacts/424242/edit', { email: 'new@example.com' });
    expect(created.status).toBe(201);
    expect(created.body.contact.fields.all.email).toBe('new@example.com');
    expectMauticError(await mautic(t, 'PATCH', '/api/contacts/424243/edit', { firstname: 'X' }), 404);
    // An unknown stage is refused before anything is written.
    const noStage = await mautic(t, 'PATCH', `/api/contacts/${ann.id}/edit`, { firstname: 'Changed', stage: 999 });
    expectMauticError(noStage, 422, /stage/);
    expect((await mautic(t, 'GET', `/api/contacts/${ann.id}`)).body.contact.fields.all.firstname).toBe('Annie');
    // Another contact's email: Leadline refuses (Mautic would merge the two).
    const { bob } = { bob: (await mautic(t, 'GET', '/api/contacts?search=email:bob@')).body.contacts };
    const bobId = Number(Object.keys(bob)[0]);
    expectMauticError(await mautic(t, 'PATCH', `/api/contacts/${bobId}/edit`, { email: 'ann@example.com' }), 409);
  });

  it('deletes answering the contact with id null, then 404', async () => {
    const t = await makeApp({ memory: true });
    const { bob } = await seed(t);
    const del = await mautic(t, 'DELETE', `/api/contacts/${bob.id}/delete`);
    expect(del.status).toBe(200);
    expect(del.body.contact.id).toBeNull();
    expect(del.body.contact.fields.all.email).toBe('bob@example.org');
    expectMauticError(await mautic(t, 'GET', `/api/contacts/${bob.id}`), 404);
    expectMauticError(await mautic(t, 'DELETE', `/api/contacts/${bob.id}/delete`), 404);
  });

  it('searches with Mautic syntax, filters with where[], orders, and pages with start/limit and total as a string', async () => {
    const t = await makeApp({ memory: true });
    const { ann, bob, anon } = await seed(t);
    const seg = (await mautic(t, 'POST', '/api/segments/new', { name: 'Trade Fair 2024' })).body.list;
    await mautic(t, 'POST', `/api/segments/${seg.id}/contact/${bob.id}/add`);
    const ids = async (q: string) => {
      const r = await mautic(t, 'GET', `/api/contacts?${q}`);
      expect(r.status, r.text).toBe(200);
      expect(typeof r.body.total).toBe('string');
      // In the order on the wire: JSON.parse would sort integer-like keys.
      return [...r.text.matchAll(/"(\d+)":\{"isPublished"/g)].map((m) => Number(m[1]));
    };
    expect(await ids('search=ann')).toEqual([ann.id]);
    expect(await ids('search=acme')).toEqual([ann.id]); // the company's name
    expect(await ids('search=germany')).toEqual([ann.id]); // a country by its name
    expect(await ids('search=email:bob@')).toEqual([bob.id]);
    expect(await ids(`search=${encodeURIComponent('email:"bob@example.org"')}`)).toEqual([bob.id]);
    expect(await ids('search=email:ob@')).toEqual([]); // commands match prefixes, as Mautic's value%
    expect(await ids('search=email:%25ob@%25')).toEqual([bob.id]);
    expect((await ids('search=tag:newsletter')).sort()).toEqual([ann.id, bob.id].sort());
    expect(await ids('search=tag:newsletter%20!tag:vip')).toEqual([bob.id]);
    expect(await ids('search=segment:trade-fair-2024')).toEqual([bob.id]);
    expect(await ids(`search=segment:${seg.id}`)).toEqual([bob.id]);
    expect(await ids('search=segment:no-such-segment')).toEqual([]);
    expect(await ids('search=is:anonymous')).toEqual([anon.id]);
    expect((await ids('search=!is:anonymous')).sort()).toEqual([ann.id, bob.id].sort());
    expect((await ids('search=ann%20or%20bob')).sort()).toEqual([ann.id, bob.id].sort());
    expect(await ids('search=city:ber')).toEqual([ann.id]);
    expect(await ids('search=plan:pro')).toEqual([ann.id]);
    expect(await ids('where[0][col]=email&where[0][expr]=eq&where[0][val]=BOB@example.org')).toEqual([bob.id]);
    expect(await ids('where[0][col]=firstname&where[0][expr]=in&where[0][val]=Ann,Bob&where[1][col]=id&where[1][expr]=eq&where[1][val]=' + bob.id)).toEqual([bob.id]);
    expect(await ids('orderBy=email&orderByDir=DESC&search=!is:anonymous')).toEqual([bob.id, ann.id]);
    expect(await ids('orderBy=lastname,firstname')).toEqual([bob.id, anon.id, ann.id]); // no last name sorts first, then by first name
    expect(await ids('orderBy=id&orderByDir=asc')).toEqual([ann.id, bob.id, anon.id]);
    expect(await ids('orderBy=date_added&orderByDir=desc')).toEqual([anon.id, bob.id, ann.id]);
    // Paging: start skips, limit bounds, total counts them all.
    const page = await mautic(t, 'GET', '/api/contacts?orderBy=id&start=1&limit=1');
    expect(page.body.total).toBe('3');
    expect(Object.keys(page.body.contacts).map(Number)).toEqual([bob.id]);
    const past = await mautic(t, 'GET', '/api/contacts?start=10');
    expect(past.body).toEqual({ total: '3', contacts: [] });
    // Keyed by id in the order asked for, on the wire too.
    const desc = await mautic(t, 'GET', '/api/contacts?orderBy=id&orderByDir=desc');
    expect(desc.text.indexOf(`"${anon.id}":{`)).toBeLessThan(desc.text.indexOf(`"${ann.id}":{`));
  });

  it('adds and subtracts points, sets and lifts do-not-contact, and lists a contact’s segments, companies, campaigns and activity', async () => {
    const t = await makeApp({ memory: true });
    const { ann } = await seed(t);
    expect((await mautic(t, 'POST', `/api/contacts/${ann.id}/points/plus/10`, { eventName: 'Webinar', actionName: 'attended' })).body).toEqual({ success: 1 });
    expect((await mautic(t, 'POST', `/api/contacts/${ann.id}/points/minus/3`)).body).toEqual({ success: 1 });
    expect((await mautic(t, 'GET', `/api/contacts/${ann.id}`)).body.contact.points).toBe(7);
    const log = (await t.json('GET', `/api/v1/contacts/${ann.id}/points`)).body.data;
    expect(log.map((x: { reason: string }) => x.reason)).toContain('Webinar: attended');
    expectMauticError(await mautic(t, 'POST', `/api/contacts/${ann.id}/points/plus/abc`), 400);
    expectMauticError(await mautic(t, 'POST', `/api/contacts/${ann.id}/points/times/2`), 404);
    expectMauticError(await mautic(t, 'POST', '/api/contacts/9999/points/plus/1'), 404);

    const dnc = await mautic(t, 'POST', `/api/contacts/${ann.id}/dnc/email/add`, { reason: 1, comments: 'Asked by phone' });
    expect(dnc.body.contact.doNotContact).toEqual([expect.objectContaining({ channel: 'email', reason: 1, comments: 'Asked by phone' })]);
    expectMauticError(await mautic(t, 'POST', `/api/contacts/${ann.id}/dnc/email/add`, { reason: 0 }), 400, /reason/);
    expectMauticError(await mautic(t, 'POST', `/api/contacts/${ann.id}/dnc/fax/add`), 400, /channel/);
    const lifted = await mautic(t, 'POST', `/api/contacts/${ann.id}/dnc/email/remove`);
    expect(lifted.body.recordFound).toBe(true);
    expect(lifted.body.contact.doNotContact).toEqual([]);
    expect((await mautic(t, 'POST', `/api/contacts/${ann.id}/dnc/email/remove`)).body.recordFound).toBe(false);

    const seg = (await mautic(t, 'POST', '/api/segments/new', { name: 'VIPs' })).body.list;
    await mautic(t, 'POST', `/api/segments/${seg.id}/contact/${ann.id}/add`);
    const segs = await mautic(t, 'GET', `/api/contacts/${ann.id}/segments`);
    expect(segs.body.total).toBe(1);
    expect(segs.body.lists[seg.id]).toMatchObject({ id: seg.id, name: 'VIPs', alias: 'vips', manuallyAdded: true });
    const companies = await mautic(t, 'GET', `/api/contacts/${ann.id}/companies`);
    expect(companies.body).toMatchObject({ total: 1, companies: [{ companyname: 'Acme GmbH', is_primary: '1' }] });
    expect((await mautic(t, 'GET', `/api/contacts/${ann.id}/campaigns`)).body).toEqual({ total: 0, campaigns: [] });
    const activity = await mautic(t, 'GET', `/api/contacts/${ann.id}/activity?limit=2`);
    expect(activity.body).toMatchObject({ page: 1, limit: 2, order: ['timestamp', 'DESC'] });
    expect(activity.body.total).toBeGreaterThanOrEqual(2);
    expect(activity.body.events.length).toBe(2);
    expect(activity.body.events.map((e: { event: string }) => e.event)).toContain('point.gained');
  });

  it('batch/new creates and updates per row and reports a bad row under its index', async () => {
    const t = await makeApp({ memory: true });
    await seed(t);
    const r = await mautic(t, 'POST', '/api/contacts/batch/new', [{ email: 'c1@example.com' }, { email: 'broken' }, { email: 'bob@example.org', lastname: 'Builder' }]);
    expect(r.status).toBe(201);
    expect(r.body.statusCodes).toEqual([201, 422, 200]);
    expect(Object.keys(r.body.contacts)).toEqual(['0', '2']);
    expect(r.body.contacts['2'].fields.all.lastname).toBe('Builder');
    expect(r.body.errors['1']).toMatchObject({ code: 422, type: 'api' });
    const ok = await mautic(t, 'POST', '/api/contacts/batch/new', [{ email: 'c2@example.com' }]);
    expect(Array.isArray(ok.body.contacts)).toBe(true);
    expect(ok.body.errors).toBeUndefined();
    expectMauticError(await mautic(t, 'POST', '/api/contacts/batch/new', Array.from({ length: 201 }, (_, i) => ({ email: `x${i}@example.com` }))), 400, /200/);
    expect((await mautic(t, 'GET', '/api/contacts?search=email:x0@')).body.total).toBe('0');
  });

  it('authenticates with Basic auth (key as password) or a Bearer key, keeps v1 scopes, and answers 401/403 in Mautic’s shape', async () => {
    const t = await makeApp({ memory: true });
    const none = await mautic(t, 'GET', '/api/contacts', undefined, { key: null });
    expectMauticError(none, 401, /authorization denied/i);
    expect(none.body.errors[0].type).toBe('access_denied');
    expect(none.res.headers.get('www-authenticate')).toMatch(/^Basic/);
    expectMauticError(await mautic(t, 'GET', '/api/contacts', undefined, { key: 'll_wrong' }), 401);
    expectMauticError(await mautic(t, 'GET', '/api/contacts', undefined, { key: null, headers: { authorization: 'Basic !!!' } }), 401);
    expectMauticError(await mautic(t, 'GET', '/api/contacts', undefined, { key: null, headers: { authorization: `Basic ${btoa('user-without-password')}` } }), 401);
    expect((await mautic(t, 'GET', '/api/contacts', undefined, { key: null, headers: { authorization: `Bearer ${t.keys.read}` } })).status).toBe(200);
    expect((await mautic(t, 'GET', '/api/contacts', undefined, { key: t.keys.read })).status).toBe(200);
    const refused = await mautic(t, 'POST', '/api/contacts/new', { email: 'x@example.com' }, { key: t.keys.read });
    expectMauticError(refused, 403, /write/);
    expect((await mautic(t, 'POST', '/api/contacts/new', { email: 'x@example.com' }, { headers: { authorization: basic(t.keys.write, 'someone') } })).status).toBe(201);
    // Revoked keys stop working at once.
    const keys = (await t.json('GET', '/api/v1/api-keys')).body.data as { id: number; name: string }[];
    await t.json('DELETE', `/api/v1/api-keys/${keys.find((k) => k.name === 'test write')!.id}`);
    expectMauticError(await mautic(t, 'GET', '/api/contacts', undefined, { key: t.keys.write }), 401);
  });
});
