// One campaign scheduler of the campaigns benchmark (scripts/bench/campaigns.ts builds and forks
// two of these on the same database file), so each has its own heap, peak RSS and event loop and a
// kill -9 kills only it. It loops the campaigns job (runCampaigns, api/core/campaigns/run.ts) with
// its own context until told to stop; with BENCH_SEND_LOOP=1 it also loops the emails job (the
// send loop, to the fake Resend of the coordinator). runCampaigns kicks the send loop itself after
// queueing sends, as it does in the product, so both processes send some mail.
//
// The clock is the coordinator's: real time + an offset it sends over IPC ({type:'clock'}). After
// a runCampaigns that claimed nothing, the worker says so ({type:'idle', epoch}); the coordinator
// moves the clock only when every scheduler is idle at the current epoch and nothing is due.
//
//   BENCH_DB_URL, BENCH_RESEND_URL, BENCH_RESEND_KEY, BENCH_OWNER (the lease owner)
//   BENCH_SEND_LOOP=1      also run the emails job in a loop
//   BENCH_BUSY_TIMEOUT_MS  the libSQL client's busy timeout (0: fail at once with SQLITE_BUSY, as
//                          the Node entry opens its client)
//   BENCH_BATCH            rows per claim (runCampaigns' default when unset)
//   BENCH_PROFILE=1        time every statement of the completion batch on its own (a transaction
//                          with the same statements instead of one batch call)
import { createClient, type InStatement } from '@libsql/client';
import { readFileSync } from 'node:fs';
import { createCtx } from '../../api/core/context';
import { runCampaigns } from '../../api/core/campaigns/run';
import { JOBS } from '../../api/jobs/index';
import { parseConfig } from '../../api/env';
import { prepareDatabase } from '../../api/db/open';

const send = (msg: unknown) => process.send?.(msg);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** Resident memory by kind (anonymous: heaps, SQLite's caches; file: mapped code; shmem: the WAL index). */
function rssParts(): Record<string, number> {
  try {
    const st = readFileSync('/proc/self/status', 'utf8');
    const get = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(st)?.[1] ?? 0) * 1024;
    return { hwm: get('VmHWM'), rss: get('VmRSS'), anon: get('RssAnon'), file: get('RssFile'), shmem: get('RssShmem') };
  } catch {
    return {};
  }
}

/** Where a statement's time goes: claim, the run's reads, the commit (by what it writes). */
function category(sql: string): string {
  const s = sql.replace(/\s+/g, ' ').trim();
  if (s.startsWith('UPDATE campaign_steps SET lease_owner')) return 'claim';
  if (s.startsWith('SELECT id, name, secret FROM campaigns')) return 'run: campaigns read';
  if (s.startsWith('SELECT definition FROM campaign_versions')) return 'run: version read';
  if (s.startsWith('INSERT INTO email_sends')) return 'commit: send_email rows';
  if (s.includes('FROM json_each(?) j JOIN campaign_steps s ON s.id = j.value')) return 'run: decision match';
  if (s.startsWith('SELECT c.id,') && s.includes('AS skip FROM contacts')) return 'run: send_email suppression read';
  if (s.startsWith('SELECT * FROM emails')) return 'run: email read';
  if (s.startsWith('SELECT value FROM app_state')) return 'run: settings read';
  if (s.startsWith('INSERT INTO tags')) return 'commit: add_tags tags';
  if (s.startsWith('INSERT INTO contact_tags')) return 'commit: add_tags contact_tags';
  if (s.startsWith('UPDATE contacts SET updated_at')) return 'commit: add_tags touch';
  if (s.startsWith('INSERT INTO campaign_steps')) return 'commit: next rows';
  if (s.startsWith('UPDATE campaign_enrollments')) return 'commit: passes ended';
  if (s.startsWith('UPDATE campaign_steps SET status = x.status')) return 'commit: outcomes';
  if (s.includes('email_sends') || s.includes('INSERT INTO events')) return 'send loop';
  return 'other: ' + s.slice(0, 50);
}

