// Contacts written per second: the batch endpoint against one-by-one calls and
// against a hand-written multi-row INSERT of the same rows (the floor), each on
// its own fresh WAL database file, all in one process and one run so the ratios
// compare like with like.
//
//   BENCH_CONTACTS            distinct contacts per method (default 20,000)
//   BENCH_CONTACTS_SINGLE     contacts for the one-by-one method (default min(N, 5,000))
//   BENCH_ROWS_PER_STATEMENT  rows per plain INSERT statement (default 250)
//   BENCH_ROUNDS              rounds, each on fresh databases; the median is reported (default 3)
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
const ROUNDS = envInt('BENCH_ROUNDS', 3);
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

/** One timed pass of one method on its own fresh database. */
interface Run {
  ms: number;
  /** Duration of each HTTP request or each write transaction. */
  calls: number[];
  problems: string[];
  dbBytes: number;
}

interface MethodResult {
  key: string;
  method: string;
  contacts: number;
  /** Median over the rounds; each round is a fresh database. */
  ms: number;
  per_second: number;
  per_second_rounds: number[];
  per_second_min: number;
  per_second_max: number;
  calls_per_round: number;
  /** Over the calls of all rounds. */
  latency_ms: Latency;
  /** Mean of the first and of the last 10% of calls: growth means work that scales with table size. */
  first_tenth_ms: number;
  last_tenth_ms: number;
  db_bytes: number;
  verified: boolean;
  problems: string[];
}

const failures: string[] = [];

function chunks<T>(xs: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => from + k);
}

// Progress lines are left out during the warm-up.
let quiet = false;

function progress(label: string, total: number) {
  if (quiet) return (_done: number) => {};
  const marks = [0.25, 0.5, 0.75];
  let next = 0;
  const t0 = now();
  return (done: number) => {
    while (next < marks.length && done >= total * marks[next]!) {
      const s = (now() - t0) / 1000;
      console.log(`    ${label}: ${fmtInt(done)}/${fmtInt(total)}  ${fmtInt(done / s)}/s so far`);
      next++;
    }
  };
}

function tenths(ms: number[]): { first: number; last: number } {
  const k = Math.max(1, Math.floor(ms.length / 10));
  const mean = (xs: number[]) => Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 1000) / 1000;
  return { first: mean(ms.slice(0, k)), last: mean(ms.slice(-k)) };
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

/** (a) and (d): POST /api/v1/contacts/batch, 1,000 per call, calls one after another. */
async function viaBatchEndpoint(b: BenchApp, ids: number[], round: number): Promise<Run> {
  const bodies = chunks(ids, BATCH).map((ch) => JSON.stringify({ contacts: ch.map((i) => contact(i, round)) }));
  const calls: number[] = [];
  const problems: string[] = [];
  let created = 0;
  let updated = 0;
  settle();
  const t0 = now();
  for (const body of bodies) {
    const t = now();
    const res = await b.post('/api/v1/contacts/batch', body);
    const text = await res.text();
    calls.push(now() - t);
    if (res.status !== 200) throw new Error(`batch answered ${res.status}: ${text.slice(0, 500)}`);
    const out = JSON.parse(text) as { created: number; updated: number; rejected: number };
    if (out.rejected) throw new Error(`batch rejected ${out.rejected} rows: ${text.slice(0, 500)}`);
    created += out.created;
    updated += out.updated;
  }
  const ms = now() - t0;
  const want = round === 0 ? { created: ids.length, updated: 0 } : { created: 0, updated: ids.length };
  if (created !== want.created || updated !== want.updated) {
    problems.push(`responses said created ${created}, updated ${updated}; expected created ${want.created}, updated ${want.updated}`);
  }
  problems.push(...(await verify(b.client, ids, round, { tags: true })));
  return { ms, calls, problems, dbBytes: databaseBytes(b.path) };
}

/** (b): POST /api/v1/contacts, one contact per call. */
async function viaSingleEndpoint(b: BenchApp, ids: number[], opts: { check: boolean }): Promise<Run> {
  const bodies = ids.map((i) => JSON.stringify(contact(i)));
  const calls: number[] = [];
  const tick = progress('one by one', ids.length);
  let done = 0;
  settle();
  const t0 = now();
  for (const body of bodies) {
    const t = now();
    const res = await b.post('/api/v1/contacts', body);
    const text = await res.text();
    calls.push(now() - t);
    if (res.status !== 201) throw new Error(`POST /contacts answered ${res.status}: ${text.slice(0, 500)}`);
    tick(++done);
  }
  const ms = now() - t0;
  const problems = opts.check ? await verify(b.client, ids, 0, { tags: true }) : [];
  return { ms, calls, problems, dbBytes: databaseBytes(b.path) };
}

