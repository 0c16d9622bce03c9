// Generates hostile requests: for every operation of the OpenAPI document and
// for every public endpoint. Each generator draws from one Rng, so a run is a
// function of its seed.
import { checkQuery } from '../../api/core/util/text';
import { HOSTILE_IDS, HOSTILE_QUERIES } from '../route-contract';
import { createHmac } from 'node:crypto';
import { sign, vid } from '../tracking-helpers';
import type { Rng } from './prng';
import { fieldPaths, makeResolver, operationsOf, sample, setPath, type Operation, type Schema } from './schema';
import { HOSTILE_WEBHOOK_SECRET, ORIGIN, SEGMENT_FILTERS, TYPED_FIELDS, typedKey, type Fixtures } from './fixtures';
import { big, breakJson, concatBytes, deepArray, deepObject, deepOpen, Entries, hostileNumber, hostileString, hostileValue, PROTO_KEYS, Raw, toJson, utf16 } from './values';

export interface HostileRequest {
  method: string;
  /** Path and query as sent. */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** Sent as a stream in pieces (no Content-Length: chunked on the wire). */
  stream?: boolean;
  /** What was generated, for the failure report and the histogram of kinds. */
  kind: string;
  /** The documented template this request exercises, for grouping. */
  template: string;
  /** Statuses the request must get when set (beyond "never a 5xx"). */
  expect?: number[];
  /** Answers may be HTML (the no-JS form fallback). */
  htmlOk?: boolean;
  /** Content-Length sent that is not the body's (in process only: over a socket the server would wait for the rest). */
  declared?: number;
}

export interface Keys {
  admin: string;
  write: string;
  read: string;
}

const MB = 1024 * 1024;
export const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
export const JOB_NAMES = ['reactions', 'webhooks', 'campaigns', 'emails', 'segments', 'retention'];

// Body limits as the app sets them (api/app.ts), to know when 413 is the only right answer.
export const limitFor = (path: string) =>
  path === '/api/v1/contacts/import' ? 10 * MB : path === '/t' ? 32 * 1024 : path.startsWith('/f/') || path.startsWith('/u/') ? 64 * 1024 : path === '/api/v1/assets' ? 25 * MB : MB;

export const EXTRA_IDS = [
  ...PROTO_KEYS,
  '%ED%A0%80',
  '%C0%80',
  '%FF',
  '%E2%80%AE',
  '%2F',
  '..',
  '%2e%2e',
  '%252e',
  ' 1',
  '+1',
  '01',
  '1%20',
  '%EF%BC%91',
  'Infinity',
  'NaN',
  '-0',
  '9007199254740993',
  '1_000',
  '0b1',
  '1;DROP',
  '%',
  '%%',
  '%G0',
];

const DIRTY_QUERY = ['%00', '%01', '%1F', '%7F', '%ED%A0%80', '%ed%bf%bf', 'a%00b'];

const CONTENT_TYPES_WRONG = [
  'text/plain',
  'text/plain;charset=UTF-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'multipart/form-data',
  'application/octet-stream',
  'text/csv',
  'application/xml',
  '',
  'application/json; charset=utf-16',
  'application/json; charset=iso-8859-1',
  'APPLICATION/JSON',
  'application/merge-patch+json',
  'application/vnd.api+json',
  'application/jsonx',
  'application/json;;;',
  'application/json; boundary=--x',
  'image/svg+xml',
];

/** Repeated ASCII strings for header values (header values must be ByteStrings). */
const HEADER_JUNK = ['', ' ', 'null', 'undefined', '\u00ff\u00fe', 'a'.repeat(8000), '*', '"', 'W/"x"', ', , ,', '1e999', '-1', 'http://[::1', 'javascript:alert(1)'];

/** encodeURIComponent throws on lone surrogates; percent-encode them as the CESU bytes a browser never sends. */
function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s.replace(/[\s\S]/g, (ch) => {
      const c = ch.charCodeAt(0);
      if (c >= 0xd800 && c <= 0xdfff) return `%${(0xe0 | (c >> 12)).toString(16)}%${(0x80 | ((c >> 6) & 63)).toString(16)}%${(0x80 | (c & 63)).toString(16)}`.toUpperCase();
      return encodeURIComponent(ch);
    });
  }
}

/** Values on and past the edge of each custom field type's rules. */
export function typedValue(r: Rng, type: string): unknown {
  const edge: Record<string, unknown[]> = {
    text: ['', ' ', 'Ü'.repeat(1001), big(10_001)],
    textarea: ['line\r\nline', big(70_000)],
    number: [0, -0, 1.5, 1e308, '12', '12abc', '1e999', 2 ** 53 + 2, '', 'NaN', ' 7 '],
    boolean: [true, 'yes', 'no', 'TRUE', 'maybe', 0, 1, '1', ''],
    date: ['2026-02-28', '2026-02-30', '2026-13-01', '0000-01-01', '9999-12-31', '2026-1-1', '2026-01-01T00:00:00Z', '+275760-09-13', ''],
    datetime: ['2026-01-01T10:00:00Z', '2026-01-01T25:00:00Z', '2026-01-01', '2026-01-01T10:00:00+14:00', '+275760-09-13T00:00:00Z', '-271821-04-20T00:00:00Z', 'Z'],
    email: ['ADA@Example.COM ', 'ü@exämple.com', 'a@b', 'a@@b.co', `${big(250, 'a')}@b.co`],
    url: ['https://example.com/ü?q=1#x', 'javascript:alert(1)', 'http://', 'ftp://x.y', '//x.y', 'http://[::1]:99999/'],
    tel: ['+44 20 7946 0000', 'abc', '+'.repeat(41), '(0)'],
    select: ['a', 'Ü', 'ü', 'c', ['a'], ''],
    multiselect: [['a', 'b'], ['a', 'a'], ['c'], 'a|b', 'a;Ü', [], [1]],
    country: ['GB', 'gb', 'XX', 'United Kingdom', 'Deutschland', '', 'GBR'],
  };
  return r.chance(0.8) ? r.pick(edge[type] ?? ['x']) : hostileValue(r);
}

export class Generator {
  readonly ops: Operation[];
  private readonly resolve: ReturnType<typeof makeResolver>;
  private readonly fields = new Map<string, { path: string[]; schema: Schema }[]>();
  fx!: Fixtures;

  constructor(
    private readonly r: Rng,
    doc: any,
    private readonly keys: Keys,
  ) {
    this.ops = operationsOf(doc);
    this.resolve = makeResolver(doc);
    for (const op of this.ops) {
      const json = op.body?.['application/json'];
      if (json) this.fields.set(`${op.method} ${op.path}`, fieldPaths(json, this.resolve));
    }
  }

  /** One hostile request, anywhere. */
  next(): HostileRequest {
    const r = this.r;
    return r.weighted<() => HostileRequest>([
      [60, () => this.apiRequest(this.nextOp())],
      [8, () => this.track()],
      [8, () => this.formSubmit()],
      [3, () => this.formRead()],
      [3, () => this.focus()],
      [3, () => this.asset()],
      [3, () => this.landingPage()],
      [3, () => this.emailLink()],
      [4, () => this.unsubscribe()],
      [2, () => this.resendWebhook()],
      [2, () => this.dealWebhook()],
      [2, () => this.scripts()],
      [2, () => this.plainPages()],
      [3, () => this.jobs()],
      [2, () => this.preflight()],
      [3, () => this.wrongMethod()],
      [2, () => this.strayPath()],
    ])();
  }

  private queue: Operation[] = [];
  /** Operations in turn, each cycle shuffled: every one is walked once per ops.length API requests. */
  private nextOp(): Operation {
    if (!this.queue.length) {
      this.queue = [...this.ops];
      for (let i = this.queue.length - 1; i > 0; i--) {
        const j = this.r.int(i + 1);
        [this.queue[i], this.queue[j]] = [this.queue[j]!, this.queue[i]!];
      }
    }
    return this.queue.pop()!;
  }

  // ---- the private API, operation by operation ----

  private auth(method: string, path: string): { headers: Record<string, string>; expect?: number[]; kind: string } {
    const r = this.r;
    // The sign-in endpoints take no key: whatever Authorization says, the body decides.
    const signIn = path.startsWith('/api/v1/auth/') && path !== '/api/v1/auth/me' && path !== '/api/v1/auth/logout';
    const needed = /^\/api\/v1\/(api-keys|users|jobs)/.test(path) ? 'admin' : method === 'GET' || method === 'HEAD' ? 'read' : 'write';
    const rank = { read: 0, write: 1, admin: 2 } as const;
    const scoped = (scope: keyof Keys) => ({
      headers: { authorization: `Bearer ${this.keys[scope]}` },
      expect: rank[scope] < rank[needed] ? [403] : undefined,
      kind: `key:${scope}`,
    });
    const pick = r.weighted<() => { headers: Record<string, string>; expect?: number[]; kind: string }>([
      [55, () => scoped('admin')],
      [8, () => scoped('write')],
      [8, () => scoped('read')],
      [5, () => ({ headers: {}, expect: [401], kind: 'key:none' })],
      [4, () => ({ headers: { authorization: `Bearer ${this.fx.revokedKey}` }, expect: [401], kind: 'key:revoked' })],
      [4, () => ({ headers: { authorization: `Bearer ll_${r.pick(['x', big(300, 'A'), 'not-a-real-key', '\u00ff\u00fe'])}` }, expect: [401], kind: 'key:garbage' })],
      [
        4,
        () => ({
          headers: { authorization: r.pick(['Bearer', 'Bearer ', 'Basic YWRtaW46YWRtaW4=', `bearer  ${this.keys.admin}  x`, `Token ${this.keys.admin}`, 'Bearer ' + big(20_000, 'k'), `Bearer ${this.keys.admin.slice(0, -1)}`]) },
          expect: [401],
          kind: 'key:malformed',
        }),
      ],
      [2, () => ({ headers: { authorization: `Bearer ${this.keys.admin}`, cookie: `sid=${big(4000, 'c')}`, 'x-forwarded-for': '127.0.0.1, ::1, evil' }, kind: 'key:admin+junk-headers' })],
      // A session cookie that is no session: refused like a bad key.
      [2, () => ({ headers: { cookie: `ll_session=${r.pick(['x', big(43, 'A'), big(5000, 's'), '%00', ''])}` }, expect: [401], kind: 'session:garbage' })],
    ])();
    return signIn ? { ...pick, expect: undefined } : pick;
  }

