import { BadRequestError } from '../errors';
import type { Filter, Op } from '../segments/filter';
import { countryCode, type ContactField } from './fields';

/**
 * Mautic's contact search (the `search` query parameter) and `where[]` filters, translated into
 * Leadline's segment filter language so that one compiler (core/segments/compile.ts) runs them.
 *
 * Search: terms separated by spaces are ANDed; `or` between terms ORs the groups either side.
 * A bare term matches first name, last name, email, city, country or a company name containing it.
 * Commands: email:, name:, company:, tag:, segment: (alias or id), stage: (name), is:anonymous,
 * is:unowned, is:mine, and any field alias (city:Berlin, a custom field key). `!` before a term
 * negates it. Values match as prefixes (Mautic's `value%`); `%` sets the wildcard yourself
 * (`%son`, `%ohn%`); a `+` prefix or "quotes" asks for the exact value.
 */

export interface SearchEnv {
  fields: ContactField[];
  /** Stage name (lower-cased) → id. */
  stages: Map<string, number>;
  /** Segment aliases (and ids as text) → ids. */
  segments: Map<string, number[]>;
}

/** A filter no contact matches: membership of a segment id that cannot exist. */
const NOTHING: Filter = { segment: Number.MAX_SAFE_INTEGER, member: true };
const EVERYONE: Filter = { not: NOTHING };
const MAX_TERMS = 20;

/** A Mautic segment alias: its name lower-cased, runs of other characters as one hyphen. */
export const segmentAlias = (name: string): string =>
  name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');