/** Diagnostic: the core function without HTTP, which separates routing, auth, zod and JSON from the SQL work. */
async function viaCore(b: BenchApp, ids: number[]): Promise<Run> {
  const groups = chunks(ids, BATCH).map((ch) => ch.map((i) => contact(i)));
  const calls: number[] = [];
  settle();
  const t0 = now();
  for (const rows of groups) {
    const t = now();
    const out = await upsertContacts({ ctx: b.ctx, input: { rows } });
    calls.push(now() - t);
    if (out.created !== rows.length) throw new Error(`core upsert created ${out.created} of ${rows.length}`);
  }
  const ms = now() - t0;
  return { ms, calls, problems: await verify(b.client, ids, 0, { tags: true }), dbBytes: databaseBytes(b.path) };
}

const CONTACT_COLUMNS = 'email, email_normalized, first_name, last_name, custom, created_at, updated_at';
const contactValues = (rows: number[]) => rows.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ');
const contactArgs = (rows: number[], at: number) =>
  rows.flatMap((i) => {
    const c = contact(i);
    return [c.email, c.email.trim().toLowerCase(), c.first_name, c.last_name, JSON.stringify(c.fields), at, at];
  });

/**
 * (c): the floor. The same rows as multi-row INSERT ... VALUES statements,
 * 1,000 rows per write transaction (client.batch).
 */
async function viaPlainInsert(client: Client, path: string, ids: number[]): Promise<Run> {
  const at = Date.now();
  const batches: InStatement[][] = chunks(ids, BATCH).map((batch) =>
    chunks(batch, ROWS_PER_STATEMENT).map((rows) => ({
      sql: `INSERT INTO contacts (${CONTACT_COLUMNS}) VALUES ${contactValues(rows)}`,
      args: contactArgs(rows, at),
    })),
  );
  const calls: number[] = [];
  settle();
  const t0 = now();
  for (const stmts of batches) {
    const t = now();
    await client.batch(stmts, 'write');
    calls.push(now() - t);
  }
  const ms = now() - t0;
  return { ms, calls, problems: await verify(client, ids, 0, { tags: false }), dbBytes: databaseBytes(path) };
}

/**
 * (c+): the floor with tags, hand-written: per 1,000 rows one write transaction
 * that inserts the tag names, reads their ids, inserts the contacts with
 * RETURNING id and links them with multi-row INSERTs into contact_tags.
 */
async function viaPlainInsertWithTags(client: Client, path: string, ids: number[]): Promise<Run> {
  const at = Date.now();
  const batches = chunks(ids, BATCH).map((batch) => {
    const names = [...new Set(batch.map((i) => contact(i).tags[0]!))];
    return {
      tags: {
        sql: `INSERT INTO tags (name, created_at) VALUES ${names.map(() => '(?, ?)').join(', ')} ON CONFLICT(name) DO NOTHING`,
        args: names.flatMap((t) => [t, at]),
      },
      tagIds: { sql: `SELECT id, name FROM tags WHERE name IN (${names.map(() => '?').join(', ')})`, args: names },
      parts: chunks(batch, ROWS_PER_STATEMENT).map((rows) => ({
        insert: {
          sql: `INSERT INTO contacts (${CONTACT_COLUMNS}) VALUES ${contactValues(rows)} RETURNING id, email_normalized`,
          args: contactArgs(rows, at),
        },
        links: {
          sql: `INSERT INTO contact_tags (contact_id, tag_id, created_at) VALUES ${rows.map(() => '(?, ?, ?)').join(', ')}`,
          tagOf: new Map(rows.map((i) => [contact(i).email.toLowerCase(), contact(i).tags[0]!])),
        },
      })),
    };
  });
  const calls: number[] = [];
  settle();
  const t0 = now();
  for (const b of batches) {
    const t = now();
    const tx = await client.transaction('write');
    try {
      await tx.execute(b.tags);
      const tagId = new Map((await tx.execute(b.tagIds)).rows.map((r) => [String(r.name), Number(r.id)]));
      for (const { insert, links } of b.parts) {
        const made = await tx.execute(insert);
        await tx.execute({
          sql: links.sql,
          args: made.rows.flatMap((r) => [Number(r.id), tagId.get(links.tagOf.get(String(r.email_normalized))!)!, at]),
        });
      }
      await tx.commit();
    } finally {
      tx.close();
    }
    calls.push(now() - t);
  }
  const ms = now() - t0;
  return { ms, calls, problems: await verify(client, ids, 0, { tags: true }), dbBytes: databaseBytes(path) };
}

