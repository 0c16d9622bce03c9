// Jobs through a Queue (issue 16), in workerd: the bundle `wrangler deploy` would upload runs in
// Miniflare with the queues wrangler.toml declares (the jobs queue's producer and consumer among
// them; only the retry delay is 0), against a libSQL database over Hrana/HTTP (the fixture), as it
// would against Turso. JOBS_SLICE_MS is 25, so a queue message does about one claim's worth of
// work per lane (a call of 100 emails takes longer than that here) and a backlog takes a chain of
// messages. (Not 1: a slice checks its budget before its first claim, and the clock's millisecond
// may turn between two reads.) The work is seeded from Node through the core
// functions on the same database file (no request kicks anything in the Worker), so only the
// cron and the jobs queue can do it. Assertions are on rows and counts, never on time: waits poll.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Miniflare } from 'miniflare';
import { createClient, type Client } from '@libsql/client';
import { bundledWorker, queueOptions, type BundledWorker } from './workerd';
import { createCtx, type Ctx } from '../api/core/context';
import { parseConfig } from '../api/env';
import { JOBS } from '../api/jobs/index';
import { MAX_SLICES } from '../api/jobs/queue';
import { upsertContacts } from '../api/core/contacts/upsert';
import { createEmail } from '../api/core/email/emails';
import { contactsSource, queueStatement } from '../api/core/email/queue';
import { getEmailSettings } from '../api/core/email/settings';
import { CampaignInput, createCampaign, publishCampaign } from '../api/core/campaigns/campaigns';
import { enrollContacts } from '../api/core/campaigns/membership';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const TOKEN = 'hrana-jobs-token-0123456789';
const ADMIN_KEY = 'll_worker_jobs_admin_key_0123456789';
const ORIGIN = 'http://leadline.test';
const JOB_NAMES = Object.keys(JOBS).sort();

type Worker = {
  scheduled(o: { cron: string }): Promise<unknown>;
  queue(name: string, messages: { id: string; timestamp: Date; body: unknown; attempts: number }[]): Promise<unknown>;
};

