import type { InValue } from '@libsql/client';
import { ValidationError } from '../errors';
import type { FieldDef } from '../contacts/fields';
import { dateRange, isRelative } from './dates';
import type { Filter, Op } from './filter';
import { FieldCondition, BehaviourCondition } from './filter';
import type { z } from 'zod';
import { EVENT, NOT_BEHAVIOUR, sqlList } from '../spine/event-types';

const DAY = 86_400_000;

type Kind = 'text' | 'number' | 'bool' | 'ms' | 'date' | 'datetime' | 'list' | 'stage';
interface Target {
  kind: Kind;
  expr: string;
  /** JSON path inside c.custom, for list fields. */
  path?: string;
  company?: boolean;
}

export interface CompileEnv {
  now: number;
  fields: Map<string, FieldDef>;
  /** Stage name (lower-cased) → id. */
  stages: Map<string, number>;
}

/** What a filter reads, so incremental updates re-check only segments a change can affect. */
export interface Dependencies {
  contactColumns: boolean; // built-in or custom fields, points, stage
  tags: boolean;
  dnc: boolean;
  companies: boolean;
  segments: Set<number>;
  eventTypes: Set<string> | 'any';
  /** Relative dates or "within N days": membership changes as time passes. */
  time: boolean;
}

/**
 * Which contacts a statement checks, which decides the plan each condition needs:
 *   full    every contact (rebuilds, counts, previews): a condition over another
 *           table is a set (`c.id IN (SELECT contact_id …)`), so SQLite can start
 *           from that table's index and build the set once for the statement.
 *   scoped  a few known contacts (incremental upkeep): every condition is a
 *           correlated probe (`EXISTS (… WHERE contact_id = c.id …)`); the same IN
 *           would build the set of every tagged contact to check one of them.
 */
export type Form = 'full' | 'scoped';

export interface Compiled {
  /** The full form: for statements over every contact. */
  sql: string;
  args: InValue[];
  /** The same filter in the scoped form: for statements over a few listed contacts. */
  scoped: { sql: string; args: InValue[] };
  deps: Dependencies;
  /** Regular expressions with their paths: the database's REGEXP is stricter than JavaScript's, so callers check them there. */
  regexes: { path: string; pattern: string }[];
}

const CORE: Record<string, Target> = {
  email: { kind: 'text', expr: 'c.email_normalized' },
  first_name: { kind: 'text', expr: 'c.first_name' },
  last_name: { kind: 'text', expr: 'c.last_name' },
  phone: { kind: 'text', expr: 'c.phone' },
  job_title: { kind: 'text', expr: 'c.job_title' },
  city: { kind: 'text', expr: 'c.city' },
  country: { kind: 'text', expr: 'c.country' },
  points: { kind: 'number', expr: 'c.points' },
  stage: { kind: 'stage', expr: 'c.stage_id' },
  created_at: { kind: 'ms', expr: 'c.created_at' },
  updated_at: { kind: 'ms', expr: 'c.updated_at' },
  last_active_at: { kind: 'ms', expr: 'c.last_active_at' },
  first_seen_at: { kind: 'ms', expr: 'c.first_seen_at' },
};

const COMPANY: Record<string, Kind> = {
  name: 'text',
  domain: 'text',
  industry: 'text',
  city: 'text',
  country: 'text',
  employees: 'number',
  annual_revenue: 'number',
};

const BEHAVIOUR_TYPES: Record<string, string | null> = {
  visited: EVENT.page_view,
  submitted_form: EVENT.form_submit,
  downloaded_asset: EVENT.asset_download,
  custom_event: EVENT.custom,
  opened_email: EVENT.email_opened,
  clicked_email: EVENT.email_clicked,
  any_event: null,
};

const NEGATED: Partial<Record<Op, Op>> = { not_equals: 'equals', not_in: 'in', empty: 'not_empty' };

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (m) => '\\' + m);

class Compiler {
  args: InValue[] = [];
  regexes: { path: string; pattern: string }[] = [];
  deps: Dependencies = {
    contactColumns: false,
    tags: false,
    dnc: false,
    companies: false,
    segments: new Set(),
    eventTypes: new Set(),
    time: false,
  };
  constructor(
    private env: CompileEnv,
    private form: Form,
  ) {}

  /**
   * "The contact has a row in `from` matching `where`", in the statement's form.
   * `where` may hold placeholders: both forms bind them in the same order.
   */
  related(from: string, contactCol: string, where: string): string {
    return this.form === 'full'
      ? `c.id IN (SELECT ${contactCol} FROM ${from} WHERE ${where})`
      : `EXISTS (SELECT 1 FROM ${from} WHERE ${contactCol} = c.id AND ${where})`;
  }

  fail(path: string, message: string): never {
    throw new ValidationError([{ field: path, message }]);
  }

