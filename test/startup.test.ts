import { describe, it, expect, beforeAll } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { startHranaServer } from './fixtures/hrana-server';
import { VERSION } from '../api/version';
import { parseConfig } from '../api/env';

const root = join(import.meta.dirname, '..');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

// Runs the built Node server as `npm start` would, until `until` matches its output or it exits.
function run(env: Record<string, string>, until?: RegExp, cwd = root) {
  return new Promise<{ code: number | null; out: string; kill: () => Promise<void> }>((resolve) => {
    const child = spawn(process.execPath, [join(root, 'dist/node.mjs')], { cwd, env: { PATH: process.env.PATH!, ...env } });
    let out = '';
    const done = () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGTERM');
      });
    const timer = setTimeout(() => resolve({ code: null, out, kill: done }), 15_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (until && until.test(out)) {
        clearTimeout(timer);
        resolve({ code: null, out, kill: done });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, kill: done });
    });
  });
}

describe('starting the Node server', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist/node.mjs'))) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root });
  });

  it('creates the data directory, migrates, prints a first admin key once, and serves /health', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leadline-start-'));
    const port = await freePort();
    const first = await run({ PORT: String(port) }, /listening/, dir);
    try {
      expect(existsSync(join(dir, 'data/leadline.db'))).toBe(true);
      const key = /(ll_[A-Za-z0-9]{40})/.exec(first.out)?.[1];
      expect(key, first.out).toBeTruthy();
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(await health.json()).toEqual({ ok: true, version: VERSION, db: 'ok' });
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/contacts`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
    } finally {
      await first.kill();
    }
    const second = await run({ PORT: String(port) }, /listening/, dir);
    await second.kill();
    expect(second.out).not.toMatch(/ll_[A-Za-z0-9]{40}/);
  });

  it('with ADMIN_API_KEY set, accepts it and prints no generated key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leadline-start-'));
    const port = await freePort();
    const admin = 'my-admin-key-that-is-long-enough';
    const s = await run({ PORT: String(port), ADMIN_API_KEY: admin, DATABASE_URL: `file:${join(dir, 'x/y.db')}` }, /listening/, dir);
    try {
      expect(s.out).not.toMatch(/ll_[A-Za-z0-9]{40}/);
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/api-keys`, { headers: { authorization: `Bearer ${admin}` } });
      expect(res.status).toBe(200);
    } finally {
      await s.kill();
    }
  });

  it('refuses to start on a bad setting, naming the variable', async () => {
    for (const [name, value] of [
      ['PORT', 'eighty'],
      ['DATABASE_URL', 'postgres://nope'],
      ['ADMIN_API_KEY', 'short'],
      ['PUBLIC_URL', 'not a url'],
      ['LOG_LEVEL', 'loud'],
    ]) {
      const r = await run({ [name!]: value! });
      expect(r.code, `${name}=${value}`).toBe(1);
      expect(r.out).toContain(name);
    }
  });

  // Each ends the start with one line naming the setting, before anything is written: no data
  // directory, no migration, no admin key printed.
  async function expectCleanRefusal(env: Record<string, string>, name: string, says: RegExp) {
    const dir = mkdtempSync(join(tmpdir(), 'leadline-start-'));
    const r = await run(env, undefined, dir);
    const lines = r.out.split('\n').filter((l) => l.trim());
    expect(r.code, r.out).toBe(1);
    expect(lines, r.out).toHaveLength(1);
    expect(lines[0]).toContain(name);
    expect(lines[0]).toMatch(says);
    expect(r.out).not.toMatch(/ll_[A-Za-z0-9]{40}|migrations applied|listening/);
    expect(readdirSync(dir)).toEqual([]);
  }

  it('refuses a GEOIP_DB that does not exist or is not an .mmdb file, before any side effect', async () => {
    const port = String(await freePort());
    await expectCleanRefusal({ PORT: port, GEOIP_DB: join(tmpdir(), 'no-such-dir', 'country.mmdb') }, 'GEOIP_DB', /does not exist/);
    await expectCleanRefusal({ PORT: port, GEOIP_DB: join(root, 'package.json') }, 'GEOIP_DB', /not a MaxMind database/);
    await expectCleanRefusal({ PORT: port, GEOIP_DB: tmpdir() }, 'GEOIP_DB', /directory/);
  });

  it('refuses a PORT already in use, before any side effect', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as { port: number }).port;
    try {
      await expectCleanRefusal({ PORT: String(port) }, 'PORT', /already in use/);
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });

  it('refuses a HOST that is not an address of this machine or does not resolve, before any side effect', async () => {
    const port = String(await freePort());
    // 192.0.2.0/24 is reserved for documentation (RFC 5737): never a local address.
    await expectCleanRefusal({ PORT: port, HOST: '192.0.2.1' }, 'HOST', /not an address of this machine/);
    // .invalid never resolves (RFC 6761).
    await expectCleanRefusal({ PORT: port, HOST: 'leadline-no-such-host.invalid' }, 'HOST', /does not resolve/);
  });

  it('binds the port before preparing the database: a request sent meanwhile waits and is answered', async () => {
    // The database answers only when released, so the window between bind and ready is wide.
    const dir = mkdtempSync(join(tmpdir(), 'leadline-start-'));
    const hrana = await startHranaServer({ path: join(dir, 'db.sqlite') });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const proxy = createHttpServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      await gate;
      const upstream = await fetch(hrana.url + req.url, { method: req.method, headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const port = await freePort();
    const starting = run({ PORT: String(port), DATABASE_URL: `http://127.0.0.1:${(proxy.address() as { port: number }).port}` }, /listening/, dir);
    try {
      let accepted = false;
      for (let i = 0; i < 400 && !accepted; i++) {
        accepted = await new Promise<boolean>((r) => {
          const s = connect(port, '127.0.0.1', () => (s.end(), r(true)));
          s.on('error', () => r(false));
        });
        if (!accepted) await new Promise((r) => setTimeout(r, 25));
      }
      expect(accepted).toBe(true);
      let answered = false;
      const health = fetch(`http://127.0.0.1:${port}/health`).then((r) => ((answered = true), r));
      await new Promise((r) => setTimeout(r, 300));
      expect(answered).toBe(false);
      release();
      const res = await health;
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ ok: true, db: 'ok' });
      await (await starting).kill();
    } finally {
      release();
      await new Promise((r) => proxy.close(r));
      proxy.closeAllConnections();
      await hrana.close();
    }
  });
});

describe('configuration and build facts', () => {
  it('parses defaults', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({ PORT: 8787, DATABASE_URL: 'file:./data/leadline.db', LOG_LEVEL: 'info' });
    expect(c.ADMIN_API_KEY).toBeUndefined();
  });

  it('api/version.ts matches package.json', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });

  it('the embedded migrations match the generated SQL files', () => {
    execFileSync(process.execPath, ['scripts/embed-migrations.mjs', '--check'], { cwd: root });
  });
});
