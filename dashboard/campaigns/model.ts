// A campaign's definition (api/core/campaigns/definition.ts) as the builder draws and edits it.
// The definition stays the one source of truth: the tree is derived from it (from `start`,
// following each step's exits), and every edit makes a new definition. A step reached a second
// time on the walk (two branches meeting again, or a loop the server will refuse) is drawn once,
// where it is first met; the other places show a jump to it. Steps nothing leads to are listed
// apart ("not connected"), so they can be deleted. Also here: the server's error paths
// ("definition.steps.3.action.email_id") pinned to the step, source or goal they name.
import type { components } from '../api/schema';

export type Definition = components['schemas']['CampaignDefinition'];
export type Step = Definition['steps'][number];
export type StepType = Step['type'];
export type ActionStep = Extract<Step, { type: 'action' }>;
export type Action = ActionStep['action'];
export type ActionType = Action['type'];
export type Source = NonNullable<Definition['sources']>[number];
export type Goal = NonNullable<Definition['goals']>[number];

/** One way out of a step: `next`, `yes`, `no`, or a split's branch `b0`, `b1`… */
export interface Exit {
  key: string;
  label: string;
  to: string | null;
}

export function exitsOf(s: Step): Exit[] {
  if (s.type === 'action' || s.type === 'wait') return [{ key: 'next', label: 'then', to: s.next ?? null }];
  if (s.type === 'split') return s.branches.map((b, i) => ({ key: `b${i}`, label: `${b.percent}%`, to: b.next ?? null }));
  return [
    { key: 'yes', label: 'Yes', to: s.yes ?? null },
    { key: 'no', label: 'No', to: s.no ?? null },
  ];
}

/** The step with one exit pointed elsewhere (a new object; the old one is left alone). */
export function withExit(s: Step, key: string, to: string | null): Step {
  if (key === 'next' && (s.type === 'action' || s.type === 'wait')) return { ...s, next: to };
  if ((key === 'yes' || key === 'no') && (s.type === 'decision' || s.type === 'condition')) return { ...s, [key]: to };
  if (s.type === 'split' && /^b\d+$/.test(key)) {
    const i = Number(key.slice(1));
    if (i < s.branches.length) return { ...s, branches: s.branches.map((b, j) => (j === i ? { ...b, next: to } : b)) };
  }
  return s;
}

// ---- the tree ----

export type TreeChild = TreeStep | { kind: 'jump'; to: string } | null;
export interface TreeStep {
  kind: 'step';
  step: Step;
  /** Its index in definition.steps (what the server's error paths count). */
  index: number;
  exits: (Exit & { child: TreeChild })[];
}
export interface Tree {
  root: TreeStep | null;
  /** Steps the walk from start never reaches. */
  loose: Step[];
}

export function toTree(def: Definition): Tree {
  const byId = new Map(def.steps.map((s, i) => [s.id, { s, i }] as const));
  const seen = new Set<string>();
  const place = (id: string | null): TreeChild => {
    if (id === null) return null;
    const at = byId.get(id);
    // A dangling reference is drawn as a jump too: the server names it on save.
    if (!at || seen.has(id)) return { kind: 'jump', to: id };
    seen.add(id);
    return { kind: 'step', step: at.s, index: at.i, exits: exitsOf(at.s).map((e) => ({ ...e, child: place(e.to) })) };
  };
  const root = def.steps.length && byId.has(def.start) ? (place(def.start) as TreeStep) : null;
  return { root, loose: def.steps.filter((s) => !seen.has(s.id)) };
}

/** The ids reachable from start (the definition's own walk, without building a tree). */
export function reachable(def: Definition): Set<string> {
  const byId = new Map(def.steps.map((s) => [s.id, s]));
  const out = new Set<string>();
  const stack = byId.has(def.start) ? [def.start] : [];
  while (stack.length) {
    const id = stack.pop()!;
    if (out.has(id)) continue;
    out.add(id);
    for (const e of exitsOf(byId.get(id)!)) if (e.to !== null && byId.has(e.to)) stack.push(e.to);
  }
  return out;
}

// ---- editing ----

/** Where a new step goes: before the first step (`from` null), or on one exit of a step. */
export interface Place {
  from: string | null;
  exit?: string;
}

