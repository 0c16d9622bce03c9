import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'libsql';
import { startHranaServer } from './fixtures/hrana-server';
import { readWranglerConfig } from './workerd';

// `npm run deploy` (scripts/deploy.mjs) as a new user runs it, with wrangler replaced by a stand-in
// that records every call (test/fixtures/fake-wrangler.mjs): which commands run in which order, what
// stops a deployment and with which advice, and that a secret's value only ever travels on stdin.

const root = resolve(__dirname, '..');
const FAKE = join(root, 'test/fixtures/fake-wrangler.mjs');
const TOKEN = 'deploy-test-turso-token-5f0e1d2c3b4a';
const ADMIN = 'll_deploy_test_admin_key_0123456789';

let dir: string;
let runs = 0;
interface Call { args: string[]; stdin: string }

function deploy(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; calls: Call[] }> {
  const log = join(dir, `calls-${++runs}.jsonl`);
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(root, 'scripts/deploy.mjs'), ...args], {
      cwd: root,
      env: { PATH: process.env.PATH!, HOME: dir, WRANGLER: FAKE, FAKE_WRANGLER_LOG: log, ...env },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Call) : [];
      done({ code, out, calls });
    });
  });
}
const argv = (calls: Call[]) => calls.map((c) => c.args.join(' '));

