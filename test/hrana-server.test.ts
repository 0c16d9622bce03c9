import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, LibsqlError, type Client } from '@libsql/client/web';
import { startHranaServer } from './fixtures/hrana-server';

const TOKEN = 'test-token';

describe('hrana fixture server', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startHranaServer>>;
  let client: Client;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'leadline-hrana-'));
    server = await startHranaServer({ path: join(dir, 'test.db'), authToken: TOKEN });
    client = createClient({ url: server.url, authToken: TOKEN });
    await client.execute(`CREATE TABLE contacts (
      id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, score REAL, note TEXT, avatar BLOB, visits INTEGER
    )`);
  });

  afterAll(async () => {
    client?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = async (where = '1') =>
    Number((await client.execute(`SELECT count(*) AS n FROM contacts WHERE ${where}`)).rows[0].n);

  it('inserts with positional and named args and reads back typed values', async () => {
    const ins = await client.execute('INSERT INTO contacts (email, score, note, avatar, visits) VALUES (?, ?, ?, ?, ?)', [
      'a@example.com', 1.5, null, new Uint8Array([1, 2, 255]), 7,
    ]);
    expect(ins.rowsAffected).toBe(1);
    expect(typeof ins.lastInsertRowid).toBe('bigint');
    await client.execute({
      sql: 'INSERT INTO contacts (email, score, note, visits) VALUES (:email, $score, @note, :visits)',
      args: { email: 'b@example.com', score: 2.25, note: 'hi', visits: 3n },
    });

    const rs = await client.execute({
      sql: 'SELECT id, email, score, note, avatar, visits, typeof(visits) AS t FROM contacts WHERE email = ?',
      args: ['a@example.com'],
    });
    expect(rs.columns).toEqual(['id', 'email', 'score', 'note', 'avatar', 'visits', 't']);
    expect(rs.columnTypes.slice(0, 6)).toEqual(['INTEGER', 'TEXT', 'REAL', 'TEXT', 'BLOB', 'INTEGER']);
    expect(rs.rowsAffected).toBe(0);
    const row = rs.rows[0];
    expect(row.email).toBe('a@example.com');
    expect(row.score).toBe(1.5);
    expect(row.note).toBeNull();
    expect(row.visits).toBe(7);
    expect(row.t).toBe('integer'); // client sends JS numbers as floats; INTEGER affinity stores 7
    expect(row.id).toBe(Number(ins.lastInsertRowid));
    expect([...new Uint8Array(row.avatar as ArrayBuffer)]).toEqual([1, 2, 255]);

    const named = await client.execute({ sql: 'SELECT note, visits FROM contacts WHERE email = :e', args: { e: 'b@example.com' } });
    expect(named.rows[0].note).toBe('hi');
    expect(named.rows[0].visits).toBe(3);
  });

  it('round-trips 64-bit integers exactly with intMode "bigint"', async () => {
    const big = createClient({ url: server.url, authToken: TOKEN, intMode: 'bigint' });
    try {
      const rs = await big.execute({ sql: 'SELECT ? AS v, 1.0 AS f', args: [9007199254740993n] });
      expect(rs.rows[0].v).toBe(9007199254740993n);
      expect(rs.rows[0].f).toBe(1);
    } finally {
      big.close();
    }
  });

  it('runs a write batch atomically', async () => {
    const before = await count();
    const ok = await client.batch([
      { sql: 'INSERT INTO contacts (email) VALUES (?)', args: ['batch1@example.com'] },
      { sql: 'INSERT INTO contacts (email) VALUES (?)', args: ['batch2@example.com'] },
    ], 'write');
    expect(ok.map((r) => r.rowsAffected)).toEqual([1, 1]);

    await expect(client.batch([
      { sql: 'INSERT INTO contacts (email) VALUES (?)', args: ['batch3@example.com'] },
      { sql: 'INSERT INTO contacts (email) VALUES (?)', args: ['a@example.com'] }, // duplicate
    ], 'write')).rejects.toThrow(/UNIQUE/);
    expect(await count()).toBe(before + 2);
    expect(await count("email = 'batch3@example.com'")).toBe(0);
  });

  it('commits an interactive transaction that other connections only see after COMMIT', async () => {
    const tx = await client.transaction('write');
    await tx.execute({ sql: 'INSERT INTO contacts (email) VALUES (?)', args: ['tx1@example.com'] });
    expect(Number((await tx.execute("SELECT count(*) AS n FROM contacts WHERE email = 'tx1@example.com'")).rows[0].n)).toBe(1);
    expect(await count("email = 'tx1@example.com'")).toBe(0);
    await tx.commit();
    expect(await count("email = 'tx1@example.com'")).toBe(1);
  });

  it('rolls back an interactive transaction', async () => {
    const tx = await client.transaction('write');
    await tx.execute({ sql: 'INSERT INTO contacts (email) VALUES (?)', args: ['tx2@example.com'] });
    await tx.rollback();
    expect(await count("email = 'tx2@example.com'")).toBe(0);
  });

  it('makes a writer wait for another stream\'s write transaction instead of failing with SQLITE_BUSY', async () => {
    const tx = await client.transaction('write');
    await tx.execute({ sql: 'INSERT INTO contacts (email) VALUES (?)', args: ['lock1@example.com'] });
    const waiting = client.execute({ sql: 'INSERT INTO contacts (email) VALUES (?)', args: ['lock2@example.com'] });
    await new Promise((r) => setTimeout(r, 50));
    await tx.commit();
    expect((await waiting).rowsAffected).toBe(1);
    expect(await count("email LIKE 'lock%'")).toBe(2);
  });

  it('rejects a UNIQUE violation with a LibsqlError', async () => {
    const err = await client.execute({ sql: 'INSERT INTO contacts (email) VALUES (?)', args: ['a@example.com'] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibsqlError);
    expect((err as LibsqlError).code).toBe('SQLITE_CONSTRAINT');
    expect((err as LibsqlError).message).toMatch(/UNIQUE constraint failed: contacts\.email/);
  });

  it('rejects a bad auth token', async () => {
    const bad = createClient({ url: server.url, authToken: 'wrong' });
    try {
      const err = await bad.execute('SELECT 1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LibsqlError);
      expect((err as LibsqlError).code).toBe('SERVER_ERROR');
      expect((err as LibsqlError).message).toMatch(/401/);
    } finally {
      bad.close();
    }
  });

  it('returns rows and rowsAffected for INSERT ... RETURNING', async () => {
    const rs = await client.execute({
      sql: 'INSERT INTO contacts (email, score) VALUES (?, ?), (?, ?) RETURNING id, email, score',
      args: ['r1@example.com', 0.5, 'r2@example.com', 1],
    });
    expect(rs.rowsAffected).toBe(2);
    expect(rs.columns).toEqual(['id', 'email', 'score']);
    expect(rs.rows.map((r) => [r.email, r.score])).toEqual([['r1@example.com', 0.5], ['r2@example.com', 1]]);
    expect(rs.lastInsertRowid).toBe(BigInt(rs.rows[1].id as number));
  });

  it('runs executeMultiple (sequence) and migrate-style batches', async () => {
    await client.executeMultiple('CREATE TABLE tags (name TEXT); INSERT INTO tags VALUES (\'x\'); INSERT INTO tags VALUES (\'y\');');
    expect(Number((await client.execute('SELECT count(*) AS n FROM tags')).rows[0].n)).toBe(2);
    await client.migrate([{ sql: 'ALTER TABLE tags ADD COLUMN color TEXT', args: [] }]);
    expect((await client.execute('SELECT * FROM tags')).columns).toEqual(['name', 'color']);
  });

  it('speaks the v3 JSON pipeline with batons, conditions, get_autocommit and describe', async () => {
    const post = async (body: unknown) => {
      const res = await fetch(`${server.url}/v3/pipeline`, {
        method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      return res.json() as Promise<{ baton: string | null; results: any[] }>;
    };
    expect((await fetch(`${server.url}/v3-protobuf`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);

    const first = await post({ requests: [
      { type: 'execute', stmt: { sql: 'BEGIN' } },
      { type: 'get_autocommit' },
      { type: 'batch', batch: { steps: [
        { stmt: { sql: 'SELECT 1' } },
        { condition: { type: 'is_autocommit' }, stmt: { sql: 'SELECT 2' } },
        { condition: { type: 'and', conds: [{ type: 'ok', step: 0 }, { type: 'not', cond: { type: 'error', step: 0 } }] },
          stmt: { sql: 'SELECT 3' } },
        { stmt: { sql: 'SELEC oops' } },
        { condition: { type: 'or', conds: [{ type: 'error', step: 3 }, { type: 'ok', step: 1 }] }, stmt: { sql: 'SELECT 4' } },
      ] } },
      { type: 'describe', sql: 'INSERT INTO contacts (email, score) VALUES (:email, ?2)' },
    ] });
    expect(first.baton).toEqual(expect.any(String));
    expect(first.results[1].response).toEqual({ type: 'get_autocommit', is_autocommit: false });
    const batch = first.results[2].response.result;
    expect(batch.step_results.map((r: unknown) => r !== null)).toEqual([true, false, true, false, true]);
    expect(batch.step_errors[3]).toMatchObject({ code: 'SQLITE_UNKNOWN', message: expect.stringMatching(/syntax error/) });
    expect(first.results[3].response.result).toMatchObject({
      params: [{ name: ':email' }, { name: '?2' }], is_explain: false, is_readonly: false,
    });

    const second = await post({ baton: first.baton, requests: [{ type: 'get_autocommit' }, { type: 'execute', stmt: { sql: 'COMMIT' } }, { type: 'close' }] });
    expect(second.results[0].response.is_autocommit).toBe(false);
    expect(second.baton).toBeNull();

    const stale = await fetch(`${server.url}/v3/pipeline`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ baton: first.baton, requests: [] }),
    });
    expect(stale.status).toBe(400);
  });
});

describe('hrana fixture server lock timeout', () => {
  it('fails a writer with SQLITE_BUSY after busyTimeoutMs without wedging the database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leadline-hrana-'));
    const server = await startHranaServer({ path: join(dir, 'busy.db'), busyTimeoutMs: 100 });
    const client = createClient({ url: server.url });
    try {
      await client.execute('CREATE TABLE t (x INTEGER)');
      const holder = await client.transaction('write');
      await holder.execute('INSERT INTO t VALUES (1)');

      // Autocommit writer gives up.
      const err = await client.execute('INSERT INTO t VALUES (2)').catch((e: unknown) => e);
      expect((err as LibsqlError).code).toBe('SQLITE_BUSY');

      // A deferred transaction that read first loses its snapshot: the rest of it fails, ROLLBACK works.
      const deferred = await client.transaction('deferred');
      await deferred.execute('SELECT count(*) FROM t');
      await expect(deferred.execute('INSERT INTO t VALUES (3)')).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
      await holder.commit();
      await expect(deferred.execute('INSERT INTO t VALUES (4)')).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
      await deferred.rollback();

      await client.execute('INSERT INTO t VALUES (5)');
      const again = await client.transaction('write');
      await again.execute('INSERT INTO t VALUES (6)');
      await again.commit();
      expect((await client.execute('SELECT x FROM t ORDER BY x')).rows.map((r) => r.x)).toEqual([1, 5, 6]);
    } finally {
      client.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hrana fixture server with :memory:', () => {
  it('shares one connection across streams and rolls back a closed stream\'s transaction', async () => {
    const server = await startHranaServer({ path: ':memory:' });
    const client = createClient({ url: server.url });
    try {
      await client.execute('CREATE TABLE t (x INTEGER)');
      await client.execute({ sql: 'INSERT INTO t VALUES (?)', args: [1] });
      const tx = await client.transaction('write');
      await tx.execute('INSERT INTO t VALUES (2)');
      tx.close(); // abandons the stream without COMMIT
      await new Promise((r) => setTimeout(r, 50));
      expect((await client.execute('SELECT x FROM t')).rows.map((r) => r.x)).toEqual([1]);
    } finally {
      client.close();
      await server.close();
    }
  });
});
