import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from '@libsql/client';
import { createServer, type Server } from 'node:http';
import { getRequestListener, RequestError } from '@hono/node-server';
import { createApp } from '../app';
import { parseConfig, ConfigError, type Config } from '../env';
import { createCtx, createLogger } from '../core/context';
import { prepareDatabase } from '../db/open';
import { bootstrapAdminKey } from '../core/access/api-keys';
import { bootstrapFirstAdmin } from '../core/access/users';
import { publicBase } from '../core/email/links';
import { seedDemo } from '../core/demo';
import { createIngestor } from '../core/tracking/ingest';
import { VERSION } from '../version';
import { nodePublicDeps } from './node-deps';
import { nodeOutbound } from './outbound-node';
import { openGeo } from './geo-node';
import { listen } from './node-listen';
import { nodeCompress } from './node-compress';
import { nodeDocsUi } from './node-docs';
import { drainOnSignals } from './node-shutdown';
import { StartError } from './start-error';
import { assetsDirFor, diskStorage } from './storage-disk';
import { runDue } from '../jobs/index';
import { openFileClient } from '../db/file-client';
import { settleDeferred } from '../routes/defer';

// How long SIGTERM may take before the process gives up on a clean drain.
const DRAIN_DEADLINE_MS = 10_000;

function loadConfig(): Config {
  try {
    return parseConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(1);
    }
    throw e;
  }
}

type Fetch = (req: Request, env: unknown) => Response | Promise<Response>;

/** The adapter's errors before the app runs: a request it could not read is the client's fault. */
function unreadableRequest(e: unknown): Response {
  const bad = e instanceof RequestError;
  const requestId = crypto.randomUUID();
  const error = bad
    ? { code: 'BAD_REQUEST', message: 'The request could not be read: its Host header or URL is malformed.', requestId }
    : { code: 'INTERNAL', message: 'Something went wrong on our side.', requestId };
  return Response.json({ error }, { status: bad ? 400 : 500, headers: { 'X-Request-Id': requestId } });
}

async function main() {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
  const url = config.DATABASE_URL;
  const redactedUrl = url.replace(/\/\/[^@]*@/, '//***@');

  // Every check a bad setting can fail comes before the first write (DESIGN.md): the geo database,
  // then the port and host, by binding them. Requests that arrive before the app is ready wait.
  const geo = openGeo(config.GEOIP_DB);
  let ready!: (f: Fetch) => void;
  const readyFetch = new Promise<Fetch>((r) => (ready = r));
  let handle: Fetch = async (req, env) => (await readyFetch)(req, env);
  // Plain HTTP/1.1. A request the adapter cannot turn into a Request (a Host that is no host, such
  // as a port over 65535) never reaches the app: it gets the API's JSON 400, not an empty one.
  const server: Server = createServer(
    getRequestListener((req, env) => handle(req, env), { hostname: config.HOST, errorHandler: unreadableRequest }),
  );
  const address = await listen(server, config.PORT, config.HOST);

  let client: Client;
  let applied: string[];
  try {
    if (url.startsWith('file:')) mkdirSync(dirname(resolve(url.slice('file:'.length))), { recursive: true });
    // A second process on the same file (another instance, a one-off script) waits for the write
    // lock instead of failing at once with SQLITE_BUSY (libSQL's default is not to wait); if a
    // wait runs out, the file client recovers (db/file-client.ts).
    const options = { url, authToken: config.DATABASE_AUTH_TOKEN, timeout: 10_000 };
    client = url.startsWith('file:') ? openFileClient(options) : createClient(options);
    applied = await prepareDatabase(client, url);
  } catch (e) {
    throw new StartError(`DATABASE_URL=${redactedUrl}`, `cannot be opened and migrated: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (applied.length) log.info('migrations applied', { applied });
  // Webhooks connect only to addresses checked after DNS resolution, at connect time.
  const ctx = createCtx({ client, config, log, outbound: nodeOutbound() });
  const { generated } = await bootstrapAdminKey({ ctx });
  const origin = (host: string) => `http://${host}:${config.PORT}`;
  await seedDemo({
    ctx,
    input: {
      origins: [origin('127.0.0.1'), origin('localhost'), ...(config.HOST !== '0.0.0.0' ? [origin(config.HOST)] : []), ...(config.PUBLIC_URL ? [new URL(config.PUBLIC_URL).origin] : [])],
    },
  });
  if (generated) {
    // Printed once: only its hash is stored.
    console.log(
      `\n  No API key existed, so an admin key was created. Save it now; it will not be shown again:\n\n    ${generated}\n`,
    );
  }
  // While nobody can sign in to the dashboard: a one-time link for the first admin (each start
  // prints a new one; only its hash is stored).
  // The same base as every link Leadline sends: PUBLIC_URL, else this process's address.
  const { link } = await bootstrapFirstAdmin({ ctx, input: { base: publicBase(config) } });
  if (link) {
    console.log(`\n  No dashboard user exists yet. Open this one-time link to create the first admin (valid 7 days):\n\n    ${link}\n`);
  }
  // Built here, not inside the app, so that the drain can flush it.
  const ingestor = createIngestor(ctx);
  const app = createApp({
    ctx,
    public: { ...nodePublicDeps(config, geo), ingestor },
    storage: diskStorage(assetsDirFor(url)),
    compress: nodeCompress(),
    docsUi: nodeDocsUi(fileURLToPath(new URL('.', import.meta.url))),
  });

  // The scheduler: the same dispatcher the Workers cron calls.
  const lastRun = new Map<string, number>();
  let jobRun: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    jobRun ??= runDue(ctx, Date.now(), lastRun)
      .catch((e) => log.error('job run failed', { error: e instanceof Error ? e.message : String(e) }))
      .finally(() => (jobRun = undefined));
  }, 1000);
  timer.unref();

  drainOnSignals({
    server,
    log,
    deadlineMs: DRAIN_DEADLINE_MS,
    stopJobs: async () => {
      clearInterval(timer);
      await jobRun;
    },
    finish: async () => {
      // Every /t answer waited for its commit; this catches a flush still under way.
      await ingestor.drain();
      await settleDeferred();
      client.close();
    },
  });

  handle = app.fetch as Fetch;
  ready(handle);
  log.info(`Leadline ${VERSION} listening`, { url: `http://${address.address}:${address.port}`, database: redactedUrl });
}

main().catch((e) => {
  console.error(e instanceof StartError ? e.message : e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
