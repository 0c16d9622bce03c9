// The visual filter builder: groups (all / any), NOT, and every kind of condition the filter
// language has, each control labelled, errors from the server next to the node they name.
import type { JSX } from 'preact';
import {
  emptyGroup,
  newLeaf,
  nextId,
  update,
  type BehaviourNode,
  type FieldNode,
  type Leaf,
  type Node,
  type Scalar,
  type Value,
} from './filter-model';
import {
  BEHAVIOURS,
  CHANNELS,
  COMPANY_FIELDS,
  CONTACT_FIELDS,
  DATE_SUGGESTIONS,
  LEAF_KINDS,
  OPS_FOR,
  URL_OPS,
  opLabel,
  parseTyped,
  reshape,
  shapeOf,
  show,
  type FieldChoice,
  type Kind,
} from './vocabulary';

export interface Named {
  id: number;
  name: string;
}

/** What the selects offer: loaded by the view (each list may be empty if it could not be loaded). */
export interface Catalogue {
  customFields: FieldChoice[];
  stages: Named[];
  segments: Named[];
  forms: Named[];
  assets: Named[];
  emails: Named[];
  tags: string[];
}

export type NodeErrors = Map<number, { part: string; message: string }[]>;

interface Ctx {
  cat: Catalogue;
  errors: NodeErrors;
  change: (id: number, f: (n: Node) => Node | null) => void;
}

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

/** Props for a control: its id, and aria-invalid + the error's id when the server named its part. */
function ctl(node: Node, ctx: Ctx, part: string) {
  const errs = ctx.errors.get(node.id) ?? [];
  const bad = errs.some((e) => e.part === part || (part === 'value' && e.part.startsWith('value')));
  return { id: `n${node.id}-${part.replace(/\./g, '-')}`, ...(bad ? { 'aria-invalid': 'true' as const, 'aria-describedby': `n${node.id}-error` } : {}) };
}

