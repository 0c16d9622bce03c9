// Schema helpers for the docs page. The OpenAPI document is treated as untrusted input: every string
// taken from it passes through esc(), and element ids are built only from [a-z0-9-].

// The document is plain JSON of loosely known shape; narrowing every field would triple this file.
export type Schema = { [key: string]: any };

export interface SchemaCtx {
  root: Schema;
  /** Component schema name → its anchor id on the page. */
  ids: Map<string, string>;
  uniqueId: (base: string) => string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
export const code = (v: unknown): string => `<code>${esc(typeof v === 'string' ? v : JSON.stringify(v))}</code>`;
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
const isObj = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

export function makeSchemaCtx(root: Schema): SchemaCtx {
  const used = new Set<string>();
  const uniqueId = (base: string) => {
    const b = slug(base);
    let id = b;
    for (let i = 2; used.has(id); i++) id = `${b}-${i}`;
    used.add(id);
    return id;
  };
  const ids = new Map<string, string>();
  for (const name of Object.keys(schemasOf(root))) ids.set(name, uniqueId(`schema-${name}`));
  return { root, ids, uniqueId };
}

export const schemasOf = (root: Schema): Record<string, Schema> => {
  const s = isObj(root.components) ? root.components.schemas : undefined;
  return isObj(s) ? s : {};
};

/** Follows a local JSON pointer; hasOwn keeps `__proto__` and friends out. */
export function pointer(root: Schema, ref: unknown): unknown {
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return undefined;
  let cur: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObj(cur) || !Object.hasOwn(cur, key)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** Resolves $ref chains (bounded, since refs may loop), naming the last component schema passed. */
export function deref(cx: SchemaCtx, s: unknown): { s?: Schema; name?: string } {
  let name: string | undefined;
  for (let hops = 0; isObj(s) && typeof s.$ref === 'string'; hops++) {
    if (hops > 16) return { name };
    if (s.$ref.startsWith('#/components/schemas/')) name = s.$ref.slice(21).replace(/~1/g, '/').replace(/~0/g, '~');
    s = pointer(cx.root, s.$ref);
  }
  return { s: isObj(s) ? s : undefined, name };
}

/** Plain text with `code` spans and paragraphs; nothing else from the text becomes markup. */
export function prose(text: unknown, inline = false): string {
  if (typeof text !== 'string' || !text.trim()) return '';
  const paras = text
    .trim()
    .split(/\n\s*\n/)
    .map((p) => codeSpans(p).replace(/\n/g, '<br>'));
  return inline ? paras.join('<br><br>') : paras.map((p) => `<p>${p}</p>`).join('');
}

function codeSpans(s: string): string {
  const parts = s.split('`');
  // An unpaired backtick stays literal rather than turning the rest of the text into code.
  if (parts.length % 2 === 0) parts.splice(-2, 2, `${parts[parts.length - 2]}\`${parts[parts.length - 1]}`);
  return parts.map((p, i) => (i % 2 ? `<code>${esc(p)}</code>` : esc(p))).join('');
}

export function typeLabel(cx: SchemaCtx, s: unknown, depth = 0): string {
  if (!isObj(s) || depth > 5) return 'any';
  if (typeof s.$ref === 'string') {
    const { name } = deref(cx, { $ref: s.$ref });
    const id = name === undefined ? undefined : cx.ids.get(name);
    return id ? `<a href="#${id}">${esc(name)}</a>` : code(s.$ref);
  }
  if ('const' in s) return `constant ${code(s.const)}`;
  for (const k of ['oneOf', 'anyOf'] as const) {
    if (Array.isArray(s[k])) return s[k].map((x: unknown) => typeLabel(cx, x, depth + 1)).join(' | ');
  }
  if (Array.isArray(s.allOf)) return s.allOf.length === 1 ? typeLabel(cx, s.allOf[0], depth + 1) : 'object';
  const types: unknown[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : s.properties ? ['object'] : s.items ? ['array'] : [];
  const parts = types.map((t) => {
    if (t === 'array') return `array of ${typeLabel(cx, s.items, depth + 1)}`;
    const extra = s.additionalProperties;
    if (t === 'object' && !s.properties && extra !== undefined && extra !== false) {
      return `map of ${extra === true ? 'any' : typeLabel(cx, extra, depth + 1)}`;
    }
    return esc(t) + (s.format ? ` <span class="fmt">(${esc(s.format)})</span>` : '');
  });
  if (s.nullable === true) parts.push('null');
  return parts.join(' | ') || 'any';
}

const num = (v: unknown) => (typeof v === 'number' && v !== Number.MAX_SAFE_INTEGER ? v : undefined);

function range(lo: unknown, hi: unknown, unit: string): string | undefined {
  const [l, h] = [num(lo), num(hi)];
  if (l !== undefined && h !== undefined) return l === h ? `exactly ${l} ${unit}` : `${l}–${h} ${unit}`;
  if (l !== undefined) return `at least ${l} ${unit}`;
  if (h !== undefined) return `at most ${h} ${unit}`;
  return undefined;
}

/** Validation rules in words. MAX_SAFE_INTEGER bounds are omitted: they guard the database, not the caller. */
export function constraints(s: unknown): string[] {
  if (!isObj(s)) return [];
  const out: (string | undefined)[] = [];
  if (Array.isArray(s.enum)) out.push(`one of ${s.enum.map(code).join(', ')}`);
  if (s.default !== undefined) out.push(`default ${code(s.default)}`);
  const exMin = typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum : s.exclusiveMinimum === true ? s.minimum : undefined;
  const exMax = typeof s.exclusiveMaximum === 'number' ? s.exclusiveMaximum : s.exclusiveMaximum === true ? s.maximum : undefined;
  if (num(exMin) === undefined && num(exMax) === undefined && num(s.minimum) !== undefined && num(s.maximum) !== undefined) {
    out.push(`${s.minimum}–${s.maximum}`);
  } else {
    if (num(exMin) !== undefined) out.push(`&gt; ${exMin}`);
    else if (num(s.minimum) !== undefined) out.push(`≥ ${s.minimum}`);
    if (num(exMax) !== undefined) out.push(`&lt; ${exMax}`);
    else if (num(s.maximum) !== undefined) out.push(`≤ ${s.maximum}`);
  }
  out.push(range(s.minLength, s.maxLength, 'characters'), range(s.minItems, s.maxItems, 'items'));
  if (s.uniqueItems === true) out.push('unique items');
  if (typeof s.pattern === 'string') out.push(`matches ${code(s.pattern)}`);
  if (s.readOnly === true) out.push('read-only');
  if (s.deprecated === true) out.push('<strong>deprecated</strong>');
  if (s.example !== undefined && typeof s.example !== 'object') out.push(`e.g. ${code(s.example)}`);
  return out.filter((x): x is string => !!x);
}

interface ObjectView {
  props: [string, Schema][];
  required: Set<string>;
}

/** Flattens an object schema and its allOf members (as zod-openapi emits for extended schemas). */
function objectView(cx: SchemaCtx, s: Schema, seen: Set<string>, depth = 0): ObjectView | undefined {
  if (depth > 8) return undefined;
  const props = new Map<string, Schema>();
  const required = new Set<string>();
  let any = false;
  for (const part of Array.isArray(s.allOf) ? s.allOf : []) {
    const { s: target, name } = deref(cx, part);
    if (!target || (name && seen.has(name))) continue;
    const sub = objectView(cx, target, name ? new Set(seen).add(name) : seen, depth + 1);
    if (!sub) continue;
    any = true;
    for (const [k, v] of sub.props) props.set(k, v);
    for (const r of sub.required) required.add(r);
  }
  if (isObj(s.properties)) {
    any = true;
    for (const [k, v] of Object.entries(s.properties)) props.set(k, isObj(v) ? v : {});
  }
  if (Array.isArray(s.required)) for (const r of s.required) required.add(String(r));
  return any ? { props: [...props], required } : undefined;
}

/**
 * A nested field list. `expand` inlines referenced component schemas (request bodies, where the
 * reader needs everything in place); otherwise they stay links (the Schemas section).
 * `seen` holds the component schemas on the current path, so cycles end in a link.
 */
export function renderSchema(cx: SchemaCtx, s: unknown, expand: boolean, seen = new Set<string>(), depth = 0): string {
  const { s: target, name } = deref(cx, s);
  if (name !== undefined) {
    if (seen.has(name)) return `<p class="note">Recursive: see ${typeLabel(cx, s)}.</p>`;
    if (depth > 0 && !expand) return '';
    seen = new Set(seen).add(name);
  }
  if (!target || depth > 8) return '';
  const view = objectView(cx, target, seen);
  if (view) {
    const items = view.props.map(([key, prop]) => {
      const resolved = deref(cx, prop).s ?? {};
      const cons = constraints(prop).join(' · ');
      const desc = prose(prop.description ?? resolved.description, true);
      return (
        `<li><code class="fname">${esc(key)}</code> <span class="type">${typeLabel(cx, prop)}</span>` +
        (view.required.has(key) ? ' <span class="req">required</span>' : '') +
        (cons ? ` <span class="cons">${cons}</span>` : '') +
        (desc ? `<div class="desc">${desc}</div>` : '') +
        renderSchema(cx, prop, expand, seen, depth + 1) +
        '</li>'
      );
    });
    return items.length ? `<ul class="fields">${items.join('')}</ul>` : '<p class="note">No fields.</p>';
  }
  if (target.items) return renderSchema(cx, target.items, expand, seen, depth + 1);
  for (const k of ['oneOf', 'anyOf'] as const) {
    if (!Array.isArray(target[k])) continue;
    const variants = target[k].map((v: unknown) => `<li>${typeLabel(cx, v)}${renderSchema(cx, v, expand, seen, depth + 1)}</li>`);
    return `<p class="note">${k === 'oneOf' ? 'Exactly one of' : 'Any of'}:</p><ol class="variants">${variants.join('')}</ol>`;
  }
  return '';
}

/** An example value: the schema's own example, else one built from defaults, enums and types. */
export function exampleOf(cx: SchemaCtx, s: unknown, seen = new Set<string>(), depth = 0): unknown {
  const { s: target, name } = deref(cx, s);
  if (!target || depth > 6 || (name !== undefined && seen.has(name))) return undefined;
  if (name !== undefined) seen = new Set(seen).add(name);
  if (target.example !== undefined) return target.example;
  if (Array.isArray(target.examples) && target.examples.length) return target.examples[0];
  if ('const' in target) return target.const;
  if (target.default !== undefined) return target.default;
  if (Array.isArray(target.enum) && target.enum.length) return target.enum[0];
  const view = objectView(cx, target, seen);
  if (view) {
    // The smallest body that works reads best: the required fields, or a taste of an all-optional patch.
    const keys = view.required.size ? view.props.filter(([k]) => view.required.has(k)) : view.props.slice(0, 2);
    const out: Record<string, unknown> = {};
    for (const [k, v] of keys) {
      const ex = exampleOf(cx, v, seen, depth + 1);
      if (ex !== undefined) out[k] = ex;
    }
    return out;
  }
  const { oneOf, anyOf } = target;
  if (Array.isArray(oneOf ?? anyOf)) return exampleOf(cx, (oneOf ?? anyOf)[0], seen, depth + 1);
  const types: unknown[] = Array.isArray(target.type) ? target.type : [target.type];
  const type = types.find((t) => t !== 'null') ?? (target.items ? 'array' : undefined);
  switch (type) {
    case 'string':
      return ({ email: 'ada@example.com', 'date-time': '2025-01-31T12:00:00Z', date: '2025-01-31', uri: 'https://example.com' } as Record<string, string>)[target.format] ?? 'string';
    case 'integer':
    case 'number':
      return num(target.minimum) ?? (num(target.exclusiveMinimum) ?? 0) + 1;
    case 'boolean':
      return true;
    case 'array': {
      const item = exampleOf(cx, target.items, seen, depth + 1);
      return item === undefined ? [] : [item];
    }
    case 'object':
      return {};
    default:
      return undefined;
  }
}
