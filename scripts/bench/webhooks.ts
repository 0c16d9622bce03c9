// Webhook deliveries (issue 14): the product's sender against plain fetch POSTs of the same
// payloads from the same process, and the event-to-delivery latency with the reaction loop running.
//
// One fresh WAL database file (prepareDatabase, real migrations). The receiver is a bare node:http
// server in its own process on 127.0.0.1 (so it takes no time from the sender's event loop),
// answering 204 to everything and counting what it gets.
//
//   (a) sender   BENCH_DELIVERIES contacts inserted in SQL and a subscription to contact.created;
//                the reactions queue one delivery per contact (timed on its own: queued/s) and
//                kick the sender, as in the server (2 lanes of 50), which sends every row:
//                claimed under a lease, signed per Standard Webhooks, sent through the
//                outbound helper with the Node transport the server uses (DNS checked, a fresh
//                connection per request: no pooled socket is reused across destinations), each
//                attempt recorded, fenced. Deliveries/s over one pass (every row attempted once, from
//                the first claim to the last completion); a failed attempt (a timeout under load)
//                is retried after the pass, untimed, by moving the context's clock past the backoff.
//   (b) fetch    the same payloads (read from those rows before the clock starts) POSTed with
//                plain fetch, the same 100 requests in flight, keep-alive as fetch does: POSTs/s.
//   (c) latency  the app as the Node entry runs it (writes kick the reactions; the job timer every
//                second), a subscription to points.changed; BENCH_LATENCY_EVENTS point changes
//                through POST /api/v1/contacts/{id}/points, one every BENCH_LATENCY_GAP_MS; the
//                receiver takes each delivery's arrival time minus its event's timestamp.
// Budget line: (a) ÷ (b) ≥ 0.5 (ok / MISSED). Results also in dist/bench/webhooks.json.
//
//   BENCH_DELIVERIES        deliveries of (a) and (b) per round (default 5,000)
//   BENCH_ROUNDS            rounds of (a) then (b), each on new contacts (default 2): the figures are
//                           over all rounds (the machine's other load colours any single one)
//   BENCH_LATENCY_EVENTS    events of (c) (default 300)
//   BENCH_LATENCY_GAP_MS    time between them (default 20)
//   BENCH_KEEP=1            keep the temp database
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { createApp } from '../../api/app';
import { createCtx, type Ctx } from '../../api/core/context';
import { parseConfig } from '../../api/env';
import { runReactions } from '../../api/core/spine/run';
import { runDue } from '../../api/jobs/index';
import { createApiKey } from '../../api/core/access/api-keys';
import { createSubscription, deleteSubscription } from '../../api/core/webhooks/subscriptions';
import { kickWebhooks, runWebhooks } from '../../api/core/webhooks/deliver';
import { nodeOutbound } from '../../api/entry/outbound-node';
import { envInt, fmtInt, latency, machine, num, openDatabase, tempDir, writeResults } from './lib';

const NAME = 'webhooks';
const N = envInt('BENCH_DELIVERIES', 5_000, 100);
const ROUNDS = envInt('BENCH_ROUNDS', 2, 1);
const LAT_N = envInt('BENCH_LATENCY_EVENTS', 300, 10);
const LAT_GAP_MS = envInt('BENCH_LATENCY_GAP_MS', 20, 0);
const IN_FLIGHT = 100;
const RATIO_GOAL = 0.5;

// The receiver: counts requests per path and, for /lat, the delay from the event's timestamp.
const RECEIVER = `
const http = require('node:http');
const counts = {};
const lat = [];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = Date.now();
    counts[req.url] = (counts[req.url] || 0) + 1;
    if (req.url === '/lat') {
      try { lat.push(at - Date.parse(JSON.parse(Buffer.concat(chunks).toString()).timestamp)); } catch {}
    }
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => process.send({ type: 'port', port: server.address().port }));
process.on('message', (m) => {
  if (m === 'stats') process.send({ type: 'stats', counts, lat });
  if (m === 'stop') server.close(() => process.exit(0));
});
`;

interface Receiver {
  port: number;
  stats: () => Promise<{ counts: Record<string, number>; lat: number[] }>;
  stop: () => void;
}

async function startReceiver(): Promise<Receiver> {
  const child: ChildProcess = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters: ((m: any) => void)[] = [];
  child.on('message', (m: any) => waiters.shift()?.(m));
  const next = () => new Promise<any>((r) => waiters.push(r));
  const port = (await next()).port as number;
  return {
    port,
    stats: async () => {
      const p = next();
      child.send('stats');
      return p;
    },
    stop: () => child.send('stop'),
  };
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Plain fetch POSTs of the bodies, IN_FLIGHT at a time: requests/s. */
async function plainFetch(url: string, bodies: string[]): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await res.arrayBuffer();
        if (res.status !== 204) throw new Error(`receiver answered ${res.status}`);
      }
    }),
  );
  return (bodies.length / (performance.now() - started)) * 1000;
}