describe('jobs through a Queue, the Worker bundle in workerd', () => {
  let worker: BundledWorker | undefined;
  let config: BundledWorker['config'];
  let dbPath: string;
  let mf: Miniflare | undefined;
  // The test's own connection to the database file, for seeding through the core functions.
  let client: Client;
  let ctx: Ctx;

  const startWorker = (withQueues: boolean) => worker!.start({ JOBS_SLICE_MS: '25' }, withQueues ? queueOptions(config, { retryDelay: 0 }) : {});
  const log = () => worker?.log() ?? '';

  async function rows(sql: string, args: (string | number)[] = []): Promise<Record<string, unknown>[]> {
    return (await client.execute({ sql, args })).rows as unknown as Record<string, unknown>[];
  }
  const count = async (sql: string, args: (string | number)[] = []) => Number((await rows(sql, args))[0]!.n);
  const schedule = async () => Object.fromEntries((await rows('SELECT job, claims, slices, token FROM jobs_schedule ORDER BY job')).map((r) => [String(r.job), r]));

  /** A campaign (send an email, then tag) with `n` new contacts enrolled: `n` first steps due now. */
  async function campaignBacklog(prefix: string, n: number): Promise<{ campaignId: number; contactIds: number[] }> {
    const contacts = Array.from({ length: n }, (_, i) => ({ email: `${prefix}${i}@example.com`, first_name: `N${i}` }));
    const contactIds = (await upsertContacts({ ctx, input: { rows: contacts } })).results.map((r: any) => Number(r.id));
    const email = await createEmail({ ctx, input: { name: `${prefix} welcome`, kind: 'template', subject: `Welcome ${prefix}`, html: '<p>Hi</p>' } as any });
    const c = await createCampaign({
      ctx,
      input: CampaignInput.parse({
        name: `${prefix} onboarding`,
        definition: {
          start: 'welcome',
          steps: [
            { id: 'welcome', type: 'action', action: { type: 'send_email', email_id: email.id }, next: 'tag' },
            { id: 'tag', type: 'action', action: { type: 'add_tags', tags: [`${prefix}-welcomed`] }, next: null },
          ],
        },
      }),
    });
    await publishCampaign({ ctx, input: { id: c.id } });
    await enrollContacts({ ctx, input: { id: c.id, contactIds } });
    return { campaignId: c.id, contactIds };
  }

  /** Waits until every step of the campaign is done and its emails are sent, then checks each happened once. */
  async function expectCampaignDoneOnce(campaignId: number, n: number) {
    await vi.waitFor(
      async () => {
        expect(await count("SELECT count(*) AS n FROM campaign_steps WHERE campaign_id = ? AND step_id = 'tag' AND status = 'done'", [campaignId])).toBe(n);
        expect(await count("SELECT count(*) AS n FROM email_sends WHERE reason LIKE ? AND status = 'sent'", [`campaign:${campaignId}:%`])).toBe(n);
      },
      { timeout: 60_000, interval: 250 },
    );
    // One row per (step, contact), each claimed and run once: a second holder would have counted an attempt.
    const steps = await rows('SELECT step_id, count(*) AS n, count(DISTINCT contact_id) AS contacts, max(attempts) AS most, min(status) AS s1, max(status) AS s2 FROM campaign_steps WHERE campaign_id = ? GROUP BY step_id ORDER BY step_id', [campaignId]);
    expect(steps).toEqual([
      { step_id: 'tag', n, contacts: n, most: 1, s1: 'done', s2: 'done' },
      { step_id: 'welcome', n, contacts: n, most: 1, s1: 'done', s2: 'done' },
    ]);
    const sends = await rows("SELECT count(*) AS n, count(DISTINCT contact_id) AS contacts, max(attempts) AS most FROM email_sends WHERE reason LIKE ?", [`campaign:${campaignId}:%`]);
    expect(sends).toEqual([{ n, contacts: n, most: 1 }]);
    const ids = `SELECT id FROM email_sends WHERE reason LIKE ?`;
    expect(await count(`SELECT count(*) AS n FROM email_outbox WHERE send_id IN (${ids})`, [`campaign:${campaignId}:%`])).toBe(n);
    expect(await count(`SELECT count(*) AS n FROM events WHERE type = 'email_sent' AND contact_id IN (SELECT contact_id FROM email_sends WHERE reason LIKE ?)`, [`campaign:${campaignId}:%`])).toBe(n);
  }

  beforeAll(async () => {
    worker = await bundledWorker(ROOT, 'worker-jobs', { token: TOKEN, adminKey: ADMIN_KEY });
    ({ config, dbPath } = worker);
    mf = await startWorker(true);
    // The first request migrates the database.
    const health = await mf.dispatchFetch(`${ORIGIN}/health`);
    if (health.status !== 200) throw new Error(`${health.status} ${await health.text()}${log()}`);
    const url = `file:${dbPath}`;
    client = createClient({ url });
    await client.execute('PRAGMA busy_timeout = 10000');
    ctx = createCtx({ client, config: parseConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' }) });
  }, 180_000);

  afterAll(async () => {
    client?.close();
    await worker?.close();
  }, 60_000);

  it('declares the jobs queue and its consumer in wrangler.toml (one message per batch, known by "-jobs")', () => {
    expect(config.queues.producers).toContainEqual(expect.objectContaining({ binding: 'JOBS_QUEUE', queue: 'leadline-jobs' }));
    expect(config.queues.consumers!.find((c) => c.queue === 'leadline-jobs')).toMatchObject({ max_batch_size: 1 });
  });

  it('six scheduled invocations at once: each due job is claimed and enqueued once; with more consumers on the same slices at once, no step and no send runs twice', async () => {
    const n = 60;
    const { campaignId } = await campaignBacklog('once', n);
    expect(await count("SELECT count(*) AS n FROM campaign_steps WHERE campaign_id = ? AND status = 'pending'", [campaignId])).toBe(n);
    const worker = (await mf!.getWorker()) as unknown as Worker;
    await Promise.all(Array.from({ length: 6 }, () => worker.scheduled({ cron: '* * * * *' })));
    // Every job was due (the first tick ever): one claim each, whoever of the six won it.
    const claimed = await schedule();
    expect(Object.keys(claimed)).toEqual(JOB_NAMES);
    expect(Object.values(claimed).map((r) => Number(r.claims)), log()).toEqual(JOB_NAMES.map(() => 1));
    // Four more consumers, at once, on the campaigns' and emails' claims (as the Queue may run
    // several while it delivers the chain), and one with a token no claim has: it does nothing.
    const message = (job: string, lane: number, token = String(claimed[job]!.token)) => ({ id: `extra-${job}-${lane}-${token}`, timestamp: new Date(), attempts: 1, body: { v: 1, job, token, slice: 1, lane } });
    await Promise.all([
      ...[1, 2, 3, 4].map((lane) => worker.queue('leadline-jobs', [message('campaigns', lane)])),
      ...[1, 2].map((lane) => worker.queue('leadline-jobs', [message('emails', lane)])),
      worker.queue('leadline-jobs', [message('campaigns', 9, 'not-a-claim')]),
    ]);
    await expectCampaignDoneOnce(campaignId, n);
    // The work was done by the jobs queue's consumers under these claims.
    const after = await schedule();
    expect(Number(after.campaigns!.slices)).toBeGreaterThanOrEqual(5);
    expect(Number(after.emails!.slices)).toBeGreaterThanOrEqual(3);
    // Another tick within the claim's interval claims nothing again.
    await worker.scheduled({ cron: '* * * * *' });
    expect(Object.values(await schedule()).map((r) => Number(r.claims))).toEqual(JOB_NAMES.map(() => 1));
  }, 120_000);

  it('a backlog of 450 sends is worked off by a chain of jobs-queue messages, each send once', async () => {
    const n = 450;
    const contacts = Array.from({ length: n }, (_, i) => ({ email: `backlog${i}@example.com` }));
    const ids = (await upsertContacts({ ctx, input: { rows: contacts } })).results.map((r: any) => Number(r.id));
    const email = await createEmail({ ctx, input: { name: 'Backlog', kind: 'template', subject: 'Backlog', html: '<p>Hi</p>' } as any });
    await client.execute(
      queueStatement({ email: { id: email.id, kind: 'template', categoryId: email.category_id }, reason: 'backlog', recipients: contactsSource(ids), settings: await getEmailSettings({ ctx }), now: Date.now() }),
    );
    // The next tick: the last claims' time is up.
    await client.execute('UPDATE jobs_schedule SET next_run_at = 0');
    const worker = (await mf!.getWorker()) as unknown as Worker;
    await worker.scheduled({ cron: '* * * * *' });
    expect(Number((await schedule()).emails!.claims)).toBe(2);
    await vi.waitFor(async () => expect(await count("SELECT count(*) AS n FROM email_sends WHERE reason = 'backlog' AND status = 'sent'")).toBe(n), { timeout: 60_000, interval: 250 });
    // A slice sends a call or so per lane (100 messages each) and hands on: the backlog took a chain of messages.
    expect(Number((await schedule()).emails!.slices), log()).toBeGreaterThanOrEqual(2);
    expect(await rows("SELECT count(*) AS n, count(DISTINCT contact_id) AS contacts, max(attempts) AS most FROM email_sends WHERE reason = 'backlog'")).toEqual([{ n, contacts: n, most: 1 }]);
    expect(await count("SELECT count(*) AS n FROM email_outbox WHERE send_id IN (SELECT id FROM email_sends WHERE reason = 'backlog')")).toBe(n);
    expect(await count("SELECT count(*) AS n FROM events WHERE type = 'email_sent' AND contact_id IN (SELECT id FROM contacts WHERE email LIKE 'backlog%')")).toBe(n);
    // With the backlog gone every chain ends (a slice that finds nothing enqueues no next one),
    // long before the cap on a claim's slices: no consumer keeps running on an idle installation.
    let last = '';
    await vi.waitFor(async () => {
      const now = JSON.stringify(Object.values(await schedule()).map((r) => r.slices));
      const settled = now === last;
      last = now;
      expect(settled).toBe(true);
    }, { timeout: 30_000, interval: 1_000 });
    for (const r of Object.values(await schedule())) expect(Number(r.slices), String(r.job)).toBeLessThan(MAX_SLICES / 4);
  }, 120_000);

  it('without the JOBS_QUEUE binding, concurrent ticks run the jobs themselves as before: every step and send once, no claims', async () => {
    const direct = await startWorker(false);
    try {
      // The claims (the other Worker's chains may still be running slices under them).
      const claims = async () => Object.fromEntries(Object.entries(await schedule()).map(([job, r]) => [job, [r.claims, r.token]]));
      const before = await claims();
      const n = 40;
      const { campaignId } = await campaignBacklog('direct', n);
      const worker = (await direct.getWorker()) as unknown as Worker;
      await Promise.all(Array.from({ length: 6 }, () => worker.scheduled({ cron: '* * * * *' })));
      await vi.waitFor(async () => {
        // A tick runs every job once; the emails the steps queued may need the next.
        await worker.scheduled({ cron: '* * * * *' });
        expect(await count("SELECT count(*) AS n FROM email_sends WHERE reason LIKE ? AND status = 'sent'", [`campaign:${campaignId}:%`])).toBe(n);
      }, { timeout: 60_000, interval: 500 });
      await expectCampaignDoneOnce(campaignId, n);
      expect(await claims()).toEqual(before);
    } finally {
      await direct.dispose();
    }
  }, 120_000);
});
