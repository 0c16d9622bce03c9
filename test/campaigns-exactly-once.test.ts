// Campaigns (issue 11): every step row runs exactly once to completion, whoever runs the scheduler.
//   - Two scheduler processes race on one database file over thousands of contacts (send email →
//     wait → decision on the click → tag and points, or a second email): no step twice, none lost,
//     both did part of the work, and every claim is accounted for.
//   - A scheduler process is killed with SIGKILL between its claim and its commit: its rows wait
//     out the lease (untouched until then), and another scheduler finishes them, once.
//   - The same, killed at whatever moment of a busy run.
//   - A holder whose lease ran out and was taken over commits nothing, whether it tries after the
//     new holder committed or while the new holder still works.
// The scheduler processes are test/fixtures/campaign-scheduler.ts, bundled as the benchmarks'
// helper processes are (scripts/bundle-node.mjs); every clock is the test's (a frozen, shared value).
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createClient, type Client, type InStatement, type TransactionMode } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleNode } from '../scripts/bundle-node.mjs';
import { makeApp, type TestApp } from './helpers';
import { createCtx, type Ctx } from '../api/core/context';
import { archiveCampaign, CampaignInput, createCampaign, publishCampaign } from '../api/core/campaigns/campaigns';
import { removeContact } from '../api/core/campaigns/membership';
import { LEASE_MS, runBatch, runCampaigns } from '../api/core/campaigns/run';
import { kickSendLoop } from '../api/core/email/loop';
import { createEmail } from '../api/core/email/emails';
import { upsertContacts } from '../api/core/contacts/upsert';

const root = join(import.meta.dirname, '..');
const schedulerFile = join(root, 'dist', 'test', 'campaign-scheduler.mjs');
const T0 = Date.parse('2026-03-02T09:00:00Z');
const HOUR = 3_600_000;
const MSG_TIMEOUT_MS = 90_000;

beforeAll(async () => {
  await bundleNode(join(root, 'test', 'fixtures', 'campaign-scheduler.ts'), schedulerFile);
});

// ---------------------------------------------------------------------------------------------
// Scheduler processes

