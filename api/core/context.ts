import type { Client } from '@libsql/client';
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql';
import type { Config } from '../env';
import * as schema from '../db/schema/index';
import type { OutboundTransport } from './util/outbound';

export type Db = LibSQLDatabase<typeof schema>;

export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

// Everything core functions need; passed explicitly so core has no globals and
// runs the same on Node and Workers.
export interface Ctx {
  db: Db;
  client: Client;
  config: Config;
  now: () => number;
  log: Logger;
  /** How outbound HTTP reaches the network (util/outbound.ts); the web fetch transport when absent. */
  outbound?: OutboundTransport;
}

const levels = ['debug', 'info', 'warn', 'error', 'silent'] as const;

export function createLogger(level: Config['LOG_LEVEL'] = 'info'): Logger {
  const min = levels.indexOf(level);
  const emit = (lvl: (typeof levels)[number]) => (msg: string, data?: Record<string, unknown>) => {
    if (levels.indexOf(lvl) < min) return;
    const line = JSON.stringify({ level: lvl, time: new Date().toISOString(), msg, ...data });
    if (lvl === 'error' || lvl === 'warn') console.error(line);
    else console.log(line);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

export function createCtx(opts: { client: Client; config: Config; now?: () => number; log?: Logger; outbound?: OutboundTransport }): Ctx {
  return {
    client: opts.client,
    db: drizzle(opts.client, { schema }),
    config: opts.config,
    now: opts.now ?? Date.now,
    log: opts.log ?? createLogger(opts.config.LOG_LEVEL),
    outbound: opts.outbound,
  };
}
