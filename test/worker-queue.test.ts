// Ingestion through Cloudflare Queues, in workerd: the bundle `wrangler deploy` would upload runs in
// Miniflare with the queues wrangler.toml declares (producer, consumer, dead-letter queue and their
// batch and retry settings; only the retry delay is 0 so the test does not wait it out), against a
// libSQL database over Hrana/HTTP (the fixture), as it would against Turso. The fixture's faults
// stand in for a consumer that dies after its commit and for a database out of reach; a trigger
// in the database stands in for data it refuses. Assertions are on rows and counts, never on time:
// waits poll until the Queue has done its work.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Miniflare } from 'miniflare';
import Database from 'libsql';
import { bundledWorker, queueOptions, type BundledWorker } from './workerd';
import { CHROME_UA, vid } from './tracking-helpers';
import { createClient } from '@libsql/client';
import { createCtx } from '../api/core/context';
import { parseConfig } from '../api/env';
import { signToken } from '../api/core/email/tokens';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const TOKEN = 'hrana-queue-token-0123456789';
const ADMIN_KEY = 'll_worker_queue_admin_key_0123456789';
// The Worker's SECRET, so that the test can sign an email's open link as the Worker would.
const SECRET = 'worker-queue-secret-0123456789abcdef';
const ORIGIN = 'http://leadline.test';
const SHOP = 'https://shop.example.com';
// The consumer's writes (and its look-ups of hit ids) name this table; nothing else does.
const CONSUMER = /ingest_hits/;

type Counts = { stored: number; redelivered: number; duplicates: number; dead_lettered: number; recovered: number; failed: number };

