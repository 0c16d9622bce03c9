import { describe, it, expect, beforeAll } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
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
