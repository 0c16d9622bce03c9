// The visual filter builder: groups (all / any), NOT, and every kind of condition the filter
// language has, each control labelled, errors from the server next to the node they name.
import type { JSX } from 'preact';
import { emptyGroup, newLeaf, nextId, update, type Leaf, type Node } from './filter-model';
import { CHANNELS, DATE_SUGGESTIONS, LEAF_KINDS } from './vocabulary';
import { ctl, Labelled, IdSelect, FieldEditor, BehaviourEditor, type Catalogue, type Ctx, type NodeErrors } from './controls';

export type { Catalogue, Named, NodeErrors } from './controls';

export function Builder(props: { root: Node; onChange: (root: Node) => void; catalogue: Catalogue; errors: NodeErrors }) {
  const ctx: Ctx = {
    cat: props.catalogue,
    errors: props.errors,
    change: (id, f) => props.onChange(update(props.root, id, f) ?? emptyGroup()),
  };
  return (
    <div class="builder">
      <datalist id="seg-date-suggestions">
        {DATE_SUGGESTIONS.map((d) => (
          <option value={d} />
        ))}
      </datalist>
      <datalist id="seg-tags">
        {props.catalogue.tags.map((t) => (
          <option value={t} />
        ))}
      </datalist>
      <NodeView node={props.root} ctx={ctx} depth={0} root />
    </div>
  );
}

function NodeView({ node, ctx, depth, root }: { node: Node; ctx: Ctx; depth: number; root?: boolean }): JSX.Element {
  if (node.kind === 'group') return <GroupView node={node} ctx={ctx} depth={depth} root={root} />;
  if (node.kind === 'not') {
    return (
      <div class="not-box" role="group" aria-labelledby={`n${node.id}-title`}>
        <div class="node-head">
          <p class="node-title" id={`n${node.id}-title`}>
            <strong>NOT</strong> — contacts that do not match:
          </p>
          <button type="button" class="secondary small" onClick={() => ctx.change(node.id, (n) => (n.kind === 'not' ? n.child : n))}>
            Remove NOT
          </button>
        </div>
        <NodeErrorsView id={node.id} ctx={ctx} />
        <NodeView node={node.child} ctx={ctx} depth={depth + 1} />
      </div>
    );
  }
  return <LeafView node={node} ctx={ctx} root={root} />;
}

function GroupView({ node, ctx, depth, root }: { node: Extract<Node, { kind: 'group' }>; ctx: Ctx; depth: number; root?: boolean }) {
  const add = (n: Node) => ctx.change(node.id, (g) => (g.kind === 'group' ? { ...g, children: [...g.children, n] } : g));
  const modeId = `n${node.id}-mode`;
  return (
    <div class={`group depth-${depth % 3}`} role="group" aria-labelledby={`${modeId}-label`}>
      <div class="node-head">
        <div class="field inline">
          <label id={`${modeId}-label`} for={modeId}>
            {root ? 'Contacts that match' : 'Group: match'}
          </label>
          <select
            id={modeId}
            value={node.mode}
            onChange={(e) => {
              const mode = e.currentTarget.value as 'all' | 'any';
              ctx.change(node.id, (g) => (g.kind === 'group' ? { ...g, mode } : g));
            }}
          >
            <option value="all">all of these (AND)</option>
            <option value="any">any of these (OR)</option>
          </select>
        </div>
        <NodeActions node={node} ctx={ctx} root={root} />
      </div>
      <NodeErrorsView id={node.id} ctx={ctx} />
      {node.children.length === 0 ? (
        <p class="hint">{root ? 'No conditions yet: add one below.' : 'This group is empty: add a condition to it, or remove it.'}</p>
      ) : (
        <ol class="nodes">
          {node.children.map((c) => (
            <li key={c.id}>
              <NodeView node={c} ctx={ctx} depth={depth + 1} />
            </li>
          ))}
        </ol>
      )}
      <div class="actions">
        <button type="button" class="secondary small" onClick={() => add(newLeaf('field'))}>
          Add condition
        </button>
        <button type="button" class="secondary small" onClick={() => add({ ...emptyGroup(node.mode === 'all' ? 'any' : 'all'), children: [newLeaf('field')] })}>
          Add group
        </button>
      </div>
    </div>
  );
}