// Collects garbage left by the previous method (run.mjs starts Node with
// --expose-gc) so no method pays for another's allocations.
function settle() {
  (globalThis as { gc?: () => void }).gc?.();
}

const METHODS = {
  a: { method: 'batch endpoint, new contacts', contacts: N },
  d: { method: 'batch endpoint, all existing (update)', contacts: N },
  b: { method: 'one-by-one endpoint', contacts: SINGLE_N },
  c: { method: 'plain INSERT (contacts only)', contacts: N },
  'c+': { method: 'plain INSERT incl. tags', contacts: N },
  core: { method: 'upsertContacts() direct (diagnostic)', contacts: N },
} as const;
type Key = keyof typeof METHODS;

function summarize(key: Key, runs: Run[]): MethodResult {
  const { method, contacts } = METHODS[key];
  const rates = runs.map((r) => Math.round(contacts / (r.ms / 1000)));
  const medianIndex = (xs: number[]) => {
    const order = xs.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
    return order[Math.floor((order.length - 1) / 2)]![1];
  };
  const mid = runs[medianIndex(rates)]!;
  const t = runs.map((r) => tenths(r.calls));
  const mean = (xs: number[]) => Math.round((xs.reduce((x, y) => x + y, 0) / xs.length) * 1000) / 1000;
  const problems = runs.flatMap((r, i) => r.problems.map((p) => `round ${i + 1}: ${p}`));
  return {
    key,
    method,
    contacts,
    ms: Math.round(mid.ms * 10) / 10,
    per_second: Math.round(contacts / (mid.ms / 1000)),
    per_second_rounds: rates,
    per_second_min: Math.min(...rates),
    per_second_max: Math.max(...rates),
    calls_per_round: mid.calls.length,
    latency_ms: latency(runs.flatMap((r) => r.calls)),
    first_tenth_ms: mean(t.map((x) => x.first)),
    last_tenth_ms: mean(t.map((x) => x.last)),
    db_bytes: mid.dbBytes,
    verified: problems.length === 0,
    problems,
  };
}

