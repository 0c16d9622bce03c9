// The builder's controls: the catalogue the selects offer, labelled controls that carry the server's
// errors, and the editors of a field condition and of a behaviour condition.
import type { JSX } from 'preact';
import type { BehaviourNode, FieldNode, Leaf, Node, Scalar, Value } from './filter-model';
import { BEHAVIOURS, COMPANY_FIELDS, CONTACT_FIELDS, OPS_FOR, URL_OPS, opLabel, parseTyped, reshape, shapeOf, show, type FieldChoice, type Kind } from './vocabulary';

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

export interface Ctx {
  cat: Catalogue;
  errors: NodeErrors;
  change: (id: number, f: (n: Node) => Node | null) => void;
}

/** Props for a control: its id, and aria-invalid + the error's id when the server named its part. */
export function ctl(node: Node, ctx: Ctx, part: string) {
  const errs = ctx.errors.get(node.id) ?? [];
  const bad = errs.some((e) => e.part === part || (part === 'value' && e.part.startsWith('value')));
  return { id: `n${node.id}-${part.replace(/\./g, '-')}`, ...(bad ? { 'aria-invalid': 'true' as const, 'aria-describedby': `n${node.id}-error` } : {}) };
}

export function Labelled({ node, part, label, children }: { node: Node; part: string; label: string; children: JSX.Element }) {
  return (
    <div class="field">
      <label for={`n${node.id}-${part.replace(/\./g, '-')}`}>{label}</label>
      {children}
    </div>
  );
}

export function IdSelect(props: {
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

export function FieldEditor({ node, ctx, set }: { node: FieldNode; ctx: Ctx; set: (f: (n: Leaf) => Leaf) => void }) {
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

export function BehaviourEditor({ node, ctx, set }: { node: BehaviourNode; ctx: Ctx; set: (f: (n: Leaf) => Leaf) => void }) {
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

