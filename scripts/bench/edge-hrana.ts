// The edge benchmark's database: the libSQL Hrana fixture (test/fixtures/hrana-server.ts) over a
// file, in a process of its own so its SQLite work does not share a thread with the load generator.
// IPC: {type:'faults', faults} sets the fixture's faults (match as a RegExp source) and answers
// the counters; 'stop' closes the server and exits. {type:'reap', pids, dir}: what to clean up if
// the benchmark's process dies without doing so (killed: SIGKILL runs no exit hook).
import { rmSync } from 'node:fs';
import { startHranaServer } from '../../test/fixtures/hrana-server';

const db = await startHranaServer({ path: process.env.BENCH_DB_PATH!, authToken: process.env.BENCH_DB_TOKEN! });
process.send!({ type: 'ready', url: db.url });

// The benchmark gone (ended, killed, crashed): no database process outlives it, nor the workerd it
// named (a process Miniflare would have stopped), nor its temp dir.
let reap: { pids: number[]; dir?: string } = { pids: [] };
process.on('disconnect', () => {
  for (const pid of reap.pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (reap.dir) rmSync(reap.dir, { recursive: true, force: true });
  process.exit(0);
});

process.on('message', async (m: { type: string; faults?: { match?: string; refuse?: boolean; failAfterCommit?: number }; pids?: number[]; dir?: string }) => {
  if (m.type === 'reap') {
    reap = { pids: m.pids ?? [], dir: m.dir };
  } else if (m.type === 'faults') {
    const { match, ...rest } = m.faults ?? {};
    Object.assign(db.faults, rest, { match: match ? new RegExp(match) : undefined });
    process.send!({ type: 'faults', refused: db.faults.refused, failedAfterCommit: db.faults.failedAfterCommit, failAfterCommit: db.faults.failAfterCommit });
  } else if (m.type === 'stop') {
    await db.close();
    process.exit(0);
  }
});
