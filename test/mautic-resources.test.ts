import { describe, expect, it } from 'vitest';
import { makeApp, type TestApp } from './helpers';
import { expectMauticError, mautic } from './mautic-helpers';
import { CHROME_UA, makeSite, vid } from './tracking-helpers';

const contact = async (t: TestApp, email: string) => (await mautic(t, 'POST', '/api/contacts/new', { email })).body.contact.id as number;

describe('Mautic segments, companies, stages, tags and fields', () => {
  it('segments: list under `lists`, get, new, edit (PATCH/PUT), delete, contact add/remove and bulk add', async () => {
    const t = await makeApp({ memory: true });
    const a = await contact(t, 'a@example.com');
    const b = await contact(t, 'b@example.com');
    const created = await mautic(t, 'POST', '/api/segments/new', { name: 'Newsletter Readers', description: 'From the site', isPublished: 1 });
    expect(created.status).toBe(201);
    const seg = created.body.list;
    expect(seg).toMatchObject({ name: 'Newsletter Readers', alias: 'newsletter-readers', description: 'From the site', isPublished: true, filters: [] });
    expectMauticError(await mautic(t, 'POST', '/api/segments/new', { name: 'X', filters: [{ field: 'city', operator: '=', filter: 'Prague' }] }), 422, /filters/);
    expectMauticError(await mautic(t, 'POST', '/api/segments/new', {}), 422, /name/);
    const list = await mautic(t, 'GET', '/api/segments');
    expect(list.body.total).toBe(1);
    expect(list.body.lists).toEqual([expect.objectContaining({ id: seg.id, name: 'Newsletter Readers' })]);
    expect((await mautic(t, 'GET', `/api/segments/${seg.id}`)).body.list.id).toBe(seg.id);

    expect((await mautic(t, 'POST', `/api/segments/${seg.id}/contact/${a}/add`)).body).toEqual({ success: 1 });
    expectMauticError(await mautic(t, 'POST', `/api/segments/${seg.id}/contact/9999/add`), 404);
    expectMauticError(await mautic(t, 'POST', `/api/segments/9999/contact/${a}/add`), 404);
    const bulk = await mautic(t, 'POST', `/api/segments/${seg.id}/contacts/add`, { ids: [b, 9999] });
    expect(bulk.body).toEqual({ success: 1, details: { [b]: { success: true }, 9999: { success: false } } });
    expect((await t.json('GET', `/api/v1/segments/${seg.id}/members`)).body.data.map((c: { id: number }) => c.id)).toEqual([a, b]);
    expect((await mautic(t, 'POST', `/api/segments/${seg.id}/contact/${a}/remove`)).body).toEqual({ success: 1 });
    expect((await t.json('GET', `/api/v1/segments/${seg.id}/members`)).body.data.map((c: { id: number }) => c.id)).toEqual([b]);

    const patched = await mautic(t, 'PATCH', `/api/segments/${seg.id}/edit`, { name: 'Readers' });
    expect(patched.body.list).toMatchObject({ name: 'Readers', alias: 'readers', description: 'From the site' });
    const put = await mautic(t, 'PUT', `/api/segments/${seg.id}/edit`, { name: 'Readers 2' });
    expect(put.body.list).toMatchObject({ name: 'Readers 2', description: null });
    expect((await mautic(t, 'PUT', '/api/segments/777/edit', { name: 'Made by PUT' })).status).toBe(201);
    const del = await mautic(t, 'DELETE', `/api/segments/${seg.id}/delete`);
    expect(del.body.list).toMatchObject({ id: null, name: 'Readers 2' });
    expectMauticError(await mautic(t, 'GET', `/api/segments/${seg.id}`), 404);
  });

  it('companies: keyed list with fields.all, upsert by name on new, edit, delete, contact add/remove', async () => {
    const t = await makeApp({ memory: true });
    const a = await contact(t, 'a@example.com');
    const created = await mautic(t, 'POST', '/api/companies/new', { companyname: 'Acme', companycity: 'Lyon', companycountry: 'France', companynumber_of_employees: '250', companyfax: '123' });
    expect(created.status).toBe(201);
    const co = created.body.company;
    expect(co.fields.all).toMatchObject({ id: co.id, companyname: 'Acme', companycity: 'Lyon', companycountry: 'France', companynumber_of_employees: 250, companyfax: null });
    expect(co.fields.core.companyname).toMatchObject({ alias: 'companyname', object: 'company', value: 'Acme' });
    const again = await mautic(t, 'POST', '/api/companies/new', { companyname: 'ACME', companyindustry: 'Technology' });
    expect(again.status).toBe(200);
    expect(again.body.company).toMatchObject({ id: co.id, fields: { all: { companyindustry: 'Technology', companycity: 'Lyon' } } });
    expectMauticError(await mautic(t, 'POST', '/api/companies/new', { companycity: 'Nowhere' }), 422, /companyname/);
    expectMauticError(await mautic(t, 'POST', '/api/companies/new', { companyname: 'B', companyannual_revenue: 'lots' }), 422);
    const other = (await mautic(t, 'POST', '/api/companies/new', { companyname: 'Beta' })).body.company;
    const list = await mautic(t, 'GET', '/api/companies?limit=1&start=1');
    expect(list.body.total).toBe(2);
    expect(Object.keys(list.body.companies)).toEqual([String(other.id)]);
    expect((await mautic(t, 'GET', '/api/companies?search=bet')).body.total).toBe(1);

    expect((await mautic(t, 'POST', `/api/companies/${co.id}/contact/${a}/add`)).body).toEqual({ success: 1 });
    expect((await t.json('GET', `/api/v1/contacts/${a}`)).body.companies).toEqual([expect.objectContaining({ id: co.id })]);
    expect((await mautic(t, 'POST', `/api/companies/${co.id}/contact/${a}/remove`)).body).toEqual({ success: 1 });
    expect((await t.json('GET', `/api/v1/contacts/${a}`)).body.companies).toEqual([]);

    const edited = await mautic(t, 'PATCH', `/api/companies/${co.id}/edit`, { companywebsite: 'https://acme.example.com' });
    expect(edited.body.company.fields.all).toMatchObject({ companywebsite: 'https://acme.example.com', companycity: 'Lyon' });
    const replaced = await mautic(t, 'PUT', `/api/companies/${co.id}/edit`, { companyname: 'Acme SA' });
    expect(replaced.body.company.fields.all).toMatchObject({ companyname: 'Acme SA', companycity: null, companywebsite: null });
    expectMauticError(await mautic(t, 'PATCH', '/api/companies/999/edit', { companyname: 'X' }), 404);
    expect((await mautic(t, 'DELETE', `/api/companies/${co.id}/delete`)).body.company.id).toBeNull();
    expectMauticError(await mautic(t, 'GET', `/api/companies/${co.id}`), 404);
  });

  it('stages, tags, fields and users/self', async () => {
    const t = await makeApp({ memory: true });
    const a = await contact(t, 'a@example.com');
    const before = (await mautic(t, 'GET', '/api/stages')).body.total as number; // the stages a new install has
    const lead = (await t.json('POST', '/api/v1/stages', { name: 'Lead', position: 9001 })).body;
    const mql = (await t.json('POST', '/api/v1/stages', { name: 'MQL', position: 9005 })).body;
    const stages = await mautic(t, 'GET', `/api/stages?start=${before}`);
    expect(stages.body).toMatchObject({ total: before + 2, stages: [{ id: lead.id, name: 'Lead', weight: 9001 }, { id: mql.id, name: 'MQL', weight: 9005 }] });
    expect((await mautic(t, 'GET', `/api/stages?start=${before + 1}`)).body.stages.map((s: { id: number }) => s.id)).toEqual([mql.id]);
    expect((await mautic(t, 'POST', `/api/stages/${mql.id}/contact/${a}/add`)).body).toEqual({ success: 1 });
    expect((await t.json('GET', `/api/v1/contacts/${a}`)).body.stage_id).toBe(mql.id);
    await mautic(t, 'POST', `/api/stages/${lead.id}/contact/${a}/remove`); // not in it: nothing changes
    expect((await t.json('GET', `/api/v1/contacts/${a}`)).body.stage_id).toBe(mql.id);
    await mautic(t, 'POST', `/api/stages/${mql.id}/contact/${a}/remove`);
    expect((await t.json('GET', `/api/v1/contacts/${a}`)).body.stage_id).toBeNull();
    expectMauticError(await mautic(t, 'POST', `/api/stages/999/contact/${a}/add`), 404);

    const tag = await mautic(t, 'POST', '/api/tags/new', { tag: 'Hot Lead' });
    expect(tag.status).toBe(201);
    expect(tag.body.tag).toMatchObject({ tag: 'hot lead' });
    expect((await mautic(t, 'POST', '/api/tags/new', { tag: 'hot lead' })).body.tag.id).toBe(tag.body.tag.id);
    expectMauticError(await mautic(t, 'POST', '/api/tags/new', { tag: '' }), 422);
    await mautic(t, 'POST', '/api/tags/new', { tag: 'alpha' });
    expect((await mautic(t, 'GET', '/api/tags')).body).toEqual({ total: 2, tags: [expect.objectContaining({ tag: 'alpha' }), expect.objectContaining({ tag: 'hot lead' })] });

    await t.json('POST', '/api/v1/fields', { key: 'shoe_size', label: 'Shoe size', type: 'number' });
    const fields = await mautic(t, 'GET', '/api/fields/contact?limit=200');
    const aliases = fields.body.fields.map((f: { alias: string }) => f.alias);
    expect(aliases).toEqual(expect.arrayContaining(['firstname', 'lastname', 'email', 'company', 'city', 'country', 'points', 'shoe_size']));
    expect(fields.body.total).toBe(aliases.length);
    expect(fields.body.fields.find((f: { alias: string }) => f.alias === 'email')).toMatchObject({ object: 'lead', isUniqueIdentifier: true, type: 'email' });
    const paged = await mautic(t, 'GET', '/api/fields/contact?limit=5&start=5');
    expect(paged.body.fields.map((f: { alias: string }) => f.alias)).toEqual(aliases.slice(5, 10));
    const company = await mautic(t, 'GET', '/api/fields/company');
    const industry = company.body.fields.find((f: { alias: string }) => f.alias === 'companyindustry');
    expect(industry.properties.list).toContainEqual({ label: 'Technology', value: 'Technology' });

    const self = await mautic(t, 'GET', '/api/users/self');
    expect(self.body).toMatchObject({ username: 'test admin', role: { isAdmin: true } });
    expect((await mautic(t, 'GET', '/api/users/self', undefined, { key: t.keys.read })).body.role.isAdmin).toBe(false);
  });
});

