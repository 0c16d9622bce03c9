// BENCH_EMAIL_RSS_TRACE=1 (scripts/bench/email-sender.ts): where the sending process's memory
// goes, step by step. A worker thread reads /proc/self/status every BENCH_EMAIL_RSS_TRACE_MS
// (100 ms) even while the main thread is busy in a synchronous libsql call or a render loop,
// and writes one tab-separated line per sample to BENCH_EMAIL_RSS_TRACE_FILE (default
// dist/bench/email-rss-<mode>-<pid>.tsv):
//   t_ms  rss  hwm  rss_anon  rss_file  heap_used  heap_total  external  array_buffers  phases
// (sizes in MB; heap figures are the main thread's, as it last wrote them, at most 100 ms old).
// `phases` is what the main thread is doing: each step of the send path with how many are in
// flight (chunk = a broadcast chunk's INSERT … SELECT, claim, recheck, recipients, render (from
// the recipients read to the call's key), key, provider (the HTTP call, with the request bytes
// in flight), complete, pacing, due; anything else by its first words) and the most recent step
// started. The worker itself adds about 10 MB of RSS: compare traced runs with traced runs.
import { Worker } from 'node:worker_threads';
import type { Client } from '@libsql/client';

const PHASES = ['chunk', 'chunk-end', 'claim', 'recheck', 'recipients', 'render', 'key', 'provider', 'complete', 'pacing', 'due', 'other'] as const;
type Phase = (typeof PHASES)[number];

function phaseOf(sql: string): Phase {
  if (sql.startsWith('INSERT INTO email_sends')) return 'chunk';
  if (sql.startsWith('SELECT contact_id FROM segment_members')) return 'chunk-end';
  if (sql.startsWith("UPDATE email_sends SET status = 'sending'")) return 'claim';
  if (sql.startsWith('SELECT id, skip')) return 'recheck';
  if (sql.startsWith('SELECT c.id, c.email, c.first_name')) return 'recipients';
  if (sql.startsWith('UPDATE email_sends SET batch_key')) return 'key';
  if (sql.startsWith('INSERT INTO events')) return 'complete';
  if (sql.includes('pacing_buckets')) return 'pacing';
  if (sql.startsWith('SELECT 1 FROM email_sends')) return 'due';
  return 'other';
}

const WORKER = `
const { workerData } = require('node:worker_threads');
const { readFileSync, openSync, writeSync } = require('node:fs');
const { i32, f64, names, file, every, t0 } = workerData;
const fd = openSync(file, 'w');
writeSync(fd, 't_ms\\trss\\thwm\\trss_anon\\trss_file\\theap_used\\theap_total\\texternal\\tarray_buffers\\tphases\\n');
const mb = (kb) => (kb / 1024).toFixed(1);
const tick = () => {
  const s = readFileSync('/proc/self/status', 'utf8');
  const kb = (k) => Number(new RegExp(k + ':\\\\s+(\\\\d+)').exec(s)?.[1] ?? 0);
  const active = names.map((n, i) => (Atomics.load(i32, i) > 0 ? n + '×' + Atomics.load(i32, i) : '')).filter(Boolean);
  const bytes = Atomics.load(i32, names.length + 1);
  const last = names[Atomics.load(i32, names.length)] ?? '-';
  const heap = [0, 1, 2, 3].map((i) => (f64[i] / 1048576).toFixed(1));
  writeSync(fd, [Math.round(performance.timeOrigin + performance.now() - t0), mb(kb('VmRSS')), mb(kb('VmHWM')), mb(kb('RssAnon')), mb(kb('RssFile')), ...heap,
    (active.join(',') || 'idle') + (bytes ? ' req ' + (bytes / 1048576).toFixed(1) + 'MB' : '') + ' last=' + last].join('\\t') + '\\n');
};
tick();
setInterval(tick, every);
`;

/** Starts the trace; wraps `client`'s execute/batch and global fetch to know the phase. */
export function startRssTrace(client: Client, file: string, everyMs = 100): void {
  // Per phase: in flight; then the last phase started; then request bytes in flight.
  const i32 = new Int32Array(new SharedArrayBuffer(4 * (PHASES.length + 2)));
  const f64 = new Float64Array(new SharedArrayBuffer(8 * 4));
  const idx = (p: Phase) => PHASES.indexOf(p);
  const writeHeap = () => {
    const m = process.memoryUsage();
    f64[0] = m.heapUsed;
    f64[1] = m.heapTotal;
    f64[2] = m.external;
    f64[3] = m.arrayBuffers;
  };
  const enter = (p: Phase) => {
    Atomics.add(i32, idx(p), 1);
    Atomics.store(i32, PHASES.length, idx(p));
    writeHeap();
  };
  const leave = (p: Phase) => {
    Atomics.sub(i32, idx(p), 1);
    writeHeap();
  };
  const text = (s: unknown) => (typeof s === 'string' ? s : (s as { sql: string }).sql).replace(/\s+/g, ' ').trim();
  const around = async <T>(p: Phase, f: () => Promise<T>): Promise<T> => {
    // A lane renders between its recipients read and the call's key (or its failure).
    if (p === 'key' && Atomics.load(i32, idx('render')) > 0) leave('render');
    enter(p);
    try {
      return await f();
    } finally {
      leave(p);
      if (p === 'recipients') enter('render');
    }
  };
  const exec = client.execute.bind(client);
  const batch = client.batch.bind(client);
  (client as any).execute = (s: any, a?: any) => around(phaseOf(text(s)), () => exec(s, a));
  (client as any).batch = (list: any[], mode?: any) => around(phaseOf(text(list[0])), () => batch(list, mode));
  const fetch0 = globalThis.fetch;
  globalThis.fetch = async (input: any, init?: any) => {
    const n = typeof init?.body === 'string' ? Buffer.byteLength(init.body) : 0;
    Atomics.add(i32, PHASES.length + 1, n);
    try {
      return await around('provider', () => fetch0(input, init));
    } finally {
      Atomics.sub(i32, PHASES.length + 1, n);
    }
  };
  setInterval(writeHeap, everyMs).unref();
  const worker = new Worker(WORKER, { eval: true, workerData: { i32, f64, names: PHASES, file, every: everyMs, t0: performance.timeOrigin + performance.now() } });
  worker.unref();
}
