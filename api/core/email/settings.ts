import type { Ctx } from '../context';
import { randomToken } from '../util/crypto';
import type { SettingsPatch } from './schema';

/** Installation-wide email settings, kept as one JSON value in app_state. */
export interface EmailSettings {
  frequency_cap: { per_day: number | null; per_week: number | null };
}

const KEY = 'email_settings';
const DEFAULTS: EmailSettings = { frequency_cap: { per_day: null, per_week: null } };

export async function getEmailSettings({ ctx }: { ctx: Ctx }): Promise<EmailSettings> {
  const r = await ctx.client.execute({ sql: 'SELECT value FROM app_state WHERE key = ?', args: [KEY] });
  if (!r.rows[0]) return structuredClone(DEFAULTS);
  const stored = JSON.parse(String(r.rows[0].value)) as Partial<EmailSettings>;
  return { frequency_cap: { ...DEFAULTS.frequency_cap, ...stored.frequency_cap } };
}

export async function updateEmailSettings({ ctx, input }: { ctx: Ctx; input: SettingsPatch }): Promise<EmailSettings> {
  const cur = await getEmailSettings({ ctx });
  const next: EmailSettings = { frequency_cap: { ...cur.frequency_cap, ...input.frequency_cap } };
  await ctx.client.execute({
    sql: 'INSERT INTO app_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    args: [KEY, JSON.stringify(next)],
  });
  return next;
}

/**
 * A random name for this installation, made once. Provider idempotency keys carry it: two
 * installations sending through one Resend account (staging and production) have the same
 * send ids, and must not take each other's calls for retries.
 */
export async function installationId(ctx: Ctx): Promise<string> {
  const r = await ctx.client.execute({
    sql: "INSERT INTO app_state (key, value) VALUES ('installation_id', ?) ON CONFLICT(key) DO UPDATE SET value = value RETURNING value",
    args: [randomToken(16)],
  });
  return String(r.rows[0]!.value);
}
