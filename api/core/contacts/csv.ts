import { parse } from 'csv-parse/browser/esm';
import type { Ctx } from '../context';
import { BadRequestError, type FieldError } from '../errors';
import { cleanText } from '../util/text';
import { CORE_FIELDS, loadFieldDefs, type FieldDef } from './fields';
import { CORE_COLUMNS, normalizeTag } from './prepare';
import { upsertContacts, MAX_BATCH } from './upsert';
import { hydrate, listContactRows, type ListContactsInput } from './contacts';

export const MAX_IMPORT_ROWS = 100_000;
const MAX_REPORTED_ERRORS = 1000;

export const ALIASES = new Map<string, string>(Object.entries({
  e_mail: 'email',
  email_address: 'email',
  mail: 'email',
  first: 'first_name',
  firstname: 'first_name',
  given_name: 'first_name',
  last: 'last_name',
  lastname: 'last_name',
  surname: 'last_name',
  family_name: 'last_name',
  phone_number: 'phone',
  telephone: 'phone',
  mobile: 'phone',
  title: 'job_title',
  job: 'job_title',
  position: 'job_title',
  town: 'city',
}));

const slug = (h: string) => h.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');

// A target is a built-in field, `tags`, or a custom field key (optionally `fields.key`).
function resolveTarget(target: string, defs: Map<string, FieldDef>): string | null {
  const t = target.startsWith('fields.') ? target.slice(7) : target;
  if (Object.hasOwn(CORE_FIELDS, t) || t === 'tags') return t;
  if (defs.has(t)) return `fields.${t}`;
  return null;
}

function autoTarget(header: string, defs: Map<string, FieldDef>): string | null {
  const s = slug(header);
  const direct = resolveTarget(ALIASES.get(s) ?? s, defs);
  if (direct) return direct;
  for (const d of defs.values()) if (slug(d.label) === s) return `fields.${d.key}`;
  return null;
}

type CsvRecord = { record: string[]; info: { lines: number } };

// Parsed a slice at a time, with a turn for other requests in between: a 10 MB file parsed
// in one go held the event loop for seconds.
const SLICE = 256 * 1024;
const breathe = () => new Promise((r) => setTimeout(r, 0));

async function readCsv(csv: string): Promise<CsvRecord[]> {
  // (The parser's stream cannot be ended without having been written to.)
  if (csv.trim() === '') return [];
  const parser = parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true, trim: true, max_record_size: 100_000 });
  const records: CsvRecord[] = [];
  let failure: Error | undefined;
  parser.on('readable', () => {
    let r: CsvRecord | null;
    while ((r = parser.read() as CsvRecord | null) !== null) records.push(r);
  });
  parser.on('error', (e: Error) => (failure ??= e));
  const ended = new Promise<void>((resolve) => {
    parser.on('end', () => resolve());
    parser.on('error', () => resolve());
  });
  for (let i = 0; i < csv.length && !failure; ) {
    let end = Math.min(csv.length, i + SLICE);
    // Never split a surrogate pair between two slices.
    if (end < csv.length && /[\ud800-\udbff]/.test(csv[end - 1]!)) end++;
    parser.write(csv.slice(i, end));
    i = end;
    if (records.length > MAX_IMPORT_ROWS + 1) throw new BadRequestError(`CSV has more than ${MAX_IMPORT_ROWS} rows; split the file.`);
    await breathe();
  }
  if (!failure) parser.end();
  await ended;
  if (failure) throw new BadRequestError(`CSV could not be parsed: ${failure.message}`);
  return records;
}

export interface ImportReport {
  rows: number;
  created: number;
  updated: number;
  rejected: number;
  mapping: Record<string, string>;
  ignored_columns: string[];
  errors: { line: number; errors: FieldError[] }[];
}

/**
 * Imports contacts from CSV text: the header row names the columns, which map to
 * fields automatically or through `mapping` (header → field key, or "" to skip).
 * Rows are upserted by email in chunks of MAX_BATCH; empty cells change nothing.
 */
