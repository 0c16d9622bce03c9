import { z } from 'zod';
import type { Ctx } from '../context';
import { ValidationError } from '../errors';

// How deals move contacts through the funnel and what marketing and sales agreed on, kept as
// one installation-wide object (app_state 'pipeline').

const KEY = 'pipeline';

const stageRef = z.number().int().positive().nullable();

export const PipelineSettings = z.strictObject({
  /** Stage a contact moves to when one of its deals is won (default: the stage named Close). */
  won_stage_id: stageRef,
  /** Stage after won, once the customer is happy (set by hand or a campaign); reports only. */
  delight_stage_id: stageRef,
  /** Stage a contact moves to when a deal is lost (default: none, it stays where it is). */
  lost_stage_id: stageRef,
  /** Stage a contact moves to when a deal is opened for it (default: none). */
  open_stage_id: stageRef,
  /** The marketing–sales agreement: sales acts on a marketing-qualified lead within this many hours. */
  follow_up_hours: z.number().int().min(1).max(24 * 90),
});
export type PipelineSettings = z.infer<typeof PipelineSettings>;

export const PipelineSettingsPatch = PipelineSettings.partial();

async function stageIdByName(ctx: Ctx, name: string): Promise<number | null> {
  const r = await ctx.client.execute({ sql: 'SELECT id FROM stages WHERE lower(name) = lower(?)', args: [name] });
  return r.rows[0] ? Number(r.rows[0].id) : null;
}

/** The settings in force: stored values over defaults (the Close and Delight stages, 24 hours). */
export async function getPipelineSettings(ctx: Ctx): Promise<PipelineSettings> {
  const r = await ctx.client.execute({ sql: 'SELECT value FROM app_state WHERE key = ?', args: [KEY] });
  const stored = r.rows[0] ? (JSON.parse(String(r.rows[0].value)) as Partial<PipelineSettings>) : {};
  return {
    won_stage_id: stored.won_stage_id !== undefined ? stored.won_stage_id : await stageIdByName(ctx, 'Close'),
    delight_stage_id: stored.delight_stage_id !== undefined ? stored.delight_stage_id : await stageIdByName(ctx, 'Delight'),
    lost_stage_id: stored.lost_stage_id ?? null,
    open_stage_id: stored.open_stage_id ?? null,
    follow_up_hours: stored.follow_up_hours ?? 24,
  };
}

/** Changes some settings; stages named must exist. */
export async function updatePipelineSettings({ ctx, input }: { ctx: Ctx; input: z.input<typeof PipelineSettingsPatch> }): Promise<PipelineSettings> {
  const patch = PipelineSettingsPatch.parse(input);
  for (const k of ['won_stage_id', 'delight_stage_id', 'lost_stage_id', 'open_stage_id'] as const) {
    const id = patch[k];
    if (id === undefined || id === null) continue;
    const r = await ctx.client.execute({ sql: 'SELECT 1 FROM stages WHERE id = ?', args: [id] });
    if (!r.rows.length) throw new ValidationError([{ field: k, message: `no stage with id ${id}` }]);
  }
  const next = { ...(await getPipelineSettings(ctx)), ...patch };
  await ctx.client.execute({ sql: 'INSERT OR REPLACE INTO app_state (key, value) VALUES (?, ?)', args: [KEY, JSON.stringify(next)] });
  return next;
}