async function insertContacts(ctx: Ctx, from: number, to: number) {
  const now = Date.now();
  await ctx.client.execute({
    sql: `WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?)
      INSERT INTO contacts (email, email_normalized, first_name, last_name, city, custom, created_at, updated_at)
      SELECT 'Reader' || i || '@Example.com', 'reader' || i || '@example.com', 'First' || (i % 5000), 'Last' || (i % 20000),
        CASE i % 3 WHEN 0 THEN 'Paris' WHEN 1 THEN 'Berlin' ELSE NULL END, '{"plan":"' || CASE WHEN i % 7 = 0 THEN 'pro' ELSE 'free' END || '","seats":' || (i % 50) || '}', ?, ? FROM n`,
    args: [from, to, now, now],
  });
}

async function main() {
  const started = new Date();
  const loadAtStart = loadavg()[0]!;
  const tmp = tempDir(NAME);
  const rx = await startReceiver();
  const { client, url } = await openDatabase(tmp.dir, 'webhooks.db');
  try {
    const config = parseConfig({ DATABASE_URL: url, LOG_LEVEL: 'warn', OUTBOUND_ALLOW_LOOPBACK: 'true' });
    // Real time, plus a skew this process adds to let failed attempts (if any) fall due at once.
    let skew = 0;
    const ctx = createCtx({ client, config, outbound: nodeOutbound(), now: () => Date.now() + skew });
    const base = `http://127.0.0.1:${rx.port}`;

    const sub = await createSubscription({ ctx, input: { url: `${base}/a`, event_types: ['contact.created'] } });
    // Warm-up (not timed): a few hundred deliveries and fetches, so neither side pays for its first calls.
    await insertContacts(ctx, 1, 300);
    await runReactions(ctx);
    await runWebhooks(ctx, { lanes: 2, budgetMs: 60_000, maxRounds: 1_000_000 });
    await plainFetch(`${base}/warm`, Array.from({ length: 300 }, () => '{"type":"warm"}'));
    let next = 301;
    const rounds: { queue_ms: number; send_ms: number; delivered_first_pass: number; sender_per_s: number; fetch_per_s: number; failed_attempts: Record<string, number> }[] = [];
    let received = 0;
    let bytes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // ---- (a) the sender
      const firstId = await num(client, 'SELECT coalesce(max(id), 0) FROM webhook_deliveries');
      await insertContacts(ctx, next, next + N - 1);
      next += N;
      const before = (await rx.stats()).counts['/a'] ?? 0;
      const q0 = performance.now();
      let queued = 0;
      for (let i = 0; i < 100 && queued < N; i++) {
        await runReactions(ctx);
        queued = await num(client, 'SELECT count(*) FROM webhook_deliveries WHERE id > ?', [firstId]);
      }
      const queueMs = performance.now() - q0;
      // The reactions kicked the sender as they finished queueing (as in the server): wait for
      // that run, then go on while rows are due (a run stops after 20 s). One pass: every row
      // attempted once; a failure waits for its retry, outside the timing.
      const s0 = performance.now();
      await kickWebhooks(ctx);
      for (let i = 0; i < 100 && (await num(client, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' AND attempts = 0")) > 0; i++) {
        await runWebhooks(ctx, { lanes: 2, budgetMs: 600_000, maxRounds: 1_000_000 });
      }
      const sendMs = performance.now() - s0;
      const firstPass = await num(client, "SELECT count(*) FROM webhook_deliveries WHERE id > ? AND status = 'delivered'", [firstId]);
      const why = await client.execute({ sql: "SELECT last_error, count(*) AS n FROM webhook_deliveries WHERE id > ? AND status <> 'delivered' GROUP BY 1", args: [firstId] });
      const failed = Object.fromEntries(why.rows.map((r) => [String(r.last_error), Number(r.n)]));
      // Retries (untimed): the clock skips the backoff until every row is delivered.
      for (let i = 0; i < 20 && (await num(client, "SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'")) > 0; i++) {
        skew += 3_600_000;
        await runWebhooks(ctx, { lanes: 2, budgetMs: 120_000, maxRounds: 1_000_000 });
      }
      received += ((await rx.stats()).counts['/a'] ?? 0) - before;
      bytes = await num(client, 'SELECT avg(length(body)) FROM webhook_deliveries WHERE id > ?', [firstId]);
      // ---- (b) plain fetch of the same payloads
      const bodies = (await client.execute({ sql: 'SELECT body FROM webhook_deliveries WHERE id > ? ORDER BY id', args: [firstId] })).rows.map((r) => String(r.body));
      const fetchRate = await plainFetch(`${base}/b`, bodies);
      const senderRate = (firstPass / sendMs) * 1000;
      rounds.push({ queue_ms: queueMs, send_ms: sendMs, delivered_first_pass: firstPass, sender_per_s: senderRate, fetch_per_s: fetchRate, failed_attempts: failed });
      console.log(
        `  round ${round + 1}: (a) ${fmtInt(N)} contact.created deliveries queued in ${secs(queueMs)} (${fmtInt((N / queueMs) * 1000)}/s); one pass in ${secs(sendMs)}: ${fmtInt(firstPass)} delivered, ${fmtInt(senderRate)}/s` +
          `${why.rows.length ? ` (failed attempts, retried after: ${Object.entries(failed).map(([k, v]) => `${v} × ${k}`).join(', ')})` : ''}; (b) plain fetch of the same ${fmtInt(bodies.length)} payloads: ${fmtInt(fetchRate)}/s; ratio ${(senderRate / fetchRate).toFixed(2)}×`,
      );
    }
    const undelivered = await num(client, "SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'");
    const senderRate = (rounds.reduce((n, r) => n + r.delivered_first_pass, 0) / rounds.reduce((n, r) => n + r.send_ms, 0)) * 1000;
    // The same payloads over the same total: the harmonic mean of the rounds' rates.
    const fetchRate = (rounds.length * N) / rounds.reduce((n, r) => n + (N / r.fetch_per_s) * 1000, 0) * 1000;
    console.log(`  over ${ROUNDS} rounds: sender ${fmtInt(senderRate)}/s, plain fetch ${fmtInt(fetchRate)}/s; payload ${fmtInt(bytes)} B on average; receiver got ${fmtInt(received)} deliveries for ${fmtInt(ROUNDS * N)} messages, ${undelivered} undelivered`);
    await deleteSubscription({ ctx, input: { id: sub.id } });
    skew = 0;

    // ---- (c) event-to-delivery latency with the reaction loop running
    const app = createApp({ ctx });
    const key = (await createApiKey({ ctx, input: { name: 'bench', scopes: ['admin'] } })).secret;
    await createSubscription({ ctx, input: { url: `${base}/lat`, event_types: ['points.changed'] } });
    const lastRun = new Map<string, number>();
    let jobRun: Promise<unknown> | undefined;
    const timer = setInterval(() => {
      jobRun ??= runDue(ctx, Date.now(), lastRun).finally(() => (jobRun = undefined));
    }, 1000);
    const l0 = performance.now();
    for (let i = 0; i < LAT_N; i++) {
      const res = await app.request(`/api/v1/contacts/${1 + (i % 50)}/points`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ op: 'add', value: 1, reason: 'bench' }),
      });
      if (res.status !== 201 && res.status !== 200) throw new Error(`points: ${res.status} ${await res.text()}`);
      if (LAT_GAP_MS) await new Promise((r) => setTimeout(r, LAT_GAP_MS));
    }
    let lat: number[] = [];
    for (let i = 0; i < 300 && lat.length < LAT_N; i++) {
      await new Promise((r) => setTimeout(r, 100));
      lat = (await rx.stats()).lat;
    }
    clearInterval(timer);
    await jobRun;
    const l = latency(lat);
    console.log(`  (c) latency: ${fmtInt(lat.length)} of ${fmtInt(LAT_N)} points.changed delivered (events over ${secs(performance.now() - l0)}): median ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms, max ${l.max} ms`);

    const ratio = senderRate / fetchRate;
    const budgets = [
      { figure: 'deliveries/s ÷ plain fetch POSTs/s', show: `${ratio.toFixed(2)}×`, budget: `≥ ${RATIO_GOAL}×`, ok: ratio >= RATIO_GOAL },
      { figure: 'every message delivered (at least once)', show: `${fmtInt(received)}/${fmtInt(ROUNDS * N)}`, budget: `≥ ${fmtInt(ROUNDS * N)}, none left`, ok: received >= ROUNDS * N && undelivered === 0 },
      { figure: 'event → delivery, median', show: `${l.p50} ms`, budget: 'reported', ok: null },
      { figure: 'event → delivery, p99', show: `${l.p99} ms`, budget: 'reported', ok: lat.length === LAT_N ? null : false },
    ];
    console.log(`\n  Budgets (load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} now)\n`);
    const w = Math.max(...budgets.map((b) => b.figure.length));
    for (const b of budgets) console.log(`  ${b.figure.padEnd(w)}  ${b.show.padStart(12)}   budget ${b.budget}   ${b.ok === null ? '' : b.ok ? 'ok' : 'MISSED'}`);
    const file = writeResults(NAME, {
      benchmark: NAME,
      started_at: started.toISOString(),
      finished_at: new Date().toISOString(),
      machine: machine(),
      params: { deliveries_per_round: N, rounds: ROUNDS, latency_events: LAT_N, latency_gap_ms: LAT_GAP_MS, in_flight: IN_FLIGHT, payload_bytes_avg: Math.round(bytes) },
      results: { rounds, deliveries_per_s: senderRate, fetch_posts_per_s: fetchRate, ratio, latency_ms: l, latency_samples: lat.length, received, undelivered },
      budgets,
    });
    console.log(`\n  results: ${file}`);
    if (budgets.some((b) => b.ok === false)) process.exitCode = 1;
  } finally {
    rx.stop();
    client.close();
    tmp.cleanup();
  }
}

await main();
