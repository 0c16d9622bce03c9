import type { Row } from '@libsql/client';
import type { Ctx } from '../context';
import { ConflictError, NotFoundError } from '../errors';
import { decodeCursor, encodeCursor, type Page } from '../util/cursor';
import { iso } from '../util/time';
import { csvCell } from '../contacts/csv';
import { checkDefinition, type FormDefinition, type FormInput, type FormPatch } from './schema';
import { formPointRules } from './actions';
import { formRuleStatements } from '../scoring/rules';

export interface FormView extends FormDefinition {
  id: number;
  name: string;
  active: boolean;
  is_sample: boolean;
  submissions: number;
  created_at: string;
  updated_at: string;
}

/** A form as the public endpoints need it. */
export interface FormRecord extends FormDefinition {
  id: number;
  name: string;
  active: boolean;
}

const SELECT = `SELECT f.*, (SELECT count(*) FROM form_submissions s WHERE s.form_id = f.id) AS submissions FROM forms f`;

function view(r: Row): FormView {
  const d = JSON.parse(String(r.definition)) as FormDefinition;
  return {
    id: Number(r.id),
    name: String(r.name),
    active: Number(r.active) === 1,
    is_sample: Number(r.is_sample) === 1,
    ...d,
    submissions: Number(r.submissions ?? 0),
    created_at: iso(Number(r.created_at))!,
    updated_at: iso(Number(r.updated_at))!,
  };
}

function definitionOf(v: FormDefinition): FormDefinition {
  return {
    fields: v.fields,
    submit_label: v.submit_label,
    after_submit: v.after_submit,
    progressive_profiling: v.progressive_profiling,
    actions: v.actions,
    min_fill_ms: v.min_fill_ms,
  };
}

export async function createForm({ ctx, input }: { ctx: Ctx; input: FormInput & { is_sample?: boolean } }): Promise<FormView> {
  const d = await checkDefinition(ctx, input);
  const now = ctx.now();
  const [r] = await ctx.client.batch(
    [
      {
        sql: 'INSERT INTO forms (name, definition, active, is_sample, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *, 0 AS submissions',
        args: [input.name, JSON.stringify(d), input.active ? 1 : 0, input.is_sample ? 1 : 0, now, now],
      },
      ...formRuleStatements(null, formPointRules(d.actions), now),
    ],
    'write',
  );
  return view(r!.rows[0]!);
}

