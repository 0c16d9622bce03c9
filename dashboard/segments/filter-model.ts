// The segment filter language (api/core/segments/filter.ts) as the builder edits it, and back.
// The model mirrors the language node for node — groups (all/any), not, and the five kinds of
// condition — with an id per node for keyed rendering and for pinning the server's errors
// ("filter.all.1.value") to the node they name. toFilter(toModel(f)) is f as the server stores
// it (the defaults has/is/member/min_count written out), for every filter the server accepts;
// values keep their JSON types until someone edits them.
import type { components } from '../api/schema';

export type Filter = components['schemas']['SegmentFilter'];
type FieldFilter = Extract<Filter, { field: string }>;
type BehaviourFilter = Extract<Filter, { behaviour: string }>;

export type Op = FieldFilter['op'];
export type Scalar = string | number | boolean;
export type Value = Scalar | Scalar[];
export type Behaviour = BehaviourFilter['behaviour'];
export type UrlOp = NonNullable<BehaviourFilter['url']>['op'];
export type Channel = Extract<Filter, { dnc: string }>['dnc'];

export type GroupNode = { id: number; kind: 'group'; mode: 'all' | 'any'; children: Node[] };
export type NotNode = { id: number; kind: 'not'; child: Node };
export type FieldNode = { id: number; kind: 'field'; field: string; op: Op; value?: Value };
export type BehaviourNode = {
  id: number;
  kind: 'behaviour';
  behaviour: Behaviour;
  url?: { op: UrlOp; value: string };
  form_id?: number;
  asset_id?: number;
  email_id?: number;
  name?: string;
  min_count: number;
  within_days?: number;
};
export type TagNode = { id: number; kind: 'tag'; tag: string; has: boolean };
export type DncNode = { id: number; kind: 'dnc'; dnc: Channel; is: boolean };
export type SegmentNode = { id: number; kind: 'segment'; segment: number; member: boolean };
export type Leaf = FieldNode | BehaviourNode | TagNode | DncNode | SegmentNode;
export type Node = GroupNode | NotNode | Leaf;

let lastId = 0;
export const nextId = () => ++lastId;

/** The filter as the builder's tree. */
export function toModel(f: Filter): Node {
  const id = nextId();
  if ('all' in f) return { id, kind: 'group', mode: 'all', children: f.all.map(toModel) };
  if ('any' in f) return { id, kind: 'group', mode: 'any', children: f.any.map(toModel) };
  if ('not' in f) return { id, kind: 'not', child: toModel(f.not) };
  if ('field' in f) return { id, kind: 'field', field: f.field, op: f.op, ...(f.value !== undefined ? { value: copy(f.value) } : {}) };
  if ('behaviour' in f) {
    const n: BehaviourNode = { id, kind: 'behaviour', behaviour: f.behaviour, min_count: f.min_count ?? 1 };
    if (f.url) n.url = { op: f.url.op, value: f.url.value };
    if (f.form_id !== undefined) n.form_id = f.form_id;
    if (f.asset_id !== undefined) n.asset_id = f.asset_id;
    if (f.email_id !== undefined) n.email_id = f.email_id;
    if (f.name !== undefined) n.name = f.name;
    if (f.within_days !== undefined) n.within_days = f.within_days;
    return n;
  }
  if ('tag' in f) return { id, kind: 'tag', tag: f.tag, has: f.has ?? true };
  if ('dnc' in f) return { id, kind: 'dnc', dnc: f.dnc, is: f.is ?? true };
  return { id, kind: 'segment', segment: f.segment, member: f.member ?? true };
}

const copy = (v: Value): Value => (Array.isArray(v) ? [...v] : v);

/** The builder's tree as the filter language (groups may be empty while editing: the server says so). */
export function toFilter(n: Node): Filter {
  switch (n.kind) {
    case 'group':
      return n.mode === 'all' ? { all: n.children.map(toFilter) } : { any: n.children.map(toFilter) };
    case 'not':
      return { not: toFilter(n.child) };
    case 'field':
      return { field: n.field, op: n.op, ...(n.value !== undefined ? { value: copy(n.value) } : {}) };
    case 'behaviour': {
      const f: BehaviourFilter = { behaviour: n.behaviour };
      if (n.url) f.url = { op: n.url.op, value: n.url.value };
      if (n.form_id !== undefined) f.form_id = n.form_id;
      if (n.asset_id !== undefined) f.asset_id = n.asset_id;
      if (n.email_id !== undefined) f.email_id = n.email_id;
      if (n.name !== undefined) f.name = n.name;
      f.min_count = n.min_count;
      if (n.within_days !== undefined) f.within_days = n.within_days;
      return f;
    }
    case 'tag':
      return { tag: n.tag, has: n.has };
    case 'dnc':
      return { dnc: n.dnc, is: n.is };
    case 'segment':
      return { segment: n.segment, member: n.member };
  }
}

// ---- editing: every change makes a new tree (the old one is what the count was for) ----

/** Replaces the node with `id` by what `f` makes of it (null removes it from its group). */
export function update(root: Node, id: number, f: (n: Node) => Node | null): Node | null {
  if (root.id === id) return f(root);
  if (root.kind === 'group') {
    let changed = false;
    const children: Node[] = [];
    for (const c of root.children) {
      const u = update(c, id, f);
      if (u !== c) changed = true;
      if (u) children.push(u);
    }
    return changed ? { ...root, children } : root;
  }
  if (root.kind === 'not') {
    const u = update(root.child, id, f);
    if (u === root.child) return root;
    // A "not" whose only node went goes with it.
    return u ? { ...root, child: u } : null;
  }
  return root;
}

export const emptyGroup = (mode: 'all' | 'any' = 'all'): GroupNode => ({ id: nextId(), kind: 'group', mode, children: [] });

/** Conditions as a new one starts out, per kind. */
export function newLeaf(kind: Leaf['kind']): Leaf {
  const id = nextId();
  switch (kind) {
    case 'field':
      return { id, kind, field: 'points', op: 'gte', value: 0 };
    case 'behaviour':
      return { id, kind, behaviour: 'visited', min_count: 1 };
    case 'tag':
      return { id, kind, tag: '', has: true };
    case 'dnc':
      return { id, kind, dnc: 'email', is: true };
    case 'segment':
      return { id, kind, segment: 0, member: true };
  }
}

/** Whether every group has something in it (the server refuses empty groups). */
export function complete(n: Node): boolean {
  if (n.kind === 'group') return n.children.length > 0 && n.children.every(complete);
  if (n.kind === 'not') return complete(n.child);
  return true;
}

export function countConditions(n: Node): number {
  if (n.kind === 'group') return n.children.reduce((a, c) => a + countConditions(c), 0);
  if (n.kind === 'not') return countConditions(n.child);
  return 1;
}

/**
 * The server's error paths ("filter", "filter.all.2.any.0.value", "filter.not.op") pinned to the
 * node they name: the deepest node the path reaches, with the rest ("value", "op") as the part.
 */
export function locate(root: Node, path: string): { node: Node; part: string } | null {
  const parts = path.split('.');
  if (parts[0] !== 'filter') return null;
  let node = root;
  let i = 1;
  while (i < parts.length) {
    const p = parts[i]!;
    if (node.kind === 'group' && (p === 'all' || p === 'any') && /^\d+$/.test(parts[i + 1] ?? '')) {
      const child = node.children[Number(parts[i + 1])];
      if (!child) break;
      node = child;
      i += 2;
    } else if (node.kind === 'not' && p === 'not') {
      node = node.child;
      i += 1;
    } else break;
  }
  return { node, part: parts.slice(i).join('.') };
}