interface Scheduler {
  proc: ChildProcess;
  /** Sends a message and resolves with the first answer of type `reply` (bounded). */
  request: (msg: Record<string, unknown>, reply: string) => Promise<any>;
  /** SIGKILL, resolved once the process is gone. */
  kill: () => Promise<{ code: number | null; signal: string | null }>;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

const started: Scheduler[] = [];
afterAll(async () => {
  for (const s of started) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.kill();
});

async function startScheduler(url: string, name: string, env: Record<string, string> = {}): Promise<Scheduler> {
  const proc = fork(schedulerFile, [], {
    cwd: root,
    env: { PATH: process.env.PATH!, CAMPAIGN_DB_URL: url, CAMPAIGN_SCHEDULER_NAME: name, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiters = new Map<string, { resolve: (m: any) => void; reject: (e: Error) => void }>();
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      for (const w of waiters.values()) w.reject(new Error(`scheduler ${name} exited (${signal ?? code})`));
      waiters.clear();
      resolve({ code, signal });
    }),
  );
  const wait = (type: string) =>
    new Promise<any>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`scheduler ${name}: no "${type}" within ${MSG_TIMEOUT_MS} ms`)), MSG_TIMEOUT_MS);
      waiters.set(type, {
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  proc.on('message', (m: any) => {
    if (m?.type === 'error') {
      for (const w of waiters.values()) w.reject(new Error(`scheduler ${name} failed: ${m.error}`));
      waiters.clear();
      return;
    }
    const w = waiters.get(m?.type);
    waiters.delete(m?.type);
    w?.resolve(m);
  });
  const ready = wait('ready');
  const s: Scheduler = {
    proc,
    exited,
    request: (msg, reply) => {
      const p = wait(reply);
      proc.send(msg);
      return p;
    },
    kill: async () => {
      proc.kill('SIGKILL');
      return exited;
    },
  };
  started.push(s);
  await ready;
  return s;
}

// ---------------------------------------------------------------------------------------------
// A world: contacts in a static segment, two emails, one campaign enrolling the segment at T0

interface World {
  t: TestApp;
  url: string;
  ids: number[];
  emails: number[];
  campaign: { id: number; name: string };
  at: (ms: number) => void;
  now: () => number;
}

async function world(n: number, steps: (emails: number[]) => unknown[]): Promise<World> {
  let clock = T0 - 60_000;
  const t = await makeApp({ now: () => clock });
  const ctx = t.ctx;
  const emails: number[] = [];
  for (const name of ['First', 'Second']) emails.push((await createEmail({ ctx, input: { name, kind: 'template', subject: name, html: `<p>${name}</p>` } as any })).id);
  const ids: number[] = [];
  for (let i = 0; i < n; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ email: `r${i + j}@example.com`, first_name: `R${i + j}` }));
    ids.push(...(await upsertContacts({ ctx, input: { rows } })).results.map((r: any) => Number(r.id)));
  }
  const seg = await t.json('POST', '/api/v1/segments', { name: 'Everyone', kind: 'static' });
  expect(seg.status).toBe(201);
  await t.client.execute({
    sql: "INSERT INTO segment_members (segment_id, contact_id, source, added_at) SELECT ?, value, 'manual', 0 FROM json_each(?)",
    args: [seg.body.id, JSON.stringify(ids)],
  });
  const c = await createCampaign({
    ctx,
    input: CampaignInput.parse({ name: 'Once', definition: { sources: [{ type: 'segment', segment_id: seg.body.id }], start: 's1', steps: steps(emails) } }),
  });
  clock = T0;
  const published = await publishCampaign({ ctx, input: { id: c.id } });
  expect(published.enrolled).toBe(n);
  return { t, url: ctx.config.DATABASE_URL, ids, emails, campaign: { id: c.id, name: c.name }, at: (ms) => (clock = ms), now: () => clock };
}

const count = async (client: Client, sql: string, args: any[] = []) => Number((await client.execute({ sql, args })).rows[0]!.n);

/** The invariants every test ends with: one row per (campaign, step, contact, rotation), all done, every pass completed. */
async function expectAllDoneOnce(w: World, expectedRows: number) {
  const c = w.t.client;
  expect(await count(c, 'SELECT count(*) AS n FROM (SELECT 1 FROM campaign_steps GROUP BY campaign_id, step_id, contact_id, rotation HAVING count(*) > 1)')).toBe(0);
  const byStatus = await c.execute('SELECT status, count(*) AS n FROM campaign_steps GROUP BY status');
  expect(Object.fromEntries(byStatus.rows.map((r) => [r.status, Number(r.n)]))).toEqual({ done: expectedRows });
  const passes = await c.execute('SELECT status, count(*) AS n FROM campaign_enrollments GROUP BY status');
  expect(Object.fromEntries(passes.rows.map((r) => [r.status, Number(r.n)]))).toEqual({ completed: w.ids.length });
  expect(await count(c, 'SELECT count(*) AS n FROM campaign_steps WHERE lease_owner IS NOT NULL OR failures > 0 OR error IS NOT NULL')).toBe(0);
}

/** Sends: one row per (email, contact, reason), all sent, one outbox message and one email_sent event each. */
async function expectSendsOnce(w: World, expected: Record<number, number>) {
  const c = w.t.client;
  await kickSendLoop(w.t.ctx);
  expect(await count(c, 'SELECT count(*) AS n FROM (SELECT 1 FROM email_sends GROUP BY email_id, contact_id, reason HAVING count(*) > 1)')).toBe(0);
  const byEmail = await c.execute("SELECT email_id, count(*) AS n, sum(status = 'sent') AS sent FROM email_sends GROUP BY email_id");
  expect(Object.fromEntries(byEmail.rows.map((r) => [Number(r.email_id), Number(r.n)]))).toEqual(expected);
  expect(byEmail.rows.every((r) => r.n === r.sent)).toBe(true);
  const total = Object.values(expected).reduce((a, b) => a + b, 0);
  expect(await count(c, 'SELECT count(*) AS n FROM email_outbox')).toBe(total);
  expect(await count(c, "SELECT count(*) AS n FROM events WHERE type = 'email_sent'")).toBe(total);
}

