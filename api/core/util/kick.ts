import type { Ctx } from '../context';

/**
 * "Run this soon" for a background runner (reactions, the send loop, campaign steps): one run
 * per context at a time; kicks that arrive before or during a run make it go round once more
 * instead of starting another. A failed run is logged; the runner's job retries it.
 */
export function coalescedRunner(what: string, run: (ctx: Ctx) => Promise<unknown>, defaults: { delayMs?: number } = {}) {
  const state = new WeakMap<Ctx, { again: boolean; running: Promise<void> }>();
  const kick = (ctx: Ctx, opts: { delayMs?: number } = {}): Promise<void> => {
    const cur = state.get(ctx);
    if (cur) {
      cur.again = true;
      return cur.running;
    }
    const entry = { again: false, running: Promise.resolve() };
    const delay = opts.delayMs ?? defaults.delayMs ?? 0;
    entry.running = (async () => {
      try {
        do {
          if (delay > 0) await new Promise((r) => setTimeout(r, delay));
          entry.again = false;
          await run(ctx);
        } while (entry.again);
      } catch (e) {
        ctx.log.error(`${what} failed; the next job run retries`, { error: e instanceof Error ? e.message : String(e) });
      } finally {
        state.delete(ctx);
      }
    })();
    state.set(ctx, entry);
    return entry.running;
  };
  /** Whether a run is scheduled or running for this context (a kick would join it). */
  const scheduled = (ctx: Ctx): boolean => state.has(ctx);
  return { kick, scheduled };
}
