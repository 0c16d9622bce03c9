// Landing page throughput: GET /p/{slug} for a published page with a form (hero, Markdown, HTML,
// columns, a button) against a bare Hono route answering the same bytes as a constant (the same
// response for no work), served the same way by the same process, same run; a bare route answering
// a tiny page is measured for scale. Goal (issue 15): ≥ 0.5 × the bare route's requests per second —
// rendered pages come from the in-process cache (core/pages/cache.ts); each response still gets
// its own CSP nonce, form submission id and a recent form stamp.
//
// The server is a child process (scripts/bench/pages-server.ts, built here with esbuild); this
// process is the load generator: node:http keep-alive connections on the loopback, a fixed
// number in flight, the two scenarios taking turns in rounds so load from elsewhere on the
// machine falls on both alike.
//
//   BENCH_PAGES_SECONDS       measured seconds per scenario (default 10)
//   BENCH_PAGES_ROUNDS        rounds the seconds are split into (default 4)
//   BENCH_PAGES_CONNECTIONS   requests in flight (default 32)
//   BENCH_KEEP=1              keep the temp database
//
// Then the time to first slot content in Chromium (dynamic web content): scripts/bench/pages-slots.ts.
import { bundleNode } from '../bundle-node.mjs';
import { fork } from 'node:child_process';
import http from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envInt, fmtInt, machine, now, table, tempDir, writeResults } from './lib';
import { measureSlots, slotSummary } from './pages-slots';

const NAME = 'pages';
const SECONDS = envInt('BENCH_PAGES_SECONDS', 10);
const ROUNDS = envInt('BENCH_PAGES_ROUNDS', 4);
const CONNECTIONS = envInt('BENCH_PAGES_CONNECTIONS', 32);
const WARMUP_MS = 1_500;
const RATIO_GOAL = 0.5;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = process.env.BENCH_OUT_DIR ?? join(root, 'dist', 'bench');

interface Ready { appPort: number; barePort: number; path: string; bytes: number; rss: number }

function get(agent: http.Agent, port: number, path: string): Promise<number> {
  return new Promise((done, fail) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers: { 'user-agent': 'Mozilla/5.0 (bench) Chrome/124.0 Safari/537.36', accept: 'text/html' } }, (res) => {
      let n = 0;
      res.on('data', (b: Buffer) => (n += b.length));
      res.on('end', () => (res.statusCode === 200 && n > 0 ? done(n) : fail(new Error(`GET ${path}: ${res.statusCode}`))));
    });
    req.on('error', fail);
  });
}

/** Requests completed in `ms` with CONNECTIONS in flight. */
async function drive(agent: http.Agent, port: number, path: string, ms: number): Promise<number> {
  const end = now() + ms;
  let count = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (now() < end) {
        await get(agent, port, path);
        count++;
      }
    }),
  );
  return count;
}

async function main() {
  const { dir, cleanup } = tempDir(NAME);
  const serverFile = join(outDir, 'pages-server.mjs');
  await bundleNode(join(root, 'scripts', 'bench', 'pages-server.ts'), serverFile);
  const child = fork(serverFile, [], {
    cwd: root,
    env: { ...process.env, BENCH_DB_URL: `file:${join(dir, 'pages.db')}` },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<Ready>((ok, fail) => {
    child.once('message', (m: any) => (m?.type === 'ready' ? ok(m) : fail(new Error(JSON.stringify(m)))));
    child.once('exit', (code) => fail(new Error(`the server exited (code ${code})`)));
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS, maxFreeSockets: CONNECTIONS });
  const scenarios = [
    { name: 'bare', port: ready.barePort, path: '/bare' },
    { name: 'tiny', port: ready.barePort, path: '/tiny' },
    { name: 'page', port: ready.appPort, path: ready.path },
  ];
  try {
    for (const s of scenarios) await drive(agent, s.port, s.path, WARMUP_MS);
    const totals = new Map(scenarios.map((s) => [s.name, 0]));
    const slice = (SECONDS * 1000) / ROUNDS;
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which goes first, so neither always gets the quieter half.
      for (const s of r % 2 ? [...scenarios].reverse() : scenarios) totals.set(s.name, totals.get(s.name)! + (await drive(agent, s.port, s.path, slice)));
    }
    const rps = (name: string) => totals.get(name)! / SECONDS;
    const ratio = rps('page') / rps('bare');
    const ratioTiny = rps('page') / rps('tiny');
    const ok = ratio >= RATIO_GOAL;
    console.log(`\npages: GET ${ready.path} (${fmtInt(ready.bytes)} bytes of HTML, a form inside) vs bare Hono routes, ${CONNECTIONS} in flight, ${SECONDS} s each in ${ROUNDS} rounds\n`);
    const label: Record<string, string> = { bare: 'bare Hono route, same bytes', tiny: 'bare Hono route, tiny page', page: `GET ${ready.path}` };
    console.log(table(['scenario', 'requests', 'req/s'], scenarios.map((s) => [label[s.name]!, fmtInt(totals.get(s.name)!), fmtInt(rps(s.name))])));
    console.log(`\n(for scale: ${ratioTiny.toFixed(2)} × the tiny page's req/s)`);
    console.log(`budget: /p/{slug} ≥ ${RATIO_GOAL} × bare route (same bytes) req/s: ${ratio.toFixed(2)} × — ${ok ? 'ok' : 'MISSED'}`);
    const slots = await measureSlots(dir);
    console.log(`\n${slotSummary(slots)}`);
    const file = writeResults(NAME, {
      machine: machine(),
      connections: CONNECTIONS,
      seconds: SECONDS,
      page_bytes: ready.bytes,
      rps: { bare_same_bytes: rps('bare'), bare_tiny: rps('tiny'), page: rps('page') },
      ratio,
      ratio_to_tiny: ratioTiny,
      goal: RATIO_GOAL,
      ok,
      slots,
    });
    console.log(`results: ${file}`);
  } finally {
    agent.destroy();
    child.send('stop');
    await new Promise((r) => child.once('exit', r));
    if (process.env.BENCH_KEEP !== '1') cleanup();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
