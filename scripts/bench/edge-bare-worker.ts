// The edge benchmark's bare route: a Hono Worker that reads the body and answers as POST /t does,
// served by the same workerd as Leadline's Worker (scripts/bench/edge.ts).
import { Hono } from 'hono';

const app = new Hono();
app.post('/bare', async (c) => {
  await c.req.text();
  return c.json({ ok: true, stored: 1 }, 202);
});

export default app;
