// The settings of an action step, per kind of action: the email to send, the tags, the stage, the
// segment, points, fields, who to notify, the webhook URL, the campaign to enroll in.
import { useState } from 'preact/hooks';
import { Field } from '../ui/editing';
import { ACTION_LABELS, type Lists } from './describe';
import { IdPicker, IntField, TagsField, TextField } from './inputs';
import { ACTION_TYPES, newAction, partError, type Action, type ActionType, type Problem } from './model';

interface Props {
  id: string;
  action: Action;
  lists: Lists;
  problems?: Problem[];
  /** The campaign's own id: it cannot enroll into itself. */
  campaignId: number | null;
  onChange: (a: Action) => void;
}

export function ActionSettings({ id, action, lists, problems, campaignId, onChange }: Props) {
  const err = (part: string) => partError(problems, `action.${part}`);
  const a = action as Record<string, unknown> & Action;
  const set = (k: string, v: unknown) => onChange({ ...a, [k]: v } as Action);
  const templates = lists.emails.filter((e) => e.kind !== 'transactional');
  return (
    <>
      <Field id={`${id}-action`} label="What it does" error={partError(problems, 'action.type') ?? problems?.find((p) => p.part === 'action')?.message}>
        {(x) => (
          <select {...x} value={action.type} onChange={(e) => onChange(newAction(e.currentTarget.value as ActionType))}>
            {ACTION_TYPES.map((t) => (
              <option value={t}>{ACTION_LABELS[t]}</option>
            ))}
          </select>
        )}
      </Field>
      {action.type === 'send_email' && (
        <IdPicker
          id={`${id}-email`}
          label="Email"
          value={a.email_id as number | undefined}
          options={templates}
          error={err('email_id')}
          hint={templates.length ? undefined : 'No emails yet: write one in Emails first.'}
          onChange={(v) => set('email_id', v)}
        />
      )}
      {(action.type === 'add_tags' || action.type === 'remove_tags') && (
        <TagsField id={`${id}-tags`} label="Tags" value={action.tags ?? []} known={lists.tags} error={err('tags')} onChange={(v) => set('tags', v)} />
      )}
      {action.type === 'change_stage' && (
        <IdPicker id={`${id}-stage`} label="Stage" value={action.stage_id} options={lists.stages} none="No stage (clear it)" error={err('stage_id')} onChange={(v) => set('stage_id', v ?? null)} />
      )}
      {(action.type === 'add_to_segment' || action.type === 'remove_from_segment') && (
        <IdPicker id={`${id}-segment`} label="Segment" value={a.segment_id as number | undefined} options={lists.segments} error={err('segment_id')} onChange={(v) => set('segment_id', v)} />
      )}
      {action.type === 'points' && (
        <div class="cb-row">
          <Field id={`${id}-op`} label="Points" error={err('op')}>
            {(x) => (
              <select {...x} value={action.op} onChange={(e) => set('op', e.currentTarget.value)}>
                <option value="add">Add</option>
                <option value="subtract">Subtract</option>
                <option value="set">Set to</option>
              </select>
            )}
          </Field>
          <IntField id={`${id}-value`} label="Value" value={action.value} error={err('value')} onChange={(v) => set('value', v)} />
        </div>
      )}
      {action.type === 'set_fields' && <FieldsEditor id={id} fields={action.fields ?? {}} lists={lists} error={err('fields')} onChange={(f) => set('fields', f)} />}
      {action.type === 'notify' && <NotifySettings id={id} a={a} lists={lists} err={err} onChange={onChange} />}
      {action.type === 'webhook' && (
        <TextField id={`${id}-url`} label="URL" type="url" maxLength={2048} value={action.url} error={err('url')} hint="Called with a POST, signed with the campaign’s secret." onChange={(v) => set('url', v)} />
      )}
      {action.type === 'enroll' && (
        <IdPicker
          id={`${id}-campaign`}
          label="Campaign"
          value={a.campaign_id as number | undefined}
          options={lists.campaigns.filter((c) => c.id !== campaignId)}
          error={err('campaign_id')}
          hint="It must be published when the step runs."
          onChange={(v) => set('campaign_id', v)}
        />
      )}
      {action.type === 'exit' && <p class="hint">The contact’s pass ends here (exited); with re-entry allowed it may come back later.</p>}
    </>
  );
}

