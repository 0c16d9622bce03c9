import type { Client } from '@libsql/client';
import { migrate } from './migrate';

// Settings for a local database file; remote (Turso) databases manage their own.
export async function prepareDatabase(client: Client, url: string): Promise<string[]> {
  if (url.startsWith('file:')) {
    await client.execute('PRAGMA journal_mode = WAL');
    await client.execute('PRAGMA synchronous = NORMAL');
  }
  return migrate(client);
}