export const ACTION_TYPES: ActionType[] = [
  'send_email',
  'add_tags',
  'remove_tags',
  'change_stage',
  'add_to_segment',
  'remove_from_segment',
  'points',
  'set_fields',
  'notify',
  'webhook',
  'enroll',
  'exit',
];

/** A step as it starts out: what a person has not chosen yet (an email, a filter) is left out, and the server says so on save. */
export function newStep(kind: StepType | ActionType, id: string): Step {
  switch (kind) {
    case 'wait':
      return { id, type: 'wait', wait: { for: { days: 1 } }, next: null };
    case 'decision':
      return { id, type: 'decision', on: { event: 'email_opened' }, timeout: { days: 3 }, yes: null, no: null };
    case 'condition':
      return { id, type: 'condition', filter: { all: [] }, yes: null, no: null };
    case 'split':
      return { id, type: 'split', branches: [{ percent: 50, next: null }, { percent: 50, next: null }] };
    case 'action':
      return newStep('send_email', id);
    default:
      return { id, type: 'action', action: newAction(kind), next: null };
  }
}

export function newAction(type: ActionType): Action {
  switch (type) {
    case 'add_tags':
    case 'remove_tags':
      return { type, tags: [] };
    case 'change_stage':
      return { type, stage_id: null };
    case 'points':
      return { type, op: 'add', value: 10 };
    case 'set_fields':
      return { type, fields: {} };
    case 'notify':
      return { type, to: '' } as Action;
    case 'webhook':
      return { type, url: '' };
    case 'exit':
      return { type };
    default:
      // send_email, add_to_segment, remove_from_segment, enroll: the id to pick.
      return { type } as Action;
  }
}

const SLUGS: Record<string, string> = { send_email: 'email', add_tags: 'tag', remove_tags: 'untag', change_stage: 'stage', add_to_segment: 'add-segment', remove_from_segment: 'leave-segment', set_fields: 'fields' };

/** An id no step has yet, after what the step does: "email-1", "wait-2"… */
export function freshId(def: Definition, kind: string): string {
  const base = SLUGS[kind] ?? kind;
  const used = new Set(def.steps.map((s) => s.id));
  for (let n = 1; ; n++) if (!used.has(`${base}-${n}`)) return `${base}-${n}`;
}

/**
 * Puts `step` at `place`: what came after the place now comes after the new step (on its first
 * exit: `next`, `yes`, or the first branch). In definition.steps it goes right after the step it
 * follows, so the JSON reads in order.
 */
export function insertStep(def: Definition, place: Place, step: Step): Definition {
  const parent = place.from === null ? null : def.steps.find((s) => s.id === place.from);
  if (place.from !== null && !parent) return def;
  const old = parent ? (exitsOf(parent).find((e) => e.key === place.exit)?.to ?? null) : def.steps.length ? def.start : null;
  const first = exitsOf(step)[0];
  const added = first ? withExit(step, first.key, old) : step;
  const steps = def.steps.map((s) => (s === parent ? withExit(s, place.exit ?? 'next', step.id) : s));
  const at = parent ? def.steps.indexOf(parent) + 1 : 0;
  steps.splice(at, 0, added);
  return { ...def, steps, start: parent ? def.start : step.id };
}

export function replaceStep(def: Definition, id: string, step: Step): Definition {
  return { ...def, steps: def.steps.map((s) => (s.id === id ? step : s)) };
}

/**
 * What deleting a step does: its parents are joined to what followed it when it led to one step
 * only; a step with two or more branches in use takes the steps only those branches reach with it.
 */
export function removalPlan(def: Definition, id: string): { continueTo: string | null; alsoRemoved: string[] } {
  const step = def.steps.find((s) => s.id === id);
  if (!step) return { continueTo: null, alsoRemoved: [] };
  const targets = [...new Set(exitsOf(step).map((e) => e.to).filter((t): t is string => t !== null && t !== id))];
  const continueTo = targets.length === 1 ? targets[0]! : null;
  const after = detach(def, id, continueTo);
  const before = reachable(def);
  const still = reachable(after);
  return { continueTo, alsoRemoved: def.steps.map((s) => s.id).filter((s) => s !== id && before.has(s) && !still.has(s)) };
}

