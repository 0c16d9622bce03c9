import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'libsql';
import { migrations } from '../api/db/migrations/index';
import { startHranaServer } from './fixtures/hrana-server';

// `npm run migrate -- --remote` as a new user runs it before (or instead of) the Worker's first
// request: against a real libSQL server over HTTP (the Hrana fixture on 127.0.0.1, standing in for
// Turso), the database URL and token from the environment only.

const root = resolve(__dirname, '..');
const TOKEN = 'migrate-test-token-0123456789abcdef';

function migrate(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(root, 'scripts/migrate.mjs'), ...args], {
      cwd: root,
      env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '', ...env },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, out });
    });
  });
}

describe('npm run migrate -- --remote', { timeout: 90_000 }, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startHranaServer>>;
  let dbPath: string;
  const read = <T>(sql: string): T[] => {
    const db = new Database(dbPath, { readonly: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  };
  const tables = () => read<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").map((r) => r.name);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'leadline-migrate-'));
    dbPath = join(dir, 'remote.db');
    server = await startHranaServer({ path: dbPath, authToken: TOKEN });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong token and writes nothing', async () => {
    const r = await migrate(['--remote'], { DATABASE_URL: server.url, DATABASE_AUTH_TOKEN: 'not-the-token-of-this-database' });
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/not migrated/);
    expect(r.out).toMatch(/turso db tokens create/);
    expect(tables()).toEqual([]);
  });

  it('asks for what is missing instead of guessing', async () => {
    const noUrl = await migrate(['--remote'], {});
    expect(noUrl.code).toBe(2);
    expect(noUrl.out).toMatch(/--remote needs DATABASE_URL/);
    const noToken = await migrate(['--remote'], { DATABASE_URL: 'libsql://leadline-acme.turso.io' });
    expect(noToken.code).toBe(2);
    expect(noToken.out).toMatch(/DATABASE_AUTH_TOKEN/);
    const remoteWithoutFlag = await migrate([], { DATABASE_URL: server.url, DATABASE_AUTH_TOKEN: TOKEN });
    expect(remoteWithoutFlag.code).toBe(2);
    expect(remoteWithoutFlag.out).toMatch(/add --remote/);
    expect(tables()).toEqual([]);
  });

  it('applies every migration over HTTP, and a second run is a no-op', async () => {
    const first = await migrate(['--remote'], { DATABASE_URL: server.url, DATABASE_AUTH_TOKEN: TOKEN });
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain(`applied ${migrations.length} migrations`);
    expect(first.out).not.toContain(TOKEN);
    // The tables the app needs are there, and the bookkeeping names every migration.
    expect(tables()).toEqual(expect.arrayContaining(['_migrations', 'contacts', 'events', 'ingest_hits', 'sites', 'api_keys']));
    const done = read<{ tag: string; applied_at: number }>('SELECT tag, applied_at FROM _migrations ORDER BY tag');
    expect(done.map((r) => r.tag)).toEqual(migrations.map((m) => m.tag));

    // libsql:// with ?tls=0 is the same server (the Worker's client reads libsql:// as HTTP).
    const url = server.url.replace(/^http:/, 'libsql:') + '?tls=0';
    const second = await migrate(['--remote'], { DATABASE_URL: url, DATABASE_AUTH_TOKEN: TOKEN });
    expect(second.code, second.out).toBe(0);
    expect(second.out).toMatch(/up to date/);
    expect(read('SELECT tag, applied_at FROM _migrations ORDER BY tag')).toEqual(done);
  });
});
