// The email send path against bare template rendering (DESIGN.md: "email send path ≥ 0.5 × bare
// template rendering of the same sends"), exactly-once after a kill -9, and the sending
// process's peak RSS. One fresh WAL database file (prepareDatabase, real migrations), filled in
// SQL: BENCH_CONTACTS contacts (first/last name, city, custom fields, 2 tags each, a primary
// company), a static segment of them all, and a second segment of the first BENCH_KILL_CONTACTS.
// The email is a realistic ~20 KB newsletter (a <style> block the save inlines, tables, ten
// articles, images, buttons) with Liquid personalisation: names with defaults, a custom field
// in an {% if %}, the company, a loop over tags, the unsubscribe and preference URLs.
//
// Measured, each in its own child process (scripts/bench/email-sender.ts):
//   (a) bare     renderParts() of the email for every contact in a plain loop (recipients read
//                before the clock starts): renders/s
//   (b) path     POST /api/v1/emails/{id}/broadcast through the app, then the emails job in a
//                loop until the broadcast is sent: rows written from the segment in chunks,
//                claimed, rendered (links, headers) and handed to a local fake Resend (this
//                process, scripts/bench/fake-resend.ts; no rate limit, Resend's idempotency
//                rules) through the resend SDK (RESEND_BASE_URL): messages/s, from the POST to
//                the broadcast's status "sent"
//   (c) kill -9  a broadcast of another email to the second segment; the sender is SIGKILLed
//                once the fake has received about BENCH_KILL_AT of it, then started again
//                with its clock past the dead process's leases, and runs until sent. The fake
//                counts receipts per send (the leadline_send tag): duplicates and losses
//   (d) RSS      peak RSS (VmHWM) of the sending processes of (b) and (c)
// One budget line per figure (goal, ok or MISSED), also in dist/bench/email.json.
//
//   BENCH_CONTACTS        contacts (default 100,000)
//   BENCH_KILL_CONTACTS   contacts of the kill -9 broadcast (default 20,000)
//   BENCH_KILL_AT         share delivered before the kill (default 0.4)
//   BENCH_SENDER_NODE_ARGS  extra node flags for the sending processes (e.g. --cpu-prof); they
//                         always get the V8 heap flags of `npm start` (package.json) first
//   BENCH_KEEP=1          keep the temp database
//   BENCH_EMAIL_RSS_TRACE=1  each sending process samples its RSS, V8 heap and external memory
//                         every 100 ms with the step of the send path it is in, into a TSV
//                         (scripts/bench/email-rss-trace.ts; BENCH_EMAIL_RSS_TRACE_FILE,
//                         BENCH_EMAIL_RSS_TRACE_MS); the sampler adds a few MB of its own
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleNode } from '../bundle-node.mjs';
import { createCtx } from '../../api/core/context';
import { createEmail } from '../../api/core/email/emails';
import { parseConfig } from '../../api/env';
import { startBenchResend, type BenchResend } from './fake-resend';
import { envInt, fmtBytes, fmtInt, machine, openDatabase, tempDir, writeResults } from './lib';

const NAME = 'email';
const N = envInt('BENCH_CONTACTS', 100_000, 100);
const KILL_N = Math.min(N, envInt('BENCH_KILL_CONTACTS', 20_000, 100));
const KILL_AT = Number(process.env.BENCH_KILL_AT ?? 0.4);
const RATIO_GOAL = 0.5;
const RSS_GOAL = 256 * 1024 * 1024;
const API_KEY = 're_bench_0123456789';
const LEASE_PAST_MS = 61_000;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = process.env.BENCH_OUT_DIR ?? join(root, 'dist', 'bench');

const WORDS = 'marketing automation helps small teams send the right message at the right time without losing the personal touch that makes customers stay'.split(' ');
const para = (seed: number, words: number) => Array.from({ length: words }, (_, i) => WORDS[(seed * 7 + i * 3) % WORDS.length]).join(' ');

