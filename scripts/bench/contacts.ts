// Contacts written per second: the batch endpoint against one-by-one calls and
// against a hand-written multi-row INSERT of the same rows (the floor).
//
// Every method writes into its own fresh WAL database file, and the methods take
// turns: step k sends the k-th 1,000 contacts of each method, in an order that
// rotates with k. Each method's time is the sum of its own steps, so load from
// other processes on the machine falls on all methods alike and the ratios hold
// even when the absolute figures move.
//
//   BENCH_CONTACTS            distinct contacts per method (default 20,000)
//   BENCH_CONTACTS_SINGLE     contacts for the one-by-one method (default min(N, 5,000))
//   BENCH_ROWS_PER_STATEMENT  rows per plain INSERT statement (default 250)
//   BENCH_KEEP=1              keep the temp databases
import type { Client, InStatement } from '@libsql/client';
import { MAX_BATCH, upsertContacts } from '../../api/core/contacts/upsert';
import {
  databaseBytes,
  envInt,
  fmtBytes,
  fmtInt,
  fmtMs,
  latency,
  machine,
  now,
  openApp,
  openDatabase,
  table,
  tempDir,
  writeResults,
  type BenchApp,
  type Latency,
} from './lib';

const NAME = 'contacts';
const N = envInt('BENCH_CONTACTS', 20_000);
const SINGLE_N = envInt('BENCH_CONTACTS_SINGLE', Math.min(N, 5_000));
const ROWS_PER_STATEMENT = envInt('BENCH_ROWS_PER_STATEMENT', 250);
const BATCH = MAX_BATCH;
const WARMUP = Math.min(N, 2_000);

const PLANS = ['free', 'pro', 'enterprise'] as const;
const TAG_COUNT = 20;

interface ContactBody {
  email: string;
  first_name: string;
  last_name: string;
  fields: { plan: string };
  tags: string[];
}

// Mixed-case emails so matching on the normalised email is exercised; `round` 1
// changes the name and the plan so the update path has something to write.
function contact(i: number, round = 0): ContactBody {
  return {
    email: `Bench.User${i}@Example.com`,
    first_name: round ? `Renamed${i}` : `First${i}`,
    last_name: `Last${i}`,
    fields: { plan: PLANS[(i + round) % PLANS.length]! },
    tags: [`segment ${i % TAG_COUNT}`],
  };
}

function chunks<T>(xs: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => from + k);
}

async function createPlanField(b: BenchApp) {
  const res = await b.post('/api/v1/fields', JSON.stringify({ key: 'plan', label: 'Plan', type: 'select', options: [...PLANS] }));
  if (res.status !== 201) throw new Error(`creating the plan field answered ${res.status}: ${await res.text()}`);
}

/**
 * Checks the table holds exactly the expected contacts: count, no duplicate
 * normalised email, and every row's values (and tag, when `tags`) as sent.
 */
