// Campaigns (issue 11): every node type against the real database and the real scheduler, on a
// clock the test controls (waits of days run in milliseconds). Each test builds a small campaign,
// enrolls contacts, moves the clock and runs the scheduler and the spine like the jobs do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeApp, type TestApp } from './helpers';
import { upsertContacts } from '../api/core/contacts/upsert';
import { archiveCampaign, createCampaign, pauseCampaign, publishCampaign, resumeCampaign, updateCampaign } from '../api/core/campaigns/campaigns';
import { contactCampaigns, enrollContacts } from '../api/core/campaigns/membership';
import { campaignReport, retryFailed } from '../api/core/campaigns/reports';
import { runCampaigns } from '../api/core/campaigns/run';
import { runReactions } from '../api/core/spine/run';
import { runWebhooks, signWebhook } from '../api/core/scoring/webhooks';
import { splitBranch } from '../api/core/campaigns/steps';

const DAY = 86_400_000;
const HOUR = 3_600_000;

interface World {
  t: TestApp;
  tick: (ms: number) => void;
  at: (iso: string) => void;
  now: () => number;
  ids: number[];
  email: (kind?: string) => Promise<number>;
  segment: (members: number[]) => Promise<number>;
  campaign: (definition: Record<string, unknown>, opts?: { publish?: boolean }) => Promise<number>;
  /** Runs the spine and the scheduler until nothing is due (both, as the jobs would). */
  settle: () => Promise<void>;
  path: (contactId: number, campaignId?: number) => Promise<string[]>;
  pass: (contactId: number, campaignId: number) => Promise<any>;
  event: (contactId: number, type: string, extra?: { name?: string; url?: string; props?: Record<string, unknown> }) => Promise<void>;
}

async function world(n = 4): Promise<World> {
  let clock = Date.parse('2026-11-20T10:00:00Z');
  const t = await makeApp({ now: () => clock });
  const out = await upsertContacts({ ctx: t.ctx, input: { rows: Array.from({ length: n }, (_, i) => ({ email: `c${i}@example.com`, first_name: `C${i}` })) } });
  const ids = out.results.map((r: any) => r.id as number);
  let serial = 0;
  const w: World = {
    t,
    ids,
    tick: (ms) => void (clock += ms),
    at: (iso) => void (clock = Date.parse(iso)),
    now: () => clock,
    email: async (kind = 'template') => {
      const e = await t.json('POST', '/api/v1/emails', { name: `E${++serial}`, kind, subject: `S${serial}`, html: '<p>Hi {{ contact.first_name }} {{ lead.email }}</p>' });
      expect(e.status).toBe(201);
      return e.body.id;
    },
    segment: async (members) => {
      const s = await t.json('POST', '/api/v1/segments', { name: `Seg${++serial}`, kind: 'static' });
      expect(s.status).toBe(201);
      for (const m of members) expect((await t.call('PUT', `/api/v1/segments/${s.body.id}/members/${m}`)).status).toBeLessThan(300);
      return s.body.id;
    },
    campaign: async (definition, opts = {}) => {
      const c = await createCampaign({ ctx: t.ctx, input: { name: `Camp${++serial}`, definition: { sources: [], goals: [], reentry: 'never', ...definition } as any } });
      if (opts.publish !== false) await publishCampaign({ ctx: t.ctx, input: { id: c.id } });
      return c.id;
    },
    settle: async () => {
      for (let i = 0; i < 20; i++) {
        await runReactions(t.ctx);
        const r = await runCampaigns(t.ctx);
        if (!r.claimed) {
          await runReactions(t.ctx);
          if (!(await runCampaigns(t.ctx)).claimed) return;
        }
      }
      throw new Error('the campaign did not settle');
    },
    path: async (contactId, campaignId) => {
      const r = await t.client.execute({
        sql: `SELECT step_id, status, branch FROM campaign_steps WHERE contact_id = ? ${campaignId ? 'AND campaign_id = ?' : ''} ORDER BY id`,
        args: campaignId ? [contactId, campaignId] : [contactId],
      });
      return r.rows.map((x) => `${x.step_id}:${x.status}${x.branch === null ? '' : ':' + x.branch}`);
    },
    pass: async (contactId, campaignId) => (await contactCampaigns({ ctx: t.ctx, input: { contactId, limit: 100 } })).data.find((p: any) => p.campaign.id === campaignId),
    event: async (contactId, type, extra = {}) => {
      await t.client.execute({
        sql: 'INSERT INTO events (contact_id, type, name, url, props, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        args: [contactId, type, extra.name ?? null, extra.url ?? null, extra.props ? JSON.stringify(extra.props) : null, clock],
      });
    },
  };
  return w;
}

