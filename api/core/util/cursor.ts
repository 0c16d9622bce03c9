import { BadRequestError } from '../errors';

// Opaque keyset cursors: base64url of [sortValue, id]. Keyset pagination stays
// fast on deep pages and is stable while rows are inserted.
export type CursorValue = [number | string | null, number];

// btoa takes Latin-1 only: a sort value such as a tag named "日本" goes through its UTF-8 bytes.
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function encodeCursor(value: CursorValue): string {
  let binary = '';
  for (const b of utf8.encode(JSON.stringify(value))) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBinary(binary: string): string {
  const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  try {
    return strictUtf8.decode(bytes);
  } catch {
    // A cursor made before sort values went through UTF-8 spelt Latin-1 characters as single bytes.
    return binary;
  }
}

export function decodeCursor(cursor: string): CursorValue {
  try {
    const json = fromBinary(atob(cursor.replace(/-/g, '+').replace(/_/g, '/')));
    const v = JSON.parse(json);
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      (v[0] === null || (typeof v[0] === 'number' && Number.isFinite(v[0])) || (typeof v[0] === 'string' && v[0].length <= 200)) &&
      Number.isSafeInteger(v[1])
    ) {
      return v as CursorValue;
    }
  } catch {
    // fall through to the error below
  }
  throw new BadRequestError('cursor is not valid: pass the next_cursor value from a previous page unchanged.');
}

export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

// Builds a page from limit+1 fetched rows.
export function toPage<R, T>(rows: R[], limit: number, key: (r: R) => CursorValue, map: (r: R) => T): Page<T> {
  const more = rows.length > limit;
  const slice = more ? rows.slice(0, limit) : rows;
  const last = slice[slice.length - 1];
  return {
    data: slice.map(map),
    has_more: more,
    next_cursor: more && last !== undefined ? encodeCursor(key(last)) : null,
  };
}

export interface PageInput {
  limit: number;
  cursor?: string;
}

/**
 * Keyset pagination over (sort value, id): the condition for rows after the
 * cursor in the given direction, as SQL over `sortExpr` and `idExpr`, and its
 * arguments. A row-value comparison lets SQLite seek its index.
 */
export function after(cursor: string | undefined, sortExpr: string | null, idExpr: string, desc = false): { sql: string; args: (string | number)[] } {
  if (!cursor) return { sql: '1', args: [] };
  const [v, id] = decodeCursor(cursor);
  const op = desc ? '<' : '>';
  if (sortExpr === null) return { sql: `${idExpr} ${op} ?`, args: [id] };
  if (v === null) throw new BadRequestError('cursor is not valid: pass the next_cursor value from a previous page unchanged.');
  return { sql: `(${sortExpr}, ${idExpr}) ${op} (?, ?)`, args: [v, id] };
}