function detach(def: Definition, id: string, continueTo: string | null): Definition {
  const steps = def.steps
    .filter((s) => s.id !== id)
    .map((s) => exitsOf(s).reduce((acc, e) => (e.to === id ? withExit(acc, e.key, continueTo) : acc), s));
  return { ...def, steps, start: def.start === id ? (continueTo ?? '') : def.start };
}

/** `after` without the steps that only `before` could reach (what an edit cut off goes with it). */
function prune(before: Definition, after: Definition): Definition {
  const was = reachable(before);
  const now = reachable(after);
  return { ...after, steps: after.steps.filter((s) => !was.has(s.id) || now.has(s.id)) };
}

export function removeStep(def: Definition, id: string): Definition {
  return prune(def, detach(def, id, removalPlan(def, id).continueTo));
}

/** A split without one of its branches (it keeps 2 at least), and the steps only that branch reached. */
export function removeBranch(def: Definition, id: string, index: number): Definition {
  const s = def.steps.find((x) => x.id === id);
  if (!s || s.type !== 'split' || s.branches.length <= 2 || index >= s.branches.length) return def;
  return prune(def, replaceStep(def, id, { ...s, branches: s.branches.filter((_, i) => i !== index) }));
}

// ---- the server's errors, where they belong ----

export interface Problem {
  /** The rest of the path inside the step, source or goal ("action.email_id"), '' for itself. */
  part: string;
  message: string;
}
export interface Problems {
  steps: Map<string, Problem[]>;
  sources: Map<number, Problem[]>;
  goals: Map<number, Problem[]>;
  /** The campaign's own fields and the definition as a whole ("name", "definition.start", "definition.reentry"). */
  general: { field: string; message: string }[];
}

export const noProblems = (): Problems => ({ steps: new Map(), sources: new Map(), goals: new Map(), general: [] });

const push = <K>(m: Map<K, Problem[]>, k: K, p: Problem) => m.set(k, [...(m.get(k) ?? []), p]);

/**
 * The server's field errors by what they name. Step paths count places in definition.steps as it
 * was sent, so `sent` must be that definition: the step is found by its index there and kept by
 * its id (which later edits do not change).
 */
export function mapProblems(sent: Definition, details: { field: string; message: string }[]): Problems {
  const out = noProblems();
  for (const d of details) {
    const m = /^definition\.(steps|sources|goals)\.(\d+)(?:\.(.*))?$/.exec(d.field);
    const part = m?.[3] ?? '';
    if (m?.[1] === 'steps' && sent.steps[Number(m[2])]) push(out.steps, sent.steps[Number(m[2])]!.id, { part, message: d.message });
    else if (m?.[1] === 'sources' && Number(m[2]) < (sent.sources?.length ?? 0)) push(out.sources, Number(m[2]), { part, message: d.message });
    else if (m?.[1] === 'goals' && Number(m[2]) < (sent.goals?.length ?? 0)) push(out.goals, Number(m[2]), { part, message: d.message });
    else out.general.push(d);
  }
  return out;
}

/** The message for one field of a step's settings: the exact part, or one inside it ("wait.for" for "wait.for.days"). */
export function partError(list: Problem[] | undefined, part: string): string | undefined {
  if (!list) return undefined;
  const exact = list.find((p) => p.part === part);
  if (exact) return exact.message;
  const inner = list.find((p) => p.part.startsWith(`${part}.`));
  return inner ? `${inner.part.slice(part.length + 1)}: ${inner.message}` : undefined;
}

/** A definition for a campaign not yet saved: no source, no step. */
export const emptyDefinition = (): Definition => ({ sources: [], start: '', steps: [], goals: [], reentry: 'never' });

/** The definition as the server would store it, for telling whether anything changed. */
export function canonical(def: Definition): string {
  return JSON.stringify(sorted({ sources: def.sources ?? [], start: def.start, steps: def.steps, goals: def.goals ?? [], reentry: def.reentry ?? 'never' }));
}

/** Keys in order at every level, undefined ones left out (as JSON would), so key order never counts as a change. */
function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => [k, sorted(o[k])]),
  );
}
