// CSV in the browser, for the contacts import and the export of a selection. Pure functions
// (unit-tested in test/dashboard-contacts-csv.test.ts).
//
// The import sends the file in slices of whole records (each slice is the header line followed by
// a run of the file's own text), so the page can show progress, the server never sees more than a
// slice at once, and a line number in the server's error report maps back to the file's line.

export interface CsvRecord {
  cells: string[];
  /** Offset of the record's first character in the text. */
  start: number;
  /** Offset just after the record's line ending (or the end of the text). */
  end: number;
  /** 1-based line the record starts on. */
  line: number;
}

/** RFC 4180 records (quotes, doubled quotes, CRLF, LF or CR line endings); blank lines are skipped. */
export function parseCsv(text: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const start = i;
    const startLine = line;
    const cells: string[] = [];
    let cell = '';
    let quoted = false;
    while (i < n) {
      const ch = text[i]!;
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i += 2;
          } else {
            quoted = false;
            i++;
          }
        } else {
          if (ch === '\n' || (ch === '\r' && text[i + 1] !== '\n')) line++;
          cell += ch;
          i++;
        }
        continue;
      }
      if (ch === '"' && cell.trim() === '') {
        quoted = true;
        cell = '';
        i++;
      } else if (ch === ',') {
        cells.push(cell);
        cell = '';
        i++;
      } else if (ch === '\r' || ch === '\n') {
        i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
        line++;
        break;
      } else {
        cell += ch;
        i++;
      }
    }
    cells.push(cell);
    if (cells.length === 1 && cells[0]!.trim() === '') continue;
    out.push({ cells: cells.map((c) => c.trim()), start, end: i, line: startLine });
  }
  return out;
}

/** The fields a column can go to: built-in ones, tags, and the custom fields (by key). */
export const CORE_TARGETS = ['email', 'first_name', 'last_name', 'phone', 'job_title', 'city', 'country'] as const;

// The same spellings the server recognises when no mapping is given (api/core/contacts/csv.ts).
export const ALIASES: Record<string, string> = {
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
};

const slug = (h: string) =>
  h
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');

export interface FieldChoice {
  key: string;
  label: string;
}

/**
 * A first guess at each column's field ("" = skip), as the server would make it: built-in names
 * and their usual spellings, "tags", custom field keys, then custom field labels. A field already
 * taken by an earlier column is not offered twice.
 */
export function suggestMapping(headers: string[], custom: FieldChoice[]): Record<string, string> {
  const keys = new Set(custom.map((f) => f.key));
  const taken = new Set<string>();
  const out: Record<string, string> = Object.create(null);
  for (const h of headers) {
    const s = slug(h);
    const alias = Object.hasOwn(ALIASES, s) ? ALIASES[s]! : s;
    let t = '';
    if ((CORE_TARGETS as readonly string[]).includes(alias) || alias === 'tags') t = alias;
    else if (keys.has(alias)) t = `fields.${alias}`;
    else {
      const byLabel = custom.find((f) => slug(f.label) === s);
      if (byLabel) t = `fields.${byLabel.key}`;
    }
    if (t && taken.has(t)) t = '';
    if (t) taken.add(t);
    out[h] = t;
  }
  return out;
}

/** What is wrong with a mapping before anything is sent, or null. */
export function mappingProblem(mapping: Record<string, string>): string | null {
  const targets = Object.values(mapping).filter(Boolean);
  if (!targets.includes('email')) return 'Map one column to Email: contacts are matched by their email.';
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t)) return `Two columns go to the same field (${t.replace(/^fields\./, '')}); map each field once.`;
    seen.add(t);
  }
  return null;
}

export interface ImportSlice {
  /** The header line and a run of whole records, as the file has them. */
  csv: string;
  /** How many records it holds. */
  rows: number;
  /** Index of its first record among the file's data records. */
  first: number;
  /** A line number in the server's report for this slice → the file's line. */
  fileLine: (sliceLine: number) => number;
}

/** The file cut into slices of at most `size` data records each (records as parseCsv found them). */
export function importSlices(text: string, records: CsvRecord[], size: number): ImportSlice[] {
  const [head, ...body] = records;
  if (!head) return [];
  let headText = text.slice(text.charCodeAt(0) === 0xfeff ? 1 : 0, head.end);
  if (!/[\r\n]$/.test(headText)) headText += '\n';
  const headLines = (headText.match(/\r\n|\r|\n/g) ?? []).length;
  const slices: ImportSlice[] = [];
  for (let i = 0; i < body.length; i += size) {
    const part = body.slice(i, i + size);
    const first = part[0]!;
    const last = part[part.length - 1]!;
    slices.push({
      csv: headText + text.slice(first.start, last.end),
      rows: part.length,
      first: i,
      fileLine: (l) => first.line + (l - headLines - 1),
    });
  }
  return slices;
}

// Spreadsheet apps run cells starting with these as formulas; a leading apostrophe keeps them
// text (as the server's export does). Numbers and phone numbers are left alone.
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = Array.isArray(v) ? v.join('|') : String(v);
  if (/^[=+\-@\t\r]/.test(s) && !/^[+-]?[\d\s().-]+$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows of cells as CSV text (CRLF line endings, as the server's export). */
export const toCsv = (rows: unknown[][]) => rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