describe('npm run deploy', { timeout: 120_000 }, () => {
  let queues: string[];
  let dlqs: string[];
  let buckets: string[];
  let server: Awaited<ReturnType<typeof startHranaServer>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'leadline-deploy-'));
    const config = await readWranglerConfig(root);
    dlqs = [...new Set((config.queues.consumers ?? []).map((c) => c.dead_letter_queue!).filter(Boolean))];
    queues = [...new Set([...(config.queues.producers ?? []).map((p) => p.queue), ...(config.queues.consumers ?? []).map((c) => c.queue), ...dlqs])];
    buckets = (config.r2_buckets ?? []).map((b) => b.bucket_name!);
    server = await startHranaServer({ path: join(dir, 'turso.db'), authToken: TOKEN });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('wrangler.toml declares the tracking queue, its dead-letter queue and the R2 bucket', () => {
    expect(queues).toEqual(expect.arrayContaining(['leadline-tracking', 'leadline-tracking-dlq']));
    expect(dlqs).toContain('leadline-tracking-dlq');
    expect(buckets).toEqual(['leadline-assets']);
  });

  it('from a new account: puts the exported secrets through stdin, creates queues and bucket, deploys, migrates', async () => {
    const url = `${server.url.replace(/^http:/, 'libsql:')}?tls=0`;
    const r = await deploy(['--no-build', '--migrate'], {
      DATABASE_URL: url,
      DATABASE_AUTH_TOKEN: TOKEN,
      ADMIN_API_KEY: ADMIN,
      FAKE_SECRETS: 'none',
      FAKE_EXISTING: 'leadline-tracking-dlq',
    });
    expect(r.code, r.out).toBe(0);
    const creates = [...dlqs, ...queues.filter((q) => !dlqs.includes(q))].map((q) => `queues create ${q}`);
    expect(argv(r.calls)).toEqual([
      'whoami',
      'secret list --format json',
      'secret put DATABASE_URL',
      'secret put DATABASE_AUTH_TOKEN',
      'secret put ADMIN_API_KEY',
      ...creates,
      ...buckets.map((b) => `r2 bucket create ${b}`),
      'deploy',
    ]);
    // Each value went to its own `secret put` on stdin, and to no command line.
    const put = Object.fromEntries(r.calls.filter((c) => c.args[1] === 'put').map((c) => [c.args[2], c.stdin]));
    expect(put).toEqual({ DATABASE_URL: url, DATABASE_AUTH_TOKEN: TOKEN, ADMIN_API_KEY: ADMIN });
    for (const secret of [TOKEN, ADMIN, url]) expect(argv(r.calls).join('\n')).not.toContain(secret);
    expect(r.out).not.toContain(TOKEN);
    expect(r.out).not.toContain(ADMIN);
    // An existing queue is fine; the address and the next step are shown.
    expect(r.out).toContain('queue leadline-tracking-dlq: exists already');
    expect(r.out).toContain('Deployed: https://leadline.acme.workers.dev');
    expect(r.out).toContain('npx wrangler tail');
    // --migrate applied the migrations to the database the secrets name.
    const db = new Database(join(dir, 'turso.db'), { readonly: true });
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    db.close();
    expect(tables).toEqual(expect.arrayContaining(['_migrations', 'contacts', 'events', 'ingest_hits']));
  });

  it('a second run with everything in place puts nothing and creates nothing new', async () => {
    const r = await deploy(['--no-build'], {
      FAKE_SECRETS: 'DATABASE_URL,DATABASE_AUTH_TOKEN,ADMIN_API_KEY,SECRET',
      FAKE_EXISTING: [...queues, ...buckets].join(','),
    });
    expect(r.code, r.out).toBe(0);
    expect(argv(r.calls).filter((a) => a.startsWith('secret put'))).toEqual([]);
    expect(argv(r.calls).at(-1)).toBe('deploy');
    for (const q of queues) expect(r.out).toContain(`queue ${q}: exists already`);
    expect(r.out).toContain('R2 bucket leadline-assets: exists already');
  });

  it('stops before anything when not logged in to Cloudflare', async () => {
    const r = await deploy(['--no-build'], { FAKE_LOGGED_IN: '0', DATABASE_AUTH_TOKEN: TOKEN });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/not logged in to Cloudflare: run `npx wrangler login`, or set CLOUDFLARE_API_TOKEN/);
    expect(argv(r.calls)).toEqual(['whoami']);
  });

  it('stops with the commands to run when a required secret is neither on the Worker nor exported', async () => {
    const r = await deploy(['--no-build'], { FAKE_SECRETS: 'DATABASE_URL', DATABASE_URL: 'file:./data/leadline.db' });
    expect(r.code).toBe(1);
    expect(r.out).toContain('npx wrangler secret put DATABASE_AUTH_TOKEN');
    expect(argv(r.calls)).toEqual(['whoami', 'secret list --format json']);
  });

  it('does not upload a local database URL as the Worker\'s', async () => {
    const r = await deploy(['--no-build'], { FAKE_SECRETS: 'DATABASE_AUTH_TOKEN', DATABASE_URL: 'file:./data/leadline.db' });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/not a libsql:\/\/ or https:\/\/ URL/);
    expect(r.out).toContain('npx wrangler secret put DATABASE_URL');
    expect(argv(r.calls).some((a) => a.startsWith('secret put'))).toBe(false);
  });

  it('stops, without deploying, when a queue cannot be created', async () => {
    const r = await deploy(['--no-build'], { FAKE_SECRETS: 'DATABASE_URL,DATABASE_AUTH_TOKEN', FAKE_BROKEN: 'leadline-tracking' });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/could not create the queue leadline-tracking[\s\S]*code: 10006/);
    expect(argv(r.calls)).not.toContain('deploy');
  });

  it('--dry-run changes nothing: only `wrangler deploy --dry-run` runs', async () => {
    const r = await deploy(['--dry-run', '--no-build'], { DATABASE_URL: 'libsql://leadline-acme.turso.io', DATABASE_AUTH_TOKEN: TOKEN });
    expect(r.code, r.out).toBe(0);
    expect(argv(r.calls)).toEqual(['deploy --dry-run --outdir dist/worker']);
    for (const q of queues) expect(r.out).toContain(`would run: wrangler queues create ${q}`);
    expect(r.out).toContain('would run: wrangler secret put DATABASE_AUTH_TOKEN');
    expect(r.out).not.toContain(TOKEN);
  });

  it('--dry-run with the real wrangler bundles the Worker with its bindings, offline', async () => {
    const r = await deploy(['--dry-run', '--no-build'], { WRANGLER: '' });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/env\.TRACKING_QUEUE \(leadline-tracking\)\s+Queue/);
    expect(r.out).toMatch(/env\.ASSETS \(leadline-assets\)\s+R2 Bucket/);
    expect(r.out).toMatch(/Read \d+ files from the assets directory/);
    expect(existsSync(join(root, 'dist/worker/worker.js'))).toBe(true);
  }, 120_000);
});
