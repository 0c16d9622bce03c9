// The campaign builder's model (dashboard/campaigns/model.ts) without a browser: a definition
// drawn as a tree (merges as jumps, unreachable steps apart), adding and deleting steps keep the
// graph whole, and the server's error paths land on the step, source or goal they name — checked
// against the real API (makeApp, real migrations) for what it accepts and how it names problems.
import fc from 'fast-check';
// First: the app registers zod's .openapi() before the route schemas are read.
import { makeApp } from './helpers';
import { describe, expect, it } from 'vitest';
import { Definition as ServerDefinition } from '../api/core/campaigns/definition';
import { DEFINITION_EXAMPLE } from '../api/routes/campaigns/schemas';
import {
  canonical,
  emptyDefinition,
  exitsOf,
  freshId,
  insertStep,
  mapProblems,
  newStep,
  partError,
  reachable,
  removalPlan,
  removeBranch,
  removeStep,
  toTree,
  type Definition,
  type Step,
  type TreeChild,
} from '../dashboard/campaigns/model';
import { describeStep, emptyLists } from '../dashboard/campaigns/describe';

const example = () => structuredClone(DEFINITION_EXAMPLE) as Definition;
/** The tree as nested ids: "a>[b, c]" style, jumps as "→x". */
const shape = (c: TreeChild): unknown => (c === null ? null : c.kind === 'jump' ? `→${c.to}` : { [c.step.id]: c.exits.map((e) => shape(e.child)) });
const ids = (d: Definition) => d.steps.map((s) => s.id);
/** Every exit names a step that exists. */
const whole = (d: Definition) => d.steps.every((s) => exitsOf(s).every((e) => e.to === null || d.steps.some((x) => x.id === e.to)));

describe('the tree', () => {
  it('draws the example from start, branches under their decision', () => {
    const t = toTree(example());
    expect(shape(t.root)).toEqual({ welcome: [{ pause: [{ clicked: [{ engaged: [null] }, { nudge: [null] }] }] }] });
    expect(t.loose).toEqual([]);
    expect(t.root!.exits[0]!.label).toBe('then');
    const clicked = (t.root!.exits[0]!.child as any).exits[0].child;
    expect(clicked.exits.map((e: any) => e.label)).toEqual(['Yes', 'No']);
    expect(clicked.index).toBe(2);
  });

  it('draws a step two branches meet at once, with a jump where it is met again; a loop and a dangling id are jumps too', () => {
    const d = example();
    d.steps[3] = { ...(d.steps[3] as any), next: 'nudge' };
    expect(shape(toTree(d).root)).toEqual({ welcome: [{ pause: [{ clicked: [{ engaged: [{ nudge: [null] }] }, '→nudge'] }] }] });
    d.steps[4] = { ...(d.steps[4] as any), next: 'welcome' };
    d.steps[1] = { ...(d.steps[1] as any), next: 'gone' };
    expect(shape(toTree(d).root)).toEqual({ welcome: [{ pause: ['→gone'] }] });
    expect(toTree(d).loose.map((s) => s.id)).toEqual(['clicked', 'engaged', 'nudge']);
  });

  it('lists the steps nothing leads to apart; no steps is no tree', () => {
    const d = example();
    d.steps.push(newStep('wait', 'lonely'));
    expect(toTree(d).loose.map((s) => s.id)).toEqual(['lonely']);
    expect(toTree(emptyDefinition())).toEqual({ root: null, loose: [] });
  });
});

describe('adding steps', () => {
  it('the first step becomes start; later ones go in between, the rest following on their first exit', () => {
    let d = emptyDefinition();
    d = insertStep(d, { from: null }, newStep('send_email', freshId(d, 'send_email')));
    expect(d.start).toBe('email-1');
    d = insertStep(d, { from: 'email-1', exit: 'next' }, newStep('decision', freshId(d, 'decision')));
    d = insertStep(d, { from: 'email-1', exit: 'next' }, newStep('wait', freshId(d, 'wait')));
    expect(shape(toTree(d).root)).toEqual({ 'email-1': [{ 'wait-1': [{ 'decision-1': [null, null] }] }] });
    // A decision put in the middle: what followed goes on its yes branch.
    d = insertStep(d, { from: 'email-1', exit: 'next' }, newStep('condition', freshId(d, 'condition')));
    expect(shape(toTree(d).root)).toEqual({ 'email-1': [{ 'condition-1': [{ 'wait-1': [{ 'decision-1': [null, null] }] }, null] }] });
    d = insertStep(d, { from: 'decision-1', exit: 'no' }, newStep('add_tags', freshId(d, 'add_tags')));
    d = insertStep(d, { from: null }, newStep('split', freshId(d, 'split')));
    expect(shape(toTree(d).root)).toEqual({ 'split-1': [{ 'email-1': [{ 'condition-1': [{ 'wait-1': [{ 'decision-1': [null, { 'tag-1': [null] }] }] }, null] }] }, null] });
    // In definition.steps a step follows the one it comes after.
    expect(ids(d)).toEqual(['split-1', 'email-1', 'condition-1', 'wait-1', 'decision-1', 'tag-1']);
    expect(freshId(d, 'wait')).toBe('wait-2');
  });

  it('an unknown place changes nothing', () => {
    const d = example();
    expect(insertStep(d, { from: 'nope', exit: 'next' }, newStep('wait', 'w'))).toBe(d);
  });
});

