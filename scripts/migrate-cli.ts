// `npm run migrate` (scripts/migrate.mjs bundles and runs this): applies the embedded migrations
// with the code the servers run at start (api/db/open.ts prepareDatabase), so a database migrated
// here is the database the Worker or the Node server would have made.
//
//   npm run migrate                 the local file: DATABASE_URL, default file:./data/leadline.db
//   npm run migrate -- --remote     DATABASE_URL (libsql:// or https://) with DATABASE_AUTH_TOKEN,
//                                   over HTTP as the Worker reaches it (@libsql/client/web)
//
// Both read the environment only: a token never appears in a command line. Exit 0 when the
// database is up to date (whether or not anything was applied), 1 when it could not be migrated,
// 2 for a usage mistake.
import { createClient as createWebClient, type Client } from '@libsql/client/web';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { openFileClient } from '../api/db/file-client';
import { migrations } from '../api/db/migrations/index';
import { prepareDatabase } from '../api/db/open';

const USAGE = `usage: npm run migrate [-- --remote]
  (no flag)  migrate the local database file: DATABASE_URL, default file:./data/leadline.db
  --remote   migrate DATABASE_URL (libsql://… or https://…, e.g. \`turso db show --url leadline\`)
             with DATABASE_AUTH_TOKEN (\`turso db tokens create leadline\`), both from the environment`;

class Usage extends Error {}

/** Hides a token someone put into the URL itself (user:pass@ or ?authToken=). */
const redact = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@').replace(/([?&](?:authToken|auth_token)=)[^&]*/gi, '$1***');

function target(args: string[], env: NodeJS.ProcessEnv): { url: string; client: Client } {
  const unknown = args.filter((a) => a !== '--remote');
  if (unknown.length) throw new Usage(`unknown argument${unknown.length > 1 ? 's' : ''}: ${unknown.join(' ')}`);
  const remote = args.includes('--remote');
  const url = env.DATABASE_URL?.trim() || (remote ? '' : 'file:./data/leadline.db');
  const token = env.DATABASE_AUTH_TOKEN?.trim() || undefined;
  if (remote) {
    if (!url) throw new Usage('--remote needs DATABASE_URL in the environment: DATABASE_URL=$(turso db show --url leadline)');
    if (!/^(libsql|https?):\/\//.test(url)) throw new Usage(`--remote needs a libsql:// or https:// DATABASE_URL, got ${redact(url)}`);
    // Turso always wants a token; a libSQL server of your own on this machine may not.
    if (!token && !/^[a-z]+:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|\?|$)/.test(url)) {
      throw new Usage('--remote needs DATABASE_AUTH_TOKEN in the environment: DATABASE_AUTH_TOKEN=$(turso db tokens create leadline)');
    }
    // The Worker's transport (HTTP, libsql:// meaning https://), not the Node client's WebSockets.
    return { url, client: createWebClient({ url, authToken: token }) };
  }
  if (!url.startsWith('file:')) throw new Usage(`DATABASE_URL is ${redact(url)}, not a local file: add --remote to migrate it`);
  mkdirSync(dirname(resolve(url.slice('file:'.length))), { recursive: true });
  return { url, client: openFileClient({ url, timeout: 10_000 }) };
}

export async function main(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let t: { url: string; client: Client };
  try {
    t = target(args, env);
  } catch (e) {
    if (!(e instanceof Usage)) throw e;
    console.error(`migrate: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  const shown = redact(t.url);
  try {
    const applied = await prepareDatabase(t.client, t.url);
    if (applied.length) console.log(`migrate: ${shown}: applied ${applied.length} migration${applied.length > 1 ? 's' : ''}: ${applied.join(', ')}`);
    else console.log(`migrate: ${shown}: up to date (${migrations.length} migrations, none to apply)`);
    return 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const hint = /401|403|unauthori[sz]ed|forbidden|token/i.test(message) ? ' (is DATABASE_AUTH_TOKEN a token of this database? `turso db tokens create leadline`)' : '';
    console.error(`migrate: ${shown}: not migrated: ${message}${hint}`);
    return 1;
  } finally {
    t.client.close();
  }
}