async function verify(client: Client, ids: number[], round: number, opts: { tags: boolean }): Promise<string[]> {
  const problems: string[] = [];
  const [count, dups] = await client.batch(
    [
      'SELECT count(*) AS n FROM contacts',
      'SELECT count(*) AS n FROM (SELECT email_normalized FROM contacts GROUP BY email_normalized HAVING count(*) > 1 OR email_normalized IS NULL)',
    ],
    'read',
  );
  const n = Number(count!.rows[0]!.n);
  if (n !== ids.length) problems.push(`count(*) is ${n}, expected ${ids.length}`);
  const d = Number(dups!.rows[0]!.n);
  if (d !== 0) problems.push(`${d} email_normalized values are duplicated or NULL`);

  const rows = (
    await client.execute(`SELECT c.email, c.email_normalized, c.first_name, c.last_name, json_extract(c.custom, '$.plan') AS plan,
        (SELECT group_concat(t.name, '|') FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = c.id) AS tags
      FROM contacts c`)
  ).rows;
  const expected = new Map(ids.map((i) => [contact(i, round).email.toLowerCase(), contact(i, round)]));
  let wrong = 0;
  let example = '';
  for (const r of rows) {
    const e = expected.get(String(r.email_normalized));
    const tags = r.tags === null ? '' : String(r.tags);
    const ok =
      e !== undefined &&
      r.email === e.email &&
      r.first_name === e.first_name &&
      r.last_name === e.last_name &&
      r.plan === e.fields.plan &&
      (!opts.tags || tags === e.tags.join('|'));
    if (!ok) {
      wrong++;
      example ||= `${JSON.stringify(r)} vs ${JSON.stringify(e ?? null)}`;
    }
    expected.delete(String(r.email_normalized));
  }
  if (wrong) problems.push(`${wrong} rows differ from what was sent, e.g. ${example}`);
  if (expected.size) problems.push(`${expected.size} contacts are missing`);
  if (opts.tags) {
    const t = Number((await client.execute('SELECT count(*) AS n FROM tags')).rows[0]!.n);
    const expectTags = Math.min(TAG_COUNT, ids.length);
    if (t !== expectTags) problems.push(`tags has ${t} rows, expected ${expectTags}`);
  }
  return problems;
}

/**
 * One method on its own database: a list of timed steps (payloads are built
 * before timing), the duration of every call inside them, and a check of the
 * database afterwards.
 */
interface Lane {
  key: Key;
  contacts: number;
  /** n = contacts the step writes. */
  steps: { n: number; run: () => Promise<void> }[];
  /** Contacts per second of each step, in step order. */
  stepRates: number[];
  /** Each HTTP request, core call or write transaction. */
  calls: number[];
  ms: number;
  problems: string[];
  check: () => Promise<string[]>;
  path: string;
  /** Database file + WAL after the lane finished. */
  dbBytes: number;
}

const METHODS = {
  a: 'batch endpoint, new contacts',
  b: 'one-by-one endpoint, new contacts',
  c: 'plain INSERT (contacts only)',
  'c+': 'plain INSERT incl. tags',
  core: 'upsertContacts() direct (diagnostic)',
  d: 'batch endpoint, all existing (update)',
  "a'": 'batch endpoint, new contacts (paired with d)',
} as const;
type Key = keyof typeof METHODS;

function lane(key: Key, contacts: number, path: string, check: () => Promise<string[]>): Lane {
  return { key, contacts, steps: [], stepRates: [], calls: [], ms: 0, problems: [], check, path, dbBytes: 0 };
}

/** (a), (a′) and (d): POST /api/v1/contacts/batch, 1,000 contacts per call. */
function batchLane(key: Key, b: BenchApp, ids: number[], round: number): Lane {
  const l = lane(key, ids.length, b.path, async () => {
    const want = round === 0 ? { created: ids.length, updated: 0 } : { created: 0, updated: ids.length };
    const said = created !== want.created || updated !== want.updated;
    return [
      ...(said ? [`responses said created ${created}, updated ${updated}; expected ${want.created} and ${want.updated}`] : []),
      ...(await verify(b.client, ids, round, { tags: true })),
    ];
  });
  let created = 0;
  let updated = 0;
  for (const ch of chunks(ids, BATCH)) {
    const body = JSON.stringify({ contacts: ch.map((i) => contact(i, round)) });
    l.steps.push({ n: ch.length, run: async () => {
      const t = now();
      const res = await b.post('/api/v1/contacts/batch', body);
      const text = await res.text();
      l.calls.push(now() - t);
      if (res.status !== 200) throw new Error(`${key}: batch answered ${res.status}: ${text.slice(0, 500)}`);
      const out = JSON.parse(text) as { created: number; updated: number; rejected: number };
      if (out.rejected) throw new Error(`${key}: batch rejected ${out.rejected} rows: ${text.slice(0, 500)}`);
      created += out.created;
      updated += out.updated;
    } });
  }
  return l;
}

