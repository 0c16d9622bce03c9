import type { Client } from '@libsql/client';
import { migrations } from './migrations/index';

// Applies the embedded migrations in order; each one with its bookkeeping row in
// one write batch, so a crash leaves either all of a migration or none of it.
export async function migrate(client: Client): Promise<string[]> {
  await client.execute(
    'CREATE TABLE IF NOT EXISTS _migrations (tag TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)',
  );
  const done = new Set((await client.execute('SELECT tag FROM _migrations')).rows.map((r) => String(r.tag)));
  const applied: string[] = [];
  for (const m of migrations) {
    if (done.has(m.tag)) continue;
    await client.batch(
      [...m.statements, { sql: 'INSERT OR IGNORE INTO _migrations (tag, applied_at) VALUES (?, ?)', args: [m.tag, Date.now()] }],
      'write',
    );
    applied.push(m.tag);
  }
  return applied;
}