/** Negate, group, remove: what can be done to a node where it stands. */
function NodeActions({ node, ctx, root }: { node: Node; ctx: Ctx; root?: boolean }) {
  return (
    <div class="node-actions">
      <button type="button" class="secondary small" onClick={() => ctx.change(node.id, (n) => ({ id: nextId(), kind: 'not', child: n }))}>
        Negate
      </button>
      {node.kind !== 'group' && (
        <button type="button" class="secondary small" onClick={() => ctx.change(node.id, (n) => ({ id: nextId(), kind: 'group', mode: 'all', children: [n] }))}>
          Put in a group
        </button>
      )}
      {!root && (
        <button type="button" class="secondary small danger-text" onClick={() => ctx.change(node.id, () => null)}>
          Remove
        </button>
      )}
    </div>
  );
}

function NodeErrorsView({ id, ctx }: { id: number; ctx: Ctx }) {
  const errs = ctx.errors.get(id);
  if (!errs?.length) return null;
  return (
    <p class="field-error" id={`n${id}-error`}>
      {errs.map((e) => e.message).join(' ')}
    </p>
  );
}

function LeafView({ node, ctx }: { node: Leaf; ctx: Ctx; root?: boolean }) {
  const set = (f: (n: Leaf) => Leaf) => ctx.change(node.id, (n) => f(n as Leaf));
  return (
    <div class="cond">
      <div class="cond-row">
        <Labelled node={node} part="kind" label="Condition">
          <select
            {...ctl(node, ctx, 'kind')}
            value={node.kind}
            onChange={(e) => {
              const kind = e.currentTarget.value as Leaf['kind'];
              set(() => ({ ...newLeaf(kind), id: node.id }));
            }}
          >
            {LEAF_KINDS.map((k) => (
              <option value={k.value}>{k.label}</option>
            ))}
          </select>
        </Labelled>
        {node.kind === 'field' && <FieldEditor node={node} ctx={ctx} set={set} />}
        {node.kind === 'behaviour' && <BehaviourEditor node={node} ctx={ctx} set={set} />}
        {node.kind === 'tag' && (
          <>
            <Labelled node={node} part="has" label="Contact">
              <select {...ctl(node, ctx, 'has')} value={String(node.has)} onChange={(e) => set((n) => ({ ...n, has: e.currentTarget.value === 'true' }) as Leaf)}>
                <option value="true">has the tag</option>
                <option value="false">does not have the tag</option>
              </select>
            </Labelled>
            <Labelled node={node} part="tag" label="Tag">
              <input {...ctl(node, ctx, 'tag')} list="seg-tags" maxLength={64} value={node.tag} onInput={(e) => set((n) => ({ ...n, tag: e.currentTarget.value }) as Leaf)} />
            </Labelled>
          </>
        )}
        {node.kind === 'dnc' && (
          <>
            <Labelled node={node} part="is" label="Contact">
              <select {...ctl(node, ctx, 'is')} value={String(node.is)} onChange={(e) => set((n) => ({ ...n, is: e.currentTarget.value === 'true' }) as Leaf)}>
                <option value="true">is marked do-not-contact</option>
                <option value="false">is not marked do-not-contact</option>
              </select>
            </Labelled>
            <Labelled node={node} part="dnc" label="Channel">
              <select {...ctl(node, ctx, 'dnc')} value={node.dnc} onChange={(e) => set((n) => ({ ...n, dnc: e.currentTarget.value }) as Leaf)}>
                {CHANNELS.map((c) => (
                  <option value={c.value}>{c.label}</option>
                ))}
              </select>
            </Labelled>
          </>
        )}
        {node.kind === 'segment' && (
          <>
            <Labelled node={node} part="member" label="Contact">
              <select {...ctl(node, ctx, 'member')} value={String(node.member)} onChange={(e) => set((n) => ({ ...n, member: e.currentTarget.value === 'true' }) as Leaf)}>
                <option value="true">is in the segment</option>
                <option value="false">is not in the segment</option>
              </select>
            </Labelled>
            <Labelled node={node} part="segment" label="Segment">
              <IdSelect
                {...ctl(node, ctx, 'segment')}
                value={node.segment}
                items={ctx.cat.segments}
                placeholder="Choose a segment"
                onChange={(v) => set((n) => ({ ...n, segment: v ?? 0 }) as Leaf)}
                required
              />
            </Labelled>
          </>
        )}
      </div>
      <NodeErrorsView id={node.id} ctx={ctx} />
      <NodeActions node={node} ctx={ctx} />
    </div>
  );
}

