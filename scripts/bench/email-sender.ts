// The sending side of the email benchmark (scripts/bench/email.ts builds and forks it), so its
// peak RSS is its own and a kill -9 kills only it. One process per mode (BENCH_MODE):
//   bare     render the benchmark email for every contact in a plain loop (renderParts only)
//   send     POST /api/v1/emails/{id}/broadcast through the app, then run the emails job (what
//            Node's job runner and the Workers cron run) until the broadcast is sent
//   resume   only the emails job until the broadcast is sent (after a kill -9 of `send`), with
//            the clock BENCH_CLOCK_OFFSET_MS ahead (the dead process's leases have run out)
// Reports { type: 'done', … } over IPC, and { type: 'progress', … } now and then.
import { createClient } from '@libsql/client';
import { readFileSync } from 'node:fs';
import { createApp } from '../../api/app';
import { createApiKey } from '../../api/core/access/api-keys';
import { createCtx } from '../../api/core/context';
import { loadEmail } from '../../api/core/email/emails';
import { loadRecipients } from '../../api/core/email/recipients';
import { parsedEmail, renderParts } from '../../api/core/email/render';
import { JOBS } from '../../api/jobs/index';
import { parseConfig } from '../../api/env';
import { prepareDatabase } from '../../api/db/open';
import { startRssTrace } from './email-rss-trace';

const send = (msg: unknown) => process.send?.(msg);

function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.memoryUsage().rss;
}

