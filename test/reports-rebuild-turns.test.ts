// A rollup rebuild runs inside the server process (POST /api/v1/jobs/reports-rebuild, or the
// scheduler finishing one): it must leave the event loop a turn between its chunks. Without one
// the server answers nothing until the rebuild ends (minutes on millions of events), and the
// native memory of every statement the rebuild ran stays held until then too (their finalizers
// run only on a turn): issue 12's 2.8 GB. The built server, on 127.0.0.1, over real HTTP.
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '@libsql/client';
import { ADMIN_KEY, startNode, type NodeServer } from './node-server';
import { REACTIONS } from '../api/core/spine/registry';

const EVENTS = 60_000; // 12 chunks of the job's 5,000
const T0 = Date.parse('2026-06-01T00:00:00Z');

describe('a rollup rebuild in the server', () => {
  let server: NodeServer | undefined;
  afterAll(async () => {
    if (server) await server.stop();
  });

  it('answers other requests while it runs, and still counts every event', async () => {
    server = await startNode();
    const base = `http://127.0.0.1:${server.port}`;
    const db = createClient({ url: `file:${server.dbPath}` });
    // Page views in consent mode (no visitor), already passed by every reaction: only the rebuild counts them.
    await db.batch(
      [
        {
          sql: `WITH RECURSIVE r(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM r WHERE k < ?)
            INSERT INTO events (type, url, created_at) SELECT 'page_view', 'https://shop.example.com/p' || (k % 20), ? + k * 1000 FROM r`,
          args: [EVENTS, T0],
        },
        ...REACTIONS.map((r) => ({
          sql: 'INSERT OR REPLACE INTO reaction_cursors (name, last_event_id, updated_at) VALUES (?, (SELECT max(id) FROM events), ?)',
          args: [r.name, T0],
        })),
      ],
      'write',
    );
    const marker = async () => (await db.execute("SELECT last_event_id FROM reaction_cursors WHERE name = 'rollups-rebuild'")).rows.length > 0;

    let rebuildAnswered = false;
    const rebuild = fetch(`${base}/api/v1/jobs/reports-rebuild`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then(async (res) => {
      rebuildAnswered = true;
      return { status: res.status, body: (await res.json()) as { result: Record<string, unknown> } };
    });
    // Once the rebuild is under way (its marker is committed), ask for something else.
    const until = Date.now() + 10_000;
    while (!(await marker())) {
      expect(Date.now(), 'the rebuild never started').toBeLessThan(until);
      await new Promise((r) => setTimeout(r, 5));
    }
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    // Answered before the rebuild was: while it was still under way.
    expect(rebuildAnswered).toBe(false);
    expect(await marker()).toBe(true);

    const run = await rebuild;
    expect(run.status).toBe(200);
    // The scheduler's own slice of the rebuild may have run in those turns too, counting part of
    // the events (result.events is this call's part): together, each exactly once.
    expect(run.body.result).toMatchObject({ done: true, started: true });
    expect(await marker()).toBe(false);
    const counted = await db.execute("SELECT sum(value) AS n FROM rollups WHERE metric = 'pageviews' AND dim = ''");
    expect(Number(counted.rows[0]!.n)).toBe(EVENTS);
    db.close();
  }, 60_000);
});