export async function importContactsCsv({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { csv: string; mapping?: Record<string, string>; tags?: string[] };
}): Promise<ImportReport> {
  const records = await readCsv(cleanText(input.csv));
  const [head, ...body] = records;
  if (!head) throw new BadRequestError('CSV is empty: the first row must name the columns.');
  if (head.record.length > 200) throw new BadRequestError('CSV has more than 200 columns.');
  if (body.length > MAX_IMPORT_ROWS) throw new BadRequestError(`CSV has more than ${MAX_IMPORT_ROWS} rows; split the file.`);

  const defs = await loadFieldDefs(ctx);
  // No prototype: a column may be called "__proto__".
  const mapping: Record<string, string> = Object.create(null);
  const ignored: string[] = [];
  const targets = head.record.map((h) => {
    // Own keys only: a column named "constructor" is not Object.prototype's.
    const explicit = input.mapping && Object.hasOwn(input.mapping, h) ? input.mapping[h] : undefined;
    if (explicit === '') {
      ignored.push(h);
      return null;
    }
    const t = explicit !== undefined ? resolveTarget(explicit, defs) : autoTarget(h, defs);
    if (explicit !== undefined && !t) {
      throw new BadRequestError(`mapping for column "${h}" names "${explicit}", which is not a contact field.`);
    }
    if (t) mapping[h] = t;
    else ignored.push(h);
    return t;
  });
  if (!Object.values(mapping).some((t) => t === 'email')) {
    throw new BadRequestError('No column maps to email: name one "email" or pass a mapping.');
  }
  const rows = body.map(({ record }) => {
    const row: Record<string, unknown> = {};
    const fields: Record<string, unknown> = {};
    record.forEach((cell, i) => {
      const t = targets[i];
      if (!t || cell === '') return;
      if (t === 'tags') row.tags = cell.split(/[|;,]/).map((s) => s.trim()).filter((s) => s && s.length <= 64);
      else if (t.startsWith('fields.')) fields[t.slice(7)] = cell;
      else row[t] = cell;
    });
    if (Object.keys(fields).length) row.fields = fields;
    return row;
  });

  const report: ImportReport = { rows: rows.length, created: 0, updated: 0, rejected: 0, mapping, ignored_columns: ignored, errors: [] };
  const addTags = input.tags?.map(normalizeTag);
  for (let start = 0; start < rows.length; start += MAX_BATCH) {
    const chunk = rows.slice(start, start + MAX_BATCH);
    if (start > 0) await breathe();
    const s = await upsertContacts({ ctx, input: { rows: chunk, lenient: true, addTags, defs } });
    report.created += s.created;
    report.updated += s.updated;
    report.rejected += s.rejected;
    for (const r of s.results) {
      if (r.status === 'rejected' && report.errors.length < MAX_REPORTED_ERRORS) {
        report.errors.push({ line: body[start + r.index]!.info.lines, errors: r.errors });
      }
    }
  }
  return report;
}

// Spreadsheet apps run cells starting with these as formulas; a leading
// apostrophe keeps them text. Numbers and phone numbers are left alone.
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = Array.isArray(v) ? v.join('|') : String(v);
  if (/^[=+\-@\t\r]/.test(s) && !/^[+-]?[\d\s().-]+$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Streams the contacts matching a list filter as CSV, one page of rows at a time. */
export async function exportContactsCsv({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: Omit<ListContactsInput, 'limit' | 'cursor'>;
}): Promise<ReadableStream<Uint8Array>> {
  const defs = [...(await loadFieldDefs(ctx)).values()];
  const header = ['id', ...CORE_COLUMNS, ...defs.map((d) => d.key), 'tags', 'points', 'created_at', 'updated_at', 'last_active_at'];
  const enc = new TextEncoder();
  let cursor: string | null = null;
  let done = false;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(enc.encode(header.join(',') + '\r\n'));
        return;
      }
      if (done) return controller.close();
      const { rows, next } = await listContactRows(ctx, { ...input, limit: 500, cursor: cursor ?? undefined });
      const contacts = await hydrate(ctx, rows);
      const lines = contacts.map((c) =>
        [
          c.id,
          ...CORE_COLUMNS.map((k) => c[k as keyof typeof c]),
          ...defs.map((d) => c.fields[d.key]),
          c.tags,
          c.points,
          c.created_at,
          c.updated_at,
          c.last_active_at,
        ]
          .map(csvCell)
          .join(','),
      );
      if (lines.length) controller.enqueue(enc.encode(lines.join('\r\n') + '\r\n'));
      cursor = next;
      done = next === null;
    },
  });
}