  private realId(collection: string): string {
    const pool = this.fx.ids[collection];
    return String(pool?.length ? this.r.pick(pool) : 1);
  }

  private hostileId(): string {
    return this.r.chance(0.5) ? this.r.pick(HOSTILE_IDS) : this.r.pick(EXTRA_IDS);
  }

  private fillPath(op: Operation, hostileChance = 0.35): { path: string; hostile: boolean } {
    const r = this.r;
    let hostile = false;
    const segments = op.path.split('/');
    const out = segments.map((seg, i) => {
      const m = /^\{(.+)\}$/.exec(seg);
      if (!m) return seg;
      const name = m[1]!;
      const param = op.params.find((p) => p.in === 'path' && p.name === name);
      if (r.chance(hostileChance)) {
        hostile = true;
        return this.hostileId();
      }
      if (param?.schema?.enum) return r.chance(0.9) ? String(r.pick(param.schema.enum)) : 'fax';
      if (name === 'name' || name === 'tag') return enc(r.chance(0.8) ? r.pick(this.fx.tags) : hostileString(r).slice(0, 300));
      if (name === 'contactId') return this.realId('contacts');
      return r.chance(0.9) ? this.realId(segments[i - 1]!) : String(r.pick([2 ** 31, 2 ** 53 - 1, 123456]));
    });
    return { path: out.join('/'), hostile };
  }

  private query(op: Operation, only?: string): { q: string; dirty: boolean; unknown: boolean; kind: string } {
    const r = this.r;
    const declared = op.params.filter((p) => p.in === 'query');
    const mode = only ?? r.weighted<string>([
      [4, 'none'],
      [4, 'declared'],
      [3, 'hostile'],
      [2, 'list'],
      [1, 'unknown'],
      [1, 'dirty'],
      [1, 'repeat'],
      [1, 'huge'],
    ]);
    const pairs: [string, string][] = [];
    let raw = false;
    // How many pairs at the end are written as given (already encoded, or broken on purpose).
    let rawTail = 0;
    let dirty = false;
    const valueFor = (p: { name: string; schema: Schema }) => {
      const s = this.resolve(p.schema);
      if (p.name === 'site_id') return String(this.fx.site.id);
      if (p.name === 'visitor_id') return this.fx.visitorUid;
      if (p.name === 'tag') return this.fx.tags[0]!;
      if (p.name === 'mapping') return JSON.stringify({ email: 'email', name: 'first_name' });
      if (p.name === 'from' || p.name === 'to') return r.pick(['2026-01-01', '2026-01-01T00:00:00Z', '1970-01-01']);
      if (p.name === 'filename') return 'upload.txt';
      if (p.name === 'gate_form_id' || p.name === 'company_id') return String(this.fx.ids[p.name === 'company_id' ? 'companies' : 'forms']![0]);
      return String(sample(s, this.resolve, 0, p.name) ?? '1');
    };
    switch (mode) {
      case 'declared':
        for (const p of declared) if (r.chance(0.6)) pairs.push([p.name, valueFor(p)]);
        break;
      case 'hostile':
        for (const p of declared) {
          if (!r.chance(0.6)) continue;
          pairs.push([
            p.name,
            p.name === 'mapping'
              ? r.pick([toJson(deepArray(3000)), toJson(deepObject(1500)), '{"__proto__":"email","constructor":"email"}', '{"email":{"toString":1}}', '[]', 'null', '"x"', big(10_001, '{')])
              : r.pick([...HOSTILE_IDS, ...EXTRA_IDS, '', 'true', '[]', '{}', hostileString(r).slice(0, 3000)]),
          ]);
        }
        if (!pairs.length) pairs.push(['limit', r.pick(['-1', 'abc', '1e999', '0x10'])]);
        break;
      case 'list': {
        raw = true;
        const q = r.pick(HOSTILE_QUERIES);
        for (const part of q.split('&')) {
          const [k, v] = part.split('=');
          pairs.push([k!, v ?? '']);
          rawTail++;
        }
        break;
      }
      case 'unknown':
        pairs.push([r.pick(['bogus', 'LIMIT', 'limit[]', 'filter[email]', '__proto__', 'constructor', 'a.b', '', '=']), r.pick(['1', '', hostileString(r).slice(0, 100)])]);
        break;
      case 'dirty':
        raw = true;
        dirty = true;
        pairs.push([r.pick([...declared.map((p) => p.name), 'q', 'x']), `a${r.pick(DIRTY_QUERY)}b`]);
        rawTail = 1;
        break;
      case 'repeat':
        for (const p of declared) pairs.push([p.name, valueFor(p)], [p.name, r.pick(['2', '', 'x'])]);
        if (!declared.length) pairs.push(['x', '1'], ['x', '2']);
        break;
      case 'huge':
        pairs.push([r.pick([...declared.map((p) => p.name), 'pad']), big(r.pick([5_000, 60_000]), 'q')]);
        break;
    }
    // Bad percent escapes are not control characters: they must be a 4xx or ignored, never a 5xx.
    if (!dirty && r.chance(0.04)) {
      raw = true;
      pairs.push(['q', r.pick(['%', '%zz', '%E2%82', '%C3', '+%2B+', '%u0041'])]);
      rawTail = rawTail ? rawTail + 1 : 1;
    }
    // Unknown parameters are ignored today; a refusal (400) is coming, and either is right.
    const unknown = pairs.some(([k]) => !declared.some((p) => p.name === k));
    // Raw values were percent-encoded (or broken) on purpose; the rest are encoded here.
    const q = pairs.length ? '?' + pairs.map(([k, v], i) => `${enc(k)}=${raw && i >= pairs.length - rawTail ? v : enc(v)}`).join('&') : '';
    return { q, dirty, unknown, kind: `query:${mode}` };
  }

  /** A JSON body for the operation: its valid base, then one kind of damage. */
  private jsonBody(op: Operation, key: string, only?: string): { body: string | Uint8Array; kind: string; contentType: string; oversize: boolean; stream: boolean } {
    const r = this.r;
    const schema = op.body?.['application/json'];
    let base: any = structuredClone(this.fx.bodies[key] ?? this.patchBase(op) ?? sample(schema, this.resolve, 0, '', (name) => this.idFor(name)));
    // The contact's custom fields are a free-form object in the schema: fill it with typed edge values.
    if (!only && /^(POST \/api\/v1\/contacts|PATCH \/api\/v1\/contacts\/\{id\}|POST \/api\/v1\/contacts\/batch)$/.test(key) && r.chance(0.5)) {
      const fields = this.typedFields();
      if (key.endsWith('/batch')) base = { contacts: Array.from({ length: 1 + r.int(5) }, (_, i) => ({ email: `batch-${i}-${r.int(1e6)}@example.com`, fields: this.typedFields() })) };
      else base = { ...(base && typeof base === 'object' ? base : {}), fields };
    }
    if (!only && (key.endsWith('/segments') || key.endsWith('/segments/preview') || key.endsWith('/segments/{id}'))) {
      if (r.chance(0.7)) base = { ...(base ?? {}), filter: this.hostileFilter() };
    }
    if (!only && (key === 'POST /api/v1/campaigns' || key === 'PATCH /api/v1/campaigns/{id}') && r.chance(0.5)) {
      base = { ...(base && typeof base === 'object' ? base : {}), name: `Hostile ${r.int(1e6)}`, definition: this.hostileDefinition() };
    }
    let kind: string;
    let text: string | Uint8Array;
    let contentType = 'application/json';
    let oversize = false;
    const paths = this.fields.get(key) ?? [];
    const mode = only ?? r.weighted<string>([
      [10, 'valid'],
      [30, 'wrong-type'],
      [8, 'many-wrong'],
      [8, 'proto-keys'],
      [10, 'replace'],
      [10, 'broken'],
      [3, 'oversize'],
      [12, 'content-type'],
      [4, 'deep'],
    ]);
    switch (mode) {
      case 'wrong-type':
      case 'many-wrong': {
        const n = mode === 'many-wrong' ? 2 + r.int(4) : 1;
        const names: string[] = [];
        for (let i = 0; i < n && paths.length; i++) {
          const p = r.pick(paths);
          base = setPath(base, p.path, hostileValue(r));
          names.push(p.path.join('.'));
        }
        kind = `body:${mode}:${names.join(',') || '-'}`;
        text = toJson(base);
        break;
      }
      case 'proto-keys': {
        const k = r.pick(PROTO_KEYS);
        const target = paths.length && r.chance(0.5) ? r.pick(paths).path : [];
        const inner = new Entries([[k, r.pick<unknown>([1, 'x', { admin: true }, null, [], hostileString(r)])]]);
        if (target.length) base = setPath(base, target, inner);
        else base = new Entries([...(base && typeof base === 'object' && !Array.isArray(base) ? Object.entries(base) : []), [k, r.pick<unknown>([{ polluted: true }, 'x', 1])]]);
        kind = `body:proto-key:${k}@${target.join('.') || 'top'}`;
        text = toJson(base);
        break;
      }
      case 'replace':
        text = toJson(hostileValue(r));
        kind = 'body:replaced';
        break;
      case 'broken':
        text = breakJson(r, toJson(base));
        kind = 'body:broken-json';
        break;
      case 'oversize': {
        const limit = limitFor(op.path);
        // Huge limits (CSV, assets) are crossed rarely: 10–25 MB per request adds up.
        const size = limit > 2 * MB && r.chance(0.8) ? MB : limit + 1024;
        text = toJson({ ...(base && typeof base === 'object' ? base : {}), pad: big(size) });
        oversize = text.length > limit;
        kind = `body:oversize:${text.length}`;
        break;
      }
      case 'content-type':
        contentType = r.pick(CONTENT_TYPES_WRONG);
        text = contentType.includes('utf-16') && r.chance(0.5) ? utf16(toJson(base)) : toJson(base);
        kind = `body:content-type:${contentType || 'none'}`;
        break;
      case 'deep':
        text = toJson(r.pick([deepArray(5000), deepObject(5000), deepOpen(5000), deepArray(65), new Raw(`{"name":${toJson(deepArray(20_000))}}`)]));
        kind = 'body:deep';
        break;
      default:
        text = toJson(only ? uniquify(base, r.int(1e9)) : base);
        kind = 'body:valid';
    }
    return { body: text, kind, contentType, oversize, stream: !only && r.chance(0.1) };
  }