async function main() {
  const started = new Date();
  const tmp = tempDir(NAME);
  const all = range(1, N);
  const single = range(1, SINGLE_N);
  const runs = new Map<Key, Run[]>(Object.keys(METHODS).map((k) => [k as Key, []]));
  const record = (key: Key, round: number, r: Run) => {
    runs.get(key)!.push(r);
    const verdict = r.problems.length ? `FAILED: ${r.problems.join('; ')}` : 'verified';
    const n = METHODS[key].contacts;
    console.log(`  ${`${key}`.padEnd(4)} ${METHODS[key].method.padEnd(38)} ${fmtInt(n)} in ${fmtMs(r.ms)} = ${fmtInt(n / (r.ms / 1000))}/s, ${verdict}`);
    if (r.problems.length) failures.push(`round ${round + 1} ${key} ${METHODS[key].method}: ${r.problems.join('; ')}`);
  };

  // Each unit runs on fresh database files; (d) re-sends the same emails to (a)'s database.
  const units: { name: string; run: (round: number) => Promise<void> }[] = [
    {
      name: 'a+d',
      run: async (round) => {
        const a = await openApp(tmp.dir, `batch-${round}.db`);
        await createPlanField(a);
        record('a', round, await viaBatchEndpoint(a, all, 0));
        record('d', round, await viaBatchEndpoint(a, all, 1));
        a.close();
      },
    },
    {
      name: 'b',
      run: async (round) => {
        const b = await openApp(tmp.dir, `single-${round}.db`);
        await createPlanField(b);
        record('b', round, await viaSingleEndpoint(b, single, { check: true }));
        b.close();
      },
    },
    {
      name: 'c',
      run: async (round) => {
        const p = await openDatabase(tmp.dir, `plain-${round}.db`);
        record('c', round, await viaPlainInsert(p.client, p.path, all));
        p.client.close();
      },
    },
    {
      name: 'c+',
      run: async (round) => {
        const p = await openDatabase(tmp.dir, `plain-tags-${round}.db`);
        record('c+', round, await viaPlainInsertWithTags(p.client, p.path, all));
        p.client.close();
      },
    },
    {
      name: 'core',
      run: async (round) => {
        const k = await openApp(tmp.dir, `core-${round}.db`);
        await createPlanField(k);
        record('core', round, await viaCore(k, all));
        k.close();
      },
    },
  ];

  console.log(
    `contacts benchmark: N=${fmtInt(N)} (one-by-one ${fmtInt(SINGLE_N)}), batches of ${BATCH}, ` +
      `plain INSERT ${ROWS_PER_STATEMENT} rows/statement, ${ROUNDS} round(s), median reported`,
  );
  console.log(`  fresh WAL database files under ${tmp.dir}; ${machine().cpus} CPUs, Node ${process.version}`);
  try {
    // Untimed: lets the JIT compile the request path and the SQL paths first, so
    // whichever method runs first is not charged for it.
    console.log(`  warm-up (${fmtInt(WARMUP)} contacts per method, untimed)`);
    quiet = true;
    {
      const w = await openApp(tmp.dir, 'warmup.db');
      await createPlanField(w);
      const ids = range(1, WARMUP);
      await viaBatchEndpoint(w, ids, 0);
      await viaBatchEndpoint(w, ids, 1);
      await viaCore(w, range(WARMUP + 1, WARMUP));
      await viaSingleEndpoint(w, range(2 * WARMUP + 1, Math.min(300, SINGLE_N)), { check: false });
      w.close();
      for (const [file, fn] of [
        ['warmup-plain.db', viaPlainInsert],
        ['warmup-plain-tags.db', viaPlainInsertWithTags],
      ] as const) {
        const p = await openDatabase(tmp.dir, file);
        await fn(p.client, p.path, ids);
        p.client.close();
      }
    }
    quiet = false;

    // The order rotates from round to round so no method always runs first or last.
    for (let round = 0; round < ROUNDS; round++) {
      const order = [...units.slice(round % units.length), ...units.slice(0, round % units.length)];
      console.log(`\n  round ${round + 1}/${ROUNDS} (${order.map((u) => u.name).join(', ')})`);
      for (const u of order) await u.run(round);
    }
  } finally {
    tmp.cleanup();
  }

  const results = (Object.keys(METHODS) as Key[]).map((k) => summarize(k, runs.get(k)!));
  const by = (k: Key) => results.find((r) => r.key === k)!;
  const ratio = (x: number, y: number) => Math.round((x / y) * 1000) / 1000;
  const ratios = {
    batch_over_plain_insert: ratio(by('a').per_second, by('c').per_second),
    batch_over_plain_insert_with_tags: ratio(by('a').per_second, by('c+').per_second),
    batch_over_one_by_one: ratio(by('a').per_second, by('b').per_second),
    update_over_insert_batch: ratio(by('d').per_second, by('a').per_second),
    core_over_plain_insert_with_tags: ratio(by('core').per_second, by('c+').per_second),
    http_share_of_batch_time: ratio(by('a').ms - by('core').ms, by('a').ms),
  };

  console.log(`\n  Summary: median of ${ROUNDS} round(s); p50/p95 per HTTP request or per write transaction (1,000 rows)\n`);
  console.log(
    table(
      ['method', 'contacts', 'time', 'contacts/s', 'min–max /s', 'p50', 'p95', 'first→last 10%', 'db size', 'check'],
      results.map((r) => [
        `${r.key.padEnd(5)} ${r.method}`,
        fmtInt(r.contacts),
        fmtMs(r.ms),
        fmtInt(r.per_second),
        `${fmtInt(r.per_second_min)}–${fmtInt(r.per_second_max)}`,
        fmtMs(r.latency_ms.p50),
        fmtMs(r.latency_ms.p95),
        `${fmtMs(r.first_tenth_ms)}→${fmtMs(r.last_tenth_ms)}`,
        fmtBytes(r.db_bytes),
        r.verified ? 'ok' : 'FAILED',
      ]),
    ),
  );
  console.log('');
  console.log(
    table(
      ['ratio (contacts/s)', 'value'],
      [
        ['batch ÷ plain INSERT (a/c)', `${ratios.batch_over_plain_insert}×`],
        ['batch ÷ plain INSERT incl. tags (a/c+)', `${ratios.batch_over_plain_insert_with_tags}×`],
        ['batch ÷ one-by-one (a/b)', `${ratios.batch_over_one_by_one}×`],
        ['update batch ÷ insert batch (d/a)', `${ratios.update_over_insert_batch}×`],
        ['core upsert ÷ plain INSERT incl. tags (core/c+)', `${ratios.core_over_plain_insert_with_tags}×`],
        ['share of batch time outside core (HTTP, auth, zod, JSON)', `${Math.round(ratios.http_share_of_batch_time * 100)}%`],
      ],
    ),
  );

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
      rounds: ROUNDS,
      warmup: WARMUP,
    },
    results,
    ratios,
    ok: failures.length === 0,
    failures,
  });
  console.log(`\n  results: ${file}`);
  if (failures.length) {
    console.error(`\n  ${failures.length} verification failure(s):\n  - ${failures.join('\n  - ')}`);
    process.exitCode = 1;
  }
}

await main();