  p(v: InValue): string {
    this.args.push(v);
    return '?';
  }

  node(f: Filter, path: string): string {
    if ('all' in f) return '(' + f.all.map((x, i) => this.node(x, `${path}.all.${i}`)).join(' AND ') + ')';
    if ('any' in f) return '(' + f.any.map((x, i) => this.node(x, `${path}.any.${i}`)).join(' OR ') + ')';
    if ('not' in f) return `(NOT coalesce(${this.node(f.not, `${path}.not`)}, 0))`;
    if ('field' in f) return this.field(f, path);
    if ('behaviour' in f) return this.behaviour(f, path);
    if ('tag' in f) {
      this.deps.tags = true;
      // Full: from contact_tags_tag_idx, the tag's members. Scoped: the primary key (contact_id, tag_id).
      const sql = this.related('contact_tags ct', 'ct.contact_id', `ct.tag_id = (SELECT id FROM tags WHERE name = ${this.p(f.tag.trim().toLowerCase().replace(/\s+/g, ' '))})`);
      return f.has ? sql : `(NOT ${sql})`;
    }
    if ('dnc' in f) {
      this.deps.dnc = true;
      // Full: one scan of do_not_contact (no index leads with the channel, but the
      // table is a small part of contacts). Scoped: its primary key (contact_id, channel).
      const sql = this.related('do_not_contact d', 'd.contact_id', f.dnc === 'any' ? 'true' : `d.channel IN (${this.p(f.dnc)}, 'all')`);
      return f.is ? sql : `(NOT ${sql})`;
    }
    this.deps.segments.add(f.segment);
    // Both forms seek the primary key (segment_id, contact_id): full by its prefix, scoped by all of it.
    const sql = this.related('segment_members m', 'm.contact_id', `m.segment_id = ${this.p(f.segment)}`);
    return f.member ? sql : `(NOT ${sql})`;
  }

  target(name: string, path: string): Target {
    // Own keys only: a field named "constructor" is not Object.prototype's.
    if (Object.hasOwn(CORE, name)) {
      this.deps.contactColumns = true;
      // Reactions move these on new events without touching updated_at, so
      // the contact's events are what must re-check the segment.
      if (name === 'last_active_at' || name === 'first_seen_at') this.deps.eventTypes = 'any';
      return CORE[name]!;
    }
    if (name.startsWith('fields.')) {
      const key = name.slice(7);
      const def = this.env.fields.get(key);
      if (!def) this.fail(`${path}.field`, `no custom field "${key}"`);
      this.deps.contactColumns = true;
      // The path is a literal, not a parameter: comparisons repeat the expression
      // (`x IS NULL OR x <> ?`), and a bound path would shift every later argument.
      if (!/^[a-z][a-z0-9_]{0,62}$/.test(key)) this.fail(`${path}.field`, `no custom field "${key}"`);
      const jp = `$."${key}"`;
      const expr = `json_extract(c.custom, '${jp}')`;
      const kind: Kind =
        def.type === 'number' ? 'number' : def.type === 'boolean' ? 'bool' : def.type === 'date' ? 'date' : def.type === 'datetime' ? 'datetime' : def.type === 'multiselect' ? 'list' : 'text';
      return { kind, expr, path: jp };
    }
    if (name.startsWith('company.')) {
      const col = name.slice(8);
      const kind = Object.hasOwn(COMPANY, col) ? COMPANY[col] : undefined;
      if (!kind) this.fail(`${path}.field`, `companies have no field "${col}"`);
      this.deps.companies = true;
      return { kind, expr: `co.${col}`, company: true };
    }
    this.fail(`${path}.field`, `unknown field "${name}": use a built-in field, fields.<key> or company.<field>`);
  }

  field(f: z.infer<typeof FieldCondition>, path: string): string {
    const t = this.target(f.field, path);
    if (!t.company) return this.compare(t, f.op, f.value, path);
    // Over linked companies a negative means "no company has it", so a contact
    // without a company matches not_equals/not_in/empty, as a NULL field does.
    const positive = NEGATED[f.op];
    // Full: matching companies first, then their contacts by company_contacts' primary
    // key. Scoped: the contact's own links by company_contacts_contact_idx.
    const sql = this.related('company_contacts cc JOIN companies co ON co.id = cc.company_id', 'cc.contact_id', this.compare(t, positive ?? f.op, f.value, path));
    return positive ? `(NOT ${sql})` : sql;
  }

  scalar(t: Target, v: unknown, path: string): InValue {
    switch (t.kind) {
      case 'number':
        if (typeof v !== 'number') this.fail(`${path}.value`, 'must be a number');
        return v;
      case 'bool':
        if (typeof v !== 'boolean') this.fail(`${path}.value`, 'must be true or false');
        return v ? 1 : 0;
      case 'stage': {
        const id = typeof v === 'number' ? v : this.env.stages.get(String(v).trim().toLowerCase());
        if (id === undefined) this.fail(`${path}.value`, `no stage "${String(v)}"`);
        return id;
      }
      default:
        if (typeof v !== 'string' && typeof v !== 'number') this.fail(`${path}.value`, 'must be a string');
        return String(v).toLowerCase();
    }
  }

