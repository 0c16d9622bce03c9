// Email opens and asset downloads through the tracking Queue (Workers with TRACKING_QUEUE), the
// core on Node against a real libSQL file with an in-memory stand-in for the Queue binding, as in
// test/ingest-queue.test.ts: GET /o/{token} and GET /a/{slug} hand their record to the Queue and
// answer; the consumer (consumeHits) writes it once, whatever the Queue redelivers. What the
// request knew (a person or a machine, when) travels in the message; what the send row says
// (contact, email, broadcast) is read when it is written, so a contact merged or erased while the
// message waited is honoured. A Queue that refuses loses nothing: the request writes it itself.
// The same path in workerd, through Miniflare's real Queue: test/worker-queue.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeApp, type TestApp } from './helpers';
import { CHROME_UA, makeSite, memoryQueue, runJob, track, vid } from './tracking-helpers';
import { queueIngestor } from '../api/core/tracking/queue';
import { consumeHits, ingestCounters, type Delivery } from '../api/core/tracking/consume';
import { settleDeferred } from '../api/routes/defer';
import { signToken } from '../api/core/email/tokens';

const START = Date.parse('2026-11-25T10:00:00.000Z');
const SAFARI_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)';
const PDF = new TextEncoder().encode('%PDF-1.4\n% a tiny queued document\n%%EOF\n');

const deliveries = (bodies: unknown[], attempts = 1): Delivery[] => bodies.map((body) => ({ body, attempts }));