  typedFields(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const type of TYPED_FIELDS) if (this.r.chance(0.3)) out[typedKey(type)] = typedValue(this.r, type);
    if (this.r.chance(0.1)) out[this.r.pick(['nope', ...PROTO_KEYS, ''])] = 'x';
    return out;
  }

  /** A real id for a property named like "contact_id" (the pools are keyed by collection). */
  idFor(name: string): number | string | undefined {
    if (name === 'visitor_id') return this.fx.visitorUid;
    const collection: Record<string, string> = {
      contact_id: 'contacts',
      stage_id: 'stages',
      segment_id: 'segments',
      form_id: 'forms',
      gate_form_id: 'forms',
      site_id: 'sites',
      asset_id: 'assets',
      focus_id: 'focus-items',
      slot_id: 'slots',
      company_id: 'companies',
    };
    const pool = collection[name] ? this.fx.ids[collection[name]!] : undefined;
    return pool?.length ? this.r.pick(pool) : undefined;
  }

  /** PATCH bases: some fields of the same collection's create body. */
  private patchBase(op: Operation): unknown {
    if (op.method !== 'PATCH') return undefined;
    const collection = op.path.replace(/\/\{id\}$/, '');
    const full = this.fx.bodies[`POST ${collection}`];
    if (!full || typeof full !== 'object') return undefined;
    // Only what the patch schema names (some fields cannot change after create).
    const named = new Set(Object.keys(this.resolve(op.body?.['application/json']).properties ?? {}));
    const entries = Object.entries(full).filter(([k]) => named.has(k) && this.r.chance(0.5));
    return Object.fromEntries(entries);
  }

  /** Segment filters: valid ones with a hostile part (the filter schema is free-form, so the document names no fields in it). */
  hostileFilter(): unknown {
    const r = this.r;
    const base: any = structuredClone(r.pick(SEGMENT_FILTERS));
    const key = r.pick(['field', 'op', 'value', 'tag', 'has', 'dnc', 'is', 'segment', 'member', 'behaviour', 'url', 'within_days', 'all', 'any', 'not', 'count', 'form_id', 'asset_id', 'name', ...PROTO_KEYS]);
    const value = r.weighted<() => unknown>([
      [4, () => hostileValue(r)],
      [2, () => r.pick(['fields.constructor', 'company.__proto__', 'fields.', 'company.', 'fields.fx_text', 'points', 'stage', 'tags', 'last_active', '__proto__'])],
      [2, () => r.pick(['regex', 'between', 'in', 'not_in', 'gt', 'empty', 'contains', 'nope'])],
      [1, () => ({ op: 'regex', value: r.pick(['(a+)+$', '[', '(?<=x)', '\\', big(600, 'a')]) })],
      [1, () => Array.from({ length: r.pick([0, 1, 101, 2000]) }, () => ({ tag: 'x' }))],
      [1, () => ({ not: { not: { not: { all: [] } } } })],
      [1, () => r.pick([this.fx.ids.segments![0], 999_999, -1, 0, 1.5])],
    ])();
    if (r.chance(0.2)) return { all: [base, { [key]: value }] };
    return setPath(base, [key], value);
  }

  /**
   * Campaign definitions: the fixture's valid one with a hostile graph or step (the schema names
   * the shape, not the meaning): cycles, self-loops, dangling and duplicate ids, prototype-named
   * ids, the longest chain and one step over, dense DAGs, bad splits, waits and webhook targets,
   * deep or broken filters, ids of nothing, a campaign enrolling into itself.
   */
  hostileDefinition(): unknown {
    const r = this.r;
    const def: any = structuredClone((this.fx.bodies['POST /api/v1/campaigns'] as any)?.definition ?? { start: 'a', steps: [] });
    const tag = (id: string, next: string | null) => ({ id, type: 'action', action: { type: 'add_tags', tags: ['h'] }, next });
    const chain = (n: number) => Array.from({ length: n }, (_, i) => tag(`s${i}`, i + 1 < n ? `s${i + 1}`: null));
    // Each step leads to the next two: many paths, one graph walk.
    const dag = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ id: `s${i}`, type: 'decision', on: { points_at_least: i }, timeout: { minutes: 1 }, yes: i + 1 < n ? `s${i + 1}` : null, no: i + 2 < n ? `s${i + 2}` : null }));
    const step = (s: unknown) => ({ ...def, start: 'x', steps: [s] });
    const id = () => r.pick([...PROTO_KEYS.filter((k) => /^[A-Za-z0-9_-]+$/.test(k)), 'a', hostileString(r).slice(0, 60)]);
    return r.weighted<() => unknown>([
      [2, () => ({ ...def, start: 'a', steps: [tag('a', 'b'), tag('b', 'c'), tag('c', 'a')] })],
      [1, () => ({ ...def, start: 'a', steps: [tag('a', 'a')] })],
      [1, () => ({ ...def, start: 'a', steps: [tag('a', 'nowhere'), tag('lost', null)] })],
      [1, () => ({ ...def, start: 'a', steps: [tag('a', null), tag('a', null)] })],
      [2, () => {
        const a = id();
        const b = id();
        return { ...def, start: a, steps: [tag(a, b), tag(b, null)], goals: [{ id: r.pick(['constructor', '__proto__', 'toString']), on: { event: 'custom', name: 'x' } }] };
      }],
      [1, () => ({ ...def, start: 's0', steps: chain(r.pick([200, 201, 5000])) })],
      [1, () => ({ ...def, start: 's0', steps: dag(r.pick([60, 200])) })],
      [1, () => step({ id: 'x', type: 'split', branches: r.pick([[], [{ percent: 100, next: null }], [{ percent: 0, next: null }, { percent: 100, next: null }], [{ percent: 50, next: null }, { percent: 50.5, next: null }], Array.from({ length: 100 }, () => ({ percent: 1, next: null }))]) })],
      [2, () => step({ id: 'x', type: 'wait', next: null, wait: r.pick<unknown>([{}, { for: {} }, { for: { days: 3650, hours: 100_000, minutes: 10_000_000 } }, { until: r.pick(['9999-12-31T23:59:59Z', '0000-01-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-01-01T00:00:00+99:00', 'tomorrow']) }, { window: { days: ['mon', 'mon', 'sun'], from: '23:59', to: '00:00' } }, { window: { days: [], from: '09:00', to: '10:00' } }, { for: { days: 1 }, until: '2026-01-01T00:00:00Z' }]) })],
      [2, () => step({ id: 'x', type: 'action', next: null, action: { type: 'webhook', url: r.pick(['http://169.254.169.254/latest', 'http://[::ffff:10.0.0.1]/', 'file:///etc/passwd', 'http://0x7f.1/', 'http://10.1.2.3/', 'https://example.com/' + big(3000, 'a'), 'javascript:alert(1)']) } })],
      [2, () => step({ id: 'x', type: 'condition', filter: this.hostileFilter(), yes: null, no: null })],
      [1, () => ({ ...def, goals: [{ id: 'g', filter: this.hostileFilter() }] })],
      [1, () => step({ id: 'x', type: 'action', next: null, action: { type: 'set_fields', fields: { [r.pick(['fields.__proto__', 'fields.constructor', 'constructor', 'email', 'fields.x', 'points', 'fields.' + big(100, 'a')])]: hostileValue(r) } } })],
      [1, () => step({ id: 'x', type: 'action', next: null, action: r.pick<unknown>([{ type: 'enroll', campaign_id: r.pick([...(this.fx.ids.campaigns ?? []), 2 ** 53, 0]) }, { type: 'send_email', email_id: r.pick([999_999, 2 ** 53 - 1, -1]) }, { type: 'notify', email_id: this.fx.ids.emails?.[0] ?? 1, to_field: r.pick(['fields.owner', 'email', 'fields.__proto__']) }, { type: 'points', op: 'set', value: 1e300 }, { type: 'exit', extra: 1 }]) })],
      [1, () => step({ id: 'x', type: 'decision', yes: null, no: null, timeout: { minutes: 1 }, on: r.pick<unknown>([{ event: 'custom' }, { event: 'page_view', url: { op: 'regex', value: '(a+)+$' } }, { event: 'email_clicked', email_id: 1, form_id: 2 }, { points_at_least: 1, stage_id: 1 }, { stage_id: 999_999 }]) })],
      [1, () => ({ ...def, sources: Array.from({ length: r.pick([1, 21]) }, () => r.pick<unknown>([{ type: 'segment', segment_id: 999_999 }, { type: 'form', form_id: 0 }, { type: 'event', name: hostileString(r).slice(0, 200) }])) })],
      [1, () => ({ ...def, reentry: r.pick<unknown>([{ after_days: 0 }, 'always', { after_days: 1e9 }, null]) })],
    ])();
  }

  private csvBody(): { body: string | Uint8Array; kind: string } {
    const r = this.r;
    const header = r.weighted<() => string>([
      [3, () => 'email,first_name,tags,fx_text'],
      [2, () => `email,${TYPED_FIELDS.map(typedKey).join(',')}`],
      [1, () => `email,${PROTO_KEYS.join(',')}`],
      [1, () => 'constructor,toString,__proto__'],
      [1, () => `email,"na\u0000me","\ud800"`],
      [1, () => `"email`],
      [1, () => big(5000, 'h,') + 'email'],
      [1, () => ''],
      [1, () => 'email,email,EMAIL, Email '],
    ])();
    const rows: string[] = [];
    const n = r.pick([0, 1, 3, 20, 2000]);
    for (let i = 0; i < n; i++) {
      rows.push(
        r.weighted<() => string>([
          [4, () => `csv-${i}-${r.int(1e9)}@example.com,Ada,vip|x;y,abc`],
          [3, () => [`csv-${i}-${r.int(1e9)}@example.com`, ...TYPED_FIELDS.map((type) => csvCellOf(typedValue(r, type)))].join(',')],
          [2, () => `${hostileString(r).slice(0, 400).replace(/[\n\r]/g, ' ')},x`],
          [1, () => `"unterminated,${i}`],
          [1, () => `a@example.com,"${big(5000, '"')}"`],
          [1, () => `\u0000,\u0000,\u0000`],
          [1, () => big(300, ',')],
        ])(),
      );
    }
    let text = [header, ...rows].join(r.pick(['\n', '\r\n', '\r']));
    if (r.chance(0.05)) text = `email\n${big(100_001, 'x@example.com\n')}`;
    return { body: r.chance(0.1) ? concatBytes(new TextEncoder().encode(text), Uint8Array.from([0xff, 0xfe, 0xed, 0xa0, 0x80, 0x0a])) : text, kind: `csv:${n}-rows` };
  }

  private multipartBody(): { body: Uint8Array | string; contentType: string; kind: string } {
    const r = this.r;
    const boundary = r.pick(['XyZ', 'a'.repeat(70), '--', '"quoted"']);
    const part = (name: string, value: string, filename?: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename !== undefined ? `; filename="${filename}"` : ''}\r\n${filename !== undefined ? 'Content-Type: text/plain\r\n' : ''}\r\n${value}\r\n`;
    const mode = r.pick(['ok', 'no-file', 'hostile-meta', 'truncated', 'bad-boundary', 'two-files', 'file-as-text']);
    let text = '';
    if (mode !== 'no-file') text += part('file', 'file body', r.pick(['a.txt', '', '../../etc/passwd', 'x\u00ff.pdf', big(2000, 'f')]));
    if (mode === 'two-files') text += part('file', 'second', 'b.txt');
    if (mode === 'file-as-text') text = part('file', 'not a file');
    if (mode === 'hostile-meta') {
      text += part('title', r.pick(['', big(300, 't'), 'T\u0000itle']));
      text += part('slug', r.pick(['UPPER', '-x-', '__proto__', big(200, 's')]));
      text += part('gate_form_id', r.pick(['abc', '-1', '1e999', String(this.fx.formId), '999999']));
      text += part(r.pick(PROTO_KEYS), 'x');
    }
    text += `--${boundary}--\r\n`;
    if (mode === 'truncated') text = text.slice(0, r.int(text.length));
    const contentType = mode === 'bad-boundary' ? 'multipart/form-data; boundary=nope' : `multipart/form-data; boundary=${boundary}`;
    return { body: text, contentType, kind: `multipart:${mode}` };
  }

  /**
   * The happy path: real ids, the admin key, a body that should pass (names and keys made
   * unique). It creates the state the hostile requests then run into, and reaches the code
   * past validation.
   */
  happyRequest(op: Operation): HostileRequest {
    const r = this.r;
    const key = `${op.method} ${op.path}`;
    const { path } = this.fillPath(op, 0);
    const { q } = this.query(op, r.chance(0.5) ? 'declared' : 'none');
    const headers: Record<string, string> = { authorization: `Bearer ${this.keys.admin}` };
    let body: string | Uint8Array | undefined;
    if (op.body?.['text/csv']) {
      body = [`email,first_name,tags,${TYPED_FIELDS.map(typedKey).join(',')}`, ...Array.from({ length: 1 + r.int(20) }, (_, i) => `happy-${i}-${r.int(1e9)}@example.com,Ada,vip|new,${TYPED_FIELDS.map((t) => csvCellOf(typedValue(r, t))).join(',')}`)].join('\n');
      headers['content-type'] = 'text/csv';
    } else if (op.body?.['multipart/form-data']) {
      body = 'happy file';
      headers['content-type'] = 'text/plain';
    } else if (op.body) {
      body = this.jsonBody(op, key, 'valid').body;
      headers['content-type'] = 'application/json';
    }
    const upload = op.body?.['multipart/form-data'] ? `${q ? '&' : '?'}filename=happy-${r.int(1e9)}.txt` : '';
    return { method: op.method, path: path + q + upload, headers, body: op.method === 'GET' ? undefined : body, kind: 'happy path', template: key, expect: queryRefused(q) ? [400] : undefined };
  }

  apiRequest(op: Operation): HostileRequest {
    const r = this.r;
    const key = `${op.method} ${op.path}`;
    if (r.chance(0.2)) return this.happyRequest(op);
    const { path, hostile } = this.fillPath(op);
    const { q, dirty, unknown, kind: qkind } = this.query(op);
    const auth = this.auth(op.method, op.path);
    const headers: Record<string, string> = { ...auth.headers };
    let body: string | Uint8Array | undefined;
    let bkind = 'no-body';
    let oversize = false;
    let stream = false;
    if (op.body?.['text/csv']) {
      const c = this.csvBody();
      body = c.body;
      bkind = c.kind;
      headers['content-type'] = r.chance(0.85) ? 'text/csv' : r.pick(CONTENT_TYPES_WRONG);
      stream = r.chance(0.1);
    } else if (op.body?.['multipart/form-data']) {
      if (r.chance(0.5)) {
        const m = this.multipartBody();
        body = m.body;
        bkind = m.kind;
        headers['content-type'] = m.contentType;
      } else {
        body = r.pick(['hello', '', big(70_000, 'b')]);
        bkind = `raw-upload:${body.length}`;
        headers['content-type'] = r.pick(['text/plain', 'application/pdf', 'text/html', 'image/svg+xml', 'application/x-www-form-urlencoded', 'application/json', '', 'x/\u00ff']);
      }
      stream = r.chance(0.15);
    } else if (op.body || r.chance(0.15)) {
      const b = this.jsonBody(op, key);
      body = b.body;
      bkind = b.kind;
      oversize = b.oversize;
      stream = b.stream;
      if (b.contentType) headers['content-type'] = b.contentType;
    }
    if (headers['content-type'] === '') delete headers['content-type'];
    // A declared length over the limit is refused before reading: how 10 and 25 MB limits are crossed in process without sending that much.
    let declared: number | undefined;
    if (body !== undefined && !stream && r.chance(0.03)) {
      declared = limitFor(path) + 1;
      headers['content-length'] = String(declared);
    }
    if (r.chance(0.05)) headers['idempotency-key'] = r.pick(['', 'k', big(300, 'i'), '\u00ff', `key-${r.int(5)}`]);
    if (r.chance(0.03)) headers['accept-encoding'] = r.pick(HEADER_JUNK);
    // Request bodies are never decoded: a declared coding changes nothing, or is refused.
    if (r.chance(0.02)) headers['content-encoding'] = r.pick(['gzip', 'br', 'deflate', 'identity', 'x-junk']);
    const methodSendsBody = op.method !== 'GET' && op.method !== 'HEAD';
    const size = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    oversize = size > limitFor(path) || declared !== undefined;
    // What must come first, in the order the app checks: query, body size, key, scope.
    let expect: number[] | undefined;
    if (dirty || queryRefused(q)) expect = [400];
    else if (oversize && methodSendsBody) expect = [413];
    else if (auth.expect) expect = unknown ? [...auth.expect, 400] : auth.expect;
    // A dot segment ("..", "%2e%2e") is resolved by URL parsing: the request may land on no route at all.
    if (expect && /\/(?:\.|%2e){1,2}(?:\/|$|\?)/i.test(path)) expect = [...expect, 404];
    return {
      method: op.method,
      path: path + q,
      headers,
      body: methodSendsBody ? body : undefined,
      stream: stream && methodSendsBody && body !== undefined,
      kind: `${auth.kind} ${qkind} ${bkind}${hostile ? ' hostile-id' : ''}${declared ? ` declared-length:${declared}` : ''}`,
      template: key,
      expect,
      declared,
    };
  }

  /**
   * Requests meant to run at the same moment on the same objects: the same new email
   * created eight times, two contacts merged into each other while one is deleted, one
   * submission id posted six times, one email identified from six browsers… Unique keys
   * and transactions must turn every loser into a 2xx or a 4xx, never a 5xx.
   */
  raceBurst(): HostileRequest[] {
    const r = this.r;
    const fx = this.fx;
    const admin = { authorization: `Bearer ${this.keys.admin}`, 'content-type': 'application/json' };
    const req = (method: string, path: string, body?: unknown, template = `${method} ${path}`): HostileRequest => ({
      method,
      path,
      headers: { ...admin },
      body: body === undefined ? undefined : toJson(body),
      kind: 'race',
      template: `race: ${template}`,
    });
    const [a, b, c] = fx.ids.contacts!;
    const n = r.int(1e9);
    const browser = { 'content-type': 'text/plain', origin: ORIGIN, 'user-agent': CHROME };
    const pub = (path: string, body: unknown, template: string): HostileRequest => ({ method: 'POST', path, headers: { ...browser }, body: toJson(body), kind: 'race', template: `race: ${template}` });
    const email = `race-${n}@example.com`;
    return r.weighted<() => HostileRequest[]>([
      [2, () => Array.from({ length: 8 }, (_, i) => req('POST', '/api/v1/contacts', { email: i % 2 ? email.toUpperCase() : ` ${email}`, first_name: `R${i}`, tags: [`race-${i % 3}`] }, 'POST /api/v1/contacts (same email)'))],
      [2, () => [
        req('POST', `/api/v1/contacts/${a}/merge`, { contact_id: b }, 'merge a←b'),
        req('POST', `/api/v1/contacts/${b}/merge`, { contact_id: a }, 'merge b←a'),
        req('POST', `/api/v1/contacts/${c}/merge`, { contact_id: a }, 'merge c←a'),
        req('DELETE', `/api/v1/contacts/${a}`, undefined, 'delete a'),
        req('POST', `/api/v1/contacts/${b}/tags`, { tags: ['merging'] }, 'tag b'),
        req('PUT', `/api/v1/contacts/${a}/stage`, { stage_id: fx.ids.stages![0] }, 'stage a'),
        req('POST', `/api/v1/contacts/${a}/visitors`, { site_id: fx.site.id, visitor_id: fx.visitorUid }, 'link visitor a'),
        req('POST', `/api/v1/contacts/${b}/points`, { op: 'add', value: 5, reason: 'race' }, 'points b'),
      ]],
      [1, () => Array.from({ length: 4 }, (_, i) => req('POST', '/api/v1/contacts/batch', { contacts: [{ email }, { email: email.toUpperCase(), city: `C${i}` }, { email: `b-${email}` }] }, 'batch (same emails)'))],
      [2, () => {
        const sid = `racesid${n}`;
        const body = (i: number) => ({ k: fx.site.public_key, v: `racevisitor${String(n).padStart(10, '0')}${i}`, sid: i < 3 ? sid : `${sid}x${i}`, values: { email: i % 2 ? email : email.toUpperCase(), first_name: `F${i}` }, t: 5000 });
        return Array.from({ length: 6 }, (_, i) => pub(`/f/${fx.formId}`, body(i), 'POST /f/{id} (same sid, same email)'));
      }],
      [2, () => {
        const mail = r.chance(0.5) ? email : `fx-${fx.ids.contacts![0]}@example.com`;
        return Array.from({ length: 6 }, (_, i) =>
          pub('/t', { k: fx.site.public_key, v: `raceidentify${String(n).padStart(10, '0')}${i}`, e: [{ t: 'pv', u: `${ORIGIN}/r${i}` }], id: { email: mail, sig: sign(fx.site.secret, mail) } }, 'POST /t (one email, six browsers)'),
        );
      }],
      [1, () => {
        const seg = fx.ids.segments![0];
        return [
          req('DELETE', `/api/v1/segments/${seg}`, undefined, 'delete segment'),
          req('POST', `/api/v1/segments/${seg}/rebuild`, undefined, 'rebuild segment'),
          req('PUT', `/api/v1/segments/${seg}/members/${a}`, undefined, 'add member'),
          req('PUT', `/api/v1/segments/${seg}/members/${a}`, undefined, 'add member'),
          req('DELETE', `/api/v1/segments/${seg}/members/${a}`, undefined, 'remove member'),
          req('PATCH', `/api/v1/segments/${seg}`, { kind: 'static' }, 'make static'),
          req('POST', '/internal/jobs/segments', undefined, 'segments job'),
        ];
      }],
      [1, () => {
        const tag = `racetag${n}`;
        return [
          ...Array.from({ length: 4 }, (_, i) => req('POST', `/api/v1/contacts/${fx.ids.contacts![i % 3]}/tags`, { tags: [tag, tag.toUpperCase()] }, 'add tag')),
          req('DELETE', `/api/v1/tags/${tag}`, undefined, 'delete tag'),
          req('DELETE', `/api/v1/contacts/${a}/tags/${tag}`, undefined, 'remove tag'),
        ];
      }],
      [1, () => {
        const stage = fx.ids.stages![0];
        return [
          req('DELETE', `/api/v1/stages/${stage}`, undefined, 'delete stage'),
          ...[a, b, c].map((id) => req('PUT', `/api/v1/contacts/${id}/stage`, { stage_id: stage }, 'set stage')),
          req('PATCH', `/api/v1/stages/${stage}`, { position: 0 }, 'move stage'),
        ];
      }],
      [1, () => Array.from({ length: 4 }, () => req('POST', '/api/v1/fields', { key: `race_${n}`, label: 'Race', type: 'text' }, 'POST /api/v1/fields (same key)'))],
      [1, () => [...JOB_NAMES, ...JOB_NAMES].map((name) => req('POST', `/internal/jobs/${name}`, undefined, `job ${name} twice at once`))],
      [1, () => {
        const form = fx.formId;
        return [
          req('DELETE', `/api/v1/forms/${form}`, undefined, 'delete form'),
          req('PATCH', `/api/v1/forms/${form}`, { name: 'Renamed' }, 'rename form'),
          pub(`/f/${form}`, { k: fx.site.public_key, v: null, sid: `racedel${n}`, values: { email }, t: 5000 }, 'submit while deleted'),
          req('DELETE', `/api/v1/assets/${fx.ids.assets![0]}`, undefined, 'delete asset'),
          req('DELETE', `/api/v1/sites/${fx.site.id}`, undefined, 'delete site'),
          pub('/t', { k: fx.site.public_key, v: 'racesitevisitor00001', e: [{ t: 'pv', u: `${ORIGIN}/` }] }, 'hit while site deleted'),
        ];
      }],
    ])();
  }

  // ---- the public endpoints ----

  private publicHeaders(): { headers: Record<string, string>; kind: string } {
    const r = this.r;
    const headers: Record<string, string> = {};
    const origin = r.weighted<string | null>([
      [8, ORIGIN],
      [1, 'https://sub.example.org'],
      [1, 'https://evil.example'],
      [1, 'null'],
      [1, null],
      [1, r.pick(HEADER_JUNK)],
    ]);
    if (origin !== null) headers.origin = origin;
    if (r.chance(0.1)) headers.referer = r.pick([`${ORIGIN}/from`, 'not a url', 'http://[::1', big(5000, 'r')]);
    const ua = r.weighted<string | null>([
      [8, CHROME],
      [1, 'curl/8.0'],
      [1, null],
      [1, 'Mozilla/5.0 (compatible; Googlebot/2.1)'],
      [1, big(10_000, 'U')],
    ]);
    if (ua !== null) headers['user-agent'] = ua;
    if (r.chance(0.1)) headers.dnt = '1';
    if (r.chance(0.05)) headers['sec-gpc'] = '1';
    if (r.chance(0.05)) headers['x-forwarded-for'] = r.pick(['1.2.3.4', '::1', 'garbage', big(2000, '1')]);
    return { headers, kind: `origin:${origin === null ? 'none' : origin.slice(0, 30)}` };
  }

  private textBody(base: unknown, fieldPathsOf: string[][]): { body: string | Uint8Array; kind: string; contentType?: string; oversize: boolean } {
    const r = this.r;
    let v: any = structuredClone(base);
    const mode = r.weighted<string>([
      [10, 'valid'],
      [30, 'wrong-type'],
      [8, 'many-wrong'],
      [6, 'proto-keys'],
      [6, 'replace'],
      [10, 'broken'],
      [4, 'oversize'],
      [8, 'content-type'],
      [4, 'deep'],
    ]);
    let contentType: string | undefined = r.pick(['text/plain;charset=UTF-8', 'text/plain', 'application/json']);
    let text: string | Uint8Array;
    let kind = mode;
    let oversize = false;
    switch (mode) {
      case 'wrong-type':
      case 'many-wrong': {
        const n = mode === 'many-wrong' ? 2 + r.int(4) : 1;
        const names: string[] = [];
        for (let i = 0; i < n; i++) {
          const p = r.pick(fieldPathsOf);
          v = setPath(v, p, hostileValue(r));
          names.push(p.join('.'));
        }
        kind = `${mode}:${names.join(',')}`;
        text = toJson(v);
        break;
      }
      case 'proto-keys': {
        const p = r.pick([[], ...fieldPathsOf.filter((x) => x.length === 1)]);
        const k = r.pick(PROTO_KEYS);
        const entry = new Entries([[k, r.pick<unknown>(['x', 1, { a: 1 }])]]);
        v = p.length ? setPath(v, p, entry) : new Entries([...Object.entries(v), [k, 'x']]);
        kind = `proto-key:${k}@${p.join('.') || 'top'}`;
        text = toJson(v);
        break;
      }
      case 'replace':
        text = toJson(hostileValue(r));
        break;
      case 'broken':
        text = breakJson(r, toJson(v));
        break;
      case 'oversize':
        text = toJson({ ...v, pad: big(70_000) });
        oversize = true;
        break;
      case 'content-type':
        contentType = r.pick(CONTENT_TYPES_WRONG);
        text = contentType.includes('utf-16') ? utf16(toJson(v)) : toJson(v);
        if (!contentType) contentType = undefined;
        kind = `content-type:${contentType ?? 'none'}`;
        break;
      case 'deep':
        text = toJson(r.pick([deepArray(5000), deepObject(5000), deepOpen(3000)]));
        break;
      default:
        text = toJson(v);
    }
    return { body: text, kind, contentType, oversize };
  }

  /** POST /webhooks/resend: Resend events, mutated, mostly signed with the walk's secret (so they reach the handler), some replayed, some stale or forged. */
  resendWebhook(): HostileRequest {
    const r = this.r;
    const fx = this.fx;
    const base = {
      type: r.pick(['email.delivered', 'email.bounced', 'email.complained', 'email.sent', 'email.delivery_delayed', 'email.suppressed', 'email.opened', 'contact.created']),
      created_at: new Date().toISOString(),
      data: {
        email_id: r.chance(0.8) ? r.pick(fx.providerIds) : hostileString(r).slice(0, 100),
        created_at: new Date().toISOString(),
        to: [`fx-${r.int(3)}@example.com`],
        tags: { leadline_send: String(r.pick(fx.ids['email-sends'] ?? [1])) },
        bounce: { type: r.pick(['Permanent', 'Transient', 'Undetermined']), subType: 'General', message: 'x' },
      },
    };
    const paths = [['type'], ['created_at'], ['data'], ['data', 'email_id'], ['data', 'to'], ['data', 'tags'], ['data', 'tags', 'leadline_send'], ['data', 'bounce'], ['data', 'bounce', 'type']];
    const b = this.textBody(base, paths);
    const bytes = typeof b.body === 'string' ? new TextEncoder().encode(b.body) : b.body;
    // Some deliveries come again under the same id (Resend's retries).
    const id = r.chance(0.2) ? `msg_replay_${r.int(3)}` : `msg_${r.int(1e9)}`;
    const skew = r.weighted<number>([
      [8, 0],
      [1, -400],
      [1, 400],
    ]);
    const ts = String(Math.floor(Date.now() / 1000) + skew);
    const good = () => `v1,${createHmac('sha256', Buffer.from(HOSTILE_WEBHOOK_SECRET.slice(6), 'base64')).update(`${id}.${ts}.`).update(bytes).digest('base64')}`;
    const signature = r.weighted<() => string>([
      [7, good],
      [1, () => `v1,${'A'.repeat(44)}`],
      [1, () => hostileString(r).slice(0, 300)],
      [1, () => `${good()} ${big(3000, 'v')}`],
    ])();
    const names = r.chance(0.9) ? 'svix' : 'webhook';
    const headers: Record<string, string> = {
      'content-type': b.kind.startsWith('content-type') && b.contentType ? b.contentType : r.chance(0.95) ? 'application/json' : 'text/plain',
      [`${names}-id`]: r.chance(0.95) ? id : hostileString(r).slice(0, 300),
      [`${names}-timestamp`]: r.chance(0.95) ? ts : r.pick(['', '-1', '1e9', 'NaN', '99999999999999999999']),
      [`${names}-signature`]: signature,
    };
    if (r.chance(0.05)) delete headers[`${names}-${r.pick(['id', 'timestamp', 'signature'])}`];
    return {
      method: 'POST',
      path: '/webhooks/resend',
      headers,
      body: b.body,
      stream: r.chance(0.1),
      kind: `webhook:${b.kind}`,
      template: 'POST /webhooks/resend',
      expect: b.oversize ? [413] : undefined,
    };
  }

  /** POST /webhooks/deals: CRM deal events, mutated, mostly signed with the fixture integration's secret, some replayed, stale, forged or for no integration. */
  dealWebhook(): HostileRequest {
    const r = this.r;
    const fx = this.fx;
    const base = {
      type: r.pick(['deal.upserted', 'deal.upserted', 'deal.deleted', 'deal.created']),
      data: {
        external_id: `crm-${r.int(5)}`,
        contact: r.chance(0.7) ? { email: `fx-crm-${r.int(5)}@example.com` } : { id: r.pick(fx.ids.contacts ?? [1]) },
        name: 'CRM deal',
        amount: r.pick([0, 10, 1234.56, 1e12]),
        currency: r.pick(['EUR', 'USD']),
        stage: r.pick(['open', 'won', 'lost']),
        owner: 'rep@example.com',
        source: { pipeline: 'inbound', seats: 3 },
      },
    };
    const paths = [['type'], ['data'], ['data', 'external_id'], ['data', 'contact'], ['data', 'contact', 'email'], ['data', 'amount'], ['data', 'currency'], ['data', 'stage'], ['data', 'closed_at'], ['data', 'source']];
    const b = this.textBody(base, paths);
    const bytes = typeof b.body === 'string' ? new TextEncoder().encode(b.body) : b.body;
    const id = r.chance(0.2) ? `msg_replay_${r.int(3)}` : `msg_${r.int(1e9)}`;
    const ts = String(Math.floor(Date.now() / 1000) + r.weighted<number>([[8, 0], [1, -400], [1, 400]]));
    const secret = fx.dealIntegration.secret;
    const good = () => `v1,${createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(`${id}.${ts}.`).update(bytes).digest('base64')}`;
    const signature = r.weighted<() => string>([
      [7, good],
      [1, () => `v1,${'A'.repeat(44)}`],
      [1, () => hostileString(r).slice(0, 300)],
      [1, () => `${good()} ${big(3000, 'v')}`],
    ])();
    const headers: Record<string, string> = {
      'content-type': b.kind.startsWith('content-type') && b.contentType ? b.contentType : r.chance(0.95) ? 'application/json' : 'text/plain',
      'webhook-id': r.chance(0.95) ? id : hostileString(r).slice(0, 300),
      'webhook-timestamp': r.chance(0.95) ? ts : r.pick(['', '-1', '1e9', 'NaN', '99999999999999999999']),
      'webhook-signature': signature,
    };
    if (r.chance(0.05)) delete headers[`webhook-${r.pick(['id', 'timestamp', 'signature'])}`];
    const integration = r.weighted<string | null>([
      [9, String(fx.dealIntegration.id)],
      [1, r.pick(['', '0', '-1', '999999', '1e3', '0x10', big(300, '9'), null as unknown as string])],
    ]);
    return {
      method: 'POST',
      path: integration === null ? '/webhooks/deals' : `/webhooks/deals?integration=${encodeURIComponent(integration)}`,
      headers,
      body: b.body,
      stream: r.chance(0.1),
      kind: `deal-webhook:${b.kind}`,
      template: 'POST /webhooks/deals',
      expect: b.oversize ? [413] : undefined,
    };
  }

  track(): HostileRequest {
    const r = this.r;
    const fx = this.fx;
    const uid = r.chance(0.8) ? vid(r.int(50)) : r.pick(['short', big(65, 'v'), 'bad id with spaces!!', '']);
    const email = r.weighted<() => string>([
      [3, () => `fx-1-${r.int(3)}@example.com`],
      [2, () => hostileString(r).slice(0, 300)],
      [1, () => `ada\ud800@example.com`],
      [1, () => `ada\u0000x@example.com`],
    ])();
    const event = () =>
      r.weighted<() => Record<string, unknown>>([
        [4, () => ({ t: 'pv', u: `${ORIGIN}/pricing?utm_source=x&utm_campaign=${r.int(5)}`, r: 'https://google.com/', ti: 'Pricing', sw: 1920, sh: 1080, l: 'en-GB' })],
        // A path that a backtracking engine would take forever on with the fixtures' "(a|a)+$" rules.
        [1, () => ({ t: 'pv', u: `${ORIGIN}/${big(r.pick([40, 2000]), 'a')}!` })],
        [2, () => ({ t: 'ev', u: `${ORIGIN}/`, n: 'signup', p: { plan: 'pro', n: 1, ok: true, nil: null } })],
        [1, () => ({ t: 'out', u: `${ORIGIN}/`, h: 'https://other.example/' })],
        [1, () => ({ t: 'eng', u: `${ORIGIN}/`, d: 5000, s: 80 })],
        [1, () => ({ t: r.pick(['fv', 'fc', 'fx']), u: `${ORIGIN}/`, p: { focus_id: fx.ids['focus-items']![0], variant: 'a' } })],
        [1, () => ({ t: r.pick(['sv', 'sc']), u: `${ORIGIN}/`, p: { slot_id: fx.ids.slots![0], slot: 'hero', variant: r.pick(['vip', 'default', hostileString(r).slice(0, 100)]) } })],
        [1, () => ({ t: 'pv', u: `${ORIGIN}/`, a: 1 })],
      ])();
    const base: Record<string, unknown> = { k: r.chance(0.9) ? fx.site.public_key : r.pick(['unknownsitekey1', 'x']), v: uid, e: Array.from({ length: 1 + r.int(3) }, event) };
    if (r.chance(0.25)) base.id = { email, sig: r.chance(0.8) ? sign(fx.site.secret, email) : r.pick(['0'.repeat(64), 'zz']) };
    if (r.chance(0.1)) base.c = 1;
    if (r.chance(0.05)) base.b = 1;
    if (r.chance(0.05)) base.e = Array.from({ length: 51 }, event);
    if (r.chance(0.05)) (base.e as any[])[0].p = Object.fromEntries(Array.from({ length: 26 }, (_, i) => [`k${i}`, i]));
    const paths = [['k'], ['v'], ['e'], ['e', '*'], ['id'], ['id', 'email'], ['id', 'sig'], ['b'], ['c'], ...['t', 'u', 'r', 'ti', 'n', 'h', 'p', 'sw', 'sh', 'l', 'd', 's', 'ts', 'a'].map((k) => ['e', '*', k]), ['e', '*', 'p', 'k']];
    const b = this.textBody(base, paths);
    const { headers, kind } = this.publicHeaders();
    if (b.contentType) headers['content-type'] = b.contentType;
    const q = r.chance(0.05) ? `?x=${r.pick(DIRTY_QUERY)}` : '';
    return {
      method: 'POST',
      path: `/t${q}`,
      headers,
      body: b.body,
      stream: r.chance(0.1),
      kind: `t:${b.kind} ${kind}`,
      template: 'POST /t',
      expect: q ? [400] : byteSize(b.body) > limitFor('/t') ? [413] : undefined,
    };
  }

  private formIdPath(): { id: string; real: boolean } {
    const r = this.r;
    if (r.chance(0.8)) return { id: String(r.chance(0.9) ? this.fx.formId : r.pick([1, 999_999])), real: true };
    return { id: r.pick(['0', '01', '9999999999999999999', '1e3', 'abc', '%00', '-1', '1.5', ...PROTO_KEYS]), real: false };
  }

  formSubmit(): HostileRequest {
    const r = this.r;
    const fx = this.fx;
    const { id } = this.formIdPath();
    const { headers, kind } = this.publicHeaders();
    const values: Record<string, unknown> = {
      email: r.chance(0.8) ? `form-${r.int(20)}@example.com` : hostileString(r).slice(0, 300),
      first_name: 'Grace',
      note: 'hello',
      count: r.pick([3, '3', 11, -1]),
      pick: ['a'],
      when: '2026-01-02',
      src: 'x',
    };
    for (const type of ['number', 'date', 'url', 'tel', 'select', 'country']) if (r.chance(0.3)) values[`t_${type}`] = typedValue(r, type);
    if (r.chance(0.35)) {
      // The no-JS fallback: a URL-encoded HTML form post.
      const pairs: [string, string][] = [
        ['_k', r.chance(0.9) ? fx.site.public_key : hostileString(r).slice(0, 100)],
        ['_sid', r.chance(0.8) ? `sid${r.int(1e9)}xyz` : hostileString(r).slice(0, 100)],
        // A hostile value may carry its own "toString" key, which String() cannot call.
        ...Object.entries(values).map(([k, v]) => [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)] as [string, string]),
      ];
      if (r.chance(0.3)) pairs.push(['_return', r.pick([`${ORIGIN}/thanks`, 'https://evil.example/', 'javascript:alert(1)', '//evil.example', big(3000, 'r'), '\u0000'])]);
      if (r.chance(0.3)) pairs.push(['_ts', r.pick(['', 'abc', '1.2.3', big(500, '9'), `${Date.now()}.deadbeef`])]);
      const n = r.int(4);
      for (let i = 0; i < n; i++) pairs.push([r.pick(['email', 'pick', 'note', 'first_name', ...PROTO_KEYS, '_k', '']), hostileString(r).slice(0, r.pick([100, 20_000]))]);
      let body = pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
      if (r.chance(0.15)) body += r.pick(['&%zz=1', '&=&&&', '&email=%ED%A0%80', '&email=%00', '&' + big(70_000, 'a')]);
      headers['content-type'] = r.pick(['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=UTF-8', 'APPLICATION/X-WWW-FORM-URLENCODED']);
      return {
        method: 'POST',
        path: `/f/${id}`,
        headers,
        body,
        stream: r.chance(0.1),
        kind: `f:urlencoded ${kind}`,
        template: 'POST /f/{id}',
        htmlOk: true,
        expect: byteSize(body) > limitFor('/f/') ? [413] : undefined,
      };
    }
    const base: Record<string, unknown> = { k: fx.site.public_key, v: r.chance(0.7) ? vid(r.int(50)) : null, sid: `sid${r.int(1e9)}abc`, values, t: 5000, hp: '' };
    if (r.chance(0.2)) base.url = `${ORIGIN}/landing?utm_source=x`;
    if (r.chance(0.1)) base.focus_id = fx.ids['focus-items']![0];
    const paths = [['k'], ['v'], ['c'], ['sid'], ['values'], ['t'], ['hp'], ['url'], ['ref'], ['focus_id'], ['focus_variant'], ...Object.keys(values).map((k) => ['values', k])];
    const b = this.textBody(base, paths);
    if (b.contentType) headers['content-type'] = b.contentType;
    return {
      method: 'POST',
      path: `/f/${id}`,
      headers,
      body: b.body,
      stream: r.chance(0.1),
      kind: `f:json:${b.kind} ${kind}`,
      template: 'POST /f/{id}',
      htmlOk: /urlencoded/i.test(headers['content-type'] ?? ''),
      expect: byteSize(b.body) > limitFor('/f/') ? [413] : undefined,
    };
  }

  formRead(): HostileRequest {
    const r = this.r;
    const { id } = this.formIdPath();
    const { headers, kind } = this.publicHeaders();
    const embed = r.chance(0.4);
    const pairs: [string, string][] = [];
    if (r.chance(0.9)) pairs.push(['k', r.chance(0.8) ? this.fx.site.public_key : hostileString(r).slice(0, 200)]);
    if (r.chance(0.5)) pairs.push(['v', r.chance(0.7) ? vid(r.int(50)) : hostileString(r).slice(0, 200)]);
    if (embed && r.chance(0.5)) pairs.push(['return', r.pick([`${ORIGIN}/ok`, 'https://evil.example/', 'javascript:alert(1)', '%00', big(5000, 'x')])]);
    if (r.chance(0.1)) pairs.push(['k', 'second']);
    return {
      method: r.chance(0.1) ? 'HEAD' : 'GET',
      path: `/f/${id}${embed ? '/embed' : ''}${'?' + pairs.map(([k, v]) => `${k}=${enc(v)}`).join('&')}`,
      headers,
      kind: `f:${embed ? 'embed' : 'definition'} ${kind}`,
      template: embed ? 'GET /f/{id}/embed' : 'GET /f/{id}',
    };
  }

  focus(): HostileRequest {
    const r = this.r;
    const { headers, kind } = this.publicHeaders();
    const pairs: [string, string][] = [];
    if (r.chance(0.9)) pairs.push(['k', r.chance(0.8) ? this.fx.site.public_key : hostileString(r).slice(0, 200)]);
    if (r.chance(0.7)) pairs.push(['v', r.chance(0.7) ? vid(r.int(50)) : r.pick(['', hostileString(r).slice(0, 100)])]);
    if (r.chance(0.9)) pairs.push(['u', r.pick([`${ORIGIN}/pricing`, `${ORIGIN}/${big(40, 'a')}!`, `${ORIGIN}/`, 'not-a-url', 'javascript:alert(1)', '', `${ORIGIN}/${big(3000, 'u')}`, 'http://[::1'])]);
    if (r.chance(0.5)) pairs.push(['d', r.pick(['desktop', 'mobile', 'tablet', '', 'toaster', '__proto__'])]);
    if (r.chance(0.5)) pairs.push(['pv', r.pick(['1', '0', '-1', '1e999', '1000001', 'abc', '', '1.5'])]);
    return { method: 'GET', path: `/focus?${pairs.map(([k, v]) => `${k}=${enc(v)}`).join('&')}`, headers, kind: `focus ${kind}`, template: 'GET /focus' };
  }

  asset(): HostileRequest {
    const r = this.r;
    const slug = r.chance(0.6) ? this.fx.assetSlug : enc(r.pick([...EXTRA_IDS.map(decodeURIComponentSafe), 'nope', big(300, 's'), 'UPPER', hostileString(r).slice(0, 100)]));
    const { headers, kind } = this.publicHeaders();
    if (r.chance(0.3)) headers.accept = 'text/html';
    if (r.chance(0.1)) headers['if-none-match'] = r.pick(HEADER_JUNK);
    if (r.chance(0.05)) headers.range = r.pick(['bytes=0-1', 'bytes=9-1', 'bytes=-', 'x']);
    const pairs: string[] = [];
    if (r.chance(0.6)) pairs.push(`k=${enc(r.chance(0.8) ? this.fx.site.public_key : hostileString(r).slice(0, 100))}`);
    if (r.chance(0.5)) pairs.push(`v=${enc(r.chance(0.7) ? vid(r.int(50)) : hostileString(r).slice(0, 100))}`);
    return { method: r.chance(0.15) ? 'HEAD' : 'GET', path: `/a/${slug}${pairs.length ? '?' + pairs.join('&') : ''}`, headers, kind: `asset ${kind}`, template: 'GET /a/{slug}' };
  }

  /** GET /p/{slug} (with hostile hosts, slugs and preview tokens) and GET /sitemap.xml. */
  landingPage(): HostileRequest {
    const r = this.r;
    const { headers, kind } = this.publicHeaders();
    if (r.chance(0.4)) headers.host = r.pick(['a.example', 'LOCALHOST:99999', '[::1]', `${big(60, 'h')}.example`, 'a.example.']);
    if (r.chance(0.3)) headers.accept = r.pick(['application/json', 'text/html', '*/*']);
    if (r.chance(0.2)) return { method: 'GET', path: '/sitemap.xml', headers, kind: `sitemap ${kind}`, template: 'GET /sitemap.xml' };
    const slug = r.chance(0.6) ? this.fx.pageSlug : enc(r.pick(['nope', big(300, 's'), 'UPPER', '..', hostileString(r).slice(0, 100)]));
    const q = r.chance(0.3) ? `?preview=${enc(r.pick(['1.99999999999.' + big(40, 'a'), `${big(16, '9')}.1.x`, '', hostileString(r).slice(0, 200)]))}` : '';
    // Browsers get a page for a missing page or a bad preview link; clients asking for JSON only, the error shape.
    return { method: r.chance(0.1) ? 'HEAD' : 'GET', path: `/p/${slug}${q}`, headers, kind: `page ${kind}`, template: 'GET /p/{slug}', htmlOk: headers.accept !== 'application/json' };
  }

  /** GET /o/{token} (always the GIF) and GET /c/{token} (a 302, or the 400 page / JSON error). */
  emailLink(): HostileRequest {
    const r = this.r;
    const open = r.chance(0.5);
    const real = open ? this.fx.emailTokens.open : this.fx.emailTokens.click;
    const other = open ? this.fx.emailTokens.click : this.fx.emailTokens.open;
    const token = r.weighted<() => string>([
      [4, () => real],
      [1, () => other],
      [1, () => `${real.slice(0, -2)}AA`],
      [1, () => `${real.split('.')[0]}x.${real.split('.')[1]}`],
      [1, () => big(5000, 'a')],
      [1, () => `${real}.${real}`],
      [1, () => '%00'],
      [1, () => `${real}%00`],
      [1, () => '%ED%A0%80.%ED%A0%80'],
      [1, () => r.pick(['%', '%%', '%zz', '%E0%A4%A', '...x', 'a.b.c'])],
      // Never empty: /o/ and /c/ without a token are no email link (404), not the pixel.
      [2, () => enc(hostileString(r).slice(0, 300)) || 'x'],
      [1, () => enc(r.pick(PROTO_KEYS))],
    ])();
    const { headers, kind } = this.publicHeaders();
    if (r.chance(0.2)) headers.accept = r.pick(['application/json', 'text/html', 'image/*', '*/*', ...HEADER_JUNK]);
    const method = r.weighted<string>([
      [6, 'GET'],
      [2, 'HEAD'],
      [1, r.pick(['POST', 'PUT', 'DELETE', 'PATCH'])],
    ]);
    const q = r.chance(0.1) ? `?${enc(r.pick(PROTO_KEYS))}=${enc(hostileString(r).slice(0, 200))}` : '';
    const template = `GET ${open ? '/o/{token}' : '/c/{token}'}`;
    return {
      method,
      path: `/${open ? 'o' : 'c'}/${token}${q}`,
      headers,
      kind: `email-link ${kind}`,
      template,
      // The pixel answers its image to any GET; the click page for a bad link is HTML.
      expect: open && method === 'GET' ? [200] : undefined,
      htmlOk: !open,
    };
  }

  /** /u/{token}: the one-click POST as mailbox providers send it and otherwise, the preference centre's page and forms. */
  unsubscribe(): HostileRequest {
    const r = this.r;
    const real = this.fx.unsubscribeToken;
    const token = r.weighted<() => string>([
      [6, () => real],
      [1, () => 'preview'],
      [1, () => real.slice(0, -1) + (real.endsWith('A') ? 'B' : 'A')],
      [1, () => enc(hostileString(r).slice(0, 200))],
      [1, () => big(r.pick([4097, 20_000]), 't')],
      [1, () => r.pick(['%00', '%ED%A0%80', 'a.b', '.', 'x.%FF', `${real}.x`, `${real}%00`, ...PROTO_KEYS])],
    ])();
    const { headers } = this.publicHeaders();
    if (r.chance(0.7)) headers.accept = r.pick(['text/html,application/xhtml+xml,*/*;q=0.8', '*/*', 'application/json']);
    const q = r.chance(0.1) ? `?preferences=${enc(hostileString(r).slice(0, 50))}` : '';
    const path = `/u/${token}${q}`;
    // A query with control characters is refused before anything else.
    const refused = queryRefused(q) ? [400] : undefined;
    if (r.chance(0.35)) return { method: r.chance(0.15) ? 'HEAD' : 'GET', path, headers, kind: 'unsubscribe:page', template: 'GET /u/{token}', htmlOk: true, expect: refused };
    const cats = [...this.fx.categoryIds, 1];
    const id = () => (r.chance(0.7) ? String(r.pick(cats)) : r.pick([...HOSTILE_IDS, ...EXTRA_IDS, hostileString(r).slice(0, 100)]));
    const fields = r.weighted<() => [string, string][]>([
      [4, () => [['List-Unsubscribe', 'One-Click']]],
      [1, () => []],
      [2, () => [['action', 'save'], ...Array.from({ length: r.int(6) }, (): [string, string] => [r.pick(['shown', 'c']), id()])]],
      [1, () => [['action', r.pick(['leave', 'leave_all', 'rejoin_all', 'save', '', 'LEAVE', '__proto__', hostileString(r).slice(0, 100)])]]],
      [1, () => Array.from({ length: 1 + r.int(4) }, (): [string, string] => [r.pick(['action', 'c', 'shown', ...PROTO_KEYS, '']), hostileString(r).slice(0, r.pick([100, 5000]))])],
      [1, () => [['action', 'save'], ...Array.from({ length: 3000 }, (_, i): [string, string] => [i % 2 ? 'c' : 'shown', String(i)])]],
    ])();
    const mode = r.weighted<string>([
      [4, 'urlencoded'],
      [3, 'multipart'],
      [2, 'empty'],
      [2, 'wrong-type'],
      [1, 'broken-multipart'],
      [1, 'oversize'],
    ]);
    let body: string | Uint8Array | undefined;
    switch (mode) {
      case 'urlencoded':
        headers['content-type'] = r.pick(['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=UTF-8', 'APPLICATION/X-WWW-FORM-URLENCODED']);
        body = fields.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&') + (r.chance(0.2) ? r.pick(['&%zz=1', '&=&&&', '&c=%ED%A0%80', '&action=%00']) : '');
        break;
      case 'multipart': {
        const b = `----hostile${r.int(1e9)}`;
        headers['content-type'] = `multipart/form-data; boundary=${r.chance(0.5) ? `"${b}"` : b}`;
        body = fields.map(([k, v]) => `--${b}\r\nContent-Disposition: form-data; name="${k.replace(/["\r\n]/g, '')}"\r\n\r\n${v}\r\n`).join('') + `--${b}--\r\n`;
        break;
      }
      case 'empty':
        if (r.chance(0.5)) headers['content-type'] = 'application/x-www-form-urlencoded';
        body = r.chance(0.5) ? '' : undefined;
        break;
      case 'wrong-type':
        headers['content-type'] = r.pick(CONTENT_TYPES_WRONG.filter(Boolean));
        body = r.chance(0.5) ? toJson(hostileValue(r)) : 'List-Unsubscribe=One-Click';
        break;
      case 'broken-multipart':
        headers['content-type'] = r.pick(['multipart/form-data', 'multipart/form-data; boundary=', 'multipart/form-data; boundary=x']);
        body = r.pick(['--y\r\ngarbage', '--x\r\nContent-Disposition: form-data; name="action"\r\n\r\nleave_all', '--x--', big(2000, '-')]);
        break;
      case 'oversize':
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = `List-Unsubscribe=One-Click&pad=${big(70_000, 'p')}`;
        break;
    }
    return {
      method: 'POST',
      path,
      headers,
      body,
      stream: body !== undefined && r.chance(0.1),
      kind: `unsubscribe:${mode}`,
      template: 'POST /u/{token}',
      htmlOk: true,
      expect: refused ?? (body !== undefined && byteSize(body) > limitFor('/u/') ? [413] : undefined),
    };
  }

  scripts(): HostileRequest {
    const r = this.r;
    const headers: Record<string, string> = {};
    if (r.chance(0.7)) headers['accept-encoding'] = r.pick(['br', 'gzip', 'br;q=0, gzip;q=abc', '*', 'identity;q=0', '*;q=0', 'deflate', ...HEADER_JUNK]);
    if (r.chance(0.2)) headers['if-none-match'] = r.pick(HEADER_JUNK);
    const path = r.pick(['/w.js', '/w-chunk.js']);
    const q = r.chance(0.3) ? `?v=${enc(hostileString(r).slice(0, 200))}` : '';
    return { method: r.pick(['GET', 'GET', 'HEAD']), path: path + q, headers, kind: 'script', template: `GET ${path}` };
  }

  plainPages(): HostileRequest {
    const r = this.r;
    const path = r.pick(['/health', '/docs', '/demo', '/api/v1/openapi.json']);
    const q = r.chance(0.5) ? `?${enc(r.pick(PROTO_KEYS))}=${enc(hostileString(r).slice(0, 500))}` : '';
    const headers: Record<string, string> = {};
    if (r.chance(0.2)) headers['accept-encoding'] = r.pick(HEADER_JUNK);
    if (r.chance(0.1)) headers.authorization = 'Bearer ' + r.pick(['x', this.keys.read]);
    // /docs and /demo are pages for people: their 404 (the demo samples deleted) is HTML too.
    return { method: r.pick(['GET', 'GET', 'HEAD']), path: path + q, headers, kind: 'page', template: `GET ${path}`, htmlOk: path === '/docs' || path === '/demo', expect: queryRefused(q) ? [400] : undefined };
  }

  jobs(): HostileRequest {
    const r = this.r;
    const name = r.weighted<string>([
      [3, r.pick(JOB_NAMES)],
      [3, r.pick(PROTO_KEYS)],
      [2, r.pick(HOSTILE_IDS)],
      [1, r.pick(EXTRA_IDS)],
      [1, enc(hostileString(r).slice(0, 200))],
    ]);
    const scope = r.pick(['admin', 'admin', 'write', 'read', 'none', 'revoked'] as const);
    const headers: Record<string, string> = {};
    if (scope === 'revoked') headers.authorization = `Bearer ${this.fx.revokedKey}`;
    else if (scope !== 'none') headers.authorization = `Bearer ${this.keys[scope]}`;
    let body: string | undefined;
    if (r.chance(0.3)) {
      body = toJson(hostileValue(r));
      headers['content-type'] = r.pick(['application/json', 'text/plain']);
    }
    return {
      method: r.chance(0.9) ? 'POST' : r.pick(['GET', 'PUT', 'DELETE']),
      path: `/internal/jobs/${name}`,
      headers,
      body,
      kind: `job:${scope}`,
      template: 'POST /internal/jobs/{name}',
      // 404 for a name that is no job; 405 once wrong methods say so (today they are a 404).
      expect: scope === 'none' || scope === 'revoked' ? [401, 404, 405] : scope !== 'admin' ? [403, 404, 405] : undefined,
    };
  }

  preflight(): HostileRequest {
    const r = this.r;
    const { headers } = this.publicHeaders();
    headers['access-control-request-method'] = r.pick(['POST', 'GET', 'DELETE', '']);
    return { method: 'OPTIONS', path: r.pick(['/t', `/f/${this.fx.formId}`, '/focus', '/api/v1/contacts', '/f/abc']), headers, kind: 'preflight', template: 'OPTIONS' };
  }

  wrongMethod(): HostileRequest {
    const r = this.r;
    const op = r.pick(this.ops);
    const used = new Set(this.ops.filter((o) => o.path === op.path).map((o) => o.method));
    const method = r.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].filter((m) => !used.has(m)).concat(['PATCH']));
    const { path } = this.fillPath(op);
    const headers: Record<string, string> = { authorization: `Bearer ${this.keys.admin}` };
    let body: string | undefined;
    if (method !== 'GET' && method !== 'HEAD') {
      body = '{}';
      headers['content-type'] = 'application/json';
    }
    return { method, path, headers, body, kind: 'wrong-method', template: `${method} ${op.path} (undocumented)` };
  }

  strayPath(): HostileRequest {
    const r = this.r;
    const path = r.pick([
      '/api/v1/nope',
      '/api/v2/contacts',
      '/api/v1/',
      '/api/v1',
      '/api/v1/contacts/',
      '/api/v1//contacts',
      '/api/v1/contacts/1/',
      '/%ED%A0%80',
      '/..%2f..%2fetc%2fpasswd',
      '/f/',
      '/f/1/embed/x',
      '/a/',
      '/internal/jobs/',
      '/internal/jobs',
      '/t/x',
      '/' + big(8000, 'p'),
      '/%00',
      '/w.js/..',
      '/W.JS',
      '/docs/../api/v1/contacts',
      '/api/v1/contacts/export.csv/x',
      '/api/v1/contacts/%2e%2e/api-keys',
    ]);
    return { method: r.pick(['GET', 'POST', 'DELETE']), path, headers: { authorization: `Bearer ${this.keys.admin}` }, kind: 'stray-path', template: 'stray path' };
  }
}

