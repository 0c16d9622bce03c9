// The OpenAPI document as GET /api/v1/openapi.json answers it, made without a server or a
// database file (the document reads no data), for the build: the dashboard's typed client and
// its list of reports are generated from it (scripts/dashboard-api.mjs).
import { createClient } from '@libsql/client';
import { createApp } from '../api/app';
import { createCtx } from '../api/core/context';
import { parseConfig } from '../api/env';

export async function openApiDocument(): Promise<Record<string, any>> {
  const client = createClient({ url: ':memory:' });
  try {
    const ctx = createCtx({ client, config: parseConfig({ DATABASE_URL: ':memory:', LOG_LEVEL: 'silent' }) });
    const res = await createApp({ ctx }).request('http://127.0.0.1:8787/api/v1/openapi.json');
    if (res.status !== 200) throw new Error(`GET /api/v1/openapi.json answered ${res.status}`);
    return (await res.json()) as Record<string, any>;
  } finally {
    client.close();
  }
}