function NotifySettings({ id, a, lists, err, onChange }: { id: string; a: Record<string, unknown>; lists: Lists; err: (p: string) => string | undefined; onChange: (a: Action) => void }) {
  const byField = a.to_field !== undefined;
  const { to: _to, to_field: _tf, ...rest } = a;
  return (
    <>
      <IdPicker
        id={`${id}-email`}
        label="Transactional email"
        value={a.email_id as number | undefined}
        options={lists.emails.filter((e) => e.kind === 'transactional')}
        error={err('email_id')}
        hint="The contact is in its variables as lead (email, name, points, stage)."
        onChange={(v) => onChange({ ...a, email_id: v } as Action)}
      />
      <fieldset class="choice">
        <legend>Send it to</legend>
        <label class="check">
          <input type="radio" name={`${id}-to-kind`} checked={!byField} onChange={() => onChange({ ...rest, to: '' } as Action)} /> An address
        </label>
        <label class="check">
          <input type="radio" name={`${id}-to-kind`} checked={byField} onChange={() => onChange({ ...rest, to_field: '' } as Action)} /> The address in a contact field
        </label>
      </fieldset>
      {byField ? (
        <Field id={`${id}-to-field`} label="Contact field" error={err('to_field')}>
          {(x) => (
            <select {...x} value={String(a.to_field ?? '')} onChange={(e) => onChange({ ...a, to_field: e.currentTarget.value } as Action)}>
              <option value="">Choose…</option>
              {lists.fields.map((f) => (
                <option value={`fields.${f.key}`}>{f.label}</option>
              ))}
            </select>
          )}
        </Field>
      ) : (
        <TextField id={`${id}-to`} label="Address" type="email" maxLength={254} value={String(a.to ?? '')} error={err('to')} onChange={(v) => onChange({ ...a, to: v } as Action)} />
      )}
    </>
  );
}

/** Contact fields to set: a field and its value per row. Values are written as text. */
function FieldsEditor({ id, fields, lists, error, onChange }: { id: string; fields: Record<string, unknown>; lists: Lists; error?: string; onChange: (f: Record<string, string | number | boolean | null>) => void }) {
  const [rows, setRows] = useState(() => Object.entries(fields).map(([k, v]) => ({ k, v: v === null ? '' : String(v) })));
  const choices = [
    ...['first_name', 'last_name', 'phone', 'job_title', 'city', 'country'].map((k) => ({ key: k, label: k.replace('_', ' ') })),
    ...lists.fields.map((f) => ({ key: `fields.${f.key}`, label: f.label })),
  ];
  const write = (next: { k: string; v: string }[]) => {
    setRows(next);
    onChange(Object.fromEntries(next.filter((r) => r.k).map((r) => [r.k, r.v === '' ? null : r.v])));
  };
  return (
    <fieldset aria-describedby={error ? `${id}-fields-error` : undefined}>
      <legend>Fields to set</legend>
      {rows.map((r, i) => (
        <div class="cb-row">
          <Field id={`${id}-f${i}`} label="Field">
            {(x) => (
              <select {...x} value={r.k} onChange={(e) => write(rows.map((o, j) => (j === i ? { ...o, k: e.currentTarget.value } : o)))}>
                <option value="">Choose…</option>
                {!choices.some((c) => c.key === r.k) && r.k && <option value={r.k}>{r.k}</option>}
                {choices.map((c) => (
                  <option value={c.key}>{c.label}</option>
                ))}
              </select>
            )}
          </Field>
          <TextField id={`${id}-v${i}`} label="Value (empty clears it)" value={r.v} maxLength={2000} onChange={(v) => write(rows.map((o, j) => (j === i ? { ...o, v } : o)))} />
          <button type="button" class="secondary small" onClick={() => write(rows.filter((_, j) => j !== i))}>
            Remove field {i + 1}
          </button>
        </div>
      ))}
      <button type="button" class="secondary small" onClick={() => setRows([...rows, { k: '', v: '' }])}>
        Add a field
      </button>
      {error && (
        <p class="field-error" id={`${id}-fields-error`}>
          {error}
        </p>
      )}
    </fieldset>
  );
}
