// The reactions run inside the server process (the scheduler every 2 s, kicks after writes,
// POST /api/v1/jobs/reactions): a run over a backlog (up to 50 chunks of 1,000 events) must leave
// the event loop a turn between chunks, or the server answers nothing until the run is over (a
// local libSQL file resolves every call at once: see api/core/util/turn.ts). The built server,
// on 127.0.0.1, over real HTTP.
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '@libsql/client';
import { startNode, type NodeServer } from './node-server';
import { REACTIONS } from '../api/core/spine/registry';

const EVENTS = 40_000; // 40 chunks of the spine's 1,000
const T0 = Date.parse('2026-06-01T00:00:00Z');

describe('a reactions run over a backlog', () => {
  let server: NodeServer | undefined;
  afterAll(async () => {
    if (server) await server.stop();
  });

  it('lets the server answer other requests between its chunks', async () => {
    server = await startNode();
    const base = `http://127.0.0.1:${server.port}`;
    const db = createClient({ url: `file:${server.dbPath}` });
    // Page views in consent mode (no visitor, no contact): cheap for every reaction, but each
    // reaction still reads and commits them chunk by chunk.
    const before = Number((await db.execute('SELECT coalesce(max(id), 0) AS m FROM events')).rows[0]!.m);
    await db.batch(
      [
        ...REACTIONS.map((r) => ({
          sql: 'INSERT OR REPLACE INTO reaction_cursors (name, last_event_id, updated_at) VALUES (?, ?, ?)',
          args: [r.name, before, T0],
        })),
        {
          sql: `WITH RECURSIVE r(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM r WHERE k < ?)
            INSERT INTO events (type, url, created_at) SELECT 'page_view', 'https://shop.example.com/p' || (k % 20), ? + k * 1000 FROM r`,
          args: [EVENTS, T0],
        },
      ],
      'write',
    );
    const last = before + EVENTS;
    const lowest = async () => Number((await db.execute('SELECT min(last_event_id) AS m FROM reaction_cursors WHERE name IN (SELECT value FROM json_each(?))', [JSON.stringify(REACTIONS.map((r) => r.name))])).rows[0]!.m);
    // The scheduler picks the backlog up within 2 s; once a chunk is committed, ask for /health.
    const until = Date.now() + 20_000;
    while ((await lowest()) === before) {
      expect(Date.now(), 'the reactions never started').toBeLessThan(until);
      await new Promise((r) => setTimeout(r, 5));
    }
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    // Answered while most of the backlog was still to do (without a turn per chunk, only after it all).
    expect(await lowest()).toBeLessThan(last);
    // And the run goes on to the end.
    const end = Date.now() + 60_000;
    while ((await lowest()) < last) {
      expect(Date.now(), 'the reactions never finished').toBeLessThan(end);
      await new Promise((r) => setTimeout(r, 50));
    }
    db.close();
  }, 90_000);
});
