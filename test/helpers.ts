import { createClient, type Client } from '@libsql/client';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type AppDeps } from '../api/app';
import { createCtx, type Ctx } from '../api/core/context';
import { parseConfig } from '../api/env';
import { prepareDatabase } from '../api/db/open';
import { openFileClient } from '../api/db/file-client';
import { createApiKey, type Scope } from '../api/core/access/api-keys';
import { memoryStorage, type AssetStorage } from '../api/core/assets/storage';

export interface TestApp {
  app: ReturnType<typeof createApp>;
  ctx: Ctx;
  client: Client;
  /** Secrets of keys with each scope, made for this test app. */
  keys: Record<Scope, string>;
  /** app.request with the admin key and JSON handling. */
  call: (method: string, path: string, body?: unknown, opts?: { key?: string | null; headers?: Record<string, string> }) => Promise<Response>;
  json: <T = any>(method: string, path: string, body?: unknown, opts?: { key?: string | null; headers?: Record<string, string> }) => Promise<{ status: number; body: T }>;
}

/** A fresh app on its own database (a temp file by default, or :memory:) with the real migrations. */
export async function makeApp(
  opts: {
    memory?: boolean;
    env?: Record<string, string>;
    now?: () => number;
    /** Runtime pieces of the public endpoints (client IP, geo, ingestor), as the entries pass them; may be built from the app's ctx. */
    public?: AppDeps['public'] | ((ctx: Ctx) => AppDeps['public']);
    /** Asset storage; in memory unless given (null: none, as on a Worker without R2). */
    storage?: AssetStorage | null;
    /** The /docs renderer's bytes, as the Node entry passes them. */
    docsUi?: AppDeps['docsUi'];
  } = {},
): Promise<TestApp> {
  const url = opts.memory ? ':memory:' : `file:${join(mkdtempSync(join(tmpdir(), 'leadline-test-')), 'test.db')}`;
  // As the Node entry opens a file (without its busy timeout: tests need no other process to wait for).
  const client = opts.memory ? createClient({ url }) : openFileClient({ url });
  await prepareDatabase(client, url);
  // Tests' webhook receivers listen on 127.0.0.1; only loopback is let through, private ranges stay refused.
  const config = parseConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent', OUTBOUND_ALLOW_LOOPBACK: 'true', ...opts.env });
  const ctx = createCtx({ client, config, now: opts.now });
  const storage = opts.storage === null ? undefined : (opts.storage ?? memoryStorage());
  const app = createApp({ ctx, public: typeof opts.public === 'function' ? opts.public(ctx) : opts.public, storage, docsUi: opts.docsUi });
  const keys = {} as Record<Scope, string>;
  for (const scope of ['read', 'write', 'admin'] as const) {
    keys[scope] = (await createApiKey({ ctx, input: { name: `test ${scope}`, scopes: [scope] } })).secret;
  }
  const call: TestApp['call'] = (method, path, body, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const key = o.key === undefined ? keys.admin : o.key;
    if (key) headers.authorization = `Bearer ${key}`;
    let payload: BodyInit | undefined;
    if (body !== undefined) {
      if (typeof body === 'string') payload = body;
      else {
        payload = JSON.stringify(body);
        headers['content-type'] ??= 'application/json';
      }
    }
    return Promise.resolve(app.request(path, { method, headers, body: payload }));
  };
  const json: TestApp['json'] = async (method, path, body, o) => {
    const res = await call(method, path, body, o);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  return { app, ctx, client, keys, call, json };
}

/** Asserts the one error shape every endpoint uses. */
export function expectError(res: { status: number; body: any }, status: number, code: string) {
  if (res.status !== status || res.body?.error?.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${res.status} ${JSON.stringify(res.body)}`);
  }
  if (typeof res.body.error.message !== 'string' || typeof res.body.error.requestId !== 'string' || !res.body.error.requestId) {
    throw new Error(`error shape is wrong: ${JSON.stringify(res.body)}`);
  }
}