describe('Mautic forms, emails and campaigns', () => {
  it('forms: list, get with fields keyed by id, submissions with their contact', async () => {
    const t = await makeApp({ memory: true });
    const site = await makeSite(t);
    const form = (await t.json('POST', '/api/v1/forms', { name: 'Demo request', fields: [{ key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true }] })).body;
    for (const [i, email] of ['one@example.com', 'two@example.com'].entries()) {
      const res = await t.app.request(`/f/${form.id}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': CHROME_UA, origin: 'https://shop.example.com' },
        body: JSON.stringify({ sid: `sid_mautic_${i}`, t: 5000, hp: '', url: 'https://shop.example.com/demo', k: site.public_key, v: vid(i + 1), values: { email } }),
      });
      expect(res.status, await res.text()).toBeLessThan(300);
    }
    const list = await mautic(t, 'GET', '/api/forms');
    expect(list.body).toMatchObject({ total: 1, forms: [{ id: form.id, name: 'Demo request', isPublished: true }] });
    const got = await mautic(t, 'GET', `/api/forms/${form.id}`);
    expect(got.body.form.fields['1']).toMatchObject({ id: 1, alias: 'email', isRequired: true, leadField: 'email' });
    const subs = await mautic(t, 'GET', `/api/forms/${form.id}/submissions?limit=1`);
    expect(subs.body.total).toBe('2');
    expect(subs.body.submissions).toHaveLength(1);
    expect(subs.body.submissions[0]).toMatchObject({ form: { id: form.id }, results: { email: 'two@example.com' }, lead: { email: 'two@example.com' } });
    const second = await mautic(t, 'GET', `/api/forms/${form.id}/submissions?limit=1&start=1`);
    expect(second.body.submissions[0].results.email).toBe('one@example.com');
    expectMauticError(await mautic(t, 'GET', '/api/forms/999/submissions'), 404);
  });

  it('emails: list with emailType, send to a contact (tokens as variables), send to segments as a broadcast', async () => {
    const t = await makeApp({ memory: true });
    const a = await contact(t, 'a@example.com');
    const tmpl = (await t.json('POST', '/api/v1/emails', { name: 'Welcome', subject: 'Hi {{ name }}', html: '<p>Hi {{ name }}</p>' })).body;
    const news = (await t.json('POST', '/api/v1/emails', { name: 'News', kind: 'broadcast', subject: 'News', html: '<p>News</p>' })).body;
    const list = await mautic(t, 'GET', '/api/emails');
    expect(list.body.total).toBe(2);
    expect(Object.fromEntries(list.body.emails.map((e: { id: number; emailType: string }) => [e.id, e.emailType]))).toEqual({ [tmpl.id]: 'template', [news.id]: 'list' });
    expect((await mautic(t, 'GET', `/api/emails/${tmpl.id}`)).body.email).toMatchObject({ subject: 'Hi {{ name }}', customHtml: '<p>Hi {{ name }}</p>' });

    const sent = await mautic(t, 'POST', `/api/emails/${tmpl.id}/contact/${a}/send`, { tokens: { '{name}': 'Ann' } });
    expect(sent.body).toEqual({ success: true });
    const sends = (await t.json('GET', `/api/v1/emails/${tmpl.id}/sends`)).body.data;
    expect(sends).toEqual([expect.objectContaining({ contact_id: a })]);
    await mautic(t, 'POST', `/api/contacts/${a}/dnc/email/add`);
    const skipped = await mautic(t, 'POST', `/api/emails/${tmpl.id}/contact/${a}/send`);
    expect(skipped.body).toMatchObject({ success: false, failed: expect.any(String) });
    expectMauticError(await mautic(t, 'POST', `/api/emails/${tmpl.id}/contact/9999/send`), 404);

    const seg = (await mautic(t, 'POST', '/api/segments/new', { name: 'All' })).body.list;
    expectMauticError(await mautic(t, 'POST', `/api/emails/${news.id}/send`), 422, /lists/);
    const broadcast = await mautic(t, 'POST', `/api/emails/${news.id}/send`, { lists: [seg.id] });
    expect(broadcast.body).toMatchObject({ success: 1, sentCount: 0, failedRecipients: 0, broadcastId: expect.any(Number) });
    expect((await t.json('GET', `/api/v1/broadcasts/${broadcast.body.broadcastId}`)).body).toMatchObject({ email_id: news.id, segment_ids: [seg.id] });
  });

  it('campaigns: list, get, contacts, and add/remove a contact', async () => {
    const t = await makeApp({ memory: true });
    const a = await contact(t, 'a@example.com');
    const camp = (await t.json('POST', '/api/v1/campaigns', { name: 'Nurture', definition: { start: 'w', steps: [{ id: 'w', type: 'wait', wait: { for: { days: 3 } }, next: null }] } })).body;
    expect((await t.json('POST', `/api/v1/campaigns/${camp.id}/publish`)).status).toBe(200);
    const list = await mautic(t, 'GET', '/api/campaigns');
    expect(list.body).toMatchObject({ total: 1, campaigns: [{ id: camp.id, name: 'Nurture', isPublished: true }] });
    expect((await mautic(t, 'GET', `/api/campaigns/${camp.id}`)).body.campaign.name).toBe('Nurture');
    expect((await mautic(t, 'POST', `/api/campaigns/${camp.id}/contact/${a}/add`)).body).toEqual({ success: 1 });
    expect((await mautic(t, 'POST', `/api/campaigns/${camp.id}/contact/${a}/add`)).body).toEqual({ success: 1 }); // already in
    const contacts = await mautic(t, 'GET', `/api/campaigns/${camp.id}/contacts`);
    expect(contacts.body).toMatchObject({ total: '1', contacts: [{ campaign_id: String(camp.id), lead_id: String(a), manually_added: '1', manually_removed: '0' }] });
    expect((await mautic(t, 'GET', `/api/contacts/${a}/campaigns`)).body.campaigns[camp.id]).toMatchObject({ name: 'Nurture', manuallyAdded: true });
    expect((await mautic(t, 'POST', `/api/campaigns/${camp.id}/contact/${a}/remove`)).body).toEqual({ success: 1 });
    expect((await mautic(t, 'GET', `/api/campaigns/${camp.id}/contacts`)).body.contacts[0].manually_removed).toBe('1');
    expectMauticError(await mautic(t, 'POST', `/api/campaigns/${camp.id}/contact/9999/add`), 404);
    expectMauticError(await mautic(t, 'GET', '/api/campaigns/999'), 404);
  });
});