function Labelled({ node, part, label, children }: { node: Node; part: string; label: string; children: JSX.Element }) {
  return (
    <div class="field">
      <label for={`n${node.id}-${part.replace(/\./g, '-')}`}>{label}</label>
      {children}
    </div>
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

function IdSelect(props: {
  id: string;
  value: number | undefined;
  items: Named[];
  placeholder: string;
  onChange: (v: number | undefined) => void;
  required?: boolean;
  'aria-invalid'?: 'true';
  'aria-describedby'?: string;
}) {
  const { value, items } = props;
  const known = value === undefined || value === 0 || items.some((i) => i.id === value);
  return (
    <select
      id={props.id}
      aria-invalid={props['aria-invalid']}
      aria-describedby={props['aria-describedby']}
      value={value ? String(value) : ''}
      onChange={(e) => props.onChange(e.currentTarget.value ? Number(e.currentTarget.value) : undefined)}
    >
      <option value="" disabled={props.required}>
        {props.placeholder}
      </option>
      {!known && <option value={String(value)}>#{value} (not found)</option>}
      {items.map((i) => (
        <option value={String(i.id)}>{i.name}</option>
      ))}
    </select>
  );
}

function fieldChoices(ctx: Ctx, current: string): FieldChoice[] {
  const all = [...CONTACT_FIELDS, ...ctx.cat.customFields, ...COMPANY_FIELDS];
  // A field the filter names that is gone (or not loaded) stays choosable as it is.
  if (!all.some((f) => f.name === current)) all.unshift({ name: current, label: `${current} (unknown field)`, kind: 'text', group: 'Contact' });
  return all;
}

function FieldEditor({ node, ctx, set }: { node: FieldNode; ctx: Ctx; set: (f: (n: Leaf) => Leaf) => void }) {
  const choices = fieldChoices(ctx, node.field);
  const choice = choices.find((f) => f.name === node.field)!;
  const kind = choice.kind;
  const ops = OPS_FOR[kind].includes(node.op) ? OPS_FOR[kind] : [node.op, ...OPS_FOR[kind]];
  const setValue = (value: Value | undefined) => set((n) => ({ ...(n as FieldNode), value }));
  return (
    <>
      <Labelled node={node} part="field" label="Field">
        <select
          {...ctl(node, ctx, 'field')}
          value={node.field}
          onChange={(e) => {
            const field = e.currentTarget.value;
            const next = choices.find((f) => f.name === field)!;
            set((n) => {
              const f = n as FieldNode;
              if (next.kind === kind) return { ...f, field };
              const op = OPS_FOR[next.kind].includes(f.op) ? f.op : OPS_FOR[next.kind][0]!;
              return { ...f, field, op, value: reshape(undefined, op, next.kind) };
            });
          }}
        >
          {(['Contact', 'Custom fields', 'Company'] as const).map((g) => {
            const fs = choices.filter((f) => f.group === g);
            return fs.length ? (
              <optgroup label={g}>
                {fs.map((f) => (
                  <option value={f.name}>{f.label}</option>
                ))}
              </optgroup>
            ) : null;
          })}
        </select>
      </Labelled>
      <Labelled node={node} part="op" label="Operator">
        <select
          {...ctl(node, ctx, 'op')}
          value={node.op}
          onChange={(e) => {
            const op = e.currentTarget.value as FieldNode['op'];
            set((n) => ({ ...(n as FieldNode), op, value: reshape((n as FieldNode).value, op, kind) }));
          }}
        >
          {ops.map((o) => (
            <option value={o}>{opLabel(kind, o)}</option>
          ))}
        </select>
      </Labelled>
      <ValueEditor node={node} ctx={ctx} kind={kind} choice={choice} onValue={setValue} />
    </>
  );
}

function ValueEditor({ node, ctx, kind, choice, onValue }: { node: FieldNode; ctx: Ctx; kind: Kind; choice: FieldChoice; onValue: (v: Value | undefined) => void }) {
  const shape = shapeOf(node.op);
  const v = node.value;
  if (shape === 'none' && v === undefined) return null;
  const options: { value: Scalar; label: string }[] | null =
    kind === 'stage'
      ? ctx.cat.stages.map((s) => ({ value: s.id, label: s.name }))
      : kind === 'bool'
        ? [
            { value: true, label: 'Yes' },
            { value: false, label: 'No' },
          ]
        : choice.options
          ? choice.options.map((o) => ({ value: o, label: o }))
          : null;
  // A stage may be stored by name or by id: either shows as that stage.
  const same = (a: Scalar, b: Scalar) => a === b || (kind === 'stage' && typeof a === 'string' && ctx.cat.stages.some((s) => s.id === b && s.name.toLowerCase() === a.trim().toLowerCase()));
  const hint = kind === 'date' ? 'A date (YYYY-MM-DD), or today, yesterday, -7d (7 days ago), +3d, this_month, last_month.' : kind === 'text' && node.op === 'regex' ? 'A regular expression, at most 200 characters.' : undefined;
  const one = (val: Scalar | undefined, set: (s: Scalar) => void, part: string, label: string) => {
    const c = ctl(node, ctx, part);
    if (options) {
      const match = options.find((o) => val !== undefined && same(val, o.value));
      const extra = val !== undefined && !match && val !== '' ? [{ value: val, label: `${String(val)} (not found)` }] : [];
      const all = [...extra, ...options];
      const idx = match ? all.indexOf(match) : extra.length ? 0 : -1;
      return (
        <Labelled node={node} part={part} label={label}>
          <select {...c} value={idx < 0 ? '' : String(idx)} onChange={(e) => set(all[Number(e.currentTarget.value)]!.value)}>
            {idx < 0 && <option value="">Choose…</option>}
            {all.map((o, i) => (
              <option value={String(i)}>{o.label}</option>
            ))}
          </select>
        </Labelled>
      );
    }
    return (
      <Labelled node={node} part={part} label={label}>
        <input
          {...c}
          type="text"
          inputMode={kind === 'number' ? 'decimal' : undefined}
          list={kind === 'date' ? 'seg-date-suggestions' : undefined}
          maxLength={500}
          value={show(val)}
          onInput={(e) => set(parseTyped(e.currentTarget.value, kind))}
        />
      </Labelled>
    );
  };
  const body =
    shape === 'one' && !Array.isArray(v) ? (
      one(v, (s) => onValue(s), 'value', 'Value')
    ) : shape === 'two' && Array.isArray(v) && v.length === 2 ? (
      <>
        {one(v[0], (s) => onValue([s, v[1]!]), 'value.0', 'From')}
        {one(v[1], (s) => onValue([v[0]!, s]), 'value.1', 'To')}
      </>
    ) : shape === 'many' && Array.isArray(v) && options ? (
      <fieldset class="checks" {...(ctl(node, ctx, 'value')['aria-invalid'] ? { 'aria-describedby': `n${node.id}-error` } : {})}>
        <legend>Values</legend>
        {[...v.filter((x) => !options.some((o) => same(x, o.value))).map((x) => ({ value: x, label: `${String(x)} (not found)` })), ...options].map((o, i) => {
          const on = v.some((x) => same(x, o.value));
          return (
            <label class="check" for={`n${node.id}-value-${i}`}>
              <input
                id={`n${node.id}-value-${i}`}
                type="checkbox"
                checked={on}
                onChange={(e) => onValue(e.currentTarget.checked ? [...v, o.value] : v.filter((x) => !same(x, o.value)))}
              />{' '}
              {o.label}
            </label>
          );
        })}
      </fieldset>
    ) : shape === 'many' && Array.isArray(v) ? (
      <Labelled node={node} part="value" label="Values, one per line">
        <textarea
          {...ctl(node, ctx, 'value')}
          rows={Math.min(6, Math.max(2, v.length + 1))}
          value={v.map(show).join('\n')}
          onInput={(e) =>
            onValue(
              e.currentTarget.value
                .split('\n')
                .filter((l, i, all) => l !== '' || i < all.length - 1)
                .map((l) => parseTyped(l, kind)),
            )
          }
        />
      </Labelled>
    ) : (
      // A value the operator does not take (kept as stored): shown as JSON, editable as text.
      <Labelled node={node} part="value" label="Value (as stored)">
        <input {...ctl(node, ctx, 'value')} type="text" value={v === undefined ? '' : JSON.stringify(v)} onInput={(e) => onValue(parseJsonValue(e.currentTarget.value))} />
      </Labelled>
    );
  return (
    <>
      {body}
      {hint && <p class="hint cond-hint">{hint}</p>}
    </>
  );
}

function parseJsonValue(text: string): Value | undefined {
  if (text.trim() === '') return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    if (['string', 'number', 'boolean'].includes(typeof v)) return v as Scalar;
    if (Array.isArray(v) && v.every((x) => ['string', 'number', 'boolean'].includes(typeof x))) return v as Scalar[];
  } catch {
    /* not JSON: the text itself */
  }
  return text;
}

function BehaviourEditor({ node, ctx, set }: { node: BehaviourNode; ctx: Ctx; set: (f: (n: Leaf) => Leaf) => void }) {
  const def = BEHAVIOURS.find((b) => b.value === node.behaviour)!;
  const has = (p: (typeof def.parts)[number]) => def.parts.includes(p) || node[p] !== undefined;
  const patch = (p: Partial<BehaviourNode>) =>
    set((n) => {
      const out = { ...(n as BehaviourNode), ...p };
      for (const k of Object.keys(p) as (keyof BehaviourNode)[]) if (p[k] === undefined) delete out[k];
      return out;
    });
  const int = (text: string): number | undefined => (text.trim() === '' ? undefined : Number(text));
  return (
    <>
      <Labelled node={node} part="behaviour" label="Contact">
        <select {...ctl(node, ctx, 'behaviour')} value={node.behaviour} onChange={(e) => patch({ behaviour: e.currentTarget.value as BehaviourNode['behaviour'] })}>
          {BEHAVIOURS.map((b) => (
            <option value={b.value}>{b.label}</option>
          ))}
        </select>
      </Labelled>
      {has('form_id') && (
        <Labelled node={node} part="form_id" label="Form">
          <IdSelect {...ctl(node, ctx, 'form_id')} value={node.form_id} items={ctx.cat.forms} placeholder="Any form" onChange={(v) => patch({ form_id: v })} />
        </Labelled>
      )}
      {has('asset_id') && (
        <Labelled node={node} part="asset_id" label="Asset">
          <IdSelect {...ctl(node, ctx, 'asset_id')} value={node.asset_id} items={ctx.cat.assets} placeholder="Any asset" onChange={(v) => patch({ asset_id: v })} />
        </Labelled>
      )}
      {has('email_id') && (
        <Labelled node={node} part="email_id" label="Email">
          <IdSelect {...ctl(node, ctx, 'email_id')} value={node.email_id} items={ctx.cat.emails} placeholder="Any email" onChange={(v) => patch({ email_id: v })} />
        </Labelled>
      )}
      {has('name') && (
        <Labelled node={node} part="name" label="Event name">
          <input {...ctl(node, ctx, 'name')} type="text" maxLength={100} value={node.name ?? ''} placeholder="any" onInput={(e) => patch({ name: e.currentTarget.value === '' ? undefined : e.currentTarget.value })} />
        </Labelled>
      )}
      {has('url') && (
        <>
          <Labelled node={node} part="url.op" label={node.behaviour === 'clicked_email' ? 'Link' : 'Page URL'}>
            <select
              {...ctl(node, ctx, 'url.op')}
              value={node.url?.op ?? ''}
              onChange={(e) => {
                const op = e.currentTarget.value as NonNullable<BehaviourNode['url']>['op'] | '';
                patch({ url: op ? { op, value: node.url?.value ?? '' } : undefined });
              }}
            >
              <option value="">any</option>
              {URL_OPS.map((o) => (
                <option value={o.value}>{o.label}</option>
              ))}
            </select>
          </Labelled>
          {node.url && (
            <Labelled node={node} part="url.value" label="URL text">
              <input {...ctl(node, ctx, 'url.value')} type="text" maxLength={500} value={node.url.value} onInput={(e) => patch({ url: { op: node.url!.op, value: e.currentTarget.value } })} />
            </Labelled>
          )}
        </>
      )}
      <Labelled node={node} part="min_count" label="At least (times)">
        <input {...ctl(node, ctx, 'min_count')} type="number" min={1} max={1000000} step={1} class="narrow" value={node.min_count} onInput={(e) => patch({ min_count: int(e.currentTarget.value) ?? 1 })} />
      </Labelled>
      <Labelled node={node} part="within_days" label="In the last (days)">
        <input
          {...ctl(node, ctx, 'within_days')}
          type="number"
          min={1}
          max={3650}
          step={1}
          class="narrow"
          placeholder="ever"
          value={node.within_days ?? ''}
          onInput={(e) => patch({ within_days: int(e.currentTarget.value) })}
        />
      </Labelled>
    </>
  );
}