const enroll = (w: World, id: number, contacts: number[]) => enrollContacts({ ctx: w.t.ctx, input: { id, contactIds: contacts } });
const tagsOf = async (w: World, id: number) =>
  (await w.t.client.execute({ sql: 'SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = ? ORDER BY t.name', args: [id] })).rows.map((r) => String(r.name));

describe('actions', () => {
  it('send email queues one send per contact and pass; a do-not-contact contact skips the step with the reason and goes on', async () => {
    const w = await world(3);
    const e = await w.email();
    expect((await w.t.call('PUT', `/api/v1/contacts/${w.ids[2]}/do-not-contact/email`, { reason: 'manual' })).status).toBe(200);
    const c = await w.campaign({ start: 'send', steps: [{ id: 'send', type: 'action', action: { type: 'send_email', email_id: e }, next: 'tag' }, { id: 'tag', type: 'action', action: { type: 'add_tags', tags: ['after'] }, next: null }] });
    await enroll(w, c, w.ids);
    await w.settle();
    const sends = await w.t.client.execute({ sql: 'SELECT contact_id, status, skip_reason, reason FROM email_sends WHERE email_id = ? ORDER BY contact_id', args: [e] });
    expect(sends.rows.map((r) => [Number(r.contact_id), r.status === 'skipped' ? r.skip_reason : 'queued', r.reason])).toEqual([
      [w.ids[0], 'queued', `campaign:${c}:send:1`],
      [w.ids[1], 'queued', `campaign:${c}:send:1`],
      [w.ids[2], 'do_not_contact', `campaign:${c}:send:1`],
    ]);
    expect(await w.path(w.ids[2]!)).toEqual(['send:skipped', 'tag:done']);
    const rep = await campaignReport({ ctx: w.t.ctx, input: { id: c } });
    expect(rep.steps[0]).toMatchObject({ step_id: 'send', completed: 2, skipped: 1, skip_reasons: { do_not_contact: 1 } });
    expect(rep.passes).toMatchObject({ entered: 3, completed: 3, active: 0 });
  });

  it('tags, stage, points, fields and segment membership change the contact', async () => {
    const w = await world(1);
    const stages = await w.t.json('GET', '/api/v1/stages');
    const stage = stages.body.data[1].id;
    const seg = await w.segment([]);
    await w.t.call('POST', `/api/v1/contacts/${w.ids[0]}/tags`, { tags: ['old'] });
    const c = await w.campaign({
      start: 'a',
      steps: [
        { id: 'a', type: 'action', action: { type: 'add_tags', tags: ['Lead', 'vip'] }, next: 'b' },
        { id: 'b', type: 'action', action: { type: 'remove_tags', tags: ['old'] }, next: 'c' },
        { id: 'c', type: 'action', action: { type: 'change_stage', stage_id: stage }, next: 'd' },
        { id: 'd', type: 'action', action: { type: 'points', op: 'add', value: 15 }, next: 'e' },
        { id: 'e', type: 'action', action: { type: 'points', op: 'subtract', value: 5 }, next: 'f' },
        { id: 'f', type: 'action', action: { type: 'set_fields', fields: { city: 'Lyon', job_title: 'CTO' } }, next: 'g' },
        { id: 'g', type: 'action', action: { type: 'add_to_segment', segment_id: seg }, next: null },
      ],
    });
    await enroll(w, c, w.ids);
    await w.settle();
    const contact = (await w.t.json('GET', `/api/v1/contacts/${w.ids[0]}`)).body;
    expect(contact).toMatchObject({ city: 'Lyon', job_title: 'CTO', points: 10 });
    const row = await w.t.client.execute({ sql: 'SELECT stage_id FROM contacts WHERE id = ?', args: [w.ids[0]!] });
    expect(Number(row.rows[0]!.stage_id)).toBe(stage);
    expect(await tagsOf(w, w.ids[0]!)).toEqual(['lead', 'vip']);
    const members = await w.t.client.execute({ sql: 'SELECT 1 FROM segment_members WHERE segment_id = ? AND contact_id = ?', args: [seg, w.ids[0]!] });
    expect(members.rows.length).toBe(1);
    const set = await w.campaign({ start: 'p', steps: [{ id: 'p', type: 'action', action: { type: 'points', op: 'set', value: 3 }, next: 'r' }, { id: 'r', type: 'action', action: { type: 'remove_from_segment', segment_id: seg }, next: null }] });
    await enroll(w, set, w.ids);
    await w.settle();
    expect((await w.t.json('GET', `/api/v1/contacts/${w.ids[0]}`)).body.points).toBe(3);
    expect((await w.t.client.execute({ sql: 'SELECT 1 FROM segment_members WHERE segment_id = ?', args: [seg] })).rows.length).toBe(0);
  });

  describe('webhook and notify', () => {
    let server: Server;
    let url = '';
    const got: { headers: Record<string, unknown>; body: string }[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (d) => (body += d));
        req.on('end', () => {
          got.push({ headers: req.headers, body });
          res.end('ok');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    });
    afterAll(() => server.close());

    it('a webhook step is delivered once, signed with the campaign secret; notify emails the owner named by a field', async () => {
      const w = await world(2);
      const note = await w.email('transactional');
      await w.t.call('PATCH', `/api/v1/contacts/${w.ids[0]}`, { fields: {} }).catch(() => null);
      await w.t.client.execute({ sql: `UPDATE contacts SET custom = json_object('owner_email', 'rep@example.com') WHERE id = ?`, args: [w.ids[0]!] });
      const created = await createCampaign({
        ctx: w.t.ctx,
        input: {
          name: 'Hand-off',
          definition: {
            sources: [], goals: [], reentry: 'never', start: 'hook',
            steps: [
              { id: 'hook', type: 'action', action: { type: 'webhook', url }, next: 'tell' },
              { id: 'tell', type: 'action', action: { type: 'notify', email_id: note, to_field: 'fields.owner_email' }, next: null },
            ],
          } as any,
        },
      });
      await publishCampaign({ ctx: w.t.ctx, input: { id: created.id } });
      await enroll(w, created.id, w.ids);
      await w.settle();
      await runWebhooks(w.t.ctx);
      await runWebhooks(w.t.ctx);
      expect(got.length).toBe(2);
      const body = JSON.parse(got[0]!.body);
      expect(body.type).toBe('campaign.action');
      expect(body.data.about.campaign.id).toBe(created.id);
      const sig = String(got[0]!.headers['leadline-signature']);
      const t = Number(sig.split(',')[0]!.slice(2));
      expect(sig).toBe(await signWebhook(created.secret!, got[0]!.body, t));
      // Only the contact with an owner has someone to tell; the other's step is skipped, visibly.
      const sends = await w.t.client.execute({ sql: 'SELECT to_email, variables FROM email_sends WHERE email_id = ?', args: [note] });
      expect(sends.rows.map((r) => r.to_email)).toEqual(['rep@example.com']);
      expect(JSON.parse(String(sends.rows[0]!.variables)).lead.email).toBe('c0@example.com');
      expect(await w.path(w.ids[1]!)).toEqual(['hook:done', 'tell:skipped']);
    });
  });

  it('enroll moves contacts into another campaign; exit ends the pass there and then', async () => {
    const w = await world(1);
    const other = await w.campaign({ start: 'x', steps: [{ id: 'x', type: 'action', action: { type: 'add_tags', tags: ['other'] }, next: null }] });
    const c = await w.campaign({
      start: 'go',
      steps: [
        { id: 'go', type: 'action', action: { type: 'enroll', campaign_id: other }, next: 'out' },
        { id: 'out', type: 'action', action: { type: 'exit' }, next: 'never' },
        { id: 'never', type: 'action', action: { type: 'add_tags', tags: ['never'] }, next: null },
      ],
    });
    await enroll(w, c, w.ids);
    await w.settle();
    expect(await tagsOf(w, w.ids[0]!)).toEqual(['other']);
    expect((await w.pass(w.ids[0]!, c)).status).toBe('exited');
    expect((await w.pass(w.ids[0]!, c)).end_reason).toBe('exit_step');
    expect((await w.pass(w.ids[0]!, other)).source).toBe(`campaign:${c}`);
  });
});

