import { createClient, type Client, type Config } from '@libsql/client';

/**
 * A libSQL client for a local database file that recovers from SQLITE_BUSY.
 *
 * When another process holds the write lock past the busy timeout, the statement that failed
 * stays "in progress" on its connection until garbage collection finalizes it, and until then
 * every commit on that connection fails ("cannot commit transaction - SQL statements in
 * progress"): the scheduler, the send loop and the API of the process could not write. So after
 * a call fails with SQLITE_BUSY this client is replaced by a fresh one (the old one closed, which
 * finalizes the statement); the failed call still fails, and its caller's next run succeeds.
 * Safe to swap between calls: every call but an interactive transaction (not used by the app)
 * borrows its connection for one synchronous stretch.
 */
export function openFileClient(config: Config & { url: `file:${string}` | string }): Client {
  let inner = createClient(config);
  const heal = (e: unknown): never => {
    if ((e as { code?: string } | null)?.code === 'SQLITE_BUSY') {
      const old = inner;
      inner = createClient(config);
      // The pragma set when the database was opened applies per connection.
      inner.execute('PRAGMA synchronous = NORMAL').catch(() => undefined);
      try {
        old.close();
      } catch {
        // already closed
      }
    }
    throw e;
  };
  return new Proxy({} as Client, {
    get(_, prop) {
      const value = (inner as unknown as Record<PropertyKey, unknown>)[prop];
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        try {
          const out = (value as (...a: unknown[]) => unknown).apply(inner, args);
          return out instanceof Promise ? out.catch(heal) : out;
        } catch (e) {
          return heal(e);
        }
      };
    },
  });
}