describe('deleting steps', () => {
  it('a step with one way on: its parents are joined to what followed', () => {
    const d = removeStep(example(), 'pause');
    expect(shape(toTree(d).root)).toEqual({ welcome: [{ clicked: [{ engaged: [null] }, { nudge: [null] }] }] });
    expect(removeStep(example(), 'welcome').start).toBe('pause');
  });

  it('a decision with both branches in use takes the steps only they reach; a step reached another way stays', () => {
    expect(removalPlan(example(), 'clicked')).toEqual({ continueTo: null, alsoRemoved: ['engaged', 'nudge'] });
    expect(ids(removeStep(example(), 'clicked'))).toEqual(['welcome', 'pause']);
    const d = example();
    d.steps.push({ id: 'other', type: 'action', action: { type: 'exit' }, next: 'nudge' });
    d.steps[0] = { ...(d.steps[0] as any), next: 'fork' };
    d.steps.push({ id: 'fork', type: 'condition', filter: { tag: 'x' }, yes: 'pause', no: 'other' });
    expect(removalPlan(d, 'clicked').alsoRemoved).toEqual(['engaged']);
  });

  it('a decision with one branch in use keeps that branch', () => {
    const d = example();
    d.steps[2] = { ...(d.steps[2] as any), no: null };
    d.steps.pop();
    expect(removalPlan(d, 'clicked')).toEqual({ continueTo: 'engaged', alsoRemoved: [] });
    expect(shape(toTree(removeStep(d, 'clicked')).root)).toEqual({ welcome: [{ pause: [{ engaged: [null] }] }] });
  });

  it("a split's branch goes with the steps only it reached; a split keeps two branches", () => {
    let d = insertStep(emptyDefinition(), { from: null }, newStep('split', 's'));
    d = { ...d, steps: d.steps.map((s) => (s.type === 'split' ? { ...s, branches: [...s.branches, { percent: 0, next: null }] } : s)) };
    d = insertStep(d, { from: 's', exit: 'b1' }, newStep('wait', 'w'));
    d = insertStep(d, { from: 'w', exit: 'next' }, newStep('exit', 'x'));
    d = insertStep(d, { from: 's', exit: 'b2' }, newStep('wait', 'w2'));
    const one = removeBranch(d, 's', 1);
    expect(ids(one)).toEqual(['s', 'w2']);
    expect(shape(toTree(one).root)).toEqual({ s: [null, { w2: [null] }] });
    expect(removeBranch(one, 's', 0)).toBe(one);
  });

  it('any sequence of adds and deletes leaves every exit pointing at a step, everything reachable, and the shape the server accepts', () => {
    const kinds = ['wait', 'decision', 'condition', 'split', 'add_tags', 'exit', 'points'] as const;
    const op = fc.oneof(
      fc.record({ add: fc.constantFrom(...kinds), at: fc.nat(), exit: fc.nat() }),
      fc.record({ remove: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        let d = emptyDefinition();
        for (const o of ops) {
          if ('add' in o) {
            const parent = d.steps.length ? d.steps[o.at % (d.steps.length + 1)] : undefined;
            const exits = parent ? exitsOf(parent) : [];
            const step = newStep(o.add, freshId(d, o.add));
            if (step.type === 'action' && step.action.type === 'add_tags') step.action.tags = ['t'];
            if (step.type === 'condition') step.filter = { tag: 'vip' };
            d = insertStep(d, parent ? { from: parent.id, exit: exits[o.exit % exits.length]!.key } : { from: null }, step);
          } else if (d.steps.length) d = removeStep(d, d.steps[o.remove % d.steps.length]!.id);
          expect(whole(d)).toBe(true);
          expect(reachable(d).size).toBe(d.steps.length);
          expect(toTree(d).loose).toEqual([]);
          if (d.steps.length) expect(ServerDefinition.safeParse(d).success).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("the server's errors", () => {
  it('land on the step by its place in the definition that was sent, and stay with it when steps move', () => {
    const sent = example();
    const p = mapProblems(sent, [
      { field: 'definition.steps.4.action.email_id', message: 'no such email' },
      { field: 'definition.steps.2', message: 'cycle' },
      { field: 'definition.sources.0.segment_id', message: 'no such segment' },
      { field: 'definition.goals.0.on.name', message: 'needed' },
      { field: 'definition.start', message: 'no step "x"' },
      { field: 'name', message: 'Too small' },
      { field: 'definition.steps.9.id', message: 'beyond the steps sent' },
    ]);
    expect([...p.steps.keys()]).toEqual(['nudge', 'clicked']);
    expect(partError(p.steps.get('nudge'), 'action.email_id')).toBe('no such email');
    expect(partError(p.steps.get('nudge'), 'action')).toBe('email_id: no such email');
    expect(partError(p.steps.get('nudge'), 'next')).toBeUndefined();
    expect(p.steps.get('clicked')).toEqual([{ part: '', message: 'cycle' }]);
    expect(p.sources.get(0)).toEqual([{ part: 'segment_id', message: 'no such segment' }]);
    expect(p.goals.get(0)).toEqual([{ part: 'on.name', message: 'needed' }]);
    expect(p.general.map((g) => g.field)).toEqual(['definition.start', 'name', 'definition.steps.9.id']);
  });

  it('the API accepts what the builder makes, and its 422 for a step left unfinished is pinned to that step', async () => {
    const t = await makeApp();
    const seg = (await t.json('POST', '/api/v1/segments', { name: 'Trial', kind: 'static' })).body.id;
    const email = (await t.json('POST', '/api/v1/emails', { name: 'Welcome', subject: 'Hi', html: '<p>Hi</p>' })).body.id;
    let d = emptyDefinition();
    d.sources = [{ type: 'segment', segment_id: seg, exit_on_leave: false }];
    d = insertStep(d, { from: null }, { ...newStep('send_email', 'welcome'), action: { type: 'send_email', email_id: email } } as Step);
    d = insertStep(d, { from: 'welcome', exit: 'next' }, newStep('wait', 'pause'));
    d = insertStep(d, { from: 'pause', exit: 'next' }, newStep('decision', 'opened'));
    d = insertStep(d, { from: 'opened', exit: 'yes' }, { ...newStep('add_tags', 'tag'), action: { type: 'add_tags', tags: ['engaged'] } } as Step);
    d = insertStep(d, { from: 'opened', exit: 'no' }, newStep('send_email', 'nudge'));
    const bad = await t.json('POST', '/api/v1/campaigns', { name: 'Onboarding', definition: d });
    expect(bad.status).toBe(422);
    const p = mapProblems(d, bad.body.error.details);
    expect([...p.steps.keys()]).toEqual(['nudge']);
    expect(partError(p.steps.get('nudge'), 'action.email_id')).toBeTruthy();
    expect(p.general).toEqual([]);

    // A step the server checks against the database (no such email), after the steps moved.
    d = insertStep(d, { from: null }, newStep('wait', 'first'));
    d = { ...d, steps: d.steps.map((s) => (s.id === 'nudge' ? ({ ...s, action: { type: 'send_email', email_id: 999 } } as Step) : s)) };
    const missing = await t.json('POST', '/api/v1/campaigns', { name: 'Onboarding', definition: d });
    expect(missing.status).toBe(422);
    expect(partError(mapProblems(d, missing.body.error.details).steps.get('nudge'), 'action.email_id')).toBe('no such email');

    d = { ...d, steps: d.steps.map((s) => (s.id === 'nudge' ? ({ ...s, action: { type: 'send_email', email_id: email } } as Step) : s)) };
    const ok = await t.json('POST', '/api/v1/campaigns', { name: 'Onboarding', definition: d });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    // What the server stores reads as no change.
    expect(canonical(ok.body.definition)).toBe(canonical(d));
    expect(describeStep(ok.body.definition.steps[1], { ...emptyLists(), emails: [{ id: email, name: 'Welcome', kind: 'template' }] })).toBe('Send “Welcome”');
  });
});
