import { settleDeferred } from '../api/routes/defer';
import { describe, it, expect } from 'vitest';
import { makeApp } from './helpers';
import { makeSite, track, vid, sign, runJob, count } from './tracking-helpers';
import { runReactions } from '../api/core/spine/run';
import { REACTIONS } from '../api/core/spine/registry';
import { createGroupCommit } from '../api/core/tracking/group-commit';

describe('event spine', () => {
  it('registers every reaction in one place, attribution first', () => {
    expect(REACTIONS.map((r) => r.name)).toEqual(['attribution', 'points', 'triggers', 'funnel', 'contact-activity', 'segments', 'campaigns', 'rollups', 'page-tests', 'webhooks']);
  });

  it('a crash between "event stored" and "reaction done" is finished by the next job run', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    const c = await t.json('POST', '/api/v1/contacts', { email: 'crash@example.com' });
    // The write kicked the reactions; let that run end before the "crash".
    await settleDeferred();
    // Events written straight to the log, as if the process died before any reaction ran.
    const v = await t.client.execute({
      sql: "INSERT INTO visitors (site_id, uid, first_seen_at, last_seen_at, source) VALUES (?, ?, 1000, 5000, '{\"utm_source\":\"ads\"}') RETURNING id",
      args: [site.id, vid(1)],
    });
    const visitorId = Number(v.rows[0]!.id);
    await t.client.batch(
      [
        { sql: "INSERT INTO events (site_id, visitor_id, type, url, created_at) VALUES (?, ?, 'page_view', 'https://shop.example.com/', 1000)", args: [site.id, visitorId] },
        { sql: 'UPDATE visitors SET contact_id = ? WHERE id = ?', args: [c.body.id, visitorId] },
        { sql: "INSERT INTO events (site_id, visitor_id, contact_id, type, created_at) VALUES (?, ?, ?, 'identified', 5000)", args: [site.id, visitorId, c.body.id] },
      ],
      'write',
    );
    expect((await t.json('GET', `/api/v1/contacts/${c.body.id}`)).body.last_active_at).toBeNull();
    const result = await runJob(t);
    expect(result).toMatchObject({ attribution: 2, 'contact-activity': 2 });
    const after = (await t.json('GET', `/api/v1/contacts/${c.body.id}`)).body;
    expect(after.last_active_at).toBe(new Date(5000).toISOString());
    expect(after.first_source).toEqual({ utm_source: 'ads' });
    expect(after.first_seen_at).toBe(new Date(1000).toISOString());
    expect(await count(t, 'SELECT count(*) AS n FROM events WHERE contact_id = ?', [c.body.id])).toBe(2);
    // Cursors are durable: nothing is consumed twice, and a second run is a no-op.
    expect(await runJob(t)).toMatchObject({ attribution: 0, 'contact-activity': 0, points: 0, triggers: 0, segments: 0 });
    const cursors = await t.client.execute('SELECT name, last_event_id FROM reaction_cursors ORDER BY name');
    expect(cursors.rows.map((r) => [r.name, Number(r.last_event_id)])).toEqual([
      ['attribution', 2],
      ['campaigns', 2],
      ['contact-activity', 2],
      ['funnel', 2],
      ['page-tests', 2],
      ['points', 2],
      ['rollups', 2],
      ['segments', 2],
      ['triggers', 2],
      ['webhooks', 2],
    ]);
  });

  it('reactions are idempotent: replaying the log from the start changes nothing', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    await track(t, { k: site.public_key, v: vid(1), e: [{ t: 'pv', u: 'https://shop.example.com/' }], id: { email: 'r@example.com', sig: sign(site.secret, 'r@example.com') } });
    await runJob(t);
    // The run the hit kicked in the background may still be going (on a busy machine): the
    // snapshot is of the state once every run has finished.
    await settleDeferred();
    const snapshot = async () => (await t.client.execute('SELECT id, contact_id FROM events ORDER BY id')).rows.map((r) => [r.id, r.contact_id]);
    const contact = async () => (await t.json('GET', '/api/v1/contacts')).body.data[0];
    const before = [await snapshot(), await contact()];
    await t.client.execute('UPDATE reaction_cursors SET last_event_id = 0');
    await runReactions(t.ctx);
    expect([await snapshot(), await contact()]).toEqual(before);
  });
});

describe('group commit', () => {
  it('writes concurrent additions in few flushes and settles each caller after its flush', async () => {
    const flushed: number[][] = [];
    const gc = createGroupCommit<number>({
      flush: async (items) => {
        await new Promise((r) => setTimeout(r, 5));
        flushed.push(items);
      },
      maxItems: 1000,
      maxWaitMs: 2,
    });
    const done: number[] = [];
    await Promise.all(Array.from({ length: 300 }, (_, i) => gc.add([i]).then(() => done.push(i))));
    expect(flushed.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(flushed.length).toBeLessThanOrEqual(3);
    expect(done).toHaveLength(300);
  });

  it('rejects the callers of a failed flush and recovers for the next', async () => {
    let fail = true;
    const gc = createGroupCommit<number>({
      flush: async () => {
        if (fail) {
          fail = false;
          throw new Error('disk full');
        }
      },
      maxItems: 10,
      maxWaitMs: 1,
    });
    await expect(gc.add([1])).rejects.toThrow('disk full');
    await expect(gc.add([2])).resolves.toBeUndefined();
  });
});
