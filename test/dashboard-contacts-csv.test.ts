// The contacts import's CSV handling in the browser (dashboard/ui/csv.ts): parsing, the first
// guess at the column mapping, slicing the file for progress, and mapping the server's line
// numbers back to the file's — checked against the real import endpoint.
import { describe, expect, it } from 'vitest';
import { ALIASES, csvCell, importSlices, mappingProblem, parseCsv, suggestMapping, toCsv } from '../dashboard/ui/csv';
import { makeApp } from './helpers';

describe('column spellings', () => {
  it('are the server\'s (the dashboard cannot import api/, so it keeps a copy; this keeps them equal)', async () => {
    const { ALIASES: server } = await import('../api/core/contacts/csv');
    expect(ALIASES).toEqual(Object.fromEntries(server));
  });
});

describe('parseCsv', () => {
  it('reads quotes, doubled quotes, commas and line breaks inside quotes, every line ending, a BOM, and skips blank lines', () => {
    const text = '\ufeffemail,"Full, name",note\r\na@example.com,"Ada ""A"" L",x\n\nb@example.com,Bob,"two\nlines"\rc@example.com,,\n';
    const r = parseCsv(text);
    expect(r.map((x) => x.cells)).toEqual([
      ['email', 'Full, name', 'note'],
      ['a@example.com', 'Ada "A" L', 'x'],
      ['b@example.com', 'Bob', 'two\nlines'],
      ['c@example.com', '', ''],
    ]);
    expect(r.map((x) => x.line)).toEqual([1, 2, 4, 6]);
    // Offsets cover each record with its line ending.
    expect(text.slice(r[1]!.start, r[1]!.end)).toBe('a@example.com,"Ada ""A"" L",x\n');
    expect(r[3]!.end).toBe(text.length);
  });

  it('reads a file without a final line break, and an empty one', () => {
    expect(parseCsv('email\na@example.com').map((x) => x.cells)).toEqual([['email'], ['a@example.com']]);
    expect(parseCsv('')).toEqual([]);
    expect(parseCsv('\n\n')).toEqual([]);
  });
});

describe('suggestMapping and mappingProblem', () => {
  it('guesses built-in fields from usual spellings, custom fields by key or label, tags; unknown columns are skipped', () => {
    const m = suggestMapping(['E-mail', 'First Name', 'Surname', 'Mobile', 'Plan', 'Company size', 'Tags', 'Shoe size', 'Email address'], [
      { key: 'plan', label: 'Plan' },
      { key: 'employees', label: 'Company size' },
    ]);
    expect({ ...m }).toEqual({
      'E-mail': 'email',
      'First Name': 'first_name',
      Surname: 'last_name',
      Mobile: 'phone',
      Plan: 'fields.plan',
      'Company size': 'fields.employees',
      Tags: 'tags',
      'Shoe size': '',
      // Email is taken by the first column.
      'Email address': '',
    });
    expect(mappingProblem(m)).toBeNull();
  });

  it('a column named like an Object.prototype key is only a column', () => {
    const m = suggestMapping(['__proto__', 'constructor', 'email'], []);
    expect(m['__proto__']).toBe('');
    expect(m.constructor).toBe('');
    expect(m.email).toBe('email');
  });

  it('says when no column is email, or two go to one field', () => {
    expect(mappingProblem({ a: 'first_name', b: '' })).toMatch(/Email/);
    expect(mappingProblem({ a: 'email', b: 'city', c: 'city' })).toMatch(/same field \(city\)/);
  });
});

describe('csv export cells', () => {
  it('quotes what needs quoting and defuses formulas, leaving numbers and phone numbers alone', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('+1 555 0100')).toBe('+1 555 0100');
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell(['a', 'b'])).toBe('a|b');
    expect(csvCell(null)).toBe('');
    expect(toCsv([['id', 'email'], [1, 'a@example.com']])).toBe('id,email\r\n1,a@example.com\r\n');
  });
});

describe('importSlices against the import endpoint', () => {
  it('slices hold whole records; the server’s line numbers map back to the file’s, the same as importing the file whole', async () => {
    const lines = ['Email,First Name,Note'];
    for (let i = 0; i < 23; i++) {
      const bad = i % 7 === 3;
      // Some records span two lines, and a blank line sits in the middle.
      lines.push(`${bad ? 'not-an-email' : `s${i}@example.com`},N${i},${i % 5 === 0 ? '"first\nsecond"' : 'x'}`);
      if (i === 10) lines.push('');
    }
    const text = lines.join('\r\n') + '\r\n';
    const records = parseCsv(text);
    expect(records.length).toBe(24);
    const slices = importSlices(text, records, 5);
    expect(slices.map((s) => s.rows)).toEqual([5, 5, 5, 5, 3]);
    expect(slices.map((s) => s.first)).toEqual([0, 5, 10, 15, 20]);

    const whole = await makeApp();
    const all = await whole.json('POST', '/api/v1/contacts/import', text, { headers: { 'content-type': 'text/csv' } });
    expect(all.status).toBe(200);
    expect(all.body.rejected).toBe(3);

    const sliced = await makeApp();
    const mapping = encodeURIComponent(JSON.stringify({ Email: 'email', 'First Name': 'first_name', Note: '' }));
    const reported: { line: number; field: string }[] = [];
    let created = 0;
    for (const s of slices) {
      expect(parseCsv(s.csv).length).toBe(s.rows + 1);
      const r = await sliced.json('POST', `/api/v1/contacts/import?mapping=${mapping}`, s.csv, { headers: { 'content-type': 'text/csv' } });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      created += r.body.created;
      for (const e of r.body.errors) reported.push({ line: s.fileLine(e.line), field: e.errors[0].field });
    }
    expect(created).toBe(all.body.created);
    expect(reported).toEqual(all.body.errors.map((e: any) => ({ line: e.line, field: e.errors[0].field })));
    // Each reported line falls within a bad record (the server names the line a record ends on).
    const recordAt = (line: number) => records.filter((r) => r.line <= line).pop()!;
    expect(reported.map((r) => recordAt(r.line).cells[0])).toEqual(['not-an-email', 'not-an-email', 'not-an-email']);
  });
});