describe('decisions', () => {
  const decisionCampaign = (w: World, on: unknown, timeout = { hours: 2 }) =>
    w.campaign({
      start: 'd',
      steps: [
        { id: 'd', type: 'decision', on, timeout, yes: 'y', no: 'n' },
        { id: 'y', type: 'action', action: { type: 'add_tags', tags: ['yes'] }, next: null },
        { id: 'n', type: 'action', action: { type: 'add_tags', tags: ['no'] }, next: null },
      ],
    });

  it('a click moves the contact on in the same spine run, not at the timeout; a scanner click does not', async () => {
    const w = await world(3);
    const e = await w.email();
    const c = await decisionCampaign(w, { event: 'email_clicked', email_id: e, url: { op: 'contains', value: '/pricing' } });
    await enroll(w, c, w.ids);
    await w.settle();
    expect(await w.path(w.ids[0]!)).toEqual(['d:waiting']);
    w.tick(60_000);
    await w.event(w.ids[0]!, 'email_clicked', { url: 'https://shop.example.com/pricing?x=1', props: { email_id: e } });
    await w.event(w.ids[1]!, 'email_clicked', { url: 'https://shop.example.com/pricing', props: { email_id: e, machine: true } });
    await w.event(w.ids[2]!, 'email_clicked', { url: 'https://shop.example.com/blog', props: { email_id: e } });
    // One spine run: the reaction decides, and the steps it made due run right after it.
    await runReactions(w.t.ctx);
    expect(await w.path(w.ids[0]!)).toEqual(['d:done:yes', 'y:done']);
    expect(await w.path(w.ids[1]!)).toEqual(['d:waiting']);
    w.tick(2 * HOUR);
    await w.settle();
    expect(await w.path(w.ids[1]!)).toEqual(['d:done:no', 'n:done']);
    expect(await w.path(w.ids[2]!)).toEqual(['d:done:no', 'n:done']);
    const rep = await campaignReport({ ctx: w.t.ctx, input: { id: c } });
    expect(rep.steps.find((s: any) => s.step_id === 'd')!.branches).toEqual({ yes: 1, no: 2 });
  });

  it.each([
    ['page visit', { event: 'page_view', url: { op: 'starts_with', value: 'https://shop.example.com/pricing' } }, ['page_view', { url: 'https://shop.example.com/pricing/team' }]],
    ['form', { event: 'form_submit', form_id: 7 }, ['form_submit', { props: { form_id: 7 } }]],
    ['asset', { event: 'asset_download', asset_id: 3 }, ['asset_download', { props: { asset_id: 3 } }]],
    ['custom event', { event: 'custom', name: 'trial_started' }, ['custom', { name: 'trial_started' }]],
    ['email open', { event: 'email_opened' }, ['email_opened', { props: { email_id: 1 } }]],
  ] as const)('%s: yes when it happens before the timeout, no after', async (_label, on, [type, extra]) => {
    const w = await world(2);
    const c = await decisionCampaign(w, on);
    await enroll(w, c, w.ids);
    await w.settle();
    w.tick(HOUR);
    await w.event(w.ids[0]!, type, extra as any);
    w.tick(2 * HOUR);
    await w.event(w.ids[1]!, type, extra as any);
    await w.settle();
    expect(await w.path(w.ids[0]!)).toEqual(['d:done:yes', 'y:done']);
    expect(await w.path(w.ids[1]!)).toEqual(['d:done:no', 'n:done']);
  });

  it('points threshold and stage: yes at once when already reached, or when reached while waiting', async () => {
    const w = await world(3);
    const stages = (await w.t.json('GET', '/api/v1/stages')).body.data;
    await w.t.call('POST', `/api/v1/contacts/${w.ids[0]}/points`, { op: 'add', value: 50, reason: 'test' });
    const c = await decisionCampaign(w, { points_at_least: 40 });
    const s = await decisionCampaign(w, { stage_id: stages[2].id });
    await enroll(w, c, w.ids);
    await enroll(w, s, w.ids);
    await w.settle();
    expect(await w.path(w.ids[0]!, c)).toEqual(['d:done:yes', 'y:done']);
    await w.t.call('POST', `/api/v1/contacts/${w.ids[1]}/points`, { op: 'add', value: 45, reason: 'test' });
    await w.t.call('PUT', `/api/v1/contacts/${w.ids[1]}/stage`, { stage_id: stages[3].id });
    await w.settle();
    expect(await w.path(w.ids[1]!, c)).toEqual(['d:done:yes', 'y:done']);
    expect(await w.path(w.ids[1]!, s)).toEqual(['d:done:yes', 'y:done']);
    expect(await w.path(w.ids[2]!, c)).toEqual(['d:waiting']);
  });
});

