import type { Context } from 'hono';

const pending = new Set<Promise<unknown>>();
let hasExecutionCtx: boolean | undefined;

/**
 * Runs work after the response without holding it up: waitUntil on Workers, a
 * tracked promise on Node (so shutdown and tests can wait for it).
 */
export function defer(c: Context, work: Promise<unknown>): void {
  const quiet = work.catch(() => undefined);
  // Hono's executionCtx getter throws where there is none (Node); an exception
  // per request costs more than it looks, so remember the answer.
  if (hasExecutionCtx !== false) {
    try {
      c.executionCtx.waitUntil(quiet);
      hasExecutionCtx = true;
      return;
    } catch {
      hasExecutionCtx = false;
    }
  }
  pending.add(quiet);
  void quiet.finally(() => pending.delete(quiet));
}

/** Resolves when all deferred work started so far has finished (Node). */
export async function settleDeferred(): Promise<void> {
  while (pending.size) await Promise.all([...pending]);
}
