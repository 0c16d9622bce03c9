// The campaign drawn as a tree, top to bottom: the sources (how contacts enter), then the steps
// from start; a step with branches (yes / no, a split's percentages) lays its branches side by
// side under it, joined by CSS lines. Between steps and at every end, a "+" button adds a step
// there. The canvas scrolls sideways when the tree is wider than the screen.
import type { ComponentChildren } from 'preact';
import type { StepReport } from './data';
import { describeSource, partLabel, stepTitle, type Lists } from './describe';
import { nodeDomId, StepNode } from './node';
import type { Definition, Place, Problems, Step, Tree, TreeChild, TreeStep } from './model';

export type Selection = { kind: 'step'; id: string } | { kind: 'source'; index: number } | { kind: 'add'; place: Place } | { kind: 'new-source' } | null;

export interface TreeProps {
  def: Definition;
  tree: Tree;
  lists: Lists;
  counts: Map<string, StepReport>;
  problems: Problems;
  selection: Selection;
  /** Absent: read-only. */
  onSelect?: (s: Selection) => void;
}

const samePlace = (a: Place, b: Place) => a.from === b.from && (a.exit ?? 'next') === (b.exit ?? 'next');

export const addDomId = (p: Place) => `cb-add-${p.from ?? 'start'}-${p.exit ?? 'next'}`;

export function CampaignTree(props: TreeProps) {
  const { def, tree } = props;
  const byId = new Map(def.steps.map((s) => [s.id, s]));
  return (
    <div class="cb-canvas" role="region" aria-label="Campaign steps" tabIndex={0}>
      <div class="cb-flow">
        <Sources {...props} />
        <Link {...props} place={{ from: null }} where="at the start" />
        {tree.root ? <Block {...props} node={tree.root} byId={byId} /> : <End first />}
      </div>
      {tree.loose.length > 0 && (
        <div class="cb-loose">
          <h3>Not connected</h3>
          <p class="hint">No step leads to these, so no contact reaches them. Delete them, or the campaign cannot be saved.</p>
          <ul class="card-list">
            {tree.loose.map((s) => (
              <li>
                <Node {...props} step={s} />
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

function Sources(props: TreeProps) {
  const sources = props.def.sources ?? [];
  const sel = props.selection;
  return (
    <div class={`cb-sources${props.problems.sources.size ? ' has-error' : ''}`} role="group" aria-labelledby="cb-sources-title">
      <p class="cb-kind" id="cb-sources-title">
        Contacts enter when they…
      </p>
      {sources.length === 0 && <p class="cb-summary">{props.onSelect ? 'No source yet: add one, or enroll contacts by hand through the API.' : 'No source: contacts are enrolled by hand.'}</p>}
      <ul class="cb-source-list">
        {sources.map((s, i) => {
          const problems = props.problems.sources.get(i);
          const text = describeSource(s, props.lists);
          return (
            <li class={problems ? 'has-error' : ''}>
              {props.onSelect ? (
                <button
                  type="button"
                  class="cb-source"
                  id={`cb-source-${i}`}
                  aria-pressed={sel?.kind === 'source' && sel.index === i}
                  aria-describedby={problems ? `cb-source-${i}-errors` : undefined}
                  onClick={() => props.onSelect!({ kind: 'source', index: i })}
                >
                  {text}
                </button>
              ) : (
                <span class="cb-source">{text}</span>
              )}
              {problems && (
                <ul class="cb-errors" id={`cb-source-${i}-errors`}>
                  {problems.map((p) => (
                    <li>{`${p.part ? `${partLabel(p.part)}: ` : ''}${p.message}`}</li>
                  ))}
                </ul>
              )}
            </li>
          );
        })}
      </ul>
      {props.onSelect && (
        <button type="button" class="secondary small" id="cb-add-source" aria-pressed={sel?.kind === 'new-source'} onClick={() => props.onSelect!({ kind: 'new-source' })}>
          Add a source
        </button>
      )}
    </div>
  );
}

function Node(props: TreeProps & { step: Step }) {
  const sel = props.selection;
  return (
    <StepNode
      step={props.step}
      lists={props.lists}
      counts={props.counts.get(props.step.id)}
      problems={props.problems.steps.get(props.step.id)}
      selected={sel?.kind === 'step' && sel.id === props.step.id}
      onSelect={props.onSelect && (() => props.onSelect!({ kind: 'step', id: props.step.id }))}
    />
  );
}

/** The line between two steps, with the button that adds a step there. */
function Link(props: TreeProps & { place: Place; where: string; children?: ComponentChildren }) {
  const sel = props.selection;
  const open = sel?.kind === 'add' && samePlace(sel.place, props.place);
  return (
    <div class="cb-link">
      {props.children}
      {props.onSelect && (
        <button type="button" class="cb-add" id={addDomId(props.place)} aria-label={`Add a step ${props.where}`} aria-pressed={open} onClick={() => props.onSelect!({ kind: 'add', place: props.place })}>
          <span aria-hidden="true">+</span>
        </button>
      )}
    </div>
  );
}

function Block(props: TreeProps & { node: TreeStep; byId: Map<string, Step> }) {
  const { node } = props;
  // Two steps may have the same title: the id tells the add buttons apart.
  const title = `“${stepTitle(node.step)}” (${node.step.id})`;
  const branches = props.counts.get(node.step.id)?.branches ?? {};
  if (node.exits.length === 1) {
    const e = node.exits[0]!;
    return (
      <div class="cb-block">
        <Node {...props} step={node.step} />
        <Link {...props} place={{ from: node.step.id, exit: e.key }} where={`after ${title}`} />
        <Child {...props} child={e.child} />
      </div>
    );
  }
  return (
    <div class="cb-block">
      <Node {...props} step={node.step} />
      <div class="cb-stub" />
      <div class="cb-branches">
        {node.exits.map((e, i) => {
          const taken = branches[e.key === 'yes' || e.key === 'no' ? e.key : String(i)];
          return (
            <div class="cb-branch">
              <Link {...props} place={{ from: node.step.id, exit: e.key }} where={`on the ${e.label} branch of ${title}`}>
                <span class={`cb-branch-label ${e.key}`} data-taken={taken ?? 0}>
                  {e.label}
                  {taken !== undefined && <span class="cb-taken"> · {taken}</span>}
                </span>
              </Link>
              <Child {...props} child={e.child} />
            </div>
          );
        })}
      </div>
    </div>
  );
}

function Child(props: TreeProps & { child: TreeChild; byId: Map<string, Step> }) {
  const c = props.child;
  if (c === null) return <End />;
  if (c.kind === 'step') return <Block {...props} node={c} />;
  const target = props.byId.get(c.to);
  return (
    <p class="cb-jump">
      {target ? (
        <>
          Continues at{' '}
          <button
            type="button"
            class="link"
            onClick={() => {
              const el = document.getElementById(nodeDomId(c.to));
              el?.scrollIntoView({ block: 'nearest', inline: 'center' });
              el?.focus();
            }}
          >
            “{stepTitle(target)}”
          </button>
        </>
      ) : (
        <>Goes to a step that does not exist (“{c.to}”)</>
      )}
    </p>
  );
}

function End({ first }: { first?: boolean }) {
  return <p class="cb-end">{first ? 'No steps yet' : 'End'}</p>;
}