/** (b): POST /api/v1/contacts, one contact per call, spread over `steps` steps. */
function singleLane(key: Key, b: BenchApp, ids: number[], steps: number): Lane {
  const l = lane(key, ids.length, b.path, () => verify(b.client, ids, 0, { tags: true }));
  for (const ch of chunks(ids, Math.ceil(ids.length / steps))) {
    const bodies = ch.map((i) => JSON.stringify(contact(i)));
    l.steps.push({ n: ch.length, run: async () => {
      for (const body of bodies) {
        const t = now();
        const res = await b.post('/api/v1/contacts', body);
        const text = await res.text();
        l.calls.push(now() - t);
        if (res.status !== 201) throw new Error(`${key}: POST /contacts answered ${res.status}: ${text.slice(0, 500)}`);
      }
    } });
  }
  return l;
}

/** The core function without HTTP: separates routing, auth, zod and JSON from the SQL work. */
function coreLane(key: Key, b: BenchApp, ids: number[]): Lane {
  const l = lane(key, ids.length, b.path, () => verify(b.client, ids, 0, { tags: true }));
  for (const ch of chunks(ids, BATCH)) {
    const rows = ch.map((i) => contact(i));
    l.steps.push({ n: rows.length, run: async () => {
      const t = now();
      const out = await upsertContacts({ ctx: b.ctx, input: { rows } });
      l.calls.push(now() - t);
      if (out.created !== rows.length) throw new Error(`${key}: upsertContacts created ${out.created} of ${rows.length}`);
    } });
  }
  return l;
}

const CONTACT_COLUMNS = 'email, email_normalized, first_name, last_name, custom, created_at, updated_at';
const contactValues = (rows: number[]) => rows.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ');
const contactArgs = (rows: number[], at: number) =>
  rows.flatMap((i) => {
    const c = contact(i);
    return [c.email, c.email.trim().toLowerCase(), c.first_name, c.last_name, JSON.stringify(c.fields), at, at];
  });

/** (c): the floor. Multi-row INSERT ... VALUES statements, 1,000 rows per write transaction (client.batch). */
function plainLane(key: Key, client: Client, path: string, ids: number[]): Lane {
  const l = lane(key, ids.length, path, () => verify(client, ids, 0, { tags: false }));
  const at = Date.now();
  for (const batch of chunks(ids, BATCH)) {
    const stmts: InStatement[] = chunks(batch, ROWS_PER_STATEMENT).map((rows) => ({
      sql: `INSERT INTO contacts (${CONTACT_COLUMNS}) VALUES ${contactValues(rows)}`,
      args: contactArgs(rows, at),
    }));
    l.steps.push({ n: batch.length, run: async () => {
      const t = now();
      await client.batch(stmts, 'write');
      l.calls.push(now() - t);
    } });
  }
  return l;
}

/**
 * (c+): the floor with tags, hand-written: per 1,000 rows one write transaction
 * that inserts the tag names, reads their ids, inserts the contacts with
 * RETURNING id and links them with multi-row INSERTs into contact_tags.
 */