  // Dates compare as ranges, so "equals yesterday" means any time that day.
  range(t: Target, v: unknown, path: string): [InValue, InValue] {
    const r = dateRange(v, this.env.now);
    if (!r) this.fail(`${path}.value`, 'must be a date: YYYY-MM-DD, an ISO date-time, today, yesterday, -7d, this_month or last_month');
    if (isRelative(v)) this.deps.time = true;
    if (t.kind === 'ms') return r;
    const fmt = (ms: number) => (t.kind === 'date' ? new Date(ms).toISOString().slice(0, 10) : new Date(ms).toISOString());
    return [fmt(r[0]), fmt(r[1])];
  }

  compare(t: Target, op: Op, value: unknown, path: string): string {
    const X = t.kind === 'text' ? `lower(${t.expr})` : t.expr;
    const list = (): unknown[] => {
      if (!Array.isArray(value) || value.length === 0) this.fail(`${path}.value`, `${op} needs a non-empty list`);
      return value;
    };
    const one = (): unknown => {
      if (value === undefined || Array.isArray(value)) this.fail(`${path}.value`, `${op} needs one value`);
      return value;
    };
    if (op === 'empty') return t.kind === 'list' ? `coalesce(json_array_length(c.custom, ${this.p(t.path!)}), 0) = 0` : `(${t.expr} IS NULL OR ${t.expr} = '')`;
    if (op === 'not_empty') return t.kind === 'list' ? `coalesce(json_array_length(c.custom, ${this.p(t.path!)}), 0) > 0` : `(${t.expr} IS NOT NULL AND ${t.expr} <> '')`;
    if (t.kind === 'list') {
      // Multiselect: contains/equals one option, in/not_in any of several.
      const any = (vals: unknown[]) =>
        `EXISTS (SELECT 1 FROM json_each(c.custom, ${this.p(t.path!)}) je WHERE je.value IN (SELECT value FROM json_each(${this.p(JSON.stringify(vals))})))`;
      if (op === 'contains' || op === 'equals') return any([one()]);
      if (op === 'in') return any(list());
      if (op === 'not_in' || op === 'not_equals') return `(NOT ${any(op === 'not_in' ? list() : [one()])})`;
      this.fail(`${path}.op`, `${op} does not apply to a multiselect field`);
    }
    if (t.kind === 'ms' || t.kind === 'date' || t.kind === 'datetime') {
      const r = () => this.range(t, one(), path);
      switch (op) {
        case 'equals': {
          const [s, e] = r();
          return `(${X} >= ${this.p(s)} AND ${X} < ${this.p(e)})`;
        }
        case 'not_equals': {
          const [s, e] = r();
          return `(${X} IS NULL OR ${X} < ${this.p(s)} OR ${X} >= ${this.p(e)})`;
        }
        case 'gt':
          return `${X} >= ${this.p(r()[1])}`;
        case 'gte':
          return `${X} >= ${this.p(r()[0])}`;
        case 'lt':
          return `${X} < ${this.p(r()[0])}`;
        case 'lte':
          return `${X} < ${this.p(r()[1])}`;
        case 'between': {
          const [a, b] = list();
          if (list().length !== 2) this.fail(`${path}.value`, 'between needs [from, to]');
          return `(${X} >= ${this.p(this.range(t, a, path)[0])} AND ${X} < ${this.p(this.range(t, b, path)[1])})`;
        }
        default:
          this.fail(`${path}.op`, `${op} does not apply to a date`);
      }
    }
    if ((t.kind === 'bool' || t.kind === 'stage') && !['equals', 'not_equals', 'in', 'not_in'].includes(op)) {
      this.fail(`${path}.op`, `${op} does not apply to ${t.kind === 'bool' ? 'a boolean' : 'the stage'}`);
    }
    if (t.kind === 'number' && ['contains', 'starts_with', 'ends_with', 'regex'].includes(op)) this.fail(`${path}.op`, `${op} does not apply to a number`);
    switch (op) {
      case 'equals':
        return `${X} = ${this.p(this.scalar(t, one(), path))}`;
      case 'not_equals':
        return `(${t.expr} IS NULL OR ${X} <> ${this.p(this.scalar(t, one(), path))})`;
      case 'gt':
        return `${X} > ${this.p(this.scalar(t, one(), path))}`;
      case 'gte':
        return `${X} >= ${this.p(this.scalar(t, one(), path))}`;
      case 'lt':
        return `${X} < ${this.p(this.scalar(t, one(), path))}`;
      case 'lte':
        return `${X} <= ${this.p(this.scalar(t, one(), path))}`;
      case 'between': {
        const v = list();
        if (v.length !== 2) this.fail(`${path}.value`, 'between needs [from, to]');
        return `(${X} BETWEEN ${this.p(this.scalar(t, v[0], path))} AND ${this.p(this.scalar(t, v[1], path))})`;
      }
      case 'in':
      case 'not_in': {
        const vals = list().map((v) => this.scalar(t, v, path));
        const sql = `${X} IN (SELECT value FROM json_each(${this.p(JSON.stringify(vals))}))`;
        return op === 'in' ? sql : `(${t.expr} IS NULL OR NOT ${sql})`;
      }
      case 'contains':
        return `instr(${X}, ${this.p(String(this.scalar(t, one(), path)))}) > 0`;
      case 'starts_with':
        return `${X} LIKE ${this.p(likeEscape(String(this.scalar(t, one(), path))) + '%')} ESCAPE '\\'`;
      case 'ends_with':
        return `${X} LIKE ${this.p('%' + likeEscape(String(this.scalar(t, one(), path))))} ESCAPE '\\'`;
      case 'regex': {
        const re = one();
        if (typeof re !== 'string' || re.length > 200) this.fail(`${path}.value`, 'must be a regular expression of at most 200 characters');
        try {
          new RegExp(re);
        } catch {
          this.fail(`${path}.value`, 'is not a valid regular expression');
        }
        this.regexes.push({ path: `${path}.value`, pattern: re });
        return `${t.expr} REGEXP ${this.p(re)}`;
      }
      default:
        this.fail(`${path}.op`, `unknown operator ${op}`);
    }
  }

