import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createClient } from '@libsql/client';
import { serve } from '@hono/node-server';
import { createApp } from '../app';
import { parseConfig, ConfigError, type Config } from '../env';
import { createCtx, createLogger } from '../core/context';
import { prepareDatabase } from '../db/open';
import { bootstrapAdminKey } from '../core/access/api-keys';
import { seedDemo } from '../core/demo';
import { VERSION } from '../version';
import { nodePublicDeps } from './node-deps';
import { nodeOutbound } from './outbound-node';
import { assetsDirFor, diskStorage } from './storage-disk';
import { runDue } from '../jobs/index';
import { settleDeferred } from '../routes/defer';

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

async function main() {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
  const url = config.DATABASE_URL;
  if (url.startsWith('file:')) mkdirSync(dirname(resolve(url.slice('file:'.length))), { recursive: true });
  const client = createClient({ url, authToken: config.DATABASE_AUTH_TOKEN });
  const applied = await prepareDatabase(client, url);
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
  const app = createApp({
    ctx,
    public: nodePublicDeps(config),
    storage: diskStorage(assetsDirFor(url)),
  });
  // The scheduler: the same dispatcher the Workers cron calls.
  const lastRun = new Map<string, number>();
  let jobsRunning = false;
  const timer = setInterval(() => {
    if (jobsRunning) return;
    jobsRunning = true;
    void runDue(ctx, Date.now(), lastRun).finally(() => (jobsRunning = false));
  }, 1000);
  timer.unref();
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    log.info(`Leadline ${VERSION} listening`, { url: `http://${info.address}:${info.port}`, database: url.replace(/\/\/[^@]*@/, '//***@') });
  });
  const stop = () => {
    clearInterval(timer);
    server.close(() => {
      void settleDeferred().finally(() => {
        client.close();
        process.exit(0);
      });
    });
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
