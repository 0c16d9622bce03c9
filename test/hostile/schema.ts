// Reads the OpenAPI document the app serves: its operations, and for each a
// valid-looking body built from its schema, plus every field path the schema
// names (the places to put a wrong type).

export type Schema = Record<string, any>;
export interface Operation {
  method: string;
  /** Template as documented, e.g. /api/v1/contacts/{id}/tags/{tag}. */
  path: string;
  params: { name: string; in: string; schema: Schema; required?: boolean }[];
  /** Media types the body may have, with their schemas. */
  body?: Record<string, Schema>;
}

export function operationsOf(doc: any): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    // The public endpoints are documented too; they are walked on their own (no keys, their own contracts).
    if (!path.startsWith('/api/v1/')) continue;
    for (const [method, op] of Object.entries<any>(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete', 'head', 'options'].includes(method)) continue;
      const body = op.requestBody?.content
        ? Object.fromEntries(Object.entries<any>(op.requestBody.content).map(([type, c]) => [type, c.schema ?? {}]))
        : undefined;
      ops.push({ method: method.toUpperCase(), path, params: op.parameters ?? [], body });
    }
  }
  return ops;
}

export function makeResolver(doc: any) {
  return function resolve(s: Schema | undefined): Schema {
    // $ref chains are short in a generated document; the bound only guards against a cycle.
    for (let i = 0; i < 10 && s && typeof s.$ref === 'string'; i++) s = doc.components.schemas[s.$ref.split('/').pop()!];
    return s ?? {};
  };
}

type Resolve = ReturnType<typeof makeResolver>;

const typeOf = (s: Schema): string | undefined => (Array.isArray(s.type) ? s.type.find((t: string) => t !== 'null') : s.type);

/** A value the schema accepts, as far as a schema can say (free-form objects stay empty). */
export function sample(s0: Schema | undefined, resolve: Resolve, depth = 0, name = '', idFor?: (name: string) => number | string | undefined): unknown {
  const s = resolve(s0);
  if (depth > 6) return null;
  // A real object's id for properties named like one (contact_id, visitor_id…).
  const id = idFor?.(name);
  if (id !== undefined) return id;
  if (s.example !== undefined) return structuredClone(s.example);
  if (s.default !== undefined && typeof s.default !== 'object') return s.default;
  const alt = s.oneOf ?? s.anyOf;
  if (alt) return sample(alt[0], resolve, depth + 1, name, idFor);
  if (s.enum) return s.enum[0];
  if (s.const !== undefined) return s.const;
  switch (typeOf(s)) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const required = new Set<string>(s.required ?? []);
      for (const [k, p] of Object.entries<Schema>(s.properties ?? {})) if (required.has(k)) out[k] = sample(p, resolve, depth + 1, k, idFor);
      return out;
    }
    case 'array':
      return s.minItems ? [sample(s.items, resolve, depth + 1, name, idFor)] : [];
    case 'integer':
    case 'number':
      return Math.max(1, s.minimum ?? 1);
    case 'boolean':
      return true;
    case 'string':
      if (s.format === 'uri' || /url/.test(name)) return 'https://shop.example.com/';
      if (s.format === 'email' || name === 'email') return 'walker@example.com';
      if (s.pattern && /\\d\{4\}/.test(s.pattern)) return '2026-01-01';
      if (s.pattern && /a-z0-9/.test(s.pattern)) return 'walker_key';
      return name ? `${name}-value`.slice(0, s.maxLength ?? 100) : 'value';
    default:
      return null;
  }
}

/**
 * Every property path the schema names (nested objects and array items
 * included, alternatives merged), with the schema at that path. Paths are
 * arrays of keys; '*' stands for "an item of the array".
 */
export function fieldPaths(s0: Schema | undefined, resolve: Resolve, prefix: string[] = [], out: { path: string[]; schema: Schema }[] = [], depth = 0) {
  const s = resolve(s0);
  if (depth > 5) return out;
  for (const alt of [...(s.oneOf ?? []), ...(s.anyOf ?? [])]) fieldPaths(alt, resolve, prefix, out, depth + 1);
  for (const [k, p] of Object.entries<Schema>(s.properties ?? {})) {
    const path = [...prefix, k];
    if (!out.some((o) => o.path.join('.') === path.join('.'))) out.push({ path, schema: resolve(p) });
    fieldPaths(p, resolve, path, out, depth + 1);
  }
  if (s.items) fieldPaths(s.items, resolve, [...prefix, '*'], out, depth + 1);
  return out;
}

/** Writes `value` at `path` in `root` (creating containers), the first array item standing for '*'. */
export function setPath(root: any, path: string[], value: unknown): any {
  if (!path.length) return value;
  const top = root !== null && typeof root === 'object' ? root : {};
  let at: any = top;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i] === '*' ? 0 : path[i]!;
    const nextIsItem = path[i + 1] === '*';
    if (at[k] === null || typeof at[k] !== 'object') at[k] = nextIsItem ? [] : {};
    at = at[k];
  }
  at[path[path.length - 1] === '*' ? 0 : path[path.length - 1]!] = value;
  return top;
}