// ---------------------------------------------------------------------------------------------

describe('campaign steps run exactly once', () => {
  it('two scheduler processes racing on one file: nothing twice, nothing lost, both did work', { timeout: 240_000 }, async () => {
    // Two processes on one file over N contacts: send email → wait 1 h → decision on a click of it
    // (1 h) → yes: tag, points; no: a second email. The processes open their client with libsql's
    // busy timeout, so that a write meeting the other's write lock waits for it, as SQLite intends
    // for two processes. (api/entry/node.ts opens its client without one: see the KNOWN BUG below.)
    const N = Number(process.env.CAMPAIGN_RACE_CONTACTS ?? 3000);
    const w = await world(N, (e) => [
      { id: 's1', type: 'action', action: { type: 'send_email', email_id: e[0] }, next: 's2' },
      { id: 's2', type: 'wait', wait: { for: { hours: 1 } }, next: 's3' },
      { id: 's3', type: 'decision', on: { event: 'email_clicked', email_id: e[0] }, timeout: { hours: 1 }, yes: 's4', no: 's6' },
      { id: 's4', type: 'action', action: { type: 'add_tags', tags: ['clicked'] }, next: 's5' },
      { id: 's5', type: 'action', action: { type: 'points', op: 'add', value: 5 }, next: null },
      { id: 's6', type: 'action', action: { type: 'send_email', email_id: e[1] }, next: null },
    ]);
    const env = { CAMPAIGN_DB_TIMEOUT_MS: '10000' };
    const [a, b] = await Promise.all([startScheduler(w.url, 'A', env), startScheduler(w.url, 'B', env)]);
    const totals = { A: { claimed: 0, completed: 0, done: 0 }, B: { claimed: 0, completed: 0, done: 0 } };
    const round = async (now: number) => {
      w.at(now);
      const out = await Promise.all([a, b].map((s) => s.request({ type: 'run', now, batch: 100 }, 'ran')));
      for (const [i, r] of out.entries()) {
        const t = totals[i ? 'B' : 'A'];
        t.claimed += r.claimedRows;
        t.completed += r.completedRows;
        t.done += r.result.done;
        expect(r.result.failed, 'failed steps').toBe(0);
      }
      return out.map((r) => r.claimedRows);
    };
    const click = (at: number, where: string, machine = false) =>
      w.t.client.execute({
        sql: `INSERT INTO events (contact_id, type, url, props, created_at)
          SELECT value, 'email_clicked', 'https://example.com/offer', json_object('email_id', ?, 'machine', json(CASE WHEN ? THEN 'true' ELSE 'false' END)), ? FROM json_each(?) j WHERE ${where}`,
        args: [w.emails[0]!, machine ? 1 : 0, at, JSON.stringify(w.ids)],
      });
    // T0: the first email and the start of the wait. Clicks come in while they wait: a person's from
    // every third contact, a link scanner's from the next (those never count).
    await round(T0);
    await click(T0 + HOUR / 2, 'j.key % 3 = 0');
    await click(T0 + HOUR / 2, 'j.key % 3 = 1', true);
    // T0 + 1 h: the wait ends, the decision finds the clicks so far (yes) or waits an hour.
    await round(T0 + HOUR);
    await click(T0 + HOUR + HOUR / 2, 'j.key % 5 = 1');
    // T0 + 2 h: the decisions time out; the check finds the later clicks (the reactions never ran here).
    await round(T0 + 2 * HOUR);
    expect(await round(T0 + 2 * HOUR)).toEqual([0, 0]);

    const yes = w.ids.filter((_, i) => i % 3 === 0 || i % 5 === 1);
    const no = w.ids.length - yes.length;
    const rowsDone = 3 * N + 2 * yes.length + no;
    await expectAllDoneOnce(w, rowsDone);
    // Each contact's path, as the decision had it.
    const paths = await w.t.client.execute("SELECT contact_id, group_concat(step_id || coalesce(':' || branch, ''), ' ') AS path FROM (SELECT * FROM campaign_steps ORDER BY id) GROUP BY contact_id");
    const yesSet = new Set(yes);
    const wrong = paths.rows.filter((r) => r.path !== (yesSet.has(Number(r.contact_id)) ? 's1 s2 s3:yes s4 s5' : 's1 s2 s3:no s6'));
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(paths.rows.length).toBe(N);
    // Every claim is accounted for: a row is claimed once per run (twice for the wait and for the
    // decisions that waited), and every claimed row was completed by its claimer's commit.
    const attempts = await w.t.client.execute('SELECT step_id, attempts, count(*) AS n FROM campaign_steps GROUP BY 1, 2 ORDER BY 1, 2');
    const decidedAtOnce = w.ids.filter((_, i) => i % 3 === 0).length;
    expect(attempts.rows.map((r) => `${r.step_id} x${r.attempts}: ${r.n}`)).toEqual([
      `s1 x1: ${N}`,
      `s2 x2: ${N}`,
      `s3 x1: ${decidedAtOnce}`,
      `s3 x2: ${N - decidedAtOnce}`,
      `s4 x1: ${yes.length}`,
      `s5 x1: ${yes.length}`,
      `s6 x1: ${no}`,
    ]);
    const claims = rowsDone + N + (N - decidedAtOnce);
    expect(totals.A.claimed + totals.B.claimed).toBe(claims);
    expect(totals.A.completed + totals.B.completed).toBe(claims);
    expect(totals.A.done + totals.B.done).toBe(rowsDone);
    // Both processes did part of it.
    expect(totals.A.completed, JSON.stringify(totals)).toBeGreaterThan(0);
    expect(totals.B.completed, JSON.stringify(totals)).toBeGreaterThan(0);
    // Side effects once: points, tags, sends.
    const log = await w.t.client.execute("SELECT contact_id, count(*) AS n FROM point_log WHERE reason LIKE 'campaign %' GROUP BY contact_id");
    expect(log.rows.length).toBe(yes.length);
    expect(log.rows.every((r) => Number(r.n) === 1)).toBe(true);
    expect(await count(w.t.client, 'SELECT count(*) AS n FROM contacts WHERE points = 5')).toBe(yes.length);
    expect(await count(w.t.client, "SELECT count(*) AS n FROM contact_tags WHERE tag_id = (SELECT id FROM tags WHERE name = 'clicked')")).toBe(yes.length);
    await expectSendsOnce(w, { [w.emails[0]!]: N, [w.emails[1]!]: no });
    console.log(`race over ${N} contacts: A claimed ${totals.A.claimed} rows and completed ${totals.A.done} steps, B claimed ${totals.B.claimed} and completed ${totals.B.done}`);
  });

  // The libSQL client leaves a statement that failed with SQLITE_BUSY (another process held the
  // write lock past the busy timeout) "in progress" on its connection until garbage collection,
  // and every commit on that connection fails until then. The file client (api/db/file-client.ts,
  // used by the Node entry and by makeApp) replaces itself after SQLITE_BUSY, so the next run
  // commits. (makeApp's client has no busy timeout, so the claim fails at once here.)
  it('after a claim failed with SQLITE_BUSY (another process held the write lock), the next run commits', async () => {
    const w = await world(20, threeSteps);
    const other = createClient({ url: w.url });
    try {
      const tx = await other.transaction('write');
      await tx.execute('UPDATE campaigns SET updated_at = updated_at');
      await expect(runBatch(w.t.ctx, 'A')).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
      await tx.commit();
      // The lock is free again: the scheduler runs everything, and another connection sees it.
      expect((await runCampaigns(w.t.ctx)).claimed).toBe(3 * 20);
      expect(await count(other, "SELECT count(*) AS n FROM campaign_steps WHERE status = 'done'")).toBe(3 * 20);
    } finally {
      other.close();
    }
  });

  // points (not idempotent: a second run shows as a second point-log row) → email → tag
  const threeSteps = (e: number[]) => [
    { id: 's1', type: 'action', action: { type: 'points', op: 'add', value: 1 }, next: 's2' },
    { id: 's2', type: 'action', action: { type: 'send_email', email_id: e[0] }, next: 's3' },
    { id: 's3', type: 'action', action: { type: 'add_tags', tags: ['reached'] }, next: null },
  ];
  async function expectThreeStepsOnce(w: World) {
    await expectAllDoneOnce(w, 3 * w.ids.length);
    const log = await w.t.client.execute("SELECT contact_id, count(*) AS n, sum(delta) AS d FROM point_log WHERE reason LIKE 'campaign %' GROUP BY contact_id");
    expect(log.rows.length).toBe(w.ids.length);
    expect(log.rows.filter((r) => Number(r.n) !== 1 || Number(r.d) !== 1)).toEqual([]);
    expect(await count(w.t.client, 'SELECT count(*) AS n FROM contacts WHERE points = 1')).toBe(w.ids.length);
    expect(await count(w.t.client, "SELECT count(*) AS n FROM events WHERE type = 'points_changed'")).toBe(w.ids.length);
    expect(await count(w.t.client, 'SELECT count(*) AS n FROM contact_tags')).toBe(w.ids.length);
    await expectSendsOnce(w, { [w.emails[0]!]: w.ids.length });
  }

  it('a scheduler killed (SIGKILL) between its claim and its commit: its rows wait out the lease, then run once', { timeout: 120_000 }, async () => {
    const w = await world(600, threeSteps);
    const victim = await startScheduler(w.url, 'victim');
    await victim.request({ type: 'hang', now: T0, limit: 200 }, 'at-commit');
    expect((await victim.kill()).signal).toBe('SIGKILL');
    const held = async () =>
      (await w.t.client.execute("SELECT id, step_id, status, attempts, due_at FROM campaign_steps WHERE lease_owner = 'victim' ORDER BY id")).rows.map((r) => ({ ...r }));
    const claimed = await held();
    expect(claimed.length).toBe(200);
    expect(claimed.every((r) => r.step_id === 's1' && r.status === 'pending' && Number(r.attempts) === 1 && Number(r.due_at) === T0 + LEASE_MS)).toBe(true);
    expect(await count(w.t.client, 'SELECT count(*) AS n FROM point_log')).toBe(0);

    // Another scheduler runs everything else; the dead one's rows are leased until T0 + LEASE_MS.
    const rescuer = await startScheduler(w.url, 'rescuer');
    const first = await rescuer.request({ type: 'run', now: T0 }, 'ran');
    expect(first.result.claimed).toBe(3 * 400);
    const justBefore = await rescuer.request({ type: 'run', now: T0 + LEASE_MS - 1 }, 'ran');
    expect(justBefore.result.claimed).toBe(0);
    expect(await held()).toEqual(claimed);
    // The lease has run out: they run now, once.
    w.at(T0 + LEASE_MS);
    const after = await rescuer.request({ type: 'run', now: T0 + LEASE_MS }, 'ran');
    expect(after.result.claimed).toBe(3 * 200);
    const rerun = await w.t.client.execute({ sql: 'SELECT status, attempts, completed_at FROM campaign_steps WHERE id IN (SELECT value FROM json_each(?))', args: [JSON.stringify(claimed.map((r) => r.id))] });
    expect(rerun.rows.every((r) => r.status === 'done' && Number(r.attempts) === 2 && Number(r.completed_at) === T0 + LEASE_MS)).toBe(true);
    await expectThreeStepsOnce(w);
  });

  it('a scheduler killed at whatever moment of a busy run: after the lease, nothing twice and nothing lost', { timeout: 120_000 }, async () => {
    const w = await world(2000, threeSteps);
    const victim = await startScheduler(w.url, 'busy');
    // Killed as soon as it reports its sixth claim: by then it is running that batch, committing it or claiming the next.
    const sixth = new Promise<void>((resolve) => victim.proc.on('message', (m: any) => m?.type === 'claimed' && m.n === 6 && resolve()));
    victim.proc.send({ type: 'busy', now: T0, batch: 50 });
    await sixth;
    expect((await victim.kill()).signal).toBe('SIGKILL');
    const left = await w.t.client.execute("SELECT count(*) AS n, sum(lease_owner = 'busy') AS leased FROM campaign_steps WHERE status IN ('pending', 'waiting')");
    expect(Number(left.rows[0]!.n)).toBeGreaterThan(0);
    w.at(T0 + LEASE_MS);
    await runCampaigns(w.t.ctx, { batch: 300 });
    await expectThreeStepsOnce(w);
    const reclaimed = await count(w.t.client, 'SELECT count(*) AS n FROM campaign_steps WHERE attempts > 1');
    expect(reclaimed).toBe(Number(left.rows[0]!.leased ?? 0));
    console.log(`killed after its sixth claim: ${left.rows[0]!.n} rows open, ${left.rows[0]!.leased ?? 0} of them leased by the dead process and run again after the lease`);
  });

  // In one process: a holder whose commit is held at a gate (as if it stalled), with its own context.
  function gated(w: World): { ctx: Ctx; arrived: Promise<void>; release: () => void } {
    let arrive!: () => void;
    let release!: () => void;
    const arrived = new Promise<void>((r) => (arrive = r));
    const gate = new Promise<void>((r) => (release = r));
    const client = new Proxy(w.t.client, {
      get(target, prop, receiver) {
        if (prop === 'batch')
          return async (stmts: InStatement[], mode?: TransactionMode) => {
            if (stmts.some((s) => typeof s !== 'string' && /UPDATE campaign_steps SET status = x\.status/.test(s.sql))) {
              arrive();
              await gate;
            }
            return target.batch(stmts, mode);
          };
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as Client;
    return { ctx: createCtx({ client, config: w.t.ctx.config, now: w.now }), arrived, release };
  }

  /** Everything a completion could write. */
  const snapshot = async (w: World) => {
    const out: Record<string, unknown> = {};
    for (const [k, sql] of Object.entries({
      steps: 'SELECT * FROM campaign_steps ORDER BY id',
      passes: 'SELECT * FROM campaign_enrollments ORDER BY id',
      points: 'SELECT * FROM point_log ORDER BY id',
      contacts: 'SELECT id, points, updated_at FROM contacts ORDER BY id',
      tags: 'SELECT * FROM contact_tags ORDER BY contact_id, tag_id',
      sends: 'SELECT * FROM email_sends ORDER BY id',
      events: 'SELECT count(*) AS n, max(id) AS last FROM events',
    }))
      out[k] = (await w.t.client.execute(sql)).rows.map((r) => ({ ...r }));
    return out;
  };

  it('a pass that ends while a holder runs its step (removed, archived): the holder commits nothing', async () => {
    const w = await world(20, threeSteps);
    const a = gated(w);
    const pa = runBatch(a.ctx, 'A');
    await a.arrived;
    w.at(T0 + 1000);
    await removeContact({ ctx: w.t.ctx, input: { id: w.campaign.id, contactId: w.ids[0]! } });
    await archiveCampaign({ ctx: w.t.ctx, input: { id: w.campaign.id } });
    const ended = await snapshot(w);
    a.release();
    expect((await pa).claimed).toBe(20);
    expect(await snapshot(w)).toEqual(ended);
    expect(await count(w.t.client, 'SELECT count(*) AS n FROM point_log')).toBe(0);
    const steps = await w.t.client.execute('SELECT step_id, status, count(*) AS n FROM campaign_steps GROUP BY 1, 2');
    expect(steps.rows.map((r) => `${r.step_id} ${r.status}: ${r.n}`)).toEqual(['s1 cancelled: 20']);
    const passes = await w.t.client.execute('SELECT status, end_reason, count(*) AS n FROM campaign_enrollments GROUP BY 1, 2 ORDER BY 2');
    expect(passes.rows.map((r) => `${r.status} ${r.end_reason}: ${r.n}`)).toEqual(['exited archived: 19', 'exited removed: 1']);
  });

  it('a holder whose lease was taken over commits nothing: after the new holder committed, or while it still works', async () => {
    const w = await world(50, (e) => [
      { id: 's1', type: 'action', action: { type: 'points', op: 'add', value: 1 }, next: 's2' },
      { id: 's2', type: 'action', action: { type: 'points', op: 'add', value: 10 }, next: 's3' },
      { id: 's3', type: 'action', action: { type: 'send_email', email_id: e[0] }, next: 's4' },
      { id: 's4', type: 'action', action: { type: 'add_tags', tags: ['reached'] }, next: null },
    ]);
    const n = w.ids.length;
    const rows = (step: string) => w.t.client.execute({ sql: 'SELECT status, attempts, lease_owner, completed_at FROM campaign_steps WHERE step_id = ?', args: [step] });

    // s1. A claims and stalls before its commit; its lease runs out; B claims the same rows and commits; then A's commit.
    let clock = T0;
    const a = gated(w);
    const pa = runBatch(a.ctx, 'A');
    await a.arrived;
    expect((await rows('s1')).rows.every((r) => r.lease_owner === 'A' && Number(r.attempts) === 1)).toBe(true);
    w.at((clock += LEASE_MS));
    const b = await runBatch(w.t.ctx, 'B');
    expect(b.claimed).toBe(n);
    const afterB = await snapshot(w);
    a.release();
    expect((await pa).claimed).toBe(n);
    expect(await snapshot(w)).toEqual(afterB);
    expect((await rows('s1')).rows.every((r) => r.status === 'done' && Number(r.attempts) === 2 && Number(r.completed_at) === clock)).toBe(true);

    // s2 (points) and then s3 (the email). A2 claims and stalls; after the lease B2 claims and stalls
    // too; A2's commit comes first, while B2 holds the rows: nothing. Then B2's: everything, once.
    for (const step of ['s2', 's3']) {
      const a2 = gated(w);
      const pa2 = runBatch(a2.ctx, `A:${step}`);
      await a2.arrived;
      w.at((clock += LEASE_MS));
      const b2 = gated(w);
      const pb2 = runBatch(b2.ctx, `B:${step}`);
      await b2.arrived;
      const held = await snapshot(w);
      a2.release();
      expect((await pa2).claimed).toBe(n);
      expect(await snapshot(w)).toEqual(held);
      b2.release();
      expect((await pb2).claimed).toBe(n);
      expect((await rows(step)).rows.every((r) => r.status === 'done' && Number(r.attempts) === 2 && r.lease_owner === null)).toBe(true);
    }
    await runCampaigns(w.t.ctx);
    await expectAllDoneOnce(w, 4 * n);
    const log = await w.t.client.execute("SELECT contact_id, group_concat(delta) AS d FROM point_log GROUP BY contact_id");
    expect(log.rows.length).toBe(n);
    expect(log.rows.filter((r) => r.d !== '1,10')).toEqual([]);
    expect(await count(w.t.client, 'SELECT count(*) AS n FROM contacts WHERE points = 11')).toBe(n);
    expect(await count(w.t.client, "SELECT count(*) AS n FROM events WHERE type = 'points_changed'")).toBe(2 * n);
    await expectSendsOnce(w, { [w.emails[0]!]: n });
  });
});
