// Shared pieces of the benchmarks: an app on a fresh database file, timing,
// the summary table and the JSON result file. Not a benchmark itself.
import { createClient, type Client, type InValue } from '@libsql/client';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createApp } from '../../api/app';
import { createApiKey } from '../../api/core/access/api-keys';
import { createCtx, type Ctx } from '../../api/core/context';
import { prepareDatabase } from '../../api/db/open';
import { parseConfig } from '../../api/env';

export interface BenchApp {
  app: ReturnType<typeof createApp>;
  ctx: Ctx;
  client: Client;
  /** Admin key secret, sent as the Bearer token. */
  key: string;
  path: string;
  /** POST with JSON through the in-process app (real routing, auth and validation). */
  post: (path: string, body: string) => Promise<Response>;
  close: () => void;
}

/** Holds the temp databases of one run; removed at the end unless BENCH_KEEP=1. */
export function tempDir(name: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `leadline-bench-${name}-`));
  return {
    dir,
    cleanup: () => {
      if (process.env.BENCH_KEEP === '1') console.log(`  (kept ${dir})`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh database file prepared exactly as production prepares one (WAL, real migrations). */
export async function openDatabase(dir: string, file: string): Promise<{ client: Client; url: string; path: string }> {
  const path = join(dir, file);
  const url = `file:${path}`;
  const client = createClient({ url });
  await prepareDatabase(client, url);
  return { client, url, path };
}

export async function openApp(dir: string, file: string): Promise<BenchApp> {
  const { client, url, path } = await openDatabase(dir, file);
  const config = parseConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' });
  const ctx = createCtx({ client, config });
  const app = createApp({ ctx });
  const key = (await createApiKey({ ctx, input: { name: 'bench', scopes: ['admin'] } })).secret;
  // Content-Length as an HTTP client sends it; without it the body-limit
  // middleware takes its slower path for chunked uploads.
  const post = async (p: string, body: string) =>
    app.request(p, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      body,
    });
  return { app, ctx, client, key, path, post, close: () => client.close() };
}

/** Bytes of the database file plus its WAL. */
export function databaseBytes(path: string): number {
  let n = 0;
  for (const f of [path, `${path}-wal`]) {
    try {
      n += statSync(f).size;
    } catch {
      // no WAL file (yet)
    }
  }
  return n;
}

export const now = () => performance.now();

export function envInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const v = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return v;
}

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Percentiles (ms) of a list of durations. */
export function latency(ms: number[]): Latency {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? 0;
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { p50: r(at(0.5)), p95: r(at(0.95)), p99: r(at(0.99)), max: r(s[s.length - 1] ?? 0), mean: r(mean) };
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
}

export function fmtBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${(n / 1024).toFixed(0)} KB`;
}

/** A plain-text table: the first column left-aligned, the others (figures) right-aligned. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

export function machine() {
  const c = cpus();
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: c.length,
    cpu_model: c[0]?.model ?? 'unknown',
    memory_mb: Math.round(totalmem() / 1024 / 1024),
  };
}

/** Writes dist/bench/<name>.json (run.mjs passes the directory) and returns its path. */
export function writeResults(name: string, data: unknown): string {
  const dir = process.env.BENCH_OUT_DIR ?? resolve('dist', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The first column of the first row, as a number. */
export const num = async (client: Client, sql: string, args: InValue[] = []) => Number((await client.execute({ sql, args })).rows[0]![0]);

/**
 * `WITH RECURSIVE` rows from..to (the statement's first two arguments, as integers: the client may
 * bind a JavaScript number as a float, and then k / 3 is not a whole number), one random column
 * (0..999,999) per name, materialised so each row draws once: the generators' row source.
 */
export const sqlRows = (col: string, randoms: string[]) =>
  `WITH RECURSIVE n(${col}) AS (SELECT CAST(? AS INTEGER) UNION ALL SELECT ${col} + 1 FROM n WHERE ${col} < CAST(? AS INTEGER)),
   r AS MATERIALIZED (SELECT ${col}, ${randoms.map((x) => `abs(random() % 1000000) AS ${x}`).join(', ')} FROM n)`;

/** Runs `run(from, to)` over 1..total in chunks, printing progress every `every` rows; seconds taken. */
export async function chunked(label: string, total: number, chunk: number, every: number, run: (from: number, to: number) => Promise<void>) {
  const t = now();
  for (let from = 1; from <= total; from += chunk) {
    const to = Math.min(total, from + chunk - 1);
    await run(from, to);
    if (to % every === 0 || to === total) {
      const s = (now() - t) / 1000;
      console.log(`    ${label} ${fmtInt(to).padStart(10)} / ${fmtInt(total)}  ${s.toFixed(1)}s  (${fmtInt(to / s)}/s)`);
    }
  }
  return (now() - t) / 1000;
}
