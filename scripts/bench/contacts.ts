// Contacts written per second: the batch endpoint against one-by-one calls and
// against a hand-written multi-row INSERT of the same rows (the floor), each on
// its own fresh WAL database file, all in one process and one run so the ratios
// compare like with like.
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

function finish(
  key: string,
  method: string,
  contacts: number,
  ms: number,
  calls: number[],
  path: string,
  problems: string[],
): MethodResult {
  const t = tenths(calls);
  const r: MethodResult = {
    key,
    method,
    contacts,
    ms: Math.round(ms * 10) / 10,
    per_second: Math.round(contacts / (ms / 1000)),
    calls: calls.length,
    latency_ms: latency(calls),
    first_tenth_ms: t.first,
    last_tenth_ms: t.last,
    db_bytes: databaseBytes(path),
    verified: problems.length === 0,
    problems,
  };
  const verdict = problems.length ? `FAILED: ${problems.join('; ')}` : 'verified';
  console.log(`    ${fmtInt(contacts)} contacts in ${fmtMs(ms)} = ${fmtInt(r.per_second)}/s; ${verdict}`);
  if (problems.length) failures.push(`${key} ${method}: ${problems.join('; ')}`);
  return r;
}

/** (a) and (d): POST /api/v1/contacts/batch, 1,000 per call, calls one after another. */
async function viaBatchEndpoint(b: BenchApp, ids: number[], round: number, label: string) {
  const bodies = chunks(ids, BATCH).map((ch) => ({ size: ch.length, body: JSON.stringify({ contacts: ch.map((i) => contact(i, round)) }) }));
  const calls: number[] = [];
  const tick = progress(label, ids.length);
  const problems: string[] = [];
  let created = 0;
  let updated = 0;
  let done = 0;
  const t0 = now();
  for (const { size, body } of bodies) {
    const t = now();
    const res = await b.post('/api/v1/contacts/batch', body);
    const text = await res.text();
    calls.push(now() - t);
    if (res.status !== 200) throw new Error(`batch answered ${res.status}: ${text.slice(0, 500)}`);
    const out = JSON.parse(text) as { created: number; updated: number; rejected: number };
    if (out.rejected) throw new Error(`batch rejected ${out.rejected} rows: ${text.slice(0, 500)}`);
    created += out.created;
    updated += out.updated;
    tick((done += size));
  }
  const ms = now() - t0;
  const want = round === 0 ? { created: ids.length, updated: 0 } : { created: 0, updated: ids.length };
  if (created !== want.created || updated !== want.updated) {
    problems.push(`responses said created ${created}, updated ${updated}; expected created ${want.created}, updated ${want.updated}`);
  }
  return { ms, calls, problems };
}

/** (b): POST /api/v1/contacts, one contact per call. */
async function viaSingleEndpoint(b: BenchApp, ids: number[]) {
  const bodies = ids.map((i) => JSON.stringify(contact(i)));
  const calls: number[] = [];
  const tick = progress('one by one', ids.length);
  let done = 0;
  const t0 = now();
  for (const body of bodies) {
    const t = now();
    const res = await b.post('/api/v1/contacts', body);
    const text = await res.text();
    calls.push(now() - t);
    if (res.status !== 201) throw new Error(`POST /contacts answered ${res.status}: ${text.slice(0, 500)}`);
    tick(++done);
  }
  return { ms: now() - t0, calls, problems: [] as string[] };
}

/** Core function without HTTP: separates routing, auth, zod and JSON from the SQL work. */
async function viaCore(b: BenchApp, ids: number[]) {
  const groups = chunks(ids, BATCH).map((ch) => ch.map((i) => contact(i)));
  const calls: number[] = [];
  const t0 = now();
  for (const rows of groups) {
    const t = now();
    const out = await upsertContacts({ ctx: b.ctx, input: { rows } });
    calls.push(now() - t);
    if (out.created !== rows.length) throw new Error(`core upsert created ${out.created} of ${rows.length}`);
  }
  return { ms: now() - t0, calls, problems: [] as string[] };
}

