// The Worker's side of ingestion through Cloudflare Queues: the producer binding (TRACKING_QUEUE)
// for the app, and the `queue` handler that hands each batch to core/tracking/consume.ts and tells
// the Queue, message by message, what became of it. The logic lives in core; this is glue.
import type { Ctx } from '../core/context';
import { consumeHits } from '../core/tracking/consume';
import type { Ingestor } from '../core/tracking/ingest';
import { queueIngestor, type HitQueue } from '../core/tracking/queue';
import { kickReactions } from '../core/spine/run';

// The parts of the Workers Queue API used here (declared locally: the Workers types are not a dependency).
export interface QueueMessage {
  readonly body: unknown;
  readonly attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}
export interface QueueBatch {
  readonly queue: string;
  readonly messages: readonly QueueMessage[];
}

/** The ingestor for the Queue bound as TRACKING_QUEUE, if there is one; without it hits are written directly. */
export function queueIngestorFromEnv(ctx: Ctx, env: Record<string, unknown>): Ingestor | undefined {
  const q = env.TRACKING_QUEUE as Partial<HitQueue> | undefined;
  if (!q || typeof q.send !== 'function' || typeof q.sendBatch !== 'function') return undefined;
  return queueIngestor(ctx, q as HitQueue);
}

/**
 * The dead-letter queue is told apart by its name: wrangler.toml names it after the tracking
 * queue with "-dlq" (its consumer is this same Worker).
 */
export const isDeadLetterQueue = (name: string) => name.endsWith('-dlq');

/**
 * Handles one batch: writes it (consumeHits), then acknowledges or retries each message. If the
 * handler throws before that (the app could not start), the Queue retries the whole batch.
 */
export async function handleTrackingBatch(ctx: Ctx, batch: QueueBatch, waitUntil: (p: Promise<unknown>) => void): Promise<void> {
  const result = await consumeHits(ctx, batch.messages, { deadLetter: isDeadLetterQueue(batch.queue) });
  result.outcomes.forEach((o, i) => (o === 'ack' ? batch.messages[i]!.ack() : batch.messages[i]!.retry()));
  // New events: the reactions (points, segments, campaigns…) take them soon rather than at the next
  // cron, but at most every REACTIONS_EVERY_MS per isolate: a run keeps its batch's invocation open
  // (waitUntil), which holds back the batches behind it (Miniflare hands the consumer its next batch
  // only then: hit-to-row latency doubled when every batch ran them).
  const at = Date.now();
  if (result.stored && at - (lastReactions.get(ctx) ?? 0) >= REACTIONS_EVERY_MS) {
    lastReactions.set(ctx, at);
    waitUntil(kickReactions(ctx, { delayMs: 0 }).catch(() => undefined));
  }
}

const REACTIONS_EVERY_MS = 10_000;
const lastReactions = new WeakMap<Ctx, number>();