function tokens(search: string): string[] {
  const out: string[] = [];
  const re = /(!?\+?[^\s"]*"[^"]*"?|\S+)/g;
  for (const m of search.matchAll(re)) out.push(m[0]);
  if (out.length > MAX_TERMS * 2) throw new BadRequestError(`search takes at most ${MAX_TERMS} terms.`);
  return out;
}

/** Mautic's LIKE value as one of Leadline's text operators. */
function likeOp(value: string, strict: boolean, bare: boolean): { op: Op; value: string } {
  if (strict) return { op: 'equals', value };
  const starts = value.startsWith('%');
  const ends = value.endsWith('%') && value.length > 1;
  const inner = value.slice(starts ? 1 : 0, ends ? -1 : undefined);
  if (inner.includes('%')) throw new BadRequestError(`search: a % may stand only at the start or end of a value ("${value}").`);
  if (!starts && !ends) return { op: bare ? 'contains' : 'starts_with', value };
  return { op: starts && ends ? 'contains' : starts ? 'ends_with' : 'starts_with', value: inner };
}

function fieldCondition(f: ContactField, value: string, strict: boolean): Filter {
  const t = f.target;
  if (t.kind === 'points') {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new BadRequestError(`search: points takes a number ("${value}").`);
    return { field: 'points', op: 'equals', value: n };
  }
  if (t.kind === 'company') return { field: 'company.name', ...likeOp(value, strict, false) };
  if (t.kind === 'column') return { field: t.key, ...(t.key === 'country' ? { op: 'equals' as Op, value: countryCode(value) } : likeOp(value, strict, false)) };
  if (t.kind === 'custom') {
    const kind = t.def.type;
    if (kind === 'number') {
      if (!Number.isFinite(Number(value))) throw new BadRequestError(`search: ${f.alias} takes a number ("${value}").`);
      return { field: `fields.${t.def.key}`, op: 'equals', value: Number(value) };
    }
    if (kind === 'boolean') return { field: `fields.${t.def.key}`, op: 'equals', value: ['1', 'true', 'yes'].includes(value.toLowerCase()) };
    if (['date', 'datetime', 'multiselect'].includes(kind)) return { field: `fields.${t.def.key}`, op: 'equals', value };
    return { field: `fields.${t.def.key}`, ...likeOp(value, strict, false) };
  }
  throw new BadRequestError(`search: Leadline has no "${f.alias}" field to search (create a custom field with that key first).`);
}

function term(raw: string, env: SearchEnv): Filter {
  let t = raw;
  const not = t.startsWith('!');
  if (not) t = t.slice(1);
  let cond: Filter;
  const colon = t.indexOf(':');
  const command = colon > 0 && !t.slice(0, colon).includes('"') ? t.slice(0, colon).toLowerCase() : null;
  let value = command ? t.slice(colon + 1) : t;
  let strict = value.startsWith('+');
  if (strict) value = value.slice(1);
  if (value.startsWith('"')) {
    strict = true;
    value = value.replace(/^"|"$/g, '');
  }
  if (value === '') throw new BadRequestError(`search: "${raw}" needs a value.`);
  if (value.length > 200) throw new BadRequestError('search: a value may be at most 200 characters.');
  if (command === null) {
    const like = likeOp(value, strict, true);
    const any: Filter[] = ['first_name', 'last_name', 'email', 'city', 'company.name'].map((field) => ({ field, ...like }));
    // Leadline keeps country codes: a country's name finds its code.
    const code = countryCode(value);
    if (value.length > 2 && code !== value) any.push({ field: 'country', op: 'equals', value: code });
    cond = { any };
  } else if (command === 'is') {
    const v = value.toLowerCase();
    if (v === 'anonymous') cond = { field: 'email', op: 'empty' };
    else if (v === 'unowned') cond = EVERYONE; // Leadline contacts have no owner
    else if (v === 'mine') cond = NOTHING;
    else throw new BadRequestError(`search: is:${value} is not supported (is:anonymous, is:unowned, is:mine are).`);
  } else if (command === 'name') {
    const like = likeOp(value, strict, false);
    cond = { any: [{ field: 'first_name', ...like }, { field: 'last_name', ...like }] };
  } else if (command === 'email') {
    cond = { field: 'email', ...likeOp(value, strict, false) };
  } else if (command === 'company') {
    cond = { field: 'company.name', ...likeOp(value, strict, false) };
  } else if (command === 'tag') {
    if (value.includes('%')) throw new BadRequestError('search: tag: takes a whole tag name, without %.');
    if (value.length > 64) throw new BadRequestError('search: a tag is at most 64 characters.');
    cond = { tag: value, has: true };
  } else if (command === 'segment' || command === 'list') {
    const ids = env.segments.get(value.toLowerCase()) ?? [];
    cond = ids.length ? { any: ids.map((id) => ({ segment: id, member: true })) } : NOTHING;
  } else if (command === 'stage') {
    const id = env.stages.get(value.toLowerCase());
    cond = id === undefined ? NOTHING : { field: 'stage', op: 'equals', value: id };
  } else {
    const f = env.fields.find((x) => x.alias === command);
    if (!f) {
      throw new BadRequestError(
        `search: "${command}:" is not a command Leadline supports (email:, name:, company:, tag:, segment:, stage:, is:anonymous, or a contact field alias).`,
      );
    }
    cond = fieldCondition(f, value, strict);
  }
  return not ? { not: cond } : cond;
}

/** The Mautic search string as a Leadline filter (null: every contact). */
export function parseSearch(search: string | undefined, env: SearchEnv): Filter | null {
  const s = (search ?? '').trim();
  if (!s) return null;
  const groups: Filter[][] = [[]];
  for (const tok of tokens(s)) {
    const low = tok.toLowerCase();
    if (low === 'or') groups.push([]);
    else if (low === 'and') continue;
    else groups[groups.length - 1]!.push(term(tok, env));
  }
  if (groups.reduce((n, g) => n + g.length, 0) > MAX_TERMS) throw new BadRequestError(`search takes at most ${MAX_TERMS} terms.`);
  const parts = groups.filter((g) => g.length).map((g): Filter => (g.length === 1 ? g[0]! : { all: g }));
  if (!parts.length) return null;
  return parts.length === 1 ? parts[0]! : { any: parts };
}

export interface WhereClause {
  col: string;
  expr: string;
  val?: string;
}

/** Mautic's `where[n][col|expr|val]` (equality and its close relatives) as filters, plus ids asked for by `id`. */
export function parseWhere(where: WhereClause[], env: SearchEnv): { filters: Filter[]; ids: number[] | null } {
  const filters: Filter[] = [];
  let ids: number[] | null = null;
  for (const [i, w] of where.entries()) {
    const col = w.col.replace(/^l\./, '').toLowerCase();
    const expr = w.expr.toLowerCase();
    const val = w.val ?? '';
    if (col === 'id') {
      if (expr !== 'eq' && expr !== 'in') throw new BadRequestError(`where[${i}]: id takes expr eq or in.`);
      const list = val.split(',').map((v) => v.trim());
      if (list.length > 200 || list.some((v) => !/^[0-9]{1,15}$/.test(v))) throw new BadRequestError(`where[${i}]: id takes ids (at most 200).`);
      const got = list.map(Number);
      ids = ids ? ids.filter((x) => got.includes(x)) : got;
      continue;
    }
    const f = env.fields.find((x) => x.alias === col);
    if (!f || f.target.kind === 'none' || f.target.kind === 'last_active') throw new BadRequestError(`where[${i}]: "${w.col}" is not a contact field Leadline can filter on.`);
    const base = fieldCondition(f, val === '' ? ' ' : val, true) as Extract<Filter, { field: string }>;
    if (expr === 'eq') filters.push(base);
    else if (expr === 'neq') filters.push({ ...base, op: 'not_equals' });
    else if (expr === 'like') filters.push(fieldCondition(f, val, false));
    else if (expr === 'in' || expr === 'notin') {
      const values = val.split(',').map((v) => v.trim()).filter(Boolean);
      if (!values.length || values.length > 200) throw new BadRequestError(`where[${i}]: ${expr} takes 1 to 200 comma-separated values.`);
      const list = values.map((v) => (fieldCondition(f, v, true) as { value?: unknown }).value as string);
      filters.push({ field: base.field, op: expr === 'in' ? 'in' : 'not_in', value: list });
    } else if (expr === 'isnull' || expr === 'isnotnull') filters.push({ field: base.field, op: expr === 'isnull' ? 'empty' : 'not_empty' });
    else throw new BadRequestError(`where[${i}]: expr "${w.expr}" is not supported (eq, neq, like, in, notIn, isNull, isNotNull are).`);
  }
  return { filters, ids };
}

const ORDER_COLUMNS: Record<string, string> = {
  id: 'c.id',
  date_added: 'c.created_at',
  dateadded: 'c.created_at',
  date_identified: 'c.created_at',
  dateidentified: 'c.created_at',
  date_modified: 'c.updated_at',
  datemodified: 'c.updated_at',
  last_active: 'c.last_active_at',
  lastactive: 'c.last_active_at',
  points: 'c.points',
};

/** Mautic's orderBy (one or more columns, snake_case or camelCase, with or without `l.`) as SQL. */
export function orderSql(orderBy: string | undefined, dir: string | undefined, env: SearchEnv): string {
  const d = (dir ?? 'ASC').toUpperCase();
  if (d !== 'ASC' && d !== 'DESC') throw new BadRequestError('orderByDir must be ASC or DESC.');
  if (!orderBy || !orderBy.trim()) return 'c.last_active_at DESC, c.id DESC'; // Mautic's default order
  const cols = orderBy.split(',').map((x) => x.trim().replace(/^l\./, '').toLowerCase());
  if (cols.length > 3) throw new BadRequestError('orderBy takes at most 3 columns.');
  const exprs = cols.map((col) => {
    if (Object.hasOwn(ORDER_COLUMNS, col)) return ORDER_COLUMNS[col]!;
    const f = env.fields.find((x) => x.alias === col);
    if (f?.target.kind === 'column') return f.target.key === 'email' ? 'c.email_normalized' : `c.${f.target.key}`;
    // Custom keys follow ^[a-z][a-z0-9_]*$, so the path is a safe literal.
    if (f?.target.kind === 'custom' && /^[a-z][a-z0-9_]{0,62}$/.test(f.target.def.key)) return `json_extract(c.custom, '$."${f.target.def.key}"')`;
    throw new BadRequestError(`orderBy: "${col}" is not a column Leadline can sort contacts by.`);
  });
  return [...exprs.map((e) => `${e} ${d}`), `c.id ${d}`].join(', ');
}