describe('email opens and asset downloads through the tracking Queue', () => {
  let t: TestApp;
  let queue: ReturnType<typeof memoryQueue>;
  const clock = { now: START };

  beforeEach(async () => {
    clock.now = START;
    queue = memoryQueue();
    t = await makeApp({ now: () => clock.now, env: { PUBLIC_URL: 'https://mail.example.com' }, public: (ctx) => ({ ingestor: queueIngestor(ctx, queue) }) });
  });
  afterEach(() => t.client.close());

  async function sendTo(email: string): Promise<{ sendId: number; contactId: number; emailId: number }> {
    const c = await t.json('POST', '/api/v1/contacts', { email });
    const e = await t.json('POST', '/api/v1/emails', { name: 'News', subject: 'Hi', html: '<p>Hello</p>' });
    const r = await t.json('POST', `/api/v1/emails/${e.body.id}/send`, { contact_id: c.body.id });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    await settleDeferred();
    await runJob(t, 'emails');
    return { sendId: r.body.id, contactId: c.body.id, emailId: e.body.id };
  }
  const open = async (sendId: number, ua = SAFARI_UA) => t.app.request(`/o/${await signToken(t.ctx, 'open', [sendId])}`, { headers: { 'user-agent': ua } });
  const opens = async () =>
    (await t.client.execute("SELECT contact_id, props, created_at FROM events WHERE type = 'email_opened' ORDER BY id")).rows.map((r) => ({
      contact_id: r.contact_id === null ? null : Number(r.contact_id),
      props: JSON.parse(String(r.props)),
      at: Number(r.created_at),
    }));
  const sendRow = async (id: number) => (await t.client.execute({ sql: 'SELECT opened_at, human_opened_at FROM email_sends WHERE id = ?', args: [id] })).rows[0]!;
  const openMessages = () => queue.sent.filter((m) => m.kind === 'email_open');

  it('an open is answered with the pixel, queued, and written by the consumer once, as the direct path writes it', async () => {
    const s = await sendTo('reader@example.com');
    clock.now += 3 * 60_000;
    const openedAt = clock.now;
    const res = await open(s.sendId);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/gif');
    expect(openMessages()).toHaveLength(1);
    expect(openMessages()[0]).toMatchObject({ v: 1, kind: 'email_open', open: { sendId: s.sendId, machine: false, at: openedAt } });
    // Nothing written before the consumer runs.
    expect(await opens()).toEqual([]);
    expect((await sendRow(s.sendId)).opened_at).toBeNull();

    clock.now += 60_000; // the consumer runs later; the open keeps its own time
    const r = await consumeHits(t.ctx, deliveries(openMessages()), { deadLetter: false });
    expect(r).toMatchObject({ outcomes: ['ack'], stored: 1, duplicates: 0 });
    expect(await opens()).toEqual([{ contact_id: s.contactId, props: { email_id: s.emailId, send_id: s.sendId, machine: false }, at: openedAt }]);
    expect(Number((await sendRow(s.sendId)).human_opened_at)).toBe(openedAt);

    // The Queue delivers it again (the consumer's ack was lost): nothing more is written.
    const again = await consumeHits(t.ctx, deliveries(openMessages(), 2), { deadLetter: false });
    expect(again).toMatchObject({ outcomes: ['ack'], stored: 0, duplicates: 1 });
    expect(await opens()).toHaveLength(1);
    expect(await ingestCounters(t.ctx)).toMatchObject({ stored: 1, duplicates: 1, redelivered: 1 });
    // The email's report counts it once.
    const report = await t.json('GET', `/api/v1/emails/${s.emailId}/report`);
    expect(report.status).toBe(200);
    expect(report.body.opens).toEqual({ unique: { human: 1, raw: 1 }, total: { human: 1, raw: 1 } });
  });

  it("a machine's open (a proxy fetching at once) stays a machine's through the Queue", async () => {
    const s = await sendTo('proxied@example.com');
    // Fetched within seconds of the send by no browser at all.
    await open(s.sendId, 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)');
    expect(openMessages()[0]).toMatchObject({ open: { machine: true } });
    await consumeHits(t.ctx, deliveries(openMessages()), { deadLetter: false });
    expect((await opens()).map((o) => o.props.machine)).toEqual([true]);
    const row = await sendRow(s.sendId);
    expect(row.opened_at).not.toBeNull();
    expect(row.human_opened_at).toBeNull();
  });

  it('a Queue that refuses the open: the pixel is answered and the open written directly, once', async () => {
    const s = await sendTo('direct@example.com');
    queue.down = true;
    const res = await open(s.sendId);
    expect(res.status).toBe(200);
    expect(queue.sent).toEqual([]);
    expect((await opens()).map((o) => o.contact_id)).toEqual([s.contactId]);
  });

  it('a contact merged while its open waited gets the open; one erased gets nothing, and the message is acknowledged', async () => {
    const a = await sendTo('first@example.com');
    const b = await sendTo('second@example.com');
    await open(a.sendId);
    await open(b.sendId);
    const survivor = await t.json('POST', '/api/v1/contacts', { email: 'survivor@example.com' });
    expect((await t.json('POST', `/api/v1/contacts/${survivor.body.id}/merge`, { contact_id: a.contactId })).status).toBe(200);
    expect((await t.json('DELETE', `/api/v1/contacts/${b.contactId}`)).status).toBe(200);

    const r = await consumeHits(t.ctx, deliveries(openMessages()), { deadLetter: false });
    expect(r.outcomes).toEqual(['ack', 'ack']);
    expect((await opens()).map((o) => [o.contact_id, o.props.send_id])).toEqual([[survivor.body.id, a.sendId]]);
    expect(await t.client.execute({ sql: 'SELECT count(*) AS n FROM events WHERE contact_id = ?', args: [b.contactId] }).then((x) => Number(x.rows[0]!.n))).toBe(0);
  });

  it("erasing a contact removes its opens that could not be written (ingest_dead), and leaves others'", async () => {
    const a = await sendTo('gone@example.com');
    const b = await sendTo('stays@example.com');
    await open(a.sendId);
    await open(b.sendId);
    // A trigger stands in for a database that refuses the write: both land in ingest_dead from the dead-letter queue.
    await t.client.execute("CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.type = 'email_opened' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
    const r = await consumeHits(t.ctx, deliveries(openMessages(), 4), { deadLetter: true });
    expect(r).toMatchObject({ outcomes: ['ack', 'ack'], dead: 2 });
    await t.client.execute('DROP TRIGGER refuse');
    const dead = async () => (await t.client.execute("SELECT body ->> '$.open.sendId' AS send FROM ingest_dead ORDER BY id")).rows.map((x) => Number(x.send));
    expect(await dead()).toEqual([a.sendId, b.sendId]);
    expect((await t.json('DELETE', `/api/v1/contacts/${a.contactId}`)).status).toBe(200);
    expect(await dead()).toEqual([b.sendId]);
  });

  describe('downloads', () => {
    async function asset() {
      const form = new FormData();
      form.set('file', new File([PDF as Uint8Array<ArrayBuffer>], 'guide.pdf', { type: 'application/pdf' }));
      form.set('title', 'Guide');
      const res = await t.app.request('/api/v1/assets', { method: 'POST', headers: { authorization: `Bearer ${t.keys.admin}` }, body: form });
      const body = await res.json();
      expect(res.status, JSON.stringify(body)).toBe(201);
      return body as { id: number; slug: string };
    }
    const downloads = async () =>
      (await t.client.execute("SELECT e.visitor_id, e.contact_id, e.props, v.uid FROM events e LEFT JOIN visitors v ON v.id = e.visitor_id WHERE e.type = 'asset_download' ORDER BY e.id")).rows.map((r) => ({
        uid: r.uid,
        contact_id: r.contact_id === null ? null : Number(r.contact_id),
        props: JSON.parse(String(r.props)),
      }));

    it('serves the file at once, queues the download as a hit, and the consumer writes it once for the visitor and its contact', async () => {
      const site = await makeSite(t);
      const a = await asset();
      // A browser the tracker knows (Chrome), identified later; the download says nothing of its device.
      expect((await track(t, { k: site.public_key, v: vid(1), e: [{ t: 'pv', u: 'https://shop.example.com/' }] })).status).toBe(202);
      await consumeHits(t.ctx, deliveries(queue.sent.splice(0)), { deadLetter: false });
      const res = await t.app.request(`/a/${a.slug}?k=${site.public_key}&v=${vid(1)}`, { headers: { 'user-agent': 'curl/8.5' } });
      expect(res.status).toBe(200);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(PDF);
      expect(queue.sent).toHaveLength(1);
      expect(queue.sent[0]).toMatchObject({ v: 1, hit: { uid: vid(1), client: null, events: [{ type: 'asset_download', props: { asset_id: a.id, slug: a.slug } }] } });
      expect(await downloads()).toEqual([]);

      await consumeHits(t.ctx, deliveries(queue.sent), { deadLetter: false });
      await consumeHits(t.ctx, deliveries(queue.sent, 2), { deadLetter: false });
      expect(await downloads()).toEqual([{ uid: vid(1), contact_id: null, props: { asset_id: a.id, slug: a.slug } }]);
      const v = (await t.client.execute({ sql: 'SELECT browser, device, page_views FROM visitors WHERE uid = ?', args: [vid(1)] })).rows[0]!;
      expect([v.browser, v.device, Number(v.page_views)]).toEqual(['Chrome', 'desktop', 1]);
    });

    it("a first-time browser's download creates its visitor; a refused Queue still serves the file and writes the download directly", async () => {
      const site = await makeSite(t);
      const a = await asset();
      queue.down = true;
      const res = await t.app.request(`/a/${a.slug}?k=${site.public_key}&v=${vid(7)}`, { headers: { 'user-agent': CHROME_UA } });
      expect(res.status).toBe(200);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(PDF);
      expect(await downloads()).toEqual([{ uid: vid(7), contact_id: null, props: { asset_id: a.id, slug: a.slug } }]);
      queue.down = false;
      // HEAD and a download without a visitor id queue nothing.
      expect((await t.app.request(`/a/${a.slug}?k=${site.public_key}&v=${vid(7)}`, { method: 'HEAD' })).status).toBe(200);
      expect((await t.app.request(`/a/${a.slug}`)).status).toBe(200);
      expect(queue.sent).toEqual([]);
    });
  });
});