function plainTagsLane(key: Key, client: Client, path: string, ids: number[]): Lane {
  const l = lane(key, ids.length, path, () => verify(client, ids, 0, { tags: true }));
  const at = Date.now();
  for (const batch of chunks(ids, BATCH)) {
    const names = [...new Set(batch.map((i) => contact(i).tags[0]!))];
    const tags = {
      sql: `INSERT INTO tags (name, created_at) VALUES ${names.map(() => '(?, ?)').join(', ')} ON CONFLICT(name) DO NOTHING`,
      args: names.flatMap((t) => [t, at]),
    };
    const tagIds = { sql: `SELECT id, name FROM tags WHERE name IN (${names.map(() => '?').join(', ')})`, args: names };
    const parts = chunks(batch, ROWS_PER_STATEMENT).map((rows) => ({
      insert: {
        sql: `INSERT INTO contacts (${CONTACT_COLUMNS}) VALUES ${contactValues(rows)} RETURNING id, email_normalized`,
        args: contactArgs(rows, at),
      },
      linkSql: `INSERT INTO contact_tags (contact_id, tag_id, created_at) VALUES ${rows.map(() => '(?, ?, ?)').join(', ')}`,
      tagOf: new Map(rows.map((i) => [contact(i).email.toLowerCase(), contact(i).tags[0]!])),
    }));
    l.steps.push({ n: batch.length, run: async () => {
      const t = now();
      const tx = await client.transaction('write');
      try {
        await tx.execute(tags);
        const tagId = new Map((await tx.execute(tagIds)).rows.map((r) => [String(r.name), Number(r.id)]));
        for (const p of parts) {
          const made = await tx.execute(p.insert);
          const args = made.rows.flatMap((r) => [Number(r.id), tagId.get(p.tagOf.get(String(r.email_normalized))!)!, at]);
          await tx.execute({ sql: p.linkSql, args });
        }
        await tx.commit();
      } finally {
        tx.close();
      }
      l.calls.push(now() - t);
    } });
  }
  return l;
}

