// Ingestion through a Queue, the core on Node against a real libSQL file: POST /t hands its hit to
// a Queue (here an in-memory stand-in for the Workers binding) and the consumer (consumeHits)
// writes batches exactly once. The same code runs in workerd in test/worker-queue.test.ts, through
// Miniflare's real Queues; this file covers what Miniflare cannot force: a Queue that refuses,
// two consumers racing on the same messages, messages of another release.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClient } from '@libsql/client';
import { makeApp, expectError, type TestApp } from './helpers';
import { makeSite, memoryQueue, runJob, sign, track, vid } from './tracking-helpers';
import { queueIngestor, type QueuedHit } from '../api/core/tracking/queue';
import { consumeHits, ingestCounters, pruneIngest, type Delivery } from '../api/core/tracking/consume';
import { createCtx, type Ctx } from '../api/core/context';
import { parseConfig } from '../api/env';

const pv = (path: string) => ({ t: 'pv', u: `https://shop.example.com${path}` });
const ev = (name: string) => ({ t: 'ev', u: 'https://shop.example.com/', n: name });
const deliveries = (bodies: unknown[], attempts = 1): Delivery[] => bodies.map((body) => ({ body, attempts }));

describe('ingest through a Queue (core)', () => {
  let t: TestApp;
  let queue: ReturnType<typeof memoryQueue>;
  let site: Awaited<ReturnType<typeof makeSite>>;
  const events = async (where = "type = 'custom'") =>
    (await t.client.execute(`SELECT name, count(*) AS n FROM events WHERE ${where} GROUP BY name ORDER BY name`)).rows.map((r) => [r.name, Number(r.n)]);

  beforeEach(async () => {
    queue = memoryQueue();
    t = await makeApp({ public: (ctx) => ({ ingestor: queueIngestor(ctx, queue) }) });
    site = await makeSite(t);
  });
  afterEach(() => t.client.close());

  it('answers 202 once the Queue has the hit, writes nothing itself, and the consumer writes the batch in one go', async () => {
    const answers = await Promise.all([1, 2, 3].map((i) => track(t, { k: site.public_key, v: vid(i), e: [pv(`/p${i}`), ev(`e${i}`)] })));
    expect(answers.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(await answers[0]!.json()).toEqual({ ok: true, stored: 2 });
    expect(queue.sent).toHaveLength(3);
    expect(new Set(queue.sent.map((m) => m.id)).size).toBe(3);
    expect(await events('true')).toEqual([]);

    const r = await consumeHits(t.ctx, deliveries(queue.sent), { deadLetter: false });
    expect(r).toMatchObject({ outcomes: ['ack', 'ack', 'ack'], stored: 3, duplicates: 0, dead: 0 });
    expect(await events()).toEqual([['e1', 1], ['e2', 1], ['e3', 1]]);
    const visitors = await t.client.execute('SELECT uid, page_views, browser FROM visitors ORDER BY uid');
    expect(visitors.rows.map((v) => [v.uid, Number(v.page_views), v.browser])).toEqual([1, 2, 3].map((i) => [vid(i), 1, 'Chrome']));
    // One transaction: every id carries the same time.
    expect(Number((await t.client.execute('SELECT count(DISTINCT stored_at) AS n FROM ingest_hits')).rows[0]!.n)).toBe(1);
    expect(await ingestCounters(t.ctx)).toEqual({ stored: 3, redelivered: 0, duplicates: 0, dead_lettered: 0, recovered: 0, failed: 0 });
    expect((await t.json('GET', '/health', undefined, { key: null })).body.ingest).toMatchObject({ via: 'queue', stored: 3 });
  });

  it('answers 503 when the Queue refuses the hit, and nothing is stored or half-done', async () => {
    queue.down = true;
    const res = await track(t, { k: site.public_key, v: vid(1), e: [pv('/x')] });
    expectError({ status: res.status, body: await res.json() }, 503, 'UNAVAILABLE');
    expect(queue.sent).toEqual([]);
    expect(await events('true')).toEqual([]);
  });

  it('writes a redelivered batch once: the hits written before are skipped, the rest written', async () => {
    for (const i of [1, 2, 3]) await track(t, { k: site.public_key, v: vid(i), e: [pv('/'), ev(`r${i}`)] });
    await consumeHits(t.ctx, deliveries(queue.sent.slice(0, 2)), { deadLetter: false });
    // The consumer died after its commit: the Queue delivers the batch again, with a third message.
    const again = await consumeHits(t.ctx, deliveries(queue.sent, 2), { deadLetter: false });
    expect(again).toMatchObject({ outcomes: ['ack', 'ack', 'ack'], stored: 1, duplicates: 2 });
    // And the same message twice in one batch.
    await track(t, { k: site.public_key, v: vid(4), e: [ev('r4')] });
    const twice = await consumeHits(t.ctx, deliveries([queue.sent[3], queue.sent[3]]), { deadLetter: false });
    expect(twice).toMatchObject({ stored: 1, duplicates: 1 });
    expect(await events()).toEqual([['r1', 1], ['r2', 1], ['r3', 1], ['r4', 1]]);
    expect(Number((await t.client.execute("SELECT page_views FROM visitors WHERE uid = ?", [vid(1)])).rows[0]!.page_views)).toBe(1);
    expect(await ingestCounters(t.ctx)).toMatchObject({ stored: 4, redelivered: 3, duplicates: 3 });
  });

  it('a browser identified while its first hit is still queued: the contact gets that first touch when it lands, after the reactions ran', async () => {
    await track(t, { k: site.public_key, v: vid(9), e: [pv('/landing?utm_source=news&utm_medium=email')] });
    // The identify is written by its request; its page view is queued like the first.
    const id = await track(t, { k: site.public_key, v: vid(9), e: [ev('signup')], id: { email: 'q@example.com', sig: sign(site.secret, 'q@example.com') } });
    expect(id.status).toBe(202);
    await runJob(t);
    const contact = async () => (await t.json('GET', '/api/v1/contacts')).body.data[0];
    expect(await contact()).toMatchObject({ email: 'q@example.com', first_source: null });
    await consumeHits(t.ctx, deliveries(queue.sent), { deadLetter: false });
    expect((await contact()).first_source).toEqual({ utm_source: 'news', utm_medium: 'email', landing_url: 'https://shop.example.com/landing?utm_source=news&utm_medium=email' });
    await runJob(t);
    expect(await events()).toEqual([['signup', 1]]);
    expect(Number((await t.client.execute("SELECT count(*) AS n FROM events WHERE contact_id IS NOT NULL AND type IN ('page_view', 'custom')")).rows[0]!.n)).toBe(2);
  });

  it('two consumers racing on the same messages write each hit once', async () => {
    for (const i of [1, 2, 3, 4, 5]) await track(t, { k: site.public_key, v: vid(i), e: [ev(`c${i}`)] });
    // A second connection to the same file, as a second consumer isolate has.
    const url = t.ctx.config.DATABASE_URL;
    const other: Ctx = createCtx({ client: createClient({ url }), config: parseConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' }) });
    try {
      const [a, b] = await Promise.all([
        consumeHits(t.ctx, deliveries(queue.sent), { deadLetter: false }),
        consumeHits(other, deliveries([...queue.sent].reverse()), { deadLetter: false }),
      ]);
      expect([...a.outcomes, ...b.outcomes].every((o) => o === 'ack')).toBe(true);
      expect(a.stored + b.stored).toBe(5);
      expect(a.duplicates + b.duplicates).toBe(5);
    } finally {
      other.client.close();
    }
    expect(await events()).toEqual([1, 2, 3, 4, 5].map((i) => [`c${i}`, 1]));
  });

  it('a hit the database refuses holds back none of its batch: it alone is retried, and on the dead-letter queue it is kept with the reason', async () => {
    await t.client.execute(`CREATE TRIGGER test_poison BEFORE INSERT ON events WHEN NEW.name = 'poison' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    for (const [i, name] of ['ok1', 'poison', 'ok2'].entries()) await track(t, { k: site.public_key, v: vid(i), e: [ev(name)] });
    const main = await consumeHits(t.ctx, deliveries(queue.sent), { deadLetter: false });
    expect(main).toMatchObject({ outcomes: ['ack', 'retry', 'ack'], stored: 2, dead: 0 });
    expect(await events()).toEqual([['ok1', 1], ['ok2', 1]]);

    const dlq = await consumeHits(t.ctx, deliveries([queue.sent[1]]), { deadLetter: true });
    expect(dlq).toMatchObject({ outcomes: ['ack'], stored: 0, dead: 1 });
    const dead = await t.client.execute('SELECT hit_id, body, error FROM ingest_dead');
    expect(dead.rows).toHaveLength(1);
    expect(dead.rows[0]!.hit_id).toBe(queue.sent[1]!.id);
    expect(JSON.parse(String(dead.rows[0]!.body))).toEqual(queue.sent[1]);
    expect(String(dead.rows[0]!.error)).toMatch(/refused by the test/);
    expect(await ingestCounters(t.ctx)).toMatchObject({ stored: 2, dead_lettered: 1, recovered: 0, failed: 1 });

    // Once the database takes it, the dead-letter queue's try writes it (a later delivery of the same message).
    await t.client.execute('DROP TRIGGER test_poison');
    const later = await consumeHits(t.ctx, deliveries([queue.sent[1]], 2), { deadLetter: true });
    expect(later).toMatchObject({ outcomes: ['ack'], stored: 1 });
    expect(await events()).toEqual([['ok1', 1], ['ok2', 1], ['poison', 1]]);
    expect(await ingestCounters(t.ctx)).toMatchObject({ dead_lettered: 2, recovered: 1, failed: 1 });
  });

  it('retries the whole batch, writing nothing, when the database is out of reach', async () => {
    for (const i of [1, 2]) await track(t, { k: site.public_key, v: vid(i), e: [ev(`u${i}`)] });
    const url = t.ctx.config.DATABASE_URL;
    const gone = createClient({ url });
    gone.close();
    const unreachable: Ctx = { ...t.ctx, client: gone };
    const r = await consumeHits(unreachable, deliveries(queue.sent), { deadLetter: false });
    expect(r.outcomes).toEqual(['retry', 'retry']);
    expect(await events()).toEqual([]);
    expect(await ingestCounters(t.ctx)).toMatchObject({ stored: 0, failed: 0 });
  });

  it('keeps a message of another release or no hit at all in ingest_dead at once, acknowledged', async () => {
    await track(t, { k: site.public_key, v: vid(1), e: [ev('fine')] });
    const hit = (queue.sent[0] as QueuedHit).hit;
    const odd = [
      { v: 2, id: 'x', hit: {} },
      'text',
      null,
      { v: 1, id: 'y', hit: { ...hit, events: 'nope' } },
      // A kind this release does not know, and an open without a send.
      { v: 1, id: 'z', kind: 'email_bounce', hit },
      { v: 1, id: 'w', kind: 'email_open', open: { sendId: 'one', machine: false, at: 1 } },
    ];
    const r = await consumeHits(t.ctx, deliveries([...odd, queue.sent[0]]), { deadLetter: false });
    expect(r).toMatchObject({ outcomes: odd.map(() => 'ack').concat('ack'), stored: 1, dead: odd.length });
    expect(await events()).toEqual([['fine', 1]]);
    const bodies = (await t.client.execute('SELECT body FROM ingest_dead ORDER BY id')).rows.map((x) => JSON.parse(String(x.body)));
    expect(bodies).toEqual(odd);
  });

  it('forgets hit ids after a day and dead messages after a week (the retention job)', async () => {
    await track(t, { k: site.public_key, v: vid(1), e: [ev('old')] });
    await consumeHits(t.ctx, deliveries([...queue.sent, 'junk']), { deadLetter: false });
    const now = Date.now();
    const at = (ms: number): Ctx => ({ ...t.ctx, now: () => now + ms });
    expect(await pruneIngest(at(23 * 3_600_000))).toEqual({ ids: 0, dead: 0 });
    expect(await pruneIngest(at(25 * 3_600_000))).toEqual({ ids: 1, dead: 0 });
    expect(await pruneIngest(at(8 * 86_400_000))).toEqual({ ids: 0, dead: 1 });
    expect((await t.json('POST', '/api/v1/jobs/retention')).status).toBe(200);
  });
});