  behaviour(f: z.infer<typeof BehaviourCondition>, path: string): string {
    const type = BEHAVIOUR_TYPES[f.behaviour]!;
    const where = ['e.contact_id = c.id'];
    if (type) {
      where.push(`e.type = ${this.p(type)}`);
      if (this.deps.eventTypes !== 'any') this.deps.eventTypes.add(type);
    } else {
      where.push(`e.type NOT IN (${sqlList(NOT_BEHAVIOUR)})`);
      this.deps.eventTypes = 'any';
    }
    if (f.url) {
      const u = f.url;
      if (u.op === 'regex') {
        try {
          new RegExp(u.value);
        } catch {
          this.fail(`${path}.url.value`, 'is not a valid regular expression');
        }
        this.regexes.push({ path: `${path}.url.value`, pattern: u.value });
      }
      where.push(
        u.op === 'equals'
          ? `e.url = ${this.p(u.value)}`
          : u.op === 'regex'
            ? `e.url REGEXP ${this.p(u.value)}`
            : `e.url LIKE ${this.p((u.op === 'starts_with' ? '' : '%') + likeEscape(u.value) + (u.op === 'ends_with' ? '' : '%'))} ESCAPE '\\'`,
      );
    }
    if (f.form_id) where.push(`e.props ->> 'form_id' = ${this.p(f.form_id)}`);
    if (f.asset_id) where.push(`e.props ->> 'asset_id' = ${this.p(f.asset_id)}`);
    if (f.email_id) where.push(`e.props ->> 'email_id' = ${this.p(f.email_id)}`);
    // A person's opens and clicks: not a privacy proxy's or a link scanner's (props.machine).
    if (type === EVENT.email_opened || type === EVENT.email_clicked) where.push(`(e.props ->> 'machine') IS NOT 1`);
    if (f.name) where.push(`e.name = ${this.p(f.name)}`);
    if (f.within_days) {
      this.deps.time = true;
      where.push(`e.created_at >= ${this.p(this.env.now - f.within_days * DAY)}`);
    }
    // Correlated in both forms: as a set it would read every event of the type.
    const body = `FROM events e WHERE ${where.join(' AND ')}`;
    if (f.min_count <= 1) return `EXISTS (SELECT 1 ${body})`;
    // Stop counting at N: enough is enough.
    return `((SELECT count(*) FROM (SELECT 1 ${body} LIMIT ${this.p(f.min_count)})) >= ${this.p(f.min_count)})`;
  }
}

/**
 * Compiles a filter to SQL boolean expressions over contacts aliased `c`: one per
 * form, from the same walk of the same filter, so they differ only where a
 * condition's plan does (see Form).
 */
export function compileFilter(filter: Filter, env: CompileEnv): Compiled {
  const full = new Compiler(env, 'full');
  const sql = full.node(filter, 'filter');
  const scoped = new Compiler(env, 'scoped');
  const scopedSql = scoped.node(filter, 'filter');
  return { sql, args: full.args, scoped: { sql: scopedSql, args: scoped.args }, deps: full.deps, regexes: full.regexes };
}
