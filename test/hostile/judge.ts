// What every answer must be: never a 5xx; a 4xx (or a 405) carries the one
// JSON error shape, with a code from the enum that maps to the status sent.
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ERROR_CODES } from '../../api/core/errors';
import { STATUS_OF } from '../../api/routes/errors';
import type { HostileRequest } from './generate';

export interface Answer {
  status: number;
  contentType: string;
  text: string;
}

export interface Failure {
  req: HostileRequest;
  answer?: Answer;
  problem: string;
}

const CODES = new Set<string>(ERROR_CODES);

export function judge(req: HostileRequest, a: Answer): string | null {
  if (a.status >= 500) return `answered ${a.status}`;
  // A rate limit may refuse anything, before any other check.
  if (req.expect && !req.expect.includes(a.status) && a.status !== 429) return `answered ${a.status}, expected ${req.expect.join(' or ')}`;
  if (a.status < 400) return null;
  if (req.method === 'HEAD') return null;
  if (req.htmlOk && /text\/html/.test(a.contentType)) return null;
  if (!/application\/json/.test(a.contentType)) return `a ${a.status} that is not JSON (${a.contentType || 'no content type'})`;
  let body: any;
  try {
    body = JSON.parse(a.text);
  } catch {
    return `a ${a.status} whose body is not JSON`;
  }
  const e = body?.error;
  if (!e || typeof e !== 'object') return `a ${a.status} without the error object`;
  if (!CODES.has(e.code)) return `a ${a.status} with code ${JSON.stringify(e.code)}, not in the enum`;
  if (STATUS_OF[e.code as keyof typeof STATUS_OF] !== a.status) return `a ${a.status} with code ${e.code}, which maps to ${STATUS_OF[e.code as keyof typeof STATUS_OF]}`;
  if (typeof e.message !== 'string' || !e.message) return `a ${a.status} without a message`;
  if (typeof e.requestId !== 'string' || !e.requestId) return `a ${a.status} without a requestId`;
  if (e.details !== undefined && (!Array.isArray(e.details) || e.details.some((d: any) => typeof d?.field !== 'string' || typeof d?.message !== 'string'))) {
    return `a ${a.status} whose details are not [{ field, message }]`;
  }
  return null;
}

const clip = (s: string, n = 400) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

function showBody(b: HostileRequest['body']): string {
  if (b === undefined) return '(none)';
  if (typeof b === 'string') return JSON.stringify(clip(b));
  return `${b.length} bytes: ${clip(Buffer.from(b).toString('latin1'))}`;
}

export function describeFailure(f: Failure): string {
  const r = f.req;
  const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, clip(v, 120)]));
  return [
    `${r.method} ${clip(r.path, 300)} — ${f.problem}`,
    `  kind: ${r.kind}`,
    `  headers: ${JSON.stringify(headers)}${r.stream ? ' (body streamed, no Content-Length)' : ''}`,
    `  body: ${showBody(r.body)}`,
    f.answer ? `  answer: ${f.answer.status} ${f.answer.contentType} ${clip(f.answer.text)}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

/** Failures grouped by operation, status and message, so one bug reads as one line with a count. */
export function groupFailures(failures: Failure[]) {
  const groups = new Map<string, { count: number; first: Failure }>();
  for (const f of failures) {
    let msg = '';
    try {
      msg = String(JSON.parse(f.answer?.text ?? '')?.error?.message ?? '').slice(0, 80);
    } catch {}
    const key = `${f.req.template} | ${f.problem} | ${msg}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { count: 1, first: f });
  }
  return [...groups.entries()].sort((a, b) => b[1].count - a[1].count);
}

export class Stats {
  requests = 0;
  readonly statuses = new Map<number, number>();
  readonly failures: Failure[] = [];
  /** Requests the client side could not even send (e.g. a header Node refuses): not the server's doing. */
  unsendable = 0;
  /** Templates that got at least one 2xx: how deep the walk got, not only how wide. */
  readonly succeeded = new Set<string>();
  /** The slowest requests, for the summary (in process they include waiting behind the other workers). */
  readonly slowest: { ms: number; what: string }[] = [];
  timed(req: HostileRequest, ms: number) {
    if (this.slowest.length >= 5 && ms <= this.slowest[this.slowest.length - 1]!.ms) return;
    this.slowest.push({ ms, what: `${req.method} ${req.path.slice(0, 80)} [${req.kind.slice(0, 60)}]` });
    this.slowest.sort((a, b) => b.ms - a.ms);
    this.slowest.length = Math.min(this.slowest.length, 5);
  }
  record(req: HostileRequest, a: Answer) {
    this.requests++;
    if (a.status < 300) this.succeeded.add(req.template);
    this.statuses.set(a.status, (this.statuses.get(a.status) ?? 0) + 1);
    const problem = judge(req, a);
    if (problem) this.failures.push({ req, answer: a, problem });
  }
  histogram(): string {
    return [...this.statuses.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ');
  }
}

/** RSS sampled on a timer and on demand; peak is the largest sample. */
export class RssMeter {
  readonly before = process.memoryUsage().rss;
  peak = this.before;
  private timer = setInterval(() => this.sample(), 50);
  constructor() {
    this.timer.unref();
  }
  last = this.before;
  sample() {
    const rss = (this.last = process.memoryUsage().rss);
    if (rss > this.peak) this.peak = rss;
    return rss;
  }
  stop() {
    clearInterval(this.timer);
    return this.sample();
  }
}

let gc: (() => void) | undefined;
/** A full collection, without needing node --expose-gc on the command line. */
export function fullGc() {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