export async function getForm({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<FormView> {
  const r = await ctx.client.execute({ sql: `${SELECT} WHERE f.id = ?`, args: [input.id] });
  if (!r.rows[0]) throw new NotFoundError('Form');
  return view(r.rows[0]);
}

/** An active form for the public endpoints; inactive forms do not exist there. */
export async function getActiveForm(ctx: Ctx, id: number): Promise<FormRecord> {
  const r = await ctx.client.execute({ sql: 'SELECT id, name, definition, active FROM forms WHERE id = ? AND active = 1', args: [id] });
  const row = r.rows[0];
  if (!row) throw new NotFoundError('Form');
  return { id: Number(row.id), name: String(row.name), active: true, ...(JSON.parse(String(row.definition)) as FormDefinition) };
}

export async function listForms({ ctx, input }: { ctx: Ctx; input: { limit: number; cursor?: string } }): Promise<Page<FormView>> {
  const after = input.cursor ? decodeCursor(input.cursor)[1] : 0;
  const r = await ctx.client.execute({ sql: `${SELECT} WHERE f.id > ? ORDER BY f.id LIMIT ?`, args: [after, input.limit + 1] });
  const more = r.rows.length > input.limit;
  const data = (more ? r.rows.slice(0, input.limit) : r.rows).map(view);
  return { data, has_more: more, next_cursor: more ? encodeCursor([null, data[data.length - 1]!.id]) : null };
}

export async function updateForm({ ctx, input }: { ctx: Ctx; input: { id: number; patch: FormPatch } }): Promise<FormView> {
  const cur = await getForm({ ctx, input });
  const p = input.patch;
  const next = {
    ...definitionOf(cur),
    ...(p.fields !== undefined ? { fields: p.fields } : {}),
    ...(p.submit_label !== undefined ? { submit_label: p.submit_label } : {}),
    ...(p.after_submit !== undefined ? { after_submit: p.after_submit } : {}),
    ...(p.progressive_profiling !== undefined ? { progressive_profiling: p.progressive_profiling } : {}),
    ...(p.actions !== undefined ? { actions: p.actions } : {}),
    ...(p.min_fill_ms !== undefined ? { min_fill_ms: p.min_fill_ms } : {}),
  };
  // Stored fields are re-checked too: a custom field they map to may be gone.
  const d = await checkDefinition(ctx, next);
  const now = ctx.now();
  await ctx.client.batch(
    [
      {
        sql: 'UPDATE forms SET name = ?, definition = ?, active = ?, updated_at = ? WHERE id = ?',
        args: [p.name ?? cur.name, JSON.stringify(d), (p.active ?? cur.active) ? 1 : 0, now, cur.id],
      },
      ...formRuleStatements(cur.id, formPointRules(d.actions), now),
    ],
    'write',
  );
  return getForm({ ctx, input });
}

/** Deletes a form and its submissions (the form_submit events stay on the timelines). */
export async function deleteForm({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  const gated = await ctx.client.execute({ sql: 'SELECT id FROM assets WHERE gate_form_id = ? LIMIT 5', args: [input.id] });
  if (gated.rows.length) {
    throw new ConflictError(`Assets ${gated.rows.map((r) => r.id).join(', ')} are gated by this form: change their gate first.`);
  }
  const out = await ctx.client.batch(
    [
      { sql: 'DELETE FROM form_submissions WHERE form_id = ?', args: [input.id] },
      // Points it gave stay in the log; its rules stop scoring.
      ...formRuleStatements(input.id, [], ctx.now()),
      { sql: 'DELETE FROM forms WHERE id = ?', args: [input.id] },
    ],
    'write',
  );
  if (out[out.length - 1]!.rowsAffected === 0) throw new NotFoundError('Form');
}

export interface FormResult {
  id: number;
  contact_id: number | null;
  values: Record<string, unknown>;
  page_url: string | null;
  referrer: string | null;
  created_at: string;
}

const result = (r: Row): FormResult => ({
  id: Number(r.id),
  contact_id: r.contact_id === null ? null : Number(r.contact_id),
  values: JSON.parse(String(r.values)) as Record<string, unknown>,
  page_url: r.page_url === null ? null : String(r.page_url),
  referrer: r.referrer === null ? null : String(r.referrer),
  created_at: iso(Number(r.created_at))!,
});

async function resultRows(ctx: Ctx, formId: number, limit: number, before: number | null) {
  const r = await ctx.client.execute({
    sql: `SELECT id, contact_id, "values", page_url, referrer, created_at FROM form_submissions
      WHERE form_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
    args: [formId, before ?? Number.MAX_SAFE_INTEGER, limit + 1],
  });
  const more = r.rows.length > limit;
  const rows = (more ? r.rows.slice(0, limit) : r.rows).map(result);
  return { rows, next: more ? rows[rows.length - 1]!.id : null };
}

/** Submissions, newest first. */
export async function listResults({ ctx, input }: { ctx: Ctx; input: { id: number; limit: number; cursor?: string } }): Promise<Page<FormResult>> {
  await getForm({ ctx, input });
  const before = input.cursor ? decodeCursor(input.cursor)[1] : null;
  const { rows, next } = await resultRows(ctx, input.id, input.limit, before);
  return { data: rows, has_more: next !== null, next_cursor: next === null ? null : encodeCursor([null, next]) };
}

/** Streams every submission as CSV: one column per current field, cells safe from formula injection. */
export async function exportResultsCsv({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<ReadableStream<Uint8Array>> {
  const form = await getForm({ ctx, input });
  const keys = form.fields.map((f) => f.key);
  const header = ['submission_id', 'created_at', 'contact_id', ...keys, 'page_url', 'referrer'];
  const enc = new TextEncoder();
  let before: number | null = null;
  let started = false;
  let done = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(enc.encode(header.map(csvCell).join(',') + '\r\n'));
        return;
      }
      if (done) return controller.close();
      const { rows, next } = await resultRows(ctx, form.id, 500, before);
      const lines = rows.map((r) => [r.id, r.created_at, r.contact_id, ...keys.map((k) => r.values[k]), r.page_url, r.referrer].map(csvCell).join(','));
      if (lines.length) controller.enqueue(enc.encode(lines.join('\r\n') + '\r\n'));
      before = next;
      done = next === null;
    },
  });
}