async function main() {
  const url = process.env.BENCH_DB_URL!;
  const mode = process.env.BENCH_MODE!;
  const emailId = Number(process.env.BENCH_EMAIL_ID);
  const offset = Number(process.env.BENCH_CLOCK_OFFSET_MS ?? 0);
  const client = createClient({ url });
  // Opened as the Node entry (api/entry/node.ts) opens it: WAL, synchronous = NORMAL, migrations
  // (none left to apply). Without it every commit of the send loop waited for an fsync.
  await prepareDatabase(client, url);
  // BENCH_EMAIL_RSS_TRACE=1: RSS, heap and the step of the send path every 100 ms (email-rss-trace.ts).
  if (process.env.BENCH_EMAIL_RSS_TRACE === '1') {
    const file = process.env.BENCH_EMAIL_RSS_TRACE_FILE ?? `dist/bench/email-rss-${mode}-${process.pid}.tsv`;
    startRssTrace(client, file, Number(process.env.BENCH_EMAIL_RSS_TRACE_MS ?? 100));
    console.error(`    (RSS trace: ${file})`);
  }
  const config = parseConfig({
    DATABASE_URL: url,
    LOG_LEVEL: 'warn',
    RESEND_API_KEY: process.env.BENCH_RESEND_KEY ?? '',
    RESEND_BASE_URL: process.env.BENCH_RESEND_URL ?? '',
    API_RATE_LIMIT: '1000000',
    // The fake Resend has no rate limit: the shared pacing (2 calls a second by default) out of the way.
    EMAIL_RATE_PER_SECOND: '1000',
    PUBLIC_URL: 'https://mail.example.com',
    SECRET: 'bench-secret-bench-secret-bench-secret',
  });
  const ctx = createCtx({ client, config, now: () => Date.now() + offset });
  // BENCH_TRACE_SQL=1: time spent per statement (by its first words), printed at the end.
  const sqlTimes = new Map<string, { n: number; ms: number }>();
  if (process.env.BENCH_TRACE_SQL === '1') {
    const label = (s: unknown) => (typeof s === 'string' ? s : (s as { sql: string }).sql).replace(/\s+/g, ' ').slice(0, 90);
    const note = (k: string, ms: number) => {
      const e = sqlTimes.get(k) ?? { n: 0, ms: 0 };
      e.n++;
      e.ms += ms;
      sqlTimes.set(k, e);
    };
    const exec = client.execute.bind(client);
    const batch = client.batch.bind(client);
    (client as any).execute = async (s: any, a?: any) => {
      const t = performance.now();
      try {
        return await exec(s, a);
      } finally {
        note(label(s), performance.now() - t);
      }
    };
    (client as any).batch = async (list: any[], mode?: any) => {
      const t = performance.now();
      try {
        return await batch(list, mode);
      } finally {
        note('BATCH ' + list.map(label).map((x) => x.slice(0, 40)).join(' | '), performance.now() - t);
      }
    };
    process.on('exit', () => {
      for (const [k, v] of [...sqlTimes].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) console.error(`${v.ms.toFixed(0).padStart(7)} ms ${String(v.n).padStart(6)}× ${k}`);
    });
  }
  const cpu0 = process.cpuUsage();

  if (mode === 'bare') {
    const n = Number(process.env.BENCH_CONTACTS);
    const email = await loadEmail(ctx, emailId);
    const parsed = parsedEmail(email);
    // Recipients read first, untimed: the loop measures rendering only.
    const ids = (await client.execute('SELECT id FROM contacts ORDER BY id LIMIT ?', [n])).rows.map((r) => Number(r.id));
    const recipients = [];
    for (let i = 0; i < ids.length; i += 1000) {
      const m = await loadRecipients(ctx, ids.slice(i, i + 1000));
      for (const id of ids.slice(i, i + 1000)) recipients.push(m.get(id)!);
    }
    const t0 = performance.now();
    let bytes = 0;
    for (const [i, r] of recipients.entries()) {
      const parts = await renderParts(parsed, {
        contact: r.contact,
        company: r.company ?? {},
        points: r.contact.points,
        stage: r.contact.stage,
        unsubscribe_url: `https://mail.example.com/u/${i}`,
        preferences_url: `https://mail.example.com/u/${i}?preferences=1`,
      });
      bytes += parts.html.length;
      if (i % 20_000 === 19_999) send({ type: 'progress', done: i + 1, s: (performance.now() - t0) / 1000 });
    }
    const ms = performance.now() - t0;
    send({ type: 'done', renders: recipients.length, ms, html_bytes: bytes / recipients.length, peak_rss: peakRss(), cpu: process.cpuUsage(cpu0) });
    return;
  }

  let broadcastId = Number(process.env.BENCH_BROADCAST_ID ?? 0);
  const t0 = performance.now();
  if (mode === 'send') {
    const key = (await createApiKey({ ctx, input: { name: 'bench', scopes: ['admin'] } })).secret;
    const app = createApp({ ctx });
    const body = JSON.stringify({ segment_ids: [Number(process.env.BENCH_SEGMENT_ID)] });
    const res = await app.request(`/api/v1/emails/${emailId}/broadcast`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': String(body.length) },
      body,
    });
    if (res.status !== 202) throw new Error(`broadcast: ${res.status} ${await res.text()}`);
    broadcastId = ((await res.json()) as { id: number }).id;
    send({ type: 'started', broadcastId });
  }
  let runs = 0;
  let last = performance.now();
  for (;;) {
    await JOBS.emails!.run(ctx);
    runs++;
    // Let I/O in between runs, as Node's job timer does. Every database call here settles as a
    // microtask, so a run that finds its rows leased to a lane still waiting for its provider
    // call (the broadcast request's kicked loop) comes back at once, and back to back such runs
    // never let that call's response (nor libsql's statement finalizers) through: the call
    // timed out, its rows waited for their retry, and RSS grew by the unfinalized statements.
    await new Promise((r) => setImmediate(r));
    const r = await client.execute({ sql: 'SELECT status FROM email_broadcasts WHERE id = ?', args: [broadcastId] });
    if (String(r.rows[0]!.status) === 'sent') break;
    if (performance.now() - last > 5_000) {
      last = performance.now();
      const c = await client.execute({ sql: "SELECT count(*) AS n FROM email_sends WHERE broadcast_id = ? AND status = 'sent'", args: [broadcastId] });
      send({ type: 'progress', sent: Number(c.rows[0]!.n), s: (performance.now() - t0) / 1000, memory: process.memoryUsage() });
    }
  }
  const ms = performance.now() - t0;
  const counts = await client.execute({ sql: 'SELECT status, count(*) AS n FROM email_sends WHERE broadcast_id = ? GROUP BY status', args: [broadcastId] });
  send({
    type: 'done',
    broadcastId,
    ms,
    runs,
    statuses: Object.fromEntries(counts.rows.map((x) => [String(x.status), Number(x.n)])),
    peak_rss: peakRss(),
    memory: process.memoryUsage(),
    cpu: process.cpuUsage(cpu0),
  });
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
