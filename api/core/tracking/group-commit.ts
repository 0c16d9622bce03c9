// Group commit: callers add items and wait; items that arrive while a flush is
// running are written together by the next one, so under load one statement
// carries many hits, and when idle a hit waits at most `maxWaitMs`. A caller's
// promise settles only after its items are committed (or the flush failed).

interface Waiter<T> {
  items: T[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface GroupCommit<T> {
  add(items: T[]): Promise<void>;
  /** Writes whatever is pending now; resolves when everything added so far is committed. */
  drain(): Promise<void>;
}

export function createGroupCommit<T>(opts: {
  flush: (items: T[]) => Promise<void>;
  maxItems: number;
  maxWaitMs: number;
}): GroupCommit<T> {
  let pending: Waiter<T>[] = [];
  let pendingCount = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;

  async function run(): Promise<void> {
    while (pending.length) {
      const batch = pending;
      pending = [];
      pendingCount = 0;
      try {
        await opts.flush(batch.flatMap((w) => w.items));
        for (const w of batch) w.resolve();
      } catch (e) {
        for (const w of batch) w.reject(e);
      }
    }
    running = undefined;
  }

  function kick() {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    running ??= run();
    return running;
  }

  return {
    add(items) {
      return new Promise<void>((resolve, reject) => {
        pending.push({ items, resolve, reject });
        pendingCount += items.length;
        if (running) return; // the running flush loop picks these up next
        if (pendingCount >= opts.maxItems) void kick();
        else timer ??= setTimeout(() => void kick(), opts.maxWaitMs);
      });
    },
    async drain() {
      while (running || pending.length) await kick();
    },
  };
}