describe('conditions, splits and waits', () => {
  it('a condition branches now on any segment filter, segment membership or do-not-contact', async () => {
    const w = await world(3);
    const seg = await w.segment([w.ids[1]!]);
    await w.t.call('POST', `/api/v1/contacts/${w.ids[0]}/tags`, { tags: ['customer'] });
    expect((await w.t.call('PUT', `/api/v1/contacts/${w.ids[2]}/do-not-contact/email`, { reason: 'manual' })).status).toBe(200);
    const c = await w.campaign({
      start: 'tag',
      steps: [
        { id: 'tag', type: 'condition', filter: { tag: 'customer' }, yes: 'a', no: 'seg' },
        { id: 'seg', type: 'condition', filter: { segment: seg }, yes: 'b', no: 'dnc' },
        { id: 'dnc', type: 'condition', filter: { dnc: 'email' }, yes: 'c', no: null },
        { id: 'a', type: 'action', action: { type: 'add_tags', tags: ['a'] }, next: null },
        { id: 'b', type: 'action', action: { type: 'add_tags', tags: ['b'] }, next: null },
        { id: 'c', type: 'action', action: { type: 'add_tags', tags: ['c'] }, next: null },
      ],
    });
    await enroll(w, c, w.ids);
    await w.settle();
    expect(await w.path(w.ids[0]!)).toEqual(['tag:done:yes', 'a:done']);
    expect(await w.path(w.ids[1]!)).toEqual(['tag:done:no', 'seg:done:yes', 'b:done']);
    expect(await w.path(w.ids[2]!)).toEqual(['tag:done:no', 'seg:done:no', 'dnc:done:yes', 'c:done']);
  });

  it('a split sends each contact down the same branch every time, in about its percentages', async () => {
    const w = await world(200);
    const def = { id: 'ab', type: 'split', branches: [{ percent: 30, next: 'a' }, { percent: 70, next: 'b' }] } as const;
    const c = await w.campaign({
      start: 'ab',
      steps: [def, { id: 'a', type: 'action', action: { type: 'add_tags', tags: ['a'] }, next: null }, { id: 'b', type: 'action', action: { type: 'add_tags', tags: ['b'] }, next: null }],
    });
    await enroll(w, c, w.ids);
    await w.settle();
    const rows = await w.t.client.execute({ sql: "SELECT contact_id, branch FROM campaign_steps WHERE step_id = 'ab' AND campaign_id = ?", args: [c] });
    for (const r of rows.rows) expect(String(splitBranch(def as any, c, Number(r.contact_id)))).toBe(String(r.branch));
    const a = rows.rows.filter((r) => r.branch === '0').length;
    expect(a).toBeGreaterThan(40);
    expect(a).toBeLessThan(80);
  });

  it('waits: a duration, a date, and a weekday window in the contact’s own time zone', async () => {
    const w = await world(3);
    w.at('2026-11-23T10:00:00Z'); // a Monday
    await w.t.client.execute({ sql: `UPDATE contacts SET custom = json_object('timezone', 'America/New_York') WHERE id = ?`, args: [w.ids[1]!] });
    await w.t.client.execute({ sql: `UPDATE contacts SET custom = json_object('timezone', 'Asia/Tokyo') WHERE id = ?`, args: [w.ids[2]!] });
    const c = await w.campaign({
      start: 'win',
      steps: [
        { id: 'win', type: 'wait', wait: { window: { days: ['tue'], from: '09:00', to: '11:00' } }, next: 'dur' },
        { id: 'dur', type: 'wait', wait: { for: { days: 2 } }, next: 'date' },
        { id: 'date', type: 'wait', wait: { until: '2026-11-27T12:00:00Z' }, next: 'end' },
        { id: 'end', type: 'action', action: { type: 'add_tags', tags: ['done'] }, next: null },
      ],
    });
    await enroll(w, c, w.ids);
    await w.settle();
    const due = async () =>
      Object.fromEntries((await w.t.client.execute({ sql: "SELECT contact_id, due_at FROM campaign_steps WHERE status = 'waiting' AND campaign_id = ?", args: [c] })).rows.map((r) => [Number(r.contact_id), new Date(Number(r.due_at)).toISOString()]));
    expect(await due()).toEqual({
      [w.ids[0]!]: '2026-11-24T09:00:00.000Z',
      [w.ids[1]!]: '2026-11-24T14:00:00.000Z',
      [w.ids[2]!]: '2026-11-24T00:00:00.000Z',
    });
    w.at('2026-11-24T09:30:00Z');
    await w.settle();
    // Tokyo and UTC are in their window; New York's opens at 14:00 UTC.
    expect(await w.path(w.ids[0]!)).toEqual(['win:done', 'dur:waiting']);
    expect(await w.path(w.ids[1]!)).toEqual(['win:waiting']);
    w.at('2026-11-26T09:30:00Z');
    await w.settle();
    // Two days after 09:30 on Tuesday; the date (Friday noon) is still ahead.
    expect(await w.path(w.ids[0]!)).toEqual(['win:done', 'dur:done', 'date:waiting']);
    w.at('2026-11-27T12:00:00Z');
    await w.settle();
    expect(await w.path(w.ids[0]!)).toEqual(['win:done', 'dur:done', 'date:done', 'end:done']);
    // New York: window at 14:00 UTC Tuesday, two days → Thursday 14:00, then Friday noon has passed… not yet.
    w.at('2026-11-30T00:00:00Z');
    await w.settle();
    expect(await w.path(w.ids[1]!)).toEqual(['win:done', 'dur:done', 'date:done', 'end:done']);
  });

  it('a window across the end of daylight saving time opens at 9:00 local on both sides', async () => {
    const w = await world(1);
    await w.t.client.execute({ sql: `UPDATE contacts SET custom = json_object('timezone', 'Europe/Berlin') WHERE id = ?`, args: [w.ids[0]!] });
    w.at('2026-10-24T12:00:00Z'); // Saturday, CEST (UTC+2); clocks go back on Sunday the 25th
    const c = await w.campaign({ start: 'win', steps: [{ id: 'win', type: 'wait', wait: { window: { days: ['mon'], from: '09:00', to: '10:00' } }, next: null }] });
    await enroll(w, c, w.ids);
    await w.settle();
    const r = await w.t.client.execute({ sql: 'SELECT due_at FROM campaign_steps WHERE campaign_id = ?', args: [c] });
    expect(new Date(Number(r.rows[0]!.due_at)).toISOString()).toBe('2026-10-26T08:00:00.000Z'); // 09:00 CET
  });
});

