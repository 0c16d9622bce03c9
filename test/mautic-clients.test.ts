// The Mautic-compatible API driven by real clients over real HTTP on 127.0.0.1: the npm library
// node-mautic, unmodified, and requests shaped exactly as n8n's Mautic node sends them (see
// mauticRequest below), including its "return all" paging loop, which must come to an end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import MauticConnector from 'node-mautic';
import { makeApp, type TestApp } from './helpers';

let t: TestApp;
let base: string;
let server: ReturnType<typeof serve>;

beforeAll(async () => {
  t = await makeApp({ memory: true });
  server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1', createServer });
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const connector = (password = t.keys.admin) => new MauticConnector({ apiUrl: base, username: 'someone', password, timeoutInSeconds: 10 });
// The library's typings lag its code in a few signatures (optional arguments with defaults); these
// calls use the code's defaults, so they go through an untyped view of the same object.
const loose = (m: MauticConnector) => m as unknown as Record<string, Record<string, (...a: unknown[]) => Promise<any>>>;

describe('node-mautic (npm), unmodified', () => {
  it('creates, reads, queries, edits, scores, marks do-not-contact and deletes contacts', async () => {
    const m = connector();
    const created = await m.contacts.createContact({ email: 'lib@example.com', firstname: 'Libby', lastname: undefined, company: 'Lib Co' });
    const id = created.contact.id;
    expect(created.contact.fields.all).toMatchObject({ email: 'lib@example.com', firstname: 'Libby', company: 'Lib Co' });
    expect((await m.contacts.getContact(id)).contact.id).toBe(id);
    const listed = await m.contacts.listContacts({ search: 'email:lib@', limit: 5 });
    expect(listed.total).toBe('1');
    expect(Object.values(listed.contacts)).toHaveLength(1);
    expect((await m.contacts.getContactByEmailAddress('lib@example.com')).total).toBe('1');
    // queryContacts builds where[n][col|val|expr=eq] (without encoding the value).
    const queried = await m.contacts.queryContacts({ email: 'lib@example.com', firstname: 'Libby' });
    expect(Object.keys(queried.contacts)).toEqual([String(id)]);
    const edited = await m.contacts.editContact('PATCH', { city: 'Graz' }, id);
    expect(edited.contact.fields.all).toMatchObject({ city: 'Graz', firstname: 'Libby' });
    expect(await loose(m).contacts!.addPoints!(id, null, 12)).toEqual({ success: 1 });
    expect(await m.contacts.subtractPoints(id, { eventname: 'API', actionname: 'refund' }, 2)).toEqual({ success: 1 });
    expect((await m.contacts.getContact(id)).contact.points).toBe(10);
    const dnc = await loose(m).contacts!.addDoNotContact!(id);
    expect(dnc.contact.doNotContact).toEqual([expect.objectContaining({ channel: 'email', reason: 3 })]);
    expect((await m.contacts.removeDoNotContact(id, 'email')).recordFound).toBe(true);
    expect((await m.contacts.getContactCompanies(id)).companies[0].companyname).toBe('Lib Co');
    expect((await m.contacts.getSegmentMemberships(id)).total).toBe(0);
    expect((await m.contacts.getCampaignMemberships(id)).total).toBe(0);
    expect((await m.contacts.getActivityEventsForContact(id, {})).events.length).toBeGreaterThan(0);
    expect((await m.contacts.deleteContact(id)).contact.id).toBeNull();
    await expect(m.contacts.getContact(id)).rejects.toThrow(/404: .*not found/);
  });

  it('segments, companies, stages, fields, emails, campaigns and users/self', async () => {
    const m = connector();
    const id = (await m.contacts.createContact({ email: 'lib2@example.com' })).contact.id;
    const seg = (await m.segments.createSegment({ name: 'From node-mautic' })).list;
    expect(await m.segments.addContactToSegment(seg.id, id)).toEqual({ success: 1 });
    expect((await m.segments.listSegments()).lists.map((s: { id: number }) => s.id)).toContain(seg.id);
    expect(await m.segments.removeContactFromSegment(seg.id, id)).toEqual({ success: 1 });
    const co = (await m.companies.createCompany({ companyname: 'NodeCo' })).company;
    expect(await m.companies.addContactToCompany(co.id, id)).toEqual({ success: 1 });
    expect(Object.keys((await m.companies.listContactCompanies({ search: 'nodeco' })).companies)).toEqual([String(co.id)]);
    expect(await m.companies.removeContactFromCompany(co.id, id)).toEqual({ success: 1 });
    const stage = (await m.stages.listStages()).stages[0];
    expect(await m.stages.addContactToStage(stage.id, id)).toEqual({ success: 1 });
    expect((await m.contacts.getContact(id)).contact.stage.id).toBe(stage.id);
    expect((await m.fields.listContactFields('contact')).fields.map((f: { alias: string }) => f.alias)).toContain('firstname');
    expect((await m.fields.listContactFields('company')).fields.map((f: { alias: string }) => f.alias)).toContain('companyname');
    expect((await m.users.getSelfUser()).role.isAdmin).toBe(true);
    const email = (await t.json('POST', '/api/v1/emails', { name: 'Lib mail', subject: 'Hi', html: '<p>Hi</p>' })).body;
    expect((await loose(m).emails!.listEmails!()).emails.map((e: { id: number }) => e.id)).toContain(email.id);
    expect(await loose(m).emails!.sendEmailToContact!(email.id, id)).toEqual({ success: true });
    const camp = (await t.json('POST', '/api/v1/campaigns', { name: 'Lib flow', definition: { start: 'w', steps: [{ id: 'w', type: 'wait', wait: { for: { days: 1 } }, next: null }] } })).body;
    await t.json('POST', `/api/v1/campaigns/${camp.id}/publish`);
    expect(await m.campaigns.addContactToCampaign(camp.id, id)).toEqual({ success: 1 });
    expect((await m.campaigns.listCampaignContacts(camp.id)).total).toBe('1');
    expect(await m.campaigns.removeContactFromCampaign(camp.id, id)).toEqual({ success: 1 });
  });

  it('reports a wrong key as Mautic’s 401 error, which the library turns into its error', async () => {
    await expect(connector('ll_not_a_real_key').contacts.listContacts({})).rejects.toThrow(/401: API authorization denied/);
    await expect(connector(t.keys.read).contacts.createContact({ email: 'nope@example.com' })).rejects.toThrow(/403: .*write/);
  });
});

/**
 * One request as n8n's Mautic node makes it (GenericFunctions.ts, mauticApiRequest): the
 * `request`-style options { method, uri: `${url}/api${endpoint}`, qs, body (default {}), json: true }
 * sent with the mauticApi credential's Basic auth. With json: true the body {} goes out as JSON
 * on every method, GET included, with Content-Type and Accept application/json.
 */
function mauticRequest(method: string, endpoint: string, body: unknown = {}, qs: Record<string, unknown> = {}, password = t.keys.admin): Promise<any> {
  const url = new URL(`${base}/api${endpoint}`);
  for (const [k, v] of Object.entries(qs)) if (v !== undefined) url.searchParams.append(k, String(v));
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        headers: {
          authorization: `Basic ${Buffer.from(`n8n-user:${password}`).toString('base64')}`,
          accept: 'application/json',
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          const parsed = JSON.parse(text);
          // n8n: "They seem to sometimes return 200 status but still error."
          if ((res.statusCode ?? 500) >= 400 || parsed.errors) reject(Object.assign(new Error(`${res.statusCode} ${text}`), { status: res.statusCode, body: parsed }));
          else resolve(parsed);
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * n8n's "return all" (mauticApiRequestAllItems): limit 30, start 0, then start += 30 while the
 * values collected are fewer than parseInt(total). Bounded here so that a server that never
 * lets it end fails the test instead of hanging it.
 */
async function allItems(property: string, endpoint: string, query: Record<string, unknown> = {}) {
  const qs: Record<string, unknown> = { ...query, limit: 30, start: 0 };
  let all: unknown[] = [];
  let calls = 0;
  let res: any;
  do {
    if (++calls > 50) throw new Error(`n8n's paging loop over ${endpoint} did not end after 50 requests`);
    res = await mauticRequest('GET', endpoint, {}, qs);
    all = all.concat(Object.values(res[property]));
    qs.start = (qs.start as number) + (qs.limit as number);
  } while (res.total !== undefined && all.length - parseInt(res.total, 10) < 0);
  return { items: all as any[], calls };
}

describe('requests shaped as n8n’s Mautic node sends them', () => {
  it('the paging loop ends, with every item once, for contacts (with n8n’s options), companies, tags, stages, segments, fields, emails and campaigns', async () => {
    const rows = Array.from({ length: 65 }, (_, i) => ({ email: `n8n-${String(i).padStart(2, '0')}@example.com`, firstname: `N${i}`, tags: ['n8n'] }));
    expect((await mauticRequest('POST', '/contacts/batch/new', rows)).statusCodes.every((s: number) => s === 201)).toBe(true);
    for (let i = 0; i < 33; i++) await mauticRequest('POST', '/companies/new', { companyname: `Company ${i}` });
    // n8n copies its options into the query: search, orderBy (snake_cased), orderByDir, rawData, …
    const contacts = await allItems('contacts', '/contacts', { search: 'tag:n8n', orderBy: 'date_added', orderByDir: 'desc', rawData: false, publishedOnly: false, minimal: false });
    expect(contacts.items).toHaveLength(65);
    expect(new Set(contacts.items.map((c) => c.id)).size).toBe(65);
    expect(contacts.calls).toBe(3);
    const companies = await allItems('companies', '/companies');
    expect(companies.items.map((c) => c.fields.all.companyname)).toContain('Company 32');
    expect(companies.items.length).toBeGreaterThanOrEqual(33);
    expect((await allItems('tags', '/tags')).items.map((x) => x.tag)).toContain('n8n');
    expect((await allItems('stages', '/stages')).items.every((s) => typeof s.name === 'string' && typeof s.id === 'number')).toBe(true);
    for (const [prop, endpoint] of [['lists', '/segments'], ['emails', '/emails'], ['campaigns', '/campaigns']]) {
      const { items } = await allItems(prop!, endpoint!);
      expect(items.every((x) => typeof x.id === 'number' && typeof x.name === 'string'), endpoint).toBe(true);
    }
    const fields = await allItems('fields', '/fields/contact');
    expect(fields.calls).toBe(1);
    expect(fields.items.map((f) => f.alias)).toEqual(expect.arrayContaining(['email', 'firstname', 'company']));
    // n8n's getIndustries: iterates properties.list of the companyindustry field.
    const industry = (await allItems('fields', '/fields/company')).items.find((f) => f.alias === 'companyindustry');
    const choices = (industry.properties.list as { label: string; value: string }[]).map(({ label, value }) => ({ name: label, value }));
    expect(choices.length).toBeGreaterThan(10);
  });

  it('create, update, get, points, do-not-contact, segment, campaign and company membership, send, delete', async () => {
    // The node's create without JSON parameters: every field it shows, blank ones included.
    const created = await mauticRequest('POST', '/contacts/new', { email: 'flow@example.com', firstname: 'Flo', lastname: 'W', company: '', position: '', title: '', tags: ['flow'] });
    const id = created.contact.id;
    expect(created.contact.fields.all).toMatchObject({ email: 'flow@example.com', firstname: 'Flo', company: null, position: null });
    const updated = await mauticRequest('PATCH', `/contacts/${id}/edit`, { lastname: 'Wu', ipAddress: '203.0.113.9' });
    expect(updated.contact.fields.all).toMatchObject({ firstname: 'Flo', lastname: 'Wu' });
    expect((await mauticRequest('GET', `/contacts/${id}`)).contact.fields.all.lastname).toBe('Wu');
    expect(await mauticRequest('POST', `/contacts/${id}/points/plus/7`)).toEqual({ success: 1 });
    expect(await mauticRequest('POST', `/contacts/${id}/points/minus/2`)).toEqual({ success: 1 });
    const dnc = await mauticRequest('POST', `/contacts/${id}/dnc/email/add`, { reason: 1, comments: 'via n8n' });
    expect(dnc.contact.doNotContact[0]).toMatchObject({ reason: 1, comments: 'via n8n' });
    expect((await mauticRequest('POST', `/contacts/${id}/dnc/email/remove`)).contact.doNotContact).toEqual([]);
    const seg = (await mauticRequest('POST', '/segments/new', { name: 'n8n segment' })).list;
    expect(await mauticRequest('POST', `/segments/${seg.id}/contact/${id}/add`)).toEqual({ success: 1 });
    expect(await mauticRequest('POST', `/segments/${seg.id}/contact/${id}/remove`)).toEqual({ success: 1 });
    const co = (await mauticRequest('POST', '/companies/new', { companyname: 'Flow Inc', companyemail: 'hi@flow.example' })).company;
    expect(co.fields.all.companyname).toBe('Flow Inc');
    expect(await mauticRequest('POST', `/companies/${co.id}/contact/${id}/add`, {})).toEqual({ success: 1 });
    expect(await mauticRequest('POST', `/companies/${co.id}/contact/${id}/remove`, {})).toEqual({ success: 1 });
    const camp = (await t.json('POST', '/api/v1/campaigns', { name: 'n8n flow', definition: { start: 'w', steps: [{ id: 'w', type: 'wait', wait: { for: { days: 1 } }, next: null }] } })).body;
    await t.json('POST', `/api/v1/campaigns/${camp.id}/publish`);
    expect(await mauticRequest('POST', `/campaigns/${camp.id}/contact/${id}/add`)).toEqual({ success: 1 });
    expect(await mauticRequest('POST', `/campaigns/${camp.id}/contact/${id}/remove`)).toEqual({ success: 1 });
    const email = (await t.json('POST', '/api/v1/emails', { name: 'n8n mail', subject: 'Hi', html: '<p>Hi</p>' })).body;
    expect(await mauticRequest('POST', `/emails/${email.id}/contact/${id}/send`)).toEqual({ success: true });
    const company = await mauticRequest('PATCH', `/companies/${co.id}/edit`, { companyname: 'Flow GmbH' });
    expect(company.company.fields.all.companyname).toBe('Flow GmbH');
    expect((await mauticRequest('DELETE', `/companies/${co.id}/delete`)).company.id).toBeNull();
    expect((await mauticRequest('DELETE', `/contacts/${id}/delete`)).contact.id).toBeNull();
    await expect(mauticRequest('GET', `/contacts/${id}`)).rejects.toMatchObject({ status: 404, body: { errors: [{ code: 404 }] } });
    await expect(mauticRequest('GET', '/contacts', {}, {}, 'wrong')).rejects.toMatchObject({ status: 401, body: { errors: [{ code: 401, type: 'access_denied' }] } });
  });
});
