import { expect, it } from 'vitest';
import { makeApp } from './helpers';
import { upsertContacts } from '../api/core/contacts/upsert';
import { createCampaign, publishCampaign } from '../api/core/campaigns/campaigns';
import { runCampaigns } from '../api/core/campaigns/run';
import { runReactions } from '../api/core/spine/run';
import { campaignReport } from '../api/core/campaigns/reports';
import { contactCampaigns } from '../api/core/campaigns/membership';

it('smoke', async () => {
  let clock = Date.parse('2026-11-20T10:00:00Z');
  const t = await makeApp({ now: () => clock });
  const out = await upsertContacts({ ctx: t.ctx, input: { rows: Array.from({ length: 10 }, (_, i) => ({ email: `c${i}@example.com` })) } });
  const ids = out.results.map((r: any) => r.id);
  const e1 = await t.json('POST', '/api/v1/emails', { name: 'one', kind: 'template', subject: 'Hi', html: '<p>x</p>' });
  const e2 = await t.json('POST', '/api/v1/emails', { name: 'two', kind: 'template', subject: 'Hi2', html: '<p>y</p>' });
  expect(e1.status).toBe(201);
  const s = await t.json('POST', '/api/v1/segments', { name: 'S', kind: 'static' });
  await t.client.execute({ sql: "INSERT INTO segment_members (segment_id, contact_id, source, added_at) SELECT ?, value, 'manual', 0 FROM json_each(?)", args: [s.body.id, JSON.stringify(ids)] });
  const c = await createCampaign({ ctx: t.ctx, input: { name: 'C', definition: {
    sources: [{ type: 'segment', segment_id: s.body.id, exit_on_leave: false }], start: 'send', goals: [], reentry: 'never',
    steps: [
      { id: 'send', type: 'action', action: { type: 'send_email', email_id: e1.body.id }, next: 'wait' },
      { id: 'wait', type: 'wait', wait: { for: { days: 1 } }, next: 'clicked' },
      { id: 'clicked', type: 'decision', on: { event: 'email_clicked', email_id: e1.body.id }, timeout: { hours: 1 }, yes: 'tag', no: 'send2' },
      { id: 'tag', type: 'action', action: { type: 'add_tags', tags: ['clicker'] }, next: null },
      { id: 'send2', type: 'action', action: { type: 'send_email', email_id: e2.body.id }, next: null },
    ] } as any } });
  const p = await publishCampaign({ ctx: t.ctx, input: { id: c.id } });
  expect(p.enrolled).toBe(10);
  console.log(await runCampaigns(t.ctx));
  for (const id of ids.slice(0, 3)) await t.client.execute({ sql: "INSERT INTO events (contact_id, type, props, created_at) VALUES (?, 'email_clicked', json_object('email_id', ?), ?)", args: [id, e1.body.id, clock + 1000] });
  clock += 86_400_000 + 1000;
  console.log(await runCampaigns(t.ctx));
  clock += 3_600_000;
  console.log(await runCampaigns(t.ctx));
  const rep = await campaignReport({ ctx: t.ctx, input: { id: c.id } });
  console.log(JSON.stringify(rep, null, 1));
  console.log(JSON.stringify(await contactCampaigns({ ctx: t.ctx, input: { contactId: ids[0] } }), null, 1));
  const sends = await t.client.execute('SELECT email_id, count(*) n FROM email_sends GROUP BY email_id');
  console.log(sends.rows);
});