// Collects the garbage left by the previous step (run.mjs starts Node with
// --expose-gc) so no method pays for another's allocations.
function settle() {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Runs the lanes' steps in turns, rotating the order each step; a lane's time is the sum of its steps. */
async function interleave(lanes: Lane[], label: string | null) {
  const steps = Math.max(...lanes.map((l) => l.steps.length));
  const marks = new Set([Math.ceil(steps / 4), Math.ceil(steps / 2), Math.ceil((3 * steps) / 4)]);
  for (let k = 0; k < steps; k++) {
    const order = [...lanes.slice(k % lanes.length), ...lanes.slice(0, k % lanes.length)];
    for (const l of order) {
      const step = l.steps[k];
      if (!step) continue;
      settle();
      const t = now();
      await step.run();
      const ms = now() - t;
      l.ms += ms;
      l.stepRates.push(step.n / (ms / 1000));
    }
    if (label && marks.has(k + 1)) {
      const so = lanes.map((l) => {
        const done = l.steps.slice(0, k + 1).reduce((n, st) => n + st.n, 0);
        return `${l.key} ${fmtInt(done / (l.ms / 1000))}/s`;
      });
      console.log(`    ${label} step ${k + 1}/${steps}: ${so.join(', ')}`);
    }
  }
  for (const l of lanes) {
    l.problems = await l.check();
    l.dbBytes = databaseBytes(l.path);
    if (!label) continue;
    const verdict = l.problems.length ? `FAILED: ${l.problems.join('; ')}` : 'verified';
    console.log(`  ${l.key.padEnd(4)} ${METHODS[l.key].padEnd(44)} ${fmtInt(l.contacts).padStart(6)} in ${fmtMs(l.ms).padStart(8)} = ${fmtInt(l.contacts / (l.ms / 1000)).padStart(7)}/s, ${verdict}`);
  }
}

interface MethodResult {
  key: Key;
  method: string;
  contacts: number;
  /** Sum of this method's steps. */
  ms: number;
  /** contacts ÷ ms: what the method delivered, stalls included. */
  per_second: number;
  /** Median of the steps' rates: the steady rate, with stalls from other processes left out. */
  per_second_median_step: number;
  /** Contacts per second of each step, in order. */
  step_rates: number[];
  calls: number;
  latency_ms: Latency;
  /** Mean of the first and of the last 10% of calls: growth means work that scales with table size. */
  first_tenth_ms: number;
  last_tenth_ms: number;
  db_bytes: number;
  verified: boolean;
  problems: string[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * x's rate over y's: the median of the per-step ratios, each from two steps run
 * back to back (paired), and for reference the ratio of the totals.
 */
function compare(x: Lane, y: Lane): { paired: number; totals: number } {
  const k = Math.min(x.stepRates.length, y.stepRates.length);
  const r3 = (v: number) => Math.round(v * 1000) / 1000;
  return {
    paired: r3(median(x.stepRates.slice(0, k).map((v, i) => v / y.stepRates[i]!))),
    totals: r3(x.contacts / x.ms / (y.contacts / y.ms)),
  };
}

function summarize(l: Lane): MethodResult {
  const k = Math.max(1, Math.floor(l.calls.length / 10));
  const mean = (xs: number[]) => Math.round((xs.reduce((x, y) => x + y, 0) / xs.length) * 1000) / 1000;
  return {
    key: l.key,
    method: METHODS[l.key],
    contacts: l.contacts,
    ms: Math.round(l.ms * 10) / 10,
    per_second: Math.round(l.contacts / (l.ms / 1000)),
    per_second_median_step: Math.round(median(l.stepRates)),
    step_rates: l.stepRates.map((r) => Math.round(r)),
    calls: l.calls.length,
    latency_ms: latency(l.calls),
    first_tenth_ms: mean(l.calls.slice(0, k)),
    last_tenth_ms: mean(l.calls.slice(-k)),
    db_bytes: l.dbBytes,
    verified: l.problems.length === 0,
    problems: l.problems,
  };
}

async function main() {
  const started = new Date();
  const tmp = tempDir(NAME);
  const all = range(1, N);
  const steps = Math.ceil(N / BATCH);
  const apps: BenchApp[] = [];
  const dbs: Client[] = [];
  const app = async (file: string) => {
    const b = await openApp(tmp.dir, file);
    await createPlanField(b);
    apps.push(b);
    return b;
  };
  const db = async (file: string) => {
    const d = await openDatabase(tmp.dir, file);
    dbs.push(d.client);
    return d;
  };
  const lanes: Lane[] = [];

  console.log(
    `contacts benchmark: N=${fmtInt(N)} (one-by-one ${fmtInt(SINGLE_N)}), batches of ${BATCH}, ` +
      `plain INSERT ${ROWS_PER_STATEMENT} rows/statement, methods interleaved in ${steps} steps`,
  );
  console.log(`  fresh WAL database files under ${tmp.dir}; ${machine().cpus} CPUs, Node ${process.version}`);
  try {
    // Untimed: lets the JIT compile every path first, so whichever method runs
    // first is not charged for it.
    console.log(`  warm-up (${fmtInt(WARMUP)} contacts per method, untimed)`);
    {
      const ids = range(1, WARMUP);
      const w = await app('warmup-batch.db');
      const ws = await app('warmup-single.db');
      const wk = await app('warmup-core.db');
      const wp = await db('warmup-plain.db');
      const wt = await db('warmup-plain-tags.db');
      const ws2 = Math.ceil(WARMUP / BATCH);
      await interleave(
        [
          batchLane('a', w, ids, 0),
          singleLane('b', ws, range(1, Math.min(300, SINGLE_N)), ws2),
          coreLane('core', wk, ids),
          plainLane('c', wp.client, wp.path, ids),
          plainTagsLane('c+', wt.client, wt.path, ids),
        ],
        null,
      );
      await interleave([batchLane('d', w, ids, 1)], null);
    }

    console.log(`\n  phase 1: a, b, c, c+, core take turns, each on its own new database`);
    const a = await app('batch.db');
    const p1 = [
      batchLane('a', a, all, 0),
      singleLane('b', await app('single.db'), range(1, SINGLE_N), steps),
      await db('plain.db').then((d) => plainLane('c', d.client, d.path, all)),
      await db('plain-tags.db').then((d) => plainTagsLane('c+', d.client, d.path, all)),
      coreLane('core', await app('core.db'), all),
    ];
    await interleave(p1, 'phase 1');
    lanes.push(...p1);

    // d re-sends every email to a's database; a′ repeats a on a new database
    // beside it, so the update ÷ insert ratio is measured under the same load.
    console.log(`\n  phase 2: d (same emails again, on a's database) and a' (a again, new database) take turns`);
    const p2 = [batchLane('d', a, all, 1), batchLane("a'", await app('batch-2.db'), all, 0)];
    await interleave(p2, 'phase 2');
    lanes.push(...p2);
  } finally {
    for (const b of apps) b.close();
    for (const c of dbs) c.close();
    tmp.cleanup();
  }

  const results = lanes.map(summarize);
  const laneOf = (k: Key) => lanes.find((l) => l.key === k)!;
  const ratios = {
    batch_over_plain_insert: compare(laneOf('a'), laneOf('c')),
    batch_over_plain_insert_with_tags: compare(laneOf('a'), laneOf('c+')),
    batch_over_one_by_one: compare(laneOf('a'), laneOf('b')),
    update_over_insert_batch: compare(laneOf('d'), laneOf("a'")),
    core_over_plain_insert_with_tags: compare(laneOf('core'), laneOf('c+')),
    batch_over_core: compare(laneOf('a'), laneOf('core')),
  };
  const failures = results.filter((r) => !r.verified).map((r) => `${r.key} ${r.method}: ${r.problems.join('; ')}`);

  console.log(`\n  Summary (p50/p95 per HTTP request, core call or write transaction)\n`);
  console.log(
    table(
      ['method', 'contacts', 'time', 'contacts/s', 'median step /s', 'p50', 'p95', 'first→last 10%', 'db size', 'check'],
      results.map((r) => [
        `${r.key.padEnd(5)} ${r.method}`,
        fmtInt(r.contacts),
        fmtMs(r.ms),
        fmtInt(r.per_second),
        fmtInt(r.per_second_median_step),
        fmtMs(r.latency_ms.p50),
        fmtMs(r.latency_ms.p95),
        `${fmtMs(r.first_tenth_ms)}→${fmtMs(r.last_tenth_ms)}`,
        fmtBytes(r.db_bytes),
        r.verified ? 'ok' : 'FAILED',
      ]),
    ),
  );
  console.log('');
  const row = (label: string, r: { paired: number; totals: number }) => [label, `${r.paired}×`, `${r.totals}×`];
  console.log(
    table(
      ['ratio of contacts/s', 'paired steps (median)', 'from totals'],
      [
        row('batch ÷ plain INSERT (a/c)', ratios.batch_over_plain_insert),
        row('batch ÷ plain INSERT incl. tags (a/c+)', ratios.batch_over_plain_insert_with_tags),
        row('batch ÷ one-by-one (a/b)', ratios.batch_over_one_by_one),
        row("update batch ÷ insert batch (d/a')", ratios.update_over_insert_batch),
        row('core upsert ÷ plain INSERT incl. tags (core/c+)', ratios.core_over_plain_insert_with_tags),
        row('batch endpoint ÷ core upsert (a/core): HTTP, auth, zod, JSON', ratios.batch_over_core),
      ],
    ),
  );
  const stalls = results.filter((r) => r.per_second < 0.8 * r.per_second_median_step).map((r) => r.key);
  if (stalls.length) {
    console.log(
      `\n  note: ${stalls.join(', ')} lost over 20% to stalls (total rate well under the median step's), likely other load on the machine; the paired ratios discount it.`,
    );
  }

  const file = writeResults(NAME, {
    benchmark: NAME,
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    machine: machine(),
    params: {
      contacts: N,
      contacts_one_by_one: SINGLE_N,
      batch_size: BATCH,
      rows_per_statement: ROWS_PER_STATEMENT,
      interleaved_steps: steps,
      warmup: WARMUP,
      database: 'fresh libSQL file per method, prepareDatabase (WAL, synchronous=NORMAL, real migrations)',
    },
    results,
    ratios,
    ok: failures.length === 0,
    failures,
  });
  console.log(`\n  results: ${file}`);
  if (failures.length) {
    console.error(`\n  ${failures.length} method(s) failed verification:\n  - ${failures.join('\n  - ')}`);
    process.exitCode = 1;
  }
}

await main();
