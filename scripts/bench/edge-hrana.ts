// The edge benchmark's database: the libSQL Hrana fixture (test/fixtures/hrana-server.ts) over a
// file, in a process of its own so its SQLite work does not share a thread with the load generator.
// IPC: {type:'faults', faults} sets the fixture's faults (match as a RegExp source) and answers
// the counters; 'stop' closes the server and exits.
import { startHranaServer } from '../../test/fixtures/hrana-server';

const db = await startHranaServer({ path: process.env.BENCH_DB_PATH!, authToken: process.env.BENCH_DB_TOKEN! });
process.send!({ type: 'ready', url: db.url });

process.on('message', async (m: { type: string; faults?: { match?: string; refuse?: boolean; failAfterCommit?: number } }) => {
  if (m.type === 'faults') {
    const { match, ...rest } = m.faults ?? {};
    Object.assign(db.faults, rest, { match: match ? new RegExp(match) : undefined });
    process.send!({ type: 'faults', refused: db.faults.refused, failedAfterCommit: db.faults.failedAfterCommit, failAfterCommit: db.faults.failAfterCommit });
  } else if (m.type === 'stop') {
    await db.close();
    process.exit(0);
  }
});
