import type { Ctx } from '../context';
import { AppError } from '../errors';
import type { Hit, Ingestor } from './ingest';
import type { OpenRecord } from '../email/tracking';

/**
 * Hits through a Queue (Cloudflare Queues on Workers, the TRACKING_QUEUE binding): the request
 * validates and enriches a hit as always (collect.ts), then hands it to the Queue instead of the
 * database, and is answered once the Queue has accepted it — durable from then on. The consumer
 * (consume.ts) writes them in batches. Each hit gets its id here, at enqueue, so that a message
 * the Queue delivers twice is written once.
 */

/**
 * What a message carries: a tracker's hit (POST /t; an asset download is one too), or an email
 * open (GET /o/{token}: the send and what the request told about who opened it). A hit's message
 * has no `kind`, as before opens were queued.
 */
export type QueuedBody = { kind?: undefined; hit: Hit } | { kind: 'email_open'; open: OpenRecord };

/** A message on the tracking queue. `v` lets a consumer tell a message of another release. */
export type QueuedMessage = { v: 1; id: string } & QueuedBody;
/** A hit's message. */
export type QueuedHit = QueuedMessage & { hit: Hit };

/** As much of a Workers Queue producer binding as this uses. */
export interface HitQueue {
  send(body: QueuedMessage, opts?: { contentType?: 'json' }): Promise<unknown>;
  sendBatch(messages: { body: QueuedMessage; contentType?: 'json' }[]): Promise<unknown>;
}

// A Queue message holds at most 128 KB; a hit is far smaller (POST /t takes 32 KB, enriched a little).
const ID_BYTES = 16;

/** 16 random bytes, base64url: 22 characters. */
export function newHitId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(ID_BYTES));
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export const queuedMessage = (body: QueuedBody): QueuedMessage => ({ v: 1, id: newHitId(), ...body });

/**
 * An ingestor (the group commit's shape) that sends hits to the Queue: `add` resolves once the
 * Queue accepted them, and fails with a 503 when it did not (the tracker may send again; nothing
 * was written). `enqueue` sends any message (an email open). There is nothing to drain: accepted
 * messages are the Queue's.
 */
export function queueIngestor(ctx: Ctx, queue: HitQueue): Ingestor & { enqueue(bodies: QueuedBody[]): Promise<void> } {
  const enqueue = async (bodies: QueuedBody[]) => {
    try {
      if (bodies.length === 1) await queue.send(queuedMessage(bodies[0]!), { contentType: 'json' });
      else if (bodies.length) await queue.sendBatch(bodies.map((b) => ({ body: queuedMessage(b), contentType: 'json' as const })));
    } catch (e) {
      ctx.log.error('the tracking queue refused messages', { messages: bodies.length, error: e instanceof Error ? e.message : String(e) });
      throw new AppError('UNAVAILABLE', 'The tracking queue did not accept the hit; nothing was stored, send it again.');
    }
  };
  return {
    queued: true,
    enqueue,
    add: (hits) => enqueue(hits.map((hit) => ({ hit }))),
    async drain() {},
  };
}

/**
 * Hands one message to the tracking Queue when the ingestor is one ('queued'); otherwise, or when
 * the Queue refuses it (logged by `enqueue`), `direct` writes it ('stored'). For records whose
 * answer does not wait on the write (a download's file, an open's pixel): they are never lost
 * for a Queue that said no.
 */
export async function enqueueOr(ingestor: Pick<Ingestor, 'enqueue'> | undefined, body: QueuedBody, direct: () => Promise<unknown>): Promise<'queued' | 'stored'> {
  if (ingestor?.enqueue) {
    try {
      await ingestor.enqueue([body]);
      return 'queued';
    } catch {
      // Written below instead.
    }
  }
  await direct();
  return 'stored';
}