describe('tracking through a Queue, the Worker bundle in workerd', () => {
  let worker: BundledWorker | undefined;
  let config: BundledWorker['config'];
  let db: BundledWorker['db'];
  let dbPath: string;
  let mf: Miniflare | undefined;
  let siteKey: string;

  const startWorker = (withQueues: boolean) =>
    worker!.start({ SECRET }, { r2Buckets: config.r2_buckets.map((b) => b.binding), ...(withQueues ? queueOptions(config, { retryDelay: 0 }) : {}) });
  const log = () => worker?.log() ?? '';

  /** POST /t as a browser on the shop sends it. */
  async function track(target: Miniflare, uid: string, events: unknown[]) {
    const res = await target.dispatchFetch(`${ORIGIN}/t`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': CHROME_UA, origin: SHOP },
      body: JSON.stringify({ k: siteKey, v: uid, e: events }),
    });
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) as any };
    } catch {
      return { status: res.status, body: text };
    }
  }
  const pv = (path: string) => ({ t: 'pv', u: `${SHOP}${path}` });
  const ev = (name: string) => ({ t: 'ev', u: `${SHOP}/`, n: name });

  function query(sql: string, args: (string | number)[] = []): Record<string, unknown>[] {
    const file = new Database(dbPath, { readonly: true });
    try {
      return file.prepare(sql).all(...args) as Record<string, unknown>[];
    } finally {
      file.close();
    }
  }
  /** How often each custom event starting with `prefix` is stored. */
  const stored = (prefix: string) =>
    Object.fromEntries(query("SELECT name, count(*) AS n FROM events WHERE type = 'custom' AND name LIKE ? GROUP BY name", [`${prefix}%`]).map((r) => [r.name, Number(r.n)]));

  async function counts(target: Miniflare = mf!): Promise<Counts> {
    const res = await target.dispatchFetch(`${ORIGIN}/health`);
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body) + log()).toBe(200);
    return body.ingest;
  }
  const delta = (after: Counts, before: Counts) => Object.fromEntries(Object.entries(after).filter(([k]) => k !== 'via').map(([k, v]) => [k, (v as number) - before[k as keyof Counts]]));

  beforeAll(async () => {
    worker = await bundledWorker(ROOT, 'worker-queue', { token: TOKEN, adminKey: ADMIN_KEY });
    ({ config, db, dbPath } = worker);
    mf = await startWorker(true);
    siteKey = await worker.site(mf, SHOP);
  }, 180_000);

  afterAll(() => worker?.close(), 60_000);

  it('declares the tracking queue, its consumer and its dead-letter queue in wrangler.toml', () => {
    expect(config.queues.producers).toContainEqual(expect.objectContaining({ binding: 'TRACKING_QUEUE', queue: 'leadline-tracking' }));
    const main = config.queues.consumers!.find((c) => c.queue === 'leadline-tracking')!;
    expect(main).toMatchObject({ max_batch_size: 100, dead_letter_queue: 'leadline-tracking-dlq' });
    expect(main.max_retries).toBeGreaterThan(0);
    expect(config.queues.consumers!.map((c) => c.queue)).toContain('leadline-tracking-dlq');
  });

  it('every hit answered 202 is in the database once the consumer has run, each event once, written in batches', async () => {
    const before = await counts();
    const n = 20;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => track(mf!, vid(`b${i}`), [pv(`/batch/${i}`), ev(`batch-${i}`)])));
    expect(answers, log()).toEqual(answers.map(() => ({ status: 202, body: { ok: true, stored: 2 } })));
    await vi.waitFor(() => expect(Object.keys(stored('batch-')).length).toBe(n), { timeout: 30_000, interval: 200 });
    expect(stored('batch-')).toEqual(Object.fromEntries(Array.from({ length: n }, (_, i) => [`batch-${i}`, 1])));
    const views = query("SELECT v.uid, v.page_views, e.url FROM events e JOIN visitors v ON v.id = e.visitor_id WHERE e.type = 'page_view' AND e.url LIKE ? ORDER BY v.uid", [`${SHOP}/batch/%`]);
    expect(views).toHaveLength(n);
    expect(views.every((v) => Number(v.page_views) === 1)).toBe(true);
    // A transaction per batch, not per hit: the ids of one batch carry one time.
    const batches = Number(query('SELECT count(DISTINCT stored_at) AS n FROM ingest_hits')[0]!.n);
    expect(batches).toBeLessThan(n / 2);
    expect(delta(await counts(), before)).toEqual({ stored: n, redelivered: 0, duplicates: 0, dead_lettered: 0, recovered: 0, failed: 0 });
    // The consumer ran the reactions over them (no cron in this test).
    const last = Number(query("SELECT max(id) AS n FROM events WHERE name LIKE 'batch-%'")[0]!.n);
    await vi.waitFor(() => expect(Number(query('SELECT min(last_event_id) AS n FROM reaction_cursors')[0]!.n)).toBeGreaterThanOrEqual(last), { timeout: 20_000, interval: 250 });
  }, 60_000);

  it('a consumer that fails after its write committed: the Queue redelivers the batch and nothing is stored twice', async () => {
    const before = await counts();
    db.faults.match = CONSUMER;
    db.faults.failAfterCommit = 1;
    try {
      const answers = await Promise.all([0, 1, 2, 3, 4].map((i) => track(mf!, vid(`r${i}`), [pv('/again'), ev(`again-${i}`)])));
      expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
      // Settled: all five stored and every redelivered message handled.
      await vi.waitFor(async () => {
        const d = delta(await counts(), before);
        expect(d.stored).toBe(5);
        expect(d.redelivered).toBeGreaterThan(0);
      }, { timeout: 30_000, interval: 250 });
    } finally {
      db.faults.failAfterCommit = 0;
    }
    expect(db.faults.failedAfterCommit, log()).toBe(1);
    expect(stored('again-')).toEqual({ 'again-0': 1, 'again-1': 1, 'again-2': 1, 'again-3': 1, 'again-4': 1 });
    expect(Number(query("SELECT count(*) AS n FROM events WHERE type = 'page_view' AND url = ?", [`${SHOP}/again`])[0]!.n)).toBe(5);
    const d = delta(await counts(), before);
    // Every hit of the failed batch came back and was found written.
    expect(d.duplicates).toBe(d.redelivered);
    expect(d).toMatchObject({ dead_lettered: 0, failed: 0 });
  }, 60_000);

  it('a hit the database refuses: its batch-mates are written, it is retried, dead-lettered, and kept in ingest_dead with the reason', async () => {
    const before = await counts();
    const file = new Database(dbPath);
    file.exec(`CREATE TRIGGER test_poison BEFORE INSERT ON events WHEN NEW.name = 'poison-pill' BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END`);
    file.close();
    try {
      const answers = await Promise.all([
        track(mf!, vid('p1'), [ev('poison-ok-1')]),
        track(mf!, vid('p2'), [ev('poison-pill')]),
        track(mf!, vid('p3'), [ev('poison-ok-2')]),
      ]);
      expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
      await vi.waitFor(async () => expect(delta(await counts(), before).failed).toBe(1), { timeout: 60_000, interval: 500 });
    } finally {
      const w = new Database(dbPath);
      w.exec('DROP TRIGGER IF EXISTS test_poison');
      w.close();
    }
    expect(stored('poison-')).toEqual({ 'poison-ok-1': 1, 'poison-ok-2': 1 });
    const dead = query('SELECT hit_id, body, error FROM ingest_dead');
    expect(dead).toHaveLength(1);
    const body = JSON.parse(String(dead[0]!.body));
    expect(body).toMatchObject({ v: 1, id: dead[0]!.hit_id, hit: { uid: vid('p2'), events: [expect.objectContaining({ name: 'poison-pill' })] } });
    expect(String(dead[0]!.error)).toMatch(/refused by the test trigger/);
    expect(delta(await counts(), before)).toEqual({ stored: 2, redelivered: 0, duplicates: 0, dead_lettered: 1, recovered: 0, failed: 1 });
  }, 90_000);

  it('the database out of reach: retried max_retries times, dead-lettered, then written once by the dead-letter consumer when it is back', async () => {
    const before = await counts();
    const retries = config.queues.consumers!.find((c) => c.queue === 'leadline-tracking')!.max_retries!;
    const refused0 = db.faults.refused;
    db.faults.match = CONSUMER;
    db.faults.refuse = true;
    try {
      const answer = await track(mf!, vid('late'), [pv('/late'), ev('late-1')]);
      expect(answer.status).toBe(202);
      // Each delivery is one refused request: the first plus max_retries on the tracking queue,
      // then the dead-letter queue's first try.
      await vi.waitFor(() => expect(db.faults.refused - refused0).toBeGreaterThanOrEqual(retries + 2), { timeout: 60_000, interval: 250 });
      expect(stored('late-')).toEqual({});
    } finally {
      db.faults.refuse = false;
    }
    await vi.waitFor(async () => expect(delta(await counts(), before).recovered).toBe(1), { timeout: 60_000, interval: 500 });
    expect(stored('late-')).toEqual({ 'late-1': 1 });
    expect(delta(await counts(), before)).toEqual({ stored: 1, redelivered: 0, duplicates: 0, dead_lettered: 1, recovered: 1, failed: 0 });
  }, 150_000);

  it('an email open and an asset download (stored in R2) go through the Queue: answered at once, each written once by the consumer', async () => {
    const api = async (method: string, path: string, body: unknown, type = 'application/json') => {
      const res = await mf!.dispatchFetch(`${ORIGIN}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': type },
        body: type === 'application/json' ? JSON.stringify(body) : (body as string),
      });
      const json = (await res.json()) as any;
      expect(res.status, JSON.stringify(json) + log()).toBeLessThan(300);
      return json;
    };
    const before = await counts();
    const contact = await api('POST', '/api/v1/contacts', { email: 'queued-reader@example.com' });
    const email = await api('POST', '/api/v1/emails', { name: 'News', subject: 'Hi', html: '<p>Hello</p>' });
    const send = await api('POST', `/api/v1/emails/${email.id}/send`, { contact_id: contact.id });
    const bytes = 'a file kept in R2, downloaded through the Worker';
    const asset = await api('POST', '/api/v1/assets?filename=notes.txt&title=Notes', bytes, 'text/plain');

    // The open link as the Worker signs it (the same SECRET).
    const signer = createCtx({ client: createClient({ url: ':memory:' }), config: parseConfig({ DATABASE_URL: ':memory:', SECRET, LOG_LEVEL: 'silent' }) });
    const pixel = await mf!.dispatchFetch(`${ORIGIN}/o/${await signToken(signer, 'open', [send.id])}`, { headers: { 'user-agent': CHROME_UA } });
    expect(pixel.status).toBe(200);
    expect(pixel.headers.get('content-type')).toBe('image/gif');
    await pixel.arrayBuffer();
    const file = await mf!.dispatchFetch(`${ORIGIN}/a/${asset.slug}?k=${siteKey}&v=${vid('downloader')}`, { headers: { 'user-agent': CHROME_UA } });
    expect(file.status, log()).toBe(200);
    expect(await file.text()).toBe(bytes);

    await vi.waitFor(
      () => {
        const n = query("SELECT type, count(*) AS n FROM events WHERE type IN ('email_opened', 'asset_download') GROUP BY type ORDER BY type");
        expect(n.map((r) => [r.type, Number(r.n)])).toEqual([['asset_download', 1], ['email_opened', 1]]);
      },
      { timeout: 30_000, interval: 100 },
    );
    const opened = query("SELECT contact_id, props FROM events WHERE type = 'email_opened'")[0]!;
    const props = JSON.parse(String(opened.props));
    // Opened within seconds of the send: machine.ts may take it for a proxy; either way the send row agrees with the event.
    expect([Number(opened.contact_id), props]).toEqual([contact.id, { email_id: email.id, send_id: send.id, machine: expect.any(Boolean) }]);
    expect(query('SELECT opened_at IS NOT NULL AS o, human_opened_at IS NOT NULL AS h FROM email_sends WHERE id = ?', [send.id])[0]).toEqual({ o: 1, h: props.machine ? 0 : 1 });
    const downloaded = query("SELECT v.uid, e.props FROM events e JOIN visitors v ON v.id = e.visitor_id WHERE e.type = 'asset_download'")[0]!;
    expect([downloaded.uid, JSON.parse(String(downloaded.props))]).toEqual([vid('downloader'), { asset_id: asset.id, slug: asset.slug }]);
    // Both went through the consumer (its counter), not around it.
    expect(delta(await counts(), before)).toMatchObject({ stored: 2, failed: 0 });
  }, 60_000);

  it('without the TRACKING_QUEUE binding, POST /t writes the hit before it answers, concurrent requests each their own', async () => {
    const direct = await startWorker(false);
    try {
      const answer = await track(direct, vid('direct'), [pv('/direct'), ev('direct-0')]);
      expect(answer, log()).toEqual({ status: 202, body: { ok: true, stored: 2 } });
      expect(stored('direct-')).toEqual({ 'direct-0': 1 });
      // At once: no request may wait on another's write (workerd cancels such a request as hung).
      const many = await Promise.all(Array.from({ length: 20 }, (_, i) => track(direct, vid(`d${i}`), [ev(`direct-${i + 1}`)])));
      expect(many.map((a) => a.status), JSON.stringify(many.find((a) => a.status !== 202))).toEqual(many.map(() => 202));
      expect(Object.keys(stored('direct-'))).toHaveLength(21);
      const health = (await (await direct.dispatchFetch(`${ORIGIN}/health`)).json()) as any;
      expect(health).toMatchObject({ ok: true, db: 'ok' });
      expect(health.ingest).toBeUndefined();
    } finally {
      await direct.dispose();
    }
  }, 60_000);
});
