import type { Ctx } from '../context';
import { AppError } from '../errors';
import type { Hit, Ingestor } from './ingest';

/**
 * Hits through a Queue (Cloudflare Queues on Workers, the TRACKING_QUEUE binding): the request
 * validates and enriches a hit as always (collect.ts), then hands it to the Queue instead of the
 * database, and is answered once the Queue has accepted it — durable from then on. The consumer
 * (consume.ts) writes them in batches. Each hit gets its id here, at enqueue, so that a message
 * the Queue delivers twice is written once.
 */

/** A message on the tracking queue. `v` lets a consumer tell a message of another release. */
export interface QueuedHit {
  v: 1;
  id: string;
  hit: Hit;
}

/** As much of a Workers Queue producer binding as this uses. */
export interface HitQueue {
  send(body: QueuedHit, opts?: { contentType?: 'json' }): Promise<unknown>;
  sendBatch(messages: { body: QueuedHit; contentType?: 'json' }[]): Promise<unknown>;
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

export const queuedHit = (hit: Hit): QueuedHit => ({ v: 1, id: newHitId(), hit });

/**
 * An ingestor (the group commit's shape) that sends hits to the Queue: `add` resolves once the
 * Queue accepted them, and fails with a 503 when it did not (the tracker may send again; nothing
 * was written). There is nothing to drain: accepted hits are the Queue's.
 */
export function queueIngestor(ctx: Ctx, queue: HitQueue): Ingestor {
  return {
    queued: true,
    async add(hits) {
      try {
        if (hits.length === 1) await queue.send(queuedHit(hits[0]!), { contentType: 'json' });
        else if (hits.length) await queue.sendBatch(hits.map((h) => ({ body: queuedHit(h), contentType: 'json' as const })));
      } catch (e) {
        ctx.log.error('the tracking queue refused hits', { hits: hits.length, error: e instanceof Error ? e.message : String(e) });
        throw new AppError('UNAVAILABLE', 'The tracking queue did not accept the hit; nothing was stored, send it again.');
      }
    },
    async drain() {},
  };
}