async function main() {
  const url = process.env.BENCH_DB_URL!;
  const owner = process.env.BENCH_OWNER!;
  const busy = Number(process.env.BENCH_BUSY_TIMEOUT_MS ?? 0);
  const batch = process.env.BENCH_BATCH ? Number(process.env.BENCH_BATCH) : undefined;
  const profile = process.env.BENCH_PROFILE === '1';
  const client = createClient(busy > 0 ? { url, timeout: busy } : { url });
  await prepareDatabase(client, url);
  const config = parseConfig({
    DATABASE_URL: url,
    LOG_LEVEL: 'error',
    RESEND_API_KEY: process.env.BENCH_RESEND_KEY ?? '',
    RESEND_BASE_URL: process.env.BENCH_RESEND_URL ?? '',
    API_RATE_LIMIT: '1000000',
    // The fake Resend has no rate limit: the shared pacing (2 calls a second by default) out of the way.
    EMAIL_RATE_PER_SECOND: '1000',
    PUBLIC_URL: 'https://mail.example.com',
    SECRET: 'bench-secret-bench-secret-bench-secret',
  });
  let offset = 0;
  let epoch = 0;
  const ctx = createCtx({ client, config, now: () => Date.now() + offset });

  // Statement timings: every execute and batch (a batch by its statements' categories, or each
  // statement on its own with BENCH_PROFILE=1).
  const times = new Map<string, { n: number; ms: number }>();
  const note = (k: string, ms: number) => {
    const e = times.get(k) ?? { n: 0, ms: 0 };
    e.n++;
    e.ms += ms;
    times.set(k, e);
  };
  // Per kind of batch (its steps and phases): claim, run (between the claim and the commit: the
  // group's reads and JS) and commit, lock waits included.
  let batchOf: { kind: string; rows: number; claimMs: number; claimedAt: number } | null = null;
  const kinds = new Map<string, { batches: number; rows: number; claim_ms: number; run_ms: number; commit_ms: number }>();
  const sqlOf = (s: InStatement | string) => (typeof s === 'string' ? s : s.sql);
  const exec = client.execute.bind(client);
  const batchCall = client.batch.bind(client);
  (client as any).execute = async (s: any, a?: any) => {
    const t = performance.now();
    const cat = category(sqlOf(s));
    try {
      let r;
      if (profile && cat === 'claim') {
        // The same statement in its own write transaction, so the wait for the lock is timed apart.
        const t0 = performance.now();
        const tx = await client.transaction('write');
        note('claim: BEGIN IMMEDIATE (lock wait)', performance.now() - t0);
        try {
          const t1 = performance.now();
          r = await tx.execute(typeof s === 'string' ? { sql: s, args: a ?? [] } : s);
          note('claim: statement', performance.now() - t1);
          const t2 = performance.now();
          await tx.commit();
          note('claim: COMMIT', performance.now() - t2);
        } finally {
          tx.close();
        }
      } else r = await exec(s, a);
      // A claim that took rows: the coordinator learns this scheduler is busy (and, in the kill -9
      // variant, that it is now mid-batch).
      if (cat === 'claim' && r.rows.length) {
        const steps: Record<string, number> = {};
        const phases = new Set<string>();
        for (const row of r.rows) {
          steps[String(row.step_id)] = (steps[String(row.step_id)] ?? 0) + 1;
          phases.add(`${row.step_id} ${row.status}`);
        }
        send({ type: 'claimed', n: r.rows.length, steps });
        // The batch this claim starts, by step and phase (pending: first run; waiting: its time came).
        batchOf = { kind: [...phases].sort().join(' + '), rows: r.rows.length, claimMs: performance.now() - t, claimedAt: performance.now() };
      }
      return r;
    } finally {
      note(cat, performance.now() - t);
    }
  };
  (client as any).batch = async (list: InStatement[], mode?: any) => {
    const isCompletion = list.some((s) => sqlOf(s).includes('UPDATE campaign_steps SET status = x.status'));
    const label = isCompletion ? 'commit (whole batch)' : `batch: ${category(sqlOf(list[0]!))}`;
    const t = performance.now();
    const current = isCompletion ? batchOf : null;
    batchOf = null;
    try {
      if (profile && isCompletion) {
        const t0 = performance.now();
        const tx = await client.transaction(mode ?? 'write');
        note('commit: BEGIN IMMEDIATE (lock wait)', performance.now() - t0);
        try {
          const out = [];
          for (const s of list) {
            const t1 = performance.now();
            out.push(await tx.execute(s));
            note(category(sqlOf(s)), performance.now() - t1);
          }
          const t2 = performance.now();
          await tx.commit();
          note('commit: COMMIT', performance.now() - t2);
          return out;
        } finally {
          tx.close();
        }
      }
      return await batchCall(list, mode);
    } finally {
      note(label, performance.now() - t);
      if (current) {
        const k = kinds.get(current.kind) ?? { batches: 0, rows: 0, claim_ms: 0, run_ms: 0, commit_ms: 0 };
        k.batches++;
        k.rows += current.rows;
        k.claim_ms += current.claimMs;
        k.run_ms += t - current.claimedAt;
        k.commit_ms += performance.now() - t;
        kinds.set(current.kind, k);
      }
    }
  };

  let stopCampaigns = false;
  let stopSend = false;
  const stats = { heap_total_max: 0, heap_used_max: 0, external_max: 0, rss_max: 0, runs: 0, claimed: 0, done: 0, waiting: 0, failed: 0, errors: 0, busy: 0, idle_ms: 0, run_ms: 0, send_runs: 0, send_errors: 0, last_error: '' };
  // The coordinator is gone (it crashed or was killed): so is this process.
  process.on('disconnect', () => process.exit(2));
  process.on('message', (m: any) => {
    if (m?.type === 'clock') {
      offset = m.offset;
      epoch = m.epoch;
    } else if (m?.type === 'stop-campaigns') stopCampaigns = true;
    else if (m?.type === 'stop') stopCampaigns = stopSend = true;
  });

  const cpu0 = process.cpuUsage();
  const campaignsLoop = async () => {
    let lastProgress = performance.now();
    while (!stopCampaigns) {
      const seen = epoch;
      const t = performance.now();
      try {
        const r = await runCampaigns(ctx, { owner, budgetMs: 2_000, batch });
        stats.run_ms += performance.now() - t;
        stats.runs++;
        stats.claimed += r.claimed;
        stats.done += r.done;
        stats.waiting += r.waiting;
        stats.failed += r.failed;
        if (r.claimed === 0) {
          send({ type: 'idle', epoch: seen });
          const t2 = performance.now();
          await sleep(20);
          stats.idle_ms += performance.now() - t2;
        } else await new Promise((r2) => setImmediate(r2));
      } catch (e) {
        stats.run_ms += performance.now() - t;
        const msg = e instanceof Error ? e.message : String(e);
        if (msg.includes('SQLITE_BUSY')) stats.busy++;
        else stats.errors++;
        stats.last_error = msg.slice(0, 300);
        await sleep(5);
      }
      if (performance.now() - lastProgress > 1_000) {
        lastProgress = performance.now();
        const mem = process.memoryUsage();
        stats.heap_used_max = Math.max(stats.heap_used_max, mem.heapUsed);
        stats.heap_total_max = Math.max(stats.heap_total_max, mem.heapTotal);
        stats.external_max = Math.max(stats.external_max, mem.external);
        stats.rss_max = Math.max(stats.rss_max, mem.rss);
        send({ type: 'progress', stats, memory: process.memoryUsage() });
      }
    }
  };
  const sendLoop = async () => {
    while (!stopSend) {
      try {
        const r = (await JOBS.emails!.run(ctx)) as { calls: number };
        stats.send_runs++;
        await (r.calls ? new Promise((r2) => setImmediate(r2)) : sleep(20));
      } catch (e) {
        stats.send_errors++;
        stats.last_error = (e instanceof Error ? e.message : String(e)).slice(0, 300);
        await sleep(5);
      }
    }
  };
  send({ type: 'ready', pid: process.pid });
  const loops = [campaignsLoop()];
  if (process.env.BENCH_SEND_LOOP === '1') loops.push(sendLoop());
  await loops[0];
  send({ type: 'campaigns-stopped', stats, peak_rss: peakRss(), cpu: process.cpuUsage(cpu0), times: Object.fromEntries(times), kinds: Object.fromEntries(kinds) });
  await Promise.all(loops);
  // Wait until told to stop entirely (a kicked send loop may still be running: let it finish its call).
  while (!stopSend) await sleep(20);
  send({ type: 'done', stats, rss_parts: rssParts(), kinds: Object.fromEntries(kinds), peak_rss: peakRss(), cpu: process.cpuUsage(cpu0), memory: process.memoryUsage(), times: Object.fromEntries(times) });
}

main().then(
  () => setTimeout(() => process.exit(0), 50),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
