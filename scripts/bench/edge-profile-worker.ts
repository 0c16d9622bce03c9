// The edge profile's reference Workers (scripts/bench/edge-profile.ts): the bare route of
// edge-bare-worker.ts, plus whichever of its bindings a variant is given, each used as POST /t
// uses it: RATE_LIMIT_PUBLIC (one call per request, keyed by the client's IP) and QUEUE (one
// message per request, shaped as a queued hit). As a consumer it acknowledges every message and
// writes nothing: the Queue's own cost, without the database's.
import { Hono } from 'hono';

interface Env {
  RATE_LIMIT_PUBLIC?: { limit(o: { key: string }): Promise<{ success: boolean }> };
  QUEUE?: { send(body: unknown, o?: { contentType?: 'json' }): Promise<unknown> };
}

const app = new Hono<{ Bindings: Env }>();
app.post('/t', async (c) => {
  const body = await c.req.text();
  if (c.env.RATE_LIMIT_PUBLIC) {
    const r = await c.env.RATE_LIMIT_PUBLIC.limit({ key: `t|${c.req.header('cf-connecting-ip') ?? 'unknown'}` });
    if (!r.success) return c.json({ error: { code: 'RATE_LIMITED' } }, 429);
  }
  if (c.env.QUEUE) await c.env.QUEUE.send({ v: 1, id: crypto.randomUUID(), hit: JSON.parse(body) }, { contentType: 'json' });
  return c.json({ ok: true, stored: 1 }, 202);
});

export default {
  fetch: app.fetch,
  async queue(batch: { ackAll(): void }) {
    batch.ackAll();
  },
};