/** A newsletter as people send them: ~20 KB of tables, inline-able CSS and Liquid. */
export function newsletterHtml(): string {
  const articles = Array.from(
    { length: 10 },
    (_, i) => `
      <tr><td class="article">
        <table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr>
          <td class="thumb" width="180"><img src="https://cdn.example.com/news/2026-11/article-${i + 1}.jpg" width="180" height="120" alt="Article ${i + 1}"></td>
          <td class="copy">
            <h2 class="headline">${para(i, 6)}</h2>
            <p class="lead">${para(i + 1, 50)}</p>
            <p class="body">${para(i + 2, 90)}</p>
            ${i === 2 ? '{% if contact.fields.plan == "pro" %}<p class="note">As a Pro customer, {{ contact.first_name | default: "you" }} get this a week early.</p>{% else %}<p class="note">Upgrade to Pro to get these a week early.</p>{% endif %}' : ''}
            <p><a class="button" href="https://shop.example.com/news/${i + 1}?utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=nov">Read more</a></p>
          </td>
        </tr></table>
      </td></tr>`,
  ).join('');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Shop news</title>
<style>
  body { margin: 0; padding: 0; background: #f2f4f7; font-family: Helvetica, Arial, sans-serif; color: #1d2939; }
  .wrap { width: 100%; background: #f2f4f7; padding: 24px 0; }
  .main { width: 640px; margin: 0 auto; background: #ffffff; border-radius: 8px; }
  .header { padding: 24px 32px; background: #1f4fd1; color: #ffffff; font-size: 22px; font-weight: bold; }
  .greeting { padding: 24px 32px 8px; font-size: 18px; line-height: 26px; }
  .article { padding: 16px 32px; border-bottom: 1px solid #eaecf0; }
  .thumb img { display: block; border-radius: 4px; }
  .copy { padding-left: 16px; vertical-align: top; }
  .headline { margin: 0 0 8px; font-size: 18px; line-height: 24px; color: #101828; text-transform: capitalize; }
  .lead { margin: 0 0 8px; font-size: 15px; line-height: 22px; color: #344054; }
  .body { margin: 0 0 12px; font-size: 14px; line-height: 21px; color: #475467; }
  .note { margin: 0 0 12px; padding: 8px 12px; background: #fef6ee; color: #b93815; font-size: 14px; }
  .button { display: inline-block; padding: 10px 18px; background: #1f4fd1; color: #ffffff; text-decoration: none; border-radius: 6px; font-weight: bold; }
  .tags { padding: 16px 32px; font-size: 13px; color: #667085; }
  .footer { padding: 24px 32px; font-size: 12px; line-height: 18px; color: #98a2b3; text-align: center; }
  .footer a { color: #667085; }
  @media (max-width: 660px) { .main { width: 100% !important; } .thumb { display: none !important; } }
</style></head>
<body>
<table role="presentation" class="wrap" width="100%" cellpadding="0" cellspacing="0"><tr><td>
<table role="presentation" class="main" cellpadding="0" cellspacing="0">
  <tr><td class="header">Shop news · November</td></tr>
  <tr><td class="greeting">Hi {{ contact.first_name | default: "there" }} {{ contact.last_name }},<br>
    here is what is new{% if company.name %} for the team at {{ company.name }}{% endif %}{% if contact.city %} in {{ contact.city }}{% endif %}.
    You have {{ points }} points{% if stage %} and you are in {{ stage }}{% endif %}.</td></tr>
  ${articles}
  <tr><td class="tags">Picked for you because you follow: {% for tag in contact.tags %}{{ tag }}{% unless forloop.last %}, {% endunless %}{% else %}everything{% endfor %}.</td></tr>
  <tr><td class="footer">
    Shop Inc. · 1 Market Street · Springfield<br>
    You get this email as {{ contact.email }}. <a href="{{ preferences_url }}">Preferences</a> · <a href="{{ unsubscribe_url }}">Unsubscribe</a>
  </td></tr>
</table>
</td></tr></table>
</body></html>`;
}

interface Child {
  done: Promise<any>;
  on: (type: string, f: (msg: any) => void) => void;
  kill: () => void;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

/**
 * The V8 heap flags `npm start` runs the server with (package.json), so the sending process is
 * sized as the product is (README, Performance): the sender is the product's send path.
 */
export function productHeapFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  return pkg.scripts.start!.split(/\s+/).filter((a) => /^--max-(old|semi)-space-size=\d+$/.test(a));
}

function startChild(file: string, env: Record<string, string>): Child {
  const child = fork(file, [], {
    cwd: root,
    execArgv: ['--enable-source-maps', ...productHeapFlags(), ...(process.env.BENCH_SENDER_NODE_ARGS ?? '').split(' ').filter(Boolean)],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const handlers = new Map<string, (msg: any) => void>();
  let resolveDone: (m: any) => void;
  const done = new Promise<any>((r) => (resolveDone = r));
  child.on('message', (msg: any) => {
    if (msg?.type === 'done') resolveDone(msg);
    handlers.get(msg?.type)?.(msg);
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { done, on: (t, f) => handlers.set(t, f), kill: () => child.kill('SIGKILL'), exited };
}

async function run(file: string, env: Record<string, string>): Promise<any> {
  const c = startChild(file, env);
  c.on('progress', (m) =>
    console.log(
      `    … ${m.done ? `${fmtInt(m.done)} rendered` : `${fmtInt(m.sent)} sent`} after ${m.s.toFixed(1)} s${m.memory ? ` (RSS ${fmtBytes(m.memory.rss)}, heap ${fmtBytes(m.memory.heapUsed)}, external ${fmtBytes(m.memory.external)})` : ''}`,
    ),
  );
  const out = await Promise.race([c.done, c.exited.then((e) => Promise.reject(new Error(`child exited early (${e.signal ?? e.code})`)))]);
  await c.exited;
  return out;
}

async function main() {
  const started = new Date();
  const loadAtStart = loadavg()[0]!;
  const tmp = tempDir(NAME);
  const senderFile = join(outDir, 'email-sender.mjs');
  await bundleNode(join(root, 'scripts', 'bench', 'email-sender.ts'), senderFile);
  const fake: BenchResend = await startBenchResend(API_KEY);
  const { client, url } = await openDatabase(tmp.dir, 'email.db');
  try {
    // ---- data, in SQL
    const t0 = performance.now();
    const now = Date.now();
    await client.execute('PRAGMA cache_size = -65536');
    await client.batch(
      [
        { sql: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
            INSERT INTO companies (id, name, domain, created_at, updated_at) SELECT i, 'Company ' || i, 'company' || i || '.example.com', ?, ? FROM n`, args: [now, now] },
        { sql: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
            INSERT INTO contacts (id, email, email_normalized, first_name, last_name, city, custom, points, created_at, updated_at)
            SELECT i, 'Reader' || i || '@Example.com', 'reader' || i || '@example.com',
              CASE WHEN i % 10 = 0 THEN NULL ELSE 'First' || (i % 5000) END, 'Last' || (i % 20000),
              CASE i % 4 WHEN 0 THEN 'Paris' WHEN 1 THEN 'Berlin' WHEN 2 THEN NULL ELSE 'Austin' END,
              '{"plan":"' || CASE WHEN i % 7 = 0 THEN 'pro' ELSE 'free' END || '","seats":' || (i % 50) || '}', i % 200, ?, ? FROM n`, args: [N, now, now] },
        { sql: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12) INSERT INTO tags (id, name, created_at) SELECT i, 'topic-' || i, ? FROM n`, args: [now] },
        { sql: `INSERT INTO contact_tags (contact_id, tag_id, created_at) SELECT id, 1 + id % 12, 0 FROM contacts UNION ALL SELECT id, 1 + (id * 5 + 3) % 12, 0 FROM contacts WHERE (id * 5 + 3) % 12 <> id % 12`, args: [] },
        { sql: 'INSERT INTO company_contacts (company_id, contact_id, is_primary, created_at) SELECT 1 + id % 1000, id, 1, 0 FROM contacts', args: [] },
        { sql: `INSERT INTO segments (id, name, kind, created_at, updated_at) VALUES (1, 'Everyone', 'static', ?, ?), (2, 'Kill test', 'static', ?, ?)`, args: [now, now, now, now] },
        { sql: "INSERT INTO segment_members (segment_id, contact_id, source, added_at) SELECT 1, id, 'manual', 0 FROM contacts", args: [] },
        { sql: "INSERT INTO segment_members (segment_id, contact_id, source, added_at) SELECT 2, id, 'manual', 0 FROM contacts WHERE id <= ?", args: [KILL_N] },
      ],
      'write',
    );
    const ctx = createCtx({ client, config: parseConfig({ DATABASE_URL: url, LOG_LEVEL: 'warn' }) });
    const html = newsletterHtml();
    const mk = (name: string) => createEmail({ ctx, input: { name, kind: 'broadcast', subject: 'November news for {{ contact.first_name | default: "you" }}', preheader: 'Eight stories, {{ points }} points', html } });
    const email = await mk('November news');
    const killEmail = await mk('November news (kill test)');
    const compiled = await client.execute({ sql: 'SELECT length(html_compiled) AS n FROM emails WHERE id = ?', args: [email.id] });
    console.log(`  data: ${fmtInt(N)} contacts, 2 tags and a company each; email ${fmtBytes(html.length)} as written, ${fmtBytes(Number(compiled.rows[0]!.n))} with CSS inlined; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    client.close();

    const common = { BENCH_DB_URL: url, BENCH_RESEND_URL: fake.url, BENCH_RESEND_KEY: API_KEY };

    // ---- (a) bare rendering
    console.log(`\n  (a) bare: renderParts() for ${fmtInt(N)} contacts in a plain loop`);
    const bare = await run(senderFile, { ...common, BENCH_MODE: 'bare', BENCH_EMAIL_ID: String(email.id), BENCH_CONTACTS: String(N) });
    const bareRate = bare.renders / (bare.ms / 1000);
    console.log(`    ${fmtInt(bare.renders)} renders in ${(bare.ms / 1000).toFixed(1)} s: ${fmtInt(bareRate)} renders/s (HTML ${fmtBytes(bare.html_bytes)} each)`);

    // ---- (b) the whole path
    console.log(`\n  (b) whole path: broadcast to ${fmtInt(N)} contacts → rows, rendered, handed to the fake Resend`);
    const deliveredBefore = fake.delivered;
    const path = await run(senderFile, { ...common, BENCH_MODE: 'send', BENCH_EMAIL_ID: String(email.id), BENCH_SEGMENT_ID: '1' });
    const pathDelivered = fake.delivered - deliveredBefore;
    const pathRate = pathDelivered / (path.ms / 1000);
    const ratio = Math.round((pathRate / bareRate) * 100) / 100;
    console.log(`    ${fmtInt(pathDelivered)} delivered in ${(path.ms / 1000).toFixed(1)} s: ${fmtInt(pathRate)} messages/s; statuses ${JSON.stringify(path.statuses)}; ${path.runs} job runs; peak RSS ${fmtBytes(path.peak_rss)}`);

    // ---- (c) kill -9 mid-run
    console.log(`\n  (c) kill -9: broadcast to ${fmtInt(KILL_N)} contacts, SIGKILL after ~${Math.round(KILL_AT * 100)} % delivered, restart, finish`);
    const before = new Map(fake.receipts);
    const base = fake.delivered;
    const victim = startChild(senderFile, { ...common, BENCH_MODE: 'send', BENCH_EMAIL_ID: String(killEmail.id), BENCH_SEGMENT_ID: '2' });
    let broadcastId = 0;
    victim.on('started', (m) => (broadcastId = m.broadcastId));
    const killedAt = await new Promise<number>((resolveKill, rejectKill) => {
      const timer = setInterval(() => {
        if (fake.delivered - base >= KILL_N * KILL_AT) {
          clearInterval(timer);
          victim.kill();
          resolveKill(fake.delivered - base);
        }
      }, 2);
      victim.exited.then((e) => {
        clearInterval(timer);
        if (e.signal !== 'SIGKILL') rejectKill(new Error(`the sender finished before the kill (${e.signal ?? e.code})`));
      });
    });
    const victimExit = await victim.exited;
    const db = (await import('@libsql/client')).createClient({ url });
    const inFlight = await db.execute({ sql: "SELECT status, count(*) AS n, count(batch_key) AS keyed FROM email_sends WHERE broadcast_id = ? GROUP BY status", args: [broadcastId] });
    const atKill = Object.fromEntries(inFlight.rows.map((x) => [String(x.status), { n: Number(x.n), keyed: Number(x.keyed) }]));
    console.log(`    killed (${victimExit.signal}) with ${fmtInt(killedAt)} delivered; rows then: ${JSON.stringify(atKill)}`);
    const resumed = await run(senderFile, { ...common, BENCH_MODE: 'resume', BENCH_BROADCAST_ID: String(broadcastId), BENCH_CLOCK_OFFSET_MS: String(LEASE_PAST_MS) });
    const rowsAfter = await db.execute({ sql: 'SELECT id, status FROM email_sends WHERE broadcast_id = ?', args: [broadcastId] });
    db.close();
    let duplicates = 0;
    let lost = 0;
    let expected = 0;
    for (const r of rowsAfter.rows) {
      if (String(r.status) === 'skipped') continue;
      expected++;
      const id = Number(r.id);
      const got = (fake.receipts.get(id) ?? 0) - (before.get(id) ?? 0);
      if (got === 0 || String(r.status) !== 'sent') lost++;
      if (got > 1) duplicates += got - 1;
    }
    console.log(`    restarted and finished: ${fmtInt(fake.delivered - base)} delivered for ${fmtInt(expected)} sends; duplicates ${duplicates}, lost ${lost}; statuses ${JSON.stringify(resumed.statuses)}; peak RSS ${fmtBytes(resumed.peak_rss)}`);

    // ---- summary
    const peak = Math.max(path.peak_rss, resumed.peak_rss);
    const budgets = [
      { figure: 'whole send path ÷ bare rendering (messages/s ÷ renders/s)', value: ratio, budget: `≥ ${RATIO_GOAL}×`, ok: ratio >= RATIO_GOAL, show: `${ratio}×` },
      { figure: 'kill -9 mid-run: duplicates delivered', value: duplicates, budget: '= 0', ok: duplicates === 0, show: String(duplicates) },
      { figure: 'kill -9 mid-run: sends lost', value: lost, budget: '= 0', ok: lost === 0, show: String(lost) },
      { figure: 'peak RSS of the sending process', value: peak, budget: `≤ ${fmtBytes(RSS_GOAL)}`, ok: peak <= RSS_GOAL, show: fmtBytes(peak) },
    ];
    console.log(`\n  Summary (${fmtInt(N)} contacts; load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} now)\n`);
    console.log(`  bare rendering     ${fmtInt(bareRate)} renders/s`);
    console.log(`  whole send path    ${fmtInt(pathRate)} messages/s (${fmtInt(pathDelivered)} in ${(path.ms / 1000).toFixed(1)} s)`);
    // CPU time per message moves less with the machine's load than wall-clock rates do.
    const cpuMs = (c: { user: number; system: number }, n: number) => (c.user + c.system) / 1000 / n;
    console.log(`  CPU per message    ${cpuMs(bare.cpu, bare.renders).toFixed(3)} ms bare, ${cpuMs(path.cpu, pathDelivered).toFixed(3)} ms whole path (ratio ${(cpuMs(bare.cpu, bare.renders) / cpuMs(path.cpu, pathDelivered)).toFixed(2)}×)`);
    console.log(`\n  Budgets\n`);
    const w = Math.max(...budgets.map((b) => b.figure.length));
    for (const b of budgets) console.log(`  ${b.figure.padEnd(w)}  ${b.show.padStart(8)}   budget ${b.budget}   ${b.ok ? 'ok' : 'MISSED'}`);
    const file = writeResults(NAME, {
      benchmark: NAME,
      started_at: started.toISOString(),
      finished_at: new Date().toISOString(),
      machine: machine(),
      load_average_1m: { start: loadAtStart, end: loadavg()[0] },
      params: { contacts: N, kill_contacts: KILL_N, kill_at: KILL_AT, email_bytes: html.length, compiled_bytes: Number(compiled.rows[0]!.n) },
      bare: { renders: bare.renders, seconds: bare.ms / 1000, per_second: bareRate, html_bytes: bare.html_bytes, cpu: bare.cpu },
      path: { delivered: pathDelivered, seconds: path.ms / 1000, per_second: pathRate, statuses: path.statuses, job_runs: path.runs, peak_rss: path.peak_rss, cpu: path.cpu, provider_requests: fake.requests },
      ratio,
      kill: { killed_after_delivered: killedAt, rows_at_kill: atKill, expected, duplicates, lost, statuses: resumed.statuses, resume_peak_rss: resumed.peak_rss, replays_answered: fake.replays },
      budgets,
      budgets_ok: budgets.every((b) => b.ok),
    });
    console.log(`\n  results: ${file}`);
    if (!budgets.every((b) => b.ok)) process.exitCode = 1;
  } finally {
    await fake.close();
    tmp.cleanup();
  }
}

await main();