/**
 * (c): the floor. The same rows as multi-row INSERT ... VALUES statements, each
 * 1,000 rows in one write transaction. With `tags`, the tag rows and the
 * contact↔tag links are written too, also as multi-row statements.
 */
function plainStatements(ids: number[], at: number, opts: { tags: boolean }): InStatement[][] {
  return chunks(ids, BATCH).map((batch) => {
    const stmts: InStatement[] = [];
    if (opts.tags) {
      const names = [...new Set(batch.map((i) => contact(i).tags[0]!))];
      stmts.push({
        sql: `INSERT INTO tags (name, created_at) VALUES ${names.map(() => '(?, ?)').join(', ')} ON CONFLICT(name) DO NOTHING`,
        args: names.flatMap((t) => [t, at]),
      });
    }
    for (const rows of chunks(batch, ROWS_PER_STATEMENT)) {
      stmts.push({
        sql: `INSERT INTO contacts (email, email_normalized, first_name, last_name, custom, created_at, updated_at) VALUES ${rows
          .map(() => '(?, ?, ?, ?, ?, ?, ?)')
          .join(', ')}`,
        args: rows.flatMap((i) => {
          const c = contact(i);
          return [c.email, c.email.trim().toLowerCase(), c.first_name, c.last_name, JSON.stringify(c.fields), at, at];
        }),
      });
      if (opts.tags) {
        stmts.push({
          sql: `INSERT INTO contact_tags (contact_id, tag_id, created_at) VALUES ${rows
            .map(() => '((SELECT id FROM contacts WHERE email_normalized = ?), (SELECT id FROM tags WHERE name = ?), ?)')
            .join(', ')}`,
          args: rows.flatMap((i) => {
            const c = contact(i);
            return [c.email.toLowerCase(), c.tags[0]!, at];
          }),
        });
      }
    }
    return stmts;
  });
}

async function viaPlainInsert(client: Client, ids: number[], opts: { tags: boolean }, label: string) {
  const batches = plainStatements(ids, Date.now(), opts);
  const calls: number[] = [];
  const tick = progress(label, ids.length);
  let done = 0;
  const t0 = now();
  for (const stmts of batches) {
    const t = now();
    await client.batch(stmts, 'write');
    calls.push(now() - t);
    tick((done = Math.min(ids.length, done + BATCH)));
  }
  return { ms: now() - t0, calls, problems: [] as string[] };
}