describe('sources, goals and re-entry', () => {
  it('joining a segment enrolls; leaving it exits when the source says so; a form and a custom event enroll', async () => {
    const w = await world(3);
    const seg = await w.segment([]);
    const c = await w.campaign({
      sources: [{ type: 'segment', segment_id: seg, exit_on_leave: true }, { type: 'event', name: 'signup' }, { type: 'form', form_id: 1 }],
      start: 'w',
      steps: [{ id: 'w', type: 'wait', wait: { for: { days: 3 } }, next: null }],
    }).catch(async () => null);
    // The form source needs a real form: make one and try again.
    const form = await w.t.json('POST', '/api/v1/forms', { name: 'F', fields: [{ key: 'email', type: 'email', label: 'Email', required: true }] });
    const id =
      c ??
      (await w.campaign({
        sources: [{ type: 'segment', segment_id: seg, exit_on_leave: true }, { type: 'event', name: 'signup' }, { type: 'form', form_id: form.body.id }],
        start: 'w',
        steps: [{ id: 'w', type: 'wait', wait: { for: { days: 3 } }, next: null }],
      }));
    w.tick(1000);
    expect((await w.t.call('PUT', `/api/v1/segments/${seg}/members/${w.ids[0]}`)).status).toBeLessThan(300);
    await w.event(w.ids[1]!, 'custom', { name: 'signup' });
    await w.event(w.ids[2]!, 'form_submit', { props: { form_id: form.body.id } });
    await w.settle();
    expect((await w.pass(w.ids[0]!, id)).source).toBe(`segment:${seg}`);
    expect((await w.pass(w.ids[1]!, id)).source).toBe('event:signup');
    expect((await w.pass(w.ids[2]!, id)).source).toBe(`form:${form.body.id}`);
    expect((await w.t.call('DELETE', `/api/v1/segments/${seg}/members/${w.ids[0]}`)).status).toBeLessThan(300);
    await w.settle();
    expect(await w.pass(w.ids[0]!, id)).toMatchObject({ status: 'exited', end_reason: 'segment_left' });
    expect(await w.path(w.ids[0]!, id)).toEqual(['w:cancelled']);
  });

  it('a goal takes the contact out as a conversion, by an event or by a filter', async () => {
    const w = await world(3);
    const c = await w.campaign({
      start: 'w',
      goals: [{ id: 'bought', name: 'Bought', on: { event: 'custom', name: 'purchase' } }, { id: 'vip', filter: { tag: 'vip' } }],
      steps: [{ id: 'w', type: 'wait', wait: { for: { days: 7 } }, next: 'nudge' }, { id: 'nudge', type: 'action', action: { type: 'add_tags', tags: ['nudged'] }, next: null }],
    });
    await enroll(w, c, w.ids);
    await w.settle();
    w.tick(DAY);
    await w.event(w.ids[0]!, 'custom', { name: 'purchase' });
    // No event: a tag set through the API reaches the filter goal through the contact-change watch.
    await w.t.call('POST', `/api/v1/contacts/${w.ids[1]}/tags`, { tags: ['vip'] });
    await w.settle();
    w.tick(7 * DAY);
    await w.settle();
    expect(await w.pass(w.ids[0]!, c)).toMatchObject({ status: 'converted', goal: 'bought' });
    expect(await w.pass(w.ids[1]!, c)).toMatchObject({ status: 'converted', goal: 'vip' });
    expect(await w.path(w.ids[0]!)).toEqual(['w:cancelled']);
    expect(await w.path(w.ids[2]!)).toEqual(['w:done', 'nudge:done']);
    const rep = await campaignReport({ ctx: w.t.ctx, input: { id: c } });
    expect(rep.passes).toMatchObject({ entered: 3, converted: 2, completed: 1 });
    expect(rep.passes.conversion_rate).toBeCloseTo(2 / 3);
    expect(rep.goals).toEqual([{ id: 'bought', name: 'Bought', conversions: 1 }, { id: 'vip', name: null, conversions: 1 }]);
  });

  it('a contact that already meets a goal when it enters converts at once and gets no step', async () => {
    const w = await world(2);
    await w.t.call('POST', `/api/v1/contacts/${w.ids[0]}/tags`, { tags: ['vip'] });
    const c = await w.campaign({ start: 't', goals: [{ id: 'vip', filter: { tag: 'vip' } }], steps: [{ id: 't', type: 'action', action: { type: 'add_tags', tags: ['nurtured'] }, next: null }] });
    expect((await enroll(w, c, w.ids)).enrolled).toBe(2);
    await w.settle();
    expect(await w.pass(w.ids[0]!, c)).toMatchObject({ status: 'converted', goal: 'vip', path: [] });
    expect(await tagsOf(w, w.ids[0]!)).toEqual(['vip']);
    expect(await w.path(w.ids[1]!)).toEqual(['t:done']);
  });

  it('re-entry: never enrolls twice; after N days a new rotation runs every step again, once', async () => {
    const w = await world(1);
    const steps = [{ id: 'p', type: 'action', action: { type: 'points', op: 'add', value: 1 }, next: null }];
    const once = await w.campaign({ start: 'p', steps });
    const again = await w.campaign({ start: 'p', steps, reentry: { after_days: 2 } });
    for (const c of [once, again]) expect((await enroll(w, c, w.ids)).enrolled).toBe(1);
    await w.settle();
    w.tick(DAY);
    for (const c of [once, again]) expect((await enroll(w, c, w.ids)).enrolled).toBe(0);
    w.tick(DAY + 1);
    expect((await enroll(w, once, w.ids)).enrolled).toBe(0);
    expect((await enroll(w, again, w.ids)).enrolled).toBe(1);
    await w.settle();
    await w.settle();
    const rows = await w.t.client.execute({ sql: 'SELECT rotation, status FROM campaign_steps WHERE campaign_id = ? ORDER BY rotation', args: [again] });
    expect(rows.rows.map((r) => [Number(r.rotation), r.status])).toEqual([[1, 'done'], [2, 'done']]);
    expect((await w.t.json('GET', `/api/v1/contacts/${w.ids[0]}`)).body.points).toBe(3);
  });
});

