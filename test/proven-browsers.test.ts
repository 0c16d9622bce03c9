import { describe, it, expect } from 'vitest';
import { makeApp, type TestApp } from './helpers';
import { CHROME_UA, count, makeSite, runJob, sign, track, vid } from './tracking-helpers';
import { memoryStorage } from '../api/core/assets/storage';

// A browser is unproven, claimed (it typed an email into a form) or proven
// (signed identify, API link). Only a proven browser gets anything derived
// from its contact: segment, stage and known/anonymous targeting, progressive
// profiling, gated files its contact unlocked. A claim still counts for scoring.

const ORIGIN = 'https://shop.example.com';
const VICTIM = 'victim@example.com';

let sidSeq = 0;
async function submit(t: TestApp, formId: number, key: string, uid: string, values: Record<string, unknown>) {
  const res = await t.app.request(`/f/${formId}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', origin: ORIGIN, 'user-agent': CHROME_UA },
    body: JSON.stringify({ k: key, v: uid, sid: `proven_${++sidSeq}`, values, t: 5000 }),
  });
  return { status: res.status, body: await res.json() };
}

async function focusIds(t: TestApp, key: string, uid: string) {
  const res = await t.app.request(`/focus?${new URLSearchParams({ k: key, v: uid, u: `${ORIGIN}/` })}`, { headers: { origin: ORIGIN, 'user-agent': CHROME_UA } });
  return ((await res.json()).items as { id: number }[]).map((i) => i.id);
}

async function formFields(t: TestApp, formId: number, key: string, uid: string) {
  const res = await t.app.request(`/f/${formId}?${new URLSearchParams({ k: key, v: uid })}`, { headers: { origin: ORIGIN, 'user-agent': CHROME_UA } });
  const text = await res.text();
  return { keys: (JSON.parse(text).fields as { key: string }[]).map((f) => f.key), text };
}

/** A victim contact with data, a segment it is in, and items targeting it. */
async function world() {
  const t = await makeApp({ storage: memoryStorage() });
  const site = await makeSite(t);
  const victim = await t.json('POST', '/api/v1/contacts', { email: VICTIM, first_name: 'Victoria', city: 'Oslo', tags: ['vip'] });
  const segment = await t.json('POST', '/api/v1/segments', { name: 'VIPs', filter: { tag: 'vip' } });
  expect(segment.body.members).toBe(1);
  const mk = async (targeting: Record<string, unknown>) =>
    (await t.json('POST', '/api/v1/focus-items', { name: 'x', style: { type: 'bar' }, content: { kind: 'notice', heading: 'Hi' }, targeting })).body.id as number;
  const forVips = await mk({ segment_ids: [segment.body.id] });
  const forKnown = await mk({ identity: 'known' });
  const forAnonymous = await mk({ identity: 'anonymous' });
  const form = await t.json('POST', '/api/v1/forms', {
    name: 'Profile',
    fields: [
      { key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true },
      { key: 'first_name', label: 'First name', type: 'text', maps_to: 'first_name' },
      { key: 'city', label: 'City', type: 'text', maps_to: 'city' },
    ],
    progressive_profiling: { enabled: true, max_new_fields: null },
  });
  return { t, site, victimId: victim.body.id as number, forVips, forKnown, forAnonymous, formId: form.body.id as number };
}

describe('a browser that only claimed a contact by typing its email', () => {
  it('sees nothing targeted by that contact, learns nothing from progressive profiling, and still scores', async () => {
    const w = await world();
    const { t, site } = w;
    await t.json('POST', '/api/v1/point-rules', { name: 'Any page', event_type: 'page_view', delta: 3 });
    const attacker = vid('attacker');
    const r = await submit(t, w.formId, site.public_key, attacker, { email: VICTIM });
    expect(r.status).toBe(200);
    // The claim links the browser (its events are the contact's, for scoring)…
    const link = await t.client.execute({ sql: 'SELECT contact_id, proven_at FROM visitors WHERE uid = ?', args: [attacker] });
    expect(Number(link.rows[0]!.contact_id)).toBe(w.victimId);
    expect(link.rows[0]!.proven_at).toBeNull();
    await track(t, { k: site.public_key, v: attacker, e: [{ t: 'pv', u: `${ORIGIN}/pricing` }] });
    await runJob(t);
    expect((await t.json('GET', `/api/v1/contacts/${w.victimId}`)).body.points).toBe(3);

    // …but derives nothing from the contact: treated as anonymous, no segment targeting.
    expect(await focusIds(t, site.public_key, attacker)).toEqual([w.forAnonymous]);
    // Progressive profiling shows every field, as to a stranger: no hint of what the victim filled in.
    const def = await formFields(t, w.formId, site.public_key, attacker);
    expect(def.keys).toEqual(['email', 'first_name', 'city']);
    expect(def.text).not.toContain('Victoria');
  });

  it('does not open a gated file the contact unlocked on another device', async () => {
    const w = await world();
    const { t, site } = w;
    const upload = new FormData();
    upload.set('file', new File([new Uint8Array([37, 80, 68, 70])], 'wp.pdf', { type: 'application/pdf' }));
    upload.set('slug', 'paper');
    upload.set('gate_form_id', String(w.formId));
    const asset = await t.app.request('/api/v1/assets', { method: 'POST', headers: { authorization: `Bearer ${t.keys.admin}` }, body: upload });
    expect(asset.status).toBe(201);
    // The victim submits the form from their own, proven browser.
    const own = vid('victim');
    await track(t, { k: site.public_key, v: own, e: [], id: { email: VICTIM, sig: sign(site.secret, VICTIM) } });
    expect((await submit(t, w.formId, site.public_key, own, { email: VICTIM })).status).toBe(200);
    const get = (uid: string) => t.app.request(`/a/paper?k=${site.public_key}&v=${uid}`, { headers: { 'user-agent': CHROME_UA } });
    expect((await get(own)).status).toBe(200);
    // A second proven browser of the victim's gets it without submitting again.
    const second = vid('victim2');
    await track(t, { k: site.public_key, v: second, e: [], id: { email: VICTIM, sig: sign(site.secret, VICTIM) } });
    expect((await get(second)).status).toBe(200);
    // The attacker's browser claims the victim with another form… and still must submit this one.
    const other = await t.json('POST', '/api/v1/forms', { name: 'Other', fields: [{ key: 'email', label: 'Email', type: 'email', maps_to: 'email' }] });
    const attacker = vid('attacker');
    expect((await submit(t, other.body.id, site.public_key, attacker, { email: VICTIM })).status).toBe(200);
    expect((await get(attacker)).status).toBe(403);
  });
});

describe('a proven browser', () => {
  it('gets the contact’s targeting after a signed identify, and loses it when it claims someone else', async () => {
    const w = await world();
    const { t, site } = w;
    const uid = vid('owner');
    await track(t, { k: site.public_key, v: uid, e: [], id: { email: VICTIM, sig: sign(site.secret, VICTIM) } });
    expect((await focusIds(t, site.public_key, uid)).sort()).toEqual([w.forVips, w.forKnown].sort());
    expect((await formFields(t, w.formId, site.public_key, uid)).keys).toEqual(['email']);
    // Submitting its own email again keeps the proof.
    expect((await submit(t, w.formId, site.public_key, uid, { email: VICTIM, first_name: 'Vic' })).status).toBe(200);
    expect((await focusIds(t, site.public_key, uid)).sort()).toEqual([w.forVips, w.forKnown].sort());
    // Another person typing their email on this browser: the link moves, the proof does not.
    expect((await submit(t, w.formId, site.public_key, uid, { email: 'guest@example.com' })).status).toBe(200);
    expect(await focusIds(t, site.public_key, uid)).toEqual([w.forAnonymous]);
    const link = await t.client.execute({ sql: 'SELECT proven_at FROM visitors WHERE uid = ?', args: [uid] });
    expect(link.rows[0]!.proven_at).toBeNull();
  });

  it('an API link (the site’s backend, with a key) proves the browser', async () => {
    const w = await world();
    const { t, site } = w;
    const r = await t.json('POST', `/api/v1/contacts/${w.victimId}/visitors`, { site_id: site.id, visitor_id: vid('api') });
    expect(r.status).toBeLessThan(300);
    expect((await focusIds(t, site.public_key, vid('api'))).sort()).toEqual([w.forVips, w.forKnown].sort());
  });
});

describe("a form's give_points action", () => {
  it('is scored by a point rule the form owns: listed, refused for direct edits, gone with the form', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const form = await t.json('POST', '/api/v1/forms', {
      name: 'Demo request',
      fields: [{ key: 'email', label: 'Email', type: 'email', maps_to: 'email' }],
      actions: [{ type: 'give_points', points: 20, reason: 'asked for a demo' }],
    });
    const rules = (await t.json('GET', '/api/v1/point-rules')).body.data;
    expect(rules).toEqual([
      expect.objectContaining({ name: 'asked for a demo', event_type: 'form_submit', filter: { form_id: form.body.id }, delta: 20, form_id: form.body.id }),
    ]);
    const ruleId = rules[0].id;
    expect((await t.json('PATCH', `/api/v1/point-rules/${ruleId}`, { delta: 1 })).status).toBe(409);
    expect((await t.json('DELETE', `/api/v1/point-rules/${ruleId}`)).status).toBe(409);

    // An anonymous submitter scores as a visitor; the points follow it to the contact.
    const uid = vid('demo');
    expect((await submit(t, form.body.id, site.public_key, uid, {})).status).toBe(200);
    await runJob(t);
    expect(Number((await t.client.execute({ sql: 'SELECT points FROM visitors WHERE uid = ?', args: [uid] })).rows[0]!.points)).toBe(20);
    expect((await submit(t, form.body.id, site.public_key, uid, { email: 'lead@example.com' })).status).toBe(200);
    await runJob(t);
    const lead = (await t.json('GET', '/api/v1/contacts?q=lead@example.com')).body.data[0];
    expect(lead.points).toBe(40);

    // Changing the form's actions changes its rule; deleting the form removes it (the points given stay).
    await t.json('PATCH', `/api/v1/forms/${form.body.id}`, { actions: [{ type: 'give_points', points: 5 }] });
    expect((await t.json('GET', '/api/v1/point-rules')).body.data.map((r: any) => [r.delta, r.name])).toEqual([[5, 'form submitted']]);
    expect((await t.json('DELETE', `/api/v1/forms/${form.body.id}`)).status).toBe(200);
    expect((await t.json('GET', '/api/v1/point-rules')).body.data).toEqual([]);
    expect((await t.json('GET', `/api/v1/contacts/${lead.id}`)).body.points).toBe(40);
    expect(await count(t, 'SELECT count(*) AS n FROM point_log WHERE contact_id = ?', [lead.id])).toBe(2);
  });
});
