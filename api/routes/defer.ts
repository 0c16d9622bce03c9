import type { Context } from 'hono';

const pending = new Set<Promise<unknown>>();

/**
 * Runs work after the response without holding it up: waitUntil on Workers, a
 * tracked promise on Node (so shutdown and tests can wait for it).
 */
export function defer(c: Context, work: Promise<unknown>): void {
  const quiet = work.catch(() => undefined);
  try {
    c.executionCtx.waitUntil(quiet);
    return;
  } catch {
    // No execution context: Node.
  }
  pending.add(quiet);
  void quiet.finally(() => pending.delete(quiet));
}

/** Resolves when all deferred work started so far has finished (Node). */
export async function settleDeferred(): Promise<void> {
  while (pending.size) await Promise.all([...pending]);
}