describe('lifecycle and failures', () => {
  it('a merge keeps the survivor’s pass in a campaign both were in, and moves the other’s passes elsewhere', async () => {
    const w = await world(2);
    const wait = [{ id: 'w', type: 'wait', wait: { for: { days: 1 } }, next: 'x' }, { id: 'x', type: 'action', action: { type: 'add_tags', tags: ['x'] }, next: null }];
    const both = await w.campaign({ start: 'w', steps: wait });
    const only = await w.campaign({ start: 'w', steps: wait });
    await enroll(w, both, w.ids);
    await enroll(w, only, [w.ids[1]!]);
    await w.settle();
    const [survivor, merged] = w.ids as [number, number];
    expect((await w.t.call('POST', `/api/v1/contacts/${survivor}/merge`, { contact_id: merged })).status).toBeLessThan(300);
    const passes = await w.t.client.execute({ sql: 'SELECT campaign_id, contact_id, status FROM campaign_enrollments ORDER BY campaign_id', args: [] });
    expect(passes.rows.map((r) => [Number(r.campaign_id), Number(r.contact_id), r.status])).toEqual([
      [both, survivor, 'active'],
      [only, survivor, 'active'],
    ]);
    w.tick(DAY);
    await w.settle();
    expect(await w.path(survivor, both)).toEqual(['w:done', 'x:done']);
    expect(await w.path(survivor, only)).toEqual(['w:done', 'x:done']);
  });

  it('pausing holds contacts in place; resuming goes on; archiving cancels what is open', async () => {
    const w = await world(2);
    const c = await w.campaign({ start: 'w', steps: [{ id: 'w', type: 'wait', wait: { for: { hours: 1 } }, next: 't' }, { id: 't', type: 'action', action: { type: 'add_tags', tags: ['t'] }, next: null }] });
    await enroll(w, c, w.ids);
    await w.settle();
    await pauseCampaign({ ctx: w.t.ctx, input: { id: c } });
    w.tick(2 * HOUR);
    await w.settle();
    expect(await w.path(w.ids[0]!)).toEqual(['w:waiting']);
    await resumeCampaign({ ctx: w.t.ctx, input: { id: c } });
    await w.settle();
    expect(await w.path(w.ids[0]!)).toEqual(['w:done', 't:done']);
    const c2 = await w.campaign({ start: 'w', steps: [{ id: 'w', type: 'wait', wait: { for: { hours: 1 } }, next: null }] });
    await enroll(w, c2, w.ids);
    await w.settle();
    await archiveCampaign({ ctx: w.t.ctx, input: { id: c2 } });
    expect(await w.path(w.ids[0]!, c2)).toEqual(['w:cancelled']);
    expect(await w.pass(w.ids[0]!, c2)).toMatchObject({ status: 'exited', end_reason: 'archived' });
  });

  it('contacts in flight stay on their version; new ones get the new version', async () => {
    const w = await world(2);
    const c = await w.campaign({ start: 'w', steps: [{ id: 'w', type: 'wait', wait: { for: { hours: 1 } }, next: 'v1' }, { id: 'v1', type: 'action', action: { type: 'add_tags', tags: ['v1'] }, next: null }] });
    await enroll(w, c, [w.ids[0]!]);
    await w.settle();
    await updateCampaign({ ctx: w.t.ctx, input: { id: c, patch: { definition: { sources: [], goals: [], reentry: 'never', start: 'w', steps: [{ id: 'w', type: 'wait', wait: { for: { hours: 1 } }, next: 'v2' }, { id: 'v2', type: 'action', action: { type: 'add_tags', tags: ['v2'] }, next: null }] } as any } } });
    await publishCampaign({ ctx: w.t.ctx, input: { id: c } });
    await enroll(w, c, [w.ids[1]!]);
    await w.settle();
    w.tick(2 * HOUR);
    await w.settle();
    expect(await tagsOf(w, w.ids[0]!)).toEqual(['v1']);
    expect(await tagsOf(w, w.ids[1]!)).toEqual(['v2']);
  });

  it('a deleted email fails the step visibly, retries with backoff, parks, and runs once after a retry', async () => {
    const w = await world(1);
    const e = await w.email();
    const c = await w.campaign({ start: 's', steps: [{ id: 's', type: 'action', action: { type: 'send_email', email_id: e }, next: null }] });
    expect((await w.t.call('DELETE', `/api/v1/emails/${e}`)).status).toBeLessThan(300);
    await enroll(w, c, w.ids);
    for (let i = 0; i < 6; i++) {
      await w.settle();
      w.tick(2 * HOUR);
    }
    const row = (await w.t.client.execute({ sql: 'SELECT status, failures, error FROM campaign_steps WHERE campaign_id = ?', args: [c] })).rows[0]!;
    expect(row.status).toBe('failed');
    expect(Number(row.failures)).toBe(5);
    expect(String(row.error)).toMatch(/Email not found/);
    const rep = await campaignReport({ ctx: w.t.ctx, input: { id: c } });
    expect(rep.steps[0]).toMatchObject({ failed: 1, errors: [{ error: expect.stringMatching(/Email not found/), count: 1 }] });
    // In-flight rows keep their version, so the way to mend it is a fixed version and a retry.
    const e2 = await w.email();
    await updateCampaign({ ctx: w.t.ctx, input: { id: c, patch: { definition: { sources: [], goals: [], reentry: 'never', start: 's', steps: [{ id: 's', type: 'action', action: { type: 'send_email', email_id: e2 }, next: null }] } as any } } });
    await publishCampaign({ ctx: w.t.ctx, input: { id: c } });
    expect((await retryFailed({ ctx: w.t.ctx, input: { id: c } })).retried).toBe(1);
    await w.settle();
    expect(await w.path(w.ids[0]!)).toEqual(['s:done']);
    expect((await w.pass(w.ids[0]!, c)).status).toBe('completed');
    const sends = await w.t.client.execute({ sql: 'SELECT email_id FROM email_sends WHERE contact_id = ?', args: [w.ids[0]!] });
    expect(sends.rows.map((r) => Number(r.email_id))).toEqual([e2]);
  });

  it('a condition whose filter broke (its field was deleted) fails visibly, never silently', async () => {
    const w = await world(1);
    const f = await w.t.json('POST', '/api/v1/fields', { key: 'plan', label: 'Plan', type: 'text' });
    expect(f.status).toBe(201);
    const c = await w.campaign({ start: 'c', steps: [{ id: 'c', type: 'condition', filter: { field: 'fields.plan', op: 'equals', value: 'pro' }, yes: null, no: null }] });
    expect((await w.t.call('DELETE', `/api/v1/fields/${f.body.id}`)).status).toBeLessThan(300);
    await enroll(w, c, w.ids);
    await w.settle();
    const rows = await w.t.client.execute({ sql: 'SELECT status, error FROM campaign_steps WHERE campaign_id = ?', args: [c] });
    expect(rows.rows[0]!.status).toBe('pending');
    expect(String(rows.rows[0]!.error)).toMatch(/plan/);
    expect((await w.pass(w.ids[0]!, c)).current_step).toBe('c');
  });
});