/** Names, keys, slugs and emails made unique, so a create that should succeed is not a 409. */
function uniquify(v: unknown, n: number): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
  for (const [k, x] of Object.entries(out)) {
    if (typeof x !== 'string') continue;
    if (k === 'email') out[k] = `u${n}-${x}`;
    else if (k === 'key' || k === 'slug') out[k] = `${x}_${n}`.replace(/[^a-z0-9_-]/g, '').slice(0, 40);
    // A name of the kind a page refers to (a slot's, as in data-leadline-slot="hero") stays one.
    else if (k === 'name') out[k] = /^[a-z0-9][a-z0-9_-]*$/.test(x) ? `${x}-${n}` : `${x} ${n}`;
  }
  return out;
}

function csvCellOf(v: unknown): string {
  const s = Array.isArray(v) ? v.join('|') : typeof v === 'string' ? v : JSON.stringify(v) ?? '';
  return `"${String(s).slice(0, 2000).replace(/"/g, '""')}"`;
}

const byteSize = (b: string | Uint8Array) => (typeof b === 'string' ? Buffer.byteLength(b) : b.length);

/** The documented rule for query strings (api/core/util/text.ts), as the oracle for "400 before anything else". */
function queryRefused(q: string): boolean {
  try {
    checkQuery(`http://x/${q}`);
    return false;
  } catch {
    return true;
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