async function main() {
  const started = new Date();
  const tmp = tempDir(NAME);
  const all = range(1, N);
  const single = range(1, SINGLE_N);
  const results: MethodResult[] = [];
  console.log(
    `contacts benchmark: N=${fmtInt(N)} (one-by-one ${fmtInt(SINGLE_N)}), batches of ${BATCH}, plain INSERT ${ROWS_PER_STATEMENT} rows/statement`,
  );
  console.log(`  databases: fresh WAL files under ${tmp.dir}; ${machine().cpus} CPUs, Node ${process.version}`);
  try {
    // Untimed: lets the JIT compile the request path and the SQL paths first, so
    // whichever method runs first is not charged for it.
    console.log(`  warm-up (${fmtInt(WARMUP)} contacts per method, untimed)`);
    quiet = true;
    {
      const w = await openApp(tmp.dir, 'warmup.db');
      await createPlanField(w);
      await viaBatchEndpoint(w, range(1, WARMUP), 0, 'warm-up batch');
      await viaBatchEndpoint(w, range(1, WARMUP), 1, 'warm-up update');
      await viaSingleEndpoint(w, range(WARMUP + 1, Math.min(300, SINGLE_N)));
      w.close();
      const p = await openDatabase(tmp.dir, 'warmup-plain.db');
      await viaPlainInsert(p.client, range(1, WARMUP), { tags: true }, 'warm-up plain');
      p.client.close();
    }
    quiet = false;

    console.log(`\n  (a) POST /api/v1/contacts/batch, ${fmtInt(N)} new contacts`);
    const a = await openApp(tmp.dir, 'batch.db');
    await createPlanField(a);
    {
      const r = await viaBatchEndpoint(a, all, 0, 'batch insert');
      r.problems.push(...(await verify(a.client, all, 0, { tags: true })));
      results.push(finish('a', 'batch endpoint, new contacts', N, r.ms, r.calls, a.path, r.problems));
    }

    console.log(`\n  (d) POST /api/v1/contacts/batch again on the same database: all ${fmtInt(N)} emails exist`);
    {
      const r = await viaBatchEndpoint(a, all, 1, 'batch update');
      r.problems.push(...(await verify(a.client, all, 1, { tags: true })));
      results.push(finish('d', 'batch endpoint, all existing (update)', N, r.ms, r.calls, a.path, r.problems));
    }
    a.close();

    console.log(`\n  (b) POST /api/v1/contacts one at a time, ${fmtInt(SINGLE_N)} new contacts`);
    {
      const b = await openApp(tmp.dir, 'single.db');
      await createPlanField(b);
      const r = await viaSingleEndpoint(b, single);
      r.problems.push(...(await verify(b.client, single, 0, { tags: true })));
      results.push(finish('b', 'one-by-one endpoint', SINGLE_N, r.ms, r.calls, b.path, r.problems));
      b.close();
    }

    console.log(`\n  (c) plain multi-row INSERT into contacts, ${fmtInt(N)} rows`);
    {
      const p = await openDatabase(tmp.dir, 'plain.db');
      const r = await viaPlainInsert(p.client, all, { tags: false }, 'plain insert');
      r.problems.push(...(await verify(p.client, all, 0, { tags: false })));
      results.push(finish('c', 'plain INSERT (contacts only)', N, r.ms, r.calls, p.path, r.problems));
      p.client.close();
    }

    console.log(`\n  (c+) plain multi-row INSERT into contacts, tags and contact_tags, ${fmtInt(N)} rows`);
    {
      const p = await openDatabase(tmp.dir, 'plain-tags.db');
      const r = await viaPlainInsert(p.client, all, { tags: true }, 'plain insert + tags');
      r.problems.push(...(await verify(p.client, all, 0, { tags: true })));
      results.push(finish('c+', 'plain INSERT incl. tags', N, r.ms, r.calls, p.path, r.problems));
      p.client.close();
    }

    console.log(`\n  (core) upsertContacts() called directly, no HTTP, ${fmtInt(N)} new contacts`);
    {
      const k = await openApp(tmp.dir, 'core.db');
      await createPlanField(k);
      const r = await viaCore(k, all);
      r.problems.push(...(await verify(k.client, all, 0, { tags: true })));
      results.push(finish('core', 'upsertContacts() direct, new contacts', N, r.ms, r.calls, k.path, r.problems));
      k.close();
    }
  } finally {
    tmp.cleanup();
  }

  const by = (k: string) => results.find((r) => r.key === k)!;
  const ratio = (x: number, y: number) => Math.round((x / y) * 1000) / 1000;
  const ratios = {
    batch_over_plain_insert: ratio(by('a').per_second, by('c').per_second),
    batch_over_plain_insert_with_tags: ratio(by('a').per_second, by('c+').per_second),
    batch_over_one_by_one: ratio(by('a').per_second, by('b').per_second),
    update_over_insert_batch: ratio(by('d').per_second, by('a').per_second),
    core_over_plain_insert_with_tags: ratio(by('core').per_second, by('c+').per_second),
    http_share_of_batch_time: ratio(by('a').ms - by('core').ms, by('a').ms),
  };

  console.log('\n  Summary (contacts/s; latency per HTTP request or per 1,000-row write transaction)\n');
  console.log(
    table(
      ['method', 'contacts', 'time', 'contacts/s', 'p50', 'p95', 'first→last 10%', 'db size', 'check'],
      results.map((r) => [
        `${r.key.padEnd(5)} ${r.method}`,
        fmtInt(r.contacts),
        fmtMs(r.ms),
        fmtInt(r.per_second),
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
      ['ratio', 'value'],
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
    params: { contacts: N, contacts_one_by_one: SINGLE_N, batch_size: BATCH, rows_per_statement: ROWS_PER_STATEMENT, warmup: WARMUP },
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
